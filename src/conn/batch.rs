//! Batches: many acked requests handed to the connection as one command and
//! completed through one shared result table, so a large batch costs no
//! channel, allocation or task wake-up per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::task::AtomicWaker;
use tokio::sync::oneshot;

use super::Protocol;
use super::connection::Command;
use super::frame::{F_ACK, F_REQUEST, align};
use super::multiplexer::Outcome;
use super::requester::{Requester, encode_into, outcome_to_result, request_kind};
use crate::error::{Error, Result};

/// Where the connection delivers how one request ended.
#[derive(Debug)]
pub(crate) enum Sink {
    /// A request of its own.
    One(oneshot::Sender<Outcome>),
    /// One request of a batch.
    Batch(BatchSlot),
    /// A request its caller runs inline: it takes the outcome itself, under
    /// the lock it holds from submit to completion or hand-over, so nothing
    /// is ever delivered here.
    Inline,
}

impl Sink {
    pub(crate) fn send(self, outcome: Outcome) {
        match self {
            Sink::One(tx) => {
                let _ = tx.send(outcome);
            }
            Sink::Batch(slot) => slot.send(outcome),
            Sink::Inline => {}
        }
    }
}

/// The result table of one batch, shared by the connection (writing) and
/// the waiting caller (reading once every slot is written).
#[derive(Debug)]
pub(crate) struct BatchShared {
    slots: Box<[OnceLock<Outcome>]>,
    remaining: AtomicUsize,
    waker: AtomicWaker,
}

/// The right to write one slot. Dropped unwritten (the connection died or
/// the command never reached it), it writes `Outcome::Closed`, so the
/// caller never waits for a slot nobody will fill.
#[derive(Debug)]
pub(crate) struct BatchSlot {
    shared: Option<Arc<BatchShared>>,
    index: usize,
}

impl BatchSlot {
    pub(crate) fn send(mut self, outcome: Outcome) {
        self.fill(outcome);
    }

    fn fill(&mut self, outcome: Outcome) {
        if let Some(shared) = self.shared.take() {
            let _ = shared.slots[self.index].set(outcome);
            if shared.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                shared.waker.wake();
            }
        }
    }
}

impl Drop for BatchSlot {
    fn drop(&mut self) {
        self.fill(Outcome::Closed);
    }
}

impl BatchShared {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(BatchShared {
            slots: (0..n).map(|_| OnceLock::new()).collect(),
            remaining: AtomicUsize::new(n),
            waker: AtomicWaker::new(),
        })
    }

    /// The slots of a batch, one per request in order.
    pub(crate) fn sinks(self: &Arc<Self>) -> impl Iterator<Item = BatchSlot> + '_ {
        (0..self.slots.len()).map(|index| BatchSlot {
            shared: Some(self.clone()),
            index,
        })
    }
}

/// Resolves once every slot of a batch is written.
struct Complete(Arc<BatchShared>);

impl Future for Complete {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.remaining.load(Ordering::Acquire) == 0 {
            return Poll::Ready(());
        }
        self.0.waker.register(cx.waker());
        match self.0.remaining.load(Ordering::Acquire) {
            0 => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }
}

/// Cancels the batch's requests still pending if its future is dropped.
struct CancelBatch<'a> {
    tx: &'a tokio::sync::mpsc::UnboundedSender<Command>,
    first_id: u64,
    count: usize,
    armed: bool,
}

impl Drop for CancelBatch<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.tx.send(Command::CancelBatch {
                first_id: self.first_id,
                count: self.count,
            });
        }
    }
}

impl<P: Protocol> Requester<P> {
    /// Sends every message with NLM_F_REQUEST | NLM_F_ACK | its flags, as
    /// few datagrams as the send window allows, and returns one result per
    /// message, in order. A kernel error fails only its own message; the
    /// others are still applied (the kernel handles each message of a
    /// datagram on its own). The outer error is for the whole batch: the
    /// connection closed, or the requester's timeout passed.
    ///
    /// For many independent requests this is the fastest path: one command,
    /// one buffer and one wake-up for the whole batch instead of one per
    /// request.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use netlink_packet_route::RouteNetlinkMessage;
    /// use netlink_packet_route::route::{RouteAttribute, RouteMessage, RouteType};
    ///
    /// let nl = tokio_netlink::Netlink::new();
    /// let msgs = (1..=3u8).map(|i| {
    ///     let mut m = RouteMessage::default();
    ///     m.header.address_family = netlink_packet_route::AddressFamily::Inet;
    ///     m.header.destination_prefix_length = 32;
    ///     m.header.kind = RouteType::BlackHole;
    ///     m.attributes.push(RouteAttribute::Destination(
    ///         netlink_packet_route::route::RouteAddress::Inet([10, 9, 0, i].into()),
    ///     ));
    ///     (RouteNetlinkMessage::NewRoute(m), 0x400 | 0x200) // CREATE | EXCL
    /// });
    /// for r in nl.rtnl().ack_batch(msgs).await? {
    ///     r?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ack_batch<I>(&self, msgs: I) -> Result<Vec<Result<()>>>
    where
        I: IntoIterator<Item = (P::Message, u16)>,
    {
        // One buffer for the whole batch; each request is a slice of it.
        let mut enc = Encoded::default();
        // A request that cannot be encoded fails the batch before any is sent.
        for (msg, flags) in msgs {
            enc.push::<P>(&msg, flags)?;
        }
        self.ack_encoded(enc.into_requests()).await
    }

