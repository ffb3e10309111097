//! Link kinds the host kernel lacks: dummy, vlan, bond, vrf, wireguard,
//! tunnels, geneve, xfrm, ipvlan.

use crate::common::{TestNs, feature_missing};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVlan, LinkAttribute, LinkInfo, LinkMessage,
};

const CREATE_EXCL: u16 = 0x400 | 0x200;

fn new_link(name: &str, info: Vec<LinkInfo>, extra: Vec<LinkAttribute>) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes.extend(extra);
    m.attributes.push(LinkAttribute::LinkInfo(info));
    RouteNetlinkMessage::NewLink(m)
}

fn is_unsupported(e: &tokio_netlink::Error) -> bool {
    e.errno() == Some(libc::EOPNOTSUPP)
}

#[tokio::test]
async fn dummy_and_vlan_links_through_the_engine() {
    let ns = TestNs::new().await;
    let rtnl = ns.client().rtnl();
    let dummy = new_link("dummy0", vec![LinkInfo::Kind(InfoKind::Dummy)], vec![]);
    if let Err(e) = rtnl.ack(dummy, CREATE_EXCL).await {
        if is_unsupported(&e) {
            return feature_missing("dummy links (CONFIG_DUMMY)", &e);
        }
        panic!("creating a dummy link: {e}");
    }
    let ip = ns.ip_json(&["-d", "link", "show", "dummy0"]);
    assert_eq!(ip[0]["linkinfo"]["info_kind"], "dummy");
    let index = ip[0]["ifindex"].as_u64().expect("ifindex") as u32;

    let vlan = new_link(
        "vlan5",
        vec![
            LinkInfo::Kind(InfoKind::Vlan),
            LinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(5)])),
        ],
        vec![LinkAttribute::Link(index)],
    );
    if let Err(e) = rtnl.ack(vlan, CREATE_EXCL).await {
        if is_unsupported(&e) {
            return feature_missing("802.1Q vlan links (CONFIG_VLAN_8021Q)", &e);
        }
        panic!("creating a vlan link: {e}");
    }
    let ip = ns.ip_json(&["-d", "link", "show", "vlan5"]);
    assert_eq!(ip[0]["linkinfo"]["info_kind"], "vlan");
    assert_eq!(ip[0]["linkinfo"]["info_data"]["id"], 5);
    assert_eq!(ip[0]["link"], "dummy0");

    // Deleting the lower device takes the vlan with it.
    let mut del = LinkMessage::default();
    del.header.index = index;
    rtnl.ack(RouteNetlinkMessage::DelLink(del), 0)
        .await
        .unwrap();
    // Other tests may have loaded tunnel modules, whose fallback devices
    // (gre0, tunl0…) appear in every new namespace: check only ours.
    let names: Vec<String> = ns
        .ip_json(&["link", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n == "dummy0" || n == "vlan5"),
        "{names:?}"
    );
}

// ---------------------------------------------------------------------------
// Link kinds the host kernel may lack, created through `nl.link().add(…)` and
// read back both through the library and through `ip -d -j link show`.
//
// Loading ip_gre, ip6_gre, ipip, sit, ip6_tunnel, ip_vti or ip6_vti makes the
// kernel put its fallback device (gre0, gretap0, erspan0, ip6gre0, tunl0,
// sit0, ip6tnl0, ip_vti0, ip6_vti0) in every namespace created afterwards
// (net.core.fb_tunnels_only_for_init_net = 0), so no test below uses those
// names or assumes a fresh namespace holds only `lo`.

use std::future::IntoFuture;
use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::IpProtocol;
use netlink_packet_route::link::{
    BondLacpRate as RawLacpRate, BondMode as RawBondMode, BondXmitHashPolicy as RawHash, InfoBond,
    InfoGeneve, InfoGre, InfoGre6, InfoIpTunnel, InfoIpVlan, InfoIpVtap, InfoPortData, InfoVrf,
    InfoVti, InfoXfrm, IpVlanFlags, IpVlanMode,
};
use serde_json::Value;
use tokio_netlink::Error;
use tokio_netlink::route::link::Link;
use tokio_netlink::route::link::kinds::{
    Bond, BondLacpRate, BondMode, BondXmitHashPolicy, Dummy, Geneve, Gre, Gretap, Ip6Gre,
    Ip6Gretap, Ip6Tnl, Ip6TnlMode, Ipip, Ipvlan, IpvlanFlag, IpvlanMode, Ipvtap, Sit, Vrf, Vti,
    Vti6, Wireguard, Xfrm,
};

/// The value of the first `$variant(x)` attribute in an info-data list.
macro_rules! attr {
    ($list:expr, $variant:path) => {
        $list.iter().find_map(|a| match a {
            $variant(x) => Some(x.clone()),
            _ => None,
        })
    };
}

