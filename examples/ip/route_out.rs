//! A route as `ip -j route` prints it (`print_route`), and the line
//! `ip route` prints, written straight from the route's view.

use std::io::{self, Write};
use std::net::IpAddr;

use tokio_netlink::netlink_packet_route::address::AddressScope;
use tokio_netlink::netlink_packet_route::route::RouteMetric;
use tokio_netlink::route::address::scope_name;
use tokio_netlink::route::route::names::{protocol_name, table_name, type_name};
use tokio_netlink::route::route::{Nexthop, Route};

use crate::json::Names;
use crate::out::{self, Json};

const RTM_F_CLONED: u32 = 0x200;
const AF_INET: u8 = 2;

/// What the listing already says, so `ip` leaves it out of each route.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shown {
    /// A `table` filter other than `all` (ip's `filter.tb`).
    pub table: bool,
    pub protocol: bool,
    pub dev: bool,
    pub details: bool,
}

/// RTNH_F_* and RTM_F_* flag names in `print_rt_flags`'s order.
const RT_FLAGS: [(u32, &str); 11] = [
    (1, "dead"),
    (4, "onlink"),
    (2, "pervasive"),
    (8, "offload"),
    (64, "trap"),
    (0x100, "notify"),
    (16, "linkdown"),
    (32, "unresolved"),
    (0x2000, "rt_offload"),
    (0x4000, "rt_trap"),
    (0x2000_0000, "rt_offload_failed"),
];

/// RTCF_* names (`print_cache_flags`).
const CACHE_FLAGS: [(u32, &str); 14] = [
    (0x8000_0000, "local"),
    (0x4000_0000, "reject"),
    (0x2000_0000, "mc"),
    (0x1000_0000, "brd"),
    (0x0800_0000, "dst-nat"),
    (0x0080_0000, "src-nat"),
    (0x0040_0000, "masq"),
    (0x0002_0000, "dst-direct"),
    (0x0400_0000, "src-direct"),
    (0x0004_0000, "redirected"),
    (0x0100_0000, "redirect"),
    (0x0020_0000, "fastroute"),
    (0x0001_0000, "notify"),
    (0x0008_0000, "proxy"),
];

/// The `metrics` keys in RTAX_* order.
const METRIC_ORDER: [&str; 16] = [
    "mtu",
    "window",
    "rtt",
    "rttvar",
    "ssthresh",
    "cwnd",
    "advmss",
    "reordering",
    "hoplimit",
    "initcwnd",
    "features",
    "rto_min",
    "initrwnd",
    "quickack",
    "congestion",
    "fastopen_no_cookie",
];

/// Names looked up once per value, not once per route (table names come
/// from files).
#[derive(Default)]
struct Cache {
    types: Vec<Option<Box<str>>>,
    protos: Vec<Option<Box<str>>>,
    scopes: Vec<Option<Box<str>>>,
    tables: Vec<(u32, Box<str>)>,
}

fn cached(v: &mut Vec<Option<Box<str>>>, i: u8, f: impl FnOnce() -> String) -> &str {
    if v.is_empty() {
        v.resize(256, None);
    }
    v[i as usize].get_or_insert_with(|| f().into())
}

impl Cache {
    fn table(&mut self, id: u32) -> &str {
        let k = match self.tables.iter().position(|(i, _)| *i == id) {
            Some(k) => k,
            None => {
                self.tables.push((id, table_name(id).into()));
                self.tables.len() - 1
            }
        };
        &self.tables[k].1
    }
}

/// A route's values as `ip` names them, shared by both outputs.
pub struct Routes<'a> {
    pub names: &'a Names,
    pub shown: Shown,
    cache: Cache,
}

/// A metric as `print_rta_metrics` writes it: key, value.
enum MetricVal<'m> {
    N(u32),
    S(&'m str),
}

