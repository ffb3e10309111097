//! Listing filters (vishvananda/netlink's RouteListFiltered and friends):
//! each selects what `ip … show` with the same selector shows.

mod common;

use std::collections::BTreeSet;

use common::TestNs;
use netlink_packet_route::route::RouteScope;
use tokio_netlink::Error;
use tokio_netlink::route::link::kinds::Veth;

async fn setup() -> (TestNs, tokio_netlink::Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.address().add("v0", "192.0.2.5/24").await.unwrap();
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .await
        .unwrap();
    ns.ip_batch(
        "route add 10.0.0.0/8 via 192.0.2.2 table 100
route add 10.1.0.0/16 via 192.0.2.3 table 100
route add 10.1.2.0/24 via 192.0.2.2 src 192.0.2.5 table 100
route add 10.1.2.3/32 dev v0 scope link table 100
route add 10.2.0.0/16 tos 0x10 via 192.0.2.2 table 100
route add 172.16.0.0/12 table 100 nexthop via 192.0.2.2 nexthop via 192.0.2.3
route add 2001:db8:1::/48 via 2001:db8::2 table 100
route add 2001:db8:1:2::/64 via 2001:db8::3 table 100
",
    );
    (ns, nl)
}

/// `ip -j [-6] route show table 100 ARGS` as a set of dst strings.
fn ip_dsts(ns: &TestNs, v6: bool, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec![
        if v6 { "-6" } else { "-4" },
        "route",
        "show",
        "table",
        "100",
    ];
    all.extend_from_slice(args);
    ns.ip_json(&all)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dst"].as_str().unwrap().to_owned())
        .collect()
}

fn our_dsts(routes: &[tokio_netlink::route::route::Route]) -> BTreeSet<String> {
    routes
        .iter()
        .map(|r| {
            let d = r.destination().unwrap();
            let host = if d.is_ipv4() { 32 } else { 128 };
            if d.prefix() == host {
                d.ip().to_string()
            } else {
                d.to_string()
            }
        })
        .collect()
}

#[tokio::test]
async fn route_filters_select_what_ip_route_show_selects() {
    let (ns, nl) = setup().await;
    let list = || nl.route().list().table(100);
    let cases: Vec<(Vec<&str>, bool, tokio_netlink::route::route::RouteList)> = vec![
        (vec!["to", "10.1.0.0/16"], false, list().to("10.1.0.0/16")),
        (
            vec!["to", "root", "10.1.0.0/16"],
            false,
            list().to_root("10.1.0.0/16"),
        ),
        (
            vec!["to", "match", "10.1.2.3"],
            false,
            list().to_match("10.1.2.3"),
        ),
        (
            vec!["to", "match", "2001:db8:1:2::5"],
            true,
            list().to_match("2001:db8:1:2::5"),
        ),
        (vec!["via", "192.0.2.3"], false, list().via("192.0.2.3")),
        (vec!["via", "192.0.2.2"], false, list().via("192.0.2.2")),
        (vec!["src", "192.0.2.5"], false, list().src("192.0.2.5")),
        (vec!["scope", "link"], false, list().scope(RouteScope::Link)),
        (vec!["tos", "0x10"], false, list().tos(0x10)),
        (vec!["via", "2001:db8::3"], true, list().via("2001:db8::3")),
    ];
    for (args, v6, ours) in cases {
        let mut want = ip_dsts(&ns, v6, &args);
        // ip's `via` looks at single-path routes only; ours also takes a
        // multipath route through that gateway.
        if args[0] == "via" && !v6 {
            want.insert("172.16.0.0/12".into());
        }
        let got = our_dsts(&ours.await.unwrap());
        assert!(!want.is_empty(), "{args:?} selects nothing in ip");
        assert_eq!(got, want, "{args:?}");
    }
    // Filters combine; an address names the family, so one dump.
    let got = our_dsts(&list().to_root("10.0.0.0/8").via("192.0.2.2").await.unwrap());
    assert_eq!(
        got,
        ip_dsts(
            &ns,
            false,
            &["to", "root", "10.0.0.0/8", "via", "192.0.2.2"]
        )
    );
    // Bad input names the field.
    for (e, field) in [
        (list().to("10.0.0.0/40").await.unwrap_err(), "to"),
        (list().via("gw").await.unwrap_err(), "via"),
        (list().src("192.0.2").await.unwrap_err(), "src"),
    ] {
        assert!(
            matches!(e.cause(), Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {e}"
        );
    }
}

#[tokio::test]
async fn rule_and_neighbour_filters() {
    let (ns, nl) = setup().await;
    ns.ip(&[
        "rule",
        "add",
        "priority",
        "100",
        "fwmark",
        "0x10/0xff",
        "table",
        "7",
    ]);
    ns.ip(&[
        "rule", "add", "priority", "101", "fwmark", "0x10", "table", "7",
    ]);
    ns.ip(&[
        "rule",
        "add",
        "priority",
        "102",
        "from",
        "10.0.0.0/8",
        "table",
        "8",
    ]);
    ns.ip(&["-6", "rule", "add", "priority", "103", "table", "7"]);
    let prios = |rs: Vec<tokio_netlink::route::rule::Rule>| -> Vec<u32> {
        let mut v: Vec<u32> = rs.iter().map(|r| r.priority()).collect();
        v.sort();
        v
    };
    assert_eq!(
        prios(nl.rule().list().table(7).await.unwrap()),
        [100, 101, 103]
    );
    let ip7: Vec<u64> = ns
        .ip_json(&["rule", "show", "table", "7"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["priority"].as_u64().unwrap())
        .collect();
    assert_eq!(ip7, [100, 101]);
    assert_eq!(prios(nl.rule().list().priority(102).await.unwrap()), [102]);
    assert_eq!(
        prios(nl.rule().list().fwmark(0x10, 0xff).await.unwrap()),
        [100]
    );
    assert_eq!(
        prios(nl.rule().list().fwmark(0x10, u32::MAX).await.unwrap()),
        [101]
    );

    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.7",
        "lladdr",
        "02:00:00:00:00:07",
        "dev",
        "v0",
        "nud",
        "permanent",
    ]);
    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.8",
        "lladdr",
        "02:00:00:00:00:08",
        "dev",
        "v0",
        "nud",
        "stale",
    ]);
    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.9",
        "lladdr",
        "02:00:00:00:00:09",
        "dev",
        "v0",
        "nud",
        "reachable",
        "router",
    ]);
    let dsts = |ns: Vec<tokio_netlink::route::neighbour::Neighbour>| -> BTreeSet<String> {
        ns.iter()
            .filter_map(|n| n.destination().map(|d| d.to_string()))
            .collect()
    };
    let ip_nud = |state: &str| -> BTreeSet<String> {
        ns.ip_json(&["neigh", "show", "dev", "v0", "nud", state])
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["dst"].as_str().unwrap().to_owned())
            .collect()
    };
    for (state, bits) in [("permanent", 0x80u16), ("stale", 0x04), ("reachable", 0x02)] {
        let got = dsts(nl.neighbour().list().dev("v0").nud(bits).await.unwrap());
        assert_eq!(got, ip_nud(state), "nud {state}");
        assert_eq!(got.len(), 1);
    }
    let routers = dsts(nl.neighbour().list().flags(0x80).await.unwrap());
    assert_eq!(routers, BTreeSet::from(["192.0.2.9".to_owned()]));
}
