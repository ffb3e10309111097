//! Socket diagnostics of what the host kernel lacks modules for: raw
//! sockets (raw_diag), SCTP (sctp, sctp_diag), Vegas and DCTCP (tcp_vegas,
//! tcp_dctcp; BBR too, tested on the host as well), kernel TLS (tls), and
//! UDP-Lite (also tested on the host in tests/diag.rs). Cross-checked with
//! `ss` and /proc/net in the same namespace.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::Command;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio_netlink::diag::raw::sctp_state_name;
use tokio_netlink::diag::{Family, InetProtocol, InetSocket, States, TlsInfo, state};

use crate::common::diag::{
    bind, cc_info_matches_ss, connect, in_ns, ino, key_of, line_of, listen, local_addr, parse_ss,
    set_bytes, set_int, socket, sockopt_names, ss, ss_addr, ss_keys, ss_sockopt,
    udplite_sockets_match_proc,
};
use crate::common::{TestNs, feature_missing, in_vm_lane};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Loads a module in the VM lane (its kernel has them; the host's has
/// none to load). The kernel would also ask for the diag modules itself.
fn modprobe(name: &str) {
    if in_vm_lane() {
        let ok = Command::new("modprobe").arg(name).status();
        eprintln!("modprobe {name}: {ok:?}");
    }
}

const RAW_DIAG: &str = "raw socket diagnostics (raw_diag)";

/// A listing, or `None` after reporting the missing feature.
async fn listed(q: tokio_netlink::diag::InetQuery, feature: &str) -> Option<Vec<InetSocket>> {
    match q.await {
        Ok(v) => Some(v),
        Err(e) if e.errno() == Some(libc::ENOENT) => {
            feature_missing(feature, &e);
            None
        }
        Err(e) => panic!("listing {feature}: {e}"),
    }
}

#[tokio::test]
async fn raw_sockets_v4_and_v6_are_listed_with_their_protocol() {
    let ns = TestNs::new().await;
    modprobe("raw_diag");
    let (icmp4, raw4, udp4, icmp6) = in_ns(&ns, || {
        let icmp4 = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP).unwrap();
        bind(&icmp4, sa("127.0.0.1:0"));
        let raw4 = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW).unwrap();
        let udp4 = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_UDP).unwrap();
        connect(&udp4, sa("127.0.0.2:0"));
        let icmp6 = socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6).unwrap();
        bind(&icmp6, sa("[::1]:0"));
        (icmp4, raw4, udp4, icmp6)
    });
    let diag = ns.client().diag();
    let Some(socks) = listed(diag.inet().raw(255), RAW_DIAG).await else {
        return;
    };
    assert_eq!(socks.len(), 4, "{socks:#?}");

    // What ss -w lists (ss reads raw_diag too, or /proc/net/raw without it).
    let text = ss(&ns, &["-w", "-a", "-n", "-H", "-e"]);
    let lines = parse_ss(&text);
    let ours: BTreeSet<_> = socks.iter().map(key_of).collect();
    assert_eq!(ours, ss_keys(&lines), "{text}");
    for s in &socks {
        let l = lines.iter().find(|l| l.key() == key_of(s)).unwrap();
        assert_eq!(l.get("ino"), Some(s.inode().to_string().as_str()), "{text}");
        assert_eq!((s.rqueue(), s.wqueue()), (l.recv_q, l.send_q));
    }

    // Each socket: its family, addresses, state, and its own IP protocol
    // (reported as the local "port" too, as ss shows it).
    let by_ino = |fd| socks.iter().find(|s| s.inode() == ino(fd)).expect("listed");
    let want = [
        (&icmp4, 1, "127.0.0.1:1", "0.0.0.0:0", state::CLOSE),
        (&raw4, 255, "0.0.0.0:255", "0.0.0.0:0", state::CLOSE),
        (&udp4, 17, "127.0.0.1:17", "127.0.0.2:0", state::ESTABLISHED),
        (&icmp6, 58, "[::1]:58", "[::]:0", state::CLOSE),
    ];
    for (fd, proto, local, remote, st) in want {
        let s = by_ino(fd);
        assert_eq!(s.protocol(), InetProtocol::Raw(proto), "{s:?}");
        assert_eq!(s.protocol_attr(), Some(proto));
        assert_eq!((s.local(), s.remote()), (sa(local), sa(remote)));
        assert_eq!(s.state(), st, "{s:?}");
        assert_eq!(s.family() == libc::AF_INET6 as u8, local.starts_with('['));
    }

    // raw_diag dumps every raw socket whatever protocol is asked for; the
    // listing keeps those of the protocol asked for.
    let icmp_only = diag.inet().raw(1).await.unwrap();
    assert_eq!(icmp_only.len(), 1, "{icmp_only:#?}");
    assert_eq!(icmp_only[0].inode(), ino(&icmp4));
    let v6 = diag.inet().raw(255).v6().await.unwrap();
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0].inode(), ino(&icmp6));

    // An exact lookup matches on the socket's own protocol and addresses.
    for fd in [&icmp4, &udp4, &icmp6] {
        let s = by_ino(fd);
        let family = if s.local().is_ipv6() {
            Family::V6
        } else {
            Family::V4
        };
        let got = diag
            .inet()
            .protocol(s.protocol())
            .family(family)
            .get(s.id())
            .await
            .unwrap_or_else(|e| panic!("get {s:?}: {e}"));
        assert_eq!(got.inode(), s.inode());
    }
    let wrong = diag.inet().raw(6).v4().get(by_ino(&icmp4).id()).await;
    assert!(wrong.unwrap_err().is_not_found());

    // Destroy (raw_abort): the owner sees ECONNABORTED and the socket is
    // disconnected.
    diag.destroy_socket(by_ino(&udp4)).await.unwrap();
    let mut buf = [0u8; 16];
    // SAFETY: recv into a local buffer on our own socket.
    let r = unsafe {
        libc::recv(
            udp4.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            16,
            libc::MSG_DONTWAIT,
        )
    };
    let err = std::io::Error::last_os_error();
    assert_eq!(
        (r, err.raw_os_error()),
        (-1, Some(libc::ECONNABORTED)),
        "{err}"
    );
    // raw_abort disconnects and unhashes it: open, but no longer listed.
    let after = diag.inet().raw(255).await.unwrap();
    assert_eq!(after.len(), 3, "{after:#?}");
    assert!(after.iter().all(|s| s.inode() != ino(&udp4)));
    drop((icmp4, raw4, udp4, icmp6));
}

