//! `ip monitor`: typed NETLINK_ROUTE change events.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};

use crate::client::Netlink;
use crate::conn::{Notification, RawMessage, Subscription};
use crate::error::{Error, RequestKind, Result};
use crate::route::address::Address;
use crate::route::link::Link;
use crate::route::neighbour::Neighbour;
use crate::route::netconf::Netconf;
use crate::route::nexthop::NexthopObject;
use crate::route::route::Route;
use crate::route::rule::Rule;
use crate::route::tc::{Chain, Class, Filter, Qdisc};

/// A NETLINK_ROUTE multicast group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Group {
    /// RTNLGRP_LINK: links.
    Link,
    /// RTNLGRP_NEIGH: neighbours and FDB entries.
    Neighbour,
    /// RTNLGRP_IPV4_IFADDR.
    Ipv4Address,
    /// RTNLGRP_IPV6_IFADDR.
    Ipv6Address,
    /// RTNLGRP_IPV4_ROUTE.
    Ipv4Route,
    /// RTNLGRP_IPV6_ROUTE.
    Ipv6Route,
    /// RTNLGRP_IPV4_RULE.
    Ipv4Rule,
    /// RTNLGRP_IPV6_RULE.
    Ipv6Rule,
    /// RTNLGRP_NSID: namespace ids.
    Nsid,
    /// RTNLGRP_TC: qdiscs and classes (filters and actions arrive as
    /// [`Event::Other`]).
    Tc,
    /// RTNLGRP_NEXTHOP: nexthop objects (`ip nexthop`), delivered as
    /// [`Event::NewNexthop`] and [`Event::DelNexthop`].
    Nexthop,
    /// RTNLGRP_IPV4_NETCONF: IPv4 netconf changes (`ip monitor netconf`),
    /// delivered as [`Event::NewNetconf`] and [`Event::DelNetconf`].
    Ipv4Netconf,
    /// RTNLGRP_IPV6_NETCONF: IPv6 netconf changes.
    Ipv6Netconf,
    /// RTNLGRP_MPLS_NETCONF: MPLS netconf changes.
    MplsNetconf,
    /// Any other group by number.
    Other(u32),
}

impl Group {
    /// The group's number (RTNLGRP_*).
    pub fn number(self) -> u32 {
        match self {
            Group::Link => 1,
            Group::Neighbour => 3,
            Group::Tc => 4,
            Group::Ipv4Address => 5,
            Group::Ipv4Route => 7,
            Group::Ipv4Rule => 8,
            Group::Ipv6Address => 9,
            Group::Ipv6Route => 11,
            Group::Ipv6Rule => 19,
            Group::Ipv4Netconf => 24,
            Group::Ipv6Netconf => 25,
            Group::Nsid => 28,
            Group::MplsNetconf => 29,
            Group::Nexthop => 32,
            Group::Other(n) => n,
        }
    }

    /// Links, addresses, routes, rules, neighbours, namespace ids, traffic
    /// control. [`Group::Nexthop`] and the netconf groups, typed too, are
    /// left out (as they were before their events were typed): name them
    /// to subscribe.
    pub fn all() -> Vec<Group> {
        vec![
            Group::Link,
            Group::Neighbour,
            Group::Ipv4Address,
            Group::Ipv6Address,
            Group::Ipv4Route,
            Group::Ipv6Route,
            Group::Ipv4Rule,
            Group::Ipv6Rule,
            Group::Nsid,
            Group::Tc,
        ]
    }

    /// IPv4 and IPv6 addresses.
    pub fn addresses() -> Vec<Group> {
        vec![Group::Ipv4Address, Group::Ipv6Address]
    }

    /// IPv4 and IPv6 routes.
    pub fn routes() -> Vec<Group> {
        vec![Group::Ipv4Route, Group::Ipv6Route]
    }

    /// IPv4 and IPv6 rules.
    pub fn rules() -> Vec<Group> {
        vec![Group::Ipv4Rule, Group::Ipv6Rule]
    }