fn metric(m: &RouteMetric) -> Option<(&'static str, MetricVal<'_>)> {
    use MetricVal::N;
    Some(match m {
        RouteMetric::Mtu(v) => ("mtu", N(*v)),
        RouteMetric::Window(v) => ("window", N(*v)),
        RouteMetric::Rtt(v) => ("rtt", N(v / 8)),
        RouteMetric::RttVar(v) => ("rttvar", N(v / 4)),
        RouteMetric::SsThresh(v) => ("ssthresh", N(*v)),
        RouteMetric::Cwnd(v) => ("cwnd", N(*v)),
        RouteMetric::Advmss(v) => ("advmss", N(*v)),
        RouteMetric::Reordering(v) => ("reordering", N(*v)),
        RouteMetric::Hoplimit(v) if *v != u32::MAX => ("hoplimit", N(*v)),
        RouteMetric::InitCwnd(v) => ("initcwnd", N(*v)),
        RouteMetric::Features(v) => ("features", N(*v)),
        RouteMetric::RtoMin(v) => ("rto_min", N(*v)),
        RouteMetric::InitRwnd(v) => ("initrwnd", N(*v)),
        RouteMetric::QuickAck(v) => ("quickack", N(*v)),
        RouteMetric::CcAlgo(s) => ("congestion", MetricVal::S(s)),
        RouteMetric::FastopenNoCookie(v) => ("fastopen_no_cookie", N(*v)),
        _ => return None,
    })
}

