//! The dump streams: [`RawDump`] runs one dump on a socket of its own (from
//! the client's pool) and yields undecoded messages; [`Dump`] decodes them.

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::dump::{DumpReader, Failure, Step};
use super::frame::{self, Frames, Header};
use super::prime;
use super::requester::{ConnHandle, decode, kernel_error};
use super::socket::{self, NlSocket};
use super::{Protocol, RawMessage};
use crate::error::{Error, RequestKind, Result};

type OpenFuture = Pin<Box<dyn Future<Output = io::Result<netlink_sys::Socket>> + Send>>;

/// A running dump on a socket of its own: a stream of undecoded messages.
///
/// The kernel produces the next chunk only when the socket is read, so a
/// consumer that stops reading stops the dump; at most one datagram is held.
/// Dropping the stream early closes its socket, which ends the kernel's side.
pub struct RawDump {
    conn: Arc<ConnHandle>,
    request: Vec<u8>,
    rk: RequestKind,
    timeout: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    opening: Option<OpenFuture>,
    sock: Option<NlSocket>,
    counted: bool,
    sent: bool,
    reader: DumpReader,
    datagram: Bytes,
    pos: usize,
    finished: bool,
    /// A failure to report after the items received before it.
    pending: Option<Error>,
}

impl std::fmt::Debug for RawDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDump")
            .field("request", &self.rk)
            .field("finished", &self.finished)
            .finish()
    }
}

impl RawDump {
    /// Whether the client allows typed listings to read this dump ahead.
    pub(crate) fn read_ahead(&self) -> bool {
        self.conn.config.read_ahead
    }

    pub(super) fn new(
        conn: Arc<ConnHandle>,
        request: Vec<u8>,
        rk: RequestKind,
        timeout: Option<Duration>,
    ) -> Self {
        RawDump {
            conn,
            request,
            rk,
            timeout,
            sleep: None,
            opening: None,
            sock: None,
            counted: false,
            sent: false,
            reader: DumpReader::new(0),
            datagram: Bytes::new(),
            pos: 0,
            finished: false,
            pending: None,
        }
    }

    /// A dump that was never sent: yields `e`, then ends.
    pub(super) fn failed(conn: Arc<ConnHandle>, rk: RequestKind, e: Error) -> Self {
        let mut d = RawDump::new(conn, Vec::new(), rk, None);
        d.pending = Some(e);
        d
    }

