//! Codec tests: round trips of every message we build (and of replies),
//! and a randomized/truncation run proving no input panics.

use bytes::Bytes;
use netlink_packet_core::{NetlinkDeserializable, NetlinkSerializable};

use super::codec::*;
use super::raw::*;
use super::*;
use crate::conn::RawMessage;
use crate::conn::frame::{F_REQUEST, HEADER_LEN, Header};
use netlink_packet_core::NetlinkHeader;

fn header(ty: u16, flags: u16, len: usize) -> NetlinkHeader {
    let mut h = NetlinkHeader::default();
    h.message_type = ty;
    h.flags = flags;
    h.length = (HEADER_LEN + len) as u32;
    h
}

fn round_trip(m: &DiagMessage, flags: u16) -> Vec<u8> {
    let mut buf = vec![0xAAu8; m.buffer_len()];
    m.serialize(&mut buf);
    let back = DiagMessage::deserialize(&header(m.message_type(), flags, buf.len()), &buf)
        .unwrap_or_else(|e| panic!("{m:?}: {e}"));
    assert_eq!(&back, m);
    buf
}

/// A full netlink message around a payload, as the engine hands it over.
fn raw_of(ty: u16, flags: u16, payload: &[u8]) -> RawMessage {
    let mut b = vec![0u8; HEADER_LEN + payload.len()];
    let h = Header {
        len: b.len() as u32,
        ty,
        flags,
        seq: 1,
        pid: 0,
    };
    h.write(&mut b);
    b[HEADER_LEN..].copy_from_slice(payload);
    RawMessage {
        header: h,
        bytes: Bytes::from(b),
    }
}

fn tcp_info_bytes(len: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
    b[0] = 1;
    b[120..128].copy_from_slice(&4096u64.to_ne_bytes());
    b
}

/// One netlink attribute with its header and padding.
fn nla(ty: u16, v: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; attr_len(v.len())];
    put_attr(&mut b, ty, v);
    b
}

/// INET_DIAG_ULP_INFO as tls_get_info() nests it: a TLS 1.2 AES-GCM-128
/// socket with software TX, no RX, and the RX_NO_PAD flag.
fn ulp_tls_value() -> Vec<u8> {
    let tls = [
        nla(1, &0x0303u16.to_ne_bytes()),
        nla(2, &51u16.to_ne_bytes()),
        nla(3, &2u16.to_ne_bytes()),
        nla(4, &1u16.to_ne_bytes()),
        nla(6, &[]),
        nla(99, &[1, 2, 3]),
    ]
    .concat();
    [nla(1, b"tls\0"), nla(2 | 0x8000, &tls)].concat()
}

fn inet_reply() -> InetReply {
    let id = SockId::new(
        "10.0.0.1:80".parse().unwrap(),
        "10.0.0.2:40000".parse().unwrap(),
    )
    .with_cookie(0x1234_5678_9abc);
    InetReply {
        header: InetHeader {
            family: libc::AF_INET as u8,
            state: 1,
            timer: 1,
            retrans: 2,
            id,
            expires: 200,
            rqueue: 5,
            wqueue: 6,
            uid: 1000,
            inode: 4242,
        },
        attributes: vec![
            InetAttr::MemInfo(MemInfo {
                rmem: 1,
                wmem: 2,
                fmem: 3,
                tmem: 4,
            }),
            InetAttr::Info(TcpInfo::new(Bytes::from(tcp_info_bytes(248)))),
            InetAttr::Vegas(VegasInfo {
                enabled: 1,
                rttcnt: 2,
                rtt: 3,
                minrtt: 4,
            }),
            InetAttr::Cong("cubic".into()),
            InetAttr::Tos(0x10),
            InetAttr::TClass(3),
            InetAttr::SkMemInfo(SkMemInfo((0..9).collect())),
            InetAttr::Shutdown(2),
            InetAttr::Dctcp(DctcpInfo {
                enabled: 1,
                ce_state: 0,
                alpha: 1024,
                ab_ecn: 5,
                ab_tot: 9,
            }),
            InetAttr::Protocol(6),
            InetAttr::V6Only(0),
            InetAttr::Other(inet_attr::LOCALS, vec![1, 2, 3]),
            InetAttr::Mark(77),
            InetAttr::Bbr(BbrInfo {
                bw: 1 << 40,
                min_rtt: 10,
                pacing_gain: 256,
                cwnd_gain: 512,
            }),
            InetAttr::ClassId(0x10001),
            InetAttr::Ulp(UlpInfo::new(Bytes::from(ulp_tls_value()))),
            InetAttr::CgroupId(99),
            InetAttr::SockOpt(SockOpt(0x0102)),
            InetAttr::Other(200, vec![9; 5]),
        ],
    }
}

