//! `ip link set`: change a link.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage, Prop};

use super::add::{Common, common_setters, resolve};
use super::port::BridgePort;
use super::{ALTIFNAME_MAX, LinkHandle, LinkId, validate_name, validate_name_max};
use crate::error::{Context, Result, ResultExt};

/// Builder of `ip link set`; `.await` it. See [`LinkHandle::set`].
#[must_use = "nothing changes until the builder is awaited"]
#[derive(Debug)]
pub struct LinkSet {
    handle: LinkHandle,
    id: LinkId,
    pub(crate) common: Common,
    altnames_add: Vec<String>,
    altnames_del: Vec<String>,
    port: Option<BridgePort>,
}

impl LinkSet {
    pub(crate) fn new(handle: LinkHandle, id: LinkId) -> Self {
        LinkSet {
            handle,
            id,
            common: Common::default(),
            altnames_add: Vec::new(),
            altnames_del: Vec::new(),
            port: None,
        }
    }

    common_setters!();

    /// Renames the link.
    #[inline]
    pub fn name(mut self, new: &str) -> Self {
        match validate_name("name", new) {
            Ok(()) => self
                .common
                .attributes
                .push(LinkAttribute::IfName(new.into())),
            Err(e) => self.common.fail(e),
        }
        self
    }

    /// Releases the link from its master.
    #[inline]
    pub fn nomaster(mut self) -> Self {
        self.common.master = Some(None);
        self
    }

    /// Adds an alternative name (`ip link property add dev D altname N`).
    #[inline]
    pub fn add_altname(mut self, name: &str) -> Self {
        self.altnames_add.push(name.to_owned());
        self
    }

    /// Removes an alternative name.
    #[inline]
    pub fn del_altname(mut self, name: &str) -> Self {
        self.altnames_del.push(name.to_owned());
        self
    }

    /// Bridge-port settings of a bridge port (`bridge link set dev D …`),
    /// applied after the other changes of this call, so `.master(br)` and
    /// the port's settings can go together. The kernel notifies them as an
    /// AF_BRIDGE [`Event::NewLink`](crate::route::events::Event::NewLink),
    /// also for a port that is down.
    #[inline]
    pub fn bridge_port(mut self, port: BridgePort) -> Self {
        self.port = Some(port);
        self
    }

    fn altname_message(index: u32, name: &str) -> LinkMessage {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes
            .push(LinkAttribute::PropList(vec![Prop::AltIfName(name.into())]));
        m
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("link set", self.id.to_string());
        // A missing link (or master) named by name is found missing by
        // its lookup, which names it; a later ENODEV may be a master given
        // by index, so it keeps the kernel's words.
        self.apply().await.within(&ctx)
    }

    async fn apply(mut self) -> Result<()> {
        // All input is checked before the first request: a bad altname must
        // not leave the other changes half made.
        if let Some(e) = self.common.error.take() {
            return Err(e);
        }
        for n in self.altnames_add.iter().chain(&self.altnames_del) {
            validate_name_max("altname", n, ALTIFNAME_MAX)?;
        }
        let mut refs = vec![(self.id.clone(), None)];
        refs.extend(self.common.refs());
        let ctx = resolve(&self.handle, refs).await?;
        let index = ctx.index(&self.id)?;
        let rtnl = self.handle.rtnl().clone();
        let changes = self.common.up.is_some()
            || !self.common.flags.is_empty()
            || !self.common.attributes.is_empty()
            || self.common.master.is_some()
            || self.common.netns.is_some();
        if changes {
            let mut m = LinkMessage::default();
            m.header.index = index;
            let common = std::mem::take(&mut self.common);
            let _fd = common.apply(&mut m, &ctx)?;
            rtnl.ack(RouteNetlinkMessage::NewLink(m), 0).await?;
        }
        if let Some(p) = self.port.take().filter(|p| !p.is_empty()) {
            rtnl.ack(RouteNetlinkMessage::SetLink(p.message(index)), 0)
                .await?;
        }
        for n in &self.altnames_add {
            let m = Self::altname_message(index, n);
            rtnl.ack(RouteNetlinkMessage::NewLinkProp(m), 0x400 | 0x800)
                .await?;
        }
        for n in &self.altnames_del {
            let m = Self::altname_message(index, n);
            rtnl.ack(RouteNetlinkMessage::DelLinkProp(m), 0).await?;
        }
        Ok(())
    }
}

impl IntoFuture for LinkSet {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
