//! `Route`: a typed, lazily decoded view of one RTM_NEWROUTE message.

use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netlink_packet_core::{NlaBuffer, ParseableParametrized};
use netlink_packet_route::route::{
    RouteAttribute, RouteHeader, RouteLwEnCapType, RouteLwTunnelEncap, RouteMessage, RouteMetric,
    RoutePreference, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::conn::RawMessage;
use crate::conn::requester::decode;
use crate::error::{Error, RequestKind, Result};
use crate::route::Route as Rtnl;
use crate::route::attrs::{self, Indexed};
use crate::types::Family;

const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTA_DST: u16 = 1;
pub(crate) const RTA_SRC: u16 = 2;
pub(crate) const RTA_IIF: u16 = 3;
pub(crate) const RTA_OIF: u16 = 4;
pub(crate) const RTA_GATEWAY: u16 = 5;
pub(crate) const RTA_PRIORITY: u16 = 6;
pub(crate) const RTA_PREFSRC: u16 = 7;
pub(crate) const RTA_METRICS: u16 = 8;
pub(crate) const RTA_MULTIPATH: u16 = 9;
const RTA_FLOW: u16 = 11;
pub(crate) const RTA_CACHEINFO: u16 = 12;
pub(crate) const RTA_TABLE: u16 = 15;
pub(crate) const RTA_MARK: u16 = 16;
pub(crate) const RTA_VIA: u16 = 18;
pub(crate) const RTA_PREF: u16 = 20;
pub(crate) const RTA_ENCAP_TYPE: u16 = 21;
pub(crate) const RTA_ENCAP: u16 = 22;
pub(crate) const RTA_UID: u16 = 25;
pub(crate) const RTA_NH_ID: u16 = 30;

pub(crate) const REQ: RequestKind = RequestKind {
    message_type: 26,
    name: Some("RTM_GETROUTE"),
};

/// RTNH_F_ONLINK.
pub const RTNH_F_ONLINK: u32 = 4;

/// One next hop of a route: the route's own, or one of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    /// Gateway (RTA_GATEWAY, or RTA_VIA for IPv4 via IPv6).
    pub gateway: Option<IpAddr>,
    /// Output device index.
    pub oif: Option<u32>,
    /// Weight, 1 to 256 (multipath only; 1 otherwise).
    pub weight: u16,
    /// RTNH_F_* flags (onlink, dead, linkdown…).
    pub flags: u32,
}

/// A route as the kernel reported it.
///
/// Accessors read the message bytes directly; [`Route::message`] decodes it
/// whole with netlink-packet-route.
#[derive(Clone)]
pub struct Route {
    m: Indexed<32>,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("destination", &self.destination())
            .field("gateway", &self.gateway())
            .field("oif", &self.oif())
            .field("table", &self.table())
            .field("kind", &self.kind())
            .finish()
    }
}

fn via_of(v: &[u8]) -> Option<IpAddr> {
    // struct rtvia: a 16-bit family, then the address.
    attrs::ip_of(v.get(2..)?)
}

impl Route {
    /// Wraps an RTM_NEWROUTE message.
    #[inline]
    pub fn from_raw(raw: RawMessage) -> Result<Route> {
        Indexed::new(raw, RTM_NEWROUTE, 12, REQ).map(|m| Route { m })
    }

    #[inline]
    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    #[inline]
    fn u32_attr(&self, ty: u16) -> Option<u32> {
        self.m.u32_attr(ty)
    }

    #[inline]
    fn h(&self, i: usize) -> u8 {
        self.m.fixed(i)
    }

    /// The address family (AF_INET, AF_INET6, AF_MPLS…).
    #[inline]
    pub fn family_raw(&self) -> u8 {
        self.h(0)
    }

