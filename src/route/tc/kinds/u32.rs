//! `u32`: the universal 32-bit key classifier (`struct tc_u32_sel` and
//! its keys), with `tc`'s `match ip …` helpers packing keys as `f_u32.c`
//! packs them.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use super::super::action::{Action, decode_actions, encode_actions};
use super::super::handle::Handle;
use super::super::wire::{Rd, Writer, tca};
use crate::conn::attrs::nested;
use crate::error::{Error, Result};

const CLASSID: u16 = 1;
const HASH: u16 = 2;
const LINK: u16 = 3;
const DIVISOR: u16 = 4;
const SEL: u16 = 5;
const ACT: u16 = 7;
const FLAGS: u16 = 11;

/// `TC_U32_TERMINAL`.
const TERMINAL: u8 = 1;
/// `TC_U32_OFFSET`.
const OFFSET: u8 = 2;
/// `TC_U32_VAROFFSET`.
const VAROFFSET: u8 = 4;
/// `TC_U32_EAT`.
const EAT: u8 = 8;

/// A u32 filter handle: hash table, bucket and node (`tc`'s `HT:BKT:NODE`,
/// hex; `800:` is the root table, `800::800` a node in its bucket 0).
///
/// ```
/// use tokio_netlink::route::tc::U32Handle;
/// let h: U32Handle = "800::800".parse().unwrap();
/// assert_eq!(h.raw(), 0x8000_0800);
/// assert_eq!(U32Handle::new(2, 0, 0).to_string(), "2:");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U32Handle(u32);

impl U32Handle {
    /// `HT:BKT:NODE` (table 12 bits, bucket 8, node 12; larger values are
    /// cut).
    pub const fn new(table: u16, bucket: u8, node: u16) -> U32Handle {
        U32Handle(((table as u32 & 0xFFF) << 20) | ((bucket as u32) << 12) | (node as u32 & 0xFFF))
    }

    /// The handle as the kernel holds it.
    pub const fn from_raw(raw: u32) -> U32Handle {
        U32Handle(raw)
    }

    /// The 32-bit value.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The hash table (`HT`).
    pub const fn table(self) -> u16 {
        (self.0 >> 20) as u16
    }

    /// The bucket (`BKT`).
    pub const fn bucket(self) -> u8 {
        (self.0 >> 12) as u8
    }

    /// The node (`NODE`).
    pub const fn node(self) -> u16 {
        (self.0 & 0xFFF) as u16
    }
}

impl fmt::Display for U32Handle {
    /// As `tc` prints it: `800:`, `800::800`, `2:5:1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table() != 0 {
            write!(f, "{:x}:", self.table())?;
        }
        if self.bucket() != 0 {
            write!(f, "{:x}", self.bucket())?;
        }
        if self.node() != 0 {
            write!(f, ":{:x}", self.node())?;
        }
        Ok(())
    }
}

impl FromStr for U32Handle {
    type Err = Error;

    /// `HT:`, `HT:BKT`, `HT:BKT:NODE` or `HT::NODE`, hex.
    fn from_str(s: &str) -> Result<U32Handle> {
        let bad = || Error::invalid("handle", format!("{s:?} is not a u32 handle (HT:BKT:NODE)"));
        let parts: Vec<&str> = s.trim().split(':').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.starts_with(['+', '-'])) {
            return Err(bad());
        }
        let num = |i: usize, max: u32| -> Result<u32> {
            match parts.get(i) {
                None | Some(&"") => Ok(0),
                Some(p) => u32::from_str_radix(p, 16)
                    .ok()
                    .filter(|v| *v <= max)
                    .ok_or_else(bad),
            }
        };
        let (t, b, n) = (num(0, 0xFFF)?, num(1, 0xFF)?, num(2, 0xFFF)?);
        Ok(U32Handle((t << 20) | (b << 12) | n))
    }
}

/// One key: the packet's 32-bit word at `off` (from the network header,
/// plus the variable offset when `offmask` is set), masked with `mask`,
/// must equal `val`. Both are in network byte order as the packet holds
/// them (`struct tc_u32_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct U32Key {
    /// `mask`, network order.
    pub mask: u32,
    /// `val`, network order (already masked).
    pub val: u32,
    /// `at OFF`: a multiple of 4.
    pub off: i32,
    /// `offmask`: use the variable offset (`nexthdr+`).
    pub offmask: i32,
}

