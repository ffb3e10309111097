//! [`IpsetEntry`]: a member of a set, as ipset writes it
//! (`10.0.0.0/24,tcp:80 timeout 60 comment "x"`), and its wire form.

use std::fmt;
use std::net::IpAddr;

use super::attr::{self, NBO};
use super::{SetType, cadt, check_name};
use crate::conn::attrs::{ip_of, nested, nested_get, str_of};
use crate::error::{Error, Result};
use crate::netfilter::{Emit, be16_of, be32_of, be64_of};
use crate::types::Family;

/// An IP protocol number, named as ipset names it (`tcp`, `udp`…).
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Proto(pub u8);

const PROTOS: [(u8, &str); 6] = [
    (1, "icmp"),
    (6, "tcp"),
    (17, "udp"),
    (58, "icmpv6"),
    (132, "sctp"),
    (136, "udplite"),
];

impl Proto {
    /// TCP.
    pub const TCP: Proto = Proto(6);
    /// UDP.
    pub const UDP: Proto = Proto(17);

    /// `tcp`, `udp`, `sctp`, `udplite`, `icmp`, `icmpv6` or a number.
    pub fn parse(s: &str) -> Result<Proto> {
        if let Some(&(n, _)) = PROTOS.iter().find(|(_, name)| *name == s) {
            return Ok(Proto(n));
        }
        s.parse()
            .map(Proto)
            .map_err(|_| Error::invalid("proto", format!("{s:?} is not a protocol")))
    }

