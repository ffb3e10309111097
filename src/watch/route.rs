//! Routes: how the kernel's route notifications change the cache.
//!
//! IPv4 announces each route whole: a multipath route is one object, and
//! routes appended beside each other are separate ones. IPv6 keeps one
//! entry per next hop and groups those of one destination, table and metric
//! into a multipath route, which dumps show whole, but it announces an
//! append with the whole route starting at the new next hop (a dump starts
//! at the oldest), and a deleted next hop alone. Nexthop objects going away
//! and IPv4 addresses or links going away flush routes silently. Where an
//! event cannot be applied exactly, the table (or everything) is re-dumped.

use std::net::IpAddr;

use futures::StreamExt;
use futures::stream::BoxStream;
use ipnetwork::IpNetwork;

use super::{Cache, Input, NLM_F_REPLACE, Part, Update, Watched};
use crate::client::Netlink;
use crate::conn::RawMessage;
use crate::error::Result;
use crate::route::events::{Event, Group};
use crate::route::route::Route;
use crate::types::Family;

const AF_INET: u8 = libc::AF_INET as u8;
const AF_INET6: u8 = libc::AF_INET6 as u8;
/// RTM_F_CLONED: a cached clone (`ip route get`), not a FIB entry.
const RTM_F_CLONED: u32 = 0x200;
const RTN_UNICAST: u8 = 1;
/// The RTNH_F_* flags that are configuration (pervasive, onlink); the
/// others (dead, linkdown, offload, trap) change without a notification.
const RTNH_F_CONFIG: u8 = 0x06;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_PRIORITY: u16 = 6;
const RTA_MULTIPATH: u16 = 9;
const RTA_CACHEINFO: u16 = 12;
const RTA_TABLE: u16 = 15;

/// Identity of a route in a [`Watch<Route>`](super::Watch): family,
/// table, destination and source prefixes, tos, metric, type, nexthop
/// object and the first next hop as a dump lists it (gateway, device). For
/// IPv4 it also holds every other attribute (opaque), since IPv4 keeps
/// routes that differ only there side by side. Displayed in `ip route`'s
/// words (`10.0.0.0/24 table 100 metric 10 via 192.0.2.1 dev #3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteKey {
    family: u8,
    table: u32,
    destination: Option<IpNetwork>,
    source: Option<IpNetwork>,
    tos: u8,
    metric: u32,
    route_type: u8,
    nhid: Option<u32>,
    /// IPv4: the header's protocol, scope, type and configuration flags,
    /// and every attribute but those above.
    rest: Vec<u8>,
    gateway: Option<IpAddr>,
    oif: Option<u32>,
}

impl RouteKey {
    /// The address family: IPv4 or IPv6 (`None` for another family).
    pub fn family(&self) -> Option<Family> {
        family(self.family)
    }

    /// The AF_* number.
    pub fn family_raw(&self) -> u8 {
        self.family
    }

    /// The routing table (254 is `main`).
    pub fn table(&self) -> u32 {
        self.table
    }

    /// The destination prefix (`None`: `default`).
    pub fn destination(&self) -> Option<IpNetwork> {
        self.destination
    }

    /// The source prefix (`from`), if any.
    pub fn source(&self) -> Option<IpNetwork> {
        self.source
    }

    /// The TOS (DSCP) selector.
    pub fn tos(&self) -> u8 {
        self.tos
    }

    /// The metric (priority); 0 when the route has none.
    pub fn metric(&self) -> u32 {
        self.metric
    }

    /// The route type (RTN_*: 1 unicast, 2 local, 6 blackhole, …).
    pub fn route_type(&self) -> u8 {
        self.route_type
    }

    /// The nexthop object (`nhid`), if the route uses one.
    pub fn nhid(&self) -> Option<u32> {
        self.nhid
    }

    /// The first next hop's gateway (`via`).
    pub fn gateway(&self) -> Option<IpAddr> {
        self.gateway
    }

    /// The first next hop's device index (`dev`).
    pub fn oif(&self) -> Option<u32> {
        self.oif
    }
}

impl std::fmt::Display for RouteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.destination {
            Some(d) => write!(f, "{d}")?,
            None => f.write_str("default")?,
        }
        if let Some(s) = self.source {
            write!(f, " from {s}")?;
        }
        if self.tos != 0 {
            write!(f, " tos {:#x}", self.tos)?;
        }
        write!(f, " table {} metric {}", self.table, self.metric)?;
        if self.route_type != RTN_UNICAST {
            write!(f, " type {}", self.route_type)?;
        }
        if let Some(id) = self.nhid {
            write!(f, " nhid {id}")?;
        }
        if let Some(g) = self.gateway {
            write!(f, " via {g}")?;
        }
        if let Some(o) = self.oif {
            write!(f, " dev #{o}")?;
        }
        Ok(())
    }
}

