//! The engine against the real kernel, each test in a fresh namespace.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestNs, add_blackhole, blackhole, nth_addr};
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use netlink_packet_route::route::RouteMessage;
use tokio_netlink::{Error, Netlink};

fn get_link(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    RouteNetlinkMessage::GetLink(m)
}

fn link_name(m: &RouteNetlinkMessage) -> Option<String> {
    match m {
        RouteNetlinkMessage::NewLink(l) => l.attributes.iter().find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        }),
        _ => None,
    }
}

fn dump_routes_msg(table: u32) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = netlink_packet_route::AddressFamily::Inet;
    if table > 0 {
        m.attributes
            .push(netlink_packet_route::route::RouteAttribute::Table(table));
    }
    RouteNetlinkMessage::GetRoute(m)
}

/// Counts the routes of `table` with a kernel-side filtered dump.
async fn count_routes(nl: &Netlink, table: u32) -> usize {
    nl.rtnl()
        .dump_all(dump_routes_msg(table), 0)
        .await
        .expect("route dump")
        .len()
}

/// Adds `n` blackhole routes to `table` with `ip -batch`.
fn add_routes_with_ip(ns: &TestNs, table: u32, n: u32) {
    let mut batch = String::new();
    for i in 0..n {
        batch.push_str(&format!(
            "route add blackhole {}/32 table {table}\n",
            nth_addr(i)
        ));
    }
    ns.ip_batch(&batch);
}

