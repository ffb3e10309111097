//! The lazily decoded `Address` view.

use super::*;

/// An address as the kernel reported it; accessors decode on demand.
#[derive(Clone)]
pub struct Address {
    m: Indexed<12>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("index", &self.index())
            .field("address", &self.address())
            .field("prefix_len", &self.prefix_len())
            .field("label", &self.label())
            .finish()
    }
}

impl Address {
    /// Wraps an RTM_NEWADDR message.
    #[inline]
    pub fn from_raw(raw: RawMessage) -> Result<Address> {
        Indexed::new(raw, RTM_NEWADDR, 8, REQ).map(|m| Address { m })
    }

    #[inline]
    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// IPv4 or IPv6.
    #[inline]
    pub fn family(&self) -> Family {
        if self.m.fixed(0) == libc::AF_INET6 as u8 {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// Prefix length.
    #[inline]
    pub fn prefix_len(&self) -> u8 {
        self.m.fixed(1)
    }

    /// Scope.
    #[inline]
    pub fn scope(&self) -> AddressScope {
        AddressScope::from(self.m.fixed(3))
    }

    /// Index of the link the address is on.
    #[inline]
    pub fn index(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// IFA_F_* flags (the 32-bit IFA_FLAGS when present).
    #[inline]
    pub fn flags(&self) -> AddressFlags {
        let f = self
            .attr(IFA_FLAGS)
            .and_then(attrs::u32_of)
            .unwrap_or(u32::from(self.m.fixed(2)));
        AddressFlags::from_bits_retain(f)
    }

    /// The address of this host: IFA_LOCAL when given (IPv4, or a
    /// point-to-point IPv6), else IFA_ADDRESS.
    #[inline]
    pub fn address(&self) -> Option<IpAddr> {
        self.attr(IFA_LOCAL)
            .or_else(|| self.attr(IFA_ADDRESS))
            .and_then(attrs::ip_of)
    }

    /// The peer of a point-to-point address (IFA_ADDRESS differing from
    /// IFA_LOCAL).
    #[inline]
    pub fn peer(&self) -> Option<IpAddr> {
        let local = self.attr(IFA_LOCAL)?;
        let addr = self.attr(IFA_ADDRESS)?;
        (local != addr).then(|| attrs::ip_of(addr)).flatten()
    }

    /// Address and prefix length together.
    #[inline]
    pub fn prefix(&self) -> Option<IpNetwork> {
        IpNetwork::new(self.address()?, self.prefix_len()).ok()
    }

    /// IPv4 broadcast address.
    #[inline]
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.attr(IFA_BROADCAST).and_then(attrs::ip_of)? {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }

    /// IPv4 label.
    #[inline]
    pub fn label(&self) -> Option<&str> {
        self.attr(IFA_LABEL).and_then(attrs::str_of)
    }

    /// `proto N` (IFA_PROTO, kernel 5.18+): who added the address (0
    /// unspec, 1 kernel loopback, 2 kernel RA, 3 kernel LL; others are the
    /// caller's own).
    #[inline]
    pub fn proto(&self) -> Option<u8> {
        self.attr(IFA_PROTO).and_then(attrs::u8_of)
    }

    /// Metric of the prefix route.
    #[inline]
    pub fn metric(&self) -> Option<u32> {
        self.attr(IFA_RT_PRIORITY).and_then(attrs::u32_of)
    }

    #[inline]
    fn cacheinfo(&self) -> Option<(u32, u32)> {
        let v = self.attr(IFA_CACHEINFO)?;
        Some((attrs::u32_of(v)?, attrs::u32_of(v.get(4..)?)?))
    }

    /// Valid lifetime in seconds; `None` when forever.
    #[inline]
    pub fn valid_lft(&self) -> Option<u32> {
        self.cacheinfo().map(|c| c.1).filter(|&v| v != INFINITY)
    }

    /// Preferred lifetime in seconds; `None` when forever.
    #[inline]
    pub fn preferred_lft(&self) -> Option<u32> {
        self.cacheinfo().map(|c| c.0).filter(|&v| v != INFINITY)
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<AddressMessage> {
        match decode::<Route>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected an address, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    #[inline]
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}
