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
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
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
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    READERS.load(Ordering::Relaxed) < MAX_READERS && cores >= 2
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
                        this.state = match spawn_reader(dump) {
                            Ok(rx) => State::Ahead(Bytes::new(), Vec::new().into_iter(), rx, f),
                            Err(dump) => State::Running(dump, f),
                        };
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
/// its socket as usual). Gives the dump back when no thread can be started.
///
/// A thread of ours rather than a task: a task woken by its consumer would
/// be queued behind it on the same worker (the LIFO slot) and the two would
/// take turns on one core instead of running at once. Not the runtime's
/// blocking pool either: a reader parked on a consumer that is held outside
/// the runtime would make `Runtime::drop` wait forever. The dump's socket
/// and timer live on the home runtime, so a plain executor drives it.
// The dump comes back by value on the rare failure, as it went in.
#[allow(clippy::result_large_err)]
fn spawn_reader(dump: RawDump) -> Result<mpsc::Receiver<Piece>, RawDump> {
    let (tx, rx) = mpsc::channel(DATAGRAMS_AHEAD);
    let mut job = Job {
        dump,
        tx,
        _reader: Reader::start(),
    };
    loop {
        let worker = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let worker = match worker {
            Some(w) => w,
            None => match start_worker() {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start a read-ahead thread; streaming");
                    return Err(job.dump);
                }
            },
        };
        match worker.send(job) {
            Ok(()) => return Ok(rx),
            // That thread timed out meanwhile: take the job back.
            Err(std::sync::mpsc::SendError(j)) => job = j,
        }
    }
}

/// A dump to read ahead and where its datagrams go.
struct Job {
    dump: RawDump,
    tx: mpsc::Sender<Piece>,
    _reader: Reader,
}

impl Job {
    fn run(self) {
        let Job {
            mut dump,
            tx,
            _reader,
        } = self;
        futures::executor::block_on(async move {
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
    }
}

/// Idle reader threads, each waiting for its next job (at most
/// `MAX_READERS` are busy at once).
static IDLE: Mutex<Vec<std::sync::mpsc::Sender<Job>>> = Mutex::new(Vec::new());

/// How long an idle reader thread waits for another listing before it exits.
const IDLE_THREAD: Duration = Duration::from_secs(10);

fn start_worker() -> std::io::Result<std::sync::mpsc::Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let me = tx.clone();
    std::thread::Builder::new()
        .name("tokio-netlink-read".into())
        .spawn(move || {
            while let Ok(job) = rx.recv_timeout(IDLE_THREAD) {
                job.run();
                IDLE.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(me.clone());
            }
        })?;
    Ok(tx)
}
