//! `ip address`: list, add, replace and delete addresses.

mod add;
mod view;

pub use add::AddressAdd;
pub use view::Address;

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
use crate::route::route::names::decimal;

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
        n => decimal::<u8>(n).ok_or_else(|| {
            Error::invalid("scope", format!("{s:?} is not a scope name or 0-255"))
        })?,
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
            Some(l) => decimal::<u8>(l).ok_or_else(bad)?,
            None if ip.is_ipv4() => 32,
            None => 128,
        };
        checked(ip, len)
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
    #[inline]
    pub fn link(mut self, link: impl Into<LinkId>) -> Self {
        self.link = Some(link.into());
        self
    }

    /// Only this family.
    #[inline]
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
        for bad in [
            "10.0.0.1/33",
            "::1/129",
            "nope/3",
            "10.0.0.1/x",
            "10.0.0.1/+8",
            "10.0.0.1/",
            "10.0.0.1/8\0",
        ] {
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
        assert!(parse_scope("+1").is_err());
    }
}