fn unix_reply() -> UnixReply {
    UnixReply {
        header: UnixHeader {
            family: libc::AF_UNIX as u8,
            kind: 1,
            state: 10,
            ino: 555,
            cookie: [1, 2],
        },
        attributes: vec![
            UnixAttr::Name(b"\0abstract".to_vec()),
            UnixAttr::Vfs { ino: 7, dev: 8 },
            UnixAttr::Peer(556),
            UnixAttr::Icons(vec![600, 601]),
            UnixAttr::RqLen {
                rqueue: 2,
                wqueue: 128,
            },
            UnixAttr::MemInfo(SkMemInfo(vec![0; 9])),
            UnixAttr::Shutdown(0),
            UnixAttr::Uid(0),
            UnixAttr::Other(99, vec![1]),
        ],
    }
}

fn netlink_reply() -> NetlinkReply {
    NetlinkReply {
        header: NetlinkDiagHeader {
            family: libc::AF_NETLINK as u8,
            kind: 3,
            protocol: 4,
            state: 0,
            portid: 1234,
            dst_portid: 0,
            dst_group: 0,
            ino: 77,
            cookie: [3, 4],
        },
        attributes: vec![
            NetlinkAttr::MemInfo(SkMemInfo(vec![1; 9])),
            NetlinkAttr::Groups(vec![0b101, 0, 0, 0, 0, 0, 0, 0]),
            NetlinkAttr::Flags(0x21),
        ],
    }
}

fn packet_reply() -> PacketReply {
    PacketReply {
        header: PacketHeader {
            family: libc::AF_PACKET as u8,
            kind: 3,
            num: 0x0300,
            ino: 88,
            cookie: [5, 6],
        },
        attributes: vec![
            PacketAttr::Info(PacketInfo {
                index: 1,
                version: 2,
                reserve: 0,
                copy_thresh: 0,
                tstamp: 0,
                flags: 1,
            }),
            PacketAttr::Uid(0),
            PacketAttr::MemInfo(SkMemInfo(vec![2; 9])),
            PacketAttr::Other(packet_attr::FILTER, vec![0; 8]),
        ],
    }
}

/// Every request the API builds.
fn requests() -> Vec<DiagMessage> {
    let nl = crate::Netlink::new();
    let d = nl.diag();
    let mut out = Vec::new();
    let filter: Filter = "sport = :80 or dst 10.0.0.0/8".parse().unwrap();
    for q in [
        d.inet(),
        d.tcp().v4().info().filter(filter.clone()),
        d.udp().v6().extensions(Extensions::ALL),
        d.inet()
            .protocol(InetProtocol::Mptcp)
            .states(States::LISTENING),
        d.inet().protocol(InetProtocol::Raw(1)),
        d.inet().protocol(InetProtocol::Other(1000)),
        d.inet()
            .protocol(InetProtocol::Sctp)
            .states(States::CONNECTED),
        d.inet().protocol(InetProtocol::UdpLite),
    ] {
        out.extend(q.requests().unwrap());
    }
    out.push(d.unix().meminfo().request());
    out.push(d.netlink().protocol(0).request());
    out.push(d.packet().request());
    let id = SockId::new("[::1]:22".parse().unwrap(), "[::1]:5000".parse().unwrap()).with_cookie(7);
    out.push(DiagMessage::Destroy(InetRequest {
        family: libc::AF_INET6 as u8,
        protocol: 6,
        id,
        ..Default::default()
    }));
    out
}

#[test]
fn every_request_round_trips() {
    let reqs = requests();
    assert!(reqs.len() >= 14);
    for m in &reqs {
        let buf = round_trip(m, F_REQUEST);
        match m {
            DiagMessage::InetRequest(r) | DiagMessage::Destroy(r) => {
                assert!(buf.len() >= INET_REQ_LEN);
                assert_eq!(buf[0], r.family);
            }
            DiagMessage::UnixRequest(_) => assert_eq!(buf.len(), UNIX_REQ_LEN),
            _ => assert_eq!(buf.len(), NETLINK_REQ_LEN),
        }
    }
}