/// The kernel lacks the kind: EOPNOTSUPP, "Unknown device type".
fn kind_missing(e: &Error) -> bool {
    is_unsupported(e) || e.kernel_message() == Some("Unknown device type")
}

/// Awaits a link creation. False (after reporting the missing feature) when
/// the kernel lacks the kind; panics on any other error.
async fn created<F>(add: F, feature: &str) -> bool
where
    F: IntoFuture<Output = tokio_netlink::Result<()>>,
{
    match add.await {
        Ok(()) => true,
        Err(e) if kind_missing(&e) => {
            feature_missing(feature, &e);
            false
        }
        Err(e) => panic!("creating {feature}: {e}"),
    }
}

/// Asserts that `e` is `InvalidInput` for `field`.
#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(r: tokio_netlink::Result<T>, field: &str) {
    match r {
        Err(Error::InvalidInput { field: f, .. }) if f == field => {}
        other => panic!("expected InvalidInput for {field:?}, got {other:?}"),
    }
}

/// `ip -d -j link show NAME`, the one link object.
fn ip_link(ns: &TestNs, name: &str) -> Value {
    let v = ns.ip_json(&["-d", "link", "show", name]);
    assert_eq!(v[0]["ifname"], name, "{v}");
    v[0].clone()
}

/// A GRE/VTI key as `ip -j` prints it (dotted quad).
fn key(k: u32) -> String {
    Ipv4Addr::from(k).to_string()
}

/// A TOS as `ip -j` prints it.
fn hex(v: u8) -> String {
    format!("{v:#x}")
}

async fn get(nl: &tokio_netlink::Netlink, name: &str) -> Link {
    nl.link()
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {name}: {e}"))
}

#[tokio::test]
async fn bond_with_two_dummy_ports() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    assert_invalid("balance-foo".parse::<BondMode>(), "mode");
    assert_invalid("medium".parse::<BondLacpRate>(), "lacp_rate");
    assert_invalid("layer5".parse::<BondXmitHashPolicy>(), "xmit_hash_policy");
    // lacp_rate needs 802.3ad (the kernel refuses it in other modes too).
    assert_invalid(
        nl.link()
            .add("bond1", Bond::new().lacp_rate(BondLacpRate::Fast))
            .await,
        "lacp_rate",
    );

    let bond = Bond::new()
        .mode("802.3ad".parse().unwrap())
        .miimon(100)
        .lacp_rate(BondLacpRate::Fast)
        .xmit_hash_policy("layer3+4".parse().unwrap());
    if !created(nl.link().add("bond1", bond), "bonding (CONFIG_BONDING)").await {
        return;
    }
    for port in ["bport0", "bport1"] {
        assert!(created(nl.link().add(port, Dummy), "dummy links (CONFIG_DUMMY)").await);
        nl.link().set(port).master("bond1").await.unwrap();
    }

    let l = get(&nl, "bond1").await;
    let ip = ip_link(&ns, "bond1");
    assert_eq!(l.kind(), Some("bond"));
    assert_eq!(ip["linkinfo"]["info_kind"], "bond");
    let Some(InfoData::Bond(d)) = l.info_data() else {
        panic!("bond info data: {:?}", l.info_data())
    };
    let ipd = &ip["linkinfo"]["info_data"];
    assert_eq!(attr!(d, InfoBond::Mode), Some(RawBondMode::Ieee8023Ad));
    assert_eq!(ipd["mode"], "802.3ad");
    assert_eq!(attr!(d, InfoBond::MiiMon), Some(100));
    assert_eq!(ipd["miimon"], 100);
    assert_eq!(attr!(d, InfoBond::AdLacpRate), Some(RawLacpRate::Fast));
    assert_eq!(ipd["ad_lacp_rate"], "fast");
    assert_eq!(attr!(d, InfoBond::XmitHashPolicy), Some(RawHash::Layer34));
    assert_eq!(ipd["xmit_hash_policy"], "layer3+4");

    for port in ["bport0", "bport1"] {
        let p = get(&nl, port).await;
        let ip = ip_link(&ns, port);
        assert_eq!(p.master(), Some(l.index()));
        assert_eq!(ip["master"], "bond1");
        assert_eq!(p.port_kind(), Some("bond"));
        assert_eq!(ip["linkinfo"]["info_slave_kind"], "bond");
        assert!(
            matches!(p.port_data(), Some(InfoPortData::BondPort(_))),
            "{:?}",
            p.port_data()
        );
    }
    // Freed ports have no master.
    nl.link().set("bport1").nomaster().await.unwrap();
    assert_eq!(get(&nl, "bport1").await.master(), None);
    assert!(ip_link(&ns, "bport1").get("master").is_none());
}

