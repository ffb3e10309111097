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
        if sender != 0 {
            self.stats.foreign_dropped += 1;
            tracing::warn!(sender, "dropped a netlink datagram not sent by the kernel");
            return;
        }
        for f in Frames::new(datagram, 0) {
            match f {
                Frame::Message(h, range) => self.route(h, datagram.slice(range)),
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

    fn route(&mut self, h: frame::Header, msg: Bytes) {
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
                Kind::Get => self.finish(h.seq, Outcome::Message(msg)),
                Kind::GetAck => {
                    if entry.reply.is_none() {
                        entry.reply = Some(msg);
                    }
                }
                Kind::Ack | Kind::NoReply => {
                    // An echo the caller did not ask to see; the ack follows.
                    tracing::debug!(seq = h.seq, ty = h.ty, "ignored a message before an ack");
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
mod tests {
    use super::super::frame::tests::{error, msg};
    use super::super::frame::{F_ACK, F_REQUEST, Header};
    use super::*;

    fn req(ty: u16) -> Vec<u8> {
        msg(ty, F_REQUEST | F_ACK, 0, &[0; 8])
    }

    fn seqs_of(datagram: &[u8]) -> Vec<u32> {
        Frames::new(datagram, 0)
            .map(|f| match f {
                Frame::Message(h, _) => h.seq,
                f => panic!("{f:?}"),
            })
            .collect()
    }

    fn done(m: &mut Multiplexer<u64>) -> Vec<(u64, Outcome)> {
        let mut v: Vec<_> = m.completed().map(|c| (c.sink, c.outcome)).collect();
        v.sort_by_key(|(s, _)| *s);
        v
    }

    #[test]
    fn sequence_numbers_wrap_and_skip_zero_and_in_flight() {
        let mut m = Multiplexer::with_initial_seq(Config::default(), u32::MAX - 10);
        let mut seen = Vec::new();
        for id in 0..20u64 {
            seen.push(m.submit(id, req(16), Kind::Ack, id));
        }
        assert!(!seen.contains(&0));
        assert_eq!(seen[0], u32::MAX - 10);
        assert_eq!(seen[10], u32::MAX);
        assert_eq!(seen[11], 1, "wraps to 1, never 0");
        let mut out = Vec::new();
        assert_eq!(m.transmit(&mut out), 20);
        assert_eq!(seqs_of(&out), seen);
        // Force the next allocation to walk over numbers still in flight.
        m.next_seq = u32::MAX - 10;
        let s = m.submit(100, req(16), Kind::Ack, 100);
        assert_eq!(s, 10, "skips the 20 numbers still in flight");
        let mut uniq = seen.clone();
        uniq.push(s);
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), 21);
    }

    #[test]
    fn ack_error_and_reply_routing() {
        let mut m = Multiplexer::new(Config::default());
        let a = m.submit(1, req(16), Kind::Ack, 1);
        let b = m.submit(2, req(16), Kind::Ack, 2);
        let g = m.submit(3, msg(18, F_REQUEST, 0, &[0; 16]), Kind::Get, 3);
        let mut out = Vec::new();
        assert_eq!(m.transmit(&mut out), 3, "coalesced into one datagram");
        // Replies arrive out of order, in one datagram.
        let mut d = msg(16, 0, g, &[7; 20]);
        d.extend(error(b, -17, 16, Some("exists")));
        d.extend(error(a, 0, 16, None));
        m.receive(&Bytes::from(d), 0);
        let r = done(&mut m);
        assert_eq!(r[0], (1, Outcome::Ack));
        match &r[1].1 {
            Outcome::Kernel(s) => {
                assert_eq!((s.code, s.message.as_deref()), (-17, Some("exists")))
            }
            o => panic!("{o:?}"),
        }
        match &r[2].1 {
            Outcome::Message(b) => assert_eq!(b.len(), 36),
            o => panic!("{o:?}"),
        }
        assert!(m.is_idle());
    }

    #[test]
    fn get_with_ack_returns_message_at_ack() {
        let mut m = Multiplexer::new(Config::default());
        let s = m.submit(1, req(16), Kind::GetAck, 1);
        m.transmit(&mut Vec::new());
        m.receive(&Bytes::from(msg(16, 0, s, &[1; 4])), 0);
        assert!(done(&mut m).is_empty());
        m.receive(&Bytes::from(error(s, 0, 16, None)), 0);
        assert!(matches!(&done(&mut m)[..], [(1, Outcome::Message(_))]));
    }

    #[test]
    fn only_acks_in_flight_tracks_requests_with_replies() {
        let mut m = Multiplexer::new(Config::default());
        let a = m.submit(1, req(16), Kind::Ack, 1);
        let g = m.submit(2, req(18), Kind::Get, 2);
        assert!(m.only_acks_in_flight(), "queued requests do not count");
        m.transmit(&mut Vec::new());
        assert!(!m.only_acks_in_flight());
        m.receive(&Bytes::from(msg(16, 0, g, &[1; 4])), 0);
        assert!(m.only_acks_in_flight());
        m.receive(&Bytes::from(error(a, 0, 16, None)), 0);
        assert_eq!(done(&mut m).len(), 2);
        // A cancelled get still has its reply coming.
        m.submit(3, req(18), Kind::GetAck, 3);
        m.transmit(&mut Vec::new());
        m.cancel(3);
        assert!(!m.only_acks_in_flight());
        m.overrun();
        assert!(m.only_acks_in_flight());
    }

    #[test]
    fn foreign_sender_is_dropped_and_counted() {
        let mut m = Multiplexer::new(Config::default());
        let s = m.submit(1, req(16), Kind::Ack, 1);
        m.transmit(&mut Vec::new());
        m.receive(&Bytes::from(error(s, 0, 16, None)), 4242);
        assert!(done(&mut m).is_empty(), "a forged ack must not complete");
        assert_eq!(m.stats().foreign_dropped, 1);
        m.receive(&Bytes::from(error(s, 0, 16, None)), 0);
        assert_eq!(done(&mut m), vec![(1, Outcome::Ack)]);
    }

    #[test]
    fn truncated_reply_fails_its_own_request_only() {
        let mut m = Multiplexer::new(Config::default());
        let a = m.submit(1, req(16), Kind::Ack, 1);
        let g = m.submit(2, req(18), Kind::Get, 2);
        m.transmit(&mut Vec::new());
        let mut d = error(a, 0, 16, None);
        let mut t = msg(16, 0, g, &[0; 40]);
        t.truncate(30);
        d.extend(t);
        m.receive(&Bytes::from(d), 0);
        let r = done(&mut m);
        assert_eq!(r[0], (1, Outcome::Ack));
        assert!(matches!(r[1], (2, Outcome::Malformed(_))));
    }

    #[test]
    fn undecodable_error_fails_the_request() {
        let mut m = Multiplexer::new(Config::default());
        let a = m.submit(1, req(16), Kind::Ack, 1);
        m.transmit(&mut Vec::new());
        m.receive(&Bytes::from(msg(NLMSG_ERROR, 0, a, &[1, 2])), 0);
        assert!(matches!(&done(&mut m)[..], [(1, Outcome::Malformed(_))]));
    }

    #[test]
    fn unknown_sequence_is_counted() {
        let mut m: Multiplexer<u64> = Multiplexer::new(Config::default());
        m.receive(&Bytes::from(error(77, 0, 16, None)), 0);
        assert_eq!(m.stats().unroutable, 1);
    }

    #[test]
    fn cancel_queued_and_in_flight() {
        let mut m = Multiplexer::new(Config::default());
        let a = m.submit(1, req(16), Kind::Ack, 1);
        m.transmit(&mut Vec::new());
        let _b = m.submit(2, req(16), Kind::Ack, 2);
        assert_eq!(m.cancel(2), Some(2));
        assert_eq!(m.pending(), 1, "queued request forgotten at once");
        assert_eq!(m.cancel(1), Some(1));
        assert_eq!(m.pending(), 1, "in-flight seq stays reserved");
        let mut out = Vec::new();
        assert_eq!(m.transmit(&mut out), 0, "cancelled request never sent");
        // The late reply is discarded and frees the entry.
        m.receive(&Bytes::from(error(a, 0, 16, None)), 0);
        assert!(done(&mut m).is_empty());
        assert_eq!(m.stats().late_dropped, 1);
        assert!(m.is_idle());
        assert_eq!(m.cancel(1), None);
    }

    #[test]
    fn window_bounds_in_flight_replies() {
        let cfg = Config {
            window: 3 * Kind::Ack.cost(),
            max_datagram: 1 << 20,
        };
        let mut m = Multiplexer::new(cfg);
        let seqs: Vec<u32> = (0..10)
            .map(|i| m.submit(i, req(16), Kind::Ack, i))
            .collect();
        let mut out = Vec::new();
        assert_eq!(m.transmit(&mut out), 3);
        assert!(!m.wants_to_send());
        out.clear();
        assert_eq!(m.transmit(&mut out), 0);
        m.receive(&Bytes::from(error(seqs[0], 0, 16, None)), 0);
        assert!(m.wants_to_send());
        assert_eq!(m.transmit(&mut out), 1);
        assert_eq!(seqs_of(&out), vec![seqs[3]]);
    }

    #[test]
    fn oversized_request_goes_alone_even_with_a_tiny_window() {
        let cfg = Config {
            window: 1,
            max_datagram: 64,
        };
        let mut m = Multiplexer::new(cfg);
        m.submit(1, msg(16, F_REQUEST, 0, &[0; 200]), Kind::Ack, 1);
        m.submit(2, req(16), Kind::Ack, 2);
        let mut out = Vec::new();
        assert_eq!(m.transmit(&mut out), 1);
        assert_eq!(out.len(), 216);
    }

    #[test]
    fn datagram_limit_splits_batches() {
        let cfg = Config {
            window: 1 << 30,
            max_datagram: 100,
        };
        let mut m = Multiplexer::new(cfg);
        for i in 0..10 {
            m.submit(i, req(16), Kind::Ack, i); // 24 bytes each
        }
        let mut out = Vec::new();
        assert_eq!(m.transmit(&mut out), 4);
        assert!(out.len() <= 100);
    }

    #[test]
    fn overrun_fails_in_flight_but_not_queued() {
        let cfg = Config {
            window: 2 * Kind::Ack.cost(),
            max_datagram: 1 << 20,
        };
        let mut m = Multiplexer::new(cfg);
        for i in 0..4 {
            m.submit(i, req(16), Kind::Ack, i);
        }
        m.transmit(&mut Vec::new());
        m.overrun();
        assert_eq!(done(&mut m), vec![(0, Outcome::Lost), (1, Outcome::Lost)]);
        assert_eq!(m.pending(), 2);
        assert!(m.wants_to_send());
        m.close();
        assert_eq!(
            done(&mut m),
            vec![(2, Outcome::Closed), (3, Outcome::Closed)]
        );
        assert!(m.is_idle());
    }

    #[test]
    fn send_failure_fails_exactly_the_datagram() {
        let mut m = Multiplexer::new(Config::default());
        m.submit(1, req(16), Kind::Ack, 1);
        m.submit(2, req(16), Kind::Ack, 2);
        let mut out = Vec::new();
        m.transmit(&mut out);
        m.submit(3, req(16), Kind::Ack, 3);
        m.send_failed(&out, Outcome::Closed);
        assert_eq!(
            done(&mut m),
            vec![(1, Outcome::Closed), (2, Outcome::Closed)]
        );
        assert_eq!(m.pending(), 1);
    }

    #[test]
    fn no_reply_requests_complete_when_sent() {
        let mut m = Multiplexer::new(Config::default());
        m.submit(1, req(16), Kind::NoReply, 1);
        assert!(done(&mut m).is_empty());
        m.transmit(&mut Vec::new());
        assert_eq!(done(&mut m), vec![(1, Outcome::Ack)]);
        assert!(m.is_idle());
    }

    #[test]
    fn reply_before_send_is_not_accepted() {
        let mut m = Multiplexer::new(Config::default());
        let s = m.submit(1, req(16), Kind::Ack, 1);
        m.receive(&Bytes::from(error(s, 0, 16, None)), 0);
        assert!(done(&mut m).is_empty());
        assert_eq!(m.stats().unroutable, 1);
        let h = Header::parse(&req(16)).unwrap();
        assert_eq!(h.ty, 16);
    }

    #[test]
    fn randomized_interleavings_complete_every_request_exactly_once() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for round in 0..50u64 {
            let cfg = Config {
                window: (1 + rnd(40) as usize) * Kind::Ack.cost(),
                max_datagram: 64 + rnd(2000) as usize,
            };
            let mut m = Multiplexer::with_initial_seq(cfg, u32::MAX - rnd(50) as u32);
            let mut kernel: Vec<u32> = Vec::new(); // seqs sent, unanswered
            let mut open = std::collections::HashSet::new();
            let mut cancelled = std::collections::HashSet::new();
            let mut finished = std::collections::HashMap::new();
            let mut next_id = 0u64;
            for _ in 0..2000 {
                match rnd(10) {
                    0..=3 => {
                        m.submit(next_id, req(16), Kind::Ack, next_id);
                        open.insert(next_id);
                        next_id += 1;
                    }
                    4 => {
                        if let Some(&id) = open.iter().nth(rnd(open.len() as u64 + 1) as usize)
                            && m.cancel(id).is_some()
                        {
                            open.remove(&id);
                            cancelled.insert(id);
                        }
                    }
                    5..=6 => {
                        let mut out = Vec::new();
                        m.transmit(&mut out);
                        kernel.extend(seqs_of(&out));
                        let mut uniq = kernel.clone();
                        uniq.sort();
                        uniq.dedup();
                        assert_eq!(uniq.len(), kernel.len(), "a seq in flight was reused");
                    }
                    _ => {
                        // The kernel answers a random subset, in random order.
                        let mut d = Vec::new();
                        for _ in 0..rnd(8) {
                            if kernel.is_empty() {
                                break;
                            }
                            let s = kernel.swap_remove(rnd(kernel.len() as u64) as usize);
                            d.extend(error(s, 0, 16, None));
                        }
                        m.receive(&Bytes::from(d), 0);
                    }
                }
                for c in m.completed() {
                    assert_eq!(c.outcome, Outcome::Ack);
                    assert!(open.remove(&c.sink), "completed twice or after cancel");
                    *finished.entry(c.sink).or_insert(0) += 1;
                }
            }
            // Drain: send everything and answer everything.
            loop {
                let mut out = Vec::new();
                m.transmit(&mut out);
                kernel.extend(seqs_of(&out));
                if kernel.is_empty() {
                    break;
                }
                let mut d = Vec::new();
                for s in kernel.drain(..) {
                    d.extend(error(s, 0, 16, None));
                }
                m.receive(&Bytes::from(d), 0);
                for c in m.completed() {
                    assert!(open.remove(&c.sink), "round {round}");
                }
            }
            assert!(open.is_empty(), "round {round}: never completed: {open:?}");
            assert!(m.is_idle(), "round {round}: entries leak");
            assert_eq!(m.in_flight(), 0, "round {round}");
            assert!(cancelled.iter().all(|id| !finished.contains_key(id)));
        }
    }
}