/// Family, table, destination and source prefixes, tos and metric: the
/// routes an IPv4 or IPv6 replace chooses from, and the IPv6 routes one
/// multipath route is made of.
fn siblings_of(r: &Route) -> Vec<u8> {
    fn prefix(k: &mut Vec<u8>, p: Option<ipnetwork::IpNetwork>) {
        match p.map(|p| (p.ip(), p.prefix())) {
            Some((IpAddr::V4(a), l)) => {
                k.extend_from_slice(&a.octets());
                k.push(l);
            }
            Some((IpAddr::V6(a), l)) => {
                k.extend_from_slice(&a.octets());
                k.push(l);
            }
            None => k.push(0xff),
        }
    }
    let mut k = Vec::with_capacity(64);
    k.push(r.family_raw());
    k.extend_from_slice(&r.table().to_ne_bytes());
    prefix(&mut k, r.destination());
    prefix(&mut k, r.source());
    k.push(r.tos());
    k.extend_from_slice(&r.metric().unwrap_or(0).to_ne_bytes());
    k
}

/// Appends what tells an IPv4 route from the others of its sibling set:
/// the header's protocol, scope, type and flags, and every attribute but
/// those of the set, without the flags that change silently.
fn ipv4_identity(r: &Route, k: &mut Vec<u8>) {
    let header = r
        .raw()
        .bytes
        .get(crate::conn::frame::HEADER_LEN..)
        .unwrap_or(&[]);
    k.extend_from_slice(header.get(5..8).unwrap_or(&[]));
    k.push(header.get(8).map_or(0, |f| f & RTNH_F_CONFIG));
    for (ty, v) in r.attributes() {
        if matches!(
            ty,
            RTA_TABLE | RTA_DST | RTA_SRC | RTA_PRIORITY | RTA_CACHEINFO
        ) {
            continue;
        }
        k.extend_from_slice(&ty.to_ne_bytes());
        k.extend_from_slice(&(v.len() as u32).to_ne_bytes());
        let at = k.len();
        k.extend_from_slice(v);
        if ty == RTA_MULTIPATH {
            mask_rtnh_flags(&mut k[at..]);
        }
    }
}

/// Keeps only the configuration flags of each struct rtnexthop.
fn mask_rtnh_flags(mut mp: &mut [u8]) {
    while mp.len() >= 8 {
        let len = usize::from(u16::from_ne_bytes([mp[0], mp[1]]));
        if len < 8 || len > mp.len() {
            break;
        }
        mp[2] &= RTNH_F_CONFIG;
        let next = crate::conn::frame::align(len).min(mp.len());
        mp = &mut mp[next..];
    }
}

/// One next hop as the kernel tells IPv6 entries apart: gateway, device.
type Hop = (Option<IpAddr>, Option<u32>);

fn hops(r: &Route) -> Vec<Hop> {
    r.nexthops().iter().map(|n| (n.gateway, n.oif)).collect()
}

fn family(f: u8) -> Option<Family> {
    match f {
        AF_INET => Some(Family::V4),
        AF_INET6 => Some(Family::V6),
        _ => None,
    }
}

impl Watched for Route {
    fn raw(&self) -> &RawMessage {
        Route::raw(self)
    }
    type Key = RouteKey;
    fn key(&self) -> RouteKey {
        let mut rest = Vec::new();
        if self.family_raw() == AF_INET {
            ipv4_identity(self, &mut rest);
        }
        let first = self.nexthops().into_iter().next();
        RouteKey {
            family: self.family_raw(),
            table: self.table(),
            destination: self.destination(),
            source: self.source(),
            tos: self.tos(),
            metric: self.metric().unwrap_or(0),
            route_type: u8::from(self.kind()),
            nhid: self.nhid(),
            rest,
            gateway: first.as_ref().and_then(|n| n.gateway),
            oif: first.and_then(|n| n.oif),
        }
    }
    fn siblings(&self) -> Option<Vec<u8>> {
        Some(siblings_of(self))
    }
    fn part(&self) -> Part {
        Part::Table(self.family_raw(), self.table())
    }
    fn groups() -> Vec<Group> {
        let mut g = Group::routes();
        // Links and IPv4 addresses going away, and nexthop objects going
        // away or replaced, flush or change routes without an event each.
        g.extend([Group::Link, Group::Ipv4Address, Group::Nexthop]);
        g
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        let v4 = nl.route().list().table(0).family(Family::V4).stream();
        let v6 = nl.route().list().table(0).family(Family::V6).stream();
        v4.chain(v6).boxed()
    }
    fn dump_part(nl: &Netlink, scope: Part) -> BoxStream<'static, Result<Self>> {
        let (f, table) = match scope {
            Part::All | Part::Link(_) => return Self::dump(nl),
            Part::Family(f) => (f, 0),
            Part::Table(f, t) => (f, t),
        };
        match family(f) {
            Some(f) => nl.route().list().table(table).family(f).stream().boxed(),
            None => Self::dump(nl),
        }
    }
    fn classify(ev: Event) -> Option<Input<Self>> {
        let fib = |r: &Route| family(r.family_raw()).is_some() && r.flags() & RTM_F_CLONED == 0;
        match ev {
            Event::NewRoute(r) if fib(&r) => Some(Input::New(r)),
            Event::DelRoute(r) if fib(&r) => Some(Input::Del(r)),
            Event::NewLink(ref l) | Event::DelLink(ref l) if l.family_raw() == 0 => {
                Some(Input::Signal(ev))
            }
            Event::DelAddress(ref a) if a.family() == Family::V4 => Some(Input::Signal(ev)),
            Event::NewNexthop(_) | Event::DelNexthop(_) => Some(Input::Signal(ev)),
            _ => None,
        }
    }
    fn update(cache: &Cache<Self>, input: &Input<Self>) -> Update<Self> {
        match input {
            Input::Signal(ev) => signal(cache, ev),
            Input::New(r) if r.family_raw() == AF_INET => ipv4_new(cache, r),
            Input::Del(r) if r.family_raw() == AF_INET => Update::Edit(vec![r.key()], None),
            Input::New(r) => ipv6(cache, r, true),
            Input::Del(r) => ipv6(cache, r, false),
        }
    }
}

