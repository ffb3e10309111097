//! Owned, fully decoded replies: `inet_diag_msg`, `unix_diag_msg`,
//! `netlink_diag_msg`, `packet_diag_msg` and their attributes. The typed
//! views ([`super::InetSocket`], …) read the same bytes lazily and are the
//! fast path; these are for callers who want plain values.

use bytes::Bytes;
use netlink_packet_core::DecodeError;

use super::codec::{
    INET_MSG_LEN, NETLINK_MSG_LEN, PACKET_MSG_LEN, SOCKID_LEN, SockId, UNIX_MSG_LEN, attr_len,
    parse_attrs, put_attr, u16_at, u32_at, u64_at,
};
use super::tcp_info::TcpInfo;
use super::values::{
    BbrInfo, DctcpInfo, MemInfo, PacketInfo, SkMemInfo, SockOpt, UlpInfo, VegasInfo,
};

/// INET_DIAG_* reply attribute types (linux/inet_diag.h).
#[allow(missing_docs)]
pub mod inet_attr {
    pub const MEMINFO: u16 = 1;
    pub const INFO: u16 = 2;
    pub const VEGASINFO: u16 = 3;
    pub const CONG: u16 = 4;
    pub const TOS: u16 = 5;
    pub const TCLASS: u16 = 6;
    pub const SKMEMINFO: u16 = 7;
    pub const SHUTDOWN: u16 = 8;
    pub const DCTCPINFO: u16 = 9;
    pub const PROTOCOL: u16 = 10;
    pub const SKV6ONLY: u16 = 11;
    pub const LOCALS: u16 = 12;
    pub const PEERS: u16 = 13;
    pub const PAD: u16 = 14;
    pub const MARK: u16 = 15;
    pub const BBRINFO: u16 = 16;
    pub const CLASS_ID: u16 = 17;
    pub const MD5SIG: u16 = 18;
    pub const ULP_INFO: u16 = 19;
    pub const SK_BPF_STORAGES: u16 = 20;
    pub const CGROUP_ID: u16 = 21;
    pub const SOCKOPT: u16 = 22;
}

/// UNIX_DIAG_* reply attribute types (linux/unix_diag.h).
#[allow(missing_docs)]
pub mod unix_attr {
    pub const NAME: u16 = 0;
    pub const VFS: u16 = 1;
    pub const PEER: u16 = 2;
    pub const ICONS: u16 = 3;
    pub const RQLEN: u16 = 4;
    pub const MEMINFO: u16 = 5;
    pub const SHUTDOWN: u16 = 6;
    pub const UID: u16 = 7;
}

/// NETLINK_DIAG_* reply attribute types (linux/netlink_diag.h).
#[allow(missing_docs)]
pub mod netlink_attr {
    pub const MEMINFO: u16 = 0;
    pub const GROUPS: u16 = 1;
    pub const RX_RING: u16 = 2;
    pub const TX_RING: u16 = 3;
    pub const FLAGS: u16 = 4;
}

/// PACKET_DIAG_* reply attribute types (linux/packet_diag.h).
#[allow(missing_docs)]
pub mod packet_attr {
    pub const INFO: u16 = 0;
    pub const MCLIST: u16 = 1;
    pub const RX_RING: u16 = 2;
    pub const TX_RING: u16 = 3;
    pub const FANOUT: u16 = 4;
    pub const UID: u16 = 5;
    pub const MEMINFO: u16 = 6;
    pub const FILTER: u16 = 7;
}

fn emit_attrs(b: &mut [u8], mut off: usize, attrs: &[(u16, Vec<u8>)]) {
    for (t, v) in attrs {
        off += put_attr(&mut b[off..], *t, v);
    }
}

fn attrs_len(attrs: &[(u16, Vec<u8>)]) -> usize {
    attrs.iter().map(|(_, v)| attr_len(v.len())).sum()
}

