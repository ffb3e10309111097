//! NetconfHandle against the kernel, cross-checked field by field with
//! `ip -j netconf show` after changing sysctls inside the namespace.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::TestNs;
use futures::StreamExt;
use serde_json::Value;
use tokio_netlink::route::events::{Event, Group};
use tokio_netlink::route::netconf::{Netconf, NetconfDev, NetconfFamily, RpFilter};
use tokio_netlink::{Error, Family, Netlink};

/// `sysctl -qw KEY=VALUE ...` inside the namespace.
fn sysctl(ns: &TestNs, settings: &[&str]) {
    let ok = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-qw"])
        .args(settings)
        .status()
        .expect("run sysctl")
        .success();
    assert!(ok, "sysctl {settings:?} failed");
}

/// A /proc/sys/net file read inside the namespace.
fn proc_sys(ns: &TestNs, path: &str) -> i32 {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "cat"])
        .arg(format!("/proc/sys/net/{path}"))
        .output()
        .expect("run cat");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// (family, interface) as `ip -j netconf` names them.
type Key = (String, String);

fn family_name(f: NetconfFamily) -> &'static str {
    match f {
        NetconfFamily::Inet => "inet",
        NetconfFamily::Inet6 => "inet6",
        NetconfFamily::Mpls => "mpls",
        NetconfFamily::Other(_) => "unknown",
    }
}

/// Our entry in `ip -j netconf`'s shape (it leaves bc_forwarding out).
fn as_ip(n: &Netconf, names: &BTreeMap<i32, String>) -> (Key, Value) {
    let dev = match n.dev() {
        NetconfDev::All => "all".to_string(),
        NetconfDev::Default => "default".to_string(),
        _ => names[&n.ifindex].clone(),
    };
    let mut m = serde_json::Map::new();
    m.insert("family".into(), family_name(n.family).into());
    m.insert("interface".into(), dev.clone().into());
    let mut on = |k: &str, v: Option<bool>| {
        if let Some(v) = v {
            m.insert(k.into(), v.into());
        }
    };
    on("forwarding", n.forwarding);
    on("mc_forwarding", n.mc_forwarding);
    on("proxy_neigh", n.proxy_neigh);
    on("ignore_routes_with_linkdown", n.ignore_routes_with_linkdown);
    on("input", n.input);
    if let Some(rp) = n.rp_filter {
        let s = match rp {
            RpFilter::Off => "off",
            RpFilter::Strict => "strict",
            RpFilter::Loose => "loose",
            RpFilter::Other(_) => "unknown mode",
        };
        m.insert("rp_filter".into(), s.into());
    }
    ((family_name(n.family).into(), dev), Value::Object(m))
}

fn ip_entries(ns: &TestNs, args: &[&str]) -> BTreeMap<Key, Value> {
    let mut all = vec!["netconf", "show"];
    all.extend_from_slice(args);
    let v = ns.ip_json(&all);
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let k = (
                e["family"].as_str().unwrap().to_string(),
                e["interface"].as_str().unwrap().to_string(),
            );
            (k, e.clone())
        })
        .collect()
}

async fn names(nl: &Netlink) -> BTreeMap<i32, String> {
    let mut m = BTreeMap::new();
    for l in nl.link().list().await.unwrap() {
        m.insert(l.index() as i32, l.name().to_string());
    }
    m
}

fn ours(list: &[Netconf], names: &BTreeMap<i32, String>) -> BTreeMap<Key, Value> {
    list.iter().map(|n| as_ip(n, names)).collect()
}

/// A namespace with a veth pair va/vb whose sysctls differ from the
/// defaults and from each other.
async fn setup() -> (TestNs, Netlink) {
    let ns = TestNs::new().await;
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    sysctl(
        &ns,
        &[
            "net.ipv4.conf.va.forwarding=1",
            "net.ipv4.conf.va.rp_filter=2",
            "net.ipv4.conf.vb.rp_filter=1",
            "net.ipv4.conf.vb.proxy_arp=1",
            "net.ipv4.conf.va.ignore_routes_with_linkdown=1",
            "net.ipv4.conf.vb.bc_forwarding=1",
            "net.ipv4.conf.default.rp_filter=1",
            "net.ipv4.conf.all.proxy_arp=1",
            "net.ipv6.conf.va.forwarding=1",
            "net.ipv6.conf.vb.proxy_ndp=1",
            "net.ipv6.conf.vb.ignore_routes_with_linkdown=1",
        ],
    );
    let nl = ns.client();
    (ns, nl)
}

