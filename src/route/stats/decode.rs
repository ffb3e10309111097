//! The RTM_NEWSTATS payload: struct if_stats_msg, then one attribute per
//! group asked for. Counters are read straight from the received bytes;
//! nothing here panics, whatever the input.

use crate::conn::attrs::{Attrs, nested, u8_of};

/// struct if_stats_msg.
pub(super) const HEADER: usize = 12;
/// IFLA_STATS_*: the groups, and their filter bits (1 << (attr - 1)).
pub(super) mod ifla {
    pub const LINK_64: u16 = 1;
    pub const LINK_XSTATS: u16 = 2;
    pub const LINK_XSTATS_SLAVE: u16 = 3;
    pub const LINK_OFFLOAD_XSTATS: u16 = 4;
}
const LINK_XSTATS_TYPE_BRIDGE: u16 = 1;
const LINK_XSTATS_TYPE_BOND: u16 = 2;
const BRIDGE_XSTATS_VLAN: u16 = 1;
const BRIDGE_XSTATS_MCAST: u16 = 2;
const BRIDGE_XSTATS_STP: u16 = 4;
const BOND_XSTATS_3AD: u16 = 1;
const OFFLOAD_CPU_HIT: u16 = 1;
const OFFLOAD_HW_S_INFO: u16 = 2;
const OFFLOAD_L3_STATS: u16 = 3;
const HW_S_INFO_REQUEST: u16 = 1;
const HW_S_INFO_USED: u16 = 2;

/// The `i`-th u64 of `v`, if it has one.
fn u64_at(v: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(
        v.get(i * 8..i * 8 + 8)?.try_into().ok()?,
    ))
}

/// `N` u64s from the start of `v`: `None` when it is shorter (a longer
/// value, from a newer kernel, is read as far as known).
fn u64s<const N: usize>(v: &[u8]) -> Option<[u64; N]> {
    let mut out = [0; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u64_at(v, i)?;
    }
    Some(out)
}

/// struct rtnl_link_stats64: `ip -s link`'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Stats64 {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Bad packets received.
    pub rx_errors: u64,
    /// Packets that failed to go out.
    pub tx_errors: u64,
    /// Received packets dropped (no space, unwanted).
    pub rx_dropped: u64,
    /// Packets dropped before they could go out.
    pub tx_dropped: u64,
    /// Multicast packets received.
    pub multicast: u64,
    /// Collisions on send.
    pub collisions: u64,
    /// Received with a bad length.
    pub rx_length_errors: u64,
    /// Receive ring overflows.
    pub rx_over_errors: u64,
    /// Received with a bad CRC.
    pub rx_crc_errors: u64,
    /// Received with a frame alignment error.
    pub rx_frame_errors: u64,
    /// Receive FIFO overruns.
    pub rx_fifo_errors: u64,
    /// Missed by the host (no room).
    pub rx_missed_errors: u64,
    /// Sends aborted.
    pub tx_aborted_errors: u64,
    /// Sends lost to carrier errors.
    pub tx_carrier_errors: u64,
    /// Send FIFO underruns.
    pub tx_fifo_errors: u64,
    /// Heartbeat (SQE) errors.
    pub tx_heartbeat_errors: u64,
    /// Late collisions.
    pub tx_window_errors: u64,
    /// Compressed packets received (cslip).
    pub rx_compressed: u64,
    /// Compressed packets sent.
    pub tx_compressed: u64,
    /// Received with no protocol handler (on inactive bond slaves, too).
    pub rx_nohandler: u64,
    /// Kernel 5.18 and later; `None` from older ones.
    pub rx_otherhost_dropped: Option<u64>,
}

impl Stats64 {
    /// 24 counters (every kernel with RTM_GETSTATS), then any newer ones.
    pub(super) fn parse(v: &[u8]) -> Option<Stats64> {
        let c: [u64; 24] = u64s(v)?;
        Some(Stats64 {
            rx_packets: c[0],
            tx_packets: c[1],
            rx_bytes: c[2],
            tx_bytes: c[3],
            rx_errors: c[4],
            tx_errors: c[5],
            rx_dropped: c[6],
            tx_dropped: c[7],
            multicast: c[8],
            collisions: c[9],
            rx_length_errors: c[10],
            rx_over_errors: c[11],
            rx_crc_errors: c[12],
            rx_frame_errors: c[13],
            rx_fifo_errors: c[14],
            rx_missed_errors: c[15],
            tx_aborted_errors: c[16],
            tx_carrier_errors: c[17],
            tx_fifo_errors: c[18],
            tx_heartbeat_errors: c[19],
            tx_window_errors: c[20],
            rx_compressed: c[21],
            tx_compressed: c[22],
            rx_nohandler: c[23],
            rx_otherhost_dropped: u64_at(v, 24),
        })
    }
}

