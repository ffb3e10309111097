//! `ip link`: list, get, add, set and delete links.

mod add;
mod addrgen;
pub mod kinds;
mod port;
#[cfg(feature = "serde")]
mod serde;
#[cfg(feature = "serde")]
pub(crate) use serde::ll_addr as serde_ll_addr;
mod set;
mod tuntap;
mod view;

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, TryStreamExt};
use netlink_packet_core::DefaultNla;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkExtentMask, LinkInfo, LinkMessage};

pub use add::{KindCtx, KindParts, LinkAdd, LinkKind};
pub use addrgen::AddrGenMode;
pub use port::{BridgePort, BridgePortInfo};
pub use set::LinkSet;
pub use tuntap::{TunInfo, TunTap, TunTapAdd, TunTapMode};
pub use view::{Link, MacAddr, OperState};

use crate::client::Netlink;
use crate::conn::Requester;
use crate::conn::attrs::check_string;
use crate::conn::mapped::MappedDump;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::Route;

/// Names a link: by index or by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkId {
    /// The interface index.
    Index(u32),
    /// The interface name (or an alternative name).
    Name(String),
}

impl From<u32> for LinkId {
    fn from(i: u32) -> Self {
        LinkId::Index(i)
    }
}

impl From<&str> for LinkId {
    fn from(n: &str) -> Self {
        LinkId::Name(n.to_owned())
    }
}

impl From<String> for LinkId {
    fn from(n: String) -> Self {
        LinkId::Name(n)
    }
}

impl From<&String> for LinkId {
    fn from(n: &String) -> Self {
        LinkId::Name(n.clone())
    }
}

impl From<&Link> for LinkId {
    fn from(l: &Link) -> Self {
        LinkId::Index(l.index())
    }
}

impl std::fmt::Display for LinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkId::Index(i) => write!(f, "index {i}"),
            LinkId::Name(n) => f.write_str(n),
        }
    }
}

/// IFNAMSIZ - 1: the longest interface name (IFLA_IFNAME, IFA_LABEL,
/// FRA_IIFNAME, FRA_OIFNAME).
pub(crate) const IFNAME_MAX: usize = 15;
/// ALTIFNAMSIZ - 1: the longest alternative name (IFLA_ALT_IFNAME).
pub(crate) const ALTIFNAME_MAX: usize = 127;
/// IFALIASZ - 1: the longest alias (IFLA_IFALIAS).
pub(crate) const IFALIAS_MAX: usize = 255;
/// MODULE_NAME_LEN - 1 on 64-bit: the kernel copies IFLA_INFO_KIND into a
/// buffer this long, cutting a longer kind.
pub(crate) const KIND_MAX: usize = 55;

/// Refuses what the kernel's `dev_valid_name` refuses, before sending, and
/// a NUL (which the kernel would stop at: `"eth0\0junk"` names eth0).
pub(crate) fn validate_name(field: &'static str, name: &str) -> Result<()> {
    validate_name_max(field, name, IFNAME_MAX)
}

/// [`validate_name`] with another length limit: alternative names may have
/// up to 127 bytes (ALTIFNAMSIZ - 1) and follow the same rules, or neither
/// `ip` nor a lookup by name could name them.
pub(crate) fn validate_name_max(field: &'static str, name: &str, max: usize) -> Result<()> {
    check_string(field, name, max)?;
    // The kernel's isspace(): \t \n \v \f \r, space, and Latin-1's
    // no-break space 0xa0, tested byte by byte (so a UTF-8 character holding
    // the byte 0xa0, such as "à", is refused too).
    let space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ' | 0xa0);
    let reason = if name.is_empty() {
        "is empty"
    } else if name == "." || name == ".." {
        "cannot be \".\" or \"..\""
    } else if name.contains('/') || name.contains(':') {
        "cannot contain '/' or ':'"
    } else if name.bytes().any(space) {
        "cannot contain whitespace"
    } else {
        return Ok(());
    };
    Err(Error::invalid(field, format!("{name:?} {reason}")))
}

impl LinkId {
    /// Refuses a name no link can have, as [`message_for`] does: for
    /// callers that must check several before sending any request.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            LinkId::Index(_) => Ok(()),
            // IFLA_IFNAME holds at most 15 bytes: a longer name can only be
            // an alternative name.
            LinkId::Name(n) if n.len() > IFNAME_MAX => validate_name_max("name", n, ALTIFNAME_MAX),
            LinkId::Name(n) => validate_name("name", n),
        }
    }
}

/// A link message addressing `id`: by index, or by IFLA_IFNAME.
pub(crate) fn message_for(id: &LinkId) -> Result<LinkMessage> {
    id.check()?;
    let mut m = LinkMessage::default();
    match id {
        LinkId::Index(i) => m.header.index = *i,
        // A longer name than IFLA_IFNAME holds is looked up by
        // IFLA_ALT_IFNAME.
        LinkId::Name(n) if n.len() > IFNAME_MAX => {
            let mut v = n.as_bytes().to_vec();
            v.push(0);
            m.attributes.push(LinkAttribute::Other(DefaultNla::new(
                view::IFLA_ALT_IFNAME,
                v,
            )));
        }
        LinkId::Name(n) => m.attributes.push(LinkAttribute::IfName(n.clone())),
    }
    Ok(m)
}

