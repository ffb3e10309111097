//! `ip link add NAME type KIND …`: the kind trait and the add builder.

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage};

use super::{LinkHandle, LinkId, validate_name};
use crate::error::{Context, Error, Result, ResultExt};
use crate::netns::NetnsTarget;

/// NLM_F_CREATE | NLM_F_EXCL.
pub(crate) const CREATE_EXCL: u16 = 0x400 | 0x200;

/// What a kind contributes to an RTM_NEWLINK request.
#[derive(Debug, Default)]
pub struct KindParts {
    /// IFLA_LINKINFO contents: the kind, its data.
    pub info: Vec<LinkInfo>,
    /// IFLA_LINK: the lower device, for kinds stacked on one.
    pub link: Option<u32>,
    /// Other top-level attributes.
    pub attributes: Vec<LinkAttribute>,
}

/// Devices named by a kind, resolved to indexes before the kind is built.
#[derive(Debug, Default)]
pub struct KindCtx {
    names: HashMap<String, u32>,
    change: bool,
}

impl KindCtx {
    /// Whether the kind is built to change a live link
    /// ([`LinkSet::kind`](super::LinkSet::kind)) rather than to create one:
    /// a change sends only what was set, and needs no VNI or lower device.
    #[inline]
    pub fn is_change(&self) -> bool {
        self.change
    }

    pub(crate) fn set_change(&mut self) {
        self.change = true;
    }

    /// The index of a device the kind listed in [`LinkKind::refs`].
    pub fn index(&self, id: &LinkId) -> Result<u32> {
        match id {
            LinkId::Index(i) => Ok(*i),
            LinkId::Name(n) => self
                .names
                .get(n)
                .copied()
                .ok_or_else(|| Error::invalid("link", format!("device {n:?} was not resolved"))),
        }
    }
}

/// A link kind (`type KIND` in `ip link add`). The kinds of
/// [`kinds`](super::kinds) implement it; implement it for a kind they lack.
pub trait LinkKind: Send + Sync {
    /// Devices this kind refers to (a lower device, a vxlan `dev`), so that
    /// names can be resolved to indexes first.
    fn refs(&self) -> Vec<LinkId> {
        Vec::new()
    }

    /// The setter that names the devices of [`refs`](Self::refs), quoted
    /// by the error when one does not exist: `"link"` (a lower device)
    /// unless the kind says otherwise.
    fn refs_field(&self) -> &'static str {
        "link"
    }

    /// Whether the kind's kernel `changelink` takes the whole parameter set
    /// (the IP tunnels: gre, ipip, sit, ip6tnl, vti, xfrm…), so that a
    /// change ([`LinkSet::kind`](super::LinkSet::kind)) must carry the
    /// link's current parameters with the new ones, as `ip` does; otherwise
    /// the kernel resets what was not sent. False: the kernel changes only
    /// what is sent.
    fn merge_on_change(&self) -> bool {
        false
    }

    /// Builds the request parts; refuse bad input here with
    /// [`Error::InvalidInput`].
    fn build(&self, ctx: &KindCtx) -> Result<KindParts>;

    /// A namespace fd the request must carry (a veth peer created elsewhere):
    /// kept open until the request is sent.
    fn keep_open(&self) -> Vec<Arc<OwnedFd>> {
        Vec::new()
    }

    /// A device to bring up once the link exists, because the creating
    /// request cannot (a veth peer: the kernel refuses to open it, ENOTCONN,
    /// before the pair is tied together): its name, and its namespace when
    /// it was created in another one.
    fn up_after_create(&self) -> Result<Option<(String, Option<NetnsTarget>)>> {
        Ok(None)
    }
}

/// The link settings shared by `add` and `set`.
#[derive(Debug, Default)]
pub(crate) struct Common {
    pub up: Option<bool>,
    pub flags: Vec<(LinkFlags, bool)>,
    pub attributes: Vec<LinkAttribute>,
    pub master: Option<Option<LinkId>>,
    pub netns: Option<NetnsTarget>,
    pub error: Option<Error>,
}

