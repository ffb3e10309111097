//! `nl.link()` against the real kernel, each test in a fresh namespace.
//! Every change is read back twice: through the library's typed `Link`
//! (and its decoded `info_data()` / `port_data()`), and through
//! `ip -j -d link show`; the two must agree.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

use common::TestNs;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::Nla;
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoBridgePort, InfoData, InfoMacVlan, InfoMacVtap, InfoPortData,
    InfoVxlan, MacVlanMode,
};
use serde_json::Value;
use tokio_netlink::route::link::kinds::{Bridge, Ifb, Macvlan, MacvlanMode, Macvtap, Veth, Vxlan};
use tokio_netlink::route::link::{BridgePort, Link, MacAddr, OperState, TunTap, TunTapMode};
use tokio_netlink::{Error, Netlink, NetnsTarget};

// ---------------------------------------------------------------- helpers

/// The first value of a tuple variant found in a list of attributes.
macro_rules! find {
    ($list:expr, $variant:path) => {
        $list.iter().find_map(|a| match a {
            $variant(v) => Some(v.clone()),
            _ => None,
        })
    };
}

/// IFF_* bits in the order and spelling `ip` prints them.
const IP_FLAGS: &[(u32, &str)] = &[
    (1 << 3, "LOOPBACK"),
    (1 << 1, "BROADCAST"),
    (1 << 4, "POINTOPOINT"),
    (1 << 12, "MULTICAST"),
    (1 << 7, "NOARP"),
    (1 << 9, "ALLMULTI"),
    (1 << 8, "PROMISC"),
    (1 << 10, "MASTER"),
    (1 << 11, "SLAVE"),
    (1 << 2, "DEBUG"),
    (1 << 15, "DYNAMIC"),
    (1 << 14, "AUTOMEDIA"),
    (1 << 13, "PORTSEL"),
    (1 << 5, "NOTRAILERS"),
    (1 << 0, "UP"),
    (1 << 16, "LOWER_UP"),
    (1 << 17, "DORMANT"),
    (1 << 18, "ECHO"),
];
const IFF_UP: u32 = 1;
const IFF_RUNNING: u32 = 1 << 6;

/// The flag names `ip` derives from IFF_* bits (less `M-DOWN`, which
/// describes the lower device).
fn flag_names(bits: u32) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if bits & IFF_UP != 0 && bits & IFF_RUNNING == 0 {
        out.insert("NO-CARRIER".to_owned());
    }
    for (bit, name) in IP_FLAGS {
        if bits & bit != 0 {
            out.insert((*name).to_owned());
        }
    }
    out
}

