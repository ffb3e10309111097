//! `serde` for a watch's changes.

use ::serde::ser::{Serialize, Serializer};

use super::{Change, RouteKey};
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

/// A route's identity in `ip -j route`'s words: `family` (`inet`,
/// `inet6`, or the AF number as text), `table` (as
/// [`Route`](crate::route::route::Route) writes it), `dst` (`default` or
/// the prefix), `from`, `tos`, `metric`, `type` (the RTN_* number),
/// `nhid`, `gateway`, `ifindex`. (The opaque IPv4 rest is left out: the
/// key's text is [`RouteKey`]'s `Display`.)
impl Serialize for RouteKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        match self.family() {
            Some(f) => m.put("family", crate::serde_util::family_name(f))?,
            None => m.put("family", &self.family_raw().to_string())?,
        };
        m.put("table", &crate::route::route::serde_table(self.table()))?;
        match self.destination() {
            Some(d) => m.put("dst", &d.to_string())?,
            None => m.put("dst", "default")?,
        };
        m.opt("from", self.source().map(|p| p.to_string()))?
            .put("tos", &self.tos())?
            .put("metric", &self.metric())?
            .put("type", &self.route_type())?
            .opt("nhid", self.nhid())?
            .opt("gateway", self.gateway())?
            .opt("ifindex", self.oif())?;
        m.end()
    }
}