#[tokio::test]
async fn vrf_with_table_and_port() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    assert_invalid(nl.link().add("vrf1", Vrf::new(0)).await, "table");

    if !created(nl.link().add("vrf1", Vrf::new(10)), "vrf (CONFIG_NET_VRF)").await {
        return;
    }
    let l = get(&nl, "vrf1").await;
    let ip = ip_link(&ns, "vrf1");
    assert_eq!(l.kind(), Some("vrf"));
    assert_eq!(ip["linkinfo"]["info_kind"], "vrf");
    let Some(InfoData::Vrf(d)) = l.info_data() else {
        panic!("vrf info data: {:?}", l.info_data())
    };
    assert_eq!(attr!(d, InfoVrf::TableId), Some(10));
    assert_eq!(ip["linkinfo"]["info_data"]["table"], 10);

    assert!(created(nl.link().add("vport0", Dummy), "dummy links (CONFIG_DUMMY)").await);
    nl.link().set("vport0").master("vrf1").await.unwrap();
    let p = get(&nl, "vport0").await;
    let ip = ip_link(&ns, "vport0");
    assert_eq!(p.master(), Some(l.index()));
    assert_eq!(ip["master"], "vrf1");
    assert_eq!(p.port_kind(), Some("vrf"));
    assert_eq!(ip["linkinfo"]["info_slave_kind"], "vrf");
}

#[tokio::test]
async fn wireguard_link() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    assert_invalid(nl.link().add("wg 1", Wireguard).await, "name");

    if !created(nl.link().add("wg1", Wireguard).mtu(1420), "wireguard").await {
        return;
    }
    let l = get(&nl, "wg1").await;
    let ip = ip_link(&ns, "wg1");
    assert_eq!(l.kind(), Some("wireguard"));
    assert_eq!(ip["linkinfo"]["info_kind"], "wireguard");
    // WireGuard reports no IFLA_INFO_DATA; its settings live in genetlink.
    assert_eq!(l.info_data(), None);
    assert!(ip["linkinfo"].get("info_data").is_none());
    assert_eq!(l.mtu(), Some(1420));
    assert_eq!(ip["mtu"], 1420);
}

