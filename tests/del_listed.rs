//! Deleting what a listing returned (vishvananda/netlink's
//! `RouteDel(&routes[0])`): routes, addresses, rules, neighbours and XFRM
//! policies, each removed exactly, cross-checked with `ip -j`.

mod common;

use common::TestNs;
use tokio_netlink::route::link::kinds::Veth;
use tokio_netlink::xfrm::{Dir, IpsecProto, Mode, Policy, Selector, Template};

async fn setup() -> (TestNs, tokio_netlink::Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .await
        .unwrap();
    (ns, nl)
}

#[tokio::test]
async fn routes_from_a_listing_are_deleted_exactly() {
    let (ns, nl) = setup().await;
    let batch = "route add 198.51.100.0/24 via 192.0.2.2 table 100 metric 5
route add 198.51.100.0/24 via 192.0.2.3 table 100 metric 6
route add blackhole 203.0.113.0/24 table 100 proto static
route add 10.7.0.0/16 table 100 nexthop via 192.0.2.2 weight 1 nexthop via 192.0.2.3 weight 2
route add 2001:db8:7::/48 via 2001:db8::2 table 100
route add 2001:db8:8::/48 table 100 nexthop via 2001:db8::2 nexthop via 2001:db8::3
";
    ns.ip_batch(batch);
    let count = |v6: bool| {
        let fam = if v6 { "-6" } else { "-4" };
        ns.ip_json(&[fam, "route", "show", "table", "100"])
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((count(false), count(true)), (4, 2));
    let routes = nl.route().list().table(100).await.unwrap();
    assert_eq!(routes.len(), 6, "{routes:#?}");
    // The metric-6 twin first: the metric-5 route must stay.
    let twin = routes.iter().find(|r| r.metric() == Some(6)).unwrap();
    nl.route().del_route(twin).await.unwrap();
    let ip = ns.ip_json(&["route", "show", "table", "100", "198.51.100.0/24"]);
    assert_eq!(ip.as_array().unwrap().len(), 1, "{ip}");
    assert_eq!(ip[0]["metric"], 5);
    let e = nl.route().del_route(twin).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("198.51.100.0/24"), "{e}");
    for r in nl.route().list().table(100).await.unwrap() {
        nl.route().del_route(&r).await.unwrap();
    }
    assert_eq!((count(false), count(true)), (0, 0));
    // Other tables untouched.
    let main = ns.ip_json(&["route", "show"]);
    assert!(!main.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn addresses_rules_and_neighbours_from_listings_are_deleted() {
    let (ns, nl) = setup().await;
    ns.ip(&["addr", "add", "192.0.2.9/24", "dev", "v0", "label", "v0:x"]);
    let addrs = nl.address().list().link("v0").await.unwrap();
    let labelled = addrs.iter().find(|a| a.label() == Some("v0:x")).unwrap();
    nl.address().del_address(labelled).await.unwrap();
    let ip = ns.ip_json(&["addr", "show", "dev", "v0"]);
    let locals: Vec<&str> = ip[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["local"].as_str())
        .collect();
    assert!(!locals.contains(&"192.0.2.9"), "{locals:?}");
    assert!(locals.contains(&"192.0.2.1") && locals.contains(&"2001:db8::1"));
    assert!(
        nl.address()
            .del_address(labelled)
            .await
            .unwrap_err()
            .is_not_found()
    );

    ns.ip(&[
        "rule",
        "add",
        "priority",
        "100",
        "from",
        "10.0.0.0/8",
        "table",
        "7",
    ]);
    ns.ip(&[
        "rule",
        "add",
        "priority",
        "100",
        "from",
        "10.1.0.0/16",
        "table",
        "8",
    ]);
    ns.ip(&[
        "-6",
        "rule",
        "add",
        "priority",
        "101",
        "to",
        "2001:db8::/32",
        "table",
        "9",
    ]);
    let rules = nl.rule().list().await.unwrap();
    let r8 = rules.iter().find(|r| r.table() == 8).unwrap();
    nl.rule().del_rule(r8).await.unwrap();
    let ip = ns.ip_json(&["rule", "show"]);
    let at100: Vec<_> = ip
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["priority"] == 100)
        .collect();
    assert_eq!(at100.len(), 1, "{ip}");
    assert_eq!(at100[0]["table"], "7");
    let r9 = rules.iter().find(|r| r.table() == 9).unwrap();
    nl.rule().del_rule(r9).await.unwrap();
    let ip6 = ns.ip_json(&["-6", "rule", "show"]);
    assert!(ip6.as_array().unwrap().iter().all(|r| r["priority"] != 101));
    assert!(nl.rule().del_rule(r9).await.unwrap_err().is_not_found());

    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.7",
        "lladdr",
        "02:00:00:00:00:07",
        "dev",
        "v0",
    ]);
    ns.ip(&[
        "neigh",
        "add",
        "2001:db8::7",
        "lladdr",
        "02:00:00:00:00:08",
        "dev",
        "v0",
    ]);
    ns.ip(&["neigh", "add", "proxy", "192.0.2.8", "dev", "v0"]);
    let mut n = 0;
    for e in nl.neighbour().list().await.unwrap() {
        if e.index() == nl.link().get("v0").await.unwrap().index() {
            nl.neighbour().del_neighbour(&e).await.unwrap();
            n += 1;
        }
    }
    assert!(n >= 2, "{n}");
    let left = ns.ip_json(&["neigh", "show", "dev", "v0"]);
    assert!(
        left.as_array()
            .unwrap()
            .iter()
            .all(|e| e["dst"] != "192.0.2.7" && e["dst"] != "2001:db8::7"),
        "{left}"
    );
    for e in nl.neighbour().list().proxy().await.unwrap() {
        nl.neighbour().del_neighbour(&e).await.unwrap();
    }
    let proxies = ns.ip_json(&["neigh", "show", "proxy"]);
    assert!(proxies.as_array().unwrap().is_empty(), "{proxies}");
}

#[tokio::test]
async fn xfrm_policies_from_a_listing_are_deleted_by_their_id() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    for (i, dir) in [(1, Dir::Out), (2, Dir::In)] {
        let sel = Selector::new(format!("10.0.{i}.0/24").as_str(), "10.9.0.0/24").unwrap();
        let t = Template::new(IpsecProto::Esp, Mode::Tunnel).endpoints("192.0.2.1", "192.0.2.2");
        let mut p = Policy::new(sel, dir).priority(10 + i).template(t);
        if i == 2 {
            p = p.if_id(42);
        }
        x.add_policy(&p).await.unwrap();
    }
    let listed = x.policies().await.unwrap();
    assert_eq!(listed.len(), 2);
    let with_if_id = listed.iter().find(|p| p.if_id == Some(42)).unwrap();
    x.del_policy(&with_if_id.id()).await.unwrap();
    let left = x.policies().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].priority, 11);
    let text = ns.ip(&["xfrm", "policy", "list"]);
    assert!(
        text.contains("10.0.1.0/24") && !text.contains("10.0.2.0/24"),
        "{text}"
    );
    assert!(
        x.del_policy(&with_if_id.id())
            .await
            .unwrap_err()
            .is_not_found()
    );
    x.del_policy(&left[0].id()).await.unwrap();
    assert!(x.policies().await.unwrap().is_empty());
}
