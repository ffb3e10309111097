//! The connection task: moves bytes between the request socket and the
//! multiplexer. Every decision is the multiplexer's.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

/// First and longest wait before looking again for a reply not yet queued.
const RETRY_MIN: Duration = Duration::from_micros(500);
const RETRY_MAX: Duration = Duration::from_millis(50);
/// Send buffer kept by an idle connection: one request's worth.
const IDLE_KEEP: usize = 4096;

use super::ConnStats;
use super::batch::{BatchShared, Sink};
use super::multiplexer::{self, Completed, Kind, Multiplexer, Outcome};
use super::socket::{NlSocket, Received};

/// What a requester asks of the task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send a request and report how it ended.
    Submit {
        id: u64,
        bytes: Vec<u8>,
        kind: Kind,
        ty: u16,
        sink: Sink,
    },
    /// Send a batch of acked requests; request `i` has id `first_id + i`
    /// and reports through slot `i` of `shared`.
    Batch {
        first_id: u64,
        requests: Vec<Bytes>,
        shared: Arc<BatchShared>,
    },
    /// The caller dropped request `id`.
    Cancel(u64),
    /// The caller dropped the batch whose ids are `first_id..first_id + count`.
    CancelBatch { first_id: u64, count: usize },
    /// An inline caller left work on the socket: a reply not there yet, a
    /// datagram the socket would not take, a socket to read empty after an
    /// overrun, or a socket error to stop with.
    Kick,
}

/// State shared between the task and the requesters.
#[derive(Debug, Default)]
pub(crate) struct TaskShared {
    pub stats: Mutex<ConnStats>,
    /// Why the task stopped, for requests made afterwards.
    pub closed: OnceLock<String>,
    /// The errno of a failed socket open, so that requests racing the
    /// failure get the same typed error as those queued before it.
    pub open_errno: OnceLock<i32>,
    /// The socket and the multiplexer, once the socket is open: the task
    /// and inline callers take turns with them.
    pub core: OnceLock<Arc<Mutex<Core>>>,
}

/// The request socket and its multiplexer: whoever holds the lock (the
/// task, or a caller running its request inline) sends and receives.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) mux: Multiplexer<Sink>,
    sock: NlSocket,
    /// The datagram being sent; grows as needed, let go when idle.
    out: Vec<u8>,
    /// Datagrams from the last small-slot receive.
    small: Vec<Received>,
    /// Reading the socket empty after an overrun.
    draining: bool,
    /// Cleared when the task stops: nobody may use the socket after.
    open: bool,
    /// A socket error an inline caller met, for the task to stop with.
    failed: Option<io::Error>,
    /// Requests completed inline, for the stats.
    inline_done: u64,
}

/// How an inline attempt ended.
#[derive(Debug)]
pub(crate) enum Inline {
    /// The request completed in the caller's own system calls.
    Done(Outcome),
    /// The request is sent (or queued) but its answer is not there yet:
    /// the task, kicked, now owns it and delivers through the sink given.
    HandedOver,
    /// The socket is busy (another request in flight, or the task working
    /// on it): nothing was done, the request goes through the task.
    Busy(Vec<u8>),
}

