//! The sans-I/O request multiplexer: every protocol rule for acks and gets
//! pipelined on one socket, with no socket and no runtime, so unit tests drive
//! it byte by byte.
//!
//! The connection task feeds it commands and datagrams and carries out what
//! it asks: bytes to send, replies to deliver. Dumps do not come here: each
//! runs on a socket of its own (see `dump.rs`), because the kernel allows one
//! dump per socket and produces its next chunk only when the socket is read.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use bytes::Bytes;

use super::frame::{
    self, Frame, Frames, HEADER_LEN, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, Status,
};

/// Hashes the integer keys of the maps below (sequence numbers, request
/// ids) with one multiplication: they are small and mostly consecutive, and
/// SipHash was a visible share of the per-request cost.
#[derive(Default)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing spreads consecutive keys over the top bits too,
        // which the map's control bytes use.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// What a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// NLM_F_ACK set: resolves on NLMSG_ERROR (code 0 = success).
    Ack,
    /// A request answered by one message (or an error), without NLM_F_ACK.
    Get,
    /// NLM_F_ACK set and a reply message expected before the ack (NLM_F_ECHO
    /// and the like): resolves on the ack with the message.
    GetAck,
    /// Fire-and-forget: done once handed to the kernel. An error the kernel
    /// sends back anyway is counted as unroutable.
    NoReply,
}

impl Kind {
    /// Answered by a message besides (or instead of) the ack.
    fn has_reply(self) -> bool {
        matches!(self, Kind::Get | Kind::GetAck)
    }

    /// Receive-buffer bytes the reply may occupy in the kernel's accounting
    /// (skb truesize, not payload): an ack skb is about 1 KiB, a reply message
    /// may be a full NLMSG_GOODSIZE skb or more.
    fn cost(self) -> usize {
        match self {
            Kind::Ack => 2 * 1024,
            Kind::Get | Kind::GetAck => 32 * 1024,
            Kind::NoReply => 0,
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged with code 0 (for `Ack`).
    Ack,
    /// The reply message, header included (for `Get` and `GetAck`).
    Message(Bytes),
    /// The kernel answered with a negative code.
    Kernel(Status),
    /// The receive buffer overflowed while the request was in flight.
    Lost,
    /// The reply was malformed at the framing level.
    Malformed(&'static str),
    /// The connection is shutting down.
    Closed,
    /// The datagram carrying the request could not be sent (errno).
    SendFailed(i32),
}

/// Counters, for observability and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams from a sender other than the kernel, dropped.
    pub foreign_dropped: u64,
    /// Replies to cancelled requests, discarded.
    pub late_dropped: u64,
    /// Messages whose sequence number matched nothing, dropped.
    pub unroutable: u64,
    /// ENOBUFS events seen.
    pub overruns: u64,
    /// Datagrams handed out for sending.
    pub datagrams_sent: u64,
    /// Requests handed out for sending.
    pub requests_sent: u64,
}

/// A request that ended: where to deliver it and how it ended.
#[derive(Debug)]
pub struct Completed<S> {
    /// The caller's sink.
    pub sink: S,
    /// How it ended.
    pub outcome: Outcome,
    /// Its sequence number.
    pub seq: u32,
    /// Its message type.
    pub ty: u16,
}

#[derive(Debug)]
struct Entry<S> {
    id: u64,
    kind: Kind,
    ty: u16,
    /// Request bytes while queued; `None` once sent.
    queued: Option<Bytes>,
    /// `None` once the caller cancelled: the sequence number stays reserved
    /// until the kernel answers, so a late reply can never be misrouted.
    sink: Option<S>,
    /// The reply message of a `GetAck`, held until its ack arrives.
    reply: Option<Bytes>,
}

/// Tunables.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Upper bound of the receive-buffer bytes that in-flight replies may take.
    pub window: usize,
    /// Upper bound of one coalesced datagram.
    pub max_datagram: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window: 1 << 20,
            max_datagram: 64 * 1024,
        }
    }
}

/// The multiplexer. `S` is whatever the driver uses to deliver a reply
/// (a oneshot sender in the connection task, a plain value in tests).
#[derive(Debug)]
pub struct Multiplexer<S> {
    config: Config,
    next_seq: u32,
    entries: IntMap<u32, Entry<S>>,
    by_id: IntMap<u64, u32>,
    queue: VecDeque<u32>,
    in_flight_cost: usize,
    in_flight: usize,
    /// In flight and answered by a reply message of unbounded size.
    in_flight_replies: usize,
    done: Vec<Completed<S>>,
    stats: Stats,
}

