//! Socket-diagnostics test helpers shared by tests/diag.rs (host kernel)
//! and tests/vm_lane/diag.rs (the VM's distribution kernel): sockets made
//! inside a namespace, `ss` and /proc/net read there, and their parsers.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;

use tokio_netlink::diag::InetSocket;

use super::TestNs;

/// Runs `f` on a thread inside the namespace: sockets it opens live there.
pub fn in_ns<R: Send>(ns: &TestNs, f: impl FnOnce() -> R + Send) -> R {
    let path = format!("/run/netns/{}", ns.name);
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

/// `ip netns exec NS ss ARGS`.
pub fn ss(ns: &TestNs, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ss"])
        .args(args)
        .output()
        .expect("run ss");
    assert!(
        out.status.success(),
        "ss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// `nsenter --net=/run/netns/NS ss ARGS`: ss in the namespace without
/// `ip netns exec`'s fresh /sys mount, which hides a cgroup2 filesystem
/// mounted under /sys/fs/cgroup (so ss could not resolve `cgroup = PATH`).
pub fn ss_keep_mounts(ns: &TestNs, args: &[&str]) -> String {
    let out = Command::new("nsenter")
        .arg(format!("--net=/run/netns/{}", ns.name))
        .arg("ss")
        .args(args)
        .output()
        .expect("run nsenter ss");
    assert!(
        out.status.success(),
        "ss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// One socket line of `ss -H -n` output (state first, no Netid column).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SsLine {
    /// `ss`'s state name; SCTP associations (`` `- STATE``) keep the `` `- ``.
    pub state: String,
    pub recv_q: u32,
    pub send_q: u32,
    /// `ADDR:PORT` with ss's `*` host written `[::]` (as [`ss_addr`] does)
    /// and the `%DEV` suffix moved to [`SsLine::dev`].
    pub local: String,
    pub peer: String,
    /// The interface ss appends to a bound socket's local address.
    pub dev: Option<String>,
    /// `key:value` fields of the line and its continuation (`ino`, `bytes_acked`, …).
    pub extra: Vec<(String, String)>,
    /// The words after the peer address, continuation lines included, for
    /// what is not `key:value` (`<->`, `send 12bps`, `tcp-ulp-tls …`).
    pub rest: String,
}

impl SsLine {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// (state, local, peer), as [`key_of`] gives for our sockets.
    pub fn key(&self) -> (String, String, String) {
        (self.state.clone(), self.local.clone(), self.peer.clone())
    }
}

/// Parses `ss -H -n` output of a single protocol (no Netid column).
pub fn parse_ss(text: &str) -> Vec<SsLine> {
    let mut out: Vec<SsLine> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let mut words: Vec<&str> = line.split_whitespace().collect();
        // An SCTP association's line starts with "`-" before its state.
        let assoc = words[0] == "`-";
        let cont = line.starts_with(char::is_whitespace) && !assoc;
        let kv = |words: &[&str]| -> Vec<(String, String)> {
            words
                .iter()
                .filter_map(|w| {
                    w.split_once(':')
                        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect()
        };
        if cont {
            let extra = kv(&words);
            let last = out.last_mut().expect("continuation");
            last.extra.extend(extra);
            last.rest.push(' ');
            last.rest.push_str(&words.join(" "));
            continue;
        }
        let state = if assoc {
            words.remove(0);
            format!("`- {}", words[0])
        } else {
            words[0].to_string()
        };
        let (local, dev) = split_dev(words[3]);
        out.push(SsLine {
            state,
            // ss prints the kernel's u32 counters as int (a deferred Fast
            // Open connect's Send-Q is write_seq minus an unset snd_una).
            recv_q: words[1].parse::<i64>().unwrap() as u32,
            send_q: words[2].parse::<i64>().unwrap() as u32,
            local,
            peer: split_dev(words[4]).0,
            dev,
            extra: kv(&words[5..]),
            rest: words[5..].join(" "),
        });
    }
    out
}

/// `HOST[%DEV]:PORT` -> (`HOST:PORT` with `*` as `[::]`, DEV).
fn split_dev(w: &str) -> (String, Option<String>) {
    let (host, port) = w.rsplit_once(':').expect("ADDR:PORT");
    let (host, dev) = match host.split_once('%') {
        Some((h, d)) => (h, Some(d.to_string())),
        None => (host, None),
    };
    // ss writes an unspecified IPv6 address as `*` unless the socket is
    // v6only; [`ss_addr`] always writes `[::]`.
    let host = if host == "*" { "[::]" } else { host };
    (format!("{host}:{port}"), dev)
}

/// How `ss -n` writes an address and port (`*` for port 0).
pub fn ss_addr(a: SocketAddr) -> String {
    let host = match a {
        SocketAddr::V4(v) => v.ip().to_string(),
        SocketAddr::V6(v) => format!("[{}]", v.ip()),
    };
    if a.port() == 0 {
        format!("{host}:*")
    } else {
        format!("{host}:{}", a.port())
    }
}

/// (state name, local, remote) of a socket as `ss -n` writes them.
pub fn key_of(s: &InetSocket) -> (String, String, String) {
    (
        tokio_netlink::diag::raw::state_name(s.state()).to_string(),
        ss_addr(s.local()),
        ss_addr(s.remote()),
    )
}

pub fn ss_keys(lines: &[SsLine]) -> BTreeSet<(String, String, String)> {
    lines.iter().map(SsLine::key).collect()
}

/// Polls `cond` until it holds (the kernel's loopback delivery is
/// asynchronous); no timing is asserted, the loop only bounds a hang.
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut cond: F) {
    // Generous: kernel timers (retransmits, keepalive probes) take seconds,
    // and a loaded CI machine stretches everything else.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if cond().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("never happened within 30 s: {what}");
}

/// The inode of an open socket (what sock_diag and `ss -e` report).
pub fn ino(fd: &impl AsRawFd) -> u32 {
    // SAFETY: fstat on an open fd into a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
    st.st_ino as u32
}

/// `socket(2)`; `Err` with errno when the kernel refuses (a missing
/// protocol module: EPROTONOSUPPORT, ESOCKTNOSUPPORT).
pub fn socket(family: i32, ty: i32, proto: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the fd is owned right away.
    let fd = unsafe { libc::socket(family, ty | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: just created and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn sockaddr(a: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match a {
        SocketAddr::V4(v) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as u16;
            sin.sin_port = v.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(v.ip().octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v) => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as u16;
            sin6.sin6_port = v.port().to_be();
            sin6.sin6_addr.s6_addr = v.ip().octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// `bind(2)`, panicking on failure.
pub fn bind(fd: &OwnedFd, a: SocketAddr) {
    let (sa, len) = sockaddr(a);
    // SAFETY: a valid sockaddr of `len` bytes.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    assert_eq!(r, 0, "bind {a}: {}", std::io::Error::last_os_error());
}

/// `connect(2)`, panicking on failure.
pub fn connect(fd: &OwnedFd, a: SocketAddr) {
    let (sa, len) = sockaddr(a);
    // SAFETY: a valid sockaddr of `len` bytes.
    let r = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    assert_eq!(r, 0, "connect {a}: {}", std::io::Error::last_os_error());
}

/// `sendto(2)` of `data` to `a`, panicking on failure.
pub fn send_to(fd: &OwnedFd, data: &[u8], a: SocketAddr) {
    let (sa, len) = sockaddr(a);
    // SAFETY: a valid buffer and a valid sockaddr of `len` bytes.
    let r = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            data.as_ptr().cast(),
            data.len(),
            0,
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    assert_eq!(
        r,
        data.len() as isize,
        "sendto {a}: {}",
        std::io::Error::last_os_error()
    );
}

/// `setsockopt(2)` of an int option, panicking on failure.
pub fn set_int(fd: &impl AsRawFd, level: i32, name: i32, v: i32) {
    // SAFETY: an int option of the right size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &v as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "setsockopt {name}: {}",
        std::io::Error::last_os_error()
    );
}

/// One row of /proc/net/{udp,udplite,raw}[6]: the kernel's other view of
/// the same sockets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProcRow {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: u8,
    pub tx_queue: u32,
    pub rx_queue: u32,
    pub inode: u32,
}

fn proc_addr(s: &str) -> SocketAddr {
    let (a, p) = s.split_once(':').expect("ADDR:PORT");
    let port = u16::from_str_radix(p, 16).unwrap();
    // The address is the kernel's in-memory bytes printed as native u32 words.
    let words: Vec<u32> = (0..a.len() / 8)
        .map(|i| u32::from_str_radix(&a[i * 8..i * 8 + 8], 16).unwrap())
        .collect();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let ip = if bytes.len() == 4 {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).unwrap()))
    };
    SocketAddr::new(ip, port)
}

/// The rows of /proc/net/FILE as seen from inside the namespace.
pub fn proc_net(ns: &TestNs, file: &str) -> Vec<ProcRow> {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "cat"])
        .arg(format!("/proc/net/{file}"))
        .output()
        .expect("run cat");
    assert!(out.status.success(), "cat /proc/net/{file}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let (tx, rx) = w[4].split_once(':').unwrap();
            ProcRow {
                local: proc_addr(w[1]),
                remote: proc_addr(w[2]),
                state: u8::from_str_radix(w[3], 16).unwrap(),
                tx_queue: u32::from_str_radix(tx, 16).unwrap(),
                rx_queue: u32::from_str_radix(rx, 16).unwrap(),
                inode: w[9].parse().unwrap(),
            }
        })
        .collect()
}

/// `getsockname(2)` of an inet socket.
pub fn local_addr(fd: &OwnedFd) -> SocketAddr {
    // SAFETY: an all-zero sockaddr_storage is valid; getsockname fills it.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let r = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            &mut ss as *mut _ as *mut libc::sockaddr,
            &mut len,
        )
    };
    assert_eq!(r, 0, "getsockname: {}", std::io::Error::last_os_error());
    let b: &[u8] = unsafe {
        // SAFETY: reading the initialised bytes of the struct.
        std::slice::from_raw_parts(&ss as *const _ as *const u8, len as usize)
    };
    let port = u16::from_be_bytes([b[2], b[3]]);
    if i32::from(ss.ss_family) == libc::AF_INET {
        SocketAddr::new(Ipv4Addr::new(b[4], b[5], b[6], b[7]).into(), port)
    } else {
        let ip: [u8; 16] = b[8..24].try_into().unwrap();
        SocketAddr::new(Ipv6Addr::from(ip).into(), port)
    }
}

