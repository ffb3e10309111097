//! `ip route`: list, get, add, replace, append and delete routes.
#![allow(clippy::module_inception)]

mod add;
mod del;
mod filter;
mod locks;
pub mod names;
mod nexthop;
#[cfg(feature = "serde")]
mod serde;
#[cfg(feature = "serde")]
pub(crate) use serde::flag_names as serde_flag_names;
#[cfg(feature = "serde")]
pub(crate) use serde::table_text as serde_table;
mod view;

use std::future::{Future, IntoFuture};
use std::net::IpAddr;
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteScope, RouteType,
};

pub use add::RouteAdd;
pub use del::RouteDel;
pub use locks::MetricLocks;
pub use nexthop::NexthopSpec;
pub use view::{Nexthop, RTNH_F_ONLINK, Route};

use add::Op;
pub(crate) use add::{Encap, mpls_encap, seg6_encap};
use view::REQ;

use crate::client::Netlink;
use crate::conn::Requester;
use crate::conn::mapped::MappedDump;
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::Route as Rtnl;
use crate::route::link::{LinkHandle, LinkId};
use crate::types::Family;
use crate::types::{IntoAddr, IntoPrefix, Taken, take};

/// RTM_F_FIB_MATCH: return the matching FIB entry, not the resolved route.
const RTM_F_FIB_MATCH: u32 = 0x2000;
/// RTM_F_LOOKUP_TABLE: report the table of the answer.
const RTM_F_LOOKUP_TABLE: u32 = 0x1000;

/// Route operations (`ip route`). Get one with [`Netlink::route`].
#[derive(Debug, Clone)]
pub struct RouteHandle {
    rtnl: Requester<Rtnl>,
    links: LinkHandle,
}

impl Netlink {
    /// Route operations (`ip route`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.route()
    ///     .add("198.51.100.0/24")
    ///     .via("192.0.2.1")
    ///     .table(100)
    ///     .await?;
    /// for r in nl.route().list().table(100).await? {
    ///     println!("{:?} via {:?}", r.destination(), r.gateway());
    /// }
    /// let r = nl.route().get("198.51.100.7").await;
    /// # drop(r); Ok(()) }
    /// ```
    #[inline]
    pub fn route(&self) -> RouteHandle {
        RouteHandle {
            rtnl: self.rtnl(),
            links: self.link(),
        }
    }
}

impl RouteHandle {
    /// `ip route add PREFIX …` (fails with `is_exists()` if present). The
    /// prefix is any [`IntoPrefix`]: `"10.0.0.0/8"`, `"default"`, a tuple,
    /// an ipnetwork type.
    #[inline]
    pub fn add(&self, dst: impl IntoPrefix) -> RouteAdd {
        RouteAdd::new(self.clone(), Op::Add, dst)
    }

    /// `ip route replace PREFIX …`.
    #[inline]
    pub fn replace(&self, dst: impl IntoPrefix) -> RouteAdd {
        RouteAdd::new(self.clone(), Op::Replace, dst)
    }

    /// `ip route change PREFIX …`: replaces an existing route and never
    /// creates one (a missing route is `is_not_found()`), where
    /// [`replace`](Self::replace) would add it.
    #[inline]
    pub fn change(&self, dst: impl IntoPrefix) -> RouteAdd {
        RouteAdd::new(self.clone(), Op::Change, dst)
    }

    /// `ip route append PREFIX …` (adds a route beside existing ones).
    #[inline]
    pub fn append(&self, dst: impl IntoPrefix) -> RouteAdd {
        RouteAdd::new(self.clone(), Op::Append, dst)
    }

    /// `ip route del PREFIX …`: set what identifies the route (table, type,
    /// gateway, metric…) on the builder. A missing route is `is_not_found()`,
    /// displayed as `route del PREFIX: no such route`.
    #[inline]
    pub fn del(&self, dst: impl IntoPrefix) -> RouteDel {
        RouteDel(RouteAdd::new(self.clone(), Op::Del, dst))
    }

