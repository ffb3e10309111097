//! # tokio-netlink
//!
//! An async netlink client for tokio: configure and observe Linux networking
//! by awaiting requests and streaming dumps.
//!
//! This release provides the engine every family stands on:
//!
//! - [`Netlink`], a cheap cloneable client per network namespace
//!   ([`Netlink::in_netns`]), with [`netns::add`] / [`netns::del`];
//! - [`Requester`], the raw per-protocol handle: [`Requester::ack`],
//!   [`Requester::get`], [`Requester::dump`] (a `Stream`), fire-and-forget
//!   [`Requester::send`];
//! - one [`Error`] type carrying the kernel's errno and extended-ACK text,
//!   and, for a builder's request, its [`Context`]: the operation and its
//!   object in iproute2's words (`route add 10.9.0.0/16 table 100: File
//!   exists`, `address add 10.6.1.1/24 dev eth9: no such link "eth9"`);
//! - [`IntoAddr`] and [`IntoPrefix`] ([`types`]): addresses and prefixes as
//!   std or ipnetwork types or as `ip`'s text, `"default"` included.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use netlink_packet_route::{RouteNetlinkMessage, link::LinkMessage};
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
#![warn(missing_docs)]

pub mod client;
pub mod conn;
pub mod diag;
pub mod error;
pub mod netns;
pub mod route;
pub mod types;
pub mod watch;
pub mod xfrm;

pub use client::{Builder, Config, Netlink};
pub use conn::{ConnStats, Dump, Protocol, RawDump, RawMessage, Requester, SocketOptions};
pub use error::{Context, Error, KernelError, RequestKind, Result};
pub use netns::NetnsTarget;
pub use types::{IntoAddr, IntoPrefix};

/// Re-export of netlink-packet-route, whose messages the route family uses.
pub use netlink_packet_route;

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