#[tokio::test]
async fn gre_family_tunnels() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let a4 = |s: &str| s.parse::<IpAddr>().unwrap();
    // Bad input: mixed families, the wrong family, a 21-bit flow label, a
    // multicast remote without a local address.
    assert_invalid(
        nl.link()
            .add(
                "gre1",
                Gre::new().local(a4("192.0.2.2")).remote(a4("2001:db8::1")),
            )
            .await,
        "remote",
    );
    assert_invalid(
        nl.link()
            .add("gre1", Gre::new().remote(a4("2001:db8::1")))
            .await,
        "remote",
    );
    assert_invalid(
        nl.link()
            .add("g6", Ip6Gre::new().local(a4("192.0.2.2")))
            .await,
        "local",
    );
    assert_invalid(
        nl.link()
            .add(
                "g6",
                Ip6Gre::new().remote(a4("2001:db8::1")).flowlabel(0x10_0000),
            )
            .await,
        "flowlabel",
    );
    assert_invalid(
        nl.link()
            .add("gtap1", Gretap::new().remote(a4("239.1.1.1")))
            .await,
        "local",
    );

    if !created(nl.link().add("gunder", Dummy), "dummy links (CONFIG_DUMMY)").await {
        return;
    }
    let under = get(&nl, "gunder").await.index();

    // gre and gretap over IPv4.
    let gre = Gre::new()
        .local(a4("192.0.2.2"))
        .remote(a4("192.0.2.1"))
        .ttl(64)
        .tos(0x10)
        .ikey(5)
        .okey(6)
        .dev("gunder");
    if !created(nl.link().add("gre1", gre), "gre (CONFIG_NET_IPGRE)").await {
        return;
    }
    let tap = Gretap::new()
        .local(a4("192.0.2.2"))
        .remote(a4("192.0.2.3"))
        .key(7);
    assert!(created(nl.link().add("gtap1", tap), "gretap (CONFIG_NET_IPGRE)").await);
    for (name, kind, remote, ikey, okey, ttl, tos, dev) in [
        ("gre1", "gre", "192.0.2.1", 5, 6, 64, 0x10, true),
        ("gtap1", "gretap", "192.0.2.3", 7, 7, 0, 0, false),
    ] {
        let l = get(&nl, name).await;
        let ip = ip_link(&ns, name);
        assert_eq!(l.kind(), Some(kind));
        assert_eq!(ip["linkinfo"]["info_kind"], kind);
        let d = match l.info_data() {
            Some(InfoData::GreTun(d)) if kind == "gre" => d,
            Some(InfoData::GreTap(d)) if kind == "gretap" => d,
            other => panic!("{name} info data: {other:?}"),
        };
        let ipd = &ip["linkinfo"]["info_data"];
        assert_eq!(
            attr!(d, InfoGre::Remote).map(|a| a.to_string()).unwrap(),
            remote
        );
        assert_eq!(ipd["remote"], remote);
        assert_eq!(attr!(d, InfoGre::Local), Some("192.0.2.2".parse().unwrap()));
        assert_eq!(ipd["local"], "192.0.2.2");
        assert_eq!(attr!(d, InfoGre::IKey), Some(ikey));
        assert_eq!(ipd["ikey"], key(ikey));
        assert_eq!(attr!(d, InfoGre::OKey), Some(okey));
        assert_eq!(ipd["okey"], key(okey));
        assert_eq!(attr!(d, InfoGre::Ttl), Some(ttl));
        assert_eq!(ipd["ttl"], ttl);
        assert_eq!(attr!(d, InfoGre::Tos), Some(tos));
        if tos != 0 {
            assert_eq!(ipd["tos"], hex(tos));
        }
        if dev {
            assert_eq!(attr!(d, InfoGre::Link), Some(under));
            assert_eq!(l.link(), Some(under));
            assert_eq!(ip["link"], "gunder");
        }
    }

    // ip6gre and ip6gretap over IPv6.
    let g6 = Ip6Gre::new()
        .local(a4("2001:db8::2"))
        .remote(a4("2001:db8::1"))
        .ttl(10)
        .tclass(0x20)
        .flowlabel(0x12345)
        .key(9)
        .dev("gunder");
    if !created(nl.link().add("g6", g6), "ip6gre (CONFIG_IPV6_GRE)").await {
        return;
    }
    let g6tap = Ip6Gretap::new()
        .local(a4("2001:db8::2"))
        .remote(a4("2001:db8::3"));
    assert!(created(nl.link().add("g6tap", g6tap), "ip6gretap (CONFIG_IPV6_GRE)").await);
    // (name, kind, remote, key, hoplimit, tclass, flowlabel, dev)
    for (name, kind, remote, k, ttl, tclass, fl, dev) in [
        (
            "g6",
            "ip6gre",
            "2001:db8::1",
            Some(9),
            10,
            0x20,
            0x12345,
            true,
        ),
        ("g6tap", "ip6gretap", "2001:db8::3", None, 64, 0, 0, false),
    ] {
        let l = get(&nl, name).await;
        let ip = ip_link(&ns, name);
        assert_eq!(l.kind(), Some(kind));
        assert_eq!(ip["linkinfo"]["info_kind"], kind);
        let d = match l.info_data() {
            Some(InfoData::GreTun6(d)) if kind == "ip6gre" => d,
            Some(InfoData::GreTap6(d)) if kind == "ip6gretap" => d,
            other => panic!("{name} info data: {other:?}"),
        };
        let ipd = &ip["linkinfo"]["info_data"];
        assert_eq!(
            attr!(d, InfoGre6::Remote).map(|a| a.to_string()).unwrap(),
            remote
        );
        assert_eq!(ipd["remote"], remote);
        assert_eq!(
            attr!(d, InfoGre6::Local),
            Some("2001:db8::2".parse().unwrap())
        );
        assert_eq!(ipd["local"], "2001:db8::2");
        assert_eq!(attr!(d, InfoGre6::Ttl), Some(ttl));
        assert_eq!(ipd["ttl"], ttl);
        // The ip defaults: encaplimit 4.
        assert_eq!(attr!(d, InfoGre6::EncapLimit), Some(4));
        assert_eq!(ipd["encap_limit"], 4);
        let flowinfo = attr!(d, InfoGre6::FlowLabel).unwrap();
        assert_eq!(flowinfo >> 20, tclass);
        assert_eq!(ipd["tclass"], format!("0x{tclass:02x}"));
        assert_eq!(flowinfo & 0xf_ffff, fl);
        assert_eq!(ipd["flowlabel"], format!("0x{fl:05x}"));
        match k {
            Some(k) => {
                assert_eq!(attr!(d, InfoGre6::IKey), Some(k));
                assert_eq!(attr!(d, InfoGre6::OKey), Some(k));
                assert_eq!(ipd["ikey"], key(k));
                assert_eq!(ipd["okey"], key(k));
            }
            None => assert!(ipd.get("ikey").is_none(), "{ipd}"),
        }
        if dev {
            assert_eq!(attr!(d, InfoGre6::Link), Some(under));
            assert_eq!(l.link(), Some(under));
            assert_eq!(ip["link"], "gunder");
        }
    }
}

