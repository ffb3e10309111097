//! Lazy access to the attributes of a received message.
//!
//! Decoding every attribute of every message costs more than the kernel's
//! dump itself, so typed views keep the message bytes (a zero-copy slice of
//! the receive buffer), index the top-level attributes in one pass over
//! their headers, and decode a value only when it is asked for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{NLA_TYPE_MASK, Nla};

use crate::conn::RawMessage;
use crate::conn::frame::{HEADER_LEN, align};
use crate::error::{Error, RequestKind, Result};

/// Which attribute types (below 64) a message holds: a lookup of an absent
/// attribute costs nothing, a present one a short scan from the first
/// attribute. Measured on a 100,000-route dump, this beat an offset table:
/// a view is 8 bytes of index instead of 2 per type (views are moved through
/// streams), and filling the table stalled on store forwarding. `N` is the
/// family's highest attribute type, for documentation.
#[derive(Clone)]
pub(crate) struct AttrIndex<const N: usize> {
    present: u64,
}

impl<const N: usize> std::fmt::Debug for AttrIndex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present: Vec<u16> = (0..64).filter(|&t| self.has(t)).collect();
        f.debug_struct("AttrIndex")
            .field("present", &present)
            .finish()
    }
}

impl<const N: usize> AttrIndex<N> {
    /// Indexes the attributes of `msg` that start at `start` (the netlink
    /// header plus the family's fixed header). Stops at a malformed header;
    /// what came before stays reachable.
    #[inline]
    pub fn build(msg: &[u8], start: usize) -> Self {
        let mut present = 0u64;
        for (_, ty, _) in Attrs::new(msg, start) {
            if ty < 64 {
                present |= 1 << ty;
            }
        }
        AttrIndex { present }
    }

    /// False when attribute `ty` is certainly absent.
    #[inline]
    fn has(&self, ty: u16) -> bool {
        ty >= 64 || self.present & (1 << ty) != 0
    }

    /// The value of attribute `ty`, if present (the first one if repeated).
    #[inline]
    pub fn get<'a>(&self, msg: &'a [u8], start: usize, ty: u16) -> Option<&'a [u8]> {
        self.get_whole(msg, start, ty).map(|a| &a[4..])
    }

    /// Attribute `ty` whole (header included), for handing to a decoder.
    #[inline]
    pub fn get_whole<'a>(&self, msg: &'a [u8], start: usize, ty: u16) -> Option<&'a [u8]> {
        if !self.has(ty) {
            return None;
        }
        let (off, _, value) = Attrs::new(msg, start).find(|&(_, t, _)| t == ty)?;
        msg.get(off..off + 4 + value.len())
    }
}

/// A received message of one family with its top-level attributes indexed:
/// the common part of every lazily decoded view (`Link`, `Route`, …).
#[derive(Clone)]
pub(crate) struct Indexed<const N: usize> {
    /// The message.
    pub raw: RawMessage,
    idx: AttrIndex<N>,
    start: usize,
}

impl<const N: usize> Indexed<N> {
    /// Checks that `raw` is a `new_ty` message (or its DEL twin, `new_ty + 1`)
    /// with a fixed family header of `fixed` bytes, and indexes it.
    #[inline]
    pub fn new(raw: RawMessage, new_ty: u16, fixed: usize, request: RequestKind) -> Result<Self> {
        let start = attrs_start(fixed);
        let ty = raw.header.ty;
        if (ty != new_ty && ty != new_ty + 1) || raw.bytes.len() < start {
            return Err(Error::Decode {
                request,
                reason: format!(
                    "expected message type {new_ty} of at least {start} bytes, got type {ty} of {} bytes",
                    raw.bytes.len()
                ),
            });
        }
        let idx = AttrIndex::build(&raw.bytes, start);
        Ok(Indexed { raw, idx, start })
    }

    /// For messages of one type told apart by their family byte (the first
    /// of the fixed header), as sock_diag replies are: checks that `raw`
    /// has a `what` of `fixed` bytes (e.g. "an inet_diag_msg") of one of
    /// `families`, and indexes it. The message type is not checked.
    pub fn of_family(
        raw: RawMessage,
        families: &[u8],
        fixed: usize,
        what: &str,
        request: RequestKind,
    ) -> Result<Self> {
        let start = attrs_start(fixed);
        let family = raw.bytes.get(HEADER_LEN).copied();
        if raw.bytes.len() < start || !family.is_some_and(|f| families.contains(&f)) {
            return Err(Error::Decode {
                request,
                reason: format!(
                    "expected {what} of at least {start} bytes, got {} bytes of family {family:?}",
                    raw.bytes.len()
                ),
            });
        }
        let idx = AttrIndex::build(&raw.bytes, start);
        Ok(Indexed { raw, idx, start })
    }

    /// The fixed family header (padded to 4 bytes).
    pub fn header(&self) -> &[u8] {
        &self.raw.bytes[HEADER_LEN..self.start]
    }

    /// Everything after the netlink header: fixed header and attributes.
    pub fn payload(&self) -> &[u8] {
        &self.raw.bytes[HEADER_LEN..]
    }

