//! Errors name the caller's operation and object, in iproute2's words,
//! against the real kernel: what a newcomer's first mistakes now print.

mod common;

use common::TestNs;
use netlink_packet_route::route::RouteType;
use tokio_netlink::route::link::LinkId;
use tokio_netlink::route::link::kinds::{Bridge, Veth, Vlan};
use tokio_netlink::xfrm::{Dir, IpsecProto, PolicyId, Selector, StateId};
use tokio_netlink::{Error, Netlink};

/// A namespace with up veths v0/v1, 192.0.2.1/24 on v0.
async fn setup() -> (TestNs, Netlink) {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().await.unwrap();
    nl.address().add("v0", "192.0.2.1/24").await.unwrap();
    (ns, nl)
}

/// The missing device and field of `e`, owned for comparing.
fn missing(e: &Error) -> Option<(LinkId, Option<&'static str>)> {
    e.missing_link().map(|(l, f)| (l.clone(), f))
}

#[tokio::test]
async fn a_missing_device_is_named_with_the_operation() {
    let (_ns, nl) = setup().await;

    let e = nl
        .address()
        .add("nosuchdev", "10.6.1.1/24")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "address add 10.6.1.1/24 dev nosuchdev: no such link \"nosuchdev\""
    );
    assert_eq!(e.operation(), Some("address add"));
    assert_eq!(e.object(), Some("10.6.1.1/24 dev nosuchdev"));
    assert_eq!(e.errno(), Some(libc::ENODEV));
    assert!(e.is_not_found());
    assert_eq!(missing(&e), Some(("nosuchdev".into(), None)));

    let e = nl.link().set("nosuchdev").up().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "link set nosuchdev: no such link \"nosuchdev\""
    );
    assert_eq!(e.errno(), Some(libc::ENODEV));

    let e = nl.link().get("nosuchdev").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "link get nosuchdev: no such link \"nosuchdev\""
    );
    let e = nl.link().del("nosuchdev").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "link del nosuchdev: no such link \"nosuchdev\""
    );
    assert!(e.is_not_found());
    // By index the kernel's own answer is the one to give.
    let e = nl.link().del(9999u32).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "link del index 9999: no such link index 9999"
    );
}

#[tokio::test]
async fn a_setters_missing_device_names_the_setter() {
    let (_ns, nl) = setup().await;

    let e = nl.route().add("10.9.0.0/16").dev("zz9").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "route add 10.9.0.0/16 dev zz9: no such link \"zz9\" (dev)"
    );
    assert_eq!(missing(&e), Some(("zz9".into(), Some("dev"))));
    assert_eq!(e.errno(), Some(libc::ENODEV));

    nl.link().add("cni0", Bridge::new()).await.unwrap();
    let e = nl.link().set("v0").master("cnio").await.unwrap_err();
    assert_eq!(e.to_string(), "link set v0: no such link \"cnio\" (master)");
    assert_eq!(missing(&e), Some(("cnio".into(), Some("master"))));
    assert_eq!((e.operation(), e.object()), (Some("link set"), Some("v0")));

    let e = nl
        .link()
        .add("v0.5", Vlan::new("nosuch", 5))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "link add v0.5: no such link \"nosuch\" (link)"
    );
    assert!(nl.link().get("v0.5").await.unwrap_err().is_not_found());

    // Lookups for listings and `route get` say so too.
    let e = nl.route().list().dev("zz9").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "route show dev zz9: no such link \"zz9\" (dev)"
    );
    let e = nl.link().list().master("cnio").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "link show master cnio: no such link \"cnio\" (master)"
    );
    let e = nl.route().get("192.0.2.9").oif("zz9").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "route get 192.0.2.9: no such link \"zz9\" (oif)"
    );
    let e = nl
        .neighbour()
        .add("zz9", "192.0.2.9")
        .lladdr("02:00:00:00:00:09".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "neighbour add 192.0.2.9 dev zz9: no such link \"zz9\""
    );
}

#[tokio::test]
async fn kernel_refusals_read_like_ip() {
    let (_ns, nl) = setup().await;
    let add = || {
        nl.route()
            .add("10.9.0.0/16")
            .kind(RouteType::BlackHole)
            .table(100)
    };
    add().await.unwrap();
    let e = add().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "route add 10.9.0.0/16 table 100: File exists"
    );
    assert!(e.is_exists());
    assert_eq!(e.errno(), Some(libc::EEXIST));
    assert!(matches!(e.cause(), Error::Kernel(_)), "{e:?}");

    let e = nl.route().del("10.99.0.0/16").await.unwrap_err();
    assert_eq!(e.to_string(), "route del 10.99.0.0/16: no such route");
    assert_eq!(e.errno(), Some(libc::ESRCH), "errno unchanged");
    assert!(e.is_not_found());

    // The kernel's extended ACK stays, after the errno's words.
    let e = nl
        .route()
        .add("10.8.0.0/16")
        .via("203.0.113.1")
        .await
        .unwrap_err();
    let ack = e.kernel_message().expect("extended ACK").to_owned();
    assert_eq!(
        e.to_string(),
        format!("route add 10.8.0.0/16 via 203.0.113.1: Network is unreachable: {ack}")
    );
}

