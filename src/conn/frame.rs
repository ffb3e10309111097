//! Netlink framing: headers, splitting datagrams into messages, and the
//! control messages (NLMSG_ERROR, NLMSG_DONE) with their extended-ACK TLVs.
//!
//! Everything here works on plain byte slices and never panics on any input:
//! the kernel is trusted to be right, but a bug or a foreign sender must turn
//! into an error, not a crash.

use std::ops::Range;

/// Length of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;

/// NLMSG_NOOP.
pub const NLMSG_NOOP: u16 = 1;
/// NLMSG_ERROR (also carries ACKs, with code 0).
pub const NLMSG_ERROR: u16 = 2;
/// NLMSG_DONE, the end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// NLMSG_OVERRUN (never sent by Linux, handled for completeness).
pub const NLMSG_OVERRUN: u16 = 4;

/// NLM_F_REQUEST.
pub const F_REQUEST: u16 = 0x01;
/// NLM_F_MULTI: part of a multipart reply.
pub const F_MULTI: u16 = 0x02;
/// NLM_F_ACK: ask for an acknowledgement.
pub const F_ACK: u16 = 0x04;
/// NLM_F_DUMP (ROOT | MATCH).
pub const F_DUMP: u16 = 0x300;
/// NLM_F_DUMP_INTR: the dump was interrupted by a concurrent change.
pub const F_DUMP_INTR: u16 = 0x10;
/// NLM_F_CAPPED: the error message carries only the request's header.
pub const F_CAPPED: u16 = 0x100;
/// NLM_F_ACK_TLVS: extended-ACK attributes follow.
pub const F_ACK_TLVS: u16 = 0x200;

const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

/// Rounds up to the 4-byte netlink alignment.
#[inline]
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// A parsed `struct nlmsghdr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// Total length of the message, header included.
    pub len: u32,
    /// Message type.
    pub ty: u16,
    /// NLM_F_* flags.
    pub flags: u16,
    /// Sequence number.
    pub seq: u32,
    /// Sender port id (0 = kernel).
    pub pid: u32,
}

impl Header {
    /// Reads a header from the first 16 bytes of `buf`, if there are that many.
    #[inline]
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let b = buf.get(..HEADER_LEN)?;
        Some(Header {
            len: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            ty: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            pid: u32::from_ne_bytes([b[12], b[13], b[14], b[15]]),
        })
    }

    /// Writes the header into the first 16 bytes of `buf` (which must hold them).
    pub fn write(&self, buf: &mut [u8]) {
        buf[0..4].copy_from_slice(&self.len.to_ne_bytes());
        buf[4..6].copy_from_slice(&self.ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        buf[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        buf[12..16].copy_from_slice(&self.pid.to_ne_bytes());
    }
}

/// Overwrites the sequence number of a serialized message.
#[inline]
pub fn set_seq(msg: &mut [u8], seq: u32) {
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
}

/// One message of a datagram, or the reason the rest of it is unreadable.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A well-formed message: its header and its byte range in the datagram
    /// (header included, padding excluded).
    Message(Header, Range<usize>),
    /// The remaining bytes do not form a message. `header` is set when at
    /// least a header could be read, so the error can go to its request.
    Malformed {
        /// The header, if 16 bytes were available.
        header: Option<Header>,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Iterates the messages of one datagram. Stops after the first malformed one,
/// since a bad length makes everything after it unreadable.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Frames<'a> {
    /// Splits `buf`, starting at offset `pos`.
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Frames { buf, pos }
    }

    /// Offset of the next unread message.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Iterator for Frames<'_> {
    type Item = Frame;

    #[inline]
    fn next(&mut self) -> Option<Frame> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            return None;
        }
        let start = self.pos;
        // Whatever happens below, a malformed frame ends the iteration.
        self.pos = self.buf.len();
        let Some(header) = Header::parse(rest) else {
            return Some(Frame::Malformed {
                header: None,
                reason: "datagram ends inside a message header",
            });
        };
        let len = header.len as usize;
        if len < HEADER_LEN {
            return Some(Frame::Malformed {
                header: Some(header),
                reason: "message length shorter than its header",
            });
        }
        if len > rest.len() {
            return Some(Frame::Malformed {
                header: Some(header),
                reason: "message truncated: length exceeds the datagram",
            });
        }
        self.pos = (start + align(len)).min(self.buf.len());
        Some(Frame::Message(header, start..start + len))
    }
}

