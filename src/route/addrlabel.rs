//! `ip addrlabel`: IPv6 address labels (RFC 6724 source/destination
//! address selection). netlink-packet-route encodes the requests; listings
//! are decoded here, straight from the received bytes.

use std::future::{Future, IntoFuture};
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use ipnetwork::Ipv6Network;
use netlink_packet_route::addrlabel::{AddrLabelAttribute, AddrLabelMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::client::Netlink;
use crate::conn::attrs::{Attrs, u32_of};
use crate::conn::requester::retry_interrupted;
use crate::conn::{RawMessage, Requester, flags};
use crate::error::{Context, Error, RequestKind, Result, ResultExt};
use crate::route::Route as Rtnl;
use crate::route::link::{LinkHandle, LinkId};
use crate::types::IntoPrefix;

const RTM_NEWADDRLABEL: u16 = 72;
/// struct ifaddrlblmsg.
const HEADER: usize = 12;
const IFAL_ADDRESS: u16 = 1;
const IFAL_LABEL: u16 = 2;
/// IPV6_ADDR_LABEL_DEFAULT: the kernel's "no label", which it refuses.
const LABEL_DEFAULT: u32 = 0xFFFF_FFFF;
const REQ: RequestKind = RequestKind {
    message_type: 74,
    name: Some("RTM_GETADDRLABEL"),
};

/// An address label as the kernel lists it (`ip -6 addrlabel list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct AddrLabel {
    /// `prefix PREFIX`.
    pub prefix: Ipv6Network,
    /// `label LABEL`.
    pub label: u32,
    /// `dev DEV`: the interface index, when the label is for one device.
    pub ifindex: Option<u32>,
}

impl AddrLabel {
    /// Decodes an RTM_NEWADDRLABEL message; anything else, or a message
    /// without a valid prefix and label, is [`Error::Decode`].
    pub fn from_raw(raw: RawMessage) -> Result<AddrLabel> {
        let ty = raw.header.ty;
        let parsed = if ty == RTM_NEWADDRLABEL {
            AddrLabel::parse(raw.payload())
        } else {
            None
        };
        parsed.ok_or_else(|| Error::Decode {
            request: REQ,
            reason: format!(
                "expected an IPv6 address label (type {RTM_NEWADDRLABEL}), got type {ty} of {} bytes",
                raw.bytes.len()
            ),
        })
    }

    /// `payload`: an ifaddrlblmsg and its attributes.
    fn parse(payload: &[u8]) -> Option<AddrLabel> {
        let h = payload.get(..HEADER)?;
        if h[0] != libc::AF_INET6 as u8 {
            return None;
        }
        let index = u32::from_ne_bytes(h[4..8].try_into().ok()?);
        let (mut addr, mut label) = (None, None);
        for (_, ty, v) in Attrs::new(payload, HEADER) {
            match ty {
                IFAL_ADDRESS => addr = <[u8; 16]>::try_from(v).ok().map(Ipv6Addr::from),
                IFAL_LABEL => label = u32_of(v),
                _ => {}
            }
        }
        Some(AddrLabel {
            prefix: Ipv6Network::new(addr?, h[2]).ok()?,
            label: label?,
            ifindex: (index != 0).then_some(index),
        })
    }
}

/// Address-label operations (`ip addrlabel`). Get one with
/// [`Netlink::addrlabel`].
#[derive(Debug, Clone)]
pub struct AddrLabelHandle {
    rtnl: Requester<Rtnl>,
    links: LinkHandle,
}

impl Netlink {
    /// Address-label operations (`ip addrlabel`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.addrlabel().add("2001:db8::/32", 100).dev("eth0").await?;
    /// for l in nl.addrlabel().list().await? {
    ///     println!("{} label {}", l.prefix, l.label);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn addrlabel(&self) -> AddrLabelHandle {
        AddrLabelHandle {
            rtnl: self.rtnl(),
            links: self.link(),
        }
    }
}

impl AddrLabelHandle {
    /// `ip addrlabel add prefix PREFIX label LABEL`: an IPv6 prefix (or
    /// `"default"`, `::/0`); an IPv4 one is refused (`"prefix"`), and so is
    /// the label 0xFFFFFFFF (`"label"`), which the kernel reserves.
    pub fn add(&self, prefix: impl IntoPrefix, label: u32) -> AddrLabelAdd {
        AddrLabelAdd::new(self.clone(), false, prefix, label)
    }

    /// `ip addrlabel del prefix PREFIX label LABEL`: deletes the label of
    /// this prefix (and device, see [`AddrLabelAdd::dev`]). A missing one
    /// is `is_not_found()`.
    pub fn del(&self, prefix: impl IntoPrefix, label: u32) -> AddrLabelAdd {
        AddrLabelAdd::new(self.clone(), true, prefix, label)
    }

    /// `ip -6 addrlabel list`: every label, the kernel's defaults included.
    pub fn list(&self) -> AddrLabelList {
        AddrLabelList {
            handle: self.clone(),
        }
    }
}

fn ipv6_prefix(prefix: impl IntoPrefix) -> Result<(Ipv6Addr, u8)> {
    if prefix.is_any_default() {
        return Ok((Ipv6Addr::UNSPECIFIED, 0));
    }
    match prefix.into_prefix() {
        Ok((IpAddr::V6(a), len)) => Ok((a, len)),
        Ok((IpAddr::V4(a), len)) => Err(Error::invalid(
            "prefix",
            format!("{a}/{len} is IPv4; address labels are IPv6 only"),
        )),
        Err(e) => Err(crate::types::Refused::of(e, "prefix").error()),
    }
}