    /// Deletes the route a listing (or an event) returned: the kernel gets
    /// the route's own message back, as `ip route flush` sends it, so it
    /// removes exactly that route (its table, type, protocol, scope,
    /// metric, gateway and device; all of a multipath route's next hops).
    /// A route that is gone is `is_not_found()`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// for r in nl.route().list().table(100).await? {
    ///     nl.route().del_route(&r).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn del_route(&self, r: &Route) -> Result<()> {
        let dst = match r.destination() {
            Some(d) if r.dst_len() > 0 => d.to_string(),
            _ => "default".to_owned(),
        };
        let ctx = Context::new("route del", format!("{dst} table {}", r.table())).missing("route");
        let m = r.message().within(&ctx)?;
        self.rtnl
            .ack(RouteNetlinkMessage::DelRoute(m), 0)
            .await
            .within(&ctx)
    }

    /// Lists routes, filtered by the kernel where it can (table, protocol,
    /// type, output device, family) and checked here as well. Without
    /// [`RouteList::family`] it lists IPv4 and then IPv6 routes (unlike
    /// `ip route`, which shows IPv4 only), so a reconciler sees both.
    ///
    /// A limit of the kernel, not of this crate: a single route whose
    /// message is larger than a dump chunk (32 KiB; about 2,000 IPv4 or
    /// 1,100 IPv6 next hops) cannot be dumped at all. The kernel then ends
    /// the dump with DONE and no error, so that route and every route after
    /// it in the dump's order are missing. `ip route show` loses them the
    /// same way. Such a route can still be read with [`get`](Self::get)
    /// (`fibmatch`) and is reported by events; nexthop objects avoid the
    /// size.
    pub fn list(&self) -> RouteList {
        RouteList {
            handle: self.clone(),
            family: None,
            table: None,
            protocol: None,
            kind: None,
            dev: None,
            filter: filter::RouteFilter::default(),
        }
    }

    /// `ip route get ADDR`: one request, the kernel's answer. The address
    /// is an `IpAddr` or its text.
    pub fn get(&self, dst: impl IntoAddr) -> RouteGet {
        RouteGet {
            handle: self.clone(),
            dst: take(dst, "to"),
            from: None,
            iif: None,
            oif: None,
            mark: None,
            uid: None,
            fibmatch: false,
        }
    }
}

/// A route listing; see [`RouteHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct RouteList {
    handle: RouteHandle,
    family: Option<Family>,
    table: Option<u32>,
    protocol: Option<u8>,
    kind: Option<u8>,
    dev: Option<LinkId>,
    filter: filter::RouteFilter,
}

impl RouteList {
    /// `to PREFIX` (`to exact`): only the route(s) of exactly this prefix.
    /// Bad text is refused, naming `to`, when the listing runs.
    #[inline]
    pub fn to(mut self, p: impl IntoPrefix) -> Self {
        self.filter.to = Some((filter::To::Exact, crate::types::take_prefix(p, "to")));
        self
    }

    /// `to root PREFIX`: routes whose prefix lies inside this one.
    #[inline]
    pub fn to_root(mut self, p: impl IntoPrefix) -> Self {
        self.filter.to = Some((filter::To::Root, crate::types::take_prefix(p, "to")));
        self
    }

    /// `to match PREFIX`: routes whose prefix covers this one (the
    /// candidates of a lookup).
    #[inline]
    pub fn to_match(mut self, p: impl IntoPrefix) -> Self {
        self.filter.to = Some((filter::To::Match, crate::types::take_prefix(p, "to")));
        self
    }

    /// `via ADDR`: routes through this gateway, including multipath routes
    /// with a next hop through it (`ip route show via` looks at
    /// single-path routes only).
    #[inline]
    pub fn via(mut self, gw: impl IntoAddr) -> Self {
        self.filter.via = Some(take(gw, "via"));
        self
    }

    /// `src ADDR`: routes with this preferred source.
    #[inline]
    pub fn src(mut self, a: impl IntoAddr) -> Self {
        self.filter.src = Some(take(a, "src"));
        self
    }

    /// `scope SCOPE`.
    #[inline]
    pub fn scope(mut self, s: RouteScope) -> Self {
        self.filter.scope = Some(u8::from(s));
        self
    }

