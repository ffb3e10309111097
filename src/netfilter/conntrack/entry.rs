//! The lazily decoded [`Conntrack`] entry and its `conntrack -L` line.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use super::status::{Status, TcpState};
use super::tuple::{Proto, Tuple};
use super::{cta, msg};
use crate::conn::RawMessage;
use crate::conn::attrs::{Indexed, attrs_start, str_of, u8_of};
use crate::error::{Error, Result};
use crate::netfilter::{NFGENMSG_LEN, be16_of, be32_of, be64_of, check_attrs, kind, nested_attr};
use crate::types::Family;

/// Packets and bytes of one direction (CTA_COUNTERS_ORIG / _REPLY; present
/// when accounting is on: `net.netfilter.nf_conntrack_acct=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// TCP tracking details (CTA_PROTOINFO_TCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct TcpInfo {
    /// The tracking state.
    pub state: TcpState,
    /// Window scale of the original direction.
    pub wscale_orig: Option<u8>,
    /// Window scale of the reply direction.
    pub wscale_reply: Option<u8>,
    /// IP_CT_TCP_FLAG_* of the original direction (`flags`, `mask`).
    pub flags_orig: Option<(u8, u8)>,
    /// IP_CT_TCP_FLAG_* of the reply direction.
    pub flags_reply: Option<(u8, u8)>,
}

/// A connection-tracking entry as the kernel reported it (a dump's entry,
/// a get's reply, an event). Its tuples are decoded up front; everything
/// else when asked for. Displayed as `conntrack -L` prints it.
#[derive(Clone)]
pub struct Conntrack {
    m: Indexed<{ cta::MAX }>,
    orig: Tuple,
    reply: Tuple,
}

impl fmt::Debug for Conntrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conntrack")
            .field("orig", &self.orig)
            .field("reply", &self.reply)
            .field("status", &self.status())
            .field("timeout", &self.timeout())
            .field("mark", &self.mark())
            .field("zone", &self.zone())
            .field("id", &self.id())
            .finish()
    }
}

fn tuple(m: &Indexed<{ cta::MAX }>, ty: u16, name: &str) -> Result<Tuple> {
    let rq = m.raw.header.ty;
    let v = m.attr(ty).ok_or_else(|| Error::Decode {
        request: kind(rq),
        reason: format!("conntrack entry without {name}"),
    })?;
    check_attrs(rq, v, 0, name)?;
    Tuple::parse(v).ok_or_else(|| Error::Decode {
        request: kind(rq),
        reason: format!("{name} lacks its addresses or protocol"),
    })
}

impl Conntrack {
    /// Wraps an IPCTNL_MSG_CT_NEW or _DELETE message. A message cut short
    /// (in its header, an attribute or a tuple) is an error naming what was
    /// short; unknown attributes are ignored.
    pub fn from_raw(raw: RawMessage) -> Result<Conntrack> {
        let ty = raw.header.ty;
        if ty != msg::ty(msg::NEW) && ty != msg::ty(msg::DELETE) {
            return Err(Error::Decode {
                request: kind(ty),
                reason: format!("message type {ty:#x} is not a conntrack entry"),
            });
        }
        let m = Indexed::of_family(raw, &[2, 10], NFGENMSG_LEN, "an nfgenmsg", kind(ty))?;
        check_attrs(
            ty,
            &m.raw.bytes,
            attrs_start(NFGENMSG_LEN),
            "conntrack entry",
        )?;
        let orig = tuple(&m, cta::TUPLE_ORIG, "CTA_TUPLE_ORIG")?;
        let reply = tuple(&m, cta::TUPLE_REPLY, "CTA_TUPLE_REPLY")?;
        Ok(Conntrack { m, orig, reply })
    }

    /// The address family.
    pub fn family(&self) -> Family {
        self.orig.family()
    }

    /// The original direction (the first packet's).
    pub fn orig(&self) -> &Tuple {
        &self.orig
    }