    fn is_icmp(self) -> bool {
        self.0 == 1 || self.0 == 58
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match PROTOS.iter().find(|(n, _)| *n == self.0) {
            Some((_, name)) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A member of a set: its components (which ones depend on the set type)
/// and its extensions (timeout, counters, comment, skbinfo, nomatch).
/// Build one with [`IpsetEntry::parse`] or field by field.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpsetEntry {
    /// The address (the first component of ip and net types).
    pub ip: Option<IpAddr>,
    /// The last address of a range `ip-ip_to` (add, del: the kernel
    /// stores each address or network of the range).
    pub ip_to: Option<IpAddr>,
    /// The prefix length of `ip`.
    pub cidr: Option<u8>,
    /// The port (or, for icmp, `type << 8 | code`).
    pub port: Option<u16>,
    /// The last port of a range.
    pub port_to: Option<u16>,
    /// The port's protocol (hash types with a port; bitmap:port has none).
    pub proto: Option<Proto>,
    /// The second address (hash:ip,port,ip and hash:ip,port,net).
    pub ip2: Option<IpAddr>,
    /// The prefix length of `ip2`.
    pub cidr2: Option<u8>,
    /// The MAC address (hash:mac, hash:ip,mac).
    pub mac: Option<[u8; 6]>,
    /// The interface (hash:net,iface).
    pub iface: Option<String>,
    /// `physdev:`: `iface` is a bridge port.
    pub physdev: bool,
    /// The member set (list:set).
    pub set: Option<String>,
    /// `timeout SECONDS` (listed: what is left).
    pub timeout: Option<u32>,
    /// `nomatch` (net types): an exception inside a larger member.
    pub nomatch: bool,
    /// `packets N`.
    pub packets: Option<u64>,
    /// `bytes N`.
    pub bytes: Option<u64>,
    /// `comment "TEXT"` (at most 255 bytes).
    pub comment: Option<String>,
    /// `skbmark MARK/MASK`.
    pub skbmark: Option<(u32, u32)>,
    /// `skbprio MAJOR:MINOR`.
    pub skbprio: Option<(u16, u16)>,
    /// `skbqueue N`.
    pub skbqueue: Option<u16>,
}

pub(crate) fn family_of(a: IpAddr) -> Family {
    if a.is_ipv4() { Family::V4 } else { Family::V6 }
}

/// NFPROTO_IPV4 / NFPROTO_IPV6.
pub(crate) fn nfproto(f: Family) -> u8 {
    match f {
        Family::V4 => 2,
        Family::V6 => 10,
    }
}

/// An address nest: IPSET_ATTR_IPADDR_IPV4/6, network order, flagged so.
pub(crate) fn ip_nest(e: &mut Emit, ty: u16, a: IpAddr) {
    e.nest(ty, |e| match a {
        IpAddr::V4(a) => {
            e.attr(attr::IPADDR_IPV4 | NBO, &a.octets());
        }
        IpAddr::V6(a) => {
            e.attr(attr::IPADDR_IPV6 | NBO, &a.octets());
        }
    });
}

fn addr_of(nest: &[u8]) -> Option<IpAddr> {
    nested_get(nest, attr::IPADDR_IPV4)
        .or_else(|| nested_get(nest, attr::IPADDR_IPV6))
        .and_then(ip_of)
}

fn max_cidr(a: IpAddr) -> u8 {
    if a.is_ipv4() { 32 } else { 128 }
}

/// `ADDR`, `ADDR/CIDR` or `ADDR-ADDR`.
fn parse_ip(field: &'static str, s: &str) -> Result<(IpAddr, Option<u8>, Option<IpAddr>)> {
    let bad = |why: &str| Error::invalid(field, format!("{s:?}: {why}"));
    let ip = |t: &str| t.parse::<IpAddr>().map_err(|_| bad("not an address"));
    if let Some((a, c)) = s.split_once('/') {
        let a = ip(a)?;
        let c: u8 = c
            .parse()
            .map_err(|_| bad("the prefix length is not a number"))?;
        if c > max_cidr(a) {
            return Err(bad(&format!("the prefix length exceeds {}", max_cidr(a))));
        }
        return Ok((a, Some(c), None));
    }
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (ip(a)?, ip(b)?);
        if family_of(a) != family_of(b) || a > b {
            return Err(bad("not a range, low to high, of one family"));
        }
        return Ok((a, None, Some(b)));
    }
    Ok((ip(s)?, None, None))
}

fn parse_num<T: std::str::FromStr>(field: &'static str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| Error::invalid(field, format!("{s:?} is not a number in range")))
}

impl IpsetEntry {
    /// A member of a set of type `ty` in ipset's syntax: the components
    /// joined by commas (`1.2.3.4`, `10.0.0.0/8,tcp:80`, `10.0.0.1-10.0.0.9`,
    /// `2001:db8::1,udp:53,::1`, `10.0.0.0/8,physdev:eth0`,
    /// `aa:bb:cc:dd:ee:ff`, `1-1024` for bitmap:port, a set name for
    /// list:set). icmp ports are `icmp:TYPE/CODE` in numbers.
    ///
    /// ```
    /// use tokio_netlink::netfilter::ipset::{IpsetEntry, SetType};
    /// let e = IpsetEntry::parse(SetType::HashNetPort, "10.0.0.0/24,udp:53").unwrap();
    /// assert_eq!(e.cidr, Some(24));
    /// assert_eq!(e.to_string(), "10.0.0.0/24,udp:53");
    /// assert!(IpsetEntry::parse(SetType::HashNet, "10.0.0.0/33").is_err());
    /// ```
    pub fn parse(ty: SetType, s: &str) -> Result<IpsetEntry> {
        let dims = ty.dims();
        let parts: Vec<&str> = s.split(',').collect();
        if parts.len() != dims.len() {
            return Err(Error::invalid(
                "element",
                format!(
                    "{s:?}: a {ty} member has {} component(s): {}",
                    dims.len(),
                    dims.join(",")
                ),
            ));
        }
        let mut e = IpsetEntry::default();
        let mut ips = 0;
        for (dim, p) in dims.iter().zip(parts) {
            match *dim {
                "ip" | "net" if ips == 0 => {
                    let (a, c, to) = parse_ip(dim, p)?;
                    (e.ip, e.cidr, e.ip_to) = (Some(a), c, to);
                    ips = 1;
                }
                "ip" | "net" => {
                    let (a, c, to) = parse_ip(dim, p)?;
                    if to.is_some() {
                        return Err(Error::invalid(dim, format!("{p:?}: no range here")));
                    }
                    (e.ip2, e.cidr2) = (Some(a), c);
                }
                "port" => e.parse_port(ty, p)?,
                "mac" => e.mac = Some(parse_mac(p)?),
                "iface" => {
                    let (phys, name) = match p.strip_prefix("physdev:") {
                        Some(n) => (true, n),
                        None => (false, p),
                    };
                    crate::conn::attrs::check_string("iface", name, 15)?;
                    (e.physdev, e.iface) = (phys, Some(name.to_owned()));
                }
                _ => {
                    check_name("set", p)?;
                    e.set = Some(p.to_owned());
                }
            }
        }
        Ok(e)
    }

