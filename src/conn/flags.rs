//! The NLM_F_* header flags, for the `flags` argument of the raw
//! [`Requester`](super::Requester) methods (combine them with `|`).
//!
//! The methods add what their kind of request needs themselves
//! ([`REQUEST`] always, [`ACK`] for [`ack`](super::Requester::ack),
//! [`DUMP`] for the dumps); pass the rest, such as `CREATE | EXCL` for
//! `ip link add` or `CREATE | REPLACE` for `ip route replace`:
//!
//! ```no_run
//! use tokio_netlink::conn::flags;
//! use tokio_netlink::netlink_packet_route::RouteNetlinkMessage;
//! use tokio_netlink::netlink_packet_route::route::RouteMessage;
//!
//! # async fn f(nl: tokio_netlink::Netlink, route: RouteMessage) -> tokio_netlink::Result<()> {
//! // ip route replace …
//! nl.rtnl()
//!     .ack(RouteNetlinkMessage::NewRoute(route), flags::CREATE | flags::REPLACE)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Values from include/uapi/linux/netlink.h; several share a bit and mean
//! different things for GET (dump), NEW and DEL requests and for acks.

/// NLM_F_REQUEST: a request (set by every method).
pub const REQUEST: u16 = 0x01;
/// NLM_F_MULTI: part of a multipart reply (dumps), ended by NLMSG_DONE.
pub const MULTI: u16 = 0x02;
/// NLM_F_ACK: ask for an acknowledgement (set by `ack`).
pub const ACK: u16 = 0x04;
/// NLM_F_ECHO: echo this request back (to the sender's notifications).
pub const ECHO: u16 = 0x08;
/// NLM_F_DUMP_INTR: a dump was interrupted by a change and may be
/// inconsistent (set by the kernel).
pub const DUMP_INTR: u16 = 0x10;
/// NLM_F_DUMP_FILTERED: the dump was filtered as requested (set by the
/// kernel).
pub const DUMP_FILTERED: u16 = 0x20;

/// NLM_F_ROOT (GET): return the whole table.
pub const ROOT: u16 = 0x100;
/// NLM_F_MATCH (GET): return all matching entries.
pub const MATCH: u16 = 0x200;
/// NLM_F_ATOMIC (GET): an atomic snapshot.
pub const ATOMIC: u16 = 0x400;
/// NLM_F_DUMP (GET): `ROOT | MATCH` (set by the dump methods).
pub const DUMP: u16 = ROOT | MATCH;

/// NLM_F_REPLACE (NEW): replace an existing object (`ip … replace`).
pub const REPLACE: u16 = 0x100;
/// NLM_F_EXCL (NEW): fail with EEXIST if it exists (`ip … add`).
pub const EXCL: u16 = 0x200;
/// NLM_F_CREATE (NEW): create it if it does not exist.
pub const CREATE: u16 = 0x400;
/// NLM_F_APPEND (NEW): add to the end of the list (`ip route append`).
pub const APPEND: u16 = 0x800;

/// NLM_F_NONREC (DEL): do not delete recursively.
pub const NONREC: u16 = 0x100;
/// NLM_F_BULK (DEL): delete every matching object.
pub const BULK: u16 = 0x200;

/// NLM_F_CAPPED (ack): the request was cut from the error message.
pub const CAPPED: u16 = 0x100;
/// NLM_F_ACK_TLVS (ack): extended-ACK attributes follow.
pub const ACK_TLVS: u16 = 0x200;
