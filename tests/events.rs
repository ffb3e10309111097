//! Multicast change events against the kernel: each kind observed for real,
//! losses reported, subscriptions closed on drop.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{TestNs, nth_addr};
use futures::StreamExt;
use tokio_netlink::route::events::{Event, Events, Group};
use tokio_netlink::route::link::MacAddr;
use tokio_netlink::route::link::kinds::Veth;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The next event matching `f`, failing after 10 s rather than hanging.
async fn expect<T>(events: &mut Events, what: &str, mut f: impl FnMut(&Event) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} event"))
            .expect("stream open");
        if let Some(t) = f(&ev) {
            return t;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_kind_is_observed_with_its_fields() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut events = nl.events(&Group::all());
    events.ready().await.unwrap();

    // Links: made by the library and by ip.
    nl.link().add("v0", Veth::peer("v1")).await.unwrap();
    let idx = expect(&mut events, "NewLink v0", |e| match e {
        Event::NewLink(l) if l.name() == "v0" => Some(l.index()),
        _ => None,
    })
    .await;
    ns.ip(&["link", "set", "v0", "up"]);
    expect(&mut events, "NewLink v0 up", |e| match e {
        Event::NewLink(l) if l.index() == idx && l.is_up() => Some(()),
        _ => None,
    })
    .await;
    ns.ip(&["link", "set", "v1", "up"]);

    // Addresses.
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    expect(&mut events, "NewAddress", |e| match e {
        Event::NewAddress(a) if a.address() == Some(ip("192.0.2.1")) => {
            assert_eq!((a.prefix_len(), a.index()), (24, idx));
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["addr", "add", "2001:db8::1/64", "dev", "v0", "nodad"]);
    expect(&mut events, "NewAddress v6 by ip", |e| match e {
        Event::NewAddress(a) if a.address() == Some(ip("2001:db8::1")) => Some(()),
        _ => None,
    })
    .await;

    // Routes.
    nl.route()
        .add("198.51.100.0/24")
        .via(ip("192.0.2.254"))
        .await
        .unwrap();
    expect(&mut events, "NewRoute", |e| match e {
        Event::NewRoute(r) if r.destination().unwrap().to_string() == "198.51.100.0/24" => {
            assert_eq!(r.gateway(), Some(ip("192.0.2.254")));
            assert_eq!(r.oif(), Some(idx));
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["route", "del", "198.51.100.0/24"]);
    expect(&mut events, "DelRoute by ip", |e| match e {
        Event::DelRoute(r) if r.destination().unwrap().to_string() == "198.51.100.0/24" => {
            assert_eq!(r.raw().header.ty, 25, "RTM_DELROUTE");
            Some(())
        }
        _ => None,
    })
    .await;

    // Rules.
    nl.rule().add().priority(1234).table(77).await.unwrap();
    expect(&mut events, "NewRule", |e| match e {
        Event::NewRule(r) if r.priority() == 1234 => {
            assert_eq!(r.table(), 77);
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["rule", "del", "priority", "1234"]);
    expect(&mut events, "DelRule", |e| match e {
        Event::DelRule(r) if r.priority() == 1234 => Some(()),
        _ => None,
    })
    .await;

    // Neighbours.
    let mac: MacAddr = "02:00:00:00:00:07".parse().unwrap();
    nl.neighbour()
        .add("v0", ip("192.0.2.7"))
        .lladdr(mac)
        .await
        .unwrap();
    expect(&mut events, "NewNeighbour", |e| match e {
        Event::NewNeighbour(n) if n.destination() == Some(ip("192.0.2.7")) => {
            assert_eq!(n.mac(), Some(mac));
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["neigh", "del", "192.0.2.7", "dev", "v0"]);
    expect(&mut events, "DelNeighbour", |e| match e {
        Event::DelNeighbour(n) if n.destination() == Some(ip("192.0.2.7")) => Some(()),
        _ => None,
    })
    .await;

    // Address and link removal.
    nl.address().del("v0", "192.0.2.1/24").await.unwrap();
    expect(&mut events, "DelAddress", |e| match e {
        Event::DelAddress(a) if a.address() == Some(ip("192.0.2.1")) => Some(()),
        _ => None,
    })
    .await;
    ns.ip(&["link", "del", "v0"]);
    expect(&mut events, "DelLink", |e| match e {
        Event::DelLink(l) if l.index() == idx => {
            assert_eq!(l.name(), "v0");
            Some(())
        }
        _ => None,
    })
    .await;
    assert_eq!(events.losses(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losses_are_reported_and_the_stream_goes_on() {
    let ns = TestNs::new().await;
    let nl = tokio_netlink::Netlink::builder()
        .netns(ns.name.as_str())
        .event_receive_buffer(4096)
        .build()
        .unwrap();
    let mut events = nl.events(&[Group::Ipv4Route]);
    events.ready().await.unwrap();
    // A flood nobody reads: far more than 4 KiB of notifications.
    let rtnl = nl.rtnl();
    let adds = (0..2000u32).map(|i| {
        let (m, f) = common::add_blackhole(nth_addr(i), 100);
        rtnl.ack(m, f)
    });
    for r in futures::future::join_all(adds).await {
        r.unwrap();
    }
    expect(&mut events, "Lost", |e| {
        matches!(e, Event::Lost).then_some(())
    })
    .await;
    assert!(events.losses() >= 1);
    // Read what the buffer still holds (a full buffer drops new events too).
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), events.next()).await {}
    // The stream is still alive: a later change arrives.
    nl.route()
        .add("198.51.100.0/24")
        .kind(netlink_packet_route::route::RouteType::BlackHole)
        .table(5)
        .await
        .unwrap();
    expect(&mut events, "NewRoute after loss", |e| match e {
        Event::NewRoute(r) if r.table() == 5 => Some(()),
        _ => None,
    })
    .await;
}

/// Sockets with multicast groups in the namespace, from /proc/net/netlink.
fn subscribed_sockets(ns: &TestNs) -> usize {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "cat", "/proc/net/netlink"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // sk Eth Pid Groups ...: protocol 0 (ROUTE) with groups set.
            f.len() > 3 && f[1] == "0" && !f[3].trim_start_matches('0').is_empty()
        })
        .count()
}

#[tokio::test]
async fn dropping_the_stream_leaves_the_groups() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let before = subscribed_sockets(&ns);
    let mut events = nl.events(&[Group::Link, Group::Ipv4Route]);
    events.ready().await.unwrap();
    assert_eq!(subscribed_sockets(&ns), before + 1);
    drop(events);
    assert_eq!(subscribed_sockets(&ns), before);
}

#[test]
fn undecodable_notifications_are_items() {
    use tokio_netlink::conn::frame::Header;
    let raw = tokio_netlink::RawMessage {
        header: Header {
            len: 20,
            ty: 24,
            ..Header::default()
        },
        bytes: bytes::Bytes::from(vec![0u8; 20]),
    };
    assert!(matches!(Event::from_raw(raw), Event::Undecodable(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_id_events() {
    let ns = TestNs::new().await;
    let other = TestNs::new().await;
    let nl = ns.client();
    let mut events = nl.events(&[Group::Nsid]);
    events.ready().await.unwrap();
    // Assigning an id to the other namespace (as `ip netns set` does)
    // announces it.
    ns.ip(&["netns", "set", &other.name, "42"]);
    let raw = expect(&mut events, "NewNsid", |e| match e {
        Event::NewNsid(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    // struct rtgenmsg (4 bytes), then attributes; NETNSA_NSID (type 1) = 42.
    let mut attrs = &raw.bytes[20..];
    let mut nsid = None;
    while attrs.len() >= 8 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        if u16::from_ne_bytes([attrs[2], attrs[3]]) == 1 {
            nsid = Some(i32::from_ne_bytes([attrs[4], attrs[5], attrs[6], attrs[7]]));
        }
        attrs = attrs.get((len + 3) & !3..).unwrap_or(&[]);
    }
    assert_eq!(nsid, Some(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_port_and_nexthop_events_carry_their_family() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut events = nl.events(&[Group::Link, Group::Nexthop]);
    events.ready().await.unwrap();
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "v1"]);
    ns.ip(&["link", "set", "v0", "master", "br0"]);
    // The port's state as a port: AF_BRIDGE, on the link group.
    expect(&mut events, "AF_BRIDGE NewLink of v0", |e| match e {
        Event::NewLink(l) if l.name() == "v0" && l.is_bridge_port_info() => {
            assert_eq!(l.family_raw(), 7);
            assert_eq!(e.family(), Some(7));
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["link", "set", "v0", "up"]);
    expect(&mut events, "AF_UNSPEC NewLink of v0", |e| match e {
        Event::NewLink(l) if l.name() == "v0" && !l.is_bridge_port_info() => {
            assert_eq!((l.family_raw(), e.family()), (0, Some(0)));
            assert_eq!(l.kind(), Some("veth"));
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["nexthop", "add", "id", "5", "blackhole"]);
    expect(&mut events, "RTM_NEWNEXTHOP", |e| match e {
        Event::NewNexthop(n) => {
            assert_eq!(n.raw().header.ty, 104);
            assert_eq!((n.id(), n.blackhole()), (5, true));
            assert_eq!(e.family(), Some(2), "ip nexthop's blackhole is AF_INET");
            Some(())
        }
        _ => None,
    })
    .await;
    ns.ip(&["nexthop", "del", "id", "5"]);
    expect(&mut events, "RTM_DELNEXTHOP", |e| match e {
        Event::DelNexthop(n) if n.id() == 5 => Some(()),
        _ => None,
    })
    .await;
}

/// Issue #17 item 6: links and routes say whether they are new, replaced
/// or changed, as the kernel announces it; addresses do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_link_and_route_events_tell_created_from_changed() {
    use tokio_netlink::route::events::ChangeKind;
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut events = nl.events(&[
        Group::Link,
        Group::Ipv4Route,
        Group::Ipv6Route,
        Group::Ipv4Address,
    ]);
    events.ready().await.unwrap();
    // The next event for which `f` picks a value, with its change kind.
    async fn next<T>(
        events: &mut Events,
        what: &str,
        mut f: impl FnMut(&Event) -> Option<T>,
    ) -> (T, ChangeKind) {
        let mut kind = ChangeKind::Unknown;
        let v = expect(events, what, |e| {
            let v = f(e)?;
            kind = e.change_kind();
            Some(v)
        })
        .await;
        (v, kind)
    }
    let link = |name: &'static str| {
        move |e: &Event| match e {
            Event::NewLink(l) if l.name() == name => Some(()),
            _ => None,
        }
    };
    nl.link().add("v0", Veth::peer("v1")).await.unwrap();
    assert_eq!(
        next(&mut events, "v0 added", link("v0")).await.1,
        ChangeKind::Created
    );
    nl.link().set("v0").mtu(1400).await.unwrap();
    assert_eq!(
        next(&mut events, "v0 mtu", link("v0")).await.1,
        ChangeKind::Changed
    );
    nl.link().set("v0").up().await.unwrap();
    assert_eq!(
        next(&mut events, "v0 up", link("v0")).await.1,
        ChangeKind::Changed
    );
    ns.ip(&["addr", "add", "10.1.0.1/24", "dev", "v0"]);
    let addr = next(&mut events, "address", |e| {
        matches!(e, Event::NewAddress(_)).then_some(())
    })
    .await;
    assert_eq!(addr.1, ChangeKind::Unknown);

    let route = |dst: &'static str| {
        move |e: &Event| match e {
            Event::NewRoute(r)
                if r.destination().map(|d| d.to_string()).as_deref() == Some(dst) =>
            {
                Some(())
            }
            _ => None,
        }
    };
    for (cmd, dst, want) in [
        ("add 10.2.0.0/24 dev v0", "10.2.0.0/24", ChangeKind::Created),
        (
            "replace 10.2.0.0/24 dev v0 mtu 1300",
            "10.2.0.0/24",
            ChangeKind::Replaced,
        ),
        (
            "replace 10.4.0.0/24 dev v0",
            "10.4.0.0/24",
            ChangeKind::Created,
        ),
        (
            "-6 add 2001:db8::/64 dev v0",
            "2001:db8::/64",
            ChangeKind::Created,
        ),
        (
            "-6 replace 2001:db8::/64 dev v0 mtu 1300",
            "2001:db8::/64",
            ChangeKind::Replaced,
        ),
        (
            "-6 append 2001:db8::/64 via fe80::1 dev v0",
            "2001:db8::/64",
            ChangeKind::Appended,
        ),
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        if args[0] == "-6" {
            args.insert(1, "route");
        } else {
            args.insert(0, "route");
        }
        ns.ip(&args);
        assert_eq!(
            next(&mut events, cmd, route(dst)).await.1,
            want,
            "ip route {cmd}"
        );
    }
    ns.ip(&["link", "del", "v0"]);
    let gone = next(&mut events, "v0 deleted", |e| match e {
        Event::DelLink(l) if l.name() == "v0" => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(gone.1, ChangeKind::Removed);
}