/// UDP-Lite sockets (IPv4 and IPv6, bound, connected, with datagrams
/// queued) listed by `DiagHandle` as /proc/net/udplite{,6} lists them (`ss`
/// has no UDP-Lite). Shared by the host and VM lanes; `Err` from socket(2)
/// when the kernel has no UDP-Lite (the caller reports the missing feature).
pub async fn udplite_sockets_match_proc(ns: &TestNs) -> std::io::Result<()> {
    use tokio_netlink::diag::{InetProtocol, SockId, state};
    const UDPLITE: i32 = 136;
    let (bound, sender, connected) = in_ns(ns, || {
        let bound = socket(libc::AF_INET, libc::SOCK_DGRAM, UDPLITE)?;
        bind(&bound, "127.0.0.1:7100".parse().unwrap());
        let sender = socket(libc::AF_INET, libc::SOCK_DGRAM, UDPLITE)?;
        bind(&sender, "127.0.0.1:0".parse().unwrap());
        for _ in 0..3 {
            send_to(&sender, b"hello", "127.0.0.1:7100".parse().unwrap());
        }
        let connected = socket(libc::AF_INET6, libc::SOCK_DGRAM, UDPLITE)?;
        bind(&connected, "[::1]:0".parse().unwrap());
        connect(&connected, "[::1]:7101".parse().unwrap());
        Ok::<_, std::io::Error>((bound, sender, connected))
    })?;
    let diag = ns.client().diag();
    eventually("3 datagrams queued", async || {
        let socks = diag.inet().udplite().await.unwrap();
        socks
            .iter()
            .any(|s| s.local().port() == 7100 && s.rqueue() > 0)
    })
    .await;
    let socks = diag.inet().udplite().await.unwrap();
    assert_eq!(socks.len(), 3, "{socks:#?}");
    let mut rows = proc_net(ns, "udplite");
    rows.extend(proc_net(ns, "udplite6"));
    let ours: BTreeSet<ProcRow> = socks
        .iter()
        .map(|s| ProcRow {
            local: s.local(),
            remote: s.remote(),
            state: s.state(),
            tx_queue: s.wqueue(),
            rx_queue: s.rqueue(),
            inode: s.inode(),
        })
        .collect();
    assert_eq!(ours, rows.into_iter().collect::<BTreeSet<_>>());
    for s in &socks {
        assert_eq!(s.protocol(), InetProtocol::UdpLite);
        assert_eq!(s.protocol().name(), "udpl");
    }
    let b = socks.iter().find(|s| s.inode() == ino(&bound)).unwrap();
    assert_eq!(
        (b.local(), b.state()),
        ("127.0.0.1:7100".parse().unwrap(), state::CLOSE)
    );
    assert!(b.rqueue() > 0);
    let c = socks.iter().find(|s| s.inode() == ino(&connected)).unwrap();
    assert_eq!(c.state(), state::ESTABLISHED);
    assert_eq!(c.local(), local_addr(&connected));
    assert_eq!(c.remote(), "[::1]:7101".parse().unwrap());
    let s = socks.iter().find(|s| s.inode() == ino(&sender)).unwrap();
    assert_eq!(s.local(), local_addr(&sender));

    // UDP-Lite sockets have a table of their own: a UDP listing has none.
    assert!(diag.udp().await.unwrap().is_empty());
    // Exact lookup by id, and a family narrows the listing.
    let got = diag.inet().udplite().get(c.id()).await.unwrap();
    assert_eq!(got.inode(), c.inode());
    let id = SockId::new(
        "127.0.0.1:7100".parse().unwrap(),
        "0.0.0.0:0".parse().unwrap(),
    );
    assert_eq!(
        diag.inet().udplite().get(id).await.unwrap().inode(),
        b.inode()
    );
    assert_eq!(diag.inet().udplite().v6().await.unwrap().len(), 1);
    drop((bound, sender, connected));
    Ok(())
}

