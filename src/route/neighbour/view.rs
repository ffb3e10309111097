//! The lazily decoded `Neighbour` view.

use super::*;

/// A neighbour or FDB entry as the kernel reported it.
#[derive(Clone)]
pub struct Neighbour {
    m: Indexed<16>,
}

impl fmt::Debug for Neighbour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Neighbour")
            .field("index", &self.index())
            .field("destination", &self.destination())
            .field("lladdr", &self.lladdr())
            .field("state", &state_names(self.state()))
            .finish()
    }
}

impl Neighbour {
    /// Wraps an RTM_NEWNEIGH message.
    #[inline]
    pub fn from_raw(raw: RawMessage) -> Result<Neighbour> {
        Indexed::new(raw, RTM_NEWNEIGH, 12, REQ).map(|m| Neighbour { m })
    }

    #[inline]
    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// The address family byte (AF_INET, AF_INET6, AF_BRIDGE = 7).
    #[inline]
    pub fn family_raw(&self) -> u8 {
        self.m.fixed(0)
    }

    /// True for a bridge FDB entry.
    #[inline]
    pub fn is_fdb(&self) -> bool {
        self.family_raw() == AF_BRIDGE
    }

    /// Index of the device.
    #[inline]
    pub fn index(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// NUD_* state bits.
    #[inline]
    pub fn state(&self) -> u16 {
        u16::from_ne_bytes([self.m.fixed(8), self.m.fixed(9)])
    }

    /// NTF_* flags (router, proxy, self, master, extern_learn…).
    #[inline]
    pub fn flags(&self) -> NeighbourFlags {
        NeighbourFlags::from_bits_retain(self.m.fixed(10))
    }

    /// The IP address (the remote VTEP for a vxlan FDB entry).
    #[inline]
    pub fn destination(&self) -> Option<IpAddr> {
        self.attr(NDA_DST).and_then(attrs::ip_of)
    }

    /// The link-layer address.
    #[inline]
    pub fn lladdr(&self) -> Option<&[u8]> {
        self.attr(NDA_LLADDR)
    }

    /// The link-layer address, when a 6-byte MAC.
    #[inline]
    pub fn mac(&self) -> Option<MacAddr> {
        self.lladdr().and_then(|b| MacAddr::try_from(b).ok())
    }

    /// The link-layer address, when an IPv4 or IPv6 address (4 or 16
    /// bytes: neighbours on gre/ipip/sit tunnels; LLIPAddr).
    #[inline]
    pub fn lladdr_ip(&self) -> Option<std::net::IpAddr> {
        let b = self.lladdr()?;
        match b.len() {
            4 => Some(<[u8; 4]>::try_from(b).ok()?.into()),
            16 => Some(<[u8; 16]>::try_from(b).ok()?.into()),
            _ => None,
        }
    }

    /// FDB: the VLAN.
    #[inline]
    pub fn vlan(&self) -> Option<u16> {
        self.attr(NDA_VLAN)
            .and_then(|v| Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?)))
    }

    /// FDB (vxlan): the VNI.
    #[inline]
    pub fn vni(&self) -> Option<u32> {
        self.attr(NDA_VNI).and_then(attrs::u32_of)
    }

    /// FDB (vxlan): the UDP port, host order.
    #[inline]
    pub fn port(&self) -> Option<u16> {
        self.attr(NDA_PORT)
            .and_then(|v| Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?)))
    }

    /// FDB: the master (bridge) index.
    #[inline]
    pub fn master(&self) -> Option<u32> {
        self.attr(NDA_MASTER).and_then(attrs::u32_of)
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<NeighbourMessage> {
        match decode::<Rtnl>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewNeighbour(m) | RouteNetlinkMessage::DelNeighbour(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected a neighbour, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    #[inline]
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}
