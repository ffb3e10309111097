//! Bridge-port settings: `bridge link set dev D …` and their read-back.
//!
//! Settings go as IFLA_PROTINFO in an AF_BRIDGE RTM_SETLINK, as `bridge
//! link set` and vishvananda/netlink send them: unlike IFLA_INFO_SLAVE_DATA
//! (`ip link set D type bridge_slave`), the kernel notifies that path even
//! for a port that is down, so a watcher sees every change.

use netlink_packet_core::DefaultNla;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{LinkAttribute, LinkMessage, LinkProtoInfoBridge};

use crate::conn::attrs;

// IFLA_BRPORT_* (linux/if_link.h); the same numbers in IFLA_PROTINFO and in
// a bridge port's IFLA_INFO_SLAVE_DATA.
const STATE: u16 = 1;
const PRIORITY: u16 = 2;
const COST: u16 = 3;
const MODE: u16 = 4;
const GUARD: u16 = 5;
const PROTECT: u16 = 6;
const FAST_LEAVE: u16 = 7;
const LEARNING: u16 = 8;
const UNICAST_FLOOD: u16 = 9;
const PROXYARP: u16 = 10;
const PROXYARP_WIFI: u16 = 12;
const MCAST_FLOOD: u16 = 27;
const MCAST_TO_UCAST: u16 = 28;
const VLAN_TUNNEL: u16 = 29;
const BCAST_FLOOD: u16 = 30;
const GROUP_FWD_MASK: u16 = 31;
const NEIGH_SUPPRESS: u16 = 32;
const ISOLATED: u16 = 33;
const LOCKED: u16 = 39;
const MAB: u16 = 40;

/// Bridge-port settings (`bridge link set dev D …`), for
/// [`LinkSet::bridge_port`](super::LinkSet::bridge_port). Only what is set
/// is sent; the rest stays as it is.
#[derive(Debug, Clone, Default)]
pub struct BridgePort {
    attrs: Vec<(u16, Vec<u8>)>,
}

macro_rules! flag_setters {
    ($($(#[$doc:meta])* $name:ident = $ty:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name(self, on: bool) -> Self {
            self.push($ty, vec![u8::from(on)])
        }
    )*};
}

impl BridgePort {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, ty: u16, v: Vec<u8>) -> Self {
        // A repeated setter wins, as the last word on `bridge link set`.
        self.attrs.retain(|(t, _)| *t != ty);
        self.attrs.push((ty, v));
        self
    }

    flag_setters! {
        /// `learning on|off`: learn source addresses.
        learning = LEARNING;
        /// `flood on|off`: flood unknown unicast.
        flood = UNICAST_FLOOD;
        /// `hairpin on|off`: send frames back out of the port they came in.
        hairpin = MODE;
        /// `guard on|off`: BPDU guard.
        guard = GUARD;
        /// `root_block on|off`: never become the root port.
        root_block = PROTECT;
        /// `fastleave on|off`: multicast fast leave.
        fast_leave = FAST_LEAVE;
        /// `proxy_arp on|off`.
        proxy_arp = PROXYARP;
        /// `proxy_arp_wifi on|off`.
        proxy_arp_wifi = PROXYARP_WIFI;
        /// `mcast_flood on|off`: flood unknown multicast.
        mcast_flood = MCAST_FLOOD;
        /// `bcast_flood on|off`: flood broadcast.
        bcast_flood = BCAST_FLOOD;
        /// `mcast_to_unicast on|off`.
        mcast_to_unicast = MCAST_TO_UCAST;
        /// `vlan_tunnel on|off`.
        vlan_tunnel = VLAN_TUNNEL;
        /// `neigh_suppress on|off`: answer ARP/ND from the bridge's tables.
        neigh_suppress = NEIGH_SUPPRESS;
        /// `isolated on|off`: no traffic to other isolated ports.
        isolated = ISOLATED;
        /// `locked on|off`: 802.1X port, learning only from user space.
        locked = LOCKED;
        /// `mab on|off`: MAC authentication bypass (needs `locked`).
        mab = MAB;
    }

    /// `cost N`: STP path cost.
    #[inline]
    pub fn cost(self, cost: u32) -> Self {
        self.push(COST, cost.to_ne_bytes().to_vec())
    }

    /// `priority N`: STP port priority.
    #[inline]
    pub fn priority(self, prio: u16) -> Self {
        self.push(PRIORITY, prio.to_ne_bytes().to_vec())
    }

    /// `group_fwd_mask MASK`: link-local groups (01:80:c2:00:00:0X) to
    /// forward.
    #[inline]
    pub fn group_fwd_mask(self, mask: u16) -> Self {
        self.push(GROUP_FWD_MASK, mask.to_ne_bytes().to_vec())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// The AF_BRIDGE RTM_SETLINK body for the port `index`.
    pub(crate) fn message(&self, index: u32) -> LinkMessage {
        let mut m = LinkMessage::default();
        m.header.interface_family = AddressFamily::Bridge;
        m.header.index = index;
        let nlas = self
            .attrs
            .iter()
            .map(|(t, v)| LinkProtoInfoBridge::Other(DefaultNla::new(*t, v.clone())))
            .collect();
        m.attributes.push(LinkAttribute::ProtoInfoBridge(nlas));
        m
    }
}

