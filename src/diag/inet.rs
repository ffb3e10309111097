//! Inet sockets (TCP, UDP, UDP-Lite, raw, SCTP, MPTCP): the lazy
//! [`InetSocket`] view and the [`InetQuery`] listing builder.

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::bytecode::Filter;
use super::codec::{
    AF_INET, AF_INET6, DiagMessage, INET_MSG_LEN, InetRequest, InetRequestAttr, SockId, u32_at,
    u64_at,
};
use super::replies::{InetHeader, InetReply, inet_attr as a};
use super::tcp_info::TcpInfo;
use super::values::{BbrInfo, DctcpInfo, MemInfo, SkMemInfo, SockOpt, UlpInfo, VegasInfo};
use super::{DiagHandle, REQ_BY_FAMILY as REQ, decode_error, states::States};
use crate::conn::RawMessage;
use crate::conn::attrs::{self, Indexed};
use crate::error::{Context, Error, Result, ResultExt};

/// An inet transport protocol to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum InetProtocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// UDP-Lite (136).
    UdpLite,
    /// Raw sockets of one IP protocol (255: all of them), via raw_diag.
    /// An exact lookup or destroy needs the socket's own protocol, which
    /// [`InetSocket::protocol`] gives for listed raw sockets.
    Raw(u8),
    /// SCTP (132), when the kernel has sctp_diag.
    Sctp,
    /// MPTCP (262), requested with INET_DIAG_REQ_PROTOCOL.
    Mptcp,
    /// Any other protocol number (above 255 it goes in INET_DIAG_REQ_PROTOCOL).
    Other(u32),
}

impl InetProtocol {
    /// The IPPROTO_* number.
    pub fn number(self) -> u32 {
        match self {
            InetProtocol::Tcp => 6,
            InetProtocol::Udp => 17,
            InetProtocol::UdpLite => 136,
            InetProtocol::Raw(_) => 255,
            InetProtocol::Sctp => 132,
            InetProtocol::Mptcp => 262,
            InetProtocol::Other(n) => n,
        }
    }

    /// The `Netid` column of `ss`.
    pub fn name(self) -> &'static str {
        match self {
            InetProtocol::Tcp => "tcp",
            InetProtocol::Udp => "udp",
            InetProtocol::UdpLite => "udpl",
            InetProtocol::Raw(_) => "raw",
            InetProtocol::Sctp => "sctp",
            InetProtocol::Mptcp => "mptcp",
            InetProtocol::Other(_) => "?",
        }
    }
}

/// Which address families an inet listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub enum Family {
    /// IPv4 only.
    #[cfg_attr(feature = "serde", serde(rename = "inet"))]
    V4,
    /// IPv6 only.
    #[cfg_attr(feature = "serde", serde(rename = "inet6"))]
    V6,
    /// IPv4 then IPv6 (two dumps, as `ss` does).
    #[cfg_attr(feature = "serde", serde(rename = "both"))]
    Both,
}

impl Family {
    fn numbers(self) -> &'static [u8] {
        match self {
            Family::V4 => &[AF_INET],
            Family::V6 => &[AF_INET6],
            Family::Both => &[AF_INET, AF_INET6],
        }
    }
}

/// Extensions (attributes) to ask the kernel for, combined with `|`.
/// INET_DIAG_MARK (with CAP_NET_ADMIN), CGROUP_ID, SOCKOPT, SHUTDOWN and
/// SKV6ONLY come without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Extensions(pub u8);

impl Extensions {
    /// None.
    pub const NONE: Extensions = Extensions(0);
    /// INET_DIAG_MEMINFO.
    pub const MEMINFO: Extensions = Extensions(1 << (a::MEMINFO - 1));
    /// INET_DIAG_INFO: `tcp_info` (TCP), `mptcp_info` (MPTCP), …
    pub const INFO: Extensions = Extensions(1 << (a::INFO - 1));
    /// INET_DIAG_VEGASINFO, which also brings DCTCPINFO and BBRINFO.
    pub const CC_INFO: Extensions = Extensions(1 << (a::VEGASINFO - 1));
    /// INET_DIAG_CONG: the congestion-control algorithm's name.
    pub const CONG: Extensions = Extensions(1 << (a::CONG - 1));
    /// INET_DIAG_TOS.
    pub const TOS: Extensions = Extensions(1 << (a::TOS - 1));
    /// INET_DIAG_TCLASS, which also brings CLASS_ID.
    pub const TCLASS: Extensions = Extensions(1 << (a::TCLASS - 1));
    /// INET_DIAG_SKMEMINFO.
    pub const SKMEMINFO: Extensions = Extensions(1 << (a::SKMEMINFO - 1));
    /// INET_DIAG_SHUTDOWN (sent anyway by current kernels).
    pub const SHUTDOWN: Extensions = Extensions(1 << (a::SHUTDOWN - 1));
    /// Everything above.
    pub const ALL: Extensions = Extensions(0xff);
}

