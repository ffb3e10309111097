//! The ethtool netlink family against `/usr/sbin/ethtool`, in a fresh
//! namespace with a veth pair of 4 queues: features (`-k`), their change
//! (`-K`), channels (`-l` / `-L`), link info/modes/state (`ethtool DEV`),
//! rings unsupported by veth, dumps, and bad input.

mod common;

use std::process::Command;

use common::TestNs;
use futures::TryStreamExt;
use tokio_netlink::Error;
use tokio_netlink::genl::ethtool::{Duplex, LegacyFlag};

/// `ip netns exec NS ethtool ARGS`: (success, stdout, stderr).
fn ethtool(ns: &TestNs, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ethtool"])
        .args(args)
        .output()
        .expect("run ethtool");
    let s = |b: Vec<u8>| String::from_utf8(b).expect("utf8");
    (out.status.success(), s(out.stdout), s(out.stderr))
}

fn ethtool_ok(ns: &TestNs, args: &[&str]) -> String {
    let (ok, out, err) = ethtool(ns, args);
    assert!(ok, "ethtool {args:?} failed: {err}");
    out
}

async fn veth_ns() -> TestNs {
    let ns = TestNs::new().await;
    let q = ["numtxqueues", "4", "numrxqueues", "4"];
    let mut args = vec!["link", "add", "v0"];
    args.extend(q);
    args.extend(["type", "veth", "peer", "v1"]);
    args.extend(q);
    ns.ip(&args);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    ns
}

/// `ethtool -k`'s lines as (name, on, suffix), tabs stripped.
fn k_lines(text: &str) -> Vec<(String, bool, String)> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (name, rest) = l.trim_start_matches('\t').split_once(": ")?;
            let (val, suffix) = rest.split_once(' ').unwrap_or((rest, ""));
            Some((name.to_owned(), val == "on", suffix.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn features_equal_ethtool_k_and_change_as_ethtool_sees() {
    let ns = veth_ns().await;
    let eth = ns.client().ethtool();
    let f = eth.features("v0").await.unwrap();
    assert_eq!(f.ifname, "v0");
    let shown = k_lines(&ethtool_ok(&ns, &["-k", "v0"]));
    let mut compared = 0;
    for feat in &f.features {
        // A legacy flag covering one feature shows it under the flag's
        // long name.
        let under = LegacyFlag::of_feature(&feat.name)
            .filter(|fl| f.features.iter().filter(|x| fl.matches(&x.name)).count() == 1);
        let label = under.map_or(feat.name.as_str(), |fl| fl.long);
        let Some((_, on, suffix)) = shown.iter().find(|(n, ..)| n == label) else {
            panic!("ethtool -k does not show {label}");
        };
        assert_eq!(feat.active, *on, "{}", feat.name);
        assert_eq!(feat.fixed(), suffix == "[fixed]", "{}", feat.name);
        compared += 1;
    }
    assert!(compared > 40, "only {compared} features");
    assert!(f.get("tx-checksum-ipv4").unwrap().fixed());

    // rx-gro is off and changeable on veth.
    assert!(!f.get("rx-gro").unwrap().active);
    let ch = eth.features_set("v0").on("rx-gro").await.unwrap();
    assert_eq!(ch.requested, [("rx-gro".to_owned(), true)]);
    assert!(ch.unmet.is_empty() && !ch.nothing_changed(), "{ch:?}");
    assert!(ch.changed.contains(&("rx-gro".to_owned(), true)), "{ch:?}");
    let k = ethtool_ok(&ns, &["-k", "v0"]);
    assert!(k.contains("\ngeneric-receive-offload: on\n"), "{k}");

    // A legacy flag: every changeable tx-tcp*-segmentation feature.
    let ch = eth.features_set("v0").off("tso").await.unwrap();
    assert!(ch.requested.len() >= 3 && ch.requested.iter().all(|(_, on)| !on));
    let k = ethtool_ok(&ns, &["-k", "v0"]);
    assert!(k.contains("\ntcp-segmentation-offload: off\n"), "{k}");
    assert!(k.contains("\n\ttx-tcp6-segmentation: off\n"), "{k}");

    // A fixed feature: the kernel keeps it, and says so.
    let ch = eth.features_set("v0").on("tx-checksum-ipv4").await.unwrap();
    assert_eq!(ch.unmet, [("tx-checksum-ipv4".to_owned(), false)], "{ch:?}");
    assert!(ch.nothing_changed());
    let after = eth.features("v0").await.unwrap();
    assert!(!after.get("tx-checksum-ipv4").unwrap().active);

    let e = eth.features_set("v0").on("warp-drive").await.unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field: "feature", reason } if reason.contains("warp-drive")),
        "{e}"
    );
    let e = eth.features_set("v0").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "feature",
                ..
            }
        ),
        "{e}"
    );

    let all: Vec<_> = eth.features_all().try_collect().await.unwrap();
    let names: Vec<&str> = all.iter().map(|f| f.ifname.as_str()).collect();
    for n in ["lo", "v0", "v1"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let v0 = all.iter().find(|f| f.ifname == "v0").unwrap();
    assert_eq!(v0.features, eth.features("v0").await.unwrap().features);
}

