//! `serde` for route-family events: [`Event`] as a map tagged by
//! `event`, [`ChangeKind`] as its snake_case name.

use ::serde::de::{Deserialize, Deserializer};
use ::serde::ser::{Serialize, Serializer};

use super::events::{ChangeKind, Event};
use crate::serde_util::{Fields, from_text};

const CHANGE_KINDS: [(ChangeKind, &str); 6] = [
    (ChangeKind::Created, "created"),
    (ChangeKind::Replaced, "replaced"),
    (ChangeKind::Appended, "appended"),
    (ChangeKind::Changed, "changed"),
    (ChangeKind::Removed, "removed"),
    (ChangeKind::Unknown, "unknown"),
];

/// `"created"`, `"replaced"`, `"appended"`, `"changed"`, `"removed"`,
/// `"unknown"`.
impl Serialize for ChangeKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = CHANGE_KINDS
            .iter()
            .find(|(k, _)| k == self)
            .map_or("unknown", |(_, n)| n);
        s.serialize_str(name)
    }
}

impl<'de> Deserialize<'de> for ChangeKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a change kind (created, changed, removed…)", |s| {
            CHANGE_KINDS.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
        })
    }
}

/// An event as one map: `event` names it, `change` is
/// [`Event::change_kind`], and the object is under its family's key.
///
/// | `event` | object key | object |
/// |---|---|---|
/// | `new_link`, `del_link` | `link` | [`Link`](crate::route::link::Link) |
/// | `new_address`, `del_address` | `address` | [`Address`](crate::route::address::Address) |
/// | `new_route`, `del_route` | `route` | [`Route`](crate::route::route::Route) |
/// | `new_rule`, `del_rule` | `rule` | [`Rule`](crate::route::rule::Rule) |
/// | `new_neighbour`, `del_neighbour` | `neighbour` | [`Neighbour`](crate::route::neighbour::Neighbour) |
/// | `new_qdisc`, `del_qdisc` | `qdisc` | [`Qdisc`](crate::route::tc::Qdisc) |
/// | `new_class`, `del_class` | `class` | [`Class`](crate::route::tc::Class) |
/// | `new_nsid`, `del_nsid`, `other` | `message_type` | the netlink message type (number) |
/// | `lost` | | notifications were dropped: resynchronise |
/// | `undecodable` | `error` | the decoding error's text |
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let v = serde_json::to_value(tokio_netlink::route::events::Event::Lost).unwrap();
/// assert_eq!(v, serde_json::json!({"event": "lost", "change": "unknown"}));
/// # }
/// ```
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("change", &self.change_kind())?;
        match self {
            Event::NewLink(l) => m.put("event", "new_link")?.put("link", l)?,
            Event::DelLink(l) => m.put("event", "del_link")?.put("link", l)?,
            Event::NewAddress(a) => m.put("event", "new_address")?.put("address", a)?,
            Event::DelAddress(a) => m.put("event", "del_address")?.put("address", a)?,
            Event::NewRoute(r) => m.put("event", "new_route")?.put("route", r)?,
            Event::DelRoute(r) => m.put("event", "del_route")?.put("route", r)?,
            Event::NewRule(r) => m.put("event", "new_rule")?.put("rule", r)?,
            Event::DelRule(r) => m.put("event", "del_rule")?.put("rule", r)?,
            Event::NewNeighbour(n) => m.put("event", "new_neighbour")?.put("neighbour", n)?,
            Event::DelNeighbour(n) => m.put("event", "del_neighbour")?.put("neighbour", n)?,
            Event::NewQdisc(q) => m.put("event", "new_qdisc")?.put("qdisc", q)?,
            Event::DelQdisc(q) => m.put("event", "del_qdisc")?.put("qdisc", q)?,
            Event::NewClass(c) => m.put("event", "new_class")?.put("class", c)?,
            Event::DelClass(c) => m.put("event", "del_class")?.put("class", c)?,
            Event::Lost => m.put("event", "lost")?,
            Event::Undecodable(e) => m
                .put("event", "undecodable")?
                .put("error", &e.to_string())?,
            // The message-only events, and any variant added later: the
            // type tells them apart.
            other => {
                let ty = other.raw().map(|r| r.header.ty);
                let name = match ty {
                    Some(88) => "new_nsid",
                    Some(89) => "del_nsid",
                    _ => "other",
                };
                m.put("event", name)?.opt("message_type", ty)?
            }
        };
        m.end()
    }
}