fn check_label(label: u32) -> Result<()> {
    if label == LABEL_DEFAULT {
        return Err(Error::invalid(
            "label",
            "0xffffffff is the kernel's reserved IPV6_ADDR_LABEL_DEFAULT",
        ));
    }
    Ok(())
}

/// An address-label add or delete; `.await` it. See
/// [`AddrLabelHandle::add`].
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct AddrLabelAdd {
    handle: AddrLabelHandle,
    del: bool,
    prefix: Result<(Ipv6Addr, u8)>,
    label: u32,
    dev: Option<LinkId>,
}

impl AddrLabelAdd {
    fn new(handle: AddrLabelHandle, del: bool, prefix: impl IntoPrefix, label: u32) -> Self {
        AddrLabelAdd {
            handle,
            del,
            prefix: ipv6_prefix(prefix),
            label,
            dev: None,
        }
    }

    /// `dev DEV`: the label applies to addresses of this device only.
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `addrlabel add|del prefix P [dev D] label L`, for errors.
    fn context(&self) -> Context {
        let mut o = match &self.prefix {
            Ok((a, l)) => format!("prefix {a}/{l}"),
            Err(_) => "prefix ?".into(),
        };
        if let Some(d) = &self.dev {
            o.push_str(&format!(" dev {d}"));
        }
        o.push_str(&format!(" label {}", self.label));
        if self.del {
            Context::new("addrlabel del", o).missing("address label")
        } else {
            Context::new("addrlabel add", o)
        }
    }

    async fn run(self) -> Result<()> {
        let ctx = self.context();
        let (addr, len) = self.prefix?;
        check_label(self.label)?;
        let index = match &self.dev {
            Some(d) => self.handle.links.lookup(d, Some("dev")).await?,
            None => 0,
        };
        let mut m = AddrLabelMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.header.prefix_len = len;
        m.header.index = index;
        m.attributes = vec![
            AddrLabelAttribute::Address(addr.into()),
            AddrLabelAttribute::Label(self.label),
        ];
        let (msg, fl) = if self.del {
            (RouteNetlinkMessage::DelAddrLabel(m), 0)
        } else {
            (
                RouteNetlinkMessage::NewAddrLabel(m),
                flags::CREATE | flags::EXCL,
            )
        };
        self.handle.rtnl.ack(msg, fl).await.within(&ctx)
    }
}

impl IntoFuture for AddrLabelAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// An address-label listing; `.await` it for a `Vec` or call
/// [`stream`](Self::stream). See [`AddrLabelHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct AddrLabelList {
    handle: AddrLabelHandle,
}

impl AddrLabelList {
    /// The labels as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<AddrLabel>> + Send + 'static {
        let mut m = AddrLabelMessage::default();
        // The kernel registers the dump for AF_INET6 only.
        m.header.family = AddressFamily::Inet6;
        self.handle
            .rtnl
            .dump_raw(RouteNetlinkMessage::GetAddrLabel(m), 0)
            .map(|r| r.and_then(AddrLabel::from_raw))
    }
}

impl IntoFuture for AddrLabelList {
    type Output = Result<Vec<AddrLabel>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<AddrLabel>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prefix 2001:db8::/32 dev 3 label 100`, as the kernel sends it.
    fn sample() -> Vec<u8> {
        let mut b = vec![10, 0, 32, 0];
        b.extend_from_slice(&3u32.to_ne_bytes());
        b.extend_from_slice(&7u32.to_ne_bytes());
        b.extend_from_slice(&20u16.to_ne_bytes());
        b.extend_from_slice(&IFAL_ADDRESS.to_ne_bytes());
        b.extend_from_slice(&"2001:db8::".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&IFAL_LABEL.to_ne_bytes());
        b.extend_from_slice(&100u32.to_ne_bytes());
        b
    }

    #[test]
    fn decodes_a_label() {
        let l = AddrLabel::parse(&sample()).unwrap();
        assert_eq!(l.prefix, "2001:db8::/32".parse().unwrap());
        assert_eq!((l.label, l.ifindex), (100, Some(3)));
    }

    #[test]
    fn truncated_or_mangled_input_is_refused_without_panic() {
        let s = sample();
        for n in 0..s.len() {
            assert_eq!(AddrLabel::parse(&s[..n]), None, "cut at {n}");
        }
        let mut bad_len = s.clone();
        bad_len[2] = 129;
        assert_eq!(AddrLabel::parse(&bad_len), None);
        for m in crate::test_util::mangled(&s, 5000, 4, 0x9e37_79b9_7f4a_7c15) {
            let _ = AddrLabel::parse(&m);
        }
    }

    #[test]
    fn ipv4_prefixes_and_the_reserved_label_are_refused() {
        let e = ipv6_prefix("10.0.0.0/8").unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "prefix",
                    ..
                }
            ),
            "{e}"
        );
        let e = ipv6_prefix("nonsense").unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "prefix",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(ipv6_prefix("default").unwrap(), (Ipv6Addr::UNSPECIFIED, 0));
        let e = check_label(u32::MAX).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { field: "label", .. }),
            "{e}"
        );
        assert!(check_label(u32::MAX - 1).is_ok());
    }
}
