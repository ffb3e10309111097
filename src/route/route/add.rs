//! `ip route add|replace|append|del`: the route builder.

use std::future::{Future, IntoFuture};
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;

use netlink_packet_core::Emitable;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{
    MplsLabel, RouteAddress, RouteAttribute, RouteLwEnCapType, RouteLwTunnelEncap, RouteMessage,
    RouteMetric, RouteMplsIpTunnel, RouteNextHop, RouteNextHopFlags, RoutePreference,
    RouteProtocol, RouteScope, RouteSeg6IpTunnel, RouteType, RouteVia, Seg6Header, Seg6Mode,
};

use super::RouteHandle;
use super::names::parse_table;
use crate::conn::attrs::{NLA_VALUE_MAX, check_fits, check_string};
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::link::LinkId;
use crate::types::Family;
use crate::types::IntoAddr;

use super::nexthop::NexthopSpec;

/// What the builder does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Replace,
    Append,
    Change,
    Del,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Add => "route add",
            Op::Replace => "route replace",
            Op::Append => "route append",
            Op::Change => "route change",
            Op::Del => "route del",
        }
    }

    fn flags(self) -> u16 {
        match self {
            Op::Add => 0x400 | 0x200,
            Op::Replace => 0x400 | 0x100,
            Op::Append => 0x400 | 0x800,
            // NLM_F_REPLACE without NLM_F_CREATE: a missing route is ENOENT.
            Op::Change => 0x100,
            Op::Del => 0,
        }
    }
}

fn addr(ip: IpAddr) -> RouteAddress {
    match ip {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }
}

/// The gateway attribute: RTA_GATEWAY in the route's family, RTA_VIA for an
/// IPv4 route via an IPv6 gateway; anything else is refused.
fn gateway_attr(fam: Family, gw: IpAddr) -> Result<RouteAttribute> {
    match (fam, gw) {
        (Family::V4, IpAddr::V6(a)) => Ok(RouteAttribute::Via(RouteVia::Inet6(a))),
        (Family::V6, IpAddr::V4(a)) => Err(Error::invalid(
            "gateway",
            format!("{a} is IPv4 but the route is IPv6"),
        )),
        (_, ip) => Ok(RouteAttribute::Gateway(addr(ip))),
    }
}

/// Builder of `ip route add|replace|append|del`; `.await` it. See
/// [`RouteHandle::add`].
#[must_use = "nothing happens until the builder is awaited"]
#[derive(Debug)]
pub struct RouteAdd {
    handle: RouteHandle,
    op: Op,
    dst: Result<(IpAddr, u8)>,
    /// `"default"` without a family: IPv4 unless the rest says IPv6.
    any_default: bool,
    family: Option<Family>,
    gateway: Option<IpAddr>,
    dev: Option<LinkId>,
    prefsrc: Option<IpAddr>,
    table: Result<Option<u32>>,
    metric: Option<u32>,
    protocol: Option<RouteProtocol>,
    scope: Option<RouteScope>,
    kind: Option<RouteType>,
    tos: u8,
    onlink: bool,
    nexthops: Vec<NexthopSpec>,
    metrics: Vec<RouteMetric>,
    expires: Option<u32>,
    realm: Option<(u16, u16)>,
    pref: Option<RoutePreference>,
    encap: Option<Encap>,
    nhid: Option<u32>,
    /// The first bad input a setter saw, reported when the builder runs.
    error: Option<Error>,
}

/// MAX_NEW_LABELS: the most labels an MPLS encap may push.
const MPLS_LABELS_MAX: usize = 30;
/// A label is 20 bits.
const MPLS_LABEL_LIMIT: u32 = 1 << 20;
/// The SRH's hdrlen is one byte counting 8-octet units beyond the first: 2
/// per segment, so at most 127 segments.
const SEG6_SEGMENTS_MAX: usize = 127;
/// TCP_CA_NAME_MAX - 1: the longest congestion control name.
const CONGCTL_MAX: usize = 15;

/// A lightweight-tunnel encapsulation: its type and attributes.
pub(crate) type Encap = (RouteLwEnCapType, Vec<RouteLwTunnelEncap>);

