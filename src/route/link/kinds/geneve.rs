//! `type geneve id VNI remote ADDR [ttl N] [tos N] [dstport P]`.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoGeneve, InfoKind, LinkInfo};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkKind};

/// A Geneve tunnel endpoint, or the change of a live one
/// ([`Geneve::change`]).
#[derive(Debug, Clone)]
pub struct Geneve {
    id: Option<u32>,
    remote: Option<IpAddr>,
    external: bool,
    attrs: Vec<InfoGeneve>,
}

impl Geneve {
    /// `geneve id VNI remote ADDR` (the VNI has 24 bits; the remote is a
    /// unicast IPv4 or IPv6 address).
    pub fn new(id: u32, remote: impl Into<IpAddr>) -> Self {
        Geneve {
            id: Some(id),
            remote: Some(remote.into()),
            ..Self::change()
        }
    }

    /// `geneve external`: a flow-based (metadata) device, with no VNI or
    /// remote of its own.
    pub fn new_external() -> Self {
        Geneve {
            external: true,
            ..Self::change()
        }
    }

    /// The parameters of a live geneve to change (`ip link set DEV type
    /// geneve …`), for [`LinkSet::kind`](crate::route::link::LinkSet::kind):
    /// only what is set is sent; the kernel refuses to change the VNI or
    /// the port, with its text.
    pub fn change() -> Self {
        Geneve {
            id: None,
            remote: None,
            external: false,
            attrs: Vec::new(),
        }
    }

    /// `remote ADDR`: the far end (a change of a live link's remote).
    #[inline]
    pub fn remote(mut self, addr: impl Into<IpAddr>) -> Self {
        self.remote = Some(addr.into());
        self
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
    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        if let Some(id) = self.id
            && id >= 1 << 24
        {
            return Err(Error::invalid(
                "id",
                format!("{id} does not fit in 24 bits"),
            ));
        }
        if let Some(r) = self.remote
            && (r.is_unspecified() || r.is_multicast())
        {
            return Err(Error::invalid(
                "remote",
                format!("{r} is not a unicast address"),
            ));
        }
        if !ctx.is_change() && !self.external && (self.id.is_none() || self.remote.is_none()) {
            return Err(Error::invalid(
                "id",
                "a new geneve needs a VNI and a remote (Geneve::new), or external",
            ));
        }
        let mut data: Vec<InfoGeneve> = self.id.map(InfoGeneve::Id).into_iter().collect();
        data.extend(self.remote.map(|r| match r {
            IpAddr::V4(a) => InfoGeneve::Remote(a),
            IpAddr::V6(a) => InfoGeneve::Remote6(a),
        }));
        if self.external {
            data.push(InfoGeneve::CollectMetadata);
        }
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
