//! `ip address add|replace`: the builder.

use super::*;
use crate::conn::attrs::check_string;
use crate::error::{Context, ResultExt};
use crate::route::link::IFNAME_MAX;
use crate::types::{IntoAddr, Taken, take};

/// Builder of `ip address add|replace`; `.await` it.
#[must_use = "nothing is added until the builder is awaited"]
#[derive(Debug)]
pub struct AddressAdd {
    handle: AddressHandle,
    link: LinkId,
    prefix: Result<(IpAddr, u8)>,
    flags: u16,
    peer: Option<Taken>,
    broadcast: Option<Taken>,
    label: Option<String>,
    scope: Option<AddressScope>,
    ifa_flags: AddressFlags,
    lifetimes: Option<(u32, u32)>,
    metric: Option<u32>,
    proto: Option<u8>,
}

impl AddressAdd {
    pub(super) fn new(
        handle: AddressHandle,
        link: LinkId,
        prefix: Result<(IpAddr, u8)>,
        flags: u16,
    ) -> Self {
        AddressAdd {
            handle,
            link,
            prefix,
            flags,
            peer: None,
            broadcast: None,
            label: None,
            scope: None,
            ifa_flags: AddressFlags::empty(),
            lifetimes: None,
            metric: None,
            proto: None,
        }
    }

    /// `peer ADDR` (point-to-point): an address or its text.
    #[inline]
    pub fn peer(mut self, peer: impl IntoAddr) -> Self {
        self.peer = Some(take(peer, "peer"));
        self
    }

    /// `broadcast ADDR` (IPv4): an address or its text.
    #[inline]
    pub fn broadcast(mut self, b: impl IntoAddr) -> Self {
        self.broadcast = Some(take(b, "broadcast"));
        self
    }

    /// `label LABEL` (IPv4): must start with the link's name.
    #[inline]
    pub fn label(mut self, label: &str) -> Self {
        self.label = Some(label.to_owned());
        self
    }

