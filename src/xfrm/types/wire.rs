//! Bounds-checked readers and writers over the fixed XFRM structures, and
//! the attribute helpers every object's codec shares.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::types::Family;

pub(crate) const AF_INET: u16 = libc::AF_INET as u16;
pub(crate) const AF_INET6: u16 = libc::AF_INET6 as u16;

/// Bounds-checked little readers over a fixed structure.
#[derive(Clone, Copy)]
pub(crate) struct Rd<'a>(pub &'a [u8]);

impl Rd<'_> {
    pub fn u8(&self, off: usize) -> u8 {
        self.0.get(off).copied().unwrap_or(0)
    }
    pub fn u16(&self, off: usize) -> u16 {
        self.arr::<2>(off).map(u16::from_ne_bytes).unwrap_or(0)
    }
    pub fn be16(&self, off: usize) -> u16 {
        self.arr::<2>(off).map(u16::from_be_bytes).unwrap_or(0)
    }
    pub fn u32(&self, off: usize) -> u32 {
        self.arr::<4>(off).map(u32::from_ne_bytes).unwrap_or(0)
    }
    pub fn be32(&self, off: usize) -> u32 {
        self.arr::<4>(off).map(u32::from_be_bytes).unwrap_or(0)
    }
    pub fn i32(&self, off: usize) -> i32 {
        self.arr::<4>(off).map(i32::from_ne_bytes).unwrap_or(0)
    }
    pub fn u64(&self, off: usize) -> u64 {
        self.arr::<8>(off).map(u64::from_ne_bytes).unwrap_or(0)
    }
    pub fn arr<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.0.get(off..off.checked_add(N)?)?.try_into().ok()
    }
    pub fn sub(&self, off: usize, len: usize) -> Rd<'_> {
        Rd(self
            .0
            .get(off..off.saturating_add(len).min(self.0.len()))
            .unwrap_or(&[]))
    }
}

/// A writer over a zeroed, fixed-size structure.
pub(crate) struct Wr<'a>(pub &'a mut [u8]);

impl Wr<'_> {
    pub fn u8(&mut self, off: usize, v: u8) {
        self.0[off] = v;
    }
    pub fn u16(&mut self, off: usize, v: u16) {
        self.0[off..off + 2].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn be16(&mut self, off: usize, v: u16) {
        self.0[off..off + 2].copy_from_slice(&v.to_be_bytes());
    }
    pub fn u32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn be32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_be_bytes());
    }
    pub fn i32(&mut self, off: usize, v: i32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn u64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn addr(&mut self, off: usize, a: Option<IpAddr>) {
        match a {
            Some(IpAddr::V4(a)) => self.0[off..off + 4].copy_from_slice(&a.octets()),
            Some(IpAddr::V6(a)) => self.0[off..off + 16].copy_from_slice(&a.octets()),
            None => {}
        }
    }
}

/// Reads an `xfrm_address_t` of `family` (None for AF_UNSPEC or unknown).
pub(crate) fn addr_of(r: Rd<'_>, off: usize, family: u16) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(r.arr::<4>(off)?))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(r.arr::<16>(off)?))),
        _ => None,
    }
}

/// An all-zero address of `family`.
pub(crate) fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

pub(crate) fn family_raw(f: Option<Family>) -> u16 {
    match f {
        Some(Family::V4) => AF_INET,
        Some(Family::V6) => AF_INET6,
        None => 0,
    }
}

pub(crate) fn family_of_raw(f: u16) -> Option<Family> {
    match f {
        AF_INET => Some(Family::V4),
        AF_INET6 => Some(Family::V6),
        _ => None,
    }
}

/// The longest value one attribute can carry: its 16-bit length covers
/// the 4-byte header too.
pub(crate) const MAX_ATTR_VALUE: usize = u16::MAX as usize - 4;

/// Appends one attribute of a variable-length value (header, value,
/// padding), refusing a value its 16-bit length cannot cover: a wrapped
/// length would make the kernel read the rest of the value as attributes
/// of the caller's choosing. The error names the field in `ip`'s words.
pub(crate) fn push_attr(buf: &mut Vec<u8>, ty: u16, value: &[u8]) -> Result<()> {
    if value.len() > MAX_ATTR_VALUE {
        return Err(Error::invalid(
            crate::xfrm::attr::field(ty),
            format!(
                "{} bytes do not fit one attribute (at most {MAX_ATTR_VALUE})",
                value.len()
            ),
        ));
    }
    put(buf, ty, value);
    Ok(())
}

/// Appends one attribute of a fixed-size value, which the compiler checks
/// fits a 16-bit length.
pub(crate) fn push_fixed<const N: usize>(buf: &mut Vec<u8>, ty: u16, value: &[u8; N]) {
    const { assert!(N <= MAX_ATTR_VALUE) };
    put(buf, ty, value);
}

fn put(buf: &mut Vec<u8>, ty: u16, value: &[u8]) {
    // Both callers bound the length: the cast cannot wrap.
    buf.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(value);
    pad4(buf);
}

/// Pads `buf` to a 4-byte boundary (the end of a fixed header).
pub(crate) fn pad4(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// `(type, value)` of the attributes in `buf[start..]`, stopping at the
/// first malformed one.
pub(crate) fn attrs(buf: &[u8], start: usize) -> impl Iterator<Item = (u16, &[u8])> {
    crate::route::attrs::Attrs::new(buf, start).map(|(_, t, v)| (t, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attribute_longer_than_its_16_bit_length_is_refused_naming_its_field() {
        let mut b = Vec::new();
        push_attr(&mut b, 5, &[0; MAX_ATTR_VALUE]).unwrap();
        assert_eq!(u16::from_ne_bytes([b[0], b[1]]), u16::MAX);
        assert_eq!(b.len(), 65536, "padded");
        let mut b = Vec::new();
        let e = push_attr(&mut b, 5, &[0; MAX_ATTR_VALUE + 1]).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { field: "tmpl", .. }),
            "{e}"
        );
        assert!(b.is_empty(), "nothing written");
        let e = push_attr(&mut b, 2, &[0; 70_000]).unwrap_err();
        assert!(e.to_string().starts_with("invalid enc: "), "{e}");
    }
}
