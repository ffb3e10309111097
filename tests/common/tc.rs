//! Shared by the traffic-control tests (tests/tc*.rs): running `tc` in a
//! test namespace, capturing what it sends, and loading a trivial BPF
//! program through the bpf(2) syscall.

use std::process::Command;

use serde_json::Value;
use tokio_netlink::route::link::kinds::Veth;

use super::TestNs;

/// `tc -n NS ARGS`, panicking with its stderr when it fails.
pub fn tc(ns: &TestNs, args: &[&str]) -> String {
    let out = Command::new("tc")
        .arg("-n")
        .arg(&ns.name)
        .args(args)
        .output()
        .expect("run tc");
    assert!(
        out.status.success(),
        "tc {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// `tc -n NS -j ARGS` parsed.
pub fn tc_json(ns: &TestNs, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    let text = tc(ns, &all);
    if text.trim().is_empty() {
        return vec![];
    }
    match serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON from tc {args:?}: {e}")) {
        Value::Array(v) => v,
        other => panic!("tc -j {args:?} gave {other}"),
    }
}

/// The netlink messages `tc ARGS` sends in the namespace, as (type,
/// flags, payload after the netlink header), from strace's hex dump of
/// every sendmsg. `tc` may fail (a class for a missing qdisc): only what
/// it sends matters here.
pub fn tc_sends(ns: &TestNs, args: &[&str]) -> Vec<(u16, u16, Vec<u8>)> {
    let out = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=sendmsg",
            "-e",
            "write=all",
            "-o",
            "/dev/stdout",
        ])
        .args(["ip", "netns", "exec", &ns.name, "tc"])
        .args(args)
        .output()
        .expect("run strace");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut msgs = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let flush = |cur: &mut Vec<u8>, msgs: &mut Vec<(u16, u16, Vec<u8>)>| {
        if cur.len() >= 16 {
            let ty = u16::from_ne_bytes([cur[4], cur[5]]);
            let flags = u16::from_ne_bytes([cur[6], cur[7]]);
            let len = u32::from_ne_bytes([cur[0], cur[1], cur[2], cur[3]]) as usize;
            msgs.push((ty, flags, cur[16..len.min(cur.len())].to_vec()));
        }
        cur.clear();
    };
    for line in text.lines() {
        // " | 00010  00 00 ... 00  ascii |", maybe after a pid (-f); the
        // offset is %05x, so below 64 KiB it starts with 0.
        if let Some(at) = line.find(" | 0") {
            let rest = &line[at + 3..];
            let hex = rest.get(7..56).unwrap_or(&rest[7.min(rest.len())..]);
            cur.extend(
                hex.split_whitespace()
                    .map(|b| u8::from_str_radix(b, 16).expect("hex byte")),
            );
        } else if line.contains("sendmsg(") {
            flush(&mut cur, &mut msgs);
        }
    }
    flush(&mut cur, &mut msgs);
    msgs
}

/// The one message of type `ty` that `tc ARGS` sends.
pub fn tc_request(ns: &TestNs, args: &[&str], ty: u16) -> (u16, Vec<u8>) {
    let sent = tc_sends(ns, args);
    let mut of_ty = sent.into_iter().filter(|m| m.0 == ty);
    let (_, flags, payload) = of_ty
        .next()
        .unwrap_or_else(|| panic!("tc {args:?} sent no message of type {ty}"));
    assert!(of_ty.next().is_none(), "tc {args:?} sent two of type {ty}");
    (flags, payload)
}

pub const NLM_F_REQUEST: u16 = 1;
pub const NLM_F_ACK: u16 = 4;

pub async fn veths(ns: &TestNs, pairs: &[(&str, &str)]) {
    let nl = ns.client();
    for (a, b) in pairs {
        nl.link().add(a, Veth::peer(b)).await.unwrap();
    }
}

/// `bpf(2)` commands.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_OBJ_PIN: libc::c_long = 6;
const BPF_PROG_TYPE_SCHED_CLS: u32 = 3;

fn bpf(cmd: libc::c_long, attr: &mut [u8; 128]) -> std::io::Result<i32> {
    // SAFETY: attr is a zero-filled union bpf_attr of the size passed;
    // the pointers in it outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), attr.len()) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r as i32)
    }
}

/// Loads `mov r0, 0; exit` as a BPF_PROG_TYPE_SCHED_CLS program named
/// `name` (at most 15 bytes), GPL-licensed; its fd.
pub fn load_sched_cls(name: &str) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    let insns: [u8; 16] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let license = b"GPL\0";
    let mut a = [0u8; 128];
    a[0..4].copy_from_slice(&BPF_PROG_TYPE_SCHED_CLS.to_ne_bytes());
    a[4..8].copy_from_slice(&2u32.to_ne_bytes());
    a[8..16].copy_from_slice(&(insns.as_ptr() as u64).to_ne_bytes());
    a[16..24].copy_from_slice(&(license.as_ptr() as u64).to_ne_bytes());
    // log_level, log_size, log_buf, kern_version, prog_flags: 0.
    let n = name.as_bytes();
    assert!(n.len() < 16, "a BPF program name has at most 15 bytes");
    a[48..48 + n.len()].copy_from_slice(n);
    let fd = bpf(BPF_PROG_LOAD, &mut a).expect("BPF_PROG_LOAD of a SCHED_CLS program");
    // SAFETY: the syscall returned a new fd that nothing else owns.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// A private bpffs mount for pinning programs, unmounted (which frees
/// what is pinned in it) and removed on drop, even on panic.
pub struct BpfFs {
    /// The mount point.
    pub dir: std::path::PathBuf,
}

impl BpfFs {
    /// Mounts a fresh bpffs under the temporary directory.
    pub fn new(tag: &str) -> BpfFs {
        let dir = std::env::temp_dir().join(format!("tnl-bpffs-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir for bpffs");
        let c = |s: &str| std::ffi::CString::new(s).expect("no NUL");
        let (src, target, ty) = (c("bpf"), c(dir.to_str().expect("utf8 path")), c("bpf"));
        // SAFETY: valid NUL-terminated strings, no data argument.
        let r = unsafe {
            libc::mount(
                src.as_ptr(),
                target.as_ptr(),
                ty.as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "mount bpffs: {}", std::io::Error::last_os_error());
        BpfFs { dir }
    }

    /// Pins `fd` as `name` in this mount (BPF_OBJ_PIN); the path.
    pub fn pin(&self, fd: &impl std::os::fd::AsRawFd, name: &str) -> String {
        let path = self.dir.join(name);
        let p = std::ffi::CString::new(path.to_str().expect("utf8")).expect("no NUL");
        let mut a = [0u8; 128];
        a[0..8].copy_from_slice(&(p.as_ptr() as u64).to_ne_bytes());
        a[8..12].copy_from_slice(&(fd.as_raw_fd() as u32).to_ne_bytes());
        bpf(BPF_OBJ_PIN, &mut a).expect("BPF_OBJ_PIN");
        path.to_str().expect("utf8").to_owned()
    }
}

impl Drop for BpfFs {
    fn drop(&mut self) {
        if let Ok(c) = std::ffi::CString::new(self.dir.to_str().unwrap_or_default()) {
            // SAFETY: a valid path string.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}