    /// [`Requester::ack_batch`] of requests already encoded (each a whole
    /// netlink message with its header; the sequence number is set here).
    pub(crate) async fn ack_encoded(&self, requests: Vec<Bytes>) -> Result<Vec<Result<()>>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let kind = |b: &Bytes| request_kind::<P>(u16::from_ne_bytes([b[4], b[5]]));
        let count = requests.len();
        // The kinds, for errors, read before the requests go to the connection.
        let requests0 = requests[0].clone();
        let kinds: Vec<_> = requests.iter().map(kind).collect();
        let shared = BatchShared::new(count);
        let link = self.conn.task()?;
        let first_id = self.conn.next_id.fetch_add(count as u64, Ordering::Relaxed);
        link.tx
            .send(Command::Batch {
                first_id,
                requests,
                shared: shared.clone(),
            })
            .map_err(|_| link.closed())?;
        let mut guard = CancelBatch {
            tx: &link.tx,
            first_id,
            count,
            armed: true,
        };
        let done = Complete(shared.clone());
        match self.timeout {
            None => done.await,
            Some(t) => {
                if super::home::timeout(t, done)
                    .map_err(Error::Io)?
                    .await
                    .is_err()
                {
                    return Err(Error::Timeout(kind(&requests0)));
                }
            }
        }
        guard.armed = false;
        Ok(shared
            .slots
            .iter()
            .zip(&kinds)
            .map(|(slot, &rk)| {
                let outcome = slot.get().cloned().unwrap_or(Outcome::Closed);
                outcome_to_result(&link, outcome, rk).map(|_| ())
            })
            .collect())
    }
}

/// Requests encoded one after another into one buffer, each then a slice
/// of it: what a batch holds before it is sent.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    buf: Vec<u8>,
    /// Where each request starts.
    starts: Vec<u32>,
}

impl Encoded {
    /// Encodes `msg` with NLM_F_REQUEST | NLM_F_ACK | `flags` at the end.
    pub(crate) fn push<P: Protocol>(&mut self, msg: &P::Message, flags: u16) -> Result<()> {
        let at = self.buf.len();
        if at > u32::MAX as usize {
            return Err(Error::InvalidInput {
                field: "batch",
                reason: "more than 4 GiB of requests in one batch".into(),
            });
        }
        encode_into::<P>(msg, flags | F_REQUEST | F_ACK, &mut self.buf)?;
        self.buf.resize(align(self.buf.len()), 0);
        self.starts.push(at as u32);
        Ok(())
    }

    /// The requests frozen into one shared buffer, to be sliced one by one.
    pub(crate) fn into_shared(self) -> SharedRequests {
        SharedRequests {
            buf: Bytes::from(self.buf),
            starts: self.starts,
        }
    }

    /// The requests, in order, as slices of one shared buffer (each as
    /// long as its header says, without the padding after it).
    pub(crate) fn into_requests(self) -> Vec<Bytes> {
        let shared = self.into_shared();
        (0..shared.starts.len())
            .filter_map(|i| shared.get(i))
            .collect()
    }
}

/// [`Encoded`] requests in one shared buffer.
#[derive(Debug)]
pub(crate) struct SharedRequests {
    buf: Bytes,
    starts: Vec<u32>,
}

impl SharedRequests {
    /// The `i`th request (as long as its header says).
    pub(crate) fn get(&self, i: usize) -> Option<Bytes> {
        let at = *self.starts.get(i)? as usize;
        let len = u32::from_ne_bytes(self.buf.get(at..at + 4)?.try_into().ok()?);
        self.buf.get(at..at + len as usize)?;
        Some(self.buf.slice(at..at + len as usize))
    }
}
