//! The `serde` feature: round trips of every value that deserializes
//! (edge values included), and one of each view made in a fresh namespace,
//! serialized and checked against what was configured and against
//! iproute2's JSON where the field names coincide.
#![cfg(feature = "serde")]

mod common;

use std::fmt::Debug;
use std::net::{IpAddr, TcpListener};
use std::time::Duration;

use common::TestNs;
use common::diag::{eventually, in_ns, ss};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_netlink::Family;
use tokio_netlink::diag::{
    self, BbrInfo, DctcpInfo, Extensions, InetProtocol, MemInfo, MptcpSubflowInfo, PacketInfo,
    SkMemInfo, SockId, SockOpt, States, Timer, TlsInfo, VegasInfo,
};
use tokio_netlink::route::events::{ChangeKind, Event, Group};
use tokio_netlink::route::link::kinds::{Bridge, Veth};
use tokio_netlink::route::link::{MacAddr, OperState, TunTap};
use tokio_netlink::route::route::{Nexthop, NexthopSpec, RTNH_F_ONLINK};
use tokio_netlink::route::tc::{
    Action, ActionStats, ClassKind, Control, EtherType, Fifo, FilterKind, Gact, Handle, Htb,
    HtbClass, HtbXstats, Mirred, MirredAction, Parent, QdiscKind, Rate, Stats, Tbf, U32, U32Handle,
};
use tokio_netlink::xfrm::{
    Acquire, AllocSpi, DefaultAction, DefaultPolicy, Dir, Encap, EncapType, IpsecProto, Level,
    Lifetime, Mapping, Mark, Migrate, MigrateEntry, Mode, Offload, Policy, PolicyAction, PolicyId,
    Replay, ReplayEsn, Report, SaDir, SadInfo, SecCtx, Selector, SpdInfo, State, StateId, Template,
    XfrmEvent,
};

