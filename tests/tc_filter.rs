//! Filters against the host kernel: the bpf classifier with a program
//! loaded through bpf(2), and the replace/change/del/get paths of u32 and
//! bpf, each in a fresh namespace and cross-checked with `tc`.

mod common;

use std::os::fd::AsRawFd;

use common::TestNs;
use common::tc::{BpfFs, NLM_F_ACK, NLM_F_REQUEST, load_sched_cls, tc, tc_json, tc_request, veths};
use tokio_netlink::route::tc::{
    Bpf, BpfProgram, FilterKind, Handle, Mirred, MirredAction, Parent, SockFilter,
};

/// Where the value of the first TCA_BPF_FD (type 6, length 8) in `p`
/// starts: the fd numbers of two processes differ, the rest must not.
fn fd_at(p: &[u8]) -> usize {
    // Past struct tcmsg and the TCA_KIND/TCA_OPTIONS headers.
    (20..p.len() - 8)
        .step_by(4)
        .find(|&i| p[i..i + 4] == [8, 0, 6, 0])
        .expect("a TCA_BPF_FD attribute")
        + 4
}

#[tokio::test]
async fn bpf_filter_requests_are_what_tc_sends() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let v1 = nl.link().get("v1").await.unwrap().index();
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    let fs = BpfFs::new("req");
    let prog = load_sched_cls("tnl_pass");
    let path = fs.pin(&prog, "pass");
    let name = "pass:[*fsobj]";
    let cases: Vec<(Bpf, Vec<&str>)> = vec![
        (
            Bpf::fd(prog.as_raw_fd()).name(name).direct_action(),
            vec!["da"],
        ),
        (
            Bpf::fd(prog.as_raw_fd())
                .name(name)
                .classid(Handle::new(1, 1))
                .action(Mirred::new(MirredAction::EgressMirror, v1)),
            vec![
                "classid", "1:1", "action", "mirred", "egress", "mirror", "dev", "v1",
            ],
        ),
    ];
    for (f, tail) in cases {
        let (ours, flags) = nl
            .tc()
            .filter()
            .add("v0", f)
            .parent(Parent::Ingress)
            .prio(3)
            .into_request()
            .await
            .unwrap();
        let mut args = vec![
            "filter",
            "add",
            "dev",
            "v0",
            "ingress",
            "pref",
            "3",
            "bpf",
            "object-pinned",
            &path,
        ];
        args.extend(tail);
        let (tc_flags, mut theirs) = tc_request(&ns, &args, 44);
        assert_eq!(flags | NLM_F_REQUEST | NLM_F_ACK, tc_flags);
        let (a, b) = (fd_at(&ours.payload), fd_at(&theirs));
        assert_eq!(a, b, "TCA_BPF_FD at the same place for tc {args:?}");
        theirs[b..b + 4].copy_from_slice(&ours.payload[a..a + 4]);
        assert_eq!(ours.payload, theirs, "bytes of tc {args:?}");
    }
    // Classic BPF: `bytecode "1,6 0 0 4294967295"` (accept all).
    let ops = vec![SockFilter {
        code: 6,
        jt: 0,
        jf: 0,
        k: u32::MAX,
    }];
    let (ours, _) = nl
        .tc()
        .filter()
        .add("v0", Bpf::classic(ops))
        .parent(Parent::Egress)
        .prio(4)
        .into_request()
        .await
        .unwrap();
    let args = [
        "filter",
        "add",
        "dev",
        "v0",
        "egress",
        "pref",
        "4",
        "bpf",
        "bytecode",
        "1,6 0 0 4294967295",
    ];
    let (_, theirs) = tc_request(&ns, &args, 44);
    assert_eq!(ours.payload, theirs, "bytes of tc {args:?}");
}

