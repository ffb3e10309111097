//! Changing live links of kinds the host kernel lacks: bond options and
//! ports, a dummy's carrier.

use std::net::Ipv4Addr;

use crate::common::{TestNs, feature_missing};
use netlink_packet_route::link::{BondArpValidate as RawArpValidate, InfoBond, InfoData};
use serde_json::Value;
use tokio_netlink::Error;
use tokio_netlink::route::link::kinds::{
    Bond, BondAdSelect, BondArpAllTargets, BondArpValidate, BondFailOverMac, BondLacpRate,
    BondMode, BondPrimaryReselect, Dummy, Geneve, Gre, Gretap, Ip6Tnl, Ip6TnlMode, Ipip,
};

fn ip_link(ns: &TestNs, name: &str) -> Value {
    let v = ns.ip_json(&["-d", "link", "show", name]);
    v[0].clone()
}

fn bond_ip(ns: &TestNs) -> Value {
    ip_link(ns, "bond0")["linkinfo"]["info_data"].clone()
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(r: tokio_netlink::Result<T>, field: &str) {
    match r {
        Err(Error::InvalidInput { field: f, .. }) if f == field => {}
        other => panic!("expected InvalidInput for {field:?}, got {other:?}"),
    }
}

/// Creates the link, or reports the kernel's lack of it (false).
async fn made(r: tokio_netlink::Result<()>, feature: &str) -> bool {
    match r {
        Ok(()) => true,
        Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => {
            feature_missing(feature, &e);
            false
        }
        Err(e) => panic!("creating {feature}: {e}"),
    }
}

#[tokio::test]
async fn bond_options_ports_and_live_changes() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let bond = Bond::new()
        .mode(BondMode::ActiveBackup)
        .miimon(100)
        .updelay(200)
        .downdelay(300)
        .primary_reselect(BondPrimaryReselect::Better)
        .fail_over_mac(BondFailOverMac::Active)
        .resend_igmp(3)
        .num_peer_notif(2)
        .all_slaves_active(true)
        .min_links(1);
    if !made(
        nl.link().add("bond0", bond).await,
        "bonding (CONFIG_BONDING)",
    )
    .await
    {
        return;
    }
    for p in ["bp0", "bp1"] {
        assert!(made(nl.link().add(p, Dummy).await, "dummy links (CONFIG_DUMMY)").await);
        nl.link().set(p).master("bond0").await.unwrap();
    }
    nl.link().set("bond0").up().await.unwrap();
    let d = bond_ip(&ns);
    assert_eq!(d["mode"], "active-backup", "{d}");
    assert_eq!(d["miimon"], 100, "{d}");
    assert_eq!(d["updelay"], 200, "{d}");
    assert_eq!(d["downdelay"], 300, "{d}");
    assert_eq!(d["primary_reselect"], "better", "{d}");
    assert_eq!(d["fail_over_mac"], "active", "{d}");
    assert_eq!(d["resend_igmp"], 3, "{d}");
    assert_eq!(d["num_peer_notif"], 2, "{d}");
    assert_eq!(d["all_slaves_active"], 1, "{d}");
    assert_eq!(d["min_links"], 1, "{d}");

    // Live: the primary, then the active port, by name.
    nl.link()
        .set("bond0")
        .kind(Bond::new().primary("bp1"))
        .await
        .unwrap();
    assert_eq!(bond_ip(&ns)["primary"], "bp1");
    // A port still in its updelay counts as down, and its coming up
    // reselects the active port: wait for both; and with `better` the bond
    // may give the primary back the active role at any link event, so
    // `failure`, which keeps the port chosen here.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ["bp0", "bp1"]
        .iter()
        .any(|p| ip_link(&ns, p)["linkinfo"]["info_slave_data"]["mii_status"] != "UP")
    {
        assert!(std::time::Instant::now() < deadline, "ports never up");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    nl.link()
        .set("bond0")
        .kind(Bond::new().primary_reselect(BondPrimaryReselect::Failure))
        .await
        .unwrap();
    nl.link()
        .set("bond0")
        .kind(Bond::new().active_slave("bp0"))
        .await
        .unwrap();
    assert_eq!(bond_ip(&ns)["active_slave"], "bp0");
    let l = nl.link().get("bond0").await.unwrap();
    let bp0 = nl.link().get("bp0").await.unwrap().index();
    match l.info_data() {
        Some(InfoData::Bond(v)) => assert!(v.contains(&InfoBond::ActivePort(bp0)), "{v:?}"),
        other => panic!("bond data: {other:?}"),
    }

    // Live: from MII to ARP monitoring.
    let targets = vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
    nl.link()
        .set("bond0")
        .kind(
            Bond::new()
                .miimon(0)
                .arp_interval(1000)
                .arp_ip_target(targets)
                .arp_validate(BondArpValidate::All)
                .arp_all_targets(BondArpAllTargets::All),
        )
        .await
        .unwrap();
    let d = bond_ip(&ns);
    assert_eq!(d["arp_interval"], 1000, "{d}");
    assert_eq!(
        d["arp_ip_target"],
        serde_json::json!(["10.0.0.1", "10.0.0.2"]),
        "{d}"
    );
    assert_eq!(d["arp_validate"], "all", "{d}");
    assert_eq!(d["arp_all_targets"], "all", "{d}");
    let l = nl.link().get("bond0").await.unwrap();
    match l.info_data() {
        Some(InfoData::Bond(v)) => {
            assert!(
                v.contains(&InfoBond::ArpValidate(RawArpValidate::All)),
                "{v:?}"
            )
        }
        other => panic!("bond data: {other:?}"),
    }

    // What the live mode forbids is the kernel's to say.
    let e = nl
        .link()
        .set("bond0")
        .kind(Bond::new().lacp_rate(BondLacpRate::Fast))
        .await
        .unwrap_err();
    assert!(e.kernel_message().is_some(), "{e:?}");
    let e = nl
        .link()
        .set("bond0")
        .kind(Bond::new().primary("nosuch0"))
        .await
        .unwrap_err();
    let (link, field) = e.missing_link().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(
        (link.to_string().as_str(), field),
        ("nosuch0", Some("primary"))
    );
}

#[tokio::test]
async fn bond_bad_input_is_named() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let many: Vec<Ipv4Addr> = (1..=17).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
    assert_invalid(
        nl.link().add("b1", Bond::new().arp_ip_target(many)).await,
        "arp_ip_target",
    );
    assert_invalid(
        nl.link()
            .add("b1", Bond::new().arp_ip_target(vec![Ipv4Addr::UNSPECIFIED]))
            .await,
        "arp_ip_target",
    );
    assert_invalid(
        nl.link().add("b1", Bond::new().resend_igmp(256)).await,
        "resend_igmp",
    );
    assert_invalid(
        nl.link()
            .add("b1", Bond::new().ad_user_port_key(1024))
            .await,
        "ad_user_port_key",
    );
    assert_invalid(
        nl.link().add("b1", Bond::new().ad_actor_sys_prio(0)).await,
        "ad_actor_sys_prio",
    );
    assert_invalid(
        nl.link().add("b1", Bond::new().active_slave("lo")).await,
        "active_slave",
    );
    assert_invalid("sometimes".parse::<BondArpValidate>(), "arp_validate");
    assert_invalid("some".parse::<BondArpAllTargets>(), "arp_all_targets");
    assert_invalid("never".parse::<BondPrimaryReselect>(), "primary_reselect");
    assert_invalid("copy".parse::<BondFailOverMac>(), "fail_over_mac");
    assert_invalid("best".parse::<BondAdSelect>(), "ad_select");
    assert_eq!(
        "bandwidth".parse::<BondAdSelect>().unwrap(),
        BondAdSelect::Bandwidth
    );
    // 802.3ad tuning at creation, read back.
    let bond = Bond::new()
        .mode(BondMode::Ieee8023Ad)
        .ad_select(BondAdSelect::Count)
        .ad_actor_sys_prio(100)
        .ad_user_port_key(7);
    if !made(nl.link().add("b2", bond).await, "bonding (CONFIG_BONDING)").await {
        return;
    }
    let d = ip_link(&ns, "b2")["linkinfo"]["info_data"].clone();
    assert_eq!(d["ad_select"], "count", "{d}");
    assert_eq!(d["ad_actor_sys_prio"], 100, "{d}");
    assert_eq!(d["ad_user_port_key"], 7, "{d}");
}