#[test]
fn request_layout_matches_the_kernel_structs() {
    let nl = crate::Netlink::new();
    let q = nl
        .diag()
        .tcp()
        .v4()
        .info()
        .states(States::ESTABLISHED)
        .filter(Filter::sport(Cmp::Eq, 80));
    let DiagMessage::InetRequest(r) = &q.requests().unwrap()[0] else {
        panic!()
    };
    let mut b = vec![0u8; r.buffer_len()];
    DiagMessage::InetRequest(r.clone()).serialize(&mut b);
    assert_eq!(&b[..4], &[libc::AF_INET as u8, 6, 2, 0]);
    assert_eq!(u32::from_ne_bytes(b[4..8].try_into().unwrap()), 1 << 1);
    // INET_DIAG_REQ_BYTECODE right after the 56-byte header.
    assert_eq!(u16::from_ne_bytes([b[58], b[59]]), INET_DIAG_REQ_BYTECODE);
    assert_eq!(u16::from_ne_bytes([b[56], b[57]]), 4 + 8);

    let mptcp = nl.diag().inet().protocol(InetProtocol::Mptcp).v4();
    let DiagMessage::InetRequest(r) = &mptcp.requests().unwrap()[0] else {
        panic!()
    };
    assert_eq!(r.attributes, vec![InetRequestAttr::Protocol(262)]);

    let id = SockId::new(
        "1.2.3.4:80".parse().unwrap(),
        "5.6.7.8:443".parse().unwrap(),
    );
    let mut b = [0u8; SOCKID_LEN];
    id.emit(&mut b);
    assert_eq!(&b[..4], &[0, 80, 1, 187], "ports are big-endian");
    assert_eq!(&b[4..8], &[1, 2, 3, 4]);
    assert_eq!(&b[40..48], &[0xff; 8], "no cookie");
    assert_eq!(id.cookie(), None);
    assert_eq!(id.with_cookie(5).cookie(), Some(5));

    let DiagMessage::UnixRequest(u) = nl.diag().unix().request() else {
        panic!()
    };
    let mut b = [0u8; UNIX_REQ_LEN];
    DiagMessage::UnixRequest(u).serialize(&mut b);
    assert_eq!(b[0], libc::AF_UNIX as u8);
    assert_eq!(
        u32::from_ne_bytes(b[4..8].try_into().unwrap()),
        crate::diag::States::ALL.0,
        "states"
    );
}

