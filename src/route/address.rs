//! `ip address`: list, add, replace and delete addresses.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;

use futures::{Stream, TryStreamExt};
use ipnetwork::IpNetwork;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::client::Netlink;
use crate::conn::mapped::MappedDump;
use crate::conn::requester::{decode, retry_interrupted};
use crate::conn::{RawMessage, Requester};
use crate::error::{Error, RequestKind, Result};
use crate::route::Route;
use crate::route::attrs::{self, Indexed};
use crate::route::link::{LinkHandle, LinkId};

const RTM_NEWADDR: u16 = 20;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
const IFA_RT_PRIORITY: u16 = 9;
const REQ: RequestKind = RequestKind {
    message_type: 22,
    name: Some("RTM_GETADDR"),
};
const INFINITY: u32 = u32::MAX;

/// Address family filter of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (AF_INET).
    V4,
    /// IPv6 (AF_INET6).
    V6,
}

impl Family {
    pub(crate) fn raw(self) -> AddressFamily {
        match self {
            Family::V4 => AddressFamily::Inet,
            Family::V6 => AddressFamily::Inet6,
        }
    }

    pub(crate) fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }
}

/// `ip`'s name of a scope: global, site, link, host, nowhere, or a number.
pub fn scope_name(scope: AddressScope) -> String {
    match u8::from(scope) {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

/// Parses `ip`'s scope names (or a number 0-255).
pub fn parse_scope(s: &str) -> Result<AddressScope> {
    Ok(AddressScope::from(match s {
        "global" | "universe" => 0,
        "site" => 200,
        "link" => 253,
        "host" => 254,
        "nowhere" => 255,
        n => n
            .parse::<u8>()
            .map_err(|_| Error::invalid("scope", format!("{s:?} is not a scope name or 0-255")))?,
    }))
}

/// An address with a prefix length, checked: the length must fit the family.
pub trait IntoPrefix {
    /// The address and its prefix length.
    fn into_prefix(self) -> Result<(IpAddr, u8)>;
}

fn checked(ip: IpAddr, len: u8) -> Result<(IpAddr, u8)> {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(Error::invalid(
            "prefix",
            format!("prefix length {len} is longer than {max} for {ip}"),
        ));
    }
    Ok((ip, len))
}

impl IntoPrefix for IpNetwork {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.ip(), self.prefix())
    }
}

impl IntoPrefix for (IpAddr, u8) {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.0, self.1)
    }
}

impl IntoPrefix for &str {
    /// `ADDR/LEN`, or a bare address (a host prefix).
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        let bad = || Error::invalid("prefix", format!("{self:?} is not ADDR[/LEN]"));
        let (a, l) = match self.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (self, None),
        };
        let ip: IpAddr = a.parse().map_err(|_| bad())?;
        let len = match l {
            Some(l) => l.parse::<u8>().map_err(|_| bad())?,
            None if ip.is_ipv4() => 32,
            None => 128,
        };
        checked(ip, len)
    }
}

/// An address as the kernel reported it; accessors decode on demand.
#[derive(Clone)]
pub struct Address {
    m: Indexed<12>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("index", &self.index())
            .field("address", &self.address())
            .field("prefix_len", &self.prefix_len())
            .field("label", &self.label())
            .finish()
    }
}

impl Address {
    /// Wraps an RTM_NEWADDR message.
    pub fn from_raw(raw: RawMessage) -> Result<Address> {
        Indexed::new(raw, RTM_NEWADDR, 8, REQ).map(|m| Address { m })
    }

    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        if self.m.fixed(0) == libc::AF_INET6 as u8 {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// Prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.m.fixed(1)
    }

    /// Scope.
    pub fn scope(&self) -> AddressScope {
        AddressScope::from(self.m.fixed(3))
    }