impl std::ops::BitOr for Extensions {
    type Output = Extensions;
    fn bitor(self, o: Extensions) -> Extensions {
        Extensions(self.0 | o.0)
    }
}

/// The timer pending on an inet socket (`idiag_timer`), as `ss -o` shows
/// it in `timer:(NAME,EXPIRES,RETRANS)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Timer {
    /// 0: none.
    Off,
    /// 1: retransmit (also reordering and tail-loss probe timers; SCTP's
    /// T3-rtx; a SYN-RECV request's SYN-ACK timer).
    Retransmit,
    /// 2: keepalive (the retransmit count is the unanswered probes).
    KeepAlive,
    /// 3: TIME-WAIT.
    TimeWait,
    /// 4: zero-window probe (the count is the probes sent).
    ZeroWindowProbe,
    /// Any other number.
    Other(u8),
}

impl Timer {
    /// The timer of an `idiag_timer` number.
    pub fn from_number(n: u8) -> Timer {
        match n {
            0 => Timer::Off,
            1 => Timer::Retransmit,
            2 => Timer::KeepAlive,
            3 => Timer::TimeWait,
            4 => Timer::ZeroWindowProbe,
            n => Timer::Other(n),
        }
    }

    /// The `idiag_timer` number.
    pub fn number(self) -> u8 {
        match self {
            Timer::Off => 0,
            Timer::Retransmit => 1,
            Timer::KeepAlive => 2,
            Timer::TimeWait => 3,
            Timer::ZeroWindowProbe => 4,
            Timer::Other(n) => n,
        }
    }

    /// The name `ss -o` prints: `off`, `on`, `keepalive`, `timewait`,
    /// `persist` (`unknown` for other numbers).
    pub fn ss_name(self) -> &'static str {
        match self {
            Timer::Off => "off",
            Timer::Retransmit => "on",
            Timer::KeepAlive => "keepalive",
            Timer::TimeWait => "timewait",
            Timer::ZeroWindowProbe => "persist",
            Timer::Other(_) => "unknown",
        }
    }
}

/// The name `ss` gives a TCP_* state number.
pub fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "UNCONN",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW-SYN-RECV",
        13 => "BOUND-INACTIVE",
        _ => "UNKNOWN",
    }
}

/// The name `ss` gives an SCTP association's state (SCTP_STATE_* numbers,
/// which SCTP association replies carry instead of TCP_* ones).
pub fn sctp_state_name(state: u8) -> &'static str {
    match state {
        0 => "CLOSED",
        1 => "COOKIE_WAIT",
        2 => "COOKIE_ECHOED",
        3 => "ESTAB",
        4 => "SHUTDOWN_PENDING",
        5 => "SHUTDOWN_SENT",
        6 => "SHUTDOWN_RECEIVED",
        7 => "ACK_SENT",
        _ => "UNKNOWN",
    }
}

/// Addresses of an INET_DIAG_LOCALS or INET_DIAG_PEERS value: an array of
/// `struct sockaddr_storage` (128 bytes each); other families are skipped.
fn sockaddrs(v: &[u8]) -> Vec<SocketAddr> {
    v.chunks_exact(128)
        .filter_map(|sa| {
            let port = u16::from_be_bytes([sa[2], sa[3]]);
            match u16::from_ne_bytes([sa[0], sa[1]]) as i32 {
                libc::AF_INET => {
                    let ip = Ipv4Addr::new(sa[4], sa[5], sa[6], sa[7]);
                    Some(SocketAddr::new(ip.into(), port))
                }
                libc::AF_INET6 => {
                    let ip: [u8; 16] = sa[8..24].try_into().ok()?;
                    Some(SocketAddr::new(Ipv6Addr::from(ip).into(), port))
                }
                _ => None,
            }
        })
        .collect()
}