#[tokio::test]
async fn dummy_carrier_is_set_from_user_space() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    if !made(
        nl.link().add("d0", Dummy).up().await,
        "dummy links (CONFIG_DUMMY)",
    )
    .await
    {
        return;
    }
    nl.link().set("d0").carrier(false).await.unwrap();
    assert_eq!(nl.link().get("d0").await.unwrap().carrier(), Some(false));
    let flags = ip_link(&ns, "d0")["flags"].clone();
    // LOWER_UP is the carrier itself (RUNNING follows later, from the
    // kernel's link watch).
    assert!(
        !flags.as_array().unwrap().contains(&"LOWER_UP".into()),
        "{flags}"
    );
    nl.link().set("d0").carrier(true).await.unwrap();
    assert_eq!(nl.link().get("d0").await.unwrap().carrier(), Some(true));
    let flags = ip_link(&ns, "d0")["flags"].clone();
    assert!(
        flags.as_array().unwrap().contains(&"LOWER_UP".into()),
        "{flags}"
    );
}

fn data(ns: &TestNs, name: &str) -> Value {
    ip_link(ns, name)["linkinfo"]["info_data"].clone()
}

/// The IP tunnels' kernel `changelink` takes the whole parameter set: a
/// change of one parameter must keep the others (the library sends the
/// link's current ones along, as `ip` does).
#[tokio::test]
async fn tunnel_changes_keep_what_was_not_set() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let a = |s: &str| -> std::net::IpAddr { s.parse().unwrap() };
    let gre = Gre::new()
        .local(a("192.0.2.1"))
        .remote(a("192.0.2.2"))
        .ttl(10)
        .key(5);
    if !made(nl.link().add("gre1", gre).await, "GRE (CONFIG_NET_IPGRE)").await {
        return;
    }
    nl.link()
        .set("gre1")
        .kind(Gre::new().ttl(20))
        .await
        .unwrap();
    let d = data(&ns, "gre1");
    assert_eq!(
        (&d["local"], &d["remote"], &d["ttl"], &d["ikey"]),
        (
            &"192.0.2.1".into(),
            &"192.0.2.2".into(),
            &20.into(),
            &"0.0.0.5".into()
        ),
        "{d}"
    );
    nl.link()
        .set("gre1")
        .kind(Gre::new().remote(a("192.0.2.3")))
        .await
        .unwrap();
    let d = data(&ns, "gre1");
    assert_eq!(
        (&d["remote"], &d["ttl"]),
        (&"192.0.2.3".into(), &20.into()),
        "{d}"
    );

    let ipip = Ipip::new()
        .local(a("192.0.2.1"))
        .remote(a("192.0.2.4"))
        .ttl(5);
    assert!(made(nl.link().add("ipip1", ipip).await, "IPIP (CONFIG_NET_IPIP)").await);
    nl.link()
        .set("ipip1")
        .kind(Ipip::new().tos(0x10))
        .await
        .unwrap();
    let d = data(&ns, "ipip1");
    assert_eq!(
        (&d["remote"], &d["ttl"]),
        (&"192.0.2.4".into(), &5.into()),
        "{d}"
    );

    let t6 = Ip6Tnl::new()
        .mode(Ip6TnlMode::Ip6Ip6)
        .local(a("2001:db8::1"))
        .remote(a("2001:db8::2"))
        .encaplimit(2);
    assert!(made(nl.link().add("t6", t6).await, "ip6tnl (CONFIG_IPV6_TUNNEL)").await);
    nl.link()
        .set("t6")
        .kind(Ip6Tnl::new().ttl(30))
        .await
        .unwrap();
    let d = data(&ns, "t6");
    assert_eq!(
        (&d["proto"], &d["remote"], &d["ttl"], &d["encap_limit"]),
        (
            &"ip6ip6".into(),
            &"2001:db8::2".into(),
            &30.into(),
            &2.into()
        ),
        "{d}"
    );

    let g = Geneve::new(100, a("192.0.2.8")).ttl(5);
    assert!(made(nl.link().add("gen1", g).await, "Geneve (CONFIG_GENEVE)").await);
    nl.link()
        .set("gen1")
        .kind(Geneve::change().ttl(9).remote(a("192.0.2.9")))
        .await
        .unwrap();
    let d = data(&ns, "gen1");
    assert_eq!(
        (&d["id"], &d["remote"], &d["ttl"]),
        (&100.into(), &"192.0.2.9".into(), &9.into()),
        "{d}"
    );
    let e = nl
        .link()
        .set("gen1")
        .kind(Geneve::new(101, a("192.0.2.9")))
        .await
        .unwrap_err();
    assert!(e.kernel_message().is_some(), "{e:?}");
    assert_eq!(data(&ns, "gen1")["id"], 100);
}

#[tokio::test]
async fn metadata_tunnels_are_external() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    if !made(
        nl.link().add("gre1", Gre::new().external()).await,
        "GRE (CONFIG_NET_IPGRE)",
    )
    .await
    {
        return;
    }
    assert_eq!(data(&ns, "gre1")["external"], true, "{}", data(&ns, "gre1"));
    nl.link()
        .add("gtap1", Gretap::new().external())
        .await
        .unwrap();
    assert_eq!(data(&ns, "gtap1")["external"], true);
    nl.link()
        .add("ipip1", Ipip::new().external())
        .await
        .unwrap();
    assert_eq!(data(&ns, "ipip1")["external"], true);
    nl.link().add("t6", Ip6Tnl::new().external()).await.unwrap();
    assert_eq!(data(&ns, "t6")["external"], true);
    nl.link().add("gen1", Geneve::new_external()).await.unwrap();
    assert_eq!(data(&ns, "gen1")["external"], true);
    let e = nl.link().add("gen2", Geneve::change()).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "id", .. }),
        "{e:?}"
    );
}
