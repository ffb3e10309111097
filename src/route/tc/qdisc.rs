//! `tc qdisc add|replace|change|del|show`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::handle::{H_INGRESS, IntoHandle, IntoParent};
use super::kinds::QdiscKind;
use super::stats::Stats;
use super::wire::{TCMSG_LEN, TcMsg, Writer, tca, tcmsg_of};
use super::{Handle, Parent, TcHandle, TcMessage, msg, request_kind};
use crate::conn::RawMessage;
use crate::conn::attrs::{Indexed, str_of, u32_of};
use crate::conn::flags;
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::link::LinkId;

/// Qdisc operations; see [`TcHandle::qdisc`].
#[derive(Debug, Clone)]
pub struct QdiscOps {
    pub(crate) tc: TcHandle,
}

impl QdiscOps {
    /// `tc qdisc add dev DEV [parent P] [handle H] KIND …`: fails with
    /// `is_exists()` when the place is taken. Without a parent the qdisc
    /// goes at the root (`ingress` and `clsact` at the ingress hook, with
    /// handle `ffff:`).
    pub fn add(&self, dev: impl Into<LinkId>, kind: impl Into<QdiscKind>) -> QdiscChange {
        QdiscChange::new(self, dev.into(), kind.into(), flags::CREATE | flags::EXCL)
    }

    /// `tc qdisc replace …`: adds, or replaces the qdisc in that place.
    pub fn replace(&self, dev: impl Into<LinkId>, kind: impl Into<QdiscKind>) -> QdiscChange {
        QdiscChange::new(
            self,
            dev.into(),
            kind.into(),
            flags::CREATE | flags::REPLACE,
        )
    }

    /// `tc qdisc change …`: changes the options of an existing qdisc of
    /// the same kind (`is_not_found()` if there is none).
    pub fn change(&self, dev: impl Into<LinkId>, kind: impl Into<QdiscKind>) -> QdiscChange {
        QdiscChange::new(self, dev.into(), kind.into(), 0)
    }

    /// `tc qdisc del dev DEV [parent P] [handle H]` (default: the root
    /// qdisc).
    pub fn del(&self, dev: impl Into<LinkId>) -> QdiscDel {
        QdiscDel {
            tc: self.tc.clone(),
            dev: dev.into(),
            parent: Ok(Parent::Root),
            handle: Ok(Handle::default()),
        }
    }

    /// `tc qdisc show [dev DEV]`: every device's qdiscs, or one's.
    pub fn list(&self) -> QdiscList {
        QdiscList {
            tc: self.tc.clone(),
            dev: None,
            invisible: false,
        }
    }

    /// One qdisc, by its parent (default: the root one) or by its handle,
    /// with a single request.
    pub fn get(&self, dev: impl Into<LinkId>) -> QdiscGet {
        QdiscGet {
            tc: self.tc.clone(),
            dev: dev.into(),
            parent: Ok(Parent::Root),
            handle: Ok(Handle::default()),
        }
    }
}

/// An add, replace or change of a qdisc; set where it goes, then `.await`.
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct QdiscChange {
    tc: TcHandle,
    dev: LinkId,
    kind: QdiscKind,
    flags: u16,
    parent: Result<Option<Parent>>,
    handle: Result<Option<Handle>>,
    ingress_block: Option<u32>,
    egress_block: Option<u32>,
    estimator: Option<(i8, u8)>,
}

impl QdiscChange {
    fn new(ops: &QdiscOps, dev: LinkId, kind: QdiscKind, flags: u16) -> QdiscChange {
        QdiscChange {
            tc: ops.tc.clone(),
            dev,
            kind,
            flags,
            parent: Ok(None),
            handle: Ok(None),
            ingress_block: None,
            egress_block: None,
            estimator: None,
        }
    }