/// Serializes `v`, reads it back, asserts equality; returns the JSON.
fn rt<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: T) -> Value {
    let j = serde_json::to_value(&v).expect("serialize");
    let back: T = serde_json::from_value(j.clone())
        .unwrap_or_else(|e| panic!("{v:?} as {j} does not read back: {e}"));
    assert_eq!(back, v, "{j}");
    // Through text too, as an API would carry it.
    let text = serde_json::to_string(&v).expect("to_string");
    assert_eq!(serde_json::from_str::<T>(&text).expect("from_str"), v);
    j
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn shared_and_link_values_round_trip() {
    assert_eq!(rt(Family::V4), json!("inet"));
    assert_eq!(rt(Family::V6), json!("inet6"));
    assert!(serde_json::from_value::<Family>(json!("ipx")).is_err());
    assert_eq!(
        rt(MacAddr([2, 0, 0, 0xaa, 0xbb, 0x0c])),
        json!("02:00:00:aa:bb:0c")
    );
    rt(MacAddr([0xff; 6]));
    rt(MacAddr::default());
    assert!(serde_json::from_value::<MacAddr>(json!("02:00")).is_err());
    for n in 0..=255u8 {
        rt(OperState::from(n));
    }
    assert_eq!(rt(OperState::Up), json!("UP"));
    assert_eq!(rt(OperState::LowerLayerDown), json!("LOWERLAYERDOWN"));
    assert_eq!(rt(OperState::Other(9)), json!("9"));
    for k in [
        ChangeKind::Created,
        ChangeKind::Replaced,
        ChangeKind::Appended,
        ChangeKind::Changed,
        ChangeKind::Removed,
        ChangeKind::Unknown,
    ] {
        rt(k);
    }
    assert_eq!(rt(ChangeKind::Created), json!("created"));
    assert_eq!(
        rt(tokio_netlink::route::link::TunTapMode::Tap),
        json!("tap")
    );
    rt(tokio_netlink::route::link::TunTapMode::Tun);
    rt(tokio_netlink::route::route::MetricLocks::MTU
        | tokio_netlink::route::route::MetricLocks::CWND);
    let stats = tokio_netlink::ConnStats {
        port: 7,
        requests_sent: u64::MAX,
        ..Default::default()
    };
    assert_eq!(rt(stats)["requests_sent"], u64::MAX);
    for g in Group::all() {
        rt(g);
    }
    assert_eq!(rt(Group::Ipv4Route), json!("ipv4_route"));
    rt(Group::Other(99));
    for g in [
        tokio_netlink::xfrm::Group::Acquire,
        tokio_netlink::xfrm::Group::Sa,
        tokio_netlink::xfrm::Group::Mapping,
    ] {
        rt(g);
    }
}

#[test]
fn tc_values_round_trip() {
    assert_eq!(rt(Handle::new(1, 0x10)), json!("1:10"));
    assert_eq!(rt(Handle::new(1, 0)), json!("1:"));
    assert_eq!(rt(Handle::new(0, 0x10)), json!(":10"));
    assert_eq!(rt(Handle::default()), json!("0:"));
    assert_eq!(rt(Handle::from_raw(u32::MAX)), json!("root"));
    rt(Handle::new(0xffff, 0xffff - 1));
    assert_eq!(rt(Parent::Root), json!("root"));
    assert_eq!(rt(Parent::Ingress), json!("ingress"));
    assert_eq!(rt(Parent::Egress), json!("egress"));
    assert_eq!(rt(Parent::Handle(Handle::new(1, 0x10))), json!("1:10"));
    // A handle of all ones is not `root` once read back.
    assert_eq!(
        rt(Parent::Handle(Handle::from_raw(u32::MAX))),
        json!("ffff:ffff")
    );
    assert_eq!(rt(Rate::mbit(10)), json!(1_250_000));
    rt(Rate::bytes(0));
    rt(Rate::bytes(u64::MAX));
    assert_eq!(
        serde_json::from_value::<Rate>(json!("10mbit")).unwrap(),
        Rate::mbit(10)
    );
    assert!(serde_json::from_value::<Rate>(json!(-1)).is_err());
    assert_eq!(rt(EtherType::IP), json!("ip"));
    assert_eq!(rt(EtherType(0x88cc)), json!("0x88cc"));
    rt(EtherType(0));
    for c in [
        Control::Continue,
        Control::Pass,
        Control::Reclassify,
        Control::Drop,
        Control::Pipe,
        Control::Stolen,
        Control::GotoChain(0),
        Control::GotoChain(0x0FFF_FFFF),
        Control::Jump(3),
        // What the kernel may hold beyond the named values.
        Control::from_raw(0x5000_1234),
        Control::from_raw(-5),
    ] {
        rt(c);
    }
    assert_eq!(rt(Control::GotoChain(2)), json!("goto chain 2"));
    for h in [
        U32Handle::default(),
        U32Handle::new(0x800, 0, 0),
        U32Handle::new(0x800, 0, 0x800),
        U32Handle::new(2, 5, 1),
        U32Handle::from_raw(u32::MAX),
    ] {
        rt(h);
    }
    for a in [
        MirredAction::EgressRedirect,
        MirredAction::EgressMirror,
        MirredAction::IngressRedirect,
        MirredAction::IngressMirror,
    ] {
        rt(a);
    }

    let htb = Htb::new().default_class(0x10).direct_qlen(500);
    assert_eq!(
        rt(QdiscKind::Htb(htb)),
        json!({"kind": "htb", "options": {"r2q": 10, "default": "0x10", "direct_qlen": 500}})
    );
    rt(Htb::new());
    rt(QdiscKind::Pfifo(Fifo::limit(100)));
    rt(QdiscKind::Bfifo(Fifo::default()));
    let tbf = Tbf::new(Rate::mbit(1), 1600).latency(Duration::from_millis(50));
    rt(QdiscKind::Tbf(tbf));
    rt(QdiscKind::Tbf(Tbf {
        peakrate: Some(Rate::mbit(2)),
        mtu: 1500,
        ..tbf
    }));
    for k in [
        QdiscKind::PfifoFast,
        QdiscKind::Ingress,
        QdiscKind::Clsact,
        QdiscKind::Noqueue,
    ] {
        let j = rt(k);
        assert!(j.get("options").is_none(), "{j}");
    }
    assert_eq!(
        rt(QdiscKind::Other {
            kind: "fq_codel".into(),
            options: Some(vec![1, 2, 0xff]),
        }),
        json!({"kind": "fq_codel", "options": "0x0102ff"})
    );
    rt(QdiscKind::Other {
        kind: "sfq".into(),
        options: None,
    });
    // A known kind whose options were kept as bytes reads back as such.
    rt(QdiscKind::Other {
        kind: "htb".into(),
        options: Some(vec![0; 4]),
    });

    let class = HtbClass::new(Rate::mbit(10))
        .ceil(Rate::mbit(50))
        .burst(15 * 1024)
        .cburst(3200)
        .prio(1)
        .quantum(1500);
    rt(ClassKind::Htb(class));
    rt(ClassKind::Htb(HtbClass::new(Rate::bytes(1))));
    rt(ClassKind::Other {
        kind: "prio".into(),
        options: None,
    });

    let u = U32::new()
        .match_ip_dst("10.0.0.0".parse().unwrap(), 8)
        .match_ip_dport(80, 0xffff)
        .unwrap()
        .classid(Handle::new(1, 0x10));
    let mut u2 = u.clone();
    u2.actions = vec![
        Action::Gact(Gact::new(Control::Drop)),
        Action::Mirred(Mirred::new(MirredAction::EgressRedirect, 7)),
        Action::Other {
            kind: "skbedit".into(),
            options: Some(vec![9]),
        },
    ];
    u2.hashkey = Some((0xff00_0000, 12));
    u2.divisor = Some(256);
    u2.link = Some(U32Handle::new(1, 0, 0));
    u2.ht = Some(U32Handle::new(0x800, 0, 0));
    u2.flags = 1;
    rt(FilterKind::U32(u));
    rt(FilterKind::U32(u2));
    rt(FilterKind::U32(U32::new()));
    rt(FilterKind::Other {
        kind: "bpf".into(),
        options: Some(vec![]),
    });
    rt(Action::from(Control::Pass));
    let k = &rt(FilterKind::U32(
        U32::new().match_ip_dport(80, 0xffff).unwrap(),
    ))["options"]["keys"][0];
    assert_eq!((&k["val"], &k["mask"]), (&json!("0x50"), &json!("0xffff")));

    let stats = Stats {
        bytes: u64::MAX,
        packets: 3,
        drops: u32::MAX,
        overlimits: 1,
        requeues: 2,
        qlen: 4,
        backlog: 5,
        rate_bps: 6,
        rate_pps: 7,
        hw_bytes: 8,
        hw_packets: 9,
    };
    rt(stats);
    rt(Stats::default());
    rt(HtbXstats {
        lends: 1,
        borrows: 2,
        giants: 3,
        tokens: -4,
        ctokens: i32::MIN,
    });
    rt(ActionStats {
        index: Some(3),
        stats,
    });
    rt(ActionStats::default());
}

fn full_state() -> State {
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24")
        .unwrap()
        .proto(6)
        .sport(22)
        .dport(80);
    let mut s = State::new(ip("192.0.2.1"), ip("192.0.2.2"), IpsecProto::Esp, 0x1234)
        .mode(Mode::Tunnel)
        .reqid(7)
        .replay_window(32)
        .flag(1)
        .selector(sel)
        .auth_trunc("hmac(sha256)", &[0xab; 32], 128)
        .enc("cbc(aes)", &[0x01; 16])
        .encap(Encap {
            kind: EncapType::EspInUdp,
            sport: 4500,
            dport: 4500,
            oa: Some(ip("198.51.100.1")),
        })
        .mark(Mark {
            value: 5,
            mask: 0xff,
        })
        .output_mark(Mark::new(9))
        .if_id(3)
        .tfcpad(16)
        .extra_flag(1)
        .coaddr(ip("2001:db8::1"))
        .offload(Offload::new(2).inbound())
        .sec_ctx(SecCtx::new("system_u:object_r:ipsec_spd_t:s0"))
        .dir(SaDir::Out)
        .pcpu_num(u32::MAX)
        .nat_keepalive_interval(20)
        .mtimer_thresh(u32::MAX);
    s.replay_esn = Some(ReplayEsn::new(128));
    s.replay = Some(Replay {
        oseq: 1,
        seq: 2,
        bitmap: u32::MAX,
    });
    s.seq = u32::MAX;
    s.last_used = Some(u64::MAX);
    s
}

#[test]
fn xfrm_values_round_trip() {
    for d in [Dir::In, Dir::Out, Dir::Fwd, Dir::Other(7)] {
        rt(d);
    }
    assert_eq!(rt(Dir::Out), json!("out"));
    for a in [
        PolicyAction::Allow,
        PolicyAction::Block,
        PolicyAction::Other(9),
    ] {
        rt(a);
    }
    for m in [
        Mode::Transport,
        Mode::Tunnel,
        Mode::RouteOptimization,
        Mode::InTrigger,
        Mode::Beet,
        Mode::Other(200),
    ] {
        rt(m);
    }
    for n in 0..=255u8 {
        rt(IpsecProto::from_raw(n));
    }
    assert_eq!(rt(IpsecProto::Esp), json!("esp"));
    for e in [
        EncapType::EspInUdp,
        EncapType::EspInUdpNonIke,
        EncapType::EspInTcp,
        EncapType::Other(99),
    ] {
        rt(e);
    }
    assert_eq!(rt(Level::Use), json!("use"));
    rt(Level::Required);
    for a in [
        DefaultAction::Unspec,
        DefaultAction::Block,
        DefaultAction::Accept,
    ] {
        rt(a);
    }

    let s = full_state();
    let j = rt(s.clone());
    assert_eq!(j["spi"], 0x1234);
    assert_eq!(j["proto"], "esp");
    assert_eq!(j["mode"], "tunnel");
    assert_eq!(j["auth"]["name"], "hmac(sha256)");
    assert_eq!(j["auth"]["key"], format!("0x{}", "ab".repeat(32)));
    assert_eq!(j["selector"]["family"], "inet");
    assert_eq!(j["lifetime"]["hard_bytes"], u64::MAX);
    assert_eq!(
        (&j["dir"], &j["pcpu_num"]),
        (&json!("out"), &json!(u32::MAX))
    );
    assert_eq!(rt(SaDir::In), json!("in"));
    assert_eq!(rt(SaDir::Other(7)), json!("7"));
    let bare = State::new(ip("::1"), ip("::2"), IpsecProto::Ah, 0);
    let jb = rt(bare.clone());
    assert!(jb["enc"].is_null(), "absent optional fields are null: {jb}");
    rt(
        State::new(ip("10.0.0.1"), ip("10.0.0.2"), IpsecProto::Comp, 1)
            .comp("deflate")
            .aead("rfc4106(gcm(aes))", &[1; 20], 128),
    );
    rt(s.id());
    rt(StateId::new(ip("10.0.0.2"), IpsecProto::Esp, 5)
        .mark(Mark::new(1))
        .src(ip("10.0.0.1")));
    rt(AllocSpi::new(
        ip("10.0.0.1"),
        ip("10.0.0.2"),
        IpsecProto::Esp,
        0x100,
        0x200,
    ));

    let t = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints(ip("192.0.2.1"), ip("192.0.2.2"))
        .reqid(1)
        .spi(9)
        .level(Level::Use);
    let p = Policy::new(Selector::any(Family::V6), Dir::Fwd)
        .priority(100)
        .action(PolicyAction::Block)
        .index(0x108)
        .mark(Mark::new(3))
        .if_id(4)
        .template(t)
        .template(Template::new(IpsecProto::Ah, Mode::Transport))
        .lifetime(Lifetime::default())
        .flags(1)
        .policy_type(1)
        .sec_ctx(SecCtx::new("ctx"));
    rt(p.clone());
    rt(Policy::new(Selector::unspec(), Dir::In));
    rt(PolicyId::from(&p));
    rt(PolicyId::by_index(9));
    rt(SpdInfo {
        in_count: 1,
        ipv4_hthresh: Some((32, 32)),
        ..SpdInfo::default()
    });
    rt(SadInfo::default());
    rt(DefaultPolicy {
        input: DefaultAction::Block,
        forward: DefaultAction::Accept,
        output: DefaultAction::Unspec,
    });
    let mut entry = MigrateEntry::tunnel(
        IpsecProto::Esp,
        ("192.0.2.1", "192.0.2.2"),
        ("192.0.2.11", "192.0.2.22"),
    );
    entry.reqid = 1;
    let mig = Migrate::new(Selector::any(Family::V4), Dir::Out, entry)
        .kmaddress("192.0.2.1", "192.0.2.2");
    let j = rt(mig);
    assert_eq!(j["entries"][0]["new_dst"], "192.0.2.22");
    assert_eq!(j["kmaddress"]["remote"], "192.0.2.2");
    assert!(j.get("bad").is_none(), "no refusal, no key: {j}");
    // A value holding a refused address does not serialize.
    let refused = State::new("192.0.2.1", "not an address", IpsecProto::Esp, 1);
    let e = serde_json::to_value(&refused).unwrap_err().to_string();
    assert!(e.contains("not an address"), "{e}");
    rt(Acquire {
        dst: Some(ip("192.0.2.2")),
        src: None,
        proto: IpsecProto::Esp,
        spi: 0,
        selector: Selector::any(Family::V4),
        policy: p.clone(),
        templates: p.templates.clone(),
        algos: (1, 2, u32::MAX),
        seq: 3,
        pcpu_num: Some(1),
    });
    rt(Mapping {
        dst: Some(ip("192.0.2.2")),
        spi: 1,
        proto: IpsecProto::Esp,
        reqid: 2,
        old: (Some(ip("198.51.100.1")), 4500),
        new: (None, 0),
    });
    rt(Report {
        proto: IpsecProto::Route2,
        selector: Selector::any(Family::V6),
        coaddr: Some(ip("2001:db8::5")),
    });

    // Events serialize only (they carry errors and raw messages).
    let j = serde_json::to_value(XfrmEvent::PolicyExpire {
        policy: p.clone(),
        hard: true,
    })
    .unwrap();
    assert_eq!(j["event"], "policy_expire");
    assert_eq!(j["hard"], true);
    assert_eq!(
        serde_json::from_value::<Policy>(j["policy"].clone()).unwrap(),
        p
    );
    assert_eq!(
        serde_json::to_value(XfrmEvent::FlushStates(IpsecProto::Ah)).unwrap(),
        json!({"event": "flush_states", "proto": "ah"})
    );
    assert_eq!(
        serde_json::to_value(XfrmEvent::Lost).unwrap(),
        json!({"event": "lost"})
    );
}

#[test]
fn address_labels_and_namespace_ids_round_trip() {
    use tokio_netlink::route::addrlabel::AddrLabel;
    use tokio_netlink::route::nsid::NsId;
    let l = AddrLabel {
        prefix: "2001:db8::/32".parse().unwrap(),
        label: u32::MAX - 1,
        ifindex: Some(u32::MAX),
    };
    assert_eq!(
        rt(l),
        json!({"prefix": "2001:db8::/32", "label": u32::MAX - 1, "ifindex": u32::MAX})
    );
    rt(AddrLabel { ifindex: None, ..l });
    let id: NsId = serde_json::from_value(json!({"nsid": i32::MAX})).unwrap();
    assert_eq!((rt(id), id.nsid), (json!({"nsid": i32::MAX}), i32::MAX));
}

#[test]
fn netconf_entries_round_trip() {
    use tokio_netlink::route::events::Event;
    use tokio_netlink::route::netconf::{Netconf, NetconfDev, NetconfFamily, RpFilter};
    let full = json!({
        "family": "inet", "ifindex": -2, "forwarding": true, "rp_filter": "loose",
        "mc_forwarding": false, "proxy_neigh": true, "ignore_routes_with_linkdown": false,
        "input": null, "bc_forwarding": false
    });
    let n: Netconf = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(
        (n.dev(), n.rp_filter),
        (NetconfDev::Default, Some(RpFilter::Loose))
    );
    assert_eq!(rt(n), full);
    let odd = json!({
        "family": {"other": 44}, "ifindex": 7, "forwarding": null, "rp_filter": {"other": 9},
        "mc_forwarding": null, "proxy_neigh": null, "ignore_routes_with_linkdown": null,
        "input": true, "bc_forwarding": null
    });
    let o: Netconf = serde_json::from_value(odd.clone()).unwrap();
    assert_eq!(
        (o.family, o.rp_filter),
        (NetconfFamily::Other(44), Some(RpFilter::Other(9)))
    );
    assert_eq!(rt(o), odd);
    assert_eq!(
        serde_json::to_value(Event::DelNetconf(o)).unwrap(),
        json!({"event": "del_netconf", "change": "removed", "netconf": odd})
    );
}

#[test]
fn link_stats_round_trip() {
    use tokio_netlink::route::stats::LinkStats;
    let c = |base: u64| {
        let names = [
            "rx_packets",
            "tx_packets",
            "rx_bytes",
            "tx_bytes",
            "rx_errors",
            "tx_errors",
            "rx_dropped",
            "tx_dropped",
            "multicast",
            "collisions",
            "rx_length_errors",
            "rx_over_errors",
            "rx_crc_errors",
            "rx_frame_errors",
            "rx_fifo_errors",
            "rx_missed_errors",
            "tx_aborted_errors",
            "tx_carrier_errors",
            "tx_fifo_errors",
            "tx_heartbeat_errors",
            "tx_window_errors",
            "rx_compressed",
            "tx_compressed",
            "rx_nohandler",
        ];
        let mut m: serde_json::Map<String, Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), json!(base + i as u64)))
            .collect();
        m.insert("rx_otherhost_dropped".into(), json!(u64::MAX));
        Value::Object(m)
    };
    let rt_pair = |v: u64| json!({"rx": v, "tx": v + 1});
    let mcast: serde_json::Map<String, Value> = [
        "igmp_v1queries",
        "igmp_v2queries",
        "igmp_v3queries",
        "igmp_leaves",
        "igmp_v1reports",
        "igmp_v2reports",
        "igmp_v3reports",
        "mld_v1queries",
        "mld_v2queries",
        "mld_leaves",
        "mld_v1reports",
        "mld_v2reports",
        "mcast_bytes",
        "mcast_packets",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| (n.to_string(), rt_pair(i as u64 * 2)))
    .chain([
        ("igmp_parse_errors".into(), json!(3)),
        ("mld_parse_errors".into(), json!(4)),
    ])
    .collect();
    let v = json!({
        "ifindex": 7,
        "link64": c(1),
        "xstats": {"bridge": {
            "vlans": [{"vid": 1, "flags": 6, "rx_bytes": 1, "rx_packets": 2, "tx_bytes": 3, "tx_packets": 4}],
            "mcast": mcast,
            "stp": null
        }, "bond_3ad": null},
        "xstats_slave": {"bridge": null, "bond_3ad": {
            "lacpdu_rx": 1, "lacpdu_tx": null, "lacpdu_unknown_rx": 3, "lacpdu_illegal_rx": null,
            "marker_rx": 5, "marker_tx": 6, "marker_resp_rx": null, "marker_resp_tx": 8,
            "marker_unknown_rx": 9
        }},
        "offload": {
            "cpu_hit": c(100),
            "l3_stats_info": {"request": true, "used": false},
            "l3_stats": null
        }
    });
    let s: LinkStats = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(s.link64.unwrap().rx_nohandler, 24);
    assert_eq!(rt(s), v);
}