fn json_flags(ip: &Value) -> BTreeSet<String> {
    ip["flags"]
        .as_array()
        .expect("flags array")
        .iter()
        .map(|f| f.as_str().expect("flag string").to_owned())
        .filter(|f| f != "M-DOWN")
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `ip -j -d link show dev NAME`, the one object.
fn ip_link(ns: &TestNs, name: &str) -> Value {
    let v = ns.ip_json(&["-d", "link", "show", "dev", name]);
    assert_eq!(
        v.as_array().map(Vec::len),
        Some(1),
        "ip link show {name}: {v}"
    );
    v[0].clone()
}

/// Whether `ip link show dev NAME` finds the device.
fn ip_has(ns: &TestNs, name: &str) -> bool {
    Command::new("ip")
        .args(["-n", &ns.name, "link", "show", "dev", name])
        .output()
        .expect("run ip")
        .status
        .success()
}

/// Names of the links `ip -j link show ARGS…` lists, by index.
fn ip_names(ns: &TestNs, args: &[&str]) -> Vec<(u32, String)> {
    let mut all = vec!["link", "show"];
    all.extend_from_slice(args);
    let mut v: Vec<(u32, String)> = ns
        .ip_json(&all)
        .as_array()
        .expect("array")
        .iter()
        // iproute2 prints `{}` for links it filters out itself.
        .filter(|l| l.as_object().is_some_and(|o| !o.is_empty()))
        .map(|l| {
            (
                l["ifindex"].as_u64().expect("ifindex") as u32,
                l["ifname"].as_str().expect("ifname").to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn lib_names(links: &[Link]) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = links
        .iter()
        .map(|l| (l.index(), l.name().to_owned()))
        .collect();
    v.sort();
    v
}

async fn name_of(nl: &Netlink, index: u32) -> String {
    nl.link()
        .get(index)
        .await
        .unwrap_or_else(|e| panic!("get index {index}: {e}"))
        .name()
        .to_owned()
}

/// Asserts that the library's view and `ip -j -d`'s agree on everything
/// both report.
async fn agree(nl: &Netlink, link: &Link, ip: &Value) {
    let who = link.name();
    assert_eq!(ip["ifindex"].as_u64(), Some(link.index().into()), "{who}");
    assert_eq!(ip["ifname"].as_str(), Some(who));
    assert_eq!(ip["mtu"].as_u64(), link.mtu().map(u64::from), "{who} mtu");
    assert_eq!(
        ip["address"].as_str(),
        link.address().map(hex).as_deref(),
        "{who} address"
    );
    assert_eq!(
        ip["broadcast"].as_str(),
        link.broadcast().map(hex).as_deref(),
        "{who} broadcast"
    );
    assert_eq!(
        ip["operstate"].as_str(),
        Some(link.operstate().to_string().as_str()),
        "{who} operstate"
    );
    assert_eq!(
        json_flags(ip),
        flag_names(link.flags().bits()),
        "{who} flags"
    );
    // `ip` leaves out a zero queue length.
    assert_eq!(
        ip["txqlen"].as_u64().unwrap_or(0),
        u64::from(link.txqlen().expect("txqlen")),
        "{who}"
    );
    let group = match link.group() {
        Some(0) => "default".to_owned(),
        Some(g) => g.to_string(),
        None => panic!("{who}: no group"),
    };
    assert_eq!(ip["group"].as_str(), Some(group.as_str()), "{who} group");
    assert_eq!(
        ip["promiscuity"].as_u64(),
        link.promiscuity().map(u64::from),
        "{who}"
    );
    assert_eq!(
        ip["allmulti"].as_u64(),
        link.allmulti().map(u64::from),
        "{who}"
    );
    let (min, max) = link.mtu_range().expect("mtu range");
    assert_eq!(ip["min_mtu"].as_u64(), Some(min.into()), "{who}");
    assert_eq!(ip["max_mtu"].as_u64(), Some(max.into()), "{who}");
    assert_eq!(
        ip["gso_max_size"].as_u64(),
        link.gso_max_size().map(u64::from),
        "{who}"
    );
    assert_eq!(
        ip["gso_max_segs"].as_u64(),
        link.gso_max_segs().map(u64::from),
        "{who}"
    );
    assert_eq!(
        ip["gro_max_size"].as_u64(),
        link.gro_max_size().map(u64::from),
        "{who}"
    );
    let (tx, rx) = link.queues().expect("queues");
    assert_eq!(ip["num_tx_queues"].as_u64(), Some(tx.into()), "{who}");
    assert_eq!(ip["num_rx_queues"].as_u64(), Some(rx.into()), "{who}");
    let link_type = match link.link_type() {
        1 => Some("ether"),
        772 => Some("loopback"),
        65534 => Some("none"),
        _ => None,
    };
    if let Some(t) = link_type {
        assert_eq!(ip["link_type"].as_str(), Some(t), "{who}");
    }
    assert_eq!(ip["ifalias"].as_str(), link.alias(), "{who} alias");
    let ip_alt: Vec<&str> = ip["altnames"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(ip_alt, link.altnames(), "{who} altnames");
    match link.master() {
        Some(m) => assert_eq!(
            ip["master"].as_str(),
            Some(name_of(nl, m).await.as_str()),
            "{who} master"
        ),
        None => assert!(ip.get("master").is_none(), "{who}: {ip}"),
    }
    match (link.link(), link.netnsid()) {
        (Some(l), Some(id)) => {
            assert_eq!(ip["link_index"].as_u64(), Some(l.into()), "{who}");
            assert_eq!(ip["link_netnsid"].as_i64(), Some(id.into()), "{who}");
        }
        (Some(l), None) => assert_eq!(
            ip["link"].as_str(),
            Some(name_of(nl, l).await.as_str()),
            "{who} link"
        ),
        (None, _) => {
            assert!(ip.get("link").is_none(), "{who}: {ip}");
            assert!(ip.get("link_index").is_none(), "{who}: {ip}");
        }
    }
    assert_eq!(
        ip["linkinfo"]["info_kind"].as_str(),
        link.kind(),
        "{who} kind"
    );
    assert_eq!(
        ip["linkinfo"]["info_slave_kind"].as_str(),
        link.port_kind(),
        "{who} port kind"
    );
}

/// Reads `name` through the library and through `ip`, and checks they agree.
async fn both(ns: &TestNs, nl: &Netlink, name: &str) -> (Link, Value) {
    let link = nl
        .link()
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {name}: {e}"));
    let ip = ip_link(ns, name);
    agree(nl, &link, &ip).await;
    (link, ip)
}

/// Polls the library until `name` satisfies `ok` (operational state moves
/// asynchronously, through the kernel's linkwatch work).
async fn wait_for(nl: &Netlink, name: &str, what: &str, ok: impl Fn(&Link) -> bool) -> Link {
    for _ in 0..250 {
        let l = nl.link().get(name).await.expect("get");
        if ok(&l) {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{name} never became {what}");
}

async fn wait_operstate(nl: &Netlink, name: &str, want: OperState) -> Link {
    wait_for(nl, name, &format!("{want:?}"), |l| l.operstate() == want).await
}

/// A veth pair `a`/`b`, through the library.
async fn veth(nl: &Netlink, a: &str, b: &str) {
    nl.link()
        .add(a, Veth::peer(b))
        .await
        .unwrap_or_else(|e| panic!("add veth {a}/{b}: {e}"));
}

fn bridge_data(l: &Link) -> Vec<InfoBridge> {
    match l.info_data() {
        Some(InfoData::Bridge(v)) => v,
        other => panic!("{}: not bridge data: {other:?}", l.name()),
    }
}

fn vxlan_data(l: &Link) -> Vec<InfoVxlan> {
    match l.info_data() {
        Some(InfoData::Vxlan(v)) => v,
        other => panic!("{}: not vxlan data: {other:?}", l.name()),
    }
}

fn bridge_port_data(l: &Link) -> Vec<InfoBridgePort> {
    match l.port_data() {
        Some(InfoPortData::BridgePort(v)) => v,
        other => panic!("{}: not bridge-port data: {other:?}", l.name()),
    }
}

/// IFLA_TUN_* attributes (netlink-packet-route leaves them undecoded).
fn tun_data(l: &Link) -> HashMap<u16, Vec<u8>> {
    match l.info_data() {
        Some(InfoData::Tun(v)) => v
            .iter()
            .map(|a| {
                let mut b = vec![0u8; a.value_len()];
                a.emit_value(&mut b);
                (a.kind(), b)
            })
            .collect(),
        other => panic!("{}: not tun data: {other:?}", l.name()),
    }
}

fn tun_u8(d: &HashMap<u16, Vec<u8>>, ty: u16) -> u8 {
    d.get(&ty)
        .unwrap_or_else(|| panic!("IFLA_TUN {ty} missing"))[0]
}

fn tun_u32(d: &HashMap<u16, Vec<u8>>, ty: u16) -> u32 {
    let b = d
        .get(&ty)
        .unwrap_or_else(|| panic!("IFLA_TUN {ty} missing"));
    u32::from_ne_bytes(b[..4].try_into().expect("4 bytes"))
}

/// `ip` prints a tun owner as a name when the id has one.
fn assert_id(v: &Value, id: u32, db: &str) {
    match v {
        Value::Number(n) => assert_eq!(n.as_u64(), Some(id.into())),
        Value::String(s) => {
            let out = Command::new("getent")
                .args([db, &id.to_string()])
                .output()
                .expect("getent");
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(text.split(':').next(), Some(s.as_str()), "{db} {id}");
        }
        other => panic!("unexpected {db} value {other}"),
    }
}

fn assert_invalid(e: &Error, want: &str) {
    match e {
        Error::InvalidInput { field, reason } => {
            assert_eq!(*field, want, "{e}");
            assert!(!reason.is_empty(), "{e}");
        }
        other => panic!("expected InvalidInput {{ field: {want:?} }}, got {other:?}"),
    }
}

fn same_netns(pid: u32, ns: &TestNs) -> bool {
    let Ok(a) = std::fs::metadata(format!("/proc/{pid}/ns/net")) else {
        return false;
    };
    let b = std::fs::metadata(format!("/run/netns/{}", ns.name)).expect("netns file");
    a.ino() == b.ino() && a.dev() == b.dev()
}

// ------------------------------------------------------------------- list

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_all_matches_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    nl.link().add("ifb0", Ifb).await.expect("ifb");

    let links = nl.link().list().await.expect("list");
    let want = ip_names(&ns, &[]);
    assert_eq!(lib_names(&links), want);
    let names: BTreeSet<&str> = links.iter().map(Link::name).collect();
    assert_eq!(
        names,
        BTreeSet::from(["lo", "v0", "v1", "br0", "ifb0"]),
        "{links:?}"
    );
    let streamed: Vec<Link> = nl
        .link()
        .list()
        .stream()
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(lib_names(&streamed), want);
    for l in &links {
        agree(&nl, l, &ip_link(&ns, l.name())).await;
    }
}

#[tokio::test]
async fn list_kind_filter_matches_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    veth(&nl, "v2", "v3").await;
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    nl.link()
        .add("mv0", Macvlan::new("v0"))
        .await
        .expect("macvlan");

    for (kind, expect) in [
        ("veth", &["v0", "v1", "v2", "v3"][..]),
        ("bridge", &["br0"][..]),
        ("macvlan", &["mv0"][..]),
        ("vxlan", &[][..]),
    ] {
        let links = nl.link().list().kind(kind).await.expect("list kind");
        assert_eq!(
            lib_names(&links),
            ip_names(&ns, &["type", kind]),
            "type {kind}"
        );
        let names: BTreeSet<&str> = links.iter().map(Link::name).collect();
        assert_eq!(names, expect.iter().copied().collect(), "type {kind}");
        assert!(links.iter().all(|l| l.kind() == Some(kind)), "{links:?}");
    }
    // A kind the kernel does not know filters nothing kernel-side; the
    // listing must still hold only links of that kind: none.
    let none = nl.link().list().kind("no-such-kind").await.expect("list");
    assert!(none.is_empty(), "{none:?}");
}

#[tokio::test]
async fn list_master_filter_matches_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.expect("br0");
    nl.link().add("br1", Bridge::new()).await.expect("br1");
    nl.link().add("br2", Bridge::new()).await.expect("br2");
    nl.link()
        .add("v0", Veth::peer("v1"))
        .master("br0")
        .await
        .expect("v0 in br0");
    nl.link().set("v1").master("br0").await.expect("v1 in br0");
    nl.link()
        .add("v2", Veth::peer("v3"))
        .master("br1")
        .await
        .expect("v2 in br1");

    let br0 = nl.link().get("br0").await.expect("br0").index();
    let by_name = nl.link().list().master("br0").await.expect("list");
    assert_eq!(lib_names(&by_name), ip_names(&ns, &["master", "br0"]));
    let names: BTreeSet<&str> = by_name.iter().map(Link::name).collect();
    assert_eq!(names, BTreeSet::from(["v0", "v1"]));
    assert!(by_name.iter().all(|l| l.master() == Some(br0)));
    let by_index = nl.link().list().master(br0).await.expect("list");
    assert_eq!(lib_names(&by_index), lib_names(&by_name));

    let br1 = nl.link().list().master("br1").await.expect("list");
    assert_eq!(lib_names(&br1), ip_names(&ns, &["master", "br1"]));
    assert_eq!(br1.len(), 1);
    assert_eq!(br1[0].name(), "v2");
    let empty = nl.link().list().master("br2").await.expect("list");
    assert!(empty.is_empty(), "{empty:?}");
    assert!(ip_names(&ns, &["master", "br2"]).is_empty());

    // Both filters at once.
    let veths = nl
        .link()
        .list()
        .master("br0")
        .kind("veth")
        .await
        .expect("list");
    assert_eq!(lib_names(&veths), lib_names(&by_name));

    let e = nl.link().list().master("nope0").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

// -------------------------------------------------------------------- get

#[tokio::test]
async fn get_by_name_and_by_index() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let (lo, ip) = both(&ns, &nl, "lo").await;
    assert_eq!(lo.index(), 1);
    assert_eq!(lo.link_type(), 772);
    assert_eq!(lo.kind(), None);
    assert!(lo.is_up());
    assert_eq!(ip["link_type"], "loopback");
    let by_index = nl.link().get(1).await.expect("get 1");
    assert_eq!(by_index.name(), "lo");
    assert_eq!(by_index.mtu(), lo.mtu());

    veth(&nl, "v0", "v1").await;
    let (v0, _) = both(&ns, &nl, "v0").await;
    let again = nl.link().get(v0.index()).await.expect("get by index");
    assert_eq!(again.name(), "v0");
    assert_eq!(again.mac(), v0.mac());
    assert_eq!(again.kind(), Some("veth"));
    // The typed view and the full decode agree.
    let msg = again.message().expect("decode");
    assert_eq!(msg.header.index, v0.index());
    assert!(again.raw().bytes.len() > 16);
    assert!(
        again
            .attributes()
            .any(|(t, v)| t == 3 && v.starts_with(b"v0\0"))
    );
    let stats = again.stats().expect("stats64");
    assert_eq!(stats.tx_packets, 0);
}

// -------------------------------------------------------------------- add

#[tokio::test]
async fn add_veth_with_peer_settings() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mac0: MacAddr = "02:00:00:00:aa:01".parse().unwrap();
    let mac1 = MacAddr([0x02, 0, 0, 0, 0xaa, 0x02]);
    nl.link()
        .add(
            "v0",
            Veth::peer("v1").peer_mtu(9000).peer_address(mac1).peer_up(),
        )
        .mtu(4000)
        .address(mac0)
        .txqlen(123)
        .up()
        .await
        .expect("add veth");
    wait_operstate(&nl, "v0", OperState::Up).await;
    wait_operstate(&nl, "v1", OperState::Up).await;

    let (v0, ip0) = both(&ns, &nl, "v0").await;
    let (v1, ip1) = both(&ns, &nl, "v1").await;
    assert_eq!(v0.kind(), Some("veth"));
    assert_eq!(v0.mtu(), Some(4000));
    assert_eq!(v1.mtu(), Some(9000));
    assert_eq!(v0.mac(), Some(mac0));
    assert_eq!(v1.mac(), Some(mac1));
    assert_eq!(ip0["address"], "02:00:00:00:aa:01");
    assert_eq!(ip1["address"], "02:00:00:00:aa:02");
    assert_eq!(v0.txqlen(), Some(123));
    assert!(v0.is_up() && v1.is_up());
    assert_eq!(v0.link(), Some(v1.index()));
    assert_eq!(v1.link(), Some(v0.index()));
    assert_eq!(v0.netnsid(), None);
    assert_eq!(ip0["link"], "v1");
    assert_eq!(ip1["link"], "v0");
    assert_eq!(ip0["operstate"], "UP");
}

#[tokio::test]
async fn add_veth_peer_directly_in_another_namespace() {
    let ns1 = TestNs::new().await;
    let ns2 = TestNs::new().await;
    let nl1 = ns1.client();
    let nl2 = ns2.client();

    // By name.
    nl1.link()
        .add(
            "a0",
            Veth::peer("b0").peer_netns(ns2.name.as_str()).peer_up(),
        )
        .up()
        .await
        .expect("veth across namespaces");
    // By an open namespace fd.
    let fd: OwnedFd = std::fs::File::open(format!("/run/netns/{}", ns2.name))
        .expect("open netns")
        .into();
    nl1.link()
        .add("a1", Veth::peer("b1").peer_netns(fd).peer_mtu(1400))
        .await
        .expect("veth across namespaces by fd");

    // Both ends of the first pair are up: let their state settle first.
    wait_operstate(&nl1, "a0", OperState::Up).await;
    wait_operstate(&nl2, "b0", OperState::Up).await;
    for (a, b) in [("a0", "b0"), ("a1", "b1")] {
        assert!(!ip_has(&ns1, b), "{b} must not be in the first namespace");
        assert!(!ip_has(&ns2, a), "{a} must not be in the second namespace");
        let e = nl1.link().get(b).await.unwrap_err();
        assert!(e.is_not_found(), "{e}");
        let (la, ipa) = both(&ns1, &nl1, a).await;
        let (lb, ipb) = both(&ns2, &nl2, b).await;
        assert_eq!(la.link(), Some(lb.index()));
        assert_eq!(lb.link(), Some(la.index()));
        let id_a = la.netnsid().expect("a: link-netnsid");
        let id_b = lb.netnsid().expect("b: link-netnsid");
        assert_eq!(ipa["link_netnsid"].as_i64(), Some(id_a.into()));
        assert_eq!(ipb["link_netnsid"].as_i64(), Some(id_b.into()));
        // The ids name the other namespace (`ip netns list-id`).
        let ids = ns1.ip_json(&["netns", "list-id"]);
        assert!(
            ids.as_array()
                .unwrap()
                .iter()
                .any(|e| e["nsid"].as_i64() == Some(id_a.into()) && e["name"] == ns2.name.as_str()),
            "{ids}"
        );
    }
    assert!(nl2.link().get("b0").await.unwrap().is_up());
    assert_eq!(nl2.link().get("b1").await.unwrap().mtu(), Some(1400));
    let b1 = nl2.link().get("b1").await.unwrap();
    assert!(!b1.is_up());
    assert_eq!(b1.operstate(), OperState::Down);
}

#[tokio::test]
async fn add_bridge_with_parameters() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add(
            "br0",
            Bridge::new()
                .stp(true)
                .forward_delay(1000)
                .ageing_time(20000)
                .multicast_snooping(false)
                .priority(100),
        )
        .mtu(1400)
        .await
        .expect("add bridge");
    nl.link()
        .add("br1", Bridge::new())
        .await
        .expect("plain bridge");

    let (br0, ip) = both(&ns, &nl, "br0").await;
    assert_eq!(br0.kind(), Some("bridge"));
    assert_eq!(br0.mtu(), Some(1400));
    let d = bridge_data(&br0);
    assert_eq!(
        find!(d, InfoBridge::StpState),
        Some(BridgeStpState::KernelStp)
    );
    assert_eq!(find!(d, InfoBridge::ForwardDelay), Some(1000));
    assert_eq!(find!(d, InfoBridge::AgeingTime), Some(20000));
    assert_eq!(find!(d, InfoBridge::MulticastSnooping), Some(false));
    assert_eq!(find!(d, InfoBridge::Priority), Some(100));
    let data = &ip["linkinfo"]["info_data"];
    assert_eq!(data["stp_state"], 1);
    assert_eq!(data["forward_delay"], 1000);
    assert_eq!(data["ageing_time"], 20000);
    assert_eq!(data["mcast_snooping"], 0);
    assert_eq!(data["priority"], 100);

    // The defaults, as both read them.
    let (br1, ip) = both(&ns, &nl, "br1").await;
    let d = bridge_data(&br1);
    let data = &ip["linkinfo"]["info_data"];
    assert_eq!(
        find!(d, InfoBridge::StpState),
        Some(BridgeStpState::Disabled)
    );
    assert_eq!(data["stp_state"], 0);
    assert_eq!(find!(d, InfoBridge::ForwardDelay), Some(1500));
    assert_eq!(data["forward_delay"], 1500);
    assert_eq!(find!(d, InfoBridge::AgeingTime), Some(30000));
    assert_eq!(data["ageing_time"], 30000);
    assert_eq!(find!(d, InfoBridge::MulticastSnooping), Some(true));
    assert_eq!(data["mcast_snooping"], 1);
    assert_eq!(find!(d, InfoBridge::Priority), Some(32768));
    assert_eq!(data["priority"], 32768);
    assert_eq!(
        find!(d, InfoBridge::VlanFiltering).map(u8::from),
        data["vlan_filtering"].as_u64().map(|v| v as u8)
    );
}

// Bridge VLAN filtering is tested in the VM lane (tests/vm_lane/routes.rs):
// the host kernel lacks CONFIG_BRIDGE_VLAN_FILTERING.

#[tokio::test]
async fn add_macvlan_and_macvtap_modes() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let v0 = nl.link().get("v0").await.unwrap().index();

    nl.link()
        .add("mv0", Macvlan::new("v0").mode(MacvlanMode::Bridge))
        .await
        .expect("macvlan bridge");
    nl.link()
        .add("mv1", Macvlan::new(v0).mode("private".parse().unwrap()))
        .mtu(1400)
        .await
        .expect("macvlan private by index");
    nl.link()
        .add("mvt0", Macvtap::new("v0").mode(MacvlanMode::Vepa))
        .await
        .expect("macvtap vepa");

    for (name, kind, mode, ip_mode) in [
        ("mv0", "macvlan", MacVlanMode::Bridge, "bridge"),
        ("mv1", "macvlan", MacVlanMode::Private, "private"),
        ("mvt0", "macvtap", MacVlanMode::Vepa, "vepa"),
    ] {
        let (l, ip) = both(&ns, &nl, name).await;
        assert_eq!(l.kind(), Some(kind));
        assert_eq!(l.link(), Some(v0), "{name}");
        assert_eq!(ip["link"], "v0");
        let got = match l.info_data() {
            Some(InfoData::MacVlan(d)) => find!(d, InfoMacVlan::Mode),
            Some(InfoData::MacVtap(d)) => find!(d, InfoMacVtap::Mode),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(got, Some(mode), "{name}");
        assert_eq!(ip["linkinfo"]["info_data"]["mode"], ip_mode, "{name}");
    }
    assert_eq!(nl.link().get("mv1").await.unwrap().mtu(), Some(1400));
    let bad = "passthrough".parse::<MacvlanMode>().unwrap_err();
    assert_invalid(&bad, "mode");
}

#[tokio::test]
async fn add_vxlan_with_parameters() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let v0 = nl.link().get("v0").await.unwrap().index();

    nl.link()
        .add(
            "vx0",
            Vxlan::new(42)
                .remote(IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1)))
                .local(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
                .dstport(4789)
                .ttl(10)
                .tos(0x10)
                .learning(false)
                .port_range(1000, 2000),
        )
        .await
        .expect("vxlan unicast");
    nl.link()
        .add(
            "vx1",
            Vxlan::new((1 << 24) - 1)
                .group(IpAddr::V4(Ipv4Addr::new(239, 1, 1, 1)))
                .dev("v0")
                .dstport(8472)
                .gbp(),
        )
        .await
        .expect("vxlan multicast");

    let (vx0, ip) = both(&ns, &nl, "vx0").await;
    assert_eq!(vx0.kind(), Some("vxlan"));
    let d = vxlan_data(&vx0);
    let data = &ip["linkinfo"]["info_data"];
    assert_eq!(find!(d, InfoVxlan::Id), Some(42));
    assert_eq!(data["id"], 42);
    assert_eq!(find!(d, InfoVxlan::Group), Some(Ipv4Addr::new(10, 1, 1, 1)));
    assert_eq!(data["remote"], "10.1.1.1");
    assert_eq!(find!(d, InfoVxlan::Local), Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(data["local"], "10.0.0.1");
    assert_eq!(find!(d, InfoVxlan::Port), Some(4789));
    assert_eq!(data["port"], 4789);
    assert_eq!(find!(d, InfoVxlan::Ttl), Some(10));
    assert_eq!(data["ttl"], 10);
    assert_eq!(find!(d, InfoVxlan::Tos), Some(0x10));
    assert_eq!(data["tos"], "0x10");
    assert_eq!(find!(d, InfoVxlan::Learning), Some(false));
    assert_eq!(data["learning"], false);
    assert_eq!(find!(d, InfoVxlan::PortRange), Some((1000, 2000)));
    assert_eq!(data["port_range"]["low"], 1000);
    assert_eq!(data["port_range"]["high"], 2000);
    assert!(!d.contains(&InfoVxlan::Gbp));
    assert!(data.get("gbp").is_none());

    let (vx1, ip) = both(&ns, &nl, "vx1").await;
    let d = vxlan_data(&vx1);
    let data = &ip["linkinfo"]["info_data"];
    assert_eq!(find!(d, InfoVxlan::Id), Some(16_777_215));
    assert_eq!(data["id"], 16_777_215);
    assert_eq!(
        find!(d, InfoVxlan::Group),
        Some(Ipv4Addr::new(239, 1, 1, 1))
    );
    assert_eq!(data["group"], "239.1.1.1");
    assert_eq!(find!(d, InfoVxlan::Link), Some(v0));
    assert_eq!(data["link"], "v0");
    assert_eq!(find!(d, InfoVxlan::Port), Some(8472));
    assert_eq!(data["port"], 8472);
    assert_eq!(find!(d, InfoVxlan::Learning), Some(true));
    assert_eq!(data["learning"], true);
    assert!(d.contains(&InfoVxlan::Gbp));
    assert_eq!(data["gbp"], true);
}

#[tokio::test]
async fn add_applies_the_common_settings() {
    let ns1 = TestNs::new().await;
    let ns2 = TestNs::new().await;
    let nl = ns1.client();
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    nl.link()
        .add("v0", Veth::peer("v1"))
        .mtu(1400)
        .group(9)
        .gso_max_size(30000)
        .gro_max_size(31000)
        .promisc(true)
        .allmulti(true)
        .arp(false)
        .master("br0")
        .await
        .expect("add with settings");
    let br0 = nl.link().get("br0").await.unwrap().index();
    let (l, ip) = both(&ns1, &nl, "v0").await;
    assert_eq!(l.mtu(), Some(1400));
    assert_eq!(ip["mtu"], 1400);
    assert_eq!(l.group(), Some(9));
    assert_eq!(ip["group"], "9");
    assert_eq!(l.gso_max_size(), Some(30000));
    assert_eq!(ip["gso_max_size"], 30000);
    assert_eq!(l.gro_max_size(), Some(31000));
    assert_eq!(ip["gro_max_size"], 31000);
    let flags = json_flags(&ip);
    for f in ["PROMISC", "ALLMULTI", "NOARP"] {
        assert!(flags.contains(f), "{f}: {flags:?}");
    }
    assert_eq!(l.master(), Some(br0));
    assert_eq!(ip["master"], "br0");

    // Created straight into another namespace; the peer stays here.
    nl.link()
        .add("m0", Veth::peer("m1"))
        .netns(ns2.name.as_str())
        .await
        .expect("add into another namespace");
    assert!(!ip_has(&ns1, "m0"));
    let (m0, _) = both(&ns2, &ns2.client(), "m0").await;
    let (m1, _) = both(&ns1, &nl, "m1").await;
    assert_eq!(m0.link(), Some(m1.index()));
    assert!(m0.netnsid().is_some() && m1.netnsid().is_some());
}

#[tokio::test]
async fn add_ifb_up() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add("ifb0", Ifb)
        .up()
        .txqlen(64)
        .group(3)
        .await
        .expect("add ifb");
    let l = wait_for(&nl, "ifb0", "running", |l| {
        l.flags().bits() & IFF_RUNNING != 0
    })
    .await;
    assert!(l.is_up());
    let (l, ip) = both(&ns, &nl, "ifb0").await;
    assert_eq!(l.kind(), Some("ifb"));
    assert_eq!(ip["linkinfo"]["info_kind"], "ifb");
    assert_eq!(l.txqlen(), Some(64));
    assert_eq!(l.group(), Some(3));
    assert_eq!(ip["group"], "3");
    assert!(json_flags(&ip).contains("UP"));
}

