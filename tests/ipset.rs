//! IP sets through `nl.ipset()`, each test in a fresh namespace (ip_set is
//! per namespace), cross-checked with `ipset` run in the same namespace.

mod common;

use std::process::Command;

use common::TestNs;
use futures::{StreamExt, TryStreamExt};
use tokio_netlink::netfilter::ipset::{IpsetEntry, IpsetHandle, Listed, SetType, errno};
use tokio_netlink::{Error, Family};

/// `ip netns exec NS ipset ARGS`: its stdout; panics when it fails.
fn ipset(ns: &TestNs, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ipset"])
        .args(args)
        .output()
        .expect("run ipset (apt-get install ipset)");
    assert!(
        out.status.success(),
        "ipset {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// `ipset save`'s lines, sorted (hash sets list in hash order), with
/// ticking timeouts of members replaced by `_`.
fn saved(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(untimed).collect();
    v.sort();
    v
}

fn untimed(line: &str) -> String {
    match (line.starts_with("add "), line.split_once(" timeout ")) {
        (true, Some((a, rest))) => {
            let rest = rest.split_once(' ').map_or("", |(_, r)| r);
            format!("{a} timeout _ {rest}").trim_end().to_owned()
        }
        _ => line.to_owned(),
    }
}

/// Our `ipset save`: every set's create line, then its members.
async fn our_save(h: &IpsetHandle) -> Vec<String> {
    let mut out = Vec::new();
    let mut name = String::new();
    let mut all = h.list_all();
    while let Some(item) = all.try_next().await.unwrap() {
        match item {
            Listed::Set(hd) => {
                out.push(format!("create {} {} {hd}", hd.name, hd.type_name));
                name = hd.name;
            }
            Listed::Member(m) => out.push(untimed(&format!("add {name} {m}"))),
        }
    }
    out.sort();
    out
}

fn entry(ty: SetType, s: &str) -> IpsetEntry {
    IpsetEntry::parse(ty, s).unwrap()
}

/// The types the kernel has; the others are reported as missing (the host
/// kernel lacks hash:mac and hash:ip,mac).
async fn has_type(h: &IpsetHandle, ty: SetType) -> bool {
    match h.create("probe", ty).port_range(1, 2).await {
        Err(e) if e.errno() == Some(errno::FIND_TYPE) => {
            common::feature_missing(ty.name(), &e);
            false
        }
        _ => {
            let _ = h.destroy("probe").await;
            true
        }
    }
}

#[tokio::test]
async fn protocol_handshake() {
    let ns = TestNs::new().await;
    let (version, min) = ns.client().ipset().protocol().await.unwrap();
    assert!(min <= 7 && 7 <= version, "kernel speaks {min}..{version}");
}

/// Each type: (type, create options applied, members in ipset's syntax).
type Case = (
    SetType,
    fn(
        tokio_netlink::netfilter::ipset::IpsetCreate,
    ) -> tokio_netlink::netfilter::ipset::IpsetCreate,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const CASES: &[Case] = &[
    (
        SetType::HashIp,
        |c| c.hashsize(64).maxelem(100).netmask(24),
        &["10.0.1.0", "10.0.2.0"],
        "10.0.1.7",
        "10.0.3.1",
    ),
    (
        SetType::HashNet,
        |c| c.family(Family::V6),
        &["2001:db8::/32", "::1"],
        "2001:db8::5",
        "2001:db9::1",
    ),
    (
        SetType::HashIpPort,
        |c| c,
        &["1.1.1.1,udp:53", "1.1.1.1,tcp:80", "1.1.1.2,sctp:9"],
        "1.1.1.1,udp:53",
        "1.1.1.1,udp:54",
    ),
    (
        SetType::HashNetPort,
        |c| c.counters(),
        &["10.0.0.0/24,tcp:22"],
        "10.0.0.9,tcp:22",
        "10.0.1.9,tcp:22",
    ),
    (
        SetType::HashIpPortIp,
        |c| c.family(Family::V6),
        &["2001:db8::1,sctp:5,::2"],
        "2001:db8::1,sctp:5,::2",
        "2001:db8::1,sctp:5,::3",
    ),
    (
        SetType::HashIpPortNet,
        |c| c,
        &["1.2.3.4,udp:2,10.0.0.0/8"],
        "1.2.3.4,udp:2,10.9.9.9",
        "1.2.3.4,udp:3,10.9.9.9",
    ),
    (
        SetType::HashMac,
        |c| c,
        &["AA:BB:CC:DD:EE:0F"],
        "AA:BB:CC:DD:EE:0F",
        "AA:BB:CC:DD:EE:00",
    ),
    (
        SetType::HashIpMac,
        |c| c,
        &["1.2.3.4,AA:BB:CC:DD:EE:0F"],
        "1.2.3.4,AA:BB:CC:DD:EE:0F",
        "1.2.3.5,AA:BB:CC:DD:EE:0F",
    ),
    (
        SetType::HashNetIface,
        |c| c.maxelem(10),
        &["10.0.0.0/8,physdev:eth0", "10.0.0.1,lo"],
        "10.0.0.1,lo",
        "10.0.0.1,eth0",
    ),
    (
        SetType::BitmapIp,
        |c| {
            c.ip_range("10.0.0.0".parse().unwrap(), "10.0.0.255".parse().unwrap())
                .comment()
        },
        &["10.0.0.1", "10.0.0.200"],
        "10.0.0.200",
        "10.0.0.2",
    ),
    (
        SetType::BitmapPort,
        |c| c.port_range(10, 200),
        &["15", "20"],
        "20",
        "21",
    ),
    (SetType::ListSet, |c| c.size(4), &["m1", "m2"], "m2", "m3"),
];

#[tokio::test]
async fn every_type_created_filled_tested_listed_like_ipset() {
    let ns = TestNs::new().await;
    let h = ns.client().ipset();
    // Members of the list:set.
    for m in ["m1", "m2", "m3"] {
        h.create(m, SetType::HashIp).await.unwrap();
    }
    for (i, &(ty, opts, members, hit, miss)) in CASES.iter().enumerate() {
        if !has_type(&h, ty).await {
            continue;
        }
        let name = format!("s{i}");
        opts(h.create(&name, ty)).await.unwrap();
        for m in members {
            h.add(&name, entry(ty, m)).await.unwrap();
        }
        assert!(h.test(&name, entry(ty, hit)).await.unwrap(), "{ty} {hit}");
        assert!(
            !h.test(&name, entry(ty, miss)).await.unwrap(),
            "{ty} {miss}"
        );
        let info = h.info(&name).await.unwrap();
        assert_eq!(info.type_name, ty.name());
        assert_eq!(info.elements, Some(members.len() as u32), "{ty}");
        let listed: Vec<IpsetEntry> = h.list(&name).try_collect().await.unwrap();
        assert_eq!(listed.len(), members.len(), "{ty}: {listed:?}");
    }
    assert_eq!(our_save(&h).await, saved(&ipset(&ns, &["save"])));
    let names = h.names().await.unwrap();
    assert_eq!(names.join("\n") + "\n", ipset(&ns, &["list", "-n"]));
    for hd in h.headers().await.unwrap() {
        let header = format!("Header: {hd}");
        let theirs = ipset(&ns, &["list", "-t", &hd.name]);
        assert!(
            theirs.lines().any(|l| l == header),
            "{header:?} in\n{theirs}"
        );
        assert!(
            theirs.contains(&format!("Revision: {}\n", hd.revision)),
            "{theirs}"
        );
    }
}

#[tokio::test]
async fn extensions_round_trip_and_match_ipset() {
    let ns = TestNs::new().await;
    let h = ns.client().ipset();
    let ty = SetType::HashNetPort;
    h.create("x", ty)
        .timeout(100)
        .counters()
        .comment()
        .skbinfo()
        .await
        .unwrap();
    h.add("x", entry(ty, "10.0.0.0/24,udp:53"))
        .timeout(50)
        .nomatch()
        .counters(1, 2)
        .comment("a b")
        .skbmark(0x10, 0xff)
        .skbprio(1, 2)
        .skbqueue(3)
        .await
        .unwrap();
    h.add("x", entry(ty, "10.1.0.0/16,tcp:80")).await.unwrap();
    ipset(
        &ns,
        &[
            "add",
            "x",
            "10.2.0.0/16,tcp:1-2",
            "comment",
            "by ipset",
            "skbmark",
            "0x5",
        ],
    );
    assert_eq!(our_save(&h).await, saved(&ipset(&ns, &["save"])));
    let listed: Vec<IpsetEntry> = h.list("x").try_collect().await.unwrap();
    let m = listed
        .iter()
        .find(|m| m.comment.as_deref() == Some("a b"))
        .unwrap();
    assert!(m.nomatch && m.timeout.is_some_and(|t| t <= 50));
    assert_eq!(
        (m.packets, m.bytes, m.skbqueue),
        (Some(1), Some(2), Some(3))
    );
    // nomatch: the network is an exception, so its addresses do not match.
    assert!(!h.test("x", entry(ty, "10.0.0.1,udp:53")).await.unwrap());
    let e = h
        .add("x", entry(ty, "10.1.0.0/16,tcp:80"))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(errno::EXIST));
    h.add("x", entry(ty, "10.1.0.0/16,tcp:80"))
        .timeout(7)
        .exist()
        .await
        .unwrap();
    h.del("x", entry(ty, "10.1.0.0/16,tcp:80")).await.unwrap();
    h.del("x", entry(ty, "10.1.0.0/16,tcp:80"))
        .exist()
        .await
        .unwrap();
    assert_eq!(h.list("x").count().await, 3);
}

#[tokio::test]
async fn rename_swap_flush_destroy() {
    let ns = TestNs::new().await;
    let h = ns.client().ipset();
    let ty = SetType::HashIp;
    h.create("a", ty).await.unwrap();
    h.create("b", ty).await.unwrap();
    h.add("a", entry(ty, "1.1.1.1")).await.unwrap();
    h.swap("a", "b").await.unwrap();
    assert!(h.test("b", entry(ty, "1.1.1.1")).await.unwrap());
    assert!(!h.test("a", entry(ty, "1.1.1.1")).await.unwrap());
    h.rename("b", "c").await.unwrap();
    assert_eq!(ipset(&ns, &["list", "-n"]), "a\nc\n");
    let hd = h.header("c").await.unwrap();
    assert_eq!(
        (hd.type_name.as_str(), hd.address_family()),
        ("hash:ip", Some(Family::V4))
    );
    h.flush("c").await.unwrap();
    assert_eq!(h.info("c").await.unwrap().elements, Some(0));
    h.destroy("a").await.unwrap();
    assert_eq!(h.names().await.unwrap(), ["c"]);
    h.flush_all().await.unwrap();
    h.destroy_all().await.unwrap();
    assert_eq!(ipset(&ns, &["list", "-n"]), "");
}

#[tokio::test]
async fn hundred_thousand_members_stream() {
    let ns = TestNs::new().await;
    let h = ns.client().ipset();
    h.create("big", SetType::HashIp)
        .maxelem(200_000)
        .await
        .unwrap();
    let members = (0..100_000u32).map(|i| IpsetEntry {
        ip: Some(std::net::Ipv4Addr::from(0x0a00_0000 + i).into()),
        ..Default::default()
    });
    assert_eq!(h.add_many("big", members).await.unwrap(), 100_000);
    // Counted item by item, nothing collected.
    let mut seen = 0u32;
    let mut sum = 0u64;
    let mut s = std::pin::pin!(h.list("big"));
    while let Some(m) = s.try_next().await.unwrap() {
        let Some(std::net::IpAddr::V4(a)) = m.ip else {
            panic!("{m:?}")
        };
        sum += u64::from(u32::from(a) - 0x0a00_0000);
        seen += 1;
    }
    assert_eq!(seen, 100_000);
    assert_eq!(sum, 99_999 * 100_000 / 2);
    let theirs = ipset(&ns, &["list", "-t", "big"]);
    assert!(theirs.contains("Number of entries: 100000"), "{theirs}");
    // Members already there fail a batch naming the member, unless -exist.
    let again = (0..3u32).map(|i| IpsetEntry {
        ip: Some(std::net::Ipv4Addr::from(0x0a00_0000 + i).into()),
        ..Default::default()
    });
    let e = h.add_many("big", again.clone()).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("10.0.0.0: element is already in the set"),
        "{e}"
    );
    assert_eq!(h.add_many("big", again).exist().await.unwrap(), 3);
}

fn reason(e: &Error) -> String {
    e.to_string()
}

#[tokio::test]
async fn bad_input_names_the_field_or_ipsets_reason() {
    let ns = TestNs::new().await;
    let h = ns.client().ipset();
    h.create("v4", SetType::HashNet).await.unwrap();
    h.create("full", SetType::HashIp).maxelem(1).await.unwrap();
    h.create("ports", SetType::BitmapPort)
        .port_range(1, 10)
        .await
        .unwrap();
    // Wrong family.
    let e = h
        .add("v4", entry(SetType::HashNet, "2001:db8::/32"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "family",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "invalid family: set v4 is family inet; 2001:db8:: is not"
    );
    let e = h
        .test("v4", entry(SetType::HashNet, "2001:db8::1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "family",
                ..
            }
        ),
        "{e}"
    );
    let e = h
        .create("f", SetType::BitmapPort)
        .family(Family::V6)
        .port_range(1, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                field: "family",
                ..
            }
        ),
        "{e}"
    );
    // Malformed CIDR.
    let e = IpsetEntry::parse(SetType::HashNet, "10.0.0.0/33").unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "net", .. }), "{e}");
    // A timeout on a set without timeout support.
    let e = h
        .add("v4", entry(SetType::HashNet, "10.0.0.0/8"))
        .timeout(5)
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(errno::TIMEOUT));
    assert!(
        reason(&e).contains("set was created without timeout support"),
        "{e}"
    );
    // Duplicate create.
    let e = h.create("v4", SetType::HashNet).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    assert_eq!(
        reason(&e),
        "ipset create v4 hash:net: File exists: set with the same name already exists"
    );
    h.create("v4", SetType::HashNet).exist().await.unwrap();
    // Deleting a missing member.
    let e = h
        .del("v4", entry(SetType::HashNet, "10.9.0.0/16"))
        .await
        .unwrap_err();
    assert_eq!(
        reason(&e),
        "ipset del v4 10.9.0.0/16: element is not in the set (error 4103)"
    );
    // Unknown set.
    let e = h
        .add("nope", entry(SetType::HashIp, "1.1.1.1"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(
        reason(&e).contains("the set with the given name does not exist"),
        "{e}"
    );
    assert!(
        h.list("nope")
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err()
            .is_not_found()
    );
    // Type-specific codes, read by the set's type.
    h.add("full", entry(SetType::HashIp, "1.1.1.1"))
        .await
        .unwrap();
    let e = h
        .add("full", entry(SetType::HashIp, "1.1.1.2"))
        .await
        .unwrap_err();
    assert!(reason(&e).contains("hash is full"), "{e}");
    let e = h
        .add("ports", entry(SetType::BitmapPort, "11"))
        .await
        .unwrap_err();
    assert!(reason(&e).contains("out of the range of the set"), "{e}");
    let e = h
        .create("b", SetType::BitmapIp)
        .ip_range(
            "10.0.0.0".parse().unwrap(),
            "10.255.255.255".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(reason(&e).contains("exceeds the size limit"), "{e}");
    // Missing sets are errors for every command on a named set.
    for e in [
        h.destroy("nope").await.unwrap_err(),
        h.flush("nope").await.unwrap_err(),
        h.rename("nope", "x").await.unwrap_err(),
        h.header("nope").await.unwrap_err(),
    ] {
        assert!(e.is_not_found(), "{e}");
    }
    let e = h.swap("v4", "nope").await.unwrap_err();
    assert!(reason(&e).contains("the second set does not exist"), "{e}");
    // Swapping sets of different types.
    let e = h.swap("v4", "ports").await.unwrap_err();
    assert!(reason(&e).contains("types of the sets do not match"), "{e}");
    // Names the kernel would refuse never leave.
    let long = "n".repeat(32);
    let e = h.create(&long, SetType::HashIp).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { field: "set", .. }), "{e}");
    let e = h.create("r", SetType::BitmapPort).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "range", .. }),
        "{e}"
    );
}