    /// IPv4 or IPv6 (`None` for other families).
    #[inline]
    pub fn family(&self) -> Option<Family> {
        match i32::from(self.h(0)) {
            libc::AF_INET => Some(Family::V4),
            libc::AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    #[inline]
    fn prefix(&self, ty: u16, len: u8) -> Option<IpNetwork> {
        let ip = match self.attr(ty).and_then(attrs::ip_of) {
            Some(ip) => ip,
            None => match self.family()? {
                Family::V4 => IpAddr::from([0u8; 4]),
                Family::V6 => IpAddr::from([0u8; 16]),
            },
        };
        IpNetwork::new(ip, len).ok()
    }

    /// Destination prefix (`0.0.0.0/0` / `::/0` for a default route).
    #[inline]
    pub fn destination(&self) -> Option<IpNetwork> {
        self.prefix(RTA_DST, self.h(1))
    }

    /// Destination prefix length.
    #[inline]
    pub fn dst_len(&self) -> u8 {
        self.h(1)
    }

    /// Source prefix (`from`), when the route has one.
    #[inline]
    pub fn source(&self) -> Option<IpNetwork> {
        if self.h(2) == 0 && self.attr(RTA_SRC).is_none() {
            return None;
        }
        self.prefix(RTA_SRC, self.h(2))
    }

    /// TOS.
    #[inline]
    pub fn tos(&self) -> u8 {
        self.h(3)
    }

    /// Table id (RTA_TABLE, which holds ids above 255).
    #[inline]
    pub fn table(&self) -> u32 {
        self.u32_attr(RTA_TABLE).unwrap_or(u32::from(self.h(4)))
    }

    /// True when the route is in table `id`; reads the header's table byte
    /// when it is conclusive (ids below 256 except 252, which also stands
    /// for every id above 255), the attribute otherwise.
    #[inline]
    pub(crate) fn in_table(&self, id: u32) -> bool {
        let byte = u32::from(self.h(4));
        if id < 256 && id != 252 && byte != 252 {
            return byte == id;
        }
        self.table() == id
    }

    /// Who installed the route.
    #[inline]
    pub fn protocol(&self) -> RouteProtocol {
        RouteProtocol::from(self.h(5))
    }

    /// Scope.
    #[inline]
    pub fn scope(&self) -> RouteScope {
        RouteScope::from(self.h(6))
    }

    /// Type: unicast, local, blackhole, unreachable…
    #[inline]
    pub fn kind(&self) -> RouteType {
        RouteType::from(self.h(7))
    }

    /// RTM_F_* flags of the header, and RTNH_F_* of the single next hop.
    #[inline]
    pub fn flags(&self) -> u32 {
        self.m.fixed_u32(8)
    }

    /// The gateway of a single-path route (RTA_GATEWAY or RTA_VIA).
    #[inline]
    pub fn gateway(&self) -> Option<IpAddr> {
        self.attr(RTA_GATEWAY)
            .and_then(attrs::ip_of)
            .or_else(|| self.attr(RTA_VIA).and_then(via_of))
    }

    /// True when the gateway is given with RTA_VIA (IPv4 via IPv6).
    #[inline]
    pub fn has_via(&self) -> bool {
        self.attr(RTA_VIA).is_some()
    }

    /// Output device index.
    #[inline]
    pub fn oif(&self) -> Option<u32> {
        self.u32_attr(RTA_OIF)
    }

    /// Input device index (`ip route get … iif`).
    #[inline]
    pub fn iif(&self) -> Option<u32> {
        self.u32_attr(RTA_IIF)
    }

    /// Routing realms `(from, to)` (`realms FROM/TO`, RTA_FLOW), IPv4.
    #[inline]
    pub fn realms(&self) -> Option<(u16, u16)> {
        self.u32_attr(RTA_FLOW)
            .map(|f| ((f >> 16) as u16, (f & 0xffff) as u16))
    }

    /// Metric (RTA_PRIORITY).
    #[inline]
    pub fn metric(&self) -> Option<u32> {
        self.u32_attr(RTA_PRIORITY)
    }

    /// Preferred source address.
    #[inline]
    pub fn prefsrc(&self) -> Option<IpAddr> {
        self.attr(RTA_PREFSRC).and_then(attrs::ip_of)
    }

    /// Firewall mark (`ip route get … mark`).
    #[inline]
    pub fn mark(&self) -> Option<u32> {
        self.u32_attr(RTA_MARK)
    }

    /// UID (`ip route get … uid`).
    #[inline]
    pub fn uid(&self) -> Option<u32> {
        self.u32_attr(RTA_UID)
    }

    /// IPv6 router preference.
    pub fn pref(&self) -> Option<RoutePreference> {
        self.attr(RTA_PREF)
            .and_then(attrs::u8_of)
            .map(RoutePreference::from)
    }

    /// Seconds until the route expires (from RTA_CACHEINFO), if it does.
    #[inline]
    pub fn expires(&self) -> Option<u32> {
        let ci = self.attr(RTA_CACHEINFO)?;
        let ticks = attrs::i32_of(ci.get(8..)?)?;
        // The kernel reports clock_t in USER_HZ (100 on Linux).
        (ticks > 0).then_some(ticks as u32 / 100)
    }

    /// Lightweight-tunnel encapsulation type (RTA_ENCAP_TYPE: 1 MPLS, 5 SEG6…).
    #[inline]
    pub fn encap_type(&self) -> Option<u16> {
        self.attr(RTA_ENCAP_TYPE)
            .and_then(|v| Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?)))
    }

