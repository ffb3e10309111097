//! Traffic control against the host kernel (htb, tbf, pfifo/bfifo,
//! ingress, clsact), each in a fresh namespace: requests compared byte for
//! byte with what `tc` sends (captured with strace), state read back both
//! through the library and through `tc -j`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::TestNs;
use common::tc::{NLM_F_ACK, NLM_F_REQUEST, tc, tc_json, tc_request, veths};
use serde_json::Value;
use tokio_netlink::Error;
use tokio_netlink::route::tc::{
    ClassKind, Fifo, Handle, Htb, HtbClass, Parent, QdiscKind, Rate, Tbf,
};

#[tokio::test]
async fn qdisc_and_class_requests_are_what_tc_sends() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let t = ns.client().tc();
    let ms = Duration::from_millis;
    let qdiscs: Vec<(&str, QdiscKind, &[&str])> = vec![
        (
            "root 1:",
            Htb::new().default_class(0x10).into(),
            &["root", "handle", "1:", "htb", "default", "10"],
        ),
        (
            "root 1:",
            Htb::new().r2q(5).default_class(0x20).direct_qlen(50).into(),
            &[
                "root",
                "handle",
                "1:",
                "htb",
                "r2q",
                "5",
                "default",
                "20",
                "direct_qlen",
                "50",
            ],
        ),
        (
            "root",
            Tbf::new("1mbit".parse().unwrap(), 32 * 1024)
                .latency(ms(50))
                .into(),
            &[
                "root", "tbf", "rate", "1mbit", "burst", "32kb", "latency", "50ms",
            ],
        ),
        (
            "root",
            Tbf::new("3mbit".parse().unwrap(), 10_000)
                .peakrate("4mbit".parse().unwrap(), 1600)
                .latency(ms(20))
                .into(),
            &[
                "root", "tbf", "rate", "3mbit", "burst", "10000", "latency", "20ms", "peakrate",
                "4mbit", "mtu", "1600",
            ],
        ),
        (
            "root",
            Tbf {
                limit: 10 << 20,
                ..Tbf::new("10gbit".parse().unwrap(), 1 << 20)
            }
            .into(),
            &[
                "root", "tbf", "rate", "10gbit", "burst", "1mb", "limit", "10mb",
            ],
        ),
        (
            "root",
            QdiscKind::Pfifo(Fifo::limit(100)),
            &["root", "pfifo", "limit", "100"],
        ),
        (
            "root",
            QdiscKind::Bfifo(Fifo::limit(10_000)),
            &["root", "bfifo", "limit", "10000"],
        ),
        (
            "root",
            QdiscKind::Pfifo(Fifo::default()),
            &["root", "pfifo"],
        ),
        ("ingress", QdiscKind::Ingress, &["ingress"]),
        ("clsact", QdiscKind::Clsact, &["clsact"]),
    ];
    for (place, kind, args) in qdiscs {
        let mut b = t.qdisc().add("v0", kind.clone());
        if let Some(h) = place.strip_prefix("root ") {
            b = b.handle(h);
        }
        let (ours, flags) = b.into_request().await.unwrap();
        let mut tc_args = vec!["qdisc", "add", "dev", "v0"];
        tc_args.extend_from_slice(args);
        let (tc_flags, theirs) = tc_request(&ns, &tc_args, 36);
        assert_eq!(
            flags | NLM_F_REQUEST | NLM_F_ACK,
            tc_flags,
            "flags of {args:?}"
        );
        assert_eq!(ours.payload, theirs, "bytes of tc qdisc add {args:?}");
        // What tc added, if anything, goes before the next case.
        let _ = Command::new("tc")
            .args(["-n", &ns.name, "qdisc", "del", "dev", "v0", "root"])
            .output();
        let _ = Command::new("tc")
            .args(["-n", &ns.name, "qdisc", "del", "dev", "v0", "ingress"])
            .output();
    }

    let classes: Vec<(&str, HtbClass, &[&str])> = vec![
        ("1:10", HtbClass::new(Rate::mbit(10)), &["rate", "10mbit"]),
        (
            "1:11",
            HtbClass::new(Rate::mbit(10))
                .ceil(Rate::mbit(50))
                .burst(15 * 1024)
                .cburst(3000)
                .prio(1)
                .quantum(1500),
            &[
                "rate", "10mbit", "ceil", "50mbit", "burst", "15k", "cburst", "3000", "prio", "1",
                "quantum", "1500",
            ],
        ),
        (
            "1:12",
            HtbClass::new("5gbit".parse().unwrap()).ceil("10gbit".parse().unwrap()),
            &["rate", "5gbit", "ceil", "10gbit"],
        ),
    ];
    tc(
        &ns,
        &["qdisc", "add", "dev", "v0", "root", "handle", "1:", "htb"],
    );
    for (id, class, args) in classes {
        let (ours, flags) = t
            .class()
            .add("v0", id, class)
            .parent("1:")
            .into_request()
            .await
            .unwrap();
        let mut tc_args = vec![
            "class", "add", "dev", "v0", "parent", "1:", "classid", id, "htb",
        ];
        tc_args.extend_from_slice(args);
        let (tc_flags, theirs) = tc_request(&ns, &tc_args, 40);
        assert_eq!(
            flags | NLM_F_REQUEST | NLM_F_ACK,
            tc_flags,
            "flags of {args:?}"
        );
        assert_eq!(ours.payload, theirs, "bytes of tc class add {args:?}");
    }
}

