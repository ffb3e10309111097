//! StatsHandle against the kernel, cross-checked with `ip -j -s stats
//! show`. Counters move between two reads, so each of ours must lie
//! between the `ip` read before it and the one after.

mod common;

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use common::TestNs;
use serde_json::Value;
use tokio_netlink::route::stats::{BridgeMcastStats, LinkStats, Stats64, StatsGroup};
use tokio_netlink::{Error, Netlink};

/// br0 (multicast statistics on) with port va, whose peer vb (10.9.0.2) is in a second namespace;
/// br0 has 10.9.0.1. IPv6 is off so nothing but the test's traffic moves
/// the counters.
async fn setup() -> (TestNs, TestNs, Netlink) {
    let (ns, peer) = (TestNs::new().await, TestNs::new().await);
    for n in [&ns, &peer] {
        let ok = Command::new("ip")
            .args(["netns", "exec", &n.name, "sysctl", "-qw"])
            .args([
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    ns.ip_batch(&format!(
        "link add br0 type bridge mcast_stats_enabled 1\n\
         link add va type veth peer name vb netns {}\n\
         link set va master br0\n\
         addr add 10.9.0.1/24 dev br0\n\
         link set br0 up\n\
         link set va up\n",
        peer.name
    ));
    peer.ip(&["addr", "add", "10.9.0.2/24", "dev", "vb"]);
    peer.ip(&["link", "set", "vb", "up"]);
    let nl = ns.client();
    (ns, peer, nl)
}

/// `count` UDP datagrams from br0's address to vb's, each received before
/// the next is sent: over br0, va and vb.
fn traffic(ns: &TestNs, peer: &TestNs, count: u32) {
    let rx = common::diag::in_ns(peer, || UdpSocket::bind("10.9.0.2:5000").unwrap());
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let tx = common::diag::in_ns(ns, || UdpSocket::bind("10.9.0.1:0").unwrap());
    let mut buf = [0u8; 64];
    for i in 0..count {
        tx.send_to(&i.to_ne_bytes(), "10.9.0.2:5000").unwrap();
        let (n, _) = rx.recv_from(&mut buf).expect("datagram through the bridge");
        assert_eq!(&buf[..n], &i.to_ne_bytes());
    }
}

/// Our counters in `ip -j -s stats`'s `stats64` shape.
fn as_ip(s: &Stats64) -> Value {
    serde_json::json!({
        "rx": {
            "bytes": s.rx_bytes, "packets": s.rx_packets, "errors": s.rx_errors,
            "dropped": s.rx_dropped, "over_errors": s.rx_over_errors,
            "multicast": s.multicast, "length_errors": s.rx_length_errors,
            "crc_errors": s.rx_crc_errors, "frame_errors": s.rx_frame_errors,
            "fifo_errors": s.rx_fifo_errors, "missed_errors": s.rx_missed_errors,
        },
        "tx": {
            "bytes": s.tx_bytes, "packets": s.tx_packets, "errors": s.tx_errors,
            "dropped": s.tx_dropped, "carrier_errors": s.tx_carrier_errors,
            "collisions": s.collisions, "aborted_errors": s.tx_aborted_errors,
            "fifo_errors": s.tx_fifo_errors, "window_errors": s.tx_window_errors,
            "heartbeat_errors": s.tx_heartbeat_errors,
        },
    })
}

/// Every number of `ours` lies between `before`'s and `after`'s, and
/// the three have the same keys.
fn between(ours: &Value, before: &Value, after: &Value, path: &str) {
    match ours {
        Value::Object(m) => {
            let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(ours), keys(before), "{path}");
            assert_eq!(keys(ours), keys(after), "{path}");
            for (k, v) in m {
                between(v, &before[k], &after[k], &format!("{path}.{k}"));
            }
        }
        _ => {
            let (o, b, a) = (ours.as_u64(), before.as_u64(), after.as_u64());
            let (o, b, a) = (o.unwrap(), b.unwrap(), a.unwrap());
            assert!(b <= o && o <= a, "{path}: ip {b} .. {a}, ours {o}");
        }
    }
}

/// `ip -j -s stats show ARGS`, by ifindex then entry (group, subgroup, suite).
fn ip_stats(ns: &TestNs, args: &[&str]) -> BTreeMap<(u64, String), Value> {
    let mut all = vec!["-s", "stats", "show"];
    all.extend_from_slice(args);
    let v = ns.ip_json(&all);
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let name = |k: &str| e[k].as_str().unwrap_or("").to_string();
            let key = format!("{} {} {}", name("group"), name("subgroup"), name("suite"));
            ((e["ifindex"].as_u64().unwrap(), key), e.clone())
        })
        .collect()
}

