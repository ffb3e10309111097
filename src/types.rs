//! Addresses and prefixes as every family takes them: [`IntoAddr`] for a
//! single address, [`IntoPrefix`] for an address with a prefix length.
//! Both accept `ip`'s text as well as the std and ipnetwork types, and
//! refuse bad text with [`Error::InvalidInput`] naming the setter;
//! [`Family`], the address family every family shares.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_route::AddressFamily;

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

use crate::error::{Error, Result};
use crate::route::route::names::decimal;

/// An address family: IPv4 (AF_INET) or IPv6 (AF_INET6), as routes,
/// rules, neighbours, addresses and XFRM take it (also at
/// `route::address::Family`, its old path). Socket diagnostics have their
/// own [`diag::Family`](crate::diag::Family), which adds `Both` (one
/// listing over two dumps, as `ss` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (AF_INET).
    V4,
    /// IPv6 (AF_INET6).
    V6,
}

impl Family {
    pub(crate) fn raw(self) -> AddressFamily {
        match self {
            Family::V4 => AddressFamily::Inet,
            Family::V6 => AddressFamily::Inet6,
        }
    }

    pub(crate) fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }

    /// 0.0.0.0 or `::`.
    pub(crate) fn unspecified(self) -> IpAddr {
        match self {
            Family::V4 => Ipv4Addr::UNSPECIFIED.into(),
            Family::V6 => Ipv6Addr::UNSPECIFIED.into(),
        }
    }
}

/// An address: `IpAddr`, `Ipv4Addr`, `Ipv6Addr` or text (`"192.0.2.1"`,
/// `"2001:db8::1"`).
pub trait IntoAddr {
    /// The address; bad text is [`Error::InvalidInput`] naming `field`.
    fn into_addr(self, field: &'static str) -> Result<IpAddr>;
}

impl IntoAddr for IpAddr {
    fn into_addr(self, _: &'static str) -> Result<IpAddr> {
        Ok(self)
    }
}

impl IntoAddr for Ipv4Addr {
    fn into_addr(self, _: &'static str) -> Result<IpAddr> {
        Ok(self.into())
    }
}

impl IntoAddr for Ipv6Addr {
    fn into_addr(self, _: &'static str) -> Result<IpAddr> {
        Ok(self.into())
    }
}

impl IntoAddr for &str {
    fn into_addr(self, field: &'static str) -> Result<IpAddr> {
        self.parse()
            .map_err(|_| Error::invalid(field, format!("{self:?} is not an IPv4 or IPv6 address")))
    }
}

impl IntoAddr for String {
    fn into_addr(self, field: &'static str) -> Result<IpAddr> {
        self.as_str().into_addr(field)
    }
}

impl IntoAddr for &String {
    fn into_addr(self, field: &'static str) -> Result<IpAddr> {
        self.as_str().into_addr(field)
    }
}

/// The first address a plain-data value (an XFRM state, template, …)
/// refused, kept inline so the value stays `Copy` and comparable, and
/// reported when the value is validated or sent. Default: none refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BadAddr {
    field: Option<&'static str>,
    len: u8,
    reason: [u8; BadAddr::MAX],
}

impl BadAddr {
    /// Reasons longer than this are cut (they quote the caller's text).
    const MAX: usize = 96;

    /// `a` parsed for `field`; on failure the unspecified IPv4 address,
    /// and the refusal kept unless an earlier one was.
    pub(crate) fn take(&mut self, a: impl IntoAddr, field: &'static str) -> IpAddr {
        match a.into_addr(field) {
            Ok(ip) => ip,
            Err(e) => {
                if self.field.is_none() {
                    let reason = match e {
                        Error::InvalidInput { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    let mut n = reason.len().min(Self::MAX);
                    while !reason.is_char_boundary(n) {
                        n -= 1;
                    }
                    self.reason[..n].copy_from_slice(&reason.as_bytes()[..n]);
                    self.len = n as u8;
                    self.field = Some(field);
                }
                Ipv4Addr::UNSPECIFIED.into()
            }
        }
    }

    /// The refusal, if any.
    pub(crate) fn check(&self) -> Result<()> {
        match self.field {
            None => Ok(()),
            Some(field) => Err(Error::invalid(
                field,
                String::from_utf8_lossy(&self.reason[..usize::from(self.len)]).into_owned(),
            )),
        }
    }
}

impl Default for BadAddr {
    fn default() -> Self {
        BadAddr {
            field: None,
            len: 0,
            reason: [0; BadAddr::MAX],
        }
    }
}

impl std::fmt::Debug for BadAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.check() {
            Ok(()) => f.write_str("None"),
            Err(e) => write!(f, "Some({e})"),
        }
    }
}

