//! A direction of a connection: addresses, layer-4 protocol, and its ports
//! or ICMP type/code/id (`CTA_TUPLE_*`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::conn::attrs::{ip_of, nested, u8_of};
use crate::error::{Error, Result};
use crate::netfilter::{Emit, be16_of};
use crate::types::{Family, IntoAddr};

pub(super) const TUPLE_IP: u16 = 1;
pub(super) const TUPLE_PROTO: u16 = 2;
pub(super) const IP_V4_SRC: u16 = 1;
pub(super) const IP_V4_DST: u16 = 2;
pub(super) const IP_V6_SRC: u16 = 3;
pub(super) const IP_V6_DST: u16 = 4;
pub(super) const PROTO_NUM: u16 = 1;
pub(super) const PROTO_SRC_PORT: u16 = 2;
pub(super) const PROTO_DST_PORT: u16 = 3;
const PROTO_ICMP_ID: u16 = 4;
const PROTO_ICMP_TYPE: u16 = 5;
const PROTO_ICMP_CODE: u16 = 6;
const PROTO_ICMPV6_ID: u16 = 7;
const PROTO_ICMPV6_TYPE: u16 = 8;
const PROTO_ICMPV6_CODE: u16 = 9;

/// A layer-4 protocol as `conntrack -p` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// tcp (6).
    Tcp,
    /// udp (17).
    Udp,
    /// icmp (1).
    Icmp,
    /// icmpv6 (58).
    Icmpv6,
    /// sctp (132).
    Sctp,
    /// dccp (33).
    Dccp,
    /// udplite (136).
    Udplite,
    /// gre (47).
    Gre,
    /// Another protocol number (tracked by the generic tracker).
    Other(u8),
}

impl Proto {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmpv6 => 58,
            Proto::Sctp => 132,
            Proto::Dccp => 33,
            Proto::Udplite => 136,
            Proto::Gre => 47,
            Proto::Other(n) => n,
        }
    }

    /// The protocol of number `n`.
    pub fn from_number(n: u8) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 => Proto::Icmp,
            58 => Proto::Icmpv6,
            132 => Proto::Sctp,
            33 => Proto::Dccp,
            136 => Proto::Udplite,
            47 => Proto::Gre,
            n => Proto::Other(n),
        }
    }

    /// `conntrack`'s name: `tcp`, `udp`, … and `unknown` for the rest.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Sctp => "sctp",
            Proto::Dccp => "dccp",
            Proto::Udplite => "udplite",
            Proto::Gre => "gre",
            Proto::Other(_) => "unknown",
        }
    }

    /// True for the protocols whose tuples carry ports.
    pub fn has_ports(self) -> bool {
        matches!(
            self,
            Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Dccp | Proto::Udplite
        )
    }

    fn is_icmp(self) -> bool {
        matches!(self, Proto::Icmp | Proto::Icmpv6)
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Proto {
    type Err = Error;

    /// A name (`tcp`, `ipv6-icmp` as well as `icmpv6`) or a number.
    fn from_str(s: &str) -> Result<Proto> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" => Proto::Icmp,
            "icmpv6" | "ipv6-icmp" => Proto::Icmpv6,
            "sctp" => Proto::Sctp,
            "dccp" => Proto::Dccp,
            "udplite" => Proto::Udplite,
            "gre" => Proto::Gre,
            n => match n.parse::<u8>() {
                Ok(n) => Proto::from_number(n),
                Err(_) => return Err(Error::invalid("proto", format!("{s:?} is not a protocol"))),
            },
        })
    }
}

/// One direction of a connection (`src= dst= sport= dport=` or
/// `type= code= id=`): the request on create, get and delete, the
/// kernel's view in an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Tuple {
    /// `src=`.
    pub src: IpAddr,
    /// `dst=`.
    pub dst: IpAddr,
    /// The layer-4 protocol.
    pub proto: Proto,
    /// `sport=` (TCP, UDP, SCTP, DCCP, UDP-Lite).
    pub sport: Option<u16>,
    /// `dport=`.
    pub dport: Option<u16>,
    /// ICMP `type=`.
    pub icmp_type: Option<u8>,
    /// ICMP `code=`.
    pub icmp_code: Option<u8>,
    /// ICMP `id=`.
    pub icmp_id: Option<u16>,
}

