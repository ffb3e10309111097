//! NETLINK_GENERIC (generic netlink): the carrier of most newer kernel
//! interfaces (nl80211, devlink, ethtool, wireguard, team, …), each a
//! *family* with an id the kernel assigns when it registers.
//!
//! [`Netlink::genl`] gives a [`GenlHandle`] on the client's own
//! NETLINK_GENERIC connection. It resolves families through the controller
//! (`nlctrl`, what `genl ctrl get` and `genl ctrl list` ask), keeps the
//! families it resolved in a per-client cache, and sends any family's
//! commands as raw [`GenlMessage`]s built with [`AttrBuilder`] and read
//! with [`Attributes`], so that typed families can sit on top.
//!
//! Every message is `nlmsghdr`, then `genlmsghdr { cmd, version,
//! reserved }`, then the family's own header (if it has one,
//! [`Family::hdrsize`] bytes) and attributes.
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use futures::TryStreamExt;
//! let nl = tokio_netlink::Netlink::new();
//! let ctrl = nl.genl().family("nlctrl").await?;
//! println!("nlctrl is {:#x}, notify group {:?}", ctrl.id, ctrl.mcast_group("notify"));
//! let mut all = nl.genl().families();
//! while let Some(f) = all.try_next().await? {
//!     println!("{f}");
//! }
//! # Ok(()) }
//! ```

mod attr;
#[cfg(test)]
mod cache_tests;
pub mod ethtool;
mod family;
mod message;
mod request;
mod resolve;

pub use attr::{Attr, AttrBuilder, Attributes, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK};
pub use family::{Family, McastGroup, Op, OpFlags};
pub use message::{Generic, GenlMessage};
pub use request::{FamilyRef, GenlDump, GenlRequest};
pub(crate) use resolve::FamilyCache;

use std::sync::Arc;

use crate::client::Netlink;
use crate::conn::Requester;

/// GENL_ID_CTRL: the controller's fixed family id.
pub const GENL_ID_CTRL: u16 = 0x10;
/// GENL_NAMSIZ: the longest family name, its NUL included.
pub const GENL_NAMSIZ: usize = 16;
/// `sizeof(struct genlmsghdr)`.
pub const GENLMSG_LEN: usize = 4;

pub mod ctrl {
    //! The controller's (`nlctrl`, `linux/genetlink.h`) commands and
    //! attributes.

    /// CTRL_CMD_NEWFAMILY: a family (reply, or notification of a new one).
    pub const CMD_NEWFAMILY: u8 = 1;
    /// CTRL_CMD_DELFAMILY: notification of a family gone.
    pub const CMD_DELFAMILY: u8 = 2;
    /// CTRL_CMD_GETFAMILY: asks for one family (or, dumped, all).
    pub const CMD_GETFAMILY: u8 = 3;
    /// CTRL_CMD_GETPOLICY: dumps a family's attribute policies.
    pub const CMD_GETPOLICY: u8 = 10;
    /// The controller's version this crate speaks.
    pub const VERSION: u8 = 2;

    /// CTRL_ATTR_FAMILY_ID (u16).
    pub const ATTR_FAMILY_ID: u16 = 1;
    /// CTRL_ATTR_FAMILY_NAME (NUL-terminated string).
    pub const ATTR_FAMILY_NAME: u16 = 2;
    /// CTRL_ATTR_VERSION (u32).
    pub const ATTR_VERSION: u16 = 3;
    /// CTRL_ATTR_HDRSIZE (u32).
    pub const ATTR_HDRSIZE: u16 = 4;
    /// CTRL_ATTR_MAXATTR (u32).
    pub const ATTR_MAXATTR: u16 = 5;
    /// CTRL_ATTR_OPS: a nest of nests of CTRL_ATTR_OP_*.
    pub const ATTR_OPS: u16 = 6;
    /// CTRL_ATTR_MCAST_GROUPS: a nest of nests of CTRL_ATTR_MCAST_GRP_*.
    pub const ATTR_MCAST_GROUPS: u16 = 7;
    /// CTRL_ATTR_OP_ID (u32).
    pub const ATTR_OP_ID: u16 = 1;
    /// CTRL_ATTR_OP_FLAGS (u32).
    pub const ATTR_OP_FLAGS: u16 = 2;
    /// CTRL_ATTR_MCAST_GRP_NAME (string).
    pub const ATTR_MCAST_GRP_NAME: u16 = 1;
    /// CTRL_ATTR_MCAST_GRP_ID (u32).
    pub const ATTR_MCAST_GRP_ID: u16 = 2;
}

/// Generic netlink on one client's NETLINK_GENERIC connection (in the
/// client's namespace). Cheap to clone; clones share the client's cache of
/// resolved families.
#[derive(Debug, Clone)]
pub struct GenlHandle {
    pub(crate) req: Requester<Generic>,
    pub(crate) cache: Arc<FamilyCache>,
}

impl GenlHandle {
    /// The raw requester underneath, for messages this API does not build.
    pub fn requester(&self) -> &Requester<Generic> {
        &self.req
    }
}

impl Netlink {
    /// Generic netlink (`genl`) on this client's NETLINK_GENERIC
    /// connection, opened on first use.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// let f = nl.genl().family("nlctrl").await?;
    /// println!("{} has {} commands", f.name, f.ops.len());
    /// # Ok(()) }
    /// ```
    pub fn genl(&self) -> GenlHandle {
        GenlHandle {
            req: self.requester::<Generic>(),
            cache: self.genl_cache(),
        }
    }
}
