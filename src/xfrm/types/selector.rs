//! `struct xfrm_selector` (which traffic) and `struct xfrm_mark`.

use std::fmt;
use std::net::IpAddr;

use super::wire::{Rd, Wr, addr_of, family_of_raw, family_raw, unspecified};
use crate::error::{Error, Result};
use crate::route::address::{Family, IntoPrefix};

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