#[tokio::test]
async fn add_tap_multi_queue_with_owner_and_group() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let fds = nl
        .link()
        .add_tuntap(
            "tap0",
            TunTap::tap()
                .owner(4242)
                .group(4343)
                .persist(true)
                .multi_queue(3),
        )
        .mtu(1400)
        .await
        .expect("add tap");
    assert_eq!(fds.len(), 3);

    let (l, ip) = both(&ns, &nl, "tap0").await;
    assert_eq!(l.kind(), Some("tun"));
    assert_eq!(l.mtu(), Some(1400));
    assert_eq!(l.link_type(), 1);
    assert!(l.mac().is_some());
    let d = tun_data(&l);
    let data = &ip["linkinfo"]["info_data"];
    // IFLA_TUN_OWNER 1, GROUP 2, TYPE 3, PI 4, VNET_HDR 5, PERSIST 6,
    // MULTI_QUEUE 7, NUM_QUEUES 8.
    assert_eq!(tun_u32(&d, 1), 4242);
    assert_id(&data["user"], 4242, "passwd");
    assert_eq!(tun_u32(&d, 2), 4343);
    assert_id(&data["group"], 4343, "group");
    assert_eq!(tun_u8(&d, 3), 2, "IFF_TAP");
    assert_eq!(data["type"], "tap");
    assert_eq!(tun_u8(&d, 4), 0);
    assert_eq!(data["pi"], false);
    assert_eq!(tun_u8(&d, 5), 0);
    assert_eq!(data["vnet_hdr"], false);
    assert_eq!(tun_u8(&d, 6), 1);
    assert_eq!(data["persist"], true);
    assert_eq!(tun_u8(&d, 7), 1);
    assert_eq!(data["multi_queue"], true);
    assert_eq!(tun_u32(&d, 8), 3);
    assert_eq!(data["numqueues"], 3);
    // The typed view reads the same bytes.
    let t = l.tun().expect("a tun/tap link");
    assert_eq!((t.owner(), t.group()), (Some(4242), Some(4343)));
    assert_eq!(t.mode(), Some(TunTapMode::Tap));
    assert_eq!((t.pi(), t.vnet_hdr()), (Some(false), Some(false)));
    assert_eq!((t.persist(), t.multi_queue()), (Some(true), Some(true)));
    assert_eq!(t.num_queues(), Some(3));
    assert_eq!(t.num_disabled_queues(), Some(0));
    assert!(nl.link().get("lo").await.unwrap().tun().is_none());

    // Persistent: the device outlives its queues. (A queue detaches when
    // its last file reference goes, which a concurrent fork in this test
    // process may briefly hold: wait for it.)
    drop(fds);
    wait_for(&nl, "tap0", "queueless", |l| tun_u32(&tun_data(l), 8) == 0).await;
    let (l, ip) = both(&ns, &nl, "tap0").await;
    assert_eq!(tun_u32(&tun_data(&l), 8), 0);
    assert_eq!(ip["linkinfo"]["info_data"]["numqueues"], 0);
}

