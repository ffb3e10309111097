//! The watch cache against the kernel: changes, and convergence after
//! losses under a flood.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{TestNs, nth_addr};
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use tokio_netlink::Netlink;
use tokio_netlink::route::address::Address;
use tokio_netlink::route::link::Link;
use tokio_netlink::route::link::kinds::Veth;
use tokio_netlink::route::route::Route;
use tokio_netlink::watch::{Change, Watched};

async fn next_change<T: std::fmt::Debug>(
    changes: &mut (impl futures::Stream<Item = Change<T>> + Unpin),
) -> Change<T> {
    tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("a change within 10 s")
        .expect("stream open")
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
        .via("192.0.2.2".parse().unwrap())
        .await
        .unwrap();
    // Replace changes the next hop, hence the key: the old entry must go.
    nl.route()
        .replace("198.51.100.0/24")
        .via("192.0.2.3".parse().unwrap())
        .await
        .unwrap();
    routes.quiesce(Duration::from_millis(200)).await;
    addrs.quiesce(Duration::from_millis(200)).await;
    let cached: HashSet<_> = routes.keys().into_iter().collect();
    assert_eq!(cached, dumped_keys::<Route>(&nl).await);
    let r = routes
        .snapshot()
        .into_iter()
        .filter(|r| r.destination().unwrap().to_string() == "198.51.100.0/24")
        .collect::<Vec<_>>();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].gateway(), Some("192.0.2.3".parse().unwrap()));
    let cached: HashSet<_> = addrs.keys().into_iter().collect();
    assert_eq!(cached, dumped_keys::<Address>(&nl).await);
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
