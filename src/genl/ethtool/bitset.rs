//! [`Bitset`]: ethtool's bitset attribute (ETHTOOL_A_BITSET_*), in either
//! of its forms: compact (a size and arrays of 32-bit words) or bit by bit
//! (a nest per bit with its index, name and value).

use super::AttrBuilder;
use crate::genl::Attributes;

const A_NOMASK: u16 = 1;
const A_SIZE: u16 = 2;
const A_BITS: u16 = 3;
const A_VALUE: u16 = 4;
const A_MASK: u16 = 5;
const A_BITS_BIT: u16 = 1;
const A_BIT_INDEX: u16 = 1;
const A_BIT_NAME: u16 = 2;
const A_BIT_VALUE: u16 = 3;

/// A bitset as the kernel sent it: a *list* (only a value, NOMASK) or a
/// value with a mask (the bits it speaks of). Bits past its size read as
/// clear.
///
/// ```
/// use tokio_netlink::genl::AttrBuilder;
/// use tokio_netlink::genl::ethtool::Bitset;
/// // Compact: size 40, bits 0 and 33 set, no mask.
/// let b = AttrBuilder::new()
///     .flag(1)
///     .u32(2, 40)
///     .bytes(4, &[1, 0, 0, 0, 2, 0, 0, 0])
///     .finish()
///     .unwrap();
/// let set = Bitset::parse(&b).unwrap();
/// assert!(set.is_set(0) && set.is_set(33) && !set.is_set(1));
/// assert_eq!(set.set_bits().collect::<Vec<_>>(), [0, 33]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitset {
    size: u32,
    value: Vec<u32>,
    mask: Option<Vec<u32>>,
    names: Vec<(u32, String)>,
}

/// The largest size accepted: far above any kernel bitset (a few hundred
/// bits), low enough that a hostile size allocates little.
const MAX_SIZE: u32 = 1 << 20;

fn bit(words: &[u32], i: u32) -> bool {
    words
        .get((i / 32) as usize)
        .is_some_and(|w| w & (1 << (i % 32)) != 0)
}

fn words_of(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Bitset {
    /// Parses a bitset attribute's value (the nest's contents). Malformed
    /// input (no size, arrays of the wrong length, an index past the size,
    /// a bit without an index) is an error saying what is wrong.
    pub fn parse(buf: &[u8]) -> Result<Bitset, String> {
        let a = Attributes::new(buf);
        let nomask = a.get(A_NOMASK).is_some();
        let size = match a.get(A_SIZE) {
            Some(s) => s.u32().ok_or("a size that is not a u32")?,
            None => return Err("no size".into()),
        };
        if size > MAX_SIZE {
            return Err(format!("size {size} is larger than {MAX_SIZE}"));
        }
        let nwords = size.div_ceil(32) as usize;
        if let Some(v) = a.get(A_VALUE) {
            let arr = |b: &[u8], what: &str| {
                if b.len() == nwords * 4 {
                    Ok(words_of(b))
                } else {
                    let n = b.len();
                    Err(format!("{what} of {n} bytes for {size} bits"))
                }
            };
            let value = arr(v.value(), "a value")?;
            let mask = match (nomask, a.get(A_MASK)) {
                (true, _) => None,
                (false, Some(m)) => Some(arr(m.value(), "a mask")?),
                (false, None) => return Err("neither a mask nor NOMASK".into()),
            };
            return Ok(Bitset {
                size,
                value,
                mask,
                names: Vec::new(),
            });
        }
        let mut set = Bitset {
            size,
            value: vec![0; nwords],
            mask: (!nomask).then(|| vec![0; nwords]),
            names: Vec::new(),
        };
        for b in a.get(A_BITS).map(|b| b.nested()).into_iter().flatten() {
            if b.kind() != A_BITS_BIT {
                continue;
            }
            let n = b.nested();
            let i = n.get(A_BIT_INDEX).and_then(|x| x.u32());
            let i = i.ok_or("a bit without an index")?;
            if i >= size {
                return Err(format!("bit {i} of a {size}-bit set"));
            }
            let w = (i / 32) as usize;
            // A list names the bits that are set; a masked set names the
            // bits of its mask, flagging those set.
            match &mut set.mask {
                None => set.value[w] |= 1 << (i % 32),
                Some(m) => {
                    m[w] |= 1 << (i % 32);
                    if n.get(A_BIT_VALUE).is_some() {
                        set.value[w] |= 1 << (i % 32);
                    }
                }
            }
            if let Some(name) = n.get(A_BIT_NAME).and_then(|x| x.str()) {
                set.names.push((i, name.to_owned()));
            }
        }
        Ok(set)
    }

    /// The number of bits.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Whether bit `i` is set (in the value).
    pub fn is_set(&self, i: u32) -> bool {
        i < self.size && bit(&self.value, i)
    }

    /// Whether bit `i` is one the set speaks of: in its mask, or any bit
    /// below its size for a list.
    pub fn in_mask(&self, i: u32) -> bool {
        i < self.size && self.mask.as_ref().is_none_or(|m| bit(m, i))
    }

    /// Whether this is a list (a value without a mask).
    pub fn is_list(&self) -> bool {
        self.mask.is_none()
    }

    /// The name the kernel gave bit `i` (bit-by-bit sets only).
    pub fn name(&self, i: u32) -> Option<&str> {
        self.names
            .iter()
            .find(|(n, _)| *n == i)
            .map(|(_, s)| s.as_str())
    }

    /// The set bits, in order.
    pub fn set_bits(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.size).filter(|&i| self.is_set(i))
    }

    /// The bits of the mask, in order (every bit for a list).
    pub fn mask_bits(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.size).filter(|&i| self.in_mask(i))
    }
}