#[tokio::test]
async fn add_tun_not_persistent_lives_with_its_fd() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let fds = nl
        .link()
        .add_tuntap("tun0", TunTap::tun().persist(false))
        .up()
        .await
        .expect("add tun");
    assert_eq!(fds.len(), 1);
    wait_for(&nl, "tun0", "running", |l| {
        l.flags().bits() & IFF_RUNNING != 0
    })
    .await;
    let (l, ip) = both(&ns, &nl, "tun0").await;
    assert_eq!(l.kind(), Some("tun"));
    assert_eq!(l.link_type(), 65534);
    assert_eq!(l.address(), None);
    assert!(l.is_up());
    let d = tun_data(&l);
    let data = &ip["linkinfo"]["info_data"];
    assert_eq!(tun_u8(&d, 3), 1, "IFF_TUN");
    assert_eq!(data["type"], "tun");
    assert_eq!(tun_u8(&d, 6), 0);
    assert_eq!(data["persist"], false);
    assert_eq!(tun_u8(&d, 7), 0);
    assert_eq!(data["multi_queue"], false);
    assert!(!d.contains_key(&1), "no owner set");
    assert!(data.get("user").is_none());

    drop(fds);
    for _ in 0..250 {
        match nl.link().get("tun0").await {
            Err(e) if e.is_not_found() => {
                assert!(!ip_has(&ns, "tun0"));
                return;
            }
            Err(e) => panic!("{e}"),
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("tun0 outlived its only fd");
}

// -------------------------------------------------------------------- set

#[tokio::test]
async fn set_up_and_down() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let (v0, ip) = both(&ns, &nl, "v0").await;
    assert!(!v0.is_up());
    assert_eq!(ip["operstate"], "DOWN");

    nl.link().set("v0").up().await.expect("v0 up");
    let l = wait_operstate(&nl, "v0", OperState::LowerLayerDown).await;
    assert!(l.is_up());
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert!(json_flags(&ip).contains("NO-CARRIER"));
    // Our names are ip's.
    assert_eq!(l.operstate().name(), ip["operstate"].as_str());
    assert_eq!(l.operstate().name(), Some("LOWERLAYERDOWN"));

    let v1 = nl.link().get("v1").await.unwrap().index();
    nl.link().set(v1).up().await.expect("v1 up by index");
    wait_operstate(&nl, "v0", OperState::Up).await;
    wait_operstate(&nl, "v1", OperState::Up).await;
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert!(json_flags(&ip).is_superset(&BTreeSet::from(["UP".into(), "LOWER_UP".into()])));
    assert_eq!(l.operstate().name(), ip["operstate"].as_str());
    let lo = nl.link().get("lo").await.unwrap();
    let ip_lo = ns.ip_json(&["link", "show", "lo"]);
    assert_eq!(lo.operstate().name(), ip_lo[0]["operstate"].as_str());
    both(&ns, &nl, "v1").await;

    nl.link().set("v1").down().await.expect("v1 down");
    wait_operstate(&nl, "v0", OperState::LowerLayerDown).await;
    wait_operstate(&nl, "v1", OperState::Down).await;
    let (v1, ip) = both(&ns, &nl, "v1").await;
    assert!(!v1.is_up());
    assert!(!json_flags(&ip).contains("UP"));
    both(&ns, &nl, "v0").await;
}

