//! The `ip` example's `route`, `rule` and `neigh` objects against iproute2:
//! the example creates routes, rules and neighbours in a fresh namespace,
//! then its `-j` output is compared with `ip -j`'s field by field, and its
//! text with `ip`'s line by line; bad input fails as `ip` does.

mod common;

use common::TestNs;
use common::ip_example::{ex, json_list_diff, no_dad, run, script, settled, text_diff};

/// Compares `ip -j ARGS` with the example's, retrying while the namespace
/// settles; `id` names the entries in a report.
fn same_json(ns: &TestNs, args: &[&str], id: &str) {
    settled(&format!("{args:?}"), || json_list_diff(ns, args, id));
}

fn same_text(ns: &TestNs, args: &[&str]) {
    settled(&format!("text of {args:?}"), || text_diff(ns, args));
}

/// Two veths with IPv4 and IPv6 addresses, up.
fn links(ns: &TestNs) {
    no_dad(ns);
    script(
        ns,
        "link add v0 type veth peer name v1
         link set v0 up
         link set v1 up
         addr add 192.0.2.1/24 dev v0
         addr add 198.18.0.1/24 dev v1
         addr add 2001:db8::1/64 dev v0 nodad",
    );
}

/// The `dst`s of `ip -j ARGS`.
fn dsts(ns: &TestNs, args: &[&str]) -> Vec<String> {
    let j = ns.ip_json(args);
    let all = j.as_array().expect("array").iter();
    all.filter_map(|r| r["dst"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn routes_match_ip_json() {
    let ns = TestNs::new().await;
    links(&ns);
    script(
        &ns,
        "route add 198.51.100.0/24 via 192.0.2.254 dev v0 src 192.0.2.1 proto static metric 50
         route add 203.0.113.0/24 nexthop via 192.0.2.2 dev v0 weight 1 nexthop via 198.18.0.2 dev v1 weight 5
         route add 10.1.0.0/16 dev v0 table 100 mtu 1400
         route add blackhole 10.2.0.0/16 table 100
         route add unreachable 10.3.0.0/16
         route add throw 10.4.0.0/16 table 100
         route add local 10.5.0.1 dev v0 table 100
         route add prohibit 10.6.0.0/16 table 70000
         route add 10.7.0.0/16 via 10.99.0.1 dev v0 onlink
         route add 10.8.0.0/16 via inet6 2001:db8::2 dev v0
         route add 10.10.0.0/16 dev v1 scope link proto bgp metric 7
         route add default via 192.0.2.254
         route add local 10.12.0.1 dev v0
         route append 10.13.0.0/16 via 192.0.2.3 metric 10
         route append 10.13.0.0/16 via 198.18.0.3 metric 10
         route add 10.14.0.0/16 via 192.0.2.9
         route replace 10.14.0.0/16 via 192.0.2.10 proto static
         route replace 10.15.0.0/16 dev v1
         route add 2001:db8:1::/48 via 2001:db8::2 metric 300
         route add 2001:db8:2::/48 dev v0 table 100
         -6 route add unreachable 2001:db8:3::/48
         route add default via 2001:db8::2",
    );
    // Route metrics the example cannot set, set by ip, read by the example.
    ns.ip(&[
        "route",
        "add",
        "10.16.0.0/16",
        "dev",
        "v0",
        "mtu",
        "1400",
        "advmss",
        "1360",
        "initcwnd",
        "20",
        "congctl",
        "reno",
        "rtt",
        "30ms",
        "hoplimit",
        "9",
    ]);
    for args in [
        &["route", "show"][..],
        &["route", "show", "table", "100"],
        &["route", "show", "table", "70000"],
        &["route", "show", "table", "all"],
        &["route", "show", "table", "local"],
        &["-6", "route", "show"],
        &["-6", "route", "show", "table", "100"],
        &["route", "show", "proto", "static"],
        &["route", "show", "type", "unreachable"],
        &["route", "show", "table", "100", "type", "local"],
        // iproute2 before 6.10 leaves multipath routes out of `dev D`, so
        // filter a table without one.
        &["route", "show", "table", "100", "dev", "v0"],
        &["-d", "route", "show", "table", "100"],
        &["route", "show", "10.13.0.0/16"],
    ] {
        same_json(&ns, args, "dst");
    }
    for args in [
        &["route", "show"][..],
        &["route", "show", "table", "all"],
        &["-6", "route", "show"],
    ] {
        same_text(&ns, args);
    }
    // What the kernel holds, as ip reads it.
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(
        (&j[0]["gateway"], &j[0]["protocol"], &j[0]["metric"]),
        (&"192.0.2.254".into(), &"static".into(), &50.into())
    );
    let j = ns.ip_json(&["route", "show", "203.0.113.0/24"]);
    assert_eq!(j[0]["nexthops"][1]["weight"], 5);
    let j = ns.ip_json(&["route", "show", "table", "local", "10.12.0.1"]);
    assert_eq!(j[0]["type"], "local", "ip's default table for local routes");
    let j = ns.ip_json(&["route", "show", "10.14.0.0/16"]);
    assert_eq!(j[0]["gateway"], "192.0.2.10", "replaced");
    assert_eq!(dsts(&ns, &["route", "show", "10.13.0.0/16"]).len(), 2);

    // Lookups: `route get` as one request, answered by the kernel.
    let _ = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-qw"])
        .arg("net.ipv4.ip_forward=1")
        .status();
    for args in [
        &["route", "get", "198.51.100.7"][..],
        &["route", "get", "198.51.100.7", "fibmatch"],
        &["route", "get", "203.0.113.5", "from", "192.0.2.1"],
        &["route", "get", "198.51.100.7", "mark", "7", "oif", "v0"],
        &[
            "route",
            "get",
            "198.51.100.7",
            "iif",
            "v1",
            "from",
            "198.18.0.5",
        ],
        &["route", "get", "10.8.1.1"],
        &["-6", "route", "get", "2001:db8:1::5"],
        &["route", "get", "2001:db8:1::5", "fibmatch"],
    ] {
        same_json(&ns, args, "dst");
        same_text(&ns, args);
    }

    // Deleting: what identifies a route, as with ip.
    script(
        &ns,
        "route del 198.51.100.0/24 via 192.0.2.254
         route del blackhole 10.2.0.0/16 table 100
         route del prohibit 10.6.0.0/16 table 70000
         route del 10.13.0.0/16 via 198.18.0.3
         route del local 10.12.0.1
         route del default
         route del 2001:db8:1::/48
         route del unreachable 2001:db8:3::/48",
    );
    let main = dsts(&ns, &["route", "show"]);
    for gone in ["198.51.100.0/24", "default"] {
        assert!(!main.contains(&gone.to_owned()), "{gone} left: {main:?}");
    }
    let t100 = dsts(&ns, &["route", "show", "table", "100"]);
    assert!(!t100.contains(&"10.2.0.0/16".to_owned()), "{t100:?}");
    assert!(dsts(&ns, &["route", "show", "table", "70000"]).is_empty());
    assert_eq!(dsts(&ns, &["route", "show", "10.13.0.0/16"]).len(), 1);
    let v6 = dsts(&ns, &["-6", "route", "show"]);
    assert!(
        !v6.iter()
            .any(|d| d.starts_with("2001:db8:1::") || d.starts_with("2001:db8:3::"))
    );
    for args in [
        &["route", "show", "table", "all"][..],
        &["route", "show", "table", "local"],
    ] {
        same_json(&ns, args, "dst");
    }
    same_text(&ns, &["route", "show", "table", "all"]);
}

#[tokio::test]
async fn rules_match_ip_json() {
    let ns = TestNs::new().await;
    script(
        &ns,
        "link add v0 type veth peer name v1
         rule add from 10.0.0.0/8 to 192.0.2.0/24 table 1000 priority 100
         rule add not fwmark 0x10/0xff iif lo table main priority 200
         rule add fwmark 7 oif v0 priority 300 blackhole
         rule add priority 400 goto 600
         rule add priority 500 nop
         rule add priority 600 prohibit
         rule add priority 700 unreachable from 192.0.2.7
         rule add to 198.51.100.0/24 fwmark 0x20 lookup local pref 800
         rule add from all iif v1 table 100
         -6 rule add from 2001:db8::/32 table 301 priority 1001
         -6 rule add to 2001:db8:1::/48 priority 1002 blackhole
         -6 rule add not from 2001:db8:2::/48 oif v1 priority 1003 table main",
    );
    for args in [&["rule", "show"][..], &["-6", "rule", "show"]] {
        same_json(&ns, args, "priority");
        same_text(&ns, args);
    }
    let j = ns.ip_json(&["rule", "show"]);
    let prio = |p: u32| {
        j.as_array()
            .unwrap()
            .iter()
            .find(|r| r["priority"] == p)
            .unwrap_or_else(|| panic!("no rule {p}: {j}"))
            .clone()
    };
    assert_eq!(
        (prio(100)["srclen"].clone(), prio(100)["table"].clone()),
        (8.into(), "1000".into())
    );
    assert_eq!(prio(200)["fwmask"], "0xff");
    assert_eq!(prio(400)["goto"], 600);
    assert_eq!(prio(700)["action"], "unreachable");

    script(
        &ns,
        "rule del priority 500
         rule del from 10.0.0.0/8 to 192.0.2.0/24 table 1000
         rule del fwmark 7 oif v0 blackhole
         -6 rule del priority 1001",
    );
    let left: Vec<String> = ns
        .ip_json(&["rule", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["priority"].to_string())
        .collect();
    for gone in ["100", "300", "500"] {
        assert!(
            !left.contains(&gone.to_owned()),
            "rule {gone} left: {left:?}"
        );
    }
    for args in [&["rule", "show"][..], &["-6", "rule", "show"]] {
        same_json(&ns, args, "priority");
        same_text(&ns, args);
    }
}

#[tokio::test]
async fn neighbours_match_ip_json() {
    let ns = TestNs::new().await;
    links(&ns);
    script(
        &ns,
        "neigh add 192.0.2.7 lladdr 02:00:00:00:00:07 dev v0
         neigh add 2001:db8::7 lladdr 02:00:00:00:00:08 dev v0 nud stale router
         neigh add 198.18.0.8 lladdr 02:00:00:00:00:09 dev v1 nud permanent
         neigh replace 198.18.0.8 lladdr 02:00:00:00:00:0a dev v1 nud stale
         neigh replace 198.18.0.9 lladdr 02:00:00:00:00:0b dev v1
         neigh add 192.0.2.9 lladdr 02:00:00:00:00:0c dev v0 nud noarp
         neigh add proxy 192.0.2.50 dev v0
         -6 neigh add proxy 2001:db8::50 dev v0",
    );
    for args in [
        &["neigh", "show"][..],
        &["neigh", "show", "dev", "v0"],
        &["-4", "neigh", "show"],
        &["-6", "neigh", "show", "dev", "v0"],
        &["neigh", "show", "proxy"],
        &["-4", "neigh", "show", "proxy"],
    ] {
        same_json(&ns, args, "dst");
        same_text(&ns, args);
    }
    let j = ns.ip_json(&["neigh", "show", "dev", "v1"]);
    let n = j
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["dst"] == "198.18.0.8")
        .expect("198.18.0.8");
    assert_eq!(
        (&n["lladdr"], &n["state"][0]),
        (&"02:00:00:00:00:0a".into(), &"STALE".into())
    );

    script(
        &ns,
        "neigh del 192.0.2.7 dev v0
         neigh del proxy 192.0.2.50 dev v0
         -6 neigh del 2001:db8::7 dev v0",
    );
    let all = ns.ip_json(&["neigh", "show"]).to_string()
        + &ns.ip_json(&["neigh", "show", "proxy"]).to_string();
    for gone in ["192.0.2.7\"", "192.0.2.50", "2001:db8::7\""] {
        assert!(!all.contains(gone), "{gone} left: {all}");
    }
    for args in [&["neigh", "show"][..], &["neigh", "show", "proxy"]] {
        same_json(&ns, args, "dst");
    }
}

/// Runs `ip ARGS` in the namespace: (exit code, stderr).
fn ip_fails(ns: &TestNs, line: &str) -> (i32, String) {
    let o = std::process::Command::new("ip")
        .args(["-n", &ns.name])
        .args(line.split_whitespace())
        .output()
        .expect("run ip");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test]
async fn errors_look_like_ip() {
    let ns = TestNs::new().await;
    links(&ns);
    ex(&ns, "route add 198.51.100.0/24 via 192.0.2.254");
    // Refused before anything is sent: the field named, exit 1.
    let cases = [
        ("route add 2001:db8:5::/48 via 192.0.2.1", "invalid gateway"),
        (
            "route add 2001:db8:5::/48 nexthop via 192.0.2.1 dev v0",
            "invalid gateway",
        ),
        (
            "-6 route add default via 192.0.2.1",
            "inet6 address is expected",
        ),
        (
            "route add 192.0.2.1/24 dev v0",
            "invalid prefix: 192.0.2.1/24 has host bits set",
        ),
        ("route del 10.9.0.1/16", "host bits"),
        (
            "rule add from 10.0.0.0/40 table 5",
            "invalid from: prefix length 40",
        ),
        (
            "route add 10.9.0.0/16 dev v0 table nosuch",
            "invalid table: \"nosuch\"",
        ),
        ("rule add from 10.0.0.0/8 table nosuch", "invalid table"),
        ("route show table nosuch", "table id value is invalid"),
        (
            "route add 10.9.0.0/16 nexthop via 192.0.2.2 dev v0 weight 0",
            "invalid weight: 0",
        ),
        (
            "route add 10.9.0.0/16 nexthop via 192.0.2.2 dev v0 weight 257",
            "invalid weight: 257",
        ),
        (
            "route add 10.9.0.0/16 dev nosuch0",
            "Cannot find device \"nosuch0\"",
        ),
        (
            "route add 10.9.0.0/16 nexthop via 192.0.2.2 dev nosuch0",
            "Cannot find device",
        ),
        ("route show dev nosuch0", "Cannot find device"),
        ("route get 198.51.100.1 oif nosuch0", "Cannot find device"),
        (
            "neigh add 192.0.2.77 lladdr 02:00:00:00:00:01 dev nosuch0",
            "Cannot find device",
        ),
        ("neigh show dev nosuch0", "Cannot find device"),
        ("neigh add 192.0.2.77 lladdr zz dev v0", "MAC"),
        ("neigh add 192.0.2.77 dev v0", "invalid lladdr"),
        (
            "neigh add 192.0.2.77 lladdr 02:00:00:00:00:01 dev v0 nud sleepy",
            "invalid nud",
        ),
        (
            "rule add from 10.0.0.0/8 to 2001:db8::/32",
            "mixes IPv4 and IPv6",
        ),
        ("route add 10.9.0.0/16 proto nosuch dev v0", "invalid proto"),
        ("route show type wormhole", "invalid type"),
        ("route get", "destination"),
        ("route add", "prefix is required"),
        ("route frobnicate", "frobnicate"),
        ("rule add frobnicate", "frobnicate"),
        ("neigh add 192.0.2.77 lladdr 02:00:00:00:00:01", "required"),
    ];
    for (line, expect) in cases {
        let o = run(&ns, &line.split_whitespace().collect::<Vec<_>>());
        assert_eq!(o.code, 1, "{line:?}: {}{}", o.stdout, o.stderr);
        let ok = o.stderr.starts_with("Error: ") && o.stderr.contains(expect);
        assert!(ok, "{line:?}: {:?} is not `Error: …{expect}…`", o.stderr);
        assert!(o.stdout.is_empty(), "{line:?} printed {:?}", o.stdout);
    }
    // Refused by the kernel: ip's own text and exit code 2.
    let kernel = [
        "route del 10.99.0.0/16",
        "route del 198.51.100.0/24 via 192.0.2.99",
        "route add 198.51.100.0/24 via 192.0.2.254",
        "route add 10.9.0.0/16 via 10.200.0.1",
        "-6 route del 2001:db8:99::/48",
        "rule del priority 4242",
        "neigh del 192.0.2.78 dev v0",
        "neigh del proxy 192.0.2.78 dev v0",
        "route get 10.99.0.1",
    ];
    for line in kernel {
        let (code, ip_err) = ip_fails(&ns, line);
        assert_eq!(code, 2, "ip {line:?} should fail: {ip_err}");
        let want = ip_err.trim().trim_start_matches("Error: ");
        let o = run(&ns, &line.split_whitespace().collect::<Vec<_>>());
        assert_eq!(o.code, 2, "{line:?}: {}{}", o.stdout, o.stderr);
        assert_eq!(o.stderr.trim(), format!("Error: {want}"), "{line:?}");
        assert!(o.stdout.is_empty(), "{line:?} printed {:?}", o.stdout);
    }
    // A missing route through the library is `is_not_found()`.
    let nl = ns.client();
    let e = nl.route().del("10.99.0.0/16").await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
}

/// `ip route show … | head -1`: the reader goes away after one line, while
/// the example still has thousands to write; it must exit 0 without a word
/// (no panic on EPIPE), in text and in JSON.
#[tokio::test]
async fn a_closed_pipe_ends_the_listing_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let ns = TestNs::new().await;
    links(&ns);
    let lines: String = (0..20_000u32)
        .map(|i| {
            format!(
                "route add 10.{}.{}.0/24 via 192.0.2.2 table 300\n",
                i >> 8,
                i & 255
            )
        })
        .collect();
    ns.ip_batch(&lines);
    for json in [false, true] {
        let mut args = vec!["-n", ns.name.as_str()];
        if json {
            args.push("-j");
        }
        args.extend(["route", "show", "table", "300"]);
        let mut child = Command::new(common::ip_example::example())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example");
        let mut first = Vec::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_until(if json { b'}' } else { b'\n' }, &mut first)
            .expect("read");
        assert!(!first.is_empty(), "no output before the pipe closed");
        drop(out); // like `head` exiting
        let o = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(0),
            "json {json}: exit {:?}: {err}",
            o.status
        );
        assert!(err.is_empty(), "json {json}: wrote to stderr: {err}");
    }
}