    /// Byte `i` of the fixed family header.
    #[inline]
    pub fn fixed(&self, i: usize) -> u8 {
        self.raw.bytes[HEADER_LEN + i]
    }

    /// A little-endian-native u32 of the fixed header at offset `i`.
    #[inline]
    pub fn fixed_u32(&self, i: usize) -> u32 {
        let b = &self.raw.bytes[HEADER_LEN + i..HEADER_LEN + i + 4];
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The value of attribute `ty`.
    #[inline]
    pub fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.idx.get(&self.raw.bytes, self.start, ty)
    }

    /// Attribute `ty` whole, header included (for a decoder).
    #[inline]
    pub fn attr_whole(&self, ty: u16) -> Option<&[u8]> {
        self.idx.get_whole(&self.raw.bytes, self.start, ty)
    }

    /// A u32 attribute.
    #[inline]
    pub fn u32_attr(&self, ty: u16) -> Option<u32> {
        self.attr(ty).and_then(u32_of)
    }

    /// Every top-level attribute as `(type, value)`.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        Attrs::new(&self.raw.bytes, self.start).map(|(_, t, v)| (t, v))
    }
}

/// Iterates `(offset, type, value)` of the attributes in `buf[start..]`,
/// stopping at the first malformed one.
#[derive(Debug, Clone)]
pub(crate) struct Attrs<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Attrs<'a> {
    #[inline]
    pub fn new(buf: &'a [u8], start: usize) -> Self {
        Attrs { buf, pos: start }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (usize, u16, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..)?;
        if rest.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > rest.len() {
            self.pos = self.buf.len();
            return None;
        }
        let off = self.pos;
        self.pos += align(len);
        Some((off, ty, &rest[4..len]))
    }
}

/// Nested attributes of a value: `(type, value)`.
pub(crate) fn nested(value: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    Attrs::new(value, 0).map(|(_, t, v)| (t, v))
}

/// Finds a nested attribute.
#[inline]
pub(crate) fn nested_get(value: &[u8], ty: u16) -> Option<&[u8]> {
    nested(value).find(|&(t, _)| t == ty).map(|(_, v)| v)
}

#[inline]
pub(crate) fn u8_of(v: &[u8]) -> Option<u8> {
    v.first().copied()
}

#[inline]
pub(crate) fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

#[inline]
pub(crate) fn i32_of(v: &[u8]) -> Option<i32> {
    Some(i32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

/// A NUL-terminated (or not) string attribute.
#[inline]
pub(crate) fn str_of(v: &[u8]) -> Option<&str> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    std::str::from_utf8(&v[..end]).ok()
}

/// An address attribute: 4 bytes IPv4, 16 bytes IPv6.
#[inline]
pub(crate) fn ip_of(v: &[u8]) -> Option<IpAddr> {
    match v.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))),
        16 => {
            let b: [u8; 16] = v.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// The largest attribute value: nla_len is 16 bits and counts the 4-byte
/// header. netlink-packet-core casts longer lengths to u16 silently, so a
/// longer value would wrap and the kernel would read the rest of it as
/// further attributes.
pub(crate) const NLA_VALUE_MAX: usize = u16::MAX as usize - 4;

/// Refuses an attribute to be sent whose value does not fit its 16-bit
/// length. Checking the top-level attributes covers their nests too: a
/// nested attribute is shorter than the nest holding it.
pub(crate) fn check_fits<T: Nla>(field: &'static str, nla: &T) -> Result<()> {
    let len = nla.value_len();
    if len > NLA_VALUE_MAX {
        return Err(Error::invalid(
            field,
            format!(
                "attribute type {} would be {len} bytes; a netlink attribute holds at most {NLA_VALUE_MAX}",
                nla.kind()
            ),
        ));
    }
    Ok(())
}

/// Refuses a string that would not reach the kernel as given in a netlink
/// string attribute: one holding a NUL (the kernel reads up to the first,
/// so `"eth0\0junk"` would name eth0) or longer than `max` bytes, the
/// attribute policy's limit without the terminating NUL.
pub(crate) fn check_string(field: &'static str, s: &str, max: usize) -> Result<()> {
    if let Some(at) = s.bytes().position(|b| b == 0) {
        return Err(Error::invalid(
            field,
            format!(
                "{:?} holds a NUL byte at {at}; the kernel would read only {:?}",
                short(s),
                short(&s[..at])
            ),
        ));
    }
    if s.len() > max {
        return Err(Error::invalid(
            field,
            format!("{:?} is {} bytes, longer than {max}", short(s), s.len()),
        ));
    }
    Ok(())
}

/// `s`, or its first 64 characters and an ellipsis, for error messages.
fn short(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &s[..at]).into(),
        None => s.into(),
    }
}