fn cstr(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

fn cstr_bytes(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

// ------------------------------------------------------------ inet

/// The fixed part of `struct inet_diag_msg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InetHeader {
    /// AF_INET or AF_INET6.
    pub family: u8,
    /// TCP_* state (1 ESTABLISHED … 10 LISTEN, 12 NEW_SYN_RECV).
    pub state: u8,
    /// Pending timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero
    /// window probe.
    pub timer: u8,
    /// Retransmits (or probes) of the pending timer.
    pub retrans: u8,
    /// The socket's id.
    pub id: SockId,
    /// Milliseconds until the timer fires.
    pub expires: u32,
    /// Receive queue (listeners: accept backlog).
    pub rqueue: u32,
    /// Send queue (listeners: backlog limit).
    pub wqueue: u32,
    /// Owner uid.
    pub uid: u32,
    /// Inode.
    pub inode: u32,
}

impl InetHeader {
    /// Parses the 72 bytes of `struct inet_diag_msg`.
    pub fn parse(b: &[u8]) -> Option<InetHeader> {
        let b = b.get(..INET_MSG_LEN)?;
        Some(InetHeader {
            family: b[0],
            state: b[1],
            timer: b[2],
            retrans: b[3],
            id: SockId::parse(&b[4..4 + SOCKID_LEN])?,
            expires: u32_at(b, 52)?,
            rqueue: u32_at(b, 56)?,
            wqueue: u32_at(b, 60)?,
            uid: u32_at(b, 64)?,
            inode: u32_at(b, 68)?,
        })
    }

    fn emit(&self, b: &mut [u8]) {
        b[0] = self.family;
        b[1] = self.state;
        b[2] = self.timer;
        b[3] = self.retrans;
        self.id.emit(&mut b[4..52]);
        for (i, w) in [self.expires, self.rqueue, self.wqueue, self.uid, self.inode]
            .iter()
            .enumerate()
        {
            b[52 + 4 * i..56 + 4 * i].copy_from_slice(&w.to_ne_bytes());
        }
    }
}

/// One INET_DIAG_* attribute of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InetAttr {
    /// INET_DIAG_MEMINFO.
    MemInfo(MemInfo),
    /// INET_DIAG_INFO: `struct tcp_info` for TCP (other protocols send
    /// their own structure, e.g. MPTCP's `mptcp_info`; read it raw).
    Info(TcpInfo),
    /// INET_DIAG_VEGASINFO.
    Vegas(VegasInfo),
    /// INET_DIAG_CONG: the congestion-control algorithm.
    Cong(String),
    /// INET_DIAG_TOS.
    Tos(u8),
    /// INET_DIAG_TCLASS.
    TClass(u8),
    /// INET_DIAG_SKMEMINFO.
    SkMemInfo(SkMemInfo),
    /// INET_DIAG_SHUTDOWN: bit 0 receive side, bit 1 send side.
    Shutdown(u8),
    /// INET_DIAG_DCTCPINFO.
    Dctcp(DctcpInfo),
    /// INET_DIAG_PROTOCOL.
    Protocol(u8),
    /// INET_DIAG_SKV6ONLY.
    V6Only(u8),
    /// INET_DIAG_MARK.
    Mark(u32),
    /// INET_DIAG_BBRINFO.
    Bbr(BbrInfo),
    /// INET_DIAG_CLASS_ID.
    ClassId(u32),
    /// INET_DIAG_CGROUP_ID.
    CgroupId(u64),
    /// INET_DIAG_SOCKOPT.
    SockOpt(SockOpt),
    /// INET_DIAG_ULP_INFO (its bytes kept as sent, so it re-encodes as is).
    Ulp(UlpInfo),
    /// Anything else (LOCALS, PEERS, PAD, MD5SIG, SK_BPF_STORAGES, newer
    /// types, or a known type of unexpected size), raw.
    Other(u16, Vec<u8>),
}

