//! The xfrm example against `ip xfrm` in the same fresh namespace: policies
//! added, listed (`-s` too), fetched, deleted and flushed through the
//! example, compared with `ip`'s text line by line; its monitor seeing what
//! `ip` changes. (Its state commands need ESP: tests/vm_lane/xfrm.rs.)

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::TestNs;
use common::ip_example::{Out, build_example, run_bin};
use serde_json::Value;

/// Runs `xfrm -n NS ARGS`.
fn run(ns: &TestNs, args: &[&str]) -> Out {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    run_bin(BIN.get_or_init(|| build_example("xfrm")), ns, args)
}

/// Runs the example, which must succeed quietly on stderr; its stdout.
fn ex(ns: &TestNs, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let o = run(ns, &args);
    assert_eq!(o.code, 0, "example {line:?} failed: {}", o.stderr);
    assert!(o.stderr.is_empty(), "example {line:?} wrote {}", o.stderr);
    o.stdout
}

/// The example's error for `line`: exit status 1, one `Error: …` line.
fn ex_err(ns: &TestNs, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let o = run(ns, &args);
    assert_eq!(o.code, 1, "example {line:?}: {} {}", o.stdout, o.stderr);
    assert!(o.stderr.starts_with("Error: "), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o.stderr
}

/// `ip ARGS` and the example's `ARGS` (without the word `xfrm`) print the
/// same text.
fn same_text(ns: &TestNs, args: &[&str]) {
    let ip = ns.ip(args);
    let ours: Vec<&str> = args.iter().copied().filter(|w| *w != "xfrm").collect();
    let mine = ex(ns, &ours.join(" "));
    let (a, b): (Vec<&str>, Vec<&str>) = (ip.lines().collect(), mine.lines().collect());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "ip {args:?} vs the example:\n{ip}\n---\n{mine}");
    }
    assert_eq!(
        a.len(),
        b.len(),
        "ip {args:?}:\n{ip}\n---\nexample:\n{mine}"
    );
}

const POLICIES: &str = "
policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out priority 100 mark 5 mask 0xff if_id 7 tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode tunnel
policy add dir in src 10.1.0.0/16 dst 10.2.0.0/16 proto tcp dport 80 action block priority 9
policy add src fd00::/64 dst fd01::/64 dir fwd tmpl src fd00::1 dst fd01::1 proto esp mode tunnel reqid 4 level use
policy add src 10.3.0.0/24 dst 10.4.0.0/24 dir in tmpl proto ah spi 0x55 mode transport level use
policy add src 10.5.0.0/24 dst 10.6.0.0/24 proto udp sport 53 dir out limit time-soft 100 limit byte-hard 1000 flag localok icmp ptype sub
policy add src 10.7.0.0/24 dst 10.8.0.0/24 proto icmp type 8 code 0 dir out
policy add src 10.9.0.0/24 dst 10.10.0.0/24 dev lo dir out ctx system_u:object_r:ipsec_spd_t:s0
policy add src 10.11.0.0/24 dst 10.12.0.0/24 proto gre key 65538 dir out
";

