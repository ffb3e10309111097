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
    Cmp, Extensions, Family, Filter, InetProtocol, InetSocket, SockId, States, state,
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
        assert_eq!(l[1], tokio_netlink::diag::state_name(s.state()), "{l:?}");
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
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(field, "dev");
            assert!(reason.contains("nosuchdev0"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for (f, field) in [
        ("fwmark = 0x10/0x1", "fwmark"),
        ("cgroup = /no/such/tnl/cgroup", "cgroup"),
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