impl Tuple {
    /// `src=SRC dst=DST` of `proto`; addresses as `IpAddr` or text, of one
    /// family (else [`Error::InvalidInput`] naming `src` or `dst`).
    pub fn new(src: impl IntoAddr, dst: impl IntoAddr, proto: Proto) -> Result<Tuple> {
        let src = src.into_addr("src")?;
        let dst = dst.into_addr("dst")?;
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(Error::invalid(
                "dst",
                format!("{dst} is not of the family of src {src}"),
            ));
        }
        Ok(Tuple {
            src,
            dst,
            proto,
            sport: None,
            dport: None,
            icmp_type: None,
            icmp_code: None,
            icmp_id: None,
        })
    }

    /// `sport=S dport=D`.
    pub fn ports(mut self, sport: u16, dport: u16) -> Self {
        self.sport = Some(sport);
        self.dport = Some(dport);
        self
    }

    /// ICMP `type=T code=C id=I`.
    pub fn icmp(mut self, ty: u8, code: u8, id: u16) -> Self {
        self.icmp_type = Some(ty);
        self.icmp_code = Some(code);
        self.icmp_id = Some(id);
        self
    }

    /// The address family.
    pub fn family(&self) -> Family {
        Family::of(&self.src)
    }

    /// The other direction, as the kernel would make it for a connection
    /// without NAT: addresses and ports swapped, an ICMP request turned
    /// into its reply (echo 8 → 0, 128 → 129, …).
    pub fn reversed(&self) -> Tuple {
        Tuple {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            icmp_type: self.icmp_type.map(|t| icmp_reply(self.proto, t)),
            ..*self
        }
    }

    /// Checks what the kernel needs to look up or create an entry by this
    /// tuple: the protocol's ports or ICMP fields, ICMP of the right family.
    pub fn validate(&self) -> Result<()> {
        if self.src.is_ipv4() != self.dst.is_ipv4() {
            return Err(Error::invalid(
                "dst",
                format!("{} is not of the family of src {}", self.dst, self.src),
            ));
        }
        let v4 = self.src.is_ipv4();
        if (self.proto == Proto::Icmp && !v4) || (self.proto == Proto::Icmpv6 && v4) {
            return Err(Error::invalid(
                "proto",
                format!("{} does not go with {}", self.proto, self.src),
            ));
        }
        if self.proto.has_ports() {
            for (field, v) in [("sport", self.sport), ("dport", self.dport)] {
                if v.is_none() {
                    return Err(Error::invalid(
                        field,
                        format!("a {} tuple needs both ports", self.proto),
                    ));
                }
            }
        }
        if self.proto.is_icmp() {
            let missing = [
                ("icmp-type", self.icmp_type.is_none()),
                ("icmp-code", self.icmp_code.is_none()),
                ("icmp-id", self.icmp_id.is_none()),
            ];
            if let Some((field, _)) = missing.iter().find(|(_, m)| *m) {
                return Err(Error::invalid(
                    field,
                    format!("an {} tuple needs its type, code and id", self.proto),
                ));
            }
        }
        Ok(())
    }

    /// Appends this tuple as nest `ty` (CTA_TUPLE_ORIG or _REPLY).
    pub(crate) fn emit(&self, e: &mut Emit, ty: u16) {
        e.nest(ty, |e| {
            e.nest(TUPLE_IP, |e| {
                let (s, d) = match self.src {
                    IpAddr::V4(_) => (IP_V4_SRC, IP_V4_DST),
                    IpAddr::V6(_) => (IP_V6_SRC, IP_V6_DST),
                };
                e.addr(s, self.src).addr(d, self.dst);
            });
            e.nest(TUPLE_PROTO, |e| self.emit_proto(e));
        });
    }

    fn emit_proto(&self, e: &mut Emit) {
        e.u8(PROTO_NUM, self.proto.number());
        if let Some(p) = self.sport {
            e.be16(PROTO_SRC_PORT, p);
        }
        if let Some(p) = self.dport {
            e.be16(PROTO_DST_PORT, p);
        }
        let (id, ty, code) = match self.proto {
            Proto::Icmpv6 => (PROTO_ICMPV6_ID, PROTO_ICMPV6_TYPE, PROTO_ICMPV6_CODE),
            _ => (PROTO_ICMP_ID, PROTO_ICMP_TYPE, PROTO_ICMP_CODE),
        };
        if let Some(v) = self.icmp_id {
            e.be16(id, v);
        }
        if let Some(v) = self.icmp_type {
            e.u8(ty, v);
        }
        if let Some(v) = self.icmp_code {
            e.u8(code, v);
        }
    }

    /// Decodes a CTA_TUPLE_* value; `None` when its addresses or protocol
    /// are missing or malformed.
    pub(crate) fn parse(value: &[u8]) -> Option<Tuple> {
        let (mut src, mut dst, mut proto) = (None, None, None);
        let mut t = Tuple {
            src: IpAddr::from([0, 0, 0, 0]),
            dst: IpAddr::from([0, 0, 0, 0]),
            proto: Proto::Other(0),
            sport: None,
            dport: None,
            icmp_type: None,
            icmp_code: None,
            icmp_id: None,
        };
        for (ty, v) in nested(value) {
            match ty {
                TUPLE_IP => {
                    for (ty, v) in nested(v) {
                        match ty {
                            IP_V4_SRC if v.len() == 4 => src = ip_of(v),
                            IP_V4_DST if v.len() == 4 => dst = ip_of(v),
                            IP_V6_SRC if v.len() == 16 => src = ip_of(v),
                            IP_V6_DST if v.len() == 16 => dst = ip_of(v),
                            _ => {}
                        }
                    }
                }
                TUPLE_PROTO => {
                    for (ty, v) in nested(v) {
                        match ty {
                            PROTO_NUM => proto = u8_of(v).map(Proto::from_number),
                            PROTO_SRC_PORT => t.sport = be16_of(v),
                            PROTO_DST_PORT => t.dport = be16_of(v),
                            PROTO_ICMP_ID | PROTO_ICMPV6_ID => t.icmp_id = be16_of(v),
                            PROTO_ICMP_TYPE | PROTO_ICMPV6_TYPE => t.icmp_type = u8_of(v),
                            PROTO_ICMP_CODE | PROTO_ICMPV6_CODE => t.icmp_code = u8_of(v),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        t.src = src?;
        t.dst = dst?;
        t.proto = proto?;
        Some(t)
    }
}

impl fmt::Display for Tuple {
    /// `src=A dst=B sport=S dport=D` or `src=A dst=B type=T code=C id=I`,
    /// as `conntrack -L` prints a direction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "src={} dst={}", self.src, self.dst)?;
        if let (Some(s), Some(d)) = (self.sport, self.dport) {
            write!(f, " sport={s} dport={d}")?;
        }
        if let (Some(t), Some(c), Some(i)) = (self.icmp_type, self.icmp_code, self.icmp_id) {
            write!(f, " type={t} code={c} id={i}")?;
        }
        Ok(())
    }
}

/// The reply type of an ICMP query type (others stay as they are).
fn icmp_reply(proto: Proto, ty: u8) -> u8 {
    let pairs: &[(u8, u8)] = match proto {
        Proto::Icmp => &[(8, 0), (13, 14), (15, 16), (17, 18)],
        Proto::Icmpv6 => &[(128, 129), (130, 131)],
        _ => &[],
    };
    for &(q, r) in pairs {
        if ty == q {
            return r;
        }
        if ty == r {
            return q;
        }
    }
    ty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_validation() {
        let t = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
            .unwrap()
            .ports(1, 2);
        t.validate().unwrap();
        let mut e = Emit::new(0, 2, 0);
        t.emit(&mut e, 1);
        let m = e.message();
        // The nest's value starts after nfgenmsg (4) and its header (4).
        assert_eq!(Tuple::parse(&m.payload[8..]), Some(t));
        assert_eq!(t.to_string(), "src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2");
        assert_eq!(
            t.reversed().to_string(),
            "src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1"
        );

        let i = Tuple::new("2001:db8::1", "2001:db8::2", Proto::Icmpv6)
            .unwrap()
            .icmp(128, 0, 5);
        assert_eq!(i.reversed().icmp_type, Some(129));
        let mut e = Emit::new(0, 10, 0);
        i.emit(&mut e, 1);
        assert_eq!(Tuple::parse(&e.message().payload[8..]), Some(i));

        let bad = |t: Result<Tuple>, field: &str| match t.and_then(|t| t.validate()) {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        };
        bad(Tuple::new("10.0.0.1", "2001:db8::1", Proto::Udp), "dst");
        bad(Tuple::new("10.0.0.300", "10.0.0.1", Proto::Udp), "src");
        bad(Tuple::new("10.0.0.1", "10.0.0.2", Proto::Udp), "sport");
        bad(
            Tuple::new("10.0.0.1", "10.0.0.2", Proto::Udp).map(|t| Tuple {
                sport: Some(1),
                ..t
            }),
            "dport",
        );
        bad(Tuple::new("10.0.0.1", "10.0.0.2", Proto::Icmp), "icmp-type");
        bad(
            Tuple::new("10.0.0.1", "10.0.0.2", Proto::Icmpv6).map(|t| t.icmp(128, 0, 1)),
            "proto",
        );
        assert_eq!("ipv6-icmp".parse::<Proto>().unwrap(), Proto::Icmpv6);
        assert_eq!("99".parse::<Proto>().unwrap(), Proto::Other(99));
        assert!("bogus".parse::<Proto>().is_err());
    }

    #[test]
    fn short_tuples_are_none_never_a_panic() {
        let t = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Udp)
            .unwrap()
            .ports(1, 2);
        let mut e = Emit::new(0, 2, 0);
        t.emit(&mut e, 1);
        let m = e.message();
        let v = &m.payload[8..];
        for n in 0..v.len() {
            let _ = Tuple::parse(&v[..n]);
        }
        assert_eq!(Tuple::parse(&v[..12]), None, "no destination address");
    }
}