#[tokio::test]
async fn get_loopback_by_index_current_thread() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let reply = nl.rtnl().get(get_link(1), 0).await.expect("get lo");
    assert_eq!(link_name(&reply).as_deref(), Some("lo"));
    let ip = ns.ip_json(&["link", "show", "lo"]);
    assert_eq!(ip[0]["ifindex"], 1);
    assert_eq!(ip[0]["ifname"], "lo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kernel_extended_ack_reaches_the_error() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName("bogus0".into()));
    m.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Other("no-such-kind".into()),
        )]));
    let err = nl
        .rtnl()
        .ack(RouteNetlinkMessage::NewLink(m), 0x400 | 0x200)
        .await
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
    assert_eq!(err.kernel_message(), Some("Unknown device type"));
    let text = err.to_string();
    assert!(
        text.starts_with(
            "RTM_NEWLINK failed: Operation not supported (os error 95): Unknown device type"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn ack_adds_what_ip_then_sees_and_errors_are_typed() {
    let ns = TestNs::new().await;
    let rtnl = ns.client().rtnl();
    let (msg, flags) = add_blackhole(nth_addr(5), 100);
    rtnl.ack(msg.clone(), flags).await.expect("add route");
    let routes = ns.ip_json(&["route", "show", "table", "100"]);
    assert_eq!(routes[0]["type"], "blackhole");
    assert_eq!(routes[0]["dst"], "10.0.0.5");

    let dup = rtnl.ack(msg, flags).await.unwrap_err();
    assert!(dup.is_exists(), "{dup}");

    let del = RouteNetlinkMessage::DelRoute(blackhole(nth_addr(6), 100));
    let missing = rtnl.ack(del, 0).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(missing.to_string().starts_with("RTM_DELROUTE failed: "));
}

#[tokio::test]
async fn dump_start_error_carries_kernel_text() {
    let ns = TestNs::new().await;
    let rtnl = ns.client().rtnl();
    // Strict checking refuses a route dump whose header sets a prefix length.
    let mut m = RouteMessage::default();
    m.header.address_family = netlink_packet_route::AddressFamily::Inet;
    m.header.destination_prefix_length = 8;
    let items: Vec<_> = rtnl
        .dump(RouteNetlinkMessage::GetRoute(m), 0)
        .collect()
        .await;
    assert_eq!(items.len(), 1, "{items:?}");
    let err = items.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert!(
        err.kernel_message()
            .unwrap_or("")
            .contains("Invalid values in header"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_mixed_requests_each_reply_reaches_its_caller() {
    const TASKS: u32 = 64;
    const PER_TASK: u32 = 1000;
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let rtnl = nl.rtnl();
        handles.push(tokio::spawn(async move {
            let table = 1000 + t;
            let mut added = 0u32;
            let mut last = None;
            for i in 0..PER_TASK {
                match i % 10 {
                    0 => {
                        let links: Vec<_> = rtnl
                            .dump(get_link(0), 0)
                            .try_collect()
                            .await
                            .expect("link dump");
                        assert!(links.iter().any(|l| link_name(l).as_deref() == Some("lo")));
                    }
                    1 | 4 | 7 => {
                        let l = rtnl.get(get_link(1), 0).await.expect("get lo");
                        assert_eq!(link_name(&l).as_deref(), Some("lo"));
                    }
                    5 => {
                        // Re-adding the last route must fail with EEXIST: a
                        // misrouted ack would show up as a wrong answer here.
                        if let Some(a) = last {
                            let (m, f) = add_blackhole(a, table);
                            let e = rtnl.ack(m, f).await.unwrap_err();
                            assert!(e.is_exists(), "task {t} iter {i}: {e}");
                        }
                    }
                    _ => {
                        let a = nth_addr(t * PER_TASK + i);
                        let (m, f) = add_blackhole(a, table);
                        rtnl.ack(m, f).await.expect("add route");
                        added += 1;
                        last = Some(a);
                    }
                }
            }
            (table, added)
        }));
    }
    for h in handles {
        let (table, added) = h.await.expect("task");
        assert_eq!(count_routes(&nl, table).await, added as usize);
    }
    let st = nl.rtnl().stats();
    assert_eq!(st.unroutable, 0);
    assert_eq!(st.overruns, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_storm_leaks_nothing() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let completed = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 0..32u32 {
        let rtnl = nl.rtnl();
        let completed = completed.clone();
        handles.push(tokio::spawn(async move {
            let mut x = 0x9e37_79b9u32.wrapping_mul(t + 1);
            let mut ok = Vec::new();
            for i in 0..500u32 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let a = nth_addr(t * 500 + i);
                let (m, f) = add_blackhole(a, 200);
                let fut = rtnl.ack(m, f);
                if x.is_multiple_of(2) {
                    // Drop it at a random point: before sending, in flight...
                    let wait = Duration::from_micros(u64::from(x % 200));
                    if let Ok(r) = tokio::time::timeout(wait, fut).await {
                        r.expect("add route");
                        ok.push(a);
                    }
                } else {
                    fut.await.expect("add route");
                    ok.push(a);
                    completed.fetch_add(1, Ordering::Relaxed);
                }
            }
            ok
        }));
    }
    let mut confirmed = HashSet::new();
    for h in handles {
        confirmed.extend(h.await.expect("task"));
    }
    assert!(completed.load(Ordering::Relaxed) > 1000);
    // Every cancelled request is answered by the kernel eventually; then no
    // entry may remain.
    let rtnl = nl.rtnl();
    let mut waited = 0;
    while rtnl.stats().pending != 0 {
        assert!(waited < 1000, "pending entries leak: {:?}", rtnl.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    // Every request that reported success is in the kernel.
    let routes = rtnl.dump_all(dump_routes_msg(200), 0).await.unwrap();
    assert!(routes.len() >= confirmed.len());
    let st = rtnl.stats();
    assert_eq!(st.unroutable, 0, "{st:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_dump_does_not_block_acks() {
    let ns = TestNs::new().await;
    add_routes_with_ip(&ns, 300, 10_000);
    let nl = ns.client();
    let rtnl = nl.rtnl();
    let mut dump = rtnl.dump(dump_routes_msg(300), 0);
    let first = dump.next().await.expect("one item").expect("decoded");
    assert!(matches!(first, RouteNetlinkMessage::NewRoute(_)));
    // The dump is held, unconsumed, while 1,000 acks complete.
    let acks = futures::future::join_all((0..1000u32).map(|i| {
        let (m, f) = add_blackhole(nth_addr(100_000 + i), 301);
        rtnl.ack(m, f)
    }))
    .await;
    assert!(acks.iter().all(|r| r.is_ok()));
    assert_eq!(rtnl.stats().dumps_running, 1);
    let rest = dump.try_collect::<Vec<_>>().await.expect("rest of dump");
    assert_eq!(rest.len() + 1, 10_000);
    assert_eq!(count_routes(&nl, 301).await, 1000);
    let st = rtnl.stats();
    assert_eq!(st.dumps_running, 0);
    assert!(st.dump_sockets_idle >= 1, "a clean dump socket is reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_dumps_all_succeed_and_abandoned_ones_are_closed() {
    let ns = TestNs::new().await;
    add_routes_with_ip(&ns, 400, 2_000);
    let nl = ns.client();
    let counts = futures::future::join_all((0..32).map(|_| count_routes(&nl, 400))).await;
    assert!(counts.iter().all(|&c| c == 2_000), "{counts:?}");
    // Abandon dumps midway: their sockets are closed, nothing stays running.
    for _ in 0..20 {
        let mut d = nl.rtnl().dump(dump_routes_msg(400), 0);
        d.next().await.unwrap().unwrap();
    }
    let st = nl.rtnl().stats();
    assert_eq!(st.dumps_running, 0);
    assert!(st.dump_sockets_idle <= nl.config().max_idle_dump_sockets);
    assert_eq!(count_routes(&nl, 400).await, 2_000);
}

#[tokio::test]
async fn timeout_resolves_a_request_the_kernel_never_answers() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    // Open the connection first: on a loaded machine opening it in the
    // namespace can take longer than the timeout, which then (rightly)
    // fires before anything is sent.
    nl.rtnl().get(get_link(1), 0).await.expect("get lo");
    // A successful RTM_NEWROUTE without NLM_F_ACK gets no reply at all.
    let (m, f) = add_blackhole(nth_addr(1), 500);
    let r = nl
        .rtnl()
        .with_timeout(Some(Duration::from_millis(200)))
        .get(m, f)
        .await;
    assert!(
        matches!(r, Err(Error::Timeout(k)) if k.name == Some("RTM_NEWROUTE")),
        "{r:?}"
    );
    // The request did take effect; the client keeps working.
    assert_eq!(count_routes(&nl, 500).await, 1);
    let timed = Netlink::builder()
        .netns(ns.name.as_str())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    // (A timeout here before the connection opens is a timeout too.)
    let (m, f) = add_blackhole(nth_addr(2), 500);
    assert!(matches!(
        timed.rtnl().get(m, f).await,
        Err(Error::Timeout(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_window_never_overruns_a_small_receive_buffer() {
    let ns = TestNs::new().await;
    let nl = Netlink::builder()
        .netns(ns.name.as_str())
        .receive_buffer(64 * 1024)
        .build()
        .unwrap();
    let rtnl = nl.rtnl();
    let results = futures::future::join_all((0..5000u32).map(|i| {
        let (m, f) = add_blackhole(nth_addr(i), 600);
        rtnl.ack(m, f)
    }))
    .await;
    assert!(results.iter().all(|r| r.is_ok()));
    let st = rtnl.stats();
    assert_eq!(st.overruns, 0, "{st:?}");
    assert!(st.datagrams_sent < 5000, "requests were coalesced: {st:?}");
    assert_eq!(count_routes(&nl, 600).await, 5000);
}

/// A client whose acks overflow its receive buffer: a tiny buffer, no send
/// window, and datagrams large enough for thousands of requests.
fn overrunning_client(ns: &TestNs) -> Netlink {
    Netlink::builder()
        .netns(ns.name.as_str())
        .receive_buffer(4096)
        .send_window(usize::MAX / 2)
        .max_datagram(1 << 20)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enobufs_fails_requests_in_flight_and_nothing_hangs() {
    let ns = TestNs::new().await;
    let nl = overrunning_client(&ns);
    let rtnl = nl.rtnl();
    let all = futures::future::join_all((0..3000u32).map(|i| {
        let (m, f) = add_blackhole(nth_addr(i), 700);
        rtnl.ack(m, f)
    }));
    let results = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("every request resolves");
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(Error::ReplyLost(_))))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(lost > 0, "the overrun was reported");
    assert_eq!(
        lost + ok,
        3000,
        "only lost or ok: {:?}",
        results
            .iter()
            .find(|r| matches!(r, Err(e) if !matches!(e, Error::ReplyLost(_))))
    );
    assert!(rtnl.stats().overruns >= 1);
    let msg = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .unwrap()
        .to_string();
    assert!(
        msg.contains("RTM_NEWROUTE") && msg.contains("ENOBUFS"),
        "{msg}"
    );
    // The connection survives and still works.
    let (m, f) = add_blackhole(nth_addr(9999), 701);
    rtnl.ack(m, f).await.expect("ack after overrun");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_senders_are_refused_or_dropped() {
    use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
    let ns = TestNs::new().await;

    // A forged ack: NLMSG_ERROR code 0, for sequence `seq`.
    fn forged_ack(seq: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&36u32.to_ne_bytes());
        v.extend_from_slice(&2u16.to_ne_bytes());
        v.extend_from_slice(&0x100u16.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&4242u32.to_ne_bytes());
        v.extend_from_slice(&0i32.to_ne_bytes());
        v.extend_from_slice(&[0u8; 16]);
        v
    }
    let peer = tokio_netlink::netns::NetnsTarget::from(ns.name.as_str())
        .open()
        .unwrap();
    // The peer lives in the test's namespace too.
    let peer = std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        assert_eq!(
            unsafe { libc::setns(peer.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        let mut s = Socket::new(NETLINK_ROUTE).unwrap();
        s.bind_auto().unwrap();
        s
    })
    .join()
    .unwrap();

    // Default: our socket is connected to the kernel, which refuses the peer.
    let nl = ns.client();
    let rtnl = nl.rtnl();
    rtnl.get(get_link(1), 0).await.unwrap();
    let port = rtnl.stats().port;
    let err = peer
        .send_to(&forged_ack(2), &SocketAddr::new(port, 0), 0)
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));

    // Unconnected: the peer's datagrams arrive and are counted and dropped;
    // a forged ack never completes a request.
    let mut cfg = tokio_netlink::Config::default();
    cfg.socket.connect_to_kernel = false;
    let nl = Netlink::builder()
        .netns(ns.name.as_str())
        .config(cfg)
        .build()
        .unwrap();
    let rtnl = nl.rtnl();
    rtnl.get(get_link(1), 0).await.unwrap();
    let port = rtnl.stats().port;
    // Seq 2 is the next request: a route add that the kernel never answers.
    let (m, f) = add_blackhole(nth_addr(1), 800);
    let short = rtnl.with_timeout(Some(Duration::from_millis(500)));
    let pending = short.get(m, f);
    let forge = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for seq in 1..=20 {
            peer.send_to(&forged_ack(seq), &SocketAddr::new(port, 0), 0)
                .unwrap();
        }
    };
    let (r, ()) = tokio::join!(pending, forge);
    assert!(
        matches!(r, Err(Error::Timeout(_))),
        "forged ack accepted: {r:?}"
    );
    assert_eq!(rtnl.stats().foreign_dropped, 20);
}

#[tokio::test]
async fn namespaces_by_name_path_fd_and_pid() {
    let ns = TestNs::new().await;
    ns.ip(&[
        "link", "add", "marker0", "type", "veth", "peer", "name", "marker1",
    ]);
    let has_marker = |nl: Netlink| async move {
        let links = nl.rtnl().dump_all(get_link(0), 0).await.unwrap();
        links
            .iter()
            .any(|l| link_name(l).as_deref() == Some("marker0"))
    };
    let path = format!("/run/netns/{}", ns.name);
    assert!(has_marker(Netlink::in_netns(ns.name.as_str()).unwrap()).await);
    assert!(has_marker(Netlink::in_netns(std::path::PathBuf::from(&path)).unwrap()).await);
    // As CNI passes it (CNI_NETNS): a string with '/' is a path.
    assert!(has_marker(Netlink::in_netns(path.as_str()).unwrap()).await);
    let fd = std::os::fd::OwnedFd::from(std::fs::File::open(&path).unwrap());
    assert!(has_marker(Netlink::in_netns(fd).unwrap()).await);
    let mut child = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "sleep", "30"])
        .spawn()
        .unwrap();
    // Wait until the child has entered the namespace.
    let target = std::fs::read_link(&path).ok();
    let _ = target;
    let ns_ino = std::fs::metadata(&path)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    for _ in 0..500 {
        let p = format!("/proc/{}/ns/net", child.id());
        if std::fs::metadata(&p)
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .ok()
            == Some(ns_ino)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let by_pid = Netlink::in_netns(tokio_netlink::NetnsTarget::Pid(child.id())).unwrap();
    let found = has_marker(by_pid).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(found);
    // The host namespace does not see it.
    assert!(!has_marker(Netlink::new()).await);
}

#[tokio::test]
async fn netns_add_and_del() {
    let name = format!("tnl-adddel-{}", std::process::id());
    tokio_netlink::netns::add(&name).await.unwrap();
    let listed = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&name));
    let again = tokio_netlink::netns::add(&name).await.unwrap_err();
    assert!(again.is_exists(), "{again}");
    let nl = Netlink::in_netns(name.as_str()).unwrap();
    let lo = nl.rtnl().get(get_link(1), 0).await.unwrap();
    assert_eq!(link_name(&lo).as_deref(), Some("lo"));
    tokio_netlink::netns::del(&name).await.unwrap();
    assert!(!std::path::Path::new("/run/netns").join(&name).exists());
    let gone = Netlink::in_netns(name.as_str()).unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

/// Issue #17 item 3: a scoped namespace is deleted when its guard goes,
/// also when the code holding it panics, and never one it did not create.
#[tokio::test]
async fn scoped_namespaces_go_with_their_guard_even_on_panic() {
    use tokio_netlink::netns::Scoped;
    let ns = Scoped::unique("tnl-scoped").await.unwrap();
    let path = ns.path();
    assert!(path.exists());
    let lo = ns.client().unwrap().link().get("lo").await.unwrap();
    assert_eq!(lo.index(), 1);
    let taken = Scoped::add(ns.name()).await.unwrap_err();
    assert!(taken.is_exists(), "{taken}");
    // The failed add did not take the namespace over: it is still there.
    assert!(path.exists());
    drop(ns);
    assert!(!path.exists(), "deleted on drop");

    let ns = Scoped::unique("tnl-scoped").await.unwrap();
    let path = ns.path();
    let held = std::thread::spawn(move || {
        let _ns = ns;
        panic!("a plugin fails half-way");
    })
    .join();
    assert!(held.is_err());
    assert!(!path.exists(), "deleted while unwinding");

    let ns = Scoped::unique("tnl-scoped").await.unwrap();
    let path = ns.path();
    ns.del().await.unwrap();
    assert!(!path.exists(), "deleted by del()");
}

#[test]
fn connection_survives_the_runtime_of_its_first_request() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ns = rt.block_on(TestNs::new());
    let nl = ns.client();
    rt.block_on(async { nl.rtnl().get(get_link(1), 0).await.unwrap() });
    // The runtime of the first request goes away; the connection does not
    // live on it (tests/runtimes.rs has the rest).
    drop(rt);
    let rt2 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt2.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), nl.rtnl().get(get_link(1), 0)).await
    });
    assert!(matches!(r, Ok(Ok(_))), "{r:?}");
    // Outside any runtime too.
    let fresh = ns.client();
    let r = futures::executor::block_on(fresh.rtnl().get(get_link(1), 0));
    assert_eq!(link_name(&r.unwrap()).as_deref(), Some("lo"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_thread_connection_serves_requests() {
    let ns = TestNs::new().await;
    let nl = Netlink::builder()
        .netns(ns.name.as_str())
        .io_thread(true)
        .build()
        .unwrap();
    let rtnl = nl.rtnl();
    let acks = futures::future::join_all((0..1000u32).map(|i| {
        let (m, f) = add_blackhole(nth_addr(i), 900);
        rtnl.ack(m, f)
    }))
    .await;
    assert!(acks.iter().all(|r| r.is_ok()));
    let lo = rtnl.get(get_link(1), 0).await.unwrap();
    assert_eq!(link_name(&lo).as_deref(), Some("lo"));
    assert_eq!(count_routes(&nl, 900).await, 1000);
    let (m, f) = add_blackhole(nth_addr(1), 900);
    assert!(rtnl.ack(m, f).await.unwrap_err().is_exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_batch_answers_each_request_in_order() {
    let ns = TestNs::new().await;
    let rtnl = ns.client().rtnl();
    assert!(rtnl.ack_batch(Vec::new()).await.unwrap().is_empty());
    let mut msgs: Vec<_> = (0..2000u32)
        .map(|i| add_blackhole(nth_addr(i), 300))
        .collect();
    // A duplicate of request 3 and the removal of a route that is not there:
    // only those two fail, with their own errors.
    msgs[700] = add_blackhole(nth_addr(3), 300);
    msgs[1500] = (
        RouteNetlinkMessage::DelRoute(blackhole(nth_addr(99_999), 300)),
        0,
    );
    let results = rtnl.ack_batch(msgs).await.expect("batch");
    assert_eq!(results.len(), 2000);
    for (i, r) in results.iter().enumerate() {
        match i {
            700 => assert!(r.as_ref().unwrap_err().is_exists(), "{r:?}"),
            1500 => {
                let e = r.as_ref().unwrap_err();
                assert!(e.is_not_found(), "{e}");
                assert!(e.to_string().starts_with("RTM_DELROUTE failed"), "{e}");
            }
            _ => assert!(r.is_ok(), "request {i}: {r:?}"),
        }
    }
    let ip = ns.ip_json(&["route", "show", "table", "300"]);
    assert_eq!(ip.as_array().unwrap().len(), 1998);
    assert_eq!(rtnl.stats().pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_batch_leaks_nothing() {
    let ns = TestNs::new().await;
    let rtnl = ns.client().rtnl();
    rtnl.ack(add_blackhole(nth_addr(0), 301).0, 0x400)
        .await
        .expect("warm up");
    for round in 0..5u32 {
        let msgs = (1..5000u32).map(|i| add_blackhole(nth_addr(round * 5000 + i), 301));
        let wait = Duration::from_micros(200 + 700 * u64::from(round));
        let _ = tokio::time::timeout(wait, rtnl.ack_batch(msgs)).await;
    }
    let mut waited = 0;
    while rtnl.stats().pending != 0 {
        assert!(waited < 1000, "pending entries leak: {:?}", rtnl.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(rtnl.stats().unroutable, 0);
    let again = rtnl
        .ack_batch((0..10u32).map(|i| add_blackhole(nth_addr(900_000 + i), 301)))
        .await
        .expect("a batch after cancelled ones");
    assert!(again.iter().all(|r| r.is_ok()), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_batch_overrun_reports_lost_replies_and_resolves() {
    let ns = TestNs::new().await;
    let nl = overrunning_client(&ns);
    let rtnl = nl.rtnl();
    let msgs = (0..3000u32).map(|i| add_blackhole(nth_addr(i), 302));
    let results = tokio::time::timeout(Duration::from_secs(60), rtnl.ack_batch(msgs))
        .await
        .expect("the batch resolves")
        .expect("batch");
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(Error::ReplyLost(_))))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(lost > 0, "the overrun was reported");
    assert_eq!(lost + ok, 3000);
}

/// `ack()` of requests the kernel answers with a long message before the
/// ack (NLM_F_ECHO, or a get): the ack is what counts, and the change is
/// made. (Issue #11, item 15: the message used to be cut to a small
/// receive slot and the success reported as a decode error.)
#[tokio::test]
async fn ack_succeeds_when_a_long_echo_or_reply_comes_first() {
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::route::{
        RouteAddress, RouteAttribute, RouteNextHop, RouteProtocol, RouteScope, RouteType,
    };
    use std::net::Ipv4Addr;
    const ECHO: u16 = 0x08;
    const CREATE_EXCL: u16 = 0x400 | 0x200;
    let ns = TestNs::new().await;
    let rtnl = ns.client().rtnl();

    // A bridge: its echo carries every bridge attribute, well over 1 KiB.
    let mut br = LinkMessage::default();
    br.attributes.push(LinkAttribute::IfName("br7".into()));
    br.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    rtnl.ack(RouteNetlinkMessage::NewLink(br), ECHO | CREATE_EXCL)
        .await
        .expect("the bridge is created and acked");
    let ip = ns.ip_json(&["-d", "link", "show", "br7"]);
    assert_eq!(ip[0]["linkinfo"]["info_kind"], "bridge", "{ip}");

    // An ack asked of a get: the reply comes first, then the ack.
    rtnl.ack(get_link(1), 0).await.expect("ack(GetLink(lo))");

    // A route with 100 next hops, echoed.
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    ns.ip(&["addr", "add", "10.9.0.1/16", "dev", "v0"]);
    let v0 = ns.ip_json(&["link", "show", "v0"])[0]["ifindex"]
        .as_u64()
        .expect("ifindex") as u32;
    let mut r = RouteMessage::default();
    r.header.address_family = AddressFamily::Inet;
    r.header.destination_prefix_length = 24;
    r.header.table = 100;
    r.header.kind = RouteType::Unicast;
    r.header.scope = RouteScope::Universe;
    r.header.protocol = RouteProtocol::Static;
    r.attributes
        .push(RouteAttribute::Destination(RouteAddress::Inet(
            Ipv4Addr::new(10, 77, 0, 0),
        )));
    let hops = (0..100u8)
        .map(|i| {
            let mut hop = RouteNextHop::default();
            hop.interface_index = v0;
            hop.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(Ipv4Addr::new(
                10,
                9,
                1,
                i + 1,
            )))];
            hop
        })
        .collect();
    r.attributes.push(RouteAttribute::MultiPath(hops));
    rtnl.ack(RouteNetlinkMessage::NewRoute(r.clone()), ECHO | CREATE_EXCL)
        .await
        .expect("the route is added and acked");
    let routes = ns.ip_json(&["route", "show", "table", "100"]);
    assert_eq!(routes[0]["dst"], "10.77.0.0/24", "{routes}");
    let nexthops = routes[0]["nexthops"].as_array().expect("multipath");
    assert_eq!(nexthops.len(), 100);
    assert_eq!(nexthops[99]["gateway"], "10.9.1.100");
    // Adding it again fails as it should: the first ack was the success.
    let again = rtnl
        .ack(RouteNetlinkMessage::NewRoute(r), ECHO | CREATE_EXCL)
        .await
        .unwrap_err();
    assert!(again.is_exists(), "{again}");
}

/// Sixteen bridges named `inl<k>` with ifindex `200 + k`.
fn add_indexed_links(ns: &TestNs) -> u32 {
    const LINKS: u32 = 16;
    let batch: String = (0..LINKS)
        .map(|k| format!("link add inl{k} index {} type bridge\n", 200 + k))
        .collect();
    ns.ip_batch(&batch);
    LINKS
}

/// Gets link `k` and checks that the reply is that link's, not another
/// request's.
async fn get_checked(rtnl: &tokio_netlink::Requester<tokio_netlink::route::Route>, k: u32) {
    let l = rtnl.get(get_link(200 + k), 0).await.expect("get link");
    assert_eq!(link_name(&l), Some(format!("inl{k}")), "misrouted reply");
}

/// Sequential, concurrent, cancelled and failing gets mixed, from tasks and
/// from the `block_on` body at once: whichever path each takes (inline on
/// the caller's thread, or multiplexed by the connection task), every
/// reply reaches its own caller.
async fn mixed_gets_each_reach_their_caller(nl: Netlink, links: u32) {
    let mut handles = Vec::new();
    for t in 0..8u32 {
        let rtnl = nl.rtnl();
        handles.push(tokio::spawn(async move {
            let mut x = 0x9e37_79b9u32.wrapping_mul(t + 1);
            for _ in 0..400 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let k = x % links;
                match x % 7 {
                    0..=2 => get_checked(&rtnl, k).await,
                    3 => {
                        let ks: Vec<u32> = (0..4).map(|j| (k + j * 3) % links).collect();
                        futures::future::join_all(ks.iter().map(|&k| get_checked(&rtnl, k))).await;
                    }
                    4 => {
                        // Dropped at a random point, or after its first poll.
                        let wait = Duration::from_micros(u64::from(x % 50));
                        let _ = tokio::time::timeout(wait, get_checked(&rtnl, k)).await;
                        let mut f = std::pin::pin!(get_checked(&rtnl, k));
                        let _ = futures::poll!(f.as_mut());
                    }
                    5 => {
                        let e = rtnl.get(get_link(900 + k), 0).await.unwrap_err();
                        assert_eq!(e.errno(), Some(libc::ENODEV), "{e}");
                    }
                    _ => tokio::task::yield_now().await,
                }
            }
        }));
    }
    // The block_on body asks too, one at a time, while the tasks run.
    let rtnl = nl.rtnl();
    for i in 0..2000 {
        get_checked(&rtnl, i % links).await;
    }
    for h in handles {
        h.await.expect("task");
    }
    // The cancelled requests were all answered by the kernel: nothing stays.
    let mut waited = 0;
    while rtnl.stats().pending != 0 {
        assert!(waited < 500, "pending entries leak: {:?}", rtnl.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let st = rtnl.stats();
    assert_eq!((st.unroutable, st.overruns), (0, 0), "{st:?}");
    assert!(
        st.requests_inline < st.requests_sent,
        "some were multiplexed: {st:?}"
    );
    // And a sequential request after all of it is answered correctly, on
    // the caller's thread.
    get_checked(&rtnl, 3).await;
    assert_eq!(rtnl.stats().requests_inline, st.requests_inline + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_and_multiplexed_gets_each_reach_their_caller_multi_thread() {
    let ns = TestNs::new().await;
    let links = add_indexed_links(&ns);
    mixed_gets_each_reach_their_caller(ns.client(), links).await;
}

#[tokio::test]
async fn inline_and_multiplexed_gets_each_reach_their_caller_current_thread() {
    let ns = TestNs::new().await;
    let links = add_indexed_links(&ns);
    mixed_gets_each_reach_their_caller(ns.client(), links).await;
}

#[test]
fn inline_requests_from_many_runtimes_share_one_connection() {
    // Callers on plain threads, each with a runtime of its own, one at a
    // time and at once; a runtime dropped mid-way takes nothing with it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ns = rt.block_on(TestNs::new());
    let links = add_indexed_links(&ns);
    let nl = ns.client();
    rt.block_on(get_checked(&nl.rtnl(), 0));
    drop(rt);
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let nl = nl.clone();
            s.spawn(move || {
                for round in 0..3 {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    let rtnl = nl.rtnl();
                    rt.block_on(async {
                        for i in 0..200 {
                            get_checked(&rtnl, (t + round + i) % links).await;
                        }
                    });
                }
                // No runtime at all: the futures are plain futures.
                futures::executor::block_on(get_checked(&nl.rtnl(), t));
            });
        }
    });
    let st = nl.rtnl().stats();
    assert_eq!(st.unroutable, 0);
    assert_eq!(st.requests_sent, 1 + 4 * (3 * 200 + 1), "{st:?}");
    // One caller at a time, from a runtime or none: every request inline.
    let rtnl = nl.rtnl();
    for i in 0..100 {
        futures::executor::block_on(get_checked(&rtnl, i % links));
    }
    let after = rtnl.stats();
    assert_eq!(after.requests_inline - st.requests_inline, 100, "{after:?}");
}

#[tokio::test]
async fn sequential_requests_run_inline_and_concurrent_ones_coalesce() {
    let ns = TestNs::new().await;
    let links = add_indexed_links(&ns);
    let nl = ns.client();
    let rtnl = nl.rtnl();
    get_checked(&rtnl, 0).await;
    let before = rtnl.stats();
    for i in 0..200 {
        get_checked(&rtnl, i % links).await;
        let (m, f) = add_blackhole(nth_addr(i), 600);
        rtnl.ack(m, f).await.expect("add route");
    }
    let seq = rtnl.stats();
    assert_eq!(seq.requests_inline - before.requests_inline, 400, "{seq:?}");
    assert_eq!(seq.datagrams_sent - before.datagrams_sent, 400);
    // Futures made together are not run one by one inline (a send and a
    // receive each), even on one thread: they go through the task, which
    // sends them in few datagrams.
    let acks = futures::future::join_all((0..256).map(|i| {
        let (m, f) = add_blackhole(nth_addr(1000 + i), 600);
        rtnl.ack(m, f)
    }))
    .await;
    assert!(acks.iter().all(|r| r.is_ok()));
    let burst = rtnl.stats();
    assert_eq!(burst.requests_inline, seq.requests_inline, "{burst:?}");
    let datagrams = burst.datagrams_sent - seq.datagrams_sent;
    assert!(datagrams < 16, "256 acks took {datagrams} datagrams");
    assert_eq!(count_routes(&nl, 600).await, 456);
}
