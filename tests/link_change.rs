//! Changing live links (`ip link set DEV type KIND …`) and the link setters
//! added with it, each test in a fresh namespace, read back through the
//! library's view and through `ip -j -d link show`.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::TestNs;
use netlink_packet_route::link::{InfoBridge, InfoData, InfoVxlan};
use serde_json::Value;
use tokio_netlink::route::link::kinds::{
    Bridge, MacaddrOp, Macvlan, MacvlanMode, Macvtap, Veth, Vxlan,
};
use tokio_netlink::route::link::{AddrGenMode, Link, MacAddr};
use tokio_netlink::{Error, Netlink};

fn ip_link(ns: &TestNs, name: &str) -> Value {
    let v = ns.ip_json(&["-d", "link", "show", "dev", name]);
    v[0].clone()
}

fn info(ns: &TestNs, name: &str) -> Value {
    ip_link(ns, name)["linkinfo"]["info_data"].clone()
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

/// A kernel refusal carrying `text` in its extended ACK.
fn assert_kernel(e: &Error, text: &str) {
    let msg = e
        .kernel_message()
        .unwrap_or_else(|| panic!("no ext-ack: {e:?}"));
    assert!(
        msg.to_lowercase().contains(&text.to_lowercase()),
        "{msg:?} lacks {text:?}"
    );
    assert!(e.to_string().contains(msg), "{e}");
}

fn bridge_data(l: &Link) -> Vec<InfoBridge> {
    match l.info_data() {
        Some(InfoData::Bridge(v)) => v,
        other => panic!("not bridge data: {other:?}"),
    }
}

async fn veth(nl: &Netlink, a: &str, b: &str) {
    nl.link().add(a, Veth::peer(b)).up().await.expect("veth");
}

fn mac(last: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0x11, last])
}

#[tokio::test]
async fn bridge_options_change_live() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).await.unwrap();
    nl.link()
        .set("br0")
        .kind(
            Bridge::new()
                .hello_time(300)
                .max_age(1000)
                .ageing_time(1234)
                .group_fwd_mask(0x10)
                .nf_call_iptables(true)
                .nf_call_ip6tables(true)
                .multicast_snooping(false)
                .multicast_igmp_version(3)
                .multicast_mld_version(2)
                .multicast_query_interval(5000)
                .multicast_membership_interval(27000)
                .multicast_last_member_count(5)
                .multicast_startup_query_count(4)
                .multicast_hash_max(8192)
                .multicast_stats(true)
                .multicast_querier(true)
                .fdb_max_learned(7)
                .priority(4096),
        )
        .await
        .unwrap();
    let d = info(&ns, "br0");
    assert_eq!(d["hello_time"], 300);
    assert_eq!(d["max_age"], 1000);
    assert_eq!(d["ageing_time"], 1234);
    assert_eq!(d["group_fwd_mask"], "0x10");
    assert_eq!(d["nf_call_iptables"], 1);
    assert_eq!(d["nf_call_ip6tables"], 1);
    assert_eq!(d["nf_call_arptables"], 0);
    assert_eq!(d["mcast_snooping"], 0);
    assert_eq!(d["mcast_igmp_version"], 3);
    assert_eq!(d["mcast_mld_version"], 2);
    assert_eq!(d["mcast_query_intvl"], 5000);
    assert_eq!(d["mcast_membership_intvl"], 27000);
    assert_eq!(d["mcast_last_member_cnt"], 5);
    assert_eq!(d["mcast_startup_query_cnt"], 4);
    assert_eq!(d["mcast_hash_max"], 8192);
    assert_eq!(d["mcast_stats_enabled"], 1);
    assert_eq!(d["mcast_querier"], 1);
    assert_eq!(d["priority"], 4096);
    // Debian 12's `ip` does not print fdb_max_learned: the view alone.
    let l = nl.link().get("br0").await.unwrap();
    let data = bridge_data(&l);
    assert!(data.contains(&InfoBridge::FdbMaxLearned(7)), "{data:?}");
    assert!(data.contains(&InfoBridge::HelloTime(300)), "{data:?}");
    // Only what was set is sent: a second change keeps the first's values.
    nl.link()
        .set("br0")
        .kind(Bridge::new().max_age(2000))
        .await
        .unwrap();
    let d = info(&ns, "br0");
    assert_eq!(
        (d["hello_time"].clone(), d["max_age"].clone()),
        (300.into(), 2000.into())
    );
}

