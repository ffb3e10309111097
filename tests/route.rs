//! RouteHandle against the kernel, cross-checked with `ip -j route`.

mod common;

use std::net::IpAddr;

use common::TestNs;
use netlink_packet_route::route::{RouteMetric, RoutePreference, RouteProtocol, RouteType};
use tokio_netlink::Error;
use tokio_netlink::route::address::Family;
use tokio_netlink::route::link::kinds::Veth;
use tokio_netlink::route::route::NexthopSpec;
use tokio_netlink::route::route::names::{protocol_name, table_name, type_name};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A namespace with up veths v0/v1 (192.0.2.1/24, 2001:db8::1/64 on v0) and
/// w0/w1 (198.18.0.1/24 on w0).
async fn setup() -> (TestNs, tokio_netlink::Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    for (a, b) in [("v0", "v1"), ("w0", "w1")] {
        nl.link().add(a, Veth::peer(b)).up().await.unwrap();
        nl.link().set(b).up().await.unwrap();
    }
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .await
        .unwrap();
    nl.address().add("w0", "198.18.0.1/24").await.unwrap();
    (ns, nl)
}

/// `n` blackhole /32 routes in `table`, added with `ip -batch`.
fn add_blackholes(ns: &TestNs, n: u32, table: u32) {
    let lines: String = (0..n)
        .map(|i| {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            format!("route add blackhole {a}/32 table {table}\n")
        })
        .collect();
    ns.ip_batch(&lines);
}

/// What a mixed batch added besides its routes, as `ip` sees it: an address
/// on w0, a neighbour (address, lladdr) on v0, a rule (priority, table).
fn assert_batch_landed(ns: &TestNs, addr: &str, neigh: (&str, &str), rule: (u32, &str)) {
    let has = |args: &[&str], f: &dyn Fn(&serde_json::Value) -> bool| {
        ns.ip_json(args).as_array().unwrap().iter().any(f)
    };
    assert!(has(&["addr", "show", "dev", "w0"], &|l| {
        l["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["local"] == addr)
    }));
    assert!(has(&["neigh", "show", "dev", "v0"], &|n| {
        n["dst"] == neigh.0 && n["lladdr"] == neigh.1
    }));
    assert!(has(&["rule", "show"], &|r| {
        r["priority"] == rule.0 && r["table"] == rule.1
    }));
}

/// The IPv6 route to `dst` in the main table, as the library lists it.
async fn v6_route(nl: &tokio_netlink::Netlink, dst: &str) -> tokio_netlink::route::route::Route {
    nl.route()
        .list()
        .family(Family::V6)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.destination().unwrap().to_string() == dst)
        .unwrap()
}

fn find<'a>(routes: &'a [serde_json::Value], dst: &str) -> &'a serde_json::Value {
    routes
        .iter()
        .find(|r| r["dst"] == dst)
        .unwrap_or_else(|| panic!("{dst} not in {routes:?}"))
}

#[tokio::test]
async fn unicast_route_with_everything_agrees_with_ip() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("198.51.100.0/24")
        .via(ip("192.0.2.254"))
        .dev("v0")
        .src(ip("192.0.2.1"))
        .table(100)
        .metric(50)
        .protocol(RouteProtocol::Static)
        .await
        .unwrap();
    let ours = nl.route().list().table(100).await.unwrap();
    assert_eq!(ours.len(), 1);
    let r = &ours[0];
    let v0 = nl.link().get("v0").await.unwrap().index();
    assert_eq!(r.destination().unwrap().to_string(), "198.51.100.0/24");
    assert_eq!(r.gateway(), Some(ip("192.0.2.254")));
    assert_eq!(r.oif(), Some(v0));
    assert_eq!(r.prefsrc(), Some(ip("192.0.2.1")));
    assert_eq!(r.table(), 100);
    assert_eq!(r.metric(), Some(50));
    assert_eq!(protocol_name(r.protocol().into()), "static");
    assert_eq!(type_name(r.kind().into()), "unicast");
    assert_eq!(r.nexthops().len(), 1);

    let j = ns.ip_json(&["route", "show", "table", "100"]);
    let jr = find(j.as_array().unwrap(), "198.51.100.0/24");
    assert_eq!(jr["gateway"], "192.0.2.254");
    assert_eq!(jr["dev"], "v0");
    assert_eq!(jr["prefsrc"], "192.0.2.1");
    assert_eq!(jr["metric"], 50);
    assert_eq!(jr["protocol"], "static");
}