/// `proto` as `ip -j` prints it for ipip/sit/ip6tnl.
fn proto_name(p: &IpProtocol, v6: bool) -> &'static str {
    match p {
        IpProtocol::Ipip if v6 => "ipip6",
        IpProtocol::Ipip => "ipip",
        IpProtocol::Ipv6 if v6 => "ip6ip6",
        IpProtocol::Ipv6 => "ip6ip",
        IpProtocol::Mpls => "mplsip",
        IpProtocol::Hopopts => "any",
        other => panic!("unexpected tunnel protocol {other:?}"),
    }
}

#[tokio::test]
async fn ipip_sit_and_ip6tnl_tunnels() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let a = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_invalid(
        nl.link()
            .add(
                "ipip1",
                Ipip::new().local(a("192.0.2.2")).remote(a("2001:db8::1")),
            )
            .await,
        "remote",
    );
    assert_invalid(
        nl.link()
            .add("sit1", Sit::new().local(a("2001:db8::1")))
            .await,
        "local",
    );
    assert_invalid(
        nl.link()
            .add("t6", Ip6Tnl::new().remote(a("192.0.2.1")))
            .await,
        "remote",
    );
    assert_invalid("ip4ip4".parse::<Ip6TnlMode>(), "mode");

    if !created(nl.link().add("tunder", Dummy), "dummy links (CONFIG_DUMMY)").await {
        return;
    }
    let under = get(&nl, "tunder").await.index();
    let ipip = Ipip::new()
        .local(a("192.0.2.2"))
        .remote(a("192.0.2.5"))
        .ttl(20)
        .tos(0x20)
        .dev("tunder");
    if !created(nl.link().add("ipip1", ipip), "ipip (CONFIG_NET_IPIP)").await {
        return;
    }
    let sit = Sit::new()
        .local(a("192.0.2.2"))
        .remote(a("192.0.2.6"))
        .ttl(30);
    if !created(nl.link().add("sit1", sit), "sit (CONFIG_IPV6_SIT)").await {
        return;
    }
    for (name, kind, remote, ttl, tos, dev) in [
        ("ipip1", "ipip", "192.0.2.5", 20, 0x20, true),
        ("sit1", "sit", "192.0.2.6", 30, 0, false),
    ] {
        let l = get(&nl, name).await;
        let ip = ip_link(&ns, name);
        assert_eq!(l.kind(), Some(kind));
        assert_eq!(ip["linkinfo"]["info_kind"], kind);
        let Some(InfoData::IpTunnel(d)) = l.info_data() else {
            panic!("{name} info data: {:?}", l.info_data())
        };
        let ipd = &ip["linkinfo"]["info_data"];
        assert_eq!(attr!(d, InfoIpTunnel::Remote), Some(a(remote)));
        assert_eq!(ipd["remote"], remote);
        assert_eq!(attr!(d, InfoIpTunnel::Local), Some(a("192.0.2.2")));
        assert_eq!(ipd["local"], "192.0.2.2");
        assert_eq!(attr!(d, InfoIpTunnel::Ttl), Some(ttl));
        assert_eq!(ipd["ttl"], ttl);
        assert_eq!(attr!(d, InfoIpTunnel::Tos), Some(tos));
        if tos != 0 {
            assert_eq!(ipd["tos"], hex(tos));
        }
        let proto = attr!(d, InfoIpTunnel::Protocol).expect("proto");
        assert_eq!(ipd["proto"], proto_name(&proto, false));
        if dev {
            assert_eq!(attr!(d, InfoIpTunnel::Link), Some(under));
            assert_eq!(l.link(), Some(under));
            assert_eq!(ip["link"], "tunder");
        }
    }

    let t6 = Ip6Tnl::new()
        .mode("ip6ip6".parse().unwrap())
        .local(a("2001:db8::2"))
        .remote(a("2001:db8::5"))
        .ttl(40)
        .tclass(0x08)
        .encaplimit(2)
        .dev("tunder");
    if !created(nl.link().add("t6", t6), "ip6tnl (CONFIG_IPV6_TUNNEL)").await {
        return;
    }
    let l = get(&nl, "t6").await;
    let ip = ip_link(&ns, "t6");
    assert_eq!(l.kind(), Some("ip6tnl"));
    assert_eq!(ip["linkinfo"]["info_kind"], "ip6tnl");
    let Some(InfoData::IpTunnel(d)) = l.info_data() else {
        panic!("ip6tnl info data: {:?}", l.info_data())
    };
    let ipd = &ip["linkinfo"]["info_data"];
    assert_eq!(attr!(d, InfoIpTunnel::Protocol), Some(IpProtocol::Ipv6));
    assert_eq!(ipd["proto"], "ip6ip6");
    assert_eq!(attr!(d, InfoIpTunnel::Remote), Some(a("2001:db8::5")));
    assert_eq!(ipd["remote"], "2001:db8::5");
    assert_eq!(attr!(d, InfoIpTunnel::Local), Some(a("2001:db8::2")));
    assert_eq!(ipd["local"], "2001:db8::2");
    assert_eq!(attr!(d, InfoIpTunnel::Ttl), Some(40));
    assert_eq!(ipd["ttl"], 40);
    assert_eq!(attr!(d, InfoIpTunnel::EncapLimit), Some(2));
    assert_eq!(ipd["encap_limit"], 2);
    assert_eq!(
        attr!(d, InfoIpTunnel::FlowInfo).map(|f| f >> 20),
        Some(0x08)
    );
    assert_eq!(ipd["tclass"], "0x08");
    assert_eq!(attr!(d, InfoIpTunnel::Link), Some(under));
    assert_eq!(l.link(), Some(under));
    assert_eq!(ip["link"], "tunder");

    // mode any, the default.
    let any = Ip6Tnl::new().remote(a("2001:db8::6"));
    assert!(created(nl.link().add("t6any", any), "ip6tnl").await);
    let Some(InfoData::IpTunnel(d)) = get(&nl, "t6any").await.info_data() else {
        panic!("ip6tnl info data")
    };
    let proto = attr!(d, InfoIpTunnel::Protocol).expect("proto");
    assert_eq!(proto_name(&proto, true), "any");
    assert_eq!(
        ip_link(&ns, "t6any")["linkinfo"]["info_data"]["proto"],
        "any"
    );
}