/// `encap mpls LABEL[/LABEL…] [ttl T]`, checked (routes and nexthops).
pub(crate) fn mpls_encap(labels: &[u32], ttl: Option<u8>) -> Result<Encap> {
    if labels.is_empty() || labels.len() > MPLS_LABELS_MAX {
        return Err(Error::invalid(
            "encap mpls",
            format!(
                "{} labels; a label stack has 1 to {MPLS_LABELS_MAX}",
                labels.len()
            ),
        ));
    }
    if let Some(l) = labels.iter().find(|&&l| l >= MPLS_LABEL_LIMIT) {
        return Err(Error::invalid(
            "encap mpls",
            format!("label {l} does not fit in 20 bits (at most 1048575)"),
        ));
    }
    let n = labels.len();
    let stack = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let mut m = MplsLabel::from(0);
            m.label = l;
            m.bottom_of_stack = i + 1 == n;
            m
        })
        .collect();
    let mut e = vec![RouteLwTunnelEncap::Mpls(RouteMplsIpTunnel::Destination(
        stack,
    ))];
    if let Some(t) = ttl {
        e.push(RouteLwTunnelEncap::Mpls(RouteMplsIpTunnel::Ttl(t)));
    }
    Ok((RouteLwEnCapType::Mpls, e))
}

/// `encap seg6 mode inline|encap segs S1,S2…`, checked.
pub(crate) fn seg6_encap(encap_mode: bool, segments: &[Ipv6Addr]) -> Result<Encap> {
    if segments.is_empty() || segments.len() > SEG6_SEGMENTS_MAX {
        return Err(Error::invalid(
            "encap seg6",
            format!(
                "{} segments; a segment routing header holds 1 to {SEG6_SEGMENTS_MAX}",
                segments.len()
            ),
        ));
    }
    let mut h = Seg6Header::default();
    h.mode = if encap_mode {
        Seg6Mode::Encap
    } else {
        Seg6Mode::Inline
    };
    h.segments = segments.to_vec();
    Ok((
        RouteLwEnCapType::Seg6,
        vec![RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(h))],
    ))
}