impl InetAttr {
    /// Decodes one attribute; a value too short for its type stays raw.
    pub fn from_value(ty: u16, v: &[u8]) -> InetAttr {
        use inet_attr as a;
        let typed = match ty {
            a::MEMINFO => MemInfo::parse(v).map(InetAttr::MemInfo),
            a::INFO => Some(InetAttr::Info(TcpInfo::new(Bytes::copy_from_slice(v)))),
            a::VEGASINFO => VegasInfo::parse(v).map(InetAttr::Vegas),
            a::CONG => Some(InetAttr::Cong(cstr(v))),
            a::TOS if v.len() == 1 => Some(InetAttr::Tos(v[0])),
            a::TCLASS if v.len() == 1 => Some(InetAttr::TClass(v[0])),
            a::SKMEMINFO => Some(InetAttr::SkMemInfo(SkMemInfo::parse(v))),
            a::SHUTDOWN if v.len() == 1 => Some(InetAttr::Shutdown(v[0])),
            a::DCTCPINFO => DctcpInfo::parse(v).map(InetAttr::Dctcp),
            a::PROTOCOL if v.len() == 1 => Some(InetAttr::Protocol(v[0])),
            a::SKV6ONLY if v.len() == 1 => Some(InetAttr::V6Only(v[0])),
            a::MARK if v.len() == 4 => u32_at(v, 0).map(InetAttr::Mark),
            a::BBRINFO => BbrInfo::parse(v).map(InetAttr::Bbr),
            a::CLASS_ID if v.len() == 4 => u32_at(v, 0).map(InetAttr::ClassId),
            a::CGROUP_ID if v.len() == 8 => u64_at(v, 0).map(InetAttr::CgroupId),
            a::SOCKOPT if v.len() == 2 => SockOpt::parse(v).map(InetAttr::SockOpt),
            a::ULP_INFO => Some(InetAttr::Ulp(UlpInfo::new(Bytes::copy_from_slice(v)))),
            _ => None,
        };
        typed.unwrap_or_else(|| InetAttr::Other(ty, v.to_vec()))
    }

    /// The attribute's type and value bytes.
    pub fn to_value(&self) -> (u16, Vec<u8>) {
        use inet_attr as a;
        match self {
            InetAttr::MemInfo(m) => (a::MEMINFO, m.to_bytes()),
            InetAttr::Info(i) => (a::INFO, i.as_bytes().to_vec()),
            InetAttr::Vegas(x) => (a::VEGASINFO, x.to_bytes()),
            InetAttr::Cong(s) => (a::CONG, cstr_bytes(s)),
            InetAttr::Tos(x) => (a::TOS, vec![*x]),
            InetAttr::TClass(x) => (a::TCLASS, vec![*x]),
            InetAttr::SkMemInfo(m) => (a::SKMEMINFO, m.to_bytes()),
            InetAttr::Shutdown(x) => (a::SHUTDOWN, vec![*x]),
            InetAttr::Dctcp(x) => (a::DCTCPINFO, x.to_bytes()),
            InetAttr::Protocol(x) => (a::PROTOCOL, vec![*x]),
            InetAttr::V6Only(x) => (a::SKV6ONLY, vec![*x]),
            InetAttr::Mark(x) => (a::MARK, x.to_ne_bytes().to_vec()),
            InetAttr::Bbr(x) => (a::BBRINFO, x.to_bytes()),
            InetAttr::ClassId(x) => (a::CLASS_ID, x.to_ne_bytes().to_vec()),
            InetAttr::CgroupId(x) => (a::CGROUP_ID, x.to_ne_bytes().to_vec()),
            InetAttr::SockOpt(x) => (a::SOCKOPT, x.to_bytes()),
            InetAttr::Ulp(u) => (a::ULP_INFO, u.as_bytes().to_vec()),
            InetAttr::Other(t, v) => (*t, v.clone()),
        }
    }
}

/// An inet socket, fully decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InetReply {
    /// The fixed header.
    pub header: InetHeader,
    /// The attributes, in the kernel's order.
    pub attributes: Vec<InetAttr>,
}

impl InetReply {
    fn values(&self) -> Vec<(u16, Vec<u8>)> {
        self.attributes.iter().map(InetAttr::to_value).collect()
    }

    pub(crate) fn buffer_len(&self) -> usize {
        INET_MSG_LEN + attrs_len(&self.values())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        self.header.emit(b);
        emit_attrs(b, INET_MSG_LEN, &self.values());
    }

    pub(crate) fn parse(b: &[u8]) -> Result<InetReply, DecodeError> {
        let header = InetHeader::parse(b).ok_or_else(|| {
            DecodeError::from(format!(
                "inet_diag_msg needs {INET_MSG_LEN} bytes, got {}",
                b.len()
            ))
        })?;
        let attributes = parse_attrs(&b[INET_MSG_LEN..])?
            .into_iter()
            .map(|(t, v)| InetAttr::from_value(t, v))
            .collect();
        Ok(InetReply { header, attributes })
    }
}

// ------------------------------------------------------------ unix

/// The fixed part of `struct unix_diag_msg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnixHeader {
    /// AF_UNIX.
    pub family: u8,
    /// SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5.
    pub kind: u8,
    /// TCP_* state numbering: 1 ESTABLISHED, 7 CLOSE (unconnected), 10 LISTEN.
    pub state: u8,
    /// Inode.
    pub ino: u32,
    /// Cookie words.
    pub cookie: [u32; 2],
}