/// One inet socket as the kernel reported it: a lazy view of the reply
/// bytes. Accessors decode only what they read; [`InetSocket::decode`]
/// gives the fully decoded [`InetReply`], [`InetSocket::raw`] the bytes.
#[derive(Clone)]
pub struct InetSocket {
    m: Indexed<24>,
    protocol: InetProtocol,
}

impl fmt::Debug for InetSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InetSocket")
            .field("protocol", &self.protocol())
            .field("state", &self.state_name())
            .field("local", &self.local())
            .field("remote", &self.remote())
            .field("inode", &self.inode())
            .finish_non_exhaustive()
    }
}

impl InetSocket {
    /// Wraps a reply to an inet request for `protocol` (the message does not
    /// say which protocol it is about).
    pub fn from_raw(raw: RawMessage, protocol: InetProtocol) -> Result<InetSocket> {
        let families = [AF_INET, AF_INET6];
        let m = Indexed::of_family(raw, &families, INET_MSG_LEN, "an inet_diag_msg", REQ)?;
        Ok(InetSocket { m, protocol })
    }

    fn hdr(&self) -> &[u8] {
        self.m.header()
    }

    fn word(&self, off: usize) -> u32 {
        u32_at(self.hdr(), off).unwrap_or_default()
    }

    /// The undecoded message (header included).
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The fully decoded message.
    pub fn decode(&self) -> Result<InetReply> {
        InetReply::parse(self.m.payload()).map_err(|e| decode_error(e.to_string()))
    }

    /// The fixed header, decoded.
    pub fn header(&self) -> InetHeader {
        InetHeader::parse(self.hdr()).unwrap_or_default()
    }

    /// The protocol the listing asked for; for raw sockets, their own IP
    /// protocol (INET_DIAG_PROTOCOL), which an exact lookup or destroy of
    /// a raw socket needs.
    pub fn protocol(&self) -> InetProtocol {
        match self.protocol {
            InetProtocol::Raw(p) => InetProtocol::Raw(self.protocol_attr().unwrap_or(p)),
            p => p,
        }
    }

    /// AF_INET or AF_INET6.
    pub fn family(&self) -> u8 {
        self.hdr()[0]
    }

    /// TCP_* state number (see [`state_name`]).
    pub fn state(&self) -> u8 {
        self.hdr()[1]
    }