/// Input a setter refused, kept for when the builder runs: unlike
/// [`Error`] it is `Clone`, for builders that derive it.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    field: &'static str,
    reason: String,
}

impl Refused {
    /// A refusal of `field` for `reason`.
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Refused {
        Refused {
            field,
            reason: reason.into(),
        }
    }

    /// The error to report.
    pub(crate) fn error(&self) -> Error {
        Error::invalid(self.field, self.reason.clone())
    }
}

impl Refused {
    /// `e` (an input error, or anything else as its text) for `field`.
    pub(crate) fn of(e: Error, field: &'static str) -> Refused {
        match e {
            Error::InvalidInput { reason, .. } => Refused { field, reason },
            other => Refused {
                field,
                reason: other.to_string(),
            },
        }
    }
}

/// A prefix as a setter keeps it: parsed, or why not.
pub(crate) fn take_prefix(
    p: impl IntoPrefix,
    field: &'static str,
) -> std::result::Result<(IpAddr, u8), Refused> {
    p.into_prefix().map_err(|e| Refused::of(e, field))
}

/// An address as a setter keeps it: parsed, or why not.
pub(crate) type Taken = std::result::Result<IpAddr, Refused>;

/// `a` parsed for the setter `field`.
pub(crate) fn take(a: impl IntoAddr, field: &'static str) -> Taken {
    a.into_addr(field).map_err(|e| match e {
        Error::InvalidInput { field, reason } => Refused { field, reason },
        other => Refused {
            field,
            reason: other.to_string(),
        },
    })
}

/// An address with a prefix length, checked: the length must fit the
/// family. Text is `ADDR/LEN`, a bare address (a host prefix), or
/// `"default"` (`0.0.0.0/0`, or `::/0` where the builder knows the family
/// is IPv6, as `ip route add default via 2001:db8::1`); `"all"` and `"any"`
/// mean the same, as in iproute2.
pub trait IntoPrefix {
    /// The address and its prefix length.
    fn into_prefix(self) -> Result<(IpAddr, u8)>;

    /// True for the family-less `"default"` (or `"all"`, `"any"`), whose family a route builder
    /// takes from its other settings (IPv4 unless they say otherwise).
    fn is_any_default(&self) -> bool {
        false
    }
}

fn checked(ip: IpAddr, len: u8) -> Result<(IpAddr, u8)> {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(Error::invalid(
            "prefix",
            format!("prefix length {len} is longer than {max} for {ip}"),
        ));
    }
    Ok((ip, len))
}

impl IntoPrefix for IpNetwork {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.ip(), self.prefix())
    }
}

impl IntoPrefix for Ipv4Network {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.ip().into(), self.prefix())
    }
}

impl IntoPrefix for Ipv6Network {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.ip().into(), self.prefix())
    }
}

impl IntoPrefix for (IpAddr, u8) {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.0, self.1)
    }
}

impl IntoPrefix for (Ipv4Addr, u8) {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.0.into(), self.1)
    }
}

impl IntoPrefix for (Ipv6Addr, u8) {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        checked(self.0.into(), self.1)
    }
}

impl IntoPrefix for IpAddr {
    /// A host prefix: /32 or /128.
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        Ok((self, if self.is_ipv4() { 32 } else { 128 }))
    }
}

impl IntoPrefix for &str {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        if self.is_any_default() {
            return Ok((Ipv4Addr::UNSPECIFIED.into(), 0));
        }
        let bad = || Error::invalid("prefix", format!("{self:?} is not ADDR[/LEN] or default"));
        let (a, l) = match self.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (self, None),
        };
        let ip: IpAddr = a.parse().map_err(|_| bad())?;
        let len = match l {
            Some(l) => decimal::<u8>(l).ok_or_else(bad)?,
            None if ip.is_ipv4() => 32,
            None => 128,
        };
        checked(ip, len)
    }

    fn is_any_default(&self) -> bool {
        // iproute2's get_addr_1 takes all three as the family's 0/0.
        matches!(*self, "default" | "all" | "any")
    }
}

