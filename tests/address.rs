//! AddressHandle against the kernel, cross-checked with `ip -j address`.

mod common;

use std::net::IpAddr;

use common::TestNs;
use tokio_netlink::Error;
use tokio_netlink::route::address::{Family, parse_scope, scope_name};
use tokio_netlink::route::link::kinds::Veth;

/// A namespace with an up veth pair v0/v1.
async fn ns_with_veth() -> (TestNs, tokio_netlink::Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().await.unwrap();
    (ns, nl)
}

fn addr_info(ns: &TestNs, dev: &str) -> Vec<serde_json::Value> {
    let v = ns.ip_json(&["address", "show", "dev", dev]);
    v[0]["addr_info"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn ipv4_with_label_broadcast_and_lifetimes() {
    let (ns, nl) = ns_with_veth().await;
    nl.address()
        .add("v0", "192.0.2.10/24")
        .label("v0:web")
        .broadcast("192.0.2.255")
        .lifetimes(3600, 1800)
        .await
        .unwrap();
    let ours = nl
        .address()
        .list()
        .link("v0")
        .family(Family::V4)
        .await
        .unwrap();
    assert_eq!(ours.len(), 1);
    let a = &ours[0];
    assert_eq!(a.address(), Some("192.0.2.10".parse().unwrap()));
    assert_eq!(a.prefix_len(), 24);
    assert_eq!(a.label(), Some("v0:web"));
    assert_eq!(a.broadcast(), Some("192.0.2.255".parse().unwrap()));
    assert_eq!(scope_name(a.scope()), "global");
    let valid = a.valid_lft().unwrap();
    assert!(valid <= 3600 && valid > 3500, "{valid}");
    assert!(a.preferred_lft().unwrap() <= 1800);
    assert_eq!(a.prefix().unwrap().to_string(), "192.0.2.10/24");

    let ip = addr_info(&ns, "v0");
    let v4: Vec<_> = ip.iter().filter(|i| i["family"] == "inet").collect();
    assert_eq!(v4.len(), 1);
    assert_eq!(v4[0]["local"], "192.0.2.10");
    assert_eq!(v4[0]["prefixlen"], 24);
    assert_eq!(v4[0]["label"], "v0:web");
    assert_eq!(v4[0]["broadcast"], "192.0.2.255");
    assert_eq!(v4[0]["scope"], "global");
    assert!(v4[0]["valid_life_time"].as_u64().unwrap() <= 3600);
}

#[tokio::test]
async fn ipv6_flags_peer_replace_and_delete() {
    let (ns, nl) = ns_with_veth().await;
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .noprefixroute()
        .await
        .unwrap();
    nl.address()
        .add("v0", "10.9.0.1/32")
        .peer("10.9.0.2")
        .scope(parse_scope("link").unwrap())
        .await
        .unwrap();
    let ours = nl.address().list().link("v0").await.unwrap();
    let v6 = ours
        .iter()
        .find(|a| a.address() == Some("2001:db8::1".parse().unwrap()))
        .expect("v6 address listed");
    assert_eq!(v6.family(), Family::V6);
    assert!(
        v6.flags()
            .contains(netlink_packet_route::address::AddressFlags::Nodad)
    );
    assert!(
        v6.flags()
            .contains(netlink_packet_route::address::AddressFlags::Noprefixroute)
    );
    let p2p = ours
        .iter()
        .find(|a| a.address() == Some("10.9.0.1".parse().unwrap()))
        .expect("p2p address listed");
    assert_eq!(p2p.peer(), Some("10.9.0.2".parse::<IpAddr>().unwrap()));
    assert_eq!(scope_name(p2p.scope()), "link");

    let ip = addr_info(&ns, "v0");
    let ip6 = ip.iter().find(|i| i["local"] == "2001:db8::1").unwrap();
    assert_eq!(ip6["nodad"], true);
    assert_eq!(ip6["noprefixroute"], true);
    let ipp = ip.iter().find(|i| i["local"] == "10.9.0.1").unwrap();
    assert_eq!(ipp["address"], "10.9.0.2");
    assert_eq!(ipp["scope"], "link");

    // add twice: exists; replace: updates the lifetime.
    let dup = nl
        .address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .await
        .unwrap_err();
    assert!(dup.is_exists(), "{dup}");
    nl.address()
        .replace("v0", "2001:db8::1/64")
        .nodad()
        .lifetimes(600, 300)
        .await
        .unwrap();
    let ip = addr_info(&ns, "v0");
    let ip6 = ip.iter().find(|i| i["local"] == "2001:db8::1").unwrap();
    assert!(ip6["valid_life_time"].as_u64().unwrap() <= 600);

    nl.address().del("v0", "2001:db8::1/64").await.unwrap();
    assert!(
        addr_info(&ns, "v0")
            .iter()
            .all(|i| i["local"] != "2001:db8::1")
    );
    let missing = nl.address().del("v0", "2001:db8::1/64").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
}

#[tokio::test]
async fn family_filter_matches_ip() {
    let (ns, nl) = ns_with_veth().await;
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.address().add("v1", "192.0.2.2/24").await.unwrap();
    nl.address()
        .add("v1", "2001:db8::2/64")
        .nodad()
        .await
        .unwrap();
    let v4: Vec<String> = nl
        .address()
        .list()
        .family(Family::V4)
        .await
        .unwrap()
        .iter()
        .map(|a| a.prefix().unwrap().to_string())
        .collect();
    let ip4 = ns.ip_json(&["-4", "address", "show"]);
    let mut ip4: Vec<String> = ip4
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["addr_info"].as_array().unwrap().clone())
        .map(|i| format!("{}/{}", i["local"].as_str().unwrap(), i["prefixlen"]))
        .collect();
    let mut ours = v4.clone();
    ours.sort();
    ip4.sort();
    assert_eq!(ours, ip4);
    let v1_index = nl.link().get("v1").await.unwrap().index();
    let on_v1 = nl
        .address()
        .list()
        .link(v1_index)
        .family(Family::V6)
        .await
        .unwrap();
    assert!(
        on_v1
            .iter()
            .all(|a| a.index() == v1_index && a.family() == Family::V6)
    );
    assert!(
        on_v1
            .iter()
            .any(|a| a.address() == Some("2001:db8::2".parse().unwrap()))
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let (_ns, nl) = ns_with_veth().await;
    let e = nl.address().add("v0", "10.0.0.1/33").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "prefix",
                ..
            }
        ),
        "{e}"
    );
    let e = nl
        .address()
        .add("v0", ("10.0.0.1".parse::<IpAddr>().unwrap(), 40))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "prefix",
                ..
            }
        ),
        "{e}"
    );
    let e = nl
        .address()
        .add("nosuch0", "10.0.0.1/24")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = nl
        .address()
        .add("v0", "10.0.0.1/24")
        .peer("2001:db8::9")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "peer", .. }),
        "{e}"
    );
    let e = nl
        .address()
        .add("v0", "2001:db8::5/64")
        .label("v0:x")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "label", .. }),
        "{e}"
    );
    let e = nl
        .address()
        .add("v0", "10.0.0.1/24")
        .lifetimes(10, 20)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "preferred_lft",
                ..
            }
        ),
        "{e}"
    );
    // As iproute2 checks: a label must start with the device's name.
    let e = nl
        .address()
        .add("v0", "10.0.0.1/24")
        .label("eth7:x")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "label", .. }),
        "{e}"
    );
    let v0 = nl.link().get("v0").await.unwrap().index();
    let e = nl
        .address()
        .add(v0, "10.0.0.1/24")
        .label("eth7:x")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "label", .. }),
        "{e}"
    );
}