    /// The reply direction (NAT shows here: its addresses differ from the
    /// original's reversed).
    pub fn reply(&self) -> &Tuple {
        &self.reply
    }

    /// The layer-4 protocol.
    pub fn proto(&self) -> Proto {
        self.orig.proto
    }

    fn be32(&self, ty: u16) -> Option<u32> {
        self.m.attr(ty).and_then(be32_of)
    }

    /// Status bits (`[ASSURED]`, `[UNREPLIED]` when SEEN_REPLY is not set).
    pub fn status(&self) -> Status {
        Status(self.be32(cta::STATUS).unwrap_or(0))
    }

    /// Seconds until the entry expires.
    pub fn timeout(&self) -> Option<u32> {
        self.be32(cta::TIMEOUT)
    }

    /// `mark=`.
    pub fn mark(&self) -> Option<u32> {
        self.be32(cta::MARK)
    }

    /// `zone=` (absent for zone 0).
    pub fn zone(&self) -> Option<u16> {
        self.m.attr(cta::ZONE).and_then(be16_of)
    }

    /// The label bitmap (CTA_LABELS), bit N of `conntrack -l N`.
    pub fn labels(&self) -> Option<&[u8]> {
        self.m.attr(cta::LABELS)
    }

    /// `id=`: the kernel's id of the entry.
    pub fn id(&self) -> Option<u32> {
        self.be32(cta::ID)
    }

    /// `use=`: the reference count.
    pub fn use_count(&self) -> Option<u32> {
        self.be32(cta::USE)
    }

    fn counters(&self, ty: u16) -> Option<Counters> {
        let v = self.m.attr(ty)?;
        Some(Counters {
            packets: nested_attr(v, 1).and_then(be64_of)?,
            bytes: nested_attr(v, 2).and_then(be64_of)?,
        })
    }

    /// Counters of the original direction (with accounting on).
    pub fn counters_orig(&self) -> Option<Counters> {
        self.counters(cta::COUNTERS_ORIG)
    }

    /// Counters of the reply direction.
    pub fn counters_reply(&self) -> Option<Counters> {
        self.counters(cta::COUNTERS_REPLY)
    }

    /// When the entry was made, in nanoseconds since the epoch (with
    /// `net.netfilter.nf_conntrack_timestamp=1`).
    pub fn start(&self) -> Option<u64> {
        self.m
            .attr(cta::TIMESTAMP)
            .and_then(|v| nested_attr(v, 1))
            .and_then(be64_of)
    }

    /// When the entry died (destroy events), in nanoseconds since the epoch.
    pub fn stop(&self) -> Option<u64> {
        self.m
            .attr(cta::TIMESTAMP)
            .and_then(|v| nested_attr(v, 2))
            .and_then(be64_of)
    }

    /// TCP tracking details, for TCP entries.
    pub fn tcp(&self) -> Option<TcpInfo> {
        let tcp = nested_attr(self.m.attr(cta::PROTOINFO)?, 1)?;
        let flags = |ty| nested_attr(tcp, ty).and_then(|v| Some((*v.first()?, *v.get(1)?)));
        Some(TcpInfo {
            state: TcpState::from_raw(nested_attr(tcp, 1).and_then(u8_of)?),
            wscale_orig: nested_attr(tcp, 2).and_then(u8_of),
            wscale_reply: nested_attr(tcp, 3).and_then(u8_of),
            flags_orig: flags(4),
            flags_reply: flags(5),
        })
    }

    /// The TCP state (`ESTABLISHED`, `TIME_WAIT`…), for TCP entries.
    pub fn tcp_state(&self) -> Option<TcpState> {
        self.tcp().map(|t| t.state)
    }

    /// `helper=`: the name of the attached helper (`ftp`, `sip`…).
    pub fn helper(&self) -> Option<&str> {
        self.m
            .attr(cta::HELP)
            .and_then(|v| nested_attr(v, 1))
            .and_then(str_of)
    }

    /// `secctx=`: the security context.
    pub fn secctx(&self) -> Option<&str> {
        self.m
            .attr(cta::SECCTX)
            .and_then(|v| nested_attr(v, 1))
            .and_then(str_of)
    }