/// One UNIX_DIAG_* attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnixAttr {
    /// UNIX_DIAG_NAME: the path, or an abstract name starting with NUL.
    Name(Vec<u8>),
    /// UNIX_DIAG_VFS: inode and device of the bound path.
    Vfs {
        /// Inode of the file.
        ino: u32,
        /// Device of the file.
        dev: u32,
    },
    /// UNIX_DIAG_PEER: the peer's inode.
    Peer(u32),
    /// UNIX_DIAG_ICONS: inodes of connections awaiting accept.
    Icons(Vec<u32>),
    /// UNIX_DIAG_RQLEN: receive and send queue (listeners: backlog and limit).
    RqLen {
        /// Receive queue.
        rqueue: u32,
        /// Send queue.
        wqueue: u32,
    },
    /// UNIX_DIAG_MEMINFO.
    MemInfo(SkMemInfo),
    /// UNIX_DIAG_SHUTDOWN.
    Shutdown(u8),
    /// UNIX_DIAG_UID.
    Uid(u32),
    /// Anything else, raw.
    Other(u16, Vec<u8>),
}

impl UnixAttr {
    /// Decodes one attribute; a value too short for its type stays raw.
    pub fn from_value(ty: u16, v: &[u8]) -> UnixAttr {
        use unix_attr as a;
        let typed = match ty {
            a::NAME => Some(UnixAttr::Name(v.to_vec())),
            a::VFS => u32_at(v, 0)
                .zip(u32_at(v, 4))
                .map(|(ino, dev)| UnixAttr::Vfs { ino, dev }),
            a::PEER if v.len() == 4 => u32_at(v, 0).map(UnixAttr::Peer),
            a::ICONS if v.len().is_multiple_of(4) => Some(UnixAttr::Icons(SkMemInfo::parse(v).0)),
            a::RQLEN => u32_at(v, 0)
                .zip(u32_at(v, 4))
                .map(|(rqueue, wqueue)| UnixAttr::RqLen { rqueue, wqueue }),
            a::MEMINFO => Some(UnixAttr::MemInfo(SkMemInfo::parse(v))),
            a::SHUTDOWN if v.len() == 1 => Some(UnixAttr::Shutdown(v[0])),
            a::UID if v.len() == 4 => u32_at(v, 0).map(UnixAttr::Uid),
            _ => None,
        };
        typed.unwrap_or_else(|| UnixAttr::Other(ty, v.to_vec()))
    }

    /// The attribute's type and value bytes.
    pub fn to_value(&self) -> (u16, Vec<u8>) {
        use unix_attr as a;
        let words = |w: &[u32]| w.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
        match self {
            UnixAttr::Name(n) => (a::NAME, n.clone()),
            UnixAttr::Vfs { ino, dev } => (a::VFS, words(&[*ino, *dev])),
            UnixAttr::Peer(p) => (a::PEER, words(&[*p])),
            UnixAttr::Icons(i) => (a::ICONS, words(i)),
            UnixAttr::RqLen { rqueue, wqueue } => (a::RQLEN, words(&[*rqueue, *wqueue])),
            UnixAttr::MemInfo(m) => (a::MEMINFO, m.to_bytes()),
            UnixAttr::Shutdown(s) => (a::SHUTDOWN, vec![*s]),
            UnixAttr::Uid(u) => (a::UID, words(&[*u])),
            UnixAttr::Other(t, v) => (*t, v.clone()),
        }
    }
}

/// A unix socket, fully decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnixReply {
    /// The fixed header.
    pub header: UnixHeader,
    /// The attributes.
    pub attributes: Vec<UnixAttr>,
}

impl UnixReply {
    fn values(&self) -> Vec<(u16, Vec<u8>)> {
        self.attributes.iter().map(UnixAttr::to_value).collect()
    }

    pub(crate) fn buffer_len(&self) -> usize {
        UNIX_MSG_LEN + attrs_len(&self.values())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        let h = &self.header;
        b[..4].copy_from_slice(&[h.family, h.kind, h.state, 0]);
        b[4..8].copy_from_slice(&h.ino.to_ne_bytes());
        b[8..12].copy_from_slice(&h.cookie[0].to_ne_bytes());
        b[12..16].copy_from_slice(&h.cookie[1].to_ne_bytes());
        emit_attrs(b, UNIX_MSG_LEN, &self.values());
    }

