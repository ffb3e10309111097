//! Conntrack benchmarks inside a throwaway namespace (root needed), against
//! the raw netlink-sys limit and conntrack-tools in the same run:
//!
//! - `dump`: 100,000 entries (made through the library) dumped by a raw
//!   blocking loop that only counts messages, by `conntrack().list()`
//!   reading each entry's tuples and mark, and by `conntrack -L >
//!   /dev/null`; with the peak RSS while streaming;
//! - `delete`: deleting a third of them by filter (`delete_matching`)
//!   against `conntrack -D` deleting another third with the same kind of
//!   filter, and a raw loop (dump, 64 acked deletes per sendmsg) the last.
//!
//! `cargo bench --bench netfilter [-- FILTER]`; `BENCH_SCALE=0.1` for a
//! quick run (the entry count is capped below the host's
//! nf_conntrack_max, which a namespace cannot raise). Goals are reported,
//! never asserted; wrong results panic instead of printing a number.

use std::future::IntoFuture;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};
use tokio_netlink::Netlink;
use tokio_netlink::netfilter::conntrack::{Proto, Tuple};

mod common;
use common::*;

/// IPCTNL_MSG_CT_GET and _NEW (the dump's entries), subsystem 1.
const CT_GET: u16 = 0x101;
const CT_NEW: u16 = 0x100;
const CT_DELETE: u16 = 0x102;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