/// `SO_BINDTODEVICE`, panicking on failure.
pub fn bind_to_device(fd: &OwnedFd, dev: &str) {
    // SAFETY: the option value is the name's bytes and their length.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            dev.as_ptr().cast(),
            dev.len() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "SO_BINDTODEVICE {dev}: {}",
        std::io::Error::last_os_error()
    );
}

/// `listen(2)`, panicking on failure.
pub fn listen(fd: &OwnedFd) {
    // SAFETY: listen(2) on our own socket.
    let r = unsafe { libc::listen(fd.as_raw_fd(), 8) };
    assert_eq!(r, 0, "listen: {}", std::io::Error::last_os_error());
}

/// A cgroup v2 directory made for one test (a threaded child of the
/// test process's own cgroup, so single threads can enter it), removed on
/// drop.
pub struct TestCgroup {
    /// Its path on the cgroup2 filesystem.
    pub dir: std::path::PathBuf,
    /// Its path relative to the cgroup2 mount, as `/name` (ss's form).
    pub rel: String,
}

impl TestCgroup {
    /// Makes the cgroup, or says why it cannot be made here.
    pub fn new(tag: &str) -> Result<TestCgroup, String> {
        let info = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        let mount = info
            .lines()
            .find_map(|l| {
                let (left, right) = l.split_once(" - ")?;
                (right.split(' ').next() == Some("cgroup2")).then(|| left.split(' ').nth(4))?
            })
            .ok_or("no cgroup2 filesystem mounted")?;
        let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| e.to_string())?;
        let own = own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .ok_or("not in a cgroup v2")?
            .trim_end_matches('/');
        let rel = format!("{own}/tnl-{tag}-{}", std::process::id());
        let dir = std::path::PathBuf::from(format!("{mount}{rel}"));
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let cg = TestCgroup { dir, rel };
        std::fs::write(cg.dir.join("cgroup.type"), "threaded")
            .map_err(|e| format!("make {} threaded: {e}", cg.dir.display()))?;
        Ok(cg)
    }

    /// Moves the calling thread into the cgroup (sockets it creates then
    /// belong to it); the thread leaves it when it ends.
    pub fn enter(&self) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        std::fs::write(self.dir.join("cgroup.threads"), tid.to_string())
            .unwrap_or_else(|e| panic!("enter {}: {e}", self.dir.display()));
    }

    /// The cgroup's id (its inode number on cgroup2, as on every 64-bit
    /// kernel).
    pub fn id(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&self.dir).unwrap().ino()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!("warning: cannot remove {}: {e}", self.dir.display());
        }
    }
}