#[tokio::test]
async fn set_mtu() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link().set("v0").mtu(9000).await.expect("mtu");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.mtu(), Some(9000));
    assert_eq!(ip["mtu"], 9000);
    let max = l.mtu_range().unwrap().1;
    nl.link().set("v0").mtu(max).await.expect("max mtu");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.mtu(), Some(max));
    assert_eq!(ip["mtu"].as_u64(), Some(max.into()));
}

#[tokio::test]
async fn set_name() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let index = nl.link().get("v0").await.unwrap().index();
    nl.link().set("v0").name("uplink0").await.expect("rename");
    let e = nl.link().get("v0").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(!ip_has(&ns, "v0"));
    let (l, ip) = both(&ns, &nl, "uplink0").await;
    assert_eq!(l.index(), index);
    assert_eq!(ip["ifindex"].as_u64(), Some(index.into()));
    // The peer now names the renamed end.
    let (_, ip1) = both(&ns, &nl, "v1").await;
    assert_eq!(ip1["link"], "uplink0");
    // By index, to a 15-byte name.
    nl.link()
        .set(index)
        .name("exactly15bytes_")
        .await
        .expect("rename");
    let (l, _) = both(&ns, &nl, "exactly15bytes_").await;
    assert_eq!(l.index(), index);
}

#[tokio::test]
async fn set_address() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let mac = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    nl.link().set("v0").address(mac).await.expect("address");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.mac(), Some(mac));
    assert_eq!(ip["address"], "02:11:22:33:44:55");

    nl.link()
        .set("v0")
        .address_str("02:AA:bb:0c:0D:e")
        .await
        .expect("address from text");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.mac(), Some(MacAddr([0x02, 0xaa, 0xbb, 0x0c, 0x0d, 0x0e])));
    assert_eq!(ip["address"], "02:aa:bb:0c:0d:0e");
    assert_eq!(l.mac().unwrap().to_string(), "02:aa:bb:0c:0d:0e");
}

#[tokio::test]
async fn set_alias_and_txqlen() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link()
        .set("v0")
        .alias("to rack 3, port 12")
        .txqlen(77)
        .await
        .expect("alias and txqlen");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.alias(), Some("to rack 3, port 12"));
    assert_eq!(ip["ifalias"], "to rack 3, port 12");
    assert_eq!(l.txqlen(), Some(77));
    assert_eq!(ip["txqlen"], 77);

    // An empty alias removes it.
    nl.link()
        .set("v0")
        .alias("")
        .txqlen(0)
        .await
        .expect("clear");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.alias(), None);
    assert!(ip.get("ifalias").is_none());
    assert_eq!(l.txqlen(), Some(0));
    assert!(ip.get("txqlen").is_none());
}

#[tokio::test]
async fn set_master_and_nomaster() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    veth(&nl, "v0", "v1").await;
    let br0 = nl.link().get("br0").await.unwrap().index();

    nl.link()
        .set("v0")
        .master("br0")
        .await
        .expect("master by name");
    nl.link()
        .set("v1")
        .master(br0)
        .await
        .expect("master by index");
    for port in ["v0", "v1"] {
        let (l, ip) = both(&ns, &nl, port).await;
        assert_eq!(l.master(), Some(br0), "{port}");
        assert_eq!(ip["master"], "br0");
        assert_eq!(l.port_kind(), Some("bridge"));
        assert_eq!(ip["linkinfo"]["info_slave_kind"], "bridge");
        assert!(l.port_data().is_some());
    }
    assert_eq!(
        lib_names(&nl.link().list().master("br0").await.unwrap()),
        ip_names(&ns, &["master", "br0"])
    );

    nl.link().set("v0").nomaster().await.expect("nomaster");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.master(), None);
    assert!(ip.get("master").is_none());
    assert_eq!(l.port_kind(), None);
    assert!(ip["linkinfo"].get("info_slave_kind").is_none());
    let ports = nl.link().list().master("br0").await.unwrap();
    assert_eq!(lib_names(&ports), ip_names(&ns, &["master", "br0"]));
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].name(), "v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_netns_by_name_fd_and_pid() {
    let ns1 = TestNs::new().await;
    let ns2 = TestNs::new().await;
    let nl1 = ns1.client();
    let nl2 = ns2.client();
    veth(&nl1, "n0", "p0").await;
    veth(&nl1, "f0", "p1").await;
    veth(&nl1, "d0", "p2").await;

    // By name.
    nl1.link()
        .set("n0")
        .netns(ns2.name.as_str())
        .await
        .expect("netns by name");
    // By fd.
    let fd: OwnedFd = std::fs::File::open(format!("/run/netns/{}", ns2.name))
        .expect("open netns")
        .into();
    nl1.link().set("f0").netns(fd).await.expect("netns by fd");
    // By the pid of a process living in the namespace.
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns2.name, "sleep", "60"])
        .spawn()
        .expect("spawn sleep in the namespace");
    let pid = child.id();
    let mut entered = false;
    for _ in 0..250 {
        if same_netns(pid, &ns2) {
            entered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let moved = if entered {
        nl1.link().set("d0").netns(NetnsTarget::Pid(pid)).await
    } else {
        Ok(())
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(entered, "the sleep child never entered {}", ns2.name);
    moved.expect("netns by pid");

    for (moved, peer) in [("n0", "p0"), ("f0", "p1"), ("d0", "p2")] {
        let e = nl1.link().get(moved).await.unwrap_err();
        assert!(e.is_not_found(), "{moved}: {e}");
        assert!(!ip_has(&ns1, moved));
        let (l, ip) = both(&ns2, &nl2, moved).await;
        let (p, _) = both(&ns1, &nl1, peer).await;
        assert_eq!(l.link(), Some(p.index()));
        assert!(l.netnsid().is_some());
        assert_eq!(
            ip["link_netnsid"].as_i64(),
            l.netnsid().map(i64::from),
            "{moved}"
        );
        assert!(p.netnsid().is_some());
    }
    assert_eq!(
        lib_names(&nl2.link().list().kind("veth").await.unwrap()),
        ip_names(&ns2, &["type", "veth"])
    );
}

#[tokio::test]
async fn set_promisc_allmulti_arp() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link()
        .set("v0")
        .promisc(true)
        .allmulti(true)
        .arp(false)
        .await
        .expect("flags on");
    let (l, ip) = both(&ns, &nl, "v0").await;
    let flags = json_flags(&ip);
    for f in ["PROMISC", "ALLMULTI", "NOARP"] {
        assert!(flags.contains(f), "{f}: {flags:?}");
    }
    assert_eq!(l.promiscuity(), Some(1));
    assert_eq!(ip["promiscuity"], 1);
    assert_eq!(l.allmulti(), Some(1));
    assert_eq!(ip["allmulti"], 1);

    nl.link()
        .set("v0")
        .promisc(false)
        .await
        .expect("promisc off");
    nl.link()
        .set("v0")
        .allmulti(false)
        .await
        .expect("allmulti off");
    nl.link().set("v0").arp(true).await.expect("arp on");
    let (l, ip) = both(&ns, &nl, "v0").await;
    let flags = json_flags(&ip);
    for f in ["PROMISC", "ALLMULTI", "NOARP"] {
        assert!(!flags.contains(f), "{f}: {flags:?}");
    }
    assert_eq!(l.promiscuity(), Some(0));
    assert_eq!(l.allmulti(), Some(0));
    // Other flags are left alone.
    assert!(flags.contains("BROADCAST") && flags.contains("MULTICAST"));
}

#[tokio::test]
async fn set_group() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link().set("v0").group(7).await.expect("group");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.group(), Some(7));
    assert_eq!(ip["group"], "7");
    assert_eq!(
        ip_names(&ns, &["group", "7"]),
        vec![(l.index(), "v0".to_owned())]
    );
    nl.link().set("v0").group(0).await.expect("default group");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.group(), Some(0));
    assert_eq!(ip["group"], "default");
}

