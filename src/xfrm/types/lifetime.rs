//! Lifetimes (configured limits and current usage) and state statistics.

use super::XFRM_INF;
use super::wire::{Rd, Wr};

/// `struct xfrm_lifetime_cfg`: soft and hard limits (`limit …` in `ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Lifetime {
    /// `limit byte-soft`.
    pub soft_bytes: u64,
    /// `limit byte-hard`.
    pub hard_bytes: u64,
    /// `limit packet-soft`.
    pub soft_packets: u64,
    /// `limit packet-hard`.
    pub hard_packets: u64,
    /// `limit time-soft` (seconds after adding; 0 = never).
    pub soft_add_seconds: u64,
    /// `limit time-hard`.
    pub hard_add_seconds: u64,
    /// `limit time-use-soft` (seconds after first use).
    pub soft_use_seconds: u64,
    /// `limit time-use-hard`.
    pub hard_use_seconds: u64,
}

impl Default for Lifetime {
    /// As `ip`: no byte or packet limit ([`XFRM_INF`]), no expiry time.
    fn default() -> Self {
        Lifetime {
            soft_bytes: XFRM_INF,
            hard_bytes: XFRM_INF,
            soft_packets: XFRM_INF,
            hard_packets: XFRM_INF,
            soft_add_seconds: 0,
            hard_add_seconds: 0,
            soft_use_seconds: 0,
            hard_use_seconds: 0,
        }
    }
}

impl Lifetime {
    pub(crate) fn emit(&self, b: &mut [u8]) {
        let mut w = Wr(b);
        for (i, v) in [
            self.soft_bytes,
            self.hard_bytes,
            self.soft_packets,
            self.hard_packets,
            self.soft_add_seconds,
            self.hard_add_seconds,
            self.soft_use_seconds,
            self.hard_use_seconds,
        ]
        .into_iter()
        .enumerate()
        {
            w.u64(i * 8, v);
        }
    }

    pub(crate) fn parse(r: Rd<'_>) -> Lifetime {
        Lifetime {
            soft_bytes: r.u64(0),
            hard_bytes: r.u64(8),
            soft_packets: r.u64(16),
            hard_packets: r.u64(24),
            soft_add_seconds: r.u64(32),
            hard_add_seconds: r.u64(40),
            soft_use_seconds: r.u64(48),
            hard_use_seconds: r.u64(56),
        }
    }
}

/// `struct xfrm_lifetime_cur`: what was used (read only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct LifetimeCurrent {
    /// Bytes processed.
    pub bytes: u64,
    /// Packets processed.
    pub packets: u64,
    /// When added (seconds since the epoch).
    pub add_time: u64,
    /// When first used (0: never).
    pub use_time: u64,
}

impl LifetimeCurrent {
    pub(crate) fn parse(r: Rd<'_>) -> Self {
        LifetimeCurrent {
            bytes: r.u64(0),
            packets: r.u64(8),
            add_time: r.u64(16),
            use_time: r.u64(24),
        }
    }
}

/// `struct xfrm_stats` of a state (read only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Stats {
    /// Packets dropped by the replay window (`replay-window` drops).
    pub replay_window: u32,
    /// Replayed packets.
    pub replay: u32,
    /// Integrity (ICV) failures.
    pub integrity_failed: u32,
}
