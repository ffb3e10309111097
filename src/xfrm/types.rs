//! The XFRM wire structures (`include/uapi/linux/xfrm.h`), encoded and
//! decoded by hand: every read is bounds-checked, so no input can panic.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::route::address::{Family, IntoPrefix};

pub(crate) const AF_INET: u16 = libc::AF_INET as u16;
pub(crate) const AF_INET6: u16 = libc::AF_INET6 as u16;

/// "Infinite" byte/packet limit of a lifetime (`XFRM_INF`).
pub const XFRM_INF: u64 = u64::MAX;

// ---------------------------------------------------------------------------
// Byte helpers.

/// Bounds-checked little readers over a fixed structure.
#[derive(Clone, Copy)]
pub(crate) struct Rd<'a>(pub &'a [u8]);

impl Rd<'_> {
    pub fn u8(&self, off: usize) -> u8 {
        self.0.get(off).copied().unwrap_or(0)
    }
    pub fn u16(&self, off: usize) -> u16 {
        self.arr::<2>(off).map(u16::from_ne_bytes).unwrap_or(0)
    }
    pub fn be16(&self, off: usize) -> u16 {
        self.arr::<2>(off).map(u16::from_be_bytes).unwrap_or(0)
    }
    pub fn u32(&self, off: usize) -> u32 {
        self.arr::<4>(off).map(u32::from_ne_bytes).unwrap_or(0)
    }
    pub fn be32(&self, off: usize) -> u32 {
        self.arr::<4>(off).map(u32::from_be_bytes).unwrap_or(0)
    }
    pub fn i32(&self, off: usize) -> i32 {
        self.arr::<4>(off).map(i32::from_ne_bytes).unwrap_or(0)
    }
    pub fn u64(&self, off: usize) -> u64 {
        self.arr::<8>(off).map(u64::from_ne_bytes).unwrap_or(0)
    }
    pub fn arr<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.0.get(off..off.checked_add(N)?)?.try_into().ok()
    }
    pub fn sub(&self, off: usize, len: usize) -> Rd<'_> {
        Rd(self
            .0
            .get(off..off.saturating_add(len).min(self.0.len()))
            .unwrap_or(&[]))
    }
}

/// A writer over a zeroed, fixed-size structure.
pub(crate) struct Wr<'a>(pub &'a mut [u8]);

impl Wr<'_> {
    pub fn u8(&mut self, off: usize, v: u8) {
        self.0[off] = v;
    }
    pub fn u16(&mut self, off: usize, v: u16) {
        self.0[off..off + 2].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn be16(&mut self, off: usize, v: u16) {
        self.0[off..off + 2].copy_from_slice(&v.to_be_bytes());
    }
    pub fn u32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn be32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_be_bytes());
    }
    pub fn i32(&mut self, off: usize, v: i32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn u64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn addr(&mut self, off: usize, a: Option<IpAddr>) {
        match a {
            Some(IpAddr::V4(a)) => self.0[off..off + 4].copy_from_slice(&a.octets()),
            Some(IpAddr::V6(a)) => self.0[off..off + 16].copy_from_slice(&a.octets()),
            None => {}
        }
    }
}

/// Reads an `xfrm_address_t` of `family` (None for AF_UNSPEC or unknown).
pub(crate) fn addr_of(r: Rd<'_>, off: usize, family: u16) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(r.arr::<4>(off)?))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(r.arr::<16>(off)?))),
        _ => None,
    }
}

/// An all-zero address of `family`.
pub(crate) fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

pub(crate) fn family_raw(f: Option<Family>) -> u16 {
    match f {
        Some(Family::V4) => AF_INET,
        Some(Family::V6) => AF_INET6,
        None => 0,
    }
}

pub(crate) fn family_of_raw(f: u16) -> Option<Family> {
    match f {
        AF_INET => Some(Family::V4),
        AF_INET6 => Some(Family::V6),
        _ => None,
    }
}

