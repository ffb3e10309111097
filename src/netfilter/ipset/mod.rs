//! IP sets (`ipset`) over nfnetlink's ip_set subsystem.
//!
//! - [`SetType`], [`IpsetCreate`]: `ipset create` (`create.rs`).
//! - [`IpsetHeader`]: a set's header (`ipset list -t`), and
//!   [`IpsetHandle::headers`] and [`IpsetHandle::names`] for every set
//!   (`header.rs`).
//! - [`IpsetEntry`]: a member, parsed and displayed in ipset's syntax
//!   (`entry.rs`); add, del, test and batched add (`member.rs`); a set's
//!   members as a stream (`list.rs`).
//! - destroy, flush, rename, swap, the protocol handshake (here); ipset's
//!   own error codes read as ipset reads them (`errors.rs`).
//!
//! Every request carries `IPSET_ATTR_PROTOCOL` (7, the kernel's since
//! 5.x; [`IpsetHandle::protocol`] asks the kernel what it speaks).
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use futures::TryStreamExt;
//! use tokio_netlink::netfilter::ipset::{IpsetEntry, SetType};
//! let nl = tokio_netlink::Netlink::new();
//! let ipset = nl.ipset();
//! ipset.create("blocked", SetType::HashNet).timeout(300).counters().await?;
//! let e = IpsetEntry::parse(SetType::HashNet, "10.0.0.0/24")?;
//! ipset.add("blocked", e.clone()).timeout(60).await?;
//! assert!(ipset.test("blocked", e).await?);
//! let mut members = ipset.list("blocked");
//! while let Some(m) = members.try_next().await? {
//!     println!("{m}");
//! }
//! # Ok(()) }
//! ```

mod create;
mod entry;
mod errors;
mod header;
mod list;
mod member;

pub use create::{IpsetCreate, SetType};
pub use entry::{IpsetEntry, Proto};
pub use errors::errno;
pub use header::IpsetHeader;
pub use list::Listed;
pub use member::{IpsetAdd, IpsetAddMany, IpsetDel, IpsetTest};

use crate::client::Netlink;
use crate::conn::Requester;
use crate::conn::attrs::check_string;
use crate::conn::flags::EXCL;
use crate::error::{Context, Error, Result, ResultExt};
use crate::netfilter::{Emit, NFGENMSG_LEN, Netfilter};

/// NFNL_SUBSYS_IPSET.
pub const SUBSYS_IPSET: u8 = 6;
/// IPSET_PROTOCOL: the version this crate speaks.
pub const PROTOCOL: u8 = 7;
/// IPSET_MAXNAMELEN, the NUL included.
pub const MAXNAMELEN: usize = 32;

/// ip_set commands (`IPSET_CMD_*`); a message's netlink type is
/// `NFNL_SUBSYS_IPSET << 8 | n` (see [`cmd::ty`]).
pub mod cmd {
    /// The protocol version handshake.
    pub const PROTOCOL: u8 = 1;
    /// Create a set.
    pub const CREATE: u8 = 2;
    /// Destroy a set (or all).
    pub const DESTROY: u8 = 3;
    /// Remove every member of a set (or of all).
    pub const FLUSH: u8 = 4;
    /// Rename a set.
    pub const RENAME: u8 = 5;
    /// Swap two sets.
    pub const SWAP: u8 = 6;
    /// List sets (a dump).
    pub const LIST: u8 = 7;
    /// Save sets (a dump, as LIST).
    pub const SAVE: u8 = 8;
    /// Add a member.
    pub const ADD: u8 = 9;
    /// Delete a member.
    pub const DEL: u8 = 10;
    /// Test a member.
    pub const TEST: u8 = 11;
    /// A set's header.
    pub const HEADER: u8 = 12;
    /// A set type's revisions.
    pub const TYPE: u8 = 13;

    /// The netlink message type of command `n`.
    pub const fn ty(n: u8) -> u16 {
        ((super::SUBSYS_IPSET as u16) << 8) | n as u16
    }

    /// The symbolic name of command `n`.
    pub fn name(n: u8) -> Option<&'static str> {
        Some(match n {
            PROTOCOL => "IPSET_CMD_PROTOCOL",
            CREATE => "IPSET_CMD_CREATE",
            DESTROY => "IPSET_CMD_DESTROY",
            FLUSH => "IPSET_CMD_FLUSH",
            RENAME => "IPSET_CMD_RENAME",
            SWAP => "IPSET_CMD_SWAP",
            LIST => "IPSET_CMD_LIST",
            SAVE => "IPSET_CMD_SAVE",
            ADD => "IPSET_CMD_ADD",
            DEL => "IPSET_CMD_DEL",
            TEST => "IPSET_CMD_TEST",
            HEADER => "IPSET_CMD_HEADER",
            TYPE => "IPSET_CMD_TYPE",
            _ => return None,
        })
    }
}

