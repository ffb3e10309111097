//! `ip stats` for what the host lacks: 802.3ad bond counters (LACPDUs
//! between two bonds over a veth pair), for the bond (xstats) and its port
//! (xstats_slave), each counter between two `ip -j stats` reads.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_netlink::route::link::kinds::{Bond, BondLacpRate, BondMode};
use tokio_netlink::route::stats::{Bond3adStats, StatsGroup};

use crate::common::{TestNs, feature_missing};

fn ip_3ad(ns: &TestNs, dev: &str, group: &str) -> Value {
    let j = ns.ip_json(&[
        "stats", "show", "dev", dev, "group", group, "subgroup", "bond", "suite", "802.3ad",
    ]);
    j[0]["802.3ad"].clone()
}

fn fields(s: &Bond3adStats) -> [(&'static str, Option<u64>); 9] {
    [
        ("lacpdu_rx", s.lacpdu_rx),
        ("lacpdu_tx", s.lacpdu_tx),
        ("lacpdu_unknown_rx", s.lacpdu_unknown_rx),
        ("lacpdu_illegal_rx", s.lacpdu_illegal_rx),
        ("marker_rx", s.marker_rx),
        ("marker_tx", s.marker_tx),
        ("marker_response_rx", s.marker_resp_rx),
        ("marker_response_tx", s.marker_resp_tx),
        ("marker_unknown_rx", s.marker_unknown_rx),
    ]
}

fn between(before: &Value, ours: &Bond3adStats, after: &Value, what: &str) {
    for (k, v) in fields(ours) {
        let v = v.unwrap_or_else(|| panic!("{what}: no {k}"));
        let (lo, hi) = (before[k].as_u64().unwrap(), after[k].as_u64().unwrap());
        assert!(lo <= v && v <= hi, "{what} {k}: {v} not in {lo}..={hi}");
    }
}

#[tokio::test]
async fn bond_802_3ad_counters_agree_with_ip_stats() {
    let (a, b) = (TestNs::new().await, TestNs::new().await);
    a.ip(&[
        "link", "add", "va", "type", "veth", "peer", "vb", "netns", &b.name,
    ]);
    for (ns, port) in [(&a, "va"), (&b, "vb")] {
        let nl = ns.client();
        let bond = Bond::new()
            .mode(BondMode::Ieee8023Ad)
            .lacp_rate(BondLacpRate::Fast);
        match nl.link().add("bond0", bond).await {
            Ok(()) => {}
            Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => {
                return feature_missing("bonding (CONFIG_BONDING)", &e);
            }
            Err(e) => panic!("bond: {e}"),
        }
        nl.link().set(port).master("bond0").await.unwrap();
        nl.link().set("bond0").up().await.unwrap();
    }
    // Fast LACP: a PDU a second each way once the ports are up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while {
        let j = ip_3ad(&a, "va", "xstats_slave");
        j["lacpdu_rx"].as_u64() < Some(2) || j["lacpdu_tx"].as_u64() < Some(2)
    } {
        assert!(Instant::now() < deadline, "no LACPDUs received");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats = a.client().stats();
    for (dev, group, sg) in [
        ("bond0", "xstats", StatsGroup::Xstats),
        ("va", "xstats_slave", StatsGroup::XstatsSlave),
    ] {
        let before = ip_3ad(&a, dev, group);
        let got = stats.get(dev).group(sg).await.unwrap();
        let after = ip_3ad(&a, dev, group);
        let x = match sg {
            StatsGroup::Xstats => got.xstats,
            _ => got.xstats_slave,
        };
        let ours = x
            .and_then(|x| x.bond_3ad)
            .unwrap_or_else(|| panic!("{dev}: no 802.3ad counters"));
        assert!(
            ours.lacpdu_rx >= Some(2) && ours.lacpdu_tx >= Some(2),
            "{ours:?}"
        );
        between(&before, &ours, &after, dev);
    }
    // The whole dump has them too, for both.
    let all = stats.list().group(StatsGroup::XstatsSlave).await.unwrap();
    let va = a.client().link().get("va").await.unwrap().index();
    let port = all.iter().find(|s| s.ifindex == va).expect("va dumped");
    assert!(
        port.xstats_slave
            .as_ref()
            .and_then(|x| x.bond_3ad)
            .is_some(),
        "{port:?}"
    );
}
