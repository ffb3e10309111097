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
