//! Many route-family changes sent as one batch: `nl.batch()`.
//!
//! The builders (`route().add()`, `address().add()`, `neighbour().add()`,
//! `rule().add()`, and their replace/append/del forms) are checked and
//! encoded as they are pushed, so a batch holds a few dozen bytes per
//! change; a builder that names a device waits for its lookup until the
//! batch is sent. The batch goes to the kernel through the connection's
//! batch path in chunks: as few datagrams as the send window allows, one
//! wake-up per chunk.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use bytes::Bytes;
use futures::StreamExt;
use netlink_packet_route::RouteNetlinkMessage;

use crate::client::Netlink;
use crate::conn::Requester;
use crate::conn::batch::Encoded;
use crate::error::{Context, Error, Result};
use crate::route::Route;
use crate::route::address::AddressAdd;
use crate::route::neighbour::NeighbourAdd;
use crate::route::route::{RouteAdd, RouteDel};
use crate::route::rule::RuleAdd;

/// A checked request: the message and its netlink flags.
type Request = (RouteNetlinkMessage, u16);
type Prepare = Pin<Box<dyn Future<Output = Result<Request>> + Send>>;

/// Requests handed to the connection at once: enough to keep the kernel
/// busy between two chunks, few enough that the connection's bookkeeping
/// for a chunk stays small whatever the batch's size.
const CHUNK: usize = 4096;

mod sealed {
    pub trait Sealed {}
}

/// A builder that can go into a [`Batch`]: `RouteAdd`, `RouteDel`,
/// `AddressAdd`, `NeighbourAdd`, `RuleAdd`.
pub trait BatchOp: sealed::Sealed + Send + 'static {
    /// What the change is, for its error, and its checked request (device
    /// names are looked up when the request is prepared).
    #[doc(hidden)]
    fn prepare(self) -> (Context, Prepare);
}

macro_rules! batch_op {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl BatchOp for $t {
            fn prepare(self) -> (Context, Prepare) {
                (self.context(), Box::pin(self.into_request()))
            }
        }
    )*};
}

batch_op!(RouteAdd, RouteDel, AddressAdd, NeighbourAdd, RuleAdd);

/// Where a pushed change stands.
enum State {
    /// Looked up and encoded when the batch was sent, into the late buffer.
    Late,
    /// Waiting for a device lookup (prepared when the batch is sent).
    Deferred(Prepare),
    /// Refused before sending.
    Refused(Error),
}

/// The pushed changes' contexts, compactly: each is an index into a table
/// of (operation, missing noun) pairs and where its text starts.
#[derive(Default)]
struct Contexts {
    /// Per change: its pair and the start of its object's text.
    at: Vec<(u8, u32)>,
    /// The distinct (operation, missing noun) pairs.
    ops: Vec<(&'static str, Option<&'static str>)>,
    /// The objects, one after another.
    text: String,
}

impl Contexts {
    fn push(&mut self, ctx: Context) {
        let (operation, missing, object) = ctx.into_parts();
        let op = match self.ops.iter().position(|&o| o == (operation, missing)) {
            Some(i) => i,
            None => {
                self.ops.push((operation, missing));
                self.ops.len() - 1
            }
        };
        let at = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(&object);
        // The builders have a handful of operations between them.
        self.at.push((u8::try_from(op).unwrap_or(u8::MAX), at));
    }

    /// The context of the `i`th change, rebuilt for its error.
    fn get(&self, i: usize) -> Context {
        let (op, at) = self.at[i];
        let end = self.at.get(i + 1).map_or(self.text.len(), |n| n.1 as usize);
        let (operation, missing) = self
            .ops
            .get(op as usize)
            .copied()
            .unwrap_or(("batch", None));
        let object = self.text.get(at as usize..end).unwrap_or("");
        Context::from_parts(operation, missing, object.to_owned())
    }
}

/// Changes to send together; see [`Netlink::batch`].
#[must_use = "nothing is sent until the batch is sent"]
pub struct Batch {
    rtnl: Requester<Route>,
    /// The requests of the changes ready when pushed.
    encoded: Encoded,
    /// The changes not in `encoded` (by index, in order): most batches
    /// have none, so nothing per change is stored for the others.
    unready: Vec<(usize, State)>,
    contexts: Contexts,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("ops", &self.len()).finish()
    }
}

