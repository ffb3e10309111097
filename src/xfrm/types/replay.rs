//! Anti-replay state: legacy (`xfrm_replay_state`) and ESN
//! (`xfrm_replay_state_esn`).

use super::wire::Rd;

/// `struct xfrm_replay_state_esn` (ESN anti-replay state).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct ReplayEsn {
    /// Outbound sequence number (low 32 bits).
    pub oseq: u32,
    /// Inbound sequence number.
    pub seq: u32,
    /// Outbound high 32 bits.
    pub oseq_hi: u32,
    /// Inbound high 32 bits.
    pub seq_hi: u32,
    /// The window in packets.
    pub replay_window: u32,
    /// The bitmap (`bmp_len` words).
    pub bitmap: Vec<u32>,
}

impl ReplayEsn {
    /// A fresh state for a window of `window` packets.
    pub fn new(window: u32) -> ReplayEsn {
        ReplayEsn {
            replay_window: window,
            bitmap: vec![0; window.div_ceil(32) as usize],
            ..ReplayEsn::default()
        }
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(24 + 4 * self.bitmap.len());
        for v in [
            self.bitmap.len() as u32,
            self.oseq,
            self.seq,
            self.oseq_hi,
            self.seq_hi,
            self.replay_window,
        ] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        for w in &self.bitmap {
            b.extend_from_slice(&w.to_ne_bytes());
        }
        b
    }

    pub(crate) fn parse(v: &[u8]) -> Option<ReplayEsn> {
        if v.len() < 24 {
            return None;
        }
        let r = Rd(v);
        let n = r.u32(0) as usize;
        let bitmap = v
            .get(24..)?
            .chunks_exact(4)
            .take(n)
            .map(|c| Rd(c).u32(0))
            .collect();
        Some(ReplayEsn {
            oseq: r.u32(4),
            seq: r.u32(8),
            oseq_hi: r.u32(12),
            seq_hi: r.u32(16),
            replay_window: r.u32(20),
            bitmap,
        })
    }
}

/// `struct xfrm_replay_state` (the legacy, 32-packet anti-replay state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Replay {
    /// Outbound sequence number.
    pub oseq: u32,
    /// Inbound sequence number.
    pub seq: u32,
    /// The window bitmap.
    pub bitmap: u32,
}

impl Replay {
    pub(crate) fn parse(v: &[u8]) -> Option<Replay> {
        let r = Rd(v);
        (v.len() >= 12).then(|| Replay {
            oseq: r.u32(0),
            seq: r.u32(4),
            bitmap: r.u32(8),
        })
    }
}
