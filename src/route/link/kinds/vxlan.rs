//! `type vxlan id N [dstport P] [dev D] [local A] [remote A | group A] …`.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoVxlan, LinkInfo};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// A VXLAN tunnel endpoint.
#[derive(Debug, Clone)]
pub struct Vxlan {
    id: u32,
    remote: Option<IpAddr>,
    group: Option<IpAddr>,
    local: Option<IpAddr>,
    dev: Option<LinkId>,
    attrs: Vec<InfoVxlan>,
}

impl Vxlan {
    /// `vxlan id VNI`.
    pub fn new(id: u32) -> Self {
        Vxlan {
            id,
            remote: None,
            group: None,
            local: None,
            dev: None,
            attrs: Vec::new(),
        }
    }

    /// `remote ADDR`: unicast peer.
    #[inline]
    pub fn remote(mut self, addr: IpAddr) -> Self {
        self.remote = Some(addr);
        self
    }

    /// `group ADDR`: multicast group (needs `dev`).
    #[inline]
    pub fn group(mut self, addr: IpAddr) -> Self {
        self.group = Some(addr);
        self
    }

    /// `local ADDR`.
    #[inline]
    pub fn local(mut self, addr: IpAddr) -> Self {
        self.local = Some(addr);
        self
    }

    /// `dev DEV`: the underlay device.
    #[inline]
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `dstport PORT`.
    #[inline]
    pub fn dstport(mut self, port: u16) -> Self {
        self.attrs.push(InfoVxlan::Port(port));
        self
    }

    /// `ttl N`.
    #[inline]
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.attrs.push(InfoVxlan::Ttl(ttl));
        self
    }

    /// `tos N`.
    #[inline]
    pub fn tos(mut self, tos: u8) -> Self {
        self.attrs.push(InfoVxlan::Tos(tos));
        self
    }

    /// `[no]learning`.
    #[inline]
    pub fn learning(mut self, on: bool) -> Self {
        self.attrs.push(InfoVxlan::Learning(on));
        self
    }

    /// `srcport MIN MAX`.
    #[inline]
    pub fn port_range(mut self, min: u16, max: u16) -> Self {
        self.attrs.push(InfoVxlan::PortRange((min, max)));
        self
    }

    /// `gbp`: group-based policy extension.
    #[inline]
    pub fn gbp(mut self) -> Self {
        self.attrs.push(InfoVxlan::Gbp);
        self
    }
}

impl LinkKind for Vxlan {
    fn refs(&self) -> Vec<LinkId> {
        self.dev.iter().cloned().collect()
    }

    fn refs_field(&self) -> &'static str {
        "dev"
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        if self.id >= 1 << 24 {
            return Err(Error::invalid(
                "id",
                format!("{} does not fit in 24 bits", self.id),
            ));
        }
        if self.remote.is_some() && self.group.is_some() {
            return Err(Error::invalid(
                "remote",
                "remote and group exclude each other",
            ));
        }
        let mut data = vec![InfoVxlan::Id(self.id)];
        match self.remote.or(self.group) {
            Some(IpAddr::V4(a)) => {
                if self.group.is_some() && !a.is_multicast() {
                    return Err(Error::invalid("group", format!("{a} is not multicast")));
                }
                data.push(InfoVxlan::Group(a));
            }
            Some(IpAddr::V6(a)) => {
                if self.group.is_some() && !a.is_multicast() {
                    return Err(Error::invalid("group", format!("{a} is not multicast")));
                }
                data.push(InfoVxlan::Group6(a));
            }
            None => {}
        }
        match self.local {
            Some(IpAddr::V4(a)) => data.push(InfoVxlan::Local(a)),
            Some(IpAddr::V6(a)) => data.push(InfoVxlan::Local6(a)),
            None => {}
        }
        if let Some(d) = &self.dev {
            data.push(InfoVxlan::Link(ctx.index(d)?));
        }
        data.extend(self.attrs.iter().cloned());
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Vxlan),
                LinkInfo::Data(InfoData::Vxlan(data)),
            ],
            ..KindParts::default()
        })
    }
}
