//! Bad input to the NETLINK_ROUTE builders: refused with
//! `Error::InvalidInput` naming the field, before anything is sent, and
//! never a panic. Each test checks with `ip` that the kernel's state did not
//! change.

mod common;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

use common::TestNs;
use netlink_packet_route::route::RouteMetric;
use tokio_netlink::route::address::Family;
use tokio_netlink::route::link::TunTap;
use tokio_netlink::route::link::kinds::{Dummy, Veth, Vlan};
use tokio_netlink::route::route::NexthopSpec;
use tokio_netlink::{Error, Netlink};

fn assert_invalid(e: &Error, want: &str) {
    match e {
        Error::InvalidInput { field, reason } => {
            assert_eq!(*field, want, "{e}");
            assert!(!reason.is_empty(), "{e}");
        }
        other => panic!("expected InvalidInput {{ field: {want:?} }}, got {other:?}"),
    }
}

/// Everything of the namespace that the builders below could change.
fn state(ns: &TestNs) -> String {
    [
        &["-d", "link", "show"][..],
        &["addr", "show"],
        &["rule", "show"],
        &["-6", "rule", "show"],
        &["route", "show", "table", "all"],
        &["-6", "route", "show", "table", "all"],
        &["neigh", "show"],
    ]
    .iter()
    .map(|args| ns.ip(args))
    .collect::<Vec<_>>()
    .join("\n")
}

fn has_link(ns: &TestNs, name: &str) -> bool {
    std::process::Command::new("ip")
        .args(["-n", &ns.name, "link", "show", "dev", name])
        .output()
        .expect("run ip")
        .status
        .success()
}

/// A namespace with the veth pair `victim0`/`victim1` (down) besides lo.
async fn setup() -> (TestNs, Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link()
        .add("victim0", Veth::peer("victim1"))
        .await
        .expect("add victim0");
    (ns, nl)
}

#[tokio::test]
async fn nul_bytes_are_refused_not_truncated() {
    let (ns, nl) = setup().await;
    let before = state(&ns);

    // Each of these used to reach the kernel, which read up to the NUL.
    let e = nl.link().del("victim0\0junk").await.unwrap_err();
    assert_invalid(&e, "name");
    assert!(has_link(&ns, "victim0"), "victim0 was deleted");
    let e = nl.link().get("lo\0junk").await.unwrap_err();
    assert_invalid(&e, "name");
    let e = nl.link().add("nul\0x", Dummy).await.unwrap_err();
    assert_invalid(&e, "name");
    assert!(!has_link(&ns, "nul"));
    let e = nl.link().set("victim0").name("re\0x").await.unwrap_err();
    assert_invalid(&e, "name");
    let e = nl.link().add("v0", Veth::peer("p\0x")).await.unwrap_err();
    assert_invalid(&e, "peer name");
    assert!(!has_link(&ns, "v0") && !has_link(&ns, "p"));
    let e = nl
        .link()
        .set("victim0")
        .add_altname("alt\0x")
        .await
        .unwrap_err();
    assert_invalid(&e, "altname");
    let e = nl.link().set("victim0").alias("a\0b").await.unwrap_err();
    assert_invalid(&e, "alias");
    let e = nl
        .address()
        .add("victim0", "10.9.0.1/24")
        .label("victim0\0x")
        .await
        .unwrap_err();
    assert_invalid(&e, "label");
    let e = nl.rule().add().iif("lo\0x").priority(10).await.unwrap_err();
    assert_invalid(&e, "iif");
    let e = nl.rule().add().oif("lo\0x").priority(10).await.unwrap_err();
    assert_invalid(&e, "oif");
    let e = nl.link().list().kind("dummy\0x").await.unwrap_err();
    assert_invalid(&e, "kind");
    let e = nl
        .link()
        .add_tuntap("tun\0x", TunTap::tun())
        .await
        .unwrap_err();
    assert_invalid(&e, "name");
    assert!(!has_link(&ns, "tun"));

    assert_eq!(state(&ns), before, "nothing changed");
}