#[test]
fn a_lone_next_hop_serializes_in_ip_words() {
    let n = Nexthop {
        gateway: Some(ip("192.0.2.1")),
        oif: Some(3),
        weight: 2,
        flags: RTNH_F_ONLINK,
    };
    assert_eq!(
        serde_json::to_value(&n).unwrap(),
        json!({"gateway": "192.0.2.1", "ifindex": 3, "weight": 2, "flags": ["onlink"]})
    );
    let bare = Nexthop {
        gateway: None,
        oif: None,
        weight: 1,
        flags: 0,
    };
    assert_eq!(
        serde_json::to_value(&bare).unwrap(),
        json!({"weight": 1, "flags": []})
    );
}

#[test]
fn diag_values_round_trip() {
    for f in [
        "dport = :443",
        "sport >= :1024 and not src 10.0.0.0/8",
        "( dst [::1] or dst 127.0.0.1 ) and dev = 3",
    ] {
        let f: diag::Filter = f.parse().unwrap();
        let j = rt(f.clone());
        assert_eq!(j, json!(f.to_string()));
    }
    assert!(serde_json::from_value::<diag::Filter>(json!("dport ==")).is_err());
    rt(SockId::default());
    rt(SockId {
        sport: 80,
        dport: u16::MAX,
        src: [0xff; 16],
        dst: [1; 16],
        interface: 3,
        cookie: [u32::MAX; 2],
    });
    for s in [States::ALL, States::LISTEN, States::CONNECTED, States(0)] {
        rt(s);
    }
    rt(Extensions::ALL);
    rt(Extensions::NONE);
    for p in [
        InetProtocol::Tcp,
        InetProtocol::Udp,
        InetProtocol::UdpLite,
        InetProtocol::Raw(255),
        InetProtocol::Sctp,
        InetProtocol::Mptcp,
        InetProtocol::Other(u32::MAX),
    ] {
        rt(p);
    }
    assert_eq!(rt(InetProtocol::Tcp), json!("tcp"));
    assert_eq!(rt(InetProtocol::Raw(1)), json!({"raw": 1}));
    assert_eq!(rt(diag::Family::V6), json!("inet6"));
    rt(diag::Family::V4);
    rt(diag::Family::Both);
    for n in 0..=8u8 {
        rt(Timer::from_number(n));
    }
    rt(MemInfo {
        rmem: 1,
        wmem: 2,
        fmem: 3,
        tmem: u32::MAX,
    });
    rt(SkMemInfo(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    rt(SkMemInfo::default());
    rt(VegasInfo {
        enabled: 1,
        rttcnt: 2,
        rtt: 3,
        minrtt: 4,
    });
    rt(DctcpInfo {
        enabled: 1,
        ce_state: 2,
        alpha: 3,
        ab_ecn: 4,
        ab_tot: 5,
    });
    rt(BbrInfo {
        bw: u64::MAX,
        min_rtt: 1,
        pacing_gain: 2,
        cwnd_gain: 3,
    });
    rt(SockOpt(0xffff));
    rt(TlsInfo {
        version: Some(TlsInfo::TLS_1_3),
        cipher: Some(TlsInfo::AES_GCM_256),
        tx_conf: None,
        rx_conf: Some(2),
        zerocopy_tx: true,
        rx_no_pad: false,
    });
    rt(MptcpSubflowInfo::default());
    rt(MptcpSubflowInfo {
        token_rem: Some(1),
        map_seq: Some(u64::MAX),
        id_loc: Some(2),
        ..MptcpSubflowInfo::default()
    });
    rt(PacketInfo {
        index: 1,
        version: 2,
        reserve: 3,
        copy_thresh: 4,
        tstamp: 5,
        flags: 6,
    });
}

/// Asserts that every key of `ip`'s object that `ours` also has holds the
/// same value (except `skip`); returns how many coincided.
fn agree(what: &str, ours: &Value, ip: &Value, skip: &[&str]) -> usize {
    let (Some(o), Some(i)) = (ours.as_object(), ip.as_object()) else {
        panic!("{what}: not objects: {ours} / {ip}");
    };
    let mut n = 0;
    for (k, v) in i {
        if skip.contains(&k.as_str()) {
            continue;
        }
        if let Some(ov) = o.get(k) {
            assert_eq!(ov, v, "{what}: field {k:?} differs: ours {ours}, ip {ip}");
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn route_family_views_serialize_like_ip() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    nl.link().set("v1").up().mtu(1400).await.unwrap();
    nl.address()
        .add("v0", "10.1.0.1/24")
        .label("v0:web")
        .await
        .unwrap();
    nl.route()
        .add("10.9.0.0/16")
        .via(ip("10.1.0.2"))
        .table(100)
        .metric(5)
        .await
        .unwrap();
    nl.rule()
        .add()
        .priority(100)
        .from("10.0.0.0/8")
        .fwmark(0x10, Some(0xff))
        .table(1000)
        .await
        .unwrap();
    nl.neighbour()
        .add("v0", ip("10.1.0.7"))
        .lladdr("02:00:00:00:00:07".parse().unwrap())
        .await
        .unwrap();

    // Link.
    let v0 = nl.link().get("v0").await.unwrap();
    let v1 = nl.link().get("v1").await.unwrap();
    let j = serde_json::to_value(&v0).unwrap();
    assert_eq!(j["ifindex"], v0.index());
    assert_eq!(j["ifname"], "v0");
    assert_eq!(j["link_index"], v1.index());
    assert_eq!(j["kind"], "veth");
    assert_eq!(j["address"], v0.mac().unwrap().to_string());
    assert!(j["flags"].as_array().unwrap().contains(&json!("UP")));
    assert!(j["stats64"]["rx"]["bytes"].is_u64(), "{j}");
    assert!(j["stats64"]["tx"]["packets"].is_u64(), "{j}");
    let ipj = ns.ip_json(&["link", "show", "dev", "v0"]);
    let n = agree("link", &j, &ipj[0], &[]);
    assert!(n >= 10, "only {n} fields coincide: {j} / {}", ipj[0]);
    let jv1 = serde_json::to_value(&v1).unwrap();
    assert_eq!(jv1["mtu"], 1400);
    agree(
        "link v1",
        &jv1,
        &ns.ip_json(&["link", "show", "dev", "v1"])[0],
        &[],
    );

    // A bridge port: its settings as `bridge -j -d link` names them.
    nl.link().add("br0", Bridge::new()).up().await.unwrap();
    nl.link().set("v1").master("br0").await.unwrap();
    let port = nl.link().get("v1").await.unwrap();
    let j = serde_json::to_value(&port).unwrap();
    let bp = &j["bridge_port"];
    assert_eq!(bp["learning"], true, "{j}");
    assert!(bp["state"].is_string(), "{j}");
    let out = std::process::Command::new("ip")
        .args([
            "netns", "exec", &ns.name, "bridge", "-j", "-d", "link", "show", "dev", "v1",
        ])
        .output()
        .expect("run bridge");
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("bridge -j");
    // `state` is STP's on both sides; the port may move on between reads.
    let n = agree("bridge port", bp, &theirs[0], &["state"]);
    assert!(n >= 12, "only {n}: {bp} / {}", theirs[0]);

    // A tap device: its tun settings, read back as they were made.
    let fds = nl
        .link()
        .add_tuntap(
            "tap0",
            TunTap::tap()
                .owner(4242)
                .group(4343)
                .persist(true)
                .multi_queue(2),
        )
        .await
        .unwrap();
    let tap = nl.link().get("tap0").await.unwrap();
    let j = serde_json::to_value(&tap).unwrap();
    assert_eq!(j["kind"], "tun");
    let tun = &j["tun"];
    assert_eq!(
        (&tun["type"], &tun["owner"], &tun["group"]),
        (&json!("tap"), &json!(4242), &json!(4343)),
        "{j}"
    );
    assert_eq!(
        (&tun["persist"], &tun["multi_queue"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(tun["numqueues"], fds.len(), "{j}");
    let ipt = ns.ip_json(&["-d", "link", "show", "dev", "tap0"]);
    let data = &ipt[0]["linkinfo"]["info_data"];
    assert_eq!(data["type"], "tap", "{data}");
    // `ip` names the group when the host has one by that id.
    let n = agree("tun", tun, data, &["group"]);
    assert!(n >= 4, "only {n}: {tun} / {data}");
    drop(fds);

    // Address.
    let addrs = nl.address().list().link("v0").await.unwrap();
    let a = addrs
        .iter()
        .find(|a| a.address() == Some(ip("10.1.0.1")))
        .expect("our address");
    let j = serde_json::to_value(a).unwrap();
    assert_eq!(j["ifindex"], v0.index());
    assert_eq!(j["label"], "v0:web");
    assert_eq!(j["prefixlen"], 24);
    let ipa = ns.ip_json(&["addr", "show", "dev", "v0"]);
    let info = ipa[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["local"] == "10.1.0.1")
        .expect("ip shows it");
    let n = agree("address", &j, info, &[]);
    assert!(n >= 7, "only {n}: {j} / {info}");

    // An IPv6 address with flags and lifetimes.
    nl.address()
        .add("v0", "2001:db8::1/64")
        .nodad()
        .noprefixroute()
        .lifetimes(3600, 1800)
        .metric(77)
        .await
        .unwrap();
    let addrs = nl.address().list().link("v0").await.unwrap();
    let a6 = addrs
        .iter()
        .find(|a| a.address() == Some(ip("2001:db8::1")))
        .expect("the v6 address");
    let j = serde_json::to_value(a6).unwrap();
    assert_eq!(j["family"], "inet6");
    assert_eq!(j["nodad"], true);
    assert_eq!(j["noprefixroute"], true);
    assert_eq!(j["dynamic"], true, "a lifetime makes it not permanent: {j}");
    assert_eq!(j["metric"], 77);
    assert!(j["valid_life_time"].as_u64().unwrap() <= 3600, "{j}");
    let ipa = ns.ip_json(&["addr", "show", "dev", "v0"]);
    let info = ipa[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["local"] == "2001:db8::1")
        .expect("ip shows it");
    // The lifetimes tick between the two reads.
    let n = agree(
        "address v6",
        &j,
        info,
        &["valid_life_time", "preferred_life_time"],
    );
    assert!(n >= 7, "only {n}: {j} / {info}");

    // Route.
    let routes = nl.route().list().table(100).await.unwrap();
    assert_eq!(routes.len(), 1);
    let j = serde_json::to_value(&routes[0]).unwrap();
    assert_eq!(j["dst"], "10.9.0.0/16");
    assert_eq!(j["gateway"], "10.1.0.2");
    assert_eq!(j["ifindex"], v0.index());
    assert_eq!(j["table"], "100");
    assert_eq!(j["type"], "unicast");
    assert_eq!(j["scope"], "global");
    let ipr = ns.ip_json(&["route", "show", "table", "100"]);
    let n = agree("route", &j, &ipr[0], &[]);
    assert!(n >= 4, "only {n}: {j} / {}", ipr[0]);
    // Its identity in a watch, in the same words.
    let key = tokio_netlink::watch::Watched::key(&routes[0]);
    let k = serde_json::to_value(&key).unwrap();
    for f in ["family", "dst", "table", "gateway", "ifindex", "metric"] {
        assert_eq!(k[f], j[f], "{f}: {k} / {j}");
    }
    assert_eq!(k["type"], 1, "RTN_UNICAST: {k}");

    // A multipath route: its next hops.
    nl.route()
        .add("10.8.0.0/16")
        .table(101)
        .nexthop(NexthopSpec::via(ip("10.1.0.2")).dev("v0").weight(1))
        .nexthop(NexthopSpec::via(ip("10.1.0.3")).dev("v0").weight(5))
        .await
        .unwrap();
    let ecmp = nl.route().list().table(101).await.unwrap();
    let j = serde_json::to_value(&ecmp[0]).unwrap();
    let hops = j["nexthops"].as_array().expect("nexthops");
    assert_eq!(hops.len(), 2, "{j}");
    assert!(j.get("gateway").is_none(), "{j}");
    let ipm = ns.ip_json(&["route", "show", "table", "101"]);
    let theirs = ipm[0]["nexthops"].as_array().expect("ip's nexthops");
    for (o, t) in hops.iter().zip(theirs) {
        assert_eq!(o["ifindex"], v0.index());
        let n = agree("nexthop", o, t, &[]);
        assert_eq!(n, 3, "gateway, weight, flags: {o} / {t}");
    }
    assert_eq!(hops[1]["weight"], 5);

    // Rule.
    let rules = nl.rule().list().await.unwrap();
    let r = rules.iter().find(|r| r.priority() == 100).unwrap();
    let j = serde_json::to_value(r).unwrap();
    assert_eq!(j["src"], "10.0.0.0");
    assert_eq!(j["srclen"], 8);
    assert_eq!(j["fwmark"], "0x10");
    assert_eq!(j["fwmask"], "0xff");
    assert_eq!(j["table"], "1000");
    let ipru = ns.ip_json(&["rule", "show"]);
    let theirs = ipru
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["priority"] == 100);
    let n = agree("rule", &j, theirs.expect("ip shows it"), &[]);
    assert!(n >= 6, "only {n}: {j}");
    let main = rules.iter().find(|r| r.priority() == 32766).unwrap();
    assert_eq!(serde_json::to_value(main).unwrap()["table"], "main");

    // Neighbour.
    let neigh = nl.neighbour().list().dev("v0").await.unwrap();
    let nb = neigh
        .iter()
        .find(|n| n.destination() == Some(ip("10.1.0.7")))
        .unwrap();
    let j = serde_json::to_value(nb).unwrap();
    assert_eq!(j["state"], json!(["PERMANENT"]));
    assert_eq!(j["ifindex"], v0.index());
    let ipn = ns.ip_json(&["neigh", "show", "dev", "v0"]);
    let theirs = ipn
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["dst"] == "10.1.0.7")
        .unwrap();
    assert_eq!(agree("neighbour", &j, theirs, &[]), 3, "{j} / {theirs}");
}

#[tokio::test]
async fn events_and_watch_changes_are_tagged() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut events = nl.events(&[Group::Link]);
    events.ready().await.unwrap();
    nl.link().add("d0", Veth::peer("d1")).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.next().await.expect("event stream") {
                Event::NewLink(l) if l.name() == "d0" => break Event::NewLink(l),
                _ => {}
            }
        }
    })
    .await
    .expect("a new_link event for d0");
    let j = serde_json::to_value(&ev).unwrap();
    assert_eq!(j["event"], "new_link");
    assert_eq!(j["link"]["ifname"], "d0");
    assert_eq!(j["change"], "created", "a link registering: {j}");
    assert_eq!(
        serde_json::to_value(Event::Lost).unwrap(),
        json!({"event": "lost", "change": "unknown"})
    );

    let mut watch = nl
        .watch::<tokio_netlink::route::link::Link>()
        .await
        .unwrap();
    let mut changes = watch.changes();
    nl.link().del("d0").await.unwrap();
    let removed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let c = changes.next().await.expect("changes");
            let j = serde_json::to_value(&c).unwrap();
            if j["change"] == "removed" && j["old"]["ifname"] == "d0" {
                break j;
            }
        }
    })
    .await
    .expect("d0 removed");
    assert!(removed.get("new").is_none(), "{removed}");
}

