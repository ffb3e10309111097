//! The `ip` example against iproute2: the example creates links and
//! addresses in a fresh namespace, then its `-j` output is compared with
//! `ip -j`'s field by field, and its text output with `ip`'s line by line.

mod common;

use common::TestNs;
use common::ip_example::{at, ex, ex_json, no_dad, run, script, settled, text_diff};
use serde_json::Value;

/// Top-level link fields compared (absent in both counts as equal).
const LINK_KEYS: &str = "ifindex ifname flags mtu qdisc operstate linkmode group txqlen \
    link_type address broadcast permaddr master link link_index link_netnsid ifalias altnames \
    promiscuity allmulti min_mtu max_mtu num_tx_queues num_rx_queues gso_max_size gso_max_segs \
    tso_max_size tso_max_segs gro_max_size inet6_addr_gen_mode linkinfo.info_kind \
    linkinfo.info_slave_kind";

/// Address fields compared; lifetimes are compared with a tolerance.
const ADDR_KEYS: &str = "family local address prefixlen metric broadcast scope label dynamic \
    secondary temporary nodad optimistic dadfailed home deprecated tentative mngtmpaddr \
    noprefixroute autojoin stable-privacy ifa_flags";

/// Settings the example must print, per kind (every one it prints is
/// compared, but for the ticking timers).
fn required(kind: &str) -> &'static str {
    match kind {
        "bridge" => "forward_delay stp_state priority bridge_id group_addr",
        "bridge_slave" => "state priority cost learning flood",
        "vxlan" => "id port ttl learning ageing",
        "macvlan" | "macvtap" => "mode",
        "vlan" => "protocol id",
        _ => "",
    }
}

/// Mismatches found so far, as `what.key: ip …, example …`.
#[derive(Default)]
struct Diff(Vec<String>);

impl Diff {
    fn keys(&mut self, what: &str, ip: &Value, ours: &Value, keys: &str) {
        for k in keys.split_whitespace() {
            let (a, b) = (at(ip, k), at(ours, k));
            if a != b {
                self.0.push(format!("{what}.{k}: ip {a:?}, example {b:?}"));
            }
        }
    }

    /// A `linkinfo` object: the kind's required keys, and every key the
    /// example prints.
    fn info(&mut self, name: &str, path: &str, ip: &Value, ours: &Value, kind: &str) {
        let what = format!("{name}.{path}");
        let (ip, ours) = (at(ip, path), at(ours, path).unwrap_or(&Value::Null));
        let Some(ip) = ip else { return };
        for k in required(kind).split_whitespace() {
            if ip.get(k).is_some() && ours.get(k).is_none() {
                self.0.push(format!("{what}.{k}: missing from the example"));
            }
        }
        for (k, v) in ours.as_object().into_iter().flatten() {
            if !k.ends_with("_timer") && ip.get(k) != Some(v) {
                self.0
                    .push(format!("{what}.{k}: ip {:?}, example {v:?}", ip.get(k)));
            }
        }
    }

    fn link(&mut self, ip: &Value, ours: &Value) {
        let name = ip["ifname"].as_str().unwrap_or("?");
        self.keys(name, ip, ours, LINK_KEYS);
        let kind = ip["linkinfo"]["info_kind"].as_str().unwrap_or("");
        self.info(name, "linkinfo.info_data", ip, ours, kind);
        let port = format!(
            "{}_slave",
            ip["linkinfo"]["info_slave_kind"].as_str().unwrap_or("")
        );
        self.info(name, "linkinfo.info_slave_data", ip, ours, &port);
        let none = Vec::new();
        let ia = ip["addr_info"].as_array().unwrap_or(&none);
        let oa = ours["addr_info"].as_array().unwrap_or(&none);
        if ia.len() != oa.len() {
            return self
                .0
                .push(format!("{name}.addr_info: ip {ia:?}, example {oa:?}"));
        }
        for (i, (a, b)) in ia.iter().zip(oa).enumerate() {
            let what = format!("{name}.addr_info[{i}]");
            self.keys(&what, a, b, ADDR_KEYS);
            for k in ["valid_life_time", "preferred_life_time"] {
                let (x, y) = (a[k].as_u64().unwrap_or(0), b[k].as_u64().unwrap_or(0));
                if x.abs_diff(y) > 3 {
                    self.0.push(format!("{what}.{k}: ip {x}, example {y}"));
                }
            }
        }
    }
}

