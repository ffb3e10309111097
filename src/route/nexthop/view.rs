//! `NexthopObject`: a lazily decoded view of one RTM_NEWNEXTHOP message.

use std::fmt;
use std::net::IpAddr;

use netlink_packet_core::{NlaBuffer, ParseableParametrized};
use netlink_packet_route::route::{
    RouteLwEnCapType, RouteLwTunnelEncap, RouteProtocol, RouteScope,
};

use super::add::GroupMember;
use super::{REQ, RTM_NEWNEXTHOP, nha};
use crate::conn::RawMessage;
use crate::conn::attrs::{self, Indexed};
use crate::error::Result;
use crate::types::Family;

/// `sizeof(struct nhmsg)`.
const NHMSG_LEN: usize = 8;
/// clock_t ticks per second as the kernel reports them (USER_HZ).
pub(crate) const USER_HZ: u64 = 100;

/// `NHA_RES_GROUP_*`.
const RES_BUCKETS: u16 = 1;
const RES_IDLE_TIMER: u16 = 2;
const RES_UNBALANCED_TIMER: u16 = 3;
const RES_UNBALANCED_TIME: u16 = 4;

/// The type of a nexthop group (`type mpath|resilient`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupType {
    /// `mpath`: hash-threshold multipath (the default).
    Mpath,
    /// `resilient`: a fixed table of buckets.
    Resilient,
    /// A type this crate does not know, by number.
    Other(u16),
}

impl GroupType {
    pub(crate) fn raw(self) -> u16 {
        match self {
            GroupType::Mpath => 0,
            GroupType::Resilient => 1,
            GroupType::Other(n) => n,
        }
    }

    fn of(n: u16) -> GroupType {
        match n {
            0 => GroupType::Mpath,
            1 => GroupType::Resilient,
            n => GroupType::Other(n),
        }
    }
}

/// A resilient group's arguments as the kernel reports them
/// (`resilient_args` in `ip -j nexthop`); timers in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResilientInfo {
    /// `buckets`.
    pub buckets: u16,
    /// `idle_timer`.
    pub idle_timer: u32,
    /// `unbalanced_timer`.
    pub unbalanced_timer: u32,
    /// `unbalanced_time`: how long the group has been unbalanced.
    pub unbalanced_time: u64,
}

/// A nexthop object as the kernel reported it: a single next hop (gateway
/// and device, blackhole, FDB) or a group of other nexthops. Not to be
/// confused with [`route::Nexthop`](crate::route::route::Nexthop), a next
/// hop inside one route.
#[derive(Clone)]
pub struct NexthopObject {
    m: Indexed<13>,
}

impl fmt::Debug for NexthopObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("NexthopObject");
        d.field("id", &self.id());
        if self.is_group() {
            d.field("group", &self.group());
        } else {
            d.field("gateway", &self.gateway())
                .field("oif", &self.oif())
                .field("blackhole", &self.blackhole());
        }
        d.finish()
    }
}

impl NexthopObject {
    /// Wraps an RTM_NEWNEXTHOP or RTM_DELNEXTHOP message.
    pub fn from_raw(raw: RawMessage) -> Result<NexthopObject> {
        Indexed::new(raw, RTM_NEWNEXTHOP, NHMSG_LEN, REQ).map(|m| NexthopObject { m })
    }

    fn flag(&self, ty: u16) -> bool {
        self.m.attr(ty).is_some()
    }

    /// `id`.
    pub fn id(&self) -> u32 {
        self.m.u32_attr(nha::ID).unwrap_or(0)
    }

    /// The family byte (AF_INET, AF_INET6; 0 for groups).
    pub fn family_raw(&self) -> u8 {
        self.m.fixed(0)
    }