    /// IPv4 and IPv6 netconf changes.
    pub fn netconf() -> Vec<Group> {
        vec![Group::Ipv4Netconf, Group::Ipv6Netconf]
    }
}

/// A change the kernel announced, with its typed view (each view keeps the
/// raw message: `.raw()`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A link appeared or changed ([`Event::change_kind`] says which).
    NewLink(Link),
    /// A link went away.
    DelLink(Link),
    /// An address was added or changed.
    NewAddress(Address),
    /// An address was removed.
    DelAddress(Address),
    /// A route was added, replaced or given another next hop
    /// ([`Event::change_kind`] says which).
    NewRoute(Route),
    /// A route was removed.
    DelRoute(Route),
    /// A rule was added.
    NewRule(Rule),
    /// A rule was removed.
    DelRule(Rule),
    /// A neighbour or FDB entry was added or changed.
    NewNeighbour(Neighbour),
    /// A neighbour or FDB entry was removed.
    DelNeighbour(Neighbour),
    /// A qdisc was added or changed (`tc qdisc add|replace|change`).
    NewQdisc(Qdisc),
    /// A qdisc was deleted.
    DelQdisc(Qdisc),
    /// A class was added or changed.
    NewClass(Class),
    /// A class was deleted.
    DelClass(Class),
    /// A filter was added or changed (`tc filter add|replace|change`).
    NewFilter(Filter),
    /// A filter was deleted (one, or every filter of a `pref`).
    DelFilter(Filter),
    /// A filter chain was added (`tc chain add`, or a filter's `chain N`).
    NewChain(Chain),
    /// A filter chain was deleted.
    DelChain(Chain),
    /// A nexthop object was added or replaced (`ip nexthop add|replace`;
    /// [`Event::change_kind`] says which).
    NewNexthop(NexthopObject),
    /// A nexthop object was deleted (its routes went with it, silently
    /// for IPv4).
    DelNexthop(NexthopObject),
    /// A device's IP configuration changed (a sysctl such as
    /// `net.ipv4.conf.DEV.forwarding`; the entry carries the changed field
    /// only), or a device registered (every field). Carries no raw message.
    NewNetconf(Netconf),
    /// A device's netconf entry went with the device (only `ifindex`).
    DelNetconf(Netconf),
    /// A namespace id was assigned.
    NewNsid(RawMessage),
    /// A namespace id was released.
    DelNsid(RawMessage),
    /// A message of another type.
    Other(RawMessage),
    /// The kernel dropped notifications (ENOBUFS): state built from this
    /// stream must be resynchronised (see [`crate::watch`]). Notifications
    /// still queued at that moment are discarded with it, so every event
    /// after `Lost` is newer than it: dump, then apply the events that follow.
    Lost,
    /// A notification that could not be decoded; the stream goes on.
    Undecodable(Error),
}

const MONITOR: RequestKind = RequestKind {
    message_type: 0,
    name: Some("notification"),
};

impl Event {
    /// Types a notification message.
    pub fn from_raw(raw: RawMessage) -> Event {
        let r = match raw.header.ty {
            16 => Link::from_raw(raw).map(Event::NewLink),
            17 => Link::from_raw(raw).map(Event::DelLink),
            20 => Address::from_raw(raw).map(Event::NewAddress),
            21 => Address::from_raw(raw).map(Event::DelAddress),
            24 => Route::from_raw(raw).map(Event::NewRoute),
            25 => Route::from_raw(raw).map(Event::DelRoute),
            28 => Neighbour::from_raw(raw).map(Event::NewNeighbour),
            29 => Neighbour::from_raw(raw).map(Event::DelNeighbour),
            32 => Rule::from_raw(raw).map(Event::NewRule),
            36 => Qdisc::from_raw(raw).map(Event::NewQdisc),
            37 => Qdisc::from_raw(raw).map(Event::DelQdisc),
            40 => Class::from_raw(raw).map(Event::NewClass),
            41 => Class::from_raw(raw).map(Event::DelClass),
            44 => Filter::from_raw(raw).map(Event::NewFilter),
            45 => Filter::from_raw(raw).map(Event::DelFilter),
            100 => Chain::from_raw(raw).map(Event::NewChain),
            101 => Chain::from_raw(raw).map(Event::DelChain),
            33 => Rule::from_raw(raw).map(Event::DelRule),
            104 => NexthopObject::from_raw(raw).map(Event::NewNexthop),
            105 => NexthopObject::from_raw(raw).map(Event::DelNexthop),
            80 => Netconf::from_raw(raw).map(Event::NewNetconf),
            81 => Netconf::from_raw(raw).map(Event::DelNetconf),
            88 => Ok(Event::NewNsid(raw)),
            89 => Ok(Event::DelNsid(raw)),
            _ => Ok(Event::Other(raw)),
        };
        r.unwrap_or_else(Event::Undecodable)
    }

