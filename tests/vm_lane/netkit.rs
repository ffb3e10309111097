//! netkit pairs (Linux 6.7; Debian 12's 6.1 lacks them): created through
//! the builder, read back typed and compared with `ip -j link` (Debian 12's
//! `ip` predates netkit, so the kind's own data is compared with what was
//! asked, through the library's decoding).

use netlink_packet_route::link::{InfoData, InfoNetkit, NetkitMode, NetkitPolicy, NetkitScrub};
use serde_json::Value;
use tokio_netlink::Error;
use tokio_netlink::route::link::kinds::{Netkit, NetkitAction, NetkitLayer};

use crate::common::{TestNs, feature_missing};

fn netkit_data(l: &tokio_netlink::route::link::Link) -> Vec<InfoNetkit> {
    match l.info_data() {
        Some(InfoData::Netkit(d)) => d,
        other => panic!("{:?}: no netkit data: {other:?}", l.name()),
    }
}

fn ip_link(ns: &TestNs, dev: &str) -> Value {
    ns.ip_json(&["link", "show", "dev", dev])[0].clone()
}

#[tokio::test]
async fn netkit_pairs_in_l2_and_l3_mode() {
    if !crate::common::kernel_at_least(6, 7, "netkit") {
        return;
    }
    let ns = TestNs::new().await;
    let nl = ns.client();
    let l2 = Netkit::peer("nk1")
        .mode(NetkitLayer::L2)
        .peer_policy(NetkitAction::Blackhole)
        .scrub(false);
    match nl.link().add("nk0", l2).await {
        Ok(()) => {}
        Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => {
            return feature_missing("netkit (CONFIG_NETKIT)", &e);
        }
        Err(e) => panic!("netkit: {e}"),
    }
    let (p, q) = (
        nl.link().get("nk0").await.unwrap(),
        nl.link().get("nk1").await.unwrap(),
    );
    assert_eq!((p.kind(), q.kind()), (Some("netkit"), Some("netkit")));
    let d = netkit_data(&p);
    for want in [
        InfoNetkit::Primary(true),
        InfoNetkit::Mode(NetkitMode::L2),
        InfoNetkit::Policy(NetkitPolicy::Pass),
        InfoNetkit::PeerPolicy(NetkitPolicy::Drop),
        InfoNetkit::Scrub(NetkitScrub::None),
        InfoNetkit::PeerScrub(NetkitScrub::Default),
    ] {
        assert!(d.contains(&want), "{want:?} not in {d:?}");
    }
    assert!(netkit_data(&q).contains(&InfoNetkit::Primary(false)));
    // l2: Ethernet devices with a MAC, as `ip` shows them; each the
    // other's peer.
    let (jp, jq) = (ip_link(&ns, "nk0"), ip_link(&ns, "nk1"));
    assert_eq!(
        (&jp["link_type"], &jq["link_type"]),
        (&"ether".into(), &"ether".into())
    );
    assert_eq!((&jp["link"], &jq["link"]), (&"nk1".into(), &"nk0".into()));
    let mac = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    assert_eq!(jp["address"], mac(p.address().unwrap()));

    // l3 (also the kernel's default): an all-zero address, NOARP.
    nl.link()
        .add("nk2", Netkit::peer("nk3").mode(NetkitLayer::L3))
        .await
        .unwrap();
    let j = ip_link(&ns, "nk2");
    assert_eq!(j["address"], "00:00:00:00:00:00", "{j}");
    assert!(
        j["flags"].as_array().unwrap().contains(&"NOARP".into()),
        "{j}"
    );
    let d = netkit_data(&nl.link().get("nk3").await.unwrap());
    assert!(d.contains(&InfoNetkit::Mode(NetkitMode::L3)), "{d:?}");

    // Deleting one end removes the pair.
    nl.link().del("nk2").await.unwrap();
    assert!(
        nl.link()
            .get("nk3")
            .await
            .unwrap_err()
            .missing_link()
            .is_some()
    );

    // Bad input: named before sending; a taken peer name: the kernel's.
    let e = nl
        .link()
        .add("nk4", Netkit::peer("a-name-far-too-long"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "peer name",
                ..
            }
        ),
        "{e}"
    );
    let e = nl.link().add("nk4", Netkit::peer("nk1")).await.unwrap_err();
    assert!(e.is_exists(), "{e:?}");
    assert!(nl.link().get("nk4").await.is_err(), "nothing half made");
}