/// A received / sent pair of counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct RxTx {
    /// Received.
    pub rx: u64,
    /// Sent.
    pub tx: u64,
}

/// struct br_mcast_stats: a bridge's (or port's) IGMP/MLD counters
/// (`ip stats … subgroup bridge suite mcast`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct BridgeMcastStats {
    /// IGMPv1 queries.
    pub igmp_v1queries: RxTx,
    /// IGMPv2 queries.
    pub igmp_v2queries: RxTx,
    /// IGMPv3 queries.
    pub igmp_v3queries: RxTx,
    /// IGMP leave messages.
    pub igmp_leaves: RxTx,
    /// IGMPv1 reports.
    pub igmp_v1reports: RxTx,
    /// IGMPv2 reports.
    pub igmp_v2reports: RxTx,
    /// IGMPv3 reports.
    pub igmp_v3reports: RxTx,
    /// Malformed IGMP packets.
    pub igmp_parse_errors: u64,
    /// MLDv1 queries.
    pub mld_v1queries: RxTx,
    /// MLDv2 queries.
    pub mld_v2queries: RxTx,
    /// MLD done messages.
    pub mld_leaves: RxTx,
    /// MLDv1 reports.
    pub mld_v1reports: RxTx,
    /// MLDv2 reports.
    pub mld_v2reports: RxTx,
    /// Malformed MLD packets.
    pub mld_parse_errors: u64,
    /// Multicast bytes.
    pub mcast_bytes: RxTx,
    /// Multicast packets.
    pub mcast_packets: RxTx,
}

impl BridgeMcastStats {
    fn parse(v: &[u8]) -> Option<BridgeMcastStats> {
        let c: [u64; 30] = u64s(v)?;
        let p = |i: usize| RxTx {
            rx: c[i],
            tx: c[i + 1],
        };
        Some(BridgeMcastStats {
            igmp_v1queries: p(0),
            igmp_v2queries: p(2),
            igmp_v3queries: p(4),
            igmp_leaves: p(6),
            igmp_v1reports: p(8),
            igmp_v2reports: p(10),
            igmp_v3reports: p(12),
            igmp_parse_errors: c[14],
            mld_v1queries: p(15),
            mld_v2queries: p(17),
            mld_leaves: p(19),
            mld_v1reports: p(21),
            mld_v2reports: p(23),
            mld_parse_errors: c[25],
            mcast_bytes: p(26),
            mcast_packets: p(28),
        })
    }
}

/// struct bridge_stp_xstats: a bridge port's STP counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct BridgeStpStats {
    /// Changes to the blocking state.
    pub transition_blk: u64,
    /// Changes to the forwarding state.
    pub transition_fwd: u64,
    /// BPDUs received.
    pub rx_bpdu: u64,
    /// BPDUs sent.
    pub tx_bpdu: u64,
    /// Topology-change notifications received.
    pub rx_tcn: u64,
    /// Topology-change notifications sent.
    pub tx_tcn: u64,
}

/// struct bridge_vlan_xstats: one VLAN's traffic on a bridge or port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct BridgeVlanStats {
    /// The VLAN id.
    pub vid: u16,
    /// BRIDGE_VLAN_INFO_* flags.
    pub flags: u16,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
}

/// LINK_XSTATS_TYPE_BRIDGE: what a bridge (or, as slave stats, a bridge
/// port) reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct BridgeXstats {
    /// BRIDGE_XSTATS_VLAN, one per VLAN (with VLAN filtering).
    pub vlans: Vec<BridgeVlanStats>,
    /// BRIDGE_XSTATS_MCAST (with multicast statistics enabled).
    pub mcast: Option<BridgeMcastStats>,
    /// BRIDGE_XSTATS_STP (ports only).
    pub stp: Option<BridgeStpStats>,
}

