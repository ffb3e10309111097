//! `type bridge …`.

use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, LinkInfo, VlanProtocol as RawProtocol,
};

use super::VlanProtocol;
use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkKind};

/// A bridge, or the change of a live one (`ip link set DEV type bridge …`
/// through [`LinkSet::kind`](crate::route::link::LinkSet::kind): only what
/// is set is sent). Times are in centiseconds, as `ip` takes them
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

macro_rules! bool_setters {
    ($($(#[$doc:meta])* $name:ident => $variant:ident;)*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(mut self, on: bool) -> Self {
                self.attrs.push(InfoBridge::$variant(on));
                self
            }
        )*
    };
}

macro_rules! u32_setters {
    ($($(#[$doc:meta])* $name:ident => $variant:ident;)*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(mut self, v: u32) -> Self {
                self.attrs.push(InfoBridge::$variant(v));
                self
            }
        )*
    };
}

impl Bridge {
    bool_setters! {
        /// `mcast_querier 0|1`: act as IGMP/MLD querier.
        multicast_querier => MulticastQuerier;
        /// `mcast_query_use_ifaddr 0|1`.
        multicast_query_use_ifaddr => MulticastQueryUseIfaddr;
        /// `mcast_stats_enabled 0|1`.
        multicast_stats => MulticastStatsEnabled;
        /// `nf_call_iptables 0|1`: bridged IPv4 through iptables.
        nf_call_iptables => NfCallIpTables;
        /// `nf_call_ip6tables 0|1`.
        nf_call_ip6tables => NfCallIp6Tables;
        /// `nf_call_arptables 0|1`.
        nf_call_arptables => NfCallArpTables;
        /// `vlan_stats_enabled 0|1`: per-VLAN counters.
        vlan_stats => VlanStatsEnabled;
        /// `vlan_stats_per_port 0|1` (only while no port is attached).
        vlan_stats_per_port => VlanStatsPerPort;
    }

    u32_setters! {
        /// `hello_time` in centiseconds (STP: 100 to 1000).
        hello_time => HelloTime;
        /// `max_age` in centiseconds (STP: 600 to 4000).
        max_age => MaxAge;
        /// `mcast_hash_max N`: size of the MDB hash table.
        multicast_hash_max => MulticastHashMax;
        /// `mcast_last_member_count N`.
        multicast_last_member_count => MulticastLastMemberCount;
        /// `mcast_startup_query_count N`.
        multicast_startup_query_count => MulticastStartupQueryCount;
        /// `fdb_max_learned N`: the most learnt FDB entries (0: no limit;
        /// kernel 6.8+).
        fdb_max_learned => FdbMaxLearned;
    }

    /// `group_fwd_mask MASK`: link-local groups (01:80:C2:00:00:0X) to
    /// forward; bits 0, 1 and 2 (STP, MAC pause, LACP) cannot be set.
    #[inline]
    pub fn group_fwd_mask(mut self, mask: u16) -> Self {
        self.attrs.push(InfoBridge::GroupFwdMask(mask));
        self
    }

    /// `mcast_igmp_version 2|3`.
    #[inline]
    pub fn multicast_igmp_version(mut self, v: u8) -> Self {
        self.attrs.push(InfoBridge::MulticastIgmpVersion(v));
        self
    }

    /// `mcast_mld_version 1|2`.
    #[inline]
    pub fn multicast_mld_version(mut self, v: u8) -> Self {
        self.attrs.push(InfoBridge::MulticastMldVersion(v));
        self
    }

    /// `mcast_query_interval` in centiseconds.
    #[inline]
    pub fn multicast_query_interval(mut self, cs: u64) -> Self {
        self.attrs.push(InfoBridge::MulticastQueryInterval(cs));
        self
    }

    /// `mcast_membership_interval` in centiseconds.
    #[inline]
    pub fn multicast_membership_interval(mut self, cs: u64) -> Self {
        self.attrs.push(InfoBridge::MulticastMembershipInterval(cs));
        self
    }

    /// `vlan_protocol 802.1Q|802.1ad`: the protocol of VLAN filtering.
    #[inline]
    pub fn vlan_protocol(mut self, p: VlanProtocol) -> Self {
        self.attrs.push(InfoBridge::VlanProtocol(match p {
            VlanProtocol::Ieee8021Q => RawProtocol::Ieee8021Q,
            VlanProtocol::Ieee8021Ad => RawProtocol::Ieee8021Ad,
        }));
        self
    }

    /// `fdb_flush`: removes the learnt FDB entries (a change only).
    #[inline]
    pub fn fdb_flush(mut self) -> Self {
        self.attrs.push(InfoBridge::FdbFlush);
        self
    }
}

impl LinkKind for Bridge {
    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        for a in &self.attrs {
            match a {
                // The kernel's EINVAL, explained: these groups are never
                // forwarded.
                InfoBridge::GroupFwdMask(m) if m & 0x7 != 0 => {
                    return Err(Error::invalid(
                        "group_fwd_mask",
                        format!("{m:#x} sets bits 0-2 (STP, pause, LACP), which stay local"),
                    ));
                }
                InfoBridge::FdbFlush if !ctx.is_change() => {
                    return Err(Error::invalid(
                        "fdb_flush",
                        "only a live bridge has an FDB to flush",
                    ));
                }
                _ => {}
            }
        }
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
