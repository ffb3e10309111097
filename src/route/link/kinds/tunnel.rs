//! Endpoint checks shared by the IP tunnel kinds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};

/// Refuses `local` and `remote` of different families.
fn same_family(local: Option<IpAddr>, remote: Option<IpAddr>) -> Result<()> {
    match (local, remote) {
        (Some(l), Some(r)) if l.is_ipv4() != r.is_ipv4() => Err(Error::invalid(
            "remote",
            format!("local {l} and remote {r} are of different families"),
        )),
        _ => Ok(()),
    }
}

/// The endpoints of an IPv4-underlay kind (`gre`, `ipip`, …): both IPv4.
pub(super) fn v4(
    kind: &str,
    alt: &str,
    local: Option<IpAddr>,
    remote: Option<IpAddr>,
) -> Result<(Option<Ipv4Addr>, Option<Ipv4Addr>)> {
    same_family(local, remote)?;
    let one = |field: &'static str, a: Option<IpAddr>| match a {
        None => Ok(None),
        Some(IpAddr::V4(a)) => Ok(Some(a)),
        Some(IpAddr::V6(a)) => Err(Error::invalid(
            field,
            format!("{kind} runs over IPv4, {a} is IPv6 (use {alt})"),
        )),
    };
    Ok((one("local", local)?, one("remote", remote)?))
}

/// The endpoints of an IPv6-underlay kind (`ip6gre`, `ip6tnl`, …): both IPv6.
pub(super) fn v6(
    kind: &str,
    alt: &str,
    local: Option<IpAddr>,
    remote: Option<IpAddr>,
) -> Result<(Option<Ipv6Addr>, Option<Ipv6Addr>)> {
    same_family(local, remote)?;
    let one = |field: &'static str, a: Option<IpAddr>| match a {
        None => Ok(None),
        Some(IpAddr::V6(a)) => Ok(Some(a)),
        Some(IpAddr::V4(a)) => Err(Error::invalid(
            field,
            format!("{kind} runs over IPv6, {a} is IPv4 (use {alt})"),
        )),
    };
    Ok((one("local", local)?, one("remote", remote)?))
}

/// IPv6 flowinfo from a traffic class and a flow label (≤ 0xfffff).
pub(super) fn flowinfo(tclass: Option<u8>, flowlabel: Option<u32>) -> Result<Option<u32>> {
    if let Some(fl) = flowlabel
        && fl > 0xf_ffff
    {
        return Err(Error::invalid(
            "flowlabel",
            format!("{fl:#x} does not fit in 20 bits"),
        ));
    }
    if tclass.is_none() && flowlabel.is_none() {
        return Ok(None);
    }
    Ok(Some(
        (u32::from(tclass.unwrap_or(0)) << 20) | flowlabel.unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_checked() {
        let a4: IpAddr = "192.0.2.1".parse().unwrap();
        let a6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(matches!(
            v4_check(Some(a4), Some(a6)),
            Err(Error::InvalidInput {
                field: "remote",
                ..
            })
        ));
        assert!(matches!(
            v4_check(None, Some(a6)),
            Err(Error::InvalidInput {
                field: "remote",
                ..
            })
        ));
        assert!(matches!(
            v6("ip6gre", "gre", Some(a4), None),
            Err(Error::InvalidInput { field: "local", .. })
        ));
        assert_eq!(
            v4_check(Some(a4), None).unwrap(),
            (Some("192.0.2.1".parse().unwrap()), None)
        );
        assert_eq!(flowinfo(Some(0x10), Some(5)).unwrap(), Some(0x0100_0005));
        assert!(flowinfo(None, Some(0x10_0000)).is_err());
    }

    fn v4_check(
        l: Option<IpAddr>,
        r: Option<IpAddr>,
    ) -> Result<(Option<Ipv4Addr>, Option<Ipv4Addr>)> {
        v4("gre", "ip6gre", l, r)
    }
}