#[tokio::test]
async fn bpf_direct_action_filter_round_trips_and_matches_tc() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let t = nl.tc();
    t.qdisc()
        .add("v0", tokio_netlink::route::tc::QdiscKind::Clsact)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    let prog = load_sched_cls("tnl_pass");
    t.filter()
        .add(
            "v0",
            Bpf::fd(prog.as_raw_fd()).name("tnl:[x]").direct_action(),
        )
        .parent(Parent::Ingress)
        .prio(1)
        .protocol("all")
        .await
        .unwrap();
    // The kernel holds its own reference: closing ours keeps the filter.
    drop(prog);
    let all = t.filter().list("v0").parent(Parent::Ingress).await.unwrap();
    let f = all.iter().find(|f| f.handle() != 0).expect("the filter");
    assert_eq!((f.prio(), f.kind(), f.handle()), (1, "bpf", 1));
    let FilterKind::Bpf(b) = f.options() else {
        panic!("not typed: {:?}", f.options());
    };
    assert!(b.direct_action);
    assert_eq!(b.name.as_deref(), Some("tnl:[x]"));
    // TCA_CLS_FLAGS_NOT_IN_HW: a software filter.
    assert_eq!(b.flags, 8);
    let BpfProgram::Attached { id, tag } = b.program else {
        panic!("{:?}", b.program);
    };
    assert!(id > 0 && tag.is_some(), "id {id} tag {tag:?}");
    let j = tc_json(&ns, &["filter", "show", "dev", "v0", "ingress"]);
    let o = j
        .iter()
        .find_map(|e| e.get("options"))
        .unwrap_or_else(|| panic!("no options in {j:?}"));
    assert_eq!(o["bpf_name"], "tnl:[x]", "{o}");
    assert_eq!(o["direct-action"], true, "{o}");
    assert_eq!(o["not_in_hw"], true, "{o}");
    assert_eq!(o["prog"]["id"], id, "{o}");
    assert_eq!(o["prog"]["name"], "tnl_pass", "{o}");
    let hex: String = tag.unwrap().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(o["prog"]["tag"], hex, "{o}");
    // One filter by get (kernel 6.18 answers only with NLM_F_ECHO).
    let g = t
        .filter()
        .get("v0", "bpf")
        .parent(Parent::Ingress)
        .prio(1)
        .protocol("all")
        .handle(1)
        .await
        .unwrap();
    assert_eq!(g.options(), f.options());
}