#[test]
fn every_reply_round_trips_and_views_agree() {
    let inet = DiagMessage::Inet(inet_reply());
    let buf = round_trip(&inet, 2);
    let s = InetSocket::from_raw(raw_of(20, 2, &buf), InetProtocol::Tcp).unwrap();
    assert_eq!(s.local(), "10.0.0.1:80".parse().unwrap());
    assert_eq!(s.remote(), "10.0.0.2:40000".parse().unwrap());
    assert_eq!(
        (s.state(), s.timer(), s.retrans(), s.expires()),
        (1, 1, 2, 200)
    );
    assert_eq!(
        (s.rqueue(), s.wqueue(), s.uid(), s.inode()),
        (5, 6, 1000, 4242)
    );
    assert_eq!(s.cookie(), 0x1234_5678_9abc);
    let ti = s.tcp_info().unwrap();
    assert_eq!(
        (ti.len(), ti.state(), ti.bytes_acked()),
        (248, Some(1), Some(4096))
    );
    assert_eq!(s.congestion(), Some("cubic"));
    assert_eq!(s.meminfo().unwrap().fmem, 3);
    assert_eq!(s.skmeminfo().unwrap().drops(), Some(8));
    assert_eq!(
        (s.tos(), s.tclass(), s.shutdown()),
        (Some(0x10), Some(3), Some(2))
    );
    assert_eq!(s.vegas().unwrap().minrtt, 4);
    assert_eq!(s.dctcp().unwrap().alpha, 1024);
    assert_eq!(s.bbr().unwrap().bw, 1 << 40);
    assert_eq!(
        (s.mark(), s.class_id(), s.cgroup_id()),
        (Some(77), Some(0x10001), Some(99))
    );
    assert_eq!((s.protocol_attr(), s.v6only()), (Some(6), Some(false)));
    assert!(s.sockopt().unwrap().is_icsk() && s.sockopt().unwrap().bind_address_no_port());
    assert_eq!(s.ulp_name(), Some("tls"));
    let ulp = s.ulp().unwrap();
    assert_eq!(ulp.name(), Some("tls"));
    assert_eq!(ulp.as_bytes(), &ulp_tls_value()[..]);
    let tls = ulp.tls().unwrap();
    assert_eq!(
        tls,
        TlsInfo {
            version: Some(TlsInfo::TLS_1_2),
            cipher: Some(TlsInfo::AES_GCM_128),
            tx_conf: Some(2),
            rx_conf: Some(1),
            zerocopy_tx: false,
            rx_no_pad: true,
        }
    );
    assert_eq!(
        (tls.version_name(), tls.cipher_name()),
        (Some("1.2"), Some("aes-gcm-128"))
    );
    assert_eq!(TlsInfo::conf_name(2), Some("sw"));
    assert!(ulp.mptcp().is_none());
    assert_eq!(s.timer_kind(), Timer::Retransmit);
    assert_eq!(s.timer_kind().ss_name(), "on");
    for n in 0..=255u8 {
        assert_eq!(Timer::from_number(n).number(), n);
    }
    assert_eq!(s.attr(200), Some(&[9u8; 5][..]));
    assert_eq!(s.attributes().count(), 19);
    assert_eq!(DiagMessage::Inet(s.decode().unwrap()), inet);
    assert!(
        InetSocket::from_raw(raw_of(20, 2, &buf), InetProtocol::Udp)
            .unwrap()
            .tcp_info()
            .is_none()
    );

    let unix = DiagMessage::Unix(unix_reply());
    let buf = round_trip(&unix, 2);
    let u = UnixSocket::from_raw(raw_of(20, 2, &buf)).unwrap();
    assert_eq!(u.path().as_deref(), Some("@abstract"));
    assert_eq!((u.kind_name(), u.state(), u.inode()), ("u_str", 10, 555));
    assert_eq!((u.vfs(), u.peer()), (Some((7, 8)), Some(556)));
    assert_eq!(u.pending(), vec![600, 601]);
    assert_eq!(
        (u.rqueue(), u.wqueue(), u.uid()),
        (Some(2), Some(128), Some(0))
    );
    assert_eq!(u.cookie(), 1 | (2 << 32));
    assert_eq!(DiagMessage::Unix(u.decode().unwrap()), unix);

    let nlr = DiagMessage::Netlink(netlink_reply());
    let buf = round_trip(&nlr, 2);
    let n = NetlinkSocket::from_raw(raw_of(20, 2, &buf)).unwrap();
    assert_eq!((n.protocol(), n.portid(), n.inode()), (4, 1234, 77));
    assert_eq!(n.groups(), vec![1, 3]);
    assert_eq!(n.flags(), Some(0x21));
    assert_eq!(DiagMessage::Netlink(n.decode().unwrap()), nlr);

    let pk = DiagMessage::Packet(packet_reply());
    let buf = round_trip(&pk, 2);
    let p = PacketSocket::from_raw(raw_of(20, 2, &buf)).unwrap();
    assert_eq!((p.kind(), p.protocol(), p.inode()), (3, 0x0300, 88));
    assert_eq!(p.info().unwrap().flags, 1);
    assert_eq!(DiagMessage::Packet(p.decode().unwrap()), pk);
}

