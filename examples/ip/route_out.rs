//! A route as `ip -j route` prints it (`print_route`), and the text line
//! `ip route` prints, rendered from that object.

use std::fmt::Write;
use std::net::IpAddr;

use serde_json::{Map, Value};
use tokio_netlink::netlink_packet_route::address::AddressScope;
use tokio_netlink::netlink_packet_route::route::RouteMetric;
use tokio_netlink::route::address::scope_name;
use tokio_netlink::route::route::names::{protocol_name, table_name, type_name};
use tokio_netlink::route::route::{Nexthop, Route};

use crate::json::Names;

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

fn flags(f: u32) -> Value {
    let names = RT_FLAGS.iter().filter(|(b, _)| f & b != 0);
    names.map(|(_, n)| Value::from(*n)).collect()
}

/// `ADDR/LEN`, or the bare address for a host prefix.
fn prefix(ip: IpAddr, len: u8) -> String {
    let host = if ip.is_ipv4() { 32 } else { 128 };
    if len == host {
        ip.to_string()
    } else {
        format!("{ip}/{len}")
    }
}

/// `gateway`, or a `via` object when the gateway's family is not the
/// route's (RTA_VIA).
fn gateway(o: &mut Map<String, Value>, gw: IpAddr, v4_route: bool) {
    if gw.is_ipv4() == v4_route {
        o.insert("gateway".into(), gw.to_string().into());
    } else {
        let fam = if gw.is_ipv4() { "inet" } else { "inet6" };
        let via = serde_json::json!({"family": fam, "host": gw.to_string()});
        o.insert("via".into(), via);
    }
}

/// `metrics: [{mtu: …}]` as `print_rta_metrics` writes them.
fn metrics(m: &[RouteMetric]) -> Option<Value> {
    let mut o = Map::new();
    for m in m {
        let (k, v): (&str, Value) = match m {
            RouteMetric::Mtu(v) => ("mtu", (*v).into()),
            RouteMetric::Window(v) => ("window", (*v).into()),
            RouteMetric::Rtt(v) => ("rtt", (v / 8).into()),
            RouteMetric::RttVar(v) => ("rttvar", (v / 4).into()),
            RouteMetric::SsThresh(v) => ("ssthresh", (*v).into()),
            RouteMetric::Cwnd(v) => ("cwnd", (*v).into()),
            RouteMetric::Advmss(v) => ("advmss", (*v).into()),
            RouteMetric::Reordering(v) => ("reordering", (*v).into()),
            RouteMetric::Hoplimit(v) if *v != u32::MAX => ("hoplimit", (*v).into()),
            RouteMetric::InitCwnd(v) => ("initcwnd", (*v).into()),
            RouteMetric::Features(v) => ("features", (*v).into()),
            RouteMetric::RtoMin(v) => ("rto_min", (*v).into()),
            RouteMetric::InitRwnd(v) => ("initrwnd", (*v).into()),
            RouteMetric::QuickAck(v) => ("quickack", (*v).into()),
            RouteMetric::CcAlgo(s) => ("congestion", s.clone().into()),
            RouteMetric::FastopenNoCookie(v) => ("fastopen_no_cookie", (*v).into()),
            _ => continue,
        };
        o.insert(k.into(), v);
    }
    (!o.is_empty()).then(|| Value::Array(vec![Value::Object(o)]))
}

fn nexthop(n: &Nexthop, names: &Names, v4_route: bool) -> Value {
    let mut o = Map::new();
    if let Some(gw) = n.gateway {
        gateway(&mut o, gw, v4_route);
    }
    o.insert("dev".into(), names.name(n.oif.unwrap_or(0)).into());
    o.insert("weight".into(), n.weight.into());
    o.insert("flags".into(), flags(n.flags));
    Value::Object(o)
}

