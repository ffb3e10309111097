//! Fixed-layout attribute values of sock_diag replies: memory counters,
//! congestion-control info, socket options. Each parses from the bytes the
//! kernel sent (longer layouts accepted, shorter ones refused) and writes
//! itself back.

use super::codec::{u16_at, u32_at};

/// INET_DIAG_MEMINFO (`struct inet_diag_meminfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemInfo {
    /// Receive-queue memory.
    pub rmem: u32,
    /// Write-queue memory.
    pub wmem: u32,
    /// Forward-allocated memory.
    pub fmem: u32,
    /// Transmit memory.
    pub tmem: u32,
}

impl MemInfo {
    /// Wire length.
    pub const LEN: usize = 16;

    /// Parses the value; `None` when shorter than 16 bytes.
    pub fn parse(v: &[u8]) -> Option<MemInfo> {
        Some(MemInfo {
            rmem: u32_at(v, 0)?,
            wmem: u32_at(v, 4)?,
            fmem: u32_at(v, 8)?,
            tmem: u32_at(v, 12)?,
        })
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.rmem, self.wmem, self.fmem, self.tmem]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect()
    }
}

/// SK_MEMINFO_* counters (INET_DIAG_SKMEMINFO, UNIX_DIAG_MEMINFO, …): an
/// array of u32 the kernel may extend; accessors name the known slots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SkMemInfo(pub Vec<u32>);

impl SkMemInfo {
    /// Parses an array of u32 (a trailing partial word is ignored).
    pub fn parse(v: &[u8]) -> SkMemInfo {
        SkMemInfo(
            v.chunks_exact(4)
                .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    fn at(&self, i: usize) -> Option<u32> {
        self.0.get(i).copied()
    }

    /// SK_MEMINFO_RMEM_ALLOC (`r` in `ss -m`).
    pub fn rmem_alloc(&self) -> Option<u32> {
        self.at(0)
    }
    /// SK_MEMINFO_RCVBUF (`rb`).
    pub fn rcvbuf(&self) -> Option<u32> {
        self.at(1)
    }
    /// SK_MEMINFO_WMEM_ALLOC (`t`).
    pub fn wmem_alloc(&self) -> Option<u32> {
        self.at(2)
    }
    /// SK_MEMINFO_SNDBUF (`tb`).
    pub fn sndbuf(&self) -> Option<u32> {
        self.at(3)
    }
    /// SK_MEMINFO_FWD_ALLOC (`f`).
    pub fn fwd_alloc(&self) -> Option<u32> {
        self.at(4)
    }
    /// SK_MEMINFO_WMEM_QUEUED (`w`).
    pub fn wmem_queued(&self) -> Option<u32> {
        self.at(5)
    }
    /// SK_MEMINFO_OPTMEM (`o`).
    pub fn optmem(&self) -> Option<u32> {
        self.at(6)
    }
    /// SK_MEMINFO_BACKLOG (`bl`).
    pub fn backlog(&self) -> Option<u32> {
        self.at(7)
    }
    /// SK_MEMINFO_DROPS (`d`).
    pub fn drops(&self) -> Option<u32> {
        self.at(8)
    }
}

/// INET_DIAG_VEGASINFO (`struct tcpvegas_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VegasInfo {
    /// Vegas enabled.
    pub enabled: u32,
    /// RTT samples.
    pub rttcnt: u32,
    /// RTT, µs.
    pub rtt: u32,
    /// Minimum RTT, µs.
    pub minrtt: u32,
}

impl VegasInfo {
    /// Parses the value; `None` when shorter than 16 bytes.
    pub fn parse(v: &[u8]) -> Option<VegasInfo> {
        Some(VegasInfo {
            enabled: u32_at(v, 0)?,
            rttcnt: u32_at(v, 4)?,
            rtt: u32_at(v, 8)?,
            minrtt: u32_at(v, 12)?,
        })
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.enabled, self.rttcnt, self.rtt, self.minrtt]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect()
    }
}

/// INET_DIAG_DCTCPINFO (`struct tcp_dctcp_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DctcpInfo {
    /// DCTCP enabled.
    pub enabled: u16,
    /// CE state.
    pub ce_state: u16,
    /// Alpha.
    pub alpha: u32,
    /// ECN-marked bytes acked.
    pub ab_ecn: u32,
    /// Total bytes acked.
    pub ab_tot: u32,
}