#[tokio::test]
async fn rule_del_without_a_selector_is_refused() {
    let (ns, nl) = setup().await;
    let before = state(&ns);
    let e = nl.rule().del().await.unwrap_err();
    assert_invalid(&e, "selector");
    let e = nl.rule().del().family(Family::V6).await.unwrap_err();
    assert_invalid(&e, "selector");
    // The kernel's wildcards select nothing either.
    let wildcards = [
        nl.rule().del().table(0),
        nl.rule().del().table_name("unspec"),
        nl.rule().del().fwmark(0, None),
        nl.rule().del().from("0.0.0.0/0"),
        nl.rule().del().to("::/0"),
        nl.rule().del().tos(0).invert(),
        nl.rule().del().ipproto(0).sport(0, 0),
    ];
    for d in wildcards {
        assert_invalid(&d.await.unwrap_err(), "selector");
    }
    assert_eq!(state(&ns), before, "the local rule is still there");
    let local = ns.ip_json(&["rule", "show", "priority", "0"]);
    assert_eq!(local[0]["table"], "local", "{local}");

    // One selector is enough, as for `ip rule del`.
    nl.rule().add().priority(1234).table(77).await.expect("add");
    nl.rule()
        .del()
        .priority(1234)
        .await
        .expect("del by priority");
    assert_eq!(state(&ns), before);
}

#[tokio::test]
async fn mpls_labels_over_20_bits_are_refused() {
    let (ns, nl) = setup().await;
    let before = state(&ns);
    let add = |labels: Vec<u32>| {
        nl.route()
            .add("10.8.0.0/24")
            .dev("lo")
            .table(100)
            .encap_mpls(&labels, None)
    };
    // 0x100064 used to be sent as label 100.
    for labels in [vec![0x10_0064], vec![16, u32::MAX], vec![], vec![16; 31]] {
        let e = add(labels.clone()).await.unwrap_err();
        assert_invalid(&e, "encap mpls");
        assert!(e.to_string().contains("label") || e.to_string().contains("labels"));
    }
    assert_eq!(state(&ns), before);
}

#[tokio::test]
async fn mac_text_takes_hex_digits_only() {
    let (ns, nl) = setup().await;
    let before = state(&ns);
    // from_str_radix took a sign: "+a" was read as 0a.
    for bad in [
        "+a:bb:cc:dd:ee:ff",
        "aa:bb:cc:dd:ee:+f",
        "-1:0:0:0:0:0",
        " a:1:2:3:4:5",
    ] {
        let e = nl.link().set("victim0").address_str(bad).await.unwrap_err();
        assert_invalid(&e, "address");
    }
    assert_eq!(state(&ns), before);
}

#[tokio::test]
async fn altnames_follow_the_interface_name_rules() {
    let (ns, nl) = setup().await;
    let before = state(&ns);
    // These were added, and then neither `ip` nor a get could name them.
    for bad in ["a/b", "a b", "a:b", ".", "..", "tab\t", "", "à"] {
        let e = nl
            .link()
            .set("victim0")
            .mtu(1400)
            .add_altname(bad)
            .await
            .unwrap_err();
        assert_invalid(&e, "altname");
        let e = nl.link().set("victim0").del_altname(bad).await.unwrap_err();
        assert_invalid(&e, "altname");
    }
    let e = nl
        .link()
        .set("victim0")
        .add_altname(&"a".repeat(128))
        .await
        .unwrap_err();
    assert_invalid(&e, "altname");
    assert_eq!(state(&ns), before, "not even the mtu changed");
    let long = "a".repeat(127);
    nl.link()
        .set("victim0")
        .add_altname(&long)
        .await
        .expect("127 bytes is the limit");
    assert_eq!(
        nl.link().get(long.as_str()).await.unwrap().name(),
        "victim0"
    );
}

