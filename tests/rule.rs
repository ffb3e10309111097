//! RuleHandle against the kernel, cross-checked with `ip -j rule`.

mod common;

use common::TestNs;
use netlink_packet_route::rule::RuleAction;
use tokio_netlink::Error;
use tokio_netlink::route::address::Family;

fn rule_at(ns: &TestNs, v6: bool, prio: u32) -> serde_json::Value {
    let args: &[&str] = if v6 {
        &["-6", "rule", "show"]
    } else {
        &["rule", "show"]
    };
    ns.ip_json(args)
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["priority"] == prio)
        .cloned()
        .unwrap_or_else(|| panic!("no rule at {prio}"))
}

#[tokio::test]
async fn ipv4_rules_with_selectors_agree_with_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.rule()
        .add()
        .priority(100)
        .from("10.0.0.0/8")
        .to("192.0.2.0/24")
        .table(1000)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(200)
        .fwmark(0x10, Some(0xff))
        .iif("lo")
        .table_name("main")
        .suppress_prefixlength(0)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(300)
        .uid_range(1000, 2000)
        .ipproto(6)
        .sport(1000, 2000)
        .dport(443, 443)
        .table(7)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(400)
        .to("198.51.100.0/24")
        .action(RuleAction::Blackhole)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(500)
        .from("203.0.113.0/24")
        .invert()
        .goto(600)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(600)
        .action(RuleAction::Nop)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(700)
        .oif("lo")
        .action(RuleAction::Prohibit)
        .await
        .unwrap();

    let rules = nl.rule().list().await.unwrap();
    let at = |p: u32| rules.iter().find(|r| r.priority() == p).unwrap();
    let r = at(100);
    assert_eq!(r.source().unwrap().to_string(), "10.0.0.0/8");
    assert_eq!(r.destination().unwrap().to_string(), "192.0.2.0/24");
    assert_eq!(r.table(), 1000);
    assert_eq!(r.action(), RuleAction::ToTable);
    let j = rule_at(&ns, false, 100);
    assert_eq!(j["src"], "10.0.0.0");
    assert_eq!(j["srclen"], 8);
    assert_eq!(j["dst"], "192.0.2.0");
    assert_eq!(j["dstlen"], 24);
    assert_eq!(j["table"], "1000");

    let r = at(200);
    assert_eq!((r.fwmark(), r.fwmask()), (Some(0x10), Some(0xff)));
    assert_eq!(r.iif(), Some("lo"));
    assert_eq!(r.table(), 254);
    assert_eq!(r.suppress_prefixlength(), Some(0));
    let j = rule_at(&ns, false, 200);
    assert_eq!(j["fwmark"], "0x10");
    assert_eq!(j["fwmask"], "0xff");
    assert_eq!(j["iif"], "lo");
    assert_eq!(j["table"], "main");
    assert_eq!(j["suppress_prefixlen"], 0);

    let r = at(300);
    assert_eq!(r.uid_range(), Some((1000, 2000)));
    assert_eq!(r.ip_proto(), Some(6));
    assert_eq!(r.sport_range(), Some((1000, 2000)));
    assert_eq!(r.dport_range(), Some((443, 443)));
    let j = rule_at(&ns, false, 300);
    assert_eq!(j["uid_start"], 1000);
    assert_eq!(j["uid_end"], 2000);
    assert_eq!(j["ipproto"], "tcp");
    assert_eq!(j["sport_start"], 1000);
    assert_eq!(j["dport"], 443, "ip prints a one-port range as dport");

    assert_eq!(at(400).action(), RuleAction::Blackhole);
    assert_eq!(rule_at(&ns, false, 400)["action"], "blackhole");
    let r = at(500);
    assert!(r.invert());
    assert_eq!(r.goto(), Some(600));
    let j = rule_at(&ns, false, 500);
    // `ip -j` prints flags as keys with a null value.
    assert!(j.as_object().unwrap().contains_key("not"), "{j}");
    assert_eq!(j["goto"], 600);
    assert_eq!(at(600).action(), RuleAction::Nop);
    assert!(
        rule_at(&ns, false, 600)
            .as_object()
            .unwrap()
            .contains_key("nop")
    );
    assert_eq!(at(700).oif(), Some("lo"));
    assert_eq!(rule_at(&ns, false, 700)["action"], "prohibit");

    // Delete by what identifies them; deleting again is not found.
    nl.rule().del().priority(100).await.unwrap();
    assert!(
        nl.rule()
            .list()
            .await
            .unwrap()
            .iter()
            .all(|r| r.priority() != 100)
    );
    let e = nl.rule().del().priority(100).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn ipv6_rules() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.rule()
        .add()
        .priority(1000)
        .from("2001:db8::/32")
        .table(300)
        .await
        .unwrap();
    nl.rule()
        .add()
        .family(Family::V6)
        .priority(1001)
        .fwmark(7, None)
        .table(301)
        .await
        .unwrap();
    let rules = nl.rule().list().family(Family::V6).await.unwrap();
    let r = rules.iter().find(|r| r.priority() == 1000).unwrap();
    assert_eq!(r.family(), Family::V6);
    assert_eq!(r.source().unwrap().to_string(), "2001:db8::/32");
    assert_eq!(r.table(), 300);
    let j = rule_at(&ns, true, 1000);
    assert_eq!(j["src"], "2001:db8::");
    assert_eq!(j["srclen"], 32);
    assert_eq!(rule_at(&ns, true, 1001)["table"], "301");
    // The IPv4 listing does not show them; the unfiltered one does.
    assert!(
        nl.rule()
            .list()
            .family(Family::V4)
            .await
            .unwrap()
            .iter()
            .all(|r| r.priority() != 1000)
    );
    let all = nl.rule().list().await.unwrap();
    assert!(
        all.iter()
            .any(|r| r.priority() == 1000 && r.family() == Family::V6)
    );
    assert!(all.iter().any(|r| r.family() == Family::V4));
}

