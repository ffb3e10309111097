//! NeighbourHandle against the kernel, cross-checked with `ip -j neigh`
//! and `bridge -j fdb`.

mod common;

use std::net::IpAddr;
use std::process::Command;

use common::TestNs;
use netlink_packet_route::neighbour::NeighbourState;
use tokio_netlink::Error;
use tokio_netlink::route::link::MacAddr;
use tokio_netlink::route::link::kinds::{Bridge, Veth, Vxlan};
use tokio_netlink::route::neighbour::state_names;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

async fn setup() -> (TestNs, tokio_netlink::Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .await
        .unwrap();
    (ns, nl)
}

fn bridge_json(ns: &TestNs, args: &[&str]) -> serde_json::Value {
    let out = Command::new("bridge")
        .args(["-n", &ns.name, "-j"])
        .args(args)
        .output()
        .expect("run bridge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("bridge JSON")
}

#[tokio::test]
async fn neighbours_add_replace_del_agree_with_ip() {
    let (ns, nl) = setup().await;
    nl.neighbour()
        .add("v0", ip("192.0.2.7"))
        .lladdr(mac("02:00:00:00:00:07"))
        .await
        .unwrap();
    nl.neighbour()
        .add("v0", ip("2001:db8::7"))
        .lladdr(mac("02:00:00:00:00:08"))
        .state(NeighbourState::Stale)
        .router()
        .await
        .unwrap();
    let ours = nl.neighbour().list().dev("v0").await.unwrap();
    let v4 = ours
        .iter()
        .find(|n| n.destination() == Some(ip("192.0.2.7")))
        .unwrap();
    assert_eq!(v4.mac(), Some(mac("02:00:00:00:00:07")));
    assert_eq!(state_names(v4.state()), ["PERMANENT"]);
    let v6 = ours
        .iter()
        .find(|n| n.destination() == Some(ip("2001:db8::7")))
        .unwrap();
    assert_eq!(state_names(v6.state()), ["STALE"]);
    assert!(
        v6.flags()
            .contains(netlink_packet_route::neighbour::NeighbourFlags::Router)
    );

    let j = ns.ip_json(&["neigh", "show", "dev", "v0"]);
    let jn = j.as_array().unwrap();
    let j4 = jn.iter().find(|n| n["dst"] == "192.0.2.7").unwrap();
    assert_eq!(j4["lladdr"], "02:00:00:00:00:07");
    assert_eq!(j4["state"][0], "PERMANENT");
    let j6 = jn.iter().find(|n| n["dst"] == "2001:db8::7").unwrap();
    assert_eq!(j6["state"][0], "STALE");
    assert!(j6.as_object().unwrap().contains_key("router"));

    let e = nl
        .neighbour()
        .add("v0", ip("192.0.2.7"))
        .lladdr(mac("02:00:00:00:00:09"))
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
    nl.neighbour()
        .replace("v0", ip("192.0.2.7"))
        .lladdr(mac("02:00:00:00:00:09"))
        .await
        .unwrap();
    let j = ns.ip_json(&["neigh", "show", "192.0.2.7", "dev", "v0"]);
    assert_eq!(j[0]["lladdr"], "02:00:00:00:00:09");

    nl.neighbour().del("v0", ip("192.0.2.7")).await.unwrap();
    assert!(
        ns.ip_json(&["neigh", "show", "192.0.2.7", "dev", "v0"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let e = nl.neighbour().del("v0", ip("192.0.2.7")).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // The family filter.
    let only6 = nl
        .neighbour()
        .list()
        .family(tokio_netlink::route::address::Family::V6)
        .await
        .unwrap();
    assert!(
        only6
            .iter()
            .all(|n| n.destination().is_some_and(|d| d.is_ipv6()))
    );
}

#[tokio::test]
async fn proxy_entries() {
    let (ns, nl) = setup().await;
    nl.neighbour()
        .add("v0", ip("192.0.2.50"))
        .proxy()
        .await
        .unwrap();
    let ours = nl.neighbour().list().proxy().await.unwrap();
    assert!(
        ours.iter()
            .any(|n| n.destination() == Some(ip("192.0.2.50")))
    );
    let j = ns.ip_json(&["neigh", "show", "proxy"]);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|n| n["dst"] == "192.0.2.50")
    );
    nl.neighbour()
        .del("v0", ip("192.0.2.50"))
        .proxy()
        .await
        .unwrap();
    assert!(
        ns.ip_json(&["neigh", "show", "proxy"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn bridge_and_vxlan_fdb() {
    let (ns, nl) = setup().await;
    // (The host kernel lacks bridge vlan filtering: no `vlan` here.)
    nl.link().add("br0", Bridge::new()).up().await.unwrap();
    nl.link().set("v0").master("br0").await.unwrap();
    nl.neighbour()
        .fdb_add("v0", mac("02:00:00:00:aa:01"))
        .master()
        .await
        .unwrap();
    let fdb = nl.neighbour().list().fdb().dev("v0").await.unwrap();
    let e = fdb
        .iter()
        .find(|n| n.mac() == Some(mac("02:00:00:00:aa:01")))
        .expect("fdb entry listed");
    assert!(e.is_fdb());
    let br0 = nl.link().get("br0").await.unwrap().index();
    assert_eq!(e.master(), Some(br0));
    let j = bridge_json(&ns, &["fdb", "show", "dev", "v0"]);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|n| n["mac"] == "02:00:00:00:aa:01" && n["master"] == "br0")
    );

    nl.link()
        .add("vx0", Vxlan::new(42).dstport(4789).local(ip("192.0.2.1")))
        .await
        .unwrap();
    for remote in ["198.51.100.1", "198.51.100.2"] {
        nl.neighbour()
            .fdb_append("vx0", mac("00:00:00:00:00:00"))
            .self_()
            .dst(ip(remote))
            .await
            .unwrap();
    }
    let fdb = nl.neighbour().list().fdb().dev("vx0").await.unwrap();
    let mut dsts: Vec<IpAddr> = fdb.iter().filter_map(|n| n.destination()).collect();
    dsts.sort();
    assert_eq!(dsts, [ip("198.51.100.1"), ip("198.51.100.2")]);
    let j = bridge_json(&ns, &["fdb", "show", "dev", "vx0"]);
    let mut jd: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["dst"].as_str())
        .collect();
    jd.sort();
    assert_eq!(jd, ["198.51.100.1", "198.51.100.2"]);
    nl.neighbour()
        .fdb_del("vx0", mac("00:00:00:00:00:00"))
        .self_()
        .dst(ip("198.51.100.1"))
        .await
        .unwrap();
    let left = nl.neighbour().list().fdb().dev("vx0").await.unwrap();
    assert_eq!(
        left.iter()
            .filter_map(|n| n.destination())
            .collect::<Vec<_>>(),
        [ip("198.51.100.2")]
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let (_ns, nl) = setup().await;
    let e = nl.neighbour().add("v0", ip("192.0.2.9")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "lladdr",
                ..
            }
        ),
        "{e}"
    );
    let e = nl
        .neighbour()
        .add("nosuch0", ip("192.0.2.9"))
        .lladdr(mac("02:00:00:00:00:01"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = nl
        .neighbour()
        .fdb_add("v0", mac("02:00:00:00:00:01"))
        .vni(1 << 24)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "vni", .. }), "{e}");
    let e = nl
        .neighbour()
        .fdb_add("v0", mac("02:00:00:00:00:01"))
        .vlan(4095)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "vlan", .. }),
        "{e}"
    );
    let e = "02:00".parse::<MacAddr>().unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "address",
                ..
            }
        ),
        "{e}"
    );
}
