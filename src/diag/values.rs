//! Fixed-layout attribute values of sock_diag replies: memory counters,
//! congestion-control info, socket options. Each parses from the bytes the
//! kernel sent (longer layouts accepted, shorter ones refused) and writes
//! itself back.

use bytes::Bytes;

use super::codec::{u16_at, u32_at, u64_at};
use crate::conn::attrs;

/// INET_DIAG_MEMINFO (`struct inet_diag_meminfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
    /// A connect deferred to the first write (TCP_FASTOPEN_CONNECT: the
    /// SYN goes out with the first data).
    pub fn defer_connect(&self) -> bool {
        self.bit(10)
    }
}

/// INET_DIAG_ULP_INFO: a TCP socket's upper-layer protocol (`tls`,
/// `mptcp`), nested INET_ULP_INFO_* attributes the kernel sends to
/// CAP_NET_ADMIN callers with [`Extensions::INFO`](super::Extensions::INFO).
/// A view over the value's bytes: accessors decode what they read, and a
/// malformed nested attribute ends the walk (it is never an error).
#[derive(Clone, PartialEq, Eq)]
pub struct UlpInfo {
    bytes: Bytes,
}

impl std::fmt::Debug for UlpInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UlpInfo")
            .field("name", &self.name())
            .field("tls", &self.tls())
            .field("mptcp", &self.mptcp())
            .finish()
    }
}

impl UlpInfo {
    /// INET_ULP_INFO_NAME.
    pub const NAME: u16 = 1;
    /// INET_ULP_INFO_TLS.
    pub const TLS: u16 = 2;
    /// INET_ULP_INFO_MPTCP.
    pub const MPTCP: u16 = 3;

    /// Wraps the INET_DIAG_ULP_INFO value.
    pub fn new(bytes: Bytes) -> UlpInfo {
        UlpInfo { bytes }
    }

    /// The value's bytes, as the kernel sent them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The ULP's name (`tls`, `mptcp`, …).
    pub fn name(&self) -> Option<&str> {
        attrs::nested_get(&self.bytes, Self::NAME).and_then(attrs::str_of)
    }

    /// kTLS state (INET_ULP_INFO_TLS), for the `tls` ULP.
    pub fn tls(&self) -> Option<TlsInfo> {
        attrs::nested_get(&self.bytes, Self::TLS).map(TlsInfo::parse)
    }

    /// MPTCP subflow state (INET_ULP_INFO_MPTCP), for a subflow's `mptcp` ULP.
    pub fn mptcp(&self) -> Option<MptcpSubflowInfo> {
        attrs::nested_get(&self.bytes, Self::MPTCP).map(MptcpSubflowInfo::parse)
    }
}

/// The TLS_INFO_* attributes of a kTLS socket (linux/tls.h). Absent
/// attributes are `None` (the kernel omits version and cipher until keys
/// are installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct TlsInfo {
    /// TLS_INFO_VERSION: 0x0303 TLS 1.2, 0x0304 TLS 1.3.
    pub version: Option<u16>,
    /// TLS_INFO_CIPHER: TLS_CIPHER_* (51 AES-GCM-128, 52 AES-GCM-256, …).
    pub cipher: Option<u16>,
    /// TLS_INFO_TXCONF: TLS_CONF_* (1 none, 2 software, 3 device, 4 device
    /// record); see [`TlsInfo::conf_name`].
    pub tx_conf: Option<u16>,
    /// TLS_INFO_RXCONF, as `tx_conf`.
    pub rx_conf: Option<u16>,
    /// TLS_INFO_ZC_RO_TX: zero-copy sendfile (device offload only).
    pub zerocopy_tx: bool,
    /// TLS_INFO_RX_NO_PAD: the receiver expects no TLS 1.3 padding.
    pub rx_no_pad: bool,
}

impl TlsInfo {
    /// TLS 1.2 (`TLS_1_2_VERSION`).
    pub const TLS_1_2: u16 = 0x0303;
    /// TLS 1.3 (`TLS_1_3_VERSION`).
    pub const TLS_1_3: u16 = 0x0304;
    /// TLS_CIPHER_AES_GCM_128.
    pub const AES_GCM_128: u16 = 51;
    /// TLS_CIPHER_AES_GCM_256.
    pub const AES_GCM_256: u16 = 52;

    /// Decodes the nested TLS_INFO_* attributes (unknown ones are skipped).
    pub fn parse(v: &[u8]) -> TlsInfo {
        let mut t = TlsInfo::default();
        for (ty, v) in attrs::nested(v) {
            let word = u16_at(v, 0);
            match ty {
                1 => t.version = word,
                2 => t.cipher = word,
                3 => t.tx_conf = word,
                4 => t.rx_conf = word,
                5 => t.zerocopy_tx = true,
                6 => t.rx_no_pad = true,
                _ => {}
            }
        }
        t
    }