impl DctcpInfo {
    /// Parses the value; `None` when shorter than 16 bytes.
    pub fn parse(v: &[u8]) -> Option<DctcpInfo> {
        Some(DctcpInfo {
            enabled: u16_at(v, 0)?,
            ce_state: u16_at(v, 2)?,
            alpha: u32_at(v, 4)?,
            ab_ecn: u32_at(v, 8)?,
            ab_tot: u32_at(v, 12)?,
        })
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16);
        b.extend(self.enabled.to_ne_bytes());
        b.extend(self.ce_state.to_ne_bytes());
        for w in [self.alpha, self.ab_ecn, self.ab_tot] {
            b.extend(w.to_ne_bytes());
        }
        b
    }
}

/// INET_DIAG_BBRINFO (`struct tcp_bbr_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BbrInfo {
    /// Bandwidth estimate, bytes per second.
    pub bw: u64,
    /// Minimum RTT, µs.
    pub min_rtt: u32,
    /// Pacing gain, shifted left 8 bits.
    pub pacing_gain: u32,
    /// Cwnd gain, shifted left 8 bits.
    pub cwnd_gain: u32,
}

impl BbrInfo {
    /// Parses the value; `None` when shorter than 20 bytes.
    pub fn parse(v: &[u8]) -> Option<BbrInfo> {
        Some(BbrInfo {
            bw: u64::from(u32_at(v, 0)?) | (u64::from(u32_at(v, 4)?) << 32),
            min_rtt: u32_at(v, 8)?,
            pacing_gain: u32_at(v, 12)?,
            cwnd_gain: u32_at(v, 16)?,
        })
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        [
            self.bw as u32,
            (self.bw >> 32) as u32,
            self.min_rtt,
            self.pacing_gain,
            self.cwnd_gain,
        ]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect()
    }
}

/// INET_DIAG_SOCKOPT (`struct inet_diag_sockopt`): two bytes of flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SockOpt(pub u16);

impl SockOpt {
    /// Parses the value; `None` when shorter than 2 bytes.
    pub fn parse(v: &[u8]) -> Option<SockOpt> {
        Some(SockOpt(
            u16::from(*v.first()?) | (u16::from(*v.get(1)?) << 8),
        ))
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        vec![self.0 as u8, (self.0 >> 8) as u8]
    }

    fn bit(&self, n: u16) -> bool {
        self.0 & (1 << n) != 0
    }
    /// IP_RECVERR.
    pub fn recverr(&self) -> bool {
        self.bit(0)
    }
    /// A connection-oriented (inet_connection_sock) socket.
    pub fn is_icsk(&self) -> bool {
        self.bit(1)
    }
    /// IP_FREEBIND.
    pub fn freebind(&self) -> bool {
        self.bit(2)
    }
    /// IP_HDRINCL.
    pub fn hdrincl(&self) -> bool {
        self.bit(3)
    }
    /// IP_MULTICAST_LOOP.
    pub fn mc_loop(&self) -> bool {
        self.bit(4)
    }
    /// IP_TRANSPARENT.
    pub fn transparent(&self) -> bool {
        self.bit(5)
    }
    /// IP_MULTICAST_ALL.
    pub fn mc_all(&self) -> bool {
        self.bit(6)
    }
    /// IP_NODEFRAG.
    pub fn nodefrag(&self) -> bool {
        self.bit(7)
    }
    /// IP_BIND_ADDRESS_NO_PORT.
    pub fn bind_address_no_port(&self) -> bool {
        self.bit(8)
    }
    /// IP_RECVERR_RFC4884.
    pub fn recverr_rfc4884(&self) -> bool {
        self.bit(9)
    }
    /// TCP_DEFER_ACCEPT-style deferred connect (TCP_FASTOPEN_CONNECT).
    pub fn defer_connect(&self) -> bool {
        self.bit(10)
    }
}

/// PACKET_DIAG_INFO (`struct packet_diag_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketInfo {
    /// Bound interface index.
    pub index: u32,
    /// TPACKET version.
    pub version: u32,
    /// Reserved headroom.
    pub reserve: u32,
    /// Copy threshold.
    pub copy_thresh: u32,
    /// Timestamping source.
    pub tstamp: u32,
    /// PDI_* flags (RUNNING 1, AUXDATA 2, ORIGDEV 4, VNETHDR 8, LOSS 16).
    pub flags: u32,
}

impl PacketInfo {
    /// Parses the value; `None` when shorter than 24 bytes.
    pub fn parse(v: &[u8]) -> Option<PacketInfo> {
        Some(PacketInfo {
            index: u32_at(v, 0)?,
            version: u32_at(v, 4)?,
            reserve: u32_at(v, 8)?,
            copy_thresh: u32_at(v, 12)?,
            tstamp: u32_at(v, 16)?,
            flags: u32_at(v, 20)?,
        })
    }

    /// The value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        [
            self.index,
            self.version,
            self.reserve,
            self.copy_thresh,
            self.tstamp,
            self.flags,
        ]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect()
    }
}
