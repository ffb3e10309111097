//! Socket-diagnostics benchmark: dump 10,000 established TCP sockets (5,000
//! loopback pairs) with tcp_info in a throwaway namespace, against `ss
//! -tani` run on the same sockets in the same run; and the peak RSS while
//! streaming. Needs root.
//!
//! `cargo bench --bench diag`; `BENCH_SCALE=0.1` for 500 pairs. Goals (≤ 0.5x
//! of ss's time, ≤ 16 MB peak RSS) are reported, never asserted; a run
//! whose counts disagree with ss panics instead of printing a number.

use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use tokio::runtime::{Builder, Runtime};
use tokio_netlink::Netlink;
use tokio_netlink::diag::{Extensions, States};

const REPEATS: usize = 7;

/// A named namespace removed on drop, also when the benchmark panics.
struct Ns {
    name: String,
}

impl Ns {
    fn new() -> Ns {
        let name = format!("tnl-bench-diag-{}", std::process::id());
        runtime()
            .block_on(tokio_netlink::netns::add(&name))
            .unwrap_or_else(|e| panic!("cannot create namespace {name}: {e}"));
        let ok = Command::new("ip")
            .args(["-n", &name, "link", "set", "lo", "up"])
            .status()
            .expect("run ip");
        assert!(ok.success());
        Ns { name }
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// Runs `f` on a thread inside the namespace.
    fn run_in<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let path = self.path();
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = std::fs::File::open(&path).expect("open namespace");
                // SAFETY: changes the namespace of this scoped thread only.
                let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// `ss ARGS` inside the namespace (entered before exec, so no extra
    /// process is timed); its output discarded or captured.
    fn ss(&self, args: &[&str], capture: bool) -> (Duration, String) {
        let file = std::fs::File::open(self.path()).expect("open namespace");
        let fd = file.as_raw_fd();
        let mut cmd = Command::new("ss");
        cmd.args(args).stderr(Stdio::inherit());
        cmd.stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        // SAFETY: setns is async-signal-safe; the child only execs after it.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let t0 = Instant::now();
        let out = cmd.output().expect("run ss");
        let dt = t0.elapsed();
        assert!(out.status.success(), "ss failed");
        (dt, String::from_utf8(out.stdout).expect("utf8"))
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Err(e) = tokio_netlink::netns::del_sync(&self.name) {
            eprintln!("warning: cannot remove namespace {}: {e}", self.name);
        }
    }
}

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn raise_nofile(n: u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        if r.rlim_cur < n {
            r.rlim_cur = n;
            r.rlim_max = r.rlim_max.max(n);
            assert_eq!(
                libc::setrlimit(libc::RLIMIT_NOFILE, &r),
                0,
                "cannot raise RLIMIT_NOFILE to {n}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

fn status_kb(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("status");
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_hwm() {
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Streams the dump, touching what `ss -tani` prints; returns the count
/// and a checksum of bytes_acked (so nothing is optimized away).
async fn our_dump(nl: &Netlink) -> (usize, u64) {
    let mut st = nl
        .diag()
        .tcp()
        .states(States::ALL)
        .extensions(Extensions::INFO | Extensions::CC_INFO | Extensions::CONG)
        .stream();
    let mut n = 0;
    let mut sum = 0u64;
    while let Some(s) = st.try_next().await.expect("dump") {
        n += 1;
        let (l, r) = (s.local(), s.remote());
        sum = sum.wrapping_add(u64::from(l.port()) + u64::from(r.port()) + u64::from(s.state()));
        sum = sum.wrapping_add(u64::from(s.rqueue()) + u64::from(s.wqueue()));
        if let Some(i) = s.tcp_info() {
            sum = sum.wrapping_add(i.bytes_acked().unwrap_or(0) + u64::from(i.rtt().unwrap_or(0)));
        }
        sum = sum.wrapping_add(s.congestion().map_or(0, str::len) as u64);
    }
    (n, sum)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("diag: benchmark");
        return;
    }
    let scale: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let pairs = ((5000.0 * scale) as usize).max(10);
    raise_nofile((2 * pairs + 1024) as u64);
    let ns = Ns::new();

    let t0 = Instant::now();
    let sockets = ns.run_in(|| {
        let l = TcpListener::bind("127.0.0.1:5000").expect("listen");
        let mut v = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let c = TcpStream::connect("127.0.0.1:5000").expect("connect");
            let (s, _) = l.accept().expect("accept");
            v.push(c);
            v.push(s);
        }
        (l, v)
    });
    let want = 2 * pairs + 1;
    println!(
        "== diag: {} established TCP sockets (+1 listener), set up in {:.0} ms",
        2 * pairs,
        ms(t0.elapsed())
    );

    let rt = runtime();
    let nl = Netlink::in_netns(ns.name.as_str()).expect("client");
    // Warm up (and check) both.
    let (n, _) = rt.block_on(our_dump(&nl));
    assert_eq!(n, want, "our dump count");
    let (_, text) = ns.ss(&["-tanHi"], true);
    let ss_count = text
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .count();
    assert_eq!(ss_count, want, "ss count");

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..REPEATS {
        let t = Instant::now();
        let (n, sum) = rt.block_on(our_dump(&nl));
        ours.push(t.elapsed());
        assert_eq!(n, want);
        std::hint::black_box(sum);
        theirs.push(ns.ss(&["-tani"], false).0);
    }
    let (o, s) = (median(ours), median(theirs));
    println!(
        "dump with tcp_info: ours {:.2} ms, ss -tani {:.2} ms, ratio {:.2}x (goal <= 0.5x)",
        ms(o),
        ms(s),
        o.as_secs_f64() / s.as_secs_f64()
    );

    // Peak RSS while streaming.
    let before = status_kb("VmRSS:");
    reset_hwm();
    let (n, _) = rt.block_on(our_dump(&nl));
    let hwm = status_kb("VmHWM:");
    assert_eq!(n, want);
    println!(
        "peak RSS while streaming: {:.1} MB (VmHWM; {:.1} MB resident before; goal <= 16 MB)",
        hwm as f64 / 1024.0,
        before as f64 / 1024.0
    );
    // And collecting everything, for contrast.
    reset_hwm();
    let all = rt
        .block_on(async { nl.diag().tcp().info().await })
        .expect("collect");
    println!(
        "peak RSS collecting all {} into a Vec: {:.1} MB",
        all.len(),
        status_kb("VmHWM:") as f64 / 1024.0
    );
    drop(all);
    drop(sockets);
}
