//! The small enums of `ip xfrm`: policy direction and action, mode, IPsec
//! protocol.

use std::fmt;

use crate::error::{Error, Result};

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

/// The direction of a state (XFRMA_SA_DIR, Linux 6.10): `dir in|out`. The
/// kernel then refuses what does not fit the direction (a replay window on
/// an output SA, `flag nopmtudisc` on an input SA, ...) with its extended
/// ACK, and matches the SA only for traffic of that direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SaDir {
    /// `dir in` (XFRM_SA_DIR_IN = 1).
    In,
    /// `dir out` (XFRM_SA_DIR_OUT = 2).
    Out,
    /// Another value, as read from a newer kernel.
    Other(u8),
}

impl SaDir {
    /// The kernel's number.
    pub fn raw(self) -> u8 {
        match self {
            SaDir::In => 1,
            SaDir::Out => 2,
            SaDir::Other(n) => n,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(n: u8) -> SaDir {
        match n {
            1 => SaDir::In,
            2 => SaDir::Out,
            n => SaDir::Other(n),
        }
    }

    /// `ip`'s spelling: in, out.
    pub fn parse(s: &str) -> Result<SaDir> {
        match s {
            "in" => Ok(SaDir::In),
            "out" => Ok(SaDir::Out),
            _ => Err(Error::invalid("dir", format!("{s:?} is not in or out"))),
        }
    }
}

impl fmt::Display for SaDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaDir::In => f.write_str("in"),
            SaDir::Out => f.write_str("out"),
            SaDir::Other(n) => write!(f, "{n}"),
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