    /// `parent P` (`root`, `ingress`, `clsact`, `1:10`…).
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        self.parent = parent.into_parent("parent").map(Some);
        self
    }

    /// `handle MAJ:` (the minor must be 0).
    pub fn handle(mut self, handle: impl IntoHandle) -> Self {
        self.handle = handle.into_handle("handle").and_then(|h| {
            if h.minor() != 0 {
                return Err(Error::invalid(
                    "handle",
                    format!("{h} has a minor number; a qdisc handle is MAJ: only"),
                ));
            }
            Ok(Some(h))
        });
        self
    }

    /// `ingress_block N`: a shared filter block for ingress (`clsact`,
    /// `ingress`).
    pub fn ingress_block(mut self, block: u32) -> Self {
        self.ingress_block = Some(block);
        self
    }

    /// `egress_block N`: a shared filter block for egress (`clsact`).
    pub fn egress_block(mut self, block: u32) -> Self {
        self.egress_block = Some(block);
        self
    }

    /// `estimator INTERVAL TIME_CONSTANT` as the kernel takes them: the
    /// interval is 2^`interval` quarter seconds (-2 = 250 ms … 3 = 8 s),
    /// the averaging constant 2^`ewma_log` intervals.
    pub fn estimator(mut self, interval: i8, ewma_log: u8) -> Self {
        self.estimator = Some((interval, ewma_log));
        self
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`] or to
    /// compare with what `tc` sends (device names are looked up now).
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(TcMessage, u16)> {
        let ctx = self.context();
        self.request().await.within(&ctx)
    }

    /// `qdisc add dev D [parent P] [handle H] KIND`, for errors.
    fn context(&self) -> Context {
        let op = match self.flags {
            0 => "qdisc change",
            f if f & flags::REPLACE != 0 => "qdisc replace",
            _ => "qdisc add",
        };
        let mut o = format!("dev {}", self.dev);
        match &self.parent {
            Ok(Some(Parent::Root)) | Ok(None) if !self.kind.is_ingress() => o.push_str(" root"),
            Ok(Some(p)) => o.push_str(&format!(" parent {p}")),
            _ => {}
        }
        if let Ok(Some(h)) = &self.handle {
            o.push_str(&format!(" handle {h}"));
        }
        o.push(' ');
        o.push_str(self.kind.name());
        Context::new(op, o)
    }

    async fn request(self) -> Result<(TcMessage, u16)> {
        let flags = self.flags;
        let ifindex = self.tc.ifindex(&self.dev).await?;
        let ingress = self.kind.is_ingress();
        let parent = match self.parent? {
            Some(p) => p,
            None if ingress => Parent::Ingress,
            None => Parent::Root,
        };
        let handle = match self.handle? {
            Some(h) => h,
            None if ingress => Handle::from_raw(H_INGRESS & 0xFFFF_0000),
            None => Handle::default(),
        };
        let mut w = Writer::new(TcMsg {
            ifindex,
            handle: handle.raw(),
            parent: parent.raw_qdisc(),
            info: 0,
        });
        self.kind.encode(&mut w)?;
        if let Some((interval, ewma)) = self.estimator {
            if !(-2..=3).contains(&interval) {
                return Err(Error::invalid(
                    "estimator",
                    format!("interval 2^{interval} quarter seconds is outside -2..=3"),
                ));
            }
            // struct tc_estimator { signed char interval; unsigned char ewma_log; }
            w.attr("estimator", tca::RATE, &[interval as u8, ewma])?;
        }
        if let Some(b) = self.ingress_block {
            w.u32("ingress_block", tca::INGRESS_BLOCK, b)?;
        }
        if let Some(b) = self.egress_block {
            w.u32("egress_block", tca::EGRESS_BLOCK, b)?;
        }
        let m = TcMessage {
            message_type: msg::NEWQDISC,
            payload: w.buf,
        };
        Ok((m, flags))
    }

    async fn run(self) -> Result<()> {
        let tc = self.tc.clone();
        let ctx = self.context();
        let (m, flags) = self.request().await.within(&ctx)?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// A qdisc delete; see [`QdiscOps::del`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct QdiscDel {
    tc: TcHandle,
    dev: LinkId,
    parent: Result<Parent>,
    handle: Result<Handle>,
}

impl QdiscDel {
    /// `parent P`: the qdisc in that place (`root`, `ingress`, `1:10`).
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        self.parent = parent.into_parent("parent");
        self
    }

    /// `handle MAJ:`: the qdisc with that handle (checked by the kernel
    /// against the one at `parent`).
    pub fn handle(mut self, handle: impl IntoHandle) -> Self {
        self.handle = handle.into_handle("handle");
        self
    }

    async fn run(self) -> Result<()> {
        let ctx =
            place_context("qdisc del", &self.dev, &self.parent, &self.handle).missing("qdisc");
        self.send().await.within(&ctx)
    }

    async fn send(self) -> Result<()> {
        let ifindex = self.tc.ifindex(&self.dev).await?;
        let w = Writer::new(TcMsg {
            ifindex,
            handle: self.handle?.raw(),
            parent: self.parent?.raw_qdisc(),
            info: 0,
        });
        let m = TcMessage {
            message_type: msg::DELQDISC,
            payload: w.buf,
        };
        self.tc.req.ack(m, 0).await
    }
}

/// One qdisc by parent or handle; see [`QdiscOps::get`].
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct QdiscGet {
    tc: TcHandle,
    dev: LinkId,
    parent: Result<Parent>,
    handle: Result<Handle>,
}

impl QdiscGet {
    /// The qdisc at `parent`.
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        self.parent = parent.into_parent("parent");
        self
    }

    /// The qdisc with `handle` (anywhere on the device).
    pub fn handle(mut self, handle: impl IntoHandle) -> Self {
        self.handle = handle.into_handle("handle");
        self.parent = Ok(Parent::Handle(Handle::default()));
        self
    }

    async fn run(self) -> Result<Qdisc> {
        let ctx =
            place_context("qdisc get", &self.dev, &self.parent, &self.handle).missing("qdisc");
        self.send().await.within(&ctx)
    }

    async fn send(self) -> Result<Qdisc> {
        let ifindex = self.tc.ifindex(&self.dev).await?;
        let w = Writer::new(TcMsg {
            ifindex,
            handle: self.handle?.raw(),
            parent: self.parent?.raw_qdisc(),
            info: 0,
        });
        let m = TcMessage {
            message_type: msg::GETQDISC,
            payload: w.buf,
        };
        // Kernel 6.18 answers a TC get only with flags::ECHO (its reply goes
        // through the conditional notifier); with flags::ACK the request
        // ends at the ack either way.
        Qdisc::from_raw(self.tc.req.get_raw(m, flags::ECHO | flags::ACK).await?)
    }
}

/// `OP dev D [parent P] [handle H]`, for errors.
fn place_context(
    op: &'static str,
    dev: &LinkId,
    parent: &Result<Parent>,
    handle: &Result<Handle>,
) -> Context {
    let mut o = format!("dev {dev}");
    match parent {
        Ok(Parent::Handle(h)) if h.is_unspec() => {}
        Ok(Parent::Root) => o.push_str(" root"),
        Ok(p) => o.push_str(&format!(" parent {p}")),
        Err(_) => {}
    }
    if let Ok(h) = handle
        && !h.is_unspec()
    {
        o.push_str(&format!(" handle {h}"));
    }
    Context::new(op, o)
}

/// A qdisc listing; see [`QdiscOps::list`]. `.await` for a `Vec`, or
/// [`stream`](Self::stream).
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct QdiscList {
    tc: TcHandle,
    dev: Option<LinkId>,
    invisible: bool,
}

impl QdiscList {
    /// `dev DEV`: one device's qdiscs.
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `invisible`: also the default qdiscs the kernel hides (the
    /// per-queue children of `mq`, …).
    pub fn invisible(mut self) -> Self {
        self.invisible = true;
        self
    }

    /// The qdiscs as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Qdisc>> + Send + 'static {
        let ctx = Context::new(
            "qdisc show",
            self.dev
                .as_ref()
                .map_or(String::new(), |d| format!("dev {d}")),
        );
        futures::stream::once(async move {
            let ifindex = match &self.dev {
                Some(d) => Some(self.tc.ifindex(d).await.within(&ctx)?),
                None => None,
            };
            let mut w = Writer::new(TcMsg {
                ifindex: ifindex.unwrap_or(0),
                ..TcMsg::default()
            });
            if self.invisible {
                w.attr("invisible", tca::DUMP_INVISIBLE, &[])?;
            }
            let m = TcMessage {
                message_type: msg::GETQDISC,
                payload: w.buf,
            };
            // The kernel dumps every device's qdiscs; one device's are
            // picked here, as `tc` does.
            let dump = self.tc.req.dump_raw(m, 0).filter_map(move |r| {
                std::future::ready(match r.and_then(Qdisc::from_raw) {
                    Ok(q) if ifindex.is_some_and(|i| i != q.ifindex()) => None,
                    other => Some(other),
                })
            });
            Ok::<_, Error>(dump)
        })
        .try_flatten()
    }
}

impl IntoFuture for QdiscList {
    type Output = Result<Vec<Qdisc>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Qdisc>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(request_kind(msg::GETQDISC), move || {
            self.clone().stream().try_collect()
        }))
    }
}

/// A qdisc as the kernel reports it: a lazy view over the message.
#[derive(Clone)]
pub struct Qdisc {
    m: Indexed<16>,
    h: TcMsg,
}

impl std::fmt::Debug for Qdisc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qdisc")
            .field("ifindex", &self.ifindex())
            .field("handle", &self.handle())
            .field("parent", &self.parent())
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl Qdisc {
    /// Types an RTM_NEWQDISC/RTM_DELQDISC message.
    pub fn from_raw(raw: RawMessage) -> Result<Qdisc> {
        let m = Indexed::new(raw, msg::NEWQDISC, TCMSG_LEN, request_kind(msg::GETQDISC))?;
        let h = tcmsg_of(&m.raw.bytes).unwrap_or_default();
        Ok(Qdisc { m, h })
    }

    /// The message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The device's index.
    pub fn ifindex(&self) -> u32 {
        self.h.ifindex
    }

    /// `handle` (`1:`; `0:` for the default qdiscs).
    pub fn handle(&self) -> Handle {
        Handle::from_raw(self.h.handle)
    }

    /// `parent` (root, ingress, or a class).
    pub fn parent(&self) -> Parent {
        Parent::of_qdisc(self.h.parent)
    }

    /// `refcnt`.
    pub fn refcnt(&self) -> u32 {
        self.h.info
    }

    /// The kind's name (`TCA_KIND`), empty if absent.
    pub fn kind(&self) -> &str {
        self.m.attr(tca::KIND).and_then(str_of).unwrap_or("")
    }

    /// The kind with its options, typed ([`QdiscKind::Other`] for kinds
    /// this crate does not type).
    pub fn options(&self) -> QdiscKind {
        QdiscKind::decode(self.kind(), self.m.attr(tca::OPTIONS))
    }

    /// `tc -s` counters (all zero if the kernel sent none).
    pub fn stats(&self) -> Stats {
        Stats::decode(self.m.attr(tca::STATS2), self.m.attr(tca::STATS)).unwrap_or_default()
    }

    /// HTB's global statistic: packets sent directly (unclassified,
    /// with no default class).
    pub fn htb_direct_packets(&self) -> Option<u32> {
        if self.kind() != "htb" {
            return None;
        }
        let init = crate::conn::attrs::nested_get(self.m.attr(tca::OPTIONS)?, 2)?;
        super::wire::Rd(init).u32(16).into()
    }

    /// The ingress shared block (`ingress_block`).
    pub fn ingress_block(&self) -> Option<u32> {
        self.m.attr(tca::INGRESS_BLOCK).and_then(u32_of)
    }

    /// The egress shared block (`egress_block`).
    pub fn egress_block(&self) -> Option<u32> {
        self.m.attr(tca::EGRESS_BLOCK).and_then(u32_of)
    }

    /// Offloaded to hardware (`TCA_HW_OFFLOAD`).
    pub fn offloaded(&self) -> bool {
        self.m
            .attr(tca::HW_OFFLOAD)
            .is_some_and(|v| v.first() == Some(&1))
    }

    /// The kind's own statistics (TCA_XSTATS), undecoded.
    pub fn xstats_raw(&self) -> Option<&[u8]> {
        self.m.attr(tca::XSTATS)
    }
}

super::awaited_by_run!(QdiscChange => (), QdiscDel => (), QdiscGet => Qdisc);
