//! Family-level benchmarks, each inside a throwaway network namespace (so it
//! needs root), against the raw netlink-sys limit measured in the same run:
//!
//! - `links`: dumping 4,000 links (2,000 veth pairs) through the lazy `Link`
//!   views, the full decoder, raw netlink-sys and `ip -j link show`, with
//!   the peak RSS while streaming;
//! - `events`: an `ip monitor`-style subscriber keeping up with a pipelined
//!   writer adding 100,000 routes, with default settings and with a small
//!   receive buffer (to show that losses are reported).
//!
//! `cargo bench --bench families [-- FILTER]`; `BENCH_SCALE=0.1` for a quick
//! run. Goals are reported, never asserted; a run whose results fail their
//! correctness checks panics instead of printing a number.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use netlink_sys::Socket;
use tokio_netlink::Netlink;

mod common;
use common::*;
use tokio_netlink::route::events::{Event, Group};

// ---------------------------------------------------------------- fixture

// ---------------------------------------------------------------- messages

/// The request the library sends (and iproute2): IFLA_EXT_MASK with
/// RTEXT_FILTER_VF, which makes the kernel size its dump buffers from the
/// largest link. The raw loop sends it too, so both ask the same work of
/// the kernel.
fn get_links() -> RouteNetlinkMessage {
    use netlink_packet_route::link::{LinkAttribute, LinkExtentMask};
    let mut m = LinkMessage::default();
    m.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::Vf]));
    RouteNetlinkMessage::GetLink(m)
}

// ---------------------------------------------------------------- raw netlink-sys

/// A blocking dump with no decoding: counts messages of type `want` until
/// NLMSG_DONE.
fn raw_dump(
    sock: &Socket,
    msg: &RouteNetlinkMessage,
    want: u16,
    seq: u32,
    buf: &mut Vec<u8>,
) -> usize {
    let mut req = Vec::new();
    encode_into(&mut req, msg, F_REQUEST | F_DUMP, seq);
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

/// Checks with a dump independent of the library that `who` added `n`
/// routes to `table`, then deletes them.
fn check_and_empty(ns: &Ns, table: u32, n: usize, who: &str) {
    let got = ns.run_in(|| {
        let mut buf = Vec::with_capacity(64 * 1024);
        raw_dump(&raw_socket(), &dump_table(table), RTM_NEWROUTE, 1, &mut buf)
    });
    assert_eq!(got, n, "{who}: table {table} holds {got} routes");
    ns.run_in(|| raw_ack(table, n, false));
}

// ---------------------------------------------------------------- reporting

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort_unstable();
    v[v.len() / 2]
}

