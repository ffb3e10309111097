//! Generic netlink against iproute2's `genl`, in a fresh namespace: every
//! family resolved and listed as `genl ctrl get` / `genl ctrl list` show
//! it (id, version, header size, max attribute, commands with their
//! capabilities, multicast groups), unknown and malformed names refused,
//! and the raw requester's get and dump.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::TestNs;
use futures::TryStreamExt;
use tokio_netlink::Error;
use tokio_netlink::genl::{AttrBuilder, Family, FamilyRef, GENL_ID_CTRL, ctrl};

/// A family as `genl` prints it: (id, version, hdrsize, maxattr, ops as
/// (id, flags), groups as (name, id)).
type Seen = (u16, u32, u32, u32, Vec<(u32, u32)>, Vec<(String, u32)>);

fn seen(f: &Family) -> Seen {
    // genl prints a command's capabilities only for families of version 2
    // or later (it takes the family's version for the controller's).
    let flags = |o: &tokio_netlink::genl::Op| if f.version >= 2 { o.flags.0 } else { 0 };
    (
        f.id,
        f.version,
        f.hdrsize,
        f.maxattr,
        f.ops.iter().map(|o| (o.id, flags(o))).collect(),
        f.mcast_groups
            .iter()
            .map(|g| (g.name.clone(), g.id))
            .collect(),
    )
}

fn hex(s: &str) -> u32 {
    let h = s.trim_start_matches("ID-").trim_start_matches("0x");
    u32::from_str_radix(h.trim_end_matches(':').trim_end_matches(')'), 16)
        .unwrap_or_else(|_| panic!("not hex: {s:?}"))
}

/// Parses `genl ctrl list` / `genl ctrl get` text into families by name.
fn parse(text: &str) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut cur: Option<(String, Seen)> = None;
    let mut in_groups = false;
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["Name:", name] => {
                out.extend(cur.take());
                cur = Some((name.to_string(), Default::default()));
                in_groups = false;
            }
            [
                "ID:",
                id,
                "Version:",
                v,
                "header",
                "size:",
                h,
                "max",
                "attribs:",
                m,
            ] => {
                let f = &mut cur.as_mut().expect("a family").1;
                (f.0, f.1) = (hex(id) as u16, hex(v));
                (f.2, f.3) = (h.parse().unwrap(), m.parse().unwrap());
            }
            ["commands", "supported:"] => in_groups = false,
            ["multicast", "groups:"] => in_groups = true,
            [n, id] if n.starts_with('#') && !in_groups => {
                cur.as_mut().expect("a family").1.4.push((hex(id), 0));
            }
            ["Capabilities", flags] => {
                let f = &mut cur.as_mut().expect("a family").1;
                f.4.last_mut().expect("an op").1 = hex(flags.trim_start_matches('('));
            }
            [n, id, "name:", g] if n.starts_with('#') && in_groups => {
                let f = &mut cur.as_mut().expect("a family").1;
                f.5.push((g.to_string(), hex(id)));
            }
            _ => {}
        }
    }
    out.extend(cur);
    out
}

/// `genl ARGS` run in the namespace.
fn genl(ns: &TestNs, args: &[&str]) -> String {
    let o = Command::new("ip")
        .args(["netns", "exec", &ns.name, "genl"])
        .args(args)
        .output()
        .expect("run genl");
    assert!(
        o.status.success(),
        "genl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf8")
}

#[tokio::test]
async fn families_are_listed_and_resolved_as_genl_shows_them() {
    let ns = TestNs::new().await;
    let g = ns.client().genl();
    let text = genl(&ns, &["ctrl", "list"]);
    let theirs = parse(&text);
    assert!(theirs.contains_key("nlctrl") && theirs.len() > 3, "{text}");

    let listed: Vec<Family> = g.families().try_collect().await.unwrap();
    let ours: BTreeMap<String, Seen> = listed.iter().map(|f| (f.name.clone(), seen(f))).collect();
    assert_eq!(ours, theirs, "genl ctrl list");
    assert_eq!(listed.len(), ours.len(), "each family once");
    // What genl does not print (flags of version-1 families): every
    // command of the kernel's has a doit or a dumpit.
    for f in &listed {
        let odd: Vec<_> = f
            .ops
            .iter()
            .filter(|o| !o.flags.can_do() && !o.flags.can_dump())
            .collect();
        assert!(odd.is_empty(), "{}: {odd:?}", f.name);
    }

    for name in theirs.keys() {
        let one = parse(&genl(&ns, &["ctrl", "get", "name", name]));
        let f = g.family(name).await.unwrap();
        assert_eq!(one.get(name), Some(&seen(&f)), "genl ctrl get name {name}");
        assert_eq!(listed.iter().find(|l| &l.name == name), Some(&f));
        assert_eq!(g.family_by_id(f.id).await.unwrap(), f, "by id {:#x}", f.id);
    }

    let nlctrl = g.family("nlctrl").await.unwrap();
    assert_eq!((nlctrl.id, nlctrl.version), (GENL_ID_CTRL, 2));
    let get = nlctrl.op(ctrl::CMD_GETFAMILY as u32).expect("GETFAMILY");
    assert!(get.flags.can_do() && get.flags.can_dump(), "{get:?}");
    assert_eq!(nlctrl.mcast_group("notify").map(|g| g.id), Some(0x10));
    assert!(nlctrl.mcast_group("nosuch").is_none());
}

