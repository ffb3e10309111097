//! The watch cache against the kernel: changes, and convergence after
//! losses under a flood.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{TestNs, nth_addr};
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use tokio_netlink::Netlink;
use tokio_netlink::route::address::Address;
use tokio_netlink::route::link::Link;
use tokio_netlink::route::link::kinds::Veth;
use tokio_netlink::route::neighbour::Neighbour;
use tokio_netlink::route::route::{Nexthop, Route};
use tokio_netlink::watch::{Change, RouteKey, Watch, Watched};

async fn next_change<T: std::fmt::Debug>(
    changes: &mut (impl futures::Stream<Item = Change<T>> + Unpin),
) -> Change<T> {
    tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("a change within 10 s")
        .expect("stream open")
}

/// Waits until the watch equals a fresh dump by `view`, quiescing between
/// tries: the kernel may still be adding objects of its own (link-local
/// addresses and their routes once carrier is seen). A cache that stays
/// wrong fails after 10 s.
async fn settle<T: Watched, V: PartialEq + std::fmt::Debug>(
    watch: &mut Watch<T>,
    nl: &Netlink,
    step: &str,
    view: impl Fn(&[T]) -> V,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        watch.quiesce(Duration::from_millis(200)).await;
        let dump: Vec<T> = T::dump(nl).try_collect().await.expect("fresh dump");
        let (cached, dumped) = (view(&watch.snapshot()), view(&dump));
        if cached == dumped {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{step}: the watch differs from a dump\nwatch: {cached:#?}\ndump: {dumped:#?}"
        );
    }
}

fn keys<T: Watched>(objs: &[T]) -> HashSet<T::Key> {
    objs.iter().map(Watched::key).collect()
}

/// The keys a fresh dump gives.
async fn dumped_keys<T: Watched>(nl: &Netlink) -> HashSet<T::Key> {
    T::dump(nl)
        .map_ok(|o| o.key())
        .try_collect()
        .await
        .expect("fresh dump")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_changes_are_emitted_and_the_cache_matches_the_kernel() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut links = nl.watch::<Link>().await.unwrap();
    assert_eq!(links.len(), 1, "lo");
    let mut changes = links.changes();
    nl.link().add("v0", Veth::peer("v1")).await.unwrap();
    let mut added = HashSet::new();
    while added.len() < 2 {
        match next_change(&mut changes).await {
            Change::Added(l) => {
                added.insert(l.name().to_owned());
            }
            Change::Changed { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, HashSet::from(["v0".to_string(), "v1".to_string()]));
    nl.link().set("v0").mtu(1400).await.unwrap();
    loop {
        if let Change::Changed { old, new } = next_change(&mut changes).await
            && new.name() == "v0"
            && new.mtu() == Some(1400)
        {
            assert_eq!(old.mtu(), Some(1500));
            break;
        }
    }
    ns.ip(&["link", "del", "v0"]);
    let mut removed = HashSet::new();
    while removed.len() < 2 {
        if let Change::Removed(l) = next_change(&mut changes).await {
            removed.insert(l.name().to_owned());
        }
    }
    links.quiesce(Duration::from_millis(200)).await;
    let cached: HashSet<u32> = links.keys().into_iter().collect();
    assert_eq!(cached, dumped_keys::<Link>(&nl).await);
    assert_eq!(links.losses(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_replace_and_address_changes() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().await.unwrap();
    let mut routes = nl.watch::<Route>().await.unwrap();
    let mut addrs = nl.watch::<Address>().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.route()
        .add("198.51.100.0/24")
        .via("192.0.2.2")
        .await
        .unwrap();
    // Replace changes the next hop, hence the key: the old entry must go.
    nl.route()
        .replace("198.51.100.0/24")
        .via("192.0.2.3")
        .await
        .unwrap();
    settle(&mut routes, &nl, "routes", keys).await;
    settle(&mut addrs, &nl, "addresses", keys).await;
    let r = routes
        .snapshot()
        .into_iter()
        .filter(|r| r.destination().unwrap().to_string() == "198.51.100.0/24")
        .collect::<Vec<_>>();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].gateway(), Some("192.0.2.3".parse().unwrap()));
    assert!(
        addrs
            .snapshot()
            .iter()
            .any(|a| a.address() == Some("192.0.2.1".parse().unwrap()))
    );
}

/// Adds `n` blackhole routes, then deletes every other one, pipelined, as
/// fast as the kernel takes them.
async fn flood(nl: &Netlink, n: u32) {
    let rtnl = nl.rtnl();
    let adds = futures::stream::iter(0..n)
        .map(|i| {
            let (m, f) = common::add_blackhole(nth_addr(i), 100);
            rtnl.ack(m, f)
        })
        .buffer_unordered(512);
    adds.try_collect::<Vec<_>>().await.unwrap();
    let dels = futures::stream::iter((0..n).step_by(2))
        .map(|i| {
            let m = RouteNetlinkMessage::DelRoute(common::blackhole(nth_addr(i), 100));
            rtnl.ack(m, 0)
        })
        .buffer_unordered(512);
    dels.try_collect::<Vec<_>>().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_losses_under_a_flood_five_times_in_five() {
    for run in 0..5 {
        let ns = TestNs::new().await;
        let writer = ns.client();
        let baseline = dumped_keys::<Route>(&writer).await.len();
        // The watcher lives on a runtime of its own whose only thread is
        // held while the writer floods: the 32 KiB event buffer overflows
        // whatever the machine's load, and the watch must resync.
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let name = ns.name.clone();
        let watcher = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let nl = Netlink::builder()
                    .netns(name.as_str())
                    .event_receive_buffer(32 * 1024)
                    .build()
                    .unwrap();
                let mut routes = nl.watch::<Route>().await.unwrap();
                ready_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                routes.quiesce(Duration::from_millis(500)).await;
                let cached: HashSet<_> = routes.keys().into_iter().collect();
                (cached, routes.losses(), routes.resyncs())
            })
        });
        ready_rx.await.unwrap();
        flood(&writer, 100_000).await;
        go_tx.send(()).unwrap();
        let (cached, losses, resyncs) = tokio::task::spawn_blocking(move || watcher.join())
            .await
            .unwrap()
            .expect("watcher thread");
        let kernel = dumped_keys::<Route>(&writer).await;
        assert_eq!(
            kernel.len(),
            baseline + 50_000,
            "run {run}: the writer's result"
        );
        assert_eq!(cached.len(), kernel.len(), "run {run}");
        assert!(
            cached == kernel,
            "run {run}: cache differs from a fresh dump"
        );
        assert!(losses > 0, "run {run}: a 32 KiB buffer must overflow");
        assert!(resyncs > 0, "run {run}");
        println!(
            "run {run}: {} routes, {losses} losses, {resyncs} resyncs",
            cached.len()
        );
    }
}