/// `setsockopt(2)` of raw bytes; the kernel's refusal is the error (a
/// missing module: ENOENT for TCP_CONGESTION and TCP_ULP).
pub fn set_bytes(fd: &impl AsRawFd, level: i32, name: i32, v: &[u8]) -> std::io::Result<()> {
    // SAFETY: the option value is `v`'s bytes and their length.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            v.as_ptr().cast(),
            v.len() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `TCP_CONGESTION`: `Err` when the kernel has no such algorithm (it loads
/// `tcp_NAME` itself for a CAP_NET_ADMIN caller when it can).
pub fn set_congestion(fd: &impl AsRawFd, algo: &str) -> std::io::Result<()> {
    set_bytes(fd, libc::IPPROTO_TCP, libc::TCP_CONGESTION, algo.as_bytes())
}

/// The ss line of socket `s` (panics with the whole text when missing).
pub fn line_of<'a>(lines: &'a [SsLine], s: &InetSocket) -> &'a SsLine {
    lines
        .iter()
        .find(|l| l.key() == key_of(s))
        .unwrap_or_else(|| panic!("{s:?} not in ss's {lines:#?}"))
}

/// Milliseconds of ss's `print_ms_timer` text: `1min3sec`, `12sec`,
/// `9.120sec` (`9.120ms` before iproute2 6.5 fixed the unit), `200ms`, or
/// nothing for 0.
pub fn ss_ms(t: &str) -> u32 {
    let num = |s: &str| -> u32 { s.parse().unwrap_or_else(|_| panic!("timer {t:?}")) };
    let (min, rest) = match t.split_once("min") {
        Some((m, r)) => (num(m), r),
        None => (0, t),
    };
    let (n, unit) = match (rest.strip_suffix("ms"), rest.strip_suffix("sec")) {
        (Some(n), _) => (n, 1),
        (_, Some(n)) => (n, 1000),
        _ => {
            assert!(rest.is_empty(), "timer {t:?}");
            ("0", 1)
        }
    };
    let ms = match n.split_once('.') {
        Some((s, frac)) => num(s) * 1000 + num(frac),
        None => num(n) * unit,
    };
    min * 60_000 + ms
}