#[tokio::test]
async fn route_types_and_large_table_ids() {
    let (ns, nl) = setup().await;
    for (dst, t) in [
        ("10.1.0.0/16", RouteType::BlackHole),
        ("10.2.0.0/16", RouteType::Unreachable),
        ("10.3.0.0/16", RouteType::Prohibit),
        ("10.4.0.0/16", RouteType::Throw),
    ] {
        nl.route().add(dst).kind(t).table(70000).await.unwrap();
    }
    nl.route()
        .add("192.0.2.77/32")
        .kind(RouteType::Local)
        .dev("v0")
        .table_name("local")
        .await
        .unwrap();
    let ours = nl.route().list().table(70000).await.unwrap();
    let mut kinds: Vec<String> = ours.iter().map(|r| type_name(r.kind().into())).collect();
    kinds.sort();
    assert_eq!(kinds, ["blackhole", "prohibit", "throw", "unreachable"]);
    assert!(ours.iter().all(|r| r.table() == 70000));
    let j = ns.ip_json(&["route", "show", "table", "70000"]);
    for (dst, t) in [
        ("10.1.0.0/16", "blackhole"),
        ("10.2.0.0/16", "unreachable"),
        ("10.3.0.0/16", "prohibit"),
        ("10.4.0.0/16", "throw"),
    ] {
        assert_eq!(find(j.as_array().unwrap(), dst)["type"], t);
    }
    // Kernel-side type filter.
    let bh = nl
        .route()
        .list()
        .table(70000)
        .kind(RouteType::BlackHole)
        .await
        .unwrap();
    assert_eq!(bh.len(), 1);
    let local = nl
        .route()
        .list()
        .table(255)
        .kind(RouteType::Local)
        .await
        .unwrap();
    assert!(
        local
            .iter()
            .any(|r| r.destination().unwrap().to_string() == "192.0.2.77/32")
    );
    assert_eq!(table_name(255), "local");
}

#[tokio::test]
async fn ecmp_with_weights() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("203.0.113.0/24")
        .nexthop(NexthopSpec::via(ip("192.0.2.2")).dev("v0").weight(1))
        .nexthop(NexthopSpec::via(ip("198.18.0.2")).dev("w0").weight(5))
        .await
        .unwrap();
    let r = nl
        .route()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.destination().unwrap().to_string() == "203.0.113.0/24")
        .unwrap();
    let hops = r.nexthops();
    assert_eq!(hops.len(), 2);
    let v0 = nl.link().get("v0").await.unwrap().index();
    let w0 = nl.link().get("w0").await.unwrap().index();
    assert_eq!(
        (hops[0].gateway, hops[0].oif, hops[0].weight),
        (Some(ip("192.0.2.2")), Some(v0), 1)
    );
    assert_eq!(
        (hops[1].gateway, hops[1].oif, hops[1].weight),
        (Some(ip("198.18.0.2")), Some(w0), 5)
    );
    let j = ns.ip_json(&["route", "show", "203.0.113.0/24"]);
    let nh = j[0]["nexthops"].as_array().unwrap();
    assert_eq!(nh[0]["gateway"], "192.0.2.2");
    assert_eq!(nh[0]["dev"], "v0");
    assert_eq!(nh[0]["weight"], 1);
    assert_eq!(nh[1]["gateway"], "198.18.0.2");
    assert_eq!(nh[1]["weight"], 5);
}

#[tokio::test]
async fn ipv6_routes_pref_and_ipv4_via_ipv6() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("2001:db8:1::/48")
        .via(ip("2001:db8::2"))
        .dev("v0")
        .metric(300)
        .pref(RoutePreference::High)
        .await
        .unwrap();
    let v6 = nl.route().list().family(Family::V6).await.unwrap();
    let r = v6
        .iter()
        .find(|r| r.destination().unwrap().to_string() == "2001:db8:1::/48")
        .unwrap();
    assert_eq!(r.gateway(), Some(ip("2001:db8::2")));
    assert_eq!(r.metric(), Some(300));
    assert_eq!(r.pref(), Some(RoutePreference::High));
    let j = ns.ip_json(&["-6", "route", "show", "2001:db8:1::/48"]);
    assert_eq!(j[0]["gateway"], "2001:db8::2");
    assert_eq!(j[0]["metric"], 300);
    assert_eq!(j[0]["pref"], "high");

    nl.route()
        .add("198.51.100.0/24")
        .via(ip("2001:db8::2"))
        .dev("v0")
        .await
        .unwrap();
    let r = nl
        .route()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.destination().unwrap().to_string() == "198.51.100.0/24")
        .unwrap();
    assert!(r.has_via());
    assert_eq!(r.gateway(), Some(ip("2001:db8::2")));
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(j[0]["via"]["host"], "2001:db8::2");
    assert_eq!(j[0]["via"]["family"], "inet6");
}

