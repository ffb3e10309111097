//! The `tc` example against iproute2's `tc`: `qdisc show` text, `-s` and
//! `-j` output equal for the kinds it prints, in a fresh namespace.

mod common;

use std::process::Command;

use common::TestNs;
use common::ip_example::build_example;
use common::tc::{tc, veths};

fn example(ns: &TestNs, args: &[&str]) -> (i32, String, String) {
    let bin = build_example("tc");
    let o = Command::new(bin)
        .arg("-n")
        .arg(&ns.name)
        .args(args)
        .output()
        .expect("run the tc example");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).expect("utf8"),
        String::from_utf8(o.stderr).expect("utf8"),
    )
}

#[tokio::test]
async fn qdisc_show_equals_tc() {
    let ns = TestNs::new().await;
    // v4 and v5 keep their default noqueue.
    veths(&ns, &[("v0", "v1"), ("v2", "v3"), ("v4", "v5")]).await;
    for line in [
        "qdisc add dev v0 root handle 1: htb default 10 direct_qlen 50",
        "qdisc add dev v0 clsact",
        "qdisc add dev v1 root tbf rate 1mbit burst 32kb latency 50ms",
        "qdisc add dev v3 root tbf rate 3mbit burst 10000 latency 20ms",
        "qdisc add dev v2 root pfifo limit 100",
        "qdisc add dev v3 ingress",
        "qdisc add dev lo root bfifo limit 10000",
    ] {
        tc(&ns, &line.split(' ').collect::<Vec<_>>());
    }
    for args in [
        "qdisc show",
        "qdisc",
        "-s qdisc show",
        "qdisc show dev v0",
        "-s qdisc show dev v3",
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        let (code, ours, err) = example(&ns, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(ours, tc(&ns, &args), "{args:?}");
    }
    for args in ["-j qdisc show", "-j -s qdisc show", "-j qdisc show dev v1"] {
        let args: Vec<&str> = args.split(' ').collect();
        let (code, ours, err) = example(&ns, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let ours: serde_json::Value = serde_json::from_str(&ours).expect("our JSON");
        let theirs: serde_json::Value = serde_json::from_str(&tc(&ns, &args)).expect("tc's JSON");
        assert_eq!(ours, theirs, "{args:?}");
    }
    let (code, out, err) = example(&ns, &["qdisc", "show", "dev", "nosuch0"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "Error: qdisc show dev nosuch0: no such link \"nosuch0\"\n"
    );
    let (code, _, err) = example(&ns, &["qdisc", "shove"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("Error: Usage: tc"), "{err}");
}

#[tokio::test]
async fn class_show_equals_tc() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    for line in [
        "qdisc add dev v0 root handle 1: htb default 3",
        "class add dev v0 parent 1: classid 1:1 htb rate 10mbit prio 3",
        "class add dev v0 parent 1:1 classid 1:2 htb rate 5mbit ceil 10mbit prio 1 quantum 2000",
        "class add dev v0 parent 1: classid 1:3 htb rate 2gbit burst 15k",
        "class add dev v0 parent 1:1 classid 1:4 htb rate 300kbit ceil 2mbit burst 3000 cburst 5000",
        "qdisc add dev v0 parent 1:2 handle 5: pfifo",
    ] {
        tc(&ns, &line.split(' ').collect::<Vec<_>>());
    }
    // (tc 6.1 prints class text under -j too.)
    for args in [
        "class show dev v0",
        "-s class show dev v0",
        "class show dev v0 parent 1:1",
        "-j class show dev v0",
        "-s qdisc show dev v0",
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        let (code, ours, err) = example(&ns, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(ours, tc(&ns, &args), "{args:?}");
    }
    let (code, _, err) = example(&ns, &["class", "show", "dev", "v0", "parent", "x:y"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("parent"), "{err}");
}

#[tokio::test]
async fn filter_show_equals_tc() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    for line in [
        "qdisc add dev v0 clsact",
        "qdisc add dev v1 root handle 1: htb",
        "filter add dev v0 ingress pref 10 protocol ip u32 match ip dport 80 0xffff match ip src 10.0.0.0/8 classid 1:1 action mirred egress redirect dev v1",
        "filter add dev v0 egress pref 3 bpf bytecode 1,6_0_0_4294967295 classid 1:2 da",
        "filter add dev v0 egress pref 4 bpf bytecode 2,6_0_0_0,6_0_0_4 action mirred egress mirror dev v1",
        "filter add dev v1 parent 1: pref 5 protocol ip u32 match ip protocol 6 0xff flowid 1:5",
    ] {
        // `_` stands for the spaces inside a bytecode argument.
        let args: Vec<String> = line.split(' ').map(|a| a.replace('_', " ")).collect();
        tc(&ns, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    for args in [
        "filter show dev v0 ingress",
        "filter show dev v0 egress",
        "filter show dev v1",
        "filter show dev v1 parent 1:",
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        let (code, ours, err) = example(&ns, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!ours.is_empty(), "{args:?}");
        assert_eq!(ours, tc(&ns, &args), "{args:?}");
    }
    for args in [
        "-j filter show dev v0 ingress",
        "-j filter show dev v0 egress",
        "-j filter show dev v1 parent 1:",
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        let (code, ours, err) = example(&ns, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        // Compared as text: tc repeats `match` keys, which a parsed
        // object would fold.
        assert_eq!(ours.trim_end(), tc(&ns, &args).trim_end(), "{args:?}");
    }
    let (code, _, err) = example(&ns, &["filter", "show", "dev", "v0", "sideways"]);
    assert_eq!(code, 1, "{err}");
}
