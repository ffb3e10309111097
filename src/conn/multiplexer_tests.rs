//! Unit tests of the multiplexer: every rule, driven byte by byte.

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

/// The first `n` bytes of `d`, as a receive cut short would hand them over.
fn cut(d: &[u8], n: usize) -> Bytes {
    assert!(n < d.len(), "a cut is shorter than the datagram");
    Bytes::copy_from_slice(&d[..n])
}

#[test]
fn cut_echo_before_an_ack_is_ignored_and_the_ack_completes() {
    let mut m = Multiplexer::new(Config::default());
    let a = m.submit(1, req(16), Kind::Ack, 1);
    m.transmit(&mut Vec::new());
    // An NLM_F_ECHO reply (or the answer to a get sent for an ack) larger
    // than the receive slot, then the ack.
    m.receive_cut(&cut(&msg(16, 0, a, &[7; 3000]), 1024), 0);
    assert!(done(&mut m).is_empty(), "the echo does not end the request");
    assert_eq!(m.stats().unroutable, 0);
    m.receive(&Bytes::from(error(a, 0, 16, None)), 0);
    assert_eq!(done(&mut m), vec![(1, Outcome::Ack)]);
    assert!(m.is_idle());
}

#[test]
fn the_same_datagram_not_marked_cut_is_malformed() {
    // A kernel datagram is never truncated by itself: unmarked, a message
    // longer than its datagram fails its request as before.
    let mut m = Multiplexer::new(Config::default());
    let a = m.submit(1, req(16), Kind::Ack, 1);
    m.transmit(&mut Vec::new());
    m.receive(&cut(&msg(16, 0, a, &[7; 3000]), 1024), 0);
    assert!(matches!(&done(&mut m)[..], [(1, Outcome::Malformed(_))]));
}

