//! Shared test fixture: a fresh network namespace per test, removed even when
//! the test panics, and helpers to cross-check with iproute2's JSON output.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use tokio_netlink::Netlink;

/// Helpers for the tests of the `ip` example (dead code elsewhere, which
/// this module's `allow(dead_code)` covers).
pub mod ip_example;

/// Helpers for the traffic-control tests.
pub mod tc;

/// Helpers for the socket-diagnostics tests (host and VM lane).
pub mod diag;

/// A network namespace that exists for the life of this value.
pub struct TestNs {
    /// Its name under /run/netns.
    pub name: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestNs {
    /// Creates a fresh namespace (through the library, as `ip netns add`)
    /// and brings its loopback up.
    pub async fn new() -> TestNs {
        let name = format!(
            "tnl-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        tokio_netlink::netns::add(&name)
            .await
            .unwrap_or_else(|e| panic!("cannot create namespace {name}: {e}"));
        let ns = TestNs { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// A client working inside this namespace.
    pub fn client(&self) -> Netlink {
        Netlink::in_netns(self.name.as_str()).expect("open namespace")
    }

    /// Runs `ip -n NS ARGS`, panicking with its stderr when it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    }

    /// Runs `ip -n NS -j ARGS` and parses its JSON.
    pub fn ip_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["-j"];
        all.extend_from_slice(args);
        let text = self.ip(&all);
        if text.trim().is_empty() {
            return serde_json::Value::Array(vec![]);
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON from ip {args:?}: {e}"))
    }

    /// `ip -n NS batch -` with the given lines (fast bulk setup).
    pub fn ip_batch(&self, lines: &str) {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["-n", &self.name, "-batch", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("run ip -batch");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(lines.as_bytes())
            .expect("write batch");
        assert!(child.wait().expect("wait").success(), "ip -batch failed");
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        if let Err(e) = tokio_netlink::netns::del_sync(&self.name) {
            eprintln!("warning: cannot remove namespace {}: {e}", self.name);
        }
    }
}

/// An RTM_NEWROUTE/RTM_DELROUTE body for `blackhole ADDR/32 table TABLE`.
pub fn blackhole(addr: Ipv4Addr, table: u32) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.destination_prefix_length = 32;
    m.header.table = if table < 256 { table as u8 } else { 252 };
    m.header.kind = RouteType::BlackHole;
    m.attributes
        .push(RouteAttribute::Destination(RouteAddress::Inet(addr)));
    m.attributes.push(RouteAttribute::Table(table));
    m
}

/// `RTM_NEWROUTE` for a blackhole /32 (NLM_F_CREATE | NLM_F_EXCL).
pub fn add_blackhole(addr: Ipv4Addr, table: u32) -> (RouteNetlinkMessage, u16) {
    (
        RouteNetlinkMessage::NewRoute(blackhole(addr, table)),
        libc_flags::CREATE | libc_flags::EXCL,
    )
}

/// Netlink request flags used by tests.
pub mod libc_flags {
    pub const CREATE: u16 = 0x400;
    pub const EXCL: u16 = 0x200;
}

/// The i-th address of a /8-sized test space under 10.0.0.0/8.
pub fn nth_addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + i)
}

/// True inside the project's full-kernel VM lane (`scripts/test.sh` sets
/// TOKIO_NETLINK_VM_LANE=1 there).
pub fn in_vm_lane() -> bool {
    std::env::var_os("TOKIO_NETLINK_VM_LANE").is_some_and(|v| v == "1")
}

/// Call when the running kernel lacks `feature`. On the host the test skips
/// with a printed reason; in the VM lane a missing feature fails the test.
pub fn feature_missing(feature: &str, why: &dyn std::fmt::Display) {
    if in_vm_lane() {
        panic!("the VM lane's kernel lacks {feature}: {why}");
    }
    eprintln!("SKIP: host kernel lacks {feature} ({why}); this test runs in the VM lane");
}

/// The running kernel's (major, minor).
pub fn kernel_version() -> (u32, u32) {
    let r = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("kernel release");
    let mut it = r.trim().split(|c: char| !c.is_ascii_digit());
    let mut n = || it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (n(), n())
}

/// Whether the kernel is at least `major.minor`, which `feature` needs.
/// Older: the test does not run, with a printed reason (the VM lane runs
/// on Debian 12's 6.1 and a newer kernel); on the newest VM lane
/// (TOKIO_NETLINK_VM_NEWEST=1) an older kernel fails the test, so that
/// every test runs somewhere.
pub fn kernel_at_least(major: u32, minor: u32, feature: &str) -> bool {
    let have = kernel_version();
    if have >= (major, minor) {
        return true;
    }
    if std::env::var_os("TOKIO_NETLINK_VM_NEWEST").is_some_and(|v| v == "1") {
        panic!("the newest VM lane's kernel {have:?} is older than {major}.{minor} ({feature})");
    }
    eprintln!(
        "NOT RUN: {feature} needs Linux {major}.{minor}, this is {}.{}; the debian13-backports VM lane runs it",
        have.0, have.1
    );
    false
}