    /// The message's family byte (the first of its fixed header: AF_INET,
    /// AF_INET6, AF_BRIDGE = 7 for a bridge port's link state or an FDB
    /// entry…), for events that carry a message, and netconf events.
    pub fn family(&self) -> Option<u8> {
        if let Event::NewNetconf(n) | Event::DelNetconf(n) = self {
            return Some(n.family.number());
        }
        self.raw()?
            .bytes
            .get(crate::conn::frame::HEADER_LEN)
            .copied()
    }

    /// Whether the object is new, replaced or changed, where the kernel
    /// says so: for links (`ifi_change` is all ones when a link registers)
    /// and routes (NLM_F_CREATE|NLM_F_EXCL, NLM_F_REPLACE, NLM_F_APPEND on
    /// the notification). Addresses, rules and neighbours are announced
    /// alike whether new or changed ([`ChangeKind::Unknown`]): a
    /// [`watch`](crate::watch) keeps the previous state and tells them
    /// apart.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) {
    /// use futures::StreamExt;
    /// use tokio_netlink::route::events::{ChangeKind, Event, Group};
    /// let mut events = nl.events(&[Group::Link]);
    /// while let Some(ev) = events.next().await {
    ///     if let (Event::NewLink(l), ChangeKind::Created) = (&ev, ev.change_kind()) {
    ///         println!("new link {}", l.name());
    ///     }
    /// }
    /// # }
    /// ```
    pub fn change_kind(&self) -> ChangeKind {
        use crate::conn::flags::{
            APPEND as F_APPEND, CREATE as F_CREATE, EXCL as F_EXCL, REPLACE as F_REPLACE,
        };
        match self {
            Event::DelLink(_)
            | Event::DelAddress(_)
            | Event::DelRoute(_)
            | Event::DelRule(_)
            | Event::DelNeighbour(_)
            | Event::DelQdisc(_)
            | Event::DelClass(_)
            | Event::DelFilter(_)
            | Event::DelChain(_)
            | Event::DelNexthop(_)
            | Event::DelNsid(_)
            | Event::DelNetconf(_) => ChangeKind::Removed,
            Event::NewLink(l) => {
                // ifinfomsg.ifi_change, after family, pad, type, index, flags.
                let at = crate::conn::frame::HEADER_LEN + 12;
                match l.raw().bytes.get(at..at + 4) {
                    Some(b) if b == [0xff; 4] => ChangeKind::Created,
                    Some(_) => ChangeKind::Changed,
                    None => ChangeKind::Unknown,
                }
            }
            Event::NewRoute(r) => {
                let f = r.raw().header.flags;
                if f & F_REPLACE != 0 {
                    ChangeKind::Replaced
                } else if f & F_APPEND != 0 {
                    // IPv6 announces a next hop added to a multipath route.
                    ChangeKind::Appended
                } else if f & (F_CREATE | F_EXCL) == F_CREATE | F_EXCL {
                    ChangeKind::Created
                } else {
                    ChangeKind::Unknown
                }
            }
            Event::NewNexthop(n) => {
                let f = n.raw().header.flags;
                if f & F_REPLACE != 0 {
                    ChangeKind::Replaced
                } else if f & (F_CREATE | F_EXCL) == F_CREATE | F_EXCL {
                    ChangeKind::Created
                } else {
                    ChangeKind::Unknown
                }
            }
            Event::NewNsid(_) => ChangeKind::Created,
            _ => ChangeKind::Unknown,
        }
    }

