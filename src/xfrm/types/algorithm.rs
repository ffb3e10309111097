//! `xfrm_algo`, `xfrm_algo_auth` and `xfrm_algo_aead`: an algorithm with its
//! key.

use std::fmt;

use super::wire::{MAX_ATTR_VALUE, Rd};
use crate::error::{Error, Result};

/// An algorithm with its key: `enc`, `comp`, `auth` (`xfrm_algo`),
/// `auth-trunc` (`xfrm_algo_auth`) or `aead` (`xfrm_algo_aead`).
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Algorithm {
    /// The kernel crypto name, e.g. `cbc(aes)`, `hmac(sha256)`,
    /// `rfc4106(gcm(aes))`, `deflate`.
    pub name: String,
    /// The key.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_util::hex"))]
    pub key: Vec<u8>,
    /// The key length in bits (normally `key.len() * 8`).
    pub key_bits: u32,
    /// `auth-trunc`'s truncation or `aead`'s ICV length, in bits.
    pub icv_bits: Option<u32>,
}

impl fmt::Debug for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are secrets: never in debug output.
        f.debug_struct("Algorithm")
            .field("name", &self.name)
            .field("key_bits", &self.key_bits)
            .field("icv_bits", &self.icv_bits)
            .finish_non_exhaustive()
    }
}

const ALG_NAME_LEN: usize = 64;
/// `xfrm_algo_auth`/`xfrm_algo_aead` before the key (name, key length,
/// ICV length); `xfrm_algo`'s is 4 bytes shorter.
const LONGEST_HEADER: usize = ALG_NAME_LEN + 8;

impl Algorithm {
    /// The longest key any algorithm attribute can carry (its 16-bit
    /// length covers the attribute and structure headers too).
    pub const MAX_KEY_LEN: usize = MAX_ATTR_VALUE - LONGEST_HEADER;

    /// An algorithm and its key (key length: the key's bits).
    pub fn new(name: &str, key: &[u8]) -> Algorithm {
        Algorithm {
            name: name.into(),
            key: key.to_vec(),
            // A key too long for that is refused by `validate` anyway.
            key_bits: u32::try_from(key.len() * 8).unwrap_or(u32::MAX),
            icv_bits: None,
        }
    }

    /// With a truncation (auth-trunc) or ICV (aead) length in bits.
    pub fn with_icv_bits(mut self, bits: u32) -> Self {
        self.icv_bits = Some(bits);
        self
    }

    /// The key as `ip` prints it: `0x…` in hex.
    pub fn key_hex(&self) -> String {
        let mut s = String::from("0x");
        for b in &self.key {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub(crate) fn validate(&self, field: &'static str) -> Result<()> {
        if self.name.is_empty() || self.name.len() >= ALG_NAME_LEN {
            return Err(Error::invalid(
                field,
                format!("algorithm name {:?} must be 1 to 63 bytes", self.name),
            ));
        }
        if self.name.contains('\0') {
            return Err(Error::invalid(field, "algorithm name contains NUL"));
        }
        if self.key.len() > Self::MAX_KEY_LEN {
            return Err(Error::invalid(
                field,
                format!(
                    "a key of {} bytes is longer than the {} an attribute can carry",
                    self.key.len(),
                    Self::MAX_KEY_LEN
                ),
            ));
        }
        if self.key.len() != self.key_bits.div_ceil(8) as usize {
            return Err(Error::invalid(
                field,
                format!(
                    "key of {} bytes does not match its length of {} bits",
                    self.key.len(),
                    self.key_bits
                ),
            ));
        }
        Ok(())
    }

    /// `xfrm_algo` (with_icv false) or `xfrm_algo_auth`/`xfrm_algo_aead`.
    pub(crate) fn bytes(&self, with_icv: bool) -> Vec<u8> {
        let mut b = vec![0u8; ALG_NAME_LEN];
        b[..self.name.len()].copy_from_slice(self.name.as_bytes());
        b.extend_from_slice(&self.key_bits.to_ne_bytes());
        if with_icv {
            b.extend_from_slice(&self.icv_bits.unwrap_or(0).to_ne_bytes());
        }
        b.extend_from_slice(&self.key);
        b
    }

    pub(crate) fn parse(v: &[u8], with_icv: bool) -> Option<Algorithm> {
        let r = Rd(v);
        let name = v.get(..ALG_NAME_LEN)?;
        let end = name.iter().position(|&c| c == 0).unwrap_or(ALG_NAME_LEN);
        let name = String::from_utf8_lossy(&name[..end]).into_owned();
        let key_bits = r.arr::<4>(ALG_NAME_LEN).map(u32::from_ne_bytes)?;
        let (icv, key_at) = if with_icv {
            (
                Some(r.arr::<4>(ALG_NAME_LEN + 4).map(u32::from_ne_bytes)?),
                ALG_NAME_LEN + 8,
            )
        } else {
            (None, ALG_NAME_LEN + 4)
        };
        let klen = key_bits.div_ceil(8) as usize;
        let key = v.get(key_at..key_at.checked_add(klen)?)?.to_vec();
        Some(Algorithm {
            name,
            key,
            key_bits,
            icv_bits: icv,
        })
    }
}