/// The example, built once.
fn example() -> &'static std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| common::ip_example::build_example("ipset"))
}

/// Runs the example in `ns` with `stdin`; its exit code, stdout, stderr.
fn ex(ns: &TestNs, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(example())
        .args(["-n", &ns.name])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the example");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (o.status.code().unwrap_or(-1), s(o.stdout), s(o.stderr))
}

fn ex_ok(ns: &TestNs, args: &[&str]) -> String {
    let (code, out, err) = ex(ns, args, "");
    assert_eq!(code, 0, "example {args:?}: {err}");
    out
}

#[tokio::test]
async fn example_prints_as_ipset_and_restores_its_save() {
    let ns = TestNs::new().await;
    for a in [
        "create n hash:net,port counters comment skbinfo",
        "add n 10.0.0.0/24,udp:53 nomatch packets 1 bytes 2 comment \"a b\" skbmark 0x10/0xff",
        "create p bitmap:port range 10-200",
        "create i hash:ip family inet6 netmask 64 maxelem 10",
        "create l list:set size 4",
    ] {
        let (code, _, err) = ex(&ns, &["restore"], a);
        assert_eq!(code, 0, "{a}: {err}");
    }
    ex_ok(&ns, &["add", "p", "15"]);
    ex_ok(&ns, &["add", "p", "20-22"]);
    ex_ok(&ns, &["add", "i", "2001:db8::1"]);
    ex_ok(&ns, &["add", "l", "p"]);
    ex_ok(&ns, &["-exist", "add", "p", "15"]);
    let (code, _, err) = ex(&ns, &["add", "p", "15"], "");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "ipset: ipset add p 15: element is already in the set (error 4103)\n"
        )
    );
    assert_eq!(ex(&ns, &["test", "p", "21"], "").2, "21 is in set p.\n");
    assert_eq!(ex(&ns, &["test", "p", "23"], "").0, 1);
    for args in [
        &["list"][..],
        &["list", "-t"],
        &["list", "-n"],
        &["save"],
        &["list", "n"],
        &["save", "p"],
    ] {
        assert_eq!(ex_ok(&ns, args), ipset(&ns, args), "{args:?}");
    }
    let save = ipset(&ns, &["save"]);
    // l's member p holds a reference that stops a destroy.
    ipset(&ns, &["flush", "l"]);
    ipset(&ns, &["destroy"]);
    let (code, _, err) = ex(&ns, &["restore"], &save);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ipset(&ns, &["save"]), save);
    // A set in a list:set cannot be renamed: ipset's reason says so.
    let (_, _, err) = ex(&ns, &["rename", "p", "q"], "");
    assert!(
        err.contains("set is in use by another set or rule"),
        "{err}"
    );
    ex_ok(&ns, &["destroy", "l"]);
    ex_ok(&ns, &["rename", "p", "q"]);
    ex_ok(&ns, &["flush", "q"]);
    assert_eq!(
        ipset(&ns, &["list", "-t", "q"])
            .matches("entries: 0")
            .count(),
        1
    );
    ex_ok(&ns, &["destroy"]);
    assert_eq!(ipset(&ns, &["list", "-n"]), "");
}

#[tokio::test]
async fn example_is_quiet_when_the_reader_goes_away() {
    let ns = TestNs::new().await;
    let h = ns.client().ipset();
    h.create("big", SetType::HashIp).await.unwrap();
    let members = (0..50_000u32).map(|i| IpsetEntry {
        ip: Some(std::net::Ipv4Addr::from(0x0a00_0000 + i).into()),
        ..Default::default()
    });
    h.add_many("big", members).await.unwrap();
    let script = format!(
        "set -o pipefail; {} -n {} list | head -1",
        example().display(),
        ns.name
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "Name: big\n");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success());
}