    /// `[PROTO:]PORT[-PORT]`, `icmp:TYPE/CODE`; bitmap:port takes no
    /// protocol, hash types default to tcp as ipset does.
    fn parse_port(&mut self, ty: SetType, p: &str) -> Result<()> {
        let (proto, ports) = match p.split_once(':') {
            Some((pr, rest)) if ty != SetType::BitmapPort => (Proto::parse(pr)?, rest),
            Some(_) => {
                return Err(Error::invalid(
                    "port",
                    format!("{p:?}: bitmap:port takes no protocol"),
                ));
            }
            None => (Proto::TCP, p),
        };
        if proto.is_icmp() {
            let (t, c) = ports
                .split_once('/')
                .ok_or_else(|| Error::invalid("port", format!("{p:?}: icmp takes TYPE/CODE")))?;
            let (t, c): (u8, u8) = (parse_num("port", t)?, parse_num("port", c)?);
            self.port = Some(u16::from(t) << 8 | u16::from(c));
        } else if let Some((a, b)) = ports.split_once('-') {
            let (a, b): (u16, u16) = (parse_num("port", a)?, parse_num("port", b)?);
            if a > b {
                return Err(Error::invalid(
                    "port",
                    format!("{p:?}: not a range, low to high"),
                ));
            }
            (self.port, self.port_to) = (Some(a), Some(b));
        } else {
            self.port = Some(parse_num("port", ports)?);
        }
        if ty != SetType::BitmapPort {
            self.proto = Some(proto);
        }
        Ok(())
    }

    /// The attributes of IPSET_ATTR_DATA for add, del and test.
    pub(crate) fn emit(&self, e: &mut Emit) -> Result<()> {
        if let Some(a) = self.ip {
            ip_nest(e, attr::IP, a);
        }
        if let Some(a) = self.ip_to {
            ip_nest(e, attr::IP_TO, a);
        }
        if let Some(c) = self.cidr {
            e.u8(attr::CIDR, c);
        }
        if let Some(p) = self.port {
            e.be16(attr::PORT | NBO, p);
        }
        if let Some(p) = self.port_to {
            e.be16(attr::PORT_TO | NBO, p);
        }
        if let Some(p) = self.proto {
            e.u8(attr::PROTO, p.0);
        }
        if let Some(a) = self.ip2 {
            ip_nest(e, attr::IP2, a);
        }
        if let Some(c) = self.cidr2 {
            e.u8(attr::CIDR2, c);
        }
        if let Some(m) = self.mac {
            e.attr(attr::ETHER, &m);
        }
        if let Some(i) = &self.iface {
            crate::conn::attrs::check_string("iface", i, 15)?;
            e.attr(attr::IFACE, &super::cstr(i));
        }
        if let Some(s) = &self.set {
            check_name("set", s)?;
            e.attr(attr::NAME, &super::cstr(s));
        }
        let mut flags = 0;
        if self.nomatch {
            flags |= cadt::NOMATCH;
        }
        if self.physdev {
            flags |= cadt::PHYSDEV;
        }
        if flags != 0 {
            e.be32(attr::CADT_FLAGS | NBO, flags);
        }
        if let Some(t) = self.timeout {
            e.be32(attr::TIMEOUT | NBO, t);
        }
        if let Some(n) = self.packets {
            e.attr(attr::PACKETS | NBO, &n.to_be_bytes());
        }
        if let Some(n) = self.bytes {
            e.attr(attr::BYTES | NBO, &n.to_be_bytes());
        }
        if let Some(c) = &self.comment {
            crate::conn::attrs::check_string("comment", c, 255)?;
            e.attr(attr::COMMENT, &super::cstr(c));
        }
        if let Some((m, mask)) = self.skbmark {
            let v = (u64::from(m) << 32) | u64::from(mask);
            e.attr(attr::SKBMARK | NBO, &v.to_be_bytes());
        }
        if let Some((maj, min)) = self.skbprio {
            e.be32(attr::SKBPRIO | NBO, (u32::from(maj) << 16) | u32::from(min));
        }
        if let Some(q) = self.skbqueue {
            e.be16(attr::SKBQUEUE | NBO, q);
        }
        Ok(())
    }

