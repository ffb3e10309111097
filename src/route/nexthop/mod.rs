//! `ip nexthop`: nexthop objects, single next hops and groups that routes
//! reference by id (`ip route add … nhid N`).
//!
//! netlink-packet-route cannot decode RTM_*NEXTHOP, so these messages have
//! a codec of their own here: requests are written byte for byte as
//! `ip nexthop` writes them, and replies are read through the lazy
//! [`NexthopObject`] view. Requests share the client's NETLINK_ROUTE
//! connection.

mod add;
mod bucket;
#[cfg(feature = "serde")]
mod serde;
mod view;

pub use add::{GroupMember, NexthopAdd, Resilient, parse_group};
pub use bucket::{BucketList, NexthopBucket};
pub use view::{GroupType, NexthopObject, ResilientInfo};

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, TryStreamExt};

use crate::client::Netlink;
use crate::conn::mapped::MappedDump;
use crate::conn::requester::retry_interrupted;
use crate::conn::{RawMessage, Requester};
use crate::error::{Context, RequestKind, Result, ResultExt};
use crate::route::link::{LinkHandle, LinkId};
use crate::route::tc::{Tc, TcMessage};

pub(crate) const RTM_NEWNEXTHOP: u16 = 104;
pub(crate) const RTM_DELNEXTHOP: u16 = 105;
pub(crate) const RTM_GETNEXTHOP: u16 = 106;

/// `NHA_*` attributes (linux/nexthop.h).
pub(crate) mod nha {
    pub const ID: u16 = 1;
    pub const GROUP: u16 = 2;
    pub const GROUP_TYPE: u16 = 3;
    pub const BLACKHOLE: u16 = 4;
    pub const OIF: u16 = 5;
    pub const GATEWAY: u16 = 6;
    pub const ENCAP_TYPE: u16 = 7;
    pub const ENCAP: u16 = 8;
    pub const GROUPS: u16 = 9;
    pub const MASTER: u16 = 10;
    pub const FDB: u16 = 11;
    pub const RES_GROUP: u16 = 12;
}

pub(crate) const REQ: RequestKind = RequestKind {
    message_type: RTM_GETNEXTHOP,
    name: Some("RTM_GETNEXTHOP"),
};

/// `struct nhmsg` (family, scope, protocol, flags) and the attributes.
pub(crate) struct NhWriter {
    buf: Vec<u8>,
}

impl NhWriter {
    pub(crate) fn new(family: u8, protocol: u8, flags: u32) -> NhWriter {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[family, 0, protocol, 0]);
        buf.extend_from_slice(&flags.to_ne_bytes());
        NhWriter { buf }
    }

    /// Appends an attribute; values are small and bounded by the caller.
    pub(crate) fn attr(&mut self, ty: u16, value: &[u8]) {
        self.buf
            .extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf
            .resize(crate::conn::frame::align(self.buf.len()), 0);
    }

    pub(crate) fn u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_ne_bytes());
    }

    pub(crate) fn message(self, ty: u16) -> TcMessage {
        // TcMessage is the crate's raw NETLINK_ROUTE payload: a type and
        // the bytes after the netlink header, whatever the family.
        TcMessage {
            message_type: ty,
            payload: self.buf,
        }
    }
}

/// A dumped message: a nexthop, or nothing for a message of another type.
fn dumped(raw: RawMessage) -> Option<Result<NexthopObject>> {
    matches!(raw.header.ty, RTM_NEWNEXTHOP | RTM_DELNEXTHOP).then(|| NexthopObject::from_raw(raw))
}

fn by_id(ty: u16, id: u32) -> TcMessage {
    let mut w = NhWriter::new(0, 0, 0);
    w.u32(nha::ID, id);
    w.message(ty)
}

/// Nexthop object operations (`ip nexthop`). Get one with
/// [`Netlink::nexthop`].
#[derive(Debug, Clone)]
pub struct NexthopHandle {
    req: Requester<Tc>,
    links: LinkHandle,
}

