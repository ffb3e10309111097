//! `struct tcp_info` (INET_DIAG_INFO for TCP) as a versioned view: every
//! field is read at its fixed offset from whatever length the kernel sent,
//! so older kernels (shorter layouts) give `None` for the fields they lack
//! and newer kernels (longer layouts) keep their extra bytes reachable.

use bytes::Bytes;

use super::codec::{u16_at, u32_at, u64_at};

/// `struct tcp_info` as the kernel sent it (a zero-copy slice of the reply).
///
/// Field accessors return `None` when the kernel's structure is too short
/// to hold the field. Layout milestones: 104 bytes (Linux 2.6), 144 (3.15,
/// pacing and byte counters), 192 (4.10), 232 (5.4, `snd_wnd`), 248 (6.7,
/// RTO totals), 280 (AccECN counters).
#[derive(Clone, PartialEq, Eq)]
pub struct TcpInfo {
    bytes: Bytes,
}

impl std::fmt::Debug for TcpInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpInfo")
            .field("len", &self.len())
            .field("state", &self.state())
            .field("rtt", &self.rtt())
            .field("snd_cwnd", &self.snd_cwnd())
            .field("bytes_acked", &self.bytes_acked())
            .field("bytes_received", &self.bytes_received())
            .finish_non_exhaustive()
    }
}