#[tokio::test]
async fn vti_and_vti6_tunnels() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let a = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_invalid(
        nl.link()
            .add(
                "vti1",
                Vti::new().local(a("2001:db8::2")).remote(a("192.0.2.7")),
            )
            .await,
        "remote",
    );
    assert_invalid(
        nl.link()
            .add("vti61", Vti6::new().remote(a("192.0.2.7")))
            .await,
        "remote",
    );

    let vti = Vti::new()
        .local(a("192.0.2.2"))
        .remote(a("192.0.2.7"))
        .ikey(8)
        .okey(9);
    if !created(nl.link().add("vti1", vti), "vti (CONFIG_NET_IPVTI)").await {
        return;
    }
    let vti6 = Vti6::new()
        .local(a("2001:db8::2"))
        .remote(a("2001:db8::7"))
        .key(10);
    if !created(nl.link().add("vti61", vti6), "vti6 (CONFIG_IPV6_VTI)").await {
        return;
    }
    for (name, kind, local, remote, ikey, okey) in [
        ("vti1", "vti", "192.0.2.2", "192.0.2.7", 8, 9),
        ("vti61", "vti6", "2001:db8::2", "2001:db8::7", 10, 10),
    ] {
        let l = get(&nl, name).await;
        let ip = ip_link(&ns, name);
        assert_eq!(l.kind(), Some(kind));
        assert_eq!(ip["linkinfo"]["info_kind"], kind);
        let Some(InfoData::Vti(d)) = l.info_data() else {
            panic!("{name} info data: {:?}", l.info_data())
        };
        let ipd = &ip["linkinfo"]["info_data"];
        assert_eq!(attr!(d, InfoVti::Local), Some(a(local)));
        assert_eq!(ipd["local"], local);
        assert_eq!(attr!(d, InfoVti::Remote), Some(a(remote)));
        assert_eq!(ipd["remote"], remote);
        assert_eq!(attr!(d, InfoVti::IKey), Some(ikey));
        assert_eq!(ipd["ikey"], key(ikey));
        assert_eq!(attr!(d, InfoVti::OKey), Some(okey));
        assert_eq!(ipd["okey"], key(okey));
    }
}

