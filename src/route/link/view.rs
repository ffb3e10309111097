//! `Link`: a typed, lazily decoded view of one RTM_NEWLINK message.

use std::fmt;
use std::str::FromStr;

use netlink_packet_core::{NlaBuffer, ParseableParametrized};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{
    InfoData, InfoPortData, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, Stats64,
};

use crate::conn::RawMessage;
use crate::conn::requester::decode;
use crate::error::{Error, RequestKind, Result};
use crate::route::Route;
use crate::route::attrs::{self, Indexed};

const RTM_NEWLINK: u16 = 16;

// IFLA_* attribute types (linux/if_link.h).
pub(crate) const IFLA_ADDRESS: u16 = 1;
pub(crate) const IFLA_BROADCAST: u16 = 2;
pub(crate) const IFLA_IFNAME: u16 = 3;
pub(crate) const IFLA_MTU: u16 = 4;
pub(crate) const IFLA_LINK: u16 = 5;
pub(crate) const IFLA_QDISC: u16 = 6;
pub(crate) const IFLA_MASTER: u16 = 10;
pub(crate) const IFLA_TXQLEN: u16 = 13;
pub(crate) const IFLA_OPERSTATE: u16 = 16;
pub(crate) const IFLA_LINKMODE: u16 = 17;
pub(crate) const IFLA_LINKINFO: u16 = 18;
pub(crate) const IFLA_IFALIAS: u16 = 20;
pub(crate) const IFLA_STATS64: u16 = 23;
pub(crate) const IFLA_GROUP: u16 = 27;
pub(crate) const IFLA_PROMISCUITY: u16 = 30;
pub(crate) const IFLA_NUM_TX_QUEUES: u16 = 31;
pub(crate) const IFLA_NUM_RX_QUEUES: u16 = 32;
pub(crate) const IFLA_CARRIER: u16 = 33;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_PROTO_DOWN: u16 = 39;
const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
const AF_INET6: u16 = 10;
pub(crate) const IFLA_LINK_NETNSID: u16 = 37;
pub(crate) const IFLA_GSO_MAX_SEGS: u16 = 40;
pub(crate) const IFLA_GSO_MAX_SIZE: u16 = 41;
pub(crate) const IFLA_MIN_MTU: u16 = 50;
pub(crate) const IFLA_MAX_MTU: u16 = 51;
pub(crate) const IFLA_PROP_LIST: u16 = 52;
pub(crate) const IFLA_ALT_IFNAME: u16 = 53;
pub(crate) const IFLA_PERM_ADDRESS: u16 = 54;
pub(crate) const IFLA_GRO_MAX_SIZE: u16 = 58;
const IFLA_TSO_MAX_SIZE: u16 = 59;
const IFLA_TSO_MAX_SEGS: u16 = 60;
const IFLA_GSO_IPV4_MAX_SIZE: u16 = 63;
const IFLA_GRO_IPV4_MAX_SIZE: u16 = 64;
const IFLA_INFO_DATA: u16 = 2;
pub(crate) const IFLA_ALLMULTI: u16 = 61;

const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_SLAVE_KIND: u16 = 4;
const IFLA_INFO_SLAVE_DATA: u16 = 5;
const IFLA_PROTINFO: u16 = 12;

pub(crate) const REQ: RequestKind = RequestKind {
    message_type: 18,
    name: Some("RTM_GETLINK"),
};

/// An Ethernet MAC address, written and parsed as `aa:bb:cc:dd:ee:ff`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = Error;

    fn from_str(s: &str) -> Result<MacAddr> {
        let bad = || {
            Error::invalid(
                "address",
                format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"),
            )
        };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in out.iter_mut() {
            let p = parts.next().ok_or_else(bad)?;
            // One or two hex digits, as `ip` reads them; from_str_radix
            // alone would also take a sign ("+a").
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(b: [u8; 6]) -> Self {
        MacAddr(b)
    }
}

impl TryFrom<&[u8]> for MacAddr {
    type Error = Error;

    /// Refuses any length but 6.
    fn try_from(b: &[u8]) -> Result<MacAddr> {
        <[u8; 6]>::try_from(b).map(MacAddr).map_err(|_| {
            Error::invalid(
                "address",
                format!("a MAC address has 6 bytes, not {}", b.len()),
            )
        })
    }
}

/// A link (network interface) as the kernel reported it.
///
/// Accessors decode only what they read from the message bytes; the full
/// netlink-packet-route message is one call away ([`Link::message`]), and
/// every attribute, known or not, stays reachable ([`Link::attributes`]).
#[derive(Clone)]
pub struct Link {
    m: Indexed<72>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("family", &self.family_raw())
            .field("index", &self.index())
            .field("name", &self.name())
            .field("kind", &self.kind())
            .field("mtu", &self.mtu())
            .field("flags", &self.flags())
            .finish()
    }
}