    /// The state's name as `ss` prints it: [`sctp_state_name`] for an SCTP
    /// association, [`state_name`] otherwise.
    pub fn state_name(&self) -> &'static str {
        if self.is_sctp_association() {
            sctp_state_name(self.state())
        } else {
            state_name(self.state())
        }
    }

    /// True for an SCTP association: the kernel lists an SCTP socket with
    /// associations as the socket (TCP_* state) followed by one reply per
    /// association (SCTP_STATE_* state, INET_DIAG_PEERS), all with the
    /// socket's inode.
    pub fn is_sctp_association(&self) -> bool {
        self.protocol == InetProtocol::Sctp && self.attr(a::PEERS).is_some()
    }

    /// Every local address (INET_DIAG_LOCALS: SCTP's bound addresses; an
    /// association's own). Empty for other protocols.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.attr(a::LOCALS).map(sockaddrs).unwrap_or_default()
    }

    /// Every peer address of an SCTP association (INET_DIAG_PEERS).
    pub fn peer_addrs(&self) -> Vec<SocketAddr> {
        self.attr(a::PEERS).map(sockaddrs).unwrap_or_default()
    }

    /// Pending timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4
    /// zero-window probe ([`InetSocket::timer_kind`] names them).
    pub fn timer(&self) -> u8 {
        self.hdr()[2]
    }

    /// The pending timer, typed.
    pub fn timer_kind(&self) -> Timer {
        Timer::from_number(self.timer())
    }

    /// Retransmits of the pending retransmit timer (`icsk_retransmits`),
    /// unanswered probes of a keepalive or zero-window-probe timer.
    pub fn retrans(&self) -> u8 {
        self.hdr()[3]
    }

    /// The socket id (4-tuple, interface, cookie), e.g. for
    /// [`DiagHandle::destroy_socket`].
    pub fn id(&self) -> SockId {
        SockId::parse(&self.hdr()[4..52]).unwrap_or_default()
    }

    /// Local address and port.
    pub fn local(&self) -> SocketAddr {
        let id = self.id();
        SocketAddr::new(id.src_addr(self.family()), id.sport)
    }

    /// Remote address and port (unspecified and 0 for listeners).
    pub fn remote(&self) -> SocketAddr {
        let id = self.id();
        SocketAddr::new(id.dst_addr(self.family()), id.dport)
    }

    /// Bound interface index (0: none).
    pub fn interface(&self) -> u32 {
        self.id().interface
    }

    /// The kernel's socket cookie.
    pub fn cookie(&self) -> u64 {
        self.id().cookie().unwrap_or(u64::MAX)
    }

    /// Milliseconds until the timer fires.
    pub fn expires(&self) -> u32 {
        self.word(52)
    }

    /// Receive queue (`Recv-Q`; listeners: accept backlog).
    pub fn rqueue(&self) -> u32 {
        self.word(56)
    }

    /// Send queue (`Send-Q`; listeners: backlog limit).
    pub fn wqueue(&self) -> u32 {
        self.word(60)
    }

    /// Owner uid.
    pub fn uid(&self) -> u32 {
        self.word(64)
    }

    /// Inode (0 for sockets without a file, e.g. TIME_WAIT).
    pub fn inode(&self) -> u32 {
        self.word(68)
    }

    /// The value of attribute `ty`, if present.
    pub fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// Every attribute as `(type, value)`, known or not.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }

    /// `tcp_info` (with [`Extensions::INFO`], TCP only), zero-copy.
    pub fn tcp_info(&self) -> Option<TcpInfo> {
        if self.protocol != InetProtocol::Tcp {
            return None;
        }
        let v = self.attr(a::INFO)?;
        Some(TcpInfo::new(self.m.raw.bytes.slice_ref(v)))
    }

    /// The INET_DIAG_INFO value whatever the protocol (e.g. `mptcp_info`).
    pub fn info_raw(&self) -> Option<Bytes> {
        self.attr(a::INFO).map(|v| self.m.raw.bytes.slice_ref(v))
    }

    /// The congestion-control algorithm ([`Extensions::CONG`]).
    pub fn congestion(&self) -> Option<&str> {
        self.attr(a::CONG).and_then(attrs::str_of)
    }

    /// INET_DIAG_MEMINFO.
    pub fn meminfo(&self) -> Option<MemInfo> {
        self.attr(a::MEMINFO).and_then(MemInfo::parse)
    }

    /// INET_DIAG_SKMEMINFO.
    pub fn skmeminfo(&self) -> Option<SkMemInfo> {
        self.attr(a::SKMEMINFO).map(SkMemInfo::parse)
    }

    /// INET_DIAG_TOS.
    pub fn tos(&self) -> Option<u8> {
        self.attr(a::TOS).and_then(attrs::u8_of)
    }

    /// INET_DIAG_TCLASS (IPv6).
    pub fn tclass(&self) -> Option<u8> {
        self.attr(a::TCLASS).and_then(attrs::u8_of)
    }

    /// INET_DIAG_SHUTDOWN: bit 0 receive side, bit 1 send side.
    pub fn shutdown(&self) -> Option<u8> {
        self.attr(a::SHUTDOWN).and_then(attrs::u8_of)
    }

    /// INET_DIAG_SKV6ONLY (IPv6 listeners and closed sockets).
    pub fn v6only(&self) -> Option<bool> {
        self.attr(a::SKV6ONLY)
            .and_then(attrs::u8_of)
            .map(|b| b != 0)
    }

    /// INET_DIAG_PROTOCOL: a raw socket's own IP protocol. The kernel sends
    /// it for SOCK_RAW sockets only (not for MPTCP sockets or subflows).
    pub fn protocol_attr(&self) -> Option<u8> {
        self.attr(a::PROTOCOL).and_then(attrs::u8_of)
    }

    /// INET_DIAG_MARK (the kernel sends it to CAP_NET_ADMIN callers).
    pub fn mark(&self) -> Option<u32> {
        self.attr(a::MARK).and_then(attrs::u32_of)
    }

    /// INET_DIAG_CLASS_ID (with [`Extensions::TCLASS`]).
    pub fn class_id(&self) -> Option<u32> {
        self.attr(a::CLASS_ID).and_then(attrs::u32_of)
    }

    /// INET_DIAG_CGROUP_ID (cgroup v2 id).
    pub fn cgroup_id(&self) -> Option<u64> {
        self.attr(a::CGROUP_ID).and_then(|v| u64_at(v, 0))
    }

    /// INET_DIAG_SOCKOPT.
    pub fn sockopt(&self) -> Option<SockOpt> {
        self.attr(a::SOCKOPT).and_then(SockOpt::parse)
    }

    /// INET_DIAG_VEGASINFO (with [`Extensions::CC_INFO`], Vegas only).
    pub fn vegas(&self) -> Option<VegasInfo> {
        self.attr(a::VEGASINFO).and_then(VegasInfo::parse)
    }

    /// INET_DIAG_DCTCPINFO (with [`Extensions::CC_INFO`], DCTCP only).
    pub fn dctcp(&self) -> Option<DctcpInfo> {
        self.attr(a::DCTCPINFO).and_then(DctcpInfo::parse)
    }

    /// INET_DIAG_BBRINFO (with [`Extensions::CC_INFO`], BBR only).
    pub fn bbr(&self) -> Option<BbrInfo> {
        self.attr(a::BBRINFO).and_then(BbrInfo::parse)
    }

    /// The upper-layer protocol's name (INET_DIAG_ULP_INFO's
    /// INET_ULP_INFO_NAME: `tls`, `mptcp`).
    pub fn ulp_name(&self) -> Option<&str> {
        self.attr(a::ULP_INFO)
            .and_then(|v| attrs::nested_get(v, UlpInfo::NAME))
            .and_then(attrs::str_of)
    }

    /// INET_DIAG_ULP_INFO (with [`Extensions::INFO`], to CAP_NET_ADMIN
    /// callers): the ULP's name and its kTLS or MPTCP-subflow state,
    /// zero-copy.
    pub fn ulp(&self) -> Option<UlpInfo> {
        let v = self.attr(a::ULP_INFO)?;
        Some(UlpInfo::new(self.m.raw.bytes.slice_ref(v)))
    }
}