impl Common {
    pub fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Devices to resolve before sending, with the setter naming each.
    pub fn refs(&self) -> Vec<(LinkId, Option<&'static str>)> {
        match &self.master {
            Some(Some(m)) => vec![(m.clone(), Some("master"))],
            _ => Vec::new(),
        }
    }

    /// Applies the settings to `m`. Returns the namespace fd to keep open.
    pub fn apply(self, m: &mut LinkMessage, ctx: &KindCtx) -> Result<Option<OwnedFd>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut set = |f: LinkFlags, on: bool| {
            m.header.change_mask |= f;
            if on {
                m.header.flags |= f;
            } else {
                m.header.flags &= !f;
            }
        };
        if let Some(up) = self.up {
            set(LinkFlags::Up, up);
        }
        for (f, on) in self.flags {
            set(f, on);
        }
        m.attributes.extend(self.attributes);
        match &self.master {
            Some(Some(id)) => m.attributes.push(LinkAttribute::Controller(ctx.index(id)?)),
            Some(None) => m.attributes.push(LinkAttribute::Controller(0)),
            None => {}
        }
        let fd = match self.netns {
            Some(NetnsTarget::Pid(p)) => {
                m.attributes.push(LinkAttribute::NetNsPid(p));
                None
            }
            Some(t) => {
                let fd = t.open()?;
                m.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
                Some(fd)
            }
            None => None,
        };
        Ok(fd)
    }
}