    /// IPv4 or IPv6 (`None` for groups, which have no family).
    pub fn family(&self) -> Option<Family> {
        match i32::from(self.family_raw()) {
            libc::AF_INET => Some(Family::V4),
            libc::AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    /// `scope`.
    pub fn scope(&self) -> RouteScope {
        RouteScope::from(self.m.fixed(1))
    }

    /// `proto`: who installed the nexthop.
    pub fn protocol(&self) -> RouteProtocol {
        RouteProtocol::from(self.m.fixed(2))
    }

    /// RTNH_F_* flags (onlink, dead, linkdown…).
    pub fn flags(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// `onlink`.
    pub fn onlink(&self) -> bool {
        self.flags() & crate::route::route::RTNH_F_ONLINK != 0
    }

    /// `via ADDR`.
    pub fn gateway(&self) -> Option<IpAddr> {
        self.m.attr(nha::GATEWAY).and_then(attrs::ip_of)
    }

    /// The device's index (`dev`).
    pub fn oif(&self) -> Option<u32> {
        self.m.u32_attr(nha::OIF)
    }

    /// `blackhole`.
    pub fn blackhole(&self) -> bool {
        self.flag(nha::BLACKHOLE)
    }

    /// `fdb`: the nexthop belongs to bridge FDB entries.
    pub fn fdb(&self) -> bool {
        self.flag(nha::FDB)
    }

    /// Lightweight-tunnel encapsulation type (NHA_ENCAP_TYPE).
    pub fn encap_type(&self) -> Option<u16> {
        self.m
            .attr(nha::ENCAP_TYPE)
            .and_then(|v| Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?)))
    }

    /// The encapsulation (MPLS labels, SEG6 header…), decoded; empty
    /// without one (or when it does not decode).
    pub fn encap(&self) -> Vec<RouteLwTunnelEncap> {
        let Some(v) = self.m.attr(nha::ENCAP) else {
            return Vec::new();
        };
        let kind = RouteLwEnCapType::from(self.encap_type().unwrap_or(0));
        attrs::Attrs::new(v, 0)
            .filter_map(|(off, _, value)| {
                let whole = v.get(off..off + 4 + value.len())?;
                let buf = NlaBuffer::new_checked(whole).ok()?;
                RouteLwTunnelEncap::parse_with_param(&buf, kind).ok()
            })
            .collect()
    }

    /// True for a group.
    pub fn is_group(&self) -> bool {
        self.flag(nha::GROUP)
    }

    /// The members of a group with their weights (empty for a single
    /// nexthop).
    pub fn group(&self) -> Vec<GroupMember> {
        let Some(v) = self.m.attr(nha::GROUP) else {
            return Vec::new();
        };
        // struct nexthop_grp: id u32, weight-1 u8, resvd1 u8 (the weight's
        // high byte on kernels with 16-bit weights), resvd2 u16.
        v.chunks_exact(8)
            .map(|e| GroupMember {
                id: u32::from_ne_bytes([e[0], e[1], e[2], e[3]]),
                weight: u32::from(u16::from_le_bytes([e[4], e[5]])) + 1,
            })
            .collect()
    }

    /// The group's type (`None` for a single nexthop).
    pub fn group_type(&self) -> Option<GroupType> {
        if !self.is_group() {
            return None;
        }
        let t = self
            .m
            .attr(nha::GROUP_TYPE)
            .and_then(|v| Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?)));
        Some(GroupType::of(t.unwrap_or(0)))
    }

    /// A resilient group's buckets and timers.
    pub fn resilient(&self) -> Option<ResilientInfo> {
        let v = self.m.attr(nha::RES_GROUP)?;
        let secs = |ty| {
            attrs::nested_get(v, ty)
                .and_then(attrs::u32_of)
                .map_or(0, |t| (u64::from(t) / USER_HZ) as u32)
        };
        Some(ResilientInfo {
            buckets: attrs::nested_get(v, RES_BUCKETS)
                .and_then(|b| Some(u16::from_ne_bytes(b.get(..2)?.try_into().ok()?)))
                .unwrap_or(0),
            idle_timer: secs(RES_IDLE_TIMER),
            unbalanced_timer: secs(RES_UNBALANCED_TIMER),
            unbalanced_time: attrs::nested_get(v, RES_UNBALANCED_TIME)
                .and_then(|b| Some(u64::from_ne_bytes(b.get(..8)?.try_into().ok()?)))
                .map_or(0, |t| t / USER_HZ),
        })
    }

    /// Every top-level attribute as `(type, value)`, in message order.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}