#[tokio::test]
async fn xfrm_policy_serializes_with_ip_xfrm_words() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let t = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints(ip("192.0.2.1"), ip("192.0.2.2"))
        .reqid(1);
    let p = Policy::new(sel, Dir::Out)
        .priority(100)
        .if_id(7)
        .template(t);
    let mut monitor = x.monitor(&[tokio_netlink::xfrm::Group::Policy]);
    monitor.ready().await.unwrap();
    x.add_policy(&p).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), monitor.next())
        .await
        .expect("a policy event")
        .expect("monitor stream");
    let je = serde_json::to_value(&ev).unwrap();
    assert_eq!(je["event"], "new_policy", "{je}");
    assert_eq!(je["policy"]["priority"], 100);
    assert_eq!(je["policy"]["dir"], "out");
    let list = x.policies().await.unwrap();
    assert_eq!(list.len(), 1);
    let j = rt(list[0].clone());
    assert_eq!(j["dir"], "out");
    assert_eq!(j["priority"], 100);
    assert_eq!(j["action"], "allow");
    assert_eq!(j["if_id"], 7);
    assert_eq!(j["selector"]["src"], "10.0.0.0");
    assert_eq!(j["selector"]["src_len"], 24);
    assert_eq!(j["templates"][0]["mode"], "tunnel");
    assert_eq!(j["templates"][0]["proto"], "esp");
    assert!(j["current"]["add_time"].as_u64().unwrap() > 0, "{j}");
    // `ip xfrm` has no JSON: its text says the same words.
    let text = ns.ip(&["-s", "xfrm", "policy"]);
    assert!(
        text.contains(&format!(
            "dir {} action {} index {} priority {}",
            j["dir"].as_str().unwrap(),
            j["action"].as_str().unwrap(),
            j["index"],
            j["priority"]
        )),
        "{j}: {text}"
    );
}

