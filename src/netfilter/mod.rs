//! NETLINK_NETFILTER (nfnetlink): the protocol carrier, the `nfgenmsg`
//! header and the wire helpers its subsystems share. [`conntrack`] is the
//! connection-tracking table (`conntrack`'s vocabulary), [`ipset`] the IP
//! sets (`ipset`'s).
//!
//! Every nfnetlink message is `nfgenmsg` (family, version, resource id)
//! followed by attributes. Unlike rtnetlink, nested attributes carry
//! NLA_F_NESTED and multi-byte integers are big-endian; the helpers here
//! read and write them so that the subsystems never touch byte order. The
//! codec is the crate's own: every read is bounds-checked, so no message,
//! however short or malformed, can panic.
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use futures::TryStreamExt;
//! let nl = tokio_netlink::Netlink::new();
//! let mut all = nl.conntrack().list().stream();
//! while let Some(ct) = all.try_next().await? {
//!     println!("{ct}");
//! }
//! # Ok(()) }
//! ```

pub mod conntrack;
pub mod ipset;

use std::net::IpAddr;

use netlink_packet_core::{DecodeError, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable};

use crate::conn::Protocol;
use crate::conn::attrs::nested;
use crate::error::{Error, RequestKind, Result};

/// `sizeof(struct nfgenmsg)`.
pub const NFGENMSG_LEN: usize = 4;
/// NLA_F_NESTED: nfnetlink marks every nest (the kernel's policies check it
/// for some attributes).
pub(crate) const NLA_F_NESTED: u16 = 0x8000;
/// NFNL_SUBSYS_CTNETLINK.
pub const SUBSYS_CTNETLINK: u8 = 1;

/// One nfnetlink message, undecoded: its type (subsystem << 8 | message)
/// and payload (nfgenmsg and attributes). The typed views decode payloads
/// safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NfMessage {
    /// `(NFNL_SUBSYS_* << 8) | message`.
    pub message_type: u16,
    /// The bytes after the netlink header.
    pub payload: Vec<u8>,
}

impl NetlinkSerializable for NfMessage {
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

impl NetlinkDeserializable for NfMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(NfMessage {
            message_type: header.message_type,
            payload: payload.to_vec(),
        })
    }
}

/// The NETLINK_NETFILTER protocol (number 12).
#[derive(Debug, Clone, Copy)]
pub struct Netfilter;

impl Protocol for Netfilter {
    type Message = NfMessage;
    const PROTOCOL: isize = netlink_sys::protocols::NETLINK_NETFILTER;

    fn message_name(ty: u16) -> Option<&'static str> {
        match (ty >> 8) as u8 {
            SUBSYS_CTNETLINK => conntrack::msg::name(ty as u8),
            ipset::SUBSYS_IPSET => ipset::cmd::name(ty as u8),
            _ => None,
        }
    }
}

/// The request kind of message type `ty`, for errors.
pub(crate) fn kind(ty: u16) -> RequestKind {
    RequestKind {
        message_type: ty,
        name: Netfilter::message_name(ty),
    }
}

/// A message under construction: nfgenmsg, then attributes appended with
/// the helpers below (integers big-endian, nests flagged NLA_F_NESTED).
#[derive(Debug, Clone)]
pub(crate) struct Emit {
    ty: u16,
    buf: Vec<u8>,
}

impl Emit {
    /// `nfgenmsg { family, version, res_id = 0 }`. The version is
    /// NFNETLINK_V0 except where the kernel reads it as a flag (a flush
    /// limited to one family).
    pub fn new(ty: u16, family: u8, version: u8) -> Emit {
        Emit {
            ty,
            buf: vec![family, version, 0, 0],
        }
    }

    pub fn attr(&mut self, ty: u16, value: &[u8]) -> &mut Self {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    pub fn u8(&mut self, ty: u16, v: u8) -> &mut Self {
        self.attr(ty, &[v])
    }

    pub fn be16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.attr(ty, &v.to_be_bytes())
    }

    pub fn be32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_be_bytes())
    }

    /// An address as 4 or 16 bytes, network order.
    pub fn addr(&mut self, ty: u16, a: IpAddr) -> &mut Self {
        match a {
            IpAddr::V4(a) => self.attr(ty, &a.octets()),
            IpAddr::V6(a) => self.attr(ty, &a.octets()),
        }
    }

    /// A nest of type `ty` holding what `f` appends. Nests here hold a few
    /// small attributes, far below the 16-bit length.
    pub fn nest(&mut self, ty: u16, f: impl FnOnce(&mut Emit)) -> &mut Self {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        f(self);
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// Appends attributes encoded elsewhere (whole, headers included),
    /// padded to 4 bytes.
    pub fn extend(&mut self, attrs: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(attrs);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    pub fn message(self) -> NfMessage {
        NfMessage {
            message_type: self.ty,
            payload: self.buf,
        }
    }
}

/// A big-endian u16 value (at least 2 bytes).
#[inline]
pub(crate) fn be16_of(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?))
}

/// A big-endian u32 value.
#[inline]
pub(crate) fn be32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

/// A big-endian u64 value.
#[inline]
pub(crate) fn be64_of(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?))
}

/// Walks the attributes of `buf` (a message payload from `start`, or a
/// nest's value from 0) and reports the first one whose header does not
/// fit what is left: `what` names the enclosing object in the error.
pub(crate) fn check_attrs(ty: u16, buf: &[u8], start: usize, what: &str) -> Result<()> {
    let mut pos = start;
    while pos < buf.len() {
        let rest = &buf[pos..];
        let len = match rest.get(..2) {
            Some(b) => u16::from_ne_bytes([b[0], b[1]]) as usize,
            None => 0,
        };
        if rest.len() < 4 || len < 4 || len > rest.len() {
            return Err(Error::Decode {
                request: kind(ty),
                reason: format!(
                    "{what} truncated: an attribute at byte {pos} of it claims {len} bytes, {} are left",
                    rest.len()
                ),
            });
        }
        pos += crate::conn::frame::align(len);
    }
    Ok(())
}

/// The value of nested attribute `ty` inside `value`.
#[inline]
pub(crate) fn nested_attr(value: &[u8], ty: u16) -> Option<&[u8]> {
    nested(value).find(|&(t, _)| t == ty).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_nests_and_big_endian() {
        let mut e = Emit::new(0x101, 2, 0);
        e.nest(1, |e| {
            e.be16(2, 0x1234);
        })
        .be32(8, 7);
        let m = e.message();
        assert_eq!(m.message_type, 0x101);
        assert_eq!(
            m.payload,
            [
                2, 0, 0, 0, // nfgenmsg
                12, 0, 1, 0x80, // nest 1, NLA_F_NESTED
                6, 0, 2, 0, 0x12, 0x34, 0, 0, // be16, padded
                8, 0, 8, 0, 0, 0, 0, 7, // be32
            ]
        );
        check_attrs(0x101, &m.payload, 4, "x").unwrap();
        let e = check_attrs(0x101, &m.payload[..10], 4, "a conntrack").unwrap_err();
        assert!(e.to_string().contains("a conntrack truncated"), "{e}");
        assert_eq!(be16_of(&[1]), None);
        assert_eq!(be32_of(&[0, 0, 1, 0]), Some(256));
        assert_eq!(be64_of(&[0; 7]), None);
    }

    #[test]
    fn message_names() {
        assert_eq!(Netfilter::message_name(0x100), Some("IPCTNL_MSG_CT_NEW"));
        assert_eq!(Netfilter::message_name(0x609), Some("IPSET_CMD_ADD"));
        assert_eq!(Netfilter::message_name(0x700), None);
    }
}