    /// `tos TOS` (`dsfield`).
    #[inline]
    pub fn tos(mut self, tos: u8) -> Self {
        self.filter.tos = Some(tos);
        self
    }

    /// Only IPv4 or IPv6 routes (default: both, IPv4 first).
    #[inline]
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// Only table `id` (`ip route show table ID`; 0 = every table).
    #[inline]
    pub fn table(mut self, id: u32) -> Self {
        self.table = Some(id);
        self
    }

    /// Only routes of this protocol.
    #[inline]
    pub fn protocol(mut self, p: RouteProtocol) -> Self {
        self.protocol = Some(u8::from(p));
        self
    }

    /// Only routes of this type.
    #[inline]
    pub fn kind(mut self, t: RouteType) -> Self {
        self.kind = Some(u8::from(t));
        self
    }

    /// Only routes through this device.
    #[inline]
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// The routes as a stream, decoded lazily as they arrive.
    pub fn stream(self) -> impl Stream<Item = Result<Route>> + Send + 'static {
        // A bad filter fails the (then single) dump that checks it.
        let family = match self.filter.checked() {
            Ok((_, named)) => self.family.or(named),
            Err(_) => Some(Family::V4),
        };
        // Two dumps rather than one AF_UNSPEC dump, which would also return
        // multicast (RTNL_FAMILY_IPMR) and MPLS routes.
        match family {
            Some(f) => self.dump(f).left_stream(),
            None => {
                // A family without the table answers ENOENT ("FIB table
                // does not exist"): for that family, no routes.
                let table = self.table.unwrap_or(254);
                let absent = move |r: &Result<Route>| {
                    let gone = matches!(r, Err(e) if table != 0 && e.errno() == Some(libc::ENOENT));
                    futures::future::ready(!gone)
                };
                let v6 = self.clone().dump(Family::V6).filter(absent);
                self.dump(Family::V4)
                    .filter(absent)
                    .chain(v6)
                    .right_stream()
            }
        }
    }

    fn dump(self, fam: Family) -> impl Stream<Item = Result<Route>> + Send + 'static {
        MappedDump::new(async move {
            let mut m = RouteMessage::default();
            m.header.address_family = fam.raw();
            // `ip route show` means the main table.
            let table = self.table.unwrap_or(254);
            if table != 0 {
                m.attributes.push(RouteAttribute::Table(table));
            }
            if let Some(p) = self.protocol {
                m.header.protocol = RouteProtocol::from(p);
            }
            if let Some(t) = self.kind {
                m.header.kind = RouteType::from(t);
            }
            let oif = match &self.dev {
                Some(d) => {
                    let ctx = Context::new("route show", format!("dev {d}"));
                    let i = self
                        .handle
                        .links
                        .lookup(d, Some("dev"))
                        .await
                        .within(&ctx)?;
                    m.attributes.push(RouteAttribute::Oif(i));
                    Some(i)
                }
                None => None,
            };
            let (protocol, kind) = (self.protocol, self.kind);
            let (selected, _) = self.filter.checked()?;
            let keep = move |r: &Route| {
                selected.matches(r)
                    && (table == 0 || r.in_table(table))
                    && protocol.is_none_or(|p| u8::from(r.protocol()) == p)
                    && kind.is_none_or(|t| u8::from(r.kind()) == t)
                    && oif.is_none_or(|o| {
                        r.oif() == Some(o) || r.nexthops().iter().any(|n| n.oif == Some(o))
                    })
            };
            let dump = self
                .handle
                .rtnl
                .dump_raw(RouteNetlinkMessage::GetRoute(m), 0);
            // A client-side check too, for kernels that ignore a filter.
            Ok((dump, move |raw| match Route::from_raw(raw) {
                Ok(route) => keep(&route).then_some(Ok(route)),
                Err(e) => Some(Err(e)),
            }))
        })
    }
}

impl IntoFuture for RouteList {
    type Output = Result<Vec<Route>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Route>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

/// `ip route get`; see [`RouteHandle::get`].
#[derive(Debug, Clone)]
#[must_use = "nothing is asked until the builder is awaited"]
pub struct RouteGet {
    handle: RouteHandle,
    dst: Taken,
    from: Option<Taken>,
    iif: Option<LinkId>,
    oif: Option<LinkId>,
    mark: Option<u32>,
    uid: Option<u32>,
    fibmatch: bool,
}

impl RouteGet {
    /// `from ADDR`: an address or its text.
    #[inline]
    pub fn from(mut self, a: impl IntoAddr) -> Self {
        self.from = Some(take(a, "from"));
        self
    }