#[tokio::test]
async fn oversized_input_is_an_error_not_a_panic() {
    let (ns, nl) = setup().await;
    let before = state(&ns);
    // 65,532 bytes overflowed nla_len; 65,539 panicked on a slice index.
    for n in [256, 65_532, 65_539, 1 << 20] {
        let e = nl
            .link()
            .set("victim0")
            .alias(&"a".repeat(n))
            .await
            .unwrap_err();
        assert_invalid(&e, "alias");
    }
    let mut r = nl.route().add("10.7.0.0/24").table(100);
    for i in 0..4096u32 {
        r = r.nexthop(NexthopSpec::via(IpAddr::V4(Ipv4Addr::from(
            0x0a06_0000 + i,
        ))));
    }
    let e = r.await.unwrap_err();
    assert_invalid(&e, "nexthop");
    assert!(e.to_string().contains("4096 next hops"), "{e}");
    let seg = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    for segs in [vec![], vec![seg; 128]] {
        let e = nl
            .route()
            .add("2001:db8:5::/64")
            .dev("lo")
            .encap_seg6(true, &segs)
            .await
            .unwrap_err();
        assert_invalid(&e, "encap seg6");
    }
    let mut r = nl.route().add("10.7.0.0/24").dev("lo").table(100);
    for _ in 0..8192 {
        r = r.route_metric(RouteMetric::Mtu(1400));
    }
    assert_invalid(&r.await.unwrap_err(), "route_metric");
    let e = nl
        .route()
        .add("10.7.0.0/24")
        .dev("lo")
        .route_metric(RouteMetric::CcAlgo("cubic\0".into()))
        .await
        .unwrap_err();
    assert_invalid(&e, "congctl");
    assert_eq!(state(&ns), before);
}

type Call = Pin<Box<dyn Future<Output = tokio_netlink::Result<()>> + Send>>;
/// `(what, field, takes, call)`.
type Method = (
    &'static str,
    &'static str,
    Takes,
    Box<dyn Fn(String) -> Call>,
);

/// Which of the table's inputs a method refuses: names refuse all four,
/// free text (an alias, a kind) only the NUL and the 64 KiB string.
#[derive(Clone, Copy, PartialEq)]
enum Takes {
    Name,
    Text,
}