impl Core {
    /// Runs one request on the caller's thread when nothing else uses the
    /// socket: submit, send, and read until its answer is in, all within
    /// this call, so no await point lies between send and receive and a
    /// dropped caller cannot abandon a request half way. When the answer
    /// is not there yet, the request gets `hand_over()`'s sink and the task
    /// takes it from there (cancellation then works as for any request).
    pub(crate) fn try_inline(
        core: &Mutex<Core>,
        shared: &TaskShared,
        id: u64,
        bytes: Vec<u8>,
        kind: Kind,
        tx: &mpsc::UnboundedSender<Command>,
        hand_over: impl FnOnce() -> Sink,
    ) -> Inline {
        let Ok(mut guard) = core.try_lock() else {
            return Inline::Busy(bytes);
        };
        let c = &mut *guard;
        if !c.open || c.failed.is_some() || c.draining || !c.mux.can_run_inline() {
            return Inline::Busy(bytes);
        }
        let seq = c.mux.submit(id, bytes, kind, Sink::Inline);
        let mut pending = false;
        if c.flush(|sock, out| match sock.try_send(out) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
            r => Poll::Ready(r),
        }) {
            // The socket would not take it now: the task waits for room.
            pending = true;
        }
        while !pending && (!c.mux.is_idle() || c.draining) {
            match c.receive_some() {
                Ok(true) => {}
                Ok(false) if c.draining => c.draining = false,
                // Not answered yet (a family that answers later, or a
                // request the kernel never answers): the task looks again.
                Ok(false) => pending = true,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => c.overrun(),
                Err(e) => {
                    c.fail(e, shared);
                    pending = true;
                }
            }
        }
        let mine = c.mux.take_completed(seq);
        let outcome = match mine {
            Some(done) => {
                log_done(&done);
                c.inline_done += 1;
                Some(done.outcome)
            }
            None => {
                // Still in flight: from now on the task delivers it.
                let _ = c.mux.hand_over(id, hand_over());
                None
            }
        };
        c.idle_cleanup();
        c.publish(shared);
        // Nothing else was pending when this started; whatever completed
        // besides (nothing, unless the socket failed) is delivered here.
        let others: Vec<_> = c.mux.completed().collect();
        let task_needed = pending || c.draining || c.failed.is_some() || !c.out.is_empty();
        drop(guard);
        for done in others {
            done.sink.send(done.outcome);
        }
        if task_needed {
            // The one thread crossing of a request that could not finish
            // here (or of a socket that failed, for the task to stop).
            let _ = tx.send(Command::Kick);
        }
        match outcome {
            Some(o) => Inline::Done(o),
            None => Inline::HandedOver,
        }
    }

    /// A socket error: every request fails, and the task stops with it.
    fn fail(&mut self, e: io::Error, shared: &TaskShared) {
        tracing::debug!(error = %e, "netlink request socket failed inline");
        let _ = shared.closed.set(format!("socket error: {e}"));
        self.mux.close();
        self.failed = Some(e);
    }

    /// The socket overran: replies were lost.
    fn overrun(&mut self) {
        tracing::warn!("netlink request socket overran (ENOBUFS); failing requests in flight");
        self.mux.overrun();
        self.draining = true;
    }

    /// Sends what the multiplexer has queued, one datagram at a time
    /// through `send`; returns true when `send` could not take one now
    /// (it stays in `out` for the next try).
    fn flush(&mut self, mut send: impl FnMut(&NlSocket, &[u8]) -> Poll<io::Result<()>>) -> bool {
        loop {
            if self.out.is_empty() && self.mux.wants_to_send() {
                self.mux.transmit(&mut self.out);
            }
            if self.out.is_empty() {
                return false;
            }
            match send(&self.sock, &self.out) {
                Poll::Ready(Ok(())) => self.out.clear(),
                Poll::Ready(Err(e)) => {
                    tracing::debug!(error = %e, "netlink sendmsg failed");
                    let errno = e.raw_os_error().unwrap_or(libc::EIO);
                    self.mux.send_failed(&self.out, Outcome::SendFailed(errno));
                    self.out.clear();
                }
                Poll::Pending => return true,
            }
        }
    }

    /// Feeds what is queued on the socket to the multiplexer; `Ok(false)`
    /// when nothing was. While several replies in flight are all capped
    /// acks (small by construction), a burst of them takes one `recvmmsg`;
    /// anything else, a single ack included, is read a datagram at a time.
    /// A request for an ack may still be answered with a longer message
    /// before it (NLM_F_ECHO, an ack asked of a get): such a datagram
    /// arrives cut, and the multiplexer judges it by its header.
    fn receive_some(&mut self) -> io::Result<bool> {
        if self.mux.receive_acks_in_batches() && self.sock.acks_are_small() && !self.draining {
            self.sock.try_recv_small(&mut self.small)?;
            let got = !self.small.is_empty();
            for d in self.small.drain(..) {
                feed(&mut self.mux, &d);
            }
            return Ok(got);
        }
        match self.sock.try_recv_datagram() {
            Ok(d) => {
                feed(&mut self.mux, &d);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// With nothing due, the socket's receive space goes back until the
    /// next request (what the callers hold stays theirs), and so do
    /// buffers grown by a burst.
    fn idle_cleanup(&mut self) {
        if self.mux.in_flight() == 0 {
            self.sock.release_buffers();
            if self.out.is_empty() && self.out.capacity() > IDLE_KEEP {
                self.out = Vec::new();
            }
        }
    }

    /// Copies the multiplexer's counters to what `stats()` reads.
    fn publish(&mut self, shared: &TaskShared) {
        let s = self.mux.stats();
        let mut st = shared.stats.lock().expect("stats lock");
        st.pending = self.mux.pending();
        st.foreign_dropped = s.foreign_dropped;
        st.late_dropped = s.late_dropped;
        st.unroutable = s.unroutable;
        st.overruns = s.overruns;
        st.datagrams_sent = s.datagrams_sent;
        st.requests_sent = s.requests_sent;
        st.requests_inline = self.inline_done;
    }
}

/// Opens the socket, then runs the connection until every handle is gone or
/// the socket fails. Whatever ends it, every pending request resolves.
pub(crate) async fn run(
    open: impl Future<Output = io::Result<netlink_sys::Socket>>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    shared: Arc<TaskShared>,
    window: Option<usize>,
    max_datagram: usize,
) {
    let sock = match open.await.and_then(NlSocket::new_request) {
        Ok(s) => s,
        Err(e) => {
            let reason = format!("cannot open the netlink socket: {e}");
            let _ = shared.open_errno.set(e.raw_os_error().unwrap_or(libc::EIO));
            let _ = shared.closed.set(reason.clone());
            rx.close();
            // Requests already queued learn why; their sinks drop with `rx`.
            while let Ok(cmd) = rx.try_recv() {
                let failed = || Outcome::SendFailed(e.raw_os_error().unwrap_or(libc::EIO));
                match cmd {
                    Command::Submit { sink, .. } => sink.send(failed()),
                    Command::Batch { shared, .. } => shared.sinks().for_each(|s| s.send(failed())),
                    Command::Cancel(_) | Command::CancelBatch { .. } | Command::Kick => {}
                }
            }
            return;
        }
    };
    // The kernel accounts replies against the doubled SO_RCVBUF; keep half
    // of it as the window so replies can never overflow it.
    let window = window.unwrap_or(sock.rcvbuf() / 2).max(1);
    shared.stats.lock().expect("stats lock").port = sock.port();
    let core = Arc::new(Mutex::new(Core {
        mux: Multiplexer::new(multiplexer::Config {
            window,
            max_datagram,
        }),
        sock,
        out: Vec::new(),
        small: Vec::new(),
        draining: false,
        open: true,
        failed: None,
        inline_done: 0,
    }));
    let _ = shared.core.set(core.clone());
    let conn = Connection {
        core: core.clone(),
        rx,
        handles_gone: false,
        retry: None,
        retry_delay: RETRY_MIN,
        shared: shared.clone(),
        done: Vec::new(),
    };
    let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(conn)).await;
    // Whatever ended the task, nobody may use the socket after it; a panic
    // may have poisoned the lock, and what it guards is shut either way.
    let mut c = core.lock().unwrap_or_else(|e| e.into_inner());
    c.open = false;
    c.mux.close();
    let rest: Vec<_> = c.mux.completed().collect();
    drop(c);
    for done in rest {
        done.sink.send(done.outcome);
    }
    let reason = match result {
        Ok(Ok(())) => "all handles dropped".to_string(),
        Ok(Err(e)) => format!("socket error: {e}"),
        Err(_) => "the connection task panicked".to_string(),
    };
    tracing::debug!(%reason, "netlink connection task ended");
    let _ = shared.closed.set(reason);
}

struct Connection {
    core: Arc<Mutex<Core>>,
    rx: mpsc::UnboundedReceiver<Command>,
    handles_gone: bool,
    /// When to look again for replies that were not queued yet.
    retry: Option<Pin<Box<tokio::time::Sleep>>>,
    retry_delay: Duration,
    shared: Arc<TaskShared>,
    /// Completions collected under the lock, delivered after it.
    done: Vec<Completed<Sink>>,
}

fn log_done(c: &Completed<Sink>) {
    tracing::debug!(
        seq = c.seq,
        ty = c.ty,
        outcome = ?OutcomeName(&c.outcome),
        "netlink request done"
    );
}

impl Connection {
    /// Delivers what completed, outside the lock.
    fn deliver(&mut self) {
        for c in self.done.drain(..) {
            log_done(&c);
            c.sink.send(c.outcome);
        }
    }

    /// One round of work; `Ok(true)` if anything moved.
    fn poll_round(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let core = self.core.clone();
        let mut guard = core
            .lock()
            .map_err(|_| io::Error::other("the request socket's lock was poisoned"))?;
        let c = &mut *guard;
        if let Some(e) = c.failed.take() {
            return Err(e);
        }
        let mut progress = false;
        // Take every command queued right now, so that requests made at the
        // same moment leave in one datagram.
        while !self.handles_gone {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Command::Submit {
                    id,
                    bytes,
                    kind,
                    ty,
                    sink,
                })) => {
                    let seq = c.mux.submit(id, bytes, kind, sink);
                    tracing::trace!(seq, ty, ?kind, "netlink request queued");
                    progress = true;
                }
                Poll::Ready(Some(Command::Batch {
                    first_id,
                    requests,
                    shared,
                })) => {
                    tracing::trace!(first_id, n = requests.len(), "netlink batch queued");
                    for ((i, bytes), sink) in requests.into_iter().enumerate().zip(shared.sinks()) {
                        c.mux
                            .submit(first_id + i as u64, bytes, Kind::Ack, Sink::Batch(sink));
                    }
                    progress = true;
                }
                Poll::Ready(Some(Command::Cancel(id))) => {
                    if c.mux.cancel(id).is_some() {
                        tracing::debug!(id, "netlink request cancelled");
                    }
                }
                Poll::Ready(Some(Command::CancelBatch { first_id, count })) => {
                    let n = (first_id..first_id + count as u64)
                        .filter(|&id| c.mux.cancel(id).is_some())
                        .count();
                    tracing::debug!(first_id, n, "netlink batch cancelled");
                }
                // The work it announces is in the core, seen below.
                Poll::Ready(Some(Command::Kick)) => progress = true,
                Poll::Ready(None) => self.handles_gone = true,
                Poll::Pending => break,
            }
        }
        let before = c.mux.stats().datagrams_sent;
        c.flush(|sock, out| sock.poll_send(cx, out));
        progress |= c.mux.stats().datagrams_sent != before;
        // Read while replies are due. The kernel queues the replies to a
        // request before sendmsg returns, so they are read right away, with
        // no readiness event (the socket is registered for writing only).
        // A reply that is not there yet (a family that answers later, or a
        // request the kernel never answers) is looked for again after a
        // short, growing delay. With nothing in flight there is nothing to
        // read: whatever arrives unasked is read with the next reply. After
        // an overrun the queue must be read empty regardless: until it is,
        // the kernel drops every new reply to this socket
        // (NETLINK_S_CONGESTED).
        while c.mux.in_flight() > 0 || c.draining {
            match c.receive_some() {
                Ok(true) => {
                    self.retry = None;
                    self.retry_delay = RETRY_MIN;
                    progress = true;
                }
                Ok(false) => {
                    c.draining = false;
                    if c.mux.in_flight() == 0 {
                        break;
                    }
                    let delay = self.retry_delay;
                    let sleep = self
                        .retry
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
                    if sleep.as_mut().poll(cx).is_pending() {
                        break;
                    }
                    self.retry = None;
                    self.retry_delay = (self.retry_delay * 2).min(RETRY_MAX);
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    c.overrun();
                    progress = true;
                }
                Err(e) => return Err(e),
            }
        }
        c.idle_cleanup();
        c.publish(&self.shared);
        self.done.extend(c.mux.completed());
        drop(guard);
        self.deliver();
        Ok(progress)
    }
}