/// The same flood with the watcher reading all along on the writer's
/// runtime and an 8 KiB buffer: whatever it loses on the way (the count
/// depends on the machine), the cache ends equal to a fresh dump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_while_reading_under_a_flood() {
    for run in 0..3 {
        let ns = TestNs::new().await;
        let watcher = Netlink::builder()
            .netns(ns.name.as_str())
            .event_receive_buffer(8 * 1024)
            .build()
            .unwrap();
        let mut routes = watcher.watch::<Route>().await.unwrap();
        let writer = ns.client();
        flood(&writer, 50_000).await;
        routes.quiesce(Duration::from_millis(500)).await;
        let cached: HashSet<_> = routes.keys().into_iter().collect();
        let kernel = dumped_keys::<Route>(&writer).await;
        assert!(
            cached == kernel,
            "run {run}: cache ({}) differs from a fresh dump ({}) after {} losses",
            cached.len(),
            kernel.len(),
            routes.losses()
        );
        println!(
            "run {run}: {} routes, {} losses, {} resyncs",
            cached.len(),
            routes.losses(),
            routes.resyncs()
        );
    }
}

/// What the route tests compare: type, nexthop object, and the next hops in
/// the order a dump lists them.
type RouteView = (u8, Option<u32>, Vec<Nexthop>);

fn route_view(r: &Route) -> RouteView {
    (u8::from(r.kind()), r.nhid(), r.nexthops())
}

/// Each route by key, with what the tests compare; the keys of a dump
/// must be unique, else the cache could not hold it.
fn route_views(routes: &[Route]) -> Vec<(RouteKey, RouteView)> {
    let mut v: Vec<(RouteKey, RouteView)> =
        routes.iter().map(|r| (r.key(), route_view(r))).collect();
    v.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
    let unique: HashSet<&RouteKey> = v.iter().map(|(k, _)| k).collect();
    assert_eq!(unique.len(), v.len(), "route keys collide: {v:#?}");
    v
}