/// A bridge port's settings as the kernel reports them, read from an
/// AF_BRIDGE link message's IFLA_PROTINFO or from a link's
/// IFLA_INFO_SLAVE_DATA (see [`Link::bridge_port`](super::Link::bridge_port)).
/// Each accessor is `None` when the kernel did not say.
#[derive(Debug, Clone, Copy)]
pub struct BridgePortInfo<'a> {
    nest: &'a [u8],
}

macro_rules! flag_getters {
    ($($(#[$doc:meta])* $name:ident = $ty:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name(&self) -> Option<bool> {
            self.u8($ty).map(|v| v != 0)
        }
    )*};
}

impl<'a> BridgePortInfo<'a> {
    pub(crate) fn new(nest: &'a [u8]) -> Self {
        BridgePortInfo { nest }
    }

    fn get(&self, ty: u16) -> Option<&'a [u8]> {
        attrs::nested_get(self.nest, ty)
    }

    fn u8(&self, ty: u16) -> Option<u8> {
        self.get(ty).and_then(attrs::u8_of)
    }

    fn u16(&self, ty: u16) -> Option<u16> {
        let v = self.get(ty)?;
        Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?))
    }

    flag_getters! {
        /// `learning`.
        learning = LEARNING;
        /// `flood` (unknown unicast).
        flood = UNICAST_FLOOD;
        /// `hairpin`.
        hairpin = MODE;
        /// `guard` (BPDU guard).
        guard = GUARD;
        /// `root_block`.
        root_block = PROTECT;
        /// `fastleave`.
        fast_leave = FAST_LEAVE;
        /// `proxy_arp`.
        proxy_arp = PROXYARP;
        /// `proxy_arp_wifi`.
        proxy_arp_wifi = PROXYARP_WIFI;
        /// `mcast_flood`.
        mcast_flood = MCAST_FLOOD;
        /// `bcast_flood`.
        bcast_flood = BCAST_FLOOD;
        /// `mcast_to_unicast`.
        mcast_to_unicast = MCAST_TO_UCAST;
        /// `vlan_tunnel`.
        vlan_tunnel = VLAN_TUNNEL;
        /// `neigh_suppress`.
        neigh_suppress = NEIGH_SUPPRESS;
        /// `isolated`.
        isolated = ISOLATED;
        /// `locked`.
        locked = LOCKED;
        /// `mab`.
        mab = MAB;
    }

    /// STP port state: 0 disabled, 1 listening, 2 learning, 3 forwarding,
    /// 4 blocking (BR_STATE_*); see [`BridgePortInfo::state_name`].
    #[inline]
    pub fn state(&self) -> Option<u8> {
        self.u8(STATE)
    }

    /// The state as `bridge link` prints it (`forwarding`, …).
    pub fn state_name(&self) -> Option<&'static str> {
        Some(match self.state()? {
            0 => "disabled",
            1 => "listening",
            2 => "learning",
            3 => "forwarding",
            4 => "blocking",
            _ => return None,
        })
    }

    /// STP path cost.
    #[inline]
    pub fn cost(&self) -> Option<u32> {
        self.get(COST).and_then(attrs::u32_of)
    }

    /// STP port priority.
    #[inline]
    pub fn priority(&self) -> Option<u16> {
        self.u16(PRIORITY)
    }

    /// `group_fwd_mask`.
    #[inline]
    pub fn group_fwd_mask(&self) -> Option<u16> {
        self.u16(GROUP_FWD_MASK)
    }

    /// Every IFLA_BRPORT_* attribute, raw, for what has no accessor.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &'a [u8])> {
        attrs::nested(self.nest)
    }
}