    /// The nexthop object the route uses (`nhid`, RTA_NH_ID), if it uses
    /// one; its gateways are still reported as next hops.
    #[inline]
    pub fn nhid(&self) -> Option<u32> {
        self.u32_attr(RTA_NH_ID)
    }

    /// Every top-level attribute as `(type, value)`, in message order.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }

    /// True when the next hops come in RTA_MULTIPATH (`ip` prints them as
    /// `nexthops`), even if there is only one.
    #[inline]
    pub fn is_multipath(&self) -> bool {
        self.attr(RTA_MULTIPATH).is_some()
    }

    /// The next hops: one for a single-path route, several for ECMP.
    pub fn nexthops(&self) -> Vec<Nexthop> {
        let Some(mp) = self.attr(RTA_MULTIPATH) else {
            if self.gateway().is_none() && self.oif().is_none() {
                return Vec::new();
            }
            return vec![Nexthop {
                gateway: self.gateway(),
                oif: self.oif(),
                weight: 1,
                flags: self.flags() & 0xff,
            }];
        };
        let mut out = Vec::new();
        let mut rest = mp;
        // struct rtnexthop: len u16, flags u8, hops u8, ifindex i32, attrs.
        while rest.len() >= 8 {
            let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
            if len < 8 || len > rest.len() {
                break;
            }
            let nh_attrs = &rest[8..len];
            let gateway = attrs::nested_get(nh_attrs, RTA_GATEWAY)
                .and_then(attrs::ip_of)
                .or_else(|| attrs::nested_get(nh_attrs, RTA_VIA).and_then(via_of));
            out.push(Nexthop {
                gateway,
                oif: Some(u32::from_ne_bytes(rest[4..8].try_into().expect("4 bytes")))
                    .filter(|&i| i != 0),
                weight: u16::from(rest[3]) + 1,
                flags: u32::from(rest[2]),
            });
            rest = rest.get(crate::conn::frame::align(len)..).unwrap_or(&[]);
        }
        out
    }

    fn decode_attr(&self, ty: u16) -> Option<RouteAttribute> {
        let whole = self.m.attr_whole(ty)?;
        let family = AddressFamily::from(self.h(0));
        let encap = RouteLwEnCapType::from(self.encap_type().unwrap_or(0));
        let buf = NlaBuffer::new_checked(whole).ok()?;
        RouteAttribute::parse_with_param(&buf, (family, self.kind(), encap)).ok()
    }

    /// Route metrics (mtu, advmss, window, initcwnd, congctl…), decoded.
    pub fn metrics(&self) -> Vec<RouteMetric> {
        match self.decode_attr(RTA_METRICS) {
            Some(RouteAttribute::Metrics(m)) => m,
            _ => Vec::new(),
        }
    }

    /// The encapsulation (MPLS labels, SEG6 header…), decoded.
    pub fn encap(&self) -> Vec<RouteLwTunnelEncap> {
        match self.decode_attr(RTA_ENCAP) {
            Some(RouteAttribute::Encap(e)) => e,
            _ => Vec::new(),
        }
    }

    /// The fixed header, decoded.
    pub fn header(&self) -> Result<RouteHeader> {
        Ok(self.message()?.header)
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<RouteMessage> {
        match decode::<Rtnl>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewRoute(m) | RouteNetlinkMessage::DelRoute(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected a route, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    #[inline]
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}