/// Waits until the watch holds exactly what a fresh dump gives, next hops
/// included.
async fn assert_routes_match(routes: &mut Watch<Route>, nl: &Netlink, step: &str) {
    settle(routes, nl, step, route_views).await;
}

/// A namespace with veth v0 (2001:db8:1::1/64, 192.0.2.1/24) up, to reach
/// gateways 2001:db8:1::N and 192.0.2.N through.
async fn gateways_ns() -> TestNs {
    let ns = TestNs::new().await;
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "v1"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    ns.ip(&[
        "-6",
        "addr",
        "add",
        "2001:db8:1::1/64",
        "dev",
        "v0",
        "nodad",
    ]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
    ns
}

/// `nexthop via 2001:db8:1::N dev v0` for each N.
fn v6_hops(ns: &[u8]) -> Vec<String> {
    ns.iter()
        .flat_map(|n| {
            [
                "nexthop".to_string(),
                "via".to_string(),
                format!("2001:db8:1::{n}"),
                "dev".to_string(),
                "v0".to_string(),
            ]
        })
        .collect()
}

fn ip_with(ns: &TestNs, head: &[&str], tail: &[String]) {
    let mut args: Vec<&str> = head.to_vec();
    args.extend(tail.iter().map(String::as_str));
    ns.ip(&args);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_multipath_next_hop_deletes_match_a_dump() {
    let ns = gateways_ns().await;
    let nl = ns.client();
    let mut routes = nl.watch::<Route>().await.unwrap();
    assert_routes_match(&mut routes, &nl, "initial").await;
    // For 2 and 3 next hops, delete the first, the middle or the last one:
    // the kernel keeps the others, and so must the watch.
    let cases: &[(u8, u8)] = &[(2, 2), (2, 3), (3, 2), (3, 3), (3, 4)];
    for (i, &(n, gone)) in cases.iter().enumerate() {
        let dst = format!("2001:db8:{}::/64", 100 + i);
        let hops: Vec<u8> = (2..2 + n).collect();
        ip_with(&ns, &["-6", "route", "add", &dst], &v6_hops(&hops));
        assert_routes_match(&mut routes, &nl, &format!("{dst} with {n} hops")).await;
        let gw = format!("2001:db8:1::{gone}");
        ns.ip(&["-6", "route", "del", &dst, "via", &gw, "dev", "v0"]);
        let step = format!("{dst}: {n} hops, {gw} deleted");
        assert_routes_match(&mut routes, &nl, &step).await;
        assert!(
            routes
                .snapshot()
                .iter()
                .any(|r| r.destination().unwrap().to_string() == dst),
            "{step}: the route is still there"
        );
    }
    // Next hops deleted one by one down to none, and a route deleted whole.
    ns.ip(&[
        "-6",
        "route",
        "del",
        "2001:db8:104::/64",
        "via",
        "2001:db8:1::2",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "104: down to one hop").await;
    ns.ip(&[
        "-6",
        "route",
        "del",
        "2001:db8:104::/64",
        "via",
        "2001:db8:1::3",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "104: no hop left").await;
    ns.ip(&["-6", "route", "del", "2001:db8:102::/64"]);
    assert_routes_match(&mut routes, &nl, "102 deleted whole").await;
    assert_eq!(routes.losses(), 0);
    println!(
        "ipv6_multipath_next_hop_deletes_match_a_dump: {} targeted dumps",
        routes.refreshes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_append_prepend_and_replace_match_a_dump() {
    let ns = gateways_ns().await;
    let nl = ns.client();
    let mut routes = nl.watch::<Route>().await.unwrap();
    let dst = "2001:db8:9::/64";
    ns.ip(&[
        "-6",
        "route",
        "add",
        dst,
        "via",
        "2001:db8:1::2",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "one hop").await;
    ns.ip(&[
        "-6",
        "route",
        "append",
        dst,
        "via",
        "2001:db8:1::3",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "one hop appended").await;
    // Appended as RTA_MULTIPATH, the kernel reports the route whole, in
    // dump order: applied without a dump.
    let before = routes.refreshes();
    ip_with(&ns, &["-6", "route", "append", dst], &v6_hops(&[4, 5]));
    assert_routes_match(&mut routes, &nl, "two hops appended").await;
    assert_eq!(
        routes.refreshes(),
        before,
        "a multipath append is applied as is"
    );
    ns.ip(&[
        "-6",
        "route",
        "prepend",
        dst,
        "via",
        "2001:db8:1::6",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "one hop prepended").await;
    ns.ip(&[
        "-6",
        "route",
        "del",
        dst,
        "via",
        "2001:db8:1::2",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "first hop deleted after appends").await;
    ns.ip(&[
        "-6",
        "route",
        "replace",
        dst,
        "via",
        "2001:db8:1::7",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "replaced by one hop").await;
    ip_with(&ns, &["-6", "route", "replace", dst], &v6_hops(&[8, 9]));
    assert_routes_match(&mut routes, &nl, "replaced by two hops").await;
    // A device route beside the gateways at the same metric: a replace has
    // two routes to choose from.
    ns.ip(&["-6", "route", "append", dst, "dev", "v1"]);
    assert_routes_match(&mut routes, &nl, "device route beside").await;
    ns.ip(&[
        "-6",
        "route",
        "replace",
        dst,
        "via",
        "2001:db8:1::10",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "replace beside a device route").await;
    ns.ip(&["-6", "route", "replace", dst, "dev", "v0"]);
    assert_routes_match(&mut routes, &nl, "device route replaced").await;
    // Another metric is another route.
    ns.ip(&[
        "-6",
        "route",
        "add",
        dst,
        "via",
        "2001:db8:1::11",
        "dev",
        "v0",
        "metric",
        "7",
    ]);
    ns.ip(&[
        "-6",
        "route",
        "append",
        dst,
        "via",
        "2001:db8:1::12",
        "dev",
        "v0",
        "metric",
        "7",
    ]);
    assert_routes_match(&mut routes, &nl, "metric 7 beside").await;
    ns.ip(&["-6", "route", "del", dst, "metric", "1024"]);
    assert_routes_match(&mut routes, &nl, "metric 1024 deleted").await;
    assert_eq!(routes.losses(), 0);
    println!(
        "ipv6_append_prepend_and_replace_match_a_dump: {} targeted dumps",
        routes.refreshes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv4_multipath_append_and_replace_match_a_dump() {
    let ns = gateways_ns().await;
    let nl = ns.client();
    let mut routes = nl.watch::<Route>().await.unwrap();
    let dst = "10.9.0.0/24";
    let hops = |ns: &[u8]| -> Vec<String> {
        ns.iter()
            .flat_map(|n| ["nexthop".into(), "via".into(), format!("192.0.2.{n}")])
            .collect()
    };
    ip_with(&ns, &["route", "add", dst], &hops(&[2, 3]));
    assert_routes_match(&mut routes, &nl, "two hops").await;
    ns.ip(&["route", "append", dst, "via", "192.0.2.4"]);
    assert_routes_match(&mut routes, &nl, "a route appended").await;
    // A second multipath route with the same first next hop.
    ip_with(&ns, &["route", "append", dst], &hops(&[2, 5]));
    assert_routes_match(&mut routes, &nl, "same first hop appended").await;
    ns.ip(&["route", "prepend", dst, "via", "192.0.2.6"]);
    assert_routes_match(&mut routes, &nl, "a route prepended").await;
    // Replace takes the place of the first of the four.
    ns.ip(&["route", "replace", dst, "via", "192.0.2.7"]);
    assert_routes_match(&mut routes, &nl, "replace among four").await;
    ns.ip(&["route", "del", dst, "via", "192.0.2.4"]);
    assert_routes_match(&mut routes, &nl, "one deleted").await;
    ip_with(&ns, &["route", "del", dst], &hops(&[2, 3]));
    assert_routes_match(&mut routes, &nl, "a multipath route deleted").await;
    ns.ip(&["route", "flush", dst]);
    assert_routes_match(&mut routes, &nl, "flushed").await;
    ns.ip(&["route", "add", dst, "via", "192.0.2.2"]);
    ns.ip(&["route", "replace", dst, "via", "192.0.2.3"]);
    assert_routes_match(&mut routes, &nl, "replace of a single route").await;
    assert_eq!(routes.losses(), 0);
    println!(
        "ipv4_multipath_append_and_replace_match_a_dump: {} targeted dumps",
        routes.refreshes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nexthop_object_edits_match_a_dump() {
    let ns = gateways_ns().await;
    let nl = ns.client();
    let mut routes = nl.watch::<Route>().await.unwrap();
    ns.ip(&[
        "nexthop",
        "add",
        "id",
        "10",
        "via",
        "192.0.2.9",
        "dev",
        "v0",
    ]);
    ns.ip(&["route", "add", "10.7.0.0/24", "nhid", "10"]);
    ns.ip(&[
        "-6",
        "nexthop",
        "add",
        "id",
        "11",
        "via",
        "2001:db8:1::9",
        "dev",
        "v0",
    ]);
    ns.ip(&["-6", "route", "add", "2001:db8:7::/64", "nhid", "11"]);
    ns.ip(&[
        "nexthop",
        "add",
        "id",
        "12",
        "via",
        "192.0.2.12",
        "dev",
        "v0",
    ]);
    ns.ip(&["nexthop", "add", "id", "13", "group", "10/12"]);
    ns.ip(&["route", "add", "10.8.0.0/24", "nhid", "13"]);
    ns.ip(&[
        "-6",
        "nexthop",
        "add",
        "id",
        "14",
        "via",
        "2001:db8:1::14",
        "dev",
        "v0",
    ]);
    ns.ip(&["nexthop", "add", "id", "15", "group", "11/14"]);
    ns.ip(&["-6", "route", "add", "2001:db8:8::/64", "nhid", "15"]);
    assert_routes_match(&mut routes, &nl, "routes over nexthop objects").await;
    ns.ip(&[
        "nexthop",
        "replace",
        "id",
        "12",
        "via",
        "192.0.2.13",
        "dev",
        "v0",
    ]);
    assert_routes_match(&mut routes, &nl, "a group member replaced").await;
    // Gone from the kernel without an RTM_DELROUTE: 10.7.0.0/24, and 10.8's
    // group shrinks.
    ns.ip(&["nexthop", "del", "id", "10"]);
    assert_routes_match(&mut routes, &nl, "nexthop 10 deleted").await;
    ns.ip(&["nexthop", "del", "id", "11"]);
    assert_routes_match(&mut routes, &nl, "nexthop 11 deleted").await;
    ns.ip(&["nexthop", "del", "id", "15"]);
    assert_routes_match(&mut routes, &nl, "group 15 deleted").await;
    ns.ip(&["nexthop", "del", "id", "13"]);
    assert_routes_match(&mut routes, &nl, "group 13 deleted").await;
    assert!(
        !routes.snapshot().iter().any(|r| r.nhid().is_some()),
        "no route over a nexthop object is left"
    );
    assert_eq!(routes.losses(), 0);
    println!(
        "nexthop_object_edits_match_a_dump: {} targeted dumps",
        routes.refreshes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_flushed_with_the_last_address_leave_the_watch() {
    let ns = gateways_ns().await;
    let nl = ns.client();
    ns.ip(&["route", "add", "10.1.0.0/24", "via", "192.0.2.2"]);
    ns.ip(&["route", "add", "10.3.0.0/24", "dev", "v0"]);
    let mut routes = nl.watch::<Route>().await.unwrap();
    // The kernel flushes both routes without an RTM_DELROUTE.
    ns.ip(&["addr", "del", "192.0.2.1/24", "dev", "v0"]);
    assert_routes_match(&mut routes, &nl, "last IPv4 address removed").await;
    assert!(
        !routes
            .snapshot()
            .iter()
            .any(|r| r.destination().unwrap().to_string() == "10.1.0.0/24"),
        "10.1.0.0/24 was flushed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_port_messages_stay_out_of_the_link_watch() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut links = nl.watch::<Link>().await.unwrap();
    let mut changes = links.changes();
    let steps: &[&[&str]] = &[
        &["link", "add", "br0", "type", "bridge"],
        &["link", "add", "v0", "type", "veth", "peer", "v1"],
        &["link", "set", "v0", "master", "br0"],
        &["link", "set", "br0", "up"],
        &["link", "set", "v0", "up"],
        &["link", "set", "v1", "up"],
        &[
            "link",
            "set",
            "v0",
            "type",
            "bridge_slave",
            "cost",
            "7",
            "learning",
            "off",
        ],
        &["link", "set", "v0", "down"],
        &["link", "set", "v0", "up"],
        &["link", "set", "v0", "nomaster"],
        &["link", "set", "v0", "master", "br0"],
    ];
    for step in steps {
        ns.ip(step);
        links.quiesce(Duration::from_millis(200)).await;
        let dump: Vec<Link> = Link::dump(&nl).try_collect().await.unwrap();
        let view = |l: &Link| {
            (
                l.family_raw(),
                l.name().to_owned(),
                l.kind().map(str::to_owned),
            )
        };
        let dumped: HashMap<u32, _> = dump.iter().map(|l| (l.key(), view(l))).collect();
        let cached: HashMap<u32, _> = links
            .snapshot()
            .iter()
            .map(|l| (l.key(), view(l)))
            .collect();
        assert_eq!(cached, dumped, "after {step:?}");
        if let Some(v0) = links.snapshot().into_iter().find(|l| l.name() == "v0") {
            assert_eq!(v0.kind(), Some("veth"), "after {step:?}");
        }
    }
    // The change stream outlives the watch (it keeps the task running):
    // take what it has until it goes quiet.
    drop(links);
    let mut removed = Vec::new();
    while let Ok(Some(c)) = tokio::time::timeout(Duration::from_millis(300), changes.next()).await {
        if let Change::Removed(l) = c {
            removed.push(l.name().to_owned());
        }
    }
    assert!(
        removed.is_empty(),
        "no link was deleted, yet Removed {removed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neighbour_watch_holds_no_fdb_or_proxy_entries() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut neighbours = nl.watch::<Neighbour>().await.unwrap();
    // FDB entries (AF_BRIDGE) and proxy entries share RTNLGRP_NEIGH with
    // neighbours; a neighbour dump has neither.
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "v1"]);
    ns.ip(&["link", "set", "v0", "master", "br0"]);
    ns.ip(&["link", "set", "br0", "up"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "br0"]);
    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.7",
        "lladdr",
        "02:00:00:00:00:07",
        "dev",
        "br0",
    ]);
    ns.ip(&["neigh", "add", "proxy", "192.0.2.8", "dev", "br0"]);
    ns.ip(&["-6", "neigh", "add", "proxy", "2001:db8::8", "dev", "br0"]);
    neighbours.quiesce(Duration::from_millis(200)).await;
    // NUD_NOARP entries the kernel makes for multicast addresses on its
    // own come without an event: left out of the comparison.
    const NUD_NOARP: u16 = 0x40;
    let announced = |n: &Neighbour| n.state() != NUD_NOARP;
    let cached: HashSet<_> = neighbours
        .snapshot()
        .iter()
        .filter(|n| announced(n))
        .map(Watched::key)
        .collect();
    let dumped: HashSet<_> = Neighbour::dump(&nl)
        .try_filter(|n| futures::future::ready(announced(n)))
        .map_ok(|n| n.key())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(cached, dumped);
    let snapshot = neighbours.snapshot();
    assert!(snapshot.iter().all(|n| !n.is_fdb()), "{snapshot:?}");
    assert!(
        snapshot
            .iter()
            .any(|n| n.destination() == Some("192.0.2.7".parse().unwrap()))
    );
}

/// Issue #17 item 2: the one-liner drops the `Watch` at the `;`; its change
/// stream must keep the watch running and yield the changes all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_of_a_dropped_watch_keep_coming() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut changes = nl.watch::<Link>().await.unwrap().changes();
    nl.link().add("v0", Veth::peer("v1")).await.unwrap();
    let mut added = HashSet::new();
    while added.len() < 2 {
        if let Change::Added(l) = next_change(&mut changes).await {
            added.insert(l.name().to_owned());
        }
    }
    assert_eq!(added, HashSet::from(["v0".to_string(), "v1".to_string()]));
    let v0 = nl.link().get("v0").await.unwrap().index();
    assert_eq!(
        changes.get(&v0).map(|l| l.name().to_owned()).as_deref(),
        Some("v0")
    );
    assert_eq!(changes.error(), None);
}

/// A bridge-port flag set on a down port is announced only as an
/// AF_BRIDGE message; the link watch re-reads that link, so its port data
/// stays equal to a dump's (it went stale before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_port_flags_on_a_down_port_reach_the_link_watch() {
    use tokio_netlink::route::link::BridgePort;
    use tokio_netlink::route::link::kinds::Bridge;
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.unwrap();
    nl.link()
        .add("p0", Veth::peer("p1"))
        .master("br0")
        .await
        .unwrap();
    let mut links = nl.watch::<Link>().await.unwrap();
    let mut changes = links.changes();
    type PortView = (String, Option<bool>, Option<bool>, Option<u32>);
    let port = |ls: &[Link]| -> Vec<PortView> {
        let mut v: Vec<_> = ls
            .iter()
            .map(|l| {
                let p = l.bridge_port();
                (
                    l.name().to_owned(),
                    p.and_then(|p| p.hairpin()),
                    p.and_then(|p| p.isolated()),
                    p.and_then(|p| p.cost()),
                )
            })
            .collect();
        v.sort();
        v
    };
    nl.link()
        .set("p0")
        .bridge_port(BridgePort::new().hairpin(true).cost(9))
        .await
        .unwrap();
    let c = next_change(&mut changes).await;
    match &c {
        Change::Changed { old, new } => {
            assert_eq!(new.name(), "p0");
            assert_eq!(old.bridge_port().and_then(|p| p.hairpin()), Some(false));
            assert_eq!(new.bridge_port().and_then(|p| p.hairpin()), Some(true));
        }
        other => panic!("expected p0 Changed, got {other:?}"),
    }
    settle(&mut links, &nl, "after our hairpin", port).await;
    // The same through bridge(8).
    let st = std::process::Command::new("ip")
        .args(["netns", "exec", ns.name.as_str(), "bridge", "link", "set"])
        .args(["dev", "p0", "isolated", "on"])
        .status()
        .unwrap();
    assert!(st.success());
    settle(&mut links, &nl, "after bridge's isolated", port).await;
    let p0 = links
        .snapshot()
        .into_iter()
        .find(|l| l.name() == "p0")
        .unwrap();
    assert_eq!(p0.bridge_port().and_then(|p| p.isolated()), Some(true));
    assert!(!p0.is_up());
}

/// The FDB beside the neighbours: `Watch<Fdb>` holds what `bridge fdb
/// show` lists (vishvananda/netlink's NeighSubscribe with ListExisting
/// reports these), kept equal to a dump through adds and deletes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fdb_watch_matches_a_dump_through_adds_and_deletes() {
    use tokio_netlink::watch::Fdb;
    let ns = TestNs::new().await;
    let nl = ns.client();
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "v1"]);
    ns.ip(&["link", "set", "v0", "master", "br0"]);
    let mut fdb = nl.watch::<Fdb>().await.unwrap();
    let keys = |v: &[Fdb]| v.iter().map(Watched::key).collect::<HashSet<_>>();
    let bridge = |args: &[&str]| {
        let st = std::process::Command::new("ip")
            .args(["netns", "exec", ns.name.as_str(), "bridge", "fdb"])
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "bridge fdb {args:?}");
    };
    bridge(&["add", "02:00:00:00:00:0a", "dev", "v0", "master", "static"]);
    // (No vlan: the host's bridge has no VLAN filtering.)
    bridge(&["add", "02:00:00:00:00:0b", "dev", "v0", "master", "static"]);
    bridge(&["add", "02:00:00:00:00:0c", "dev", "v0", "self", "permanent"]);
    settle(&mut fdb, &nl, "after adds", keys).await;
    let snap = fdb.snapshot();
    for mac in [
        "02:00:00:00:00:0a",
        "02:00:00:00:00:0b",
        "02:00:00:00:00:0c",
    ] {
        assert!(
            snap.iter()
                .any(|e| e.mac().map(|m| m.to_string()) == Some(mac.into())),
            "{mac} missing from {snap:?}"
        );
    }
    assert!(snap.iter().all(|e| e.is_fdb()));
    bridge(&["del", "02:00:00:00:00:0b", "dev", "v0", "master"]);
    settle(&mut fdb, &nl, "after a delete", keys).await;
    assert!(
        fdb.snapshot()
            .iter()
            .all(|e| e.mac().map(|m| m.to_string()) != Some("02:00:00:00:00:0b".into()))
    );
}