#[tokio::test]
async fn dump_agrees_with_ip_field_by_field() {
    let (ns, nl) = setup().await;
    let names = names(&nl).await;
    let list = nl.netconf().list().await.unwrap();
    let ip = ip_entries(&ns, &[]);
    // lo, va, vb, all, default, in both families.
    assert_eq!(ip.len(), 10, "{ip:?}");
    assert_eq!(ours(&list, &names), ip);
    // The values set above are really there (not just equal to ip's).
    let va = &ip[&("inet".to_string(), "va".to_string())];
    assert_eq!(va["forwarding"], true);
    assert_eq!(va["rp_filter"], "loose");
    assert_eq!(va["ignore_routes_with_linkdown"], true);
    let vb = &ip[&("inet".to_string(), "vb".to_string())];
    assert_eq!(
        (&vb["rp_filter"], &vb["proxy_neigh"]),
        (&"strict".into(), &true.into())
    );
    let vb6 = &ip[&("inet6".to_string(), "vb".to_string())];
    assert_eq!(vb6["proxy_neigh"], true);
    assert_eq!(vb6["ignore_routes_with_linkdown"], true);
    assert_eq!(
        ip[&("inet".into(), "default".into())]["rp_filter"],
        "strict"
    );
    assert_eq!(ip[&("inet".into(), "all".into())]["proxy_neigh"], true);

    // bc_forwarding, which ip does not print, against /proc.
    for n in list.iter().filter(|n| n.family == NetconfFamily::Inet) {
        let dev = match n.dev() {
            NetconfDev::All => "all".to_string(),
            NetconfDev::Default => "default".to_string(),
            _ => names[&n.ifindex].clone(),
        };
        let want = proc_sys(&ns, &format!("ipv4/conf/{dev}/bc_forwarding")) != 0;
        assert_eq!(n.bc_forwarding, Some(want), "{dev}");
    }

    // One family at a time, as `ip -4` / `ip -6` ask.
    for (f, flag) in [(Family::V4, "-4"), (Family::V6, "-6")] {
        let one = nl.netconf().list().family(f).await.unwrap();
        let mut all = vec![flag];
        all.extend_from_slice(&["netconf", "show"]);
        let ip: BTreeMap<Key, Value> = ns
            .ip_json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let k = (
                    e["family"].as_str().unwrap().into(),
                    e["interface"].as_str().unwrap().into(),
                );
                (k, e.clone())
            })
            .collect();
        assert_eq!(ours(&one, &names), ip, "{flag}");
    }
}

