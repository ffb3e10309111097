//! Engine benchmarks against the raw netlink-sys limit measured in the same
//! run, each inside throwaway network namespaces (so it needs root).
//!
//! `cargo bench --bench engine [-- FILTER]`; `BENCH_SCALE=0.1` for a quick run.
//! Goals are reported, never asserted; a run whose results fail their
//! correctness checks panics instead of printing a number.

use std::future::{Future, IntoFuture};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkMessage;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteType};
use netlink_sys::Socket;
use tokio_netlink::Netlink;

mod common;
use common::*;

// ---------------------------------------------------------------- fixture

// ---------------------------------------------------------------- messages

fn get_lo() -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = 1;
    RouteNetlinkMessage::GetLink(m)
}

fn route_lines(n: usize, table: u32) -> String {
    let line = |i| format!("route add blackhole {}/32 table {table}\n", nth_addr(i));
    (0..n).map(line).collect()
}

// ---------------------------------------------------------------- raw netlink-sys

/// With `decode`, also decodes each reply with netlink-packet-route, to
/// show how much of our `get` is the decoder rather than the engine.
fn raw_get(warm: usize, n: usize, decode: bool) -> Vec<u64> {
    let sock = raw_socket();
    let mut req = Vec::new();
    encode_into(&mut req, &get_lo(), F_REQUEST, 0);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut lat = Vec::with_capacity(n);
    for i in 0..warm + n {
        let seq = i as u32 + 1;
        let t0 = Instant::now();
        req[8..12].copy_from_slice(&seq.to_ne_bytes());
        sock.send(&req, 0).expect("send");
        recv(&sock, &mut buf);
        let (ty, got, _) = messages(&buf).next().expect("a reply");
        assert!(ty == RTM_NEWLINK && got == seq, "reply {ty} seq {got}");
        if decode {
            let m = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf);
            std::hint::black_box(m.expect("decode"));
        }
        if i >= warm {
            lat.push(t0.elapsed().as_nanos() as u64);
        }
    }
    lat
}

/// A blocking route dump with no decoding: counts RTM_NEWROUTE messages
/// until NLMSG_DONE. Returns (count, time to first item since `t0`).
fn raw_dump(
    sock: &Socket,
    table: u32,
    seq: u32,
    buf: &mut Vec<u8>,
    t0: Instant,
) -> (usize, Duration) {
    let mut req = Vec::new();
    encode_into(&mut req, &dump_table(table), F_REQUEST | F_DUMP, seq);
    sock.send(&req, 0).expect("send");
    let (mut count, mut first) = (0, None);
    loop {
        recv(sock, buf);
        for (ty, got, msg) in messages(buf) {
            assert_eq!(got, seq, "stray message");
            match ty {
                RTM_NEWROUTE => count += 1,
                NLMSG_DONE => return (count, first.unwrap_or_default()),
                NLMSG_ERROR => panic!("dump failed: errno {}", -error_code(msg)),
                _ => {}
            }
            first.get_or_insert_with(|| t0.elapsed());
        }
    }
}

/// Checks with a dump independent of the library that `who` added `n`
/// routes to `table`, then deletes them (so the namespace stays small and
/// every measurement starts from the same kernel state).
fn check_and_empty(ns: &Ns, table: u32, n: usize, who: &str) {
    let got = ns.run_in(|| {
        let mut buf = Vec::with_capacity(64 * 1024);
        raw_dump(&raw_socket(), table, 1, &mut buf, Instant::now()).0
    });
    assert_eq!(got, n, "{who}: table {table} holds {got} routes");
    ns.run_in(|| raw_ack(table, n, false));
}

// ---------------------------------------------------------------- reporting