    /// Index of the link the address is on.
    pub fn index(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// IFA_F_* flags (the 32-bit IFA_FLAGS when present).
    pub fn flags(&self) -> AddressFlags {
        let f = self
            .attr(IFA_FLAGS)
            .and_then(attrs::u32_of)
            .unwrap_or(u32::from(self.m.fixed(2)));
        AddressFlags::from_bits_retain(f)
    }

    /// The address of this host: IFA_LOCAL when given (IPv4, or a
    /// point-to-point IPv6), else IFA_ADDRESS.
    pub fn address(&self) -> Option<IpAddr> {
        self.attr(IFA_LOCAL)
            .or_else(|| self.attr(IFA_ADDRESS))
            .and_then(attrs::ip_of)
    }

    /// The peer of a point-to-point address (IFA_ADDRESS differing from
    /// IFA_LOCAL).
    pub fn peer(&self) -> Option<IpAddr> {
        let local = self.attr(IFA_LOCAL)?;
        let addr = self.attr(IFA_ADDRESS)?;
        (local != addr).then(|| attrs::ip_of(addr)).flatten()
    }

    /// Address and prefix length together.
    pub fn prefix(&self) -> Option<IpNetwork> {
        IpNetwork::new(self.address()?, self.prefix_len()).ok()
    }

    /// IPv4 broadcast address.
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.attr(IFA_BROADCAST).and_then(attrs::ip_of)? {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }

    /// IPv4 label.
    pub fn label(&self) -> Option<&str> {
        self.attr(IFA_LABEL).and_then(attrs::str_of)
    }

    /// Metric of the prefix route.
    pub fn metric(&self) -> Option<u32> {
        self.attr(IFA_RT_PRIORITY).and_then(attrs::u32_of)
    }

    fn cacheinfo(&self) -> Option<(u32, u32)> {
        let v = self.attr(IFA_CACHEINFO)?;
        Some((attrs::u32_of(v)?, attrs::u32_of(v.get(4..)?)?))
    }

    /// Valid lifetime in seconds; `None` when forever.
    pub fn valid_lft(&self) -> Option<u32> {
        self.cacheinfo().map(|c| c.1).filter(|&v| v != INFINITY)
    }

    /// Preferred lifetime in seconds; `None` when forever.
    pub fn preferred_lft(&self) -> Option<u32> {
        self.cacheinfo().map(|c| c.0).filter(|&v| v != INFINITY)
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<AddressMessage> {
        match decode::<Route>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected an address, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}

/// Address operations (`ip address`). Get one with [`Netlink::address`].
#[derive(Debug, Clone)]
pub struct AddressHandle {
    rtnl: Requester<Route>,
    links: LinkHandle,
}

impl Netlink {
    /// Address operations (`ip address`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.address().add("eth0", "192.0.2.10/24").label("eth0:web").await?;
    /// for a in nl.address().list().link("eth0").await? {
    ///     println!("{:?}/{}", a.address(), a.prefix_len());
    /// }
    /// nl.address().del("eth0", "192.0.2.10/24").await?;
    /// # Ok(()) }
    /// ```
    pub fn address(&self) -> AddressHandle {
        AddressHandle {
            rtnl: self.rtnl(),
            links: self.link(),
        }
    }
}

impl AddressHandle {
    /// Lists addresses; filter by link and family (applied by the kernel).
    pub fn list(&self) -> AddressList {
        AddressList {
            handle: self.clone(),
            link: None,
            family: None,
        }
    }

    /// Adds an address (`ip address add PREFIX dev LINK`); fails with
    /// `is_exists()` if present.
    pub fn add(&self, link: impl Into<LinkId>, prefix: impl IntoPrefix) -> AddressAdd {
        AddressAdd::new(
            self.clone(),
            link.into(),
            prefix.into_prefix(),
            0x400 | 0x200,
        )
    }

    /// Adds or updates an address (`ip address replace`).
    pub fn replace(&self, link: impl Into<LinkId>, prefix: impl IntoPrefix) -> AddressAdd {
        AddressAdd::new(
            self.clone(),
            link.into(),
            prefix.into_prefix(),
            0x400 | 0x100,
        )
    }

    /// Deletes an address (`ip address del PREFIX dev LINK`).
    pub async fn del(&self, link: impl Into<LinkId>, prefix: impl IntoPrefix) -> Result<()> {
        let (ip, len) = prefix.into_prefix()?;
        let index = self.links.index_of(&link.into()).await?;
        let mut m = AddressMessage::default();
        m.header.family = Family::of(&ip).raw();
        m.header.prefix_len = len;
        m.header.index = index;
        m.attributes.push(AddressAttribute::Local(ip));
        if ip.is_ipv6() {
            m.attributes.push(AddressAttribute::Address(ip));
        }
        self.rtnl.ack(RouteNetlinkMessage::DelAddress(m), 0).await
    }
}

/// An address listing; see [`AddressHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct AddressList {
    handle: AddressHandle,
    link: Option<LinkId>,
    family: Option<Family>,
}

impl AddressList {
    /// Only addresses on this link.
    pub fn link(mut self, link: impl Into<LinkId>) -> Self {
        self.link = Some(link.into());
        self
    }

    /// Only this family.
    pub fn family(mut self, family: Family) -> Self {
        self.family = Some(family);
        self
    }

    /// The addresses as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Address>> + Send + 'static {
        MappedDump::new(async move {
            let mut m = AddressMessage::default();
            if let Some(f) = self.family {
                m.header.family = f.raw();
            }
            if let Some(l) = &self.link {
                m.header.index = self.handle.links.index_of(l).await?;
            }
            let dump = self
                .handle
                .rtnl
                .dump_raw(RouteNetlinkMessage::GetAddress(m), 0);
            Ok((dump, |raw| Some(Address::from_raw(raw))))
        })
    }
}

impl IntoFuture for AddressList {
    type Output = Result<Vec<Address>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Address>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

/// Builder of `ip address add|replace`; `.await` it.
#[must_use = "nothing is added until the builder is awaited"]
#[derive(Debug)]
pub struct AddressAdd {
    handle: AddressHandle,
    link: LinkId,
    prefix: Result<(IpAddr, u8)>,
    flags: u16,
    peer: Option<IpAddr>,
    broadcast: Option<Ipv4Addr>,
    label: Option<String>,
    scope: Option<AddressScope>,
    ifa_flags: AddressFlags,
    lifetimes: Option<(u32, u32)>,
    metric: Option<u32>,
}

impl AddressAdd {
    fn new(handle: AddressHandle, link: LinkId, prefix: Result<(IpAddr, u8)>, flags: u16) -> Self {
        AddressAdd {
            handle,
            link,
            prefix,
            flags,
            peer: None,
            broadcast: None,
            label: None,
            scope: None,
            ifa_flags: AddressFlags::empty(),
            lifetimes: None,
            metric: None,
        }
    }