#[tokio::test]
async fn set_gso_and_gro_max_size() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link()
        .set("v0")
        .gso_max_size(32768)
        .gro_max_size(32000)
        .await
        .expect("gso/gro");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.gso_max_size(), Some(32768));
    assert_eq!(ip["gso_max_size"], 32768);
    assert_eq!(l.gro_max_size(), Some(32000));
    assert_eq!(ip["gro_max_size"], 32000);

    let e = nl
        .link()
        .set("v0")
        .gso_max_size(u32::MAX)
        .await
        .unwrap_err();
    eprintln!("gso_max_size too big: {e}");
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(!e.kernel_message().unwrap_or("").is_empty(), "{e}");
    assert_eq!(
        nl.link().get("v0").await.unwrap().gso_max_size(),
        Some(32768)
    );
}

#[tokio::test]
async fn altnames_add_get_del() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let index = nl.link().get("v0").await.unwrap().index();
    let long = "a-long-alternative-name-for-v0";
    nl.link()
        .set("v0")
        .add_altname("alt0")
        .add_altname(long)
        .await
        .expect("add altnames");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.altnames(), vec!["alt0", long]);
    assert_eq!(ip["altnames"], serde_json::json!(["alt0", long]));

    // Any altname names the device.
    for alt in ["alt0", long] {
        let by_alt = nl
            .link()
            .get(alt)
            .await
            .unwrap_or_else(|e| panic!("get {alt}: {e}"));
        assert_eq!(by_alt.index(), index, "{alt}");
        assert_eq!(by_alt.name(), "v0");
        assert_eq!(ip_link(&ns, alt)["ifindex"].as_u64(), Some(index.into()));
    }
    nl.link()
        .set("alt0")
        .mtu(1400)
        .await
        .expect("set by altname");
    assert_eq!(nl.link().get("v0").await.unwrap().mtu(), Some(1400));

    let dup = nl.link().set("v1").add_altname("alt0").await.unwrap_err();
    assert!(dup.is_exists(), "{dup}");

    nl.link()
        .set(index)
        .del_altname("alt0")
        .await
        .expect("del altname");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.altnames(), vec![long]);
    assert_eq!(ip["altnames"], serde_json::json!([long]));
    let e = nl.link().get("alt0").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = nl.link().set("v0").del_altname("alt0").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");

    let e = nl.link().set("v0").add_altname("").await.unwrap_err();
    assert_invalid(&e, "altname");
}

#[tokio::test]
async fn bridge_port_settings() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    nl.link()
        .add("v0", Veth::peer("v1"))
        .master("br0")
        .await
        .expect("port");

    // Kernel defaults first.
    let (l, ip) = both(&ns, &nl, "v0").await;
    let d = bridge_port_data(&l);
    let sd = &ip["linkinfo"]["info_slave_data"];
    assert_eq!(find!(d, InfoBridgePort::Learning), Some(true));
    assert_eq!(sd["learning"], true);
    assert_eq!(find!(d, InfoBridgePort::UnicastFlood), Some(true));
    assert_eq!(sd["flood"], true);

    nl.link()
        .set("v0")
        .bridge_port(
            BridgePort::new()
                .learning(false)
                .flood(false)
                .hairpin(true)
                .guard(true)
                .fast_leave(true)
                .cost(33)
                .priority(7),
        )
        .await
        .expect("bridge port settings");
    let (l, ip) = both(&ns, &nl, "v0").await;
    let d = bridge_port_data(&l);
    let sd = &ip["linkinfo"]["info_slave_data"];
    assert_eq!(find!(d, InfoBridgePort::Learning), Some(false));
    assert_eq!(sd["learning"], false);
    assert_eq!(find!(d, InfoBridgePort::UnicastFlood), Some(false));
    assert_eq!(sd["flood"], false);
    assert_eq!(find!(d, InfoBridgePort::HairpinMode), Some(true));
    assert_eq!(sd["hairpin"], true);
    assert_eq!(find!(d, InfoBridgePort::Guard), Some(true));
    assert_eq!(sd["guard"], true);
    assert_eq!(find!(d, InfoBridgePort::FastLeave), Some(true));
    assert_eq!(sd["fastleave"], true);
    assert_eq!(find!(d, InfoBridgePort::Cost), Some(33));
    assert_eq!(sd["cost"], 33);
    assert_eq!(find!(d, InfoBridgePort::Priority), Some(7));
    assert_eq!(sd["priority"], 7);

    // Back, together with a plain link change in the same request.
    nl.link()
        .set("v0")
        .bridge_port(BridgePort::new().learning(true).hairpin(false))
        .mtu(1400)
        .await
        .expect("bridge port back");
    let (l, ip) = both(&ns, &nl, "v0").await;
    let d = bridge_port_data(&l);
    let sd = &ip["linkinfo"]["info_slave_data"];
    assert_eq!(l.mtu(), Some(1400));
    assert_eq!(find!(d, InfoBridgePort::Learning), Some(true));
    assert_eq!(sd["learning"], true);
    assert_eq!(find!(d, InfoBridgePort::HairpinMode), Some(false));
    assert_eq!(sd["hairpin"], false);
    assert_eq!(find!(d, InfoBridgePort::Guard), Some(true), "unchanged");
    assert_eq!(sd["guard"], true);
}

// -------------------------------------------------------------------- del

#[tokio::test]
async fn del_by_name_and_by_index() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link().add("br0", Bridge::new()).await.expect("bridge");

    nl.link().del("v0").await.expect("del veth");
    for gone in ["v0", "v1"] {
        let e = nl.link().get(gone).await.unwrap_err();
        assert!(e.is_not_found(), "{gone}: {e}");
        assert!(!ip_has(&ns, gone), "{gone}");
    }
    let br0 = nl.link().get("br0").await.unwrap().index();
    nl.link().del(br0).await.expect("del bridge by index");
    assert!(!ip_has(&ns, "br0"));
    let left = nl.link().list().await.unwrap();
    assert_eq!(lib_names(&left), vec![(1, "lo".to_owned())]);
    assert_eq!(ip_names(&ns, &[]), lib_names(&left));

    let e = nl.link().del("v0").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

// -------------------------------------------------------------- bad input

#[tokio::test]
async fn invalid_names_are_refused_before_sending() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let before = ip_names(&ns, &[]);
    for bad in [
        "",
        "sixteen-bytes-xx",
        "a/b",
        "a b",
        "tab\t",
        "new\nline",
        ".",
        "..",
        "a:b",
    ] {
        let e = nl.link().add(bad, Veth::peer("ok0")).await.unwrap_err();
        assert_invalid(&e, "name");
        let e = nl.link().add("ok0", Veth::peer(bad)).await.unwrap_err();
        assert_invalid(&e, "peer name");
        let e = nl.link().set("v0").name(bad).await.unwrap_err();
        assert_invalid(&e, "name");
        let e = nl.link().add_tuntap(bad, TunTap::tap()).await.unwrap_err();
        assert_invalid(&e, "name");
    }
    for bad in ["", "a/b", "a b"] {
        let e = nl.link().get(bad).await.unwrap_err();
        assert_invalid(&e, "name");
        let e = nl.link().del(bad).await.unwrap_err();
        assert_invalid(&e, "name");
    }
    assert_eq!(ip_names(&ns, &[]), before, "nothing was created or renamed");
    both(&ns, &nl, "v0").await;
}

