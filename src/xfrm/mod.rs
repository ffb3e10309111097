//! NETLINK_XFRM: IPsec states (SAs), policies and the XFRM monitor, in
//! `ip xfrm`'s vocabulary.
//!
//! The XFRM structures are encoded and decoded here by hand (no
//! netlink-packet-xfrm): every read is bounds-checked, so no message, however
//! short or malformed, can panic (see the randomized tests).
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use tokio_netlink::xfrm::{Dir, IpsecProto, Mode, Policy, Selector, Template};
//! let nl = tokio_netlink::Netlink::new();
//! let x = nl.xfrm();
//! let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24")?;
//! let tmpl = Template::new(IpsecProto::Esp, Mode::Tunnel)
//!     .endpoints("192.0.2.1", "192.0.2.2")
//!     .reqid(1);
//! x.add_policy(&Policy::new(sel, Dir::Out).priority(100).template(tmpl)).await?;
//! for p in x.policies().await? {
//!     println!("{} dir {}", p.selector, p.dir);
//! }
//! # Ok(()) }
//! ```

mod events;
mod migrate;
mod policy;
#[cfg(feature = "serde")]
mod serde;
mod state;
mod types;

#[cfg(test)]
mod builder_tests;

use netlink_packet_core::{DecodeError, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable};

use crate::client::Netlink;
use crate::conn::{Protocol, Requester};
use crate::error::{Error, RequestKind};

pub use events::{Acquire, Group, Mapping, Monitor, Report, XfrmEvent};
pub use migrate::{KmAddress, Migrate, MigrateEntry};
pub use policy::{DefaultAction, DefaultPolicy, Policy, PolicyId, PolicyList, SpdInfo};
pub use state::{AllocSpi, REPLAY_ESN_MAX, SadInfo, State, StateId, StateList, state_flags};
pub use types::{
    Algorithm, Dir, Encap, EncapType, IpsecProto, Level, Lifetime, LifetimeCurrent, Mark, Mode,
    Offload, PolicyAction, Replay, ReplayEsn, SaDir, SecCtx, Selector, Stats, Template, XFRM_INF,
    XFRM_MAX_DEPTH, ip_proto_name,
};

/// XFRM message types (`XFRM_MSG_*`).
pub mod msg {
    /// Add a state.
    pub const NEWSA: u16 = 16;
    /// Delete a state.
    pub const DELSA: u16 = 17;
    /// Get (or dump) states.
    pub const GETSA: u16 = 18;
    /// Add a policy.
    pub const NEWPOLICY: u16 = 19;
    /// Delete a policy.
    pub const DELPOLICY: u16 = 20;
    /// Get (or dump) policies.
    pub const GETPOLICY: u16 = 21;
    /// Allocate an SPI.
    pub const ALLOCSPI: u16 = 22;
    /// Acquire (kernel to key manager: a state is needed).
    pub const ACQUIRE: u16 = 23;
    /// A state expired.
    pub const EXPIRE: u16 = 24;
    /// Add or replace a policy.
    pub const UPDPOLICY: u16 = 25;
    /// Add or replace a state.
    pub const UPDSA: u16 = 26;
    /// A policy expired.
    pub const POLEXPIRE: u16 = 27;
    /// Flush states.
    pub const FLUSHSA: u16 = 28;
    /// Flush policies.
    pub const FLUSHPOLICY: u16 = 29;
    /// Async event (replay/lifetime) values.
    pub const NEWAE: u16 = 30;
    /// Get async event values.
    pub const GETAE: u16 = 31;
    /// Report.
    pub const REPORT: u16 = 32;
    /// Migrate.
    pub const MIGRATE: u16 = 33;
    /// SA counts (reply).
    pub const NEWSADINFO: u16 = 34;
    /// Get SA counts.
    pub const GETSADINFO: u16 = 35;
    /// SP counts (reply).
    pub const NEWSPDINFO: u16 = 36;
    /// Get SP counts.
    pub const GETSPDINFO: u16 = 37;
    /// NAT-T mapping change.
    pub const MAPPING: u16 = 38;
    /// Set the default policies.
    pub const SETDEFAULT: u16 = 39;
    /// Get the default policies.
    pub const GETDEFAULT: u16 = 40;
}