/// (pref, protocol, kind) of each entry, in dump order: the library's
/// listing and `tc -j filter show`'s.
async fn listing_matches_tc(ns: &TestNs, t: &tokio_netlink::route::tc::TcHandle) -> usize {
    let ours: Vec<(u64, String, String)> = t
        .filter()
        .list("v0")
        .parent(Parent::Ingress)
        .await
        .unwrap()
        .iter()
        .map(|f| {
            (
                f.prio() as u64,
                f.protocol().to_string(),
                f.kind().to_owned(),
            )
        })
        .collect();
    let theirs: Vec<(u64, String, String)> =
        tc_json(ns, &["filter", "show", "dev", "v0", "ingress"])
            .iter()
            .map(|e| {
                (
                    e["pref"].as_u64().unwrap(),
                    e["protocol"].as_str().unwrap().to_owned(),
                    e["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    assert_eq!(ours, theirs);
    ours.len()
}

#[tokio::test]
async fn filters_replace_change_get_del_and_list_like_tc() {
    use tokio_netlink::route::tc::{U32, U32Handle};
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let t = nl.tc();
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    let node: U32Handle = "800::800".parse().unwrap();
    let u = |port| {
        U32::new()
            .match_ip_dport(port, 0xffff)
            .unwrap()
            .classid(Handle::new(1, 1))
    };
    let at = |b: tokio_netlink::route::tc::FilterChange| {
        b.parent(Parent::Ingress)
            .prio(10)
            .protocol("ip")
            .handle(node.raw())
    };
    let get = async |kind: &str, prio, handle| {
        t.filter()
            .get("v0", kind)
            .parent(Parent::Ingress)
            .prio(prio)
            .protocol(if kind == "u32" { "ip" } else { "all" })
            .handle(handle)
            .await
    };
    let u32_of = |f: tokio_netlink::route::tc::Filter| match f.options() {
        FilterKind::U32(u) => u,
        other => panic!("{other:?}"),
    };
    at(t.filter().add("v0", u(80))).await.unwrap();
    let e = at(t.filter().add("v0", u(80))).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    // The kernel keeps an existing u32 node's keys on replace (tc's
    // replace does the same): the classid changes, the key stays.
    at(t.filter().replace("v0", u(443).classid(Handle::new(1, 3))))
        .await
        .unwrap();
    let got = u32_of(get("u32", 10, node.raw()).await.unwrap());
    assert_eq!(
        (got.keys, got.classid),
        (u(80).keys, Some(Handle::new(1, 3)))
    );
    let text = tc(&ns, &["filter", "show", "dev", "v0", "ingress"]);
    assert!(text.contains("match 00000050/0000ffff at 20"), "{text}");
    assert!(text.contains("flowid 1:3"), "{text}");
    // change keeps the handle and takes the new options.
    let changed = u(80).classid(Handle::new(1, 2));
    at(t.filter().change("v0", changed)).await.unwrap();
    let got = u32_of(get("u32", 10, node.raw()).await.unwrap());
    assert_eq!(got.classid, Some(Handle::new(1, 2)));
    let text = tc(&ns, &["filter", "show", "dev", "v0", "ingress"]);
    assert!(text.contains("flowid 1:2"), "{text}");

    // bpf: add, then replace the program at the same handle.
    let (p1, p2) = (load_sched_cls("tnl_one"), load_sched_cls("tnl_two"));
    let bpf_at = |b: tokio_netlink::route::tc::FilterChange| {
        b.parent(Parent::Ingress).prio(20).protocol("all").handle(1)
    };
    bpf_at(t.filter().add("v0", Bpf::fd(p1.as_raw_fd()).name("one")))
        .await
        .unwrap();
    let first = get("bpf", 20, 1).await.unwrap();
    bpf_at(
        t.filter()
            .replace("v0", Bpf::fd(p2.as_raw_fd()).name("two").direct_action()),
    )
    .await
    .unwrap();
    let FilterKind::Bpf(b) = get("bpf", 20, 1).await.unwrap().options() else {
        panic!("not bpf");
    };
    let FilterKind::Bpf(a) = first.options() else {
        panic!("not bpf");
    };
    assert_eq!((b.name.as_deref(), b.direct_action), (Some("two"), true));
    assert_ne!(a.id(), b.id(), "the program was replaced");
    let j = tc_json(
        &ns,
        &["filter", "show", "dev", "v0", "ingress", "pref", "20"],
    );
    let o = j.iter().find_map(|e| e.get("options")).expect("options");
    assert_eq!(
        (&o["bpf_name"], &o["prog"]["id"]),
        (&"two".into(), &b.id().unwrap().into())
    );
    assert_eq!(listing_matches_tc(&ns, &t).await, 5);

    // del: one u32 node by handle, then a whole pref, then the rest.
    t.filter()
        .del("v0")
        .parent(Parent::Ingress)
        .prio(10)
        .protocol("ip")
        .handle(node.raw())
        .kind("u32")
        .await
        .unwrap();
    let e = get("u32", 10, node.raw()).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    t.filter()
        .del("v0")
        .parent(Parent::Ingress)
        .prio(20)
        .await
        .unwrap();
    assert!(!tc(&ns, &["filter", "show", "dev", "v0", "ingress"]).contains("bpf"));
    listing_matches_tc(&ns, &t).await;
    t.filter().del("v0").parent(Parent::Ingress).await.unwrap();
    assert_eq!(listing_matches_tc(&ns, &t).await, 0);
}

#[tokio::test]
async fn bad_filter_input_gives_clear_errors() {
    use tokio_netlink::Error;
    use tokio_netlink::route::tc::U32;
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let t = ns.client().tc();
    let f = || U32::new().match_ip_dport(1, 0xffff).unwrap();
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other}"),
    };
    let e = t.filter().add("v0", f()).parent("1:g").await.unwrap_err();
    assert_eq!(field(e), "parent");
    let e = t.filter().add("v0", f()).protocol("ipx").await.unwrap_err();
    assert_eq!(field(e), "protocol");
    let e = t
        .filter()
        .get("v0", "u32")
        .parent(Parent::Ingress)
        .await
        .unwrap_err();
    assert_eq!(field(e), "pref");
    let e = t.filter().add("nosuch0", f()).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        r#"filter add dev nosuch0 root u32: no such link "nosuch0""#
    );
    // No qdisc at the parent: the kernel's extended ACK is carried.
    let e = t
        .filter()
        .add("v0", f())
        .parent("7:")
        .prio(1)
        .await
        .unwrap_err();
    assert!(e.errno().is_some(), "{e}");
    assert_eq!(
        e.to_string(),
        "filter add dev v0 parent 7: pref 1 u32: Invalid argument: Parent Qdisc doesn't exists"
    );
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    // A node in a hash table that does not exist.
    let e = t
        .filter()
        .add("v0", f())
        .parent(Parent::Ingress)
        .prio(1)
        .protocol("ip")
        .handle(
            "5::1"
                .parse::<tokio_netlink::route::tc::U32Handle>()
                .unwrap()
                .raw(),
        )
        .await
        .unwrap_err();
    assert!(e.errno().is_some(), "{e}");
    assert!(
        e.to_string().ends_with(
            "u32: Invalid argument: cls_u32: Handle specified hash table address mismatch"
        ),
        "{e}"
    );
    let e = t
        .filter()
        .del("v0")
        .parent(Parent::Ingress)
        .prio(9)
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        "filter del dev v0 ingress pref 9: no such filter: Cannot find specified filter chain"
    );
    let e = t
        .chain()
        .del("v0", 4)
        .parent(Parent::Ingress)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "chain del dev v0 ingress chain 4: Invalid argument: Cannot find specified filter chain"
    );
    // Nothing half-done.
    assert!(tc_json(&ns, &["filter", "show", "dev", "v0", "ingress"]).is_empty());
}