#[tokio::test]
async fn mtu_out_of_range_is_a_kernel_error_with_its_text() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let (min, max) = nl.link().get("v0").await.unwrap().mtu_range().unwrap();

    for mtu in [max + 1, min - 1] {
        let e = nl.link().set("v0").mtu(mtu).await.unwrap_err();
        eprintln!("mtu {mtu}: {e}");
        assert!(matches!(e.cause(), Error::Kernel(_)), "{e:?}");
        assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
        assert_eq!((e.operation(), e.object()), (Some("link set"), Some("v0")));
        let text = e.kernel_message().expect("extended ack text");
        assert!(!text.is_empty());
        assert!(
            e.to_string().starts_with("link set v0: Invalid argument: "),
            "{e}"
        );
        assert!(e.to_string().ends_with(text), "{e}");
    }
    let e = nl.link().set("v0").mtu(max + 1).await.unwrap_err();
    assert_eq!(e.kernel_message(), Some("mtu greater than device maximum"));
    let e = nl.link().set("v0").mtu(min - 1).await.unwrap_err();
    assert_eq!(e.kernel_message(), Some("mtu less than device minimum"));

    // At creation too; nothing is left behind. veth checks the MTU in its
    // own validator, which gives no text; a bridge gets the core's check.
    let e = nl
        .link()
        .add("v2", Veth::peer("v3"))
        .mtu(max + 1)
        .await
        .unwrap_err();
    eprintln!("add veth with mtu {}: {e}", max + 1);
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(!ip_has(&ns, "v2") && !ip_has(&ns, "v3"));
    let e = nl
        .link()
        .add("br0", Bridge::new())
        .mtu(max + 1)
        .await
        .unwrap_err();
    eprintln!("add bridge with mtu {}: {e}", max + 1);
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert_eq!(e.kernel_message(), Some("mtu greater than device maximum"));
    assert!(!ip_has(&ns, "br0"));

    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.mtu(), Some(1500));
    assert_eq!(ip["mtu"], 1500);
}

#[tokio::test]
async fn nonexistent_devices_are_not_found() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    let missing = 99_999u32;

    let mut errors = vec![
        ("get name", nl.link().get("nope0").await.unwrap_err()),
        ("get index", nl.link().get(missing).await.unwrap_err()),
        ("set name", nl.link().set("nope0").up().await.unwrap_err()),
        (
            "set index",
            nl.link().set(missing).mtu(1400).await.unwrap_err(),
        ),
        ("del name", nl.link().del("nope0").await.unwrap_err()),
        ("del index", nl.link().del(missing).await.unwrap_err()),
        (
            "macvlan on a missing lower device",
            nl.link()
                .add("mv0", Macvlan::new("nope0"))
                .await
                .unwrap_err(),
        ),
        (
            "macvlan on a missing lower index",
            nl.link()
                .add("mv0", Macvlan::new(missing))
                .await
                .unwrap_err(),
        ),
        (
            "missing master",
            nl.link()
                .add("v0", Veth::peer("v1"))
                .master("nope0")
                .await
                .unwrap_err(),
        ),
        (
            "vxlan on a missing dev",
            nl.link()
                .add("vx0", Vxlan::new(1).dev("nope0"))
                .await
                .unwrap_err(),
        ),
        (
            "master of a missing bridge",
            nl.link().list().master("nope0").await.unwrap_err(),
        ),
    ];
    errors.push((
        "set master to a missing device",
        nl.link().set("br0").master("nope0").await.unwrap_err(),
    ));
    for (what, e) in &errors {
        assert!(e.is_not_found(), "{what}: {e}");
        assert!(!e.is_exists(), "{what}: {e}");
    }
    assert_eq!(ip_names(&ns, &[]).len(), 2, "only lo and br0");
}

#[tokio::test]
async fn duplicate_names_already_exist() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    let before = ip_names(&ns, &[]);

    let e = nl.link().add("v0", Veth::peer("v9")).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    assert_eq!(e.errno(), Some(libc::EEXIST));
    let e = nl.link().add("v9", Veth::peer("v1")).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    let e = nl.link().add("br0", Bridge::new()).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    let e = nl.link().add("br0", Ifb).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    let e = nl.link().set("v0").name("br0").await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    let e = nl
        .link()
        .add_tuntap("br0", TunTap::tap())
        .await
        .unwrap_err();
    assert!(!matches!(e, Error::InvalidInput { .. }), "{e}");
    eprintln!("tap over an existing bridge: {e}");

    assert_eq!(ip_names(&ns, &[]), before);
}

#[tokio::test]
async fn invalid_mac_text_is_refused() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let mac = nl.link().get("v0").await.unwrap().mac();
    for bad in [
        "",
        "02:00:00",
        "02:00:00:00:00:00:00",
        "zz:00:00:00:00:00",
        "020:00:00:00:00:00",
        "02-00-00-00-00-01",
        "02:00:00:00:00:",
    ] {
        let e = nl.link().set("v0").address_str(bad).await.unwrap_err();
        assert_invalid(&e, "address");
        let e = nl
            .link()
            .add("v2", Veth::peer("v3"))
            .address_str(bad)
            .await
            .unwrap_err();
        assert_invalid(&e, "address");
        let e = bad.parse::<MacAddr>().unwrap_err();
        assert_invalid(&e, "address");
    }
    // The failed set sent nothing: even its other changes were not made.
    let e = nl
        .link()
        .set("v0")
        .mtu(1400)
        .address_str("nope")
        .await
        .unwrap_err();
    assert_invalid(&e, "address");
    let (l, _) = both(&ns, &nl, "v0").await;
    assert_eq!(l.mac(), mac);
    assert_eq!(l.mtu(), Some(1500));
    assert!(!ip_has(&ns, "v2"));
}

#[tokio::test]
async fn vxlan_bad_parameters_are_refused() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    for id in [1u32 << 24, u32::MAX] {
        let e = nl.link().add("vx0", Vxlan::new(id)).await.unwrap_err();
        assert_invalid(&e, "id");
    }
    let e = nl
        .link()
        .add(
            "vx0",
            Vxlan::new(1)
                .remote(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
                .group(IpAddr::V4(Ipv4Addr::new(239, 0, 0, 1))),
        )
        .await
        .unwrap_err();
    assert_invalid(&e, "remote");
    let e = nl
        .link()
        .add(
            "vx0",
            Vxlan::new(1).group(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        )
        .await
        .unwrap_err();
    assert_invalid(&e, "group");
    assert!(!ip_has(&ns, "vx0"));
    assert!(nl.link().list().kind("vxlan").await.unwrap().is_empty());
}

#[tokio::test]
async fn alias_given_at_creation_is_applied() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add("v0", Veth::peer("v1"))
        .alias("uplink to rack 3")
        .await
        .unwrap();
    let l = nl.link().get("v0").await.unwrap();
    assert_eq!(l.alias(), Some("uplink to rack 3"));
    let j = ns.ip_json(&["link", "show", "v0"]);
    assert_eq!(j[0]["ifalias"], "uplink to rack 3");
    let e = nl
        .link()
        .add("v2", Veth::peer("v3"))
        .alias("x")
        .netns(ns.name.as_str())
        .await
        .unwrap_err();
    assert!(
        matches!(e, tokio_netlink::Error::InvalidInput { field: "alias", .. }),
        "{e}"
    );
}