#[tokio::test]
async fn get_agrees_with_ip_for_devices_all_and_default() {
    let (ns, nl) = setup().await;
    let names = names(&nl).await;
    let nc = nl.netconf();
    let ip = ip_entries(&ns, &[]);
    for (f, fname) in [(Family::V4, "inet"), (Family::V6, "inet6")] {
        for dev in ["va", "vb", "lo", "all", "default"] {
            let n = nc.get(f, dev).await.unwrap();
            let (key, v) = as_ip(&n, &names);
            assert_eq!(key, (fname.to_string(), dev.to_string()));
            assert_eq!(v, ip[&key], "{fname} {dev}");
        }
        let va = *names.iter().find(|(_, n)| *n == "va").unwrap().0;
        let by_index = nc.get(f, va as u32).await.unwrap();
        assert_eq!(by_index, nc.get(f, "va").await.unwrap());
        assert_eq!(by_index.dev(), NetconfDev::from(va as u32));
    }
    // `ip netconf show dev va` (its filtered dump) too.
    let ip_va = ip_entries(&ns, &["dev", "va"]);
    assert_eq!(ip_va.len(), 2);
    for (key, v) in ip_va {
        let f = if key.0 == "inet" {
            Family::V4
        } else {
            Family::V6
        };
        assert_eq!(as_ip(&nc.get(f, "va").await.unwrap(), &names).1, v);
    }

    // rp_filter through its three modes, each read back as ip reads it.
    for (v, want, text) in [
        (0, RpFilter::Off, "off"),
        (1, RpFilter::Strict, "strict"),
        (2, RpFilter::Loose, "loose"),
    ] {
        sysctl(&ns, &[&format!("net.ipv4.conf.vb.rp_filter={v}")]);
        let n = nc.get(Family::V4, "vb").await.unwrap();
        assert_eq!(n.rp_filter, Some(want));
        let ip = ip_entries(&ns, &["dev", "vb"]);
        assert_eq!(ip[&("inet".into(), "vb".into())]["rp_filter"], text);
    }
    // Switching forwarding off again is seen too.
    sysctl(&ns, &["net.ipv6.conf.va.forwarding=0"]);
    assert_eq!(
        nc.get(Family::V6, "va").await.unwrap().forwarding,
        Some(false)
    );
}

#[tokio::test]
async fn missing_devices_and_bad_input() {
    let (_ns, nl) = setup().await;
    let nc = nl.netconf();
    let e = nc.get(Family::V4, "nope0").await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(e.to_string().contains("nope0"), "{e}");
    assert!(e.to_string().contains("netconf show"), "{e}");
    // An index no device has: the missing link, in both families.
    for f in [Family::V4, Family::V6] {
        let e = nc.get(f, 99_999u32).await.unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        assert!(e.to_string().contains("99999"), "{e}");
    }

    let sent = nl.rtnl().stats().requests_sent;
    let e = nc.get(Family::V4, 0u32).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "dev", .. }),
        "{e:?}"
    );
    let e = nc.get(Family::V4, u32::MAX).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "dev", .. }),
        "{e:?}"
    );
    let e = nc.get(NetconfFamily::Other(7), "all").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "family",
                ..
            }
        ),
        "{e:?}"
    );
    let e = nc.list().family(NetconfFamily::Other(0)).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "family",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(nl.rtnl().stats().requests_sent, sent, "nothing was sent");
}

/// The next netconf event matching `f`, within 5 seconds.
async fn next_netconf(
    events: &mut tokio_netlink::route::events::Events,
    f: impl Fn(&Event) -> Option<Netconf>,
) -> Netconf {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("no matching netconf event within 5s")
            .expect("stream ended");
        if let Some(n) = f(&ev) {
            return n;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysctl_changes_and_device_removal_are_events() {
    let (ns, nl) = setup().await;
    let va = nl.link().get("va").await.unwrap().index() as i32;
    let mut events = nl.events(&Group::netconf());
    events.ready().await.unwrap();

    sysctl(&ns, &["net.ipv4.conf.va.rp_filter=1"]);
    let n = next_netconf(&mut events, |e| match e {
        Event::NewNetconf(n) if n.ifindex == va && n.family == NetconfFamily::Inet => Some(*n),
        _ => None,
    })
    .await;
    // The notification carries the changed field only.
    assert_eq!(n.rp_filter, Some(RpFilter::Strict));
    assert_eq!((n.forwarding, n.proxy_neigh), (None, None));

    sysctl(&ns, &["net.ipv6.conf.va.forwarding=0"]);
    let n = next_netconf(&mut events, |e| match e {
        Event::NewNetconf(n) if n.ifindex == va && n.family == NetconfFamily::Inet6 => Some(*n),
        _ => None,
    })
    .await;
    assert_eq!(n.forwarding, Some(false));

    ns.ip(&["link", "del", "va"]);
    let gone = next_netconf(&mut events, |e| match e {
        Event::DelNetconf(n) if n.ifindex == va => Some(*n),
        _ => None,
    })
    .await;
    assert_eq!(gone.forwarding, None);
}