/// [mean, p50, p99] in µs of latencies in ns.
fn lat_stats(mut ns: Vec<u64>) -> [f64; 3] {
    ns.sort_unstable();
    let pct = |p: f64| ns[((ns.len() - 1) as f64 * p).round() as usize] as f64 / 1e3;
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1e3;
    [mean, pct(0.50), pct(0.99)]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

impl Summary {
    /// `ratio` is to the raw limit of the same run (NaN: none).
    fn add(&mut self, metric: String, value: f64, unit: &str, ratio: f64, goal: &str) {
        let mut line = format!("BENCH {metric} value={value:.3} unit={unit}");
        if !ratio.is_nan() {
            line += &format!(" ratio_to_raw={ratio:.3}");
        }
        if !goal.is_empty() {
            line += &format!(" goal={goal}");
        }
        self.0.push(line);
    }
}

// ---------------------------------------------------------------- get

/// `get` (decoded) or, without `decode`, `get_raw`: the engine alone.
/// How a `get` benchmark asks for lo.
#[derive(Clone, Copy)]
enum GetHow {
    /// `rtnl().get_raw`: the reply undecoded.
    Raw,
    /// `rtnl().get`: decoded whole by netlink-packet-route.
    Decoded,
    /// `link().get(1)`: the family's lazy `Link` view, name and index read.
    LinkView,
}

async fn ours_get(nl: Netlink, warm: usize, n: usize, how: GetHow) -> Vec<u64> {
    let rtnl = nl.rtnl();
    let links = nl.link();
    let mut lat = Vec::with_capacity(n);
    for i in 0..warm + n {
        let t0 = Instant::now();
        match how {
            GetHow::Decoded => {
                let reply = rtnl.get(get_lo(), 0).await.expect("get lo");
                let RouteNetlinkMessage::NewLink(l) = reply else {
                    panic!("{reply:?}")
                };
                assert_eq!(l.header.index, 1);
            }
            GetHow::Raw => {
                let reply = rtnl.get_raw(get_lo(), 0).await.expect("get lo");
                assert_eq!(reply.header.ty, RTM_NEWLINK);
            }
            GetHow::LinkView => {
                let lo = links.get(1u32).await.expect("get lo");
                assert_eq!((lo.index(), lo.name()), (1, "lo"));
            }
        }
        if i >= warm {
            lat.push(t0.elapsed().as_nanos() as u64);
        }
    }
    lat
}

/// Where the awaiting caller runs: in the `block_on` body (how most
/// programs are written: a `#[tokio::main]` body) or inside `tokio::spawn`.
#[derive(Clone, Copy)]
enum Place {
    Body,
    Spawned,
}

/// Runs `f` to completion from `place` on a fresh runtime, current-thread
/// or with two workers.
fn run_at<T: Send + 'static>(
    multi: bool,
    place: Place,
    f: impl Future<Output = T> + Send + 'static,
) -> T {
    let rt = if multi {
        multi_thread()
    } else {
        current_thread()
    };
    match place {
        Place::Body => rt.block_on(f),
        Place::Spawned => rt.block_on(async { tokio::spawn(f).await.expect("benchmark task") }),
    }
}

/// Rounds of the `get` benchmark: every variant once per round, in an
/// order rotated each round, so that load from other processes spreads
/// over all of them; each figure is the median over the rounds.
const GET_ROUNDS: usize = 5;