#[tokio::test]
async fn deletes_of_missing_objects_say_no_such() {
    let (_ns, nl) = setup().await;
    let e = nl.rule().del().priority(4242).await.unwrap_err();
    assert_eq!(e.to_string(), "rule del priority 4242: no such rule");
    assert_eq!(e.errno(), Some(libc::ENOENT));
    assert!(e.is_not_found());

    let e = nl.neighbour().del("v0", "192.0.2.7").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "neighbour del 192.0.2.7 dev v0: no such neighbour"
    );
    assert_eq!(e.errno(), Some(libc::ENOENT));

    let e = nl.address().del("v0", "192.0.2.77/24").await.unwrap_err();
    // Newer kernels add "ipv4: Address not found"; it is kept.
    let ack = e
        .kernel_message()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    assert_eq!(
        e.to_string(),
        format!("address del 192.0.2.77/24 dev v0: no such address{ack}")
    );
    assert_eq!(e.errno(), Some(libc::EADDRNOTAVAIL));
    assert!(e.is_not_found());

    let sel = Selector::new("10.0.0.0/8", "10.1.0.0/16").unwrap();
    let e = nl
        .xfrm()
        .del_policy(&PolicyId::by_selector(sel, Dir::Out))
        .await
        .unwrap_err();
    assert_eq!(e.operation(), Some("xfrm policy delete"));
    assert_eq!(
        e.to_string(),
        "xfrm policy delete src 10.0.0.0/8 dst 10.1.0.0/16 dir out: no such policy"
    );
    assert!(e.is_not_found());
    let sel = Selector::new("10.0.0.0/8", "10.1.0.0/16").unwrap();
    let e = nl
        .xfrm()
        .get_policy(&PolicyId::by_selector(sel, Dir::In))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "xfrm policy get src 10.0.0.0/8 dst 10.1.0.0/16 dir in: no such policy"
    );
    let id = StateId::new("192.0.2.2", IpsecProto::Esp, 0x1234);
    let e = nl.xfrm().del_state(&id).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "xfrm state delete dst 192.0.2.2 proto esp spi 0x1234: no such state"
    );
    assert!(e.is_not_found(), "{e:?}");
}

#[tokio::test]
async fn batch_entries_carry_their_own_context() {
    let (_ns, nl) = setup().await;
    nl.route()
        .add("10.9.0.0/16")
        .kind(RouteType::BlackHole)
        .table(100)
        .await
        .unwrap();
    let mut batch = nl.batch();
    batch.push(
        nl.route()
            .add("10.9.0.0/16")
            .kind(RouteType::BlackHole)
            .table(100),
    );
    batch.push(nl.route().add("10.10.0.0/16").dev("zz9"));
    batch.push(nl.address().add("v0", "192.0.2.2/24"));
    batch.push(nl.route().del("10.99.0.0/16"));
    let r = batch.send().await.unwrap();
    let text: Vec<String> = r
        .iter()
        .map(|r| match r {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        text,
        [
            "route add 10.9.0.0/16 table 100: File exists",
            "route add 10.10.0.0/16 dev zz9: no such link \"zz9\" (dev)",
            "ok",
            "route del 10.99.0.0/16: no such route",
        ]
    );
    let e = r.get(0).unwrap().unwrap_err();
    assert_eq!(
        (e.operation(), e.object()),
        (Some("route add"), Some("10.9.0.0/16 table 100"))
    );
    assert_eq!(r.get(3).unwrap().unwrap_err().errno(), Some(libc::ESRCH));
}

#[tokio::test]
async fn input_errors_are_unwrapped_and_name_the_field() {
    let (_ns, nl) = setup().await;
    let e = nl
        .route()
        .add("10.9.0.0/16")
        .via("10.0.0.300")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "via", .. }),
        "{e:?}"
    );
    assert_eq!(e.context(), None);
    let e = nl.route().add("10.9.0.0/16").src("nope").await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "src", .. }),
        "{e:?}"
    );
}