#[tokio::test]
async fn link_counters_of_one_device_and_of_the_dump_agree_with_ip() {
    let (ns, peer, nl) = setup().await;
    traffic(&ns, &peer, 20);
    let va = nl.link().get("va").await.unwrap().index() as u64;
    let link = |m: &BTreeMap<(u64, String), Value>, i: u64| m[&(i, "link  ".into())].clone();

    let before = ip_stats(&ns, &["dev", "va", "group", "link"]);
    let ours = nl.stats().get("va").group(StatsGroup::Link).await.unwrap();
    traffic(&ns, &peer, 5); // Counters move: ours must still lie between the reads.
    let after = ip_stats(&ns, &["dev", "va", "group", "link"]);
    assert_eq!(ours.ifindex as u64, va);
    assert!(ours.xstats.is_none() && ours.offload.is_none(), "{ours:?}");
    let l = ours.link64.unwrap();
    // Out through the port: the datagrams (one-way) and an ARP request.
    assert!(l.tx_packets >= 20 && l.rx_packets >= 1, "{l:?}");
    between(
        &as_ip(&l),
        &link(&before, va)["stats64"],
        &link(&after, va)["stats64"],
        "va",
    );

    let before = ip_stats(&ns, &["group", "link"]);
    let list = nl.stats().list().group(StatsGroup::Link).await.unwrap();
    let after = ip_stats(&ns, &["group", "link"]);
    let ids = |m: &BTreeMap<(u64, String), Value>| m.keys().map(|k| k.0).collect::<Vec<_>>();
    let mut ours: Vec<u64> = list.iter().map(|s| s.ifindex as u64).collect();
    ours.sort();
    assert_eq!(ours, ids(&before));
    assert_eq!(ours.len(), 3, "lo, br0, va");
    for s in &list {
        let i = s.ifindex as u64;
        let mine = as_ip(s.link64.as_ref().unwrap());
        between(
            &mine,
            &link(&before, i)["stats64"],
            &link(&after, i)["stats64"],
            "dump",
        );
    }
}

/// `ip`'s `multicast` object for our counters.
fn mcast_as_ip(m: &BridgeMcastStats) -> Value {
    serde_json::json!({
        "igmp_queries": {
            "rx_v1": m.igmp_v1queries.rx, "rx_v2": m.igmp_v2queries.rx, "rx_v3": m.igmp_v3queries.rx,
            "tx_v1": m.igmp_v1queries.tx, "tx_v2": m.igmp_v2queries.tx, "tx_v3": m.igmp_v3queries.tx,
        },
        "igmp_reports": {
            "rx_v1": m.igmp_v1reports.rx, "rx_v2": m.igmp_v2reports.rx, "rx_v3": m.igmp_v3reports.rx,
            "tx_v1": m.igmp_v1reports.tx, "tx_v2": m.igmp_v2reports.tx, "tx_v3": m.igmp_v3reports.tx,
        },
        "igmp_leaves": {"rx": m.igmp_leaves.rx, "tx": m.igmp_leaves.tx},
        "igmp_parse_errors": m.igmp_parse_errors,
        "mld_queries": {
            "rx_v1": m.mld_v1queries.rx, "rx_v2": m.mld_v2queries.rx,
            "tx_v1": m.mld_v1queries.tx, "tx_v2": m.mld_v2queries.tx,
        },
        "mld_reports": {
            "rx_v1": m.mld_v1reports.rx, "rx_v2": m.mld_v2reports.rx,
            "tx_v1": m.mld_v1reports.tx, "tx_v2": m.mld_v2reports.tx,
        },
        "mld_leaves": {"rx": m.mld_leaves.rx, "tx": m.mld_leaves.tx},
        "mld_parse_errors": m.mld_parse_errors,
    })
}

