//! Standalone actions (`tc actions …`) against the host kernel, each test
//! in a fresh namespace: requests compared byte for byte with `tc`'s, state
//! read back through the library and `tc -j actions list`.

mod common;

use common::TestNs;
use common::tc::{NLM_F_ACK, NLM_F_REQUEST, tc, tc_json, tc_request, veths};
use tokio_netlink::route::tc::{
    Action, Control, Gact, Mirred, MirredAction, Parent, TcMessage, U32,
};

fn same(ours: (TcMessage, u16), ns: &TestNs, line: &str, ty: u16) {
    let args: Vec<&str> = line.split(' ').collect();
    let (tc_flags, theirs) = tc_request(ns, &args, ty);
    assert_eq!(
        ours.1 | NLM_F_REQUEST | NLM_F_ACK,
        tc_flags,
        "flags of tc {line}"
    );
    assert_eq!(ours.0.payload, theirs, "bytes of tc {line}");
}

#[tokio::test]
async fn action_requests_are_what_tc_sends() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let v1 = nl.link().get("v1").await.unwrap().index();
    let a = nl.tc().actions();
    let m = Mirred {
        index: 7,
        ..Mirred::new(MirredAction::EgressRedirect, v1)
    };
    let add = a
        .add(m)
        .cookie(vec![0xaa, 0xbb, 0xcc])
        .into_request()
        .unwrap();
    same(
        add,
        &ns,
        "actions add action mirred egress redirect dev v1 index 7 cookie aabbcc",
        48,
    );
    let m2 = Mirred {
        index: 7,
        ..Mirred::new(MirredAction::IngressMirror, v1)
    };
    let rep = a.replace(m2).into_request().unwrap();
    same(
        rep,
        &ns,
        "actions replace action mirred ingress mirror dev v1 index 7",
        48,
    );
    // The host lacks act_gact: tc's request is still sent (and refused).
    let g = Gact {
        control: Control::Drop,
        index: 5,
    };
    same(
        a.add(g).into_request().unwrap(),
        &ns,
        "actions add action gact drop index 5",
        48,
    );
    let g = Gact::new(Control::GotoChain(3));
    same(
        a.add(g).into_request().unwrap(),
        &ns,
        "actions add action gact goto chain 3",
        48,
    );
    same(
        a.del("mirred", 7).into_request().unwrap(),
        &ns,
        "actions del action mirred index 7",
        49,
    );
    same(
        a.flush("mirred").into_request().unwrap(),
        &ns,
        "actions flush action mirred",
        49,
    );
    // A filter sharing action mirred 7 by index.
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    let f = U32::new()
        .match_ip_dport(80, 0xffff)
        .unwrap()
        .action(Action::Index {
            kind: "mirred".into(),
            index: 7,
        });
    let req = nl
        .tc()
        .filter()
        .add("v0", f)
        .parent(Parent::Ingress)
        .prio(1)
        .protocol("ip")
        .into_request()
        .await
        .unwrap();
    same(
        req,
        &ns,
        "filter add dev v0 ingress pref 1 protocol ip u32 match ip dport 80 0xffff action mirred index 7",
        44,
    );
}

/// (index, direction, mirred_action, to_dev, cookie) of each action in
/// `tc -j actions list action mirred`.
fn tc_mirreds(ns: &TestNs) -> Vec<(u64, String, String, String, Option<String>)> {
    let j = tc_json(ns, &["actions", "list", "action", "mirred"]);
    j.iter()
        .filter_map(|e| e.get("actions"))
        .flat_map(|a| a.as_array().unwrap().clone())
        .map(|a| {
            (
                a["index"].as_u64().unwrap(),
                a["direction"].as_str().unwrap().to_owned(),
                a["mirred_action"].as_str().unwrap().to_owned(),
                a["to_dev"].as_str().unwrap().to_owned(),
                a.get("cookie").map(|c| c.as_str().unwrap().to_owned()),
            )
        })
        .collect()
}

