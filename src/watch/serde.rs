//! `serde` for a watch's changes.

use ::serde::ser::{Serialize, Serializer};

use super::Change;
use crate::serde_util::Fields;

/// `{"change": "added", "new": …}`, `{"change": "changed", "old": …,
/// "new": …}`, `{"change": "removed", "old": …}`, `{"change":
/// "resynced"}`; the objects as their own `Serialize` writes them.
impl<T: Serialize> Serialize for Change<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        match self {
            Change::Added(n) => m.put("change", "added")?.put("new", n)?,
            Change::Changed { old, new } => m
                .put("change", "changed")?
                .put("old", old)?
                .put("new", new)?,
            Change::Removed(o) => m.put("change", "removed")?.put("old", o)?,
            Change::Resynced => m.put("change", "resynced")?,
        };
        m.end()
    }
}