#[test]
fn mptcp_subflow_ulp_info_decodes_and_bad_nesting_stops_quietly() {
    let sf = [
        nla(1, &0xaabb_ccddu32.to_ne_bytes()),
        nla(2, &0x1122_3344u32.to_ne_bytes()),
        nla(3, &7u32.to_ne_bytes()),
        nla(4, &(1u64 << 40).to_ne_bytes()),
        nla(5, &9u32.to_ne_bytes()),
        nla(6, &10u32.to_ne_bytes()),
        nla(7, &1400u16.to_ne_bytes()),
        nla(8, &0xc3u32.to_ne_bytes()),
        nla(9, &[1]),
        nla(10, &[0]),
    ]
    .concat();
    let v = [nla(1, b"mptcp\0"), nla(3, &sf)].concat();
    let ulp = UlpInfo::new(Bytes::from(v.clone()));
    assert_eq!(ulp.name(), Some("mptcp"));
    assert!(ulp.tls().is_none());
    let m = ulp.mptcp().unwrap();
    assert_eq!(
        m,
        MptcpSubflowInfo {
            token_rem: Some(0xaabb_ccdd),
            token_loc: Some(0x1122_3344),
            relwrite_seq: Some(7),
            map_seq: Some(1 << 40),
            map_sfseq: Some(9),
            ssn_offset: Some(10),
            map_datalen: Some(1400),
            flags: Some(0xc3),
            id_rem: Some(1),
            id_loc: Some(0),
        }
    );
    // A nested attribute claiming more bytes than there are ends the walk
    // (what came before it stays readable); short values are `None`.
    let mut bad = v.clone();
    let at = nla(1, b"mptcp\0").len();
    bad[at..at + 2].copy_from_slice(&0xfff0u16.to_ne_bytes());
    let ulp = UlpInfo::new(Bytes::from(bad));
    assert_eq!(ulp.name(), Some("mptcp"));
    assert!(ulp.mptcp().is_none());
    let short = [nla(1, b"tls\0"), nla(2, &nla(1, &[3]))].concat();
    let tls = UlpInfo::new(Bytes::from(short)).tls().unwrap();
    assert_eq!(tls.version, None);
    assert_eq!(tls.version_name(), None);
}

#[test]
fn odd_sized_known_attributes_stay_raw() {
    let mut r = inet_reply();
    r.attributes = vec![
        InetAttr::Other(inet_attr::MEMINFO, vec![1, 2]),
        InetAttr::Other(inet_attr::MARK, vec![1, 2, 3]),
        InetAttr::Other(inet_attr::TOS, vec![]),
    ];
    round_trip(&DiagMessage::Inet(r), 0);
}

/// A `struct sockaddr_storage` (128 bytes) holding `a`.
fn sockaddr_storage(a: std::net::SocketAddr) -> Vec<u8> {
    let mut b = vec![0u8; 128];
    b[2..4].copy_from_slice(&a.port().to_be_bytes());
    match a.ip() {
        std::net::IpAddr::V4(ip) => {
            b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            b[4..8].copy_from_slice(&ip.octets());
        }
        std::net::IpAddr::V6(ip) => {
            b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(&ip.octets());
        }
    }
    b
}

#[test]
fn sctp_associations_and_raw_protocols_from_their_attributes() {
    let mut r = inet_reply();
    r.header.state = 3; // SCTP_STATE_ESTABLISHED in an association reply
    let locals = ["10.0.0.1:80", "[2001:db8::1]:80"].map(|a| a.parse().unwrap());
    let peer: std::net::SocketAddr = "10.0.0.2:40000".parse().unwrap();
    let mut unknown_family = sockaddr_storage(peer);
    unknown_family[0] = 99;
    r.attributes = vec![
        InetAttr::Other(inet_attr::LOCALS, locals.map(sockaddr_storage).concat()),
        InetAttr::Other(
            inet_attr::PEERS,
            [sockaddr_storage(peer), unknown_family].concat(),
        ),
    ];
    let buf = round_trip(&DiagMessage::Inet(r.clone()), 2);
    let s = InetSocket::from_raw(raw_of(20, 2, &buf), InetProtocol::Sctp).unwrap();
    assert!(s.is_sctp_association());
    assert_eq!(s.local_addrs(), locals.to_vec());
    assert_eq!(s.peer_addrs(), vec![peer], "an unknown family is skipped");
    assert_eq!(s.state_name(), "ESTAB");
    // The same bytes as TCP: no association, TCP state names.
    let t = InetSocket::from_raw(raw_of(20, 2, &buf), InetProtocol::Tcp).unwrap();
    assert!(!t.is_sctp_association());
    assert_eq!(t.state_name(), "SYN-RECV");
    assert_eq!(sctp_state_name(7), "ACK_SENT");
    assert_eq!(sctp_state_name(10), "UNKNOWN");

    // A raw socket's protocol comes from INET_DIAG_PROTOCOL.
    r.attributes = vec![InetAttr::Protocol(58)];
    let buf = round_trip(&DiagMessage::Inet(r), 2);
    let raw = InetSocket::from_raw(raw_of(20, 2, &buf), InetProtocol::Raw(255)).unwrap();
    assert_eq!(raw.protocol(), InetProtocol::Raw(58));
    assert!(raw.local_addrs().is_empty() && raw.peer_addrs().is_empty());
}