#[tokio::test]
async fn metrics_onlink_replace_append_and_delete() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("198.51.100.0/24")
        .via(ip("203.0.113.1"))
        .dev("v0")
        .onlink()
        .mtu(1400)
        .route_metric(RouteMetric::Advmss(1360))
        .route_metric(RouteMetric::InitCwnd(20))
        .route_metric(RouteMetric::CcAlgo("reno".into()))
        .await
        .unwrap();
    let r = nl.route().list().dev("v0").await.unwrap();
    let r = r
        .iter()
        .find(|r| r.destination().unwrap().to_string() == "198.51.100.0/24")
        .unwrap();
    assert_eq!(
        r.nexthops()[0].flags & tokio_netlink::route::route::RTNH_F_ONLINK,
        4
    );
    let m = r.metrics();
    assert!(m.contains(&RouteMetric::Mtu(1400)), "{m:?}");
    assert!(m.contains(&RouteMetric::Advmss(1360)));
    assert!(m.contains(&RouteMetric::InitCwnd(20)));
    assert!(m.contains(&RouteMetric::CcAlgo("reno".into())));
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    let jm = &j[0]["metrics"][0];
    assert_eq!(jm["mtu"], 1400);
    assert_eq!(jm["advmss"], 1360);
    assert_eq!(jm["initcwnd"], 20);
    assert_eq!(jm["congestion"], "reno");
    assert!(
        j[0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "onlink")
    );

    // add again: exists; replace changes the gateway; append adds beside.
    let e = nl
        .route()
        .add("198.51.100.0/24")
        .via(ip("192.0.2.9"))
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
    nl.route()
        .replace("198.51.100.0/24")
        .via(ip("192.0.2.9"))
        .await
        .unwrap();
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert_eq!(j[0]["gateway"], "192.0.2.9");
    nl.route()
        .append("198.51.100.0/24")
        .via(ip("198.18.0.9"))
        .metric(10)
        .await
        .unwrap();
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(j.as_array().unwrap().len(), 2);

    nl.route().del("198.51.100.0/24").metric(10).await.unwrap();
    nl.route().del("198.51.100.0/24").await.unwrap();
    assert!(
        ns.ip_json(&["route", "show", "198.51.100.0/24"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let e = nl.route().del("198.51.100.0/24").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn route_get_like_ip_route_get() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("198.51.100.0/24")
        .via(ip("192.0.2.254"))
        .await
        .unwrap();
    let v0 = nl.link().get("v0").await.unwrap().index();
    let r = nl.route().get(ip("198.51.100.7")).await.unwrap();
    assert_eq!(r.destination().unwrap().to_string(), "198.51.100.7/32");
    assert_eq!(r.gateway(), Some(ip("192.0.2.254")));
    assert_eq!(r.oif(), Some(v0));
    assert_eq!(r.prefsrc(), Some(ip("192.0.2.1")));
    let j = ns.ip_json(&["route", "get", "198.51.100.7"]);
    assert_eq!(j[0]["gateway"], "192.0.2.254");
    assert_eq!(j[0]["dev"], "v0");
    assert_eq!(j[0]["prefsrc"], "192.0.2.1");

    let f = nl.route().get(ip("198.51.100.7")).fibmatch().await.unwrap();
    assert_eq!(f.destination().unwrap().to_string(), "198.51.100.0/24");
    let m = nl
        .route()
        .get(ip("198.51.100.7"))
        .from(ip("192.0.2.1"))
        .oif("v0")
        .mark(7)
        .uid(1000)
        .await
        .unwrap();
    assert_eq!(m.oif(), Some(v0));
    assert_eq!(m.mark(), Some(7));
    assert_eq!(m.uid(), Some(1000));
    let e = nl
        .route()
        .get(ip("198.51.100.7"))
        .from(ip("::1"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "from", .. }),
        "{e}"
    );
}

#[tokio::test]
async fn kernel_side_filters_match_ip() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("10.10.0.0/16")
        .dev("v0")
        .protocol(RouteProtocol::Bgp)
        .await
        .unwrap();
    nl.route()
        .add("10.11.0.0/16")
        .dev("w0")
        .protocol(RouteProtocol::Ospf)
        .await
        .unwrap();
    nl.route().add("10.12.0.0/16").dev("w0").await.unwrap();
    let names = |rs: Vec<tokio_netlink::route::route::Route>| {
        let mut v: Vec<String> = rs
            .iter()
            .map(|r| r.destination().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let jnames = |args: &[&str]| {
        let j = ns.ip_json(args);
        let mut v: Vec<String> = j
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let d = r["dst"].as_str().unwrap();
                if d.contains('/') {
                    d.to_string()
                } else {
                    format!("{d}/32")
                }
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(
            nl.route()
                .list()
                .protocol(RouteProtocol::Bgp)
                .await
                .unwrap()
        ),
        jnames(&["route", "show", "proto", "bgp"])
    );
    // Without a family: IPv4 and IPv6, as `ip route` and `ip -6 route`.
    let mut both = jnames(&["route", "show", "dev", "w0"]);
    both.extend(jnames(&["-6", "route", "show", "dev", "w0"]));
    both.sort();
    assert_eq!(names(nl.route().list().dev("w0").await.unwrap()), both);
    assert!(both.contains(&"fe80::/64".to_owned()), "{both:?}");
    assert_eq!(
        names(
            nl.route()
                .list()
                .dev("w0")
                .family(Family::V4)
                .await
                .unwrap()
        ),
        jnames(&["route", "show", "dev", "w0"])
    );
    assert_eq!(
        names(
            nl.route()
                .list()
                .dev("w0")
                .family(Family::V4)
                .await
                .unwrap()
        )
        .len(),
        3
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let (_ns, nl) = setup().await;
    let e = nl
        .route()
        .add("2001:db8:5::/48")
        .via(ip("192.0.2.1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "gateway",
                ..
            }
        ),
        "{e}"
    );
    let e = nl
        .route()
        .add("198.51.100.1/24")
        .dev("v0")
        .await
        .unwrap_err();
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
    assert!(e.to_string().contains("198.51.100.0/24"), "{e}");
    let e = nl
        .route()
        .add("198.51.100.0/24")
        .dev("v0")
        .table_name("no-such")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "table", .. }),
        "{e}"
    );
    for w in [0u16, 257] {
        let e = nl
            .route()
            .add("198.51.100.0/24")
            .nexthop(NexthopSpec::via(ip("192.0.2.2")).weight(w))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "weight",
                    ..
                }
            ),
            "{e}"
        );
    }
    let e = nl
        .route()
        .add("198.51.100.0/24")
        .dev("nosuch0")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = nl.route().del("198.51.100.0/24").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = nl.route().add("10.0.0.0/33").await.unwrap_err();
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
    // A gateway the kernel cannot reach: the kernel's own text.
    let e = nl
        .route()
        .add("198.51.100.0/24")
        .via(ip("203.0.113.9"))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENETUNREACH), "{e}");
    assert!(e.kernel_message().is_some(), "{e}");
}

