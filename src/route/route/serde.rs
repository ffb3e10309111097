//! `serde` for routes: [`Route`] and its [`Nexthop`]s in `ip -j route`'s
//! words.

use std::net::IpAddr;

use ::serde::ser::{Serialize, Serializer};
use netlink_packet_route::route::RouteMetric;

use super::names::{protocol_name, type_name};
use super::{Nexthop, Route};
use crate::route::address::scope_name;
use crate::serde_util::{Fields, family_name};
use crate::types::Family;

/// RTNH_F_* and RTM_F_* names in `ip`'s order.
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

pub(crate) fn flag_names(f: u32) -> Vec<&'static str> {
    RT_FLAGS
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// A table's name from the kernel's fixed ones only (not rt_tables,
/// whose content depends on the host): `main`, `local`, `default`,
/// `unspec`, else the number as text — `ip`'s spelling on a host without
/// named tables.
pub(crate) fn table_text(id: u32) -> String {
    match id {
        254 => "main".into(),
        255 => "local".into(),
        253 => "default".into(),
        0 => "unspec".into(),
        n => n.to_string(),
    }
}

/// `ADDR/LEN`, the bare address for a host prefix, as `ip` prints it.
fn prefix_text(ip: IpAddr, len: u8) -> String {
    let host = if ip.is_ipv4() { 32 } else { 128 };
    if len == host {
        ip.to_string()
    } else {
        format!("{ip}/{len}")
    }
}

/// `gateway`, or `via: {family, host}` when the gateway's family is not
/// the route's (RTA_VIA).
fn gateway<M: ::serde::ser::SerializeMap>(
    m: &mut Fields<M>,
    gw: Option<IpAddr>,
    v4_route: bool,
) -> Result<(), M::Error> {
    #[derive(::serde::Serialize)]
    struct Via {
        family: &'static str,
        host: IpAddr,
    }
    match gw {
        Some(gw) if gw.is_ipv4() != v4_route => {
            let family = family_name(if gw.is_ipv4() { Family::V4 } else { Family::V6 });
            m.put("via", &Via { family, host: gw })?;
        }
        gw => {
            m.opt("gateway", gw)?;
        }
    }
    Ok(())
}

