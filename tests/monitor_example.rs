//! `examples/ip monitor`: run it in a namespace beside iproute2's `ip
//! monitor`, make changes with `ip`, and compare what both print (text),
//! and check the JSON lines of `-j`.

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
    let bin = build_example("ip");
    let mut child = Command::new(&bin)
        .args(["-n", &ns.name, "-j", "monitor"])
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
    assert!(r.get("table").is_none(), "ip -j leaves out table main: {r}");
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

/// Lines a child prints, collected on a thread.
fn lines_of(child: &mut std::process::Child) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let out = child.stdout.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    lines
}

/// The same changes seen by ours and by `ip monitor` print the same text.
#[tokio::test]
async fn monitor_text_equals_ip_monitor() {
    let ns = TestNs::new().await;
    let bin = build_example("ip");
    let objects = ["link", "address", "route", "rule", "neigh"];
    let mut ours = Command::new(&bin)
        .args(["-n", &ns.name, "monitor"])
        .args(objects)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ours");
    let mut theirs = Command::new("ip")
        .args(["-n", &ns.name, "monitor"])
        .args(objects)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ip monitor");
    let (o, t) = (lines_of(&mut ours), lines_of(&mut theirs));
    let has = |v: &std::sync::Arc<std::sync::Mutex<Vec<String>>>, s: &str| {
        v.lock().unwrap().iter().any(|l| l.contains(s))
    };
    // Both listen once both print a marker rule; add markers until then.
    let mut prio = 30000;
    'ready: for _ in 0..50 {
        prio += 1;
        ns.ip(&["rule", "add", "priority", &prio.to_string(), "table", "3"]);
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(10));
            if has(&o, &format!("{prio}:")) && has(&t, &format!("{prio}:")) {
                break 'ready;
            }
        }
    }
    let start = format!("{prio}:");
    for cmd in [
        "link add v0 type veth peer name v1",
        "link set v0 up",
        "link set v1 up",
        "addr add 192.0.2.1/24 dev v0",
        "-6 addr add 2001:db8::1/64 dev v0 nodad",
        "route add 198.51.100.0/24 via 192.0.2.2",
        "-6 route add 2001:db8:1::/48 via 2001:db8::2 metric 5",
        "route add blackhole 203.0.113.0/24 table 100 proto static",
        "rule add priority 100 from 10.0.0.0/8 table 7",
        "-6 rule add priority 101 from 2001:db8::/32 table 8",
        "neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev v0",
        "neigh del 192.0.2.9 dev v0",
        "rule del priority 100",
        "route del 198.51.100.0/24",
        "addr del 192.0.2.1/24 dev v0",
        "link set v0 mtu 1400",
        "link del v0",
        "rule add priority 32000 table 9",
    ] {
        ns.ip(&cmd.split(' ').collect::<Vec<_>>());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !(has(&o, "32000:") && has(&t, "32000:")) {
        assert!(std::time::Instant::now() < deadline, "no end marker");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    for c in [&mut ours, &mut theirs] {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    let segment = |v: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
        let v = v.lock().unwrap();
        let from = v.iter().rposition(|l| l.starts_with(&start)).unwrap();
        v[from..].to_vec()
    };
    let (ours, theirs) = (segment(&o), segment(&t));
    assert!(ours.len() > 30, "{ours:#?}");
    assert_eq!(ours, theirs);
}

/// Nexthop changes seen by ours and by `ip monitor nexthop` print the same
/// text, deletions (a group emptied by its member's) included.
#[tokio::test]
async fn monitor_nexthop_text_equals_ip_monitor() {
    let ns = TestNs::new().await;
    let bin = build_example("ip");
    let mut ours = Command::new(&bin)
        .args(["-n", &ns.name, "monitor", "nexthop"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ours");
    let mut theirs = Command::new("ip")
        .args(["-n", &ns.name, "monitor", "nexthop"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ip monitor");
    let (o, t) = (lines_of(&mut ours), lines_of(&mut theirs));
    let has = |v: &std::sync::Arc<std::sync::Mutex<Vec<String>>>, s: &str| {
        v.lock().unwrap().iter().any(|l| l.contains(s))
    };
    // Both listen once both print a marker nexthop; add markers until then.
    let mut id = 1000;
    'ready: for _ in 0..50 {
        id += 1;
        ns.ip(&["nexthop", "add", "id", &id.to_string(), "blackhole"]);
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(10));
            let m = format!("id {id} ");
            if has(&o, &m) && has(&t, &m) {
                break 'ready;
            }
        }
    }
    let start = format!("id {id} ");
    for cmd in [
        "link add v0 type veth peer name v1",
        "link set v0 up",
        "link set v1 up",
        "addr add 192.0.2.1/24 dev v0",
        "nexthop add id 1 via 192.0.2.2 dev v0",
        "nexthop add id 2 via 192.0.2.3 dev v0 onlink proto static",
        "nexthop add id 3 dev v0",
        "nexthop add id 10 group 1,2/2",
        "nexthop replace id 1 via 192.0.2.4 dev v0",
        "nexthop add id 11 group 3",
        "nexthop del id 3",
        "nexthop del id 10",
        "nexthop add id 999 blackhole",
    ] {
        ns.ip(&cmd.split(' ').collect::<Vec<_>>());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !(has(&o, "id 999 ") && has(&t, "id 999 ")) {
        assert!(std::time::Instant::now() < deadline, "no end marker");
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in [&mut ours, &mut theirs] {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    let segment = |v: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
        let v = v.lock().unwrap();
        let from = v.iter().rposition(|l| l.starts_with(&start)).unwrap();
        let to = v.iter().rposition(|l| l.starts_with("id 999 ")).unwrap();
        v[from..=to].to_vec()
    };
    let (ours, theirs) = (segment(&o), segment(&t));
    assert!(ours.len() >= 9, "{ours:#?}");
    assert!(
        ours.iter().any(|l| l.starts_with("Deleted id 11 group 3")),
        "{ours:#?}"
    );
    assert_eq!(ours, theirs);
}
