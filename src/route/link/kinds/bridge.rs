//! `type bridge …`.

use netlink_packet_route::link::{BridgeStpState, InfoBridge, InfoData, InfoKind, LinkInfo};

use crate::error::Result;
use crate::route::link::{KindCtx, KindParts, LinkKind};

/// A bridge. Times are in centiseconds, as `ip` takes them
/// (`forward_delay 1500` = 15 s).
#[derive(Debug, Clone, Default)]
pub struct Bridge {
    attrs: Vec<InfoBridge>,
}

impl Bridge {
    /// A bridge with the kernel's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// `stp_state 0|1`.
    #[inline]
    pub fn stp(mut self, on: bool) -> Self {
        let s = if on {
            BridgeStpState::KernelStp
        } else {
            BridgeStpState::Disabled
        };
        self.attrs.push(InfoBridge::StpState(s));
        self
    }

    /// `forward_delay` in centiseconds.
    #[inline]
    pub fn forward_delay(mut self, cs: u32) -> Self {
        self.attrs.push(InfoBridge::ForwardDelay(cs));
        self
    }

    /// `ageing_time` in centiseconds.
    #[inline]
    pub fn ageing_time(mut self, cs: u32) -> Self {
        self.attrs.push(InfoBridge::AgeingTime(cs));
        self
    }

    /// `vlan_filtering 0|1`.
    #[inline]
    pub fn vlan_filtering(mut self, on: bool) -> Self {
        self.attrs.push(InfoBridge::VlanFiltering(on));
        self
    }

    /// `vlan_default_pvid N`.
    #[inline]
    pub fn default_pvid(mut self, pvid: u16) -> Self {
        self.attrs.push(InfoBridge::VlanDefaultPvid(pvid));
        self
    }

    /// `mcast_snooping 0|1`.
    #[inline]
    pub fn multicast_snooping(mut self, on: bool) -> Self {
        self.attrs.push(InfoBridge::MulticastSnooping(on));
        self
    }

    /// `priority N` (bridge priority for STP).
    #[inline]
    pub fn priority(mut self, prio: u16) -> Self {
        self.attrs.push(InfoBridge::Priority(prio));
        self
    }
}

impl LinkKind for Bridge {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        let mut info = vec![LinkInfo::Kind(InfoKind::Bridge)];
        if !self.attrs.is_empty() {
            info.push(LinkInfo::Data(InfoData::Bridge(self.attrs.clone())));
        }
        Ok(KindParts {
            info,
            ..KindParts::default()
        })
    }
}