/// One route as `ip -j route show` / `ip -j route get` prints it.
pub fn route(r: &Route, names: &Names, shown: Shown) -> Map<String, Value> {
    let mut o = Map::new();
    let put = |o: &mut Map<String, Value>, k: &str, v: Value| {
        o.insert(k.to_owned(), v);
    };
    let kind = u8::from(r.kind());
    if kind != 1 || shown.details {
        put(&mut o, "type", type_name(kind).into());
    }
    let dst = match r.destination() {
        Some(d) if r.dst_len() > 0 => prefix(d.ip(), d.prefix()),
        _ => "default".into(),
    };
    put(&mut o, "dst", dst.into());
    if let Some(s) = r.source() {
        put(&mut o, "from", prefix(s.ip(), s.prefix()).into());
    }
    if r.tos() != 0 {
        put(&mut o, "tos", format!("0x{:02x}", r.tos()).into());
    }
    let v4 = r.family_raw() == AF_INET;
    if let Some(gw) = r.gateway() {
        gateway(&mut o, gw, v4);
    }
    if let Some(i) = r.oif().filter(|_| !shown.dev) {
        put(&mut o, "dev", names.name(i).into());
    }
    let table = r.table();
    if table != 0 && (table != 254 || shown.details) && !shown.table {
        put(&mut o, "table", table_name(table).into());
    }
    let cloned = r.flags() & RTM_F_CLONED != 0;
    if !cloned {
        let p = u8::from(r.protocol());
        if (p != 3 || shown.details) && !shown.protocol {
            put(&mut o, "protocol", protocol_name(p).into());
        }
        let s = u8::from(r.scope());
        if s != 0 || shown.details {
            put(&mut o, "scope", scope_name(AddressScope::from(s)).into());
        }
    }
    if let Some(s) = r.prefsrc() {
        put(&mut o, "prefsrc", s.to_string().into());
    }
    if let Some(m) = r.metric() {
        put(&mut o, "metric", m.into());
    }
    put(&mut o, "flags", flags(r.flags()));
    if let Some(m) = r.mark().filter(|&m| m != 0) {
        put(&mut o, "mark", m.into());
    }
    if let Some(u) = r.uid() {
        put(&mut o, "uid", u.into());
    }
    if v4 && cloned {
        let f = r.flags() & !0xffff;
        let c = CACHE_FLAGS.iter().filter(|(b, _)| f & b != 0);
        put(&mut o, "cache", c.map(|(_, n)| Value::from(*n)).collect());
    }
    if let Some(e) = r.expires() {
        put(&mut o, "expires", e.into());
    }
    if let Some(m) = metrics(&r.metrics()) {
        put(&mut o, "metrics", m);
    }
    if let Some(i) = r.iif() {
        put(&mut o, "iif", names.name(i).into());
    }
    if let Some(p) = r.pref() {
        let p = match u8::from(p) {
            3 => "low".into(),
            0 => "medium".into(),
            1 => "high".into(),
            n => Value::from(n),
        };
        put(&mut o, "pref", p);
    }
    if r.is_multipath() {
        let hops = r.nexthops().iter().map(|n| nexthop(n, names, v4)).collect();
        put(&mut o, "nexthops", Value::Array(hops));
    }
    o
}

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

fn s<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

/// `via GW ` / `via inet6 GW `, `dev D `, then the flag words.
fn hop_text(out: &mut String, o: &Map<String, Value>) {
    if let Some(g) = s(o, "gateway") {
        let _ = write!(out, "via {g} ");
    }
    if let Some(Value::Object(v)) = o.get("via") {
        let _ = write!(
            out,
            "via {} {} ",
            s(v, "family").unwrap_or("?"),
            s(v, "host").unwrap_or("?")
        );
    }
}

fn flag_words(out: &mut String, o: &Map<String, Value>) {
    for f in o
        .get("flags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = write!(out, "{} ", f.as_str().unwrap_or("?"));
    }
}

/// The lines `ip route` prints for a route object.
pub fn text(o: &Map<String, Value>) -> String {
    let mut out = String::new();
    let word = |out: &mut String, key: &str, label: &str| {
        if let Some(v) = o.get(key) {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let _ = write!(out, "{label}{v} ");
        }
    };
    word(&mut out, "type", "");
    word(&mut out, "dst", "");
    word(&mut out, "from", "from ");
    word(&mut out, "tos", "tos ");
    hop_text(&mut out, o);
    word(&mut out, "dev", "dev ");
    word(&mut out, "table", "table ");
    word(&mut out, "protocol", "proto ");
    word(&mut out, "scope", "scope ");
    word(&mut out, "prefsrc", "src ");
    word(&mut out, "metric", "metric ");
    flag_words(&mut out, o);
    match o.get("mark").and_then(Value::as_u64) {
        Some(m) if m >= 16 => {
            let _ = write!(out, "mark 0x{m:x} ");
        }
        Some(m) => {
            let _ = write!(out, "mark {m} ");
        }
        None => {}
    }
    word(&mut out, "uid", "uid ");
    if let Some(c) = o.get("cache").and_then(Value::as_array) {
        out.push_str("\n    cache ");
        if !c.is_empty() {
            let c: Vec<&str> = c.iter().filter_map(Value::as_str).collect();
            let _ = write!(out, "<{}> ", c.join(","));
        }
    }
    if let Some(e) = o.get("expires") {
        let _ = write!(out, "expires {e}sec ");
    }
    if let Some(Value::Object(m)) = o.get("metrics").and_then(|m| m.get(0)) {
        // In RTAX_* order, as ip prints them.
        for k in METRIC_ORDER {
            let Some(v) = m.get(k) else { continue };
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            match k {
                "rtt" | "rttvar" | "rto_min" => write!(out, "{k} {v}ms "),
                "congestion" => write!(out, "congctl {v} "),
                _ => write!(out, "{k} {v} "),
            }
            .ok();
        }
    }
    word(&mut out, "iif", "iif ");
    if let Some(p) = o.get("pref") {
        let _ = write!(
            out,
            "pref {}",
            p.as_str().map_or_else(|| p.to_string(), str::to_owned)
        );
    }
    for h in o
        .get("nexthops")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let h = h.as_object().expect("object");
        out.push_str("\n\tnexthop ");
        hop_text(&mut out, h);
        let _ = write!(
            out,
            "dev {} weight {} ",
            s(h, "dev").unwrap_or("?"),
            h["weight"]
        );
        flag_words(&mut out, h);
    }
    out
}
