//! `struct xfrm_user_offload`: hardware offload of a state
//! (`offload [crypto|packet] dev DEV dir in|out`).

use super::wire::Rd;
use crate::error::{Error, Result};

/// XFRM_OFFLOAD_INBOUND.
const INBOUND: u8 = 2;
/// XFRM_OFFLOAD_PACKET (Linux 6.2 and later).
const PACKET: u8 = 4;

/// `offload [crypto|packet] dev DEV dir in|out` (XFRMA_OFFLOAD_DEV).
///
/// A device without IPsec offload support gets no offload: Linux 6.1
/// then adds the state without one (crypto) or refuses it with EINVAL
/// (packet, or together with `encap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Offload {
    /// The device's interface index.
    pub ifindex: u32,
    /// `dir in` (XFRM_OFFLOAD_INBOUND); `dir out` otherwise.
    pub inbound: bool,
    /// `packet` offload (XFRM_OFFLOAD_PACKET); `crypto` otherwise.
    pub packet: bool,
}

impl Offload {
    /// Crypto offload to device `ifindex` for outbound traffic.
    pub fn new(ifindex: u32) -> Offload {
        Offload {
            ifindex,
            inbound: false,
            packet: false,
        }
    }

    /// `dir in`.
    pub fn inbound(mut self) -> Self {
        self.inbound = true;
        self
    }

    /// `packet` offload (the whole packet handled by the device).
    pub fn packet(mut self) -> Self {
        self.packet = true;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        // The kernel reads the index as an int: 0 and above i32::MAX are no device.
        if self.ifindex == 0 || i32::try_from(self.ifindex).is_err() {
            return Err(Error::invalid(
                "offload dev",
                format!("{} is not an interface index", self.ifindex),
            ));
        }
        Ok(())
    }

    /// The attribute's value: `int ifindex; __u8 flags;` padded to 8.
    pub(crate) fn bytes(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&(self.ifindex as i32).to_ne_bytes());
        b[4] = if self.inbound { INBOUND } else { 0 } | if self.packet { PACKET } else { 0 };
        b
    }

    pub(crate) fn parse(v: &[u8]) -> Option<Offload> {
        let r = Rd(v);
        let flags = *v.get(4)?;
        Some(Offload {
            ifindex: u32::try_from(r.i32(0)).ok()?,
            inbound: flags & INBOUND != 0,
            packet: flags & PACKET != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offload_bytes_round_trip_and_bad_indexes_are_refused() {
        let o = Offload::new(7).inbound().packet();
        let b = o.bytes();
        assert_eq!(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]), 7);
        assert_eq!(b[4], 2 | 4);
        assert_eq!(Offload::parse(&b), Some(o));
        assert_eq!(Offload::parse(&b[..4]), None);
        let e = Offload::new(0).validate().unwrap_err();
        assert!(e.to_string().contains("offload dev"), "{e}");
        assert!(Offload::new(u32::MAX).validate().is_err());
    }
}
