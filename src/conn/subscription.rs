//! Multicast subscriptions: a socket of their own, bound to groups, read as
//! a stream of notifications.
//!
//! A flood of notifications can then never push request replies out of a
//! receive buffer, and a loss (ENOBUFS) is reported as an item rather than
//! an error that ends the stream. The stream reads the socket until the
//! kernel says EAGAIN; a `Pending` caused by tokio's cooperative budget is
//! never taken for "drained" (the kernel reports no second ENOBUFS until its
//! queue has been read empty, so stopping early would hide later losses).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::Stream;

use super::RawMessage;
use super::frame::{Frame, Frames, NLMSG_NOOP};
use super::socket::{self, NlSocket};

type OpenFuture = Pin<Box<dyn Future<Output = io::Result<netlink_sys::Socket>> + Send>>;

/// One item of a subscription.
#[derive(Debug)]
pub enum Notification {
    /// A notification message.
    Message(RawMessage),
    /// The kernel dropped notifications (ENOBUFS): whatever state was built
    /// from this stream must be resynchronised. Notifications still queued
    /// when the loss was seen are discarded with it, so every item after
    /// `Lost` is newer than it: dump, then apply what follows.
    Lost,
    /// A message that could not be framed; the rest of its datagram is lost.
    Malformed(&'static str),
    /// The socket failed; the stream ends after this item.
    Failed(io::Error),
}

/// A stream of multicast notifications on a socket of its own. Dropping it
/// closes the socket, which leaves the groups.
pub struct Subscription {
    opening: Option<OpenFuture>,
    sock: Option<NlSocket>,
    datagram: Bytes,
    pos: usize,
    done: bool,
    /// Datagrams from a sender other than the kernel, dropped.
    pub foreign_dropped: u64,
    /// ENOBUFS events reported.
    pub losses: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("losses", &self.losses)
            .field("done", &self.done)
            .finish()
    }
}

impl Subscription {
    pub(crate) fn new(open: OpenFuture) -> Self {
        Subscription {
            opening: Some(open),
            sock: None,
            datagram: Bytes::new(),
            pos: 0,
            done: false,
            foreign_dropped: 0,
            losses: 0,
        }
    }

    /// Opens (in `netns` when given), sizes and joins `groups`.
    pub(crate) fn open(
        protocol: isize,
        mut opts: socket::SocketOptions,
        rcvbuf: usize,
        netns: Option<std::sync::Arc<std::os::fd::OwnedFd>>,
        groups: Vec<u32>,
    ) -> Self {
        opts.rcvbuf = rcvbuf;
        let open = async move {
            let s = socket::open(protocol, opts, netns).await?;
            for g in groups {
                s.add_membership(g)?;
            }
            Ok(s)
        };
        Subscription::new(Box::pin(open))
    }

    /// Waits until the socket is open and subscribed, so that no change
    /// made after this returns can be missed.
    pub async fn ready(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_open(cx)).await
    }

    /// After a loss, discards what is still queued (and the rest of the
    /// current datagram): those notifications are older than the loss, and
    /// replayed after a resync's dump they would bring back state the lost
    /// ones had changed. Every item after `Lost` is then newer than it.
    /// Bounded by what the receive buffer can hold, so a flood that keeps
    /// refilling the queue cannot keep the stream here.
    fn discard_queued(&mut self) -> usize {
        self.datagram = Bytes::new();
        self.pos = 0;
        let Some(sock) = self.sock.as_mut() else {
            return 0;
        };
        // The smallest notification skb takes a few hundred bytes of it.
        let bound = sock.rcvbuf() / 256 + 1;
        let mut n = 0;
        while n < bound {
            match sock.try_recv() {
                Ok(_) => n += 1,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(_) => break,
            }
        }
        n
    }

    fn poll_open(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(open) = self.opening.as_mut() {
            let r = ready!(open.as_mut().poll(cx));
            self.opening = None;
            self.sock = Some(r.and_then(NlSocket::new)?);
        }
        Poll::Ready(Ok(()))
    }
}

impl Stream for Subscription {
    type Item = Notification;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Notification>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Err(e) = ready!(this.poll_open(cx)) {
            this.done = true;
            return Poll::Ready(Some(Notification::Failed(e)));
        }
        loop {
            while this.pos < this.datagram.len() {
                let mut frames = Frames::new(&this.datagram, this.pos);
                let Some(f) = frames.next() else { break };
                this.pos = frames.position();
                match f {
                    Frame::Message(h, _) if h.ty == NLMSG_NOOP => {}
                    Frame::Message(header, range) => {
                        let bytes = this.datagram.slice(range);
                        return Poll::Ready(Some(Notification::Message(RawMessage {
                            header,
                            bytes,
                        })));
                    }
                    Frame::Malformed { reason, .. } => {
                        return Poll::Ready(Some(Notification::Malformed(reason)));
                    }
                }
            }
            let sock = this.sock.as_mut().expect("opened");
            match ready!(sock.poll_recv(cx)) {
                Ok((d, 0)) => {
                    this.datagram = d;
                    this.pos = 0;
                }
                Ok((_, sender)) => {
                    this.foreign_dropped += 1;
                    tracing::warn!(sender, "dropped a notification not sent by the kernel");
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    this.losses += 1;
                    let discarded = this.discard_queued();
                    tracing::warn!(discarded, "netlink notifications lost (ENOBUFS)");
                    return Poll::Ready(Some(Notification::Lost));
                }
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Notification::Failed(e)));
                }
            }
        }
    }
}
