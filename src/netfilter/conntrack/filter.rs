//! What a listing or a delete-by-filter selects: sent to the kernel where it
//! can filter (the family, CTA_MARK/CTA_MARK_MASK, CTA_STATUS/_MASK on 6.x,
//! CTA_FILTER with exact tuple fields on 5.8+), and always checked again in
//! user space, so the result is the same on kernels that ignore a filter
//! attribute and for what no kernel filters (prefixes, zones, ports
//! without a protocol).

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::entry::Conntrack;
use super::status::Status;
use super::tuple::{self as t, Proto, Tuple};
use super::{cta, msg};
use crate::error::{Error, Result};
use crate::netfilter::{Emit, NfMessage};
use crate::types::{Family, IntoPrefix, Refused};

/// CTA_FILTER_FLAG_CTA_* bits of the kernel (not in uapi before 5.8).
const F_IP_SRC: u32 = 1 << 0;
const F_IP_DST: u32 = 1 << 1;
const F_PROTO_NUM: u32 = 1 << 3;
const F_SRC_PORT: u32 = 1 << 4;
const F_DST_PORT: u32 = 1 << 5;
const FILTER_ORIG_FLAGS: u16 = 1;
const FILTER_REPLY_FLAGS: u16 = 2;

/// The fields of one direction a filter compares.
#[derive(Debug, Clone, Copy, Default)]
struct Side {
    src: Option<(IpAddr, u8)>,
    dst: Option<(IpAddr, u8)>,
    sport: Option<u16>,
    dport: Option<u16>,
}

fn within(a: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    a.is_ipv4() == net.is_ipv4() && IpNetwork::new(net, len).is_ok_and(|n| n.contains(a))
}

fn is_host((a, len): (IpAddr, u8)) -> bool {
    len == if a.is_ipv4() { 32 } else { 128 }
}

impl Side {
    fn matches(&self, t: &Tuple) -> bool {
        self.src.is_none_or(|p| within(t.src, p))
            && self.dst.is_none_or(|p| within(t.dst, p))
            && self.sport.is_none_or(|p| t.sport == Some(p))
            && self.dport.is_none_or(|p| t.dport == Some(p))
    }

    /// The CTA_FILTER flags of what the kernel can compare, and the
    /// partial tuple carrying their values.
    fn emit(&self, e: &mut Emit, ty: u16, proto: Option<Proto>) -> u32 {
        let src = self.src.filter(|&p| is_host(p)).map(|p| p.0);
        let dst = self.dst.filter(|&p| is_host(p)).map(|p| p.0);
        // The kernel refuses port flags without a protocol number.
        let ports = proto.filter(|p| p.has_ports());
        let sport = ports.and(self.sport);
        let dport = ports.and(self.dport);
        let nothing = src.is_none() && dst.is_none() && sport.is_none() && dport.is_none();
        if nothing && ty == cta::TUPLE_REPLY {
            // The protocol is the same both ways: the original side has it.
            return 0;
        }
        let mut flags = 0;
        for (on, f) in [
            (src.is_some(), F_IP_SRC),
            (dst.is_some(), F_IP_DST),
            (proto.is_some(), F_PROTO_NUM),
            (sport.is_some(), F_SRC_PORT),
            (dport.is_some(), F_DST_PORT),
        ] {
            if on {
                flags |= f;
            }
        }
        if flags == 0 {
            return 0;
        }
        e.nest(ty, |e| {
            if src.is_some() || dst.is_some() {
                e.nest(t::TUPLE_IP, |e| {
                    let v6 = src.or(dst).is_some_and(|a| a.is_ipv6());
                    let (s, d) = match v6 {
                        false => (t::IP_V4_SRC, t::IP_V4_DST),
                        true => (t::IP_V6_SRC, t::IP_V6_DST),
                    };
                    if let Some(a) = src {
                        e.addr(s, a);
                    }
                    if let Some(a) = dst {
                        e.addr(d, a);
                    }
                });
            }
            if let Some(p) = proto {
                e.nest(t::TUPLE_PROTO, |e| {
                    e.u8(t::PROTO_NUM, p.number());
                    if let Some(v) = sport {
                        e.be16(t::PROTO_SRC_PORT, v);
                    }
                    if let Some(v) = dport {
                        e.be16(t::PROTO_DST_PORT, v);
                    }
                });
            }
        });
        flags
    }
}

/// A selection of entries (`conntrack -L`'s and `-D`'s filter options).
/// Build it with the setters of [`ConntrackList`](super::ConntrackList)
/// or [`DeleteMatching`](super::DeleteMatching), or here.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    family: Option<Family>,
    proto: Option<Proto>,
    orig: Side,
    reply: Side,
    mark: Option<(u32, u32)>,
    zone: Option<u16>,
    status: Option<(u32, u32)>,
    refused: Option<Refused>,
}

