//! What users do with runtimes: several at once, one that idles, one that is
//! dropped mid-listing, none at all, or one without drivers. A client must
//! neither hang nor die for good nor panic (issue #11, items 1-4).
//!
//! Every wait on a result is bounded by a generous deadline (`within`), so a
//! regression fails with a message instead of hanging the suite; nothing is
//! asserted about speed.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{TestNs, add_blackhole, nth_addr};
use futures::StreamExt;
use netlink_packet_route::route::RouteType;
use tokio::runtime::{Builder, Runtime};
use tokio_netlink::route::events::{Event, Group};
use tokio_netlink::route::route::Route;
use tokio_netlink::{Error, Netlink};

/// Generous bound on anything that should take milliseconds.
const DEADLINE: Duration = Duration::from_secs(30);

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `f` on a thread of its own and returns its result, or panics with
/// `what` if it has not finished by the deadline (the thread is left behind).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: did not finish within {DEADLINE:?} (hang)"))
}

fn new_ns() -> TestNs {
    futures::executor::block_on(TestNs::new())
}

/// Gets lo, lists links, adds a route to `table` and lists it back.
async fn exercise(nl: &Netlink, table: u32, i: u32) {
    let lo = nl.link().get("lo").await.expect("get lo");
    assert_eq!(lo.index(), 1);
    let links = nl.link().list().await.expect("link list");
    assert!(links.iter().any(|l| l.name() == "lo"));
    let (m, f) = add_blackhole(nth_addr(i), table);
    nl.rtnl().ack(m, f).await.expect("route add");
    let routes = nl.route().list().table(table).await.expect("route list");
    let want = ipnetwork::IpNetwork::new(nth_addr(i).into(), 32).unwrap();
    assert!(
        routes.iter().any(|r| r.destination() == Some(want)),
        "{want} not among {} routes",
        routes.len()
    );
}

#[test]
fn an_idle_first_runtime_does_not_stall_other_runtimes() {
    let ns = new_ns();
    let nl = ns.client();
    // Runtime A makes the first requests, then stays alive but undriven.
    let a = current_thread();
    a.block_on(exercise(&nl, 100, 0));
    let nl2 = nl.clone();
    within("requests from runtime B while A idles", move || {
        let b = current_thread();
        b.block_on(exercise(&nl2, 100, 1));
        let m = multi_thread(2);
        m.block_on(exercise(&nl2, 100, 2));
        // A batch too.
        b.block_on(async {
            let mut batch = nl2.batch();
            batch.push(
                nl2.route()
                    .add("10.200.0.0/24")
                    .kind(RouteType::BlackHole)
                    .table(100),
            );
            for r in batch.send().await.unwrap() {
                r.unwrap();
            }
        });
    });
    // A is still usable afterwards.
    a.block_on(exercise(&nl, 100, 3));
    let out = ns.ip(&["route", "show", "table", "100"]);
    assert_eq!(out.lines().count(), 5, "{out}");
}

#[test]
fn dropping_a_runtime_while_a_listing_is_held_returns_and_the_listing_goes_on() {
    let ns = new_ns();
    let nl = ns.client();
    let rt = multi_thread(2);
    rt.block_on(async {
        let mut batch = nl.batch();
        for i in 0..20_000u32 {
            batch.push(
                nl.route()
                    .add((nth_addr(i), 32))
                    .kind(RouteType::BlackHole)
                    .table(100),
            );
        }
        for r in batch.send().await.unwrap() {
            r.unwrap();
        }
    });
    let mut held = rt.block_on(async {
        let mut s = Box::pin(nl.route().list().table(100).stream());
        s.next().await.unwrap().unwrap();
        s
    });
    within("Runtime::drop with a partly read listing held", move || {
        drop(rt)
    });
    // The listing outlives the runtime that started it.
    let rest = within("reading the rest of the listing", move || {
        let rt = current_thread();
        rt.block_on(async {
            let mut n = 0;
            while let Some(r) = held.next().await {
                let _: Route = r.unwrap();
                n += 1;
            }
            n
        })
    });
    assert_eq!(rest + 1, 20_000);
}

