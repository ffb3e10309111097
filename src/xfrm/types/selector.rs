//! `struct xfrm_selector` (which traffic) and `struct xfrm_mark`.

use std::fmt;
use std::net::IpAddr;

use super::wire::{Rd, Wr, addr_of, family_of_raw, family_raw, unspecified};
use crate::error::{Error, Result};
use crate::types::{Family, IntoPrefix};

/// `mark VALUE mask MASK` (XFRMA_MARK, `struct xfrm_mark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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

    /// `type N` of `proto icmp|ipv6-icmp|mobility-header` (the kernel keeps
    /// it in the source port).
    pub fn icmp_type(mut self, t: u8) -> Self {
        self.sport = u16::from(t);
        self.sport_mask = u16::MAX;
        self
    }

    /// `code N` of `proto icmp|ipv6-icmp|mobility-header` (in the
    /// destination port).
    pub fn icmp_code(mut self, c: u8) -> Self {
        self.dport = u16::from(c);
        self.dport_mask = u16::MAX;
        self
    }

    /// `key N` of `proto gre` (its high half in the source port, low half in
    /// the destination port).
    pub fn gre_key(mut self, key: u32) -> Self {
        self.sport = (key >> 16) as u16;
        self.dport = key as u16;
        self.sport_mask = u16::MAX;
        self.dport_mask = u16::MAX;
        self
    }

    /// The upper-layer part as `ip xfrm` prints it, each item followed by a
    /// space: `proto tcp sport 22 dport 80 `, `proto icmp type 8 code 0 `,
    /// `proto gre key 5 ` (empty for any protocol).
    pub fn upspec_text(&self) -> String {
        if self.proto == 0 {
            return String::new();
        }
        let mut s = match ip_proto_name(self.proto) {
            Some(n) => format!("proto {n} "),
            None => format!("proto {} ", self.proto),
        };
        // The ports mean other things for these protocols (ip's rules).
        let (a, b) = match self.proto {
            1 | 58 | 135 => ("type", "code"),
            47 => {
                if self.sport_mask != 0 || self.dport_mask != 0 {
                    let key = (u32::from(self.sport) << 16) | u32::from(self.dport);
                    s.push_str(&format!("key {key} "));
                }
                return s;
            }
            _ => ("sport", "dport"),
        };
        if self.sport_mask != 0 {
            s.push_str(&format!("{a} {} ", self.sport));
        }
        if self.dport_mask != 0 {
            s.push_str(&format!("{b} {} ", self.dport));
        }
        s
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
    /// As `ip xfrm` prints it, without the trailing space:
    /// `src P dst P [UPSPEC] [dev ifN]` (the library knows no device names).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = format!(
            "src {} dst {} {}",
            self.prefix_text(self.src, self.src_len),
            self.prefix_text(self.dst, self.dst_len),
            self.upspec_text()
        );
        if self.ifindex != 0 {
            s.push_str(&format!("dev if{}", self.ifindex));
        }
        f.write_str(s.trim_end())
    }
}

/// `/etc/protocols`' name of an IP protocol `ip` may print in a selector.
pub fn ip_proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        2 => "igmp",
        4 => "ipencap",
        6 => "tcp",
        17 => "udp",
        33 => "dccp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        135 => "mobility-header",
        136 => "udplite",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_text_follows_ip() {
        let s = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        assert_eq!(s.to_string(), "src 10.0.0.0/24 dst 10.0.1.0/24");
        let t = s.proto(6).sport(22).dport(80);
        assert_eq!(t.upspec_text(), "proto tcp sport 22 dport 80 ");
        let i = s.proto(1).icmp_type(8).icmp_code(0);
        assert_eq!(
            i.to_string(),
            "src 10.0.0.0/24 dst 10.0.1.0/24 proto icmp type 8 code 0"
        );
        assert_eq!(
            s.proto(47).gre_key(0x10002).upspec_text(),
            "proto gre key 65538 "
        );
        assert_eq!(s.proto(200).upspec_text(), "proto 200 ");
        assert_eq!(
            s.ifindex(3).to_string(),
            "src 10.0.0.0/24 dst 10.0.1.0/24 dev if3"
        );
    }
}