    /// `iif DEV`: as if received on this device.
    #[inline]
    pub fn iif(mut self, d: impl Into<LinkId>) -> Self {
        self.iif = Some(d.into());
        self
    }

    /// `oif DEV`.
    #[inline]
    pub fn oif(mut self, d: impl Into<LinkId>) -> Self {
        self.oif = Some(d.into());
        self
    }

    /// `vrf NAME`: look up in the vrf's table (as `oif` of the vrf device).
    #[inline]
    pub fn vrf(self, vrf: impl Into<LinkId>) -> Self {
        self.oif(vrf)
    }

    /// `mark M`.
    #[inline]
    pub fn mark(mut self, m: u32) -> Self {
        self.mark = Some(m);
        self
    }

    /// `uid U`.
    #[inline]
    pub fn uid(mut self, u: u32) -> Self {
        self.uid = Some(u);
        self
    }

    /// `fibmatch`: the FIB entry that matched rather than the resolved route.
    #[inline]
    pub fn fibmatch(mut self) -> Self {
        self.fibmatch = true;
        self
    }

    fn context(&self) -> Context {
        let to = match &self.dst {
            Ok(a) => a.to_string(),
            Err(_) => "?".into(),
        };
        Context::new("route get", to)
    }

    async fn run(self) -> Result<Route> {
        let ctx = self.context();
        self.ask().await.within(&ctx)
    }

    async fn ask(self) -> Result<Route> {
        let dst = self.dst.clone().map_err(|r| r.error())?;
        let from = match &self.from {
            Some(f) => Some(f.clone().map_err(|r| r.error())?),
            None => None,
        };
        // Both device names before the first lookup.
        self.iif
            .iter()
            .chain(&self.oif)
            .try_for_each(LinkId::check)?;
        let fam = Family::of(&dst);
        let addr = |ip: IpAddr| match ip {
            IpAddr::V4(a) => RouteAddress::Inet(a),
            IpAddr::V6(a) => RouteAddress::Inet6(a),
        };
        let mut m = RouteMessage::default();
        m.header.address_family = fam.raw();
        m.header.destination_prefix_length = if fam == Family::V4 { 32 } else { 128 };
        m.attributes.push(RouteAttribute::Destination(addr(dst)));
        if let Some(f) = from {
            if Family::of(&f) != fam {
                return Err(Error::invalid(
                    "from",
                    format!("{f} is not of the family of {dst}"),
                ));
            }
            m.header.source_prefix_length = m.header.destination_prefix_length;
            m.attributes.push(RouteAttribute::Source(addr(f)));
        }
        if let Some(d) = &self.iif {
            m.attributes.push(RouteAttribute::Iif(
                self.handle.links.lookup(d, Some("iif")).await?,
            ));
        }
        if let Some(d) = &self.oif {
            m.attributes.push(RouteAttribute::Oif(
                self.handle.links.lookup(d, Some("oif")).await?,
            ));
        }
        if let Some(mk) = self.mark {
            m.attributes.push(RouteAttribute::Mark(mk));
        }
        if let Some(u) = self.uid {
            m.attributes.push(RouteAttribute::Uid(u));
        }
        if self.fibmatch {
            m.header.flags = RouteFlags::from_bits_retain(RTM_F_FIB_MATCH);
        } else if fam == Family::V4 {
            // As `ip route get`: report the table the answer came from
            // (IPv6 refuses the flag under strict checking).
            m.header.flags = RouteFlags::from_bits_retain(RTM_F_LOOKUP_TABLE);
        }
        let raw = self
            .handle
            .rtnl
            .get_raw(RouteNetlinkMessage::GetRoute(m), 0)
            .await?;
        Route::from_raw(raw)
    }
}

impl IntoFuture for RouteGet {
    type Output = Result<Route>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Route>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