/// A `tc -j` entry's field as u64 (tc prints rates and sizes as numbers).
fn num(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[tokio::test]
async fn qdiscs_round_trip_typed_and_match_tc() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1"), ("v2", "v3")]).await;
    let nl = ns.client();
    let t = nl.tc();
    let htb = Htb::new().default_class(0x10).direct_qlen(500);
    t.qdisc().add("v0", htb).handle("1:").await.unwrap();
    t.qdisc().add("v0", QdiscKind::Clsact).await.unwrap();
    let tbf = Tbf::new(Rate::mbit(1), 1600).latency(Duration::from_millis(50));
    t.qdisc().add("v1", tbf).await.unwrap();
    t.qdisc().add("v1", QdiscKind::Ingress).await.unwrap();
    let big =
        Tbf::new("10gbit".parse().unwrap(), 1 << 20).peakrate("20gbit".parse().unwrap(), 9000);
    let big = Tbf {
        limit: 10 << 20,
        ..big
    };
    t.qdisc().add("v2", big).handle("5:").await.unwrap();
    // Made by tc, read by us.
    tc(
        &ns,
        &[
            "qdisc", "add", "dev", "v3", "root", "handle", "7:", "bfifo", "limit", "12345",
        ],
    );

    let v0 = nl.link().get("v0").await.unwrap().index();
    let ours = t.qdisc().list().dev("v0").await.unwrap();
    assert!(ours.iter().all(|q| q.ifindex() == v0));
    assert_eq!(ours.len(), 2, "{ours:?}");
    let root = t.qdisc().get("v0").await.unwrap();
    assert_eq!(
        (root.handle(), root.parent()),
        (Handle::new(1, 0), Parent::Root)
    );
    assert_eq!(root.options(), QdiscKind::Htb(htb));
    assert_eq!(root.htb_direct_packets(), Some(0));
    let cls = t.qdisc().get("v0").parent("ingress").await.unwrap();
    assert_eq!(
        (cls.kind(), cls.handle(), cls.parent()),
        ("clsact", Handle::new(0xffff, 0), Parent::Ingress)
    );
    let by_handle = t.qdisc().get("v0").handle("1:").await.unwrap();
    assert_eq!(by_handle.kind(), "htb");

    let j = tc_json(&ns, &["qdisc", "show", "dev", "v0"]);
    let jh = j.iter().find(|q| q["kind"] == "htb").expect("tc sees htb");
    assert_eq!(jh["handle"], "1:");
    assert_eq!(jh["options"]["r2q"], 10);
    assert_eq!(jh["options"]["default"], "0x10");
    assert_eq!(jh["options"]["direct_qlen"], 500);
    assert!(
        j.iter()
            .any(|q| q["kind"] == "clsact" && q["handle"] == "ffff:"),
        "{j:?}"
    );

    let q = t.qdisc().get("v1").await.unwrap();
    assert_eq!(q.options(), QdiscKind::Tbf(tbf));
    let j = tc_json(&ns, &["qdisc", "show", "dev", "v1", "root"]);
    assert_eq!(num(&j[0]["options"], "rate"), 125_000);
    assert_eq!(num(&j[0]["options"], "burst"), 1600);
    // tc's own float arithmetic shows 50 ms as 49999 or 50000 us.
    assert!(num(&j[0]["options"], "lat").abs_diff(50_000) <= 1, "{j:?}");
    let ing = t.qdisc().get("v1").parent(Parent::Ingress).await.unwrap();
    assert_eq!(ing.options(), QdiscKind::Ingress);

    let q = t.qdisc().get("v2").await.unwrap();
    // Bursts come back in ticks of whole microseconds, as tc sends them:
    // within a microsecond's bytes (1,250 at 10 Gbit/s, 2,500 at 20).
    let QdiscKind::Tbf(got) = q.options() else {
        panic!("tbf")
    };
    assert!(
        big.burst - got.burst <= 1251 && big.mtu - got.mtu <= 2501,
        "{got:?}"
    );
    assert_eq!(
        Tbf {
            burst: big.burst,
            mtu: big.mtu,
            ..got
        },
        big,
        "64-bit rates"
    );
    let j = tc_json(&ns, &["qdisc", "show", "dev", "v2"]);
    assert_eq!(num(&j[0]["options"], "rate"), 1_250_000_000);
    // tc -j leaves out a 64-bit peak rate; its minburst is the peak bucket.
    assert!(
        num(&j[0]["options"], "minburst").abs_diff(9000) <= 2501,
        "{j:?}"
    );

    let q = t.qdisc().get("v3").await.unwrap();
    assert_eq!(q.options(), QdiscKind::Bfifo(Fifo::limit(12345)));
    assert_eq!(q.handle(), Handle::new(7, 0));

    // Every qdisc of every device, as tc lists them.
    let all = t.qdisc().list().await.unwrap();
    let tc_all = tc_json(&ns, &["qdisc", "show"]);
    let mut ours: Vec<(String, String)> = all
        .iter()
        .map(|q| (q.kind().to_owned(), q.handle().to_string()))
        .collect();
    let mut theirs: Vec<(String, String)> = tc_all
        .iter()
        .map(|q| {
            (
                q["kind"].as_str().unwrap().to_owned(),
                q["handle"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);

    // Read back, sent again unchanged: replace with the typed value read.
    // Rates and limits stay; bursts move by less than a microsecond's
    // bytes (the kernel's own length-to-time scaling is approximate).
    let again = t.qdisc().get("v1").await.unwrap().options();
    t.qdisc().replace("v1", again.clone()).await.unwrap();
    assert_eq!(
        t.qdisc().get("v1").await.unwrap().options(),
        again,
        "1mbit is exact"
    );
    let QdiscKind::Tbf(before) = t.qdisc().get("v2").await.unwrap().options() else {
        panic!("tbf")
    };
    t.qdisc().replace("v2", before).handle("5:").await.unwrap();
    let QdiscKind::Tbf(after) = t.qdisc().get("v2").await.unwrap().options() else {
        panic!("tbf")
    };
    assert!(
        before.burst.abs_diff(after.burst) <= 1251,
        "{before:?} {after:?}"
    );
    assert!(
        before.mtu.abs_diff(after.mtu) <= 2501,
        "{before:?} {after:?}"
    );
    assert_eq!(
        Tbf {
            burst: 0,
            mtu: 0,
            ..before
        },
        Tbf {
            burst: 0,
            mtu: 0,
            ..after
        }
    );

    // change: tbf takes it; htb refuses, with the kernel's own words.
    let faster = Tbf::new(Rate::mbit(2), 1600).latency(Duration::from_millis(50));
    t.qdisc().change("v1", faster).await.unwrap();
    assert_eq!(
        t.qdisc().get("v1").await.unwrap().options(),
        QdiscKind::Tbf(faster)
    );
    let e = t
        .qdisc()
        .change("v0", Htb::new().default_class(0x20))
        .handle("1:")
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(22), "{e}");
    assert!(
        e.to_string().contains("Change operation not supported"),
        "{e}"
    );
    // del: back to the device's default (none shown while it is down).
    t.qdisc().del("v0").await.unwrap();
    t.qdisc().del("v0").parent("clsact").await.unwrap();
    let left = t.qdisc().list().dev("v0").await.unwrap();
    assert!(
        left.iter().all(|q| q.options() == QdiscKind::Noqueue),
        "{left:?}"
    );
    assert_eq!(
        left.len(),
        tc_json(&ns, &["qdisc", "show", "dev", "v0"]).len()
    );
}

#[tokio::test]
async fn htb_classes_round_trip_count_traffic_and_match_tc() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let t = nl.tc();
    t.qdisc()
        .add("v0", Htb::new().default_class(0x10))
        .handle("1:")
        .await
        .unwrap();
    let top = HtbClass::new(Rate::mbit(100))
        .ceil(Rate::mbit(100))
        .burst(1600)
        .cburst(1600)
        .quantum(20_000);
    let leaf = HtbClass::new(Rate::mbit(10))
        .ceil(Rate::mbit(50))
        .burst(15 * 1024)
        .cburst(3200)
        .prio(1)
        .quantum(1500);
    let huge = HtbClass::new("5gbit".parse().unwrap())
        .ceil("10gbit".parse().unwrap())
        .burst(1 << 20)
        .cburst(1 << 20)
        .quantum(200_000);
    t.class().add("v0", "1:1", top).await.unwrap();
    t.class()
        .add("v0", "1:10", leaf)
        .parent("1:1")
        .await
        .unwrap();
    t.class()
        .add("v0", "1:20", huge)
        .parent("1:1")
        .await
        .unwrap();
    t.qdisc()
        .add("v0", QdiscKind::Pfifo(Fifo::limit(100)))
        .parent("1:10")
        .handle("10:")
        .await
        .unwrap();

    let classes = t.class().list("v0").await.unwrap();
    assert_eq!(classes.len(), 3, "{classes:?}");
    let by = |id: &str| {
        let h: Handle = id.parse().unwrap();
        classes
            .iter()
            .find(|c| c.classid() == h)
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(
        by("1:1").options(),
        ClassKind::Htb(HtbClass { prio: 0, ..top })
    );
    assert_eq!(by("1:1").parent(), Parent::Root);
    assert_eq!(by("1:10").options(), ClassKind::Htb(leaf));
    assert_eq!(by("1:10").parent(), Parent::Handle(Handle::new(1, 1)));
    assert_eq!(by("1:10").leaf(), Some(Handle::new(0x10, 0)));
    // Bursts are sent as tc sends them, in ticks of whole microseconds: at
    // 5 Gbit/s a microsecond is 625 bytes, so 1 MiB comes back up to that
    // much lower.
    let ClassKind::Htb(h) = by("1:20").options() else {
        panic!("htb")
    };
    let tick_bytes = |r: Rate| r.bytes_per_sec() / 1_000_000 + 1;
    assert!(
        1048576 - h.burst.unwrap() <= tick_bytes(huge.rate) as u32,
        "{h:?}"
    );
    assert!(
        1048576 - h.cburst.unwrap() <= tick_bytes(huge.ceil.unwrap()) as u32,
        "{h:?}"
    );
    assert_eq!(
        HtbClass {
            burst: huge.burst,
            cburst: huge.cburst,
            ..h
        },
        huge,
        "64-bit rates"
    );
    let under: Vec<Handle> = t
        .class()
        .list("v0")
        .parent("1:1")
        .await
        .unwrap()
        .iter()
        .map(|c| c.classid())
        .collect();
    assert_eq!(under.len(), 2, "{under:?}");

    // tc has no JSON for classes: its text (`tc -d class show`), where
    // sizes are rounded for show and bursts first cut to whole
    // microseconds (`tc_calc_xmitsize`).
    let text = tc(&ns, &["-d", "class", "show", "dev", "v0"]);
    let mut seen = 0;
    for line in text.lines().filter(|l| l.starts_with("class htb ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let id = words[2];
        let val = |k: &str| {
            let at = words
                .iter()
                .position(|w| *w == k)
                .unwrap_or_else(|| panic!("{k} in {line}"));
            words[at + 1].split('/').next().unwrap()
        };
        let ClassKind::Htb(ours) = by(id).options() else {
            panic!("htb")
        };
        let ceil = ours.ceil.unwrap();
        assert_eq!(val("rate").parse::<Rate>().unwrap(), ours.rate, "{id} rate");
        assert_eq!(val("ceil").parse::<Rate>().unwrap(), ceil, "{id} ceil");
        let close = |shown: &str, bytes: u32, rate: Rate| {
            let shown = tokio_netlink::route::tc::parse_size("burst", shown).unwrap();
            let slack =
                rate.bytes_per_sec() / 1_000_000 + 1 + if shown >= 1 << 20 { 1024 } else { 16 };
            assert!(
                (shown as u64).abs_diff(bytes as u64) <= slack,
                "{id}: tc {shown}, ours {bytes}"
            );
        };
        close(val("burst"), ours.burst.unwrap(), ours.rate);
        close(val("cburst"), ours.cburst.unwrap(), ceil);
        if line.contains(" quantum ") {
            assert_eq!(
                val("quantum").parse::<u32>().unwrap(),
                ours.quantum.unwrap(),
                "{id}"
            );
            assert_eq!(val("prio").parse::<u32>().unwrap(), ours.prio, "{id}");
        }
        seen += 1;
    }
    assert_eq!(seen, 3, "{text}");

    // Traffic through the default class 1:10, counted as tc -s counts it.
    ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "v0"]);
    ns.ip(&["addr", "add", "10.9.0.2/24", "dev", "v1"]);
    // No IPv6 on the pair: router solicitations and MLD reports sent at
    // the kernel's own times would make the two counts below differ.
    for dev in ["v0", "v1"] {
        let cmd = format!("echo 1 > /proc/sys/net/ipv6/conf/{dev}/disable_ipv6");
        let ok = Command::new("ip")
            .args(["netns", "exec", &ns.name, "sh", "-c", &cmd])
            .status()
            .expect("sh");
        assert!(ok.success());
    }
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    ns.ip(&[
        "neigh",
        "replace",
        "10.9.0.9",
        "lladdr",
        "02:00:00:00:00:09",
        "dev",
        "v0",
    ]);
    let sent = Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c"])
        .arg("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(50): s.sendto(b'x'*100,('10.9.0.9',9))")
        .status()
        .expect("python3");
    assert!(sent.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = t.class().list("v0").await.unwrap();
    let c10 = c
        .iter()
        .find(|c| c.classid() == Handle::new(1, 0x10))
        .unwrap();
    let s = c10.stats();
    assert!(s.packets >= 50, "{s:?}");
    let text = tc(
        &ns,
        &["-s", "class", "show", "dev", "v0", "classid", "1:10"],
    );
    let sent = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Sent "))
        .expect("Sent line");
    let w: Vec<&str> = sent.split_whitespace().collect();
    assert_eq!(
        (w[0].parse::<u64>().unwrap(), w[2].parse::<u64>().unwrap()),
        (s.bytes, s.packets),
        "{text}"
    );
    let x = c10.htb_xstats().expect("htb xstats");
    assert!(x.lends + x.borrows >= 50, "{x:?}");
    let q = t.qdisc().get("v0").handle("10:").await.unwrap();
    assert_eq!(
        q.stats().packets,
        s.packets,
        "the leaf's pfifo counted them too"
    );

    // change and del.
    let slower = HtbClass {
        rate: Rate::mbit(5),
        ..leaf
    };
    t.class()
        .change("v0", "1:10", slower)
        .parent("1:1")
        .await
        .unwrap();
    let c = t.class().list("v0").await.unwrap();
    let c10 = c
        .iter()
        .find(|c| c.classid() == Handle::new(1, 0x10))
        .unwrap();
    let ClassKind::Htb(now) = c10.options() else {
        panic!("htb")
    };
    assert_eq!(now.rate, Rate::mbit(5));
    t.class().del("v0", "1:20").await.unwrap();
    assert_eq!(t.class().list("v0").await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_tc_input_gives_clear_errors() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let t = nl.tc();
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other}"),
    };
    // Input refused before sending, naming the field.
    assert_eq!(
        field(
            t.qdisc()
                .add("v0", Htb::new())
                .handle("1:10")
                .await
                .unwrap_err()
        ),
        "handle"
    );
    assert_eq!(
        field(
            t.qdisc()
                .add("v0", Htb::new())
                .handle("x:")
                .await
                .unwrap_err()
        ),
        "handle"
    );
    assert_eq!(
        field(
            t.qdisc()
                .add("v0", Htb::new())
                .parent("1:g")
                .await
                .unwrap_err()
        ),
        "parent"
    );
    assert_eq!(
        field(
            t.qdisc()
                .add("v0", Tbf::new(Rate::bytes(0), 1600))
                .await
                .unwrap_err()
        ),
        "rate"
    );
    assert_eq!(
        field(
            t.qdisc()
                .add("v0", Tbf::new(Rate::mbit(1), 0))
                .await
                .unwrap_err()
        ),
        "burst"
    );
    assert_eq!(
        field(
            t.qdisc()
                .add(
                    "v0",
                    Tbf::new(Rate::mbit(1), 1600).peakrate(Rate::mbit(2), 0)
                )
                .await
                .unwrap_err()
        ),
        "peakrate"
    );
    assert_eq!(
        field(
            t.class()
                .add("v0", "1:0", HtbClass::new(Rate::mbit(1)))
                .await
                .unwrap_err()
        ),
        "classid"
    );
    assert_eq!(
        field(
            t.class()
                .add("v0", "1:1", HtbClass::new(Rate::bytes(0)))
                .await
                .unwrap_err()
        ),
        "rate"
    );
    assert_eq!(
        field(
            t.class()
                .add("v0", "1:1", HtbClass::new(Rate::mbit(1)).prio(8))
                .await
                .unwrap_err()
        ),
        "prio"
    );
    let nul = QdiscKind::Other {
        kind: "htb\0x".into(),
        options: None,
    };
    assert_eq!(field(t.qdisc().add("v0", nul).await.unwrap_err()), "kind");
    let huge = QdiscKind::Other {
        kind: "pfifo".into(),
        options: Some(vec![0; 70_000]),
    };
    assert_eq!(
        field(t.qdisc().add("v0", huge).await.unwrap_err()),
        "options"
    );
    assert!(matches!(
        "10 mbit".parse::<Rate>(),
        Err(Error::InvalidInput { field: "rate", .. })
    ));

    // Refused by the kernel, with its errno (and extended ACK where TC
    // gives one).
    let e = t.qdisc().add("nosuch0", Htb::new()).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        r#"qdisc add dev nosuch0 root htb: no such link "nosuch0""#
    );
    t.qdisc().add("v0", Htb::new()).handle("1:").await.unwrap();
    let e = t
        .qdisc()
        .add("v0", Htb::new())
        .handle("1:")
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
    assert_eq!(
        e.to_string(),
        "qdisc add dev v0 root handle 1: htb: File exists: Exclusivity flag on, cannot modify"
    );
    let e = t
        .class()
        .add("v0", "2:1", HtbClass::new(Rate::mbit(1)))
        .await
        .unwrap_err();
    assert!(e.errno().is_some(), "a class of a missing qdisc: {e}");
    t.qdisc()
        .add("v1", Tbf::new(Rate::mbit(1), 1600))
        .handle("3:")
        .await
        .unwrap();
    let e = t
        .class()
        .add("v1", "3:1", HtbClass::new(Rate::mbit(1)))
        .await
        .unwrap_err();
    assert!(e.errno().is_some(), "a class on a classless qdisc: {e}");
    assert_eq!(e.operation(), Some("class add"));
    assert_eq!(e.object(), Some("dev v1 classid 3:1 htb"));
    let e = t.class().del("v0", "1:99").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        "class del dev v0 classid 1:99: no such class"
    );
    let e = t
        .qdisc()
        .change("v1", Htb::new())
        .handle("3:")
        .await
        .unwrap_err();
    assert!(e.errno().is_some(), "change to another kind: {e}");
    assert!(
        e.to_string()
            .ends_with("Invalid qdisc name: must match existing qdisc"),
        "{e}"
    );
    let e = t.qdisc().del("v1").parent("ingress").await.unwrap_err();
    assert!(e.errno().is_some(), "no ingress qdisc: {e}");
    assert_eq!(
        e.to_string(),
        "qdisc del dev v1 parent ingress: no such qdisc: Cannot find specified qdisc on specified device"
    );
    // Nothing half-done: the qdiscs are as they were.
    assert_eq!(t.qdisc().get("v1").await.unwrap().kind(), "tbf");
    assert_eq!(t.class().list("v0").await.unwrap().len(), 0);
}