impl Netlink {
    /// Nexthop objects (`ip nexthop`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::nexthop::GroupMember;
    /// let nl = tokio_netlink::Netlink::new();
    /// // ip nexthop add id 1 via 192.0.2.1 dev eth0
    /// nl.nexthop().add(1).via("192.0.2.1").dev("eth0").await?;
    /// nl.nexthop().add(2).via("192.0.2.2").dev("eth0").await?;
    /// // ip nexthop add id 10 group 1,2/2
    /// nl.nexthop()
    ///     .add(10)
    ///     .group([GroupMember::new(1).weight(2), GroupMember::new(2)])
    ///     .await?;
    /// // ip route add 198.51.100.0/24 nhid 10
    /// nl.route().add("198.51.100.0/24").nhid(10).await?;
    /// for nh in nl.nexthop().list().await? {
    ///     println!("id {} group {:?}", nh.id(), nh.group());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn nexthop(&self) -> NexthopHandle {
        NexthopHandle {
            req: self.requester::<Tc>(),
            links: self.link(),
        }
    }
}

impl NexthopHandle {
    /// `ip nexthop add id ID …` (fails with `is_exists()` if present). An
    /// id of 0 lets the kernel pick one.
    pub fn add(&self, id: u32) -> NexthopAdd {
        NexthopAdd::new(self.clone(), id, false)
    }

    /// `ip nexthop replace id ID …`.
    pub fn replace(&self, id: u32) -> NexthopAdd {
        NexthopAdd::new(self.clone(), id, true)
    }

    /// `ip nexthop del id ID`. Deleting a nexthop removes it from its
    /// groups and deletes the routes that use it. A missing id is
    /// `is_not_found()`, displayed as `nexthop del id ID: no such nexthop`.
    pub async fn del(&self, id: u32) -> Result<()> {
        let ctx = Context::new("nexthop del", format!("id {id}")).missing("nexthop");
        self.req
            .ack(by_id(RTM_DELNEXTHOP, id), 0)
            .await
            .within(&ctx)
    }

    /// `ip nexthop get id ID`. A missing id is `is_not_found()`.
    pub async fn get(&self, id: u32) -> Result<NexthopObject> {
        let ctx = Context::new("nexthop get", format!("id {id}")).missing("nexthop");
        let raw = self
            .req
            .get_raw(by_id(RTM_GETNEXTHOP, id), 0)
            .await
            .within(&ctx)?;
        NexthopObject::from_raw(raw).within(&ctx)
    }

    /// Lists the buckets of resilient groups (`ip nexthop bucket show`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// for b in nl.nexthop().buckets().id(10).await? {
    ///     println!("bucket {} holds nexthop {}", b.index(), b.nhid());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn buckets(&self) -> BucketList {
        BucketList {
            handle: self.clone(),
            id: None,
            nhid: None,
        }
    }

    /// Lists nexthop objects (`ip nexthop show`), all of them unless a
    /// filter says otherwise; the kernel does the filtering.
    pub fn list(&self) -> NexthopList {
        NexthopList {
            handle: self.clone(),
            dev: None,
            master: None,
            groups: false,
            fdb: false,
        }
    }
}

/// A nexthop listing; see [`NexthopHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct NexthopList {
    handle: NexthopHandle,
    dev: Option<LinkId>,
    master: Option<LinkId>,
    groups: bool,
    fdb: bool,
}

impl NexthopList {
    /// `dev D`: only nexthops through this device (NHA_OIF).
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `master M`: only nexthops through ports of this master, e.g. a vrf
    /// (NHA_MASTER).
    pub fn master(mut self, master: impl Into<LinkId>) -> Self {
        self.master = Some(master.into());
        self
    }

    /// `groups`: only groups (NHA_GROUPS).
    pub fn groups(mut self) -> Self {
        self.groups = true;
        self
    }

    /// `fdb`: only nexthops of bridge FDB entries (NHA_FDB, and checked
    /// here).
    pub fn fdb(mut self) -> Self {
        self.fdb = true;
        self
    }

    fn context(&self) -> Context {
        let mut o = String::new();
        if let Some(d) = &self.dev {
            o.push_str(&format!("dev {d}"));
        }
        if let Some(m) = &self.master {
            o.push_str(&format!(" master {m}"));
        }
        Context::new("nexthop show", o.trim_start().to_owned())
    }

