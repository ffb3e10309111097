//! `ip route change` and routing realms against the kernel, cross-checked
//! with `ip -j route`.

mod common;

use common::TestNs;
use futures::TryStreamExt;
use tokio_netlink::route::link::kinds::Veth;

async fn setup() -> (TestNs, tokio_netlink::Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    (ns, nl)
}

fn ip_routes(ns: &TestNs, dst: &str) -> Vec<serde_json::Value> {
    ns.ip_json(&["route", "show", dst])
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn change_replaces_an_existing_route_and_never_creates_one() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("10.9.0.0/24")
        .via("192.0.2.2")
        .metric(5)
        .await
        .unwrap();
    nl.route()
        .change("10.9.0.0/24")
        .via("192.0.2.3")
        .metric(5)
        .await
        .unwrap();
    let r = ip_routes(&ns, "10.9.0.0/24");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["gateway"], "192.0.2.3");
    assert_eq!(r[0]["metric"], 5);
    let ours: Vec<_> = nl
        .route()
        .list()
        .to("10.9.0.0/24")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].gateway(), Some("192.0.2.3".parse().unwrap()));

    // A missing route: not found, and nothing created (replace would).
    let e = nl
        .route()
        .change("10.10.0.0/24")
        .via("192.0.2.2")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(
        e.to_string().starts_with("route change 10.10.0.0/24"),
        "{e}"
    );
    assert!(ip_routes(&ns, "10.10.0.0/24").is_empty());
    nl.route()
        .replace("10.10.0.0/24")
        .via("192.0.2.2")
        .await
        .unwrap();
    assert_eq!(ip_routes(&ns, "10.10.0.0/24").len(), 1);
}

#[tokio::test]
async fn realms_are_set_and_read_back() {
    let (ns, nl) = setup().await;
    nl.route()
        .add("10.8.0.0/24")
        .dev("v0")
        .realms(3, 7)
        .await
        .unwrap();
    nl.route()
        .add("10.7.0.0/24")
        .dev("v0")
        .realm(9)
        .await
        .unwrap();
    let r = ip_routes(&ns, "10.8.0.0/24");
    assert_eq!(r[0]["flow"], serde_json::json!({"from": "3", "to": "7"}));
    let r = ip_routes(&ns, "10.7.0.0/24");
    assert_eq!(r[0]["flow"]["to"], "9", "{r:?}");
    let text = ns.ip(&["route", "show", "10.8.0.0/24"]);
    assert!(text.contains("realms 3/7"), "{text}");
    let ours: Vec<_> = nl
        .route()
        .list()
        .to("10.8.0.0/24")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ours[0].realms(), Some((3, 7)));
    let ours: Vec<_> = nl
        .route()
        .list()
        .to("10.7.0.0/24")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ours[0].realms(), Some((0, 9)));
    // Changing the realm in place.
    nl.route()
        .change("10.7.0.0/24")
        .dev("v0")
        .realm(11)
        .await
        .unwrap();
    assert_eq!(ip_routes(&ns, "10.7.0.0/24")[0]["flow"]["to"], "11");
}