macro_rules! fields {
    ($($(#[$doc:meta])* $name:ident: $ty:ident @ $off:expr;)*) => {
        impl TcpInfo {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Option<$ty> {
                    fields!(@read $ty, &self.bytes, $off)
                }
            )*
        }

        #[cfg(feature = "serde")]
        impl TcpInfo {
            /// Writes every field the kernel's layout holds, by name.
            pub(crate) fn serialize_fields<M: ::serde::ser::SerializeMap>(
                &self,
                m: &mut M,
            ) -> Result<(), M::Error> {
                $(
                    if let Some(v) = self.$name() {
                        m.serialize_entry(stringify!($name), &v)?;
                    }
                )*
                Ok(())
            }
        }
    };
    (@read u8, $b:expr, $off:expr) => { $b.get($off).copied() };
    (@read u16, $b:expr, $off:expr) => { u16_at($b, $off) };
    (@read u32, $b:expr, $off:expr) => { u32_at($b, $off) };
    (@read u64, $b:expr, $off:expr) => { u64_at($b, $off) };
}

impl TcpInfo {
    /// The largest layout this crate names fields of.
    pub const KNOWN_LEN: usize = 280;

    /// Wraps the INET_DIAG_INFO value (any length).
    pub fn new(bytes: Bytes) -> TcpInfo {
        TcpInfo { bytes }
    }

    /// The raw bytes, as long as the kernel sent them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bytes the kernel sent (its `sizeof(struct tcp_info)`).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when the kernel sent nothing.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes past the fields this crate knows (a newer kernel's fields).
    pub fn unknown_tail(&self) -> &[u8] {
        self.bytes.get(Self::KNOWN_LEN..).unwrap_or(&[])
    }

    /// Send window scale (`wscale:S,R` in `ss -i`).
    pub fn snd_wscale(&self) -> Option<u8> {
        self.bytes.get(6).map(|b| b & 0x0f)
    }

    /// Receive window scale.
    pub fn rcv_wscale(&self) -> Option<u8> {
        self.bytes.get(6).map(|b| b >> 4)
    }

    /// The delivery rate was application-limited.
    pub fn delivery_rate_app_limited(&self) -> Option<bool> {
        self.bytes.get(7).map(|b| b & 1 != 0)
    }

    /// Why a TCP Fast Open client attempt failed (0: it did not).
    pub fn fastopen_client_fail(&self) -> Option<u8> {
        self.bytes.get(7).map(|b| (b >> 1) & 3)
    }
}

fields! {
    /// TCP state (1 ESTABLISHED … 10 LISTEN).
    state: u8 @ 0;
    /// Congestion-avoidance state (0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss).
    ca_state: u8 @ 1;
    /// Retransmits of the pending timer.
    retransmits: u8 @ 2;
    /// Zero-window probes sent.
    probes: u8 @ 3;
    /// Exponential backoff.
    backoff: u8 @ 4;
    /// TCPI_OPT_* bits (1 timestamps, 2 SACK, 4 wscale, 8 ECN, 16 ECN seen, 32 SYN data).
    options: u8 @ 5;
    /// Retransmission timeout, µs.
    rto: u32 @ 8;
    /// Delayed-ACK timeout, µs.
    ato: u32 @ 12;
    /// Send MSS.
    snd_mss: u32 @ 16;
    /// Receive MSS estimate.
    rcv_mss: u32 @ 20;
    /// Unacknowledged segments.
    unacked: u32 @ 24;
    /// SACKed segments.
    sacked: u32 @ 28;
    /// Lost segments.
    lost: u32 @ 32;
    /// Retransmitted segments in flight.
    retrans: u32 @ 36;
    /// Forward-acked segments (unused since 4.15).
    fackets: u32 @ 40;
    /// Milliseconds since data was last sent.
    last_data_sent: u32 @ 44;
    /// Milliseconds since an ACK was last sent (not tracked by Linux).
    last_ack_sent: u32 @ 48;
    /// Milliseconds since data was last received.
    last_data_recv: u32 @ 52;
    /// Milliseconds since an ACK was last received.
    last_ack_recv: u32 @ 56;
    /// Path MTU.
    pmtu: u32 @ 60;
    /// Receive slow-start threshold.
    rcv_ssthresh: u32 @ 64;
    /// Smoothed RTT, µs.
    rtt: u32 @ 68;
    /// RTT variance, µs.
    rttvar: u32 @ 72;
    /// Send slow-start threshold.
    snd_ssthresh: u32 @ 76;
    /// Congestion window, segments.
    snd_cwnd: u32 @ 80;
    /// Advertised MSS.
    advmss: u32 @ 84;
    /// Reordering metric.
    reordering: u32 @ 88;
    /// Receiver-side RTT estimate, µs.
    rcv_rtt: u32 @ 92;
    /// Receive-buffer autotuning space.
    rcv_space: u32 @ 96;
    /// Total retransmitted segments.
    total_retrans: u32 @ 100;
    /// Pacing rate, bytes per second.
    pacing_rate: u64 @ 104;
    /// Maximum pacing rate, bytes per second.
    max_pacing_rate: u64 @ 112;
    /// Bytes acknowledged by the peer (RFC 4898 HCThruOctetsAcked).
    bytes_acked: u64 @ 120;
    /// Bytes received (RFC 4898 HCThruOctetsReceived).
    bytes_received: u64 @ 128;
    /// Segments sent.
    segs_out: u32 @ 136;
    /// Segments received.
    segs_in: u32 @ 140;
    /// Bytes written but not yet sent.
    notsent_bytes: u32 @ 144;
    /// Minimum RTT, µs.
    min_rtt: u32 @ 148;
    /// Data segments received.
    data_segs_in: u32 @ 152;
    /// Data segments sent.
    data_segs_out: u32 @ 156;
    /// Delivery rate, bytes per second.
    delivery_rate: u64 @ 160;
    /// Time busy sending, µs.
    busy_time: u64 @ 168;
    /// Time limited by the receive window, µs.
    rwnd_limited: u64 @ 176;
    /// Time limited by the send buffer, µs.
    sndbuf_limited: u64 @ 184;
    /// Segments delivered.
    delivered: u32 @ 192;
    /// Segments delivered with CE marks.
    delivered_ce: u32 @ 196;
    /// Bytes sent, retransmissions included.
    bytes_sent: u64 @ 200;
    /// Bytes retransmitted.
    bytes_retrans: u64 @ 208;
    /// DSACK blocks received.
    dsack_dups: u32 @ 216;
    /// Reordering events seen.
    reord_seen: u32 @ 220;
    /// Out-of-order packets received.
    rcv_ooopack: u32 @ 224;
    /// Peer's advertised receive window, bytes.
    snd_wnd: u32 @ 228;
    /// Local advertised receive window, bytes (6.2+).
    rcv_wnd: u32 @ 232;
    /// PLB or timeout-triggered rehash attempts (6.2+).
    rehash: u32 @ 236;
    /// RTO timeouts, SYN/SYN-ACK included (6.7+).
    total_rto: u16 @ 240;
    /// RTO recoveries (6.7+).
    total_rto_recoveries: u16 @ 242;
    /// Time spent in RTO recoveries, ms (6.7+).
    total_rto_time: u32 @ 244;
    /// CE marks received (AccECN kernels).
    received_ce: u32 @ 248;
    /// AccECN: ECT(1) bytes delivered.
    delivered_e1_bytes: u32 @ 252;
    /// AccECN: ECT(0) bytes delivered.
    delivered_e0_bytes: u32 @ 256;
    /// AccECN: CE bytes delivered.
    delivered_ce_bytes: u32 @ 260;
    /// AccECN: ECT(1) bytes received.
    received_e1_bytes: u32 @ 264;
    /// AccECN: ECT(0) bytes received.
    received_e0_bytes: u32 @ 268;
    /// AccECN: CE bytes received.
    received_ce_bytes: u32 @ 272;
    /// AccECN failure mode.
    accecn_fail_mode: u16 @ 276;
    /// AccECN option seen.
    accecn_opt_seen: u16 @ 278;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> TcpInfo {
        let mut b: Vec<u8> = (0..len).map(|i| i as u8).collect();
        if len >= 128 {
            b[120..128].copy_from_slice(&1234567u64.to_ne_bytes());
        }
        TcpInfo::new(Bytes::from(b))
    }

    #[test]
    fn fields_follow_the_length_the_kernel_sent() {
        let old = sample(104);
        assert_eq!(old.state(), Some(0));
        assert_eq!(
            old.total_retrans(),
            Some(u32::from_ne_bytes([100, 101, 102, 103]))
        );
        assert_eq!(old.pacing_rate(), None);
        assert_eq!(old.bytes_acked(), None);

        let v415 = sample(192);
        assert_eq!(v415.bytes_acked(), Some(1234567));
        assert!(v415.sndbuf_limited().is_some());
        assert_eq!(v415.delivered(), None);

        let v67 = sample(248);
        assert!(v67.total_rto_time().is_some());
        assert!(v67.received_ce().is_none());
        assert!(v67.unknown_tail().is_empty());

        let future = sample(300);
        assert!(future.accecn_opt_seen().is_some());
        assert_eq!(future.unknown_tail().len(), 20);
        assert_eq!(future.len(), 300);

        let tiny = sample(3);
        assert_eq!(tiny.snd_wscale(), None);
        assert_eq!(tiny.rto(), None);
        assert_eq!(tiny.probes(), None);
        let empty = TcpInfo::new(Bytes::new());
        assert!(empty.is_empty());
        assert_eq!(empty.state(), None);
    }

    #[test]
    fn bitfields() {
        let mut b = vec![0u8; 8];
        b[6] = 0x97; // snd 7, rcv 9
        b[7] = 0b101; // app limited, fastopen fail 2
        let t = TcpInfo::new(Bytes::from(b));
        assert_eq!(t.snd_wscale(), Some(7));
        assert_eq!(t.rcv_wscale(), Some(9));
        assert_eq!(t.delivery_rate_app_limited(), Some(true));
        assert_eq!(t.fastopen_client_fail(), Some(2));
    }
}