    fn finish(&mut self) {
        self.finished = true;
        self.datagram = Bytes::new();
        if let Some(mut sock) = self.sock.take() {
            // Idle in the pool, it holds no receive space.
            sock.release_buffers();
            // Only a socket whose dump ran to its end carries nothing stale.
            if self.reader.is_clean() {
                let mut pool = self.conn.pool.lock().expect("pool lock");
                if pool.len() < self.conn.config.max_idle_dump_sockets {
                    pool.push(sock);
                }
            }
        }
        if self.counted {
            self.counted = false;
            self.conn.dumps_running.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn map_failure(&self, f: Failure) -> Error {
        match f {
            Failure::Kernel(s) => kernel_error(s, self.rk),
            Failure::Interrupted => Error::DumpInterrupted,
            Failure::Malformed(reason) => Error::Decode {
                request: self.rk,
                reason: reason.into(),
            },
        }
    }

    /// Gets a socket: an idle one from the pool, else a new one.
    fn poll_socket(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.sock.is_some() {
            return Poll::Ready(Ok(()));
        }
        if self.opening.is_none() {
            if let Some(s) = self.conn.pool.lock().expect("pool lock").pop() {
                self.sock = Some(s);
            } else {
                self.opening = Some(Box::pin(socket::open(
                    self.conn.protocol,
                    self.conn.config.socket,
                    self.conn.netns.clone(),
                )));
            }
        }
        if let Some(open) = self.opening.as_mut() {
            let r = ready!(open.as_mut().poll(cx));
            self.opening = None;
            self.sock = Some(r.and_then(prime::primed).and_then(NlSocket::new)?);
        }
        self.counted = true;
        self.conn.dumps_running.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }

    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(t) = self.timeout else {
            return false;
        };
        if self.sleep.is_none() {
            match super::home::sleep(t) {
                Ok(s) => self.sleep = Some(Box::pin(s)),
                // No timer thread: the dump cannot time out, only wait.
                Err(_) => return false,
            }
        }
        let sleep = self.sleep.as_mut().expect("sleep");
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// A received datagram and the byte ranges of the dump items in it.
pub(crate) type DatagramItems = (Bytes, Vec<Range<usize>>);

impl RawDump {
    /// Advances the dump, receiving datagrams as needed. With `one`, returns
    /// the next item's bytes. Otherwise pushes into `out` the byte ranges of
    /// every item left in the current datagram and returns the datagram
    /// (moved out, no reference count touched). `None` at the end; an error
    /// ends the dump (after the items before it).
    fn poll_items(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<Range<usize>>,
        one: bool,
    ) -> Poll<Option<Result<Bytes>>> {
        if let Some(e) = self.pending.take() {
            return self.fail(e);
        }
        if self.finished {
            return Poll::Ready(None);
        }
        if let Err(e) = ready!(self.poll_socket(cx)) {
            return self.fail(e);
        }
        if !self.sent {
            let seq = self.conn.next_dump_seq();
            frame::set_seq(&mut self.request, seq);
            let sent = ready!(
                self.sock
                    .as_ref()
                    .expect("socket")
                    .poll_send(cx, &self.request)
            );
            if let Err(e) = sent {
                return self.fail(Error::Io(e));
            }
            self.sent = true;
            self.reader = DumpReader::new(seq);
        }
        loop {
            while self.pos < self.datagram.len() {
                let mut frames = Frames::new(&self.datagram, self.pos);
                let Some(f) = frames.next() else { break };
                self.pos = frames.position();
                match self.reader.step(f, &self.datagram) {
                    Step::Item(range) if one => {
                        return Poll::Ready(Some(Ok(self.datagram.slice(range))));
                    }
                    Step::Item(range) => out.push(range),
                    Step::Skip => {}
                    Step::End(end) => {
                        let datagram = std::mem::take(&mut self.datagram);
                        match end {
                            Ok(()) => self.finish(),
                            Err(f) => {
                                let e = self.map_failure(f);
                                if out.is_empty() {
                                    return self.fail(e);
                                }
                                // The items before the failure first.
                                self.pending = Some(e);
                            }
                        }
                        return Poll::Ready((!out.is_empty()).then_some(Ok(datagram)));
                    }
                }
            }
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(std::mem::take(&mut self.datagram))));
            }
            let sock = self.sock.as_mut().expect("socket");
            match sock.poll_recv(cx) {
                Poll::Ready(Ok((d, sender))) => {
                    self.sleep = None;
                    if self.reader.accept(sender) {
                        self.datagram = d;
                        self.pos = 0;
                    }
                }
                Poll::Ready(Err(e)) => return self.fail(Error::Io(e)),
                Poll::Pending => {
                    if self.poll_timeout(cx) {
                        let rk = self.rk;
                        return self.fail(Error::Timeout(rk));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn fail(&mut self, e: Error) -> Poll<Option<Result<Bytes>>> {
        self.finish();
        Poll::Ready(Some(Err(e)))
    }

    /// The items of the next datagram at once: the datagram and their byte
    /// ranges in it (for a read-ahead thread: one hand-over per datagram).
    pub(crate) fn poll_datagram(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<DatagramItems>>> {
        let mut out = Vec::new();
        self.poll_items(cx, &mut out, false)
            .map(|r| r.map(|r| r.map(|d| (d, out))))
    }
}

impl Stream for RawDump {
    type Item = Result<RawMessage>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = ready!(this.poll_items(cx, &mut Vec::new(), true));
        Poll::Ready(item.map(|r| {
            r.map(|bytes| {
                let header = Header::parse(&bytes).expect("framed message has a header");
                RawMessage { header, bytes }
            })
        }))
    }
}

impl Drop for RawDump {
    fn drop(&mut self) {
        // An unfinished dump's socket is closed (not pooled) by finish().
        if !self.finished {
            self.finish();
        }
    }
}

/// A running dump: a stream of decoded messages. See [`RawDump`].
pub struct Dump<P: Protocol> {
    pub(super) raw: RawDump,
    pub(super) rk: RequestKind,
    pub(super) _p: PhantomData<fn() -> P>,
}

impl<P: Protocol> std::fmt::Debug for Dump<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.raw.fmt(f)
    }
}

impl<P: Protocol> Dump<P> {
    /// The undecoded stream underneath.
    pub fn into_raw(self) -> RawDump {
        self.raw
    }
}

impl<P: Protocol> Stream for Dump<P> {
    type Item = Result<P::Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let rk = this.rk;
        Poll::Ready(
            ready!(this.raw.poll_next_unpin(cx)).map(|r| r.and_then(|m| decode::<P>(&m, rk))),
        )
    }
}