impl Netlink {
    /// A batch of route-family changes, sent together and answered one by
    /// one, in order. For many changes at once this is the fast path: the
    /// kernel gets them in as few datagrams as the send window allows, and
    /// the caller is woken once per few thousand. Each change is checked
    /// and encoded when pushed (a change naming a device by name is
    /// prepared when the batch is sent), so even 100,000 of them take a few
    /// megabytes.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut batch = nl.batch();
    /// for i in 0..=255u8 {
    ///     let dst = std::net::Ipv4Addr::new(203, 0, 113, i);
    ///     batch.push(nl.route().add((dst, 32)).dev("eth0"));
    /// }
    /// batch.push(nl.address().add("eth0", "192.0.2.1/24"));
    /// for result in batch.send().await? {
    ///     result?; // each change's own outcome
    /// }
    /// # Ok(()) }
    /// ```
    pub fn batch(&self) -> Batch {
        Batch {
            rtnl: self.rtnl(),
            encoded: Encoded::default(),
            unready: Vec::new(),
            contexts: Contexts::default(),
        }
    }
}

impl Batch {
    /// Adds a change (a route, address, neighbour or rule builder).
    pub fn push(&mut self, op: impl BatchOp) -> &mut Self {
        let (ctx, mut prepare) = op.prepare();
        // A builder that needs no lookup is ready at once; one that does is
        // kept, started, and finished when the batch is sent.
        let mut cx = TaskContext::from_waker(Waker::noop());
        let state = match prepare.as_mut().poll(&mut cx) {
            Poll::Ready(Ok((msg, flags))) => match self.encoded.push::<Route>(&msg, flags) {
                Ok(()) => None,
                Err(e) => Some(State::Refused(ctx.wrap(e))),
            },
            Poll::Ready(Err(e)) => Some(State::Refused(e)),
            Poll::Pending => Some(State::Deferred(prepare)),
        };
        if let Some(state) = state {
            self.unready.push((self.len(), state));
        }
        self.contexts.push(ctx);
        self
    }

    /// Changes in the batch.
    pub fn len(&self) -> usize {
        self.contexts.at.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.contexts.at.is_empty()
    }

    /// Checks every change, sends those that pass, and returns one result
    /// per change in the order they were pushed: a change refused before
    /// sending (bad input, unknown device) or by the kernel fails alone.
    /// The kernel applies the changes in the order they were pushed. The
    /// outer error is for the batch as a whole (connection closed,
    /// timeout). Each change's error carries its own context, as when the
    /// builder is awaited alone (`route add 10.9.0.0/16: File exists`).
    pub async fn send(self) -> Result<BatchResults> {
        let len = self.len();
        let Batch {
            rtnl,
            encoded,
            mut unready,
            contexts,
        } = self;
        // The deferred changes' lookups, then their requests in a buffer of
        // their own; every request is then a slice of one of the two.
        let mut late = Encoded::default();
        for (i, state) in &mut unready {
            if let State::Deferred(prepare) = state {
                *state = match prepare.await {
                    Ok((msg, flags)) => match late.push::<Route>(&msg, flags) {
                        Ok(()) => State::Late,
                        Err(e) => State::Refused(contexts.get(*i).wrap(e)),
                    },
                    Err(e) => State::Refused(e),
                };
            }
        }
        let (early, late) = (encoded.into_shared(), late.into_shared());
        let (mut next_early, mut next_late) = (0, 0);
        // Only the errors are kept: a change's result is 100 bytes or so.
        let mut results = BatchResults {
            len,
            errors: Vec::new(),
        };
        let mut unready = unready.into_iter().peekable();
        let mut refused = Vec::new();
        let mut i = 0;
        // The next chunk: each change's request, in push order, from
        // whichever buffer holds it; refusals noted as met.
        let chunks = std::iter::from_fn(|| {
            let mut chunk: Vec<Bytes> = Vec::with_capacity(CHUNK.min(len - i));
            let mut at: Vec<usize> = Vec::with_capacity(chunk.capacity());
            while i < len && chunk.len() < CHUNK {
                let request = match unready.next_if(|(k, _)| *k == i).map(|(_, s)| s) {
                    None => {
                        next_early += 1;
                        early.get(next_early - 1)
                    }
                    Some(State::Late) => {
                        next_late += 1;
                        late.get(next_late - 1)
                    }
                    Some(State::Refused(e)) => {
                        refused.push((i, e));
                        None
                    }
                    // Not reached: every deferred change was prepared above.
                    Some(State::Deferred(_)) => {
                        refused.push((
                            i,
                            Error::InvalidInput {
                                field: "batch",
                                reason: "a change had no request".into(),
                            },
                        ));
                        None
                    }
                };
                if let Some(r) = request {
                    chunk.push(r);
                    at.push(i);
                }
                i += 1;
            }
            (!chunk.is_empty()).then_some((chunk, at))
        });
        // Two chunks in flight: the kernel works through one while the
        // connection takes the other's answers.
        let rtnl = &rtnl;
        let mut answered = futures::stream::iter(chunks)
            .map(|(chunk, at)| async move { (rtnl.ack_encoded(chunk).await, at) })
            .buffered(2);
        while let Some((answers, at)) = answered.next().await {
            for (answer, i) in answers?.into_iter().zip(at) {
                if let Err(e) = answer {
                    results.errors.push((i, contexts.get(i).wrap(e)));
                }
            }
        }
        drop(answered);
        results.errors.append(&mut refused);
        results.errors.sort_by_key(|&(i, _)| i);
        Ok(results)
    }
}