/// Attribute numbers: command level, then inside `IPSET_ATTR_DATA`.
pub(crate) mod attr {
    pub const PROTOCOL: u16 = 1;
    pub const SETNAME: u16 = 2;
    pub const TYPENAME: u16 = 3;
    pub const SETNAME2: u16 = 3;
    pub const REVISION: u16 = 4;
    pub const FAMILY: u16 = 5;
    pub const FLAGS: u16 = 6;
    pub const DATA: u16 = 7;
    pub const ADT: u16 = 8;
    pub const PROTOCOL_MIN: u16 = 10;

    pub const IP: u16 = 1;
    pub const IP_TO: u16 = 2;
    pub const CIDR: u16 = 3;
    pub const PORT: u16 = 4;
    pub const PORT_TO: u16 = 5;
    pub const TIMEOUT: u16 = 6;
    pub const PROTO: u16 = 7;
    pub const CADT_FLAGS: u16 = 8;
    pub const INITVAL: u16 = 17;
    pub const HASHSIZE: u16 = 18;
    pub const MAXELEM: u16 = 19;
    pub const NETMASK: u16 = 20;
    pub const BUCKETSIZE: u16 = 21;
    pub const SIZE: u16 = 23;
    pub const ELEMENTS: u16 = 24;
    pub const REFERENCES: u16 = 25;
    pub const MEMSIZE: u16 = 26;
    pub const ETHER: u16 = 17;
    pub const NAME: u16 = 18;
    pub const IP2: u16 = 20;
    pub const CIDR2: u16 = 21;
    pub const IFACE: u16 = 23;
    pub const BYTES: u16 = 24;
    pub const PACKETS: u16 = 25;
    pub const COMMENT: u16 = 26;
    pub const SKBMARK: u16 = 27;
    pub const SKBPRIO: u16 = 28;
    pub const SKBQUEUE: u16 = 29;

    /// IPSET_ATTR_IPADDR_IPV4 / _IPV6 inside an address nest.
    pub const IPADDR_IPV4: u16 = 1;
    pub const IPADDR_IPV6: u16 = 2;

    /// NLA_F_NET_BYTEORDER: ip_set refuses integers inside DATA without it.
    pub const NBO: u16 = 0x4000;
}

/// Command-level flags (`IPSET_FLAG_*`, in IPSET_ATTR_FLAGS).
pub(crate) mod flag {
    pub const LIST_SETNAME: u32 = 1 << 1;
    pub const LIST_HEADER: u32 = 1 << 2;
}

/// Flags of IPSET_ATTR_CADT_FLAGS.
pub(crate) mod cadt {
    pub const PHYSDEV: u32 = 1 << 1;
    pub const NOMATCH: u32 = 1 << 2;
    pub const WITH_COUNTERS: u32 = 1 << 3;
    pub const WITH_COMMENT: u32 = 1 << 4;
    pub const WITH_FORCEADD: u32 = 1 << 5;
    pub const WITH_SKBINFO: u32 = 1 << 6;
}

/// ipset operations on the client's own NETLINK_NETFILTER connection. Get
/// one with [`Netlink::ipset`].
#[derive(Debug, Clone)]
pub struct IpsetHandle {
    pub(crate) req: Requester<Netfilter>,
}

/// A request of command `n`: nfgenmsg of `family` (NFPROTO_*), then the
/// protocol version, which the kernel requires on every command.
pub(crate) fn request(n: u8, family: u8) -> Emit {
    let mut e = Emit::new(cmd::ty(n), family, 0);
    e.u8(attr::PROTOCOL, PROTOCOL);
    e
}

/// Refuses a set name the kernel would refuse or cut.
pub(crate) fn check_name(field: &'static str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(field, "a set name cannot be empty"));
    }
    check_string(field, name, MAXNAMELEN - 1)
}

/// A request naming set `name`.
pub(crate) fn named(n: u8, name: &str) -> Result<Emit> {
    check_name("set", name)?;
    let mut e = request(n, 0);
    e.attr(attr::SETNAME, &cstr(name));
    Ok(e)
}