impl Future for Connection {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match this.poll_round(cx) {
                // What is pending is failed (and delivered) by `run`.
                Err(e) => return Poll::Ready(Err(e)),
                // Once every handle is gone, every request future is gone too
                // (each holds a handle): what remains is cancelled.
                Ok(_) if this.handles_gone => return Poll::Ready(Ok(())),
                Ok(true) => continue,
                Ok(false) => return Poll::Pending,
            }
        }
    }
}

/// Hands a datagram to the multiplexer, saying whether it was cut.
fn feed(mux: &mut Multiplexer<Sink>, d: &Received) {
    if d.cut {
        mux.receive_cut(&d.bytes, d.sender);
    } else {
        mux.receive(&d.bytes, d.sender);
    }
}

/// Short outcome names for tracing, without the reply bytes.
struct OutcomeName<'a>(&'a Outcome);

impl std::fmt::Debug for OutcomeName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Outcome::Ack => f.write_str("ack"),
            Outcome::Message(_) => f.write_str("reply"),
            Outcome::Kernel(s) => write!(f, "error {}", s.code),
            Outcome::Lost => f.write_str("lost"),
            Outcome::Malformed(r) => write!(f, "malformed: {r}"),
            Outcome::Closed => f.write_str("closed"),
            Outcome::SendFailed(e) => write!(f, "send failed: errno {e}"),
        }
    }
}