    /// `scope SCOPE`.
    #[inline]
    pub fn scope(mut self, scope: AddressScope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// `noprefixroute`: no prefix route for this address.
    #[inline]
    pub fn noprefixroute(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Noprefixroute;
        self
    }

    /// `nodad` (IPv6): skip duplicate address detection.
    #[inline]
    pub fn nodad(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Nodad;
        self
    }

    /// `optimistic` (IPv6): usable during DAD.
    #[inline]
    pub fn optimistic(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Optimistic;
        self
    }

    /// `home` (IPv6): mobile IPv6 home address.
    #[inline]
    pub fn home(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Homeaddress;
        self
    }

    /// `mngtmpaddr` (IPv6): manage temporary addresses from this one.
    #[inline]
    pub fn mngtmpaddr(mut self) -> Self {
        self.ifa_flags |= AddressFlags::Managetempaddr;
        self
    }

    /// `valid_lft V preferred_lft P` in seconds (`u32::MAX` = forever).
    #[inline]
    pub fn lifetimes(mut self, valid: u32, preferred: u32) -> Self {
        self.lifetimes = Some((valid, preferred));
        self
    }

    /// `proto N`: who adds the address, read back by
    /// [`Address::proto`](super::Address::proto) (kernel 5.18+; older
    /// kernels ignore it).
    #[inline]
    pub fn proto(mut self, p: u8) -> Self {
        self.proto = Some(p);
        self
    }

    /// `metric N` of the prefix route.
    #[inline]
    pub fn metric(mut self, metric: u32) -> Self {
        self.metric = Some(metric);
        self
    }

    fn message(&self, index: u32) -> Result<AddressMessage> {
        let (ip, len) = self.prefix.as_ref().map_err(Error::clone_input)?.to_owned();
        let fam = Family::of(&ip);
        let mut m = AddressMessage::default();
        m.header.family = fam.raw();
        m.header.prefix_len = len;
        m.header.index = index;
        m.header.flags = AddressHeaderFlags::from_bits_truncate(self.ifa_flags.bits() as u8);
        if let Some(s) = self.scope {
            m.header.scope = s;
        }
        let peer = self.peer.clone().transpose().map_err(|r| r.error())?;
        let broadcast = self.broadcast.clone().transpose().map_err(|r| r.error())?;
        if let Some(p) = peer
            && Family::of(&p) != fam
        {
            return Err(Error::invalid(
                "peer",
                format!("{p} is not of the family of {ip}"),
            ));
        }
        match fam {
            Family::V4 => {
                m.attributes.push(AddressAttribute::Local(ip));
                m.attributes
                    .push(AddressAttribute::Address(peer.unwrap_or(ip)));
            }
            Family::V6 => match peer {
                Some(p) => {
                    m.attributes.push(AddressAttribute::Local(ip));
                    m.attributes.push(AddressAttribute::Address(p));
                }
                None => m.attributes.push(AddressAttribute::Address(ip)),
            },
        }
        if let Some(b) = broadcast {
            let IpAddr::V4(b) = b else {
                return Err(Error::invalid("broadcast", format!("{b} is not IPv4")));
            };
            if fam != Family::V4 {
                return Err(Error::invalid("broadcast", "only IPv4 addresses have one"));
            }
            m.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(l) = &self.label {
            if fam != Family::V4 {
                return Err(Error::invalid("label", "only IPv4 addresses have one"));
            }
            m.attributes.push(AddressAttribute::Label(l.clone()));
        }
        if !self.ifa_flags.is_empty() {
            m.attributes.push(AddressAttribute::Flags(self.ifa_flags));
        }
        if let Some((valid, preferred)) = self.lifetimes {
            if preferred > valid {
                return Err(Error::invalid(
                    "preferred_lft",
                    format!("{preferred} is longer than valid_lft {valid}"),
                ));
            }
            let mut ci = CacheInfo::default();
            ci.ifa_valid = valid;
            ci.ifa_preferred = preferred;
            m.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        if let Some(metric) = self.metric {
            m.attributes.push(AddressAttribute::RoutePriority(metric));
        }
        if let Some(p) = self.proto {
            m.attributes.push(AddressAttribute::Protocol(p.into()));
        }
        Ok(m)
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`]
    /// (device names are looked up now).
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        self.request().await.within(&self.context())
    }

    /// `address add|replace PREFIX dev LINK`, for errors.
    pub(crate) fn context(&self) -> Context {
        let op = if self.flags & 0x100 != 0 {
            "address replace"
        } else {
            "address add"
        };
        Context::new(op, object(&self.prefix, &self.link))
    }

    async fn request(&self) -> Result<(RouteNetlinkMessage, u16)> {
        if let Err(e) = &self.prefix {
            return Err(e.clone_input());
        }
        if let Some(l) = &self.label {
            check_string("label", l, IFNAME_MAX)?;
            if l.is_empty() {
                return Err(Error::invalid("label", "is empty"));
            }
        }
        let label_needs = |label: &str, name: &str| {
            Error::invalid(
                "label",
                format!("{label:?} must begin with the interface name {name:?}"),
            )
        };
        let index = match (&self.label, &self.link) {
            // Like iproute2: a label must begin with the name the device was
            // given by, checked before any lookup.
            (Some(label), LinkId::Name(n)) => {
                if !label.starts_with(n.as_str()) {
                    return Err(label_needs(label, n));
                }
                self.handle.links.index_of(&self.link).await?
            }
            (Some(label), id) => {
                let link = (self.handle.links.fetch(id).await).map_err(|e| e.for_link(id, None))?;
                if !label.starts_with(link.name()) {
                    return Err(label_needs(label, link.name()));
                }
                link.index()
            }
            (None, id) => self.handle.links.index_of(id).await?,
        };
        let m = self.message(index)?;
        Ok((RouteNetlinkMessage::NewAddress(m), self.flags))
    }

    async fn run(self) -> Result<()> {
        let ctx = self.context();
        let (msg, flags) = self.request().await.within(&ctx)?;
        self.handle.rtnl.ack(msg, flags).await.within(&ctx)
    }
}

impl IntoFuture for AddressAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
