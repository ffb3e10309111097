use super::decode::HEADER;
use super::*;

fn attr(b: &mut Vec<u8>, ty: u16, v: &[u8]) {
    b.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
    b.extend_from_slice(&ty.to_ne_bytes());
    b.extend_from_slice(v);
    b.resize(b.len().next_multiple_of(4), 0);
}

fn counters(n: u64, base: u64) -> Vec<u8> {
    (0..n).flat_map(|i| (base + i).to_ne_bytes()).collect()
}

/// Every group, each counter distinct (base + position).
fn sample() -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0];
    b.extend_from_slice(&7u32.to_ne_bytes());
    b.extend_from_slice(&0x0fu32.to_ne_bytes());
    attr(&mut b, ifla::LINK_64, &counters(25, 100));

    let mut br = Vec::new();
    let mut vlan = counters(4, 200);
    vlan.extend_from_slice(&10u16.to_ne_bytes());
    vlan.extend_from_slice(&6u16.to_ne_bytes());
    vlan.extend_from_slice(&[0; 4]);
    attr(&mut br, 1, &vlan);
    attr(&mut br, 3, &[0; 4]); // BRIDGE_XSTATS_PAD
    attr(&mut br, 2, &counters(30, 300));
    attr(&mut br, 4, &counters(6, 400));
    let mut x = Vec::new();
    attr(&mut x, 1, &br);
    attr(&mut b, ifla::LINK_XSTATS, &x);

    let mut ad = Vec::new();
    for i in 0..9u16 {
        attr(&mut ad, i, &(500 + i as u64).to_ne_bytes());
    }
    let mut bond = Vec::new();
    attr(&mut bond, 1, &ad);
    let mut xs = Vec::new();
    attr(&mut xs, 2, &bond);
    attr(&mut b, ifla::LINK_XSTATS_SLAVE, &xs);

    let mut off = Vec::new();
    attr(&mut off, 1, &counters(24, 600));
    let (mut info, mut l3) = (Vec::new(), Vec::new());
    attr(&mut l3, 1, &[1]);
    attr(&mut l3, 2, &[0]);
    attr(&mut info, 3, &l3);
    attr(&mut off, 2, &info);
    attr(&mut off, 3, &counters(9, 700));
    attr(&mut b, ifla::LINK_OFFLOAD_XSTATS, &off);
    attr(&mut b, 5, &[1, 2, 3, 4]); // AF_SPEC: not decoded, skipped
    b
}

#[test]
fn decodes_every_group() {
    let s = LinkStats::parse(&sample()).unwrap();
    assert_eq!(s.ifindex, 7);
    let l = s.link64.unwrap();
    assert_eq!((l.rx_packets, l.tx_bytes, l.rx_nohandler), (100, 103, 123));
    assert_eq!((l.collisions, l.tx_window_errors), (109, 120));
    assert_eq!(l.rx_otherhost_dropped, Some(124));
    let br = s.xstats.unwrap().bridge.unwrap();
    assert_eq!(br.vlans.len(), 1);
    let v = br.vlans[0];
    assert_eq!(
        (v.vid, v.flags, v.rx_bytes, v.tx_packets),
        (10, 6, 200, 203)
    );
    let m = br.mcast.unwrap();
    assert_eq!(m.igmp_v1queries, RxTx { rx: 300, tx: 301 });
    assert_eq!((m.igmp_parse_errors, m.mld_v1queries.rx), (314, 315));
    assert_eq!((m.mld_parse_errors, m.mcast_packets.tx), (325, 329));
    let stp = br.stp.unwrap();
    assert_eq!((stp.transition_blk, stp.tx_tcn), (400, 405));
    let ad = s.xstats_slave.unwrap().bond_3ad.unwrap();
    assert_eq!((ad.lacpdu_rx, ad.marker_unknown_rx), (Some(500), Some(508)));
    let o = s.offload.unwrap();
    let cpu = o.cpu_hit.unwrap();
    assert_eq!((cpu.rx_packets, cpu.rx_otherhost_dropped), (600, None));
    let info = o.l3_stats_info.unwrap();
    assert!(info.request && !info.used);
    assert_eq!(o.l3_stats.unwrap().multicast, 708);
}

#[test]
fn truncated_or_mangled_input_never_panics() {
    let s = sample();
    for n in 0..s.len() {
        let p = LinkStats::parse(&s[..n]);
        assert_eq!(p.is_none(), n < HEADER, "cut at {n}: {p:?}");
    }
    // A link64 block too short for the 24 counters every kernel sends.
    let mut short = s.clone();
    short[HEADER] = 4 + 23 * 8;
    assert_eq!(LinkStats::parse(&short), None);
    for m in crate::test_util::mangled(&s, 20000, 4, 0x9e37_79b9_7f4a_7c15) {
        let _ = LinkStats::parse(&m);
    }
}

#[test]
fn masks_and_other_message_types() {
    assert_eq!(mask_of(&[]), 0x0f);
    assert_eq!(mask_of(&[StatsGroup::Link]), 1);
    assert_eq!(
        mask_of(&[StatsGroup::Offload, StatsGroup::XstatsSlave]),
        0x0c
    );
    let mut bytes = crate::conn::frame::tests::msg(RTM_NEWSTATS, 0, 1, &sample());
    let raw = |b: &[u8]| RawMessage {
        header: crate::conn::frame::Header::parse(b).unwrap(),
        bytes: bytes::Bytes::copy_from_slice(b),
    };
    assert!(LinkStats::from_raw(raw(&bytes)).is_ok());
    bytes[4] = 16;
    let e = LinkStats::from_raw(raw(&bytes)).unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
}
