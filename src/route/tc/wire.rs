//! The TC wire format: `struct tcmsg`, the `TCA_*` attributes, and a
//! writer that refuses what netlink's 16-bit lengths cannot carry.

use crate::conn::frame::{HEADER_LEN, align};
use crate::error::{Error, Result};

/// `sizeof(struct tcmsg)`: family, two pad bytes, ifindex, handle, parent,
/// info.
pub(crate) const TCMSG_LEN: usize = 20;

/// The longest value one attribute can carry (its length covers the
/// 4-byte header too).
pub(crate) const MAX_VALUE: usize = u16::MAX as usize - 4;

/// Top-level TC attributes (`TCA_*`).
pub(crate) mod tca {
    pub const KIND: u16 = 1;
    pub const OPTIONS: u16 = 2;
    pub const STATS: u16 = 3;
    pub const XSTATS: u16 = 4;
    pub const RATE: u16 = 5;
    pub const STATS2: u16 = 7;
    pub const DUMP_INVISIBLE: u16 = 10;
    pub const CHAIN: u16 = 11;
    pub const HW_OFFLOAD: u16 = 12;
    pub const INGRESS_BLOCK: u16 = 13;
    pub const EGRESS_BLOCK: u16 = 14;
}

/// The fixed header of every TC message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TcMsg {
    pub ifindex: u32,
    pub handle: u32,
    pub parent: u32,
    pub info: u32,
}

/// Builds one TC message payload (everything after the netlink header).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    /// A payload starting with `h`.
    pub fn new(h: TcMsg) -> Writer {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&[0u8; 4]); // AF_UNSPEC, pads
        buf.extend_from_slice(&h.ifindex.to_ne_bytes());
        buf.extend_from_slice(&h.handle.to_ne_bytes());
        buf.extend_from_slice(&h.parent.to_ne_bytes());
        buf.extend_from_slice(&h.info.to_ne_bytes());
        Writer { buf }
    }

    /// Appends attribute `ty` holding `value`; `field` names it in `tc`'s
    /// words if it does not fit.
    pub fn attr(&mut self, field: &'static str, ty: u16, value: &[u8]) -> Result<()> {
        if value.len() > MAX_VALUE {
            return Err(Error::invalid(
                field,
                format!(
                    "{} bytes do not fit one netlink attribute (at most {MAX_VALUE})",
                    value.len()
                ),
            ));
        }
        self.buf
            .extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(align(self.buf.len()), 0);
        Ok(())
    }

    /// A u32 attribute.
    pub fn u32(&mut self, field: &'static str, ty: u16, v: u32) -> Result<()> {
        self.attr(field, ty, &v.to_ne_bytes())
    }

    /// A NUL-terminated string attribute; a NUL inside is refused.
    pub fn string(&mut self, field: &'static str, ty: u16, s: &str) -> Result<()> {
        crate::conn::attrs::check_string(field, s, MAX_VALUE - 1)?;
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.attr(field, ty, &v)
    }

    /// Opens a nest; close it with [`end`](Self::end). Like `tc`, without
    /// NLA_F_NESTED: the kernel takes both, and the bytes then equal `tc`'s.
    pub fn begin(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        at
    }

    /// Closes the nest opened at `at`, checking its length.
    pub fn end(&mut self, field: &'static str, at: usize) -> Result<()> {
        let len = self.buf.len() - at;
        if len > u16::MAX as usize {
            return Err(Error::invalid(
                field,
                format!("{len} bytes of nested attributes do not fit one netlink attribute"),
            ));
        }
        self.buf[at..at + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        Ok(())
    }
}

/// Reads the fixed header of a TC message (`bytes` whole, header included).
pub(crate) fn tcmsg_of(bytes: &[u8]) -> Option<TcMsg> {
    let h = bytes.get(HEADER_LEN..HEADER_LEN + TCMSG_LEN)?;
    let u = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(TcMsg {
        ifindex: u(4),
        handle: u(8),
        parent: u(12),
        info: u(16),
    })
}

/// A little reader over a C struct in an attribute: out-of-range reads
/// give 0, so a short struct from an older kernel never panics (callers
/// check the length where it matters).
#[derive(Clone, Copy)]
pub(crate) struct Rd<'a>(pub &'a [u8]);

impl Rd<'_> {
    pub fn u8(&self, off: usize) -> u8 {
        self.0.get(off).copied().unwrap_or(0)
    }
    pub fn u16(&self, off: usize) -> u16 {
        self.arr::<2>(off).map_or(0, u16::from_ne_bytes)
    }
    pub fn u32(&self, off: usize) -> u32 {
        self.arr::<4>(off).map_or(0, u32::from_ne_bytes)
    }
    pub fn i32(&self, off: usize) -> i32 {
        self.arr::<4>(off).map_or(0, i32::from_ne_bytes)
    }
    pub fn u64(&self, off: usize) -> u64 {
        self.arr::<8>(off).map_or(0, u64::from_ne_bytes)
    }
    fn arr<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.0.get(off..off + N)?.try_into().ok()
    }
}