#[tokio::test]
async fn filter_requests_are_what_tc_sends() {
    use tokio_netlink::route::tc::{Control, Gact, Mirred, MirredAction, U32};
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let v1 = nl.link().get("v1").await.unwrap().index();
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    let f = U32::new()
        .match_ip_src("10.0.0.0".parse().unwrap(), 8)
        .classid(Handle::new(1, 1))
        .action(Gact {
            control: Control::Drop,
            index: 5,
        })
        .action(Mirred::new(MirredAction::EgressRedirect, v1));
    let (ours, flags) = nl
        .tc()
        .filter()
        .add("v0", f)
        .parent(Parent::Ingress)
        .prio(10)
        .protocol("ip")
        .into_request()
        .await
        .unwrap();
    let args = [
        "filter",
        "add",
        "dev",
        "v0",
        "ingress",
        "pref",
        "10",
        "protocol",
        "ip",
        "u32",
        "match",
        "ip",
        "src",
        "10.0.0.0/8",
        "classid",
        "1:1",
        "action",
        "gact",
        "drop",
        "index",
        "5",
        "action",
        "mirred",
        "egress",
        "redirect",
        "dev",
        "v1",
    ];
    let (tc_flags, theirs) = tc_request(&ns, &args, 44);
    assert_eq!(flags | NLM_F_REQUEST | NLM_F_ACK, tc_flags);
    assert_eq!(ours.payload, theirs, "bytes of tc {args:?}");
}

