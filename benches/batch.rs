//! `nl.batch()` of 100,000 route adds in one batch (issue #20): peak
//! memory and speed, against batches of 256 and the raw netlink-sys limit
//! (64 acked adds per `sendmsg`), in the same run.
//!
//! Each measurement runs in a child process of its own (this binary run
//! again with `--child`), so its peak RSS (`VmHWM`) is its own. Goal: the
//! whole batch at most 16 MB peak RSS and at least as fast as batches of
//! 256.
//!
//! `sudo cargo bench --bench batch`; `BENCH_SCALE=0.1` for 10,000 adds.

use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use netlink_packet_route::route::RouteType;
use tokio_netlink::Netlink;

mod common;
use common::*;

const ROUNDS: usize = 3;
const GOAL_PEAK_KB: u64 = 16 * 1024;

/// The workloads, each a child process.
const VARIANTS: [&str; 3] = ["raw", "batches of 256", "one batch"];

/// Route adds through `nl.batch()`, `per` changes per batch.
async fn batched(nl: &Netlink, table: u32, n: usize, per: usize) -> Duration {
    let routes = nl.route();
    let t0 = Instant::now();
    for start in (0..n).step_by(per) {
        let mut batch = nl.batch();
        for i in start..(start + per).min(n) {
            let dst = IpAddr::V4(nth_addr(i));
            batch.push(
                routes
                    .add((dst, 32))
                    .kind(RouteType::BlackHole)
                    .table(table),
            );
        }
        for r in batch.send().await.expect("batch") {
            r.expect("route add");
        }
    }
    t0.elapsed()
}

/// In the child: one workload; prints `elapsed_ms peak_kb baseline_kb`.
fn child(variant: usize, table: u32, n: usize) {
    let rt = current_thread();
    let (took, baseline) = rt.block_on(async {
        let nl = Netlink::new();
        nl.link().get("lo").await.expect("warm-up get");
        let baseline = status_kb("VmHWM:");
        let took = match variant {
            0 => raw_ack(table, n, true),
            1 => batched(&nl, table, n, 256).await,
            _ => batched(&nl, table, n, n).await,
        };
        (took, baseline)
    });
    println!("{} {} {baseline}", ms(took), status_kb("VmHWM:"));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let arg = |k: usize| args[at + k].parse::<usize>().expect("child argument");
        return child(arg(1), arg(2) as u32, arg(3));
    }
    let scale: f64 = std::env::var("BENCH_SCALE").map_or(1.0, |s| s.parse().expect("BENCH_SCALE"));
    let n = scaled(100_000, scale);
    let ns = Ns::new();
    let exe = std::env::current_exe().expect("own path");
    // Per variant: (ms, peak kB, baseline kB) of each round.
    let mut runs: Vec<Vec<(f64, u64, u64)>> = vec![Vec::new(); VARIANTS.len()];
    for round in 0..ROUNDS {
        for k in 0..VARIANTS.len() {
            // Rotated so that no variant always runs first.
            let v = (k + round) % VARIANTS.len();
            let table = 2000 + v as u32;
            let out = Command::new("ip")
                .args(["netns", "exec", &ns.name])
                .arg(&exe)
                .args([
                    "--child",
                    &v.to_string(),
                    &table.to_string(),
                    &n.to_string(),
                ])
                .output()
                .expect("run the child");
            assert!(out.status.success(), "child {}: {out:?}", VARIANTS[v]);
            let text = String::from_utf8_lossy(&out.stdout);
            let f: Vec<f64> = text
                .split_whitespace()
                .map(|x| x.parse().expect("child output"))
                .collect();
            runs[v].push((f[0], f[1] as u64, f[2] as u64));
            ns.ip(&["route", "flush", "table", &table.to_string()], "");
        }
    }
    let best = |v: usize| runs[v].iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let raw = best(0);
    let mut met = true;
    let rows: Vec<String> = (0..VARIANTS.len())
        .map(|v| {
            let peak = runs[v].iter().map(|r| r.1).max().unwrap_or(0);
            let base = runs[v].iter().map(|r| r.2).max().unwrap_or(0);
            let times: Vec<String> = runs[v].iter().map(|r| format!("{:.1}", r.0)).collect();
            let goal = match v {
                2 => {
                    let ok = peak <= GOAL_PEAK_KB && best(2) <= best(1) * 1.05;
                    met &= ok;
                    if ok { "ok" } else { "MISSED" }
                }
                _ => "-",
            };
            format!(
                "{}|{}|{:.2}x|{peak}|{base}|{goal}",
                VARIANTS[v],
                times.join(", "),
                best(v) / raw,
            )
        })
        .collect();
    print_table(
        &format!(
            "{n} route adds, current-thread, {ROUNDS} rounds (goal for one batch: peak <= \
             {GOAL_PEAK_KB} kB, time <= batches of 256 (+5% noise))"
        ),
        "variant|ms per round|best/raw|peak RSS kB (VmHWM)|RSS before kB|goal",
        &rows,
    );
    drop(ns);
    if !met {
        eprintln!("batch goal missed");
        std::process::exit(1);
    }
}
