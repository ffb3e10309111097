//! `type vxlan id N [dstport P] [dev D] [local A] [remote A | group A] …`.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoVxlan, LinkInfo, VxlanDf};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// A VXLAN tunnel endpoint; also the change of a live one
/// ([`Vxlan::change`]).
#[derive(Debug, Clone)]
pub struct Vxlan {
    id: Option<u32>,
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
            id: Some(id),
            ..Self::change()
        }
    }

    /// The parameters of a live vxlan to change (`ip link set DEV type
    /// vxlan …`), for [`LinkSet::kind`](crate::route::link::LinkSet::kind):
    /// only what is set is sent. The kernel changes addresses, TTL, TOS,
    /// flow label, learning, ageing, the address limit and `df` live, and
    /// refuses the rest (port, metadata mode, the flags) with its text.
    pub fn change() -> Self {
        Vxlan {
            id: None,
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

macro_rules! flag_setters {
    ($($(#[$doc:meta])* $name:ident => $variant:ident;)*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(mut self, on: bool) -> Self {
                self.attrs.push(InfoVxlan::$variant(on));
                self
            }
        )*
    };
}

impl Vxlan {
    flag_setters! {
        /// `external` / `noexternal`: flow-based (metadata) mode, one
        /// device for every VNI, as Cilium and OVS use it
        /// (IFLA_VXLAN_COLLECT_METADATA).
        external => CollectMetadata;
        /// `[no]proxy`: ARP/ND proxy.
        proxy => Proxy;
        /// `[no]rsc`: route short circuit.
        rsc => Rsc;
        /// `[no]l2miss`: notify user space of unknown destination MACs.
        l2miss => L2Miss;
        /// `[no]l3miss`: notify user space of unknown IP neighbours.
        l3miss => L3Miss;
        /// `[no]udpcsum`: UDP checksums over IPv4.
        udpcsum => UDPCsum;
        /// `[no]udp6zerocsumtx`: send zero UDP checksums over IPv6.
        udp6zerocsumtx => UDPZeroCsumTX;
        /// `[no]udp6zerocsumrx`: accept zero UDP checksums over IPv6.
        udp6zerocsumrx => UDPZeroCsumRX;
        /// `[no]remcsumtx`: remote checksum offload on transmit.
        remcsumtx => RemCsumTX;
        /// `[no]remcsumrx`: remote checksum offload on receive.
        remcsumrx => RemCsumRX;
        /// `[no]vnifilter`: with `external`, the VNIs the device takes come
        /// from its VNI filter (`bridge vni`; kernel 5.18+).
        vnifilter => Vnifilter;
        /// `[no]localbypass`: deliver to a local VNI without encapsulating
        /// (kernel 6.6+).
        localbypass => Localbypass;
    }

    /// `vxlan external`: a new flow-based (metadata) device, which has no
    /// VNI of its own (the VNI comes with each packet's tunnel metadata).
    pub fn new_external() -> Self {
        Self::change().external(true)
    }

    /// `ageing SECONDS`: lifetime of learnt FDB entries.
    #[inline]
    pub fn ageing(mut self, secs: u32) -> Self {
        self.attrs.push(InfoVxlan::Ageing(secs));
        self
    }

    /// `maxaddress N`: the most FDB entries (0: no limit).
    #[inline]
    pub fn maxaddress(mut self, n: u32) -> Self {
        self.attrs.push(InfoVxlan::Limit(n));
        self
    }

    /// `flowlabel LABEL`: IPv6 flow label of the outer header (20 bits).
    #[inline]
    pub fn flowlabel(mut self, label: u32) -> Self {
        self.attrs.push(InfoVxlan::Label(label));
        self
    }

    /// `ttl inherit`: the outer TTL from the inner packet.
    #[inline]
    pub fn ttl_inherit(mut self) -> Self {
        // NLA_FLAG in the kernel's policy: no payload.
        self.attrs.push(InfoVxlan::TtlInheritFlag);
        self
    }

    /// `df set` / `df unset`: the outer header's Don't Fragment bit (for
    /// `df inherit` see [`df_inherit`](Self::df_inherit)).
    #[inline]
    pub fn df(mut self, set: bool) -> Self {
        self.attrs.push(InfoVxlan::Df(if set {
            VxlanDf::Set
        } else {
            VxlanDf::Unset
        }));
        self
    }

    /// `df inherit`: DF copied from the inner IPv4 header.
    #[inline]
    pub fn df_inherit(mut self) -> Self {
        self.attrs.push(InfoVxlan::Df(VxlanDf::Inherit));
        self
    }

    /// `gpe`: Generic Protocol Extension (needs `external`).
    #[inline]
    pub fn gpe(mut self) -> Self {
        self.attrs.push(InfoVxlan::Gpe);
        self
    }
}

impl Vxlan {
    fn is_external(&self) -> bool {
        self.attrs
            .iter()
            .rev()
            .find_map(|a| match a {
                InfoVxlan::CollectMetadata(on) => Some(*on),
                _ => None,
            })
            .unwrap_or(false)
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
        let id = match self.id {
            Some(id) if id >= 1 << 24 => {
                return Err(Error::invalid(
                    "id",
                    format!("{id} does not fit in 24 bits"),
                ));
            }
            None if !ctx.is_change() && !self.is_external() => {
                return Err(Error::invalid("id", "a new vxlan needs a VNI (Vxlan::new)"));
            }
            id => id,
        };
        for a in &self.attrs {
            if let InfoVxlan::Label(l) = a
                && *l >= 1 << 20
            {
                return Err(Error::invalid(
                    "flowlabel",
                    format!("{l:#x} does not fit in 20 bits"),
                ));
            }
        }
        if self.remote.is_some() && self.group.is_some() {
            return Err(Error::invalid(
                "remote",
                "remote and group exclude each other",
            ));
        }
        let mut data: Vec<InfoVxlan> = id.map(InfoVxlan::Id).into_iter().collect();
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