#[tokio::test]
async fn listening_tcp_and_unix_sockets_serialize_like_ss() {
    let ns = TestNs::new().await;
    let listener = in_ns(&ns, || TcpListener::bind("127.0.0.1:5050").expect("bind"));
    let diag = ns.client().diag();
    let query = diag
        .tcp()
        .states(States::LISTEN)
        .extensions(Extensions::INFO | Extensions::SKMEMINFO | Extensions::MEMINFO);
    eventually("the listener is listed", async || {
        !query.clone().await.unwrap().is_empty()
    })
    .await;
    let socks = query.await.unwrap();
    assert_eq!(socks.len(), 1, "{socks:?}");
    let j = serde_json::to_value(&socks[0]).unwrap();
    assert_eq!(j["netid"], "tcp");
    assert_eq!(j["family"], "inet");
    assert_eq!(j["state"], "LISTEN");
    assert_eq!(j["local"], "127.0.0.1:5050");
    assert_eq!(j["peer"], "0.0.0.0:0");
    assert_eq!(j["inode"], socks[0].inode());
    assert!(j["inode"].as_u64().unwrap() > 0);
    assert_eq!(j["tcp_info"]["state"], 10, "{j}");
    assert!(j["tcp_info"]["rtt"].is_u64(), "{j}");
    assert!(j["skmem"]["rcvbuf"].is_u64(), "{j}");
    assert!(j["meminfo"]["rmem"].is_u64(), "{j}");
    assert!(j.get("timer").is_none(), "{j}");
    // ss's columns: State Recv-Q Send-Q Local Peer.
    let text = ss(&ns, &["-tlnH"]);
    let cols: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(cols[0], "LISTEN", "{text}");
    assert_eq!(cols[1], j["recv_q"].to_string(), "{text}");
    assert_eq!(cols[2], j["send_q"].to_string(), "{text}");
    assert_eq!(cols[3], "127.0.0.1:5050", "{text}");
    drop(listener);

    // A unix listener on an abstract name (namespace-scoped).
    let name = format!("tnl-serde-{}", std::process::id());
    let unix = in_ns(&ns, || {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
        std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind unix")
    });
    let socks = diag.unix().states(States::LISTEN).meminfo().await.unwrap();
    let path = format!("@{name}");
    let u = socks
        .iter()
        .find(|s| s.path().as_deref() == Some(path.as_str()))
        .expect("our unix listener");
    let j = serde_json::to_value(u).unwrap();
    assert_eq!(j["netid"], "u_str");
    assert_eq!(j["state"], "LISTEN");
    assert_eq!(j["path"], path);
    assert_eq!(j["inode"], u.inode());
    assert!(j["send_q"].is_u64(), "{j}");
    assert!(j["skmem"]["rcvbuf"].is_u64(), "{j}");
    let text = ss(&ns, &["-xlH"]);
    let line = text
        .lines()
        .find(|l| l.contains(&path))
        .unwrap_or_else(|| panic!("ss shows {path}: {text}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols[..6],
        [
            "u_str",
            "LISTEN",
            &j["recv_q"].to_string(),
            &j["send_q"].to_string(),
            &path,
            &j["inode"].to_string()
        ],
        "{line}"
    );
    drop(unix);
}

#[tokio::test]
async fn htb_qdisc_and_class_serialize_like_tc() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    nl.link().add("v0", Veth::peer("v1")).up().await.unwrap();
    let t = nl.tc();
    let mut events = nl.events(&[Group::Tc]);
    events.ready().await.unwrap();
    t.qdisc()
        .add("v0", Htb::new().default_class(0x10).direct_qlen(500))
        .handle("1:")
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ev = events.next().await.expect("event stream");
            if matches!(&ev, Event::NewQdisc(q) if q.kind() == "htb") {
                break ev;
            }
        }
    })
    .await
    .expect("a new_qdisc event for htb");
    let je = serde_json::to_value(&ev).unwrap();
    assert_eq!(je["event"], "new_qdisc");
    assert_eq!(je["qdisc"]["handle"], "1:");
    assert_eq!(je["qdisc"]["options"]["default"], "0x10");
    let class = HtbClass::new(Rate::mbit(10))
        .ceil(Rate::mbit(20))
        .burst(1600)
        .cburst(1600)
        .prio(1);
    t.class().add("v0", "1:10", class).await.unwrap();

    let q = t.qdisc().get("v0").await.unwrap();
    let j = serde_json::to_value(&q).unwrap();
    assert_eq!(j["kind"], "htb");
    assert_eq!(j["handle"], "1:");
    assert_eq!(j["root"], true);
    assert_eq!(j["ifindex"], q.ifindex());
    assert!(j["stats"]["bytes"].is_u64(), "{j}");
    let out = std::process::Command::new("tc")
        .args(["-n", &ns.name, "-j", "qdisc", "show", "dev", "v0"])
        .output()
        .expect("run tc");
    let tcj: Value = serde_json::from_slice(&out.stdout).expect("tc -j");
    let theirs = tcj
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["kind"] == "htb")
        .expect("tc shows htb");
    let n = agree("qdisc", &j, theirs, &[]);
    assert!(n >= 5, "only {n}: {j} / {theirs}");
    assert_eq!(j["options"], theirs["options"], "options as tc -j");

    let classes = t.class().list("v0").await.unwrap();
    let c = classes
        .iter()
        .find(|c| c.classid() == Handle::new(1, 0x10))
        .unwrap();
    let j = serde_json::to_value(c).unwrap();
    assert_eq!(j["class"], "htb");
    assert_eq!(j["handle"], "1:10");
    assert_eq!(j["root"], true);
    assert_eq!(j["options"]["rate"], 1_250_000);
    assert_eq!(j["options"]["ceil"], 2_500_000);
    assert_eq!(j["options"]["prio"], 1);
    assert_eq!(j["options"]["burst"], 1600);
    assert!(j["xstats"]["tokens"].is_i64(), "{j}");
    // The class options read back into the kind they were made from.
    let kind: ClassKind = serde_json::from_value(json!({
        "kind": j["class"],
        "options": j["options"],
    }))
    .unwrap();
    assert_eq!(kind, c.options());
    // A u32 filter to the class.
    let f = U32::new()
        .match_ip_dport(80, 0xffff)
        .unwrap()
        .classid(Handle::new(1, 0x10));
    t.filter()
        .add("v0", f)
        .parent("1:")
        .prio(5)
        .protocol("ip")
        .await
        .unwrap();
    let filters = t.filter().list("v0").parent("1:").await.unwrap();
    let node = filters
        .iter()
        .find(|x| U32Handle::from_raw(x.handle()).node() != 0)
        .expect("the key node");
    let j = serde_json::to_value(node).unwrap();
    assert_eq!(j["kind"], "u32");
    assert_eq!(j["pref"], 5);
    assert_eq!(j["protocol"], "ip");
    assert_eq!(j["parent"], "1:");
    assert_eq!(j["handle"], node.handle());
    assert_eq!(j["options"]["classid"], "1:10");
    assert_eq!(j["options"]["keys"][0]["off"], 20);
    assert_eq!(j["options"]["keys"][0]["mask"], "0xffff");
    assert_eq!(j["options"]["keys"][0]["val"], "0x50");
    let kind: FilterKind =
        serde_json::from_value(json!({"kind": j["kind"], "options": j["options"]})).unwrap();
    assert_eq!(kind, node.options());
    let out = std::process::Command::new("tc")
        .args(["-n", &ns.name, "-j", "filter", "show", "dev", "v0"])
        .output()
        .expect("run tc");
    let tcj: Value = serde_json::from_slice(&out.stdout).expect("tc -j");
    let theirs = tcj
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["options"]["flowid"] == "1:10")
        .expect("tc shows the key node");
    let n = agree("filter", &j, theirs, &["options"]);
    assert_eq!(n, 5, "{j} / {theirs}");

    // tc's text (its JSON for classes is not JSON on every version).
    let out = std::process::Command::new("tc")
        .args(["-n", &ns.name, "class", "show", "dev", "v0"])
        .output()
        .expect("run tc");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("class htb 1:10 root prio 1 rate 10Mbit ceil 20Mbit"),
        "{text}"
    );
}