impl Link {
    /// Wraps an RTM_NEWLINK message.
    #[inline]
    pub fn from_raw(raw: RawMessage) -> Result<Link> {
        Indexed::new(raw, RTM_NEWLINK, 16, REQ).map(|m| Link { m })
    }

    #[inline]
    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    #[inline]
    fn u32_attr(&self, ty: u16) -> Option<u32> {
        self.m.u32_attr(ty)
    }

    /// The message's family byte (ifi_family): 0 (AF_UNSPEC) for the link
    /// itself; 7 (AF_BRIDGE) for the bridge-port state the kernel also sends
    /// on RTNLGRP_LINK, which describes the port, not the whole link.
    #[inline]
    pub fn family_raw(&self) -> u8 {
        self.m.fixed(0)
    }

    /// True for an AF_BRIDGE message: a bridge port's (or bridge's) state,
    /// not the link itself; see [`Link::family_raw`].
    #[inline]
    pub fn is_bridge_port_info(&self) -> bool {
        i32::from(self.family_raw()) == libc::AF_BRIDGE
    }

    /// The interface index.
    #[inline]
    pub fn index(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// The interface name (empty if the kernel sent none).
    #[inline]
    pub fn name(&self) -> &str {
        self.attr(IFLA_IFNAME).and_then(attrs::str_of).unwrap_or("")
    }

    /// The ARPHRD_* link-layer type (1 = Ethernet, 772 = loopback, …).
    #[inline]
    pub fn link_type(&self) -> u16 {
        u16::from_ne_bytes([self.m.fixed(2), self.m.fixed(3)])
    }

    /// IFF_* flags.
    #[inline]
    pub fn flags(&self) -> LinkFlags {
        LinkFlags::from_bits_retain(self.m.fixed_u32(8))
    }

    /// Administratively up (IFF_UP).
    #[inline]
    pub fn is_up(&self) -> bool {
        self.flags().contains(LinkFlags::Up)
    }

    /// RFC 2863 operational state (IFLA_OPERSTATE), displayed as `ip`
    /// prints it (`UP`, `LOWERLAYERDOWN`, …).
    #[inline]
    pub fn operstate(&self) -> OperState {
        OperState::from(
            self.attr(IFLA_OPERSTATE)
                .and_then(attrs::u8_of)
                .unwrap_or(0),
        )
    }

    /// The root qdisc's kind (`noqueue`, `noop`, `fq_codel`, …).
    #[inline]
    pub fn qdisc(&self) -> Option<&str> {
        self.attr(IFLA_QDISC).and_then(attrs::str_of)
    }

    /// IF_LINK_MODE_*: 0 = default, 1 = dormant.
    #[inline]
    pub fn linkmode(&self) -> Option<u8> {
        self.attr(IFLA_LINKMODE).and_then(attrs::u8_of)
    }

    /// MTU.
    #[inline]
    pub fn mtu(&self) -> Option<u32> {
        self.u32_attr(IFLA_MTU)
    }

    /// Smallest and largest MTU the device accepts.
    #[inline]
    pub fn mtu_range(&self) -> Option<(u32, u32)> {
        Some((self.u32_attr(IFLA_MIN_MTU)?, self.u32_attr(IFLA_MAX_MTU)?))
    }

    /// The link-layer address, whatever its length.
    #[inline]
    pub fn address(&self) -> Option<&[u8]> {
        self.attr(IFLA_ADDRESS)
    }

    /// The link-layer address, when it is a 6-byte MAC.
    #[inline]
    pub fn mac(&self) -> Option<MacAddr> {
        self.address().and_then(|b| MacAddr::try_from(b).ok())
    }

    /// The link-layer broadcast address.
    #[inline]
    pub fn broadcast(&self) -> Option<&[u8]> {
        self.attr(IFLA_BROADCAST)
    }

    /// The permanent hardware address.
    #[inline]
    pub fn perm_address(&self) -> Option<&[u8]> {
        self.attr(IFLA_PERM_ADDRESS)
    }

    /// Index of the master device (bridge, bond, vrf), if enslaved.
    #[inline]
    pub fn master(&self) -> Option<u32> {
        self.u32_attr(IFLA_MASTER).filter(|&m| m != 0)
    }

    /// Index of the lower device (IFLA_LINK: a vlan's parent, a veth's peer).
    #[inline]
    pub fn link(&self) -> Option<u32> {
        self.u32_attr(IFLA_LINK).filter(|&l| l != 0)
    }

    /// Namespace id of the lower device when it lives in another namespace.
    #[inline]
    pub fn netnsid(&self) -> Option<i32> {
        self.attr(IFLA_LINK_NETNSID).and_then(attrs::i32_of)
    }

    /// The alias (`ip link set … alias`).
    #[inline]
    pub fn alias(&self) -> Option<&str> {
        self.attr(IFLA_IFALIAS).and_then(attrs::str_of)
    }

    /// Transmit queue length.
    #[inline]
    pub fn txqlen(&self) -> Option<u32> {
        self.u32_attr(IFLA_TXQLEN)
    }

    /// Device group.
    #[inline]
    pub fn group(&self) -> Option<u32> {
        self.u32_attr(IFLA_GROUP)
    }

    /// Promiscuity count (> 0: promiscuous).
    #[inline]
    pub fn promiscuity(&self) -> Option<u32> {
        self.u32_attr(IFLA_PROMISCUITY)
    }

    /// Allmulti count (> 0: all-multicast), on kernels that report it.
    #[inline]
    pub fn allmulti(&self) -> Option<u32> {
        self.u32_attr(IFLA_ALLMULTI)
    }

    /// Carrier present.
    #[inline]
    pub fn carrier(&self) -> Option<bool> {
        self.attr(IFLA_CARRIER)
            .and_then(attrs::u8_of)
            .map(|c| c != 0)
    }

    /// Protocol down (`protodown on`), on kinds that report it.
    #[inline]
    pub fn protodown(&self) -> Option<bool> {
        self.attr(IFLA_PROTO_DOWN)
            .and_then(attrs::u8_of)
            .map(|c| c != 0)
    }

    /// The IPv6 address generation mode (`addrgenmode`); `None` when IPv6
    /// is off on the link or the mode is one this crate does not name.
    pub fn addrgenmode(&self) -> Option<super::AddrGenMode> {
        self.attr(IFLA_AF_SPEC)
            .and_then(|v| attrs::nested_get(v, AF_INET6))
            .and_then(|v| attrs::nested_get(v, IFLA_INET6_ADDR_GEN_MODE))
            .and_then(attrs::u8_of)
            .and_then(super::AddrGenMode::from_raw)
    }

    /// Number of transmit and receive queues.
    #[inline]
    pub fn queues(&self) -> Option<(u32, u32)> {
        Some((
            self.u32_attr(IFLA_NUM_TX_QUEUES)?,
            self.u32_attr(IFLA_NUM_RX_QUEUES)?,
        ))
    }

    /// GSO maximum size and segments.
    #[inline]
    pub fn gso_max_size(&self) -> Option<u32> {
        self.u32_attr(IFLA_GSO_MAX_SIZE)
    }

    /// GSO maximum segments.
    #[inline]
    pub fn gso_max_segs(&self) -> Option<u32> {
        self.u32_attr(IFLA_GSO_MAX_SEGS)
    }

    /// GRO maximum size.
    #[inline]
    pub fn gro_max_size(&self) -> Option<u32> {
        self.u32_attr(IFLA_GRO_MAX_SIZE)
    }

    /// The largest TSO packet the device takes (IFLA_TSO_MAX_SIZE, read
    /// only; kernel 5.19+).
    #[inline]
    pub fn tso_max_size(&self) -> Option<u32> {
        self.u32_attr(IFLA_TSO_MAX_SIZE)
    }

    /// The most TSO segments the device takes (IFLA_TSO_MAX_SEGS).
    #[inline]
    pub fn tso_max_segs(&self) -> Option<u32> {
        self.u32_attr(IFLA_TSO_MAX_SEGS)
    }

    /// GSO maximum size for IPv4 (`gso_ipv4_max_size`, BIG TCP; 6.3+).
    #[inline]
    pub fn gso_ipv4_max_size(&self) -> Option<u32> {
        self.u32_attr(IFLA_GSO_IPV4_MAX_SIZE)
    }

    /// GRO maximum size for IPv4 (`gro_ipv4_max_size`).
    #[inline]
    pub fn gro_ipv4_max_size(&self) -> Option<u32> {
        self.u32_attr(IFLA_GRO_IPV4_MAX_SIZE)
    }

    /// A tun/tap device's settings (IFLA_INFO_DATA of kind `tun`), typed;
    /// `None` for other links.
    pub fn tun(&self) -> Option<super::tuntap::TunInfo<'_>> {
        if self.kind() != Some("tun") {
            return None;
        }
        self.attr(IFLA_LINKINFO)
            .and_then(|v| attrs::nested_get(v, IFLA_INFO_DATA))
            .map(super::tuntap::TunInfo::new)
    }