/// Resolves device names to indexes with one get each; a missing one is
/// [`Error::NoSuchLink`] naming the setter it came from.
pub(crate) async fn resolve(
    handle: &LinkHandle,
    refs: Vec<(LinkId, Option<&'static str>)>,
) -> Result<KindCtx> {
    // Every name first: a bad one fails before any request is sent.
    refs.iter().try_for_each(|(id, _)| id.check())?;
    let mut ctx = KindCtx::default();
    for (id, field) in refs {
        if let LinkId::Name(n) = &id
            && !ctx.names.contains_key(n)
        {
            let i = handle.lookup(&id, field).await?;
            ctx.names.insert(n.clone(), i);
        }
    }
    Ok(ctx)
}

macro_rules! common_setters {
    () => {
        /// Sets the MTU.
        pub fn mtu(mut self, mtu: u32) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::Mtu(mtu));
            self
        }

        /// Sets the link-layer address (`address aa:bb:cc:dd:ee:ff`).
        pub fn address(mut self, mac: impl Into<$crate::route::link::MacAddr>) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::Address(
                    mac.into().0.to_vec(),
                ));
            self
        }

        /// Sets the link-layer address from text; a bad one fails the request.
        pub fn address_str(mut self, mac: &str) -> Self {
            match mac.parse::<$crate::route::link::MacAddr>() {
                Ok(m) => self.address(m),
                Err(e) => {
                    self.common.fail(e);
                    self
                }
            }
        }

        /// Brings the link up.
        pub fn up(mut self) -> Self {
            self.common.up = Some(true);
            self
        }

        /// Brings the link down.
        pub fn down(mut self) -> Self {
            self.common.up = Some(false);
            self
        }

        /// Sets the transmit queue length.
        pub fn txqlen(mut self, len: u32) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::TxQueueLen(len));
            self
        }

        /// Sets the alias (at most 255 bytes; `""` removes it).
        pub fn alias(mut self, alias: &str) -> Self {
            match $crate::conn::attrs::check_string(
                "alias",
                alias,
                $crate::route::link::IFALIAS_MAX,
            ) {
                Ok(()) => self.common.attributes.push(
                    ::netlink_packet_route::link::LinkAttribute::IfAlias(alias.to_owned()),
                ),
                Err(e) => self.common.fail(e),
            }
            self
        }

        /// Enslaves the link to a bridge, bond or vrf.
        pub fn master(mut self, master: impl Into<$crate::route::link::LinkId>) -> Self {
            self.common.master = Some(Some(master.into()));
            self
        }

        /// Puts the link in another network namespace.
        pub fn netns(mut self, target: impl Into<$crate::netns::NetnsTarget>) -> Self {
            self.common.netns = Some(target.into());
            self
        }

        /// Sets the device group.
        pub fn group(mut self, group: u32) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::Group(group));
            self
        }

        /// Promiscuous mode on or off.
        pub fn promisc(mut self, on: bool) -> Self {
            self.common
                .flags
                .push((::netlink_packet_route::link::LinkFlags::Promisc, on));
            self
        }

        /// All-multicast mode on or off.
        pub fn allmulti(mut self, on: bool) -> Self {
            self.common
                .flags
                .push((::netlink_packet_route::link::LinkFlags::Allmulti, on));
            self
        }

        /// ARP on or off (IFF_NOARP is the inverse).
        pub fn arp(mut self, on: bool) -> Self {
            self.common
                .flags
                .push((::netlink_packet_route::link::LinkFlags::Noarp, !on));
            self
        }

        /// Sets the GSO maximum size.
        pub fn gso_max_size(mut self, size: u32) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::GsoMaxSize(
                    size,
                ));
            self
        }

        /// Sets the GRO maximum size.
        pub fn gro_max_size(mut self, size: u32) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::GroMaxSize(
                    size,
                ));
            self
        }

        /// Sets the most GSO segments the stack builds for the device
        /// (`gso_max_segs`).
        pub fn gso_max_segs(mut self, segs: u32) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::GsoMaxSegs(
                    segs,
                ));
            self
        }

        /// Sets the GSO maximum size for IPv4 (`gso_ipv4_max_size`, BIG TCP
        /// over IPv4; kernel 6.3+).
        pub fn gso_ipv4_max_size(mut self, size: u32) -> Self {
            self.common.attributes.push(
                ::netlink_packet_route::link::LinkAttribute::GsoIpv4MaxSize(size),
            );
            self
        }

        /// Sets the GRO maximum size for IPv4 (`gro_ipv4_max_size`).
        pub fn gro_ipv4_max_size(mut self, size: u32) -> Self {
            self.common.attributes.push(
                ::netlink_packet_route::link::LinkAttribute::GroIpv4MaxSize(size),
            );
            self
        }

        /// Multicast on or off (`multicast on|off`, IFF_MULTICAST).
        pub fn multicast(mut self, on: bool) -> Self {
            self.common
                .flags
                .push((::netlink_packet_route::link::LinkFlags::Multicast, on));
            self
        }

        /// Protocol down on or off (`protodown on|off`): the link stays
        /// administratively up but passes no traffic. Only kinds that allow
        /// it (vxlan, macvlan, bond, …) take it; others refuse with the
        /// kernel's EOPNOTSUPP.
        pub fn protodown(mut self, on: bool) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::ProtoDown(
                    on.into(),
                ));
            self
        }

        /// Forces the carrier on or off (`carrier on|off`), for devices whose
        /// driver lets user space decide it (dummy, team, …).
        pub fn carrier(mut self, on: bool) -> Self {
            self.common
                .attributes
                .push(::netlink_packet_route::link::LinkAttribute::Carrier(
                    on.into(),
                ));
            self
        }

        /// How IPv6 link-local addresses are made (`addrgenmode eui64|none|
        /// stable_secret|random`).
        pub fn addrgenmode(mut self, mode: $crate::route::link::AddrGenMode) -> Self {
            self.common.attributes.push(mode.attribute());
            self
        }
    };
}
pub(crate) use common_setters;

/// Builder of `ip link add`; `.await` it. See [`LinkHandle::add`].
#[must_use = "nothing is created until the builder is awaited"]
pub struct LinkAdd {
    handle: LinkHandle,
    name: String,
    kind: Box<dyn LinkKind>,
    index: Option<u32>,
    pub(crate) common: Common,
}

