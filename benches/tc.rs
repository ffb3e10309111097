//! Traffic-control benchmarks, each inside a throwaway network namespace
//! (so they need root), against a raw netlink-sys loop (no decoding) and
//! `tc` in the same run, reported as ratios:
//!
//! - `classes`: dumping 10,000 htb classes with their counters through the
//!   lazy `Class` views, and `tc -s class show`;
//! - `filters`: dumping 10,000 u32 filters through the lazy `Filter`
//!   views, and `tc filter show`.
//!
//! `cargo bench --bench tc [-- FILTER]`; `BENCH_SCALE=0.1` for a quick run. Goals are
//! reported, never asserted; a run whose dump misses classes panics
//! instead of printing a number.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use netlink_sys::Socket;
use tokio_netlink::Netlink;

mod common;
use common::*;

const RTM_NEWTCLASS: u16 = 40;
const RTM_GETTCLASS: u16 = 42;
const RTM_NEWTFILTER: u16 = 44;
const RTM_GETTFILTER: u16 = 46;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// A blocking RTM_GETTCLASS dump of `ifindex` with no decoding: counts
/// the classes until NLMSG_DONE.
fn raw_classes(sock: &Socket, ifindex: u32, seq: u32, buf: &mut Vec<u8>) -> usize {
    raw_tc_dump(sock, RTM_GETTCLASS, RTM_NEWTCLASS, ifindex, 0, seq, buf)
}

