//! Resident memory of idle clients (issue #11, item 16): 500 clients, each
//! in a namespace of its own, each having done a get (`link().get("lo")`),
//! a dump (`link().list()`) and a subscription that received an event, so
//! each holds three sockets (requests, a pooled dump socket, the
//! subscription). Over 4 rounds it measures the process's RSS before the
//! clients, with all of them idle, and after dropping them all.
//!
//! Goal, with glibc's default settings: at most 64 KiB of RSS per idle
//! socket on average, and back to the baseline ± 10 MB after each drop. A
//! run that misses it exits non-zero (after removing its namespaces).
//!
//! `cargo bench --bench memory`; `BENCH_SCALE=0.1` for 50 clients. Needs
//! root. Refuses to run with `MALLOC_*` or `GLIBC_TUNABLES` set, which would
//! measure something else.

use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::route::events::{Event, Group};

mod common;
use common::*;

const ROUNDS: usize = 4;
const SOCKETS_PER_CLIENT: usize = 3;
const GOAL_PER_SOCKET_KB: f64 = 64.0;
const GOAL_AFTER_DROP_KB: i64 = 10 * 1024;

/// Sockets open in the process.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// One client's work: a get, a dump, and a subscription that has received
/// the change it made, which it keeps (idle) with the client.
async fn busy_client(ns: &Ns, mtu: u32) -> (Netlink, tokio_netlink::route::events::Events) {
    let nl = ns.client();
    let lo = nl.link().get("lo").await.expect("get lo");
    assert_eq!(lo.name(), "lo");
    let links = nl.link().list().await.expect("list links");
    assert!(links.iter().any(|l| l.name() == "lo"), "lo is listed");
    let mut events = nl.events(&[Group::Link]);
    events.ready().await.expect("subscribe");
    nl.link().set("lo").mtu(mtu).await.expect("set lo mtu");
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = events.next().await {
            if let Event::NewLink(l) = ev
                && l.mtu() == Some(mtu)
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "the subscription saw the mtu change");
    (nl, events)
}

/// Lets dropped connections finish and the runtime go quiet.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

struct Round {
    before_kb: u64,
    idle_kb: u64,
    after_kb: u64,
    sockets: usize,
    took: Duration,
}

fn main() {
    let scale: f64 = match std::env::var("BENCH_SCALE") {
        Ok(s) => s.parse().expect("BENCH_SCALE must be a number"),
        Err(_) => 1.0,
    };
    assert!(scale > 0.0, "BENCH_SCALE must be positive");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("the memory benchmark creates network namespaces: run it as root");
        std::process::exit(1);
    }
    let tuned: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("MALLOC_") || k == "GLIBC_TUNABLES")
        .collect();
    if !tuned.is_empty() {
        eprintln!("the goal is for glibc's default settings: unset {tuned:?}");
        std::process::exit(1);
    }
    let n = scaled(500, scale);
    println!("BENCH_SCALE={scale}: {n} clients in {n} namespaces, {ROUNDS} rounds");

    let t0 = Instant::now();
    // Removed on drop, also when a round panics.
    let namespaces: Vec<Ns> = (0..n).map(|_| Ns::new()).collect();
    println!("namespaces created in {:.1} s", t0.elapsed().as_secs_f64());

    let rt = multi_thread();
    let (baseline_kb, rounds) = rt.block_on(async {
        // Starts the crate's I/O thread, a one-off per process (its runtime
        // holds a dup of tokio's signal socket when tokio's `signal`
        // feature is on), so that round 1 counts clients' sockets only.
        let warm = namespaces[0].client();
        warm.link().get("lo").await.expect("get lo");
        drop(warm);
        settle().await;
        let baseline_kb = status_kb("VmRSS:");
        let mut rounds = Vec::new();
        for round in 0..ROUNDS {
            let before_kb = status_kb("VmRSS:");
            let sockets_before = open_sockets();
            let t = Instant::now();
            let mut clients = Vec::with_capacity(n);
            for ns in &namespaces {
                clients.push(busy_client(ns, 60_000 + round as u32).await);
            }
            let took = t.elapsed();
            settle().await;
            let idle_kb = status_kb("VmRSS:");
            let sockets = open_sockets() - sockets_before;
            drop(clients);
            settle().await;
            let after_kb = status_kb("VmRSS:");
            rounds.push(Round {
                before_kb,
                idle_kb,
                after_kb,
                sockets,
                took,
            });
        }
        (baseline_kb, rounds)
    });
    drop(rt);

    let mut rows = Vec::new();
    let mut met = true;
    for (i, r) in rounds.iter().enumerate() {
        // Against the first baseline, not this round's start: memory the
        // allocator kept from the round before must not pass for free.
        let per_socket = (r.idle_kb as f64 - baseline_kb as f64) / r.sockets.max(1) as f64;
        let after = r.after_kb as i64 - baseline_kb as i64;
        assert_eq!(
            r.sockets,
            SOCKETS_PER_CLIENT * n,
            "sockets held by idle clients in round {}",
            i + 1
        );
        let ok = per_socket <= GOAL_PER_SOCKET_KB && after.abs() <= GOAL_AFTER_DROP_KB;
        met &= ok;
        rows.push(format!(
            "{}|{:.1}|{}|{}|{}|{}|{per_socket:.1}|{after:+}|{}",
            i + 1,
            r.took.as_secs_f64(),
            r.sockets,
            r.before_kb,
            r.idle_kb,
            r.after_kb,
            if ok { "ok" } else { "MISSED" }
        ));
    }
    print_table(
        &format!(
            "idle clients: RSS per idle socket (goal <= {GOAL_PER_SOCKET_KB} KiB) and after drop \
             (goal baseline {baseline_kb} kB ± {} MB)",
            GOAL_AFTER_DROP_KB / 1024
        ),
        "round|busy s|sockets|RSS before kB|RSS idle kB|RSS after drop kB|(idle - baseline) kB per socket|after - baseline kB|goal",
        &rows,
    );
    drop(namespaces);
    if !met {
        eprintln!("memory goal missed");
        std::process::exit(1);
    }
}