#[tokio::test]
async fn seg6_encapsulation_round_trips() {
    use netlink_packet_route::route::{RouteLwTunnelEncap, RouteSeg6IpTunnel, Seg6Mode};
    let (ns, nl) = setup().await;
    let seg: std::net::Ipv6Addr = "2001:db8::5".parse().unwrap();
    nl.route()
        .add("2001:db8:9::/48")
        .dev("v0")
        .encap_seg6(true, &[seg])
        .await
        .unwrap();
    let r = v6_route(&nl, "2001:db8:9::/48").await;
    assert_eq!(r.encap_type(), Some(5), "LWTUNNEL_ENCAP_SEG6");
    let e = r.encap();
    let hdr = e
        .iter()
        .find_map(|x| match x {
            RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(h)) => Some(h),
            _ => None,
        })
        .expect("seg6 header decoded");
    assert_eq!(hdr.mode, Seg6Mode::Encap);
    assert_eq!(hdr.segments, vec![seg]);
    let j = ns.ip_json(&["-6", "route", "show", "2001:db8:9::/48"]);
    assert_eq!(j[0]["encap"], "seg6");
    assert_eq!(j[0]["mode"], "encap");
    assert_eq!(j[0]["segs"][0], "2001:db8::5");
}

#[tokio::test]
async fn route_get_reports_the_table_and_local_routes_default_to_local() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("192.0.2.99/32")
        .kind(RouteType::Local)
        .dev("v0")
        .await
        .unwrap();
    let j = ns.ip_json(&["route", "show", "table", "local", "192.0.2.99"]);
    assert_eq!(
        j.as_array().unwrap().len(),
        1,
        "local routes go to table local"
    );
    let r = nl.route().get(ip("192.0.2.99")).await.unwrap();
    assert_eq!(type_name(r.kind().into()), "local");
    let e = nl
        .route()
        .add("198.51.100.0/24")
        .table_name("nosuch")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid table: \"nosuch\" is not a table name or number"
    );
}

