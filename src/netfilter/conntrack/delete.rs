//! `conntrack -D` with filters (a dump, then batched deletes, counted) and
//! `conntrack -F` (one kernel-side flush).

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::entry::Conntrack;
use super::filter::Filter;
use super::setters::filter_setters;
use super::{ConntrackHandle, cta, msg};
use crate::conn::Requester;
use crate::error::{Context, Result, ResultExt};
use crate::netfilter::{Emit, Netfilter, NfMessage};
use crate::route::tc::awaited_by_run;
use crate::types::Family;

/// Deletes sent to the connection as one batch: the engine packs them into
/// as few datagrams as its send window allows.
const BATCH: usize = 1024;

/// `conntrack -D [filters]`: deletes every matching entry and returns how
/// many it deleted. See [`ConntrackHandle::delete_matching`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct DeleteMatching {
    handle: ConntrackHandle,
    filter: Filter,
}

impl DeleteMatching {
    filter_setters!();

    async fn run(self) -> Result<u64> {
        let ctx = Context::new("conntrack delete", "by filter");
        let req = self.filter.dump_request()?;
        let mut dump = self.handle.req.dump_raw(req, 0);
        let mut batch = Vec::with_capacity(BATCH);
        let mut in_flight = FuturesUnordered::new();
        let mut deleted = 0;
        // The deletes go on the request socket while the dump, on a socket
        // of its own, goes on: the kernel resumes it after the last entry
        // sent, so deleting what was already read disturbs nothing. A few
        // batches in flight keep both the dump and the deletes busy.
        loop {
            let raw = tokio::select! {
                biased;
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    deleted += counted(done, &ctx)?;
                    continue;
                }
                raw = dump.next(), if in_flight.len() < IN_FLIGHT => raw,
            };
            let Some(raw) = raw else { break };
            let ct = Conntrack::from_raw(raw.within(&ctx)?).within(&ctx)?;
            if !self.filter.matches(&ct) {
                continue;
            }
            batch.push((delete_request(&ct), 0));
            if batch.len() == BATCH {
                in_flight.push(send(self.handle.req.clone(), std::mem::take(&mut batch)));
            }
        }
        if !batch.is_empty() {
            in_flight.push(send(self.handle.req.clone(), batch));
        }
        while let Some(done) = in_flight.next().await {
            deleted += counted(done, &ctx)?;
        }
        Ok(deleted)
    }
}

/// The delete of exactly `ct`: its original tuple as the kernel sent it
/// (no re-encoding), its zone, and its id (not a newer entry of the same
/// tuple).
fn delete_request(ct: &Conntrack) -> NfMessage {
    let af = match ct.family() {
        Family::V4 => libc::AF_INET as u8,
        Family::V6 => libc::AF_INET6 as u8,
    };
    let mut e = Emit::new(msg::ty(msg::DELETE), af, 0);
    // from_raw checked that the tuple is there and whole.
    e.extend(ct.attr_whole(cta::TUPLE_ORIG).unwrap_or_default());
    if let Some(z) = ct.zone() {
        e.be16(cta::ZONE, z);
    }
    if let Some(id) = ct.id() {
        e.be32(cta::ID, id);
    }
    e.message()
}

/// Batches of deletes sent and not yet answered.
const IN_FLIGHT: usize = 4;

async fn send(req: Requester<Netfilter>, batch: Vec<(NfMessage, u16)>) -> Result<Vec<Result<()>>> {
    req.ack_batch(batch).await
}

/// How many deletes of a batch went; entries gone meanwhile (expired,
/// deleted by someone else: ENOENT) are not counted, other errors end the
/// run.
fn counted(results: Result<Vec<Result<()>>>, ctx: &Context) -> Result<u64> {
    let mut n = 0;
    for r in results.within(ctx)? {
        match r {
            Ok(()) => n += 1,
            Err(e) if e.errno() == Some(libc::ENOENT) => {}
            Err(e) => return Err(e).within(ctx),
        }
    }
    Ok(n)
}