/// `offset at OFF mask MASK shift SHIFT [plus PLUS] [eat]`: the next
/// header's offset taken from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct U32Offset {
    /// `at`: where the 16-bit offset is read.
    pub at: i16,
    /// `mask` (host order, as `tc` takes it).
    pub mask: u16,
    /// `shift`.
    pub shift: u8,
    /// `plus`: a constant offset (`off`).
    pub plus: u16,
    /// `eat`: the offset is consumed for the next tables.
    pub eat: bool,
}

/// `u32 [match …]… [offset …] [hashkey mask M at O] [classid C]
/// [divisor N] [link HT] [ht HT] [action …]`.
///
/// ```
/// use tokio_netlink::route::tc::{Handle, U32};
/// // u32 match ip dst 10.0.0.0/8 match ip dport 80 0xffff classid 1:10
/// let f = U32::new()
///     .match_ip_dst("10.0.0.0".parse().unwrap(), 8)
///     .match_ip_dport(80, 0xffff)
///     .unwrap()
///     .classid(Handle::new(1, 0x10));
/// assert_eq!(f.keys.len(), 2);
/// assert!(f.terminal);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct U32 {
    /// The keys, all of which must match.
    pub keys: Vec<U32Key>,
    /// `classid`/`flowid`.
    pub classid: Option<Handle>,
    /// `divisor N`: this filter is a hash table of N buckets.
    pub divisor: Option<u32>,
    /// `link HT`: on a match, continue in that hash table.
    pub link: Option<U32Handle>,
    /// `ht HT[:BKT]`: the table (and bucket) the node goes into. The
    /// kernel reports it on every node (`800:` by default).
    pub ht: Option<U32Handle>,
    /// `hashkey mask MASK at OFF`: how a linked table picks its bucket
    /// (mask in network order).
    pub hashkey: Option<(u32, i32)>,
    /// `offset …`.
    pub offset: Option<U32Offset>,
    /// The selector's terminal flag: a match ends classification (set
    /// with a classid or an action, as `tc` does).
    pub terminal: bool,
    /// `skip_hw` / `skip_sw` flags (`TCA_CLS_FLAGS_*`), 0 for none.
    pub flags: u32,
    /// `action …`, in order.
    pub actions: Vec<Action>,
}

impl U32 {
    /// A u32 filter with no keys yet.
    pub fn new() -> U32 {
        U32::default()
    }

    /// Adds a key as `tc`'s `pack_key` does: a key at the same offset is
    /// merged into the existing one, and contradicting bits are refused.
    pub fn key(mut self, val: u32, mask: u32, off: i32, offmask: i32) -> Result<U32> {
        let val = val & mask;
        if let Some(k) = self
            .keys
            .iter_mut()
            .find(|k| k.off == off && k.offmask == offmask)
        {
            if (val ^ k.val) & (mask & k.mask) != 0 {
                return Err(Error::invalid(
                    "match",
                    format!("a key at offset {off} contradicts an earlier one"),
                ));
            }
            k.val |= val;
            k.mask |= mask;
            return Ok(self);
        }
        if off % 4 != 0 {
            return Err(Error::invalid(
                "match",
                format!("offset {off} is not a multiple of 4"),
            ));
        }
        if self.keys.len() >= 128 {
            return Err(Error::invalid("match", "at most 128 keys"));
        }
        self.keys.push(U32Key {
            mask,
            val,
            off,
            offmask,
        });
        Ok(self)
    }

    /// `match u32 VAL MASK at OFF` (values in host order, as written).
    pub fn match_u32(self, val: u32, mask: u32, at: i32) -> Result<U32> {
        self.key(be(val), be(mask), at, 0)
    }

    /// `match u16 VAL MASK at OFF`.
    pub fn match_u16(self, val: u16, mask: u16, at: i32) -> Result<U32> {
        let sh = if at & 3 == 0 { 16 } else { 0 };
        let (v, m) = ((val as u32) << sh, (mask as u32) << sh);
        self.key(be(v), be(m), at & !3, 0)
    }

    /// `match u8 VAL MASK at OFF`.
    pub fn match_u8(self, val: u8, mask: u8, at: i32) -> Result<U32> {
        let sh = 8 * (3 - (at & 3) as u32);
        let (v, m) = ((val as u32) << sh, (mask as u32) << sh);
        self.key(be(v), be(m), at & !3, 0)
    }

    fn ip_prefix(self, addr: Ipv4Addr, len: u8, off: i32) -> U32 {
        let mask = if len == 0 {
            0
        } else {
            u32::MAX << (32 - len.min(32) as u32)
        };
        let v = u32::from(addr);
        // Two different offsets never conflict, and the same one merges.
        match self.clone().key(be(v), be(mask), off, 0) {
            Ok(s) => s,
            Err(_) => self,
        }
    }