    /// The version as `ss` names it (`1.2`, `1.3`).
    pub fn version_name(&self) -> Option<&'static str> {
        match self.version? {
            Self::TLS_1_2 => Some("1.2"),
            Self::TLS_1_3 => Some("1.3"),
            _ => None,
        }
    }

    /// The cipher's name (`aes-gcm-128`, as `ss` prints it, and the other
    /// TLS_CIPHER_* of linux/tls.h).
    pub fn cipher_name(&self) -> Option<&'static str> {
        Some(match self.cipher? {
            51 => "aes-gcm-128",
            52 => "aes-gcm-256",
            53 => "aes-ccm-128",
            54 => "chacha20-poly1305",
            55 => "sm4-gcm",
            56 => "sm4-ccm",
            57 => "aria-gcm-128",
            58 => "aria-gcm-256",
            _ => return None,
        })
    }

    /// A TLS_CONF_* value as `ss` names it: `none`, `sw`, `hw`, `hw-record`.
    pub fn conf_name(conf: u16) -> Option<&'static str> {
        Some(match conf {
            1 => "none",
            2 => "sw",
            3 => "hw",
            4 => "hw-record",
            _ => return None,
        })
    }
}

/// The MPTCP_SUBFLOW_ATTR_* attributes of an MPTCP subflow (a TCP socket
/// whose ULP is `mptcp`; linux/mptcp.h). Absent attributes are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct MptcpSubflowInfo {
    /// The peer's connection token.
    pub token_rem: Option<u32>,
    /// The local connection token.
    pub token_loc: Option<u32>,
    /// Relative write sequence.
    pub relwrite_seq: Option<u32>,
    /// Current mapping: data sequence number.
    pub map_seq: Option<u64>,
    /// Current mapping: subflow sequence number.
    pub map_sfseq: Option<u32>,
    /// Subflow sequence offset.
    pub ssn_offset: Option<u32>,
    /// Current mapping: length.
    pub map_datalen: Option<u16>,
    /// MPTCP_SUBFLOW_FLAG_* bits (see the `FLAG_` constants).
    pub flags: Option<u32>,
    /// The peer's address id.
    pub id_rem: Option<u8>,
    /// The local address id.
    pub id_loc: Option<u8>,
}

impl MptcpSubflowInfo {
    /// MP_CAPABLE received from the peer (`M` in `ss`).
    pub const FLAG_MCAP_REM: u32 = 1 << 0;
    /// MP_CAPABLE sent (`m`).
    pub const FLAG_MCAP_LOC: u32 = 1 << 1;
    /// MP_JOIN received (`J`).
    pub const FLAG_JOIN_REM: u32 = 1 << 2;
    /// MP_JOIN sent (`j`).
    pub const FLAG_JOIN_LOC: u32 = 1 << 3;
    /// Backup flag from the peer (`B`).
    pub const FLAG_BKUP_REM: u32 = 1 << 4;
    /// Backup flag sent (`b`).
    pub const FLAG_BKUP_LOC: u32 = 1 << 5;
    /// Fully established (`e`).
    pub const FLAG_FULLY_ESTABLISHED: u32 = 1 << 6;
    /// Connected (`c`).
    pub const FLAG_CONNECTED: u32 = 1 << 7;
    /// A valid data mapping (`v`).
    pub const FLAG_MAPVALID: u32 = 1 << 8;

    /// Decodes the nested MPTCP_SUBFLOW_ATTR_* attributes (unknown ones
    /// are skipped).
    pub fn parse(v: &[u8]) -> MptcpSubflowInfo {
        let mut m = MptcpSubflowInfo::default();
        for (ty, v) in attrs::nested(v) {
            match ty {
                1 => m.token_rem = u32_at(v, 0),
                2 => m.token_loc = u32_at(v, 0),
                3 => m.relwrite_seq = u32_at(v, 0),
                4 => m.map_seq = u64_at(v, 0),
                5 => m.map_sfseq = u32_at(v, 0),
                6 => m.ssn_offset = u32_at(v, 0),
                7 => m.map_datalen = u16_at(v, 0),
                8 => m.flags = u32_at(v, 0),
                9 => m.id_rem = v.first().copied(),
                10 => m.id_loc = v.first().copied(),
                _ => {}
            }
        }
        m
    }
}

/// PACKET_DIAG_INFO (`struct packet_diag_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