/// Asks for what iproute2 asks for (IFLA_EXT_MASK with RTEXT_FILTER_VF)
/// unless the request names its own mask. Only a GETLINK dump request that
/// carries a non-zero mask makes the kernel size the dump's buffers from
/// the largest link (`rtnl_calcit`); without one a link larger than the
/// buffer (32 KiB at most) ends the dump early with DONE 0, and it and
/// every link after it are missing with no error.
pub(crate) fn size_dump(m: &mut LinkMessage) {
    if !m
        .attributes
        .iter()
        .any(|a| matches!(a, LinkAttribute::ExtMask(_)))
    {
        m.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::Vf]));
    }
}

/// Link operations (`ip link`). Get one with [`Netlink::link`].
#[derive(Debug, Clone)]
pub struct LinkHandle {
    rtnl: Requester<Route>,
}

impl Netlink {
    /// Link operations (`ip link`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::link::kinds::Veth;
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.link().add("veth0", Veth::peer("veth1")).mtu(9000).up().await?;
    /// nl.link().set("veth1").up().await?;
    /// let l = nl.link().get("veth0").await?;
    /// assert_eq!(l.mtu(), Some(9000));
    /// nl.link().del("veth0").await?;
    /// # Ok(()) }
    /// ```
    pub fn link(&self) -> LinkHandle {
        LinkHandle { rtnl: self.rtnl() }
    }
}

impl LinkHandle {
    /// Lists links (`ip link show`); filter with [`LinkList::kind`] and
    /// [`LinkList::master`] (applied by the kernel), then `.await` for a
    /// `Vec` or call [`LinkList::stream`].
    pub fn list(&self) -> LinkList {
        LinkList {
            rtnl: self.rtnl.clone(),
            kind: None,
            master: None,
        }
    }

    /// One link by index or name, with a single request (no dump). A
    /// missing link is [`Error::NoSuchLink`] under a `link get` context.
    pub async fn get(&self, id: impl Into<LinkId>) -> Result<Link> {
        let id = id.into();
        let ctx = Context::new("link get", id.to_string());
        self.fetch(&id)
            .await
            .map_err(|e| e.for_link(&id, None))
            .within(&ctx)
    }

    /// The first link whose alias (`ip link set D alias A`) is `alias`,
    /// or `None`. The kernel cannot look a link up by alias, so this lists
    /// the links (as vishvananda/netlink's LinkByAlias does).
    pub async fn by_alias(&self, alias: &str) -> Result<Option<Link>> {
        let mut links = std::pin::pin!(self.list().stream());
        while let Some(l) = links.try_next().await? {
            if l.alias() == Some(alias) {
                return Ok(Some(l));
            }
        }
        Ok(None)
    }

    pub(crate) async fn fetch(&self, id: &LinkId) -> Result<Link> {
        let m = message_for(id)?;
        let raw = self
            .rtnl
            .get_raw(RouteNetlinkMessage::GetLink(m), 0)
            .await?;
        Link::from_raw(raw)
    }

    /// The index of a link; no request when `id` is already an index. A
    /// missing link is [`Error::NoSuchLink`].
    pub async fn index_of(&self, id: &LinkId) -> Result<u32> {
        self.lookup(id, None).await
    }

    /// [`index_of`](Self::index_of) for a device named by the setter
    /// `field` (`"dev"`, `"master"`…), which a missing link's error names.
    pub(crate) async fn lookup(&self, id: &LinkId, field: Option<&'static str>) -> Result<u32> {
        match id {
            LinkId::Index(i) => Ok(*i),
            LinkId::Name(_) => match self.fetch(id).await {
                Ok(l) => Ok(l.index()),
                Err(e) => Err(e.for_link(id, field)),
            },
        }
    }

    /// Creates a link of the given kind (`ip link add NAME type KIND …`).
    /// Set more with the returned builder, then `.await` it.
    pub fn add(&self, name: &str, kind: impl LinkKind + 'static) -> LinkAdd {
        LinkAdd::new(self.clone(), name, Box::new(kind))
    }

    /// Creates a tun or tap device through /dev/net/tun, as iproute2 does
    /// (`ip tuntap add`).
    pub fn add_tuntap(&self, name: &str, spec: TunTap) -> TunTapAdd {
        TunTapAdd::new(self.clone(), name, spec)
    }

    /// Changes a link (`ip link set`); `.await` the builder.
    pub fn set(&self, id: impl Into<LinkId>) -> LinkSet {
        LinkSet::new(self.clone(), id.into())
    }