    /// `peer ADDR` (point-to-point).
    pub fn peer(mut self, peer: IpAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// `broadcast ADDR` (IPv4).
    pub fn broadcast(mut self, b: Ipv4Addr) -> Self {
        self.broadcast = Some(b);
        self
    }

    /// `label LABEL` (IPv4): must start with the link's name.
    pub fn label(mut self, label: &str) -> Self {
        self.label = Some(label.to_owned());
        self
    }

    /// `scope SCOPE`.
    pub fn scope(mut self, scope: AddressScope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// `noprefixroute`: no prefix route for this address.
    pub fn noprefixroute(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Noprefixroute;
        self
    }

    /// `nodad` (IPv6): skip duplicate address detection.
    pub fn nodad(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Nodad;
        self
    }

    /// `optimistic` (IPv6): usable during DAD.
    pub fn optimistic(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Optimistic;
        self
    }

    /// `home` (IPv6): mobile IPv6 home address.
    pub fn home(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Homeaddress;
        self
    }

    /// `mngtmpaddr` (IPv6): manage temporary addresses from this one.
    pub fn mngtmpaddr(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Managetempaddr;
        self
    }

    /// `valid_lft V preferred_lft P` in seconds (`u32::MAX` = forever).
    pub fn lifetimes(mut self, valid: u32, preferred: u32) -> Self {
        self.lifetimes = Some((valid, preferred));
        self
    }

    /// `metric N` of the prefix route.
    pub fn metric(mut self, metric: u32) -> Self {
        self.metric = Some(metric);
        self
    }

    fn message(&self, index: u32) -> Result<AddressMessage> {
        let (ip, len) = self.prefix.as_ref().map_err(Error::clone_input)?.to_owned();
        let fam = Family::of(&ip);
        let mut m = AddressMessage::default();
        m.header.family = fam.raw();
        m.header.prefix_len = len;
        m.header.index = index;
        m.header.flags = AddressHeaderFlags::from_bits_truncate(self.ifa_flags.bits() as u8);
        if let Some(s) = self.scope {
            m.header.scope = s;
        }
        if let Some(p) = self.peer
            && Family::of(&p) != fam
        {
            return Err(Error::invalid(
                "peer",
                format!("{p} is not of the family of {ip}"),
            ));
        }
        match fam {
            Family::V4 => {
                m.attributes.push(AddressAttribute::Local(ip));
                m.attributes
                    .push(AddressAttribute::Address(self.peer.unwrap_or(ip)));
            }
            Family::V6 => match self.peer {
                Some(p) => {
                    m.attributes.push(AddressAttribute::Local(ip));
                    m.attributes.push(AddressAttribute::Address(p));
                }
                None => m.attributes.push(AddressAttribute::Address(ip)),
            },
        }
        if let Some(b) = self.broadcast {
            if fam != Family::V4 {
                return Err(Error::invalid("broadcast", "only IPv4 addresses have one"));
            }
            m.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(l) = &self.label {
            if fam != Family::V4 {
                return Err(Error::invalid("label", "only IPv4 addresses have one"));
            }
            if l.is_empty() || l.len() > 15 {
                return Err(Error::invalid(
                    "label",
                    format!("{l:?} must be 1 to 15 bytes"),
                ));
            }
            m.attributes.push(AddressAttribute::Label(l.clone()));
        }
        if !self.ifa_flags.is_empty() {
            m.attributes.push(AddressAttribute::Flags(self.ifa_flags));
        }
        if let Some((valid, preferred)) = self.lifetimes {
            if preferred > valid {
                return Err(Error::invalid(
                    "preferred_lft",
                    format!("{preferred} is longer than valid_lft {valid}"),
                ));
            }
            let mut ci = CacheInfo::default();
            ci.ifa_valid = valid;
            ci.ifa_preferred = preferred;
            m.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        if let Some(metric) = self.metric {
            m.attributes.push(AddressAttribute::RoutePriority(metric));
        }
        Ok(m)
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`]
    /// (device names are looked up now).
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        self.request().await
    }

    async fn request(&self) -> Result<(RouteNetlinkMessage, u16)> {
        if let Err(e) = &self.prefix {
            return Err(e.clone_input());
        }
        let index = match (&self.label, &self.link) {
            // Like iproute2: a label must begin with the device's name.
            (Some(label), id) => {
                let link = self.handle.links.get(id.clone()).await?;
                if !label.starts_with(link.name()) {
                    return Err(Error::invalid(
                        "label",
                        format!(
                            "{label:?} must begin with the interface name {:?}",
                            link.name()
                        ),
                    ));
                }
                link.index()
            }
            (None, id) => self.handle.links.index_of(id).await?,
        };
        let m = self.message(index)?;
        Ok((RouteNetlinkMessage::NewAddress(m), self.flags))
    }

    async fn run(self) -> Result<()> {
        let (msg, flags) = self.request().await?;
        self.handle.rtnl.ack(msg, flags).await
    }
}

impl IntoFuture for AddressAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_checked() {
        assert_eq!(
            "10.0.0.1/24".into_prefix().unwrap(),
            ("10.0.0.1".parse().unwrap(), 24)
        );
        assert_eq!("fe80::1".into_prefix().unwrap().1, 128);
        for bad in ["10.0.0.1/33", "::1/129", "nope/3", "10.0.0.1/x"] {
            let e = bad.into_prefix().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "prefix",
                        ..
                    }
                ),
                "{bad}"
            );
        }
        let e = ("10.0.0.1".parse::<IpAddr>().unwrap(), 33)
            .into_prefix()
            .unwrap_err();
        assert!(e.to_string().contains("33"), "{e}");
    }

    #[test]
    fn scope_names() {
        for (n, v) in [("global", 0), ("link", 253), ("host", 254), ("site", 200)] {
            assert_eq!(u8::from(parse_scope(n).unwrap()), v);
            assert_eq!(scope_name(parse_scope(n).unwrap()), n);
        }
        assert!(parse_scope("galaxy").is_err());
    }
}