#[tokio::test]
async fn u32_filter_with_mirred_round_trips_and_matches_tc() {
    use tokio_netlink::route::tc::{FilterKind, Mirred, MirredAction, U32, U32Handle};
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let v1 = nl.link().get("v1").await.unwrap().index();
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    let f = U32::new()
        .match_ip_dport(80, 0xffff)
        .unwrap()
        .action(Mirred::new(MirredAction::EgressRedirect, v1));
    let t = nl.tc();
    t.filter()
        .add("v0", f.clone())
        .parent(Parent::Ingress)
        .prio(10)
        .protocol("ip")
        .await
        .unwrap();
    let all = t.filter().list("v0").parent(Parent::Ingress).await.unwrap();
    let node = all
        .iter()
        .find(|x| U32Handle::from_raw(x.handle()).node() != 0)
        .expect("the key node");
    assert_eq!(
        (node.prio(), node.protocol().to_string()),
        (10, "ip".into())
    );
    let mut want = f;
    want.ht = Some("800:".parse().unwrap());
    // The kernel reports TCA_CLS_FLAGS_NOT_IN_HW on a software filter.
    want.flags = 8;
    if let tokio_netlink::route::tc::Action::Mirred(m) = &mut want.actions[0] {
        m.index = 1;
    }
    assert_eq!(node.options(), FilterKind::U32(want));
    let text = tc(&ns, &["filter", "show", "dev", "v0", "ingress"]);
    assert!(text.contains("match 00000050/0000ffff at 20"), "{text}");
    assert!(text.contains("Egress Redirect to device v1"), "{text}");
    let e = t
        .filter()
        .add("v0", U32::new().match_ip_dport(1, 0xffff).unwrap())
        .parent("7:")
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with("filter add dev v0 parent 7: u32"),
        "{e}"
    );
}