/// Every builder method that takes a string, as `(what, field, takes, call)`.
fn string_methods(nl: &Netlink) -> Vec<Method> {
    use Takes::*;
    macro_rules! m {
        ($what:expr, $field:expr, $takes:expr, |$nl:ident, $s:ident| $body:expr) => {{
            let $nl = nl.clone();
            let f: Box<dyn Fn(String) -> Call> = Box::new(move |$s: String| {
                let $nl = $nl.clone();
                Box::pin(async move { $body })
            });
            ($what, $field, $takes, f)
        }};
    }
    vec![
        m!("link add", "name", Name, |nl, s| nl
            .link()
            .add(&s, Dummy)
            .await),
        m!("link add_tuntap", "name", Name, |nl, s| nl
            .link()
            .add_tuntap(&s, TunTap::tap())
            .await
            .map(drop)),
        m!("link get", "name", Name, |nl, s| nl
            .link()
            .get(s)
            .await
            .map(drop)),
        m!("link del", "name", Name, |nl, s| nl.link().del(s).await),
        m!("link set", "name", Name, |nl, s| nl
            .link()
            .set(s)
            .mtu(1400)
            .await),
        m!("link set name", "name", Name, |nl, s| nl
            .link()
            .set("victim0")
            .name(&s)
            .await),
        m!("link set master", "name", Name, |nl, s| nl
            .link()
            .set("victim0")
            .master(s)
            .await),
        m!("link add_altname", "altname", Name, |nl, s| nl
            .link()
            .set("victim0")
            .add_altname(&s)
            .await),
        m!("link del_altname", "altname", Name, |nl, s| nl
            .link()
            .set("victim0")
            .del_altname(&s)
            .await),
        m!("link set address_str", "address", Name, |nl, s| nl
            .link()
            .set("victim0")
            .address_str(&s)
            .await),
        m!("link set alias", "alias", Text, |nl, s| nl
            .link()
            .set("victim0")
            .alias(&s)
            .await),
        m!("link add alias", "alias", Text, |nl, s| nl
            .link()
            .add("d1", Dummy)
            .alias(&s)
            .await),
        m!("veth peer", "peer name", Name, |nl, s| nl
            .link()
            .add("v0", Veth::peer(&s))
            .await),
        m!("vlan link", "name", Name, |nl, s| nl
            .link()
            .add("vl0", Vlan::new(s, 5))
            .await),
        m!("link list kind", "kind", Text, |nl, s| nl
            .link()
            .list()
            .kind(&s)
            .await
            .map(drop)),
        m!("link list master", "name", Name, |nl, s| nl
            .link()
            .list()
            .master(s)
            .await
            .map(drop)),
        m!("address add link", "name", Name, |nl, s| nl
            .address()
            .add(s, "10.9.0.1/24")
            .await),
        m!("address add label", "label", Name, |nl, s| nl
            .address()
            .add("victim0", "10.9.0.1/24")
            .label(&s)
            .await),
        m!("address del link", "name", Name, |nl, s| nl
            .address()
            .del(s, "10.9.0.1/24")
            .await),
        m!("address list link", "name", Name, |nl, s| nl
            .address()
            .list()
            .link(s)
            .await
            .map(drop)),
        m!("address add prefix", "prefix", Name, |nl, s| nl
            .address()
            .add("victim0", s.as_str())
            .await),
        m!("rule iif", "iif", Name, |nl, s| nl
            .rule()
            .add()
            .iif(&s)
            .await),
        m!("rule oif", "oif", Name, |nl, s| nl
            .rule()
            .add()
            .oif(&s)
            .await),
        m!("rule table_name", "table", Name, |nl, s| nl
            .rule()
            .add()
            .table_name(&s)
            .await),
        m!("rule from", "from", Name, |nl, s| nl
            .rule()
            .add()
            .from(s.as_str())
            .await),
        m!("route add prefix", "prefix", Name, |nl, s| nl
            .route()
            .add(s.as_str())
            .dev("lo")
            .await),
        m!("route table_name", "table", Name, |nl, s| nl
            .route()
            .add("10.6.0.0/24")
            .dev("lo")
            .table_name(&s)
            .await),
        m!("route dev", "name", Name, |nl, s| nl
            .route()
            .add("10.6.0.0/24")
            .dev(s)
            .await),
        m!("route nexthop dev", "name", Name, |nl, s| nl
            .route()
            .add("10.6.0.0/24")
            .nexthop(NexthopSpec::dev_only("lo"))
            .nexthop(NexthopSpec::dev_only(s))
            .await),
        m!("route congctl", "congctl", Text, |nl, s| nl
            .route()
            .add("10.6.0.0/24")
            .dev("lo")
            .route_metric(RouteMetric::CcAlgo(s))
            .await),
        m!("route get iif", "name", Name, |nl, s| nl
            .route()
            .get("10.6.0.1")
            .oif("lo")
            .iif(s)
            .await
            .map(drop)),
        m!("route list dev", "name", Name, |nl, s| nl
            .route()
            .list()
            .dev(s)
            .await
            .map(drop)),
        m!("neighbour add dev", "name", Name, |nl, s| nl
            .neighbour()
            .add(s, "10.9.0.2")
            .lladdr("02:00:00:00:00:01".parse()?)
            .await),
        m!("neighbour list dev", "name", Name, |nl, s| nl
            .neighbour()
            .list()
            .dev(s)
            .await
            .map(drop)),
        m!("parse_table", "table", Name, |_nl, s| {
            tokio_netlink::route::route::names::parse_table(&s).map(drop)
        }),
        m!("parse_protocol", "proto", Name, |_nl, s| {
            tokio_netlink::route::route::names::parse_protocol(&s).map(drop)
        }),
        m!("parse_scope", "scope", Name, |_nl, s| {
            tokio_netlink::route::address::parse_scope(&s).map(drop)
        }),
        m!("parse_state", "nud", Name, |_nl, s| {
            tokio_netlink::route::neighbour::parse_state(&s).map(drop)
        }),
    ]
}

#[tokio::test]
async fn every_string_method_refuses_bad_strings_before_sending() {
    let (ns, nl) = setup().await;
    let before = state(&ns);
    let huge = "x".repeat(64 * 1024);
    let cases: [(&str, bool); 5] = [
        ("\0", true),
        ("lo\0", true),
        (huge.as_str(), true),
        ("/", false),
        (" ", false),
    ];
    for (what, field, takes, call) in string_methods(&nl) {
        for &(input, for_text) in &cases {
            if takes == Takes::Text && !for_text {
                continue;
            }
            let sent = nl.rtnl().stats().requests_sent;
            let e = match call(input.to_owned()).await {
                Ok(()) => panic!("{what} accepted {:?}", &input[..input.len().min(8)]),
                Err(e) => e,
            };
            assert_invalid(&e, field);
            assert_eq!(
                nl.rtnl().stats().requests_sent,
                sent,
                "{what} sent a request for {:?}",
                &input[..input.len().min(8)]
            );
        }
    }
    assert_eq!(state(&ns), before);
    // Free text takes what a name may not.
    nl.link()
        .set("victim0")
        .alias("to rack 3 / port 1")
        .await
        .unwrap();
    assert!(nl.link().list().kind("/").await.unwrap().is_empty());
}