    /// The raw message, for events that carry one (all but netconf events,
    /// whose entry is decoded whole, and `Lost` / `Undecodable`).
    pub fn raw(&self) -> Option<&RawMessage> {
        Some(match self {
            Event::NewLink(l) | Event::DelLink(l) => l.raw(),
            Event::NewAddress(a) | Event::DelAddress(a) => a.raw(),
            Event::NewRoute(r) | Event::DelRoute(r) => r.raw(),
            Event::NewRule(r) | Event::DelRule(r) => r.raw(),
            Event::NewNeighbour(n) | Event::DelNeighbour(n) => n.raw(),
            Event::NewQdisc(q) | Event::DelQdisc(q) => q.raw(),
            Event::NewClass(c) | Event::DelClass(c) => c.raw(),
            Event::NewFilter(f) | Event::DelFilter(f) => f.raw(),
            Event::NewChain(c) | Event::DelChain(c) => c.raw(),
            Event::NewNexthop(n) | Event::DelNexthop(n) => n.raw(),
            Event::NewNsid(m) | Event::DelNsid(m) | Event::Other(m) => m,
            Event::NewNetconf(_) | Event::DelNetconf(_) | Event::Lost | Event::Undecodable(_) => {
                return None;
            }
        })
    }
}

/// What a notification says happened to its object; see
/// [`Event::change_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// The object is new: a link registered, a route created.
    Created,
    /// A route replaced another (`ip route replace` of an existing route).
    Replaced,
    /// An IPv6 route got another next hop (`ip -6 route append`); the
    /// message carries the added hop, not the whole route.
    Appended,
    /// An existing link changed (flags, mtu, name, master, …).
    Changed,
    /// The object went away.
    Removed,
    /// The kernel does not say whether the object is new or changed.
    Unknown,
}

/// A stream of typed events; see [`Netlink::events`]. Dropping it closes
/// its socket.
#[derive(Debug)]
pub struct Events {
    sub: Subscription,
}

impl Events {
    /// Waits until the subscription is in place: changes made after this
    /// returns are seen.
    pub async fn ready(&mut self) -> Result<()> {
        self.sub.ready().await.map_err(Error::Io)
    }

    /// Notifications lost so far (ENOBUFS events).
    pub fn losses(&self) -> u64 {
        self.sub.losses
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Poll::Ready(Some(match ready!(self.sub.poll_next_unpin(cx)) {
            None => return Poll::Ready(None),
            Some(Notification::Message(raw)) => Event::from_raw(raw),
            Some(Notification::Lost) => Event::Lost,
            Some(Notification::Malformed(reason)) => Event::Undecodable(Error::Decode {
                request: MONITOR,
                reason: reason.into(),
            }),
            Some(Notification::Failed(e)) => Event::Undecodable(Error::Io(e)),
        }))
    }
}

impl Netlink {
    /// Subscribes to NETLINK_ROUTE change events (`ip monitor`) on a socket
    /// of its own, in this client's namespace.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use futures::StreamExt;
    /// use tokio_netlink::route::events::{Event, Group};
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut events = nl.events(&[Group::Link, Group::Ipv4Route]);
    /// events.ready().await?;
    /// while let Some(ev) = events.next().await {
    ///     match ev {
    ///         Event::NewLink(l) => println!("link {} is up: {}", l.name(), l.is_up()),
    ///         Event::Lost => println!("events lost: resync"),
    ///         other => println!("{other:?}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self, groups: &[Group]) -> Events {
        let numbers: Vec<u32> = groups.iter().map(|g| g.number()).collect();
        Events {
            sub: self.rtnl().subscribe(&numbers),
        }
    }
}
