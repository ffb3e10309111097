//! The sock_diag wire format: requests we build and replies the kernel
//! sends, as one [`DiagMessage`] type for the engine.
//!
//! Everything is written from the uapi headers (`linux/inet_diag.h`,
//! `linux/sock_diag.h`, `linux/unix_diag.h`, `linux/netlink_diag.h`,
//! `linux/packet_diag.h`). Decoding checks every length and never panics;
//! attributes it does not know are kept raw.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use netlink_packet_core::{
    DecodeError, NLA_TYPE_MASK, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable,
};

use super::replies::{InetReply, NetlinkReply, PacketReply, UnixReply};
use crate::conn::frame::{F_REQUEST, align};

/// SOCK_DIAG_BY_FAMILY: list or look up sockets.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// SOCK_DESTROY: close a socket (needs CONFIG_INET_DIAG_DESTROY).
pub const SOCK_DESTROY: u16 = 21;

/// INET_DIAG_NOCOOKIE: the "any cookie" value of both cookie words.
pub const NO_COOKIE: u32 = !0;

/// `INET_DIAG_REQ_BYTECODE`: a filter program (see [`super::Filter`]).
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// `INET_DIAG_REQ_SK_BPF_STORAGES`: BPF storage maps to report.
pub const INET_DIAG_REQ_SK_BPF_STORAGES: u16 = 2;
/// `INET_DIAG_REQ_PROTOCOL`: a protocol number above 255 (MPTCP).
pub const INET_DIAG_REQ_PROTOCOL: u16 = 3;

/// `sizeof(struct inet_diag_sockid)`.
pub const SOCKID_LEN: usize = 48;
/// `sizeof(struct inet_diag_req_v2)`.
pub const INET_REQ_LEN: usize = 56;
/// `sizeof(struct inet_diag_msg)`.
pub const INET_MSG_LEN: usize = 72;
/// `sizeof(struct unix_diag_req)`.
pub const UNIX_REQ_LEN: usize = 24;
/// `sizeof(struct netlink_diag_req)` and `sizeof(struct packet_diag_req)`.
pub const NETLINK_REQ_LEN: usize = 20;
/// `sizeof(struct unix_diag_msg)`.
pub const UNIX_MSG_LEN: usize = 16;
/// `sizeof(struct netlink_diag_msg)`.
pub const NETLINK_MSG_LEN: usize = 28;
/// `sizeof(struct packet_diag_msg)`.
pub const PACKET_MSG_LEN: usize = 16;

pub(crate) const AF_UNIX: u8 = libc::AF_UNIX as u8;
pub(crate) const AF_INET: u8 = libc::AF_INET as u8;
pub(crate) const AF_INET6: u8 = libc::AF_INET6 as u8;
pub(crate) const AF_NETLINK: u8 = libc::AF_NETLINK as u8;
pub(crate) const AF_PACKET: u8 = libc::AF_PACKET as u8;

// ------------------------------------------------------------ byte helpers

pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_ne_bytes());
}

fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}

/// Bytes of one attribute with its header and padding.
pub(crate) fn attr_len(value_len: usize) -> usize {
    align(4 + value_len)
}

/// Writes one attribute at the start of `buf`; returns the bytes used.
pub(crate) fn put_attr(buf: &mut [u8], ty: u16, value: &[u8]) -> usize {
    let len = 4 + value.len();
    put_u16(buf, 0, len as u16);
    put_u16(buf, 2, ty);
    buf[4..len].copy_from_slice(value);
    let total = align(len);
    buf[len..total].fill(0);
    total
}

/// Strictly iterates `(type, value)` attributes: a malformed header is an
/// error, not a silent stop.
pub(crate) fn parse_attrs(mut buf: &[u8]) -> Result<Vec<(u16, &[u8])>, DecodeError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if buf.len() < 4 {
            return Err(format!("{} stray bytes after the attributes", buf.len()).into());
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > buf.len() {
            return Err(format!("attribute {ty} claims {len} bytes, {} remain", buf.len()).into());
        }
        out.push((ty, &buf[4..len]));
        buf = buf.get(align(len)..).unwrap_or(&[]);
    }
    Ok(out)
}

fn too_short(what: &str, need: usize, got: usize) -> DecodeError {
    format!("{what} needs {need} bytes, got {got}").into()
}

// ------------------------------------------------------------ socket id