#[tokio::test]
async fn policies_through_the_example_agree_with_ip() {
    let ns = TestNs::new().await;
    for line in POLICIES.lines().filter(|l| !l.trim().is_empty()) {
        assert_eq!(ex(&ns, line), "", "{line}");
    }
    // And one ip adds.
    ns.ip(&[
        "xfrm",
        "policy",
        "add",
        "src",
        "10.20.0.0/16",
        "dst",
        "10.21.0.0/16",
        "dir",
        "fwd",
        "priority",
        "7",
    ]);
    same_text(&ns, &["xfrm", "policy", "list"]);
    same_text(&ns, &["-s", "xfrm", "policy", "list"]);
    same_text(&ns, &["xfrm", "policy", "count"]);
    same_text(&ns, &["-s", "xfrm", "policy", "count"]);
    same_text(&ns, &["xfrm", "policy", "getdefault"]);
    let get = "xfrm policy get src 10.7.0.0/24 dst 10.8.0.0/24 proto icmp type 8 code 0 dir out";
    same_text(&ns, &get.split(' ').collect::<Vec<_>>());

    // -j: one object per line, with the index `ip -s` shows.
    let lines: Vec<Value> = ex(&ns, "-j policy list")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 9);
    let ip_s = ns.ip(&["-s", "xfrm", "policy"]);
    for v in &lines {
        let index = v["index"].as_u64().unwrap();
        assert!(ip_s.contains(&format!(" index {index} ")), "{v} vs\n{ip_s}");
    }
    let out = lines
        .iter()
        .find(|v| v["sel"]["src"] == "10.0.0.0/24")
        .unwrap();
    assert_eq!(out["dir"], "out");
    assert_eq!(out["priority"], 100);
    assert_eq!(out["mark"]["value"], 5);
    assert_eq!(out["if_id"], 7);
    assert_eq!(out["tmpl"][0]["dst"], "192.0.2.2");
    assert_eq!(out["tmpl"][0]["mode"], "tunnel");
    let icmp = lines.iter().find(|v| v["sel"]["proto"] == "icmp").unwrap();
    assert_eq!(
        (&icmp["sel"]["type"], &icmp["sel"]["code"]),
        (&8.into(), &0.into())
    );
    let lo = lines.iter().find(|v| v["sel"]["dev"] == "lo").unwrap();
    assert_eq!(lo["dir"], "out");
    let sub = lines.iter().find(|v| v["ptype"] == "sub").unwrap();
    assert_eq!(sub["flag"], serde_json::json!(["localok", "icmp"]));

    // Delete through the example (a sub policy needs its ptype), by
    // selector and by index.
    ex(
        &ns,
        "policy del src 10.5.0.0/24 dst 10.6.0.0/24 proto udp sport 53 dir out ptype sub",
    );
    ex(
        &ns,
        "policy delete dir in src 10.1.0.0/16 dst 10.2.0.0/16 proto tcp dport 80",
    );
    let fwd = lines
        .iter()
        .find(|v| v["sel"]["src"] == "10.20.0.0/16")
        .unwrap()["index"]
        .as_u64()
        .unwrap();
    ex(&ns, &format!("policy del index {fwd}"));
    let text = ns.ip(&["xfrm", "policy"]);
    for gone in ["10.5.0.0/24", "10.1.0.0/16", "10.20.0.0/16"] {
        assert!(!text.contains(gone), "{gone} still there:\n{text}");
    }
    same_text(&ns, &["xfrm", "policy", "list"]);
    ex(&ns, "policy flush");
    assert_eq!(ns.ip(&["xfrm", "policy"]), "");
    assert_eq!(ex(&ns, "policy list"), "");
}