#[test]
fn a_client_outlives_the_runtimes_that_used_it() {
    let ns = new_ns();
    let nl = ns.client();
    for (round, rt) in [current_thread(), multi_thread(2), current_thread()]
        .into_iter()
        .enumerate()
    {
        let round = round as u32;
        rt.block_on(async {
            exercise(&nl, 100, 2 * round).await;
            // Pooled dump sockets and a subscription from this runtime.
            let mut events = nl.events(&[Group::Ipv4Route]);
            events.ready().await.unwrap();
            let (m, f) = add_blackhole(nth_addr(2 * round + 1), 100);
            nl.rtnl().ack(m, f).await.unwrap();
            loop {
                match events.next().await.unwrap() {
                    Event::NewRoute(_) => break,
                    Event::Lost => panic!("lost"),
                    _ => {}
                }
            }
        });
        drop(rt);
    }
    // And from a fresh runtime after all of them are gone: requests, dumps
    // (from the pool of sockets the dropped runtimes used), a subscription.
    let rt = current_thread();
    rt.block_on(async {
        exercise(&nl, 100, 10).await;
        exercise(&nl, 100, 11).await;
        assert!(nl.rtnl().stats().dump_sockets_idle > 0);
    });
}

#[test]
fn requests_dumps_and_events_work_with_no_runtime_at_all() {
    let ns = new_ns();
    let nl = ns.client();
    futures::executor::block_on(async {
        exercise(&nl, 100, 0).await;
        let mut events = nl.events(&[Group::Link]);
        events.ready().await.expect("events without a runtime");
        nl.link().set("lo").mtu(1500).await.unwrap();
        assert!(events.next().await.is_some());
        // With a timeout: the home runtime's timer serves it.
        let timed = Netlink::builder()
            .netns(ns.name.as_str())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        exercise(&timed, 100, 1).await;
        // Only watch() needs a runtime for its task: an error, no panic.
        let w = nl.watch::<tokio_netlink::route::link::Link>().await;
        assert!(matches!(w, Err(Error::NoRuntime)), "{:?}", w.err());
    });
}

#[test]
fn runtimes_without_drivers_work() {
    let ns = new_ns();
    let without: [(&str, Runtime); 3] = [
        (
            "no time driver",
            Builder::new_current_thread().enable_io().build().unwrap(),
        ),
        (
            "no io driver",
            Builder::new_current_thread().enable_time().build().unwrap(),
        ),
        (
            "no drivers, multi-thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ];
    for (i, (what, rt)) in without.into_iter().enumerate() {
        let nl = Netlink::builder()
            .netns(ns.name.as_str())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        rt.block_on(async {
            exercise(&nl, 100, i as u32).await;
            let mut events = nl.events(&[Group::Link]);
            events
                .ready()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        });
    }
}

#[test]
fn a_connection_that_failed_is_opened_again_not_dead_for_good() {
    // A protocol number no kernel has: opening the socket fails. Each
    // request must say why (not a bare "connection closed"), and each
    // must try again rather than reuse the dead connection.
    struct Nowhere;
    impl tokio_netlink::Protocol for Nowhere {
        type Message = netlink_packet_route::RouteNetlinkMessage;
        const PROTOCOL: isize = 31;
        fn message_name(_: u16) -> Option<&'static str> {
            None
        }
    }
    let nl = Netlink::new();
    let rtnl = nl.requester::<Nowhere>();
    let rt = current_thread();
    for _ in 0..3 {
        let (m, f) = add_blackhole(nth_addr(0), 100);
        let e = rt.block_on(rtnl.ack(m, f)).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EPROTONOSUPPORT), "{e}");
    }
}

#[test]
fn not_a_namespace_is_refused_when_the_client_is_made() {
    let e = Netlink::in_netns("/etc/hostname").unwrap_err();
    assert!(e.to_string().contains("/etc/hostname"), "{e}");
    assert!(e.to_string().contains("not a namespace"), "{e}");
}
