//! NexthopHandle against the kernel, cross-checked with `ip -j nexthop`
//! and `ip -j route`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::TestNs;
use futures::StreamExt;
use netlink_packet_route::route::RouteProtocol;
use serde_json::{Value, json};
use tokio_netlink::route::events::{ChangeKind, Event, Group};
use tokio_netlink::route::nexthop::{GroupMember, GroupType, NexthopObject, Resilient};
use tokio_netlink::{Error, Netlink};

/// v0 (192.0.2.1/24) and v1, both up, so gateways on 192.0.2.0/24 resolve.
async fn with_veth() -> TestNs {
    let ns = TestNs::new().await;
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "v1"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
    ns
}

fn names(ns: &TestNs) -> HashMap<u64, String> {
    ns.ip_json(&["link", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["ifindex"].as_u64().unwrap(),
                l["ifname"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A nexthop in `ip -j nexthop show`'s shape (without `protocol`, whose
/// names come from /etc/iproute2).
fn as_ip(nh: &NexthopObject, names: &HashMap<u64, String>) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(nh.id()));
    if nh.is_group() {
        let g: Vec<Value> = nh
            .group()
            .iter()
            .map(|m| match m.weight {
                1 => json!({"id": m.id}),
                w => json!({"id": m.id, "weight": w}),
            })
            .collect();
        o.insert("group".into(), Value::Array(g));
        if let Some(r) = nh.resilient() {
            assert_eq!(nh.group_type(), Some(GroupType::Resilient));
            o.insert("type".into(), json!("resilient"));
            o.insert(
                "resilient_args".into(),
                json!({"buckets": r.buckets, "idle_timer": r.idle_timer,
                       "unbalanced_timer": r.unbalanced_timer,
                       "unbalanced_time": r.unbalanced_time}),
            );
        }
    }
    if nh.blackhole() {
        o.insert("blackhole".into(), Value::Null);
    }
    if let Some(g) = nh.gateway() {
        o.insert("gateway".into(), json!(g.to_string()));
    }
    if let Some(i) = nh.oif() {
        o.insert("dev".into(), json!(names[&u64::from(i)]));
    }
    if !nh.is_group() && !nh.blackhole() {
        let scope = match u8::from(nh.scope()) {
            253 => "link",
            254 => "host",
            _ => "global",
        };
        o.insert("scope".into(), json!(scope));
    }
    let flags: Vec<&str> = nh.onlink().then_some("onlink").into_iter().collect();
    o.insert("flags".into(), json!(flags));
    if nh.fdb() {
        o.insert("fdb".into(), Value::Null);
    }
    Value::Object(o)
}

fn ip_nexthops(ns: &TestNs, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["nexthop", "show"];
    all.extend_from_slice(args);
    let mut v = ns.ip_json(&all).as_array().unwrap().clone();
    for n in &mut v {
        n.as_object_mut().unwrap().remove("protocol");
    }
    v
}

async fn ours(ns: &TestNs, list: tokio_netlink::route::nexthop::NexthopList) -> Vec<Value> {
    let names = names(ns);
    list.await
        .unwrap()
        .iter()
        .map(|n| as_ip(n, &names))
        .collect()
}

async fn add_some(nl: &Netlink) {
    let nh = nl.nexthop();
    nh.add(1).via("192.0.2.2").dev("v0").await.unwrap();
    nh.add(2).blackhole().await.unwrap();
    nh.add(3)
        .via("192.0.2.3")
        .dev("v0")
        .onlink()
        .protocol(RouteProtocol::from(99))
        .await
        .unwrap();
    nh.add(4).via("192.0.2.5").fdb().await.unwrap();
    nh.add(5).dev("v0").await.unwrap();
    nh.add(10)
        .group([GroupMember::new(1).weight(2), GroupMember::new(3)])
        .await
        .unwrap();
    nh.add(11)
        .group(tokio_netlink::route::nexthop::parse_group("1/3,256").unwrap())
        .mpath()
        .await
        .unwrap();
}

#[tokio::test]
async fn single_blackhole_and_group_nexthops_agree_with_ip() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    let listed = nl.nexthop().list().await.unwrap();
    assert_eq!(
        listed.iter().map(|n| n.id()).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 10, 11]
    );
    assert_eq!(ours(&ns, nl.nexthop().list()).await, ip_nexthops(&ns, &[]));
    let three = nl.nexthop().get(3).await.unwrap();
    assert_eq!(u8::from(three.protocol()), 99);
    assert_eq!(
        ip_nexthops(&ns, &["id", "3"])[0]["flags"],
        json!(["onlink"])
    );
    assert_eq!(
        ns.ip_json(&["nexthop", "show", "id", "3"])[0]["protocol"],
        json!("openr"),
        "proto 99"
    );
    assert_eq!(
        nl.nexthop().get(11).await.unwrap().group_type(),
        Some(GroupType::Mpath)
    );
    assert_eq!(nl.nexthop().get(11).await.unwrap().group()[1].weight, 256);
    assert_eq!(nl.nexthop().get(2).await.unwrap().group_type(), None);

    // replace, then del.
    nl.nexthop()
        .replace(1)
        .via("192.0.2.9")
        .dev("v0")
        .await
        .unwrap();
    assert_eq!(ip_nexthops(&ns, &["id", "1"])[0]["gateway"], "192.0.2.9");
    let e = nl
        .nexthop()
        .add(1)
        .via("192.0.2.8")
        .dev("v0")
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
    nl.nexthop().del(10).await.unwrap();
    assert!(ip_nexthops(&ns, &[]).iter().all(|n| n["id"] != 10));
    let e = nl.nexthop().del(10).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.to_string(), "nexthop del id 10: no such nexthop");
    let e = nl.nexthop().get(10).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn list_filters_are_applied_by_the_kernel() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    let ids = |v: Vec<Value>| {
        v.iter()
            .map(|n| n["id"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(ours(&ns, nl.nexthop().list().dev("v0")).await),
        [1, 3, 5]
    );
    assert_eq!(ids(ip_nexthops(&ns, &["dev", "v0"])), [1, 3, 5]);
    assert_eq!(ids(ours(&ns, nl.nexthop().list().groups()).await), [10, 11]);
    assert_eq!(ids(ip_nexthops(&ns, &["groups"])), [10, 11]);
    assert_eq!(ids(ours(&ns, nl.nexthop().list().fdb()).await), [4]);
    // master: a nexthop through a bridge port.
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "v2", "type", "veth", "peer", "v3"]);
    ns.ip(&["link", "set", "v2", "master", "br0"]);
    for d in ["br0", "v2", "v3"] {
        ns.ip(&["link", "set", d, "up"]);
    }
    nl.nexthop()
        .add(20)
        .via("198.18.0.2")
        .dev("v2")
        .onlink()
        .await
        .unwrap();
    assert_eq!(
        ids(ours(&ns, nl.nexthop().list().master("br0")).await),
        [20]
    );
    assert_eq!(ids(ip_nexthops(&ns, &["master", "br0"])), [20]);
    let e = nl.nexthop().list().dev("nope0").await.unwrap_err();
    assert!(e.to_string().contains("no such link \"nope0\""), "{e}");
}