/// BOND_XSTATS_3AD: LACP counters of an 802.3ad bond or its slave
/// (`ip stats … subgroup bond suite 802.3ad`); each as the kernel sent it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Bond3adStats {
    /// LACPDUs received.
    pub lacpdu_rx: Option<u64>,
    /// LACPDUs sent.
    pub lacpdu_tx: Option<u64>,
    /// Received LACPDUs of an unknown type.
    pub lacpdu_unknown_rx: Option<u64>,
    /// Received malformed LACPDUs.
    pub lacpdu_illegal_rx: Option<u64>,
    /// Marker PDUs received.
    pub marker_rx: Option<u64>,
    /// Marker PDUs sent.
    pub marker_tx: Option<u64>,
    /// Marker responses received.
    pub marker_resp_rx: Option<u64>,
    /// Marker responses sent.
    pub marker_resp_tx: Option<u64>,
    /// Received marker PDUs of an unknown type.
    pub marker_unknown_rx: Option<u64>,
}

impl Bond3adStats {
    fn parse(v: &[u8]) -> Bond3adStats {
        let mut s = Bond3adStats::default();
        for (ty, v) in nested(v) {
            let Some(x) = u64_at(v, 0) else { continue };
            // BOND_3AD_STAT_LACPDU_RX is 0, the attribute numbers' start.
            let slot = match ty {
                0 => &mut s.lacpdu_rx,
                1 => &mut s.lacpdu_tx,
                2 => &mut s.lacpdu_unknown_rx,
                3 => &mut s.lacpdu_illegal_rx,
                4 => &mut s.marker_rx,
                5 => &mut s.marker_tx,
                6 => &mut s.marker_resp_rx,
                7 => &mut s.marker_resp_tx,
                8 => &mut s.marker_unknown_rx,
                _ => continue,
            };
            *slot = Some(x);
        }
        s
    }
}

/// IFLA_STATS_LINK_XSTATS or IFLA_STATS_LINK_XSTATS_SLAVE: the kind's
/// own statistics, for the kinds decoded here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Xstats {
    /// LINK_XSTATS_TYPE_BRIDGE.
    pub bridge: Option<BridgeXstats>,
    /// LINK_XSTATS_TYPE_BOND (BOND_XSTATS_3AD).
    pub bond_3ad: Option<Bond3adStats>,
}

impl Xstats {
    /// A malformed bridge counter block makes the whole group malformed.
    fn parse(v: &[u8]) -> Option<Xstats> {
        let mut x = Xstats::default();
        for (ty, v) in nested(v) {
            match ty {
                LINK_XSTATS_TYPE_BRIDGE => x.bridge = Some(bridge(v)?),
                LINK_XSTATS_TYPE_BOND => {
                    for (t, v) in nested(v) {
                        if t == BOND_XSTATS_3AD {
                            x.bond_3ad = Some(Bond3adStats::parse(v));
                        }
                    }
                }
                _ => {}
            }
        }
        Some(x)
    }
}

fn bridge(v: &[u8]) -> Option<BridgeXstats> {
    let mut b = BridgeXstats::default();
    for (ty, v) in nested(v) {
        match ty {
            BRIDGE_XSTATS_VLAN => {
                let c: [u64; 4] = u64s(v)?;
                let tail = v.get(32..36)?;
                b.vlans.push(BridgeVlanStats {
                    rx_bytes: c[0],
                    rx_packets: c[1],
                    tx_bytes: c[2],
                    tx_packets: c[3],
                    vid: u16::from_ne_bytes([tail[0], tail[1]]),
                    flags: u16::from_ne_bytes([tail[2], tail[3]]),
                });
            }
            BRIDGE_XSTATS_MCAST => b.mcast = Some(BridgeMcastStats::parse(v)?),
            BRIDGE_XSTATS_STP => {
                let c: [u64; 6] = u64s(v)?;
                b.stp = Some(BridgeStpStats {
                    transition_blk: c[0],
                    transition_fwd: c[1],
                    rx_bpdu: c[2],
                    tx_bpdu: c[3],
                    rx_tcn: c[4],
                    tx_tcn: c[5],
                });
            }
            _ => {}
        }
    }
    Some(b)
}