#[test]
fn conntrack_values_round_trip() {
    use tokio_netlink::netfilter::conntrack::{
        Counters, CpuStats, EventGroup, GlobalStats, Proto, Status, TcpInfo, TcpState, Tuple,
    };
    for n in 0..=255u8 {
        rt(Proto::from_number(n));
        rt(TcpState::from_raw(n));
    }
    assert_eq!(rt(Proto::Icmpv6), json!("icmpv6"));
    assert_eq!(rt(TcpState::TimeWait), json!("TIME_WAIT"));
    assert_eq!(rt(TcpState::Unknown(200)), json!("200"));
    assert_eq!(
        rt(Status::SEEN_REPLY | Status::ASSURED),
        json!(["SEEN_REPLY", "ASSURED"])
    );
    assert_eq!(
        rt(Status::ASSURED | Status(1 << 30)),
        json!(["ASSURED", "0x40000000"])
    );
    rt(Status(0));
    rt(Status(u32::MAX));
    assert!(serde_json::from_value::<Status>(json!(["HAPPY"])).is_err());
    rt(Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
        .unwrap()
        .ports(1000, 80));
    rt(Tuple::new("2001:db8::1", "2001:db8::2", Proto::Icmpv6)
        .unwrap()
        .icmp(128, 0, 7));
    rt(Counters {
        packets: u64::MAX,
        bytes: 1,
    });
    rt(TcpInfo {
        state: TcpState::Established,
        wscale_orig: Some(7),
        wscale_reply: None,
        flags_orig: Some((0x20, 0x20)),
        flags_reply: None,
    });
    rt(GlobalStats {
        entries: 3,
        max_entries: Some(65536),
    });
    rt(CpuStats::default());
    for g in EventGroup::all() {
        rt(g);
    }
    assert_eq!(
        serde_json::to_value(tokio_netlink::netfilter::conntrack::ConntrackEvent::Lost).unwrap(),
        json!({"event": "lost"})
    );
}