impl IntoPrefix for String {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        self.as_str().into_prefix()
    }

    fn is_any_default(&self) -> bool {
        self.as_str().is_any_default()
    }
}

impl IntoPrefix for &String {
    fn into_prefix(self) -> Result<(IpAddr, u8)> {
        self.as_str().into_prefix()
    }

    fn is_any_default(&self) -> bool {
        self.as_str().is_any_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_addresses_are_kept_first_and_cut_on_a_char_boundary() {
        let mut b = BadAddr::default();
        assert!(b.check().is_ok());
        assert_eq!(b.take("192.0.2.1", "src"), IpAddr::from([192, 0, 2, 1]));
        let long = "é".repeat(40_000) + "\0x";
        assert!(b.take(long.as_str(), "dst").is_unspecified());
        assert!(b.take("nope", "coa").is_unspecified());
        match b.check() {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "dst", "the first refusal wins");
                assert!(reason.len() <= BadAddr::MAX && reason.starts_with("\"é"));
            }
            other => panic!("{other:?}"),
        }
        let copy = b;
        assert_eq!(copy, b);
        assert!(format!("{b:?}").contains("invalid dst"));
    }

    #[test]
    fn prefixes_are_checked() {
        assert_eq!(
            "10.0.0.1/24".into_prefix().unwrap(),
            ("10.0.0.1".parse().unwrap(), 24)
        );
        assert_eq!("fe80::1".into_prefix().unwrap().1, 128);
        for bad in [
            "10.0.0.1/33",
            "::1/129",
            "nope/3",
            "10.0.0.1/x",
            "10.0.0.1/+8",
            "10.0.0.1/",
            "10.0.0.1/8\0",
            "Default",
        ] {
            let e = bad.into_prefix().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "prefix",
                        ..
                    }
                ),
                "{bad}"
            );
        }
        let e = ("10.0.0.1".parse::<IpAddr>().unwrap(), 33)
            .into_prefix()
            .unwrap_err();
        assert!(e.to_string().contains("33"), "{e}");
    }

    #[test]
    fn every_prefix_form() {
        let v4 = Ipv4Addr::new(10, 1, 0, 0);
        let v6: Ipv6Addr = "2001:db8::".parse().unwrap();
        let want4 = (IpAddr::V4(v4), 16);
        let want6 = (IpAddr::V6(v6), 48);
        assert_eq!((v4, 16).into_prefix().unwrap(), want4);
        assert_eq!((v6, 48).into_prefix().unwrap(), want6);
        let n4 = Ipv4Network::new(v4, 16).unwrap();
        assert_eq!(n4.into_prefix().unwrap(), want4);
        let n6 = Ipv6Network::new(v6, 48).unwrap();
        assert_eq!(n6.into_prefix().unwrap(), want6);
        assert_eq!(IpNetwork::V6(n6).into_prefix().unwrap(), want6);
        assert_eq!(IpAddr::V4(v4).into_prefix().unwrap().1, 32);
        assert_eq!(IpAddr::V6(v6).into_prefix().unwrap().1, 128);
        assert!((v4, 33).into_prefix().is_err());
        assert_eq!(
            "default".into_prefix().unwrap(),
            (Ipv4Addr::UNSPECIFIED.into(), 0)
        );
        assert!("default".is_any_default());
        assert!(!"0.0.0.0/0".is_any_default());
    }

    #[test]
    fn addresses_name_their_field() {
        assert_eq!(
            "192.0.2.1".into_addr("via").unwrap().to_string(),
            "192.0.2.1"
        );
        assert_eq!(
            Ipv6Addr::LOCALHOST.into_addr("src").unwrap(),
            IpAddr::from(Ipv6Addr::LOCALHOST)
        );
        let e = "192.0.2.300".into_addr("via").unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field: "via", .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "invalid via: \"192.0.2.300\" is not an IPv4 or IPv6 address"
        );
    }
}