/// How each change of a sent [`Batch`] ended, in the order they were
/// pushed: `Ok(())` for most, so only the errors are stored (a batch of
/// 100,000 changes that all succeed holds no per-change memory here).
///
/// ```no_run
/// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
/// let mut batch = nl.batch();
/// batch.push(nl.route().add("10.9.0.0/16").dev("eth0"));
/// let results = batch.send().await?;
/// for (i, e) in results.errors() {
///     eprintln!("change {i}: {e}");
/// }
/// for result in results {
///     result?; // or one by one, in order
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BatchResults {
    len: usize,
    /// (change index, its error), by index.
    errors: Vec<(usize, Error)>,
}

impl BatchResults {
    /// Changes the batch had.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for the results of an empty batch.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when every change succeeded.
    pub fn all_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The `i`th change's result (`None` past the end).
    pub fn get(&self, i: usize) -> Option<std::result::Result<(), &Error>> {
        if i >= self.len {
            return None;
        }
        Some(match self.errors.binary_search_by_key(&i, |&(at, _)| at) {
            Ok(k) => Err(&self.errors[k].1),
            Err(_) => Ok(()),
        })
    }

    /// The failed changes: their index in the batch and their error.
    pub fn errors(&self) -> impl Iterator<Item = (usize, &Error)> {
        self.errors.iter().map(|(i, e)| (*i, e))
    }

    /// Each change's result, in order.
    pub fn iter(&self) -> impl Iterator<Item = std::result::Result<(), &Error>> {
        let mut errors = self.errors.iter().peekable();
        (0..self.len).map(move |i| match errors.next_if(|(at, _)| *at == i) {
            Some((_, e)) => Err(e),
            None => Ok(()),
        })
    }

    /// The first error, if any (for callers that treat the batch as one).
    pub fn first_error(self) -> Result<()> {
        match self.errors.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

impl IntoIterator for BatchResults {
    type Item = Result<()>;
    type IntoIter = BatchResultsIter;

    fn into_iter(self) -> BatchResultsIter {
        BatchResultsIter {
            next: 0,
            len: self.len,
            errors: self.errors.into_iter().peekable(),
        }
    }
}

/// The owned results of a batch, in order; see [`BatchResults`].
#[derive(Debug)]
pub struct BatchResultsIter {
    next: usize,
    len: usize,
    errors: std::iter::Peekable<std::vec::IntoIter<(usize, Error)>>,
}

impl Iterator for BatchResultsIter {
    type Item = Result<()>;

    fn next(&mut self) -> Option<Result<()>> {
        if self.next >= self.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(match self.errors.next_if(|(at, _)| *at == i) {
            Some((_, e)) => Err(e),
            None => Ok(()),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for BatchResultsIter {}