/// XFRM attribute types (`XFRMA_*`) this module reads or writes.
pub(crate) mod attr {
    pub const ALG_AUTH: u16 = 1;
    pub const ALG_CRYPT: u16 = 2;
    pub const ALG_COMP: u16 = 3;
    pub const ENCAP: u16 = 4;
    pub const TMPL: u16 = 5;
    pub const SA: u16 = 6;
    pub const POLICY: u16 = 7;
    pub const SEC_CTX: u16 = 8;
    pub const REPLAY_VAL: u16 = 10;
    pub const SRCADDR: u16 = 13;
    pub const COADDR: u16 = 14;
    pub const LASTUSED: u16 = 15;
    pub const POLICY_TYPE: u16 = 16;
    pub const MIGRATE: u16 = 17;
    pub const ALG_AEAD: u16 = 18;
    pub const KMADDRESS: u16 = 19;
    pub const ALG_AUTH_TRUNC: u16 = 20;
    pub const MARK: u16 = 21;
    pub const TFCPAD: u16 = 22;
    pub const REPLAY_ESN_VAL: u16 = 23;
    pub const SA_EXTRA_FLAGS: u16 = 24;
    pub const PROTO: u16 = 25;
    pub const OFFLOAD_DEV: u16 = 28;
    pub const SET_MARK: u16 = 29;
    pub const SET_MARK_MASK: u16 = 30;
    pub const IF_ID: u16 = 31;
    pub const MTIMER_THRESH: u16 = 32;
    pub const SA_DIR: u16 = 33;
    pub const NAT_KEEPALIVE_INTERVAL: u16 = 34;
    pub const SA_PCPU: u16 = 35;

    /// The field an attribute carries, in `ip xfrm`'s words (for errors).
    pub fn field(ty: u16) -> &'static str {
        match ty {
            ALG_AUTH => "auth",
            ALG_CRYPT => "enc",
            ALG_COMP => "comp",
            ENCAP => "encap",
            TMPL => "tmpl",
            SA => "sa",
            POLICY => "policy",
            SEC_CTX => "ctx",
            REPLAY_VAL => "replay",
            SRCADDR => "src",
            COADDR => "coa",
            LASTUSED => "lastused",
            POLICY_TYPE => "ptype",
            MIGRATE => "migrate",
            ALG_AEAD => "aead",
            KMADDRESS => "kmaddress",
            ALG_AUTH_TRUNC => "auth-trunc",
            MARK => "mark",
            TFCPAD => "tfcpad",
            REPLAY_ESN_VAL => "replay-window",
            SA_EXTRA_FLAGS => "extra-flag",
            PROTO => "proto",
            OFFLOAD_DEV => "offload dev",
            SET_MARK | SET_MARK_MASK => "output-mark",
            IF_ID => "if_id",
            MTIMER_THRESH => "mtimer-thresh",
            SA_DIR => "dir",
            NAT_KEEPALIVE_INTERVAL => "nat-keepalive-interval",
            SA_PCPU => "pcpu-num",
            _ => "attribute",
        }
    }
}

/// One XFRM message, undecoded: its type and payload. The typed views
/// ([`State`], [`Policy`], [`XfrmEvent`]) decode payloads safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfrmMessage {
    /// `XFRM_MSG_*`.
    pub message_type: u16,
    /// The bytes after the netlink header.
    pub payload: Vec<u8>,
}

impl NetlinkSerializable for XfrmMessage {
    fn message_type(&self) -> u16 {
        self.message_type
    }

    fn buffer_len(&self) -> usize {
        self.payload.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer[..self.payload.len()].copy_from_slice(&self.payload);
    }
}

