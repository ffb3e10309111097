//! `type geneve id VNI remote ADDR [ttl N] [tos N] [dstport P]`.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoGeneve, InfoKind, LinkInfo};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkKind};

/// A Geneve tunnel endpoint.
#[derive(Debug, Clone)]
pub struct Geneve {
    id: u32,
    remote: IpAddr,
    attrs: Vec<InfoGeneve>,
}

impl Geneve {
    /// `geneve id VNI remote ADDR` (the VNI has 24 bits; the remote is a
    /// unicast IPv4 or IPv6 address).
    pub fn new(id: u32, remote: impl Into<IpAddr>) -> Self {
        Geneve {
            id,
            remote: remote.into(),
            attrs: Vec::new(),
        }
    }

    /// `ttl N`; 0 lets the route decide (`ttl auto`).
    #[inline]
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.attrs.push(InfoGeneve::Ttl(ttl));
        self
    }

    /// `tos N`; 1 is `inherit`.
    #[inline]
    pub fn tos(mut self, tos: u8) -> Self {
        self.attrs.push(InfoGeneve::Tos(tos));
        self
    }

    /// `dstport PORT` (default 6081).
    #[inline]
    pub fn dstport(mut self, port: u16) -> Self {
        self.attrs.push(InfoGeneve::Port(port));
        self
    }
}

impl LinkKind for Geneve {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        if self.id >= 1 << 24 {
            return Err(Error::invalid(
                "id",
                format!("{} does not fit in 24 bits", self.id),
            ));
        }
        if self.remote.is_unspecified() || self.remote.is_multicast() {
            return Err(Error::invalid(
                "remote",
                format!("{} is not a unicast address", self.remote),
            ));
        }
        let mut data = vec![InfoGeneve::Id(self.id)];
        data.push(match self.remote {
            IpAddr::V4(a) => InfoGeneve::Remote(a),
            IpAddr::V6(a) => InfoGeneve::Remote6(a),
        });
        data.extend(self.attrs.iter().cloned());
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Geneve),
                LinkInfo::Data(InfoData::Geneve(data)),
            ],
            ..KindParts::default()
        })
    }
}
