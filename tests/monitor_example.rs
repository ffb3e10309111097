//! The monitor example: run it in a namespace, make changes with `ip`, and
//! check the JSON lines it prints.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::TestNs;
use common::ip_example::build_example;
use serde_json::Value;

#[tokio::test]
async fn monitor_prints_one_json_line_per_event() {
    let ns = TestNs::new().await;
    let bin = build_example("monitor");
    let mut child = Command::new(&bin)
        .args(["-n", &ns.name, "-j"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start monitor");
    let (tx, rx) = mpsc::channel::<Value>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let v = serde_json::from_str(&line).expect("a JSON object per line");
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    // Wait until the monitor listens: add links until one is reported.
    let mut seen: Vec<Value> = Vec::new();
    let mut first = None;
    'ready: for attempt in 0..50 {
        let (p, q) = (format!("p{attempt}"), format!("q{attempt}"));
        ns.ip(&["link", "add", &p, "type", "veth", "peer", "name", &q]);
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(v) => {
                    let hit = v["event"] == "newlink" && v["ifname"] == p.as_str();
                    seen.push(v);
                    if hit {
                        first = Some(p);
                        break 'ready;
                    }
                }
                Err(_) => break,
            }
        }
    }
    let dev = first.expect("the monitor reported a new link");
    let mut wait_for = |pred: &dyn Fn(&Value) -> bool, what: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = seen.iter().find(|v| pred(v)) {
                return v.clone();
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(v) => seen.push(v),
                Err(_) => panic!("no {what} line; saw {seen:?}"),
            }
        }
    };
    ns.ip(&["link", "set", &dev, "up"]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", &dev]);
    ns.ip(&["route", "add", "198.51.100.0/24", "via", "192.0.2.2"]);
    ns.ip(&["rule", "add", "priority", "100", "table", "7"]);
    ns.ip(&[
        "neigh",
        "add",
        "192.0.2.9",
        "lladdr",
        "02:00:00:00:00:09",
        "dev",
        &dev,
    ]);
    ns.ip(&["route", "del", "198.51.100.0/24"]);

    let a = wait_for(&|v| v["event"] == "newaddress", "newaddress");
    assert_eq!(a["addr_info"][0]["local"], "192.0.2.1");
    assert_eq!(a["addr_info"][0]["prefixlen"], 24);
    assert_eq!(a["ifname"], dev.as_str());
    let r = wait_for(
        &|v| v["event"] == "newroute" && v["dst"] == "198.51.100.0/24",
        "newroute",
    );
    assert_eq!(r["gateway"], "192.0.2.2");
    assert_eq!(r["dev"], dev.as_str());
    assert_eq!(r["table"], "main");
    let r = wait_for(
        &|v| v["event"] == "newrule" && v["priority"] == 100,
        "newrule",
    );
    assert_eq!(r["table"], "7");
    let n = wait_for(&|v| v["event"] == "newneigh", "newneigh");
    assert_eq!(n["dst"], "192.0.2.9");
    assert_eq!(n["lladdr"], "02:00:00:00:00:09");
    wait_for(
        &|v| v["event"] == "delroute" && v["dst"] == "198.51.100.0/24",
        "delroute",
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
