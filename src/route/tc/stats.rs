//! `tc -s` figures: TCA_STATS2 (basic, queue, rate estimator, 64-bit
//! packet count, hardware share), with TCA_STATS as the fallback older
//! kernels send.

use super::wire::Rd;
use crate::conn::attrs::nested;

const STATS_BASIC: u16 = 1;
const STATS_RATE_EST: u16 = 2;
const STATS_QUEUE: u16 = 3;
const STATS_RATE_EST64: u16 = 5;
const STATS_BASIC_HW: u16 = 7;
const STATS_PKT64: u16 = 8;

/// Counters of a qdisc, class, filter or action (`tc -s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes sent (`Sent N bytes`).
    pub bytes: u64,
    /// Packets sent (64-bit where the kernel gives TCA_STATS_PKT64).
    pub packets: u64,
    /// Packets dropped.
    pub drops: u32,
    /// Times the queue was over its limit (`overlimits`).
    pub overlimits: u32,
    /// Requeued packets.
    pub requeues: u32,
    /// Packets queued now.
    pub qlen: u32,
    /// Bytes queued now.
    pub backlog: u32,
    /// Estimated rate in bytes per second (0 without an estimator).
    pub rate_bps: u64,
    /// Estimated rate in packets per second.
    pub rate_pps: u64,
    /// The part of `bytes` and `packets` counted in hardware.
    pub hw_bytes: u64,
    /// Packets counted in hardware.
    pub hw_packets: u64,
}

impl Stats {
    /// Reads TCA_STATS2's nest, or the old `struct tc_stats` when that is
    /// all there is. None when the message holds neither.
    pub(crate) fn decode(stats2: Option<&[u8]>, stats: Option<&[u8]>) -> Option<Stats> {
        let mut s = Stats::default();
        if let Some(nest) = stats2 {
            for (ty, v) in nested(nest) {
                let r = Rd(v);
                match ty {
                    STATS_BASIC => {
                        s.bytes = r.u64(0);
                        if s.packets == 0 {
                            s.packets = r.u32(8) as u64;
                        }
                    }
                    STATS_PKT64 => s.packets = r.u64(0),
                    STATS_RATE_EST if s.rate_bps == 0 => {
                        s.rate_bps = r.u32(0) as u64;
                        s.rate_pps = r.u32(4) as u64;
                    }
                    STATS_RATE_EST64 => {
                        s.rate_bps = r.u64(0);
                        s.rate_pps = r.u64(8);
                    }
                    STATS_QUEUE => {
                        s.qlen = r.u32(0);
                        s.backlog = r.u32(4);
                        s.drops = r.u32(8);
                        s.requeues = r.u32(12);
                        s.overlimits = r.u32(16);
                    }
                    STATS_BASIC_HW => {
                        s.hw_bytes = r.u64(0);
                        s.hw_packets = r.u32(8) as u64;
                    }
                    _ => {}
                }
            }
            return Some(s);
        }
        // struct tc_stats: bytes u64, packets, drops, overlimits, bps, pps,
        // qlen, backlog (u32 each).
        let r = Rd(stats?);
        s.bytes = r.u64(0);
        s.packets = r.u32(8) as u64;
        s.drops = r.u32(12);
        s.overlimits = r.u32(16);
        s.rate_bps = r.u32(20) as u64;
        s.rate_pps = r.u32(24) as u64;
        s.qlen = r.u32(28);
        s.backlog = r.u32(32);
        Some(s)
    }
}