    pub(crate) fn parse(b: &[u8]) -> Result<UnixReply, DecodeError> {
        if b.len() < UNIX_MSG_LEN {
            return Err(
                format!("unix_diag_msg needs {UNIX_MSG_LEN} bytes, got {}", b.len()).into(),
            );
        }
        let w = |o| u32_at(b, o).unwrap_or_default();
        Ok(UnixReply {
            header: UnixHeader {
                family: b[0],
                kind: b[1],
                state: b[2],
                ino: w(4),
                cookie: [w(8), w(12)],
            },
            attributes: parse_attrs(&b[UNIX_MSG_LEN..])?
                .into_iter()
                .map(|(t, v)| UnixAttr::from_value(t, v))
                .collect(),
        })
    }
}

// ------------------------------------------------------------ netlink

/// The fixed part of `struct netlink_diag_msg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetlinkDiagHeader {
    /// AF_NETLINK.
    pub family: u8,
    /// SOCK_RAW or SOCK_DGRAM.
    pub kind: u8,
    /// NETLINK_* protocol.
    pub protocol: u8,
    /// State (NETLINK_CONNECTED 1 when connected).
    pub state: u8,
    /// Port id.
    pub portid: u32,
    /// Connected peer's port id.
    pub dst_portid: u32,
    /// Connected peer's group.
    pub dst_group: u32,
    /// Inode.
    pub ino: u32,
    /// Cookie words.
    pub cookie: [u32; 2],
}

/// One NETLINK_DIAG_* attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetlinkAttr {
    /// NETLINK_DIAG_MEMINFO.
    MemInfo(SkMemInfo),
    /// NETLINK_DIAG_GROUPS: the subscribed-groups bitmap.
    Groups(Vec<u8>),
    /// NETLINK_DIAG_FLAGS: NDIAG_FLAG_* bits.
    Flags(u32),
    /// Anything else, raw.
    Other(u16, Vec<u8>),
}

impl NetlinkAttr {
    fn from_value(ty: u16, v: &[u8]) -> NetlinkAttr {
        match ty {
            netlink_attr::MEMINFO => NetlinkAttr::MemInfo(SkMemInfo::parse(v)),
            netlink_attr::GROUPS => NetlinkAttr::Groups(v.to_vec()),
            netlink_attr::FLAGS if v.len() == 4 => {
                NetlinkAttr::Flags(u32_at(v, 0).unwrap_or_default())
            }
            _ => NetlinkAttr::Other(ty, v.to_vec()),
        }
    }

    fn to_value(&self) -> (u16, Vec<u8>) {
        match self {
            NetlinkAttr::MemInfo(m) => (netlink_attr::MEMINFO, m.to_bytes()),
            NetlinkAttr::Groups(g) => (netlink_attr::GROUPS, g.clone()),
            NetlinkAttr::Flags(f) => (netlink_attr::FLAGS, f.to_ne_bytes().to_vec()),
            NetlinkAttr::Other(t, v) => (*t, v.clone()),
        }
    }
}

/// A netlink socket, fully decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetlinkReply {
    /// The fixed header.
    pub header: NetlinkDiagHeader,
    /// The attributes.
    pub attributes: Vec<NetlinkAttr>,
}

impl NetlinkReply {
    fn values(&self) -> Vec<(u16, Vec<u8>)> {
        self.attributes.iter().map(NetlinkAttr::to_value).collect()
    }

    pub(crate) fn buffer_len(&self) -> usize {
        NETLINK_MSG_LEN + attrs_len(&self.values())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        let h = &self.header;
        b[..4].copy_from_slice(&[h.family, h.kind, h.protocol, h.state]);
        let words = [
            h.portid,
            h.dst_portid,
            h.dst_group,
            h.ino,
            h.cookie[0],
            h.cookie[1],
        ];
        for (i, w) in words.iter().enumerate() {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&w.to_ne_bytes());
        }
        emit_attrs(b, NETLINK_MSG_LEN, &self.values());
    }

    pub(crate) fn parse(b: &[u8]) -> Result<NetlinkReply, DecodeError> {
        if b.len() < NETLINK_MSG_LEN {
            return Err(format!(
                "netlink_diag_msg needs {NETLINK_MSG_LEN} bytes, got {}",
                b.len()
            )
            .into());
        }
        let w = |o| u32_at(b, o).unwrap_or_default();
        Ok(NetlinkReply {
            header: NetlinkDiagHeader {
                family: b[0],
                kind: b[1],
                protocol: b[2],
                state: b[3],
                portid: w(4),
                dst_portid: w(8),
                dst_group: w(12),
                ino: w(16),
                cookie: [w(20), w(24)],
            },
            attributes: parse_attrs(&b[NETLINK_MSG_LEN..])?
                .into_iter()
                .map(|(t, v)| NetlinkAttr::from_value(t, v))
                .collect(),
        })
    }
}