#[tokio::test]
async fn ipv6_route_expiry() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("2001:db8:77::/48")
        .via(ip("2001:db8::2"))
        .dev("v0")
        .expires(300)
        .await
        .unwrap();
    let r = v6_route(&nl, "2001:db8:77::/48").await;
    let left = r.expires().expect("an expiring route");
    assert!((290..=300).contains(&left), "{left}");
    let j = ns.ip_json(&["-6", "route", "show", "2001:db8:77::/48"]);
    let ip_left = j[0]["expires"].as_u64().expect("ip shows expires");
    assert!(
        ip_left.abs_diff(u64::from(left)) <= 2,
        "{ip_left} vs {left}"
    );
}

/// On two workers a listing is read ahead by a thread of its own: it must
/// yield exactly what the kernel holds, and stop (its dump socket released)
/// when the consumer drops it part-way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_read_ahead_is_complete_and_stops_when_dropped() {
    use futures::StreamExt;
    use std::future::IntoFuture;
    let ns = TestNs::new().await;
    let nl = ns.client();
    let n = 5000u32;
    add_blackholes(&ns, n, 77);
    let ours: Vec<_> = nl.route().list().table(77).await.unwrap();
    assert_eq!(ours.len(), n as usize);
    let ip = ns.ip_json(&["route", "show", "table", "77"]);
    let theirs: std::collections::BTreeSet<String> = ip
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dst"].as_str().unwrap().to_string())
        .collect();
    let mine: std::collections::BTreeSet<String> = ours
        .iter()
        .map(|r| r.destination().unwrap().ip().to_string())
        .collect();
    assert_eq!(mine, theirs);
    // The same with read-ahead off gives the same routes.
    let plain = tokio_netlink::Netlink::builder()
        .netns(ns.name.as_str())
        .read_ahead(false)
        .build()
        .unwrap();
    assert_eq!(
        plain.route().list().table(77).await.unwrap().len(),
        n as usize
    );

    // More concurrent listings than read-ahead threads: the rest run plain.
    let all = futures::future::join_all((0..12).map(|_| nl.route().list().table(77).into_future()));
    for r in all.await {
        assert_eq!(r.unwrap().len(), n as usize);
    }

    let rtnl = nl.rtnl();
    for _ in 0..5 {
        let mut s = Box::pin(nl.route().list().table(77).stream());
        for _ in 0..10 {
            s.next().await.unwrap().unwrap();
        }
        drop(s);
    }
    let mut waited = 0;
    while rtnl.stats().dumps_running != 0 {
        assert!(
            waited < 500,
            "read-ahead dumps still running: {:?}",
            rtnl.stats()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(nl.route().list().table(77).await.unwrap().len(), n as usize);
}

/// Builders of every family give their checked request to `ack_batch`: one
/// batch adds routes, addresses, neighbours and rules, in order, and a
/// request refused by the kernel fails alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builders_into_request_feed_one_ack_batch() {
    let (ns, nl) = setup().await;
    let mut reqs = Vec::new();
    for i in 0..50u8 {
        let add = nl
            .route()
            .add(format!("10.50.{i}.0/24").as_str())
            .via(ip("192.0.2.2"))
            .dev("v0")
            .table(60);
        reqs.push(add.into_request().await.unwrap());
    }
    reqs.push(
        nl.address()
            .add("w0", "198.18.0.9/24")
            .into_request()
            .await
            .unwrap(),
    );
    let mac = "02:00:00:00:00:09".parse().unwrap();
    reqs.push(
        nl.neighbour()
            .add("v0", ip("192.0.2.9"))
            .lladdr(mac)
            .into_request()
            .await
            .unwrap(),
    );
    reqs.push(
        nl.rule()
            .add()
            .priority(300)
            .from("10.50.0.0/16")
            .table(60)
            .into_request()
            .await
            .unwrap(),
    );
    // The same route again: the kernel refuses this one only.
    let dup = nl
        .route()
        .add("10.50.0.0/24")
        .via(ip("192.0.2.2"))
        .table(60);
    reqs.push(dup.into_request().await.unwrap());
    // Refused before sending: host bits set.
    let bad = nl
        .route()
        .add("10.51.0.1/24")
        .via(ip("192.0.2.2"))
        .table(60);
    assert!(matches!(
        bad.into_request().await,
        Err(Error::InvalidInput { .. })
    ));

    let results = nl.rtnl().ack_batch(reqs).await.unwrap();
    assert_eq!(results.len(), 54);
    let (last, rest) = results.split_last().unwrap();
    assert!(last.as_ref().unwrap_err().is_exists(), "{last:?}");
    assert!(rest.iter().all(|r| r.is_ok()), "{rest:?}");

    let routes = ns.ip_json(&["route", "show", "table", "60"]);
    assert_eq!(routes.as_array().unwrap().len(), 50);
    assert_eq!(
        find(routes.as_array().unwrap(), "10.50.7.0/24")["dev"],
        "v0"
    );
    assert_batch_landed(
        &ns,
        "198.18.0.9",
        ("192.0.2.9", "02:00:00:00:00:09"),
        (300, "60"),
    );
}

