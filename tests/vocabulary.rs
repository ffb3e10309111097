//! iproute2's vocabulary in the builders (`"default"`, addresses as text,
//! every prefix type) and listings that cover both families, against the
//! kernel and cross-checked with `ip -j route` / `ip -j -6 route`.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::TestNs;
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use netlink_packet_route::route::RouteType;
use tokio_netlink::route::address::Family;
use tokio_netlink::route::link::kinds::Veth;
use tokio_netlink::{Error, Netlink};

/// Up veths v0/v1 with 192.0.2.1/24 and 2001:db8::1/64 (nodad) on v0.
async fn setup() -> (TestNs, Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .await
        .unwrap();
    (ns, nl)
}

/// The gateway `ip` shows for the default route of a family and table.
fn ip_default_gateway(ns: &TestNs, v6: bool, table: &str) -> Option<String> {
    let mut args = vec![];
    if v6 {
        args.push("-6");
    }
    args.extend(["route", "show", "default", "table", table]);
    let j = ns.ip_json(&args);
    j.as_array()?.first()?["gateway"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn default_routes_in_both_families() {
    let (ns, nl) = setup().await;
    nl.route().add("default").via("192.0.2.254").await.unwrap();
    assert_eq!(
        ip_default_gateway(&ns, false, "main").as_deref(),
        Some("192.0.2.254")
    );
    // An IPv6 gateway makes "default" IPv6, as `ip route add default via`.
    nl.route().add("default").via("2001:db8::fe").await.unwrap();
    assert_eq!(
        ip_default_gateway(&ns, true, "main").as_deref(),
        Some("2001:db8::fe")
    );
    // Or the family says so.
    nl.route()
        .add("default")
        .family(Family::V6)
        .dev("v0")
        .table(200)
        .await
        .unwrap();
    let j = ns.ip_json(&["-6", "route", "show", "default", "table", "200"]);
    assert_eq!(j[0]["dev"], "v0", "{j}");

    // Read back: both defaults, each in its family.
    let defaults: Vec<_> = nl
        .route()
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.dst_len() == 0)
        .map(|r| r.gateway().map(|g| g.to_string()))
        .collect();
    assert_eq!(
        defaults,
        [
            Some("192.0.2.254".to_owned()),
            Some("2001:db8::fe".to_owned())
        ]
    );

    nl.route().del("default").via("2001:db8::fe").await.unwrap();
    assert_eq!(ip_default_gateway(&ns, true, "main"), None);
    nl.route().del("default").await.unwrap();
    assert_eq!(ip_default_gateway(&ns, false, "main"), None);
    nl.route()
        .del("default")
        .family(Family::V6)
        .table(200)
        .await
        .unwrap();
    let e = nl.route().del("default").await.unwrap_err();
    assert_eq!(e.to_string(), "route del default: no such route");
    // A family that contradicts the prefix is refused before sending.
    let e = nl
        .route()
        .add("10.0.0.0/8")
        .family(Family::V6)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "family",
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn addresses_as_text_and_every_prefix_type() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("198.51.100.0/24")
        .via("192.0.2.9")
        .src("192.0.2.1")
        .await
        .unwrap();
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(
        (&j[0]["gateway"], &j[0]["prefsrc"]),
        (&"192.0.2.9".into(), &"192.0.2.1".into())
    );

    let r = nl.route();
    let v4 = |a, b| Ipv4Addr::new(10, a, b, 0);
    let prefixes = vec![
        (r.add((v4(1, 0), 16)), "10.1.0.0/16", false),
        (
            r.add((Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0), 48)),
            "2001:db8:1::/48",
            true,
        ),
        (
            r.add(Ipv4Network::new(v4(2, 0), 16).unwrap()),
            "10.2.0.0/16",
            false,
        ),
        (
            r.add(Ipv6Network::new("2001:db8:2::".parse().unwrap(), 48).unwrap()),
            "2001:db8:2::/48",
            true,
        ),
        (
            r.add(IpNetwork::V4(Ipv4Network::new(v4(3, 0), 16).unwrap())),
            "10.3.0.0/16",
            false,
        ),
        (
            r.add(IpAddr::V4(Ipv4Addr::new(10, 4, 0, 1))),
            "10.4.0.1",
            false,
        ),
    ];
    for (add, want, v6) in prefixes {
        add.kind(RouteType::BlackHole).await.unwrap();
        let fam = if v6 { "-6" } else { "-4" };
        let j = ns.ip_json(&[fam, "route", "show", "type", "blackhole"]);
        let dsts: Vec<_> = j
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["dst"].as_str().unwrap().to_owned())
            .collect();
        assert!(dsts.iter().any(|d| d == want), "{want} not in {dsts:?}");
    }

    let r = nl
        .route()
        .get("198.51.100.7")
        .from("192.0.2.1")
        .await
        .unwrap();
    assert_eq!(r.gateway(), Some("192.0.2.9".parse().unwrap()));
    let e = nl.route().get("198.51.100.x").await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "to", .. }), "{e}");

    nl.address()
        .add("v1", "10.77.0.1/32")
        .peer("10.77.0.2")
        .await
        .unwrap();
    let j = ns.ip_json(&["addr", "show", "v1"]);
    let a = j[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["local"] == "10.77.0.1")
        .cloned()
        .unwrap();
    assert_eq!(a["address"], "10.77.0.2");
    nl.neighbour()
        .add("v0", "192.0.2.33")
        .lladdr("02:00:00:00:00:33".parse().unwrap())
        .await
        .unwrap();
    let j = ns.ip_json(&["neigh", "show", "192.0.2.33"]);
    assert_eq!(j[0]["lladdr"], "02:00:00:00:00:33");
}