fn signal(cache: &Cache<Route>, ev: &Event) -> Update<Route> {
    match ev {
        // A link's state decides its routes' flags; its deletion or going
        // down flushes IPv4 routes through it silently.
        Event::NewLink(_) | Event::DelLink(_) => Update::Resync(Part::All),
        // The last IPv4 address of a link going away flushes the IPv4
        // routes through that link silently.
        Event::DelAddress(_) => Update::Resync(Part::Family(AF_INET)),
        // A nexthop object deleted flushes its IPv4 routes silently and
        // changes groups that held it; one replaced changes its routes.
        Event::DelNexthop(_) | Event::NewNexthop(_)
            if (matches!(ev, Event::DelNexthop(_))
                || ev
                    .raw()
                    .is_some_and(|m| m.header.flags & NLM_F_REPLACE != 0))
                && cache.values().any(|r| r.nhid().is_some()) =>
        {
            Update::Resync(Part::All)
        }
        _ => Update::Nothing,
    }
}

/// IPv4: a route comes whole; a replace takes the place of the first route
/// of its sibling set, which is known only when there is one.
fn ipv4_new(cache: &Cache<Route>, r: &Route) -> Update<Route> {
    if r.raw().header.flags & NLM_F_REPLACE == 0 {
        return Update::Edit(Vec::new(), Some(r.clone()));
    }
    let set: Vec<RouteKey> = cache.siblings(&siblings_of(r)).map(Watched::key).collect();
    if set.len() > 1 {
        return Update::Resync(r.part());
    }
    Update::Edit(set, Some(r.clone()))
}

/// IPv6: an event names next hops; the cached route holding them is
/// replaced or removed only when the event gives it whole, in the order a
/// dump would.
fn ipv6(cache: &Cache<Route>, r: &Route, new: bool) -> Update<Route> {
    let set = siblings_of(r);
    if new && r.raw().header.flags & NLM_F_REPLACE != 0 {
        // The first route of the set of the same kind (gateway or not) is
        // replaced, with every next hop of it: known when there is one.
        let keys: Vec<RouteKey> = cache.siblings(&set).map(Watched::key).collect();
        if keys.len() > 1 {
            return Update::Resync(r.part());
        }
        return Update::Edit(keys, Some(r.clone()));
    }
    let mine = hops(r);
    let key = r.key();
    let touched: Vec<&Route> = cache
        .siblings(&set)
        .filter(|g| g.key() == key || hops(g).iter().any(|h| mine.contains(h)))
        .collect();
    match touched.as_slice() {
        [] if new => Update::Edit(Vec::new(), Some(r.clone())),
        [] => Update::Nothing,
        [g] => {
            let theirs = hops(g);
            let same_nh = g.nhid() == r.nhid();
            if new
                && same_nh
                && theirs.first() == mine.first()
                && theirs.iter().all(|h| mine.contains(h))
            {
                // A multipath append reports the whole route in dump order.
                Update::Edit(vec![g.key()], Some(r.clone()))
            } else if !new
                && same_nh
                && theirs.len() == mine.len()
                && theirs.iter().all(|h| mine.contains(h))
            {
                Update::Edit(vec![g.key()], None)
            } else {
                // A single next hop appended (reported from itself) or
                // deleted from a multipath route.
                Update::Resync(r.part())
            }
        }
        _ => Update::Resync(r.part()),
    }
}
