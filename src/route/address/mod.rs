//! `ip address`: list, add, replace and delete addresses.

mod add;
#[cfg(feature = "serde")]
mod serde;
mod view;

pub use add::AddressAdd;
pub use view::Address;

/// Moved to [`crate::types`], which every family shares; kept so older
/// code builds, hidden so the docs show one path.
#[doc(hidden)]
pub use crate::types::{Family, IntoPrefix};

use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;

use futures::{Stream, TryStreamExt};
use ipnetwork::IpNetwork;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};

use crate::client::Netlink;
use crate::conn::mapped::MappedDump;
use crate::conn::requester::{decode, retry_interrupted};
use crate::conn::{RawMessage, Requester};
use crate::error::{Context, Error, RequestKind, Result, ResultExt};
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
const IFA_PROTO: u16 = 11;
const REQ: RequestKind = RequestKind {
    message_type: 22,
    name: Some("RTM_GETADDR"),
};
const INFINITY: u32 = u32::MAX;

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

/// `PREFIX dev LINK`: the object of an address error.
fn object(prefix: &Result<(IpAddr, u8)>, link: &LinkId) -> String {
    match prefix {
        Ok((ip, len)) => format!("{ip}/{len} dev {link}"),
        Err(_) => format!("dev {link}"),
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
    /// Lists addresses, IPv4 and IPv6 (one AF_UNSPEC dump) unless
    /// [`AddressList::family`] picks one; filter by link and family
    /// (applied by the kernel).
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

    /// Deletes an address (`ip address del PREFIX dev LINK`). A missing
    /// address is `is_not_found()`, displayed as `no such address`.
    pub async fn del(&self, link: impl Into<LinkId>, prefix: impl IntoPrefix) -> Result<()> {
        let (prefix, link) = (prefix.into_prefix(), link.into());
        let ctx = Context::new("address del", object(&prefix, &link)).missing("address");
        self.delete(prefix?, &link).await.within(&ctx)
    }

    /// Deletes the address a listing (or an event) returned, by its own
    /// message (as `ip address flush` does): that address on that link,
    /// peer and label included. A missing address is `is_not_found()`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// for a in nl.address().list().link("eth0").await? {
    ///     nl.address().del_address(&a).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn del_address(&self, a: &Address) -> Result<()> {
        let what = match a.address() {
            Some(ip) => format!("{ip}/{} dev {}", a.prefix_len(), a.index()),
            None => format!("dev {}", a.index()),
        };
        let ctx = Context::new("address del", what).missing("address");
        let m = a.message().within(&ctx)?;
        self.rtnl
            .ack(RouteNetlinkMessage::DelAddress(m), 0)
            .await
            .within(&ctx)
    }

    async fn delete(&self, (ip, len): (IpAddr, u8), link: &LinkId) -> Result<()> {
        let index = self.links.index_of(link).await?;
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

    /// Only this family (default: both).
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
                let ctx = Context::new("address show", format!("dev {l}"));
                m.header.index = self
                    .handle
                    .links
                    .lookup(l, Some("link"))
                    .await
                    .within(&ctx)?;
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
    fn scope_names() {
        for (n, v) in [("global", 0), ("link", 253), ("host", 254), ("site", 200)] {
            assert_eq!(u8::from(parse_scope(n).unwrap()), v);
            assert_eq!(scope_name(parse_scope(n).unwrap()), n);
        }
        assert!(parse_scope("galaxy").is_err());
        assert!(parse_scope("+1").is_err());
    }
}
