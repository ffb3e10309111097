//! Traffic-control benchmark, inside a throwaway network namespace (so it
//! needs root): dumping 10,000 htb classes with their counters through the
//! lazy `Class` views, against a raw netlink-sys loop (no decoding) and
//! `tc -s class show` in the same run, reported as ratios.
//!
//! `cargo bench --bench tc`; `BENCH_SCALE=0.1` for a quick run. Goals are
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// A blocking RTM_GETTCLASS dump of `ifindex` with no decoding: counts
/// the classes until NLMSG_DONE.
fn raw_classes(sock: &Socket, ifindex: u32, seq: u32, buf: &mut Vec<u8>) -> usize {
    let mut req = vec![0u8; HEADER_LEN + 20];
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
    req[4..6].copy_from_slice(&RTM_GETTCLASS.to_ne_bytes());
    req[6..8].copy_from_slice(&(F_REQUEST | F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&seq.to_ne_bytes());
    req[HEADER_LEN + 4..HEADER_LEN + 8].copy_from_slice(&ifindex.to_ne_bytes());
    sock.send(&req, 0).expect("send");
    let mut count = 0;
    loop {
        recv(sock, buf);
        for (ty, got, msg) in messages(buf) {
            assert_eq!(got, seq, "stray message");
            match ty {
                NLMSG_DONE => return count,
                NLMSG_ERROR => panic!("dump failed: errno {}", -error_code(msg)),
                RTM_NEWTCLASS => count += 1,
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
    bench_classes(scale, &mut sum);
    println!("\n== summary (one line per metric)");
    for line in &sum.0 {
        println!("{line}");
    }
}