// ------------------------------------------------------------ packet

/// The fixed part of `struct packet_diag_msg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketHeader {
    /// AF_PACKET.
    pub family: u8,
    /// SOCK_RAW or SOCK_DGRAM.
    pub kind: u8,
    /// The bound protocol (ETH_P_*, host order as the kernel stores it).
    pub num: u16,
    /// Inode.
    pub ino: u32,
    /// Cookie words.
    pub cookie: [u32; 2],
}

/// One PACKET_DIAG_* attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketAttr {
    /// PACKET_DIAG_INFO.
    Info(PacketInfo),
    /// PACKET_DIAG_UID.
    Uid(u32),
    /// PACKET_DIAG_MEMINFO.
    MemInfo(SkMemInfo),
    /// Anything else (MCLIST, rings, FANOUT, FILTER), raw.
    Other(u16, Vec<u8>),
}

impl PacketAttr {
    fn from_value(ty: u16, v: &[u8]) -> PacketAttr {
        let typed = match ty {
            packet_attr::INFO => PacketInfo::parse(v).map(PacketAttr::Info),
            packet_attr::UID if v.len() == 4 => u32_at(v, 0).map(PacketAttr::Uid),
            packet_attr::MEMINFO => Some(PacketAttr::MemInfo(SkMemInfo::parse(v))),
            _ => None,
        };
        typed.unwrap_or_else(|| PacketAttr::Other(ty, v.to_vec()))
    }

    fn to_value(&self) -> (u16, Vec<u8>) {
        match self {
            PacketAttr::Info(i) => (packet_attr::INFO, i.to_bytes()),
            PacketAttr::Uid(u) => (packet_attr::UID, u.to_ne_bytes().to_vec()),
            PacketAttr::MemInfo(m) => (packet_attr::MEMINFO, m.to_bytes()),
            PacketAttr::Other(t, v) => (*t, v.clone()),
        }
    }
}

/// A packet socket, fully decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PacketReply {
    /// The fixed header.
    pub header: PacketHeader,
    /// The attributes.
    pub attributes: Vec<PacketAttr>,
}

impl PacketReply {
    fn values(&self) -> Vec<(u16, Vec<u8>)> {
        self.attributes.iter().map(PacketAttr::to_value).collect()
    }

    pub(crate) fn buffer_len(&self) -> usize {
        PACKET_MSG_LEN + attrs_len(&self.values())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        let h = &self.header;
        b[0] = h.family;
        b[1] = h.kind;
        b[2..4].copy_from_slice(&h.num.to_ne_bytes());
        b[4..8].copy_from_slice(&h.ino.to_ne_bytes());
        b[8..12].copy_from_slice(&h.cookie[0].to_ne_bytes());
        b[12..16].copy_from_slice(&h.cookie[1].to_ne_bytes());
        emit_attrs(b, PACKET_MSG_LEN, &self.values());
    }

    pub(crate) fn parse(b: &[u8]) -> Result<PacketReply, DecodeError> {
        if b.len() < PACKET_MSG_LEN {
            return Err(format!(
                "packet_diag_msg needs {PACKET_MSG_LEN} bytes, got {}",
                b.len()
            )
            .into());
        }
        let w = |o| u32_at(b, o).unwrap_or_default();
        Ok(PacketReply {
            header: PacketHeader {
                family: b[0],
                kind: b[1],
                num: u16_at(b, 2).unwrap_or_default(),
                ino: w(4),
                cookie: [w(8), w(12)],
            },
            attributes: parse_attrs(&b[PACKET_MSG_LEN..])?
                .into_iter()
                .map(|(t, v)| PacketAttr::from_value(t, v))
                .collect(),
        })
    }
}