#[tokio::test]
async fn udplite_sockets_match_proc_net_udplite() {
    let ns = TestNs::new().await;
    if let Err(e) = udplite_sockets_match_proc(&ns).await {
        feature_missing("UDP-Lite sockets (CONFIG_IP_UDPLITE)", &e);
    }
}

fn accept(fd: &OwnedFd) -> OwnedFd {
    // SAFETY: accept(2) on our own listener; the new fd is owned at once.
    let r = unsafe { libc::accept(fd.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut()) };
    assert!(r >= 0, "accept: {}", std::io::Error::last_os_error());
    // SAFETY: just returned by accept(2).
    unsafe { OwnedFd::from_raw_fd(r) }
}

/// How ss labels a listing line: SCTP lines with the inode of the line
/// before are associations to ss (`` `- STATE``, SCTP state names), which
/// also catches the listener's repeated endpoint line ("`- (null)": ss
/// indexes its SCTP names with TCP_LISTEN).
fn ss_label(prev: Option<&InetSocket>, s: &InetSocket) -> String {
    if prev.is_some_and(|p| p.inode() == s.inode()) {
        let name = if s.state() <= 7 {
            sctp_state_name(s.state())
        } else {
            "(null)"
        };
        format!("`- {name}")
    } else {
        s.state_name().to_string()
    }
}