/// xorshift64*: a deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A string of a random length (often near a limit) from an alphabet
    /// of the bytes the checks care about.
    fn string(&mut self) -> String {
        const LENS: [usize; 10] = [0, 1, 15, 16, 127, 128, 255, 256, 65_531, 65_540];
        const CHARS: [char; 12] = [
            'a', 'Z', '0', '\0', '/', ':', ' ', '\t', '.', 'à', '\u{a0}', '+',
        ];
        let len = match self.below(3) {
            0 => LENS[self.below(LENS.len() as u64) as usize],
            _ => self.below(20) as usize,
        };
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize])
            .collect()
    }
}

/// Random strings, lengths and counts into the builders: every outcome is
/// a result (a panic fails the test), and whatever the kernel accepted is
/// undone with a fresh namespace per round.
#[tokio::test]
async fn random_input_never_panics() {
    let seed = 0x5eed_1234_abcd_0001;
    let mut rng = Rng(seed);
    for round in 0..4 {
        let (ns, nl) = setup().await;
        for step in 0..150 {
            let s = rng.string();
            let n = rng.below(6000) as usize;
            let r = match rng.below(9) {
                0 => {
                    let peer = format!("p{}", step);
                    nl.link()
                        .add(&s, Veth::peer(&peer))
                        .alias(&rng.string())
                        .await
                }
                1 => {
                    let mut set = nl.link().set("victim0");
                    for _ in 0..rng.below(4) {
                        set = set.add_altname(&rng.string());
                    }
                    set = set.alias(&s);
                    if rng.below(4) == 0 {
                        set = set.address_str(&rng.string());
                    }
                    set.await
                }
                2 => nl.link().add("v0", Veth::peer(&s)).await,
                3 => nl.address().add("victim0", "10.5.0.1/24").label(&s).await,
                4 => {
                    // A weight out of 1..=256 now and then, not on most
                    // routes: it would be refused before the count is.
                    let bad = rng.below(8) == 0;
                    let mut r = nl.route().add("10.4.0.0/16").table(200);
                    for i in 0..n {
                        let w = match bad {
                            true => rng.below(300) as u16,
                            false => 1 + rng.below(256) as u16,
                        };
                        r = r.nexthop(
                            NexthopSpec::via(IpAddr::V4(Ipv4Addr::from(0x0a03_0000 + i as u32)))
                                .weight(w),
                        );
                    }
                    r.await
                }
                5 => {
                    let labels: Vec<u32> = (0..rng.below(40))
                        .map(|_| (rng.next() >> 40) as u32)
                        .collect();
                    let segs = vec![Ipv6Addr::LOCALHOST; rng.below(200) as usize];
                    let r = nl.route().add("10.4.0.0/16").dev("lo").table(200);
                    if rng.below(2) == 0 {
                        r.encap_mpls(&labels, Some(rng.below(256) as u8)).await
                    } else {
                        r.encap_seg6(rng.below(2) == 0, &segs).await
                    }
                }
                6 => {
                    nl.rule()
                        .add()
                        .iif(&s)
                        .oif(&rng.string())
                        .priority(500)
                        .await
                }
                7 => {
                    let mut d = nl.rule().del();
                    if rng.below(2) == 0 {
                        d = d.table_name(&s);
                    }
                    d.await
                }
                _ => {
                    nl.neighbour()
                        .add(s.as_str(), "10.5.0.9")
                        .lladdr("02:00:00:00:00:09".parse().unwrap())
                        .await
                }
            };
            // Input errors name a field; anything else came from the kernel.
            if let Err(Error::InvalidInput { field, .. }) = &r {
                assert!(
                    !field.is_empty(),
                    "seed {seed:#x} round {round} step {step}"
                );
            }
        }
        // The host's lo never moved: the namespace took everything.
        assert!(has_link(&ns, "lo"));
    }
}
