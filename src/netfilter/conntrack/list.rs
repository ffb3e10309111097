//! `conntrack -L`: entries as a stream, filtered by the kernel where it can
//! and in user space for the rest.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, TryStreamExt};

use super::entry::Conntrack;
use super::filter::Filter;
use super::setters::filter_setters;
use super::{ConntrackHandle, msg};
use crate::conn::mapped::MappedDump;
use crate::conn::requester::retry_interrupted;
use crate::error::Result;
use crate::netfilter::kind;

/// A listing; `.await` it for a `Vec` or take its [`stream`](Self::stream)
/// (a million entries in flat memory). See [`ConntrackHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct ConntrackList {
    handle: ConntrackHandle,
    filter: Filter,
}

impl ConntrackList {
    filter_setters!();

    /// The entries as a stream. Bad filter input is its only item.
    pub fn stream(self) -> impl Stream<Item = Result<Conntrack>> + Send + 'static {
        MappedDump::new(async move {
            let req = self.filter.dump_request()?;
            let dump = self.handle.req.dump_raw(req, 0);
            let filter = self.filter;
            Ok((dump, move |raw| match Conntrack::from_raw(raw) {
                Ok(ct) => filter.matches(&ct).then_some(Ok(ct)),
                Err(e) => Some(Err(e)),
            }))
        })
    }
}

impl IntoFuture for ConntrackList {
    type Output = Result<Vec<Conntrack>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Conntrack>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(kind(msg::ty(msg::GET)), move || {
            self.clone().stream().try_collect()
        }))
    }
}

impl ConntrackHandle {
    /// `conntrack -L [-f ipv4|ipv6] [filters]`: both families unless
    /// [`family`](ConntrackList::family) picks one.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use futures::TryStreamExt;
    /// use tokio_netlink::Family;
    /// use tokio_netlink::netfilter::conntrack::Proto;
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut s = nl
    ///     .conntrack()
    ///     .list()
    ///     .family(Family::V4)
    ///     .protocol(Proto::Tcp)
    ///     .orig_src("10.0.0.0/8")
    ///     .dport(80)
    ///     .mark(0x10, 0xff)
    ///     .zone(3)
    ///     .stream();
    /// while let Some(ct) = s.try_next().await? {
    ///     println!("{ct}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ConntrackList {
        ConntrackList {
            handle: self.clone(),
            filter: Filter::new(),
        }
    }
}