#[tokio::test]
async fn conntrack_entry_serializes_in_conntrack_words() {
    use tokio_netlink::netfilter::conntrack::{Proto, Status, TcpState, Tuple};
    let ns = TestNs::new().await;
    let nl = ns.client();
    let ct = nl.conntrack();
    ct.create(
        Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
            .unwrap()
            .ports(1000, 80),
    )
    .timeout(100)
    .tcp_state(TcpState::Established)
    .status(Status::SEEN_REPLY | Status::ASSURED)
    .mark(5)
    .await
    .unwrap();
    let list = ct.list().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let j = serde_json::to_value(&list[0]).unwrap();
    assert_eq!(j["family"], "inet");
    assert_eq!(j["proto"], "tcp");
    assert_eq!(j["tcp_state"], "ESTABLISHED");
    assert_eq!(j["mark"], 5);
    assert_eq!(j["orig"]["src"], "10.0.0.1");
    assert_eq!(j["orig"]["dport"], 80);
    assert_eq!(j["reply"]["src"], "10.0.0.2");
    assert_eq!(j["reply"]["dport"], 1000);
    let status = j["status"].as_array().unwrap();
    assert!(status.contains(&json!("ASSURED")), "{j}");
    assert!(j["timeout"].as_u64().unwrap() <= 100, "{j}");
    // The tuples read back as what was listed.
    let orig: Tuple = serde_json::from_value(j["orig"].clone()).unwrap();
    assert_eq!(&orig, list[0].orig());
    // conntrack -L says the same.
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name, "conntrack", "-L"])
        .output()
        .expect("run conntrack");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "tcp".to_string(),
        "ESTABLISHED".into(),
        format!("src={}", j["orig"]["src"].as_str().unwrap()),
        format!("dport={}", j["orig"]["dport"]),
        format!("mark={}", j["mark"]),
        "[ASSURED]".into(),
    ] {
        assert!(text.contains(&word), "{word} not in {text}");
    }
}

#[tokio::test]
async fn genl_family_serializes_with_its_field_names() {
    let ns = TestNs::new().await;
    let f: tokio_netlink::genl::Family = ns.client().genl().family("nlctrl").await.unwrap();
    let v = rt(f.clone());
    assert_eq!(
        (v["id"].as_u64(), v["name"].as_str()),
        (Some(16), Some("nlctrl"))
    );
    assert_eq!(
        (v["version"].as_u64(), v["hdrsize"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(v["maxattr"].as_u64(), Some(f.maxattr as u64));
    assert_eq!(v["ops"][0], json!({"id": 3, "flags": 14}));
    assert_eq!(v["mcast_groups"][0], json!({"name": "notify", "id": 16}));
}