#[tokio::test]
async fn bad_rules_are_refused_clearly() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let e = nl
        .rule()
        .add()
        .from("10.0.0.0/8")
        .to("2001:db8::/32")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "to", .. }), "{e}");
    let e = nl.rule().add().from("10.0.0.0/33").await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "from", .. }),
        "{e}"
    );
    let e = nl.rule().add().to("10.0.0.0/x").await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "to", .. }), "{e}");
    let e = nl
        .rule()
        .add()
        .table_name("no-such-table")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "table", .. }),
        "{e}"
    );
    let e = nl.rule().add().uid_range(5, 1).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "uidrange",
                ..
            }
        ),
        "{e}"
    );
    let e = nl
        .rule()
        .add()
        .iif("this-name-is-too-long")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "iif", .. }), "{e}");
    // The kernel's own refusal: goto a rule with a lower priority.
    let e = nl.rule().add().priority(50).goto(10).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(e.kernel_message().is_some(), "{e}");
    let e = nl
        .rule()
        .add()
        .priority(60)
        .from("10.0.0.0/8")
        .table(5)
        .await;
    e.unwrap();
    let e = nl
        .rule()
        .add()
        .priority(60)
        .from("10.0.0.0/8")
        .table(5)
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
}

/// vishvananda/netlink's TestRuleAddDel: a source prefix with host bits is
/// the kernel's to take (and `ip rule` shows it as typed); `all` and
/// `default` select everything of either family.
#[tokio::test]
async fn rule_prefixes_keep_host_bits_and_all_fits_either_family() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.rule()
        .add()
        .from("172.16.0.1/16")
        .to("192.168.0.9/24")
        .table(100)
        .priority(101)
        .await
        .unwrap();
    let ip = rule_at(&ns, false, 101);
    assert_eq!(ip["src"], "172.16.0.1", "{ip}");
    assert_eq!(ip["srclen"], 16, "{ip}");
    assert_eq!(ip["dst"], "192.168.0.9", "{ip}");
    assert_eq!(ip["dstlen"], 24, "{ip}");
    let ours = nl.rule().list().await.unwrap();
    let r = ours.iter().find(|r| r.priority() == 101).unwrap();
    assert_eq!(r.source().unwrap().to_string(), "172.16.0.1/16");
    assert_eq!(r.destination().unwrap().to_string(), "192.168.0.9/24");
    // Deleting by the same selector finds it again.
    nl.rule()
        .del()
        .from("172.16.0.1/16")
        .to("192.168.0.9/24")
        .table(100)
        .priority(101)
        .await
        .unwrap();
    assert!(
        nl.rule()
            .list()
            .await
            .unwrap()
            .iter()
            .all(|r| r.priority() != 101)
    );

    nl.rule()
        .add()
        .family(Family::V6)
        .from("all")
        .to("default")
        .table(102)
        .priority(102)
        .await
        .unwrap();
    let ip = rule_at(&ns, true, 102);
    assert_eq!(ip["src"], "all", "{ip}");
    assert_eq!(ip["table"], "102", "{ip}");
    nl.rule()
        .add()
        .from("default")
        .table(103)
        .priority(103)
        .await
        .unwrap();
    assert_eq!(rule_at(&ns, false, 103)["src"], "all");
}

/// The selectors the README lists and no test drove before: `tos` and
/// `suppress_ifgroup`, read back typed and by `ip -j rule`.
#[tokio::test]
async fn tos_and_suppress_ifgroup_agree_with_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.rule()
        .add()
        .priority(300)
        .tos(0x10)
        .table(30)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(301)
        .table(254)
        .suppress_ifgroup(7)
        .await
        .unwrap();
    let ip = rule_at(&ns, false, 300);
    assert_eq!(ip["tos"], "0x10", "{ip}");
    assert_eq!(ip["table"], "30");
    let ip = rule_at(&ns, false, 301);
    assert_eq!(ip["suppress_ifgroup"], "7", "{ip}");
    let rules = nl.rule().list().family(Family::V4).await.unwrap();
    let r = rules.iter().find(|r| r.priority() == 300).unwrap();
    assert_eq!(r.tos(), 0x10);
    let r = rules.iter().find(|r| r.priority() == 301).unwrap();
    assert_eq!(r.suppress_ifgroup(), Some(7));
    // Deleted by the same selector.
    nl.rule()
        .del()
        .priority(300)
        .tos(0x10)
        .table(30)
        .await
        .unwrap();
    assert!(nl.rule().list().priority(300).await.unwrap().is_empty());
}
