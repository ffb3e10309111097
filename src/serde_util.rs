//! Shared pieces of the `serde` feature: a map writer that leaves absent
//! fields out, text and hex adapters, and the impls of the crate-wide
//! [`Family`].
//!
//! The views (links, routes, sockets…) wrap kernel messages and are
//! serialized from their accessors as flat maps; the plain values derive
//! or implement both directions. Field names are part of the API (see
//! the crate docs' "Serde" section): renaming one is a breaking change.

use std::fmt;
use std::str::FromStr;

use ::serde::de::{self, Deserializer, Visitor};
use ::serde::ser::{SerializeMap, Serializer};
use ::serde::{Deserialize, Serialize};

use crate::types::Family;

/// A map under construction: [`Fields::opt`] skips `None`, so a view's
/// JSON holds only what the kernel sent.
pub(crate) struct Fields<M>(M);

impl<M: SerializeMap> Fields<M> {
    /// Starts a map of unknown length (optional fields make it so).
    pub(crate) fn begin<S>(s: S) -> Result<Self, S::Error>
    where
        S: Serializer<SerializeMap = M, Error = M::Error>,
    {
        s.serialize_map(None).map(Fields)
    }

    /// Writes `key: value`.
    pub(crate) fn put<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<&mut Self, M::Error> {
        self.0.serialize_entry(key, value)?;
        Ok(self)
    }

    /// Writes `key: value` when there is a value.
    pub(crate) fn opt<T: Serialize>(
        &mut self,
        key: &'static str,
        value: Option<T>,
    ) -> Result<&mut Self, M::Error> {
        if let Some(v) = value {
            self.0.serialize_entry(key, &v)?;
        }
        Ok(self)
    }

    /// Writes `key: true` when `on` (flags `ip -j` prints as bare keys).
    pub(crate) fn flag(&mut self, key: &'static str, on: bool) -> Result<&mut Self, M::Error> {
        if on {
            self.0.serialize_entry(key, &true)?;
        }
        Ok(self)
    }

    /// Writes `key: [items]` unless there are none.
    pub(crate) fn list<T: Serialize>(
        &mut self,
        key: &'static str,
        items: &[T],
    ) -> Result<&mut Self, M::Error> {
        if !items.is_empty() {
            self.0.serialize_entry(key, items)?;
        }
        Ok(self)
    }

    /// Finishes the map.
    pub(crate) fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

/// Serializes bytes as lowercase hex with a `0x` prefix, as `ip xfrm`
/// prints keys.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&HexText(self.0))
    }
}

struct HexText<'a>(&'a [u8]);

impl fmt::Display for HexText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Parses `0x…` hex (an odd digit count or a missing prefix is refused).
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let h = s.strip_prefix("0x")?;
    if !h.len().is_multiple_of(2) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
        .collect()
}

/// `#[serde(with = "crate::serde_util::hex")]` for `Vec<u8>` fields.
pub(crate) mod hex {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        Hex(v).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_hex(&s).ok_or_else(|| de::Error::custom(format!("{s:?} is not 0x-prefixed hex")))
    }
}

/// `skip_serializing_if` of a value's address refusal: nothing to say.
pub(crate) fn accepted(bad: &crate::types::BadAddr) -> bool {
    bad.check().is_ok()
}

/// Serializing a value that refused an address fails with the refusal
/// (the value holds 0.0.0.0 in its place).
pub(crate) fn refused<S: Serializer>(bad: &crate::types::BadAddr, _: S) -> Result<S::Ok, S::Error> {
    Err(::serde::ser::Error::custom(
        bad.check()
            .err()
            .map_or_else(String::new, |e| e.to_string()),
    ))
}

/// Deserializes a value from a string with `parse`, naming `what` in the
/// error.
pub(crate) fn from_text<'de, D, T>(
    d: D,
    what: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V(&'static str);
    impl<'de> Visitor<'de> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} as a string", self.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
    }
    let s = d.deserialize_str(V(what))?;
    parse(&s).ok_or_else(|| de::Error::custom(format!("{s:?} is not {what}")))
}

/// Implements `Serialize` as the `Display` text and `Deserialize` with a
/// parser returning `Option`.
macro_rules! text_serde {
    ($ty:ty, $what:literal, $parse:expr) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::serde_util::from_text(d, $what, $parse)
            }
        }
    };
}
pub(crate) use text_serde;

/// A decimal number in text, as the `Other(n)` variants print.
pub(crate) fn number<T: FromStr>(s: &str) -> Option<T> {
    crate::route::route::names::decimal(s)
}

/// `ip`'s family names: `inet`, `inet6`.
pub(crate) fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "inet",
        Family::V6 => "inet6",
    }
}

/// As `ip -j` names it: `"inet"` or `"inet6"`.
impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(family_name(*self))
    }
}

impl<'de> Deserialize<'de> for Family {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a family (inet, inet6)", |s| match s {
            "inet" => Some(Family::V4),
            "inet6" => Some(Family::V6),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parses_what_it_prints() {
        for v in [&[][..], &[0u8], &[0xde, 0xad, 0xbe, 0xef]] {
            let t = HexText(v).to_string();
            assert_eq!(parse_hex(&t).as_deref(), Some(v), "{t}");
        }
        for bad in ["", "00", "0x0", "0xzz", "0x+1"] {
            assert_eq!(parse_hex(bad), None, "{bad:?}");
        }
    }
}
