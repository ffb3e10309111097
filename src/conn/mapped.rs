//! A dump turned into values as it streams: one adapter instead of a stack
//! of `once` / `try_flatten` / `filter_map`, because per item each layer
//! cost a poll and a move of the value, which a 100,000-route dump showed.
//!
//! On a multi-thread runtime the dump is read ahead: a thread of the
//! runtime's blocking pool receives it (the kernel produces each next chunk
//! inside that recvmsg) and hands each datagram over, framed, through a
//! bounded channel, while the consumer makes and reads the values on
//! another core.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc;

use super::RawMessage;
use super::frame::Header;
use super::stream::{DatagramItems, RawDump};
use crate::error::Result;

/// What starts the dump: the request may need lookups first (a device name
/// to an index), then gives the dump and the per-message mapping.
type Start<F> = Pin<Box<dyn Future<Output = Result<(RawDump, F)>> + Send>>;

/// A datagram from a read-ahead thread, with the byte ranges of its items;
/// or the error that ended the dump.
type Piece = Result<DatagramItems>;

// `Running` is the steady state: boxing it would add an indirection per item.
#[allow(clippy::large_enum_variant)]
enum State<F> {
    Starting(Start<F>),
    Running(RawDump, F),
    /// Read ahead: the datagram being consumed and its item ranges, the
    /// next ones, the mapping.
    Ahead(
        Bytes,
        std::vec::IntoIter<Range<usize>>,
        mpsc::Receiver<Piece>,
        F,
    ),
    Done,
}

/// Datagrams a read-ahead thread may have received before it waits for its
/// consumer (a dump datagram is at most 32 KiB).
pub(crate) const DATAGRAMS_AHEAD: usize = 4;

/// Read-ahead threads running in the process, and their bound: listings
/// beyond it run as plain streams, so many concurrent listings do not each
/// take a thread of the blocking pool.
static READERS: AtomicUsize = AtomicUsize::new(0);
const MAX_READERS: usize = 4;

/// True when reading ahead can use a second core.
fn read_ahead_pays() -> bool {
    READERS.load(Ordering::Relaxed) < MAX_READERS
        && Handle::try_current().is_ok_and(|h| {
            h.runtime_flavor() == RuntimeFlavor::MultiThread && h.metrics().num_workers() >= 2
        })
}

/// Counts a running reader; uncounted when its thread is done.
struct Reader;

impl Reader {
    fn start() -> Reader {
        READERS.fetch_add(1, Ordering::Relaxed);
        Reader
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        READERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream of values made from the messages of a dump by `F`, which
/// returns `None` for a message to skip (a client-side filter) and an error
/// for a message it cannot read (an error item; the stream goes on).
pub(crate) struct MappedDump<F> {
    state: State<F>,
}

impl<F> MappedDump<F> {
    /// A stream that first awaits `start`. An error from it is the stream's
    /// only item.
    pub(crate) fn new(start: impl Future<Output = Result<(RawDump, F)>> + Send + 'static) -> Self {
        MappedDump {
            state: State::Starting(Box::pin(start)),
        }
    }
}

impl<T, F> Stream for MappedDump<F>
where
    F: FnMut(RawMessage) -> Option<Result<T>> + Unpin,
{
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Starting(start) => match ready!(start.as_mut().poll(cx)) {
                    Ok((dump, f)) if dump.read_ahead() && read_ahead_pays() => {
                        let rx = spawn_reader(dump);
                        this.state = State::Ahead(Bytes::new(), Vec::new().into_iter(), rx, f);
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
                State::Ahead(datagram, items, rx, f) => match items.next() {
                    Some(range) => {
                        let bytes = datagram.slice(range);
                        let header = Header::parse(&bytes).expect("framed message has a header");
                        if let Some(item) = f(RawMessage { header, bytes }) {
                            return Poll::Ready(Some(item));
                        }
                    }
                    None => match ready!(rx.poll_recv(cx)) {
                        Some(Ok((d, ranges))) => {
                            *datagram = d;
                            *items = ranges.into_iter();
                        }
                        Some(Err(e)) => {
                            this.state = State::Done;
                            return Poll::Ready(Some(Err(e)));
                        }
                        None => {
                            this.state = State::Done;
                            return Poll::Ready(None);
                        }
                    },
                },
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

/// Starts the thread that reads `dump` ahead. It stops when the dump ends
/// or the consumer goes away (dropping the dump, which closes or recycles
/// its socket as usual).
fn spawn_reader(mut dump: RawDump) -> mpsc::Receiver<Piece> {
    let (tx, rx) = mpsc::channel(DATAGRAMS_AHEAD);
    // A thread of the blocking pool rather than a task: a task woken by its
    // consumer would be queued behind it on the same worker (the LIFO slot)
    // and the two would take turns on one core instead of running at once.
    let handle = Handle::current();
    let reader = Reader::start();
    tokio::task::spawn_blocking(move || {
        let _reader = reader;
        handle.block_on(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = tx.closed() => return,
                    piece = std::future::poll_fn(|cx| dump.poll_datagram(cx)) => match piece {
                        Some(piece) => {
                            let last = piece.is_err();
                            if tx.send(piece).await.is_err() || last {
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