#[tokio::test]
async fn resilient_groups_agree_with_ip() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    let r = Resilient {
        buckets: Some(8),
        idle_timer: Some(10),
        unbalanced_timer: Some(20),
    };
    nl.nexthop()
        .add(30)
        .group([GroupMember::new(1), GroupMember::new(3)])
        .resilient(r)
        .await
        .unwrap();
    let got = nl.nexthop().get(30).await.unwrap();
    let info = got.resilient().unwrap();
    assert_eq!(
        (info.buckets, info.idle_timer, info.unbalanced_timer),
        (8, 10, 20)
    );
    assert_eq!(
        vec![as_ip(&got, &names(&ns))],
        ip_nexthops(&ns, &["id", "30"])
    );
    // Its buckets, as `ip -j nexthop bucket show id 30` lists them.
    let ours: Vec<(u64, u64, u64)> = nl
        .nexthop()
        .buckets()
        .id(30)
        .await
        .unwrap()
        .iter()
        .map(|b| (b.id().into(), b.index().into(), b.nhid().into()))
        .collect();
    let ip: Vec<(u64, u64, u64)> = ns
        .ip_json(&["nexthop", "bucket", "show", "id", "30"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let n = |v: &Value| v.as_u64().unwrap();
            (
                n(&b["id"]),
                n(&b["bucket"]["index"]),
                n(&b["bucket"]["nhid"]),
            )
        })
        .collect();
    assert_eq!(ours.len(), 8);
    assert_eq!(ours, ip);
    let held: Vec<_> = nl.nexthop().buckets().nhid(3).await.unwrap();
    assert!(!held.is_empty() && held.iter().all(|b| b.nhid() == 3 && b.id() == 30));
    assert_eq!(held.len(), ip.iter().filter(|b| b.2 == 3).count());
    // Without buckets the kernel refuses, and says why.
    let e = nl
        .nexthop()
        .add(31)
        .group([GroupMember::new(1)])
        .resilient(Resilient::default())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("Number of buckets not specified"),
        "{e}"
    );
    assert!(
        e.to_string().starts_with("nexthop add id 31 group 1: "),
        "{e}"
    );
}