    /// Attribute `ty` whole, header included, as the kernel sent it.
    pub(crate) fn attr_whole(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr_whole(ty)
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// Every top-level attribute as `(type, value)`, for those this view
    /// does not decode (NAT sequence adjustment, synproxy…).
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }
}

impl fmt::Display for Conntrack {
    /// One line of `conntrack -L`, in its order (as libnetfilter_conntrack
    /// prints it): `tcp      6 431999 ESTABLISHED src=… [ASSURED] mark=0 use=1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.proto();
        write!(f, "{:<8} {}", p.name(), p.number())?;
        if let Some(t) = self.timeout() {
            write!(f, " {t}")?;
        }
        if let Some(s) = self.tcp_state() {
            write!(f, " {s}")?;
        }
        let status = self.m.attr(cta::STATUS).map(|_| self.status());
        write!(f, " {}", self.orig)?;
        if let Some(c) = self.counters_orig() {
            write!(f, " packets={} bytes={}", c.packets, c.bytes)?;
        }
        if status.is_some_and(|s| !s.contains(Status::SEEN_REPLY)) {
            f.write_str(" [UNREPLIED]")?;
        }
        write!(f, " {}", self.reply)?;
        if let Some(c) = self.counters_reply() {
            write!(f, " packets={} bytes={}", c.packets, c.bytes)?;
        }
        if let Some(s) = status {
            if s.contains(Status::ASSURED) {
                f.write_str(" [ASSURED]")?;
            }
            if s.contains(Status::HW_OFFLOAD) {
                f.write_str(" [HW_OFFLOAD]")?;
            } else if s.contains(Status::OFFLOAD) {
                f.write_str(" [OFFLOAD]")?;
            }
        }
        if let Some(m) = self.mark() {
            write!(f, " mark={m}")?;
        }
        if let Some(c) = self.secctx() {
            write!(f, " secctx={c}")?;
        }
        if let Some(z) = self.zone() {
            write!(f, " zone={z}")?;
        }
        if let Some(start) = self.start() {
            // As conntrack: seconds from start to stop, or to now.
            let end = self.stop().unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            });
            write!(
                f,
                " delta-time={}",
                end.saturating_sub(start) / 1_000_000_000
            )?;
        }
        if let Some(h) = self.helper() {
            write!(f, " helper={h}")?;
        }
        if let Some(u) = self.use_count() {
            write!(f, " use={u}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::conn::frame::{HEADER_LEN, Header};
    use crate::netfilter::Emit;

    /// A dump entry as the kernel sends it: TCP, two tuples, the usual
    /// attributes, counters and protoinfo.
    pub(crate) fn entry_bytes() -> Vec<u8> {
        let t = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
            .unwrap()
            .ports(1000, 80);
        let mut e = Emit::new(msg::ty(msg::NEW), 2, 0);
        t.emit(&mut e, cta::TUPLE_ORIG);
        t.reversed().emit(&mut e, cta::TUPLE_REPLY);
        e.be32(cta::STATUS, 0xe) // SEEN_REPLY | ASSURED | CONFIRMED
            .be32(cta::TIMEOUT, 431_999)
            .be32(cta::MARK, 16)
            .nest(cta::COUNTERS_ORIG, |e| {
                e.attr(1, &3u64.to_be_bytes())
                    .attr(2, &180u64.to_be_bytes());
            })
            .nest(cta::PROTOINFO, |e| {
                e.nest(1, |e| {
                    e.u8(1, 3).u8(2, 7).u8(3, 7).attr(4, &[0x23, 0x23]);
                });
            })
            .be16(cta::ZONE, 3)
            .be32(cta::USE, 1)
            .be32(cta::ID, 77)
            .attr(99, b"unknown attribute");
        let m = e.message();
        let mut b = vec![0u8; HEADER_LEN];
        b.extend_from_slice(&m.payload);
        Header {
            len: b.len() as u32,
            ty: m.message_type,
            flags: 0,
            seq: 0,
            pid: 0,
        }
        .write(&mut b);
        b
    }

    pub(crate) fn raw(b: &[u8]) -> RawMessage {
        RawMessage {
            header: Header::parse(b).unwrap(),
            bytes: Bytes::copy_from_slice(b),
        }
    }

    #[test]
    fn decodes_an_entry_and_prints_it_as_conntrack() {
        let ct = Conntrack::from_raw(raw(&entry_bytes())).unwrap();
        assert_eq!(ct.family(), Family::V4);
        assert_eq!(ct.orig().dport, Some(80));
        assert_eq!(ct.reply().sport, Some(80));
        assert_eq!(ct.status(), Status(0xe));
        assert_eq!(ct.mark(), Some(16));
        assert_eq!(ct.zone(), Some(3));
        assert_eq!(ct.id(), Some(77));
        assert_eq!(ct.tcp_state(), Some(TcpState::Established));
        assert_eq!(ct.tcp().unwrap().flags_orig, Some((0x23, 0x23)));
        assert_eq!(
            ct.counters_orig(),
            Some(Counters {
                packets: 3,
                bytes: 180
            })
        );
        assert_eq!(ct.counters_reply(), None);
        assert_eq!(
            ct.to_string(),
            "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=80 \
             packets=3 bytes=180 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1000 [ASSURED] \
             mark=16 zone=3 use=1"
        );
    }

    #[test]
    fn truncated_entries_are_errors_naming_what_was_short() {
        let b = entry_bytes();
        // Cuts at these lengths drop whole attributes (or only the padding
        // of the last) after both tuples: a shorter but whole entry.
        let start = attrs_start(NFGENMSG_LEN);
        let whole: Vec<usize> = crate::conn::attrs::Attrs::new(&b, start)
            .skip(1)
            .flat_map(|(off, _, v)| {
                off + 4 + v.len()..=off + crate::conn::frame::align(4 + v.len())
            })
            .collect();
        for n in 0..b.len() {
            let mut cut = b[..n].to_vec();
            if n >= HEADER_LEN {
                // The header agrees with the bytes, as a kernel bug would send it.
                cut[..4].copy_from_slice(&(n as u32).to_ne_bytes());
            } else {
                cut.resize(HEADER_LEN, 0);
                cut[4..6].copy_from_slice(&msg::ty(msg::NEW).to_ne_bytes());
            }
            let m = RawMessage {
                header: Header::parse(&cut).unwrap(),
                bytes: Bytes::from(cut),
            };
            match Conntrack::from_raw(m) {
                Ok(_) => assert!(whole.contains(&n), "accepted at {n} bytes"),
                Err(e) => {
                    assert!(!whole.contains(&n), "refused at {n}: {e}");
                    let s = e.to_string();
                    assert!(
                        s.contains("truncated")
                            || s.contains("nfgenmsg")
                            || s.contains("without CTA_TUPLE"),
                        "{n}: {s}"
                    );
                }
            }
        }
        let short = &b[..HEADER_LEN + 20];
        let mut cut = short.to_vec();
        let len = cut.len() as u32;
        cut[..4].copy_from_slice(&len.to_ne_bytes());
        let e = Conntrack::from_raw(raw(&cut)).unwrap_err();
        assert!(e.to_string().contains("conntrack entry truncated"), "{e}");
    }

    #[test]
    fn random_bytes_never_panic() {
        let base = entry_bytes();
        let mut x: u32 = 0x2545_f491;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..5000 {
            let mut b = base.clone();
            for _ in 0..(next() % 8) {
                let at = HEADER_LEN + (next() as usize % (b.len() - HEADER_LEN));
                b[at] = next() as u8;
            }
            if let Ok(ct) = Conntrack::from_raw(raw(&b)) {
                let _ = ct.to_string();
                let _ = (ct.tcp(), ct.helper(), ct.secctx(), ct.start(), ct.labels());
            }
        }
    }
}