/// ss's `timer:(NAME,TIME,COUNT)` of a line (`-o`): name, ms, count.
pub fn ss_timer(l: &SsLine) -> Option<(String, u32, u32)> {
    let v = l.get("timer")?;
    let v = v.strip_prefix('(')?.strip_suffix(')')?;
    let mut it = v.split(',');
    let name = it.next()?.to_string();
    let ms = ss_ms(it.next()?);
    let count = it.next()?.parse().ok()?;
    Some((name, ms, count))
}

/// True when ss's rounded-down timer text `ss` (ms) can be the reading of
/// a timer that showed `before` ms earlier and `after` ms later: ss drops
/// milliseconds from 10 s on and seconds from 10 min on.
pub fn timer_between(before: u32, ss: u32, after: u32) -> bool {
    let slack = match ss {
        0..10_000 => 0,
        10_000..600_000 => 999,
        _ => 59_999,
    };
    ss <= before && ss + slack >= after
}

/// C's `%g` (6 significant digits, trailing zeros dropped) for the values
/// ss prints with it (milliseconds, gains: never in exponent form here).
pub fn c_g(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.abs().log10().floor() as i32;
    assert!((-4..6).contains(&exp), "{x} would print in exponent form");
    let s = format!("{:.*}", (5 - exp).max(0) as usize, x);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Congestion-control info (INET_DIAG_VEGASINFO, DCTCPINFO, BBRINFO) of a
/// connection whose both ends use `algo` ("vegas", "dctcp" or "bbr"), after
/// data has gone both ways: the structure of that algorithm and no other,
/// sane values, and what `ss -ti` derives from them. For DCTCP a second
/// connection switched to it after the handshake (no ECN) shows the
/// fallback. `Err` when the kernel cannot give a socket `algo`.
pub async fn cc_info_matches_ss(ns: &TestNs, algo: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use tokio_netlink::diag::{Extensions, state};

    let (listener, client, server, late) = in_ns(ns, || {
        let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
        set_congestion(&l, algo)?;
        bind(&l, "127.0.0.1:0".parse().unwrap());
        listen(&l);
        let l = TcpListener::from(l);
        let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
        set_congestion(&c, algo)?;
        connect(&c, l.local_addr().unwrap());
        let (s, _) = l.accept().unwrap();
        // Switched after the handshake, so without ECN.
        let late = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let late_peer = l.accept().unwrap().0;
        set_congestion(&late, algo)?;
        Ok::<_, std::io::Error>((l, TcpStream::from(c), s, (late, late_peer)))
    })?;
    // Data both ways, so the algorithm has samples.
    let up = vec![1u8; 256 * 1024];
    let down = vec![2u8; 64 * 1024];
    std::thread::scope(|t| {
        t.spawn(|| (&client).write_all(&up).unwrap());
        t.spawn(|| (&late.0).write_all(&down).unwrap());
        let mut got = vec![0u8; up.len()];
        (&server).read_exact(&mut got).unwrap();
        (&server).write_all(&down).unwrap();
        let mut back = vec![0u8; down.len()];
        (&client).read_exact(&mut back).unwrap();
        (&late.1).read_exact(&mut back).unwrap();
    });
    let diag = ns.client().diag();
    let query = diag
        .tcp()
        .states(tokio_netlink::diag::States::ESTABLISHED)
        .extensions(Extensions::CC_INFO | Extensions::INFO | Extensions::CONG);
    let client_at = client.local_addr().unwrap();
    let server_at = server.local_addr().unwrap();
    eventually("every byte acked", async || {
        let socks = query.clone().await.unwrap();
        let acked = |local, peer| {
            socks
                .iter()
                .find(|s| s.local() == local && s.remote() == peer)
                .and_then(|s| s.tcp_info()?.bytes_acked())
        };
        // The active opener counts its SYN as an acked byte; the passive
        // one does not count its SYN-ACK.
        acked(client_at, server_at) == Some(up.len() as u64 + 1)
            && acked(server_at, client_at) == Some(down.len() as u64)
    })
    .await;

    // What ss -ti prints for the algorithm's structure.
    let expected = |s: &InetSocket| -> Option<String> {
        if let Some(b) = s.bbr() {
            let mut t = format!(
                "bbr:(bw:{}bps,mrtt:{}",
                b.bw * 8,
                c_g(f64::from(b.min_rtt) / 1000.0)
            );
            if b.pacing_gain != 0 {
                t += &format!(",pacing_gain:{}", c_g(f64::from(b.pacing_gain) / 256.0));
            }
            if b.cwnd_gain != 0 {
                t += &format!(",cwnd_gain:{}", c_g(f64::from(b.cwnd_gain) / 256.0));
            }
            return Some(t + ")");
        }
        if let Some(d) = s.dctcp() {
            return Some(if d.enabled != 0 {
                format!(
                    "dctcp:(ce_state:{},alpha:{},ab_ecn:{},ab_tot:{})",
                    d.ce_state, d.alpha, d.ab_ecn, d.ab_tot
                )
            } else {
                "dctcp:fallback_mode".into()
            });
        }
        // ss shows Vegas only through the send rate, computed from the
        // Vegas base RTT while Vegas is on.
        let v = s.vegas()?;
        let i = s.tcp_info()?;
        let mut rtt = f64::from(i.rtt()?);
        if v.enabled != 0 && v.rtt != 0 && v.rtt != 0x7fff_ffff {
            rtt = f64::from(v.rtt);
        }
        let bps = f64::from(i.snd_cwnd()?) * f64::from(i.snd_mss()?) * 8_000_000. / rtt;
        Some(format!("send {bps:.0}bps"))
    };
    // The values move only when segments are acked: retry until a listing
    // before and after ss's agree, then compare.
    let mut last = None;
    for _ in 0..50 {
        let before = query.clone().await.unwrap();
        let text = ss(ns, &["-tinoOH"]); // -o: TCP options too
        let after = query.clone().await.unwrap();
        let of = |v: &[InetSocket]| {
            v.iter()
                .map(|s| (key_of(s), expected(s)))
                .collect::<Vec<_>>()
        };
        if of(&before) == of(&after) {
            last = Some((after, text));
            break;
        }
    }
    let (socks, text) = last.expect("the connections never stayed still");
    let lines = parse_ss(&text);
    assert_eq!(socks.len(), 4, "{socks:#?}");
    for s in &socks {
        assert_eq!(s.state(), state::ESTABLISHED);
        let l = line_of(&lines, s);
        // Both ends of the late connection (the accepted one has the
        // listener's algorithm).
        let late_ends = [late.0.local_addr().unwrap(), late.1.local_addr().unwrap()];
        let is_late = late_ends.contains(&s.local()) && late_ends.contains(&s.remote());
        let info = s.tcp_info().unwrap();
        let ecn = info.options().unwrap() & 8 != 0; // TCPI_OPT_ECN
        assert_eq!(ecn, algo == "dctcp" && !is_late, "ECN of {s:?}");
        assert_eq!(l.rest.split(' ').any(|w| w == "ecn"), ecn, "{}", l.rest);
        // DCTCP without ECN falls back to its Reno variant.
        let want = if algo == "dctcp" && is_late {
            "dctcp-reno"
        } else {
            algo
        };
        assert_eq!(s.congestion(), Some(want), "{s:?}");
        assert!(l.rest.split(' ').any(|w| w == want), "{want} in {}", l.rest);
        assert_eq!(s.bbr().is_some(), algo == "bbr", "{s:?}");
        assert_eq!(s.dctcp().is_some(), algo == "dctcp", "{s:?}");
        assert_eq!(s.vegas().is_some(), algo == "vegas", "{s:?}");
        // The late connection's accepted end never sends data: the
        // algorithm has had no samples of its own.
        let sent_data = info.data_segs_out().unwrap() > 0;
        assert_eq!(
            sent_data,
            !(is_late && s.local() == late.1.local_addr().unwrap())
        );
        match algo {
            "bbr" if !sent_data => {
                // BBR sets its gains on the first ACK of data.
                let b = s.bbr().unwrap();
                assert_eq!((b.bw, b.pacing_gain, b.cwnd_gain), (0, 0, 0), "{b:?}");
            }
            "bbr" => {
                let b = s.bbr().unwrap();
                assert!(b.bw > 0, "{b:?}");
                assert!(b.min_rtt > 0 && b.min_rtt < 1_000_000, "{b:?}");
                // BBR's gains (×256): startup 739, drain 88, probe-bw
                // 320/192/256; cwnd 739, 512, or 256 in probe-rtt.
                assert!([739, 88, 320, 192, 256].contains(&b.pacing_gain), "{b:?}");
                assert!([739, 512, 256].contains(&b.cwnd_gain), "{b:?}");
            }
            "dctcp" => {
                let d = s.dctcp().unwrap();
                assert_eq!(d.enabled, u16::from(!is_late), "{d:?}");
                if is_late {
                    assert_eq!((d.alpha, d.ab_ecn, d.ab_tot), (0, 0, 0), "{d:?}");
                } else {
                    assert!(d.ce_state <= 1 && d.alpha <= 1024, "{d:?}");
                    // Nothing on loopback marks CE.
                    assert_eq!(d.ab_ecn, 0, "{d:?}");
                }
            }
            "vegas" => {
                let v = s.vegas().unwrap();
                assert!(v.enabled <= 1, "{v:?}");
                // The base RTT is the smallest sample, 0x7fffffff before any.
                if sent_data {
                    assert!(v.rtt > 0 && v.rtt != 0x7fff_ffff, "a base RTT: {v:?}");
                }
                assert!(v.minrtt == 0x7fff_ffff || v.minrtt >= v.rtt, "{v:?}");
            }
            other => panic!("no checks for {other}"),
        }
        let want_text = expected(s).unwrap();
        assert!(
            l.rest.contains(&want_text),
            "{want_text:?} not in ss's\n{}",
            l.rest
        );
    }
    drop((listener, client, server, late));
    Ok(())
}

/// The names `ss --inet-sockopt` prints for the flags set, in its order.
pub fn sockopt_names(o: tokio_netlink::diag::SockOpt) -> Vec<&'static str> {
    [
        (o.recverr(), "recverr"),
        (o.is_icsk(), "is_icsk"),
        (o.freebind(), "freebind"),
        (o.hdrincl(), "hdrincl"),
        (o.mc_loop(), "mc_loop"),
        (o.transparent(), "transparent"),
        (o.mc_all(), "mc_all"),
        (o.nodefrag(), "nodefrag"),
        (o.bind_address_no_port(), "bind_addr_no_port"),
        (o.recverr_rfc4884(), "recverr_rfc4884"),
        (o.defer_connect(), "defer_connect"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// The flags of ss's `inet-sockopt: ( … )` (`-O`, one line per socket).
pub fn ss_sockopt(l: &SsLine) -> Vec<String> {
    let (_, rest) = l.rest.split_once("inet-sockopt: (").expect("inet-sockopt");
    let (flags, _) = rest.split_once(')').unwrap();
    flags.split_whitespace().map(String::from).collect()
}
