//! Route and bridge features the host kernel lacks: MPLS encapsulation,
//! bridge VLAN filtering with VLAN-tagged FDB entries.

use std::net::IpAddr;

use crate::common::{TestNs, feature_missing};
use netlink_packet_route::route::{RouteLwTunnelEncap, RouteMplsIpTunnel};
use tokio_netlink::route::link::kinds::{Bridge, Veth};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn mpls_encapsulation() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    let r = nl
        .route()
        .add("198.51.100.0/24")
        .via(ip("192.0.2.2"))
        .dev("v0")
        .encap_mpls(&[100, 200], None)
        .await;
    if let Err(e) = r {
        if e.errno() == Some(libc::EOPNOTSUPP) {
            return feature_missing("MPLS lightweight tunnels (mpls_iptunnel)", &e);
        }
        panic!("adding an MPLS-encapsulated route: {e}");
    }
    let route = nl
        .route()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.destination().unwrap().to_string() == "198.51.100.0/24")
        .unwrap();
    assert_eq!(route.encap_type(), Some(1), "LWTUNNEL_ENCAP_MPLS");
    let labels: Vec<u32> = route
        .encap()
        .iter()
        .find_map(|e| match e {
            RouteLwTunnelEncap::Mpls(RouteMplsIpTunnel::Destination(l)) => {
                Some(l.iter().map(|x| x.label).collect())
            }
            _ => None,
        })
        .expect("labels decoded");
    assert_eq!(labels, vec![100, 200]);
    let j = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(j[0]["encap"], "mpls");
    // iproute2 prints the label stack under "dst" too (its key overwrites).
    assert_eq!(j[0]["dst"], "100/200");
    let text = ns.ip(&["route", "show", "198.51.100.0/24"]);
    assert!(
        text.contains("encap mpls  100/200") || text.contains("encap mpls 100/200"),
        "{text}"
    );
}

#[tokio::test]
async fn bridge_vlan_filtering_and_vlan_fdb() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let br = nl
        .link()
        .add("br0", Bridge::new().vlan_filtering(true).default_pvid(10))
        .up()
        .await;
    if let Err(e) = br {
        if e.errno() == Some(libc::EOPNOTSUPP) {
            return feature_missing("bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)", &e);
        }
        panic!("creating a vlan-filtering bridge: {e}");
    }
    let l = nl.link().get("br0").await.unwrap();
    let data = format!("{:?}", l.info_data().expect("bridge data"));
    assert!(data.contains("VlanFiltering(true)"), "{data}");
    assert!(data.contains("VlanDefaultPvid(10)"), "{data}");
    let j = ns.ip_json(&["-d", "link", "show", "br0"]);
    assert_eq!(j[0]["linkinfo"]["info_data"]["vlan_filtering"], 1);
    assert_eq!(j[0]["linkinfo"]["info_data"]["vlan_default_pvid"], 10);

    nl.link().add("v0", Veth::peer("v1")).await.unwrap();
    nl.link().set("v0").master("br0").up().await.unwrap();
    nl.neighbour()
        .fdb_add("v0", "02:00:00:00:aa:01".parse().unwrap())
        .master()
        .vlan(10)
        .await
        .unwrap();
    let fdb = nl.neighbour().list().fdb().dev("v0").await.unwrap();
    let e = fdb
        .iter()
        .find(|n| n.mac() == Some("02:00:00:00:aa:01".parse().unwrap()))
        .expect("fdb entry");
    assert_eq!(e.vlan(), Some(10));
}