/// What an NLMSG_ERROR or NLMSG_DONE carried: the code and the extended ACK.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// 0 for success, otherwise a negative errno.
    pub code: i32,
    /// NLMSGERR_ATTR_MSG: the kernel's explanation.
    pub message: Option<String>,
    /// NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request.
    pub offset: Option<u32>,
    /// The type of the request this answers (NLMSG_ERROR only).
    pub request_type: Option<u16>,
}

fn read_i32(b: &[u8]) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

/// Parses extended-ACK TLVs into `status`. Unknown attributes are skipped;
/// a malformed TLV ends parsing (what was read so far is kept).
fn parse_ext_ack(mut tlvs: &[u8], status: &mut Status) {
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let ty = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            return;
        }
        let value = &tlvs[4..len];
        match ty {
            NLMSGERR_ATTR_MSG => {
                let text = value.split(|&c| c == 0).next().unwrap_or(&[]);
                status.message = Some(String::from_utf8_lossy(text).into_owned());
            }
            NLMSGERR_ATTR_OFFS if value.len() >= 4 => {
                status.offset = Some(u32::from_ne_bytes([value[0], value[1], value[2], value[3]]));
            }
            _ => {}
        }
        tlvs = tlvs.get(align(len)..).unwrap_or(&[]);
    }
}

/// Parses the payload of an NLMSG_ERROR message (`payload` excludes the header).
pub fn parse_error(header: &Header, payload: &[u8]) -> Result<Status, &'static str> {
    let code = read_i32(payload).ok_or("NLMSG_ERROR shorter than its error code")?;
    if code > 0 {
        return Err("NLMSG_ERROR with a positive error code");
    }
    let orig = Header::parse(&payload[4..]).ok_or("NLMSG_ERROR without the request header")?;
    let mut status = Status {
        code,
        request_type: Some(orig.ty),
        ..Status::default()
    };
    // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
    let echoed = if header.flags & F_CAPPED != 0 || code == 0 {
        HEADER_LEN
    } else {
        align(orig.len as usize).max(HEADER_LEN)
    };
    if header.flags & F_ACK_TLVS != 0
        && let Some(tlvs) = payload.get(4 + echoed..)
    {
        parse_ext_ack(tlvs, &mut status);
    }
    Ok(status)
}