/// A blocking TC dump (`get` of `ifindex` at `parent`), counting the
/// messages of type `want` until NLMSG_DONE.
fn raw_tc_dump(
    sock: &Socket,
    get: u16,
    want: u16,
    ifindex: u32,
    parent: u32,
    seq: u32,
    buf: &mut Vec<u8>,
) -> usize {
    let mut req = vec![0u8; HEADER_LEN + 20];
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
    req[4..6].copy_from_slice(&get.to_ne_bytes());
    req[6..8].copy_from_slice(&(F_REQUEST | F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&seq.to_ne_bytes());
    req[HEADER_LEN + 4..HEADER_LEN + 8].copy_from_slice(&ifindex.to_ne_bytes());
    req[HEADER_LEN + 12..HEADER_LEN + 16].copy_from_slice(&parent.to_ne_bytes());
    sock.send(&req, 0).expect("send");
    let mut count = 0;
    loop {
        recv(sock, buf);
        for (ty, got, msg) in messages(buf) {
            assert_eq!(got, seq, "stray message");
            match ty {
                NLMSG_DONE => return count,
                NLMSG_ERROR => panic!("dump failed: errno {}", -error_code(msg)),
                t if t == want => count += 1,
                _ => {}
            }
        }
    }
}

/// `class().list(dev).stream()`, reading classid, kind and bytes sent.
async fn ours(nl: &Netlink) -> usize {
    let mut classes = Box::pin(nl.tc().class().list("v0").stream());
    let (mut count, mut acc) = (0, 0u64);
    while let Some(c) = classes.next().await {
        let c = c.expect("class");
        acc += u64::from(c.classid().raw()) + c.kind().len() as u64 + c.stats().bytes;
        count += 1;
    }
    std::hint::black_box(acc);
    count
}

/// Wall time of `tc -n NS ARGS`, output discarded.
fn tc(ns: &Ns, args: &[&str]) -> Duration {
    let t0 = Instant::now();
    let ok = Command::new("tc")
        .args(["-n", &ns.name])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("run tc")
        .success();
    assert!(ok, "tc {args:?} failed");
    t0.elapsed()
}

fn tc_batch(ns: &Ns, lines: &str) -> Duration {
    use std::io::Write;
    let t0 = Instant::now();
    let mut child = Command::new("tc")
        .args(["-n", &ns.name, "-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run tc -batch");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(lines.as_bytes()).expect("write to tc");
    drop(stdin);
    assert!(child.wait().expect("wait").success(), "tc -batch failed");
    t0.elapsed()
}

fn bench_classes(scale: f64, sum: &mut Summary) {
    let n = scaled(10_000, scale).min(0xfffe);
    let ns = Ns::new();
    ns.ip(
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        "",
    );
    let mut lines = String::from("qdisc add dev v0 root handle 1: htb\n");
    for i in 1..=n {
        lines += &format!("class add dev v0 parent 1: classid 1:{i:x} htb rate 1mbit\n");
    }
    let setup = tc_batch(&ns, &lines);
    println!(
        "\n(classes: added {n} htb classes with tc -batch in {:.1} s)",
        setup.as_secs_f64()
    );
    let (rt, nl) = (current_thread(), ns.client());
    let ifindex = rt.block_on(nl.link().get("v0")).expect("v0").index();
    let raw = ns.run_in(|| {
        let (sock, mut buf) = (raw_socket(), Vec::with_capacity(64 * 1024));
        let mut seq = 0;
        let mut run = || {
            seq += 1;
            let t0 = Instant::now();
            let got = raw_classes(&sock, ifindex, seq, &mut buf);
            assert_eq!(got, n, "raw: the dump returned {got} classes");
            t0.elapsed()
        };
        run();
        median((0..REPEATS).map(|_| run()).collect())
    });
    let run = || {
        let t0 = Instant::now();
        let got = rt.block_on(ours(&nl));
        assert_eq!(got, n, "ours: the dump returned {got} classes");
        t0.elapsed()
    };
    run();
    let view = median((0..REPEATS).map(|_| run()).collect());
    let shown = median(
        (0..REPEATS)
            .map(|_| tc(&ns, &["-s", "class", "show", "dev", "v0"]))
            .collect(),
    );
    let mut rows = Vec::new();
    for (name, d, goal, metric) in [
        ("raw netlink-sys (no decode, counted)", raw, "", "raw"),
        (
            "ours class().list().stream() (lazy views)",
            view,
            "<=1.2",
            "view",
        ),
        (
            "iproute2 tc -s class show > /dev/null",
            shown,
            "",
            "iproute2",
        ),
    ] {
        let r = ms(d) / ms(raw);
        rows.push(format!("{name}|{:.1}|{r:.2}x|{goal}", ms(d)));
        sum.0.push(format!(
            "BENCH classes.{metric}.total_ms value={:.3} unit=ms ratio_to_raw={r:.3}{}",
            ms(d),
            if goal.is_empty() {
                String::new()
            } else {
                format!(" goal={goal}")
            }
        ));
    }
    let vs_tc = ms(view) / ms(shown);
    rows.push(format!("ours / tc -s class show|-|{vs_tc:.2}x|<=0.5"));
    sum.0.push(format!(
        "BENCH classes.view_vs_tc value={vs_tc:.3} unit=ratio goal=<=0.5"
    ));
    let title = format!(
        "classes: dump of {n} htb classes with stats, median of {REPEATS}, current-thread runtime"
    );
    print_table(&title, "variant|total ms|/raw|goal", &rows);
}

/// `filter().list(dev).parent(1:)`, reading prio, handle, kind.
async fn ours_filters(nl: &Netlink) -> usize {
    let list = nl.tc().filter().list("v0").parent("1:");
    let mut filters = Box::pin(list.stream());
    let (mut count, mut acc) = (0, 0u64);
    while let Some(f) = filters.next().await {
        let f = f.expect("filter");
        acc += u64::from(f.prio()) + u64::from(f.handle()) + f.kind().len() as u64;
        count += 1;
    }
    std::hint::black_box(acc);
    count
}

fn bench_filters(scale: f64, sum: &mut Summary) {
    let n = scaled(10_000, scale).min(0xfffe);
    let ns = Ns::new();
    ns.ip(
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        "",
    );
    // u32 hash table ids are 12 bits per qdisc, so not one pref per
    // filter: one pref with a 256-bucket table, the filters spread over it.
    let mut lines = String::from(
        "qdisc add dev v0 root handle 1: htb\n\
         filter add dev v0 parent 1: pref 1 protocol ip handle 1: u32 divisor 256\n",
    );
    for i in 0..n {
        let dst = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        lines += &format!(
            "filter add dev v0 parent 1: pref 1 protocol ip u32 ht 1:{:x}: match ip dst {dst}/32 flowid 1:1\n",
            i & 255
        );
    }
    let setup = tc_batch(&ns, &lines);
    println!(
        "\n(filters: added {n} u32 filters in a 256-bucket table with tc -batch in {:.1} s)",
        setup.as_secs_f64()
    );
    // The nodes, plus the pref itself and its two tables.
    let want = n + 3;
    let (rt, nl) = (current_thread(), ns.client());
    let ifindex = rt.block_on(nl.link().get("v0")).expect("v0").index();
    let raw = ns.run_in(|| {
        let (sock, mut buf) = (raw_socket(), Vec::with_capacity(64 * 1024));
        let mut seq = 0;
        let mut run = || {
            seq += 1;
            let t0 = Instant::now();
            let got = raw_tc_dump(
                &sock,
                RTM_GETTFILTER,
                RTM_NEWTFILTER,
                ifindex,
                0x1_0000,
                seq,
                &mut buf,
            );
            assert_eq!(got, want, "raw: the dump returned {got} filter messages");
            t0.elapsed()
        };
        run();
        median((0..REPEATS).map(|_| run()).collect())
    });
    let run = || {
        let t0 = Instant::now();
        let got = rt.block_on(ours_filters(&nl));
        assert_eq!(got, want, "ours: the dump returned {got} filter messages");
        t0.elapsed()
    };
    run();
    let view = median((0..REPEATS).map(|_| run()).collect());
    let shown = median(
        (0..REPEATS)
            .map(|_| tc(&ns, &["filter", "show", "dev", "v0", "parent", "1:"]))
            .collect(),
    );
    let mut rows = Vec::new();
    for (name, d, goal, metric) in [
        ("raw netlink-sys (no decode, counted)", raw, "", "raw"),
        (
            "ours filter().list().stream() (lazy views)",
            view,
            "<=1.2",
            "view",
        ),
        ("iproute2 tc filter show > /dev/null", shown, "", "iproute2"),
    ] {
        let r = ms(d) / ms(raw);
        rows.push(format!("{name}|{:.1}|{r:.2}x|{goal}", ms(d)));
        let goal = if goal.is_empty() {
            String::new()
        } else {
            format!(" goal={goal}")
        };
        sum.0.push(format!(
            "BENCH filters.{metric}.total_ms value={:.3} unit=ms ratio_to_raw={r:.3}{goal}",
            ms(d)
        ));
    }
    let vs_tc = ms(view) / ms(shown);
    rows.push(format!("ours / tc filter show|-|{vs_tc:.2}x|<=0.5"));
    sum.0.push(format!(
        "BENCH filters.view_vs_tc value={vs_tc:.3} unit=ratio goal=<=0.5"
    ));
    let title = format!(
        "filters: dump of {n} u32 filters ({want} messages), median of {REPEATS}, current-thread runtime"
    );
    print_table(&title, "variant|total ms|/raw|goal", &rows);
}

type BenchFn = fn(f64, &mut Summary);

fn main() {
    let scale: f64 = match std::env::var("BENCH_SCALE") {
        Ok(s) => s.parse().expect("BENCH_SCALE must be a number"),
        Err(_) => 1.0,
    };
    assert!(scale > 0.0, "BENCH_SCALE must be positive");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("the tc benchmark creates network namespaces: run it as root");
        std::process::exit(1);
    }
    let mut sum = Summary::default();
    println!("BENCH_SCALE={scale}");
    // cargo passes `--bench`; the first other argument filters by name.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let benches: [(&str, BenchFn); 2] = [("classes", bench_classes), ("filters", bench_filters)];
    for (name, run) in benches {
        if filter.as_deref().is_none_or(|f| name.contains(f)) {
            run(scale, &mut sum);
        }
    }
    println!("\n== summary (one line per metric)");
    for line in &sum.0 {
        println!("{line}");
    }
}
