//! What the benchmarks share: the throwaway namespace, raw netlink-sys
//! helpers, runtimes and table printing.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use netlink_packet_core::NetlinkSerializable;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use tokio::runtime::{Builder, Runtime};
use tokio_netlink::Netlink;

pub const F_REQUEST: u16 = 0x1;

pub const F_ACK: u16 = 0x4;

pub const F_DUMP: u16 = 0x300;

pub const F_CREATE_EXCL: u16 = 0x400 | 0x200;

pub const NLMSG_ERROR: u16 = 2;

pub const NLMSG_DONE: u16 = 3;

pub const RTM_NEWLINK: u16 = 16;

pub const RTM_NEWROUTE: u16 = 24;

pub const HEADER_LEN: usize = 16;

/// Dump timings are repeated this often and the median reported.
pub const REPEATS: usize = 5;

pub static NS_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A named namespace removed on drop, also when a benchmark panics.
pub struct Ns {
    pub name: String,
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Err(e) = tokio_netlink::netns::del_sync(&self.name) {
            eprintln!("warning: cannot remove namespace {}: {e}", self.name);
        }
    }
}

pub fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A two-worker multi-thread runtime.
pub fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs a future inside one spawned task of a fresh 2-worker runtime.
pub fn on_multi_thread<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    multi_thread().block_on(async { tokio::spawn(f).await.expect("benchmark task panicked") })
}

/// The i-th address under 10.0.0.0/8.
pub fn nth_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + i as u32)
}

/// Adds (or deletes) `blackhole 10.x.y.z/32 table T`, as tests/common
/// builds it; with the flags to use.
pub fn route(i: usize, table: u32, add: bool) -> (RouteNetlinkMessage, u16) {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.destination_prefix_length = 32;
    m.header.table = if table < 256 { table as u8 } else { 252 };
    m.header.kind = RouteType::BlackHole;
    let dst = RouteAddress::Inet(nth_addr(i));
    m.attributes.push(RouteAttribute::Destination(dst));
    m.attributes.push(RouteAttribute::Table(table));
    match add {
        true => (RouteNetlinkMessage::NewRoute(m), F_CREATE_EXCL),
        false => (RouteNetlinkMessage::DelRoute(m), 0),
    }
}

/// A kernel-filtered (strict checking) IPv4 route dump of one table.
pub fn dump_table(table: u32) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.attributes.push(RouteAttribute::Table(table));
    RouteNetlinkMessage::GetRoute(m)
}