impl<S> Multiplexer<S> {
    /// A multiplexer whose first sequence number is 1.
    pub fn new(config: Config) -> Self {
        Self::with_initial_seq(config, 1)
    }

    /// A multiplexer starting at a given sequence number (tests use it to
    /// exercise the wrap-around).
    pub fn with_initial_seq(config: Config, seq: u32) -> Self {
        Multiplexer {
            config,
            next_seq: seq,
            entries: IntMap::default(),
            by_id: IntMap::default(),
            queue: VecDeque::new(),
            in_flight_cost: 0,
            in_flight: 0,
            in_flight_replies: 0,
            done: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Requests known to the multiplexer: queued, in flight, or cancelled and
    /// still waiting for the kernel's answer.
    pub fn pending(&self) -> usize {
        self.entries.len()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Requests sent whose reply has not arrived (cancelled ones included).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// True when every reply in flight is an ack (bounded in size), so the
    /// driver may receive them into small fixed slots.
    pub fn only_acks_in_flight(&self) -> bool {
        self.in_flight_replies == 0
    }

    /// True when nothing is queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when the replies in flight should be received in batches of
    /// small slots: every one is an ack (bounded in size) and there are
    /// several. A single ack is read on its own: zeroing the slots of a
    /// whole batch would cost more than the one datagram.
    pub fn receive_acks_in_batches(&self) -> bool {
        self.in_flight_replies == 0 && self.in_flight > 1
    }

    /// True when a caller may run its request inline (send it and read its
    /// reply itself, on its own thread): nothing else is queued or in flight,
    /// not even a cancelled request still awaiting the kernel, so every
    /// reply the caller reads until its own completes can only be its own
    /// (or something to drop).
    pub fn can_run_inline(&self) -> bool {
        self.entries.is_empty() && self.done.is_empty()
    }

    /// Gives pending request `id` a new sink: an inline caller that must
    /// wait hands its request over to the driver. Returns the old sink, or
    /// `Err(sink)` when `id` is not pending (it has completed: its outcome
    /// is among [`completed`](Self::completed)).
    pub fn hand_over(&mut self, id: u64, sink: S) -> Result<S, S> {
        let Some(entry) = self
            .by_id
            .get(&id)
            .and_then(|seq| self.entries.get_mut(seq))
        else {
            return Err(sink);
        };
        match entry.sink.as_mut() {
            Some(old) => Ok(std::mem::replace(old, sink)),
            // Cancelled: the caller is gone, nobody to hand over to.
            None => Err(sink),
        }
    }

    /// Takes the completion of request `seq` out of those not yet collected
    /// (an inline caller picks its own and leaves the rest to be delivered).
    pub fn take_completed(&mut self, seq: u32) -> Option<Completed<S>> {
        let at = self.done.iter().position(|c| c.seq == seq)?;
        Some(self.done.swap_remove(at))
    }

    fn alloc_seq(&mut self) -> u32 {
        loop {
            let seq = self.next_seq;
            self.next_seq = match self.next_seq.wrapping_add(1) {
                0 => 1,
                n => n,
            };
            if seq != 0 && !self.entries.contains_key(&seq) {
                return seq;
            }
        }
    }

    /// Queues a serialized request and returns the sequence number given to
    /// it (written into the header when the request is transmitted, so a
    /// batch can share one buffer). `id` is the caller's handle for
    /// [`cancel`](Self::cancel); it must be unique among pending requests.
    pub fn submit(&mut self, id: u64, request: impl Into<Bytes>, kind: Kind, sink: S) -> u32 {
        let request = request.into();
        let seq = self.alloc_seq();
        let ty = frame::Header::parse(&request).map_or(0, |h| h.ty);
        self.entries.insert(
            seq,
            Entry {
                id,
                kind,
                ty,
                queued: Some(request),
                sink: Some(sink),
                reply: None,
            },
        );
        self.by_id.insert(id, seq);
        self.queue.push_back(seq);
        seq
    }

    /// The caller gave up on request `id`. A queued request is forgotten; one
    /// already sent keeps its sequence number until the kernel answers.
    /// Returns the sink, so the driver can drop it.
    pub fn cancel(&mut self, id: u64) -> Option<S> {
        let seq = self.by_id.remove(&id)?;
        let entry = self.entries.get_mut(&seq)?;
        let sink = entry.sink.take();
        if entry.queued.is_some() {
            // Never sent: nothing will answer it. The queue slot is skipped
            // lazily in `transmit`.
            self.entries.remove(&seq);
        }
        sink
    }

    /// True when `transmit` would produce a datagram.
    pub fn wants_to_send(&mut self) -> bool {
        self.skip_cancelled();
        match self.queue.front() {
            None => false,
            Some(seq) => {
                self.in_flight_cost == 0
                    || self.in_flight_cost + self.entries[seq].kind.cost() <= self.config.window
            }
        }
    }

    fn skip_cancelled(&mut self) {
        while let Some(seq) = self.queue.front() {
            match self.entries.get(seq) {
                Some(e) if e.queued.is_some() => return,
                _ => {
                    self.queue.pop_front();
                }
            }
        }
    }

    /// Appends as many queued requests to `out` as the window and the datagram
    /// limit allow (at least one if anything is queued and nothing is in
    /// flight), marks them in flight and returns how many were added.
    pub fn transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let mut n = 0;
        loop {
            self.skip_cancelled();
            let Some(&seq) = self.queue.front() else {
                break;
            };
            let entry = self.entries.get_mut(&seq).expect("queued entry exists");
            let bytes = entry.queued.as_ref().expect("skip_cancelled keeps queued");
            let cost = entry.kind.cost();
            let first = out.is_empty();
            let fits_window =
                self.in_flight_cost == 0 || self.in_flight_cost + cost <= self.config.window;
            let fits_datagram = first || out.len() + bytes.len() <= self.config.max_datagram;
            if !fits_window || !fits_datagram {
                break;
            }
            // The kernel walks the messages of a datagram at NLMSG_ALIGN steps.
            let at = out.len();
            out.extend_from_slice(bytes);
            if bytes.len() >= HEADER_LEN {
                frame::set_seq(&mut out[at..], seq);
            }
            out.resize(frame::align(out.len()), 0);
            entry.queued = None;
            let no_reply = entry.kind == Kind::NoReply;
            self.queue.pop_front();
            self.in_flight_cost += cost;
            self.in_flight += 1;
            self.in_flight_replies += usize::from(entry.kind.has_reply());
            n += 1;
            if no_reply {
                self.finish(seq, Outcome::Ack);
            }
        }
        if n > 0 {
            self.stats.datagrams_sent += 1;
            self.stats.requests_sent += n as u64;
        }
        n
    }

    /// The datagram handed out by the last `transmit` could not be sent: fail
    /// the requests whose sequence numbers are in it with `error`.
    pub fn send_failed(&mut self, datagram: &[u8], error: Outcome) {
        let seqs: Vec<u32> = Frames::new(datagram, 0)
            .filter_map(|f| match f {
                Frame::Message(h, _) => Some(h.seq),
                Frame::Malformed { .. } => None,
            })
            .collect();
        for seq in seqs {
            self.finish(seq, error.clone());
        }
    }

    fn finish(&mut self, seq: u32, outcome: Outcome) {
        let Some(entry) = self.entries.remove(&seq) else {
            return;
        };
        if entry.queued.is_none() {
            self.in_flight_cost = self.in_flight_cost.saturating_sub(entry.kind.cost());
            self.in_flight -= 1;
            self.in_flight_replies -= usize::from(entry.kind.has_reply());
        }
        match entry.sink {
            Some(sink) => {
                self.by_id.remove(&entry.id);
                self.done.push(Completed {
                    sink,
                    outcome,
                    seq,
                    ty: entry.ty,
                });
            }
            None => self.stats.late_dropped += 1,
        }
    }

    /// Routes every message of a received datagram. `sender` is the port id
    /// the datagram came from: anything not from the kernel (0) is dropped.
    pub fn receive(&mut self, datagram: &Bytes, sender: u32) {
        self.receive_datagram(datagram, sender, false);
    }

    /// Routes a datagram that was cut short on receipt (longer than the
    /// room for it): its last message is incomplete, and is routed by its
    /// header. An ack or error still has its code in its first 20 bytes
    /// (only extended-ACK attributes are lost), and a message before an
    /// ack that the request does not want (an echo) is ignored as it
    /// would be whole; only a request that needs the message fails.
    pub fn receive_cut(&mut self, datagram: &Bytes, sender: u32) {
        self.receive_datagram(datagram, sender, true);
    }

    fn receive_datagram(&mut self, datagram: &Bytes, sender: u32, cut: bool) {
        if sender != 0 {
            self.stats.foreign_dropped += 1;
            tracing::warn!(sender, "dropped a netlink datagram not sent by the kernel");
            return;
        }
        let mut frames = Frames::new(datagram, 0);
        loop {
            let start = frames.position();
            let Some(f) = frames.next() else { break };
            match f {
                Frame::Message(h, range) => self.route(h, datagram.slice(range), false),
                Frame::Malformed {
                    header: Some(h), ..
                } if cut && h.len as usize >= HEADER_LEN => {
                    // The message the cut went through (its length passes
                    // the end: nothing else is malformed in a kernel reply).
                    self.route(h, datagram.slice(start..), true);
                }
                Frame::Malformed { header, reason } => {
                    match header.and_then(|h| self.entries.get(&h.seq).map(|_| h.seq)) {
                        Some(seq) => self.finish(seq, Outcome::Malformed(reason)),
                        None => {
                            self.stats.unroutable += 1;
                            tracing::warn!(reason, "dropped a malformed netlink message");
                        }
                    }
                }
            }
        }
    }

    /// Routes one message; `cut` when `msg` is only its start.
    fn route(&mut self, h: frame::Header, msg: Bytes, cut: bool) {
        let Some(entry) = self.entries.get_mut(&h.seq) else {
            self.stats.unroutable += 1;
            tracing::warn!(
                seq = h.seq,
                ty = h.ty,
                "dropped a netlink message matching no request"
            );
            return;
        };
        if entry.queued.is_some() {
            // A reply to something not sent yet can only be forged or stale.
            self.stats.unroutable += 1;
            tracing::warn!(seq = h.seq, "dropped a reply to a request not yet sent");
            return;
        }
        let payload = &msg[HEADER_LEN..];
        match h.ty {
            // A cut payload parses as far as it goes: the code comes first,
            // attributes past the cut are not read.
            NLMSG_ERROR => match frame::parse_error(&h, payload) {
                Ok(status) if status.code == 0 => {
                    let outcome = match entry.reply.take() {
                        Some(m) => Outcome::Message(m),
                        None => Outcome::Ack,
                    };
                    self.finish(h.seq, outcome);
                }
                Ok(status) => self.finish(h.seq, Outcome::Kernel(status)),
                Err(reason) => self.finish(h.seq, Outcome::Malformed(reason)),
            },
            NLMSG_NOOP => {}
            NLMSG_DONE | NLMSG_OVERRUN => {
                self.finish(
                    h.seq,
                    Outcome::Malformed("unexpected NLMSG_DONE/OVERRUN for a non-dump request"),
                );
            }
            _ => match entry.kind {
                Kind::Get | Kind::GetAck if cut => self.finish(
                    h.seq,
                    Outcome::Malformed("reply cut short: longer than the receive buffer"),
                ),
                Kind::Get => self.finish(h.seq, Outcome::Message(msg)),
                Kind::GetAck => {
                    if entry.reply.is_none() {
                        entry.reply = Some(msg);
                    }
                }
                Kind::Ack | Kind::NoReply => {
                    // An echo the caller did not ask to see (whole or cut:
                    // its content is not needed); the ack follows.
                    tracing::debug!(
                        seq = h.seq,
                        ty = h.ty,
                        cut,
                        "ignored a message before an ack"
                    );
                }
            },
        }
    }

    /// The socket reported ENOBUFS: some replies were dropped by the kernel,
    /// and there is no telling which. Every request in flight fails with
    /// `Outcome::Lost`; queued ones are untouched.
    pub fn overrun(&mut self) {
        self.stats.overruns += 1;
        let in_flight: Vec<u32> = self
            .entries
            .iter()
            .filter(|(_, e)| e.queued.is_none())
            .map(|(s, _)| *s)
            .collect();
        for seq in in_flight {
            self.finish(seq, Outcome::Lost);
        }
    }

    /// Fails everything, queued or in flight, with `Outcome::Closed`.
    pub fn close(&mut self) {
        let all: Vec<u32> = self.entries.keys().copied().collect();
        for seq in all {
            self.finish(seq, Outcome::Closed);
        }
        self.queue.clear();
    }

    /// Takes the requests that completed since the last call, with their
    /// sequence numbers.
    pub fn completed(&mut self) -> std::vec::Drain<'_, Completed<S>> {
        self.done.drain(..)
    }
}

#[cfg(test)]
#[path = "multiplexer_tests.rs"]
mod tests;