#[tokio::test]
async fn chains_add_del_list_like_tc() {
    use tokio_netlink::route::tc::U32;
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let t = ns.client().tc();
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    for (ours, args, ty) in [
        (
            t.chain().add("v0", 3),
            "chain add dev v0 ingress chain 3",
            100,
        ),
        (
            t.chain().del("v0", 3),
            "chain del dev v0 ingress chain 3",
            101,
        ),
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        let (m, flags) = ours.parent(Parent::Ingress).into_request().await.unwrap();
        let (tc_flags, theirs) = tc_request(&ns, &args, ty);
        assert_eq!(flags | NLM_F_REQUEST | NLM_F_ACK, tc_flags, "{args:?}");
        assert_eq!(m.payload, theirs, "bytes of tc {args:?}");
    }
    // (tc ran both: chain 3 came and went.)
    t.chain()
        .add("v0", 5)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    let e = t
        .chain()
        .add("v0", 5)
        .parent(Parent::Ingress)
        .await
        .unwrap_err();
    assert!(e.is_exists(), "{e}");
    assert!(
        e.to_string().ends_with("Filter chain already exists"),
        "{e}"
    );
    // A filter's `chain N` creates the chain.
    t.filter()
        .add("v0", U32::new().match_ip_dport(22, 0xffff).unwrap())
        .parent(Parent::Ingress)
        .prio(1)
        .protocol("ip")
        .chain(9)
        .await
        .unwrap();
    let ours: Vec<(String, u32)> = t
        .chain()
        .list("v0")
        .parent(Parent::Ingress)
        .await
        .unwrap()
        .iter()
        .map(|c| (c.parent().to_string(), c.chain()))
        .collect();
    let theirs: Vec<(String, u32)> = tc_json(&ns, &["chain", "show", "dev", "v0", "ingress"])
        .iter()
        .map(|c| {
            (
                c["parent"].as_str().unwrap().to_owned(),
                c["chain"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(ours, [("ffff:".to_owned(), 5), ("ffff:".to_owned(), 9)]);
    let in9 = t
        .filter()
        .list("v0")
        .parent(Parent::Ingress)
        .chain(9)
        .await
        .unwrap();
    assert!(
        !in9.is_empty() && in9.iter().all(|f| f.chain() == 9),
        "{in9:?}"
    );
    t.chain()
        .del("v0", 9)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    t.chain()
        .del("v0", 5)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    assert!(tc_json(&ns, &["chain", "show", "dev", "v0", "ingress"]).is_empty());
    assert!(tc_json(&ns, &["filter", "show", "dev", "v0", "ingress"]).is_empty());
}

/// Filter and chain changes arrive as typed events on RTNLGRP_TC, made
/// by the library or by `tc`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_and_chain_changes_are_typed_events() {
    use futures::StreamExt;
    use std::time::Duration;
    use tokio_netlink::route::events::{ChangeKind, Event, Group};
    use tokio_netlink::route::tc::U32;
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let t = nl.tc();
    t.qdisc()
        .add("v0", tokio_netlink::route::tc::QdiscKind::Clsact)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    let mut events = nl.events(&[Group::Tc]);
    events.ready().await.unwrap();
    // The next filter or chain event, as (what, kind or chain, prio, change).
    let mut next = async || loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10 s")
            .expect("stream open");
        let k = ev.change_kind();
        match ev {
            Event::NewFilter(f) | Event::DelFilter(f) => {
                return ("filter", f.kind().to_owned(), f.prio(), k);
            }
            Event::NewChain(c) | Event::DelChain(c) => {
                return ("chain", c.chain().to_string(), 0, k);
            }
            _ => {}
        }
    };
    // Chain 0 added first: a filter would create it implicitly (with its
    // own event), and an explicit chain outlives its last filter.
    t.chain()
        .add("v0", 0)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    let e = next().await;
    assert_eq!((e.0, e.1.as_str()), ("chain", "0"));
    t.filter()
        .add("v0", U32::new().match_ip_dport(80, 0xffff).unwrap())
        .parent(Parent::Ingress)
        .prio(7)
        .protocol("ip")
        .await
        .unwrap();
    let e = next().await;
    assert_eq!((e.0, e.1.as_str(), e.2), ("filter", "u32", 7));
    assert_ne!(e.3, ChangeKind::Removed);
    tc(&ns, &["filter", "del", "dev", "v0", "ingress", "pref", "7"]);
    let e = next().await;
    assert_eq!((e.0, e.2, e.3), ("filter", 7, ChangeKind::Removed));
    tc(&ns, &["chain", "add", "dev", "v0", "ingress", "chain", "4"]);
    let e = next().await;
    assert_eq!((e.0, e.1.as_str()), ("chain", "4"));
    assert_ne!(e.3, ChangeKind::Removed);
    t.chain()
        .del("v0", 4)
        .parent(Parent::Ingress)
        .await
        .unwrap();
    let e = next().await;
    assert_eq!(
        (e.0, e.1.as_str(), e.3),
        ("chain", "4", ChangeKind::Removed)
    );
}