/// One `metrics` entry as `print_rta_metrics` writes it.
fn metric(m: &RouteMetric) -> Option<(&'static str, MetricVal<'_>)> {
    use MetricVal::N;
    Some(match m {
        RouteMetric::Lock(v) => ("lock", N(*v)),
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

#[derive(::serde::Serialize)]
#[serde(untagged)]
enum MetricVal<'m> {
    N(u32),
    S(&'m str),
}

/// The route's metrics as one map, the last of each key winning.
struct Metrics<'m>(Vec<(&'static str, MetricVal<'m>)>);

impl Serialize for Metrics<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ::serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A route as `ip -j route show` prints it, every field given (where `ip`
/// leaves out the defaults) and devices by index:
///
/// | field | type | from |
/// |---|---|---|
/// | `family` | string | `inet`, `inet6`, or the AF number as text |
/// | `type` | string | [`Route::kind`]: `unicast`, `local`, `blackhole`… |
/// | `dst` | string | `default`, `ADDR` (host prefix) or `ADDR/LEN` |
/// | `from` | string | [`Route::source`], same form |
/// | `tos` | string | `0x10` (only when not 0) |
/// | `gateway` | string | [`Route::gateway`] |
/// | `via` | map | `family`, `host`: a gateway of the other family (RTA_VIA) |
/// | `ifindex` | number | [`Route::oif`] (`ip`'s `dev` is its name) |
/// | `iif_index` | number | [`Route::iif`] |
/// | `table` | string | `main`, `local`, `default`, `unspec` or the id as text (rt_tables is not read) |
/// | `protocol` | string | `kernel`, `boot`, `static`, `bgp`… or the number as text |
/// | `scope` | string | `global`, `link`, `host`… |
/// | `prefsrc` | string | [`Route::prefsrc`] |
/// | `metric` | number | [`Route::metric`] |
/// | `flags` | array of strings | `onlink`, `linkdown`, `dead`… |
/// | `mark`, `uid`, `expires`, `nhid` | number | |
/// | `pref` | string | `low`, `medium`, `high` (or the number as text) |
/// | `encap_type` | number | [`Route::encap_type`] |
/// | `metrics` | map | `mtu`, `advmss`, `congestion`… as `ip -j` prints them |
/// | `nexthops` | array of [`Nexthop`] | multipath routes only |
impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v4 = self.family() == Some(Family::V4);
        let mut m = Fields::begin(s)?;
        match self.family() {
            Some(f) => m.put("family", family_name(f))?,
            None => m.put("family", &self.family_raw().to_string())?,
        };
        m.put("type", &type_name(u8::from(self.kind())))?;
        match self.destination() {
            Some(d) if self.dst_len() > 0 => m.put("dst", &prefix_text(d.ip(), d.prefix()))?,
            _ => m.put("dst", "default")?,
        };
        m.opt(
            "from",
            self.source().map(|p| prefix_text(p.ip(), p.prefix())),
        )?
        .opt(
            "tos",
            (self.tos() != 0).then(|| format!("0x{:02x}", self.tos())),
        )?;
        gateway(&mut m, self.gateway(), v4)?;
        m.opt("ifindex", self.oif())?
            .opt("iif_index", self.iif())?
            .put("table", &table_text(self.table()))?
            .put("protocol", &protocol_name(u8::from(self.protocol())))?
            .put(
                "scope",
                &scope_name(netlink_packet_route::address::AddressScope::from(u8::from(
                    self.scope(),
                ))),
            )?
            .opt("prefsrc", self.prefsrc())?
            .opt("metric", self.metric())?
            .put("flags", &flag_names(self.flags()))?
            .opt("mark", self.mark())?
            .opt("uid", self.uid())?
            .opt("expires", self.expires())?
            .opt("nhid", self.nhid())?
            .opt(
                "pref",
                self.pref().map(|p| match u8::from(p) {
                    3 => "low".to_owned(),
                    0 => "medium".to_owned(),
                    1 => "high".to_owned(),
                    n => n.to_string(),
                }),
            )?
            .opt("encap_type", self.encap_type())?;
        let metrics = self.metrics();
        let mut list: Vec<(&'static str, MetricVal<'_>)> = Vec::new();
        for (k, v) in metrics.iter().filter_map(metric) {
            match list.iter_mut().find(|(o, _)| *o == k) {
                Some(e) => e.1 = v,
                None => list.push((k, v)),
            }
        }
        if !list.is_empty() {
            m.put("metrics", &Metrics(list))?;
        }
        if self.is_multipath() {
            let hops: Vec<_> = self.nexthops().into_iter().map(|n| HopSer(n, v4)).collect();
            m.put("nexthops", &hops)?;
        }
        m.end()
    }
}

/// A next hop, with the family of its route for `via`.
struct HopSer(Nexthop, bool);

impl Serialize for HopSer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        hop(&self.0, self.1, s)
    }
}

fn hop<S: Serializer>(n: &Nexthop, v4_route: bool, s: S) -> Result<S::Ok, S::Error> {
    let mut m = Fields::begin(s)?;
    gateway(&mut m, n.gateway, v4_route)?;
    m.opt("ifindex", n.oif)?
        .put("weight", &n.weight)?
        .put("flags", &flag_names(n.flags))?;
    m.end()
}

/// A next hop as `ip -j route` prints one of `nexthops`: `gateway` (or
/// `via` for a gateway of the other family… which a lone `Nexthop`
/// cannot tell, so here it is always `gateway`), `ifindex` (`ip`'s `dev`
/// is its name), `weight` and `flags` (`onlink`, `dead`…).
impl Serialize for Nexthop {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        hop(self, self.gateway.is_none_or(|g| g.is_ipv4()), s)
    }
}