/// A runtime dropped while a listing is being read ahead shuts down: the
/// reader thread sees its consumer gone and ends.
#[test]
fn runtime_shutdown_ends_a_read_ahead_listing() {
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ns = setup.block_on(TestNs::new());
    add_blackholes(&ns, 5000, 78);
    let name = ns.name.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (got_tx, got_rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            use futures::StreamExt;
            let nl = tokio_netlink::Netlink::in_netns(name.as_str()).unwrap();
            let mut s = Box::pin(nl.route().list().table(78).stream());
            s.next().await.unwrap().unwrap();
            got_tx.send(()).unwrap();
            // Hold the stream (and its reader) until the runtime goes away.
            std::future::pending::<()>().await;
        });
        got_rx.recv().unwrap();
        drop(rt);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the runtime shut down");
    drop(ns);
}

/// `nl.batch()`: builders of four families in one batch; refusals before
/// sending (bad input, unknown device) and by the kernel (a duplicate) fail
/// alone and in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_builders_answers_each_in_place() {
    let (ns, nl) = setup().await;
    let mut batch = nl.batch();
    assert!(batch.is_empty());
    for i in 0..20u8 {
        batch.push(
            nl.route()
                .add(format!("10.60.{i}.0/24").as_str())
                .via(ip("192.0.2.2"))
                .dev("v0")
                .table(61),
        );
    }
    batch.push(nl.route().add("10.61.0.1/24").table(61)); // 20: host bits set
    batch.push(nl.route().add("10.62.0.0/24").dev("nope0").table(61)); // 21: no such device
    batch.push(
        nl.route()
            .add("10.60.3.0/24")
            .via(ip("192.0.2.2"))
            .table(61),
    ); // 22: duplicate
    batch.push(nl.address().add("w0", "198.18.0.10/24"));
    let mac = "02:00:00:00:00:0a".parse().unwrap();
    batch.push(nl.neighbour().add("v0", ip("192.0.2.10")).lladdr(mac));
    batch.push(nl.rule().add().priority(310).from("10.60.0.0/16").table(61));
    assert_eq!(batch.len(), 26);
    let results = batch.send().await.unwrap();
    assert_eq!(results.len(), 26);
    for (i, r) in results.iter().enumerate() {
        match i {
            20 => assert!(
                matches!(
                    r,
                    Err(Error::InvalidInput {
                        field: "prefix",
                        ..
                    })
                ),
                "{r:?}"
            ),
            21 => assert!(r.as_ref().unwrap_err().is_not_found(), "{r:?}"),
            22 => assert!(r.as_ref().unwrap_err().is_exists(), "{r:?}"),
            _ => assert!(r.is_ok(), "change {i}: {r:?}"),
        }
    }
    let routes = ns.ip_json(&["route", "show", "table", "61"]);
    assert_eq!(routes.as_array().unwrap().len(), 20);
    assert_batch_landed(
        &ns,
        "198.18.0.10",
        ("192.0.2.10", "02:00:00:00:00:0a"),
        (310, "61"),
    );
    // An empty batch sends nothing.
    assert!(nl.batch().send().await.unwrap().is_empty());
}