impl Summary {
    /// `ratio` is to the raw limit (or the baseline) of the same run (NaN:
    /// none).
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

// ---------------------------------------------------------------- links

/// One timed dump and the memory around it.
struct DumpRun {
    total: Duration,
    base_kb: u64,
    hwm_kb: u64,
}

/// What a link dump saw: links, and veths among them (None: not checked).
type Seen = (usize, Option<usize>);

/// Runs `f`, with VmHWM reset beforehand, and checks what it saw.
fn measure(want: Seen, who: &str, f: impl FnOnce() -> Seen) -> DumpRun {
    // "5" resets VmHWM to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").expect("write /proc/self/clear_refs");
    let base_kb = status_kb("VmRSS:");
    let t0 = Instant::now();
    let (links, veths) = f();
    let total = t0.elapsed();
    let hwm_kb = status_kb("VmHWM:");
    assert_eq!(links, want.0, "{who}: the dump returned {links} links");
    if let Some(v) = veths {
        assert_eq!(Some(v), want.1, "{who}: the dump saw {v} veths");
    }
    DumpRun {
        total,
        base_kb,
        hwm_kb,
    }
}

/// A warm-up run (which also fills the library's dump socket pool), then
/// REPEATS measured ones.
fn repeat(want: Seen, who: &str, mut f: impl FnMut() -> Seen) -> Vec<DumpRun> {
    measure(want, who, &mut f);
    (0..REPEATS).map(|_| measure(want, who, &mut f)).collect()
}

/// `link().list().stream()`: lazy views, reading name, index, mtu, kind.
async fn ours_view(nl: &Netlink) -> Seen {
    let mut links = Box::pin(nl.link().list().stream());
    let (mut count, mut veths, mut acc) = (0, 0, 0u64);
    while let Some(l) = links.next().await {
        let l = l.expect("link");
        acc += l.name().len() as u64 + u64::from(l.index());
        acc += u64::from(l.mtu().unwrap_or(0));
        veths += usize::from(l.kind() == Some("veth"));
        count += 1;
    }
    std::hint::black_box(acc);
    (count, Some(veths))
}

/// The full decoder through `rtnl().dump`, reading the same fields.
async fn ours_typed(nl: &Netlink) -> Seen {
    let mut dump = nl.rtnl().dump(get_links(), 0);
    let (mut count, mut veths, mut acc) = (0, 0, 0u64);
    while let Some(item) = dump.next().await {
        let RouteNetlinkMessage::NewLink(l) = item.expect("item") else {
            panic!("not a link")
        };
        acc += u64::from(l.header.index);
        for a in &l.attributes {
            match a {
                LinkAttribute::IfName(name) => acc += name.len() as u64,
                LinkAttribute::Mtu(mtu) => acc += u64::from(*mtu),
                LinkAttribute::LinkInfo(infos) => {
                    let veth = |i: &LinkInfo| matches!(i, LinkInfo::Kind(InfoKind::Veth));
                    veths += usize::from(infos.iter().any(veth));
                }
                _ => {}
            }
        }
        count += 1;
    }
    std::hint::black_box(acc);
    (count, Some(veths))
}

fn bench_links(scale: f64, sum: &mut Summary) {
    let pairs = scaled(2_000, scale);
    let n = 2 * pairs + 1; // and lo
    let ns = Ns::new();
    let lines: String = (0..pairs)
        .map(|i| format!("link add va{i} type veth peer name vb{i}\n"))
        .collect();
    let setup = ns.ip(&["-batch", "-"], &lines);
    println!(
        "\n(links: created {pairs} veth pairs with ip -batch in {:.1} s)",
        setup.as_secs_f64()
    );
    let want = (n, Some(2 * pairs));

    let raw = ns.run_in(|| {
        let (sock, mut buf, mut seq) = (raw_socket(), Vec::with_capacity(64 * 1024), 0);
        repeat(want, "raw", || {
            seq += 1;
            (
                raw_dump(&sock, &get_links(), RTM_NEWLINK, seq, &mut buf),
                None,
            )
        })
    });
    let (rt, nl) = (current_thread(), ns.client());
    let view = repeat(want, "view", || rt.block_on(ours_view(&nl)));
    let typed = repeat(want, "typed", || rt.block_on(ours_typed(&nl)));
    let ip = median(
        (0..REPEATS)
            .map(|_| ns.ip(&["-j", "link", "show"], ""))
            .collect(),
    );

    let raw_total = median(raw.iter().map(|r| r.total).collect());
    let mut rows = Vec::new();
    #[rustfmt::skip]
    let lines = [
        ("raw netlink-sys (no decode, counted)", &raw, "", "raw"),
        ("ours link().list().stream() (lazy views)", &view, "<=1.3", "view"),
        ("ours rtnl().dump (full decode)", &typed, "", "typed"),
    ];
    for (name, runs, goal, metric) in lines {
        let total = ms(median(runs.iter().map(|r| r.total).collect()));
        let r = total / ms(raw_total);
        // The worst peak over the repeats, with that run's baseline.
        let peak = runs
            .iter()
            .max_by_key(|r| r.hwm_kb.saturating_sub(r.base_kb))
            .expect("runs");
        let (hwm, base) = (peak.hwm_kb, peak.base_kb);
        let hwm_mb = hwm as f64 / 1024.0;
        let mem_goal = if metric == "view" { "<=16" } else { "" };
        rows.push(format!(
            "{name}|{total:.1}|{r:.2}x|{goal}|{hwm_mb:.1}|{:.1}|{mem_goal}",
            base as f64 / 1024.0
        ));
        sum.add(format!("links.{metric}.total_ms"), total, "ms", r, goal);
        sum.add(
            format!("links.{metric}.peak_rss_mb"),
            hwm_mb,
            "MB",
            f64::NAN,
            mem_goal,
        );
    }
    let (total, r) = (ms(ip), ms(ip) / ms(raw_total));
    rows.push(format!(
        "iproute2 ip -j link show > /dev/null|{total:.1}|{r:.2}x||-|-|"
    ));
    sum.add("links.iproute2.total_ms".into(), total, "ms", r, "");
    let title = format!(
        "links: dump of {n} links ({pairs} veth pairs + lo), median of {REPEATS}, current-thread runtime"
    );
    print_table(
        &title,
        "variant|total ms|/raw|goal|VmHWM MB|VmRSS before MB|goal MB",
        &rows,
    );
}

// ---------------------------------------------------------------- events

const WRITER_IN_FLIGHT: usize = 512;
/// The subscriber is stopped once it has made no progress for this long
/// after the writer's last ack.
const IDLE_STOP: Duration = Duration::from_millis(1000);

/// `n` route adds from one task, up to 512 in flight.
async fn write_routes(nl: &Netlink, table: u32, n: usize) -> Duration {
    let rtnl = nl.rtnl();
    let rtnl = &rtnl;
    let t0 = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let (m, f) = route(i, table, true);
            rtnl.ack(m, f)
        })
        .buffer_unordered(WRITER_IN_FLIGHT)
        .try_for_each(|()| async { Ok(()) })
        .await
        .expect("route add failed");
    t0.elapsed()
}