/// Differences between `ip -j ARGS` and the example's `-j ARGS`.
fn json_diff(ns: &TestNs, args: &[&str]) -> Vec<String> {
    let (ip, ours) = (ns.ip_json(args), ex_json(ns, args));
    fn names(v: &Value) -> Vec<&Value> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|l| &l["ifname"])
            .collect()
    }
    if names(&ip) != names(&ours) {
        return vec![format!("links differ: ip {ip}\nexample {ours}")];
    }
    let mut d = Diff::default();
    for (a, b) in ip.as_array().unwrap().iter().zip(ours.as_array().unwrap()) {
        d.link(a, b);
    }
    d.0
}

#[tokio::test]
async fn links_match_ip_json() {
    let ns = TestNs::new().await;
    let other = TestNs::new().await;
    no_dad(&ns);
    script(
        &ns,
        "link add v0 type veth peer name v1
         link add br0 type bridge forward_delay 400 stp_state 0
         link set v0 master br0 mtu 1400 address 02:00:00:00:00:01 txqlen 500 up
         link set v1 up
         link set br0 up
         link add link v1 name mv0 type macvlan mode bridge
         link add mvt0 type macvtap link v1 mode vepa
         link add vx0 type vxlan id 42 dstport 4789 remote 192.0.2.9 local 192.0.2.1 ttl 5
         link add vx1 type vxlan id 43 group 239.1.1.1 dev v1 dstport 4790 nolearning
         link add ifb0 txqlen 64 type ifb
         link set ifb0 promisc on arp on group 7 up
         link add q0 type veth peer q1",
    );
    // An alias with a space is one argument.
    let o = run(&ns, &["link", "set", "dev", "v0", "alias", "uplink port"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Peers in another namespace: link_index and link_netnsid.
    let o = &other.name;
    script(
        &ns,
        &format!("link add p0 type veth peer name p1 netns {o}\nlink set q1 netns {o}"),
    );
    let diff = |ns: &TestNs, args: &'static [&'static str]| {
        settled(&format!("{args:?}"), || json_diff(ns, args));
    };
    diff(&ns, &["-d", "link", "show"]);
    diff(&ns, &["link", "show"]);
    diff(&other, &["-d", "link", "show"]);
    diff(&ns, &["link", "show", "dev", "br0"]);

    // The settings as ip reads them.
    let br0 = &ns.ip_json(&["-d", "link", "show", "br0"])[0];
    assert_eq!(br0["linkinfo"]["info_data"]["forward_delay"], 400);
    let v0 = &ns.ip_json(&["link", "show", "v0"])[0];
    assert_eq!(
        (&v0["ifalias"], &v0["master"]),
        (&"uplink port".into(), &"br0".into())
    );
    // Delete, rename, release.
    script(
        &ns,
        "link del vx1\nlink set ifb0 down name ifb9\nlink set v0 nomaster",
    );
    let all = ns.ip_json(&["link", "show"]);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ifname"].as_str())
        .collect();
    assert!(
        names.contains(&"ifb9") && !names.contains(&"vx1"),
        "{names:?}"
    );
    assert!(
        ns.ip_json(&["link", "show", "v0"])[0]
            .get("master")
            .is_none()
    );
    diff(&ns, &["-d", "link", "show"]);
}

#[tokio::test]
async fn addresses_match_ip_json() {
    let ns = TestNs::new().await;
    no_dad(&ns);
    script(
        &ns,
        "link add a0 up type veth peer name a1
         link set a1 up
         addr add 192.0.2.1/24 dev a0 label a0:web broadcast + valid_lft 100 preferred_lft 50
         addr add dev a0 198.51.100.1/24 scope link noprefixroute metric 7
         addr add 203.0.113.1/24 dev a0 broadcast 203.0.113.255
         addr add 10.9.0.1 peer 10.9.0.2 dev a1
         addr add 2001:db8::1/64 dev a0 nodad
         addr add 2001:db8:1::5/64 dev a1 nodad valid_lft 300 preferred_lft 200
         addr add 127.0.0.2/8 dev lo",
    );
    settled("addr show", || json_diff(&ns, &["addr", "show"]));
    settled("-d addr show dev a0", || {
        json_diff(&ns, &["-d", "addr", "show", "dev", "a0"])
    });

    let lo = ns.ip_json(&["addr", "show", "lo"]);
    let lo = lo[0]["addr_info"].as_array().unwrap();
    let a = lo
        .iter()
        .find(|a| a["local"] == "127.0.0.2")
        .expect("127.0.0.2");
    assert_eq!(
        a["scope"], "host",
        "127/8 defaults to host scope, as with ip"
    );
    script(
        &ns,
        "addr del 192.0.2.1/24 dev a0\naddr del 2001:db8::1/64 dev a0",
    );
    let left = ns.ip_json(&["addr", "show", "a0"]).to_string();
    assert!(
        !left.contains("192.0.2.1") && !left.contains("2001:db8::1\""),
        "{left}"
    );
    settled("addr show (after del)", || {
        json_diff(&ns, &["addr", "show"])
    });
}

#[tokio::test]
async fn text_output_matches_ip() {
    let ns = TestNs::new().await;
    no_dad(&ns);
    let out = ex(&ns, "link show");
    let lo: Vec<&str> = out.lines().take(2).collect();
    assert_eq!(
        lo,
        [
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN \
             mode DEFAULT group default qlen 1000",
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        ]
    );
    let other = TestNs::new().await;
    script(
        &ns,
        &format!(
            "link add t0 type veth peer name t1
             link add br0 type bridge
             link set t0 master br0 up
             link add vx0 type vxlan id 7 dstport 4789 dev t1 local 192.0.2.1
             link add o0 type veth peer name o1 netns {}
             addr add 192.0.2.1/24 dev t1 broadcast + label t1:a
             addr add 2001:db8::2/64 dev t0 nodad",
            other.name
        ),
    );
    settled("link show", || text_diff(&ns, &["link", "show"]));
    settled("addr show", || text_diff(&ns, &["addr", "show"]));
    settled("addr show (other)", || text_diff(&other, &["addr", "show"]));
}

#[tokio::test]
async fn errors_look_like_ip() {
    let ns = TestNs::new().await;
    ex(&ns, "link add e0 type veth peer name e1");
    // Command, what stderr must hold after `Error: `, exit code.
    let cases = [
        // The kernel's extended ACK as ip prints it, and ip's exit codes.
        ("link add x type no-such-kind", "Unknown device type.", 2),
        ("link set nosuch0 up", "Cannot find device \"nosuch0\"", 1),
        ("link del nosuch0", "Cannot find device \"nosuch0\"", 1),
        (
            "link show dev nosuch0",
            "Device \"nosuch0\" does not exist.",
            1,
        ),
        ("addr add 192.0.2.1/24 dev nosuch0", "Cannot find device", 1),
        ("addr add 192.0.2.1/33 dev lo", "33", 1),
        ("addr add 192.0.2.1/24 dev lo label eth0", "label", 1),
        (
            "addr add 192.0.2.1/24 dev lo valid_lft 10 preferred_lft 20",
            "preferred_lft",
            1,
        ),
        ("link set lo mtu lots", "mtu", 1),
        ("link set lo frobnicate", "frobnicate", 1),
        ("link frobnicate", "frobnicate", 1),
        ("mroute show", "mroute", 1),
        ("link add m0 type macvlan", "link", 1),
        (
            "link add m0 link lo type macvlan mode sideways",
            "sideways",
            1,
        ),
        // No extended ACK for a duplicate: ip's "RTNETLINK answers".
        (
            "link add e0 type veth peer name e2",
            "RTNETLINK answers: File exists",
            2,
        ),
        ("addr del 192.0.2.77/24 dev e0", "", 2),
    ];
    for (line, expect, code) in cases {
        let o = run(&ns, &line.split_whitespace().collect::<Vec<_>>());
        assert_eq!(o.code, code, "{line:?}: {}{}", o.stdout, o.stderr);
        let ok = o.stderr.starts_with("Error: ") && o.stderr.contains(expect);
        assert!(ok, "{line:?}: {:?} is not `Error: …{expect}…`", o.stderr);
        assert!(o.stdout.is_empty(), "{line:?} printed {:?}", o.stdout);
    }
}

/// Strings are escaped per RFC 8259 by the example's own JSON writer: an
/// alias with quotes, a backslash, controls and non-ASCII reads back as
/// set, in `link show` and in `addr show`.
#[tokio::test]
async fn json_strings_are_escaped() {
    let ns = TestNs::new().await;
    script(&ns, "link add e0 type veth peer name e1");
    let alias = "a \"quoted\" \\ back\tslash \u{1} \u{1f} \u{7f} é ü";
    let o = run(&ns, &["link", "set", "dev", "e0", "alias", alias]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for args in [&["link", "show"][..], &["-d", "link", "show"][..]] {
        let all = ex_json(&ns, args);
        let e0 = all
            .as_array()
            .expect("array")
            .iter()
            .find(|l| l["ifname"] == "e0")
            .expect("e0 listed");
        assert_eq!(e0["ifalias"], alias, "{args:?}");
    }
    // Byte for byte as serde_json escapes it.
    let raw = run(&ns, &["-j", "link", "show"]).stdout;
    let want = serde_json::to_string(alias).expect("serialize");
    assert!(raw.contains(&format!("\"ifalias\":{want}")), "{raw}");
    // `addr show` prints no alias, but must still be valid JSON.
    let all = ex_json(&ns, &["addr", "show"]);
    assert!(all.as_array().is_some_and(|a| a.len() >= 3), "{all}");
}