/// Appends one attribute (header, value, padding).
pub(crate) fn push_attr(buf: &mut Vec<u8>, ty: u16, value: &[u8]) {
    buf.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(value);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// Pads `buf` to a 4-byte boundary (the end of a fixed header).
pub(crate) fn pad4(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// `(type, value)` of the attributes in `buf[start..]`, stopping at the
/// first malformed one.
pub(crate) fn attrs(buf: &[u8], start: usize) -> impl Iterator<Item = (u16, &[u8])> {
    crate::route::attrs::Attrs::new(buf, start).map(|(_, t, v)| (t, v))
}

// ---------------------------------------------------------------------------
// Small enums.

/// The direction of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// `dir in` (XFRM_POLICY_IN).
    In,
    /// `dir out` (XFRM_POLICY_OUT).
    Out,
    /// `dir fwd` (XFRM_POLICY_FWD).
    Fwd,
    /// Any other value (per-socket policies use 3..).
    Other(u8),
}

impl Dir {
    /// The kernel's number.
    pub fn raw(self) -> u8 {
        match self {
            Dir::In => 0,
            Dir::Out => 1,
            Dir::Fwd => 2,
            Dir::Other(n) => n,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(n: u8) -> Dir {
        match n {
            0 => Dir::In,
            1 => Dir::Out,
            2 => Dir::Fwd,
            n => Dir::Other(n),
        }
    }

    /// `ip`'s spelling: in, out, fwd.
    pub fn parse(s: &str) -> Result<Dir> {
        match s {
            "in" => Ok(Dir::In),
            "out" => Ok(Dir::Out),
            "fwd" => Ok(Dir::Fwd),
            _ => Err(Error::invalid(
                "dir",
                format!("{s:?} is not in, out or fwd"),
            )),
        }
    }
}

impl fmt::Display for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dir::In => f.write_str("in"),
            Dir::Out => f.write_str("out"),
            Dir::Fwd => f.write_str("fwd"),
            Dir::Other(n) => write!(f, "{n}"),
        }
    }
}

/// What a policy does with matching packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PolicyAction {
    /// `action allow` (the default).
    #[default]
    Allow,
    /// `action block`.
    Block,
    /// Another value.
    Other(u8),
}

impl PolicyAction {
    /// The kernel's number.
    pub fn raw(self) -> u8 {
        match self {
            PolicyAction::Allow => 0,
            PolicyAction::Block => 1,
            PolicyAction::Other(n) => n,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(n: u8) -> Self {
        match n {
            0 => PolicyAction::Allow,
            1 => PolicyAction::Block,
            n => PolicyAction::Other(n),
        }
    }
}

impl fmt::Display for PolicyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyAction::Allow => f.write_str("allow"),
            PolicyAction::Block => f.write_str("block"),
            PolicyAction::Other(n) => write!(f, "{n}"),
        }
    }
}

/// The mode of a state or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// `mode transport` (the default).
    #[default]
    Transport,
    /// `mode tunnel`.
    Tunnel,
    /// `mode ro` (route optimization, Mobile IPv6).
    RouteOptimization,
    /// `mode in_trigger`.
    InTrigger,
    /// `mode beet`.
    Beet,
    /// Another value.
    Other(u8),
}