    /// Alternative names (`ip link property add … altname`).
    #[inline]
    pub fn altnames(&self) -> Vec<&str> {
        self.attr(IFLA_PROP_LIST)
            .map(|v| {
                attrs::nested(v)
                    .filter(|&(t, _)| t == IFLA_ALT_IFNAME)
                    .filter_map(|(_, v)| attrs::str_of(v))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[inline]
    fn linkinfo(&self, ty: u16) -> Option<&str> {
        self.attr(IFLA_LINKINFO)
            .and_then(|v| attrs::nested_get(v, ty))
            .and_then(attrs::str_of)
    }

    /// The kind (`veth`, `bridge`, `vxlan`, …); `None` for plain devices.
    #[inline]
    pub fn kind(&self) -> Option<&str> {
        self.linkinfo(IFLA_INFO_KIND)
    }

    /// The kind of the master this device is a port of (`bridge`, `bond`).
    #[inline]
    pub fn port_kind(&self) -> Option<&str> {
        self.linkinfo(IFLA_INFO_SLAVE_KIND)
    }

    /// A bridge port's settings: from IFLA_PROTINFO in an AF_BRIDGE message
    /// (`bridge link show`, bridge-port notifications), else from the
    /// link's IFLA_INFO_SLAVE_DATA when its master is a bridge. `None` for
    /// links that are no bridge port.
    pub fn bridge_port(&self) -> Option<super::BridgePortInfo<'_>> {
        if self.is_bridge_port_info()
            && let Some(p) = self.attr(IFLA_PROTINFO)
        {
            return Some(super::BridgePortInfo::new(p));
        }
        if self.port_kind() != Some("bridge") {
            return None;
        }
        self.attr(IFLA_LINKINFO)
            .and_then(|v| attrs::nested_get(v, IFLA_INFO_SLAVE_DATA))
            .map(super::BridgePortInfo::new)
    }

    /// Decodes the attribute `ty` alone with netlink-packet-route.
    #[inline]
    fn decode_attr(&self, ty: u16) -> Option<Result<LinkAttribute>> {
        let whole = self.m.attr_whole(ty)?;
        let family = AddressFamily::from(self.m.fixed(0));
        Some(
            NlaBuffer::new_checked(whole)
                .and_then(|b| LinkAttribute::parse_with_param(&b, family))
                .map_err(|e| Error::Decode {
                    request: REQ,
                    reason: e.to_string(),
                }),
        )
    }

    #[inline]
    fn linkinfo_decoded(&self) -> Option<Vec<LinkInfo>> {
        match self.decode_attr(IFLA_LINKINFO)?.ok()? {
            LinkAttribute::LinkInfo(v) => Some(v),
            _ => None,
        }
    }

    /// IFLA_INFO_DATA's raw value.
    pub(crate) fn info_data_raw(&self) -> Option<&[u8]> {
        self.attr(IFLA_LINKINFO)
            .and_then(|v| attrs::nested_get(v, IFLA_INFO_DATA))
    }

    /// Kind-specific settings (IFLA_INFO_DATA), decoded.
    #[inline]
    pub fn info_data(&self) -> Option<InfoData> {
        self.linkinfo_decoded()?.into_iter().find_map(|i| match i {
            LinkInfo::Data(d) => Some(d),
            _ => None,
        })
    }

    /// Port settings given by the master (IFLA_INFO_SLAVE_DATA), decoded:
    /// bridge-port flags, bond-port state.
    #[inline]
    pub fn port_data(&self) -> Option<InfoPortData> {
        self.linkinfo_decoded()?.into_iter().find_map(|i| match i {
            LinkInfo::PortData(d) => Some(d),
            _ => None,
        })
    }

    /// 64-bit interface statistics.
    pub fn stats(&self) -> Option<Stats64> {
        match self.decode_attr(IFLA_STATS64)?.ok()? {
            LinkAttribute::Stats64(s) => Some(s),
            _ => None,
        }
    }

    /// Every top-level attribute as `(type, value)`, known or not.
    #[inline]
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<LinkMessage> {
        match decode::<Route>(&self.m.raw, REQ)? {
            netlink_packet_route::RouteNetlinkMessage::NewLink(m)
            | netlink_packet_route::RouteNetlinkMessage::DelLink(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected a link message, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    #[inline]
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}

/// A link's RFC 2863 operational state (IF_OPER_*), as `ip link` shows
/// it in the `state` column and `ip -j link` in `operstate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperState {
    /// IF_OPER_UNKNOWN (0): the driver does not say (loopback, tun).
    Unknown,
    /// IF_OPER_NOTPRESENT (1).
    NotPresent,
    /// IF_OPER_DOWN (2).
    Down,
    /// IF_OPER_LOWERLAYERDOWN (3): down because a lower device is (a veth
    /// whose peer is down, a vlan on a down link).
    LowerLayerDown,
    /// IF_OPER_TESTING (4).
    Testing,
    /// IF_OPER_DORMANT (5).
    Dormant,
    /// IF_OPER_UP (6).
    Up,
    /// A number this crate does not know (`ip -j` prints it as
    /// `operstate_index`).
    Other(u8),
}

impl OperState {
    /// `ip`'s word: `UNKNOWN`, `NOTPRESENT`, `DOWN`, `LOWERLAYERDOWN`,
    /// `TESTING`, `DORMANT`, `UP`; `None` for [`OperState::Other`].
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            OperState::Unknown => "UNKNOWN",
            OperState::NotPresent => "NOTPRESENT",
            OperState::Down => "DOWN",
            OperState::LowerLayerDown => "LOWERLAYERDOWN",
            OperState::Testing => "TESTING",
            OperState::Dormant => "DORMANT",
            OperState::Up => "UP",
            OperState::Other(_) => return None,
        })
    }
}

impl From<u8> for OperState {
    fn from(n: u8) -> OperState {
        match n {
            0 => OperState::Unknown,
            1 => OperState::NotPresent,
            2 => OperState::Down,
            3 => OperState::LowerLayerDown,
            4 => OperState::Testing,
            5 => OperState::Dormant,
            6 => OperState::Up,
            n => OperState::Other(n),
        }
    }
}

impl From<OperState> for u8 {
    fn from(s: OperState) -> u8 {
        match s {
            OperState::Unknown => 0,
            OperState::NotPresent => 1,
            OperState::Down => 2,
            OperState::LowerLayerDown => 3,
            OperState::Testing => 4,
            OperState::Dormant => 5,
            OperState::Up => 6,
            OperState::Other(n) => n,
        }
    }
}

/// `ip`'s word, or the number for [`OperState::Other`].
impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", u8::from(*self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parsing() {
        let m: MacAddr = "02:00:00:aa:bb:0c".parse().unwrap();
        assert_eq!(m.0, [2, 0, 0, 0xaa, 0xbb, 0x0c]);
        assert_eq!(m.to_string(), "02:00:00:aa:bb:0c");
        let m: MacAddr = "2:0:0:AA:b:C".parse().unwrap();
        assert_eq!(m.0, [2, 0, 0, 0xaa, 0xb, 0xc], "one digit per byte, as ip");
        for bad in [
            "",
            "02:00",
            "02:00:00:aa:bb:0c:01",
            "zz:00:00:00:00:00",
            "123:0:0:0:0:0",
            "+a:bb:cc:dd:ee:ff",
            "aa:bb:cc:dd:ee:+f",
            "-1:0:0:0:0:0",
            " a:0:0:0:0:0",
            "aa:bb:cc:dd:ee:ff\0",
        ] {
            let e = bad.parse::<MacAddr>().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "address",
                        ..
                    }
                ),
                "{bad}"
            );
        }
        assert!(MacAddr::try_from(&[1u8, 2, 3][..]).is_err());
    }

    #[test]
    fn short_or_foreign_messages_are_refused() {
        use crate::conn::frame::Header;
        let bytes = bytes::Bytes::from(vec![0u8; 20]);
        let raw = RawMessage {
            header: Header {
                len: 20,
                ty: RTM_NEWLINK,
                ..Header::default()
            },
            bytes,
        };
        assert!(Link::from_raw(raw).is_err());
    }
}