#[tokio::test]
async fn mirred_actions_round_trip_are_shared_by_filters_and_match_tc() {
    let ns = TestNs::new().await;
    veths(&ns, &[("v0", "v1")]).await;
    let nl = ns.client();
    let v1 = nl.link().get("v1").await.unwrap().index();
    let t = nl.tc();
    let a = t.actions();
    let redirect = Mirred {
        index: 7,
        ..Mirred::new(MirredAction::EgressRedirect, v1)
    };
    a.add(redirect)
        .cookie(vec![0xaa, 0xbb, 0xcc])
        .await
        .unwrap();
    a.add(Mirred::new(MirredAction::EgressMirror, v1))
        .await
        .unwrap();
    let e = a.add(redirect).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    let all = a.list("mirred").await.unwrap();
    let ours: Vec<_> = all
        .iter()
        .map(|x| {
            let Action::Mirred(m) = x.action() else {
                panic!("{x:?}");
            };
            let (dir, what) = match m.action {
                MirredAction::EgressRedirect => ("egress", "redirect"),
                MirredAction::EgressMirror => ("egress", "mirror"),
                MirredAction::IngressRedirect => ("ingress", "redirect"),
                MirredAction::IngressMirror => ("ingress", "mirror"),
            };
            assert_eq!(m.ifindex, v1);
            assert_eq!(m.index, x.index());
            let cookie = x
                .cookie()
                .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>());
            (
                x.index() as u64,
                dir.into(),
                what.into(),
                "v1".into(),
                cookie,
            )
        })
        .collect();
    assert_eq!(ours, tc_mirreds(&ns));
    assert_eq!(ours.len(), 2);
    let got = a.get("mirred", 7).await.unwrap();
    assert_eq!(got.action(), &Action::Mirred(redirect));
    assert_eq!(got.cookie(), Some(&[0xaa, 0xbb, 0xcc][..]));
    // replace: same index, new mode.
    let mirror = Mirred {
        index: 7,
        ..Mirred::new(MirredAction::IngressMirror, v1)
    };
    a.replace(mirror).await.unwrap();
    assert_eq!(
        a.get("mirred", 7).await.unwrap().action(),
        &Action::Mirred(mirror)
    );
    assert!(tc_mirreds(&ns).contains(&(
        7,
        "ingress".into(),
        "mirror".into(),
        "v1".into(),
        Some("aabbcc".into())
    )));

    // del one, get it (gone), then flush the rest.
    let other = ours.iter().map(|o| o.0 as u32).find(|i| *i != 7).unwrap();
    a.del("mirred", other).await.unwrap();
    let e = a.get("mirred", other).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "action get action mirred index {other}: no such action: \
             TC action with specified index not found"
        )
    );
    a.flush("mirred").await.unwrap();
    assert!(a.list("mirred").await.unwrap().is_empty());
    assert!(tc_mirreds(&ns).is_empty());
    let e = a
        .add(Mirred::new(MirredAction::EgressMirror, v1))
        .cookie(vec![0; 17])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            tokio_netlink::Error::InvalidInput {
                field: "cookie",
                ..
            }
        ),
        "{e}"
    );

    // A filter sharing action 7 by index: tc sees it bound, and the
    // kernel refuses to delete it.
    a.add(mirror).await.unwrap();
    tc(&ns, &["qdisc", "add", "dev", "v0", "clsact"]);
    let f = U32::new()
        .match_ip_dport(80, 0xffff)
        .unwrap()
        .action(Action::Index {
            kind: "mirred".into(),
            index: 7,
        });
    t.filter()
        .add("v0", f)
        .parent(Parent::Ingress)
        .prio(1)
        .protocol("ip")
        .await
        .unwrap();
    let j = tc_json(&ns, &["actions", "get", "action", "mirred", "index", "7"]);
    let bind = j
        .iter()
        .filter_map(|e| e.get("actions"))
        .flat_map(|a| a.as_array().unwrap().clone())
        .map(|a| a["bind"].as_u64().unwrap())
        .next();
    assert_eq!(bind, Some(1), "{j:?}");
    let text = tc(&ns, &["filter", "show", "dev", "v0", "ingress"]);
    assert!(
        text.contains("Ingress Mirror to device v1") && text.contains("index 7"),
        "{text}"
    );
    let e = a.del("mirred", 7).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "action del action mirred index 7: Operation not permitted: Failed to delete TC action"
    );
}