#[tokio::test]
async fn geneve_tunnels() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let a = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_invalid(
        nl.link()
            .add("gen1", Geneve::new(1 << 24, a("192.0.2.8")))
            .await,
        "id",
    );
    assert_invalid(
        nl.link()
            .add("gen1", Geneve::new(100, a("239.1.1.1")))
            .await,
        "remote",
    );

    let g4 = Geneve::new(100, a("192.0.2.8"))
        .ttl(30)
        .tos(0x10)
        .dstport(6082);
    if !created(nl.link().add("gen1", g4), "geneve (CONFIG_GENEVE)").await {
        return;
    }
    assert!(
        created(
            nl.link().add("gen6", Geneve::new(101, a("2001:db8::8"))),
            "geneve"
        )
        .await
    );
    // (name, id, remote, ttl, port)
    for (name, id, remote, ttl, port) in [
        ("gen1", 100, "192.0.2.8", 30, 6082),
        ("gen6", 101, "2001:db8::8", 0, 6081),
    ] {
        let l = get(&nl, name).await;
        let ip = ip_link(&ns, name);
        assert_eq!(l.kind(), Some("geneve"));
        assert_eq!(ip["linkinfo"]["info_kind"], "geneve");
        let Some(InfoData::Geneve(d)) = l.info_data() else {
            panic!("{name} info data: {:?}", l.info_data())
        };
        let ipd = &ip["linkinfo"]["info_data"];
        assert_eq!(attr!(d, InfoGeneve::Id), Some(id));
        assert_eq!(ipd["id"], id);
        match a(remote) {
            IpAddr::V4(r) => {
                assert_eq!(attr!(d, InfoGeneve::Remote), Some(r));
                assert_eq!(ipd["remote"], remote);
            }
            IpAddr::V6(r) => {
                assert_eq!(attr!(d, InfoGeneve::Remote6), Some(r));
                assert_eq!(ipd["remote6"], remote);
            }
        }
        assert_eq!(attr!(d, InfoGeneve::Ttl), Some(ttl));
        assert_eq!(ipd["ttl"], ttl);
        assert_eq!(attr!(d, InfoGeneve::Port), Some(port));
        assert_eq!(ipd["port"], port);
    }
    let Some(InfoData::Geneve(d)) = get(&nl, "gen1").await.info_data() else {
        panic!("geneve info data")
    };
    assert_eq!(attr!(d, InfoGeneve::Tos), Some(0x10));
    assert_eq!(ip_link(&ns, "gen1")["linkinfo"]["info_data"]["tos"], "0x10");
}

#[tokio::test]
async fn xfrm_interface() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    assert_invalid(nl.link().add("xf1", Xfrm::new(0)).await, "if_id");

    if !created(nl.link().add("xunder", Dummy), "dummy links (CONFIG_DUMMY)").await {
        return;
    }
    let under = get(&nl, "xunder").await.index();
    if !created(
        nl.link().add("xf1", Xfrm::new(42).dev("xunder")),
        "xfrm interfaces (CONFIG_XFRM_INTERFACE)",
    )
    .await
    {
        return;
    }
    let l = get(&nl, "xf1").await;
    let ip = ip_link(&ns, "xf1");
    assert_eq!(l.kind(), Some("xfrm"));
    assert_eq!(ip["linkinfo"]["info_kind"], "xfrm");
    let Some(InfoData::Xfrm(d)) = l.info_data() else {
        panic!("xfrm info data: {:?}", l.info_data())
    };
    assert_eq!(attr!(d, InfoXfrm::IfId), Some(42));
    // ip prints if_id in hex.
    assert_eq!(ip["linkinfo"]["info_data"]["if_id"], "0x2a");
    assert_eq!(attr!(d, InfoXfrm::Link), Some(under));
    assert_eq!(l.link(), Some(under));
    assert_eq!(ip["link"], "xunder");
}

#[tokio::test]
async fn ipvlan_and_ipvtap() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    assert_invalid("l4".parse::<IpvlanMode>(), "mode");
    assert_invalid("open".parse::<IpvlanFlag>(), "flag");

    // The kernel keeps the mode and flag per lower device (every ipvlan on a
    // device shares the last one set), hence one lower device each.
    for lower in ["ivunder0", "ivunder1"] {
        if !created(nl.link().add(lower, Dummy), "dummy links (CONFIG_DUMMY)").await {
            return;
        }
    }
    let ipvlan = Ipvlan::new("ivunder0")
        .mode(IpvlanMode::L3)
        .flag(IpvlanFlag::Private);
    if !created(nl.link().add("ipvl1", ipvlan), "ipvlan (CONFIG_IPVLAN)").await {
        return;
    }
    let ipvtap = Ipvtap::new("ivunder1")
        .mode("l2".parse().unwrap())
        .flag("vepa".parse().unwrap());
    if !created(nl.link().add("ipvt1", ipvtap), "ipvtap (CONFIG_IPVTAP)").await {
        return;
    }

    let l = get(&nl, "ipvl1").await;
    let ip = ip_link(&ns, "ipvl1");
    assert_eq!(l.kind(), Some("ipvlan"));
    assert_eq!(ip["linkinfo"]["info_kind"], "ipvlan");
    let Some(InfoData::IpVlan(d)) = l.info_data() else {
        panic!("ipvlan info data: {:?}", l.info_data())
    };
    assert_eq!(attr!(d, InfoIpVlan::Mode), Some(IpVlanMode::L3));
    assert_eq!(ip["linkinfo"]["info_data"]["mode"], "l3");
    assert_eq!(attr!(d, InfoIpVlan::Flags), Some(IpVlanFlags::Private));
    assert_eq!(ip["linkinfo"]["info_data"]["private"], true);
    assert_eq!(l.link(), Some(get(&nl, "ivunder0").await.index()));
    assert_eq!(ip["link"], "ivunder0");

    let l = get(&nl, "ipvt1").await;
    let ip = ip_link(&ns, "ipvt1");
    assert_eq!(l.kind(), Some("ipvtap"));
    assert_eq!(ip["linkinfo"]["info_kind"], "ipvtap");
    let Some(InfoData::IpVtap(d)) = l.info_data() else {
        panic!("ipvtap info data: {:?}", l.info_data())
    };
    assert_eq!(attr!(d, InfoIpVtap::Mode), Some(IpVlanMode::L2));
    assert_eq!(ip["linkinfo"]["info_data"]["mode"], "l2");
    assert_eq!(attr!(d, InfoIpVtap::Flags), Some(IpVlanFlags::Vepa));
    assert_eq!(ip["linkinfo"]["info_data"]["vepa"], true);
    assert_eq!(l.link(), Some(get(&nl, "ivunder1").await.index()));
    assert_eq!(ip["link"], "ivunder1");
}