#[tokio::test]
async fn bridge_fdb_flush_removes_learnt_entries() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("br0", Bridge::new()).up().await.unwrap();
    veth(&nl, "p0", "p1").await;
    nl.link().set("p0").master("br0").await.unwrap();
    let fdb = |ns: &TestNs| {
        let out = std::process::Command::new("bridge")
            .args(["-n", &ns.name, "fdb", "show", "br", "br0"])
            .output()
            .expect("bridge");
        String::from_utf8(out.stdout).unwrap()
    };
    nl.link().set("p1").up().await.unwrap();
    // Frames from two source MACs into p0: the bridge learns them (an
    // ethertype for local experiments, so nothing else handles them).
    let send = "import socket\n\
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
        s.bind(('p1', 0))\n\
        for src in ('0a1122334455', '0a1122334466'):\n    \
        s.send(bytes.fromhex('0a0000000001' + src + '88b5') + bytes(46))\n";
    let st = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c", send])
        .status()
        .expect("python3");
    assert!(st.success());
    let learnt = fdb(&ns);
    assert!(
        learnt.contains("0a:11:22:33:44:55 dev p0 master br0"),
        "{learnt}"
    );
    assert!(
        learnt.contains("0a:11:22:33:44:66 dev p0 master br0"),
        "{learnt}"
    );
    nl.link()
        .set("br0")
        .kind(Bridge::new().fdb_flush())
        .await
        .unwrap();
    let after = fdb(&ns);
    assert!(!after.contains("0a:11:22:33:44:"), "{after}");
    // Permanent entries (the port's own address) stay.
    assert!(after.contains("permanent"), "{after}");
    // Creating with a flush has nothing to flush: refused by name.
    let e = nl
        .link()
        .add("br1", Bridge::new().fdb_flush())
        .await
        .unwrap_err();
    assert_invalid(&e, "fdb_flush");
    let e = nl
        .link()
        .set("br0")
        .kind(Bridge::new().group_fwd_mask(0x1))
        .await
        .unwrap_err();
    assert_invalid(&e, "group_fwd_mask");
}

#[tokio::test]
async fn vxlan_changes_live_and_refusals_carry_the_kernels_text() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let local = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    nl.link()
        .add("vx0", Vxlan::new(5).dstport(4789).local(local))
        .await
        .unwrap();
    nl.link()
        .set("vx0")
        .kind(
            Vxlan::change()
                .ttl(9)
                .tos(0x10)
                .learning(false)
                .ageing(77)
                .df(true)
                .remote(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9))),
        )
        .await
        .unwrap();
    let d = info(&ns, "vx0");
    assert_eq!(d["id"], 5);
    assert_eq!(d["remote"], "10.0.0.9");
    assert_eq!(d["local"], "10.0.0.1");
    assert_eq!(d["ttl"], 9);
    assert_eq!(d["tos"], "0x10");
    assert_eq!(d["learning"], false);
    assert_eq!(d["ageing"], 77);
    assert_eq!(d["df"], "set");
    assert_eq!(d["port"], 4789);
    // The same VNI may be named; another is the kernel's refusal.
    nl.link()
        .set("vx0")
        .kind(Vxlan::new(5).df_inherit())
        .await
        .unwrap();
    assert_eq!(info(&ns, "vx0")["df"], "inherit");
    let e = nl.link().set("vx0").kind(Vxlan::new(6)).await.unwrap_err();
    assert_kernel(&e, "VNI");
    let e = nl
        .link()
        .set("vx0")
        .kind(Vxlan::change().proxy(true))
        .await
        .unwrap_err();
    assert_kernel(&e, "proxy");
    let e = nl
        .link()
        .set("vx0")
        .kind(Vxlan::change().maxaddress(9))
        .await
        .unwrap_err();
    assert_kernel(&e, "limit");
    // The refusals changed nothing.
    assert_eq!(info(&ns, "vx0")["ttl"], 9);
}