#[tokio::test]
async fn routes_through_nexthop_objects_agree_with_ip_route() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    nl.route().add("198.51.100.0/24").nhid(10).await.unwrap();
    nl.route().add("203.0.113.0/24").nhid(1).await.unwrap();
    let ip = ns.ip_json(&["route", "show", "198.51.100.0/24"]);
    assert_eq!(ip[0]["nhid"], 10);
    let ip1 = ns.ip_json(&["route", "show", "203.0.113.0/24"]);
    assert_eq!(
        (ip1[0]["nhid"].clone(), ip1[0]["gateway"].clone()),
        (json!(1), json!("192.0.2.2"))
    );
    let routes = nl.route().list().await.unwrap();
    let find = |d: &str| {
        routes
            .iter()
            .find(|r| r.destination().map(|p| p.to_string()).as_deref() == Some(d))
            .unwrap_or_else(|| panic!("no route {d}"))
    };
    assert_eq!(find("198.51.100.0/24").nhid(), Some(10));
    let single = find("203.0.113.0/24");
    assert_eq!(single.nhid(), Some(1));
    assert_eq!(
        single.gateway().map(|g| g.to_string()).as_deref(),
        Some("192.0.2.2")
    );
    // Deleting the nexthop deletes its routes.
    nl.nexthop().del(1).await.unwrap();
    assert_eq!(ns.ip_json(&["route", "show", "203.0.113.0/24"]), json!([]));
    let e = nl
        .route()
        .add("192.0.2.128/25")
        .nhid(2)
        .via("192.0.2.2")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "nhid", .. }),
        "{e}"
    );
}

#[tokio::test]
async fn bad_input_names_the_field_or_carries_the_kernels_text() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    let nh = nl.nexthop();
    let field = |r: Result<(), Error>| match r {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(nh.add(40).group([GroupMember::new(1).weight(0)]).await),
        "weight"
    );
    assert_eq!(
        field(nh.add(40).group([GroupMember::new(1).weight(257)]).await),
        "weight"
    );
    assert_eq!(field(nh.add(40).group([]).await), "group");
    assert_eq!(
        field(nh.add(40).blackhole().via("192.0.2.2").await),
        "blackhole"
    );
    assert_eq!(
        field(nh.add(40).group([GroupMember::new(1)]).dev("v0").await),
        "group"
    );
    assert_eq!(field(nh.add(40).via("192.0.2.300").await), "via");
    assert_eq!(field(nh.add(40).via("192.0.2.2").mpath().await), "type");
    assert_eq!(
        field(nh.add(40).via("192.0.2.2").fdb().dev("v0").await),
        "fdb"
    );
    assert_eq!(
        field(
            nh.add(40)
                .group([GroupMember::new(1)])
                .resilient(Resilient {
                    idle_timer: Some(u32::MAX),
                    ..Resilient::default()
                })
                .await
        ),
        "idle_timer"
    );
    // A member that does not exist: the kernel's extended ACK.
    let e = nh
        .add(40)
        .group([GroupMember::new(1), GroupMember::new(99)])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "nexthop add id 40 group 1/99: Invalid argument: Invalid nexthop id"
    );
    let e = nh.add(40).via("192.0.2.2").dev("nope0").await.unwrap_err();
    assert!(e.to_string().contains("no such link \"nope0\""), "{e}");
    assert!(ip_nexthops(&ns, &[]).iter().all(|n| n["id"] != 40));
}

#[tokio::test]
async fn flush_deletes_what_the_listing_returns() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    assert_eq!(nl.nexthop().list().groups().flush().await.unwrap(), 2);
    assert_eq!(ip_nexthops(&ns, &["groups"]), Vec::<Value>::new());
    assert_eq!(ip_nexthops(&ns, &[]).len(), 5);
    // Deleting the members first empties no group here; all go.
    assert_eq!(nl.nexthop().list().flush().await.unwrap(), 5);
    assert_eq!(ip_nexthops(&ns, &[]), Vec::<Value>::new());
}

