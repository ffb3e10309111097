//! `ip link set`: change a link.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkInfo, LinkMessage, Prop};

use super::add::{Common, KindParts, common_setters, resolve};
use super::port::BridgePort;
use super::{ALTIFNAME_MAX, LinkHandle, LinkId, LinkKind, validate_name, validate_name_max};
use crate::error::{Context, Error, Result, ResultExt};

/// Builder of `ip link set`; `.await` it. See [`LinkHandle::set`].
#[must_use = "nothing changes until the builder is awaited"]
pub struct LinkSet {
    handle: LinkHandle,
    id: LinkId,
    pub(crate) common: Common,
    altnames_add: Vec<String>,
    altnames_del: Vec<String>,
    port: Option<BridgePort>,
    kind: Option<Box<dyn LinkKind>>,
}

impl std::fmt::Debug for LinkSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSet")
            .field("id", &self.id)
            .field("kind", &self.kind.is_some())
            .finish_non_exhaustive()
    }
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
            kind: None,
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

    /// Changes the kind's parameters of a live link (`ip link set DEV type
    /// KIND …`), with the kinds' `change()` builders, which send only what
    /// was set: [`Vxlan::change`](super::kinds::Vxlan::change),
    /// [`Bridge::new`](super::kinds::Bridge::new),
    /// [`Macvlan::change`](super::kinds::Macvlan::change), …. A link of
    /// another kind is refused before anything is sent
    /// ([`Error::InvalidInput`] naming `"type"`); what the kind cannot
    /// change live (a vxlan's port, its metadata mode) the kernel refuses
    /// with its extended-ACK text.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::link::kinds::{Bridge, Vxlan};
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.link().set("br0").kind(Bridge::new().vlan_filtering(true)).await?;
    /// nl.link().set("vx0").kind(Vxlan::change().learning(false).ttl(64)).await?;
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn kind(mut self, kind: impl LinkKind + 'static) -> Self {
        self.kind = Some(Box::new(kind));
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
        let kind = self.kind.take();
        let mut refs = Vec::new();
        // With a kind the link itself is read (for its kind), else only
        // its name is resolved.
        let mut have = None;
        match &kind {
            Some(k) => {
                let link =
                    (self.handle.fetch(&self.id).await).map_err(|e| e.for_link(&self.id, None))?;
                let current: Option<Vec<u8>> = if k.merge_on_change() {
                    link.info_data_raw().map(<[u8]>::to_vec)
                } else {
                    None
                };
                have = Some((link.index(), link.kind().map(str::to_owned), current));
                let field = k.refs_field();
                refs.extend(k.refs().into_iter().map(|id| (id, Some(field))));
            }
            None => refs.push((self.id.clone(), None)),
        }
        refs.extend(self.common.refs());
        let mut ctx = resolve(&self.handle, refs).await?;
        ctx.set_change();
        let index = match &have {
            Some((i, _, _)) => *i,
            None => ctx.index(&self.id)?,
        };
        let (parts, _keep) = match (&kind, have) {
            (Some(k), Some((_, have_kind, current))) => {
                let mut parts = k.build(&ctx)?;
                check_kind(&self.id, &parts, have_kind)?;
                if let Some(cur) = current {
                    merge_info_data(&mut parts, &cur);
                }
                (Some(parts), k.keep_open())
            }
            _ => (None, Vec::new()),
        };
        let rtnl = self.handle.rtnl().clone();
        let changes = self.common.up.is_some()
            || !self.common.flags.is_empty()
            || !self.common.attributes.is_empty()
            || self.common.master.is_some()
            || self.common.netns.is_some()
            || parts.is_some();
        if changes {
            let mut m = LinkMessage::default();
            m.header.index = index;
            if let Some(p) = parts {
                if let Some(l) = p.link {
                    m.attributes.push(LinkAttribute::Link(l));
                }
                m.attributes.extend(p.attributes);
                m.attributes.push(LinkAttribute::LinkInfo(p.info));
            }
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

/// Puts the link's current IFLA_INFO_DATA attributes under the new ones:
/// every current attribute the change does not set is sent back as it is.
fn merge_info_data(parts: &mut KindParts, current: &[u8]) {
    use netlink_packet_core::Nla;
    let new = parts.info.iter_mut().find_map(|i| match i {
        LinkInfo::Data(d) => Some(d),
        _ => None,
    });
    let mut out = Vec::with_capacity(current.len());
    // The value only: InfoData is an Nla, whose `emit` would add its own
    // IFLA_INFO_DATA header (type 2, which is also IFLA_GRE_IFLAGS).
    let new_bytes = new.as_ref().map(|d| {
        let mut b = vec![0u8; d.value_len()];
        d.emit_value(&mut b);
        b
    });
    let new_bytes = new_bytes.unwrap_or_default();
    let set: Vec<u16> = crate::conn::attrs::nested(&new_bytes)
        .map(|(t, _)| t)
        .collect();
    for (t, v) in crate::conn::attrs::nested(current) {
        if !set.contains(&t) {
            let len = 4 + v.len();
            out.extend_from_slice(&(len as u16).to_ne_bytes());
            out.extend_from_slice(&t.to_ne_bytes());
            out.extend_from_slice(v);
            out.resize(out.len().next_multiple_of(4), 0);
        }
    }
    out.extend_from_slice(&new_bytes);
    let merged = netlink_packet_route::link::InfoData::Other(out);
    match new {
        Some(d) => *d = merged,
        None => parts.info.push(LinkInfo::Data(merged)),
    }
}

/// Refuses a change whose kind is not the link's: the kernel would answer
/// a bare EOPNOTSUPP.
fn check_kind(id: &LinkId, parts: &KindParts, have: Option<String>) -> Result<()> {
    let Some(want) = parts.info.iter().find_map(|i| match i {
        LinkInfo::Kind(k) => Some(k.to_string()),
        _ => None,
    }) else {
        return Err(Error::invalid("type", "the kind names no type"));
    };
    match have {
        Some(h) if h == want => Ok(()),
        Some(h) => Err(Error::invalid(
            "type",
            format!("{id} is a {h} link, not {want}"),
        )),
        None => Err(Error::invalid(
            "type",
            format!("{id} has no kind (a physical or loopback device), not {want}"),
        )),
    }
}

impl IntoFuture for LinkSet {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, Nla};
    use netlink_packet_route::link::{GreIOFlags, InfoData, InfoGre, InfoKind};

    fn value(d: &InfoData) -> Vec<u8> {
        let mut b = vec![0u8; d.value_len()];
        d.emit_value(&mut b);
        b
    }

    /// The merge works on the attributes inside IFLA_INFO_DATA: a new
    /// value replaces the current one, the rest is kept once, as it was.
    #[test]
    fn merged_data_keeps_unsent_attributes_and_takes_new_ones() {
        let current = value(&InfoData::GreTun(vec![
            InfoGre::IFlags(GreIOFlags::Key),
            InfoGre::OFlags(GreIOFlags::Key),
            InfoGre::IKey(5),
            InfoGre::OKey(5),
            InfoGre::Ttl(10),
        ]));
        let mut parts = KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::GreTun),
                LinkInfo::Data(InfoData::GreTun(vec![InfoGre::Ttl(20)])),
            ],
            link: None,
            attributes: Vec::new(),
        };
        merge_info_data(&mut parts, &current);
        let Some(LinkInfo::Data(d)) = parts.info.get(1) else {
            panic!("{:?}", parts.info)
        };
        let got: Vec<(u16, Vec<u8>)> = crate::conn::attrs::nested(&value(d))
            .map(|(t, v)| (t, v.to_vec()))
            .collect();
        let types: Vec<u16> = got.iter().map(|(t, _)| *t).collect();
        // IFLAGS 2, OFLAGS 3, IKEY 4, OKEY 5 kept; TTL 8 once, the new one.
        assert_eq!(types, vec![2, 3, 4, 5, 8], "{got:?}");
        assert_eq!(got[4].1, vec![20]);
        // The whole link info still emits (one IFLA_INFO_DATA).
        let mut b = vec![0u8; parts.info.as_slice().buffer_len()];
        parts.info.as_slice().emit(&mut b);
    }

    /// A change with no kind data still sends the current data.
    #[test]
    fn merge_without_new_data_sends_the_current_data() {
        let current = value(&InfoData::GreTun(vec![InfoGre::Ttl(10)]));
        let mut parts = KindParts {
            info: vec![LinkInfo::Kind(InfoKind::GreTun)],
            link: None,
            attributes: Vec::new(),
        };
        merge_info_data(&mut parts, &current);
        let Some(LinkInfo::Data(d)) = parts.info.get(1) else {
            panic!("{:?}", parts.info)
        };
        assert_eq!(value(d), current);
    }
}