/// A socket configured like the library's own (ext/cap ack, strict
/// checking, 4 MiB receive buffer, connected to the kernel), but blocking.
pub fn raw_socket() -> Socket {
    let mut s = Socket::new(NETLINK_ROUTE).expect("netlink socket");
    s.bind_auto().expect("bind");
    s.set_ext_ack(true).expect("ext ack");
    s.set_cap_ack(true).expect("cap ack");
    s.set_netlink_get_strict_chk(true).expect("strict check");
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

/// Appends one message (header + body), 4-byte aligned.
pub fn encode_into(buf: &mut Vec<u8>, msg: &RouteNetlinkMessage, flags: u16, seq: u32) {
    let len = HEADER_LEN + msg.buffer_len();
    let start = buf.len();
    buf.resize(start + ((len + 3) & !3), 0);
    let b = &mut buf[start..];
    b[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    b[4..6].copy_from_slice(&msg.message_type().to_ne_bytes());
    b[6..8].copy_from_slice(&flags.to_ne_bytes());
    b[8..12].copy_from_slice(&seq.to_ne_bytes());
    msg.serialize(&mut b[HEADER_LEN..len]);
}

/// (type, seq, whole message) of each message of a datagram.
pub fn messages(mut buf: &[u8]) -> impl Iterator<Item = (u16, u32, &[u8])> {
    let u32_at = |b: &[u8], at: usize| u32::from_ne_bytes(b[at..at + 4].try_into().unwrap());
    std::iter::from_fn(move || {
        if buf.len() < HEADER_LEN {
            return None;
        }
        let len = u32_at(buf, 0) as usize;
        assert!(len >= HEADER_LEN && len <= buf.len(), "bad netlink framing");
        let ty = u16::from_ne_bytes([buf[4], buf[5]]);
        let msg = &buf[..len];
        buf = &buf[((len + 3) & !3).min(buf.len())..];
        Some((ty, u32_at(msg, 8), msg))
    })
}

pub fn error_code(msg: &[u8]) -> i32 {
    i32::from_ne_bytes(msg[16..20].try_into().expect("NLMSG_ERROR body"))
}

/// One datagram into the reused buffer.
pub fn recv(sock: &Socket, buf: &mut Vec<u8>) {
    buf.clear();
    let n = sock.recv(buf, 0).expect("recv");
    assert!(n < buf.capacity(), "datagram may be truncated");
}

pub fn scaled(base: usize, scale: f64) -> usize {
    ((base as f64 * scale).round() as usize).max(1)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Prints a table of `|`-separated cells: first column left, others right.
pub fn print_table(title: &str, head: &str, rows: &[String]) {
    println!("\n== {title}");
    let rows: Vec<Vec<&str>> = std::iter::once(head)
        .chain(rows.iter().map(String::as_str))
        .map(|r| r.split('|').collect())
        .collect();
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max();
    let widths: Vec<usize> = (0..rows[0].len()).map(|c| width(c).unwrap_or(0)).collect();
    for row in &rows {
        let mut line = format!("{:<w$}", row[0], w = widths[0]);
        for (cell, w) in row.iter().zip(&widths).skip(1) {
            line += &format!("  {cell:>w$}");
        }
        println!("{}", line.trim_end());
    }
}

/// Machine-readable lines, printed together at the end.
#[derive(Default)]
pub struct Summary(pub Vec<String>);

pub fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = s
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .expect("status field");
    line.trim()
        .trim_end_matches(" kB")
        .parse()
        .expect("a kB value")
}

impl Ns {
    pub fn new() -> Ns {
        let id = NS_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("tnl-bench-{}-{id}", std::process::id());
        let made = current_thread().block_on(tokio_netlink::netns::add(&name));
        made.unwrap_or_else(|e| panic!("cannot create namespace {name}: {e}"));
        let ns = Ns { name };
        ns.ip(&["link", "set", "lo", "up"], "");
        ns
    }

    pub fn client(&self) -> Netlink {
        Netlink::in_netns(self.name.as_str()).expect("open namespace")
    }

    /// A client whose request connection runs on its own I/O thread.
    pub fn client_io_thread(&self) -> Netlink {
        Netlink::builder()
            .netns(self.name.as_str())
            .io_thread(true)
            .build()
            .expect("open namespace")
    }

    /// Runs `f` on a std thread that first enters the namespace, so raw
    /// sockets it creates live there.
    pub fn run_in<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                let file = std::fs::File::open(&path).expect("open namespace file");
                // SAFETY: changes the namespace of this scoped thread only.
                let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            });
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Wall time of `ip -n NS ARGS` fed `input`, its output discarded.
    pub fn ip(&self, args: &[&str], input: &str) -> Duration {
        let t0 = Instant::now();
        let mut child = Command::new("ip")
            .args(["-n", &self.name])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run ip");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write to ip");
        drop(stdin);
        assert!(child.wait().expect("wait").success(), "ip {args:?} failed");
        t0.elapsed()
    }
}

/// Sends 64 acked route adds (or deletes) per datagram, then reads their
/// 64 acks.
pub fn raw_ack(table: u32, n: usize, add: bool) -> Duration {
    const BATCH: usize = 64;
    let sock = raw_socket();
    let mut req = Vec::with_capacity(BATCH * 128);
    let mut buf = Vec::with_capacity(64 * 1024);
    let t0 = Instant::now();
    let mut i = 0;
    while i < n {
        let batch = (n - i).min(BATCH);
        let first = i as u32 + 1;
        req.clear();
        for k in 0..batch {
            let (msg, flags) = route(i + k, table, add);
            encode_into(&mut req, &msg, F_REQUEST | F_ACK | flags, first + k as u32);
        }
        assert_eq!(sock.send(&req, 0).expect("send"), req.len());
        let mut acked = 0;
        while acked < batch {
            recv(&sock, &mut buf);
            for (ty, seq, msg) in messages(&buf) {
                assert_eq!(ty, NLMSG_ERROR, "expected an ack");
                assert!(
                    (first..first + batch as u32).contains(&seq),
                    "stray seq {seq}"
                );
                let code = error_code(msg);
                assert_eq!(code, 0, "route add/del failed: errno {}", -code);
                acked += 1;
            }
        }
        i += batch;
    }
    t0.elapsed()
}