/// The median of each of [mean, p50, p99] over rounds.
fn median_stats(runs: &[[f64; 3]]) -> [f64; 3] {
    [0, 1, 2].map(|k| {
        let mut v: Vec<f64> = runs.iter().map(|r| r[k]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    })
}

fn bench_get(scale: f64, sum: &mut Summary) {
    use {GetHow::*, Place::*};
    let (warm, n) = (scaled(1_000, scale), scaled(20_000, scale));
    let ns = Ns::new();
    /// What each variant runs: raw (with decode or not), or ours with the
    /// runtime (multi-thread or not), the calling place, the request and
    /// whether on an `io_thread` client.
    #[derive(Clone, Copy)]
    enum V {
        Raw(bool),
        Ours(bool, Place, GetHow, bool),
    }
    #[rustfmt::skip]
    let variants = [
        ("raw netlink-sys (blocking)", V::Raw(false), "", "raw"),
        ("  raw + netlink-packet-route decode", V::Raw(true), "", "raw_decode"),
        ("ours current-thread, block_on body, get_raw", V::Ours(false, Body, Raw, false), "<=1.15", "current_thread_undecoded"),
        ("  the same inside tokio::spawn", V::Ours(false, Spawned, Raw, false), "<=1.15", "current_thread_spawned_undecoded"),
        ("  link().get(1), lazy view", V::Ours(false, Body, LinkView, false), "", "current_thread_link_view"),
        ("  get, full decode (cf. raw + decode)", V::Ours(false, Body, Decoded, false), "", "current_thread"),
        ("ours multi-thread (2 workers), block_on body, get_raw", V::Ours(true, Body, Raw, false), "<=1.3", "multi_thread_undecoded"),
        ("  the same inside tokio::spawn", V::Ours(true, Spawned, Raw, false), "<=1.3", "multi_thread_spawned_undecoded"),
        ("  link().get(1), lazy view", V::Ours(true, Body, LinkView, false), "", "multi_thread_link_view"),
        ("  get, full decode", V::Ours(true, Body, Decoded, false), "", "multi_thread"),
        ("  get, full decode, inside tokio::spawn", V::Ours(true, Spawned, Decoded, false), "", "multi_thread_spawned"),
        ("  inside tokio::spawn, get_raw, io_thread", V::Ours(true, Spawned, Raw, true), "", "multi_thread_io_thread"),
    ];
    let mut runs = vec![Vec::new(); variants.len()];
    for round in 0..GET_ROUNDS {
        for k in 0..variants.len() {
            let v = (k + round) % variants.len();
            let lat = match variants[v].1 {
                V::Raw(decode) => ns.run_in(|| raw_get(warm, n, decode)),
                V::Ours(multi, place, how, io) => {
                    let nl = if io {
                        ns.client_io_thread()
                    } else {
                        ns.client()
                    };
                    run_at(multi, place, ours_get(nl, warm, n, how))
                }
            };
            runs[v].push(lat_stats(lat));
        }
    }
    let stats: Vec<[f64; 3]> = runs.iter().map(|r| median_stats(r)).collect();
    let (raw, raw_decode) = (stats[0], stats[1]);
    let ip = ns.ip(&["-batch", "-"], &"link show lo\n".repeat(n));
    let ip = ip.as_secs_f64() * 1e6 / n as f64;

    let mut rows = Vec::new();
    for ((name, v, goal, metric), [mean, p50, p99]) in variants.iter().zip(&stats) {
        // A decoding variant is compared with the raw loop that decodes too.
        let base = match v {
            V::Raw(true) | V::Ours(_, _, Decoded, _) => raw_decode,
            _ => raw,
        };
        let (r, r50) = (mean / base[0], p50 / base[1]);
        rows.push(format!(
            "{name}|{mean:.2}|{p50:.2}|{p99:.2}|{r:.2}x|{r50:.2}x|{goal}"
        ));
        sum.add(format!("get.{metric}.mean_us"), *mean, "us", r, goal);
        sum.add(format!("get.{metric}.p50_us"), *p50, "us", r50, goal);
        sum.add(
            format!("get.{metric}.p99_us"),
            *p99,
            "us",
            p99 / base[2],
            "",
        );
    }
    let r = ip / raw[0];
    rows.push(format!(
        "iproute2 ip -batch (wall/n)|{ip:.2}|-|-|{r:.2}x|-|"
    ));
    sum.add("get.iproute2.mean_us".into(), ip, "us", r, "");
    let title = format!(
        "get: RTM_GETLINK lo by index, {n} sequential awaits after {warm} warm-up \
         (median of {GET_ROUNDS} rounds; decoding variants vs raw + decode)"
    );
    print_table(
        &title,
        "variant|mean µs|p50 µs|p99 µs|mean/raw|p50/raw|goal",
        &rows,
    );
}

// ---------------------------------------------------------------- ack

const ACK_TASKS: usize = 16;
const ACK_IN_FLIGHT: usize = 64;

/// How the benchmark's tasks make their requests.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `rtnl().ack(msg)` futures.
    Await,
    /// `rtnl().ack_batch(msgs)`.
    Batch,
    /// `route().add(dst).kind(blackhole).table(t)` builders.
    Typed,
    /// The same builders pushed into `nl.batch()`.
    TypedBatch,
}

/// Requests per `ack_batch` call in the batch variant.
const BATCH_CHUNK: usize = 512;