impl Mode {
    /// The kernel's number (XFRM_MODE_*).
    pub fn raw(self) -> u8 {
        match self {
            Mode::Transport => 0,
            Mode::Tunnel => 1,
            Mode::RouteOptimization => 2,
            Mode::InTrigger => 3,
            Mode::Beet => 4,
            Mode::Other(n) => n,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(n: u8) -> Mode {
        match n {
            0 => Mode::Transport,
            1 => Mode::Tunnel,
            2 => Mode::RouteOptimization,
            3 => Mode::InTrigger,
            4 => Mode::Beet,
            n => Mode::Other(n),
        }
    }

    /// `ip`'s spelling: transport, tunnel, ro, in_trigger, beet.
    pub fn parse(s: &str) -> Result<Mode> {
        Ok(match s {
            "transport" => Mode::Transport,
            "tunnel" => Mode::Tunnel,
            "ro" => Mode::RouteOptimization,
            "in_trigger" => Mode::InTrigger,
            "beet" => Mode::Beet,
            _ => return Err(Error::invalid("mode", format!("{s:?} is not a mode"))),
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Transport => f.write_str("transport"),
            Mode::Tunnel => f.write_str("tunnel"),
            Mode::RouteOptimization => f.write_str("ro"),
            Mode::InTrigger => f.write_str("in_trigger"),
            Mode::Beet => f.write_str("beet"),
            Mode::Other(n) => write!(f, "{n}"),
        }
    }
}

/// The IPsec (XFRM) protocol of a state or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IpsecProto {
    /// `proto esp` (IPPROTO_ESP, 50; the default).
    #[default]
    Esp,
    /// `proto ah` (51).
    Ah,
    /// `proto comp` (IPCOMP, 108).
    Comp,
    /// `proto route2` (IPv6 routing header, 43).
    Route2,
    /// `proto hao` (IPv6 destination options, 60).
    Hao,
    /// Any protocol (0): only meaningful in flushes and templates.
    Any,
    /// Another number.
    Other(u8),
}

impl IpsecProto {
    /// The IP protocol number.
    pub fn raw(self) -> u8 {
        match self {
            IpsecProto::Esp => 50,
            IpsecProto::Ah => 51,
            IpsecProto::Comp => 108,
            IpsecProto::Route2 => 43,
            IpsecProto::Hao => 60,
            IpsecProto::Any => 0,
            IpsecProto::Other(n) => n,
        }
    }

    /// From the IP protocol number.
    pub fn from_raw(n: u8) -> Self {
        match n {
            50 => IpsecProto::Esp,
            51 => IpsecProto::Ah,
            108 => IpsecProto::Comp,
            43 => IpsecProto::Route2,
            60 => IpsecProto::Hao,
            0 => IpsecProto::Any,
            n => IpsecProto::Other(n),
        }
    }

    /// `ip`'s spelling: esp, ah, comp, route2, hao, or a number.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "esp" => IpsecProto::Esp,
            "ah" => IpsecProto::Ah,
            "comp" => IpsecProto::Comp,
            "route2" => IpsecProto::Route2,
            "hao" => IpsecProto::Hao,
            n => {
                IpsecProto::from_raw(n.parse().map_err(|_| {
                    Error::invalid("proto", format!("{s:?} is not an XFRM protocol"))
                })?)
            }
        })
    }
}

impl fmt::Display for IpsecProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpsecProto::Esp => f.write_str("esp"),
            IpsecProto::Ah => f.write_str("ah"),
            IpsecProto::Comp => f.write_str("comp"),
            IpsecProto::Route2 => f.write_str("route2"),
            IpsecProto::Hao => f.write_str("hao"),
            IpsecProto::Any => f.write_str("0"),
            IpsecProto::Other(n) => write!(f, "{n}"),
        }
    }
}

/// `mark VALUE mask MASK` (XFRMA_MARK, `struct xfrm_mark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mark {
    /// The value.
    pub value: u32,
    /// The mask (`ip` defaults it to 0xffffffff).
    pub mask: u32,
}

impl Mark {
    /// A mark with a full mask.
    pub fn new(value: u32) -> Mark {
        Mark {
            value,
            mask: u32::MAX,
        }
    }

    pub(crate) fn bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.value.to_ne_bytes());
        b[4..].copy_from_slice(&self.mask.to_ne_bytes());
        b
    }

    pub(crate) fn parse(v: &[u8]) -> Option<Mark> {
        let r = Rd(v);
        (v.len() >= 8).then(|| Mark {
            value: r.u32(0),
            mask: r.u32(4),
        })
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}/{:#x}", self.value, self.mask)
    }
}

// ---------------------------------------------------------------------------
// Selector.

/// `struct xfrm_selector`: which traffic a policy or state applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    /// Address family; `None` (AF_UNSPEC) is accepted for states.
    pub family: Option<Family>,
    /// Source address (its network part).
    pub src: Option<IpAddr>,
    /// Source prefix length.
    pub src_len: u8,
    /// Destination address.
    pub dst: Option<IpAddr>,
    /// Destination prefix length.
    pub dst_len: u8,
    /// Upper-layer protocol (`proto tcp` = 6; 0 = any).
    pub proto: u8,
    /// Source port (host order) and its mask.
    pub sport: u16,
    /// Source port mask (0xffff when a port is given).
    pub sport_mask: u16,
    /// Destination port (host order).
    pub dport: u16,
    /// Destination port mask.
    pub dport_mask: u16,
    /// `dev`: interface index (0 = any).
    pub ifindex: i32,
    /// The owning user (uid) the kernel reports.
    pub user: u32,
}