/// A listing of inet sockets: choose families, protocol, states,
/// extensions and a kernel-side filter, then `.stream()` or `.await`.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// use tokio_netlink::diag::{Extensions, States};
/// let nl = tokio_netlink::Netlink::new();
/// let socks = nl
///     .diag()
///     .inet()
///     .tcp()
///     .states(States::CONNECTED)
///     .extensions(Extensions::INFO)
///     .filter("dport = :443".parse()?)
///     .await?;
/// for s in &socks {
///     let acked = s.tcp_info().and_then(|i| i.bytes_acked());
///     println!("{} -> {} acked {acked:?}", s.local(), s.remote());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until streamed or awaited"]
pub struct InetQuery {
    handle: DiagHandle,
    family: Family,
    protocol: InetProtocol,
    states: States,
    ext: Extensions,
    filter: Option<Filter>,
}

impl InetQuery {
    pub(crate) fn new(handle: DiagHandle) -> InetQuery {
        InetQuery {
            handle,
            family: Family::Both,
            protocol: InetProtocol::Tcp,
            states: States::ALL,
            ext: Extensions::NONE,
            filter: None,
        }
    }

    /// Address families (default both).
    pub fn family(mut self, f: Family) -> Self {
        self.family = f;
        self
    }

    /// IPv4 only.
    pub fn v4(self) -> Self {
        self.family(Family::V4)
    }

    /// IPv6 only.
    pub fn v6(self) -> Self {
        self.family(Family::V6)
    }

    /// The protocol (default TCP).
    pub fn protocol(mut self, p: InetProtocol) -> Self {
        self.protocol = p;
        self
    }

    /// TCP.
    pub fn tcp(self) -> Self {
        self.protocol(InetProtocol::Tcp)
    }

    /// UDP.
    pub fn udp(self) -> Self {
        self.protocol(InetProtocol::Udp)
    }

    /// UDP-Lite.
    pub fn udplite(self) -> Self {
        self.protocol(InetProtocol::UdpLite)
    }

    /// Raw sockets (needs raw_diag): `255` lists every raw socket, another
    /// number only the raw sockets of that IP protocol.
    pub fn raw(self, protocol: u8) -> Self {
        self.protocol(InetProtocol::Raw(protocol))
    }