#[test]
fn a_cut_error_keeps_its_code_and_what_of_its_text_arrived() {
    let mut m = Multiplexer::new(Config::default());
    let a = m.submit(1, req(16), Kind::Ack, 1);
    let b = m.submit(2, req(16), Kind::Ack, 2);
    m.transmit(&mut Vec::new());
    let text = "x".repeat(2000);
    // Cut inside the text attribute: the code and the request header are
    // whole, the attribute is not.
    m.receive_cut(&cut(&error(a, -17, 16, Some(&text)), 1024), 0);
    // An ack with attributes, cut: still a success.
    m.receive_cut(&cut(&error(b, 0, 16, Some(&text)), 60), 0);
    let r = done(&mut m);
    match &r[0].1 {
        Outcome::Kernel(s) => {
            assert_eq!((s.code, s.request_type), (-17, Some(16)));
            assert_eq!(s.message, None, "a clipped attribute is not read");
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(r[1], (2, Outcome::Ack));
    assert!(m.is_idle());
}

#[test]
fn a_cut_reply_fails_only_a_request_that_needs_it() {
    let mut m = Multiplexer::new(Config::default());
    let g = m.submit(1, req(18), Kind::Get, 1);
    let ga = m.submit(2, req(16), Kind::GetAck, 2);
    let a = m.submit(3, req(16), Kind::Ack, 3);
    m.transmit(&mut Vec::new());
    m.receive_cut(&cut(&msg(16, 0, g, &[1; 3000]), 1024), 0);
    m.receive_cut(&cut(&msg(16, 0, ga, &[2; 3000]), 1024), 0);
    // A whole ack, then a cut echo in the same datagram.
    let mut d = error(a, 0, 16, None);
    d.extend(msg(16, 0, a, &[3; 3000]));
    m.receive_cut(&cut(&d, 1024), 0);
    let r = done(&mut m);
    assert_eq!(r.len(), 3, "{r:?}");
    assert!(matches!(r[0], (1, Outcome::Malformed(m)) if m.contains("cut short")));
    assert!(matches!(r[1], (2, Outcome::Malformed(m)) if m.contains("cut short")));
    assert_eq!(r[2], (3, Outcome::Ack));
}

#[test]
fn a_cut_message_for_no_request_is_counted() {
    let mut m: Multiplexer<u64> = Multiplexer::new(Config::default());
    m.receive_cut(&cut(&msg(16, 0, 42, &[0; 3000]), 1024), 0);
    // Cut inside a second header: nothing to route it by.
    let mut d = msg(16, 0, 43, &[0; 8]);
    d.extend(msg(16, 0, 44, &[0; 8]));
    m.receive_cut(&cut(&d, 30), 0);
    assert_eq!(m.stats().unroutable, 3);
}

// ---------------------------------------------------------------- inline

#[test]
fn inline_runs_only_on_an_idle_multiplexer() {
    let mut m = Multiplexer::new(Config::default());
    assert!(m.can_run_inline());
    let a = m.submit(1, req(16), Kind::Ack, 1);
    assert!(!m.can_run_inline(), "queued");
    let mut out = Vec::new();
    m.transmit(&mut out);
    assert!(!m.can_run_inline(), "in flight");
    // A cancelled request in flight keeps its number reserved, and so keeps
    // an inline caller off the socket: that caller would read its reply.
    m.cancel(1);
    assert!(!m.can_run_inline(), "cancelled, still awaiting the kernel");
    m.receive(&Bytes::from(error(a, 0, 16, None)), 0);
    assert_eq!(m.stats().late_dropped, 1);
    assert!(m.can_run_inline());
    // A completion not yet collected is not idle either.
    let b = m.submit(2, req(16), Kind::Ack, 2);
    m.transmit(&mut out);
    m.receive(&Bytes::from(error(b, 0, 16, None)), 0);
    assert!(m.is_idle() && !m.can_run_inline());
    assert_eq!(done(&mut m), vec![(2, Outcome::Ack)]);
    assert!(m.can_run_inline());
}

#[test]
fn an_inline_caller_takes_its_own_completion_and_leaves_the_rest() {
    let mut m = Multiplexer::new(Config::default());
    let a = m.submit(1, req(16), Kind::Ack, 1);
    let b = m.submit(2, req(16), Kind::Ack, 2);
    let mut out = Vec::new();
    m.transmit(&mut out);
    let mut d = error(b, 0, 16, None);
    d.extend(error(a, -1, 16, None));
    m.receive(&Bytes::from(d), 0);
    let mine = m.take_completed(b).expect("b completed");
    assert_eq!((mine.sink, mine.outcome, mine.seq), (2, Outcome::Ack, b));
    assert!(m.take_completed(b).is_none(), "taken once");
    let rest: Vec<_> = m.completed().map(|c| c.seq).collect();
    assert_eq!(rest, vec![a]);
}

#[test]
fn a_handed_over_request_is_delivered_to_its_new_sink() {
    let mut m = Multiplexer::new(Config::default());
    // 0 stands for "inline": the caller reads itself; 100 for the task's sink.
    let g = m.submit(7, msg(18, F_REQUEST, 0, &[0; 16]), Kind::Get, 0);
    let mut out = Vec::new();
    m.transmit(&mut out);
    assert!(m.take_completed(g).is_none(), "no reply yet");
    assert_eq!(m.hand_over(7, 100), Ok(0), "the inline sink comes back");
    m.receive(&Bytes::from(msg(16, 0, g, &[1; 16])), 0);
    let r: Vec<_> = m.completed().map(|c| (c.sink, c.seq)).collect();
    assert_eq!(r, vec![(100, g)]);
    // Nothing to hand over once completed, or once cancelled.
    assert_eq!(m.hand_over(7, 101), Err(101));
    let s = m.submit(8, req(16), Kind::Ack, 0);
    m.transmit(&mut out);
    m.cancel(8);
    assert_eq!(m.hand_over(8, 102), Err(102));
    m.receive(&Bytes::from(error(s, 0, 16, None)), 0);
    assert_eq!(
        m.completed().count(),
        0,
        "a cancelled request's reply is dropped"
    );
}

#[test]
fn a_late_reply_to_an_abandoned_request_never_reaches_the_next_one() {
    let mut m = Multiplexer::new(Config::default());
    let mut out = Vec::new();
    // Inline request 1 is handed over, then its caller goes away.
    let a = m.submit(1, req(16), Kind::Ack, 1);
    m.transmit(&mut out);
    out.clear();
    m.hand_over(1, 10).unwrap();
    m.cancel(1);
    assert!(!m.can_run_inline());
    // The next caller goes through the driver; it gets a new number, and
    // the reply to the abandoned one, arriving first, is dropped.
    let b = m.submit(2, req(16), Kind::Ack, 2);
    assert_ne!(a, b);
    m.transmit(&mut out);
    m.receive(&Bytes::from(error(a, -17, 16, None)), 0);
    assert_eq!(m.completed().count(), 0);
    m.receive(&Bytes::from(error(b, 0, 16, None)), 0);
    assert_eq!(done(&mut m), vec![(2, Outcome::Ack)]);
    assert_eq!(m.stats().late_dropped, 1);
    assert!(m.can_run_inline());
}

#[test]
fn a_single_ack_is_not_received_in_batches() {
    let mut m = Multiplexer::new(Config::default());
    let mut out = Vec::new();
    m.submit(1, req(16), Kind::Ack, 1);
    m.transmit(&mut out);
    assert!(!m.receive_acks_in_batches(), "one ack: one datagram");
    m.submit(2, req(16), Kind::Ack, 2);
    m.transmit(&mut out);
    assert!(m.receive_acks_in_batches(), "a burst of acks");
    m.submit(3, msg(18, F_REQUEST, 0, &[0; 16]), Kind::Get, 3);
    m.transmit(&mut out);
    assert!(!m.receive_acks_in_batches(), "a reply of any size is due");
}