/// vishvananda/netlink's LLIPAddr: a neighbour on an NBMA gre tunnel (no
/// `remote`) whose link-layer address is its underlay IPv4 address.
#[tokio::test]
async fn neighbour_with_an_ip_link_layer_address_on_nbma_gre() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let local: IpAddr = "192.0.2.1".parse().unwrap();
    if !created(nl.link().add("gre1", Gre::new().local(local)), "gre").await {
        return;
    }
    nl.link().set("gre1").up().await.unwrap();
    nl.address().add("gre1", "10.9.0.1/24").await.unwrap();
    nl.neighbour()
        .add("gre1", "10.9.0.2")
        .lladdr_ip("198.51.100.2")
        .await
        .expect("neighbour with an IP lladdr");
    let n = nl
        .neighbour()
        .list()
        .dev("gre1")
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.destination() == Some("10.9.0.2".parse().unwrap()))
        .expect("listed");
    assert_eq!(n.lladdr_ip(), Some("198.51.100.2".parse().unwrap()));
    assert_eq!(n.mac(), None);
    let ip = ns.ip_json(&["neigh", "show", "dev", "gre1"]);
    assert_eq!(ip[0]["lladdr"], "198.51.100.2", "{ip}");
    let e = nl
        .neighbour()
        .add("gre1", "10.9.0.3")
        .lladdr_ip("198.51.100")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.cause(),
            Error::InvalidInput {
                field: "lladdr",
                ..
            }
        ),
        "{e}"
    );
}

/// The `Vlan` builder itself (the raw-message test above checks the
/// engine): id, 802.1ad protocol, flags, read back by `ip -d -j`.
#[tokio::test]
async fn vlan_links_through_the_builder() {
    use tokio_netlink::route::link::kinds::{Vlan, VlanProtocol};
    let ns = TestNs::new().await;
    let nl = ns.client();
    if !created(nl.link().add("lower0", Dummy), "dummy links (CONFIG_DUMMY)").await {
        return;
    }
    if !created(
        nl.link().add(
            "vlan7",
            Vlan::new("lower0", 7)
                .protocol(VlanProtocol::Ieee8021Ad)
                .reorder_hdr(false)
                .loose_binding(true),
        ),
        "802.1Q vlan links (CONFIG_VLAN_8021Q)",
    )
    .await
    {
        return;
    }
    let ip = ip_link(&ns, "vlan7");
    assert_eq!(ip["linkinfo"]["info_kind"], "vlan");
    let d = &ip["linkinfo"]["info_data"];
    assert_eq!(d["id"], 7, "{d}");
    assert_eq!(d["protocol"], "802.1ad", "{d}");
    let flags: Vec<&str> = d["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    assert!(
        flags.contains(&"LOOSE_BINDING") && !flags.contains(&"REORDER_HDR"),
        "{d}"
    );
    assert_eq!(ip["link"], "lower0");
    assert_invalid(
        nl.link().add("vlan8", Vlan::new("lower0", 4095)).await,
        "id",
    );
    let e = nl
        .link()
        .add("vlan9", Vlan::new("nosuch0", 9))
        .await
        .unwrap_err();
    assert!(e.missing_link().is_some(), "{e}");
}

/// `l3mdev` rules (what `ip vrf` relies on), driven through the builder
/// and read back by `ip -j rule`.
#[tokio::test]
async fn l3mdev_rule() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    if !created(nl.link().add("vrf2", Vrf::new(20)), "vrf (CONFIG_NET_VRF)").await {
        return;
    }
    nl.rule().add().priority(900).l3mdev().await.unwrap();
    let rules = nl.rule().list().priority(900).await.unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert!(rules[0].l3mdev());
    let ip = ns.ip_json(&["rule", "show"]);
    let r = ip
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["priority"] == 900)
        .unwrap_or_else(|| panic!("{ip}"));
    // ip prints `lookup [l3mdev-table]`: in JSON a null-valued key.
    assert!(r.get("l3mdev").is_some(), "{r}");
}