#[tokio::test]
async fn vxlan_flags_and_metadata_mode_at_creation() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add(
            "vx0",
            Vxlan::new(7)
                .proxy(true)
                .rsc(true)
                .l2miss(true)
                .l3miss(true)
                .udpcsum(false)
                .maxaddress(100)
                .ttl_inherit(),
        )
        .await
        .unwrap();
    let d = info(&ns, "vx0");
    assert_eq!(d["proxy"], true, "{d}");
    assert_eq!(d["rsc"], true, "{d}");
    assert_eq!(d["l2miss"], true, "{d}");
    assert_eq!(d["l3miss"], true, "{d}");
    assert_eq!(d["udp_csum"], false, "{d}");
    assert_eq!(d["limit"], 100, "{d}");
    // `ip -j` prints `ttl inherit` in text only: the view says it.
    let l = nl.link().get("vx0").await.unwrap();
    match l.info_data() {
        Some(InfoData::Vxlan(v)) => assert!(v.contains(&InfoVxlan::TtlInherit(1)), "{v:?}"),
        other => panic!("not vxlan data: {other:?}"),
    }
    nl.link()
        .add(
            "vx6",
            Vxlan::new(8)
                .local("fd00::1".parse().unwrap())
                .flowlabel(0x12345)
                .udp6zerocsumtx(true)
                .udp6zerocsumrx(true),
        )
        .await
        .unwrap();
    let d = info(&ns, "vx6");
    assert_eq!(d["label"], "0x12345", "{d}");
    assert_eq!(d["udp_zero_csum6_tx"], true, "{d}");
    assert_eq!(d["udp_zero_csum6_rx"], true, "{d}");
    // A metadata device: no VNI of its own.
    nl.link()
        .add("vxm", Vxlan::new_external().vnifilter(true).dstport(4790))
        .await
        .unwrap();
    let d = info(&ns, "vxm");
    assert_eq!(d["external"], true, "{d}");
    assert_eq!(d["vnifilter"], true, "{d}");
    let e = nl
        .link()
        .set("vxm")
        .kind(Vxlan::change().external(false))
        .await
        .unwrap_err();
    assert!(e.kernel_message().is_some(), "{e:?}");
    // Refused before sending, by name.
    let e = nl
        .link()
        .add("vxb", Vxlan::new(9).flowlabel(1 << 20))
        .await
        .unwrap_err();
    assert_invalid(&e, "flowlabel");
    let e = nl.link().add("vxb", Vxlan::change()).await.unwrap_err();
    assert_invalid(&e, "id");
}

#[tokio::test]
async fn macvlan_mode_source_macs_and_bcqueuelen_change_live() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "lo0", "lo1").await;
    nl.link()
        .add("mv0", Macvlan::new("lo0").mode(MacvlanMode::Bridge))
        .await
        .unwrap();
    nl.link()
        .set("mv0")
        .kind(Macvlan::change().mode(MacvlanMode::Vepa).bcqueuelen(50))
        .await
        .unwrap();
    let d = info(&ns, "mv0");
    assert_eq!(d["mode"], "vepa", "{d}");
    assert_eq!(d["bcqueuelen"], 50, "{d}");

    nl.link()
        .add(
            "mv1",
            Macvlan::new("lo0")
                .mode(MacvlanMode::Source)
                .macaddr(MacaddrOp::Add(mac(1))),
        )
        .await
        .unwrap();
    let macs = |ns: &TestNs| -> Vec<String> {
        let d = info(ns, "mv1");
        d["macaddr_data"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(macs(&ns), [mac(1).to_string()]);
    let step = |op| nl.link().set("mv1").kind(Macvlan::change().macaddr(op));
    step(MacaddrOp::Add(mac(2))).await.unwrap();
    let mut got = macs(&ns);
    got.sort();
    assert_eq!(got, [mac(1).to_string(), mac(2).to_string()]);
    step(MacaddrOp::Del(mac(1))).await.unwrap();
    assert_eq!(macs(&ns), [mac(2).to_string()]);
    step(MacaddrOp::Set(vec![mac(3), mac(4), mac(5)]))
        .await
        .unwrap();
    let mut got = macs(&ns);
    got.sort();
    assert_eq!(
        got,
        [mac(3).to_string(), mac(4).to_string(), mac(5).to_string()]
    );
    step(MacaddrOp::Flush).await.unwrap();
    assert!(macs(&ns).is_empty());
    assert_eq!(info(&ns, "mv1")["macaddr_count"], 0);

    nl.link()
        .add("mvt0", Macvtap::new("lo1").mode(MacvlanMode::Private))
        .await
        .unwrap();
    nl.link()
        .set("mvt0")
        .kind(Macvtap::change().mode(MacvlanMode::Bridge))
        .await
        .unwrap();
    assert_eq!(info(&ns, "mvt0")["mode"], "bridge");

    let e = nl
        .link()
        .add("mv2", Macvlan::new("lo0").macaddr(MacaddrOp::Add(mac(9))))
        .await
        .unwrap_err();
    assert_invalid(&e, "macaddr");
    let e = nl.link().add("mv2", Macvlan::change()).await.unwrap_err();
    assert_invalid(&e, "link");
}

#[tokio::test]
async fn a_change_of_another_kind_is_refused_by_name() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    veth(&nl, "v0", "v1").await;
    let e = nl
        .link()
        .set("v0")
        .kind(Bridge::new().stp(true))
        .await
        .unwrap_err();
    assert_invalid(&e, "type");
    assert!(e.to_string().contains("veth"), "{e}");
    let e = nl
        .link()
        .set("lo")
        .kind(Vxlan::change().ttl(3))
        .await
        .unwrap_err();
    assert_invalid(&e, "type");
    let e = nl
        .link()
        .set("nosuch0")
        .kind(Bridge::new())
        .await
        .unwrap_err();
    let (l, _) = e.missing_link().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(l.to_string(), "nosuch0");
    // Nothing was sent: v0 is still a plain veth.
    assert_eq!(ip_link(&ns, "v0")["linkinfo"]["info_kind"], "veth");
}