/// `struct inet_diag_sockid`: which socket, by its 4-tuple, interface and
/// kernel cookie. Ports are host order here (big-endian on the wire);
/// addresses are kept as the 16 raw bytes the kernel uses (an IPv4 address
/// in the first 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct SockId {
    /// Local (source) port.
    pub sport: u16,
    /// Remote (destination) port.
    pub dport: u16,
    /// Local address, network order (IPv4 in the first 4 bytes).
    pub src: [u8; 16],
    /// Remote address, network order (IPv4 in the first 4 bytes).
    pub dst: [u8; 16],
    /// Bound interface index (0: any).
    pub interface: u32,
    /// The kernel's socket cookie, as two u32 words ([`NO_COOKIE`] twice: any).
    pub cookie: [u32; 2],
}

fn addr_bytes(ip: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

fn addr_of(family: u8, b: &[u8; 16]) -> IpAddr {
    if family == AF_INET6 {
        IpAddr::V6(Ipv6Addr::from(*b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

impl SockId {
    /// The id of the socket bound to `local` and connected to `remote`,
    /// with any cookie. Use `0.0.0.0:0`/`[::]:0` as `remote` for a listener.
    pub fn new(local: SocketAddr, remote: SocketAddr) -> SockId {
        SockId {
            sport: local.port(),
            dport: remote.port(),
            src: addr_bytes(local.ip()),
            dst: addr_bytes(remote.ip()),
            interface: 0,
            cookie: [NO_COOKIE; 2],
        }
    }

    /// The cookie as one number (`ss -e` prints it as `sk:` in hex), `None`
    /// for [`NO_COOKIE`].
    pub fn cookie(&self) -> Option<u64> {
        (self.cookie != [NO_COOKIE; 2])
            .then(|| u64::from(self.cookie[0]) | (u64::from(self.cookie[1]) << 32))
    }

    /// Sets the cookie from one number.
    pub fn with_cookie(mut self, cookie: u64) -> SockId {
        self.cookie = [cookie as u32, (cookie >> 32) as u32];
        self
    }

    /// The local address, read as `family` (AF_INET or AF_INET6).
    pub fn src_addr(&self, family: u8) -> IpAddr {
        addr_of(family, &self.src)
    }

    /// The remote address, read as `family`.
    pub fn dst_addr(&self, family: u8) -> IpAddr {
        addr_of(family, &self.dst)
    }

    /// Parses the 48 bytes of the structure.
    pub fn parse(b: &[u8]) -> Option<SockId> {
        let b = b.get(..SOCKID_LEN)?;
        Some(SockId {
            sport: u16::from_be_bytes([b[0], b[1]]),
            dport: u16::from_be_bytes([b[2], b[3]]),
            src: b[4..20].try_into().ok()?,
            dst: b[20..36].try_into().ok()?,
            interface: u32_at(b, 36)?,
            cookie: [u32_at(b, 40)?, u32_at(b, 44)?],
        })
    }

    /// Writes the 48 bytes of the structure.
    pub fn emit(&self, b: &mut [u8]) {
        b[0..2].copy_from_slice(&self.sport.to_be_bytes());
        b[2..4].copy_from_slice(&self.dport.to_be_bytes());
        b[4..20].copy_from_slice(&self.src);
        b[20..36].copy_from_slice(&self.dst);
        put_u32(b, 36, self.interface);
        put_u32(b, 40, self.cookie[0]);
        put_u32(b, 44, self.cookie[1]);
    }
}

// ------------------------------------------------------------ requests

/// A request attribute of an inet_diag request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InetRequestAttr {
    /// INET_DIAG_REQ_BYTECODE: a compiled filter.
    Bytecode(Vec<u8>),
    /// INET_DIAG_REQ_PROTOCOL: the protocol, for numbers above 255.
    Protocol(u32),
    /// Any other attribute, raw.
    Other(u16, Vec<u8>),
}

impl InetRequestAttr {
    fn ty_value(&self) -> (u16, std::borrow::Cow<'_, [u8]>) {
        match self {
            InetRequestAttr::Bytecode(b) => (INET_DIAG_REQ_BYTECODE, b.as_slice().into()),
            InetRequestAttr::Protocol(p) => {
                (INET_DIAG_REQ_PROTOCOL, p.to_ne_bytes().to_vec().into())
            }
            InetRequestAttr::Other(t, v) => (*t, v.as_slice().into()),
        }
    }
}

/// `struct inet_diag_req_v2` and its attributes (SOCK_DIAG_BY_FAMILY or
/// SOCK_DESTROY for AF_INET/AF_INET6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InetRequest {
    /// AF_INET or AF_INET6.
    pub family: u8,
    /// IPPROTO_* (low 8 bits; higher ones go in [`InetRequestAttr::Protocol`]).
    pub protocol: u8,
    /// Requested extensions: bit `n - 1` asks for INET_DIAG attribute `n`.
    pub ext: u8,
    /// `pad`, which raw sockets use as `sdiag_raw_protocol`.
    pub pad: u8,
    /// Bitmask of TCP states (bit `1 << state`) to include.
    pub states: u32,
    /// The socket (exact lookups and destroy) — zero for a dump.
    pub id: SockId,
    /// Request attributes.
    pub attributes: Vec<InetRequestAttr>,
}

impl InetRequest {
    pub(crate) fn buffer_len(&self) -> usize {
        INET_REQ_LEN
            + self
                .attributes
                .iter()
                .map(|a| attr_len(a.ty_value().1.len()))
                .sum::<usize>()
    }

    fn emit(&self, b: &mut [u8]) {
        b[0] = self.family;
        b[1] = self.protocol;
        b[2] = self.ext;
        b[3] = self.pad;
        put_u32(b, 4, self.states);
        self.id.emit(&mut b[8..56]);
        let mut off = INET_REQ_LEN;
        for a in &self.attributes {
            let (t, v) = a.ty_value();
            off += put_attr(&mut b[off..], t, &v);
        }
    }

    fn parse(b: &[u8]) -> Result<InetRequest, DecodeError> {
        if b.len() < INET_REQ_LEN {
            return Err(too_short("inet_diag_req_v2", INET_REQ_LEN, b.len()));
        }
        let mut attributes = Vec::new();
        for (t, v) in parse_attrs(&b[INET_REQ_LEN..])? {
            attributes.push(match (t, v.len()) {
                (INET_DIAG_REQ_BYTECODE, _) => InetRequestAttr::Bytecode(v.to_vec()),
                (INET_DIAG_REQ_PROTOCOL, 4) => {
                    InetRequestAttr::Protocol(u32_at(v, 0).unwrap_or_default())
                }
                _ => InetRequestAttr::Other(t, v.to_vec()),
            });
        }
        Ok(InetRequest {
            family: b[0],
            protocol: b[1],
            ext: b[2],
            pad: b[3],
            states: u32_at(b, 4).unwrap_or_default(),
            id: SockId::parse(&b[8..56]).unwrap_or_default(),
            attributes,
        })
    }
}

/// The common shape of `unix_diag_req`, `netlink_diag_req` and
/// `packet_diag_req`: family, protocol, pad, then four fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimpleRequest {
    /// `sdiag_protocol` (unix: 0; netlink: NETLINK_* or 255 for all;
    /// packet: 0).
    pub protocol: u8,
    /// Unix: `udiag_states`; netlink and packet: 0 (their `pad`).
    pub states: u32,
    /// Inode of one socket to look up (0: all).
    pub ino: u32,
    /// `*_SHOW_*` bits: which attributes to include.
    pub show: u32,
    /// Cookie of the socket to look up ([`NO_COOKIE`] twice: any).
    pub cookie: [u32; 2],
}

impl SimpleRequest {
    /// The unix request puts `udiag_states` after a 16-bit pad; netlink and
    /// packet requests have no states and put the inode there.
    fn emit(&self, family: u8, b: &mut [u8]) {
        b[0] = family;
        b[1] = self.protocol;
        put_u16(b, 2, 0);
        if family == AF_UNIX {
            put_u32(b, 4, self.states);
            put_u32(b, 8, self.ino);
            put_u32(b, 12, self.show);
            put_u32(b, 16, self.cookie[0]);
            put_u32(b, 20, self.cookie[1]);
        } else {
            put_u32(b, 4, self.ino);
            put_u32(b, 8, self.show);
            put_u32(b, 12, self.cookie[0]);
            put_u32(b, 16, self.cookie[1]);
        }
    }

    fn parse(b: &[u8]) -> Result<SimpleRequest, DecodeError> {
        let n = if b.first() == Some(&AF_UNIX) {
            UNIX_REQ_LEN
        } else {
            NETLINK_REQ_LEN
        };
        if b.len() < n {
            return Err(too_short("sock_diag request", n, b.len()));
        }
        let w = |o| u32_at(b, o).unwrap_or_default();
        Ok(if b[0] == AF_UNIX {
            SimpleRequest {
                protocol: b[1],
                states: w(4),
                ino: w(8),
                show: w(12),
                cookie: [w(16), w(20)],
            }
        } else {
            SimpleRequest {
                protocol: b[1],
                states: 0,
                ino: w(4),
                show: w(8),
                cookie: [w(12), w(16)],
            }
        })
    }
}

// ------------------------------------------------------------ the message

/// One NETLINK_SOCK_DIAG message: a request we send or a reply the kernel
/// sends. Requests carry NLM_F_REQUEST, which is how a received buffer is
/// told apart (replies and requests share message type and family byte).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagMessage {
    /// SOCK_DIAG_BY_FAMILY for AF_INET/AF_INET6.
    InetRequest(InetRequest),
    /// SOCK_DESTROY of one inet socket.
    Destroy(InetRequest),
    /// SOCK_DIAG_BY_FAMILY for AF_UNIX.
    UnixRequest(SimpleRequest),
    /// SOCK_DIAG_BY_FAMILY for AF_NETLINK.
    NetlinkRequest(SimpleRequest),
    /// SOCK_DIAG_BY_FAMILY for AF_PACKET.
    PacketRequest(SimpleRequest),
    /// An inet socket (`inet_diag_msg` + attributes).
    Inet(InetReply),
    /// A unix socket.
    Unix(UnixReply),
    /// A netlink socket.
    Netlink(NetlinkReply),
    /// A packet socket.
    Packet(PacketReply),
}

impl NetlinkSerializable for DiagMessage {
    fn message_type(&self) -> u16 {
        match self {
            DiagMessage::Destroy(_) => SOCK_DESTROY,
            _ => SOCK_DIAG_BY_FAMILY,
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            DiagMessage::InetRequest(r) | DiagMessage::Destroy(r) => r.buffer_len(),
            DiagMessage::UnixRequest(_) => UNIX_REQ_LEN,
            DiagMessage::NetlinkRequest(_) | DiagMessage::PacketRequest(_) => NETLINK_REQ_LEN,
            DiagMessage::Inet(r) => r.buffer_len(),
            DiagMessage::Unix(r) => r.buffer_len(),
            DiagMessage::Netlink(r) => r.buffer_len(),
            DiagMessage::Packet(r) => r.buffer_len(),
        }
    }

    fn serialize(&self, b: &mut [u8]) {
        match self {
            DiagMessage::InetRequest(r) | DiagMessage::Destroy(r) => r.emit(b),
            DiagMessage::UnixRequest(r) => r.emit(AF_UNIX, b),
            DiagMessage::NetlinkRequest(r) => r.emit(AF_NETLINK, b),
            DiagMessage::PacketRequest(r) => r.emit(AF_PACKET, b),
            DiagMessage::Inet(r) => r.emit(b),
            DiagMessage::Unix(r) => r.emit(b),
            DiagMessage::Netlink(r) => r.emit(b),
            DiagMessage::Packet(r) => r.emit(b),
        }
    }
}

impl NetlinkDeserializable for DiagMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let ty = header.message_type;
        if ty != SOCK_DIAG_BY_FAMILY && ty != SOCK_DESTROY {
            return Err(format!("unexpected sock_diag message type {ty}").into());
        }
        let Some(&family) = payload.first() else {
            return Err("empty sock_diag message".into());
        };
        let request = header.flags & F_REQUEST != 0;
        Ok(match (request, family) {
            (true, AF_INET | AF_INET6) if ty == SOCK_DESTROY => {
                DiagMessage::Destroy(InetRequest::parse(payload)?)
            }
            (_, _) if ty == SOCK_DESTROY => {
                return Err(format!("SOCK_DESTROY of family {family} is not a request").into());
            }
            (true, AF_INET | AF_INET6) => DiagMessage::InetRequest(InetRequest::parse(payload)?),
            (true, AF_UNIX) => DiagMessage::UnixRequest(SimpleRequest::parse(payload)?),
            (true, AF_NETLINK) => DiagMessage::NetlinkRequest(SimpleRequest::parse(payload)?),
            (true, AF_PACKET) => DiagMessage::PacketRequest(SimpleRequest::parse(payload)?),
            (false, AF_INET | AF_INET6) => DiagMessage::Inet(InetReply::parse(payload)?),
            (false, AF_UNIX) => DiagMessage::Unix(UnixReply::parse(payload)?),
            (false, AF_NETLINK) => DiagMessage::Netlink(NetlinkReply::parse(payload)?),
            (false, AF_PACKET) => DiagMessage::Packet(PacketReply::parse(payload)?),
            _ => return Err(format!("unknown sock_diag family {family}").into()),
        })
    }
}