    /// SCTP sockets and associations (needs sctp_diag); see
    /// [`InetSocket::is_sctp_association`].
    pub fn sctp(self) -> Self {
        self.protocol(InetProtocol::Sctp)
    }

    /// States to include (default all).
    pub fn states(mut self, s: States) -> Self {
        self.states = s;
        self
    }

    /// Extensions to request (added to those already chosen).
    pub fn extensions(mut self, e: Extensions) -> Self {
        self.ext = self.ext | e;
        self
    }

    /// Shorthand for `.extensions(Extensions::INFO)`: tcp_info.
    pub fn info(self) -> Self {
        self.extensions(Extensions::INFO)
    }

    /// A kernel-side filter (INET_DIAG_REQ_BYTECODE).
    pub fn filter(mut self, f: Filter) -> Self {
        self.filter = Some(f);
        self
    }

    fn request(&self, family: u8, id: SockId, filter: Option<&Filter>) -> Result<InetRequest> {
        let n = self.protocol.number();
        let mut attributes = Vec::new();
        if n > 255 || self.protocol == InetProtocol::Mptcp {
            attributes.push(InetRequestAttr::Protocol(n));
        }
        if let Some(f) = filter {
            attributes.push(InetRequestAttr::Bytecode(f.compile()?));
        }
        Ok(InetRequest {
            family,
            protocol: if n > 255 { 0 } else { n as u8 },
            ext: self.ext.0,
            pad: match self.protocol {
                InetProtocol::Raw(p) => p,
                _ => 0,
            },
            states: self.states.0,
            id,
            attributes,
        })
    }

    /// The requests this listing sends, one per family. A filter naming a
    /// device must name it by index here ([`InetQuery::stream`] resolves
    /// names).
    pub fn requests(&self) -> Result<Vec<DiagMessage>> {
        self.requests_with(self.filter.as_ref())
    }

    fn requests_with(&self, filter: Option<&Filter>) -> Result<Vec<DiagMessage>> {
        self.family
            .numbers()
            .iter()
            .map(|&f| {
                self.request(f, SockId::default(), filter)
                    .map(DiagMessage::InetRequest)
            })
            .collect()
    }

    /// This query with its filter's device names replaced by their indexes
    /// in the client's namespace (one link lookup per name).
    async fn with_devices_resolved(mut self) -> Result<InetQuery> {
        let Some(f) = self.filter.take() else {
            return Ok(self);
        };
        let links = self.handle.nl.link();
        let mut indexes = HashMap::new();
        for name in f.device_names() {
            // IFLA_IFNAME is NUL-terminated: the kernel would look up the
            // name's start ("lo\0x" finds lo).
            if name.contains('\0') {
                return Err(Error::invalid(
                    "dev",
                    format!("device name {name:?} contains a NUL byte"),
                ));
            }
            // A missing device is NoSuchLink naming `dev`, as everywhere.
            let index = links
                .lookup(&crate::route::link::LinkId::Name(name.into()), Some("dev"))
                .await?;
            indexes.insert(name.to_string(), index);
        }
        self.filter = Some(f.resolve(&indexes)?);
        Ok(self)
    }