/// `s` NUL-terminated, as string attributes go to the kernel.
pub(crate) fn cstr(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// The attributes of a reply's payload, past nfgenmsg.
pub(crate) fn attrs_of(payload: &[u8]) -> &[u8] {
    payload.get(NFGENMSG_LEN..).unwrap_or_default()
}

impl IpsetHandle {
    /// The raw requester underneath, for messages this handle lacks.
    pub fn requester(&self) -> &Requester<Netfilter> {
        &self.req
    }

    /// Sends `e` for an ack, its error read as ipset reads it. Commands on
    /// a named set go with NLM_F_EXCL, as ipset sends them: without it the
    /// kernel reads `-exist` and ignores a missing set.
    pub(crate) async fn ack(&self, n: u8, e: Emit, flags: u16, ctx: &Context) -> Result<()> {
        let r = self.req.ack(e.message(), flags).await;
        errors::explained(self, n, r, ctx).await
    }

    /// The protocol handshake: the kernel's ip_set protocol version and the
    /// oldest it accepts (`IPSET_ATTR_PROTOCOL`, `IPSET_ATTR_PROTOCOL_MIN`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// let (version, min) = nl.ipset().protocol().await?;
    /// assert!(min <= tokio_netlink::netfilter::ipset::PROTOCOL && 7 <= version);
    /// # Ok(()) }
    /// ```
    pub async fn protocol(&self) -> Result<(u8, u8)> {
        let ctx = Context::new("ipset protocol", "");
        let raw = self
            .req
            .get_raw(request(cmd::PROTOCOL, 0).message(), 0)
            .await
            .within(&ctx)?;
        let a = attrs_of(raw.payload());
        let get = |t| crate::conn::attrs::nested_get(a, t).and_then(|v| v.first().copied());
        match get(attr::PROTOCOL) {
            Some(v) => Ok((v, get(attr::PROTOCOL_MIN).unwrap_or(v))),
            None => Err(Error::Decode {
                request: crate::netfilter::kind(cmd::ty(cmd::PROTOCOL)),
                reason: "the protocol reply lacks IPSET_ATTR_PROTOCOL".into(),
            }),
        }
    }

    /// `ipset destroy NAME`: a set in use (by an iptables rule, a
    /// list:set) is refused.
    pub async fn destroy(&self, name: &str) -> Result<()> {
        let ctx = Context::new("ipset destroy", name);
        self.ack(cmd::DESTROY, named(cmd::DESTROY, name)?, EXCL, &ctx)
            .await
    }

    /// `ipset destroy`: every set not in use.
    pub async fn destroy_all(&self) -> Result<()> {
        let ctx = Context::new("ipset destroy", "");
        self.ack(cmd::DESTROY, request(cmd::DESTROY, 0), 0, &ctx)
            .await
    }

    /// `ipset flush NAME`: removes every member.
    pub async fn flush(&self, name: &str) -> Result<()> {
        let ctx = Context::new("ipset flush", name);
        self.ack(cmd::FLUSH, named(cmd::FLUSH, name)?, EXCL, &ctx)
            .await
    }

    /// `ipset flush`: every set's members.
    pub async fn flush_all(&self) -> Result<()> {
        let ctx = Context::new("ipset flush", "");
        self.ack(cmd::FLUSH, request(cmd::FLUSH, 0), 0, &ctx).await
    }

    /// `ipset rename FROM TO`.
    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let ctx = Context::new("ipset rename", format!("{from} {to}"));
        check_name("to", to)?;
        let mut e = named(cmd::RENAME, from)?;
        e.attr(attr::SETNAME2, &cstr(to));
        self.ack(cmd::RENAME, e, EXCL, &ctx).await
    }

    /// `ipset swap A B`: the two sets exchange names (and so their users);
    /// their types must match.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// // Fill a fresh set, then put it in place atomically.
    /// nl.ipset().swap("blocked-new", "blocked").await?;
    /// nl.ipset().destroy("blocked-new").await?;
    /// # Ok(()) }
    /// ```
    pub async fn swap(&self, a: &str, b: &str) -> Result<()> {
        let ctx = Context::new("ipset swap", format!("{a} {b}"));
        check_name("to", b)?;
        let mut e = named(cmd::SWAP, a)?;
        e.attr(attr::SETNAME2, &cstr(b));
        self.ack(cmd::SWAP, e, EXCL, &ctx).await
    }
}

impl Netlink {
    /// IP sets (`ipset`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::ipset::SetType;
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.ipset().create("web", SetType::HashIpPort).await?;
    /// for h in nl.ipset().headers().await? {
    ///     println!("{} {} {} entries", h.name, h.type_name, h.elements.unwrap_or(0));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ipset(&self) -> IpsetHandle {
        IpsetHandle {
            req: self.requester::<Netfilter>(),
        }
    }
}
