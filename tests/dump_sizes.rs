//! Dump entries larger than the kernel's default dump buffer: a link with
//! many alternative names (issue #11 item 5) and a route with 500 next hops
//! as the first entry of a fresh dump socket (item 6). Both used to vanish
//! from listings with no error.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use common::TestNs;
use futures::TryStreamExt;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkMessage;
use serde_json::Value;
use tokio_netlink::route::link::Link;
use tokio_netlink::route::link::kinds::Veth;
use tokio_netlink::route::route::NexthopSpec;

/// The most alternative names the kernel lets one link have at the longest
/// length (the IFLA_PROP_LIST nest must stay under 64 KiB).
const MAX_ALTNAMES: usize = 496;

/// `n` distinct alternative names of 127 bytes (ALTIFNAMSIZ - 1) for `dev`.
fn altnames(dev: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut s = format!("{dev}-{i:03}-");
            while s.len() < 127 {
                s.push('x');
            }
            s
        })
        .collect()
}

/// The link names `ip -j link show` lists.
fn ip_link_names(ns: &TestNs) -> BTreeSet<String> {
    let j = ns.ip_json(&["link", "show"]);
    j.as_array()
        .expect("array")
        .iter()
        .map(|l| l["ifname"].as_str().expect("ifname").to_owned())
        .collect()
}

fn names<'a>(links: impl IntoIterator<Item = &'a Link>) -> BTreeSet<String> {
    links.into_iter().map(|l| l.name().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_larger_than_the_dump_buffer_are_listed_with_the_links_after_them() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    // Ordinary links before and after the two large ones (a dump goes in
    // index order, and a lost entry took every later one with it).
    for (a, b) in [
        ("a0", "a1"),
        ("big0", "big1"),
        ("mid0", "mid1"),
        ("z0", "z1"),
    ] {
        nl.link().add(a, Veth::peer(b)).await.unwrap();
    }
    let big = altnames("big0", MAX_ALTNAMES);
    let mid = altnames("mid0", 300);
    let lines: String = big
        .iter()
        .map(|n| format!("link property add dev big0 altname {n}\n"))
        .chain(
            mid.iter()
                .map(|n| format!("link property add dev mid0 altname {n}\n")),
        )
        .collect();
    ns.ip_batch(&lines);

    let want = ip_link_names(&ns);
    assert_eq!(want.len(), 9, "lo and four veth pairs: {want:?}");

    // The sizes this test is about, read with single gets.
    let big_len = nl.link().get("big0").await.unwrap().raw().bytes.len();
    let mid_len = nl.link().get("mid0").await.unwrap().raw().bytes.len();
    assert!(big_len > 64 * 1024, "big0's RTM_NEWLINK is {big_len} bytes");
    assert!(
        (32 * 1024..64 * 1024).contains(&mid_len),
        "mid0's RTM_NEWLINK is {mid_len} bytes"
    );

    let listed = nl.link().list().await.unwrap();
    assert_eq!(names(&listed), want, "link().list()");
    let by_name = |n: &str| listed.iter().find(|l| l.name() == n).unwrap();
    assert_eq!(by_name("big0").altnames(), big, "big0 is listed whole");
    assert_eq!(by_name("mid0").altnames(), mid, "mid0 is listed whole");

    let raw: Vec<_> = nl
        .rtnl()
        .dump_raw(RouteNetlinkMessage::GetLink(LinkMessage::default()), 0)
        .try_collect()
        .await
        .unwrap();
    let raw: Vec<Link> = raw
        .into_iter()
        .map(|m| Link::from_raw(m).unwrap())
        .collect();
    assert_eq!(names(&raw), want, "rtnl().dump_raw(GetLink)");

    let watch = nl.watch::<Link>().await.unwrap();
    assert_eq!(names(&watch.snapshot()), want, "watch::<Link>()");
}

/// The gateways of `route show table TABLE` as iproute2 lists them, from
/// the second of two listings in one `ip -batch`: iproute2 (6.1) too opens
/// its socket fresh and misses such a route in its first listing.
fn ip_route_gateways(ns: &TestNs, table: u32) -> Vec<Vec<String>> {
    let line = format!("route show table {table}\n");
    let out = std::process::Command::new("ip")
        .args(["-n", &ns.name, "-j", "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(line.repeat(2).as_bytes())?;
            c.wait_with_output()
        })
        .expect("run ip -batch");
    assert!(out.status.success(), "ip -batch failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let listings: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listings.len(), 2, "two listings: {text}");
    listings[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["nexthops"]
                .as_array()
                .map(|nh| {
                    nh.iter()
                        .map(|h| h["gateway"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_first_entry_of_a_fresh_dump_socket_is_listed_on_the_first_call() {
    const TABLE: u32 = 100;
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    let v0 = nl.link().get("v0").await.unwrap().index();
    let gateways: Vec<IpAddr> = (0..500u32)
        .map(|i| IpAddr::V4(Ipv4Addr::new(10, (i / 250) as u8, (i % 250 + 1) as u8, 1)))
        .collect();
    let mut add = nl.route().add("203.0.113.0/24").table(TABLE);
    for gw in &gateways {
        add = add.nexthop(NexthopSpec::via(*gw).dev(v0).onlink());
    }
    add.await.unwrap();

    // A new client has no pooled dump socket: this listing is the first
    // dump of a fresh one, and the route is its first entry.
    let fresh = ns.client();
    let routes = fresh.route().list().table(TABLE).await.unwrap();
    assert_eq!(routes.len(), 1, "{routes:?}");
    let r = &routes[0];
    assert!(
        r.raw().bytes.len() > 4096,
        "the route's RTM_NEWROUTE is {} bytes, more than a first chunk held",
        r.raw().bytes.len()
    );
    let hops: Vec<String> = r
        .nexthops()
        .iter()
        .map(|h| h.gateway.unwrap().to_string())
        .collect();
    let want: Vec<String> = gateways.iter().map(|g| g.to_string()).collect();
    assert_eq!(hops, want);
    assert_eq!(ip_route_gateways(&ns, TABLE), vec![want]);
}