/// `conntrack -F`: one flush in the kernel, limited to a family, a mark or
/// status bits. See [`ConntrackHandle::flush`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ConntrackFlush {
    handle: ConntrackHandle,
    family: Option<Family>,
    mark: Option<(u32, u32)>,
    status: Option<(u32, u32)>,
}

impl ConntrackFlush {
    /// `-f ipv4|ipv6`: that family only (sent as conntrack-tools sends it,
    /// nfgenmsg version 1; older kernels ignore the family and flush both).
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// `-m MARK/MASK`: entries whose `mark & mask == value & mask`.
    pub fn mark(mut self, value: u32, mask: u32) -> Self {
        self.mark = Some((value & mask, mask));
        self
    }

    /// Entries with every bit of `s` set (6.x).
    pub fn status(mut self, s: super::Status) -> Self {
        self.status = Some((s.0, s.0));
        self
    }

    fn request(&self) -> Emit {
        let (af, version) = match self.family {
            Some(Family::V4) => (libc::AF_INET as u8, 1),
            Some(Family::V6) => (libc::AF_INET6 as u8, 1),
            // Version 0 with AF_UNSPEC: every family, on every kernel.
            None => (0, 0),
        };
        let mut e = Emit::new(msg::ty(msg::DELETE), af, version);
        if let Some((v, m)) = self.mark {
            e.be32(cta::MARK, v).be32(cta::MARK_MASK, m);
        }
        if let Some((v, m)) = self.status.filter(|&(_, m)| m != 0) {
            e.be32(cta::STATUS, v).be32(cta::STATUS_MASK, m);
        }
        e
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("conntrack flush", "");
        self.handle
            .req
            .ack(self.request().message(), 0)
            .await
            .within(&ctx)
    }
}

awaited_by_run! {
    DeleteMatching => u64,
    ConntrackFlush => (),
}

impl ConntrackHandle {
    /// `conntrack -D [filters]`: deletes every entry the filter selects
    /// (what kube-proxy does for a service IP and port) in batches, and
    /// returns how many were deleted. With no filter it deletes them all,
    /// one by one (prefer [`flush`](Self::flush) then).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::conntrack::Proto;
    /// let nl = tokio_netlink::Netlink::new();
    /// let n = nl
    ///     .conntrack()
    ///     .delete_matching()
    ///     .protocol(Proto::Udp)
    ///     .orig_dst("10.96.0.10")
    ///     .dport(53)
    ///     .await?;
    /// println!("{n} flow entries have been deleted");
    /// # Ok(()) }
    /// ```
    pub fn delete_matching(&self) -> DeleteMatching {
        DeleteMatching {
            handle: self.clone(),
            filter: Filter::new(),
        }
    }

    /// Deletes the entry a listing (or an event) returned: exactly that one,
    /// by its original tuple as the kernel sent it, its zone and its id (a
    /// newer entry of the same tuple stays). One that is gone is
    /// `is_not_found()`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// for ct in nl.conntrack().list().mark(0x10, 0xff).await? {
    ///     nl.conntrack().del_conntrack(&ct).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn del_conntrack(&self, ct: &Conntrack) -> Result<()> {
        let ctx = Context::new("conntrack delete", format!("{} {}", ct.proto(), ct.orig()))
            .missing("conntrack entry");
        self.req.ack(delete_request(ct), 0).await.within(&ctx)
    }

    /// `conntrack -F`: flushes the table (or a family, a mark, status
    /// bits) in one request. The kernel flushes no single zone: use
    /// [`delete_matching`](Self::delete_matching)`().zone(z)` for that.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::Family;
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.conntrack().flush().family(Family::V6).mark(0x10, 0xff).await?;
    /// nl.conntrack().flush().await?; // everything
    /// # Ok(()) }
    /// ```
    pub fn flush(&self) -> ConntrackFlush {
        ConntrackFlush {
            handle: self.clone(),
            family: None,
            mark: None,
            status: None,
        }
    }
}