pub(crate) const SELECTOR_LEN: usize = 56;

impl Selector {
    /// A selector matching everything of `family`.
    pub fn any(family: Family) -> Selector {
        Selector {
            family: Some(family),
            src: None,
            src_len: 0,
            dst: None,
            dst_len: 0,
            proto: 0,
            sport: 0,
            sport_mask: 0,
            dport: 0,
            dport_mask: 0,
            ifindex: 0,
            user: 0,
        }
    }

    /// A selector of AF_UNSPEC (what `ip xfrm state add` sends without `sel`).
    pub fn unspec() -> Selector {
        Selector {
            family: None,
            ..Selector::any(Family::V4)
        }
    }

    /// `src PREFIX dst PREFIX`; both must be of one family.
    pub fn new(src: impl IntoPrefix, dst: impl IntoPrefix) -> Result<Selector> {
        let (s, sl) = src.into_prefix()?;
        let (d, dl) = dst.into_prefix()?;
        let f = Family::of(&s);
        if Family::of(&d) != f {
            return Err(Error::invalid(
                "selector",
                format!("src {s} and dst {d} are of different families"),
            ));
        }
        Ok(Selector {
            src: Some(s),
            src_len: sl,
            dst: Some(d),
            dst_len: dl,
            ..Selector::any(f)
        })
    }

    /// `proto N` (6 tcp, 17 udp, 58 ipv6-icmp…).
    pub fn proto(mut self, p: u8) -> Self {
        self.proto = p;
        self
    }

    /// `sport PORT`.
    pub fn sport(mut self, port: u16) -> Self {
        self.sport = port;
        self.sport_mask = u16::MAX;
        self
    }

    /// `dport PORT`.
    pub fn dport(mut self, port: u16) -> Self {
        self.dport = port;
        self.dport_mask = u16::MAX;
        self
    }

    /// `dev` by index.
    pub fn ifindex(mut self, i: i32) -> Self {
        self.ifindex = i;
        self
    }