impl Filter {
    /// Every entry.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// `-f ipv4|ipv6`.
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// `-p PROTO`.
    pub fn protocol(mut self, p: Proto) -> Self {
        self.proto = Some(p);
        self
    }

    fn prefix(&mut self, p: impl IntoPrefix, field: &'static str) -> Option<(IpAddr, u8)> {
        match p.into_prefix() {
            Ok(p) => Some(p),
            Err(e) => {
                let reason = match e {
                    Error::InvalidInput { reason, .. } => reason,
                    other => other.to_string(),
                };
                self.refused.get_or_insert(Refused::new(field, reason));
                None
            }
        }
    }

    /// `-s ADDR`: the original source, an address or a prefix (`10.0.0.0/8`).
    pub fn orig_src(mut self, p: impl IntoPrefix) -> Self {
        self.orig.src = self.prefix(p, "orig-src");
        self
    }

    /// `-d ADDR`: the original destination, an address or a prefix.
    pub fn orig_dst(mut self, p: impl IntoPrefix) -> Self {
        self.orig.dst = self.prefix(p, "orig-dst");
        self
    }

    /// `-r ADDR`: the reply source.
    pub fn reply_src(mut self, p: impl IntoPrefix) -> Self {
        self.reply.src = self.prefix(p, "reply-src");
        self
    }

    /// `-q ADDR`: the reply destination.
    pub fn reply_dst(mut self, p: impl IntoPrefix) -> Self {
        self.reply.dst = self.prefix(p, "reply-dst");
        self
    }

    /// `--sport N` (`--orig-port-src`).
    pub fn sport(mut self, p: u16) -> Self {
        self.orig.sport = Some(p);
        self
    }

    /// `--dport N` (`--orig-port-dst`).
    pub fn dport(mut self, p: u16) -> Self {
        self.orig.dport = Some(p);
        self
    }

    /// `--reply-port-src N`.
    pub fn reply_sport(mut self, p: u16) -> Self {
        self.reply.sport = Some(p);
        self
    }

    /// `--reply-port-dst N`.
    pub fn reply_dport(mut self, p: u16) -> Self {
        self.reply.dport = Some(p);
        self
    }

    /// `-m MARK/MASK`: entries whose `mark & mask == value & mask`.
    pub fn mark(mut self, value: u32, mask: u32) -> Self {
        self.mark = Some((value & mask, mask));
        self
    }

    /// `-w ZONE` (checked in user space: the kernel's dump filter reads a
    /// zone but does not compare it).
    pub fn zone(mut self, z: u16) -> Self {
        self.zone = Some(z);
        self
    }

    /// `-u STATUS`: entries with every bit of `s` set.
    pub fn status(mut self, s: Status) -> Self {
        self.status = Some((s.0, s.0));
        self
    }

    /// Entries whose `status & mask == value & mask`.
    pub fn status_masked(mut self, value: Status, mask: Status) -> Self {
        self.status = Some((value.0 & mask.0, mask.0));
        self
    }

    /// True when `ct` is selected.
    pub fn matches(&self, ct: &Conntrack) -> bool {
        self.family.is_none_or(|f| ct.family() == f)
            && self.proto.is_none_or(|p| ct.proto() == p)
            && self.orig.matches(ct.orig())
            && self.reply.matches(ct.reply())
            && self
                .mark
                .is_none_or(|(v, m)| ct.mark().unwrap_or(0) & m == v)
            && self.zone.is_none_or(|z| ct.zone().unwrap_or(0) == z)
            && self.status.is_none_or(|(v, m)| ct.status().0 & m == v)
    }

    /// The family the kernel can filter on: the one set, else the one of
    /// the addresses. Refuses addresses of another family, or of two.
    fn checked_family(&self) -> Result<Option<Family>> {
        if let Some(r) = &self.refused {
            return Err(r.error());
        }
        let mut family = self.family;
        for (field, p) in [
            ("orig-src", self.orig.src),
            ("orig-dst", self.orig.dst),
            ("reply-src", self.reply.src),
            ("reply-dst", self.reply.dst),
        ] {
            let Some((a, len)) = p else { continue };
            let f = Family::of(&a);
            match family {
                Some(want) if want != f => {
                    return Err(Error::invalid(
                        field,
                        format!(
                            "{a}/{len} is not of the filter's family ({})",
                            if want == Family::V4 { "ipv4" } else { "ipv6" }
                        ),
                    ));
                }
                _ => family = Some(f),
            }
        }
        Ok(family)
    }