/// Start of the attributes after a fixed family header of `fixed` bytes.
pub(crate) const fn attrs_start(fixed: usize) -> usize {
    HEADER_LEN + align(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline]
    fn attr(ty: u16, v: &[u8]) -> Vec<u8> {
        let mut out = ((4 + v.len()) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(v);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out
    }

    #[test]
    fn index_and_scan() {
        let mut m = vec![0u8; 20];
        m.extend(attr(3, b"eth0\0"));
        m.extend(attr(4, &1500u32.to_ne_bytes()));
        m.extend(attr(100, &7u32.to_ne_bytes()));
        m.extend(attr(3, b"dup\0"));
        let idx = AttrIndex::<64>::build(&m, 20);
        assert_eq!(
            str_of(idx.get(&m, 20, 3).unwrap()),
            Some("eth0"),
            "first wins"
        );
        assert_eq!(u32_of(idx.get(&m, 20, 4).unwrap()), Some(1500));
        assert_eq!(
            u32_of(idx.get(&m, 20, 100).unwrap()),
            Some(7),
            "beyond N: scanned"
        );
        assert!(idx.get(&m, 20, 5).is_none());
        assert_eq!(idx.get_whole(&m, 20, 4).unwrap().len(), 8);
    }

    #[test]
    fn attributes_beyond_64k_are_found() {
        let mut m = vec![0u8; 20];
        m.extend(attr(3, b"near\0"));
        while m.len() < 70_000 {
            m.extend(attr(9, &[0; 1000]));
        }
        m.extend(attr(4, &1500u32.to_ne_bytes()));
        let idx = AttrIndex::<16>::build(&m, 20);
        assert_eq!(str_of(idx.get(&m, 20, 3).unwrap()), Some("near"));
        assert_eq!(u32_of(idx.get(&m, 20, 4).unwrap()), Some(1500));
        assert_eq!(idx.get(&m, 20, 9).unwrap().len(), 1000);
        assert!(idx.get(&m, 20, 5).is_none());
    }

    #[test]
    fn of_family_checks_the_family_byte_and_length() {
        use crate::conn::frame::Header;
        let raw = |family: u8, extra: &[u8]| {
            let mut b = vec![0u8; HEADER_LEN + 4];
            b[HEADER_LEN] = family;
            b.extend_from_slice(extra);
            let header = Header {
                len: b.len() as u32,
                ty: 20,
                flags: 0,
                seq: 1,
                pid: 0,
            };
            header.write(&mut b);
            RawMessage {
                header,
                bytes: bytes::Bytes::from(b),
            }
        };
        let req = RequestKind {
            message_type: 20,
            name: None,
        };
        let m = Indexed::<8>::of_family(raw(2, &attr(3, &[7; 4])), &[2, 10], 4, "x", req).unwrap();
        assert_eq!(m.header(), &[2, 0, 0, 0]);
        assert_eq!(m.u32_attr(3), Some(0x0707_0707));
        assert_eq!(m.payload().len(), 4 + 8);
        let Err(e) = Indexed::<8>::of_family(raw(1, &[]), &[2, 10], 4, "an x", req) else {
            panic!("family 1 accepted");
        };
        assert!(e.to_string().contains("expected an x"), "{e}");
        assert!(Indexed::<8>::of_family(raw(2, &[]), &[2], 8, "x", req).is_err());
    }

    #[test]
    fn malformed_attributes_stop_the_scan_without_panic() {
        let mut m = vec![0u8; 20];
        m.extend(attr(4, &1500u32.to_ne_bytes()));
        m.extend_from_slice(&[200, 0, 5, 0, 1, 2]);
        let idx = AttrIndex::<8>::build(&m, 20);
        assert!(idx.get(&m, 20, 4).is_some());
        assert!(idx.get(&m, 20, 5).is_none());
        for n in 0..m.len() {
            let idx = AttrIndex::<8>::build(&m[..n], 20);
            let _ = idx.get(&m[..n], 20, 4);
            let _ = idx.get(&m[..n], 20, 50);
        }
        assert_eq!(ip_of(&[10, 0, 0, 1]), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(ip_of(&[1, 2, 3]), None);
        assert_eq!(str_of(b"abc"), Some("abc"));
    }

    #[test]
    fn strings_with_a_nul_or_too_long_are_refused() {
        check_string("alias", "", 255).unwrap();
        check_string("alias", &"a".repeat(255), 255).unwrap();
        for (bad, what) in [("lo\0junk", "NUL byte at 2"), ("\0", "NUL byte at 0")] {
            let e = check_string("name", bad, 15).unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { field: "name", .. }),
                "{bad:?}"
            );
            assert!(e.to_string().contains(what), "{e}");
        }
        let e = check_string("alias", &"é".repeat(40_000), 255).unwrap_err();
        assert!(
            e.to_string().contains("80000 bytes, longer than 255"),
            "{e}"
        );
        assert!(e.to_string().len() < 300, "the message is shortened: {e}");
    }

    #[test]
    fn attributes_longer_than_nla_len_are_refused() {
        use netlink_packet_core::DefaultNla;
        check_fits("x", &DefaultNla::new(1, vec![0; NLA_VALUE_MAX])).unwrap();
        let e = check_fits("alias", &DefaultNla::new(20, vec![0; NLA_VALUE_MAX + 1])).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field: "alias", .. }));
        assert!(
            e.to_string()
                .contains("attribute type 20 would be 65532 bytes"),
            "{e}"
        );
    }
}