    /// Deletes a link (`ip link del`); a missing one is
    /// [`Error::NoSuchLink`] under a `link del` context.
    pub async fn del(&self, id: impl Into<LinkId>) -> Result<()> {
        let id = id.into();
        let ctx = Context::new("link del", id.to_string());
        let m = message_for(&id)?;
        self.rtnl
            .ack(RouteNetlinkMessage::DelLink(m), 0)
            .await
            .map_err(|e| e.for_link(&id, None))
            .within(&ctx)
    }

    pub(crate) fn rtnl(&self) -> &Requester<Route> {
        &self.rtnl
    }

    pub(crate) fn netns(&self) -> Option<std::sync::Arc<std::os::fd::OwnedFd>> {
        self.rtnl.netns()
    }
}

/// A link listing; see [`LinkHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct LinkList {
    rtnl: Requester<Route>,
    kind: Option<String>,
    master: Option<LinkId>,
}

impl LinkList {
    /// Only links of this kind (`ip link show type KIND`).
    #[inline]
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = Some(kind.to_owned());
        self
    }

    /// Only ports of this master (`ip link show master BR`).
    #[inline]
    pub fn master(mut self, master: impl Into<LinkId>) -> Self {
        self.master = Some(master.into());
        self
    }

    /// The links as a stream, decoded lazily as they arrive.
    pub fn stream(self) -> impl Stream<Item = Result<Link>> + Send + 'static {
        let rtnl = self.rtnl;
        let kind = self.kind;
        let master = self.master;
        MappedDump::new(async move {
            if let Some(k) = &kind {
                check_string("kind", k, KIND_MAX)?;
            }
            let mut m = LinkMessage::default();
            if let Some(id) = &master {
                let links = LinkHandle { rtnl: rtnl.clone() };
                let ctx = Context::new("link show", format!("master {id}"));
                let idx = links.lookup(id, Some("master")).await.within(&ctx)?;
                m.attributes.push(LinkAttribute::Controller(idx));
            }
            if let Some(k) = &kind {
                m.attributes
                    .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                        InfoKind::from(k.as_str()),
                    )]));
            }
            // The kernel ignores a kind filter naming a kind it does not
            // know (returning every link), so check the kind here too.
            let dump = rtnl.dump_raw(RouteNetlinkMessage::GetLink(m), 0);
            Ok((dump, move |raw| match Link::from_raw(raw) {
                Ok(l) => kind
                    .as_deref()
                    .is_none_or(|k| l.kind() == Some(k))
                    .then_some(Ok(l)),
                Err(e) => Some(Err(e)),
            }))
        })
    }
}

impl IntoFuture for LinkList {
    type Output = Result<Vec<Link>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Link>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        // Like the other listings: a dump the kernel marks interrupted
        // (NLM_F_DUMP_INTR: links came or went meanwhile) is done again.
        Box::pin(crate::conn::requester::retry_interrupted(
            view::REQ,
            move || self.clone().stream().try_collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_like_the_kernel() {
        for bad in [
            "",
            "a-very-long-name-x",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "tab\t",
            "v\x0b",
            "lo\0junk",
            "\0",
            "nbsp\u{a0}",
            "à",
        ] {
            let e = validate_name("name", bad).unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { field: "name", .. }),
                "{bad}"
            );
        }
        validate_name("name", "eth0").unwrap();
        validate_name("name", "exactly15bytes_").unwrap();
        // Not whitespace to the kernel, which tests bytes against ASCII and
        // Latin-1: an em space (e2 80 83) is a valid name.
        validate_name("name", "a\u{2003}b").unwrap();
        validate_name("name", "...").unwrap();
        validate_name_max("altname", &"a".repeat(127), ALTIFNAME_MAX).unwrap();
        for bad in ["a/b", "a b", "a\0b", "."] {
            assert!(
                validate_name_max("altname", bad, ALTIFNAME_MAX).is_err(),
                "{bad:?}"
            );
        }
    }

    fn masks(m: &LinkMessage) -> Vec<Vec<LinkExtentMask>> {
        m.attributes
            .iter()
            .filter_map(|a| match a {
                LinkAttribute::ExtMask(v) => Some(v.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn dump_requests_get_an_ext_mask_unless_they_name_one() {
        let mut m = LinkMessage::default();
        size_dump(&mut m);
        assert_eq!(masks(&m), vec![vec![LinkExtentMask::Vf]]);
        size_dump(&mut m);
        assert_eq!(masks(&m).len(), 1, "added once");

        let mut own = LinkMessage::default();
        own.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        size_dump(&mut own);
        assert_eq!(masks(&own), vec![vec![LinkExtentMask::SkipStats]]);
    }

    #[test]
    fn route_protocol_prepares_only_link_dumps() {
        use crate::conn::Protocol;
        let mut link = RouteNetlinkMessage::GetLink(LinkMessage::default());
        Route::prepare_dump(&mut link);
        let RouteNetlinkMessage::GetLink(m) = &link else {
            unreachable!()
        };
        assert_eq!(masks(m).len(), 1);
        let mut addr = RouteNetlinkMessage::GetAddress(Default::default());
        Route::prepare_dump(&mut addr);
        assert_eq!(addr, RouteNetlinkMessage::GetAddress(Default::default()));
    }
}