    /// The IPCTNL_MSG_CT_GET dump request of this filter: the part the
    /// kernel applies (family, mark, status, CTA_FILTER), for the raw path
    /// ([`Requester::dump_raw`](crate::Requester::dump_raw)); listings
    /// also check [`matches`](Self::matches) on what comes back.
    pub fn dump_request(&self) -> Result<NfMessage> {
        self.request().map(Emit::message)
    }

    fn request(&self) -> Result<Emit> {
        let family = self.checked_family()?;
        let af = match family {
            Some(Family::V4) => libc::AF_INET as u8,
            Some(Family::V6) => libc::AF_INET6 as u8,
            None => 0,
        };
        let mut e = Emit::new(msg::ty(msg::GET), af, 0);
        if let Some((v, m)) = self.mark {
            e.be32(cta::MARK, v).be32(cta::MARK_MASK, m);
        }
        if let Some((v, m)) = self.status.filter(|&(_, m)| m != 0) {
            e.be32(cta::STATUS, v).be32(cta::STATUS_MASK, m);
        }
        // CTA_FILTER needs a family (the kernel refuses it with AF_UNSPEC).
        if family.is_some() {
            let mut tuples = Emit::new(0, 0, 0);
            let of = self.orig.emit(&mut tuples, cta::TUPLE_ORIG, self.proto);
            let rf = self.reply.emit(&mut tuples, cta::TUPLE_REPLY, self.proto);
            if of | rf != 0 {
                e.nest(cta::FILTER, |e| {
                    e.attr(FILTER_ORIG_FLAGS, &of.to_ne_bytes());
                    e.attr(FILTER_REPLY_FLAGS, &rf.to_ne_bytes());
                });
                e.extend(&tuples.message().payload[4..]);
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netfilter::conntrack::entry::tests::{entry_bytes, raw};

    #[test]
    fn user_space_matching() {
        let ct = Conntrack::from_raw(raw(&entry_bytes())).unwrap();
        let yes = [
            Filter::new(),
            Filter::new().family(Family::V4).protocol(Proto::Tcp),
            Filter::new().orig_src("10.0.0.0/8").dport(80).sport(1000),
            Filter::new().reply_src("10.0.0.2").reply_dport(1000),
            Filter::new().mark(0x10, 0xf0).zone(3),
            Filter::new().status(Status::ASSURED | Status::SEEN_REPLY),
        ];
        for f in &yes {
            assert!(f.matches(&ct), "{f:?}");
        }
        let no = [
            Filter::new().family(Family::V6),
            Filter::new().protocol(Proto::Udp),
            Filter::new().orig_src("10.0.0.2/32"),
            Filter::new().orig_dst("2001:db8::/32"),
            Filter::new().dport(81),
            Filter::new().reply_sport(1000),
            Filter::new().mark(0x11, 0xff),
            Filter::new().zone(0),
            Filter::new().status(Status::DYING),
        ];
        for f in &no {
            assert!(!f.matches(&ct), "{f:?}");
        }
    }

    #[test]
    fn requests_and_refusals() {
        let e = Filter::new()
            .family(Family::V6)
            .orig_src("10.0.0.1")
            .dump_request()
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "orig-src",
                    ..
                }
            ),
            "{e}"
        );
        let e = Filter::new()
            .orig_src("10.0.0.1")
            .reply_dst("::1")
            .dump_request()
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "reply-dst",
                    ..
                }
            ),
            "{e}"
        );
        let e = Filter::new()
            .orig_dst("10.0.0.0/33")
            .dump_request()
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "orig-dst",
                    ..
                }
            ),
            "{e}"
        );
        // A family from the addresses, and CTA_FILTER with the exact fields.
        let m = Filter::new()
            .orig_src("10.0.0.1")
            .protocol(Proto::Tcp)
            .dport(80)
            .mark(1, 1)
            .dump_request()
            .unwrap();
        assert_eq!(m.payload[0], libc::AF_INET as u8);
        let types: Vec<u16> = crate::conn::attrs::nested(&m.payload[4..])
            .map(|(t, _)| t & !crate::netfilter::NLA_F_NESTED)
            .collect();
        assert_eq!(
            types,
            [cta::MARK, cta::MARK_MASK, cta::FILTER, cta::TUPLE_ORIG]
        );
        // Without a family, no CTA_FILTER (the kernel would refuse it).
        let m = Filter::new().protocol(Proto::Tcp).dump_request().unwrap();
        assert_eq!(m.payload.len(), 4);
    }
}
