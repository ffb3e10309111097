//! The ss example against `ss` in the same namespace.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;

use common::TestNs;
use common::ip_example::build_example;

/// Opens a listener, an established pair with 100 bytes queued at the
/// server, all inside the namespace; returns them so they stay open.
fn open_sockets(ns: &TestNs) -> (TcpListener, TcpStream, TcpStream) {
    let path = format!("/run/netns/{}", ns.name);
    std::thread::spawn(move || {
        let f = std::fs::File::open(path).unwrap();
        // SAFETY: setns on this short-lived thread only.
        assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        let l = TcpListener::bind("127.0.0.1:8080").unwrap();
        let mut c = TcpStream::connect("127.0.0.1:8080").unwrap();
        let (s, _) = l.accept().unwrap();
        c.write_all(&[7u8; 100]).unwrap();
        (l, c, s)
    })
    .join()
    .unwrap()
}

/// `ss -H -tan [FILTER]` in the namespace: (state, recv-q, send-q, local, peer).
fn ss_rows(ns: &TestNs, filter: &[&str]) -> BTreeSet<(String, u64, u64, String, String)> {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ss", "-H", "-tan"])
        .args(filter)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_string(),
                f[4].replace("0.0.0.0:*", "0.0.0.0:0"),
            )
        })
        .collect()
}

fn ours_rows(ns: &TestNs, filter: &[&str]) -> BTreeSet<(String, u64, u64, String, String)> {
    let out = Command::new(build_example("ss"))
        .args(["-n", &ns.name, "-t", "-a", "-j"])
        .args(filter)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            (
                v["state"].as_str().unwrap().to_string(),
                v["recv_q"].as_u64().unwrap(),
                v["send_q"].as_u64().unwrap(),
                v["local"].as_str().unwrap().to_string(),
                v["peer"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn ss_example_lists_what_ss_lists() {
    let ns = TestNs::new().await;
    let _keep = open_sockets(&ns);
    let ss = ss_rows(&ns, &[]);
    assert_eq!(ss.len(), 3, "{ss:?}");
    assert_eq!(ours_rows(&ns, &[]), ss);
    let f = ["sport = :8080"];
    let filtered = ss_rows(&ns, &f);
    assert_eq!(filtered.len(), 2);
    assert_eq!(ours_rows(&ns, &f), filtered);
    // Device and mark conditions (no socket here has either).
    for f in ["dev = lo", "dev != lo and sport = :8080", "fwmark = 0/0xff"] {
        let want = ss_rows(&ns, &[f]);
        assert_eq!(ours_rows(&ns, &[f]), want, "{f}");
    }
    let bad = Command::new(build_example("ss"))
        .args(["-n", &ns.name, "-t", "dev = nosuchdev0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("dev") && err.contains("nosuchdev0"), "{err}");
    // The server side holds the 100 bytes.
    assert!(ss.iter().any(|r| r.0 == "ESTAB" && r.1 == 100));
    // Text output has ss's header and one line per socket.
    let out = Command::new(build_example("ss"))
        .args(["-n", &ns.name, "-t", "-a"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().next().unwrap().starts_with("Netid State"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");
}