/// A compact value/mask bitset of `size` bits: `bits` (index, value) are
/// in the mask, the others are left alone by the kernel.
pub(crate) fn put_compact(b: AttrBuilder, ty: u16, size: u32, bits: &[(u32, bool)]) -> AttrBuilder {
    let n = size.div_ceil(32) as usize;
    let (mut value, mut mask) = (vec![0u32; n], vec![0u32; n]);
    for &(i, on) in bits.iter().filter(|(i, _)| *i < size) {
        let w = (i / 32) as usize;
        mask[w] |= 1 << (i % 32);
        if on {
            value[w] |= 1 << (i % 32);
        }
    }
    let bytes = |w: &[u32]| w.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
    b.nested(ty, |s| {
        s.u32(A_SIZE, size)
            .bytes(A_VALUE, &bytes(&value))
            .bytes(A_MASK, &bytes(&mask))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbose(size: u32, nomask: bool, bits: &[(u32, &str, bool)]) -> Vec<u8> {
        let b = if nomask {
            AttrBuilder::new().flag(A_NOMASK)
        } else {
            AttrBuilder::new()
        };
        b.u32(A_SIZE, size)
            .nested(A_BITS, |mut s| {
                for &(i, name, on) in bits {
                    s = s.nested(A_BITS_BIT, |x| {
                        let x = x.u32(A_BIT_INDEX, i).str(A_BIT_NAME, name);
                        if on { x.flag(A_BIT_VALUE) } else { x }
                    });
                }
                s
            })
            .finish()
            .unwrap()
    }

    #[test]
    fn compact_value_and_mask_round_trip() {
        let b = put_compact(
            AttrBuilder::new(),
            7,
            70,
            &[(0, true), (3, false), (69, true)],
        )
        .finish()
        .unwrap();
        let inner = Attributes::new(&b).next().unwrap();
        let s = Bitset::parse(inner.value()).unwrap();
        assert_eq!(s.size(), 70);
        assert!(!s.is_list());
        assert_eq!(s.set_bits().collect::<Vec<_>>(), [0, 69]);
        assert_eq!(s.mask_bits().collect::<Vec<_>>(), [0, 3, 69]);
        assert!(!s.is_set(70) && !s.in_mask(70) && !s.is_set(u32::MAX));
    }

    #[test]
    fn verbose_forms_read_names_and_values() {
        let l = Bitset::parse(&verbose(10, true, &[(2, "b", false), (9, "j", true)])).unwrap();
        assert!(l.is_list() && l.is_set(2) && l.is_set(9) && l.in_mask(5));
        assert_eq!(l.name(9), Some("j"));
        assert_eq!(l.name(3), None);
        let m = Bitset::parse(&verbose(10, false, &[(2, "b", false), (9, "j", true)])).unwrap();
        assert_eq!(m.set_bits().collect::<Vec<_>>(), [9]);
        assert_eq!(m.mask_bits().collect::<Vec<_>>(), [2, 9]);
    }

    #[test]
    fn malformed_sets_are_errors() {
        let e = |b: AttrBuilder| Bitset::parse(&b.finish().unwrap()).unwrap_err();
        assert_eq!(e(AttrBuilder::new()), "no size");
        assert!(e(AttrBuilder::new().u16(A_SIZE, 1)).contains("not a u32"));
        assert!(e(AttrBuilder::new().u32(A_SIZE, u32::MAX)).contains("larger"));
        let short = AttrBuilder::new().flag(A_NOMASK).u32(A_SIZE, 33);
        assert!(e(short.bytes(A_VALUE, &[0; 4])).contains("4 bytes for 33 bits"));
        let nomask = AttrBuilder::new().u32(A_SIZE, 8).bytes(A_VALUE, &[0; 4]);
        assert!(e(nomask).contains("neither"));
        let past = verbose(4, true, &[(4, "x", true)]);
        assert!(
            Bitset::parse(&past)
                .unwrap_err()
                .contains("bit 4 of a 4-bit")
        );
    }

    #[test]
    fn truncated_and_random_input_never_panics() {
        let full = verbose(64, false, &[(1, "one", true), (40, "forty", false)]);
        let compact = put_compact(AttrBuilder::new(), 1, 64, &[(5, true)])
            .finish()
            .unwrap();
        for b in [&full, &compact[4..].to_vec()] {
            for n in 0..b.len() {
                if let Ok(s) = Bitset::parse(&b[..n]) {
                    let _ = (s.set_bits().count(), s.mask_bits().count(), s.name(1));
                }
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5000 {
            let len = (seed % 96) as usize;
            let mut buf: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 12) as u8
                })
                .collect();
            // Valid-looking headers now and then, so parsing goes deep.
            if len > 8 && seed.is_multiple_of(3) {
                buf[..8].copy_from_slice(&[8, 0, 2, 0, 40, 0, 0, 0]);
            }
            if let Ok(s) = Bitset::parse(&buf) {
                assert!(s.size() <= MAX_SIZE);
                let _ = (s.set_bits().count(), s.name(0));
            }
        }
    }
}