#[tokio::test]
async fn unfiltered_listings_cover_both_families() {
    let (ns, nl) = setup().await;
    nl.neighbour()
        .add("v0", "192.0.2.7")
        .lladdr("02:00:00:00:00:07".parse().unwrap())
        .await
        .unwrap();
    nl.neighbour()
        .add("v0", "2001:db8::7")
        .lladdr("02:00:00:00:00:17".parse().unwrap())
        .await
        .unwrap();
    nl.rule()
        .add()
        .from("10.0.0.0/8")
        .table(100)
        .priority(1000)
        .await
        .unwrap();
    nl.rule()
        .add()
        .from("2001:db8::/32")
        .table(100)
        .priority(1000)
        .await
        .unwrap();

    let fams = |v: Vec<Family>| (v.contains(&Family::V4), v.contains(&Family::V6));
    let routes = nl.route().list().dev("v0").await.unwrap();
    assert_eq!(
        fams(routes.iter().filter_map(|r| r.family()).collect()),
        (true, true)
    );
    let want = ns
        .ip_json(&["route", "show", "dev", "v0"])
        .as_array()
        .unwrap()
        .len()
        + ns.ip_json(&["-6", "route", "show", "dev", "v0"])
            .as_array()
            .unwrap()
            .len();
    assert_eq!(routes.len(), want);

    let rules = nl.rule().list().await.unwrap();
    let ours: Vec<_> = rules
        .iter()
        .filter(|r| r.priority() == 1000)
        .map(|r| r.family())
        .collect();
    assert_eq!(ours, [Family::V4, Family::V6]);
    let want = ns.ip_json(&["rule", "show"]).as_array().unwrap().len()
        + ns.ip_json(&["-6", "rule", "show"])
            .as_array()
            .unwrap()
            .len();
    assert_eq!(rules.len(), want);

    let neigh = nl.neighbour().list().dev("v0").await.unwrap();
    let v: Vec<_> = neigh.iter().filter_map(|n| n.destination()).collect();
    assert!(v.contains(&"192.0.2.7".parse().unwrap()), "{v:?}");
    assert!(v.contains(&"2001:db8::7".parse().unwrap()), "{v:?}");

    let addrs = nl.address().list().link("v0").await.unwrap();
    assert_eq!(
        fams(addrs.iter().map(|a| a.family()).collect()),
        (true, true)
    );
}
