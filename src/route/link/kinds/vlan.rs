//! `type vlan link DEV id N [protocol 802.1Q|802.1ad] …`.

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVlan, LinkInfo, VlanFlags, VlanProtocol as RawProtocol,
};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// The VLAN tag protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VlanProtocol {
    /// 802.1Q (0x8100), the default.
    Ieee8021Q,
    /// 802.1ad (0x88a8), QinQ service tag.
    Ieee8021Ad,
}

/// An 802.1Q/802.1ad VLAN on a lower device.
#[derive(Debug, Clone)]
pub struct Vlan {
    link: LinkId,
    id: u16,
    protocol: Option<VlanProtocol>,
    flags: Vec<(VlanFlags, bool)>,
}

impl Vlan {
    /// `vlan link DEV id ID`.
    pub fn new(link: impl Into<LinkId>, id: u16) -> Self {
        Vlan {
            link: link.into(),
            id,
            protocol: None,
            flags: Vec::new(),
        }
    }

    /// `protocol 802.1Q|802.1ad`.
    #[inline]
    pub fn protocol(mut self, p: VlanProtocol) -> Self {
        self.protocol = Some(p);
        self
    }

    /// `reorder_hdr on|off`.
    #[inline]
    pub fn reorder_hdr(mut self, on: bool) -> Self {
        self.flags.push((VlanFlags::ReorderHdr, on));
        self
    }

    /// `gvrp on|off`.
    #[inline]
    pub fn gvrp(mut self, on: bool) -> Self {
        self.flags.push((VlanFlags::Gvrp, on));
        self
    }

    /// `loose_binding on|off`.
    #[inline]
    pub fn loose_binding(mut self, on: bool) -> Self {
        self.flags.push((VlanFlags::LooseBinding, on));
        self
    }

    /// `mvrp on|off`.
    #[inline]
    pub fn mvrp(mut self, on: bool) -> Self {
        self.flags.push((VlanFlags::Mvrp, on));
        self
    }
}

impl LinkKind for Vlan {
    fn refs(&self) -> Vec<LinkId> {
        vec![self.link.clone()]
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        if self.id == 0 || self.id > 4094 {
            return Err(Error::invalid(
                "id",
                format!("{} is not in 1..=4094", self.id),
            ));
        }
        let mut data = vec![InfoVlan::Id(self.id)];
        if let Some(p) = self.protocol {
            data.push(InfoVlan::Protocol(match p {
                VlanProtocol::Ieee8021Q => RawProtocol::Ieee8021Q,
                VlanProtocol::Ieee8021Ad => RawProtocol::Ieee8021Ad,
            }));
        }
        if !self.flags.is_empty() {
            let mut on = VlanFlags::empty();
            let mut mask = VlanFlags::empty();
            for (f, set) in &self.flags {
                mask |= *f;
                if *set {
                    on |= *f;
                }
            }
            data.push(InfoVlan::Flags((on, mask)));
        }
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Vlan),
                LinkInfo::Data(InfoData::Vlan(data)),
            ],
            link: Some(ctx.index(&self.link)?),
            ..KindParts::default()
        })
    }
}
