//! `serde` for route-family events: [`Event`] as a map tagged by
//! `event`, [`ChangeKind`] as its snake_case name.

use ::serde::de::{Deserialize, Deserializer};
use ::serde::ser::{Serialize, SerializeMap, Serializer};

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
/// | `new_nexthop`, `del_nexthop` | `nexthop` | [`NexthopObject`](crate::route::nexthop::NexthopObject) |
/// | `new_netconf`, `del_netconf` | `netconf` | [`Netconf`](crate::route::netconf::Netconf) |
/// | `new_nsid`, `del_nsid`, `other` | `message_type` | the netlink message type (number) |
/// | `lost` | | notifications were dropped: resynchronise |
/// | `undecodable` | `error` | the decoding error's text |
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let v = serde_json::to_value(tokio_netlink::route::events::Event::Lost).unwrap();
/// assert_eq!(v, serde_json::json!({"event": "lost", "change": "unknown"}));
/// // Keys come in this order: `event`, `change`, the object.
/// let text = serde_json::to_string(&tokio_netlink::route::events::Event::Lost).unwrap();
/// assert_eq!(text, r#"{"event":"lost","change":"unknown"}"#);
/// # }
/// ```
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.change_kind();
        let mut f = Fields::begin(s)?;
        let m = &mut f;
        match self {
            Event::NewLink(l) => tagged(m, "new_link", c, "link", l)?,
            Event::DelLink(l) => tagged(m, "del_link", c, "link", l)?,
            Event::NewAddress(a) => tagged(m, "new_address", c, "address", a)?,
            Event::DelAddress(a) => tagged(m, "del_address", c, "address", a)?,
            Event::NewRoute(r) => tagged(m, "new_route", c, "route", r)?,
            Event::DelRoute(r) => tagged(m, "del_route", c, "route", r)?,
            Event::NewRule(r) => tagged(m, "new_rule", c, "rule", r)?,
            Event::DelRule(r) => tagged(m, "del_rule", c, "rule", r)?,
            Event::NewNeighbour(n) => tagged(m, "new_neighbour", c, "neighbour", n)?,
            Event::DelNeighbour(n) => tagged(m, "del_neighbour", c, "neighbour", n)?,
            Event::NewQdisc(q) => tagged(m, "new_qdisc", c, "qdisc", q)?,
            Event::DelQdisc(q) => tagged(m, "del_qdisc", c, "qdisc", q)?,
            Event::NewClass(k) => tagged(m, "new_class", c, "class", k)?,
            Event::DelClass(k) => tagged(m, "del_class", c, "class", k)?,
            Event::NewNexthop(n) => tagged(m, "new_nexthop", c, "nexthop", n)?,
            Event::DelNexthop(n) => tagged(m, "del_nexthop", c, "nexthop", n)?,
            Event::NewNetconf(n) => tagged(m, "new_netconf", c, "netconf", n)?,
            Event::DelNetconf(n) => tagged(m, "del_netconf", c, "netconf", n)?,
            Event::Lost => m.put("event", "lost")?.put("change", &c)?,
            Event::Undecodable(e) => tagged(m, "undecodable", c, "error", &e.to_string())?,
            // The message-only events, and any variant added later: the
            // type tells them apart.
            other => {
                let ty = other.raw().map(|r| r.header.ty);
                let name = match ty {
                    Some(88) => "new_nsid",
                    Some(89) => "del_nsid",
                    _ => "other",
                };
                m.put("event", name)?
                    .put("change", &c)?
                    .opt("message_type", ty)?
            }
        };
        f.end()
    }
}

/// `event`, `change`, then the object under `key`: the order a reader
/// dispatches in.
fn tagged<'m, M: SerializeMap, T: Serialize + ?Sized>(
    m: &'m mut Fields<M>,
    event: &'static str,
    change: ChangeKind,
    key: &'static str,
    obj: &T,
) -> Result<&'m mut Fields<M>, M::Error> {
    m.put("event", event)?.put("change", &change)?.put(key, obj)
}
