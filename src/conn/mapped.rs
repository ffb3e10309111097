//! A dump turned into values as it streams: one adapter instead of a stack
//! of `once` / `try_flatten` / `filter_map`, because per item each layer
//! cost a poll and a move of the value, which a 100,000-route dump showed.
//!
//! On a multi-thread runtime the dump is read ahead: a thread of the
//! runtime's blocking pool receives it and makes the values, handing them over in chunks through a
//! bounded channel, so the kernel producing the dump (inside our recvmsg)
//! and the consumer run on two cores at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc;

use super::RawMessage;
use super::requester::RawDump;
use crate::error::Result;

/// What starts the dump: the request may need lookups first (a device name
/// to an index), then gives the dump and the per-message mapping.
type Start<F> = Pin<Box<dyn Future<Output = Result<(RawDump, F)>> + Send>>;

// `Running` is the steady state: boxing it would add an indirection per item.
#[allow(clippy::large_enum_variant)]
enum State<T, F> {
    Starting(Start<F>),
    Running(RawDump, F),
    /// Read ahead by a task: the chunk being consumed, and the next ones.
    Ahead(
        std::vec::IntoIter<Result<T>>,
        mpsc::Receiver<Vec<Result<T>>>,
    ),
    Done,
}

/// Values per chunk handed from a read-ahead task to its consumer.
pub(crate) const CHUNK: usize = 256;
/// Chunks a read-ahead task may have ready before it waits.
pub(crate) const CHUNKS_AHEAD: usize = 2;

/// True when reading ahead can use a second core.
fn read_ahead_pays() -> bool {
    Handle::try_current().is_ok_and(|h| {
        h.runtime_flavor() == RuntimeFlavor::MultiThread && h.metrics().num_workers() >= 2
    })
}

/// A stream of values made from the messages of a dump by `F`, which
/// returns `None` for a message to skip (a client-side filter) and an error
/// for a message it cannot read (an error item; the stream goes on).
pub(crate) struct MappedDump<T, F> {
    state: State<T, F>,
}

// Nothing in it is pinned structurally: the start future is boxed, the dump
// is Unpin, and values only pass through (in a Vec).
impl<T, F> Unpin for MappedDump<T, F> {}

impl<T, F> MappedDump<T, F> {
    /// A stream that first awaits `start`. An error from it is the stream's
    /// only item.
    pub(crate) fn new(start: impl Future<Output = Result<(RawDump, F)>> + Send + 'static) -> Self {
        MappedDump {
            state: State::Starting(Box::pin(start)),
        }
    }
}

impl<T, F> Stream for MappedDump<T, F>
where
    T: Send + 'static,
    F: FnMut(RawMessage) -> Option<Result<T>> + Send + Unpin + 'static,
{
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Starting(start) => match ready!(start.as_mut().poll(cx)) {
                    Ok((dump, f)) if dump.read_ahead() && read_ahead_pays() => {
                        this.state = State::Ahead(Vec::new().into_iter(), spawn_reader(dump, f));
                    }
                    Ok((dump, f)) => this.state = State::Running(dump, f),
                    Err(e) => {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                State::Running(dump, f) => match ready!(dump.poll_next_unpin(cx)) {
                    Some(Ok(raw)) => {
                        if let Some(item) = f(raw) {
                            return Poll::Ready(Some(item));
                        }
                    }
                    Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                    None => {
                        this.state = State::Done;
                        return Poll::Ready(None);
                    }
                },
                State::Ahead(chunk, rx) => {
                    if let Some(item) = chunk.next() {
                        return Poll::Ready(Some(item));
                    }
                    match ready!(rx.poll_recv(cx)) {
                        Some(next) => *chunk = next.into_iter(),
                        None => {
                            this.state = State::Done;
                            return Poll::Ready(None);
                        }
                    }
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

/// Starts the task that reads `dump` ahead. It stops when the dump ends or
/// the consumer goes away (dropping the dump, which closes or recycles its
/// socket as usual).
fn spawn_reader<T, F>(dump: RawDump, f: F) -> mpsc::Receiver<Vec<Result<T>>>
where
    T: Send + 'static,
    F: FnMut(RawMessage) -> Option<Result<T>> + Send + Unpin + 'static,
{
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    let mut items = MappedDump {
        state: State::Running(dump, f),
    }
    // Everything already received, up to a chunk, without waiting.
    .ready_chunks(CHUNK);
    // A thread of the blocking pool rather than a task: a task woken by its
    // consumer would be queued behind it on the same worker (the LIFO slot)
    // and the two would take turns on one core instead of running at once.
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = tx.closed() => return,
                    chunk = items.next() => match chunk {
                        Some(chunk) => {
                            if tx.send(chunk).await.is_err() {
                                return;
                            }
                        }
                        None => return,
                    },
                }
            }
        })
    });
    rx
}