#[tokio::test]
async fn sctp_listeners_sockets_and_associations_are_listed() {
    let ns = TestNs::new().await;
    modprobe("sctp");
    modprobe("sctp_diag");
    let made = in_ns(&ns, || {
        let sctp = |family| socket(family, libc::SOCK_STREAM, libc::IPPROTO_SCTP);
        let l = sctp(libc::AF_INET)?;
        bind(&l, sa("127.0.0.1:9100"));
        listen(&l);
        let c1 = sctp(libc::AF_INET)?;
        connect(&c1, sa("127.0.0.1:9100"));
        let s1 = accept(&l);
        // Connected, not yet accepted: its association stays on the listener.
        let c2 = sctp(libc::AF_INET)?;
        connect(&c2, sa("127.0.0.1:9100"));
        let l6 = sctp(libc::AF_INET6)?;
        bind(&l6, sa("[::1]:9101"));
        listen(&l6);
        Ok::<_, std::io::Error>((l, c1, s1, c2, l6))
    });
    let (l, c1, s1, c2, l6) = match made {
        Ok(f) => f,
        Err(e) => return feature_missing("SCTP sockets (sctp)", &e),
    };
    let diag = ns.client().diag();
    let Some(socks) = listed(diag.inet().sctp(), "SCTP diagnostics (sctp_diag)").await else {
        return;
    };

    // Line for line what ss --sctp prints, in the kernel's order.
    let text = ss(&ns, &["--sctp", "-a", "-n", "-H", "-e"]);
    let lines = parse_ss(&text);
    assert_eq!(socks.len(), lines.len(), "{socks:#?}\n{text}");
    for (i, (s, l)) in socks.iter().zip(&lines).enumerate() {
        let prev = i.checked_sub(1).map(|p| &socks[p]);
        assert_eq!(
            (ss_label(prev, s), ss_addr(s.local()), ss_addr(s.remote())),
            (l.state.clone(), l.local.clone(), l.peer.clone()),
            "line {i} of\n{text}"
        );
        assert_eq!(l.get("ino"), Some(s.inode().to_string().as_str()));
        assert_eq!((s.rqueue(), s.wqueue()), (l.recv_q, l.send_q), "line {i}");
        assert_eq!(l.dev.is_some(), s.interface() != 0, "line {i}");
        assert_eq!(s.protocol(), InetProtocol::Sctp);
    }

    // The listener: an endpoint, with its bound addresses and one
    // connection waiting for accept().
    let of = |fd: &OwnedFd| -> Vec<&InetSocket> {
        socks.iter().filter(|s| s.inode() == ino(fd)).collect()
    };
    let ls = of(&l);
    assert_eq!(ls[0].state(), state::LISTEN);
    assert!(!ls[0].is_sctp_association());
    assert_eq!(ls[0].local_addrs(), vec![sa("127.0.0.1:9100")]);
    assert_eq!(ls[0].rqueue(), 1, "c2 waits for accept");
    // The not-yet-accepted association is listed under the listener (whose
    // endpoint line the kernel repeats before it).
    let pending = ls
        .iter()
        .find(|s| s.is_sctp_association())
        .expect("c2's association");
    assert_eq!(pending.remote(), local_addr(&c2));
    assert_eq!(pending.state(), 3, "SCTP_STATE_ESTABLISHED");
    assert_eq!(pending.state_name(), "ESTAB");

    // Both ends of the accepted association: the socket (TCP_ESTABLISHED),
    // then the association with its peer addresses.
    for (fd, peer) in [(&s1, local_addr(&c1)), (&c1, sa("127.0.0.1:9100"))] {
        let v = of(fd);
        assert_eq!(v.len(), 2, "{v:#?}");
        assert!(!v[0].is_sctp_association());
        assert_eq!(v[0].state(), state::ESTABLISHED);
        assert!(v[1].is_sctp_association());
        assert_eq!(v[1].remote(), peer);
        assert_eq!(v[1].peer_addrs(), vec![peer]);
        assert_eq!(v[1].local(), local_addr(fd));
        assert_eq!(v[1].local_addrs(), vec![local_addr(fd)]);
        assert_ne!(v[1].interface(), 0, "the route's device");
    }
    let v6 = of(&l6);
    assert_eq!(v6.len(), 1);
    assert_eq!(
        (v6[0].local(), v6[0].state()),
        (sa("[::1]:9101"), state::LISTEN)
    );
    assert_eq!(v6[0].family(), libc::AF_INET6 as u8);

    // Listening states only: the endpoint table alone, no associations.
    let listening = diag.inet().sctp().states(States::LISTENING).await.unwrap();
    let inodes: BTreeSet<u32> = listening.iter().map(|s| s.inode()).collect();
    assert_eq!(
        inodes,
        BTreeSet::from([ino(&l), ino(&l6)]),
        "{listening:#?}"
    );
    assert!(listening.iter().all(|s| !s.is_sctp_association()));
    assert_eq!(diag.inet().sctp().v6().await.unwrap().len(), 1);

    // sctp_diag ignores INET_DIAG_REQ_BYTECODE; the listing filters in user
    // space, as ss does: the same lines as ss with the same filter.
    for expr in [
        "sport = :9100",
        "dport = :9100",
        "src [::1]",
        "not sport = :9100",
    ] {
        let got = diag
            .inet()
            .sctp()
            .filter(expr.parse().unwrap())
            .await
            .unwrap();
        let text = ss(&ns, &["--sctp", "-a", "-n", "-H", expr]);
        let lines = parse_ss(&text);
        let ours: Vec<_> = got
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let prev = i.checked_sub(1).map(|p| &got[p]);
                (ss_label(prev, s), ss_addr(s.local()), ss_addr(s.remote()))
            })
            .collect();
        let theirs: Vec<_> = lines
            .iter()
            .map(|l| (l.state.clone(), l.local.clone(), l.peer.clone()))
            .collect();
        assert_eq!(ours, theirs, "{expr}:\n{text}");
        assert!(!ours.is_empty() && ours.len() < socks.len(), "{expr}");
    }
    drop((l, c1, s1, c2, l6));
}