    /// The dump request and the device index `dev` named.
    async fn request(&self) -> Result<(TcMessage, Option<u32>)> {
        let mut w = NhWriter::new(0, 0, 0);
        let links = &self.handle.links;
        let oif = match &self.dev {
            Some(d) => Some(links.lookup(d, Some("dev")).await?),
            None => None,
        };
        if let Some(i) = oif {
            w.u32(nha::OIF, i);
        }
        if let Some(m) = &self.master {
            w.u32(nha::MASTER, links.lookup(m, Some("master")).await?);
        }
        if self.groups {
            w.attr(nha::GROUPS, &[]);
        }
        if self.fdb {
            w.attr(nha::FDB, &[]);
        }
        Ok((w.message(RTM_GETNEXTHOP), oif))
    }

    /// The nexthops as a stream, decoded lazily as they arrive. A message
    /// of another type in the dump (one a newer kernel might add) is
    /// skipped and the dump goes on; a malformed nexthop message is an
    /// error item, and the stream goes on after it too.
    ///
    /// `dev`, `groups` and `fdb` are checked here as well: kernel 6.18
    /// takes NHA_FDB in a dump request but returns every nexthop.
    pub fn stream(self) -> impl Stream<Item = Result<NexthopObject>> + Send + 'static {
        MappedDump::new(async move {
            let ctx = self.context();
            let (m, oif) = self.request().await.within(&ctx)?;
            let (groups, fdb) = (self.groups, self.fdb);
            let keep = move |n: &NexthopObject| {
                oif.is_none_or(|i| n.oif() == Some(i))
                    && (!groups || n.is_group())
                    && (!fdb || n.fdb())
            };
            let dump = self.handle.req.dump_raw(m, 0);
            Ok((dump, move |raw| match dumped(raw)? {
                Ok(n) => keep(&n).then_some(Ok(n)),
                Err(e) => Some(Err(e)),
            }))
        })
    }

    /// `ip nexthop flush [FILTER]`: deletes every nexthop the listing
    /// returns and says how many went. A nexthop that is already gone (a
    /// group emptied by deleting its members) is not an error.
    pub async fn flush(self) -> Result<usize> {
        let handle = self.handle.clone();
        let mut n = 0;
        for nh in self.await? {
            match handle.del(nh.id()).await {
                Ok(()) => n += 1,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

impl IntoFuture for NexthopList {
    type Output = Result<Vec<NexthopObject>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::frame::Header;

    fn raw(ty: u16, payload: &[u8]) -> RawMessage {
        let mut b = vec![0u8; crate::conn::frame::HEADER_LEN];
        b.extend_from_slice(payload);
        let header = Header {
            len: b.len() as u32,
            ty,
            flags: 0,
            seq: 1,
            pid: 0,
        };
        header.write(&mut b);
        RawMessage {
            header,
            bytes: bytes::Bytes::from(b),
        }
    }

    #[test]
    fn a_dump_skips_unknown_message_types_and_reads_nexthops() {
        let mut w = NhWriter::new(2, 0, 0);
        w.u32(nha::ID, 7);
        w.attr(nha::BLACKHOLE, &[]);
        let nh = raw(RTM_NEWNEXTHOP, &w.buf);
        assert!(
            dumped(raw(200, &[1, 2, 3])).is_none(),
            "unknown type skipped"
        );
        let n = dumped(nh).unwrap().unwrap();
        assert_eq!((n.id(), n.blackhole(), n.is_group()), (7, true, false));
        // A truncated nexthop is an error, not a panic.
        assert!(dumped(raw(RTM_NEWNEXTHOP, &[2, 0])).unwrap().is_err());
    }

    #[test]
    fn malformed_groups_and_nests_read_without_panic() {
        let mut w = NhWriter::new(0, 0, 0);
        w.u32(nha::ID, 9);
        w.attr(nha::GROUP, &[1, 0, 0, 0, 255, 255, 0, 0, 5]);
        w.attr(nha::RES_GROUP, &[200, 0, 1, 0]);
        w.attr(nha::GROUP_TYPE, &[1]);
        let n = NexthopObject::from_raw(raw(RTM_NEWNEXTHOP, &w.buf)).unwrap();
        let g = n.group();
        assert_eq!((g.len(), g[0].id, g[0].weight), (1, 1, 65536));
        assert_eq!(
            n.group_type(),
            Some(GroupType::Mpath),
            "a short type reads as 0"
        );
        assert_eq!(n.resilient(), Some(ResilientInfo::default()));
    }
}