impl NetlinkDeserializable for XfrmMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(XfrmMessage {
            message_type: header.message_type,
            payload: payload.to_vec(),
        })
    }
}

/// The NETLINK_XFRM protocol.
#[derive(Debug, Clone, Copy)]
pub struct Xfrm;

impl Protocol for Xfrm {
    type Message = XfrmMessage;
    const PROTOCOL: isize = netlink_sys::protocols::NETLINK_XFRM;

    fn message_name(ty: u16) -> Option<&'static str> {
        Some(match ty {
            16 => "XFRM_MSG_NEWSA",
            17 => "XFRM_MSG_DELSA",
            18 => "XFRM_MSG_GETSA",
            19 => "XFRM_MSG_NEWPOLICY",
            20 => "XFRM_MSG_DELPOLICY",
            21 => "XFRM_MSG_GETPOLICY",
            22 => "XFRM_MSG_ALLOCSPI",
            23 => "XFRM_MSG_ACQUIRE",
            24 => "XFRM_MSG_EXPIRE",
            25 => "XFRM_MSG_UPDPOLICY",
            26 => "XFRM_MSG_UPDSA",
            27 => "XFRM_MSG_POLEXPIRE",
            28 => "XFRM_MSG_FLUSHSA",
            29 => "XFRM_MSG_FLUSHPOLICY",
            30 => "XFRM_MSG_NEWAE",
            31 => "XFRM_MSG_GETAE",
            32 => "XFRM_MSG_REPORT",
            33 => "XFRM_MSG_MIGRATE",
            34 => "XFRM_MSG_NEWSADINFO",
            35 => "XFRM_MSG_GETSADINFO",
            36 => "XFRM_MSG_NEWSPDINFO",
            37 => "XFRM_MSG_GETSPDINFO",
            38 => "XFRM_MSG_MAPPING",
            39 => "XFRM_MSG_SETDEFAULT",
            40 => "XFRM_MSG_GETDEFAULT",
            _ => return None,
        })
    }
}

pub(crate) fn kind(ty: u16) -> RequestKind {
    RequestKind {
        message_type: ty,
        name: Xfrm::message_name(ty),
    }
}

pub(crate) fn decode_error(ty: u16, reason: impl Into<String>) -> Error {
    Error::Decode {
        request: kind(ty),
        reason: reason.into(),
    }
}

pub(crate) fn message(ty: u16, payload: Vec<u8>) -> XfrmMessage {
    XfrmMessage {
        message_type: ty,
        payload,
    }
}

/// NLM_F_CREATE | NLM_F_EXCL.
pub(crate) const CREATE_EXCL: u16 = 0x400 | 0x200;

/// IPsec operations (`ip xfrm state|policy|monitor`) on the client's own
/// NETLINK_XFRM connection. Get one with [`Netlink::xfrm`].
#[derive(Debug, Clone)]
pub struct XfrmHandle {
    req: Requester<Xfrm>,
}

impl XfrmHandle {
    /// The raw requester underneath, for messages this handle lacks.
    pub fn requester(&self) -> &Requester<Xfrm> {
        &self.req
    }
}