/// struct rtnl_hw_stats64: L3 counters kept by the hardware.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct HwStats64 {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Bad packets received.
    pub rx_errors: u64,
    /// Packets that failed to go out.
    pub tx_errors: u64,
    /// Received packets dropped (no space, unwanted).
    pub rx_dropped: u64,
    /// Packets dropped before they could go out.
    pub tx_dropped: u64,
    /// Multicast packets received.
    pub multicast: u64,
}

/// Whether hardware statistics were asked for and are in use
/// (`hw_stats_info`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct HwStatsInfo {
    /// `request`: enabled (`ip stats set dev DEV l3_stats on`).
    pub request: bool,
    /// `used`: the hardware really counts.
    pub used: bool,
}

/// IFLA_STATS_LINK_OFFLOAD_XSTATS (`ip stats … group offload`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct OffloadStats {
    /// `cpu_hit`: traffic an offloading device sent through the CPU
    /// (devices without offload send none).
    pub cpu_hit: Option<Stats64>,
    /// `hw_stats_info` of `l3_stats`.
    pub l3_stats_info: Option<HwStatsInfo>,
    /// `l3_stats`, when the hardware counts them.
    pub l3_stats: Option<HwStats64>,
}

impl OffloadStats {
    fn parse(v: &[u8]) -> Option<OffloadStats> {
        let mut o = OffloadStats::default();
        for (ty, v) in nested(v) {
            match ty {
                OFFLOAD_CPU_HIT => o.cpu_hit = Some(Stats64::parse(v)?),
                OFFLOAD_HW_S_INFO => {
                    // One nest per kind of hardware statistics, by its
                    // IFLA_OFFLOAD_XSTATS_* number.
                    for (kind, v) in nested(v) {
                        if kind == OFFLOAD_L3_STATS {
                            let mut i = HwStatsInfo::default();
                            for (t, v) in nested(v) {
                                match t {
                                    HW_S_INFO_REQUEST => i.request = u8_of(v)? != 0,
                                    HW_S_INFO_USED => i.used = u8_of(v)? != 0,
                                    _ => {}
                                }
                            }
                            o.l3_stats_info = Some(i);
                        }
                    }
                }
                OFFLOAD_L3_STATS => {
                    let c: [u64; 9] = u64s(v)?;
                    o.l3_stats = Some(HwStats64 {
                        rx_packets: c[0],
                        tx_packets: c[1],
                        rx_bytes: c[2],
                        tx_bytes: c[3],
                        rx_errors: c[4],
                        tx_errors: c[5],
                        rx_dropped: c[6],
                        tx_dropped: c[7],
                        multicast: c[8],
                    });
                }
                _ => {}
            }
        }
        Some(o)
    }
}

/// One device's statistics (`ip stats show dev DEV`): the groups asked
/// for that the device has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[non_exhaustive]
pub struct LinkStats {
    /// The device's index.
    pub ifindex: u32,
    /// `group link`: IFLA_STATS_LINK_64.
    pub link64: Option<Stats64>,
    /// `group xstats`: the device's own kind (bridge, bond).
    pub xstats: Option<Xstats>,
    /// `group xstats_slave`: the device as a port of its master.
    pub xstats_slave: Option<Xstats>,
    /// `group offload`.
    pub offload: Option<OffloadStats>,
}

impl LinkStats {
    /// `payload`: an if_stats_msg and its attributes. A group of the
    /// wrong size makes the whole message malformed.
    pub(super) fn parse(payload: &[u8]) -> Option<LinkStats> {
        let h = payload.get(..HEADER)?;
        let mut s = LinkStats {
            ifindex: u32::from_ne_bytes(h[4..8].try_into().ok()?),
            ..LinkStats::default()
        };
        for (_, ty, v) in Attrs::new(payload, HEADER) {
            match ty {
                ifla::LINK_64 => s.link64 = Some(Stats64::parse(v)?),
                ifla::LINK_XSTATS => s.xstats = Some(Xstats::parse(v)?),
                ifla::LINK_XSTATS_SLAVE => s.xstats_slave = Some(Xstats::parse(v)?),
                ifla::LINK_OFFLOAD_XSTATS => s.offload = Some(OffloadStats::parse(v)?),
                _ => {}
            }
        }
        Some(s)
    }
}
