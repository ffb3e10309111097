//! # tokio-netlink
//!
//! An async netlink client for tokio: configure and observe Linux
//! networking by awaiting requests, streaming dumps and subscribing to
//! changes, in iproute2's vocabulary.
//!
//! ## A tour
//!
//! One [`Netlink`] client per network namespace (cheap to clone); each
//! family hangs off it as a handle:
//!
//! | `ip` / `tc` / `ss` | handle | module |
//! |---|---|---|
//! | `ip link` | [`Netlink::link`] | [`route::link`] (kinds in [`route::link::kinds`]) |
//! | `ip address` | [`Netlink::address`] | [`route::address`] |
//! | `ip route` | [`Netlink::route`] | [`route::route`] |
//! | `ip rule` | [`Netlink::rule`] | [`route::rule`] |
//! | `ip nexthop` | [`Netlink::nexthop`] | [`route::nexthop`] |
//! | `ip addrlabel` | [`Netlink::addrlabel`] | [`route::addrlabel`] |
//! | `ip netns set`, `ip netns list-id` | [`Netlink::nsid`] | [`route::nsid`] |
//! | `ip netconf` | [`Netlink::netconf`] | [`route::netconf`] |
//! | `ip stats` | [`Netlink::stats`] | [`route::stats`] |
//! | `ip neigh`, `bridge fdb` | [`Netlink::neighbour`] | [`route::neighbour`] |
//! | `tc qdisc`, `tc class` | [`Netlink::tc`] | [`route::tc`] |
//! | `ip monitor` | [`Netlink::events`] | [`route::events`] |
//! | a cache kept equal to the kernel's | [`Netlink::watch`] | [`watch`] |
//! | `ip xfrm` | [`Netlink::xfrm`] | [`xfrm`] |
//! | `ss` | [`Netlink::diag`] | [`diag`] |
//! | `conntrack` | [`Netlink::conntrack`] | [`netfilter::conntrack`] |
//! | `ipset` | [`Netlink::ipset`] | [`netfilter::ipset`] |
//! | `genl ctrl`, any generic netlink family | [`Netlink::genl`] | [`genl`] |
//! | `ethtool` | [`Netlink::ethtool`] | [`genl::ethtool`] |
//! | many changes at once | [`Netlink::batch`] | [`route::batch`] |
//! | any NETLINK_ROUTE message | [`Netlink::rtnl`] | [`conn`] |
//!
//! What a CNI plugin does (a namespace, a veth into it, an address, a
//! default route):
//!
//! ```no_run
//! use tokio_netlink::route::link::kinds::Veth;
//! use tokio_netlink::{Netlink, netns};
//!
//! # async fn f() -> tokio_netlink::Result<()> {
//! let host = Netlink::new();
//! let ns = netns::Scoped::add("pod1").await?; // deleted when `ns` goes
//! host.link().add("veth-pod1", Veth::peer("eth0").peer_netns(ns.name())).up().await?;
//! let pod = ns.client()?;
//! pod.link().set("eth0").up().await?;
//! pod.address().add("eth0", "10.22.0.5/24").await?;
//! pod.route().add("default").via("10.22.0.1").await?;
//! # Ok(()) }
//! ```
//!
//! Listings are lazily decoded views; `.await` one for a `Vec`, or take
//! its `stream()` to handle a million routes in flat memory:
//!
//! ```no_run
//! # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
//! use futures::TryStreamExt;
//! let mut routes = nl.route().list().table(100).stream();
//! while let Some(r) = routes.try_next().await? {
//!     println!("{:?} via {:?}", r.destination(), r.gateway());
//! }
//! # Ok(()) }
//! ```
//!
//! ## Connection tracking
//!
//! [`Netlink::conntrack`] lists the conntrack table as a stream (a million
//! entries in flat memory), filtered by the kernel where it can (mark,
//! status, exact tuple fields) and in user space for the rest (prefixes,
//! zones), with the same builder; it gets, creates, updates and deletes
//! entries by tuple, deletes by filter in batches and returns the count
//! (kube-proxy's cleanup of a service), flushes, counts, and streams
//! NEW / UPDATE / DESTROY events with losses as items. Entries print as
//! `conntrack -L` lines:
//!
//! ```no_run
//! # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
//! use tokio_netlink::netfilter::conntrack::Proto;
//! for ct in nl.conntrack().list().protocol(Proto::Tcp).dport(443).await? {
//!     println!("{ct}");
//! }
//! let n = nl.conntrack().delete_matching().orig_dst("10.96.0.10").await?;
//! # let _ = n; Ok(()) }
//! ```
//!
//! ## IP sets
//!
//! [`Netlink::ipset`] creates, destroys, flushes, renames and swaps sets
//! (hash, bitmap and list:set types, with timeout, counters, comment,
//! skbinfo), adds, deletes and tests members written in ipset's syntax,
//! adds many in batches (`ipset restore`'s speed) and lists a set's
//! members as a stream; ipset's own error codes read as ipset reads them
//! (`element is already in the set (error 4103)`):
//!
//! ```no_run
//! # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
//! use tokio_netlink::netfilter::ipset::{IpsetEntry, SetType};
//! nl.ipset().create("web", SetType::HashIpPort).timeout(600).await?;
//! let e = IpsetEntry::parse(SetType::HashIpPort, "10.0.0.1,tcp:443")?;
//! nl.ipset().add("web", e.clone()).await?;
//! assert!(nl.ipset().test("web", e).await?);
//! # Ok(()) }
//! ```
//!
//! ## Errors
//!
//! One [`Error`]. A builder's failure names the operation and its object
//! in iproute2's words and carries the kernel's extended-ACK text:
//! `route add 10.9.0.0/16 table 100: File exists`, `address add
//! 10.6.1.1/24 dev eth9: no such link "eth9"`, `qdisc add dev v0 root
//! handle 1: htb: File exists: Exclusivity flag on, cannot modify`. Ask it
//! [`Error::errno`], [`Error::is_not_found`], [`Error::is_exists`],
//! [`Error::context`]. Input refused before anything is sent is
//! [`Error::InvalidInput`] naming the field; no input panics.
//!
//! ## Events or watch
//!
//! [`Netlink::events`] streams the kernel's notifications as typed
//! [`route::events::Event`]s ([`Event::change_kind`](route::events::Event::change_kind)
//! tells new from changed where the kernel says). When the kernel drops
//! notifications (a slow reader), the stream yields `Event::Lost` and the
//! state must be dumped again. [`Netlink::watch`] does that for you: a cache
//! of links, addresses, routes or neighbours kept equal to the kernel's,
//! with `Added` / `Changed` / `Removed` changes and resyncs after losses.
//! Use events to react, a watch to hold state.
//!
//! ## Namespaces
//!
//! [`Netlink::in_netns`] takes a name under /run/netns, a path (CNI's
//! `CNI_NETNS`), a pid or an fd ([`NetnsTarget`]); [`netns::add`],
//! [`netns::del`] and [`netns::Scoped`] manage named namespaces. Sockets are
//! opened in the namespace from a short-lived thread; no tokio worker ever
//! changes namespace.
//!
//! ## Runtime and permissions
//!
//! Requests, dumps and events work from any tokio runtime (current- or
//! multi-thread) and from none: connections live on the crate's own I/O
//! thread, so a runtime that idles or is dropped never stalls a client.
//! [`Netlink::watch`] runs a task and needs a runtime
//! ([`Error::NoRuntime`] otherwise). Changing the system needs
//! CAP_NET_ADMIN (root); reading mostly does not.
//!
//! ## The raw path
//!
//! [`Requester`] sends any message of a [`Protocol`] and returns replies
//! undecoded ([`RawMessage`]) or decoded; [`netlink_packet_route`] and
//! [`netlink_packet_core`] are re-exported for it:
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use tokio_netlink::netlink_packet_route::{RouteNetlinkMessage, link::LinkMessage};
//!
//! # async fn f() -> tokio_netlink::Result<()> {
//! let nl = tokio_netlink::Netlink::new();
//! let links: Vec<_> = nl
//!     .rtnl()
//!     .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()), 0)
//!     .try_collect()
//!     .await?;
//! println!("{} links", links.len());
//! # Ok(()) }
//! ```
//!
//! ## Serde
//!
//! With the `serde` cargo feature, every typed value and view of the
//! library implements `serde::Serialize`, and every value that can be
//! built from its serialized form also `Deserialize` (round-trip tested):
//!
//! ```no_run
//! # #[cfg(feature = "serde")]
//! # async fn f(nl: tokio_netlink::Netlink) -> Result<(), Box<dyn std::error::Error>> {
//! let routes = nl.route().list().table(254).await?;
//! let json = serde_json::to_string(&routes)?; // [{"dst":"10.0.0.0/24","gateway":…},…]
//! # Ok(()) }
//! ```
//!
//! - **Views** that wrap kernel messages ([`route::link::Link`],
//!   [`route::address::Address`], [`route::route::Route`],
//!   [`route::rule::Rule`], [`route::neighbour::Neighbour`],
//!   [`route::tc::Qdisc`] / [`Class`](route::tc::Class) /
//!   [`Filter`](route::tc::Filter), [`diag::InetSocket`],
//!   [`diag::UnixSocket`], [`diag::NetlinkSocket`],
//!   [`diag::PacketSocket`], [`diag::TcpInfo`],
//!   [`netfilter::conntrack::Conntrack`]) serialize only: a flat map of
//!   their accessors in iproute2's JSON words (`ip -j`, `tc -j`,
//!   `bridge -j`; `ss`'s column names for sockets, `conntrack -L`'s for
//!   conntrack entries) — `ifname`, `mtu`, `operstate`, `dst`, `gateway`,
//!   `prefsrc`, `protocol`, `scope`, `table`, `state`, `handle`… Where
//!   `ip` prints a device's name the library has its index, under its own
//!   key (`ifindex`, `master_index`, `link_index`), so no name lookup is
//!   done. Absent attributes are left out. Each impl's documentation
//!   lists its fields.
//! - **Events** are maps tagged by `event` (`{"event": "new_link",
//!   "change": "created", "link": {…}}`; [`xfrm::XfrmEvent`] and
//!   [`netfilter::conntrack::ConntrackEvent`] alike), a watch's
//!   [`Change`](watch::Change) by `change` (`added` / `changed` /
//!   `removed` / `resynced` with `new` / `old`).
//! - **Values** go both ways: [`Family`] as `"inet"` / `"inet6"`,
//!   [`MacAddr`](route::link::MacAddr) as `"02:00:00:aa:bb:0c"`,
//!   [`OperState`](route::link::OperState) as `"UP"`, TC handles as
//!   `"1:10"`, rates in bytes per second, kinds as `{"kind": "htb",
//!   "options": {…}}`; XFRM states, policies, selectors and templates,
//!   sock_diag values, conntrack tuples and generic netlink families
//!   ([`genl::Family`]) with their Rust field names
//!   (`ip xfrm`'s, `ss`'s and `conntrack`'s words; `null` for an absent
//!   optional field, keys as `0x…` hex, enums as the tools spell them). A
//!   kernel number without a name is written as its decimal text and read
//!   back to the same value. An XFRM value holding an address it refused
//!   (bad text given to a setter) fails to serialize with that refusal.
//!
//! Not serialized: builders and requests (link kinds, `RouteAdd`…), raw
//! messages, and the fully decoded `diag` replies ([`diag::InetSocket`]
//! and its siblings are the serializable form).
//!
//! Field names and value forms are part of the API, as stable as the
//! types: renaming or retyping a field is a breaking change, adding one is
//! not (consumers should ignore unknown fields).
#![warn(missing_docs)]

mod client;
pub mod conn;
pub mod diag;
mod error;
pub mod genl;
pub mod netfilter;
pub mod netns;
pub mod route;
#[cfg(feature = "serde")]
mod serde_util;
#[cfg(test)]
mod test_util;
pub mod types;
pub mod watch;
pub mod xfrm;

pub use client::{Builder, Config, Netlink, READ_AHEAD_DATAGRAMS};
pub use conn::{ConnStats, Dump, Protocol, RawDump, RawMessage, Requester, SocketOptions};
pub use error::{Context, Error, KernelError, RequestKind, Result};
pub use netns::NetnsTarget;
pub use types::{Family, IntoAddr, IntoPrefix};

/// Re-export of netlink-packet-core, the framing the raw path needs
/// ([`Protocol::Message`] implements its traits).
pub use netlink_packet_core;
/// Re-export of netlink-packet-route, whose messages the route family uses.
pub use netlink_packet_route;

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