#[tokio::test]
async fn link_setters_multicast_protodown_addrgenmode_gso_queues() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add("v0", Veth::peer("v1"))
        .numtxqueues(4)
        .numrxqueues(3)
        .await
        .unwrap();
    let l = nl.link().get("v0").await.unwrap();
    assert_eq!(l.queues(), Some((4, 3)));
    let j = ip_link(&ns, "v0");
    assert_eq!(
        (j["num_tx_queues"].clone(), j["num_rx_queues"].clone()),
        (4.into(), 3.into())
    );

    nl.link()
        .set("v0")
        .multicast(false)
        .gso_max_segs(100)
        .gso_ipv4_max_size(32768)
        .gro_ipv4_max_size(40000)
        .addrgenmode(AddrGenMode::None)
        .await
        .unwrap();
    let l = nl.link().get("v0").await.unwrap();
    let j = ip_link(&ns, "v0");
    let flags: Vec<&str> = j["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!flags.contains(&"MULTICAST"), "{flags:?}");
    assert_eq!(l.flags().bits() & 0x1000, 0);
    assert_eq!(l.gso_max_segs(), Some(100));
    assert_eq!(j["gso_max_segs"], 100);
    assert_eq!(l.gso_ipv4_max_size(), Some(32768));
    assert_eq!(l.gro_ipv4_max_size(), Some(40000));
    assert_eq!(l.addrgenmode(), Some(AddrGenMode::None));
    assert_eq!(j["inet6_addr_gen_mode"], "none");
    nl.link()
        .set("v0")
        .multicast(true)
        .addrgenmode("random".parse().unwrap())
        .await
        .unwrap();
    let l = nl.link().get("v0").await.unwrap();
    assert_ne!(l.flags().bits() & 0x1000, 0);
    assert_eq!(l.addrgenmode(), Some(AddrGenMode::Random));
    assert_eq!(ip_link(&ns, "v0")["inet6_addr_gen_mode"], "random");

    // protodown: vxlan allows it, veth does not (the kernel's refusal).
    nl.link()
        .add("vx0", Vxlan::new(3).dstport(4789))
        .await
        .unwrap();
    nl.link().set("vx0").protodown(true).await.unwrap();
    assert_eq!(nl.link().get("vx0").await.unwrap().protodown(), Some(true));
    assert_eq!(ip_link(&ns, "vx0")["proto_down"], true);
    nl.link().set("vx0").protodown(false).await.unwrap();
    assert_eq!(nl.link().get("vx0").await.unwrap().protodown(), Some(false));
    let e = nl.link().set("v0").protodown(true).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e:?}");
    // carrier: veth's driver does not let user space decide it.
    let e = nl.link().set("v0").carrier(false).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e:?}");

    for n in [0, 4097] {
        let e = nl
            .link()
            .add("v2", Veth::peer("v3"))
            .numtxqueues(n)
            .await
            .unwrap_err();
        assert_invalid(&e, "numtxqueues");
        let e = nl
            .link()
            .add("v2", Veth::peer("v3"))
            .numrxqueues(n)
            .await
            .unwrap_err();
        assert_invalid(&e, "numrxqueues");
    }
    let e = "stable".parse::<AddrGenMode>().unwrap_err();
    assert_invalid(&e, "addrgenmode");
}