    /// A member from its IPSET_ATTR_DATA nest. Attributes too short for
    /// their type are left out (the nest was bounds-checked).
    pub(crate) fn decode(data: &[u8]) -> IpsetEntry {
        let mut e = IpsetEntry::default();
        for (t, v) in nested(data) {
            match t {
                attr::IP => e.ip = addr_of(v),
                attr::IP_TO => e.ip_to = addr_of(v),
                attr::CIDR => e.cidr = v.first().copied(),
                attr::PORT => e.port = be16_of(v),
                attr::PORT_TO => e.port_to = be16_of(v),
                attr::PROTO => e.proto = v.first().copied().map(Proto),
                attr::IP2 => e.ip2 = addr_of(v),
                attr::CIDR2 => e.cidr2 = v.first().copied(),
                attr::ETHER => e.mac = v.get(..6).and_then(|m| m.try_into().ok()),
                attr::IFACE => e.iface = str_of(v).map(str::to_owned),
                attr::NAME => e.set = str_of(v).map(str::to_owned),
                attr::CADT_FLAGS => {
                    let f = be32_of(v).unwrap_or(0);
                    e.nomatch = f & cadt::NOMATCH != 0;
                    e.physdev = f & cadt::PHYSDEV != 0;
                }
                attr::TIMEOUT => e.timeout = be32_of(v),
                attr::PACKETS => e.packets = be64_of(v),
                attr::BYTES => e.bytes = be64_of(v),
                attr::COMMENT => e.comment = str_of(v).map(str::to_owned),
                attr::SKBMARK => {
                    e.skbmark = be64_of(v).map(|m| ((m >> 32) as u32, m as u32));
                }
                attr::SKBPRIO => e.skbprio = be32_of(v).map(|p| ((p >> 16) as u16, p as u16)),
                attr::SKBQUEUE => e.skbqueue = be16_of(v),
                _ => {}
            }
        }
        e
    }

    /// The components as ipset writes them, without extensions.
    pub fn element(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.ip {
            parts.push(match (self.ip_to, self.cidr) {
                (Some(to), _) => format!("{a}-{to}"),
                (None, Some(c)) if c < max_cidr(a) => format!("{a}/{c}"),
                _ => a.to_string(),
            });
        }
        if let Some(p) = self.port {
            let ports = match self.port_to {
                Some(to) => format!("{p}-{to}"),
                None => p.to_string(),
            };
            parts.push(match self.proto {
                Some(pr) if pr.is_icmp() => format!("{pr}:{}/{}", p >> 8, p & 0xff),
                Some(pr) => format!("{pr}:{ports}"),
                None => ports,
            });
        }
        if let Some(a) = self.ip2 {
            parts.push(match self.cidr2 {
                Some(c) if c < max_cidr(a) => format!("{a}/{c}"),
                _ => a.to_string(),
            });
        }
        if let Some(m) = self.mac {
            let hex: Vec<String> = m.iter().map(|b| format!("{b:02X}")).collect();
            parts.push(hex.join(":"));
        }
        if let Some(i) = &self.iface {
            parts.push(if self.physdev {
                format!("physdev:{i}")
            } else {
                i.clone()
            });
        }
        if let Some(s) = &self.set {
            parts.push(s.clone());
        }
        parts.join(",")
    }
}

fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || Error::invalid("mac", format!("{s:?} is not a MAC address"));
    let mut m = [0u8; 6];
    let mut it = s.split(':');
    for b in &mut m {
        let h = it.next().ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(h, 16).map_err(|_| bad())?;
    }
    if it.next().is_some() {
        return Err(bad());
    }
    Ok(m)
}