#[tokio::test]
async fn unknown_and_malformed_names_are_clear_errors() {
    let ns = TestNs::new().await;
    let g = ns.client().genl();
    let e = g.family("tnlnosuch0").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "genl ctrl get name tnlnosuch0: no such family"
    );
    assert!(e.is_not_found() && e.errno() == Some(libc::ENOENT), "{e:?}");
    assert_eq!(e.object(), Some("name tnlnosuch0"));
    // A request by name fails the same way, before anything reaches a family.
    let e = g.request("tnlnosuch0", 1).ack().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "genl ctrl get name tnlnosuch0: no such family"
    );
    let e = g
        .request("tnlnosuch0", 1)
        .dump()
        .try_next()
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");

    let e = g.family_by_id(0x3ff).await.unwrap_err();
    assert_eq!(e.to_string(), "genl ctrl get id 0x3ff: no such family");
    assert!(e.is_not_found(), "{e:?}");

    let sent = g.requester().stats().requests_sent;
    let long = "a".repeat(16);
    for (bad, why) in [
        (long.as_str(), "16 bytes, longer than 15"),
        ("nl\0ctrl", "NUL byte at 2"),
        ("", "empty"),
    ] {
        let e = g.family(bad).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "family",
                    ..
                }
            ),
            "{bad:?}: {e:?}"
        );
        assert!(e.to_string().contains(why), "{e}");
        let e = g.request(bad, 1).get().await.unwrap_err();
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
    }
    assert_eq!(g.requester().stats().requests_sent, sent, "nothing sent");
    // The longest name that fits is asked of the kernel.
    let e = g.family(&"a".repeat(15)).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // A builder's input error is the request's.
    let bad = AttrBuilder::new().str(ctrl::ATTR_FAMILY_NAME, "a\0b");
    let e = g
        .request("nlctrl", ctrl::CMD_GETFAMILY)
        .attrs(bad)
        .get()
        .await;
    assert!(
        matches!(
            e,
            Err(Error::InvalidInput {
                field: "attribute",
                ..
            })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn raw_requests_get_and_dump() {
    let ns = TestNs::new().await;
    let g = ns.client().genl();
    let by_name = |n: &str| AttrBuilder::new().str(ctrl::ATTR_FAMILY_NAME, n);
    for target in [FamilyRef::from("nlctrl"), FamilyRef::Id(GENL_ID_CTRL)] {
        let m = g
            .request(target, ctrl::CMD_GETFAMILY)
            .version(ctrl::VERSION)
            .attrs(by_name("nlctrl"))
            .get()
            .await
            .unwrap();
        assert_eq!((m.family, m.cmd), (GENL_ID_CTRL, ctrl::CMD_NEWFAMILY));
        let a = m.attributes();
        assert_eq!(
            a.get(ctrl::ATTR_FAMILY_ID).and_then(|a| a.u16()),
            Some(0x10)
        );
        assert_eq!(
            a.get(ctrl::ATTR_FAMILY_NAME).and_then(|a| a.str()),
            Some("nlctrl")
        );
        let ops = a.get(ctrl::ATTR_OPS).expect("ops");
        assert!(ops.nested().count() >= 1);
        let mut all = m.attributes();
        all.by_ref().count();
        assert!(!all.truncated());
    }
    // An ack skips the reply and resolves at the acknowledgement; the
    // kernel's refusal comes in the request's context.
    let ack = |n| {
        g.request("nlctrl", ctrl::CMD_GETFAMILY)
            .attrs(by_name(n))
            .ack()
    };
    ack("nlctrl").await.unwrap();
    let e = ack("tnlnosuch0").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.operation(), Some("genl request"));
    assert_eq!(e.object(), Some("nlctrl cmd 3"));
    // Requests are Send futures: they run on spawned tasks.
    let req = g
        .request("nlctrl", ctrl::CMD_GETFAMILY)
        .attrs(by_name("nlctrl"));
    let m = tokio::spawn(req.get()).await.unwrap().unwrap();
    assert_eq!(m.cmd, ctrl::CMD_NEWFAMILY);
    let g2 = g.clone();
    let f = tokio::spawn(async move { g2.family("nlctrl").await })
        .await
        .unwrap();
    assert_eq!(f.unwrap().id, GENL_ID_CTRL);
    // The same request's ENOENT from nlctrl itself is returned, in context.
    let e = g
        .request("nlctrl", ctrl::CMD_GETFAMILY)
        .attrs(by_name("tnlnosuch0"))
        .get()
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(
        e.to_string().starts_with("genl request nlctrl cmd 3: "),
        "{e}"
    );

    let dumped: Vec<_> = g
        .request("nlctrl", ctrl::CMD_GETFAMILY)
        .dump()
        .try_collect()
        .await
        .unwrap();
    let listed: Vec<Family> = g.families().try_collect().await.unwrap();
    let dumped_ids: Vec<u16> = dumped
        .iter()
        .filter_map(|m| {
            m.attributes()
                .get(ctrl::ATTR_FAMILY_ID)
                .and_then(|a| a.u16())
        })
        .collect();
    assert_eq!(dumped_ids, listed.iter().map(|f| f.id).collect::<Vec<_>>());
}
