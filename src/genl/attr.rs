//! Attributes of generic netlink messages: [`AttrBuilder`] writes them,
//! [`Attributes`] reads them. Integers are in host order unless a method
//! says otherwise (generic netlink families mostly use host order).

use crate::conn::attrs::{Attrs, NLA_VALUE_MAX, check_string};
use crate::conn::frame::align;
use crate::error::{Error, Result};

/// NLA_F_NESTED: the attribute holds attributes.
pub const NLA_F_NESTED: u16 = 0x8000;
/// NLA_F_NET_BYTEORDER: the value is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
/// The bits of `nla_type` that are the type (the rest are the flags).
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Attributes under construction, each padded to 4 bytes. Bad input (a
/// type using the flag bits, a value longer than an attribute holds, a
/// string with a NUL) is kept and returned by [`finish`](Self::finish), so
/// a chain of calls never panics.
///
/// ```
/// use tokio_netlink::genl::AttrBuilder;
/// let attrs = AttrBuilder::new()
///     .str(2, "nlctrl")
///     .nested(6, |b| b.nested(1, |b| b.u32(1, 3).u32(2, 0xe)))
///     .finish()
///     .unwrap();
/// assert_eq!(attrs.len(), 12 + 24);
/// ```
#[derive(Debug, Default)]
pub struct AttrBuilder {
    buf: Vec<u8>,
    err: Option<Error>,
}

impl AttrBuilder {
    /// No attributes yet.
    pub fn new() -> AttrBuilder {
        AttrBuilder::default()
    }

    /// An attribute of type `ty` holding `value` as is.
    pub fn bytes(self, ty: u16, value: &[u8]) -> Self {
        self.put(ty, 0, value)
    }

    /// A flag: an attribute with no value.
    pub fn flag(self, ty: u16) -> Self {
        self.put(ty, 0, &[])
    }

    /// A u8.
    pub fn u8(self, ty: u16, v: u8) -> Self {
        self.put(ty, 0, &[v])
    }

    /// A u16, host order.
    pub fn u16(self, ty: u16, v: u16) -> Self {
        self.put(ty, 0, &v.to_ne_bytes())
    }

    /// A u32, host order.
    pub fn u32(self, ty: u16, v: u32) -> Self {
        self.put(ty, 0, &v.to_ne_bytes())
    }

    /// A u64, host order.
    pub fn u64(self, ty: u16, v: u64) -> Self {
        self.put(ty, 0, &v.to_ne_bytes())
    }

    /// A u16 in network order (flagged NLA_F_NET_BYTEORDER).
    pub fn be16(self, ty: u16, v: u16) -> Self {
        self.put(ty, NLA_F_NET_BYTEORDER, &v.to_be_bytes())
    }

    /// A u32 in network order (flagged NLA_F_NET_BYTEORDER).
    pub fn be32(self, ty: u16, v: u32) -> Self {
        self.put(ty, NLA_F_NET_BYTEORDER, &v.to_be_bytes())
    }

    /// A NUL-terminated string. A NUL inside `s` is refused: the kernel
    /// would read only what comes before it.
    pub fn str(mut self, ty: u16, s: &str) -> Self {
        if let Err(e) = check_string("attribute", s, NLA_VALUE_MAX - 1) {
            self.fail(ty, e);
            return self;
        }
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.put(ty, 0, &v)
    }

    /// A nest of type `ty` (flagged NLA_F_NESTED) holding the attributes
    /// `f` adds.
    pub fn nested(mut self, ty: u16, f: impl FnOnce(AttrBuilder) -> AttrBuilder) -> Self {
        let inner = f(AttrBuilder::new());
        if let Some(e) = inner.err {
            self.err.get_or_insert(e);
            return self;
        }
        self.put(ty, NLA_F_NESTED, &inner.buf)
    }

    /// The encoded attributes, or the first input error.
    pub fn finish(self) -> Result<Vec<u8>> {
        match self.err {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }

    fn put(mut self, ty: u16, flags: u16, value: &[u8]) -> Self {
        if self.err.is_some() {
            return self;
        }
        if ty & !NLA_TYPE_MASK != 0 {
            let e = Error::invalid("attribute", "the type uses the flag bits 0xc000");
            self.fail(ty, e);
        } else if value.len() > NLA_VALUE_MAX {
            let why = format!("{} bytes, an attribute holds {NLA_VALUE_MAX}", value.len());
            self.fail(ty, Error::invalid("attribute", why));
        } else {
            let len = (4 + value.len()) as u16;
            self.buf.extend_from_slice(&len.to_ne_bytes());
            self.buf.extend_from_slice(&(ty | flags).to_ne_bytes());
            self.buf.extend_from_slice(value);
            self.buf.resize(align(self.buf.len()), 0);
        }
        self
    }

    /// Keeps the first error, naming the attribute's type.
    fn fail(&mut self, ty: u16, e: Error) {
        let reason = match e {
            Error::InvalidInput { reason, .. } => reason,
            other => other.to_string(),
        };
        let e = Error::invalid("attribute", format!("type {ty}: {reason}"));
        self.err.get_or_insert(e);
    }
}

/// The attributes in a buffer, in order. A malformed attribute header (a
/// length below 4 or beyond the buffer) ends the iteration, and
/// [`truncated`](Self::truncated) then says so: no input makes it panic.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    walk: Attrs<'a>,
    /// Where the attributes read so far end (padding included).
    end: usize,
}

impl<'a> Attributes<'a> {
    /// The attributes of `buf` (from its first byte).
    pub fn new(buf: &'a [u8]) -> Attributes<'a> {
        Attributes {
            buf,
            walk: Attrs::new(buf, 0),
            end: 0,
        }
    }

    /// The first attribute of type `ty` (flags ignored).
    pub fn get(&self, ty: u16) -> Option<Attr<'a>> {
        Attributes::new(self.buf).find(|a| a.kind() == ty)
    }

    /// True when the bytes after the attributes read so far do not form an
    /// attribute: once the iteration has ended, the buffer was truncated
    /// or malformed.
    pub fn truncated(&self) -> bool {
        self.end < self.buf.len() && self.walk.clone().next().is_none()
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attr<'a>;

    fn next(&mut self) -> Option<Attr<'a>> {
        let (off, _, value) = self.walk.next()?;
        let raw = u16::from_ne_bytes([self.buf[off + 2], self.buf[off + 3]]);
        self.end = align(off + 4 + value.len());
        Some(Attr { raw, value })
    }
}

/// One attribute: its type, flags and value, with typed readers that
/// return `None` when the value has the wrong size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    raw: u16,
    value: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The type, without the flag bits.
    pub fn kind(&self) -> u16 {
        self.raw & NLA_TYPE_MASK
    }

    /// Whether NLA_F_NESTED is set (not every family sets it on nests).
    pub fn is_nested(&self) -> bool {
        self.raw & NLA_F_NESTED != 0
    }

    /// Whether NLA_F_NET_BYTEORDER is set.
    pub fn is_net_byteorder(&self) -> bool {
        self.raw & NLA_F_NET_BYTEORDER != 0
    }

    /// The value's bytes.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// A u8 (a 1-byte value).
    pub fn u8(&self) -> Option<u8> {
        Some(u8::from_ne_bytes(self.value.try_into().ok()?))
    }

    /// A u16, host order (a 2-byte value).
    pub fn u16(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.value.try_into().ok()?))
    }

    /// A u32, host order (a 4-byte value).
    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.value.try_into().ok()?))
    }

    /// A u64, host order (an 8-byte value).
    pub fn u64(&self) -> Option<u64> {
        Some(u64::from_ne_bytes(self.value.try_into().ok()?))
    }

    /// A u16 in network order.
    pub fn be16(&self) -> Option<u16> {
        Some(u16::from_be_bytes(self.value.try_into().ok()?))
    }

    /// A u32 in network order.
    pub fn be32(&self) -> Option<u32> {
        Some(u32::from_be_bytes(self.value.try_into().ok()?))
    }

    /// A string: the value up to its first NUL (or whole), if UTF-8.
    pub fn str(&self) -> Option<&'a str> {
        crate::conn::attrs::str_of(self.value)
    }

    /// The attributes nested in the value.
    pub fn nested(&self) -> Attributes<'a> {
        Attributes::new(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_attributes_read_back() {
        let b = AttrBuilder::new()
            .u8(1, 7)
            .u16(2, 0x1234)
            .u32(3, 5)
            .u64(4, 1 << 40)
            .str(5, "abc")
            .be32(6, 0x0a000001)
            .flag(7)
            .nested(8, |b| b.u32(1, 9).bytes(2, &[1, 2, 3]))
            .finish()
            .unwrap();
        assert_eq!(b.len() % 4, 0);
        let a: Vec<Attr> = Attributes::new(&b).collect();
        assert_eq!(a.len(), 8);
        assert_eq!(a[0].u8(), Some(7));
        assert_eq!(a[1].u16(), Some(0x1234));
        assert_eq!(a[2].u32(), Some(5));
        assert_eq!(a[3].u64(), Some(1 << 40));
        assert_eq!(a[4].str(), Some("abc"));
        assert_eq!(a[4].value(), b"abc\0");
        assert!(a[5].is_net_byteorder() && a[5].be32() == Some(0x0a000001));
        assert!(a[6].value().is_empty());
        assert!(a[7].is_nested() && a[7].kind() == 8);
        let inner = a[7].nested();
        assert_eq!(inner.get(1).and_then(|a| a.u32()), Some(9));
        assert_eq!(inner.get(2).map(|a| a.value()), Some(&[1u8, 2, 3][..]));
        assert_eq!(a[2].u16(), None, "a u32 is not a u16");
        let mut it = Attributes::new(&b);
        it.by_ref().count();
        assert!(!it.truncated());
    }

    #[test]
    fn bad_input_is_an_error_naming_the_type() {
        let e = AttrBuilder::new().str(3, "a\0b").finish().unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidInput {
                field: "attribute",
                ..
            }
        ));
        assert!(e.to_string().contains("type 3: "), "{e}");
        let e = AttrBuilder::new().u8(0x8001, 1).finish().unwrap_err();
        assert!(e.to_string().contains("flag bits"), "{e}");
        let big = vec![0; NLA_VALUE_MAX + 1];
        let e = AttrBuilder::new()
            .u8(1, 1)
            .bytes(9, &big)
            .finish()
            .unwrap_err();
        assert!(e.to_string().contains("type 9: 65532 bytes"), "{e}");
        let e = AttrBuilder::new()
            .nested(1, |b| b.bytes(2, &big[..NLA_VALUE_MAX - 8]).u32(3, 1))
            .finish()
            .unwrap_err();
        assert!(
            e.to_string().contains("type 1: "),
            "the nest overflows: {e}"
        );
        AttrBuilder::new()
            .bytes(1, &big[..NLA_VALUE_MAX])
            .finish()
            .unwrap();
    }

    #[test]
    fn truncated_and_random_input_never_panics() {
        let b = AttrBuilder::new()
            .str(1, "family")
            .nested(2, |b| b.nested(1, |b| b.u32(1, 3)).u16(2, 1))
            .finish()
            .unwrap();
        for n in 0..b.len() {
            let mut it = Attributes::new(&b[..n]);
            for a in it.by_ref() {
                let _ = (a.u32(), a.u16(), a.u64(), a.str(), a.be16());
                for x in a.nested() {
                    let _ = x.nested().count();
                }
            }
            // Only cuts at the end of an attribute (with or without its
            // padding) leave no stray bytes.
            assert_eq!(it.truncated(), ![0, 11, 12].contains(&n), "cut at {n}");
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let len = (seed % 64) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 24) as u8
                })
                .collect();
            for a in Attributes::new(&buf) {
                let _ = (a.u8(), a.str(), a.nested().get(1));
                for x in a.nested() {
                    let _ = x.nested().count();
                }
            }
        }
    }
}