impl Summary {
    fn add(&mut self, metric: &str, value: f64, unit: &str, ratio: f64, goal: &str) {
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

/// A blocking NETLINK_NETFILTER socket with the library's receive buffer.
fn nf_socket() -> Socket {
    let mut s = Socket::new(NETLINK_NETFILTER).expect("netlink socket");
    s.bind_auto().expect("bind");
    let size: libc::c_int = 4 << 20;
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    let ptr = &size as *const libc::c_int as *const libc::c_void;
    let (fd, level, opt) = (s.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE);
    // SAFETY: setsockopt with a pointer to a live int.
    let r = unsafe { libc::setsockopt(fd, level, opt, ptr, len) };
    assert_eq!(r, 0, "SO_RCVBUFFORCE: {}", std::io::Error::last_os_error());
    s.connect(&SocketAddr::new(0, 0)).expect("connect");
    s
}

/// A raw conntrack dump (AF_UNSPEC, no filter) that counts entries.
fn raw_dump(sock: &Socket, seq: u32, buf: &mut Vec<u8>) -> usize {
    let mut req = vec![0u8; HEADER_LEN + 4];
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
    req[4..6].copy_from_slice(&CT_GET.to_ne_bytes());
    req[6..8].copy_from_slice(&(F_REQUEST | F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&seq.to_ne_bytes());
    sock.send(&req, 0).expect("send");
    let mut count = 0;
    loop {
        recv(sock, buf);
        for (ty, got, msg) in messages(buf) {
            assert_eq!(got, seq, "stray message");
            match ty {
                NLMSG_DONE => return count,
                NLMSG_ERROR => panic!("dump failed: errno {}", -error_code(msg)),
                CT_NEW => count += 1,
                _ => {}
            }
        }
    }
}

/// CTA_TUPLE_ORIG (whole, header included) of each dumped entry whose
/// original destination port is `dport`: the raw delete loop's input.
fn raw_collect(sock: &Socket, dport: u16, buf: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut req = vec![0u8; HEADER_LEN + 4];
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
    req[4..6].copy_from_slice(&CT_GET.to_ne_bytes());
    req[6..8].copy_from_slice(&(F_REQUEST | F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&7u32.to_ne_bytes());
    sock.send(&req, 0).expect("send");
    let mut out = Vec::new();
    loop {
        recv(sock, buf);
        for (ty, _, msg) in messages(buf) {
            match ty {
                NLMSG_DONE => return out,
                CT_NEW => {
                    // The kernel puts CTA_TUPLE_ORIG first.
                    let at = HEADER_LEN + 4;
                    let alen = u16::from_ne_bytes([msg[at], msg[at + 1]]) as usize;
                    let tuple = &msg[at..at + alen];
                    // Its proto nest ends with the destination port (be16).
                    let port_at = tuple.len() - 4;
                    let port = u16::from_be_bytes([tuple[port_at], tuple[port_at + 1]]);
                    if port == dport {
                        out.push(tuple.to_vec());
                    }
                }
                _ => {}
            }
        }
    }
}

/// Deletes `tuples`, 64 acked IPCTNL_MSG_CT_DELETE per sendmsg.
fn raw_delete(sock: &Socket, tuples: &[Vec<u8>], buf: &mut Vec<u8>) {
    let mut req = Vec::with_capacity(64 * 128);
    for (b, chunk) in tuples.chunks(64).enumerate() {
        req.clear();
        for (k, t) in chunk.iter().enumerate() {
            let len = HEADER_LEN + 4 + t.len();
            let seq = (b * 64 + k + 1) as u32;
            req.extend_from_slice(&(len as u32).to_ne_bytes());
            req.extend_from_slice(&CT_DELETE.to_ne_bytes());
            req.extend_from_slice(&(F_REQUEST | F_ACK).to_ne_bytes());
            req.extend_from_slice(&seq.to_ne_bytes());
            req.extend_from_slice(&[0; 4]);
            req.extend_from_slice(&[libc::AF_INET as u8, 0, 0, 0]);
            req.extend_from_slice(t);
        }
        sock.send(&req, 0).expect("send");
        let mut acked = 0;
        while acked < chunk.len() {
            recv(sock, buf);
            for (ty, _, msg) in messages(buf) {
                assert_eq!(ty, NLMSG_ERROR, "expected an ack");
                assert_eq!(error_code(msg), 0, "delete failed");
                acked += 1;
            }
        }
    }
}

/// `list().stream()`, reading what a consumer would: tuples and mark.
async fn ours(nl: &Netlink) -> usize {
    let mut s = Box::pin(nl.conntrack().list().stream());
    let (mut n, mut acc) = (0, 0u64);
    while let Some(ct) = s.next().await {
        let ct = ct.expect("entry");
        acc += u64::from(ct.orig().dport.unwrap_or(0)) + u64::from(ct.mark().unwrap_or(0));
        n += 1;
    }
    std::hint::black_box(acc);
    n
}

/// Wall time of `ip netns exec NS conntrack ARGS`, stdout discarded.
fn tool(ns: &Ns, args: &[&str]) -> Duration {
    let t0 = Instant::now();
    let st = Command::new("ip")
        .args(["netns", "exec", &ns.name, "conntrack"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run conntrack");
    // conntrack -D exits 1 when it deleted nothing; the counts are checked.
    let _ = st;
    t0.elapsed()
}

/// Entry `i`: UDP from 10.x.y.z, to port 53, 80 or 443 by `i % 3`.
fn tuple(i: usize) -> Tuple {
    let src = std::net::Ipv4Addr::from(0x0a00_0000 + i as u32);
    let dport = [53, 80, 443][i % 3];
    Tuple::new(src, "192.0.2.1", Proto::Udp)
        .expect("tuple")
        .ports(40000, dport)
}

async fn fill(nl: &Netlink, n: usize) -> Duration {
    let ct = nl.conntrack();
    let t0 = Instant::now();
    futures::stream::iter((0..n).map(|i| ct.create(tuple(i)).timeout(3600)))
        .map(|c| async move { c.await })
        .buffer_unordered(512)
        .try_collect::<Vec<()>>()
        .await
        .expect("create");
    t0.elapsed()
}

fn entries(scale: f64) -> usize {
    let max: usize = std::fs::read_to_string("/proc/sys/net/netfilter/nf_conntrack_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65536);
    scaled(100_000, scale).min(max * 9 / 10)
}

fn bench_dump(scale: f64, sum: &mut Summary) {
    let n = entries(scale);
    let ns = Ns::new();
    let (rt, nl) = (current_thread(), ns.client());
    let setup = rt.block_on(fill(&nl, n));
    println!(
        "\n(dump: created {n} entries in {:.2} s, {:.0}/s)",
        setup.as_secs_f64(),
        n as f64 / setup.as_secs_f64()
    );
    let raw = ns.run_in(|| {
        let (sock, mut buf) = (nf_socket(), Vec::with_capacity(64 * 1024));
        (0..=REPEATS as u32)
            .map(|seq| {
                let t0 = Instant::now();
                assert_eq!(raw_dump(&sock, seq + 1, &mut buf), n, "raw dump");
                t0.elapsed()
            })
            .skip(1)
            .collect::<Vec<_>>()
    });
    assert_eq!(rt.block_on(ours(&nl)), n, "warm-up");
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let base_kb = status_kb("VmRSS:");
    let view: Vec<Duration> = (0..REPEATS)
        .map(|_| {
            let t0 = Instant::now();
            assert_eq!(rt.block_on(ours(&nl)), n, "ours");
            t0.elapsed()
        })
        .collect();
    let grow_mb = status_kb("VmHWM:").saturating_sub(base_kb) as f64 / 1024.0;
    let tool_l = median((0..REPEATS).map(|_| tool(&ns, &["-L"])).collect());
    let (raw, view) = (median(raw), median(view));
    let r = ms(view) / ms(raw);
    let t = ms(tool_l) / ms(raw);
    let rows = [
        format!("raw netlink-sys (no decode, counted)|{:.1}|1.00x|", ms(raw)),
        format!(
            "ours conntrack().list().stream()|{:.1}|{r:.2}x|<=1.2x raw",
            ms(view)
        ),
        format!(
            "conntrack -L > /dev/null|{:.1}|{t:.2}x|ours <=0.25x of it: {:.2}x",
            ms(tool_l),
            ms(view) / ms(tool_l)
        ),
    ];
    print_table(
        &format!(
            "dump of {n} entries, median of {REPEATS}, current-thread runtime (RSS growth while streaming: {grow_mb:.1} MB)"
        ),
        "path|ms|vs raw|goal",
        &rows,
    );
    sum.add("ct_dump.raw.total_ms", ms(raw), "ms", 1.0, "");
    sum.add("ct_dump.ours.total_ms", ms(view), "ms", r, "<=1.2");
    sum.add("ct_dump.conntrack_tool.total_ms", ms(tool_l), "ms", t, "");
    sum.add(
        "ct_dump.ours_vs_tool",
        ms(view) / ms(tool_l),
        "ratio",
        f64::NAN,
        "<=0.25",
    );
    sum.add(
        "ct_dump.ours.rss_growth_mb",
        grow_mb,
        "MB",
        f64::NAN,
        "<=16",
    );
}

fn bench_delete(scale: f64, sum: &mut Summary) {
    // Three thirds of the entries: dport 53 (ours), 80 (conntrack -D),
    // 443 (the raw loop).
    let n = entries(scale);
    let third = n / 3;
    let ns = Ns::new();
    let (rt, nl) = (current_thread(), ns.client());
    rt.block_on(fill(&nl, third * 3));
    let t0 = Instant::now();
    let deleted = rt.block_on(
        nl.conntrack()
            .delete_matching()
            .protocol(Proto::Udp)
            .dport(53)
            .into_future(),
    );
    let ours = t0.elapsed();
    assert_eq!(deleted.expect("delete") as usize, third, "ours deleted");
    let theirs = tool(&ns, &["-D", "-p", "udp", "--dport", "80"]);
    let count = |rt: &tokio::runtime::Runtime| rt.block_on(nl.conntrack().count()).expect("count");
    assert_eq!(count(&rt) as usize, third, "conntrack -D left some");
    let raw = ns.run_in(|| {
        let (sock, mut buf) = (nf_socket(), Vec::with_capacity(64 * 1024));
        let t0 = Instant::now();
        let tuples = raw_collect(&sock, 443, &mut buf);
        assert_eq!(tuples.len(), third, "raw dump");
        raw_delete(&sock, &tuples, &mut buf);
        t0.elapsed()
    });
    assert_eq!(count(&rt), 0, "the raw loop left some");
    let rate = |d: Duration| third as f64 / d.as_secs_f64();
    let (r, t) = (rate(ours) / rate(raw), rate(theirs) / rate(raw));
    let rows = [
        format!(
            "raw netlink-sys (dump, 64 deletes per sendmsg)|{:.1}|{:.0}/s|1.00x|",
            ms(raw),
            rate(raw)
        ),
        format!(
            "ours delete_matching().dport(53)|{:.1}|{:.0}/s|{r:.2}x|>=0.9x",
            ms(ours),
            rate(ours)
        ),
        format!(
            "conntrack -D -p udp --dport 80|{:.1}|{:.0}/s|{t:.2}x|",
            ms(theirs),
            rate(theirs)
        ),
    ];
    print_table(
        &format!(
            "delete by filter: {third} of {} entries each, one run",
            third * 3
        ),
        "path|ms|entries/s|rate vs raw|goal",
        &rows,
    );
    sum.add("ct_delete.raw.total_ms", ms(raw), "ms", 1.0, "");
    sum.add(
        "ct_delete.ours.total_ms",
        ms(ours),
        "ms",
        ms(raw) / ms(ours),
        ">=0.9 (rate)",
    );
    sum.add(
        "ct_delete.conntrack_tool.total_ms",
        ms(theirs),
        "ms",
        ms(raw) / ms(theirs),
        "",
    );
}

type BenchFn = fn(f64, &mut Summary);

fn main() {
    let scale: f64 = match std::env::var("BENCH_SCALE") {
        Ok(s) => s.parse().expect("BENCH_SCALE must be a number"),
        Err(_) => 1.0,
    };
    assert!(scale > 0.0, "BENCH_SCALE must be positive");
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("the netfilter benchmarks create network namespaces: run them as root");
        std::process::exit(1);
    }
    let benches: [(&str, BenchFn); 2] = [("dump", bench_dump), ("delete", bench_delete)];
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