    /// Streams the sockets as the kernel dumps them (IPv4 first, then
    /// IPv6), one datagram buffered at a time. A filter's device names are
    /// looked up first; SCTP listings are filtered here, as sctp_diag
    /// ignores the kernel-side filter.
    pub fn stream(&self) -> BoxStream<'static, Result<InetSocket>> {
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !f.device_names().is_empty())
        {
            let q = self.clone();
            return stream::once(q.with_devices_resolved())
                .map(|r| match r {
                    Ok(q) => q.stream(),
                    Err(e) => stream::once(async { Err(e) }).boxed(),
                })
                .flatten()
                .boxed();
        }
        // Cgroup paths are resolved once, not once per family.
        let filter = match self.filter.as_ref().map(|f| f.resolve(&HashMap::new())) {
            None => None,
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => return stream::once(async { Err(e) }).boxed(),
        };
        let requests = match self.requests_with(filter.as_ref()) {
            Ok(r) => r,
            Err(e) => return stream::once(async { Err(e) }).boxed(),
        };
        let req = self.handle.requester.clone();
        let proto = self.protocol;
        let in_user_space = filter.filter(|_| proto == InetProtocol::Sctp);
        // raw_diag dumps every raw socket whatever the protocol asked for
        // (it reads `sdiag_raw_protocol` only in exact lookups).
        let keep = move |s: &InetSocket| {
            let of_protocol = match proto {
                InetProtocol::Raw(p) if p != 255 => s.protocol_attr() == Some(p),
                _ => true,
            };
            of_protocol && in_user_space.as_ref().is_none_or(|f| f.matches_socket(s))
        };
        stream::iter(requests)
            .map(move |m| req.dump_raw(m, 0))
            .flatten()
            .map(move |r| r.and_then(|raw| InetSocket::from_raw(raw, proto)))
            .try_filter(move |s| std::future::ready(keep(s)))
            .boxed()
    }

    fn family_of(&self, id: &SockId) -> Result<u8> {
        let v6 = |a: &[u8; 16]| a[4..].iter().any(|&b| b != 0);
        let wide = v6(&id.src) || v6(&id.dst);
        Ok(match self.family {
            Family::V4 if wide => {
                return Err(Error::invalid(
                    "id",
                    "an IPv4 lookup with an address longer than 4 bytes",
                ));
            }
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
            Family::Both if wide => AF_INET6,
            Family::Both => AF_INET,
        })
    }

    /// Looks up one socket by its id with a single request (not a dump).
    /// The family is the query's when it names one, else IPv6 when either
    /// address uses more than its first 4 bytes. Not found: an error with
    /// [`Error::is_not_found`].
    pub async fn get(&self, id: SockId) -> Result<InetSocket> {
        let family = self.family_of(&id)?;
        let ctx = self.context("sock get", &id, family);
        self.lookup(id, family).await.within(&ctx)
    }

    /// `OPERATION PROTO LOCAL REMOTE` (`sock destroy tcp 10.0.0.1:80
    /// 10.0.0.2:5555`), for errors.
    fn context(&self, op: &'static str, id: &SockId, family: u8) -> Context {
        let end = |a, p| SocketAddr::new(a, p);
        Context::new(
            op,
            format!(
                "{} {} {}",
                self.protocol.name(),
                end(id.src_addr(family), id.sport),
                end(id.dst_addr(family), id.dport)
            ),
        )
        .missing("socket")
    }

    async fn lookup(&self, id: SockId, family: u8) -> Result<InetSocket> {
        // udp_diag's exact lookup reads the id from the packet's side
        // (source = the socket's remote end), "for historical reasons".
        let id = match self.protocol {
            InetProtocol::Udp | InetProtocol::UdpLite => SockId {
                sport: id.dport,
                dport: id.sport,
                src: id.dst,
                dst: id.src,
                ..id
            },
            _ => id,
        };
        let req = self.request(family, id, None)?;
        let raw = self
            .handle
            .requester
            .get_raw(DiagMessage::InetRequest(req), 0)
            .await?;
        InetSocket::from_raw(raw, self.protocol)
    }

    /// Destroys one socket (SOCK_DESTROY): its owner's next operation
    /// fails with ECONNABORTED. Needs CAP_NET_ADMIN and
    /// CONFIG_INET_DIAG_DESTROY.
    pub async fn destroy(&self, id: SockId) -> Result<()> {
        let family = self.family_of(&id)?;
        let ctx = self.context("sock destroy", &id, family);
        let mut req = self.request(family, id, None).within(&ctx)?;
        req.ext = 0;
        self.handle
            .requester
            .ack(DiagMessage::Destroy(req), 0)
            .await
            .within(&ctx)
    }

    /// Destroys every socket the listing matches (states, filter); returns
    /// those destroyed. Sockets that vanished meanwhile are skipped.
    pub async fn destroy_all(&self) -> Result<Vec<InetSocket>> {
        let socks: Vec<InetSocket> = self.stream().try_collect().await?;
        // The destroys are pipelined on the one connection, 64 in flight.
        let outcomes: Vec<Option<InetSocket>> = stream::iter(socks)
            .map(|s| async move {
                let family = if s.family() == AF_INET6 {
                    Family::V6
                } else {
                    Family::V4
                };
                match self.clone().family(family).destroy(s.id()).await {
                    Ok(()) => Ok(Some(s)),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffered(64)
            .try_collect()
            .await?;
        Ok(outcomes.into_iter().flatten().collect())
    }
}

impl IntoFuture for InetQuery {
    type Output = Result<Vec<InetSocket>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.stream().try_collect().await })
    }
}