    /// Checks families and prefix lengths (the kernel's rules, with clearer
    /// errors).
    pub fn validate(&self) -> Result<()> {
        let max = match self.family {
            Some(Family::V4) => 32,
            Some(Family::V6) => 128,
            None => 128,
        };
        for (name, a, len) in [
            ("selector src", self.src, self.src_len),
            ("selector dst", self.dst, self.dst_len),
        ] {
            if let (Some(a), Some(f)) = (a, self.family)
                && Family::of(&a) != f
            {
                return Err(Error::invalid(
                    name,
                    format!("{a} is not of the selector's family {f:?}"),
                ));
            }
            if len > max {
                return Err(Error::invalid(
                    name,
                    format!("prefix length {len} is longer than the address ({max} bits)"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        let mut w = Wr(b);
        w.addr(0, self.dst);
        w.addr(16, self.src);
        w.be16(32, self.dport);
        w.be16(34, self.dport_mask);
        w.be16(36, self.sport);
        w.be16(38, self.sport_mask);
        w.u16(40, family_raw(self.family));
        w.u8(42, self.dst_len);
        w.u8(43, self.src_len);
        w.u8(44, self.proto);
        w.i32(48, self.ifindex);
        w.u32(52, self.user);
    }

    pub(crate) fn parse(r: Rd<'_>) -> Selector {
        let fam = r.u16(40);
        Selector {
            family: family_of_raw(fam),
            dst: addr_of(r, 0, fam),
            src: addr_of(r, 16, fam),
            dport: r.be16(32),
            dport_mask: r.be16(34),
            sport: r.be16(36),
            sport_mask: r.be16(38),
            dst_len: r.u8(42),
            src_len: r.u8(43),
            proto: r.u8(44),
            ifindex: r.i32(48),
            user: r.u32(52),
        }
    }

    fn prefix_text(&self, a: Option<IpAddr>, len: u8) -> String {
        let a = a.unwrap_or_else(|| unspecified(self.family.unwrap_or(Family::V4)));
        format!("{a}/{len}")
    }
}

impl fmt::Display for Selector {
    /// As `ip xfrm` prints it: `src P dst P [proto N] [sport N] [dport N] [dev IDX]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "src {} dst {}",
            self.prefix_text(self.src, self.src_len),
            self.prefix_text(self.dst, self.dst_len)
        )?;
        if self.proto != 0 {
            match self.proto {
                6 => f.write_str(" proto tcp")?,
                17 => f.write_str(" proto udp")?,
                1 => f.write_str(" proto icmp")?,
                58 => f.write_str(" proto ipv6-icmp")?,
                n => write!(f, " proto {n}")?,
            }
        }
        if self.sport_mask != 0 {
            write!(f, " sport {}", self.sport)?;
        }
        if self.dport_mask != 0 {
            write!(f, " dport {}", self.dport)?;
        }
        if self.ifindex != 0 {
            write!(f, " dev if{}", self.ifindex)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Lifetimes and statistics.

/// `struct xfrm_lifetime_cfg`: soft and hard limits (`limit …` in `ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub struct Stats {
    /// Packets dropped by the replay window (`replay-window` drops).
    pub replay_window: u32,
    /// Replayed packets.
    pub replay: u32,
    /// Integrity (ICV) failures.
    pub integrity_failed: u32,
}

// ---------------------------------------------------------------------------
// Templates.

/// `level required|use` of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Level {
    /// `level required` (the default): a state must be applied.
    #[default]
    Required,
    /// `level use`: applied when a state exists (optional).
    Use,
}

/// `struct xfrm_user_tmpl`: one transform a policy asks for (`tmpl …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Family of `src`/`dst` (`None`: the policy's).
    pub family: Option<Family>,
    /// `src ADDR` (tunnel endpoints; `None` = any).
    pub src: Option<IpAddr>,
    /// `dst ADDR`.
    pub dst: Option<IpAddr>,
    /// `proto esp|ah|comp…`.
    pub proto: IpsecProto,
    /// `spi SPI` (0 = any).
    pub spi: u32,
    /// `mode …`.
    pub mode: Mode,
    /// `reqid N`.
    pub reqid: u32,
    /// `level required|use`.
    pub level: Level,
    /// Share mode (XFRM_SHARE_*; 0 = any).
    pub share: u8,
    /// Allowed authentication algorithms (bitmask; `ip` sends all ones).
    pub aalgos: u32,
    /// Allowed encryption algorithms.
    pub ealgos: u32,
    /// Allowed compression algorithms.
    pub calgos: u32,
}

pub(crate) const TMPL_LEN: usize = 64;

impl Template {
    /// A template for `proto` in `mode` with any endpoints, as `ip` builds it.
    pub fn new(proto: IpsecProto, mode: Mode) -> Template {
        Template {
            family: None,
            src: None,
            dst: None,
            proto,
            spi: 0,
            mode,
            reqid: 0,
            level: Level::Required,
            share: 0,
            aalgos: u32::MAX,
            ealgos: u32::MAX,
            calgos: u32::MAX,
        }
    }

    /// `src ADDR dst ADDR` (tunnel endpoints, one family).
    pub fn endpoints(mut self, src: IpAddr, dst: IpAddr) -> Self {
        self.family = Some(Family::of(&src));
        self.src = Some(src);
        self.dst = Some(dst);
        self
    }

    /// `reqid N`.
    pub fn reqid(mut self, r: u32) -> Self {
        self.reqid = r;
        self
    }

    /// `spi SPI`.
    pub fn spi(mut self, s: u32) -> Self {
        self.spi = s;
        self
    }

    /// `level required|use`.
    pub fn level(mut self, l: Level) -> Self {
        self.level = l;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        for a in [self.src, self.dst].into_iter().flatten() {
            if Some(Family::of(&a)) != self.family {
                return Err(Error::invalid(
                    "tmpl",
                    format!("address {a} is not of the template's family"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        let mut w = Wr(b);
        w.addr(0, self.dst);
        w.be32(16, self.spi);
        w.u8(20, self.proto.raw());
        w.u16(24, family_raw(self.family));
        w.addr(28, self.src);
        w.u32(44, self.reqid);
        w.u8(48, self.mode.raw());
        w.u8(49, self.share);
        w.u8(50, u8::from(self.level == Level::Use));
        w.u32(52, self.aalgos);
        w.u32(56, self.ealgos);
        w.u32(60, self.calgos);
    }

    pub(crate) fn parse(r: Rd<'_>) -> Template {
        let fam = r.u16(24);
        let nonzero = |a: Option<IpAddr>| a.filter(|a| !a.is_unspecified());
        Template {
            family: family_of_raw(fam),
            dst: nonzero(addr_of(r, 0, fam)),
            spi: r.be32(16),
            proto: IpsecProto::from_raw(r.u8(20)),
            src: nonzero(addr_of(r, 28, fam)),
            reqid: r.u32(44),
            mode: Mode::from_raw(r.u8(48)),
            share: r.u8(49),
            level: if r.u8(50) != 0 {
                Level::Use
            } else {
                Level::Required
            },
            aalgos: r.u32(52),
            ealgos: r.u32(56),
            calgos: r.u32(60),
        }
    }

    pub(crate) fn parse_all(v: &[u8]) -> Vec<Template> {
        v.chunks_exact(TMPL_LEN)
            .map(|c| Template::parse(Rd(c)))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Algorithms, encapsulation, replay state.

/// An algorithm with its key: `enc`, `comp`, `auth` (`xfrm_algo`),
/// `auth-trunc` (`xfrm_algo_auth`) or `aead` (`xfrm_algo_aead`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Algorithm {
    /// The kernel crypto name, e.g. `cbc(aes)`, `hmac(sha256)`,
    /// `rfc4106(gcm(aes))`, `deflate`.
    pub name: String,
    /// The key.
    pub key: Vec<u8>,
    /// The key length in bits (normally `key.len() * 8`).
    pub key_bits: u32,
    /// `auth-trunc`'s truncation or `aead`'s ICV length, in bits.
    pub icv_bits: Option<u32>,
}

impl fmt::Debug for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are secrets: never in debug output.
        f.debug_struct("Algorithm")
            .field("name", &self.name)
            .field("key_bits", &self.key_bits)
            .field("icv_bits", &self.icv_bits)
            .finish_non_exhaustive()
    }
}

const ALG_NAME_LEN: usize = 64;

impl Algorithm {
    /// An algorithm and its key (key length: the key's bits).
    pub fn new(name: &str, key: &[u8]) -> Algorithm {
        Algorithm {
            name: name.into(),
            key: key.to_vec(),
            key_bits: (key.len() * 8) as u32,
            icv_bits: None,
        }
    }

    /// With a truncation (auth-trunc) or ICV (aead) length in bits.
    pub fn with_icv_bits(mut self, bits: u32) -> Self {
        self.icv_bits = Some(bits);
        self
    }

    /// The key as `ip` prints it: `0x…` in hex.
    pub fn key_hex(&self) -> String {
        let mut s = String::from("0x");
        for b in &self.key {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub(crate) fn validate(&self, field: &'static str) -> Result<()> {
        if self.name.is_empty() || self.name.len() >= ALG_NAME_LEN {
            return Err(Error::invalid(
                field,
                format!("algorithm name {:?} must be 1 to 63 bytes", self.name),
            ));
        }
        if self.name.contains('\0') {
            return Err(Error::invalid(field, "algorithm name contains NUL"));
        }
        if self.key.len() != self.key_bits.div_ceil(8) as usize {
            return Err(Error::invalid(
                field,
                format!(
                    "key of {} bytes does not match its length of {} bits",
                    self.key.len(),
                    self.key_bits
                ),
            ));
        }
        Ok(())
    }

    /// `xfrm_algo` (with_icv false) or `xfrm_algo_auth`/`xfrm_algo_aead`.
    pub(crate) fn bytes(&self, with_icv: bool) -> Vec<u8> {
        let mut b = vec![0u8; ALG_NAME_LEN];
        b[..self.name.len()].copy_from_slice(self.name.as_bytes());
        b.extend_from_slice(&self.key_bits.to_ne_bytes());
        if with_icv {
            b.extend_from_slice(&self.icv_bits.unwrap_or(0).to_ne_bytes());
        }
        b.extend_from_slice(&self.key);
        b
    }

    pub(crate) fn parse(v: &[u8], with_icv: bool) -> Option<Algorithm> {
        let r = Rd(v);
        let name = v.get(..ALG_NAME_LEN)?;
        let end = name.iter().position(|&c| c == 0).unwrap_or(ALG_NAME_LEN);
        let name = String::from_utf8_lossy(&name[..end]).into_owned();
        let key_bits = r.arr::<4>(ALG_NAME_LEN).map(u32::from_ne_bytes)?;
        let (icv, key_at) = if with_icv {
            (
                Some(r.arr::<4>(ALG_NAME_LEN + 4).map(u32::from_ne_bytes)?),
                ALG_NAME_LEN + 8,
            )
        } else {
            (None, ALG_NAME_LEN + 4)
        };
        let klen = key_bits.div_ceil(8) as usize;
        let key = v.get(key_at..key_at.checked_add(klen)?)?.to_vec();
        Some(Algorithm {
            name,
            key,
            key_bits,
            icv_bits: icv,
        })
    }
}

/// The encapsulation type of NAT traversal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapType {
    /// `espinudp-nonike` (UDP_ENCAP_ESPINUDP_NON_IKE, 1).
    EspInUdpNonIke,
    /// `espinudp` (UDP_ENCAP_ESPINUDP, 2).
    EspInUdp,
    /// `espintcp` (TCP_ENCAP_ESPINTCP, 7).
    EspInTcp,
    /// Another value.
    Other(u16),
}

impl EncapType {
    /// The kernel's number.
    pub fn raw(self) -> u16 {
        match self {
            EncapType::EspInUdpNonIke => 1,
            EncapType::EspInUdp => 2,
            EncapType::EspInTcp => 7,
            EncapType::Other(n) => n,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(n: u16) -> Self {
        match n {
            1 => EncapType::EspInUdpNonIke,
            2 => EncapType::EspInUdp,
            7 => EncapType::EspInTcp,
            n => EncapType::Other(n),
        }
    }

    /// `ip`'s spelling.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "espinudp-nonike" => EncapType::EspInUdpNonIke,
            "espinudp" => EncapType::EspInUdp,
            "espintcp" => EncapType::EspInTcp,
            _ => {
                return Err(Error::invalid(
                    "encap",
                    format!("{s:?} is not an encap type"),
                ));
            }
        })
    }
}

impl fmt::Display for EncapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncapType::EspInUdpNonIke => f.write_str("espinudp-nonike"),
            EncapType::EspInUdp => f.write_str("espinudp"),
            EncapType::EspInTcp => f.write_str("espintcp"),
            EncapType::Other(n) => write!(f, "{n}"),
        }
    }
}

/// `encap TYPE SPORT DPORT OADDR` (`struct xfrm_encap_tmpl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encap {
    /// The encapsulation.
    pub kind: EncapType,
    /// UDP source port.
    pub sport: u16,
    /// UDP destination port.
    pub dport: u16,
    /// Original address (`None`: unspecified).
    pub oa: Option<IpAddr>,
}

pub(crate) const ENCAP_LEN: usize = 24;

impl Encap {
    pub(crate) fn bytes(&self) -> [u8; ENCAP_LEN] {
        let mut b = [0u8; ENCAP_LEN];
        let mut w = Wr(&mut b);
        w.u16(0, self.kind.raw());
        w.be16(2, self.sport);
        w.be16(4, self.dport);
        w.addr(8, self.oa);
        b
    }

    pub(crate) fn parse(v: &[u8], family: u16) -> Option<Encap> {
        if v.len() < ENCAP_LEN {
            return None;
        }
        let r = Rd(v);
        Some(Encap {
            kind: EncapType::from_raw(r.u16(0)),
            sport: r.be16(2),
            dport: r.be16(4),
            oa: addr_of(r, 8, family).filter(|a| !a.is_unspecified()),
        })
    }
}

/// `struct xfrm_replay_state_esn` (ESN anti-replay state).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
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