/// The metrics `ip` prints, the last of each key winning (as in a map).
fn metric_list(m: &[RouteMetric]) -> Vec<(&'static str, MetricVal<'_>)> {
    let mut out: Vec<(&'static str, MetricVal<'_>)> = Vec::new();
    for (k, v) in m.iter().filter_map(metric) {
        match out.iter_mut().find(|(o, _)| *o == k) {
            Some(e) => e.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// `ADDR/LEN`, or the bare address for a host prefix.
fn prefix(w: &mut impl Write, ip: IpAddr, len: u8) -> io::Result<()> {
    out::ip(w, ip)?;
    let host = if ip.is_ipv4() { 32 } else { 128 };
    if len != host {
        w.write_all(b"/")?;
        out::uint(w, len.into())?;
    }
    Ok(())
}

fn fam(gw: IpAddr) -> &'static str {
    if gw.is_ipv4() { "inet" } else { "inet6" }
}

fn pref_name(p: u8) -> Option<&'static str> {
    match p {
        3 => Some("low"),
        0 => Some("medium"),
        1 => Some("high"),
        _ => None,
    }
}

impl<'a> Routes<'a> {
    pub fn new(names: &'a Names, shown: Shown) -> Routes<'a> {
        Routes {
            names,
            shown,
            cache: Cache::default(),
        }
    }

    fn table_shown(&self, r: &Route) -> Option<u32> {
        let t = r.table();
        (t != 0 && (t != 254 || self.shown.details) && !self.shown.table).then_some(t)
    }

    fn protocol_shown(&self, r: &Route) -> Option<u8> {
        let p = u8::from(r.protocol());
        let cloned = r.flags() & RTM_F_CLONED != 0;
        (!cloned && (p != 3 || self.shown.details) && !self.shown.protocol).then_some(p)
    }

    fn scope_shown(&self, r: &Route) -> Option<u8> {
        let s = u8::from(r.scope());
        let cloned = r.flags() & RTM_F_CLONED != 0;
        (!cloned && (s != 0 || self.shown.details)).then_some(s)
    }

    fn kind_shown(&self, r: &Route) -> Option<u8> {
        let k = u8::from(r.kind());
        (k != 1 || self.shown.details).then_some(k)
    }

    /// `gateway`, or a `via` object when the gateway's family is not the
    /// route's (RTA_VIA).
    fn gateway_json<W: Write>(j: &mut Json<W>, gw: IpAddr, v4_route: bool) -> io::Result<()> {
        if gw.is_ipv4() == v4_route {
            j.key("gateway")?;
            j.ip(gw)
        } else {
            j.key("via")?;
            j.begin_obj()?;
            j.kv_str("family", fam(gw))?;
            j.key("host")?;
            j.ip(gw)?;
            j.end_obj()
        }
    }

    fn flags_json<W: Write>(j: &mut Json<W>, f: u32) -> io::Result<()> {
        j.key("flags")?;
        j.begin_arr()?;
        for (_, n) in RT_FLAGS.iter().filter(|(b, _)| f & b != 0) {
            j.str(n)?;
        }
        j.end_arr()
    }

    /// One route as `ip -j route show` / `ip -j route get` prints it.
    pub fn json<W: Write>(&mut self, j: &mut Json<W>, r: &Route) -> io::Result<()> {
        j.begin_obj()?;
        if let Some(k) = self.kind_shown(r) {
            j.kv_str("type", cached(&mut self.cache.types, k, || type_name(k)))?;
        }
        j.key("dst")?;
        match r.destination() {
            Some(d) if r.dst_len() > 0 => j.quoted(|w| prefix(w, d.ip(), d.prefix()))?,
            _ => j.str("default")?,
        }
        if let Some(s) = r.source() {
            j.key("from")?;
            j.quoted(|w| prefix(w, s.ip(), s.prefix()))?;
        }
        // After `from`, before `tos`, as `print_route` has it.
        if let Some(id) = r.nhid() {
            j.kv_uint("nhid", id.into())?;
        }
        if r.tos() != 0 {
            j.key("tos")?;
            j.display(format_args!("0x{:02x}", r.tos()))?;
        }
        let v4 = r.family_raw() == AF_INET;
        if let Some(gw) = r.gateway() {
            Self::gateway_json(j, gw, v4)?;
        }
        if let Some(i) = r.oif().filter(|_| !self.shown.dev) {
            j.key("dev")?;
            self.names.json(j, i)?;
        }
        if let Some(t) = self.table_shown(r) {
            j.kv_str("table", self.cache.table(t))?;
        }
        if let Some(p) = self.protocol_shown(r) {
            j.kv_str(
                "protocol",
                cached(&mut self.cache.protos, p, || protocol_name(p)),
            )?;
        }
        if let Some(s) = self.scope_shown(r) {
            let name = cached(&mut self.cache.scopes, s, || {
                scope_name(AddressScope::from(s))
            });
            j.kv_str("scope", name)?;
        }
        if let Some(s) = r.prefsrc() {
            j.key("prefsrc")?;
            j.ip(s)?;
        }
        if let Some(m) = r.metric() {
            j.kv_uint("metric", m.into())?;
        }
        Self::flags_json(j, r.flags())?;
        if let Some(m) = r.mark().filter(|&m| m != 0) {
            j.kv_uint("mark", m.into())?;
        }
        if let Some(u) = r.uid() {
            j.kv_uint("uid", u.into())?;
        }
        if v4 && r.flags() & RTM_F_CLONED != 0 {
            let f = r.flags() & !0xffff;
            j.key("cache")?;
            j.begin_arr()?;
            for (_, n) in CACHE_FLAGS.iter().filter(|(b, _)| f & b != 0) {
                j.str(n)?;
            }
            j.end_arr()?;
        }
        if let Some(e) = r.expires() {
            j.kv_uint("expires", e.into())?;
        }
        let metrics = r.metrics();
        let ms = metric_list(&metrics);
        if !ms.is_empty() {
            j.key("metrics")?;
            j.begin_arr()?;
            j.begin_obj()?;
            for (k, v) in ms {
                j.key(k)?;
                match v {
                    MetricVal::N(n) => j.uint(n.into())?,
                    MetricVal::S(s) => j.str(s)?,
                }
            }
            j.end_obj()?;
            j.end_arr()?;
        }
        if let Some(i) = r.iif() {
            j.key("iif")?;
            self.names.json(j, i)?;
        }
        if let Some(p) = r.pref() {
            let p = u8::from(p);
            j.key("pref")?;
            match pref_name(p) {
                Some(n) => j.str(n)?,
                None => j.uint(p.into())?,
            }
        }
        if r.is_multipath() {
            j.key("nexthops")?;
            j.begin_arr()?;
            for n in r.nexthops() {
                self.nexthop_json(j, &n, v4)?;
            }
            j.end_arr()?;
        }
        j.end_obj()
    }

    fn nexthop_json<W: Write>(&self, j: &mut Json<W>, n: &Nexthop, v4: bool) -> io::Result<()> {
        j.begin_obj()?;
        if let Some(gw) = n.gateway {
            Self::gateway_json(j, gw, v4)?;
        }
        j.key("dev")?;
        self.names.json(j, n.oif.unwrap_or(0))?;
        j.kv_uint("weight", n.weight.into())?;
        Self::flags_json(j, n.flags)?;
        j.end_obj()
    }

    /// `via GW ` / `via inet6 GW `.
    fn gateway_text(w: &mut impl Write, gw: IpAddr, v4_route: bool) -> io::Result<()> {
        if gw.is_ipv4() == v4_route {
            w.write_all(b"via ")?;
        } else {
            write!(w, "via {} ", fam(gw))?;
        }
        out::ip(w, gw)?;
        w.write_all(b" ")
    }

    fn flags_text(w: &mut impl Write, f: u32) -> io::Result<()> {
        for (_, n) in RT_FLAGS.iter().filter(|(b, _)| f & b != 0) {
            w.write_all(n.as_bytes())?;
            w.write_all(b" ")?;
        }
        Ok(())
    }

    /// The lines `ip route` prints for a route (without the last newline).
    pub fn text(&mut self, w: &mut impl Write, r: &Route) -> io::Result<()> {
        if let Some(k) = self.kind_shown(r) {
            w.write_all(cached(&mut self.cache.types, k, || type_name(k)).as_bytes())?;
            w.write_all(b" ")?;
        }
        match r.destination() {
            Some(d) if r.dst_len() > 0 => prefix(w, d.ip(), d.prefix())?,
            _ => w.write_all(b"default")?,
        }
        w.write_all(b" ")?;
        if let Some(s) = r.source() {
            w.write_all(b"from ")?;
            prefix(w, s.ip(), s.prefix())?;
            w.write_all(b" ")?;
        }
        if let Some(id) = r.nhid() {
            write!(w, "nhid {id} ")?;
        }
        if r.tos() != 0 {
            write!(w, "tos 0x{:02x} ", r.tos())?;
        }
        let v4 = r.family_raw() == AF_INET;
        if let Some(gw) = r.gateway() {
            Self::gateway_text(w, gw, v4)?;
        }
        if let Some(i) = r.oif().filter(|_| !self.shown.dev) {
            w.write_all(b"dev ")?;
            self.names.text(w, i)?;
            w.write_all(b" ")?;
        }
        if let Some(t) = self.table_shown(r) {
            write!(w, "table {} ", self.cache.table(t))?;
        }
        if let Some(p) = self.protocol_shown(r) {
            let name = cached(&mut self.cache.protos, p, || protocol_name(p));
            write!(w, "proto {name} ")?;
        }
        if let Some(s) = self.scope_shown(r) {
            let name = cached(&mut self.cache.scopes, s, || {
                scope_name(AddressScope::from(s))
            });
            write!(w, "scope {name} ")?;
        }
        if let Some(s) = r.prefsrc() {
            w.write_all(b"src ")?;
            out::ip(w, s)?;
            w.write_all(b" ")?;
        }
        if let Some(m) = r.metric() {
            w.write_all(b"metric ")?;
            out::uint(w, m.into())?;
            w.write_all(b" ")?;
        }
        Self::flags_text(w, r.flags())?;
        match r.mark().filter(|&m| m != 0) {
            Some(m) if m >= 16 => write!(w, "mark 0x{m:x} ")?,
            Some(m) => write!(w, "mark {m} ")?,
            None => {}
        }
        if let Some(u) = r.uid() {
            write!(w, "uid {u} ")?;
        }
        if v4 && r.flags() & RTM_F_CLONED != 0 {
            let f = r.flags() & !0xffff;
            w.write_all(b"\n    cache ")?;
            let mut c = CACHE_FLAGS.iter().filter(|(b, _)| f & b != 0).peekable();
            if c.peek().is_some() {
                w.write_all(b"<")?;
                for (k, (_, n)) in c.enumerate() {
                    if k > 0 {
                        w.write_all(b",")?;
                    }
                    w.write_all(n.as_bytes())?;
                }
                w.write_all(b"> ")?;
            }
        }
        if let Some(e) = r.expires() {
            write!(w, "expires {e}sec ")?;
        }
        let metrics = r.metrics();
        let ms = metric_list(&metrics);
        // In RTAX_* order, as ip prints them.
        for k in METRIC_ORDER {
            let Some((_, v)) = ms.iter().find(|(m, _)| *m == k) else {
                continue;
            };
            match (k, v) {
                ("rtt" | "rttvar" | "rto_min", MetricVal::N(n)) => write!(w, "{k} {n}ms ")?,
                ("congestion", MetricVal::S(s)) => write!(w, "congctl {s} ")?,
                (_, MetricVal::N(n)) => write!(w, "{k} {n} ")?,
                (_, MetricVal::S(s)) => write!(w, "{k} {s} ")?,
            }
        }
        if let Some(i) = r.iif() {
            w.write_all(b"iif ")?;
            self.names.text(w, i)?;
            w.write_all(b" ")?;
        }
        if let Some(p) = r.pref() {
            let p = u8::from(p);
            match pref_name(p) {
                Some(n) => write!(w, "pref {n}")?,
                None => write!(w, "pref {p}")?,
            }
        }
        if r.is_multipath() {
            for n in r.nexthops() {
                w.write_all(b"\n\tnexthop ")?;
                if let Some(gw) = n.gateway {
                    Self::gateway_text(w, gw, v4)?;
                }
                w.write_all(b"dev ")?;
                self.names.text(w, n.oif.unwrap_or(0))?;
                write!(w, " weight {} ", n.weight)?;
                Self::flags_text(w, n.flags)?;
            }
        }
        Ok(())
    }
}