#[tokio::test]
async fn bad_input_to_the_example_gives_clear_errors() {
    let ns = TestNs::new().await;
    // (command, what the error must say); the kernel's refusals carry its text.
    let cases = [
        (
            "policy add src 10.0.0.0/33 dst 10.0.1.0/24 dir out",
            "prefix length 33",
        ),
        (
            "policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir sideways",
            "invalid dir",
        ),
        (
            "policy add src 10.0.0.0/24 dst 10.0.1.0/24",
            "dir is required",
        ),
        ("policy add dir out priority", "priority needs a value"),
        (
            "policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out flag bogus",
            "unknown flag",
        ),
        (
            "policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out ctx",
            "ctx needs a value",
        ),
        (
            "policy add src 10.0.0.0/24 dst 10.0.1.0/24 dev nosuch0 dir out",
            "nosuch0",
        ),
        (
            "policy add src 10.0.0.0/24 dir out dst 10.0.1.0/24",
            "the selector was given already",
        ),
        (
            "policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel level use",
            "optional template",
        ),
        (
            "policy del src 10.0.0.0/24 dst 10.0.1.0/24 dir out",
            "xfrm policy delete src 10.0.0.0/24 dst 10.0.1.0/24 dir out: no such policy",
        ),
        (
            "state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0 enc cbc(aes) 0x00",
            "invalid spi",
        ),
        (
            "state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 1 enc cbc(aes) 0x0",
            "odd number of hex digits",
        ),
        (
            "state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 1 offload dev nosuch0 dir out",
            "nosuch0",
        ),
        ("frobnicate", "unknown command"),
    ];
    for (cmd, want) in cases {
        let e = ex_err(&ns, cmd);
        assert!(e.contains(want), "{cmd}: {e}");
    }
    let o = Command::new(build_example("xfrm"))
        .args(["-n", "no-such-namespace-xyz", "policy", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-namespace-xyz"));
}

/// A running `xfrm monitor` and the lines it printed, parsed as JSON when
/// `json`.
struct Monitor {
    child: Child,
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Monitor {
    fn start(ns: &TestNs, json: bool) -> Monitor {
        let mut args = vec!["-n", &ns.name];
        if json {
            args.push("-j");
        }
        args.push("monitor");
        let mut child = Command::new(build_example("xfrm"))
            .args(&args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the monitor");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Monitor {
            child,
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits up to `wait` for a line matching `pred`.
    fn wait_for(&mut self, wait: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(l) = self.seen.iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => return None,
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds policies with ip until both monitors report one: they listen then.
fn until_listening(ns: &TestNs, monitors: &mut [&mut Monitor]) {
    for attempt in 0..50 {
        let src = format!("10.99.{attempt}.0/24");
        ns.ip(&[
            "xfrm",
            "policy",
            "add",
            "src",
            &src,
            "dst",
            "10.98.0.0/24",
            "dir",
            "in",
        ]);
        let all = monitors.iter_mut().all(|m| {
            m.wait_for(Duration::from_millis(300), |l| l.contains(&src))
                .is_some()
        });
        if all {
            return;
        }
    }
    panic!("the monitors reported none of 50 policies");
}

#[tokio::test]
async fn the_example_monitor_sees_what_ip_changes() {
    let ns = TestNs::new().await;
    let mut json = Monitor::start(&ns, true);
    let mut text = Monitor::start(&ns, false);
    until_listening(&ns, &mut [&mut json, &mut text]);
    ns.ip(&[
        "xfrm",
        "policy",
        "add",
        "src",
        "10.5.0.0/16",
        "dst",
        "10.6.0.0/16",
        "proto",
        "tcp",
        "dport",
        "443",
        "dir",
        "out",
        "priority",
        "42",
        "tmpl",
        "src",
        "192.0.2.1",
        "dst",
        "192.0.2.2",
        "proto",
        "esp",
        "mode",
        "tunnel",
        "reqid",
        "9",
    ]);
    ns.ip(&[
        "xfrm",
        "policy",
        "delete",
        "src",
        "10.5.0.0/16",
        "dst",
        "10.6.0.0/16",
        "proto",
        "tcp",
        "dport",
        "443",
        "dir",
        "out",
    ]);
    ns.ip(&["xfrm", "policy", "flush"]);
    let wait = Duration::from_secs(10);

    let parsed = |l: &str| serde_json::from_str::<Value>(l).expect("a JSON object per line");
    let new = json
        .wait_for(wait, |l| {
            let v = parsed(l);
            v["event"] == "newpolicy" && v["sel"]["src"] == "10.5.0.0/16"
        })
        .expect("a newpolicy line");
    let v = parsed(&new);
    assert_eq!(v["sel"]["dst"], "10.6.0.0/16");
    assert_eq!(v["sel"]["proto"], "tcp");
    assert_eq!(v["sel"]["dport"], 443);
    assert_eq!(v["dir"], "out");
    assert_eq!(v["priority"], 42);
    assert_eq!(v["tmpl"][0]["reqid"], 9);
    assert_eq!(v["tmpl"][0]["src"], "192.0.2.1");
    let del = json
        .wait_for(wait, |l| {
            let v = parsed(l);
            v["event"] == "delpolicy" && v["sel"]["src"] == "10.5.0.0/16"
        })
        .expect("a delpolicy line");
    assert_eq!(parsed(&del)["priority"], 42);
    json.wait_for(wait, |l| parsed(l)["event"] == "flushpolicy")
        .expect("a flushpolicy line");

    // Text: ip xfrm's words.
    text.wait_for(wait, |l| {
        l == "src 10.5.0.0/16 dst 10.6.0.0/16 proto tcp dport 443 "
    })
    .expect("the new policy's selector line");
    text.wait_for(wait, |l| {
        l == "Deleted src 10.5.0.0/16 dst 10.6.0.0/16 proto tcp dport 443 "
    })
    .expect("the deleted policy's line");
    text.wait_for(wait, |l| l == "\tdir out priority 42 ptype main ")
        .expect("the policy's dir line");
    text.wait_for(wait, |l| l == "Flushed policy")
        .expect("the flush line");
}