#[tokio::test]
async fn channels_equal_ethtool_l_and_change() {
    let ns = veth_ns().await;
    let eth = ns.client().ethtool();
    let ch = eth.channels("v0").await.unwrap();
    assert_eq!(
        (ch.rx_max, ch.tx_max, ch.rx, ch.tx),
        (Some(4), Some(4), Some(4), Some(4))
    );
    assert_eq!(
        (ch.other_max, ch.combined_max, ch.combined),
        (None, None, None)
    );
    let l = ethtool_ok(&ns, &["-l", "v0"]);
    assert!(
        l.contains("Current hardware settings:\nRX:\t\t4\nTX:\t\t4\n"),
        "{l}"
    );

    eth.channels_set("v0").rx(2).tx(3).await.unwrap();
    let l = ethtool_ok(&ns, &["-l", "v0"]);
    assert!(
        l.ends_with(
            "Current hardware settings:\nRX:\t\t2\nTX:\t\t3\nOther:\t\tn/a\nCombined:\tn/a\n"
        ),
        "{l}"
    );
    let ch = eth.channels("v0").await.unwrap();
    assert_eq!((ch.rx, ch.tx), (Some(2), Some(3)));

    let e = eth.channels_set("v0").rx(9).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(e.kernel_message().is_some_and(|m| m.contains("max")), "{e}");
    assert_eq!(e.operation(), Some("ethtool -L"));
    let e = eth.channels_set("v0").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "channels",
                ..
            }
        ),
        "{e}"
    );

    let all: Vec<_> = eth.channels_all().try_collect().await.unwrap();
    let v0 = all.iter().find(|c| c.ifname == "v0").expect("v0 dumped");
    assert_eq!(v0.rx, Some(2));
}

#[tokio::test]
async fn link_settings_equal_ethtool_dev() {
    let ns = veth_ns().await;
    let eth = ns.client().ethtool();
    let text = ethtool_ok(&ns, &["v0"]);
    let lm = eth.linkmodes("v0").await.unwrap();
    assert_eq!(
        (lm.speed, lm.duplex, lm.autoneg),
        (Some(10000), Some(Duplex::Full), Some(false))
    );
    let li = eth.linkinfo("v0").await.unwrap();
    let ls = eth.linkstate("v0").await.unwrap();
    assert_eq!(ls.link, Some(true));
    for line in [
        format!("\tSpeed: {}Mb/s", lm.speed.unwrap()),
        format!("\tDuplex: {}", lm.duplex.unwrap().name()),
        "\tAuto-negotiation: off".to_owned(),
        format!("\tPort: {}", li.port_name().unwrap()),
        format!("\tPHYAD: {}", li.phyaddr.unwrap()),
        format!("\tTransceiver: {}", li.transceiver_name().unwrap()),
        format!("\tMDI-X: {}", li.mdix_name().unwrap()),
        "\tLink detected: yes".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    ns.ip(&["link", "set", "v1", "down"]);
    assert_eq!(eth.linkstate("v0").await.unwrap().link, Some(false));
    let all: Vec<_> = eth.linkstate_all().try_collect().await.unwrap();
    assert!(
        all.iter()
            .any(|s| s.ifname == "v1" && s.link == Some(false)),
        "{all:?}"
    );
    let all: Vec<_> = eth.linkinfo_all().try_collect().await.unwrap();
    assert!(
        all.iter().any(|s| s.ifname == "v0" && s.port == li.port),
        "{all:?}"
    );
}

#[tokio::test]
async fn unsupported_and_missing_are_clear_errors() {
    let ns = veth_ns().await;
    let eth = ns.client().ethtool();
    let (ok, _, err) = ethtool(&ns, &["-g", "v0"]);
    assert!(!ok && err.contains("not supported"), "{err}");
    let e = eth.rings("v0").await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e}");
    assert_eq!(e.operation(), Some("ethtool -g"));
    assert!(e.to_string().starts_with("ethtool -g v0: "), "{e}");
    let e = eth.rings_set("v0").rx(64).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e}");
    // A dump leaves out the devices that lack the operation.
    let all: Vec<_> = eth.rings_all().try_collect().await.unwrap();
    assert!(all.iter().all(|r| r.ifname != "v0"), "{all:?}");

    for e in [
        eth.channels("nosuch0").await.unwrap_err(),
        eth.features("nosuch0").await.unwrap_err(),
        eth.linkstate(9999u32).await.unwrap_err(),
        eth.features_set("nosuch0").on("rx-gro").await.unwrap_err(),
    ] {
        assert!(e.missing_link().is_some(), "{e:?}");
        assert!(e.to_string().contains("no such link"), "{e}");
    }
    let e = eth.channels("bad/name").await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "dev", .. }), "{e}");
}
