//! The connection-tracking table (`conntrack -L|-G|-I|-U|-D|-F|-C|-S|-E`)
//! over ctnetlink.
//!
//! - [`Tuple`], [`Proto`]: a direction of a connection (`tuple.rs`).
//! - [`Conntrack`]: an entry as the kernel reports it, lazily decoded;
//!   displayed as a line of `conntrack -L` (`entry.rs`, `status.rs`).
//! - [`ConntrackList`]: listings and their filters, kernel-side where the
//!   kernel can, in user space for the rest (`filter.rs`, `list.rs`).
//! - get, create, update, delete, delete by filter, flush (`ops.rs`,
//!   `delete.rs`); the entry count and per-CPU statistics (`stats.rs`);
//!   events (`events.rs`).
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use futures::TryStreamExt;
//! use tokio_netlink::Family;
//! use tokio_netlink::netfilter::conntrack::{Proto, Tuple};
//! let nl = tokio_netlink::Netlink::new();
//! let ct = nl.conntrack();
//! ct.create(Tuple::new("10.0.0.1", "10.0.0.2", Proto::Udp)?.ports(5000, 53))
//!     .timeout(60)
//!     .mark(7)
//!     .await?;
//! let mut web = ct.list().family(Family::V4).protocol(Proto::Tcp).dport(80).stream();
//! while let Some(e) = web.try_next().await? {
//!     println!("{e}");
//! }
//! let gone = ct.delete_matching().orig_dst("10.0.0.2").await?;
//! println!("{gone} entries deleted");
//! # Ok(()) }
//! ```

mod delete;
mod entry;
mod events;
mod filter;
mod list;
mod ops;
#[cfg(feature = "serde")]
mod serde;
mod setters;
mod stats;
mod status;
mod tuple;

pub use delete::{ConntrackFlush, DeleteMatching};
pub use entry::{Conntrack, Counters, TcpInfo};
pub use events::{ConntrackEvent, ConntrackEvents, EventGroup};
pub use filter::Filter;
pub use list::ConntrackList;
pub use ops::{ConntrackCreate, ConntrackDelete, ConntrackGet, ConntrackUpdate};
pub use stats::{CpuStats, GlobalStats};
pub use status::{Status, TcpState};
pub use tuple::{Proto, Tuple};

use crate::client::Netlink;
use crate::conn::Requester;
use crate::netfilter::{Netfilter, SUBSYS_CTNETLINK};

/// ctnetlink message numbers (`IPCTNL_MSG_CT_*`); a message's netlink type
/// is `NFNL_SUBSYS_CTNETLINK << 8 | n` (see [`msg::ty`]).
pub mod msg {
    /// Create or change an entry; also a dump's entries and NEW/UPDATE events.
    pub const NEW: u8 = 0;
    /// Get one entry, or dump them.
    pub const GET: u8 = 1;
    /// Delete an entry (or flush); also DESTROY events.
    pub const DELETE: u8 = 2;
    /// Dump and zero the counters.
    pub const GET_CTRZERO: u8 = 3;
    /// Per-CPU statistics (a dump).
    pub const GET_STATS_CPU: u8 = 4;
    /// Global statistics (the entry count).
    pub const GET_STATS: u8 = 5;
    /// Dump the dying list.
    pub const GET_DYING: u8 = 6;
    /// Dump the unconfirmed list.
    pub const GET_UNCONFIRMED: u8 = 7;

    /// The netlink message type of ctnetlink message `n`.
    pub const fn ty(n: u8) -> u16 {
        ((super::SUBSYS_CTNETLINK as u16) << 8) | n as u16
    }

    /// The symbolic name of ctnetlink message `n`.
    pub fn name(n: u8) -> Option<&'static str> {
        Some(match n {
            NEW => "IPCTNL_MSG_CT_NEW",
            GET => "IPCTNL_MSG_CT_GET",
            DELETE => "IPCTNL_MSG_CT_DELETE",
            GET_CTRZERO => "IPCTNL_MSG_CT_GET_CTRZERO",
            GET_STATS_CPU => "IPCTNL_MSG_CT_GET_STATS_CPU",
            GET_STATS => "IPCTNL_MSG_CT_GET_STATS",
            GET_DYING => "IPCTNL_MSG_CT_GET_DYING",
            GET_UNCONFIRMED => "IPCTNL_MSG_CT_GET_UNCONFIRMED",
            _ => return None,
        })
    }
}

/// Top-level attributes (`CTA_*`).
pub(crate) mod cta {
    pub const TUPLE_ORIG: u16 = 1;
    pub const TUPLE_REPLY: u16 = 2;
    pub const STATUS: u16 = 3;
    pub const PROTOINFO: u16 = 4;
    pub const HELP: u16 = 5;
    pub const TIMEOUT: u16 = 7;
    pub const MARK: u16 = 8;
    pub const COUNTERS_ORIG: u16 = 9;
    pub const COUNTERS_REPLY: u16 = 10;
    pub const USE: u16 = 11;
    pub const ID: u16 = 12;
    pub const ZONE: u16 = 18;
    pub const SECCTX: u16 = 19;
    pub const TIMESTAMP: u16 = 20;
    pub const MARK_MASK: u16 = 21;
    pub const LABELS: u16 = 22;
    pub const LABELS_MASK: u16 = 23;
    pub const FILTER: u16 = 25;
    pub const STATUS_MASK: u16 = 26;
    /// The highest this crate reads.
    pub const MAX: usize = 26;
}

/// `NF_CT_LABELS_MAX_SIZE`: 128 label bits.
pub const LABELS_MAX: usize = 16;

/// Connection-tracking operations (`conntrack`) on the client's own
/// NETLINK_NETFILTER connection. Get one with [`Netlink::conntrack`].
#[derive(Debug, Clone)]
pub struct ConntrackHandle {
    req: Requester<Netfilter>,
}

impl ConntrackHandle {
    /// The raw requester underneath, for messages this handle lacks.
    pub fn requester(&self) -> &Requester<Netfilter> {
        &self.req
    }
}

impl Netlink {
    /// The connection-tracking table (`conntrack`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// println!("{} entries", nl.conntrack().count().await?);
    /// for e in nl.conntrack().list().mark(0x10, 0xff).await? {
    ///     println!("{e}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn conntrack(&self) -> ConntrackHandle {
        ConntrackHandle {
            req: self.requester::<Netfilter>(),
        }
    }
}
