//! Socket diagnostics against the real kernel: sockets opened inside a
//! fresh namespace, listed by `DiagHandle` and cross-checked with `ss`.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

use common::TestNs;
use common::diag::{self as cd, eventually, in_ns, key_of, parse_ss, ss, ss_keys};
use futures::TryStreamExt;
use tokio_netlink::diag::{
    Cmp, Extensions, Family, Filter, InetProtocol, InetSocket, SockId, States, Timer, state,
};
use tokio_netlink::{Error, Netlink};

struct TcpPair {
    listener: TcpListener,
    client: TcpStream,
    server: TcpStream,
}

fn tcp_pair(addr: &str) -> TcpPair {
    let listener = TcpListener::bind(addr).expect("bind");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    TcpPair {
        listener,
        client,
        server,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_sockets_match_ss_with_queues_and_tcp_info() {
    let ns = TestNs::new().await;
    let (v4, v6) = in_ns(&ns, || (tcp_pair("127.0.0.1:5000"), tcp_pair("[::1]:5001")));
    (&v4.client).write_all(&[7u8; 1000]).unwrap();
    (&v6.server).write_all(&[8u8; 300]).unwrap();
    let diag = ns.client().diag();
    let query = diag
        .tcp()
        .extensions(Extensions::INFO | Extensions::CONG | Extensions::SKMEMINFO);

    // Wait until both transfers are acknowledged.
    let client_local = v4.client.local_addr().unwrap();
    eventually("1000 bytes acked and queued at the server", async || {
        let socks = query.clone().await.unwrap();
        let c = socks.iter().find(|s| s.local() == client_local).unwrap();
        let s = socks.iter().find(|s| s.remote() == client_local).unwrap();
        c.tcp_info().unwrap().bytes_acked() == Some(1001) && s.rqueue() == 1000
    })
    .await;

    let socks = query.clone().await.unwrap();
    assert_eq!(socks.len(), 6, "{socks:#?}");
    let text = ss(&ns, &["-tanei", "-H"]);
    let lines = parse_ss(&text);
    assert_eq!(
        socks.iter().map(key_of).collect::<BTreeSet<_>>(),
        ss_keys(&lines),
        "{text}"
    );
    for s in &socks {
        let l = lines
            .iter()
            .find(|l| (l.state.clone(), l.local.clone(), l.peer.clone()) == key_of(s))
            .unwrap();
        assert_eq!((s.rqueue(), s.wqueue()), (l.recv_q, l.send_q), "{l:?}");
        assert_eq!(l.get("ino"), Some(s.inode().to_string().as_str()), "{l:?}");
        assert_eq!(s.uid(), 0);
        assert_eq!(s.protocol(), InetProtocol::Tcp);
        let info = s.tcp_info().expect("tcp_info");
        assert!(info.len() >= 232, "this kernel sends {} bytes", info.len());
        assert_eq!(info.state(), Some(s.state()));
        let cc = s.congestion().expect("INET_DIAG_CONG");
        assert!(text.contains(&format!(" {cc} ")), "{cc} not in {text}");
        assert!(s.skmeminfo().unwrap().rcvbuf().unwrap() > 0);
        if let Some(acked) = l.get("bytes_acked") {
            assert_eq!(info.bytes_acked().unwrap().to_string(), acked);
        }
        if let Some(rcvd) = l.get("bytes_received") {
            assert_eq!(info.bytes_received().unwrap().to_string(), rcvd);
        }
        if let Some(cwnd) = l.get("cwnd") {
            assert_eq!(info.snd_cwnd().unwrap().to_string(), cwnd);
        }
        if let Some(mss) = l.get("mss") {
            assert_eq!(info.snd_mss().unwrap().to_string(), mss);
        }
    }
    let server4 = socks.iter().find(|s| s.remote() == client_local).unwrap();
    assert_eq!(server4.state(), state::ESTABLISHED);
    assert_eq!(server4.rqueue(), 1000);
    assert_eq!(server4.tcp_info().unwrap().bytes_received(), Some(1000));
    let listener = socks
        .iter()
        .find(|s| s.local() == v4.listener.local_addr().unwrap())
        .unwrap();
    assert_eq!(listener.state(), state::LISTEN);
    let v6client = socks
        .iter()
        .find(|s| s.local() == v6.client.local_addr().unwrap())
        .unwrap();
    assert_eq!(v6client.family(), libc::AF_INET6 as u8);
    assert_eq!(v6client.remote(), v6.listener.local_addr().unwrap());

    // Streaming gives the same sockets; families and states narrow it.
    let streamed: Vec<InetSocket> = query.stream().try_collect().await.unwrap();
    assert_eq!(streamed.len(), 6);
    let v6only = diag.tcp().v6().await.unwrap();
    assert_eq!(v6only.len(), 3);
    assert!(v6only.iter().all(|s| s.local().is_ipv6()));
    let listening = diag.tcp().states(States::LISTENING).await.unwrap();
    assert_eq!(listening.len(), 2);
    // LISTEN is listeners only; LISTENING is `ss -l`, which also shows
    // unconnected UDP sockets (state CLOSE).
    let udp = in_ns(&ns, || std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
    let listen = diag.inet().states(States::LISTEN).await.unwrap();
    assert!(listen.iter().all(|s| s.state() == state::LISTEN));
    assert_eq!(listen.len(), 2);
    for (proto, args) in [("tcp", "-tlnH"), ("udp", "-ulnH")] {
        let q = if proto == "tcp" {
            diag.tcp()
        } else {
            diag.udp()
        };
        let ours = q.states(States::LISTENING).await.unwrap();
        let ss_keys_l = ss_keys(&parse_ss(&ss(&ns, &[args])));
        let mine: BTreeSet<_> = ours.iter().map(key_of).collect();
        assert_eq!(mine, ss_keys_l, "{proto}: ss {args}");
    }
    let udp_listed = diag.udp().states(States::LISTEN).await.unwrap();
    assert!(udp_listed.is_empty(), "LISTEN holds no UDP: {udp_listed:?}");
    let udp_l = diag.udp().states(States::LISTENING).await.unwrap();
    assert!(udp_l.iter().any(|s| s.local() == udp.local_addr().unwrap()));
    drop(udp);
    let established = diag.tcp().states(States::ESTABLISHED).await.unwrap();
    assert_eq!(established.len(), 4);
    drop((v4, v6));
}

#[tokio::test]
async fn exact_lookup_by_id_and_its_errors() {
    let ns = TestNs::new().await;
    let pair = in_ns(&ns, || tcp_pair("127.0.0.1:7000"));
    let diag = ns.client().diag();
    let local = pair.client.local_addr().unwrap();
    let remote = pair.client.peer_addr().unwrap();
    let got = diag.get(SockId::new(local, remote)).await.unwrap();
    assert_eq!((got.local(), got.remote()), (local, remote));
    let listed = diag.tcp().await.unwrap();
    let same = listed.iter().find(|s| s.local() == local).unwrap();
    assert_eq!(got.inode(), same.inode());
    assert_eq!(got.cookie(), same.cookie());

    // With the cookie, and with tcp_info requested.
    let got = diag.tcp().info().get(same.id()).await.unwrap();
    assert!(got.tcp_info().is_some());
    let wrong_cookie = same.id().with_cookie(same.cookie() ^ 1);
    assert!(diag.get(wrong_cookie).await.unwrap_err().is_not_found());

    // A listener by its local address alone.
    let l = pair.listener.local_addr().unwrap();
    let got = diag
        .get(SockId::new(l, "0.0.0.0:0".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(got.state(), state::LISTEN);

    let missing = SockId::new("127.0.0.1:1".parse().unwrap(), remote);
    let err = diag.get(missing).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // Bad input is refused before anything is sent, naming the field.
    let v6id = SockId::new("[::1]:1".parse().unwrap(), "[::1]:2".parse().unwrap());
    match diag.tcp().v4().get(v6id).await {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "id"),
        other => panic!("{other:?}"),
    }
    match diag.unix().get(0).await {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "ino"),
        other => panic!("{other:?}"),
    }
    match "sport = :http".parse::<Filter>() {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "filter"),
        other => panic!("{other:?}"),
    }
    // A filter naming a missing device fails as every lookup does: the
    // device and the setter that named it.
    let e = diag
        .tcp()
        .filter("dev = nosuch0".parse().unwrap())
        .await
        .unwrap_err();
    let (link, field) = e.missing_link().unwrap_or_else(|| panic!("{e}"));
    assert_eq!((link.to_string().as_str(), field), ("nosuch0", Some("dev")));
    assert!(e.is_not_found(), "{e}");
    // Typed prefixes: an address is a host prefix.
    let host = Filter::src(local.ip().into());
    let ours = diag.tcp().filter(host).await.unwrap();
    assert!(ours.iter().all(|s| s.local().ip() == local.ip()));
    assert!(!ours.is_empty());
    drop(pair);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytecode_filters_return_what_ss_returns() {
    let ns = TestNs::new().await;
    let _socks = in_ns(&ns, || {
        let mut v = Vec::new();
        for a in [
            "127.0.0.1:22",
            "127.0.0.1:80",
            "127.0.0.1:443",
            "127.0.0.1:8080",
            "127.0.0.2:80",
            "[::1]:80",
            "[::1]:443",
        ] {
            v.push(tcp_pair(a));
            v.push(tcp_pair_extra(&v.last().unwrap().listener));
        }
        v
    });
    let diag = ns.client().diag();
    for expr in [
        "sport = :80",
        "dport = :443",
        "sport = :80 or dport = :443",
        "not sport = :80",
        "sport != :80",
        "sport >= :443",
        "sport <= :443",
        "sport > :443",
        "sport < :443",
        "dport > :1024 and sport < :1024",
        "dst 127.0.0.1",
        "src 127.0.0.2",
        "dst [::1]",
        "src 127.0.0.0/8 and ( dport = :80 or dport = :8080 )",
        "dst 127.0.0.1:443",
        "dst [::1]:80",
        "! ( src 127.0.0.1 or dport = :80 )",
    ] {
        let filter: Filter = expr.parse().unwrap();
        let ours = diag
            .tcp()
            .filter(filter.clone())
            .await
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        let text = ss(&ns, &["-tanH", expr]);
        let theirs = ss_keys(&parse_ss(&text));
        let mine: BTreeSet<_> = ours.iter().map(key_of).collect();
        assert_eq!(mine, theirs, "filter {expr}:\n{text}");
        // And the user-space evaluation agrees with the kernel's.
        let all = diag.tcp().await.unwrap();
        let by_hand: BTreeSet<_> = all
            .iter()
            .filter(|s| {
                filter.matches(
                    s.local().ip(),
                    s.local().port(),
                    s.remote().ip(),
                    s.remote().port(),
                )
            })
            .map(key_of)
            .collect();
        assert_eq!(mine, by_hand, "filter {expr}");
        assert!(
            !mine.is_empty() || expr.starts_with('!'),
            "{expr} matched nothing"
        );
    }
    let typed = Filter::sport(Cmp::Eq, 80).or(Filter::dport(Cmp::Eq, 443));
    let by_text = diag
        .tcp()
        .filter("sport = :80 or dport = :443".parse().unwrap())
        .await
        .unwrap();
    let by_type = diag.tcp().filter(typed).await.unwrap();
    assert_eq!(by_text.len(), by_type.len());
}

/// The longest program there can be (a 5,461-term `or`, 65,528 bytes, the
/// attribute 65,532) and a 5,500-deep `not` pass the kernel's audit and
/// select what they say; one term more is refused before sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_and_deepest_filters_run_in_the_kernel() {
    let ns = TestNs::new().await;
    let listeners = in_ns(&ns, || {
        [5000, 6000].map(|p| TcpListener::bind(("127.0.0.1", p)).expect("bind"))
    });
    let diag = ns.client().diag();
    let ports = |socks: Vec<InetSocket>| -> BTreeSet<u16> {
        socks.iter().map(|s| s.local().port()).collect()
    };
    let chain = |n: u16| {
        (2..=n).fold(Filter::sport(Cmp::Eq, 1), |f, p| {
            f.or(Filter::sport(Cmp::Eq, p))
        })
    };
    let longest = chain(5461);
    assert_eq!(longest.compile().unwrap().len(), 65528);
    let got = diag.tcp().filter(longest).await.unwrap();
    assert_eq!(ports(got), BTreeSet::from([5000]));

    let text = format!("{}sport = :6000", "! ".repeat(5500));
    let got = diag.tcp().filter(text.parse().unwrap()).await.unwrap();
    assert_eq!(ports(got), BTreeSet::from([6000]));
    let odd = format!("! {text}");
    let got = diag.tcp().filter(odd.parse().unwrap()).await.unwrap();
    assert_eq!(ports(got), BTreeSet::from([5000]));

    match diag.tcp().filter(chain(5462)).await {
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(field, "filter");
            assert!(reason.contains("65528"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    drop(listeners);
}

/// A second client connection to an existing listener.
fn tcp_pair_extra(l: &TcpListener) -> TcpPair {
    let client = TcpStream::connect(l.local_addr().unwrap()).expect("connect");
    let (server, _) = l.accept().expect("accept");
    TcpPair {
        listener: l.try_clone().unwrap(),
        client,
        server,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_aborts_the_application_side() {
    let ns = TestNs::new().await;
    let (one, two) = in_ns(&ns, || {
        (tcp_pair("127.0.0.1:9000"), tcp_pair("127.0.0.1:9001"))
    });
    let diag = ns.client().diag();

    // By id (from a listing, cookie included).
    let target = one.server.local_addr().unwrap();
    let peer = one.server.peer_addr().unwrap();
    let socks = diag
        .tcp()
        .filter(Filter::dport(Cmp::Eq, peer.port()))
        .await
        .unwrap();
    assert_eq!(socks.len(), 1);
    assert_eq!(socks[0].local(), target);
    let reader = {
        let mut s = one.server.try_clone().unwrap();
        std::thread::spawn(move || s.read(&mut [0u8; 16]))
    };
    diag.destroy_socket(&socks[0]).await.unwrap();
    let err = reader.join().unwrap().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ECONNABORTED), "{err}");
    assert!(diag.get(socks[0].id()).await.unwrap_err().is_not_found());

    // By filter: the two clients of the second listener (their servers
    // are reset by the abort, so they are not matched).
    let three = in_ns(&ns, || tcp_pair_extra(&two.listener));
    let port = two.listener.local_addr().unwrap().port();
    let gone = diag
        .destroy_matching(Filter::dport(Cmp::Eq, port).and(!Filter::sport(Cmp::Eq, port)))
        .await
        .unwrap();
    assert_eq!(gone.len(), 2, "{gone:#?}");
    for c in [&two.client, &three.client] {
        let err = c.try_clone().unwrap().read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ECONNABORTED));
    }
    let left = diag.tcp().states(States::ESTABLISHED).await.unwrap();
    assert!(
        left.iter()
            .all(|s| s.local().port() != port && s.remote().port() != port)
    );
    // Destroying what is gone is "not found".
    assert!(diag.destroy(gone[0].id()).await.unwrap_err().is_not_found());
    drop((one, two, three));
}

#[tokio::test]
async fn udp_sockets_with_queued_datagrams_match_ss() {
    let ns = TestNs::new().await;
    let (bound, sender, connected) = in_ns(&ns, || {
        let bound = UdpSocket::bind("127.0.0.1:6000").unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..3 {
            sender.send_to(b"hello", "127.0.0.1:6000").unwrap();
        }
        let connected = UdpSocket::bind("[::1]:0").unwrap();
        connected.connect("[::1]:6001").unwrap();
        (bound, sender, connected)
    });
    let diag = ns.client().diag();
    eventually("3 datagrams queued", async || {
        let socks = diag.udp().await.unwrap();
        socks
            .iter()
            .any(|s| s.local().port() == 6000 && s.rqueue() > 0)
    })
    .await;
    let socks = diag.udp().extensions(Extensions::SKMEMINFO).await.unwrap();
    let lines = parse_ss(&ss(&ns, &["-uanH"]));
    assert_eq!(
        socks.iter().map(key_of).collect::<BTreeSet<_>>(),
        ss_keys(&lines)
    );
    for s in &socks {
        let l = lines
            .iter()
            .find(|l| (l.state.clone(), l.local.clone(), l.peer.clone()) == key_of(s))
            .unwrap();
        assert_eq!((s.rqueue(), s.wqueue()), (l.recv_q, l.send_q));
        assert!(s.tcp_info().is_none());
    }
    let b = socks.iter().find(|s| s.local().port() == 6000).unwrap();
    assert_eq!(b.state(), state::CLOSE);
    assert_eq!(b.skmeminfo().unwrap().rmem_alloc(), Some(b.rqueue()));
    let c = socks
        .iter()
        .find(|s| s.local() == connected.local_addr().unwrap())
        .unwrap();
    assert_eq!(c.state(), state::ESTABLISHED);
    assert_eq!(c.remote(), "[::1]:6001".parse().unwrap());
    let v4 = diag.udp().family(Family::V4).await.unwrap();
    assert_eq!(v4.len(), 2);

    // Exact lookups by the listed ids (udp_diag reads them swapped; the
    // query swaps them back), then destroy: the owner sees ECONNABORTED.
    for s in [b, c] {
        let got = diag.udp().get(s.id()).await.unwrap();
        assert_eq!(got.inode(), s.inode());
    }
    let unbound_id = SockId::new(b.local(), "0.0.0.0:0".parse().unwrap());
    assert_eq!(diag.udp().get(unbound_id).await.unwrap().inode(), b.inode());
    diag.destroy_socket(c).await.unwrap();
    connected.set_nonblocking(true).unwrap();
    let err = connected.recv(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ECONNABORTED), "{err}");
    drop((bound, sender, connected));
}

#[tokio::test]
async fn unix_sockets_match_ss() {
    let ns = TestNs::new().await;
    let dir = std::env::temp_dir().join(format!("tnl-diag-{}", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stream.sock");
    let dpath = dir.join("dgram.sock");
    let (listener, client, server, dgram, pending) = in_ns(&ns, || {
        let l = UnixListener::bind(&path).unwrap();
        let c = UnixStream::connect(&path).unwrap();
        let (s, _) = l.accept().unwrap();
        (&c).write_all(&[1u8; 700]).unwrap();
        let d = UnixDatagram::bind(&dpath).unwrap();
        let p = UnixStream::connect(&path).unwrap(); // left pending
        (l, c, s, d, p)
    });
    let diag = ns.client().diag();
    let socks = diag.unix().meminfo().await.unwrap();
    let text = ss(&ns, &["-xanH"]);
    // ss -x adds a Netid column first.
    let lines: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(socks.len(), lines.len(), "{socks:#?}\n{text}");
    for s in &socks {
        let l = lines
            .iter()
            .find(|l| l[5] == s.inode().to_string())
            .unwrap_or_else(|| panic!("{s:?} not in\n{text}"));
        assert_eq!(l[0], s.kind_name());
        assert_eq!(
            l[1],
            tokio_netlink::diag::raw::state_name(s.state()),
            "{l:?}"
        );
        assert_eq!(l[2], s.rqueue().unwrap().to_string(), "{l:?}");
        assert_eq!(l[3], s.wqueue().unwrap().to_string(), "{l:?}");
        assert_eq!(l[4], s.path().unwrap_or_else(|| "*".into()), "{l:?}");
        assert_eq!(l[7], s.peer().unwrap_or(0).to_string(), "{l:?}");
        assert!(s.meminfo().is_some());
    }
    let ino = |fd: &dyn AsRawFd| {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on an open fd into a zeroed struct.
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        st.st_ino as u32
    };
    let l = socks.iter().find(|s| s.inode() == ino(&listener)).unwrap();
    assert_eq!(l.state(), state::LISTEN);
    assert_eq!(l.path().unwrap(), path.to_str().unwrap());
    assert!(l.vfs().is_some());
    assert_eq!(l.pending().len(), 1, "one connection awaits accept");
    let s = socks.iter().find(|s| s.inode() == ino(&server)).unwrap();
    assert_eq!(s.rqueue(), Some(700));
    assert_eq!(s.peer(), Some(ino(&client)));
    let d = socks.iter().find(|s| s.inode() == ino(&dgram)).unwrap();
    assert_eq!(d.kind_name(), "u_dgr");
    let got = diag.unix().get(ino(&server)).await.unwrap();
    assert_eq!(got.peer(), Some(ino(&client)));
    drop((listener, client, server, dgram, pending));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn netlink_and_packet_sockets_are_listed() {
    let ns = TestNs::new().await;
    let (nl_fd, pk_fd) = in_ns(&ns, || {
        // SAFETY: plain socket(2) calls; the fds are owned right away.
        unsafe {
            let n = libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE);
            let p = libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                i32::from((libc::ETH_P_ALL as u16).to_be()),
            );
            assert!(n >= 0 && p >= 0);
            (OwnedFd::from_raw_fd(n), OwnedFd::from_raw_fd(p))
        }
    });
    // Bind the netlink socket so it has a port id.
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as u16;
    sa.nl_groups = 1; // RTMGRP_LINK
    // SAFETY: bind with a properly sized sockaddr_nl.
    let r = unsafe {
        libc::bind(
            nl_fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    assert_eq!(r, 0);
    let ino = |fd: &OwnedFd| {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on an open fd.
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        st.st_ino as u32
    };
    let diag = ns.client().diag();
    let nls = diag.netlink().await.unwrap();
    let mine = nls
        .iter()
        .find(|s| s.inode() == ino(&nl_fd))
        .expect("listed");
    assert_eq!(mine.protocol(), 0);
    assert_ne!(mine.portid(), 0);
    assert_eq!(mine.groups(), vec![1]);
    assert!(mine.meminfo().is_some());
    assert!(
        nls.iter().any(|s| s.protocol() == 4),
        "our own sock_diag socket"
    );
    assert!(
        diag.netlink()
            .protocol(4)
            .await
            .unwrap()
            .iter()
            .all(|s| s.protocol() == 4)
    );

    let pks = diag.packet().await.unwrap();
    assert_eq!(pks.len(), 1, "{pks:?}");
    assert_eq!(pks[0].inode(), ino(&pk_fd));
    assert_eq!(pks[0].protocol(), libc::ETH_P_ALL as u16);
    assert_eq!(pks[0].kind(), libc::SOCK_RAW as u8);
    assert!(pks[0].info().is_some());
    assert_eq!(pks[0].decode().unwrap().header.ino, ino(&pk_fd));
}

#[tokio::test]
async fn mptcp_listeners_are_listed_through_the_protocol_attribute() {
    let ns = TestNs::new().await;
    let fd = in_ns(&ns, || {
        // SAFETY: socket(2); the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 262) };
        if fd < 0 {
            return None;
        }
        // SAFETY: just created.
        let l = unsafe { TcpListener::from_raw_fd(fd) };
        Some(l)
    });
    let Some(l) = fd else {
        common::feature_missing("MPTCP sockets", &std::io::Error::last_os_error());
        return;
    };
    let socket2 = l.as_raw_fd();
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as u16;
    sa.sin_port = 7777u16.to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
    // SAFETY: bind/listen on our own fd with a sized sockaddr_in.
    unsafe {
        assert_eq!(
            libc::bind(
                socket2,
                &sa as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_in>() as u32
            ),
            0
        );
        assert_eq!(libc::listen(socket2, 16), 0);
    }
    let diag = ns.client().diag();
    let socks = diag.inet().protocol(InetProtocol::Mptcp).await.unwrap();
    assert!(
        socks
            .iter()
            .any(|s| s.local() == "127.0.0.1:7777".parse().unwrap() && s.state() == state::LISTEN),
        "{socks:#?}"
    );
    drop(l);
}

#[tokio::test]
async fn client_in_another_namespace_sees_nothing_of_ours() {
    let ns = TestNs::new().await;
    let other = TestNs::new().await;
    let _pair = in_ns(&ns, || tcp_pair("127.0.0.1:5555"));
    let theirs = other.client().diag().tcp().await.unwrap();
    assert!(theirs.is_empty());
    let ours = Netlink::in_netns(ns.name.as_str())
        .unwrap()
        .diag()
        .tcp()
        .await
        .unwrap();
    assert_eq!(ours.len(), 3);
}

#[tokio::test]
async fn udplite_sockets_match_proc_net_udplite() {
    let ns = TestNs::new().await;
    if let Err(e) = common::diag::udplite_sockets_match_proc(&ns).await {
        common::feature_missing("UDP-Lite sockets (CONFIG_IP_UDPLITE)", &e);
    }
}

/// A TCP listener made with socket options set before bind.
fn listener_with(addr: &str, opts: impl FnOnce(&OwnedFd)) -> TcpListener {
    let a: std::net::SocketAddr = addr.parse().unwrap();
    let family = if a.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = cd::socket(family, libc::SOCK_STREAM, 0).unwrap();
    cd::set_int(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    opts(&fd);
    cd::bind(&fd, a);
    cd::listen(&fd);
    TcpListener::from(fd)
}

/// A client connection from a socket with SO_MARK `mark`.
fn marked_client(to: std::net::SocketAddr, mark: i32) -> TcpStream {
    let fd = cd::socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    cd::set_int(&fd, libc::SOL_SOCKET, libc::SO_MARK, mark);
    cd::connect(&fd, to);
    TcpStream::from(fd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_fwmark_and_cgroup_filters_return_what_ss_returns() {
    let ns = TestNs::new().await;
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    ns.ip(&["addr", "add", "10.1.0.1/24", "dev", "v0"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    let cgroup = match cd::TestCgroup::new("diag-filter") {
        Ok(c) => Some(c),
        Err(why) => {
            eprintln!("SKIP (cgroup part): {why}; cgroup filters are tested on the root only");
            None
        }
    };
    let socks = in_ns(&ns, || {
        let mut v: Vec<Box<dyn Send>> = Vec::new();
        let on_lo = listener_with("127.0.0.1:8000", |fd| cd::bind_to_device(fd, "lo"));
        let on_v0 = listener_with("10.1.0.1:8001", |fd| cd::bind_to_device(fd, "v0"));
        let marked = listener_with("127.0.0.1:8002", |fd| {
            cd::set_int(fd, libc::SOL_SOCKET, libc::SO_MARK, 0x10)
        });
        let marked2 = listener_with("[::1]:8003", |fd| {
            cd::set_int(fd, libc::SOL_SOCKET, libc::SO_MARK, 0x21);
            cd::bind_to_device(fd, "lo");
        });
        let plain = listener_with("127.0.0.1:8004", |_| {});
        let client = marked_client(plain.local_addr().unwrap(), 0x11);
        let (server, _) = plain.accept().unwrap();
        // A connection to the device-bound listener: the accepted socket
        // inherits the device.
        let c2 = TcpStream::connect("127.0.0.1:8000").unwrap();
        let (s2, _) = on_lo.accept().unwrap();
        v.push(Box::new((
            on_lo, on_v0, marked, marked2, plain, client, server, c2, s2,
        )));
        if let Some(cg) = &cgroup {
            // A thread of its own enters the cgroup and opens a listener there.
            v.push(Box::new(in_ns(&ns, || {
                cg.enter();
                listener_with("127.0.0.1:8005", |_| {})
            })));
        }
        v
    });
    let diag = ns.client().diag();
    let all = diag.tcp().await.unwrap();
    // Marks come back to a CAP_NET_ADMIN caller, cgroup ids always.
    let at = |port: u16| all.iter().find(|s| s.local().port() == port).unwrap();
    assert_eq!(at(8002).mark(), Some(0x10));
    let v0 = ns.ip_json(&["link", "show", "v0"])[0]["ifindex"]
        .as_u64()
        .unwrap() as u32;
    assert_eq!(at(8001).interface(), v0);
    assert_eq!(at(8000).interface(), 1);
    let root_cgroup = at(8004).cgroup_id().expect("INET_DIAG_CGROUP_ID");

    let mut exprs: Vec<String> = [
        "dev = lo",
        "dev = v0",
        "dev != lo",
        "dev = 1",
        "dev == lo or sport = :8002",
        "dev = lo and sport = :8000",
        "fwmark = 0x10",
        "fwmark = 0x1/0x1",
        "fwmark != 0x10",
        "fwmark = 0x20/0xf0",
        "fwmark = 0/0xff",
        "fwmark = 16 or dev = v0",
        "not ( fwmark = 0x11 or dev = lo )",
    ]
    .map(String::from)
    .to_vec();
    if let Some(cg) = &cgroup {
        let p = cg.dir.display();
        exprs.extend([
            format!("cgroup = {p}"),
            format!("cgroup != {p}"),
            format!("cgroup = {p} or fwmark = 0x10"),
        ]);
    }
    for expr in &exprs {
        let filter: Filter = expr.parse().unwrap();
        let ours = diag
            .tcp()
            .filter(filter.clone())
            .await
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        let text = cd::ss_keep_mounts(&ns, &["-tanH", expr]);
        let lines = parse_ss(&text);
        let mine: BTreeSet<_> = ours.iter().map(key_of).collect();
        assert_eq!(mine, ss_keys(&lines), "filter {expr}:\n{text}");
        assert!(
            !mine.is_empty() && mine.len() < all.len(),
            "{expr} selects {} of {}",
            mine.len(),
            all.len()
        );
        // ss appends the bound device to the local address.
        for s in &ours {
            let l = lines.iter().find(|l| l.key() == key_of(s)).unwrap();
            let dev = match s.interface() {
                0 => None,
                1 => Some("lo"),
                i if i == v0 => Some("v0"),
                i => panic!("bound to {i}?"),
            };
            assert_eq!(l.dev.as_deref(), dev, "{l:?}");
        }
    }

    // The typed forms: a device by index, a cgroup by id and by the path
    // relative to the cgroup2 mount.
    let by_name = diag.tcp().filter(Filter::dev("lo")).await.unwrap();
    let by_index = diag.tcp().filter(Filter::dev(1u32)).await.unwrap();
    assert_eq!(by_name.len(), 3, "{by_name:#?}");
    assert_eq!(by_name.len(), by_index.len());
    let in_root = diag
        .tcp()
        .filter(Filter::cgroup_id(root_cgroup))
        .await
        .unwrap();
    match &cgroup {
        Some(cg) => {
            assert_eq!(in_root.len(), all.len() - 1);
            for f in [Filter::cgroup_id(cg.id()), Filter::cgroup(cg.rel.as_str())] {
                let got = diag.tcp().filter(f.clone()).await.unwrap();
                assert_eq!(got.len(), 1, "{f}");
                assert_eq!(got[0].local().port(), 8005);
                assert_eq!(got[0].cgroup_id(), Some(cg.id()));
            }
        }
        None => assert_eq!(in_root.len(), all.len()),
    }

    // Bad input names its field and sends nothing that could hang or panic.
    match diag.tcp().filter(Filter::dev("nosuchdev0")).await {
        Err(e @ Error::NoSuchLink { field, .. }) => {
            assert_eq!(field, Some("dev"));
            assert!(e.to_string().contains("nosuchdev0"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // A NUL would end the name early in IFLA_IFNAME: "lo\0x" is not lo.
    for f in [Filter::dev("lo\0x"), "dev = lo\0x".parse().unwrap()] {
        match diag.tcp().filter(f).await {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "dev");
                assert!(reason.contains("NUL"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    for (f, field) in [
        ("fwmark = 0x10/0x1", "fwmark"),
        ("cgroup = /no/such/tnl/cgroup", "cgroup"),
        ("cgroup = /\0", "cgroup"),
    ] {
        match diag.tcp().filter(f.parse().unwrap()).await {
            Err(Error::InvalidInput { field: got, .. }) => assert_eq!(got, field, "{f}"),
            other => panic!("{f}: {other:?}"),
        }
    }
    match "fwmark = banana".parse::<Filter>() {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "fwmark"),
        other => panic!("{other:?}"),
    }
    drop(socks);
}

/// `%#x` as ss prints TOS values (plain `0` for zero).
fn hex(v: u32) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tos_tclass_and_class_id_match_ss() {
    let ns = TestNs::new().await;
    let socks = in_ns(&ns, || {
        let l4 = listener_with("127.0.0.1:7400", |fd| {
            cd::set_int(fd, libc::IPPROTO_IP, libc::IP_TOS, 0x20);
        });
        let c4 = cd::socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        cd::set_int(&c4, libc::IPPROTO_IP, libc::IP_TOS, 0x48);
        // Above 6 needs CAP_NET_ADMIN; 1:1 as a qdisc class.
        cd::set_int(&c4, libc::SOL_SOCKET, libc::SO_PRIORITY, 0x10001);
        cd::connect(&c4, "127.0.0.1:7400".parse().unwrap());
        let s4 = l4.accept().unwrap().0;
        let l6 = listener_with("[::1]:7401", |_| {});
        let c6 = cd::socket(libc::AF_INET6, libc::SOCK_STREAM, 0).unwrap();
        cd::set_int(&c6, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 0xb8);
        cd::set_int(&c6, libc::SOL_SOCKET, libc::SO_PRIORITY, 5);
        cd::connect(&c6, "[::1]:7401".parse().unwrap());
        let s6 = l6.accept().unwrap().0;
        let u = cd::socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
        cd::set_int(&u, libc::IPPROTO_IP, libc::IP_TOS, 0x10);
        cd::set_int(&u, libc::SOL_SOCKET, libc::SO_PRIORITY, 3);
        cd::bind(&u, "127.0.0.1:7402".parse().unwrap());
        (l4, TcpStream::from(c4), s4, l6, TcpStream::from(c6), s6, u)
    });
    let (l4, c4, _s4, _l6, c6, _s6, u) = &socks;
    let diag = ns.client().diag();
    let ext = Extensions::TOS | Extensions::TCLASS;
    let tcp = diag.tcp().extensions(ext).await.unwrap();
    let text = ss(&ns, &["-tanH", "--tos"]);
    let lines = parse_ss(&text);
    assert_eq!(tcp.len(), 6);
    let at = |a: std::net::SocketAddr| tcp.iter().find(|s| s.local() == a).unwrap();
    let c4s = at(c4.local_addr().unwrap());
    assert_eq!(
        (c4s.tos(), c4s.tclass(), c4s.class_id()),
        (Some(0x48), None, Some(0x10001)),
        "IPv4: TOS, no TCLASS; SO_PRIORITY stands in for a net_cls class id"
    );
    let l4s = at(l4.local_addr().unwrap());
    assert_eq!((l4s.tos(), l4s.class_id()), (Some(0x20), Some(0)));
    let c6s = at(c6.local_addr().unwrap());
    assert_eq!(
        (c6s.tos(), c6s.tclass(), c6s.class_id()),
        (Some(0), Some(0xb8), Some(5)),
        "IPv6: TCLASS, and the (unused) IPv4 TOS too"
    );
    // Every socket as ss --tos shows it (ss prints what the kernel sends).
    for s in &tcp {
        let l = cd::line_of(&lines, s);
        let want = |v: Option<u32>| v.map(hex);
        assert_eq!(
            l.get("tos").map(String::from),
            want(s.tos().map(u32::from)),
            "{l:?}"
        );
        assert_eq!(
            l.get("tclass").map(String::from),
            want(s.tclass().map(u32::from)),
            "{l:?}"
        );
        assert_eq!(
            l.get("class_id").map(String::from),
            want(s.class_id()),
            "{l:?}"
        );
    }
    // UDP sockets report them the same way.
    let udp = diag.udp().extensions(ext).await.unwrap();
    assert_eq!(udp.len(), 1);
    assert_eq!(udp[0].inode(), cd::ino(u));
    assert_eq!((udp[0].tos(), udp[0].class_id()), (Some(0x10), Some(3)));
    let l = &parse_ss(&ss(&ns, &["-uanH", "--tos"]))[0];
    assert_eq!(
        (l.get("tos"), l.get("class_id")),
        (Some("0x10"), Some("0x3"))
    );
    // Not asked for, not sent.
    let plain = diag.tcp().await.unwrap();
    assert!(
        plain
            .iter()
            .all(|s| s.tos().is_none() && s.tclass().is_none() && s.class_id().is_none())
    );
    // TOS alone brings no CLASS_ID (it is requested through TCLASS).
    let tos_only = diag.tcp().extensions(Extensions::TOS).await.unwrap();
    assert!(
        tos_only
            .iter()
            .all(|s| s.tos().is_some() && s.class_id().is_none())
    );
    drop(socks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_bits_match_ss() {
    let ns = TestNs::new().await;
    let (half, both, open) = in_ns(&ns, || {
        (
            tcp_pair("127.0.0.1:7500"),
            tcp_pair("127.0.0.1:7501"),
            tcp_pair("127.0.0.1:7502"),
        )
    });
    half.client.shutdown(std::net::Shutdown::Write).unwrap();
    both.client.shutdown(std::net::Shutdown::Both).unwrap();
    let diag = ns.client().diag();
    let at = |socks: &[InetSocket], a: std::net::SocketAddr, peer: std::net::SocketAddr| {
        socks
            .iter()
            .find(|s| s.local() == a && s.remote() == peer)
            .and_then(|s| s.shutdown())
    };
    let ends = |p: &TcpPair| {
        (
            p.client.local_addr().unwrap(),
            p.server.local_addr().unwrap(),
        )
    };
    // The peers learn of it from the FIN, whose ACK moves the clients on
    // to FIN-WAIT-2.
    eventually("both FINs received and acked", async || {
        let socks = diag.tcp().await.unwrap();
        let (c, s) = ends(&half);
        let (c2, s2) = ends(&both);
        let fin_wait2 = socks
            .iter()
            .filter(|s| s.state() == state::FIN_WAIT2)
            .count();
        at(&socks, s, c) == Some(1) && at(&socks, s2, c2) == Some(1) && fin_wait2 == 2
    })
    .await;
    // Sent without being asked for.
    let socks = diag.tcp().await.unwrap();
    // SHUTDOWN bits: 1 receive side (RCV_SHUTDOWN), 2 send side.
    let want = [
        (ends(&half), (2, 1)),
        (ends(&both), (3, 1)),
        (ends(&open), (0, 0)),
    ];
    for ((c, s), (cw, sw)) in want {
        assert_eq!(at(&socks, c, s), Some(cw), "client {c}");
        assert_eq!(at(&socks, s, c), Some(sw), "server {s}");
    }
    // ss -e shows them as arrows: `<->` open, `-->` no receiving, `<--` no
    // sending, `---` neither.
    let lines = parse_ss(&ss(&ns, &["-taneH"]));
    for s in &socks {
        let l = cd::line_of(&lines, s);
        let bits = s.shutdown().expect("INET_DIAG_SHUTDOWN");
        let arrow = format!(
            "{}-{}",
            if bits & 1 != 0 { '-' } else { '<' },
            if bits & 2 != 0 { '-' } else { '>' }
        );
        assert!(l.rest.split(' ').any(|w| w == arrow), "{arrow} in {l:?}");
    }
    assert_eq!(
        socks
            .iter()
            .find(|s| s.local() == half.client.local_addr().unwrap())
            .unwrap()
            .state(),
        state::FIN_WAIT2
    );
    drop((half, both, open));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bbr_info_matches_ss() {
    let ns = TestNs::new().await;
    // Vegas and DCTCP are modules the host kernel lacks: the VM lane has them.
    if let Err(e) = cd::cc_info_matches_ss(&ns, "bbr").await {
        common::feature_missing("TCP BBR (tcp_bbr)", &e);
    }
}

/// ss's `skmem:(…)` text of SK_MEMINFO counters.
fn ss_skmem(m: &tokio_netlink::diag::SkMemInfo) -> String {
    let w = &m.0;
    let mut t = format!(
        "skmem:(r{},rb{},t{},tb{},f{},w{},o{}",
        w[0], w[1], w[2], w[3], w[4], w[5], w[6]
    );
    if let Some(bl) = m.backlog() {
        t += &format!(",bl{bl}");
    }
    if let Some(d) = m.drops() {
        t += &format!(",d{d}");
    }
    t + ")"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inet_meminfo_accounts_for_queued_data_and_matches_ss() {
    let ns = TestNs::new().await;
    let (l, client, server) = in_ns(&ns, || {
        // A small receive buffer (inherited by the accepted socket), so the
        // sender's queue fills while nobody reads.
        let l = listener_with("127.0.0.1:7600", |fd| {
            cd::set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 4096)
        });
        let c = TcpStream::connect("127.0.0.1:7600").unwrap();
        let s = l.accept().unwrap().0;
        (l, c, s)
    });
    client.set_nonblocking(true).unwrap();
    let mut sent = 0;
    loop {
        match (&client).write(&[3u8; 16384]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    let diag = ns.client().diag();
    let query = diag
        .tcp()
        .extensions(Extensions::MEMINFO | Extensions::SKMEMINFO);
    let client_at = client.local_addr().unwrap();
    // The accepted socket shares the listener's local address: find both
    // ends by the client's.
    let ends = |socks: &[InetSocket]| {
        let c = socks.iter().find(|s| s.local() == client_at).cloned();
        let s = socks.iter().find(|s| s.remote() == client_at).cloned();
        (c.unwrap(), s.unwrap())
    };
    // Every byte is either still queued at the sender or waiting unread
    // at the receiver, once the window has closed and the ACKs are in.
    let mut last = None;
    eventually("the queues settled, ss seeing them as we do", async || {
        let before = query.clone().await.unwrap();
        let text = ss(&ns, &["-tamnoOH"]);
        let after = query.clone().await.unwrap();
        let view = |v: &[InetSocket]| {
            v.iter()
                .map(|s| {
                    let t = (s.timer_kind(), s.retrans());
                    (s.rqueue(), s.wqueue(), s.meminfo(), s.skmeminfo(), t)
                })
                .collect::<Vec<_>>()
        };
        let (c, s) = ends(&after);
        let settled =
            view(&before) == view(&after) && c.wqueue() as usize + s.rqueue() as usize == sent;
        if settled {
            last = Some((after, text));
        }
        settled
    })
    .await;
    let (socks, text) = last.unwrap();
    let lines = parse_ss(&text);
    assert_eq!(socks.len(), 3);
    for s in &socks {
        let m = s.meminfo().expect("INET_DIAG_MEMINFO");
        let sk = s.skmeminfo().expect("INET_DIAG_SKMEMINFO");
        // The same counters, read in the same instant, in both layouts.
        assert_eq!(
            (Some(m.rmem), Some(m.wmem), Some(m.fmem), Some(m.tmem)),
            (
                sk.rmem_alloc(),
                sk.wmem_queued(),
                sk.fwd_alloc(),
                sk.wmem_alloc()
            ),
            "{s:?}"
        );
        // ss -m prints skmem (and mem:(…) only for kernels without it).
        let l = cd::line_of(&lines, s);
        assert!(
            l.rest.contains(&ss_skmem(&sk)),
            "{} in {}",
            ss_skmem(&sk),
            l.rest
        );
    }
    let (c, s) = ends(&socks);
    let (cm, sm) = (c.meminfo().unwrap(), s.meminfo().unwrap());
    assert!(s.rqueue() > 0 && c.wqueue() > 0, "{s:?} {c:?}");
    // Buffers cost their true size, at least the payload they carry.
    assert!(sm.rmem >= s.rqueue(), "{sm:?} for {} queued", s.rqueue());
    assert!(cm.wmem >= c.wqueue(), "{cm:?} for {} queued", c.wqueue());
    assert_eq!((cm.rmem, sm.wmem), (0, 0));
    // Data waits behind a closed window, nothing in flight: the sender
    // probes the window (`persist` in ss -o), and the probes are answered.
    assert_eq!(c.timer_kind(), Timer::ZeroWindowProbe, "{c:?}");
    let (name, _, probes) = cd::ss_timer(cd::line_of(&lines, &c)).expect("ss -o timer");
    assert_eq!((name.as_str(), probes), ("persist", u32::from(c.retrans())));
    assert_eq!(c.retrans(), 0);
    let lm = socks
        .iter()
        .find(|s| s.state() == state::LISTEN)
        .unwrap()
        .meminfo()
        .unwrap();
    assert_eq!((lm.rmem, lm.wmem), (0, 0));
    drop((l, client, server));
}

/// IP-level options of linux/in.h and linux/in6.h (not all in libc).
mod ipopt {
    pub const IP_RECVERR: i32 = 11;
    pub const IP_FREEBIND: i32 = 15;
    pub const IP_TRANSPARENT: i32 = 19;
    pub const IP_BIND_ADDRESS_NO_PORT: i32 = 24;
    pub const IP_RECVERR_RFC4884: i32 = 26;
    pub const IP_MULTICAST_LOOP: i32 = 34;
    pub const IP_MULTICAST_ALL: i32 = 49;
    pub const IPV6_TRANSPARENT: i32 = 75;
    pub const IPV6_FREEBIND: i32 = 78;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockopt_flags_match_what_was_set_and_ss() {
    use ipopt::*;
    let ns = TestNs::new().await;
    // Fast Open on, without cookies: a TCP_FASTOPEN_CONNECT socket's
    // connect() then returns at once and defers its SYN to the first write.
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-qw"])
        .arg("net.ipv4.tcp_fastopen=5")
        .status()
        .unwrap();
    assert!(out.success());
    let socks = in_ns(&ns, || {
        let on = |fd: &OwnedFd, level, opt| cd::set_int(fd, level, opt, 1);
        let ip = libc::IPPROTO_IP;
        let set = listener_with("127.0.0.1:7700", |fd| {
            on(fd, ip, IP_RECVERR);
            on(fd, ip, IP_FREEBIND);
            on(fd, ip, IP_TRANSPARENT);
            on(fd, ip, IP_BIND_ADDRESS_NO_PORT);
            on(fd, ip, IP_RECVERR_RFC4884);
            cd::set_int(fd, ip, IP_MULTICAST_LOOP, 0);
            cd::set_int(fd, ip, IP_MULTICAST_ALL, 0);
        });
        let plain = listener_with("127.0.0.1:7701", |_| {});
        let deferred = cd::socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        on(&deferred, libc::IPPROTO_TCP, libc::TCP_FASTOPEN_CONNECT);
        cd::connect(&deferred, "127.0.0.1:7701".parse().unwrap());
        let udp = cd::socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
        on(&udp, ip, IP_RECVERR);
        cd::bind(&udp, "127.0.0.1:7702".parse().unwrap());
        // The IPv6 spellings set the same inet flags.
        let v6 = listener_with("[::1]:7703", |fd| {
            on(fd, libc::IPPROTO_IPV6, IPV6_FREEBIND);
            on(fd, libc::IPPROTO_IPV6, IPV6_TRANSPARENT);
        });
        (set, plain, deferred, udp, v6)
    });
    let diag = ns.client().diag();
    // INET_DIAG_SOCKOPT comes without asking.
    let tcp = diag.tcp().await.unwrap();
    let udp = diag.udp().await.unwrap();
    let by_ino = |fd: &dyn AsRawFd| {
        tcp.iter()
            .chain(&udp)
            .find(|s| s.inode() == cd::ino(&fd.as_raw_fd()))
            .unwrap()
    };
    let (set, plain, deferred, u, v6) = &socks;
    let want: [(&dyn AsRawFd, &[&str]); 5] = [
        (
            set,
            &[
                "recverr",
                "is_icsk",
                "freebind",
                "transparent",
                "bind_addr_no_port",
                "recverr_rfc4884",
            ],
        ),
        (plain, &["is_icsk", "mc_loop", "mc_all"]),
        (deferred, &["is_icsk", "mc_loop", "mc_all", "defer_connect"]),
        (u, &["recverr", "mc_loop", "mc_all"]),
        // IPv6 sockets keep IP_MULTICAST_ALL off (IPv6 has its own).
        (v6, &["is_icsk", "freebind", "mc_loop", "transparent"]),
    ];
    for (fd, names) in want {
        let s = by_ino(fd);
        assert_eq!(
            cd::sockopt_names(s.sockopt().expect("SOCKOPT")),
            names,
            "{s:?}"
        );
    }
    assert_eq!(by_ino(deferred).state(), state::SYN_SENT, "no SYN sent yet");
    // Every socket as ss shows it.
    for (args, socks) in [
        (["-tanOH", "--inet-sockopt"], &tcp),
        (["-uanOH", "--inet-sockopt"], &udp),
    ] {
        let lines = parse_ss(&ss(&ns, &args));
        assert_eq!(lines.len(), socks.len());
        for s in socks {
            assert_eq!(
                cd::ss_sockopt(cd::line_of(&lines, s)),
                cd::sockopt_names(s.sockopt().unwrap()),
                "{s:?}"
            );
        }
    }
    drop(socks);
}

/// Listings before and after `ss ARGS` in which `same` agrees (the state
/// did not move while ss read it), with ss's text; retried until then.
async fn still_around_ss<K: PartialEq>(
    ns: &TestNs,
    query: &tokio_netlink::diag::InetQuery,
    args: &[&str],
    same: impl Fn(&[InetSocket]) -> K,
) -> (Vec<InetSocket>, String, Vec<InetSocket>) {
    for _ in 0..100 {
        let before = query.clone().await.unwrap();
        let text = ss(ns, args);
        let after = query.clone().await.unwrap();
        if same(&before) == same(&after) {
            return (before, text, after);
        }
    }
    panic!("the sockets never held still around ss {args:?}");
}

/// A socket's timer as ss -o shows it, checked against our readings
/// before and after ss's: the same timer and count, and ss's time between.
fn assert_timer_like_ss(before: &InetSocket, l: &cd::SsLine, after: &InetSocket) {
    match cd::ss_timer(l) {
        None => assert_eq!(after.timer_kind(), Timer::Off, "{l:?}"),
        Some((name, ms, count)) => {
            assert_eq!(name, after.timer_kind().ss_name(), "{l:?}");
            assert_eq!(count, u32::from(after.retrans()), "{l:?}");
            assert!(
                cd::timer_between(before.expires(), ms, after.expires()),
                "ss's {ms} ms not between {} and {}: {l:?}",
                before.expires(),
                after.expires()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_and_timewait_timers_match_ss() {
    let ns = TestNs::new().await;
    let (ka, tw) = in_ns(&ns, || {
        (tcp_pair("127.0.0.1:7800"), tcp_pair("127.0.0.1:7801"))
    });
    // The first probe after 30 s idle: armed now, fires after the test.
    cd::set_int(&ka.client, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 30);
    cd::set_int(&ka.client, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    // An active close: the client's end stays in TIME-WAIT.
    let TcpPair {
        listener: _tw_listener,
        client: tw_client,
        server: tw_server,
    } = tw;
    let tw_at = tw_client.local_addr().unwrap();
    drop(tw_client);
    let diag = ns.client().diag();
    eventually("the server end in CLOSE-WAIT", async || {
        let socks = diag.tcp().await.unwrap();
        socks
            .iter()
            .any(|s| s.remote() == tw_at && s.state() == state::CLOSE_WAIT)
    })
    .await;
    drop(tw_server);
    eventually("the client end in TIME-WAIT", async || {
        let socks = diag.tcp().await.unwrap();
        socks
            .iter()
            .any(|s| s.local() == tw_at && s.state() == state::TIME_WAIT)
    })
    .await;

    let query = diag.tcp().info();
    let timers = |v: &[InetSocket]| {
        v.iter()
            .map(|s| (key_of(s), s.timer_kind(), s.retrans()))
            .collect::<Vec<_>>()
    };
    let (before, text, after) = still_around_ss(&ns, &query, &["-tanoOH"], timers).await;
    let lines = parse_ss(&text);
    assert_eq!(after.len(), 5, "{after:#?}");
    for (b, a) in before.iter().zip(&after) {
        assert_timer_like_ss(b, cd::line_of(&lines, a), a);
    }
    let at = |a| after.iter().find(|s| s.local() == a).unwrap();
    let k = at(ka.client.local_addr().unwrap());
    assert_eq!(k.timer_kind(), Timer::KeepAlive, "{k:?}");
    assert!(k.expires() > 0 && k.expires() <= 30_000, "{}", k.expires());
    assert_eq!(k.retrans(), 0, "no probe sent yet");
    assert_eq!(k.tcp_info().unwrap().probes(), Some(0));
    let t = at(tw_at);
    assert_eq!(
        (t.state(), t.timer_kind()),
        (state::TIME_WAIT, Timer::TimeWait)
    );
    // TCP_TIMEWAIT_LEN is 60 s; a TIME-WAIT socket has no file, no tcp_info.
    assert!(t.expires() > 0 && t.expires() <= 60_000, "{}", t.expires());
    assert_eq!((t.inode(), t.tcp_info().is_none()), (0, true));
    // The peer without keepalive has no timer.
    let server = after
        .iter()
        .find(|s| s.remote() == ka.client.local_addr().unwrap())
        .unwrap();
    assert_eq!(server.timer_kind(), Timer::Off);
    drop(ka);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retransmits_and_keepalive_probes_count_up_while_acks_are_lost() {
    // The clients here, the server in a peer namespace behind a veth pair.
    let ns = TestNs::new().await;
    let peer = TestNs::new().await;
    ns.ip(&[
        "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", &peer.name,
    ]);
    ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "v0"]);
    ns.ip(&["link", "set", "v0", "up"]);
    peer.ip(&["addr", "add", "10.9.0.2/24", "dev", "v1"]);
    peer.ip(&["link", "set", "v1", "up"]);
    let listener = in_ns(&peer, || TcpListener::bind("10.9.0.2:7900").unwrap());
    let (busy, idle) = in_ns(&ns, || {
        let busy = TcpStream::connect("10.9.0.2:7900").unwrap();
        let idle = TcpStream::connect("10.9.0.2:7900").unwrap();
        (busy, idle)
    });
    let _accepted = (listener.accept().unwrap(), listener.accept().unwrap());
    // Probes after 1 s idle, then every second, 50 before giving up.
    for (opt, v) in [
        (libc::TCP_KEEPIDLE, 1),
        (libc::TCP_KEEPINTVL, 1),
        (libc::TCP_KEEPCNT, 50),
    ] {
        cd::set_int(&idle, libc::IPPROTO_TCP, opt, v);
    }
    cd::set_int(&idle, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    // The server still receives but can no longer answer.
    peer.ip(&["route", "add", "blackhole", "10.9.0.1/32"]);
    (&busy).write_all(&[5u8; 1000]).unwrap();

    let diag = ns.client().diag();
    let query = diag
        .tcp()
        .states(States::ESTABLISHED)
        .extensions(Extensions::INFO | Extensions::MEMINFO);
    let busy_at = busy.local_addr().unwrap();
    let idle_at = idle.local_addr().unwrap();
    let find = |v: &[InetSocket], a| v.iter().find(|s| s.local() == a).cloned().unwrap();
    let mut seen = None;
    eventually("three retransmits and two unanswered probes", async || {
        let socks = query.clone().await.unwrap();
        let (b, i) = (find(&socks, busy_at), find(&socks, idle_at));
        // Each new state, for the record should it never get there.
        let now = Some((b.timer_kind(), b.retrans(), i.timer_kind(), i.retrans()));
        if now != seen {
            eprintln!("busy {b:?}, idle {i:?}: {now:?}");
            seen = now;
        }
        b.timer_kind() == Timer::Retransmit
            && b.retrans() >= 3
            && i.timer_kind() == Timer::KeepAlive
            && i.retrans() >= 2
    })
    .await;

    let counts = |v: &[InetSocket]| {
        v.iter()
            .map(|s| {
                (
                    s.timer_kind(),
                    s.retrans(),
                    s.tcp_info().unwrap().total_retrans(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (before, text, after) = still_around_ss(&ns, &query, &["-tanoiOH"], counts).await;
    let lines = parse_ss(&text);
    for (b, a) in before.iter().zip(&after) {
        assert_timer_like_ss(b, cd::line_of(&lines, a), a);
    }
    let b = find(&after, busy_at);
    let info = b.tcp_info().unwrap();
    // The header's count is the connection's icsk_retransmits, which
    // tcp_info reports too; the lifetime total is at least as large.
    assert_eq!(info.retransmits(), Some(b.retrans()));
    assert!(info.total_retrans().unwrap() >= u32::from(b.retrans()));
    assert!(info.backoff().unwrap() >= 1);
    let l = cd::line_of(&lines, &b);
    let (_, total) = l.get("retrans").expect("retrans:").split_once('/').unwrap();
    assert_eq!(total, info.total_retrans().unwrap().to_string(), "{l:?}");
    // The 1000 bytes are still unacknowledged, queued, and counted.
    assert_eq!((b.wqueue(), info.unacked()), (1000, Some(1)));
    assert!(b.meminfo().unwrap().wmem >= 1000);
    let i = find(&after, idle_at);
    assert_eq!(i.tcp_info().unwrap().probes(), Some(i.retrans()));
    assert_eq!(i.wqueue(), 0);
    drop((busy, idle, listener));
}

/// What `ss -ti` prints after `tcp-ulp-mptcp` for a subflow.
fn ss_subflow(m: &tokio_netlink::diag::MptcpSubflowInfo) -> String {
    let flags = m.flags.unwrap_or(0);
    let letters: String = "MmJjBbecv"
        .chars()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, c)| c)
        .collect();
    let mut t = String::new();
    if !letters.is_empty() {
        t += &format!(" flags:{letters}");
    }
    if let (Some(tr), Some(tl), Some(ir), Some(il)) = (m.token_rem, m.token_loc, m.id_rem, m.id_loc)
    {
        t += &format!(" token:{tr:04x}(id:{ir})/{tl:04x}(id:{il})");
    }
    if let Some(v) = m.map_seq {
        t += &format!(" seq:{v:x}");
    }
    if let Some(v) = m.map_sfseq {
        t += &format!(" sfseq:{v:x}");
    }
    if let Some(v) = m.ssn_offset {
        t += &format!(" ssnoff:{v:x}");
    }
    if let Some(v) = m.map_datalen {
        t += &format!(" maplen:{v:x}");
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mptcp_subflows_carry_the_mptcp_ulp_state_of_their_connection() {
    use tokio_netlink::diag::MptcpSubflowInfo as Sf;
    let ns = TestNs::new().await;
    let made = in_ns(&ns, || {
        let l = cd::socket(libc::AF_INET, libc::SOCK_STREAM, 262)?;
        cd::bind(&l, "127.0.0.1:7950".parse().unwrap());
        cd::listen(&l);
        let l = TcpListener::from(l);
        let c = cd::socket(libc::AF_INET, libc::SOCK_STREAM, 262)?;
        cd::connect(&c, "127.0.0.1:7950".parse().unwrap());
        let s = l.accept().unwrap().0;
        Ok::<_, std::io::Error>((l, TcpStream::from(c), s))
    });
    let (l, c, s) = match made {
        Ok(v) => v,
        Err(e) => return common::feature_missing("MPTCP sockets", &e),
    };
    // Data both ways: the connection becomes fully established and each
    // subflow keeps the mapping of what it received last.
    (&c).write_all(b"hello").unwrap();
    let mut b = [0u8; 5];
    (&s).read_exact(&mut b).unwrap();
    (&s).write_all(b"world!").unwrap();
    let mut b = [0u8; 6];
    (&c).read_exact(&mut b).unwrap();

    let diag = ns.client().diag();
    let subflows = diag.tcp().info();
    let conns = diag.inet().protocol(InetProtocol::Mptcp).info();
    let ulp_of = |v: &[InetSocket]| v.iter().map(|s| s.ulp()).collect::<Vec<_>>();
    eventually("both subflows fully established", async || {
        let v = subflows.clone().await.unwrap();
        let e = Sf::FLAG_FULLY_ESTABLISHED;
        v.iter()
            .filter_map(|s| s.ulp()?.mptcp()?.flags)
            .filter(|f| f & e != 0)
            .count()
            == 2
    })
    .await;
    let (before, text, tcp) = still_around_ss(&ns, &subflows, &["-tanieOH"], ulp_of).await;
    assert_eq!(ulp_of(&before), ulp_of(&tcp));
    let lines = parse_ss(&text);
    let msks = conns.clone().await.unwrap();
    assert_eq!(tcp.len(), 3, "{tcp:#?}");
    assert_eq!(msks.len(), 3, "{msks:#?}");
    for sf in &tcp {
        let ulp = sf.ulp().expect("INET_DIAG_ULP_INFO");
        assert_eq!(ulp.name(), Some("mptcp"), "{ulp:?}");
        assert!(ulp.tls().is_none());
        let l = cd::line_of(&lines, sf);
        let (_, after_ulp) = l.rest.split_once("tcp-ulp-mptcp").expect("ULP in ss");
        // The listener's subflow has the ULP and no state yet.
        let Some(m) = ulp.mptcp() else {
            assert_eq!(sf.state(), state::LISTEN);
            assert_eq!(after_ulp.trim(), "", "{l:?}");
            continue;
        };
        assert!(
            after_ulp.starts_with(&ss_subflow(&m)),
            "{} in {l:?}",
            ss_subflow(&m)
        );
        let is_client = sf.local() == c.local_addr().unwrap();
        // MP_CAPABLE both ways; the client sent the third ACK's key.
        let mut want = Sf::FLAG_MCAP_REM | Sf::FLAG_FULLY_ESTABLISHED | Sf::FLAG_CONNECTED;
        if is_client {
            want |= Sf::FLAG_MCAP_LOC;
        }
        assert_eq!(m.flags, Some(want), "{m:?}");
        // The first subflow: address ids 0; the peer's token is learnt
        // only by MP_JOIN subflows.
        assert_eq!(
            (m.id_loc, m.id_rem, m.token_rem),
            (Some(0), Some(0), Some(0))
        );
        // Its connection: the MPTCP socket with the same ends, whose
        // mptcp_info (INET_DIAG_INFO) has the token and the data sequence.
        let msk = msks
            .iter()
            .find(|k| (k.local(), k.remote()) == (sf.local(), sf.remote()))
            .unwrap();
        assert_eq!(msk.protocol(), InetProtocol::Mptcp);
        // A subflow has no file of its own: it reports its connection's.
        assert_eq!(sf.inode(), msk.inode());
        let info = msk.info_raw().expect("mptcp_info");
        let word = |o: usize| u32::from_ne_bytes(info[o..o + 4].try_into().unwrap());
        let dword = |o: usize| u64::from_ne_bytes(info[o..o + 8].try_into().unwrap());
        let (token, rcv_nxt) = (word(12), dword(32));
        assert_eq!(m.token_loc, Some(token), "{m:?}");
        // The last mapping received ends at the connection's rcv_nxt.
        let got = if is_client { 6 } else { 5 };
        assert_eq!(m.map_datalen, Some(got));
        assert_eq!(m.map_seq.unwrap() + u64::from(got), rcv_nxt, "{m:?}");
        assert_eq!(m.map_sfseq, Some(1), "the first byte after the SYN");
        // Only raw sockets carry INET_DIAG_PROTOCOL; an MPTCP listing is
        // told apart by the request alone.
        assert_eq!((sf.protocol_attr(), msk.protocol_attr()), (None, None));
    }
    drop((l, c, s));
}

/// A TCP socket bound but not listening is BOUND_INACTIVE (kernel 6.8+):
/// only that state set returns it, and `States::ALL` (like `ss -a`) does
/// not ask for it, which would make the kernel walk its bind hash.
#[tokio::test]
async fn bound_inactive_sockets_come_only_when_asked_for() {
    let ns = TestNs::new().await;
    let (bound, l) = in_ns(&ns, || {
        let fd = cd::socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        cd::bind(&fd, "127.0.0.1:7301".parse().unwrap());
        (fd, listener_with("127.0.0.1:7302", |_| {}))
    });
    let diag = ns.client().diag();
    let all = diag.tcp().states(States::ALL).await.unwrap();
    assert!(all.iter().all(|s| s.local().port() != 7301), "{all:?}");
    assert!(all.iter().any(|s| s.local() == l.local_addr().unwrap()));
    let text = ss(&ns, &["-tanH"]);
    assert_eq!(
        all.iter().map(key_of).collect::<BTreeSet<_>>(),
        ss_keys(&parse_ss(&text)),
        "{text}"
    );
    let inactive = diag.tcp().states(States::BOUND_INACTIVE).await.unwrap();
    if inactive.is_empty() {
        // Kernels before 6.8 have no such state; the host has 6.18.
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let major_minor: Vec<u32> = release
            .split(['.', '-'])
            .take(2)
            .filter_map(|v| v.parse().ok())
            .collect();
        assert!(
            major_minor < vec![6, 8],
            "kernel {release} lists no bound-inactive socket"
        );
        return;
    }
    assert_eq!(inactive.len(), 1, "{inactive:?}");
    assert_eq!(inactive[0].local().port(), 7301);
    // The state is only a filter: the socket itself is in CLOSE.
    assert_eq!(inactive[0].state(), state::CLOSE);
    drop((bound, l));
}