/// Qdisc and class changes arrive as typed events on RTNLGRP_TC, made by
/// the library or by `tc`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qdisc_and_class_changes_are_typed_events() {
    use futures::StreamExt;
    use tokio_netlink::route::events::{ChangeKind, Event, Group};
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let t = nl.tc();
    let mut events = nl.events(&[Group::Tc]);
    events.ready().await.unwrap();
    // The next TC event, as (what, kind, handle, change kind).
    let mut next = async || loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10 s")
            .expect("stream open");
        let k = ev.change_kind();
        match ev {
            Event::NewQdisc(q) => return ("qdisc", q.kind().to_owned(), q.handle().to_string(), k),
            Event::DelQdisc(q) => return ("qdisc", q.kind().to_owned(), q.handle().to_string(), k),
            Event::NewClass(c) => {
                return ("class", c.kind().to_owned(), c.classid().to_string(), k);
            }
            Event::DelClass(c) => {
                return ("class", c.kind().to_owned(), c.classid().to_string(), k);
            }
            _ => {}
        }
    };
    t.qdisc().add("v0", Htb::new()).handle("1:").await.unwrap();
    let e = next().await;
    assert_eq!((e.0, e.1.as_str(), e.2.as_str()), ("qdisc", "htb", "1:"));
    assert_ne!(e.3, ChangeKind::Removed);
    t.class()
        .add("v0", "1:10", HtbClass::new(Rate::mbit(1)))
        .await
        .unwrap();
    let e = next().await;
    assert_eq!((e.0, e.1.as_str(), e.2.as_str()), ("class", "htb", "1:10"));
    tc(&ns, &["class", "del", "dev", "v0", "classid", "1:10"]);
    let e = next().await;
    assert_eq!(
        (e.0, e.2.as_str(), e.3),
        ("class", "1:10", ChangeKind::Removed)
    );
    tc(&ns, &["qdisc", "del", "dev", "v0", "root"]);
    let e = next().await;
    assert_eq!(
        (e.0, e.1.as_str(), e.3),
        ("qdisc", "htb", ChangeKind::Removed)
    );
}