/// `nl.batch()` keeps the order changes were pushed in, though a change
/// naming a device waits for its lookup while the others are encoded at
/// once, and answers each change of a batch sent in several chunks in its
/// place, with its own context.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_keeps_push_order_across_lookups_and_chunks() {
    let (ns, nl) = setup().await;
    let mut batch = nl.batch();
    // Looked up when sent, then deleted by the change after it: sent in the
    // wrong order the delete would find nothing.
    batch.push(
        nl.route()
            .add("10.70.0.0/24")
            .via(ip("192.0.2.2"))
            .dev("v0")
            .table(71),
    );
    batch.push(nl.route().del("10.70.0.0/24").table(71));
    let n = 20_000u32;
    let nth = |i: u32| std::net::Ipv4Addr::from(0x0a80_0000 + i);
    for i in 0..n {
        // The 15,000th repeats the 3rd: refused by the kernel, in a later chunk.
        let dst = if i == 15_000 { nth(3) } else { nth(i) };
        batch.push(
            nl.route()
                .add((std::net::IpAddr::V4(dst), 32))
                .kind(RouteType::BlackHole)
                .table(72),
        );
    }
    let results = batch.send().await.unwrap();
    assert_eq!(results.len(), 2 + n as usize);
    for (i, r) in results.iter().enumerate() {
        if i == 2 + 15_000 {
            let e = r.as_ref().unwrap_err();
            assert!(e.is_exists(), "{e:?}");
            assert!(
                e.to_string()
                    .starts_with(&format!("route add {}/32 table 72", nth(3))),
                "{e}"
            );
        } else {
            assert!(r.is_ok(), "change {i}: {r:?}");
        }
    }
    assert!(
        ns.ip_json(&["route", "show", "table", "71"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let landed = ns.ip_json(&["route", "show", "table", "72"]);
    assert_eq!(landed.as_array().unwrap().len(), n as usize - 1);
}

/// `lock` on metrics, typed both ways, as `ip route` shows it.
#[tokio::test]
async fn metric_locks_are_named() {
    use tokio_netlink::route::route::MetricLocks;
    let ns = TestNs::new().await;
    let nl = ns.client();
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&[
        "route",
        "add",
        "10.70.0.0/16",
        "dev",
        "v0",
        "mtu",
        "lock",
        "1400",
        "window",
        "lock",
        "1000",
    ]);
    nl.route()
        .add("10.71.0.0/16")
        .dev("v0")
        .mtu(1300)
        .lock(MetricLocks::MTU | MetricLocks::ADVMSS)
        .route_metric(netlink_packet_route::route::RouteMetric::Advmss(1200))
        .await
        .unwrap();
    let routes = nl.route().list().await.unwrap();
    let by_ip = routes
        .iter()
        .find(|r| r.destination().unwrap().to_string() == "10.70.0.0/16")
        .unwrap();
    let l = by_ip.metric_locks();
    assert!(l.mtu() && l.window() && !l.advmss() && !l.rtt(), "{l:?}");
    let ours = routes
        .iter()
        .find(|r| r.destination().unwrap().to_string() == "10.71.0.0/16")
        .unwrap();
    let l = ours.metric_locks();
    assert!(l.mtu() && l.advmss() && !l.window(), "{l:?}");
    let text = ns.ip(&["route", "show", "10.71.0.0/16"]);
    assert!(
        text.contains("mtu lock 1300") && text.contains("advmss lock 1200"),
        "{text}"
    );
    nl.route()
        .add("10.72.0.0/16")
        .dev("v0")
        .mtu(1300)
        .await
        .unwrap();
    let plain = nl.route().list().to("10.72.0.0/16").await.unwrap();
    assert_eq!(plain[0].metric_locks(), MetricLocks::default());
}