/// A member line of `ipset list` (and, after `add SET `, of `ipset save`).
impl fmt::Display for IpsetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.element())?;
        if let Some(t) = self.timeout {
            write!(f, " timeout {t}")?;
        }
        if self.nomatch {
            f.write_str(" nomatch")?;
        }
        if let Some(n) = self.packets {
            write!(f, " packets {n}")?;
        }
        if let Some(n) = self.bytes {
            write!(f, " bytes {n}")?;
        }
        if let Some(c) = &self.comment {
            write!(f, " comment \"{c}\"")?;
        }
        match self.skbmark {
            Some((m, u32::MAX)) => write!(f, " skbmark {m:#x}")?,
            Some((m, mask)) => write!(f, " skbmark {m:#x}/{mask:#x}")?,
            None => {}
        }
        if let Some((maj, min)) = self.skbprio {
            write!(f, " skbprio {maj:x}:{min:x}")?;
        }
        if let Some(q) = self.skbqueue {
            write!(f, " skbqueue {q}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_ipset_syntax() {
        for (ty, s) in [
            (SetType::HashIp, "1.2.3.4"),
            (SetType::HashIp, "10.0.0.1-10.0.0.9"),
            (SetType::HashNet, "2001:db8::/32"),
            (SetType::HashIpPort, "1.1.1.1,udp:53"),
            (SetType::HashNetPort, "10.0.0.0/8,tcp:1-1024"),
            (SetType::HashIpPortIp, "2001:db8::1,sctp:5,::2"),
            (SetType::HashIpPortNet, "1.2.3.4,icmp:8/0,10.0.0.0/8"),
            (SetType::HashIpMac, "1.2.3.4,AA:BB:CC:DD:EE:0F"),
            (SetType::HashNetIface, "10.0.0.0/8,physdev:eth0"),
            (SetType::BitmapPort, "20-22"),
            (SetType::ListSet, "other"),
        ] {
            let e = IpsetEntry::parse(ty, s).unwrap();
            assert_eq!(e.element(), s, "{ty}");
            let mut m = Emit::new(0, 0, 0);
            e.emit(&mut m).unwrap();
            let back = IpsetEntry::decode(&m.message().payload[4..]);
            assert_eq!(back, e, "{ty} {s}");
        }
        assert_eq!(
            IpsetEntry::parse(SetType::HashIpPort, "1.1.1.1,80")
                .unwrap()
                .element(),
            "1.1.1.1,tcp:80"
        );
    }

    #[test]
    fn bad_members_name_their_field() {
        for (ty, s, field) in [
            (SetType::HashNet, "10.0.0.0/40", "net"),
            (SetType::HashNet, "10.0.0.0/x", "net"),
            (SetType::HashIp, "10.0.0.300", "ip"),
            (SetType::HashIp, "10.0.0.9-10.0.0.1", "ip"),
            (SetType::HashIpPort, "1.1.1.1,tcp:70000", "port"),
            (SetType::HashIpPort, "1.1.1.1,bogus:1", "proto"),
            (SetType::HashIpPort, "1.1.1.1", "element"),
            (SetType::BitmapPort, "tcp:1", "port"),
            (SetType::HashMac, "aa:bb:cc:dd:ee", "mac"),
            (
                SetType::HashNetIface,
                "10.0.0.0/8,an-interface-too-long",
                "iface",
            ),
            (SetType::ListSet, "", "set"),
        ] {
            match IpsetEntry::parse(ty, s) {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{s}"),
                other => panic!("{ty} {s:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn extensions_in_ipset_order() {
        let mut e = IpsetEntry::parse(SetType::HashNetPort, "10.0.0.0/24,udp:53").unwrap();
        e.timeout = Some(99);
        e.nomatch = true;
        (e.packets, e.bytes) = (Some(1), Some(2));
        e.comment = Some("a b".into());
        e.skbmark = Some((0x10, 0xff));
        e.skbprio = Some((1, 2));
        e.skbqueue = Some(3);
        let want = "10.0.0.0/24,udp:53 timeout 99 nomatch packets 1 bytes 2 comment \"a b\" \
                    skbmark 0x10/0xff skbprio 1:2 skbqueue 3";
        assert_eq!(e.to_string(), want);
        let mut m = Emit::new(0, 0, 0);
        e.emit(&mut m).unwrap();
        assert_eq!(IpsetEntry::decode(&m.message().payload[4..]), e);
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use super::*;

    #[test]
    fn members_and_types_round_trip() {
        let ty = SetType::HashIpPort;
        assert_eq!(serde_json::to_string(&ty).unwrap(), "\"hash:ip,port\"");
        assert_eq!(
            serde_json::from_str::<SetType>("\"hash:ip,port\"").unwrap(),
            ty
        );
        assert!(serde_json::from_str::<SetType>("\"hash:nope\"").is_err());
        let mut e = IpsetEntry::parse(ty, "10.0.0.1,udp:53").unwrap();
        e.comment = Some("dns".into());
        let j = serde_json::to_string(&e).unwrap();
        assert!(
            j.contains("\"ip\":\"10.0.0.1\"") && j.contains("\"comment\":\"dns\""),
            "{j}"
        );
        assert_eq!(serde_json::from_str::<IpsetEntry>(&j).unwrap(), e);
    }
}
