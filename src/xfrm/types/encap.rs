//! `struct xfrm_encap_tmpl`: NAT traversal.

use std::fmt;
use std::net::IpAddr;

use super::wire::{Rd, Wr, addr_of};
use crate::error::{Error, Result};

/// The encapsulation type of NAT traversal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapType {
    /// `espinudp-nonike` (UDP_ENCAP_ESPINUDP_NON_IKE, 1).
    EspInUdpNonIke,
    /// `espinudp` (UDP_ENCAP_ESPINUDP, 2).
    EspInUdp,
    /// `espintcp` (TCP_ENCAP_ESPINTCP, 7).
    EspInTcp,
    /// Another value.
    Other(u16),
}

impl EncapType {
    /// The kernel's number.
    pub fn raw(self) -> u16 {
        match self {
            EncapType::EspInUdpNonIke => 1,
            EncapType::EspInUdp => 2,
            EncapType::EspInTcp => 7,
            EncapType::Other(n) => n,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(n: u16) -> Self {
        match n {
            1 => EncapType::EspInUdpNonIke,
            2 => EncapType::EspInUdp,
            7 => EncapType::EspInTcp,
            n => EncapType::Other(n),
        }
    }

    /// `ip`'s spelling.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "espinudp-nonike" => EncapType::EspInUdpNonIke,
            "espinudp" => EncapType::EspInUdp,
            "espintcp" => EncapType::EspInTcp,
            _ => {
                return Err(Error::invalid(
                    "encap",
                    format!("{s:?} is not an encap type"),
                ));
            }
        })
    }
}

impl fmt::Display for EncapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncapType::EspInUdpNonIke => f.write_str("espinudp-nonike"),
            EncapType::EspInUdp => f.write_str("espinudp"),
            EncapType::EspInTcp => f.write_str("espintcp"),
            EncapType::Other(n) => write!(f, "{n}"),
        }
    }
}

/// `encap TYPE SPORT DPORT OADDR` (`struct xfrm_encap_tmpl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Encap {
    /// The encapsulation.
    pub kind: EncapType,
    /// UDP source port.
    pub sport: u16,
    /// UDP destination port.
    pub dport: u16,
    /// Original address (`None`: unspecified).
    pub oa: Option<IpAddr>,
}

pub(crate) const ENCAP_LEN: usize = 24;

impl Encap {
    pub(crate) fn bytes(&self) -> [u8; ENCAP_LEN] {
        let mut b = [0u8; ENCAP_LEN];
        let mut w = Wr(&mut b);
        w.u16(0, self.kind.raw());
        w.be16(2, self.sport);
        w.be16(4, self.dport);
        w.addr(8, self.oa);
        b
    }

    pub(crate) fn parse(v: &[u8], family: u16) -> Option<Encap> {
        if v.len() < ENCAP_LEN {
            return None;
        }
        let r = Rd(v);
        Some(Encap {
            kind: EncapType::from_raw(r.u16(0)),
            sport: r.be16(2),
            dport: r.be16(4),
            oa: addr_of(r, 8, family).filter(|a| !a.is_unspecified()),
        })
    }
}
