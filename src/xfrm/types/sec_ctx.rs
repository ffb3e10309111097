//! `struct xfrm_user_sec_ctx`: the security context of a state or policy
//! (`ctx CTX`).

use std::fmt;

use super::wire::{MAX_ATTR_VALUE, Rd};
use crate::error::{Error, Result};

/// `sizeof(struct xfrm_user_sec_ctx)`, the header before the context.
const HEADER_LEN: usize = 8;

/// `ctx CTX` (XFRMA_SEC_CTX): a security context for an LSM with XFRM
/// hooks (SELinux). A kernel without such an LSM accepts it and keeps
/// nothing: the state or policy then reads back without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct SecCtx {
    /// `ctx_doi`: the domain of interpretation (XFRM_SC_DOI_LSM = 1).
    pub doi: u8,
    /// `ctx_alg`: the LSM (XFRM_SC_ALG_SELINUX = 1).
    pub alg: u8,
    /// The context bytes as sent; [`SecCtx::new`] ends them with a NUL, as
    /// `ip` does, because the LSM reads a C string.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_util::hex"))]
    pub context: Vec<u8>,
}

impl SecCtx {
    /// The longest `context` one attribute can carry (its 16-bit length
    /// covers the 4-byte attribute header and the 8-byte structure).
    pub const MAX_LEN: usize = MAX_ATTR_VALUE - HEADER_LEN;

    /// A SELinux context (`ctx CTX` of `ip`: DOI LSM, algorithm SELinux,
    /// NUL-terminated).
    pub fn new(context: &str) -> SecCtx {
        let mut c = context.as_bytes().to_vec();
        c.push(0);
        SecCtx {
            doi: 1,
            alg: 1,
            context: c,
        }
    }

    /// The context as text (up to its first NUL).
    pub fn text(&self) -> String {
        let end = self
            .context
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.context.len());
        String::from_utf8_lossy(&self.context[..end]).into_owned()
    }

    /// Checks what the attribute can carry and the LSM can read.
    pub(crate) fn validate(&self) -> Result<()> {
        let body = self.context.strip_suffix(&[0]).unwrap_or(&self.context);
        if body.is_empty() {
            return Err(Error::invalid("ctx", "the security context is empty"));
        }
        if body.contains(&0) {
            return Err(Error::invalid("ctx", "the security context contains NUL"));
        }
        if self.context.len() > Self::MAX_LEN {
            return Err(Error::invalid(
                "ctx",
                format!(
                    "a security context of {} bytes is longer than the {} an attribute can carry",
                    self.context.len(),
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(())
    }

    /// The attribute's value; `validate` first (the lengths must fit u16).
    pub(crate) fn bytes(&self, exttype: u16) -> Vec<u8> {
        let n = self.context.len() as u16;
        let mut b = Vec::with_capacity(HEADER_LEN + self.context.len());
        b.extend_from_slice(&(HEADER_LEN as u16 + n).to_ne_bytes());
        b.extend_from_slice(&exttype.to_ne_bytes());
        b.push(self.alg);
        b.push(self.doi);
        b.extend_from_slice(&n.to_ne_bytes());
        b.extend_from_slice(&self.context);
        b
    }

    /// Decodes an attribute value; the context is cut to what is present.
    pub(crate) fn parse(v: &[u8]) -> Option<SecCtx> {
        let r = Rd(v);
        if v.len() < HEADER_LEN {
            return None;
        }
        let n = usize::from(r.u16(6));
        let context = v[HEADER_LEN..].get(..n).unwrap_or(&v[HEADER_LEN..]);
        Some(SecCtx {
            alg: r.u8(4),
            doi: r.u8(5),
            context: context.to_vec(),
        })
    }
}

impl fmt::Display for SecCtx {
    /// The context text, as `ip` prints it after `security context`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_ctx_bytes_follow_the_uapi_layout_and_round_trip() {
        let c = SecCtx::new("system_u:object_r:x_t:s0");
        let b = c.bytes(8);
        // len = 8 + ctx_len; exttype; alg; doi; ctx_len; the string and NUL.
        assert_eq!(u16::from_ne_bytes([b[0], b[1]]), 8 + 25);
        assert_eq!(u16::from_ne_bytes([b[2], b[3]]), 8);
        assert_eq!((b[4], b[5]), (1, 1));
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), 25);
        assert_eq!(&b[8..], b"system_u:object_r:x_t:s0\0");
        assert_eq!(SecCtx::parse(&b), Some(c.clone()));
        assert_eq!(c.text(), "system_u:object_r:x_t:s0");
        // Truncated: no panic, the context cut short.
        for n in 0..b.len() {
            let p = SecCtx::parse(&b[..n]);
            assert_eq!(p.is_some(), n >= 8);
        }
    }

    #[test]
    fn bad_sec_ctx_is_refused_naming_the_field() {
        let e = SecCtx::new("").validate().unwrap_err();
        assert!(
            e.to_string().contains("ctx") && e.to_string().contains("empty"),
            "{e}"
        );
        let e = SecCtx::new("a\0b").validate().unwrap_err();
        assert!(e.to_string().contains("NUL"), "{e}");
        let e = SecCtx::new(&"x".repeat(SecCtx::MAX_LEN))
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        SecCtx::new(&"x".repeat(SecCtx::MAX_LEN - 1))
            .validate()
            .unwrap();
    }
}
