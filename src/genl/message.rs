//! [`GenlMessage`] and the [`Generic`] protocol that carries it.

use bytes::Bytes;
use netlink_packet_core::{DecodeError, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable};

use super::attr::Attributes;
use super::{GENL_ID_CTRL, GENLMSG_LEN};
use crate::conn::{Protocol, RawMessage};
use crate::error::{Error, RequestKind, Result};

/// One generic netlink message: its family id (the netlink message type),
/// `genlmsghdr`'s command and version, and what follows (the family's own
/// header, if any, then attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenlMessage {
    /// The family id (netlink message type).
    pub family: u16,
    /// `genlmsghdr.cmd`.
    pub cmd: u8,
    /// `genlmsghdr.version`.
    pub version: u8,
    /// The bytes after `genlmsghdr`: the family header, then attributes.
    pub payload: Bytes,
}

impl GenlMessage {
    /// A message of `family` with no payload yet.
    pub fn new(family: u16, cmd: u8, version: u8) -> GenlMessage {
        GenlMessage {
            family,
            cmd,
            version,
            payload: Bytes::new(),
        }
    }

    /// The attributes, for a family without a header of its own.
    pub fn attributes(&self) -> Attributes<'_> {
        Attributes::new(&self.payload)
    }

    /// The attributes after a family header of `hdrsize` bytes
    /// ([`Family::hdrsize`](super::Family::hdrsize), padded to 4).
    pub fn attributes_after(&self, hdrsize: usize) -> Attributes<'_> {
        let start = crate::conn::frame::align(hdrsize);
        Attributes::new(self.payload.get(start..).unwrap_or_default())
    }

    /// A received message, its payload a zero-copy slice of `raw`; an
    /// error when it is shorter than `genlmsghdr`.
    pub fn from_raw(raw: &RawMessage, request: RequestKind) -> Result<GenlMessage> {
        let p = raw.payload();
        if p.len() < GENLMSG_LEN {
            return Err(Error::Decode {
                request,
                reason: format!("{} bytes, shorter than genlmsghdr", p.len()),
            });
        }
        let start = crate::conn::frame::HEADER_LEN + GENLMSG_LEN;
        Ok(GenlMessage {
            family: raw.header.ty,
            cmd: p[0],
            version: p[1],
            payload: raw.bytes.slice(start..),
        })
    }
}

impl NetlinkSerializable for GenlMessage {
    fn message_type(&self) -> u16 {
        self.family
    }

    fn buffer_len(&self) -> usize {
        GENLMSG_LEN + self.payload.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer[..GENLMSG_LEN].copy_from_slice(&[self.cmd, self.version, 0, 0]);
        buffer[GENLMSG_LEN..GENLMSG_LEN + self.payload.len()].copy_from_slice(&self.payload);
    }
}

impl NetlinkDeserializable for GenlMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let Some([cmd, version, _, _]) = payload.first_chunk::<GENLMSG_LEN>() else {
            let why = format!("{} bytes, shorter than genlmsghdr", payload.len());
            return Err(DecodeError::from(why));
        };
        Ok(GenlMessage {
            family: header.message_type,
            cmd: *cmd,
            version: *version,
            payload: Bytes::copy_from_slice(&payload[GENLMSG_LEN..]),
        })
    }
}

/// The NETLINK_GENERIC protocol (16).
#[derive(Debug, Clone, Copy)]
pub struct Generic;

impl Protocol for Generic {
    type Message = GenlMessage;
    const PROTOCOL: isize = netlink_sys::protocols::NETLINK_GENERIC;

    /// Only the controller's id is fixed; other ids are assigned at run
    /// time, so their requests are named by the handle's error contexts.
    fn message_name(ty: u16) -> Option<&'static str> {
        (ty == GENL_ID_CTRL).then_some("GENL_ID_CTRL")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_genlmsghdr_then_payload() {
        let mut m = GenlMessage::new(0x10, 3, 2);
        m.payload = Bytes::from_static(&[8, 0, 1, 0, 7, 0, 0, 0]);
        let mut b = vec![0; m.buffer_len()];
        m.serialize(&mut b);
        assert_eq!(b, [3, 2, 0, 0, 8, 0, 1, 0, 7, 0, 0, 0]);
        let mut h = NetlinkHeader::default();
        h.message_type = 0x10;
        assert_eq!(GenlMessage::deserialize(&h, &b).unwrap(), m);
        assert!(GenlMessage::deserialize(&h, &b[..3]).is_err());
        assert_eq!(m.attributes().next().and_then(|a| a.u32()), Some(7));
        assert_eq!(m.attributes_after(4).count(), 0);
        assert_eq!(m.attributes_after(100).count(), 0);
        assert_eq!(Generic::message_name(0x10), Some("GENL_ID_CTRL"));
        assert_eq!(Generic::message_name(0x11), None);
    }
}
