//! AddrLabelHandle against the kernel, cross-checked with `ip -6 addrlabel
//! list` (which has no JSON output: its text is parsed).

mod common;

use std::collections::BTreeSet;

use common::TestNs;
use ipnetwork::Ipv6Network;
use tokio_netlink::{Error, Netlink};

/// (prefix, dev name, label), in a comparable form.
type Entry = (Ipv6Network, Option<String>, u32);

/// Parses `prefix P [dev D] label L` lines.
fn ip_labels(ns: &TestNs) -> BTreeSet<Entry> {
    ns.ip(&["-6", "addrlabel", "list"])
        .lines()
        .map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            let after = |k: &str| w.iter().position(|x| *x == k).map(|i| w[i + 1].to_string());
            (
                after("prefix").unwrap().parse().unwrap(),
                after("dev"),
                after("label").unwrap().parse().unwrap(),
            )
        })
        .collect()
}

async fn ours(nl: &Netlink) -> BTreeSet<Entry> {
    let mut out = BTreeSet::new();
    for l in nl.addrlabel().list().await.unwrap() {
        let dev = match l.ifindex {
            Some(i) => Some(nl.link().get(i).await.unwrap().name().to_string()),
            None => None,
        };
        out.insert((l.prefix, dev, l.label));
    }
    out
}

fn entry(p: &str, dev: Option<&str>, label: u32) -> Entry {
    (p.parse().unwrap(), dev.map(String::from), label)
}

#[tokio::test]
async fn labels_added_and_deleted_agree_with_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    let defaults = ours(&nl).await;
    // The kernel's RFC 6724 defaults are there from the start.
    assert!(
        defaults.contains(&entry("::1/128", None, 0)),
        "{defaults:?}"
    );
    assert!(defaults.contains(&entry("::/0", None, 1)), "{defaults:?}");
    assert!(
        defaults.contains(&entry("fc00::/7", None, 5)),
        "{defaults:?}"
    );
    assert_eq!(defaults, ip_labels(&ns));

    let al = nl.addrlabel();
    al.add("2001:db8::/32", 100).await.unwrap();
    al.add("2001:db8:1::/48", 101).dev("v0").await.unwrap();
    let v1 = nl.link().index_of(&"v1".into()).await.unwrap();
    al.add("2001:db8:2::1".parse::<std::net::IpAddr>().unwrap(), 102)
        .dev(v1)
        .await
        .unwrap();
    let added = ours(&nl).await;
    assert_eq!(added, ip_labels(&ns));
    for e in [
        entry("2001:db8::/32", None, 100),
        entry("2001:db8:1::/48", Some("v0"), 101),
        entry("2001:db8:2::1/128", Some("v1"), 102),
    ] {
        assert!(added.contains(&e), "{e:?} missing from {added:?}");
    }
    assert_eq!(added.len(), defaults.len() + 3);

    al.del("2001:db8:1::/48", 101).dev("v0").await.unwrap();
    let after = ours(&nl).await;
    assert_eq!(after, ip_labels(&ns));
    assert!(!after.contains(&entry("2001:db8:1::/48", Some("v0"), 101)));
    assert_eq!(after.len(), defaults.len() + 2);
}

#[tokio::test]
async fn deleting_a_missing_label_is_not_found() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let e = nl.addrlabel().del("2001:db8::/32", 7).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    // The kernel says ESRCH ("No such process"); the error names the object.
    assert_eq!(e.errno(), Some(libc::ESRCH), "{e:?}");
    assert!(e.to_string().contains("addrlabel del"), "{e}");
    assert!(e.to_string().contains("no such address label"), "{e}");
    // Same prefix, other device: not the same label either.
    nl.addrlabel().add("2001:db8::/32", 7).await.unwrap();
    let e = nl
        .addrlabel()
        .del("2001:db8::/32", 7)
        .dev("lo")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    // A second add of the same prefix is refused by the kernel.
    let e = nl.addrlabel().add("2001:db8::/32", 8).await.unwrap_err();
    assert!(e.is_exists(), "{e:?}");
}

#[tokio::test]
async fn bad_input_is_refused_by_field() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let before = ip_labels(&ns);
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let al = nl.addrlabel();
    assert_eq!(field(al.add("10.0.0.0/8", 1).await.unwrap_err()), "prefix");
    assert_eq!(field(al.del("192.0.2.1", 1).await.unwrap_err()), "prefix");
    assert_eq!(
        field(al.add("2001:db8::/129", 1).await.unwrap_err()),
        "prefix"
    );
    assert_eq!(
        field(al.add("not-an-address", 1).await.unwrap_err()),
        "prefix"
    );
    assert_eq!(
        field(al.add("2001:db8::/32", u32::MAX).await.unwrap_err()),
        "label"
    );
    let e = al.add("2001:db8::/32", 1).dev("nosuch0").await.unwrap_err();
    assert_eq!(e.missing_link().map(|(_, f)| f), Some(Some("dev")), "{e:?}");
    assert_eq!(ip_labels(&ns), before, "nothing reached the kernel");
}