#[tokio::test]
async fn bridge_xstats_as_master_and_port_agree_with_ip() {
    let (ns, peer, nl) = setup().await;
    // vb joins a group: its IGMP reports arrive through va.
    let member = common::diag::in_ns(&peer, || {
        let s = UdpSocket::bind("0.0.0.0:5001").unwrap();
        s.join_multicast_v4(&"239.1.1.1".parse().unwrap(), &"10.9.0.2".parse().unwrap())
            .unwrap();
        s
    });
    let va_json = |key: &str| {
        let all = ns.ip_json(&["stats", "show", "dev", "va", "group", "xstats_slave"]);
        let e = all
            .as_array()
            .unwrap()
            .iter()
            .find(|e| !e[key].is_null())
            .cloned();
        e.map(|e| e[key].clone()).unwrap_or(Value::Null)
    };
    let wait = |what: &str, cond: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(6);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "no {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("IGMP report", &|| {
        va_json("multicast")["igmp_reports"]["rx_v3"].as_u64() > Some(0)
    });
    // With STP the bridge sends BPDUs (every 2 s) through va.
    ns.ip(&["link", "set", "br0", "type", "bridge", "stp_state", "1"]);
    wait("BPDU", &|| va_json("stp")["tx_bpdu"].as_u64() > Some(0));
    let (br0, va) = (
        nl.link().get("br0").await.unwrap().index() as u64,
        nl.link().get("va").await.unwrap().index() as u64,
    );
    let before = ip_stats(&ns, &["group", "xstats"]);
    let before_port = ip_stats(&ns, &["group", "xstats_slave"]);
    let ours = nl
        .stats()
        .get("br0")
        .group(StatsGroup::Xstats)
        .await
        .unwrap();
    let port = nl
        .stats()
        .get("va")
        .group(StatsGroup::XstatsSlave)
        .await
        .unwrap();
    let after = ip_stats(&ns, &["group", "xstats"]);
    let after_port = ip_stats(&ns, &["group", "xstats_slave"]);

    assert!(
        ours.link64.is_none() && ours.xstats_slave.is_none(),
        "{ours:?}"
    );
    let br = ours.xstats.unwrap().bridge.expect("bridge xstats");
    let key = (br0, "xstats bridge mcast".to_string());
    between(
        &mcast_as_ip(br.mcast.as_ref().unwrap()),
        &before[&key]["multicast"],
        &after[&key]["multicast"],
        "br0 mcast",
    );
    let reports = br.mcast.unwrap().igmp_v3reports.rx;
    assert!(
        reports >= 1,
        "vb's reports, through the bridge: {:?}",
        br.mcast
    );
    // A bridge has no STP counters of its own, and without VLAN
    // filtering (which the host kernel lacks) no VLANs.
    assert!(br.stp.is_none() && br.vlans.is_empty(), "{br:?}");

    let pb = port.xstats_slave.unwrap().bridge.expect("port xstats");
    let key = (va, "xstats_slave bridge stp".to_string());
    let stp = pb.stp.unwrap();
    let stp_json = serde_json::json!({
        "rx_bpdu": stp.rx_bpdu, "tx_bpdu": stp.tx_bpdu, "rx_tcn": stp.rx_tcn,
        "tx_tcn": stp.tx_tcn, "transition_blk": stp.transition_blk,
        "transition_fwd": stp.transition_fwd,
    });
    between(
        &stp_json,
        &before_port[&key]["stp"],
        &after_port[&key]["stp"],
        "va stp",
    );
    assert!(stp.tx_bpdu >= 1, "{stp:?}");
    let key = (va, "xstats_slave bridge mcast".to_string());
    between(
        &mcast_as_ip(pb.mcast.as_ref().unwrap()),
        &before_port[&key]["multicast"],
        &after_port[&key]["multicast"],
        "va mcast",
    );
    let m = pb.mcast.unwrap();
    assert!(m.igmp_v3reports.rx + m.igmp_v2reports.rx >= 1, "{m:?}");
    drop(member);
    // lo is no port: no slave stats of a kind decoded here.
    let lo = nl
        .stats()
        .get("lo")
        .group(StatsGroup::XstatsSlave)
        .await
        .unwrap();
    assert_eq!(lo.xstats_slave.unwrap_or_default().bridge, None);
}

#[tokio::test]
async fn offload_info_follows_ip_stats_set() {
    let (_ns, ns, _) = setup().await;
    let nl = ns.client();
    let get = || async {
        let s: LinkStats = nl
            .stats()
            .get("vb")
            .group(StatsGroup::Offload)
            .await
            .unwrap();
        s.offload.expect("offload group")
    };
    let ip_info = || {
        let v = ns.ip_json(&[
            "stats",
            "show",
            "dev",
            "vb",
            "group",
            "offload",
            "subgroup",
            "hw_stats_info",
        ]);
        v[0]["info"]["l3_stats"].clone()
    };
    let o = get().await;
    // veth offloads nothing: no CPU-hit counters.
    assert_eq!(o.cpu_hit, None);
    let i = o.l3_stats_info.unwrap();
    assert_eq!(
        serde_json::json!({"request": i.request, "used": i.used}),
        ip_info()
    );
    assert!(!i.request);
    ns.ip(&["stats", "set", "dev", "vb", "l3_stats", "on"]);
    let i = get().await.l3_stats_info.unwrap();
    assert_eq!(
        serde_json::json!({"request": i.request, "used": i.used}),
        ip_info()
    );
    assert!(i.request && !i.used, "{i:?}");
}

#[tokio::test]
async fn every_group_by_default_and_errors() {
    let (ns, peer, nl) = setup().await;
    let s = nl.stats().get("va").await.unwrap();
    assert!(s.link64.is_some() && s.offload.is_some(), "{s:?}");
    assert!(s.xstats_slave.and_then(|x| x.bridge).is_some());
    let listed = nl.stats().list().await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|s| s.link64.is_some()));

    let e = nl.stats().get("nope0").await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(e.to_string().contains("nope0"), "{e}");
    let e = nl.stats().get(99_999u32).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(e.to_string().contains("99999"), "{e}");
    let sent = nl.rtnl().stats().requests_sent;
    let e = nl.stats().get(0u32).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "dev", .. }),
        "{e:?}"
    );
    assert_eq!(nl.rtnl().stats().requests_sent, sent, "nothing was sent");
    drop((ns, peer));
}
