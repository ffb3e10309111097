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
use super::multiplexer::{self, Kind, Multiplexer, Outcome};
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
                    Command::Cancel(_) | Command::CancelBatch { .. } => {}
                }
            }
            return;
        }
    };
    // The kernel accounts replies against the doubled SO_RCVBUF; keep half
    // of it as the window so replies can never overflow it.
    let window = window.unwrap_or(sock.rcvbuf() / 2).max(1);
    shared.stats.lock().expect("stats lock").port = sock.port();
    let conn = Connection {
        mux: Multiplexer::new(multiplexer::Config {
            window,
            max_datagram,
        }),
        sock,
        rx,
        // Grows as needed, let go when idle.
        out: Vec::new(),
        small: Vec::new(),
        handles_gone: false,
        draining: false,
        retry: None,
        retry_delay: RETRY_MIN,
        shared: shared.clone(),
    };
    let reason = match futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(conn)).await {
        Ok(Ok(())) => "all handles dropped".to_string(),
        Ok(Err(e)) => format!("socket error: {e}"),
        Err(_) => "the connection task panicked".to_string(),
    };
    tracing::debug!(%reason, "netlink connection task ended");
    let _ = shared.closed.set(reason);
}

struct Connection {
    mux: Multiplexer<Sink>,
    sock: NlSocket,
    rx: mpsc::UnboundedReceiver<Command>,
    out: Vec<u8>,
    /// Datagrams from the last small-slot receive.
    small: Vec<Received>,
    handles_gone: bool,
    /// Reading the socket empty after an overrun.
    draining: bool,
    /// When to look again for replies that were not queued yet.
    retry: Option<Pin<Box<tokio::time::Sleep>>>,
    retry_delay: Duration,
    shared: Arc<TaskShared>,
}

impl Connection {
    fn deliver(&mut self) {
        for c in self.mux.completed() {
            tracing::debug!(
                seq = c.seq,
                ty = c.ty,
                outcome = ?OutcomeName(&c.outcome),
                "netlink request done"
            );
            c.sink.send(c.outcome);
        }
        let s = self.mux.stats();
        let mut st = self.shared.stats.lock().expect("stats lock");
        st.pending = self.mux.pending();
        st.foreign_dropped = s.foreign_dropped;
        st.late_dropped = s.late_dropped;
        st.unroutable = s.unroutable;
        st.overruns = s.overruns;
        st.datagrams_sent = s.datagrams_sent;
        st.requests_sent = s.requests_sent;
    }

    /// The socket overran: replies were lost.
    fn overrun(&mut self) {
        tracing::warn!("netlink request socket overran (ENOBUFS); failing requests in flight");
        self.mux.overrun();
        self.draining = true;
    }

    /// Feeds what is queued on the socket to the multiplexer; `Ok(false)`
    /// when nothing was. While every reply in flight is a capped ack (small
    /// by construction), a burst of them takes one `recvmmsg`; anything
    /// else is read a datagram at a time. A request for an ack may still be
    /// answered with a longer message before it (NLM_F_ECHO, an ack asked
    /// of a get): such a datagram arrives cut, and the multiplexer judges
    /// it by its header.
    fn receive_some(&mut self) -> io::Result<bool> {
        if self.mux.only_acks_in_flight() && self.sock.acks_are_small() && !self.draining {
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
    /// One round of work; `Ok(true)` if anything moved.
    fn poll_round(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
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
                    let seq = self.mux.submit(id, bytes, kind, sink);
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
                        self.mux
                            .submit(first_id + i as u64, bytes, Kind::Ack, Sink::Batch(sink));
                    }
                    progress = true;
                }
                Poll::Ready(Some(Command::Cancel(id))) => {
                    if self.mux.cancel(id).is_some() {
                        tracing::debug!(id, "netlink request cancelled");
                    }
                }
                Poll::Ready(Some(Command::CancelBatch { first_id, count })) => {
                    let n = (first_id..first_id + count as u64)
                        .filter(|&id| self.mux.cancel(id).is_some())
                        .count();
                    tracing::debug!(first_id, n, "netlink batch cancelled");
                }
                Poll::Ready(None) => self.handles_gone = true,
                Poll::Pending => break,
            }
        }
        loop {
            if self.out.is_empty() && self.mux.wants_to_send() {
                self.mux.transmit(&mut self.out);
            }
            if self.out.is_empty() {
                break;
            }
            match self.sock.poll_send(cx, &self.out) {
                Poll::Ready(Ok(())) => {
                    self.out.clear();
                    progress = true;
                }
                Poll::Ready(Err(e)) => {
                    tracing::debug!(error = %e, "netlink sendmsg failed");
                    let errno = e.raw_os_error().unwrap_or(libc::EIO);
                    self.mux.send_failed(&self.out, Outcome::SendFailed(errno));
                    self.out.clear();
                    progress = true;
                }
                Poll::Pending => break,
            }
        }
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
        while self.mux.in_flight() > 0 || self.draining {
            match self.receive_some() {
                Ok(true) => {
                    self.retry = None;
                    self.retry_delay = RETRY_MIN;
                    progress = true;
                }
                Ok(false) => {
                    self.draining = false;
                    if self.mux.in_flight() == 0 {
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
                    self.overrun();
                    progress = true;
                }
                Err(e) => return Err(e),
            }
        }
        if self.mux.in_flight() == 0 {
            // Nothing is due: the socket's receive space goes back until
            // the next request (what the callers hold stays theirs), and so
            // do buffers grown by a burst.
            self.sock.release_buffers();
            if self.out.is_empty() && self.out.capacity() > IDLE_KEEP {
                self.out = Vec::new();
            }
        }
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
                Err(e) => {
                    this.mux.close();
                    this.deliver();
                    return Poll::Ready(Err(e));
                }
                // Once every handle is gone, every request future is gone too
                // (each holds a handle): what remains is cancelled.
                Ok(_) if this.handles_gone => {
                    this.mux.close();
                    this.deliver();
                    return Poll::Ready(Ok(()));
                }
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