/// `n` route adds (or deletes) from 16 tasks, each either with up to 64
/// plain `ack` futures in flight or (`batch`) with `ack_batch` calls of
/// `BATCH_CHUNK` requests.
async fn ours_ack(nl: Netlink, table: u32, n: usize, add: bool, mode: Mode) -> Duration {
    let (batch, typed) = (mode == Mode::Batch, mode == Mode::Typed);
    let typed_batch = mode == Mode::TypedBatch;
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..ACK_TASKS)
        .map(|t| {
            let (rtnl, nl) = (nl.rtnl(), nl.clone());
            let range = n * t / ACK_TASKS..n * (t + 1) / ACK_TASKS;
            tokio::spawn(async move {
                let rtnl = &rtnl;
                if typed {
                    let routes = nl.route();
                    let routes = &routes;
                    return futures::stream::iter(range)
                        .map(move |i| {
                            let dst = IpAddr::V4(nth_addr(i));
                            match add {
                                true => routes
                                    .add((dst, 32))
                                    .kind(RouteType::BlackHole)
                                    .table(table)
                                    .into_future(),
                                false => routes
                                    .del((dst, 32))
                                    .kind(RouteType::BlackHole)
                                    .table(table)
                                    .into_future(),
                            }
                        })
                        .buffer_unordered(ACK_IN_FLIGHT)
                        .try_for_each(|()| async { Ok(()) })
                        .await;
                }
                if typed_batch {
                    let routes = nl.route();
                    for start in range.clone().step_by(BATCH_CHUNK) {
                        let end = (start + BATCH_CHUNK).min(range.end);
                        let mut batch = nl.batch();
                        for i in start..end {
                            let dst = IpAddr::V4(nth_addr(i));
                            match add {
                                true => batch.push(
                                    routes
                                        .add((dst, 32))
                                        .kind(RouteType::BlackHole)
                                        .table(table),
                                ),
                                false => batch.push(
                                    routes
                                        .del((dst, 32))
                                        .kind(RouteType::BlackHole)
                                        .table(table),
                                ),
                            };
                        }
                        for r in batch.send().await? {
                            r?;
                        }
                    }
                    return Ok(());
                }
                if batch {
                    for start in range.clone().step_by(BATCH_CHUNK) {
                        let end = (start + BATCH_CHUNK).min(range.end);
                        let msgs = (start..end).map(|i| route(i, table, add));
                        for r in rtnl.ack_batch(msgs).await? {
                            r?;
                        }
                    }
                    return Ok(());
                }
                futures::stream::iter(range)
                    .map(move |i| {
                        let (msg, flags) = route(i, table, add);
                        rtnl.ack(msg, flags)
                    })
                    .buffer_unordered(ACK_IN_FLIGHT)
                    .try_for_each(|()| async { Ok(()) })
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await
            .expect("task panicked")
            .expect("route add/del failed");
    }
    t0.elapsed()
}

/// A warm-up (opens the socket, starts the connection task, leaves no
/// route), then `n` adds; returns the time and the datagrams used.
async fn ours_ack_measured(nl: Netlink, table: u32, n: usize, mode: Mode) -> (Duration, u64) {
    let warm = n.min(2_000);
    ours_ack(nl.clone(), table + 100, warm, true, mode).await;
    ours_ack(nl.clone(), table + 100, warm, false, mode).await;
    let before = nl.rtnl().stats();
    let d = ours_ack(nl.clone(), table, n, true, mode).await;
    let after = nl.rtnl().stats();
    assert_eq!(after.overruns, 0, "the request socket overran");
    (d, after.datagrams_sent - before.datagrams_sent)
}

const ACK_ROUNDS: usize = 5;

fn bench_ack(scale: f64, sum: &mut Summary) {
    let n = scaled(100_000, scale);
    let ns = Ns::new();
    let names = [
        "raw",
        "ours",
        "ours current-thread",
        "ours io_thread",
        "ours ack_batch",
        "ours ack_batch current-thread",
        "ours route().add()",
        "ours nl.batch() of route().add()",
    ];
    let k_max = names.len();
    let (mut times, mut dgrams) = (vec![Vec::new(); k_max], 0);
    // Rounds with the order rotated; each measurement uses a fresh table so
    // no add collides, and is checked and emptied afterwards.
    for round in 0..ACK_ROUNDS {
        for k in 0..k_max {
            let v = (k + round) % k_max;
            let table = 1000 + 10 * round as u32 + v as u32;
            let ours = |mode| ours_ack_measured(ns.client(), table, n, mode);
            let (d, dg) = match v {
                0 => (ns.run_in(|| raw_ack(table, n, true)), 0),
                1 => on_multi_thread(ours(Mode::Await)),
                // Diagnostic: the same load with no idle worker parked in epoll_wait.
                2 => current_thread().block_on(ours(Mode::Await)),
                3 => on_multi_thread(ours_ack_measured(
                    ns.client_io_thread(),
                    table,
                    n,
                    Mode::Await,
                )),
                4 => on_multi_thread(ours(Mode::Batch)),
                5 => current_thread().block_on(ours(Mode::Batch)),
                6 => on_multi_thread(ours(Mode::Typed)),
                _ => on_multi_thread(ours(Mode::TypedBatch)),
            };
            check_and_empty(&ns, table, n, names[v]);
            times[v].push(d);
            if v == 1 {
                dgrams = dg;
            }
        }
    }
    let ip = ns.ip(&["-batch", "-"], &route_lines(n, 1100));
    check_and_empty(&ns, 1100, n, "iproute2");
    let spread = |v: &[Duration]| {
        let (lo, hi) = (v.iter().min().unwrap(), v.iter().max().unwrap());
        format!("{:.0}-{:.0}", ms(*lo), ms(*hi))
    };
    let spreads: Vec<String> = times.iter().map(|t| spread(t)).collect();
    let [raw, ours, ct, io, batch, batch_ct, typed, typed_batch] =
        [0, 1, 2, 3, 4, 5, 6, 7].map(|v| median(times[v].clone()));

    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let mut rows = Vec::new();
    #[rustfmt::skip]
    let lines = [
        ("raw netlink-sys (64 per sendmsg)", raw, &spreads[0], "", "raw"),
        ("ours 16 tasks x 64 in flight, 2 workers", ours, &spreads[1], ">=0.9", "ours"),
        ("  the same on a current-thread runtime", ct, &spreads[2], "", "ours_current_thread"),
        ("  2 workers, .io_thread(true)", io, &spreads[3], "", "ours_io_thread"),
        ("ours 16 tasks x ack_batch(512), 2 workers", batch, &spreads[4], ">=0.9", "ours_batch"),
        ("  the same on a current-thread runtime", batch_ct, &spreads[5], "", "ours_batch_current_thread"),
        ("ours 16 tasks x 64 route().add() builders", typed, &spreads[6], "", "ours_route_add"),
        ("  the same builders in nl.batch() of 512", typed_batch, &spreads[7], ">=0.9", "ours_route_add_batch"),
        ("iproute2 ip -batch (once)", ip, &String::new(), "", "iproute2"),
    ];
    for (name, d, spread, goal, metric) in lines {
        let (t, per_s, r) = (ms(d), rate(d), rate(d) / rate(raw));
        rows.push(format!("{name}|{t:.1}|{spread}|{per_s:.0}|{r:.2}x|{goal}"));
        sum.add(format!("ack.{metric}.req_per_s"), per_s, "req/s", r, goal);
    }
    let title = format!("ack: {n} blackhole /32 route adds, each acked (median of {ACK_ROUNDS})");
    print_table(
        &title,
        "variant|time ms|min-max ms|req/s|ours/raw|goal",
        &rows,
    );
    let per = n as f64 / dgrams.max(1) as f64;
    println!("ours (2 workers, last round): {n} requests in {dgrams} datagrams ({per:.1} each)");
}

// ---------------------------------------------------------------- sequential acks

/// Route adds one at a time on a blocking socket: each sent, then its ack
/// read. The floor for a caller that awaits every request.
fn raw_ack_sequential(table: u32, n: usize) -> Duration {
    let sock = raw_socket();
    let mut req = Vec::with_capacity(256);
    let mut buf = Vec::with_capacity(64 * 1024);
    let t0 = Instant::now();
    for i in 0..n {
        let seq = i as u32 + 1;
        req.clear();
        let (msg, flags) = route(i, table, true);
        encode_into(&mut req, &msg, F_REQUEST | F_ACK | flags, seq);
        sock.send(&req, 0).expect("send");
        recv(&sock, &mut buf);
        let (ty, got, msg) = messages(&buf).next().expect("an ack");
        assert!(ty == NLMSG_ERROR && got == seq, "reply {ty} seq {got}");
        assert_eq!(error_code(msg), 0, "route add failed");
    }
    t0.elapsed()
}

/// `n` route adds awaited one at a time by one caller, through
/// `rtnl().ack` or (`typed`) the `route().add()` builder, after a get that
/// opens the socket.
async fn ours_ack_sequential(nl: Netlink, table: u32, n: usize, typed: bool) -> Duration {
    let (rtnl, routes) = (nl.rtnl(), nl.route());
    rtnl.get_raw(get_lo(), 0).await.expect("warm-up get");
    let t0 = Instant::now();
    for i in 0..n {
        if typed {
            let dst = IpAddr::V4(nth_addr(i));
            let add = routes
                .add((dst, 32))
                .kind(RouteType::BlackHole)
                .table(table);
            add.await.expect("route add");
        } else {
            let (msg, flags) = route(i, table, true);
            rtnl.ack(msg, flags).await.expect("route add");
        }
    }
    t0.elapsed()
}

const SEQ_ROUNDS: usize = 3;

fn bench_seq(scale: f64, sum: &mut Summary) {
    use Place::*;
    let n = scaled(100_000, scale);
    let ns = Ns::new();
    #[rustfmt::skip]
    let variants: [(&str, &str, &str); 8] = [
        ("raw netlink-sys, 64 per sendmsg", "", "raw"),
        ("raw netlink-sys, one at a time", "", "raw_sequential"),
        ("ours current-thread, block_on body", "<=1.5", "current_thread"),
        ("  the same inside tokio::spawn", "<=1.5", "current_thread_spawned"),
        ("  route().add() builder, block_on body", "", "current_thread_route_add"),
        ("ours multi-thread (2 workers), block_on body", "<=1.5", "multi_thread"),
        ("  the same inside tokio::spawn", "<=1.5", "multi_thread_spawned"),
        ("  route().add() builder, block_on body", "", "multi_thread_route_add"),
    ];
    let mut times = vec![Vec::new(); variants.len()];
    for round in 0..SEQ_ROUNDS {
        for k in 0..variants.len() {
            let v = (k + round) % variants.len();
            let table = 3000 + 10 * round as u32 + v as u32;
            let ours = |multi, place, typed| {
                run_at(
                    multi,
                    place,
                    ours_ack_sequential(ns.client(), table, n, typed),
                )
            };
            let d = match v {
                0 => ns.run_in(|| raw_ack(table, n, true)),
                1 => ns.run_in(|| raw_ack_sequential(table, n)),
                2 => ours(false, Body, false),
                3 => ours(false, Spawned, false),
                4 => ours(false, Body, true),
                5 => ours(true, Body, false),
                6 => ours(true, Spawned, false),
                _ => ours(true, Body, true),
            };
            check_and_empty(&ns, table, n, variants[v].0);
            times[v].push(d);
        }
    }
    let med: Vec<Duration> = times.into_iter().map(median).collect();
    let (raw, raw_seq) = (med[0], med[1]);
    let mut rows = Vec::new();
    for ((name, goal, metric), d) in variants.iter().zip(&med) {
        let (r, rs) = (ms(*d) / ms(raw), ms(*d) / ms(raw_seq));
        let per = d.as_secs_f64() * 1e6 / n as f64;
        rows.push(format!(
            "{name}|{:.1}|{per:.2}|{r:.2}x|{rs:.2}x|{goal}",
            ms(*d)
        ));
        sum.add(format!("seq.{metric}.time_ms"), ms(*d), "ms", r, goal);
    }
    let title =
        format!("seq: {n} blackhole /32 route adds awaited one at a time (median of {SEQ_ROUNDS})");
    print_table(
        &title,
        "variant|time ms|µs each|time/raw|time/raw one at a time|goal",
        &rows,
    );
}

// ---------------------------------------------------------------- dump

/// One timed dump: total, time to first item, and RSS around it.
struct DumpRun {
    total: Duration,
    first: Duration,
    base_kb: u64,
    hwm_kb: u64,
}

/// Runs `f(start)` -> (items, time to first), with VmHWM reset beforehand.
fn measure(n: usize, who: &str, f: impl FnOnce(Instant) -> (usize, Duration)) -> DumpRun {
    // "5" resets VmHWM to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").expect("write /proc/self/clear_refs");
    let base_kb = status_kb("VmRSS:");
    let t0 = Instant::now();
    let (count, first) = f(t0);
    let total = t0.elapsed();
    let hwm_kb = status_kb("VmHWM:");
    assert_eq!(count, n, "{who}: the dump returned {count} routes");
    DumpRun {
        total,
        first,
        base_kb,
        hwm_kb,
    }
}

/// A warm-up run (which also fills the library's dump socket pool), then
/// REPEATS measured ones.
fn repeat(n: usize, who: &str, mut f: impl FnMut(Instant) -> (usize, Duration)) -> Vec<DumpRun> {
    measure(n, who, &mut f);
    (0..REPEATS).map(|_| measure(n, who, &mut f)).collect()
}

/// Our typed dump, reading each route's destination, table and type.
async fn ours_typed(nl: &Netlink, table: u32, t0: Instant) -> (usize, Duration) {
    let mut dump = nl.rtnl().dump(dump_table(table), 0);
    let (mut count, mut first, mut acc) = (0, None, 0u64);
    while let Some(item) = dump.next().await {
        let RouteNetlinkMessage::NewRoute(r) = item.expect("item") else {
            panic!("not a route")
        };
        first.get_or_insert_with(|| t0.elapsed());
        acc += u8::from(r.header.kind) as u64;
        for a in &r.attributes {
            match a {
                RouteAttribute::Destination(RouteAddress::Inet(d)) => acc += u32::from(*d) as u64,
                RouteAttribute::Table(t) => acc += *t as u64,
                _ => {}
            }
        }
        count += 1;
    }
    std::hint::black_box(acc);
    (count, first.unwrap_or_default())
}

/// The route family's stream: lazy `Route` views, reading destination,
/// gateway, type, table and output device of each.
async fn ours_view(nl: &Netlink, table: u32, t0: Instant) -> (usize, Duration) {
    let mut routes = Box::pin(nl.route().list().table(table).stream());
    let (mut count, mut first, mut acc) = (0, None, 0u64);
    while let Some(r) = routes.next().await {
        let r = r.expect("route");
        first.get_or_insert_with(|| t0.elapsed());
        if let Some(d) = r.destination() {
            acc += u64::from(d.prefix());
        }
        acc += r.gateway().is_some() as u64 + u64::from(u8::from(r.kind()));
        acc += u64::from(r.table()) + u64::from(r.oif().unwrap_or(0));
        count += 1;
    }
    std::hint::black_box(acc);
    (count, first.unwrap_or_default())
}

/// Our undecoded dump, only counted.
async fn ours_raw(nl: &Netlink, table: u32, t0: Instant) -> (usize, Duration) {
    let mut dump = nl.rtnl().dump_raw(dump_table(table), 0);
    let (mut count, mut first) = (0, None);
    while let Some(item) = dump.next().await {
        assert_eq!(item.expect("dump item").header.ty, RTM_NEWROUTE);
        first.get_or_insert_with(|| t0.elapsed());
        count += 1;
    }
    (count, first.unwrap_or_default())
}

fn bench_dump(scale: f64, sum: &mut Summary) {
    let n = scaled(100_000, scale);
    let table = 2000;
    let ns = Ns::new();
    // iproute2 populates the table, so this process stays small.
    ns.ip(&["-batch", "-"], &route_lines(n, table));

    let raw = ns.run_in(|| {
        let (sock, mut buf, mut seq) = (raw_socket(), Vec::with_capacity(64 * 1024), 0);
        repeat(n, "raw", |t0| {
            seq += 1;
            raw_dump(&sock, table, seq, &mut buf, t0)
        })
    });
    let (rt, nl) = (current_thread(), ns.client());
    let typed = repeat(n, "typed", |t0| rt.block_on(ours_typed(&nl, table, t0)));
    let view = repeat(n, "view", |t0| rt.block_on(ours_view(&nl, table, t0)));
    // The same on two workers: the listing reads ahead in a task of its own.
    let mt = multi_thread();
    let mt_nl = ns.client();
    let view_mt = repeat(n, "view (2 workers)", |t0| {
        let nl = mt_nl.clone();
        mt.block_on(
            async move { tokio::spawn(async move { ours_view(&nl, table, t0).await }).await },
        )
        .expect("view task")
    });
    let untyped = repeat(n, "dump_raw", |t0| rt.block_on(ours_raw(&nl, table, t0)));
    let args = ["-j", "route", "show", "table", &table.to_string()];
    let ip = median((0..REPEATS).map(|_| ns.ip(&args, "")).collect());

    let raw_total = median(raw.iter().map(|r| r.total).collect());
    let raw_first = median(raw.iter().map(|r| r.first).collect());
    let mut rows = Vec::new();
    #[rustfmt::skip]
    let lines = [
        ("raw netlink-sys (no decode)", &raw, "raw"),
        ("ours route().list() (lazy views)", &view, "view"),
        ("  the same on 2 workers (read ahead)", &view_mt, "view_2_workers"),
        ("ours dump (full decode, fields read)", &typed, "typed"),
        ("ours dump_raw (counted)", &untyped, "raw_stream"),
    ];
    for (name, runs, metric) in lines {
        let total = ms(median(runs.iter().map(|r| r.total).collect()));
        let first = ms(median(runs.iter().map(|r| r.first).collect()));
        // The worst peak over the repeats, with that run's baseline.
        let peak = runs
            .iter()
            .max_by_key(|r| r.hwm_kb - r.base_kb)
            .expect("runs");
        let (hwm, base) = (peak.hwm_kb, peak.base_kb);
        let (rt, rf) = (total / ms(raw_total), first / ms(raw_first));
        rows.push(format!(
            "{name}|{total:.1}|{rt:.2}x|{first:.3}|{rf:.2}x|{hwm}|{base}"
        ));
        sum.add(format!("dump.{metric}.total_ms"), total, "ms", rt, "");
        sum.add(format!("dump.{metric}.first_ms"), first, "ms", rf, "");
        sum.add(
            format!("dump.{metric}.peak_rss_delta_kb"),
            (hwm - base) as f64,
            "kB",
            f64::NAN,
            "",
        );
    }
    let (total, r) = (ms(ip), ms(ip) / ms(raw_total));
    rows.push(format!(
        "iproute2 ip -j route show|{total:.1}|{r:.2}x|-|-|-|-"
    ));
    sum.add("dump.iproute2.total_ms".into(), total, "ms", r, "");
    let title =
        format!("dump: {n} routes of one table, median of {REPEATS}, current-thread runtime");
    print_table(
        &title,
        "variant|total ms|/raw|first ms|/raw|VmHWM kB|VmRSS before kB",
        &rows,
    );
}

type BenchFn = fn(f64, &mut Summary);

fn main() {
    let scale: f64 = match std::env::var("BENCH_SCALE") {
        Ok(s) => s.parse().expect("BENCH_SCALE must be a number"),
        Err(_) => 1.0,
    };
    assert!(scale > 0.0, "BENCH_SCALE must be positive");
    // cargo passes `--bench`; the first other argument filters by name.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("the engine benchmarks create network namespaces: run them as root");
        std::process::exit(1);
    }
    let benches: [(&str, BenchFn); 4] = [
        ("get", bench_get),
        ("seq", bench_seq),
        ("ack", bench_ack),
        ("dump", bench_dump),
    ];
    let mut sum = Summary::default();
    println!("BENCH_SCALE={scale}");
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