/// Congestion-control info of `algo`, loading its module first; in the
/// VM lane a missing algorithm fails.
async fn cc_info(algo: &str) {
    let ns = TestNs::new().await;
    modprobe(&format!("tcp_{algo}"));
    if let Err(e) = cc_info_matches_ss(&ns, algo).await {
        let available =
            std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control")
                .unwrap_or_default();
        feature_missing(
            &format!("TCP {algo} (tcp_{algo}; available: {})", available.trim()),
            &e,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vegas_info_matches_ss() {
    cc_info("vegas").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dctcp_info_and_its_fallback_match_ss() {
    cc_info("dctcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bbr_info_matches_ss() {
    cc_info("bbr").await;
}

/// `struct tls12_crypto_info_aes_gcm_128` (linux/tls.h) with fixed test
/// keys: both ends use the same, so records one seals the other opens.
fn tls12_aes_gcm_128() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(TlsInfo::TLS_1_2.to_ne_bytes());
    b.extend(TlsInfo::AES_GCM_128.to_ne_bytes());
    b.extend([1u8; 8]); // iv
    b.extend([2u8; 16]); // key
    b.extend([3u8; 4]); // salt
    b.extend([0u8; 8]); // rec_seq
    b
}

/// What `ss -ti` prints for a kTLS socket's ULP info.
fn ss_tls(t: &TlsInfo) -> String {
    let mut s = String::from("tcp-ulp-tls");
    if let Some(v) = t.version {
        match t.version_name() {
            Some(n) => s += &format!(" version: {n}"),
            None => s += &format!(" version: unknown({v})"),
        }
    }
    // ss names only the two AES-GCM ciphers.
    if let Some(c @ ("aes-gcm-128" | "aes-gcm-256")) = t.cipher_name() {
        s += &format!(" cipher: {c}");
    }
    for (name, conf) in [("rxconf", t.rx_conf), ("txconf", t.tx_conf)] {
        if let Some(c) = conf {
            s += &format!(" {name}: {}", TlsInfo::conf_name(c).unwrap());
        }
    }
    if t.zerocopy_tx {
        s += " zc_ro_tx";
    }
    if t.rx_no_pad {
        s += " no_pad_rx";
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ktls_ulp_info_matches_what_was_set_and_ss() {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let ns = TestNs::new().await;
    modprobe("tls");
    let (l, c, s, bare) = in_ns(&ns, || {
        let l = TcpListener::bind("127.0.0.1:9200").unwrap();
        let c = TcpStream::connect("127.0.0.1:9200").unwrap();
        let s = l.accept().unwrap().0;
        let bare = TcpStream::connect("127.0.0.1:9200").unwrap();
        (l, c, s, bare)
    });
    let ulp = |fd: &TcpStream| set_bytes(fd, libc::IPPROTO_TCP, libc::TCP_ULP, b"tls");
    if let Err(e) = ulp(&c) {
        return feature_missing("kernel TLS (tls)", &e);
    }
    ulp(&s).unwrap();
    // The ULP alone, keys never installed.
    ulp(&bare).unwrap();
    let keys = tls12_aes_gcm_128();
    set_bytes(&c, libc::SOL_TLS, 1, &keys).expect("TLS_TX"); // TLS_TX
    set_bytes(&s, libc::SOL_TLS, 2, &keys).expect("TLS_RX"); // TLS_RX
    // The kernel seals and opens the records: plain text end to end.
    (&c).write_all(b"over kTLS").unwrap();
    let mut got = [0u8; 9];
    (&s).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"over kTLS");

    let diag = ns.client().diag();
    let socks = diag.tcp().states(States::ESTABLISHED).info().await.unwrap();
    let text = ss(&ns, &["-tniOH"]);
    let lines = parse_ss(&text);
    let of = |fd: &TcpStream| {
        socks
            .iter()
            .find(|x| {
                x.local() == fd.local_addr().unwrap() && x.remote() == fd.peer_addr().unwrap()
            })
            .unwrap()
    };
    let tls = |fd| {
        let ulp = of(fd).ulp().expect("INET_DIAG_ULP_INFO");
        assert_eq!(ulp.name(), Some("tls"));
        assert!(ulp.mptcp().is_none());
        ulp.tls().expect("INET_ULP_INFO_TLS")
    };
    // TLS_CONF_BASE 1 (none), TLS_CONF_SW 2 (the kernel's software crypto).
    let sealed = |tx, rx| TlsInfo {
        version: Some(TlsInfo::TLS_1_2),
        cipher: Some(TlsInfo::AES_GCM_128),
        tx_conf: Some(tx),
        rx_conf: Some(rx),
        ..TlsInfo::default()
    };
    assert_eq!(tls(&c), sealed(2, 1));
    assert_eq!(tls(&s), sealed(1, 2));
    let b = tls(&bare);
    assert_eq!(
        (b.version, b.cipher, b.tx_conf, b.rx_conf),
        (None, None, Some(1), Some(1))
    );
    for fd in [&c, &s, &bare] {
        let want = ss_tls(&tls(fd));
        let l = line_of(&lines, of(fd));
        assert!(l.rest.contains(&want), "{want:?} not in {l:?}");
    }
    assert_eq!(tls(&c).version_name(), Some("1.2"));
    // Sockets without a ULP send none.
    let plain = socks.iter().filter(|x| x.ulp().is_none()).count();
    assert_eq!(plain, 1, "bare's peer, still waiting in the accept queue");
    drop((l, c, s, bare));
}

#[tokio::test]
async fn raw_sockets_report_hdrincl_and_nodefrag_like_ss() {
    const IP_RECVERR: i32 = 11;
    const IP_NODEFRAG: i32 = 22;
    let ns = TestNs::new().await;
    modprobe("raw_diag");
    let (raw, icmp) = in_ns(&ns, || {
        // IPPROTO_RAW implies IP_HDRINCL.
        let raw = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW).unwrap();
        let icmp = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP).unwrap();
        set_int(&icmp, libc::IPPROTO_IP, IP_NODEFRAG, 1);
        set_int(&icmp, libc::IPPROTO_IP, IP_RECVERR, 1);
        (raw, icmp)
    });
    let diag = ns.client().diag();
    let Some(socks) = listed(diag.inet().raw(255), RAW_DIAG).await else {
        return;
    };
    let of = |fd| socks.iter().find(|s| s.inode() == ino(fd)).unwrap();
    let want: [(&OwnedFd, &[&str]); 2] = [
        (&raw, &["hdrincl", "mc_loop", "mc_all"]),
        (&icmp, &["recverr", "mc_loop", "mc_all", "nodefrag"]),
    ];
    for (fd, names) in want {
        let s = of(fd);
        assert_eq!(sockopt_names(s.sockopt().expect("SOCKOPT")), names, "{s:?}");
        assert_eq!(s.protocol_attr(), Some(s.local().port() as u8));
    }
    let lines = parse_ss(&ss(&ns, &["-wanOH", "--inet-sockopt"]));
    for s in &socks {
        assert_eq!(
            ss_sockopt(line_of(&lines, s)),
            sockopt_names(s.sockopt().unwrap()),
            "{s:?}"
        );
    }
    drop((raw, icmp));
}