impl std::fmt::Debug for LinkAdd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkAdd").field("name", &self.name).finish()
    }
}

impl LinkAdd {
    pub(crate) fn new(handle: LinkHandle, name: &str, kind: Box<dyn LinkKind>) -> Self {
        LinkAdd {
            handle,
            name: name.to_owned(),
            kind,
            index: None,
            common: Common::default(),
        }
    }

    common_setters!();

    /// `index IDX`: create the link with this interface index (taken:
    /// `is_exists()`; 0 is refused, it means "the kernel picks").
    #[inline]
    pub fn index(mut self, index: u32) -> Self {
        if index == 0 {
            self.common
                .fail(Error::invalid("index", "0 means no index; give 1 or more"));
        } else {
            self.index = Some(index);
        }
        self
    }

    /// `numtxqueues N`: transmit queues of the new link (1 to 4096, as
    /// the kernel allows; multi-queue kinds such as veth use them).
    #[inline]
    pub fn numtxqueues(self, n: u32) -> Self {
        self.queues("numtxqueues", n, LinkAttribute::NumTxQueues)
    }

    /// `numrxqueues N`: receive queues of the new link (1 to 4096).
    #[inline]
    pub fn numrxqueues(self, n: u32) -> Self {
        self.queues("numrxqueues", n, LinkAttribute::NumRxQueues)
    }

    fn queues(mut self, field: &'static str, n: u32, attr: fn(u32) -> LinkAttribute) -> Self {
        // The kernel's own bounds (rtnl_create_link), named here.
        if (1..=4096).contains(&n) {
            self.common.attributes.push(attr(n));
        } else {
            self.common
                .fail(Error::invalid(field, format!("{n} is not in 1..=4096")));
        }
        self
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("link add", self.name.clone());
        self.create().await.within(&ctx)
    }

    async fn create(mut self) -> Result<()> {
        validate_name("name", &self.name)?;
        if let Some(e) = self.common.error.take() {
            return Err(e);
        }
        // The kernel ignores IFLA_IFALIAS in a create request: set it after.
        let alias = self.common.attributes.iter().find_map(|a| match a {
            LinkAttribute::IfAlias(s) => Some(s.clone()),
            _ => None,
        });
        if alias.is_some() && self.common.netns.is_some() {
            return Err(Error::invalid(
                "alias",
                "cannot be combined with netns when creating; set it in the new namespace",
            ));
        }
        self.common
            .attributes
            .retain(|a| !matches!(a, LinkAttribute::IfAlias(_)));
        let up_after = self.kind.up_after_create()?;
        let field = self.kind.refs_field();
        let mut refs: Vec<_> = self
            .kind
            .refs()
            .into_iter()
            .map(|id| (id, Some(field)))
            .collect();
        refs.extend(self.common.refs());
        let ctx = resolve(&self.handle, refs).await?;
        let parts = self.kind.build(&ctx)?;
        let _keep = self.kind.keep_open();
        let mut m = LinkMessage::default();
        m.header.index = self.index.unwrap_or(0);
        m.attributes.push(LinkAttribute::IfName(self.name.clone()));
        if let Some(l) = parts.link {
            m.attributes.push(LinkAttribute::Link(l));
        }
        m.attributes.extend(parts.attributes);
        let _fd = self.common.apply(&mut m, &ctx)?;
        if !parts.info.is_empty() {
            m.attributes.push(LinkAttribute::LinkInfo(parts.info));
        }
        self.handle
            .rtnl()
            .ack(RouteNetlinkMessage::NewLink(m), CREATE_EXCL)
            .await?;
        if let Some((name, netns)) = up_after {
            let handle = match netns {
                Some(t) => crate::Netlink::in_netns(t)?.link(),
                None => self.handle.clone(),
            };
            handle.set(name).up().await?;
        }
        if let Some(a) = alias {
            self.handle.set(self.name.as_str()).alias(&a).await?;
        }
        Ok(())
    }
}

impl IntoFuture for LinkAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
