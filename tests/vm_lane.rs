//! Tests needing kernel features the host may lack. `scripts/test.sh` runs
//! this binary on the host (where such tests skip with a printed reason) and
//! again inside a VM booted with a distribution kernel, where a missing
//! feature fails the test.

mod common;

use common::{TestNs, feature_missing};
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
    let names: Vec<String> = ns
        .ip_json(&["link", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["lo".to_string()]);
}