impl RouteAdd {
    pub(crate) fn new(handle: RouteHandle, op: Op, dst: impl crate::types::IntoPrefix) -> Self {
        let any_default = dst.is_any_default();
        RouteAdd {
            handle,
            op,
            dst: dst.into_prefix(),
            any_default,
            family: None,
            gateway: None,
            dev: None,
            prefsrc: None,
            table: Ok(None),
            metric: None,
            protocol: None,
            scope: None,
            kind: None,
            tos: 0,
            onlink: false,
            nexthops: Vec::new(),
            metrics: Vec::new(),
            expires: None,
            realm: None,
            pref: None,
            encap: None,
            nhid: None,
            error: None,
        }
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    /// `via GW`: an address or its text (an IPv6 gateway on an IPv4 route
    /// is sent as RTA_VIA; on `"default"` it makes the route IPv6).
    #[inline]
    pub fn via(mut self, gw: impl IntoAddr) -> Self {
        match gw.into_addr("via") {
            Ok(a) => self.gateway = Some(a),
            Err(e) => self.fail(e),
        }
        self
    }

    /// `-4`/`-6`: the family of a `"default"` destination (otherwise taken
    /// from the gateway or source, else IPv4 as `ip route add default`);
    /// a prefix of the other family is refused.
    #[inline]
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// `dev D`.
    #[inline]
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `src A`: preferred source address, an address or its text.
    #[inline]
    pub fn src(mut self, a: impl IntoAddr) -> Self {
        match a.into_addr("src") {
            Ok(a) => self.prefsrc = Some(a),
            Err(e) => self.fail(e),
        }
        self
    }

    /// `table ID` (ids above 255 are sent in RTA_TABLE).
    #[inline]
    pub fn table(mut self, id: u32) -> Self {
        self.table = Ok(Some(id));
        self
    }

    /// `table NAME`: main, local, default, an rt_tables name or a number.
    #[inline]
    pub fn table_name(mut self, name: &str) -> Self {
        self.table = parse_table(name).map(Some);
        self
    }

    /// `metric N`.
    #[inline]
    pub fn metric(mut self, m: u32) -> Self {
        self.metric = Some(m);
        self
    }

    /// `proto P`.
    #[inline]
    pub fn protocol(mut self, p: RouteProtocol) -> Self {
        self.protocol = Some(p);
        self
    }

    /// `scope S`.
    #[inline]
    pub fn scope(mut self, s: RouteScope) -> Self {
        self.scope = Some(s);
        self
    }

    /// The route type: unicast (default), local, broadcast, blackhole,
    /// unreachable, prohibit, throw, multicast.
    #[inline]
    pub fn kind(mut self, t: RouteType) -> Self {
        self.kind = Some(t);
        self
    }

    /// `tos T`.
    #[inline]
    pub fn tos(mut self, tos: u8) -> Self {
        self.tos = tos;
        self
    }

    /// `onlink`: the gateway is on the link even if no prefix says so.
    #[inline]
    pub fn onlink(mut self) -> Self {
        self.onlink = true;
        self
    }

    /// Adds a `nexthop …` (ECMP); several make a multipath route.
    #[inline]
    pub fn nexthop(mut self, nh: NexthopSpec) -> Self {
        self.nexthops.push(nh);
        self
    }

    /// `nhid ID`: the route goes through nexthop object `ID` (see
    /// [`Netlink::nexthop`](crate::Netlink::nexthop)) instead of a gateway
    /// of its own; `via`, `dev` and `nexthop` are then refused, naming
    /// `nhid`.
    #[inline]
    pub fn nhid(mut self, id: u32) -> Self {
        self.nhid = Some(id);
        self
    }

    /// A route metric: `mtu`, `advmss`, `window`, `rtt`, `initcwnd`,
    /// `congctl`… as netlink-packet-route's `RouteMetric`.
    #[inline]
    pub fn route_metric(mut self, m: RouteMetric) -> Self {
        self.metrics.push(m);
        self
    }

    /// `mtu N`.
    #[inline]
    pub fn mtu(self, mtu: u32) -> Self {
        self.route_metric(RouteMetric::Mtu(mtu))
    }

    /// `realm TO` (IPv4 routing realm, RTA_FLOW), for `rtacct` and the
    /// `realm` match of classifiers; realms are 16-bit numbers.
    #[inline]
    pub fn realm(self, to: u16) -> Self {
        self.realms(0, to)
    }

    /// `realms FROM/TO`.
    #[inline]
    pub fn realms(mut self, from: u16, to: u16) -> Self {
        self.realm = Some((from, to));
        self
    }

    /// `expires SECONDS` (IPv6).
    #[inline]
    pub fn expires(mut self, secs: u32) -> Self {
        self.expires = Some(secs);
        self
    }

    /// `pref low|medium|high` (IPv6).
    #[inline]
    pub fn pref(mut self, p: RoutePreference) -> Self {
        self.pref = Some(p);
        self
    }

    /// `encap mpls LABEL[/LABEL…] [ttl T]`: 1 to 30 labels of 20 bits.
    #[inline]
    pub fn encap_mpls(mut self, labels: &[u32], ttl: Option<u8>) -> Self {
        match mpls_encap(labels, ttl) {
            Ok(e) => self.encap = Some(e),
            Err(e) => self.fail(e),
        }
        self
    }

    /// `encap seg6 mode inline|encap segs S1,S2…`: 1 to 127 segments.
    #[inline]
    pub fn encap_seg6(mut self, encap_mode: bool, segments: &[Ipv6Addr]) -> Self {
        match seg6_encap(encap_mode, segments) {
            Ok(e) => self.encap = Some(e),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Checks the input and builds the request.
    async fn message(&self) -> Result<RouteMessage> {
        if let Some(e) = &self.error {
            return Err(e.clone_input());
        }
        // Every device name before the first lookup.
        self.dev
            .iter()
            .chain(self.nexthops.iter().filter_map(|n| n.dev.as_ref()))
            .try_for_each(LinkId::check)?;
        if self.nhid.is_some()
            && (self.gateway.is_some() || self.dev.is_some() || !self.nexthops.is_empty())
        {
            return Err(Error::invalid(
                "nhid",
                "a route through a nexthop object takes no via, dev or nexthop of its own",
            ));
        }
        for m in &self.metrics {
            if let RouteMetric::CcAlgo(c) = m {
                check_string("congctl", c, CONGCTL_MAX)?;
            }
        }
        let (ip, len) = match &self.dst {
            Ok(_) if self.any_default => (self.default_family().unspecified(), 0),
            Ok(d) => *d,
            Err(e) => return Err(e.clone_input()),
        };
        if let Some(f) = self.family
            && f != Family::of(&ip)
        {
            return Err(Error::invalid(
                "family",
                format!("{ip}/{len} is not of the family {f:?}"),
            ));
        }
        let net = ipnetwork::IpNetwork::new(ip, len)
            .map_err(|e| Error::invalid("prefix", e.to_string()))?;
        if net.network() != ip {
            // The kernel refuses these too; say so before sending.
            return Err(Error::invalid(
                "prefix",
                format!(
                    "{ip}/{len} has host bits set (the network is {}/{len})",
                    net.network()
                ),
            ));
        }
        let table = match &self.table {
            // As `ip`: local, broadcast, anycast and nat routes default to
            // the local table.
            Ok(t) => t.unwrap_or(match self.kind {
                Some(
                    RouteType::Local | RouteType::Broadcast | RouteType::Anycast | RouteType::Nat,
                ) => 255,
                _ => 254,
            }),
            Err(e) => return Err(e.clone_input()),
        };
        let fam = Family::of(&ip);
        let links = &self.handle.links;
        let mut m = RouteMessage::default();
        m.header.address_family = fam.raw();
        m.header.destination_prefix_length = len;
        m.header.tos = self.tos;
        m.header.table = if table < 256 { table as u8 } else { 252 };
        let del = self.op == Op::Del;
        let kind = self.kind.unwrap_or(if del {
            RouteType::Unspec
        } else {
            RouteType::Unicast
        });
        m.header.kind = kind;
        m.header.protocol = self.protocol.unwrap_or(if del {
            RouteProtocol::Unspec
        } else {
            RouteProtocol::Boot
        });
        let has_gw = self.gateway.is_some() || !self.nexthops.is_empty();
        m.header.scope = self.scope.unwrap_or(match kind {
            RouteType::Local | RouteType::Nat => RouteScope::Host,
            RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast => RouteScope::Link,
            RouteType::Unicast | RouteType::Unspec if del => RouteScope::NoWhere,
            RouteType::Unicast | RouteType::Unspec if !has_gw && self.dev.is_some() => {
                RouteScope::Link
            }
            _ => RouteScope::Universe,
        });
        if self.onlink {
            m.header.flags |= netlink_packet_route::route::RouteFlags::from_bits_retain(4);
        }
        if len > 0 {
            m.attributes.push(RouteAttribute::Destination(addr(ip)));
        }
        m.attributes.push(RouteAttribute::Table(table));
        if let Some(gw) = self.gateway {
            m.attributes.push(gateway_attr(fam, gw)?);
        }
        if let Some(d) = &self.dev {
            m.attributes
                .push(RouteAttribute::Oif(links.lookup(d, Some("dev")).await?));
        }
        if let Some(s) = self.prefsrc {
            if Family::of(&s) != fam {
                return Err(Error::invalid(
                    "src",
                    format!("{s} is not of the route's family"),
                ));
            }
            m.attributes.push(RouteAttribute::PrefSource(addr(s)));
        }
        if let Some(p) = self.metric {
            m.attributes.push(RouteAttribute::Priority(p));
        }
        if !self.metrics.is_empty() {
            m.attributes
                .push(RouteAttribute::Metrics(self.metrics.clone()));
        }
        if let Some(e) = self.expires {
            m.attributes.push(RouteAttribute::Expires(e));
        }
        if let Some((source, destination)) = self.realm {
            m.attributes.push(RouteAttribute::Realm(
                netlink_packet_route::route::RouteRealm {
                    source,
                    destination,
                },
            ));
        }
        if let Some(p) = self.pref {
            m.attributes.push(RouteAttribute::Preference(p));
        }
        if let Some(id) = self.nhid {
            m.attributes.push(RouteAttribute::NhId(id));
        }
        if let Some((ty, e)) = &self.encap {
            m.attributes.push(RouteAttribute::EncapType(*ty));
            m.attributes.push(RouteAttribute::Encap(e.clone()));
        }
        if !self.nexthops.is_empty() {
            let mut hops = Vec::new();
            for nh in &self.nexthops {
                if nh.weight == 0 || nh.weight > 256 {
                    return Err(Error::invalid(
                        "weight",
                        format!("{} is not in 1..=256", nh.weight),
                    ));
                }
                let mut h = RouteNextHop::default();
                h.hops = (nh.weight - 1) as u8;
                if nh.onlink {
                    h.flags = RouteNextHopFlags::Onlink;
                }
                match &nh.gateway {
                    Some(Ok(gw)) => h.attributes.push(gateway_attr(fam, *gw)?),
                    Some(Err(e)) => return Err(e.error()),
                    None => {}
                }
                hops.push(h);
            }
            // The size does not depend on the devices: check it before
            // looking any up (RTA_MULTIPATH's value is the hops end to end).
            let len: usize = hops.iter().map(|h| h.buffer_len()).sum();
            if len > NLA_VALUE_MAX {
                return Err(Error::invalid(
                    "nexthop",
                    format!(
                        "{} next hops take {len} bytes; RTA_MULTIPATH holds at most {NLA_VALUE_MAX}",
                        hops.len()
                    ),
                ));
            }
            for (h, nh) in hops.iter_mut().zip(&self.nexthops) {
                if let Some(d) = &nh.dev {
                    h.interface_index = links.lookup(d, Some("nexthop dev")).await?;
                }
            }
            m.attributes.push(RouteAttribute::MultiPath(hops));
        }
        // The other nests that grow with the caller's input.
        for a in &m.attributes {
            match a {
                RouteAttribute::Metrics(_) => check_fits("route_metric", a)?,
                RouteAttribute::Encap(_) => check_fits("encap", a)?,
                _ => {}
            }
        }
        Ok(m)
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`]
    /// (device names are looked up now).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use netlink_packet_route::route::RouteType;
    ///
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut requests = Vec::new();
    /// for i in 0..=255u8 {
    ///     let dst = std::net::Ipv4Addr::new(10, 7, 0, i);
    ///     let add = nl.route().add((dst, 32)).kind(RouteType::BlackHole).table(100);
    ///     requests.push(add.into_request().await?);
    /// }
    /// for result in nl.rtnl().ack_batch(requests).await? {
    ///     result?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        self.request().await.within(&self.context())
    }

    /// The family `"default"` stands for: the one set, else the gateway's
    /// (the first next hop's), else the source's, else IPv4.
    fn default_family(&self) -> Family {
        let nh = self
            .nexthops
            .iter()
            .find_map(|n| n.gateway.as_ref().and_then(|g| g.as_ref().ok()));
        self.family
            .or(self.gateway.as_ref().or(nh).map(Family::of))
            .or(self.prefsrc.as_ref().map(Family::of))
            .unwrap_or(Family::V4)
    }

    /// `route add PREFIX [via GW] [dev D] [table T] [metric M]`, for errors.
    pub(crate) fn context(&self) -> Context {
        use std::fmt::Write;
        let mut o = match &self.dst {
            Ok(_) if self.any_default => "default".to_owned(),
            Ok((_, 0)) => "default".to_owned(),
            Ok((ip, len)) => format!("{ip}/{len}"),
            Err(_) => "?".to_owned(),
        };
        if let Some(g) = self.gateway {
            let _ = write!(o, " via {g}");
        }
        if let Some(d) = &self.dev {
            let _ = write!(o, " dev {d}");
        }
        if let Ok(Some(t)) = self.table {
            let _ = write!(o, " table {t}");
        }
        if let Some(m) = self.metric {
            let _ = write!(o, " metric {m}");
        }
        let ctx = Context::new(self.op.name(), o);
        if self.op == Op::Del {
            ctx.missing("route")
        } else {
            ctx
        }
    }

    async fn request(&self) -> Result<(RouteNetlinkMessage, u16)> {
        let m = self.message().await?;
        let msg = if self.op == Op::Del {
            RouteNetlinkMessage::DelRoute(m)
        } else {
            RouteNetlinkMessage::NewRoute(m)
        };
        Ok((msg, self.op.flags()))
    }

    async fn run(self) -> Result<()> {
        let ctx = self.context();
        let (msg, flags) = self.request().await.within(&ctx)?;
        self.handle.rtnl.ack(msg, flags).await.within(&ctx)
    }
}

impl IntoFuture for RouteAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
