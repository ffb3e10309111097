//! The `ip` example's `nexthop` object against iproute2: nexthops made by
//! the example (and by `ip`) in a fresh namespace, the example's `-j`
//! output compared with `ip -j nexthop`'s field by field and its text with
//! `ip nexthop`'s line by line; bad input fails as `ip` does.

mod common;

use common::TestNs;
use common::ip_example::{ex, json_list_diff, run, script, settled, text_diff};

fn same(ns: &TestNs, args: &[&str]) {
    settled(&format!("{args:?}"), || json_list_diff(ns, args, "id"));
    settled(&format!("text of {args:?}"), || text_diff(ns, args));
}

fn setup(ns: &TestNs) {
    script(
        ns,
        "link add v0 type veth peer name v1
         link set v0 up
         link set v1 up
         addr add 192.0.2.1/24 dev v0
         nexthop add id 1 via 192.0.2.2 dev v0
         nexthop add id 2 blackhole
         nexthop add id 3 via 192.0.2.3 dev v0 onlink proto 99
         nexthop add id 4 via 192.0.2.5 fdb
         nexthop add id 5 dev v0
         nexthop add id 10 group 1,2/3
         nexthop add id 11 group 1/3,256 type mpath
         nexthop add id 12 group 1/3 type resilient buckets 8 idle_timer 10 unbalanced_timer 20
         nexthop replace id 1 via 192.0.2.9 dev v0",
    );
    // One made by ip, read by the example.
    ns.ip(&["nexthop", "add", "id", "13", "group", "5,7"]);
}

#[tokio::test]
async fn nexthops_match_ip_json_and_text() {
    let ns = TestNs::new().await;
    setup(&ns);
    for args in [
        &["nexthop", "show"][..],
        &["nexthop", "show", "dev", "v0"],
        &["nexthop", "show", "groups"],
        &["nexthop", "show", "id", "12"],
        &["nexthop", "get", "id", "3"],
        &["-d", "nexthop", "show"],
    ] {
        same(&ns, args);
    }
    // Routes through nexthop objects, added by the example.
    script(
        &ns,
        "route add 198.51.100.0/24 nhid 10
         route add 203.0.113.0/24 nhid 1 metric 5
         route add 10.9.0.0/16 nhid 12 table 100",
    );
    same(&ns, &["route", "show"]);
    same(&ns, &["route", "show", "table", "100"]);
    assert_eq!(
        ns.ip_json(&["route", "show", "203.0.113.0/24"])[0]["nhid"],
        1
    );
    ex(&ns, "nexthop del id 10");
    assert!(
        ns.ip_json(&["nexthop", "show"])
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"] != 10)
    );
    same(&ns, &["nexthop", "show"]);
    assert_eq!(ex(&ns, "nexthop flush groups"), "Flushed 3 nexthops\n");
    assert_eq!(
        ns.ip_json(&["nexthop", "show", "groups"]),
        serde_json::json!([])
    );
    ex(&ns, "nexthop flush");
    assert_eq!(ns.ip_json(&["nexthop", "show"]), serde_json::json!([]));
}

#[tokio::test]
async fn bad_nexthops_fail_as_ip_does() {
    let ns = TestNs::new().await;
    setup(&ns);
    // The kernel's extended ACK, as ip prints it.
    for line in [
        "nexthop add id 20 group 1/99",
        "nexthop add id 21 group 1 type resilient",
        "nexthop del id 99",
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let o = run(&ns, &args);
        let ip = std::process::Command::new("ip")
            .args(["-n", &ns.name])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            (o.code, ip.status.code()),
            (2, Some(2)),
            "{line}: {}",
            o.stderr
        );
        // The example always says `Error: `; ip does not for a bare errno.
        let ip_err = String::from_utf8_lossy(&ip.stderr).into_owned();
        let bare = |s: &str| s.trim_start_matches("Error: ").to_owned();
        assert_eq!(bare(&o.stderr), bare(&ip_err), "{line}");
    }
    // Refused before sending, naming the field.
    for (line, field) in [
        ("nexthop add id 22 group 1,0", "weight"),
        ("nexthop add id 22 group 1,257", "weight"),
        ("nexthop add id 22 blackhole via 192.0.2.2", "blackhole"),
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let o = run(&ns, &args);
        assert_ne!(o.code, 0, "{line}");
        assert!(o.stderr.contains(field), "{line}: {}", o.stderr);
    }
}