impl Netlink {
    /// IPsec states, policies and events (`ip xfrm`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// for s in nl.xfrm().states().await? {
    ///     println!("{} -> {} spi {:#010x}", s.src, s.dst, s.spi);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn xfrm(&self) -> XfrmHandle {
        XfrmHandle {
            req: self.requester::<Xfrm>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::conn::RawMessage;
    use crate::conn::frame::{HEADER_LEN, Header};

    fn raw(ty: u16, payload: &[u8]) -> RawMessage {
        let mut b = vec![0u8; HEADER_LEN];
        Header {
            len: (HEADER_LEN + payload.len()) as u32,
            ty,
            flags: 0,
            seq: 0,
            pid: 0,
        }
        .write(&mut b);
        b.extend_from_slice(payload);
        RawMessage {
            header: Header::parse(&b).unwrap(),
            bytes: Bytes::from(b),
        }
    }

    /// Every decoder on `payload`: none may panic, whatever the bytes.
    fn decode_all(payload: &[u8]) {
        for ty in 16..=40 {
            let _ = XfrmEvent::from_raw(raw(ty, payload));
            let _ = State::parse(ty, payload);
            let _ = Policy::parse(ty, payload);
        }
        let _ = Migrate::parse(payload);
        let _ = SpdInfo::parse(payload);
        let _ = SadInfo::parse(payload);
    }

    #[test]
    fn no_decoder_panics_on_truncated_or_random_input() {
        // Valid messages, cut at every length.
        let s = state::tests::full_state();
        let sa = s.emit().unwrap();
        let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        let p = Policy::new(sel, Dir::Out)
            .template(Template::new(IpsecProto::Esp, Mode::Transport))
            .mark(Mark::new(3))
            .if_id(1)
            .sec_ctx(SecCtx::new("u:r:t:s0"))
            .emit()
            .unwrap();
        let mig = migrate::tests::full_migrate().emit().unwrap();
        let rep = events::notices::tests::report_bytes();
        for m in [&sa, &p, &mig, &rep] {
            for n in 0..=m.len() {
                decode_all(&m[..n]);
            }
        }
        // Valid headers followed by garbage attributes, and pure garbage.
        let mut x: u32 = 0x9e37_79b9;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for i in 0..3000 {
            let len = (next() % 400) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if i % 2 == 0 {
                // Plausible attribute headers with random lengths.
                let base = [&sa, &p, &mig, &rep][(i / 2) % 4];
                let cut = base.len().min(232);
                let mut m = base[..cut].to_vec();
                for _ in 0..(next() % 6) {
                    let alen = (next() % 120) as u16;
                    let ty = (next() % 35) as u16;
                    m.extend_from_slice(&alen.to_ne_bytes());
                    m.extend_from_slice(&ty.to_ne_bytes());
                    m.extend((0..(next() % 100)).map(|_| next() as u8));
                }
                buf = m;
            }
            decode_all(&buf);
        }
    }

    /// The fields of a RawMessage are public: one shorter than a header, or
    /// whose header disagrees with its bytes, is an error, never a panic.
    #[test]
    fn raw_messages_shorter_than_a_header_are_errors() {
        let full = raw(msg::NEWPOLICY, &[0; 200]);
        for n in 0..HEADER_LEN + 1 {
            let m = RawMessage {
                bytes: full.bytes.slice(..n),
                ..full.clone()
            };
            assert_eq!(m.payload(), &[] as &[u8]);
            assert!(Policy::from_raw(&m).is_err());
            assert!(State::from_raw(&m).is_err());
            for ty in 16..=40 {
                let m = RawMessage {
                    header: Header { ty, ..m.header },
                    ..m.clone()
                };
                let e = XfrmEvent::from_raw(m);
                assert!(
                    matches!(
                        e,
                        XfrmEvent::Undecodable(_)
                            | XfrmEvent::Other(_)
                            | XfrmEvent::FlushStates(_)
                            | XfrmEvent::FlushPolicies
                    ),
                    "{ty}: {e:?}"
                );
            }
        }
        // A header claiming more (or less) than the bytes hold changes nothing.
        for len in [0, 8, 16, 10_000, u32::MAX] {
            let m = RawMessage {
                header: Header { len, ..full.header },
                ..full.clone()
            };
            assert_eq!(m.payload().len(), 200);
            Policy::from_raw(&m).unwrap();
        }
    }

    #[test]
    fn message_names() {
        assert_eq!(Xfrm::message_name(msg::NEWSA), Some("XFRM_MSG_NEWSA"));
        assert_eq!(
            Xfrm::message_name(msg::GETDEFAULT),
            Some("XFRM_MSG_GETDEFAULT")
        );
        assert_eq!(Xfrm::message_name(99), None);
    }
}