async fn next_nexthop_event(ev: &mut tokio_netlink::route::events::Events) -> Event {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), ev.next())
            .await
            .expect("a nexthop event within 10 s")
            .expect("stream open");
        if matches!(e, Event::NewNexthop(_) | Event::DelNexthop(_)) {
            return e;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_library_and_ip_changes() {
    let ns = with_veth().await;
    let nl = ns.client();
    let mut ev = nl.events(&[Group::Nexthop]);
    ev.ready().await.unwrap();
    nl.nexthop()
        .add(1)
        .via("192.0.2.2")
        .dev("v0")
        .await
        .unwrap();
    let e = next_nexthop_event(&mut ev).await;
    assert_eq!(e.change_kind(), ChangeKind::Created);
    let Event::NewNexthop(n) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (n.id(), n.gateway().unwrap().to_string()),
        (1, "192.0.2.2".to_owned())
    );
    ns.ip(&[
        "nexthop",
        "replace",
        "id",
        "1",
        "via",
        "192.0.2.7",
        "dev",
        "v0",
    ]);
    let e = next_nexthop_event(&mut ev).await;
    assert_eq!(e.change_kind(), ChangeKind::Replaced);
    let Event::NewNexthop(n) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(n.gateway().unwrap().to_string(), "192.0.2.7");
    ns.ip(&["nexthop", "add", "id", "2", "group", "1"]);
    let e = next_nexthop_event(&mut ev).await;
    let Event::NewNexthop(n) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((n.id(), n.group()), (2, vec![GroupMember::new(1)]));
    nl.nexthop().del(2).await.unwrap();
    let e = next_nexthop_event(&mut ev).await;
    assert_eq!(e.change_kind(), ChangeKind::Removed);
    let Event::DelNexthop(n) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(n.id(), 2);
}

/// The serde form is `ip -j nexthop`'s, but for `ifindex` (not `dev`) and
/// `true` (not `null`) for the bare flags.
#[cfg(feature = "serde")]
#[tokio::test]
async fn serialized_nexthops_use_ip_json_names() {
    let ns = with_veth().await;
    let nl = ns.client();
    add_some(&nl).await;
    nl.nexthop()
        .add(30)
        .group([GroupMember::new(1), GroupMember::new(3).weight(4)])
        .resilient(Resilient {
            buckets: Some(4),
            ..Resilient::default()
        })
        .await
        .unwrap();
    let names = names(&ns);
    let ours: Vec<Value> = nl
        .nexthop()
        .list()
        .await
        .unwrap()
        .iter()
        .map(|n| {
            let mut v = serde_json::to_value(n).unwrap();
            let o = v.as_object_mut().unwrap();
            if let Some(i) = o.remove("ifindex") {
                o.insert("dev".into(), json!(names[&i.as_u64().unwrap()]));
            }
            for k in ["blackhole", "fdb"] {
                if o.contains_key(k) {
                    o.insert(k.into(), Value::Null);
                }
            }
            v
        })
        .collect();
    let ip = ns.ip_json(&["nexthop", "show"]);
    let sorted = |v: &Value| {
        let mut o: Vec<(String, Value)> = v.as_object().unwrap().clone().into_iter().collect();
        o.sort_by(|a, b| a.0.cmp(&b.0));
        o
    };
    let ip: Vec<_> = ip.as_array().unwrap().iter().map(sorted).collect();
    assert_eq!(ours.iter().map(sorted).collect::<Vec<_>>(), ip);
    let e = Event::DelNexthop(nl.nexthop().get(2).await.unwrap());
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        (v["event"].clone(), v["nexthop"]["id"].clone()),
        (json!("del_nexthop"), json!(2))
    );
}

#[tokio::test]
async fn seg6_encap_nexthops_agree_with_ip() {
    use tokio_netlink::netlink_packet_route::route::{RouteLwTunnelEncap, RouteSeg6IpTunnel};
    let ns = with_veth().await;
    let nl = ns.client();
    let segs: Vec<std::net::Ipv6Addr> = vec![
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
    ];
    nl.nexthop()
        .add(8)
        .encap_seg6(true, &segs)
        .dev("v0")
        .await
        .unwrap();
    let ip = &ns.ip_json(&["nexthop", "show", "id", "8"])[0];
    assert_eq!(
        (ip["encap"].clone(), ip["mode"].clone(), ip["segs"].clone()),
        (
            json!("seg6"),
            json!("encap"),
            json!(["2001:db8::1", "2001:db8::2"])
        )
    );
    let n = nl.nexthop().get(8).await.unwrap();
    assert_eq!(n.encap_type(), Some(5));
    match n.encap().as_slice() {
        [RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(h))] => assert_eq!(h.segments, segs),
        other => panic!("{other:?}"),
    }
    let e = nl
        .nexthop()
        .add(9)
        .encap_seg6(true, &[])
        .dev("v0")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "encap seg6",
                ..
            }
        ),
        "{e}"
    );
}