#[tokio::test]
async fn ipv6_optimistic_home_and_mngtmpaddr_flags() {
    use netlink_packet_route::address::AddressFlags;
    let (ns, nl) = ns_with_veth().await;
    // The kernel keeps `optimistic` only with optimistic DAD enabled.
    let sysctl = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-qw"])
        .arg("net.ipv6.conf.v0.optimistic_dad=1")
        .status()
        .unwrap();
    assert!(sysctl.success());
    nl.address()
        .add("v0", "2001:db8:1::1/64")
        .optimistic()
        .await
        .unwrap();
    nl.address()
        .add("v0", "2001:db8:2::1/64")
        .home()
        .mngtmpaddr()
        .nodad()
        .await
        .unwrap();
    let ours = nl
        .address()
        .list()
        .link("v0")
        .family(Family::V6)
        .await
        .unwrap();
    let flags = |a: &str| {
        ours.iter()
            .find(|x| x.address() == Some(a.parse().unwrap()))
            .unwrap_or_else(|| panic!("{a} listed"))
            .flags()
    };
    let optimistic = flags("2001:db8:1::1").contains(AddressFlags::Optimistic);
    let f = flags("2001:db8:2::1");
    assert!(f.contains(AddressFlags::Homeaddress) && f.contains(AddressFlags::Managetempaddr));
    let ip = addr_info(&ns, "v0");
    let j1 = ip.iter().find(|i| i["local"] == "2001:db8:1::1").unwrap();
    // DAD may already have finished and cleared it: both must agree.
    assert_eq!(j1["optimistic"] == true, optimistic, "{j1}");
    let j2 = ip.iter().find(|i| i["local"] == "2001:db8:2::1").unwrap();
    assert_eq!(j2["home"], true, "{j2}");
    assert_eq!(j2["mngtmpaddr"], true, "{j2}");
}

/// IFA_PROTO: who added an address, as `ip -j addr` shows it.
#[tokio::test]
async fn address_proto_round_trips() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    nl.address()
        .add("v0", "192.0.2.1/24")
        .proto(99)
        .await
        .unwrap();
    let a = nl
        .address()
        .list()
        .link("v0")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.address() == Some("192.0.2.1".parse().unwrap()))
        .unwrap();
    assert_eq!(a.proto(), Some(99));
    let ip = ns.ip_json(&["addr", "show", "dev", "v0"]);
    let info = &ip[0]["addr_info"][0];
    // iproute2 6.1 may not print it; when it does, it agrees.
    if !info["protocol"].is_null() {
        assert_eq!(info["protocol"], 99, "{info}");
    }
    nl.address().add("v0", "192.0.2.2/24").await.unwrap();
    let b = nl
        .address()
        .list()
        .link("v0")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.address() == Some("192.0.2.2".parse().unwrap()))
        .unwrap();
    assert!(b.proto().is_none_or(|p| p == 0), "{:?}", b.proto());
}