fn exercise(ty: u16, flags: u16, payload: &[u8]) {
    let _ = DiagMessage::deserialize(&header(ty, flags, payload.len()), payload);
    let raw = raw_of(ty, flags, payload);
    if let Ok(s) = InetSocket::from_raw(raw.clone(), InetProtocol::Tcp) {
        let _ = (s.local(), s.remote(), s.cookie(), s.inode(), s.header());
        if let Some(i) = s.tcp_info() {
            let _ = (
                i.bytes_acked(),
                i.accecn_opt_seen(),
                i.snd_wscale(),
                format!("{i:?}"),
            );
        }
        let _ = (
            s.congestion(),
            s.meminfo(),
            s.skmeminfo(),
            s.bbr(),
            s.vegas(),
            s.dctcp(),
        );
        let _ = (
            s.mark(),
            s.cgroup_id(),
            s.sockopt(),
            s.ulp_name(),
            s.v6only(),
        );
        if let Some(u) = s.ulp() {
            let _ = (u.name(), u.tls(), u.mptcp(), format!("{u:?}"));
        }
        let _ = s.timer_kind().ss_name();
        let _ = s.attributes().count();
        let _ = (s.local_addrs(), s.peer_addrs(), s.state_name());
        if let Ok(r) = InetSocket::from_raw(s.raw().clone(), InetProtocol::Raw(255)) {
            let _ = (r.protocol(), format!("{r:?}"));
        }
        let _ = s.decode();
        let _ = format!("{s:?}");
    }
    if let Ok(u) = UnixSocket::from_raw(raw.clone()) {
        let _ = (
            u.path(),
            u.vfs(),
            u.peer(),
            u.pending(),
            u.rqueue(),
            u.meminfo(),
        );
        let _ = (u.decode(), format!("{u:?}"));
    }
    if let Ok(n) = NetlinkSocket::from_raw(raw.clone()) {
        let _ = (
            n.groups(),
            n.flags(),
            n.meminfo(),
            n.decode(),
            format!("{n:?}"),
        );
    }
    if let Ok(p) = PacketSocket::from_raw(raw) {
        let _ = (p.info(), p.uid(), p.meminfo(), p.decode(), format!("{p:?}"));
    }
}

#[test]
fn no_panic_on_any_truncation_or_garbage() {
    let mut samples: Vec<(u16, Vec<u8>)> = Vec::new();
    for m in [
        DiagMessage::Inet(inet_reply()),
        DiagMessage::Unix(unix_reply()),
        DiagMessage::Netlink(netlink_reply()),
        DiagMessage::Packet(packet_reply()),
    ] {
        let mut b = vec![0u8; m.buffer_len()];
        m.serialize(&mut b);
        samples.push((m.message_type(), b));
    }
    for m in requests() {
        let mut b = vec![0u8; m.buffer_len()];
        m.serialize(&mut b);
        samples.push((m.message_type(), b));
    }
    // Every prefix, as reply and as request.
    for (ty, b) in &samples {
        for n in 0..=b.len() {
            exercise(*ty, 0, &b[..n]);
            exercise(*ty, F_REQUEST, &b[..n]);
        }
    }
    // Random corruption of valid messages, and pure garbage.
    let mut x: u32 = 0x9e37_79b9;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for round in 0..20_000 {
        let (ty, base) = &samples[round % samples.len()];
        let mut b = base.clone();
        for _ in 0..(1 + rnd() % 6) {
            let i = rnd() as usize % b.len();
            b[i] = rnd() as u8;
        }
        let cut = rnd() as usize % (b.len() + 1);
        exercise(*ty, (rnd() & 1) as u16, &b[..cut]);
        let garbage: Vec<u8> = (0..(rnd() % 160)).map(|_| rnd() as u8).collect();
        let ty = [20, 21, 3, rnd() as u16][round % 4];
        exercise(ty, (rnd() & 3) as u16, &garbage);
    }
}