    /// `match ip src ADDR/LEN`.
    pub fn match_ip_src(self, addr: Ipv4Addr, len: u8) -> U32 {
        self.ip_prefix(addr, len, 12)
    }

    /// `match ip dst ADDR/LEN`.
    pub fn match_ip_dst(self, addr: Ipv4Addr, len: u8) -> U32 {
        self.ip_prefix(addr, len, 16)
    }

    /// `match ip protocol N MASK`.
    pub fn match_ip_protocol(self, proto: u8, mask: u8) -> Result<U32> {
        self.match_u8(proto, mask, 9)
    }

    /// `match ip tos N MASK` (also `dsfield`).
    pub fn match_ip_tos(self, tos: u8, mask: u8) -> Result<U32> {
        self.match_u8(tos, mask, 1)
    }

    /// `match ip sport N MASK` (for a header without options).
    pub fn match_ip_sport(self, port: u16, mask: u16) -> Result<U32> {
        self.match_u16(port, mask, 20)
    }

    /// `match ip dport N MASK`.
    pub fn match_ip_dport(self, port: u16, mask: u16) -> Result<U32> {
        self.match_u16(port, mask, 22)
    }

    /// `classid C` (`flowid`); makes the selector terminal.
    pub fn classid(mut self, classid: Handle) -> U32 {
        self.classid = Some(classid);
        self.terminal = true;
        self
    }

    /// `divisor N`: a hash table (1 to 256 buckets, a power of two).
    pub fn divisor(mut self, divisor: u32) -> U32 {
        self.divisor = Some(divisor);
        self
    }

    /// `link HT`.
    pub fn link(mut self, table: U32Handle) -> U32 {
        self.link = Some(table);
        self
    }

    /// `ht HT[:BKT]`.
    pub fn ht(mut self, table: U32Handle) -> U32 {
        self.ht = Some(table);
        self
    }

    /// `hashkey mask MASK at OFF` (mask as written, host order).
    pub fn hashkey(mut self, mask: u32, at: i32) -> U32 {
        self.hashkey = Some((be(mask), at));
        self
    }

    /// `action …`; makes the selector terminal.
    pub fn action(mut self, action: impl Into<Action>) -> U32 {
        self.actions.push(action.into());
        self.terminal = true;
        self
    }

    fn sel(&self) -> Result<Vec<u8>> {
        let mut flags = 0u8;
        if self.terminal {
            flags |= TERMINAL;
        }
        let (mut offshift, mut offmask, mut off, mut offoff) = (0u8, 0u16, 0u16, 0i16);
        if let Some(o) = self.offset {
            flags |= VAROFFSET;
            if o.plus != 0 {
                flags |= OFFSET;
            }
            if o.eat {
                flags |= EAT;
            }
            offshift = o.shift;
            offmask = o.mask.to_be();
            off = o.plus;
            offoff = o.at;
        }
        let (hmask, hoff) = self.hashkey.unwrap_or((0, 0));
        if hoff % 4 != 0 || hoff > i16::MAX as i32 || hoff < i16::MIN as i32 {
            return Err(Error::invalid(
                "hashkey",
                format!("offset {hoff} is not a 16-bit multiple of 4"),
            ));
        }
        let mut v = Vec::with_capacity(16 + 16 * self.keys.len());
        v.extend_from_slice(&[flags, offshift, self.keys.len() as u8, 0]);
        v.extend_from_slice(&offmask.to_ne_bytes());
        v.extend_from_slice(&off.to_ne_bytes());
        v.extend_from_slice(&offoff.to_ne_bytes());
        v.extend_from_slice(&(hoff as i16).to_ne_bytes());
        v.extend_from_slice(&hmask.to_ne_bytes());
        for k in &self.keys {
            v.extend_from_slice(&k.mask.to_ne_bytes());
            v.extend_from_slice(&k.val.to_ne_bytes());
            v.extend_from_slice(&k.off.to_ne_bytes());
            v.extend_from_slice(&k.offmask.to_ne_bytes());
        }
        Ok(v)
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        if self.keys.len() > 128 {
            return Err(Error::invalid("match", "at most 128 keys"));
        }
        if let Some(d) = self.divisor
            && (d == 0 || d > 256 || !d.is_power_of_two())
        {
            return Err(Error::invalid(
                "divisor",
                format!("{d} is not a power of two from 1 to 256"),
            ));
        }
        if let Some(l) = self.link
            && (l.node() != 0 || l.table() == 0)
        {
            return Err(Error::invalid(
                "link",
                format!("{l} is not a hash table (HT:)"),
            ));
        }
        let nest = w.begin(tca::OPTIONS);
        if let Some(c) = self.classid {
            w.u32("classid", CLASSID, c.raw())?;
        }
        if let Some(d) = self.divisor {
            w.u32("divisor", DIVISOR, d)?;
        }
        if let Some(l) = self.link {
            w.u32("link", LINK, l.raw())?;
        }
        encode_actions(w, ACT, &self.actions)?;
        if let Some(h) = self.ht {
            w.u32("ht", HASH, h.raw())?;
        }
        if !self.keys.is_empty() || self.offset.is_some() || self.hashkey.is_some() {
            let sel = self.sel()?;
            w.attr("match", SEL, &sel)?;
        }
        if self.flags != 0 {
            w.u32("flags", FLAGS, self.flags)?;
        }
        w.end("u32", nest)
    }