/// `bridge -d -j link show dev D` in the namespace.
fn bridge_link(ns: &TestNs, dev: &str) -> Value {
    let out = Command::new("ip")
        .args(["netns", "exec", ns.name.as_str(), "bridge", "-d", "-j"])
        .args(["link", "show", "dev", dev])
        .output()
        .expect("run bridge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("bridge JSON");
    v.as_array()
        .and_then(|a| a.first())
        .cloned()
        .expect("one port")
}

/// vishvananda/netlink's bridge-port setters: the AF_BRIDGE IFLA_PROTINFO
/// path, notified even while the port is down, read back typed from the
/// notification, from the link and by `bridge -d link`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_port_flags_on_a_down_port_are_notified_and_read_back() {
    use tokio_netlink::route::events::{Event, Group};
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.expect("bridge");
    nl.link()
        .add("p0", Veth::peer("p1"))
        .master("br0")
        .await
        .expect("port");
    let mut events = nl.events(&[Group::Link]);
    events.ready().await.unwrap();
    nl.link()
        .set("p0")
        .bridge_port(
            BridgePort::new()
                .hairpin(true)
                .root_block(true)
                .proxy_arp(true)
                .isolated(true)
                .neigh_suppress(true)
                .mcast_flood(false)
                .bcast_flood(false)
                .locked(true)
                .mab(true)
                .group_fwd_mask(0x4000)
                .cost(77),
        )
        .await
        .expect("port flags");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let ev = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("an AF_BRIDGE RTM_NEWLINK for p0 while it is down")
            .expect("stream open");
        if let Event::NewLink(l) = ev
            && l.name() == "p0"
            && l.is_bridge_port_info()
            && l.bridge_port().and_then(|p| p.hairpin()) == Some(true)
        {
            break l;
        }
    };
    assert!(!seen.is_up());
    let p = seen.bridge_port().unwrap();
    assert_eq!(p.root_block(), Some(true));
    assert_eq!(p.isolated(), Some(true));
    assert_eq!(p.cost(), Some(77));

    // The same from the link itself (IFLA_INFO_SLAVE_DATA) and from bridge.
    let l = nl.link().get("p0").await.unwrap();
    let p = l.bridge_port().expect("a bridge port");
    let b = bridge_link(&ns, "p0");
    let want = [
        ("hairpin", p.hairpin(), true),
        ("root_block", p.root_block(), true),
        ("proxy_arp", p.proxy_arp(), true),
        ("isolated", p.isolated(), true),
        ("neigh_suppress", p.neigh_suppress(), true),
        ("mcast_flood", p.mcast_flood(), false),
        ("bcast_flood", p.bcast_flood(), false),
        ("locked", p.locked(), true),
        ("mab", p.mab(), true),
        ("learning", p.learning(), true),
    ];
    let (_, ip) = both(&ns, &nl, "p0").await;
    let sd = &ip["linkinfo"]["info_slave_data"];
    for (name, ours, expect) in want {
        assert_eq!(ours, Some(expect), "{name}");
        // Older bridge(8) prints fewer flags; ip -d prints them all.
        if !b[name].is_null() {
            assert_eq!(b[name], expect, "bridge's {name}: {b}");
        }
        // iproute2 6.1 knows no `mab` (6.2+); the kernel's byte is what
        // our accessor reads.
        if name != "mab" || !sd[name].is_null() {
            assert_eq!(sd[name], expect, "ip's {name}: {sd}");
        }
    }
    assert_eq!(sd["group_fwd_mask"], "0x4000");
    assert_eq!(p.cost(), Some(77));
    assert_eq!(b["cost"], 77);
    assert_eq!(p.group_fwd_mask(), Some(0x4000));
    assert_eq!(p.state_name(), Some("disabled"));
    assert_eq!(b["state"], "disabled");
    // A plain link is no bridge port.
    assert!(nl.link().get("br0").await.unwrap().bridge_port().is_none());

    // The kernel's refusal carries its reason: MAB without locked.
    let e = nl
        .link()
        .set("p0")
        .bridge_port(BridgePort::new().locked(false))
        .await
        .unwrap_err();
    assert!(e.kernel_message().is_some() || e.errno().is_some(), "{e}");
    // Not a port at all.
    let e = nl
        .link()
        .set("p1")
        .bridge_port(BridgePort::new().hairpin(true))
        .await
        .unwrap_err();
    assert!(e.errno().is_some(), "{e}");
}

/// The veth peer's own settings at creation, as `ip -d` reads them back;
/// nothing is copied from the link itself.
#[tokio::test]
async fn veth_peer_txqlen_queues_and_group() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add(
            "v0",
            Veth::peer("v1")
                .peer_txqlen(500)
                .peer_queues(4, 3)
                .peer_group(7),
        )
        .mtu(1400)
        .await
        .expect("veth");
    let (v1, ip) = both(&ns, &nl, "v1").await;
    assert_eq!(v1.txqlen(), Some(500));
    assert_eq!(ip["txqlen"], 500);
    assert_eq!(v1.queues(), Some((4, 3)));
    let d = &ns.ip_json(&["-d", "link", "show", "v1"])[0];
    assert_eq!(
        (d["num_tx_queues"].as_u64(), d["num_rx_queues"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(v1.group(), Some(7));
    assert_eq!(ip["group"], "7");
    // The link's MTU is its own: the peer keeps the default.
    assert_eq!(v1.mtu(), Some(1500));
    let e = nl
        .link()
        .add("v2", Veth::peer("v3").peer_queues(0, 1))
        .await
        .unwrap_err();
    assert_invalid(&e, "peer numtxqueues");
}

/// Read-only offload limits, as `ip -d -j` shows them.
#[tokio::test]
async fn tso_and_ipv4_gso_gro_limits_read_back() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let l = nl.link().get("v0").await.unwrap();
    let d = &ns.ip_json(&["-d", "link", "show", "v0"])[0];
    for (name, ours) in [
        ("tso_max_size", l.tso_max_size()),
        ("tso_max_segs", l.tso_max_segs()),
        ("gso_max_size", l.gso_max_size()),
        ("gro_max_size", l.gro_max_size()),
        ("gso_ipv4_max_size", l.gso_ipv4_max_size()),
        ("gro_ipv4_max_size", l.gro_ipv4_max_size()),
    ] {
        let ours = ours.unwrap_or_else(|| panic!("{name} missing (kernel 6.3+)"));
        // iproute2 6.1 prints the older ones only.
        if let Some(theirs) = d[name].as_u64() {
            assert_eq!(u64::from(ours), theirs, "{name}");
        }
        assert!(ours > 0, "{name}");
    }
}

/// `multi_queue(1)` is a multi-queue device with one queue, not a plain
/// one (it used to be silently single-queue).
#[tokio::test]
async fn multi_queue_of_one_is_still_multi_queue() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let fds = nl
        .link()
        .add_tuntap("tap1", TunTap::tap().multi_queue(1))
        .await
        .expect("add tap");
    assert_eq!(fds.len(), 1);
    let (l, ip) = both(&ns, &nl, "tap1").await;
    let t = l.tun().unwrap();
    assert_eq!(t.multi_queue(), Some(true));
    assert_eq!(t.num_queues(), Some(1));
    assert_eq!(ip["linkinfo"]["info_data"]["multi_queue"], true);
    let plain = nl
        .link()
        .add_tuntap("tap2", TunTap::tap())
        .await
        .expect("add tap");
    assert_eq!(plain.len(), 1);
    let l = nl.link().get("tap2").await.unwrap();
    assert_eq!(l.tun().unwrap().multi_queue(), Some(false));
    let e = nl
        .link()
        .add_tuntap("tap3", TunTap::tap().multi_queue(0))
        .await
        .unwrap_err();
    assert_invalid(&e, "multi_queue");
}

/// vishvananda/netlink's LinkAdd with Index and LinkByAlias.
#[tokio::test]
async fn fixed_index_at_creation_and_lookup_by_alias() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add("v0", Veth::peer("v1"))
        .index(4242)
        .alias("uplink")
        .await
        .expect("veth at 4242");
    let (l, ip) = both(&ns, &nl, "v0").await;
    assert_eq!(l.index(), 4242);
    assert_eq!(ip["ifindex"], 4242);
    let found = nl.link().by_alias("uplink").await.unwrap().expect("found");
    assert_eq!(found.index(), 4242);
    assert!(nl.link().by_alias("nosuch").await.unwrap().is_none());
    // Taken, and 0.
    let e = nl
        .link()
        .add("v2", Veth::peer("v3"))
        .index(4242)
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
    let e = nl
        .link()
        .add("v4", Veth::peer("v5"))
        .index(0)
        .await
        .unwrap_err();
    assert_invalid(&e, "index");
}

/// Counts the library's "dump interrupted, retrying" events (they carry an
/// `attempt` field): the observable of the retry path.
struct RetryCounter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::Subscriber for RetryCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        if e.fields().any(|f| f.name() == "attempt") {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A link listing the kernel marks interrupted (links come and go during
/// the dump) is dumped again, like the other listings: under churn the
/// awaited listing still succeeds, and the retry is seen to happen.
#[tokio::test]
async fn link_listings_retry_a_dump_interrupted_by_link_changes() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut batch = String::new();
    for i in 0..700 {
        batch.push_str(&format!("link add a{i} type veth peer name b{i}\n"));
    }
    ns.ip_batch(&batch);
    let retries = std::sync::Arc::new(AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(RetryCounter(retries.clone()));
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let churn = {
        let (stop, name) = (stop.clone(), ns.name.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for args in [
                    &["link", "add", "c0", "type", "veth", "peer", "name", "c1"][..],
                    &["link", "del", "c0"][..],
                ] {
                    let _ = Command::new("ip").arg("-n").arg(&name).args(args).status();
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        })
    };
    let mut listings = 0;
    while retries.load(Ordering::Relaxed) == 0 && listings < 2000 {
        let links = nl.link().list().await.expect("a listing under churn");
        assert!(links.len() >= 1401, "{}", links.len());
        listings += 1;
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    assert!(
        retries.load(Ordering::Relaxed) > 0,
        "no dump was interrupted in {listings} listings"
    );
}