/// Opens the writer's socket and starts its connection task, leaving no
/// route behind.
async fn warm_writer(nl: &Netlink, table: u32) {
    let rtnl = nl.rtnl();
    for add in [true, false] {
        for i in 0..256 {
            let (m, f) = route(i, table, add);
            rtnl.ack(m, f).await.expect("warm-up");
        }
    }
}

struct EventRun {
    writer: Duration,
    /// NewRoute events of the writer's table.
    received: u64,
    /// Event::Lost items.
    lost_items: u64,
    /// `Events::losses()` at the end.
    losses: u64,
    /// From the writer's last ack until the subscriber had all `n` (None:
    /// it never did).
    lag: Option<Duration>,
}

/// The writer alone, or with a subscriber (`sub`: a client for it).
async fn events_run(writer: Netlink, sub: Option<Netlink>, table: u32, n: usize) -> EventRun {
    warm_writer(&writer, table + 100).await;
    let Some(sub) = sub else {
        let d = write_routes(&writer, table, n).await;
        return EventRun {
            writer: d,
            received: 0,
            lost_items: 0,
            losses: 0,
            lag: None,
        };
    };
    let mut events = sub.events(&[Group::Ipv4Route]);
    events.ready().await.expect("subscribe");
    let progress = Arc::new(AtomicU64::new(0));
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let seen = progress.clone();
    let consumer = tokio::spawn(async move {
        let (mut received, mut lost, mut all_at) = (0u64, 0u64, None);
        loop {
            tokio::select! {
                biased;
                ev = events.next() => match ev {
                    Some(Event::NewRoute(r)) if r.table() == table => {
                        received += 1;
                        if received == n as u64 {
                            all_at = Some(Instant::now());
                        }
                    }
                    Some(Event::Lost) => lost += 1,
                    Some(_) => {}
                    None => break,
                },
                _ = &mut stop_rx => break,
            }
            seen.store(received + lost, Ordering::Relaxed);
            if all_at.is_some() {
                break;
            }
        }
        (received, lost, events.losses(), all_at)
    });
    let d = write_routes(&writer, table, n).await;
    let done = Instant::now();
    // Waits for the subscriber to finish, or to stall for IDLE_STOP.
    let (mut last, mut since) = (u64::MAX, Instant::now());
    while !consumer.is_finished() {
        let now = progress.load(Ordering::Relaxed);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= IDLE_STOP {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop_tx.send(());
    let (received, lost_items, losses, all_at) = consumer.await.expect("subscriber panicked");
    EventRun {
        writer: d,
        received,
        lost_items,
        losses,
        lag: all_at.map(|t| t.saturating_duration_since(done)),
    }
}

const EVENT_ROUNDS: usize = 3;

fn bench_events(scale: f64, sum: &mut Summary) {
    let n = scaled(100_000, scale);
    let ns = Ns::new();
    let small = || {
        Netlink::builder()
            .netns(ns.name.as_str())
            .event_receive_buffer(256 * 1024)
            .build()
            .expect("open namespace")
    };
    let names = ["writer alone", "default subscriber", "256 KiB subscriber"];
    let mut runs: Vec<Vec<EventRun>> = (0..3).map(|_| Vec::new()).collect();
    // Rounds with the order rotated; each run writes a fresh table, checked
    // and emptied afterwards.
    for round in 0..EVENT_ROUNDS {
        for k in 0..3 {
            let v = (k + round) % 3;
            let table = 3000 + 10 * round as u32 + v as u32;
            let sub = match v {
                0 => None,
                1 => Some(ns.client()),
                _ => Some(small()),
            };
            let run = on_multi_thread(events_run(ns.client(), sub, table, n));
            check_and_empty(&ns, table, n, names[v]);
            runs[v].push(run);
        }
    }
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let alone = median(runs[0].iter().map(|r| r.writer).collect());
    let mut rows = Vec::new();
    for (v, metric) in [(0, "alone"), (1, "default"), (2, "small_buffer")] {
        let w = median(runs[v].iter().map(|r| r.writer).collect());
        let (per_s, ratio) = (rate(w), rate(w) / rate(alone));
        let rs = &runs[v];
        let cells = if v == 0 {
            "-|-|-|-".to_string()
        } else {
            // The worst round for delivery, median for lag.
            let worst = rs.iter().min_by_key(|r| r.received).expect("runs");
            let pct = worst.received as f64 * 100.0 / n as f64;
            let lags: Vec<String> = rs
                .iter()
                .map(|r| r.lag.map_or("-".into(), |l| format!("{:.0}", ms(l))))
                .collect();
            let goal = if v == 1 { "100%" } else { "" };
            sum.add(
                format!("events.{metric}.received_pct"),
                pct,
                "%",
                f64::NAN,
                goal,
            );
            let lost = worst.lost_items as f64;
            sum.add(
                format!("events.{metric}.lost_events"),
                lost,
                "",
                f64::NAN,
                "",
            );
            if rs.iter().all(|r| r.lag.is_some()) {
                let lag = ms(median(rs.iter().map(|r| r.lag.unwrap()).collect()));
                sum.add(format!("events.{metric}.lag_ms"), lag, "ms", f64::NAN, "");
            }
            format!(
                "{}/{n} ({pct:.2}%)|{}|{}|{}",
                worst.received,
                worst.lost_items,
                worst.losses,
                lags.join(",")
            )
        };
        let ratio_goal = "";
        rows.push(format!(
            "{}|{:.1}|{per_s:.0}|{ratio:.2}x|{cells}",
            names[v],
            ms(w)
        ));
        sum.add(
            format!("events.{metric}.writer_routes_per_s"),
            per_s,
            "routes/s",
            ratio,
            ratio_goal,
        );
    }
    let title = format!(
        "events: {n} blackhole /32 adds, 1 writer x {WRITER_IN_FLIGHT} in flight, \
         Ipv4Route subscriber, 2 workers (writer: median of {EVENT_ROUNDS}; events: worst round)"
    );
    print_table(
        &title,
        "variant|writer ms|routes/s|/alone|received/produced|Lost items|losses()|lag ms per round",
        &rows,
    );
    println!(
        "(ratio column: writer rate relative to the writer alone; lag: subscriber had all events after the last ack)"
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
        eprintln!("the family benchmarks create network namespaces: run them as root");
        std::process::exit(1);
    }
    let benches: [(&str, BenchFn); 2] = [("links", bench_links), ("events", bench_events)];
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
