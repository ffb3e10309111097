//! The lazily decoded `Rule` view.

use super::*;

/// A policy routing rule as the kernel reported it.
#[derive(Clone)]
pub struct Rule {
    m: Indexed<28>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("priority", &self.priority())
            .field("table", &self.table())
            .field("action", &self.action())
            .finish()
    }
}

fn range16(v: &[u8]) -> Option<(u16, u16)> {
    Some((
        u16::from_ne_bytes(v.get(0..2)?.try_into().ok()?),
        u16::from_ne_bytes(v.get(2..4)?.try_into().ok()?),
    ))
}

impl Rule {
    /// Wraps an RTM_NEWRULE message.
    #[inline]
    pub fn from_raw(raw: RawMessage) -> Result<Rule> {
        Indexed::new(raw, RTM_NEWRULE, 12, REQ).map(|m| Rule { m })
    }

    #[inline]
    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    #[inline]
    fn u32_attr(&self, ty: u16) -> Option<u32> {
        self.m.u32_attr(ty)
    }

    #[inline]
    fn h(&self, i: usize) -> u8 {
        self.m.fixed(i)
    }

    /// IPv4 or IPv6.
    #[inline]
    pub fn family(&self) -> Family {
        if i32::from(self.h(0)) == libc::AF_INET6 {
            Family::V6
        } else {
            Family::V4
        }
    }

    #[inline]
    fn prefix(&self, ty: u16, len: u8) -> Option<IpNetwork> {
        let ip = self.attr(ty).and_then(attrs::ip_of)?;
        IpNetwork::new(ip, len).ok()
    }

    /// `from PREFIX`.
    #[inline]
    pub fn source(&self) -> Option<IpNetwork> {
        self.prefix(FRA_SRC, self.h(2))
    }

    /// `to PREFIX`.
    #[inline]
    pub fn destination(&self) -> Option<IpNetwork> {
        self.prefix(FRA_DST, self.h(1))
    }

    /// `tos`.
    #[inline]
    pub fn tos(&self) -> u8 {
        self.h(3)
    }

    /// The table looked up (FRA_TABLE, else the header's).
    #[inline]
    pub fn table(&self) -> u32 {
        self.u32_attr(FRA_TABLE).unwrap_or(u32::from(self.h(4)))
    }

    /// What the rule does.
    #[inline]
    pub fn action(&self) -> RuleAction {
        RuleAction::from(self.h(7))
    }

    /// `not`: the selector is inverted.
    #[inline]
    pub fn invert(&self) -> bool {
        self.flags() & INVERT != 0
    }

    /// FIB_RULE_* flags.
    #[inline]
    pub fn flags(&self) -> u32 {
        self.m.fixed_u32(8)
    }

    /// Priority (preference).
    #[inline]
    pub fn priority(&self) -> u32 {
        self.u32_attr(FRA_PRIORITY).unwrap_or(0)
    }

    /// Target priority of a `goto`.
    #[inline]
    pub fn goto(&self) -> Option<u32> {
        self.u32_attr(FRA_GOTO)
    }

    /// `fwmark`.
    #[inline]
    pub fn fwmark(&self) -> Option<u32> {
        self.u32_attr(FRA_FWMARK)
    }

    /// `fwmark …/MASK`.
    #[inline]
    pub fn fwmask(&self) -> Option<u32> {
        self.u32_attr(FRA_FWMASK)
    }

    /// `iif NAME`.
    #[inline]
    pub fn iif(&self) -> Option<&str> {
        self.attr(FRA_IIFNAME).and_then(attrs::str_of)
    }

    /// `oif NAME`.
    #[inline]
    pub fn oif(&self) -> Option<&str> {
        self.attr(FRA_OIFNAME).and_then(attrs::str_of)
    }

    /// `suppress_prefixlength N`.
    #[inline]
    pub fn suppress_prefixlength(&self) -> Option<u32> {
        self.u32_attr(FRA_SUPPRESS_PREFIXLEN)
            .filter(|&v| v != u32::MAX)
    }

    /// `suppress_ifgroup G`.
    #[inline]
    pub fn suppress_ifgroup(&self) -> Option<u32> {
        self.u32_attr(FRA_SUPPRESS_IFGROUP)
            .filter(|&v| v != u32::MAX)
    }

    /// `uidrange A-B`.
    #[inline]
    pub fn uid_range(&self) -> Option<(u32, u32)> {
        let v = self.attr(FRA_UID_RANGE)?;
        Some((attrs::u32_of(v)?, attrs::u32_of(v.get(4..)?)?))
    }

    /// `sport A-B`.
    #[inline]
    pub fn sport_range(&self) -> Option<(u16, u16)> {
        self.attr(FRA_SPORT_RANGE).and_then(range16)
    }

    /// `dport A-B`.
    #[inline]
    pub fn dport_range(&self) -> Option<(u16, u16)> {
        self.attr(FRA_DPORT_RANGE).and_then(range16)
    }

    /// `ipproto N`.
    #[inline]
    pub fn ip_proto(&self) -> Option<u8> {
        self.attr(FRA_IP_PROTO).and_then(attrs::u8_of)
    }

    /// `l3mdev`.
    #[inline]
    pub fn l3mdev(&self) -> bool {
        self.attr(FRA_L3MDEV).and_then(attrs::u8_of).unwrap_or(0) != 0
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<RuleMessage> {
        match decode::<Rtnl>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewRule(m) | RouteNetlinkMessage::DelRule(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected a rule, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    #[inline]
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}
