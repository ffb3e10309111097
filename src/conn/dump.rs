//! The sans-I/O rules of one dump on its own socket: which messages are
//! items, when the dump ends and how.

use bytes::Bytes;

use super::frame::{self, F_DUMP_INTR, Frame, HEADER_LEN, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP};
use super::frame::{NLMSG_OVERRUN, Status};

/// How a dump ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// NLMSG_ERROR, or NLMSG_DONE with a negative code.
    Kernel(Status),
    /// NLM_F_DUMP_INTR on a message.
    Interrupted,
    /// A message that could not be framed or parsed.
    Malformed(&'static str),
}

/// What to do with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An item of the dump: its byte range in the datagram (header
    /// included, padding excluded).
    Item(std::ops::Range<usize>),
    /// Nothing to yield (NOOP, a stale message from another sequence).
    Skip,
    /// The dump is over.
    End(Result<(), Failure>),
}

/// One dump's state.
#[derive(Debug, Clone)]
pub struct DumpReader {
    seq: u32,
    ended: Option<bool>,
    /// Datagrams dropped because the kernel did not send them.
    pub foreign_dropped: u64,
    /// Messages of another sequence number, skipped.
    pub stale_skipped: u64,
}

impl DumpReader {
    /// A reader for the dump sent with sequence number `seq`.
    pub fn new(seq: u32) -> Self {
        DumpReader {
            seq,
            ended: None,
            foreign_dropped: 0,
            stale_skipped: 0,
        }
    }

    /// Whether to look at a datagram from `sender` at all.
    #[inline]
    pub fn accept(&mut self, sender: u32) -> bool {
        if sender != 0 {
            self.foreign_dropped += 1;
            tracing::warn!(sender, "dropped a netlink datagram not sent by the kernel");
        }
        sender == 0
    }

    /// True once the dump has ended.
    #[inline]
    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// True when the dump ran to its end and the kernel holds no more of it,
    /// so its socket can serve another dump.
    pub fn is_clean(&self) -> bool {
        self.ended == Some(true)
    }

    /// Handles one frame of a datagram.
    #[inline]
    pub fn step(&mut self, frame: Frame, datagram: &Bytes) -> Step {
        if self.ended.is_some() {
            return Step::Skip;
        }
        let (h, range) = match frame {
            Frame::Message(h, r) => (h, r),
            Frame::Malformed { reason, .. } => return self.end(Err(Failure::Malformed(reason))),
        };
        if h.seq != self.seq {
            self.stale_skipped += 1;
            return Step::Skip;
        }
        let payload = &datagram[range.start + HEADER_LEN..range.end];
        if h.flags & F_DUMP_INTR != 0 {
            return self.end(Err(Failure::Interrupted));
        }
        match h.ty {
            NLMSG_NOOP => Step::Skip,
            NLMSG_DONE => {
                let status = frame::parse_done(&h, payload);
                if status.code < 0 {
                    self.end(Err(Failure::Kernel(status)))
                } else {
                    self.end(Ok(()))
                }
            }
            NLMSG_ERROR => match frame::parse_error(&h, payload) {
                Ok(s) if s.code == 0 => self.end(Ok(())),
                Ok(s) => self.end(Err(Failure::Kernel(s))),
                Err(reason) => self.end(Err(Failure::Malformed(reason))),
            },
            NLMSG_OVERRUN => self.end(Err(Failure::Malformed("NLMSG_OVERRUN in a dump"))),
            _ => Step::Item(range),
        }
    }

    fn end(&mut self, r: Result<(), Failure>) -> Step {
        // A kernel error ends the dump on the kernel's side too; anything else
        // may leave the rest of the dump queued on the socket.
        self.ended = Some(matches!(r, Ok(()) | Err(Failure::Kernel(_))));
        Step::End(r)
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::tests::{error, msg};
    use super::super::frame::{F_MULTI, Frames};
    use super::*;

    fn run(r: &mut DumpReader, d: Vec<u8>) -> Vec<Step> {
        let d = Bytes::from(d);
        Frames::new(&d, 0).map(|f| r.step(f, &d)).collect()
    }

    #[test]
    fn items_then_done() {
        let mut r = DumpReader::new(5);
        let mut d = msg(16, F_MULTI, 5, &[1; 8]);
        d.extend(msg(16, F_MULTI, 5, &[2; 8]));
        let s = run(&mut r, d);
        assert!(matches!(&s[..], [Step::Item(a), Step::Item(b)] if a.len() == 24 && b.start == 24));
        assert!(!r.is_ended());
        let s = run(&mut r, msg(NLMSG_DONE, F_MULTI, 5, &0i32.to_ne_bytes()));
        assert_eq!(s, vec![Step::End(Ok(()))]);
        assert!(r.is_clean());
    }

    #[test]
    fn negative_done_code_is_an_error() {
        let mut r = DumpReader::new(5);
        let s = run(&mut r, msg(NLMSG_DONE, F_MULTI, 5, &(-16i32).to_ne_bytes()));
        assert!(matches!(&s[..], [Step::End(Err(Failure::Kernel(st)))] if st.code == -16));
    }

    #[test]
    fn error_instead_of_dump() {
        let mut r = DumpReader::new(5);
        let s = run(&mut r, error(5, -22, 18, Some("strict check")));
        assert!(
            matches!(&s[..], [Step::End(Err(Failure::Kernel(st)))] if st.message.as_deref() == Some("strict check"))
        );
        assert!(r.is_clean());
    }

    #[test]
    fn interrupted_ends_after_earlier_items() {
        let mut r = DumpReader::new(5);
        let mut d = msg(16, F_MULTI, 5, &[1; 8]);
        d.extend(msg(16, F_MULTI | F_DUMP_INTR, 5, &[2; 8]));
        d.extend(msg(16, F_MULTI, 5, &[3; 8]));
        let s = run(&mut r, d);
        assert!(matches!(s[0], Step::Item(_)));
        assert_eq!(s[1], Step::End(Err(Failure::Interrupted)));
        assert_eq!(s[2], Step::Skip);
        assert!(!r.is_clean(), "the rest of the dump may still be queued");
    }

    #[test]
    fn stale_and_foreign_are_skipped() {
        let mut r = DumpReader::new(5);
        assert!(!r.accept(99));
        assert!(r.accept(0));
        assert_eq!(r.foreign_dropped, 1);
        let s = run(&mut r, msg(16, F_MULTI, 4, &[1; 8]));
        assert_eq!(s, vec![Step::Skip]);
        assert_eq!(r.stale_skipped, 1);
    }

    #[test]
    fn truncated_message_is_an_error_item() {
        let mut r = DumpReader::new(5);
        let mut d = msg(16, F_MULTI, 5, &[1; 8]);
        let mut t = msg(16, F_MULTI, 5, &[1; 40]);
        t.truncate(20);
        d.extend(t);
        let s = run(&mut r, d);
        assert!(matches!(s[0], Step::Item(_)));
        assert!(matches!(s[1], Step::End(Err(Failure::Malformed(_)))));
    }
}