    pub(crate) fn decode(options: &[u8]) -> U32 {
        let mut u = U32::default();
        for (ty, v) in nested(options) {
            let r = Rd(v);
            match ty {
                CLASSID => u.classid = Some(Handle::from_raw(r.u32(0))),
                DIVISOR => u.divisor = Some(r.u32(0)),
                LINK => u.link = Some(U32Handle(r.u32(0))),
                HASH => u.ht = Some(U32Handle(r.u32(0))),
                FLAGS => u.flags = r.u32(0),
                ACT => u.actions = decode_actions(v),
                SEL if v.len() >= 16 => {
                    let flags = r.u8(0);
                    u.terminal = flags & TERMINAL != 0;
                    if flags & VAROFFSET != 0 {
                        u.offset = Some(U32Offset {
                            at: r.u16(8) as i16,
                            mask: u16::from_be(r.u16(4)),
                            shift: r.u8(1),
                            plus: r.u16(6),
                            eat: flags & EAT != 0,
                        });
                    }
                    let (hmask, hoff) = (r.u32(12), r.u16(10) as i16 as i32);
                    if hmask != 0 || hoff != 0 {
                        u.hashkey = Some((hmask, hoff));
                    }
                    let n = (r.u8(2) as usize).min((v.len() - 16) / 16);
                    u.keys = (0..n)
                        .map(|i| {
                            let o = 16 + 16 * i;
                            U32Key {
                                mask: r.u32(o),
                                val: r.u32(o + 4),
                                off: r.i32(o + 8),
                                offmask: r.i32(o + 12),
                            }
                        })
                        .collect();
                }
                _ => {}
            }
        }
        u
    }
}

/// A host-order value as the u32 the packet's bytes read as natively.
fn be(v: u32) -> u32 {
    u32::from_ne_bytes(v.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_pack_and_merge_like_tc() {
        let u = U32::new()
            .match_ip_sport(1000, 0xffff)
            .unwrap()
            .match_ip_dport(80, 0xffff)
            .unwrap();
        assert_eq!(u.keys.len(), 1);
        assert_eq!(u.keys[0].off, 20);
        assert_eq!(u.keys[0].val.to_ne_bytes(), [0x03, 0xe8, 0x00, 0x50]);
        let p = U32::new().match_ip_protocol(6, 0xff).unwrap();
        assert_eq!(p.keys[0].mask.to_ne_bytes(), [0, 0xff, 0, 0]);
        assert_eq!(p.keys[0].off, 8);
        let e = U32::new()
            .match_ip_sport(1, 0xffff)
            .unwrap()
            .match_ip_sport(2, 0xffff)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field: "match", .. }));
        let e = U32::new().key(1, 1, 3, 0).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field: "match", .. }));
    }

    #[test]
    fn handles_parse_and_print_like_tc() {
        for (s, raw, shown) in [
            ("800:", 0x8000_0000, "800:"),
            ("800::800", 0x8000_0800, "800::800"),
            ("2:5:1", 0x0020_5001, "2:5:1"),
            ("1:", 0x0010_0000, "1:"),
        ] {
            let h: U32Handle = s.parse().unwrap();
            assert_eq!(h.raw(), raw, "{s}");
            assert_eq!(h.to_string(), shown);
        }
        for bad in ["1000:", "1:100", "x:", "1:2:3:4", "-1:"] {
            assert!(bad.parse::<U32Handle>().is_err(), "{bad}");
        }
    }
}