/// Parses the payload of an NLMSG_DONE message. Some families send no code
/// at all, which counts as success.
pub fn parse_done(header: &Header, payload: &[u8]) -> Status {
    let mut status = Status {
        code: read_i32(payload).unwrap_or(0),
        ..Status::default()
    };
    if header.flags & F_ACK_TLVS != 0
        && let Some(tlvs) = payload.get(4..)
    {
        parse_ext_ack(tlvs, &mut status);
    }
    status
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a message with the given header fields and payload.
    pub fn msg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; HEADER_LEN];
        Header {
            len: (HEADER_LEN + payload.len()) as u32,
            ty,
            flags,
            seq,
            pid: 0,
        }
        .write(&mut v);
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    /// Builds an NLMSG_ERROR answering a request of type `req_ty`, with
    /// optional extended-ACK text (the kernel's CAPPED layout).
    pub fn error(seq: u32, code: i32, req_ty: u16, text: Option<&str>) -> Vec<u8> {
        let mut p = code.to_ne_bytes().to_vec();
        let mut orig = [0u8; HEADER_LEN];
        Header {
            len: 40,
            ty: req_ty,
            flags: F_REQUEST | F_ACK,
            seq,
            pid: 99,
        }
        .write(&mut orig);
        p.extend_from_slice(&orig);
        let mut flags = F_CAPPED;
        if let Some(t) = text {
            flags |= F_ACK_TLVS;
            let mut v = t.as_bytes().to_vec();
            v.push(0);
            p.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
            p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
            p.extend_from_slice(&v);
            while !p.len().is_multiple_of(4) {
                p.push(0);
            }
            p.extend_from_slice(&8u16.to_ne_bytes());
            p.extend_from_slice(&NLMSGERR_ATTR_OFFS.to_ne_bytes());
            p.extend_from_slice(&20u32.to_ne_bytes());
        }
        msg(NLMSG_ERROR, flags, seq, &p)
    }

    #[test]
    fn splits_aligned_messages() {
        let mut d = msg(16, 0, 1, &[1, 2, 3]); // 19 bytes, padded to 20
        d.extend(msg(16, 0, 2, &[]));
        let frames: Vec<_> = Frames::new(&d, 0).collect();
        assert_eq!(frames.len(), 2);
        match &frames[0] {
            Frame::Message(h, r) => {
                assert_eq!((h.seq, r.clone()), (1, 0..19));
            }
            f => panic!("{f:?}"),
        }
        match &frames[1] {
            Frame::Message(h, r) => assert_eq!((h.seq, r.clone()), (2, 20..36)),
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn last_message_without_padding_is_accepted() {
        let mut d = msg(16, 0, 1, &[1, 2, 3]);
        d.truncate(19);
        assert!(matches!(Frames::new(&d, 0).next(), Some(Frame::Message(_, r)) if r == (0..19)));
    }

    #[test]
    fn truncated_and_short_messages_are_malformed_with_header() {
        let mut d = msg(16, 0, 7, &[0; 8]);
        d.truncate(20);
        let f: Vec<_> = Frames::new(&d, 0).collect();
        assert!(matches!(&f[..], [Frame::Malformed { header: Some(h), .. }] if h.seq == 7));

        let mut d = msg(16, 0, 8, &[]);
        d[0..4].copy_from_slice(&3u32.to_ne_bytes());
        let f: Vec<_> = Frames::new(&d, 0).collect();
        assert!(matches!(&f[..], [Frame::Malformed { header: Some(h), .. }] if h.seq == 8));

        let f: Vec<_> = Frames::new(&[1, 2, 3], 0).collect();
        assert!(matches!(&f[..], [Frame::Malformed { header: None, .. }]));
    }

    #[test]
    fn no_panic_on_any_short_or_garbage_input() {
        // Every prefix of a valid datagram and a spread of garbage must parse
        // without panicking.
        let mut d = error(5, -17, 16, Some("boom"));
        d.extend(msg(
            NLMSG_DONE,
            F_MULTI | F_ACK_TLVS,
            5,
            &(-4i32).to_ne_bytes(),
        ));
        for n in 0..=d.len() {
            for f in Frames::new(&d[..n], 0) {
                if let Frame::Message(h, r) = f {
                    let p = &d[r.start + HEADER_LEN..r.end];
                    let _ = parse_error(&h, p);
                    let _ = parse_done(&h, p);
                }
            }
        }
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            let buf: Vec<u8> = (0..64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            for f in Frames::new(&buf, 0) {
                if let Frame::Message(h, r) = f {
                    let p = &buf[r.start + HEADER_LEN..r.end];
                    let _ = parse_error(&h, p);
                    let _ = parse_done(&h, p);
                }
            }
            let h = Header::parse(&buf).unwrap();
            let _ = parse_error(&h, &buf[16..]);
            let _ = parse_done(&h, &buf[16..]);
        }
    }

    #[test]
    fn error_with_extended_ack() {
        let d = error(3, -95, 16, Some("Unknown device type"));
        let h = Header::parse(&d).unwrap();
        let s = parse_error(&h, &d[HEADER_LEN..]).unwrap();
        assert_eq!(s.code, -95);
        assert_eq!(s.message.as_deref(), Some("Unknown device type"));
        assert_eq!(s.offset, Some(20));
        assert_eq!(s.request_type, Some(16));
    }

    #[test]
    fn uncapped_error_skips_the_echoed_request() {
        // code, then the full 24-byte request, then a TLV.
        let mut p = (-22i32).to_ne_bytes().to_vec();
        let mut orig = msg(24, F_REQUEST, 9, &[0xAA; 8]);
        p.append(&mut orig);
        p.extend_from_slice(&8u16.to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(b"bad\0");
        let d = msg(NLMSG_ERROR, F_ACK_TLVS, 9, &p);
        let h = Header::parse(&d).unwrap();
        let s = parse_error(&h, &d[HEADER_LEN..]).unwrap();
        assert_eq!((s.code, s.message.as_deref()), (-22, Some("bad")));
    }

    #[test]
    fn done_codes() {
        let d = msg(NLMSG_DONE, F_MULTI, 1, &[]);
        let h = Header::parse(&d).unwrap();
        assert_eq!(parse_done(&h, &d[16..]).code, 0);
        let d = msg(NLMSG_DONE, F_MULTI, 1, &(-16i32).to_ne_bytes());
        assert_eq!(parse_done(&h, &d[16..]).code, -16);
    }

    #[test]
    fn positive_error_code_is_malformed() {
        let d = error(3, 5, 16, None);
        let h = Header::parse(&d).unwrap();
        assert!(parse_error(&h, &d[16..]).is_err());
    }
}
