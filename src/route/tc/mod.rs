//! Traffic control (`tc qdisc`, `tc class`, `tc filter`, `tc chain`,
//! `tc actions`): typed qdiscs, classes, u32 and bpf filters, chains, and
//! gact/mirred actions (attached to filters, or standalone and shared by
//! index) in `tc`'s vocabulary, with `tc -s` statistics.
//!
//! TC messages are encoded and decoded here, not by netlink-packet-route:
//! each kind's options are written byte for byte as `tc` writes them (rate
//! tables and 64-bit rates included), and a message read back is decoded
//! into the same typed kind, so a value read from the kernel can be sent
//! again unchanged. Requests share the client's NETLINK_ROUTE connection.
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use tokio_netlink::route::tc::{Htb, HtbClass, Rate};
//! let nl = tokio_netlink::Netlink::new();
//! let tc = nl.tc();
//! // tc qdisc add dev eth0 root handle 1: htb default 10
//! tc.qdisc().add("eth0", Htb::new().default_class(0x10)).handle("1:").await?;
//! // tc class add dev eth0 parent 1: classid 1:10 htb rate 10mbit ceil 100mbit
//! tc.class()
//!     .add("eth0", "1:10", HtbClass::new(Rate::mbit(10)).ceil(Rate::mbit(100)))
//!     .parent("1:")
//!     .await?;
//! for q in tc.qdisc().list().dev("eth0").await? {
//!     println!("qdisc {} {} sent {} bytes", q.kind(), q.handle(), q.stats().bytes);
//! }
//! # Ok(()) }
//! ```
//!
//! An eBPF program on clsact ingress, direct-action (`tc filter add dev
//! eth0 ingress bpf object-pinned PATH da`), given the program's fd:
//!
//! ```no_run
//! # async fn f(prog_fd: std::os::fd::RawFd) -> tokio_netlink::Result<()> {
//! use tokio_netlink::route::tc::{Bpf, Parent, QdiscKind};
//! let tc = tokio_netlink::Netlink::new().tc();
//! tc.qdisc().add("eth0", QdiscKind::Clsact).parent(Parent::Ingress).await?;
//! tc.filter()
//!     .add("eth0", Bpf::fd(prog_fd).name("prog").direct_action())
//!     .parent(Parent::Ingress)
//!     .await?;
//! # Ok(()) }
//! ```

pub mod action;
pub mod actions;
/// `IntoFuture` for builders whose `run(self)` does the work: `.await` on
/// the builder runs it.
macro_rules! awaited_by_run {
    ($($t:ty => $out:ty),* $(,)?) => {$(
        impl std::future::IntoFuture for $t {
            type Output = $crate::error::Result<$out>;
            type IntoFuture =
                std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.run())
            }
        }
    )*};
}
pub(crate) use awaited_by_run;

pub mod chain;
pub mod class;
pub mod filter;
mod handle;
pub mod kinds;
pub mod qdisc;
#[cfg(feature = "serde")]
mod serde;
mod stats;
mod units;
mod wire;

pub use action::{Action, ActionStats, Control, Gact, Mirred, MirredAction};
pub use actions::{ActionChange, ActionDel, ActionEntry, ActionGet, ActionList, ActionOps};
pub use chain::{Chain, ChainChange, ChainList, ChainOps};
pub use class::{Class, ClassChange, ClassDel, ClassList, ClassOps};
pub use filter::{EtherType, Filter, FilterChange, FilterDel, FilterGet, FilterList, FilterOps};
pub use handle::{Handle, IntoHandle, IntoParent, Parent};
pub use kinds::{
    Bpf, BpfProgram, ClassKind, Fifo, FilterKind, Htb, HtbClass, HtbXstats, QdiscKind, SockFilter,
    Tbf, U32, U32Handle, U32Key, U32Offset,
};
pub use qdisc::{Qdisc, QdiscChange, QdiscDel, QdiscGet, QdiscList, QdiscOps};
pub use stats::Stats;
pub use units::{Rate, format_size, parse_size, parse_time};

use netlink_packet_core::{DecodeError, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable};

use crate::client::Netlink;
use crate::conn::{Protocol, Requester};
use crate::error::{RequestKind, Result};
use crate::route::link::{LinkHandle, LinkId};

/// TC message types (`RTM_*QDISC`, `RTM_*TCLASS`, `RTM_*TFILTER`,
/// `RTM_*CHAIN`).
pub(crate) mod msg {
    pub const NEWQDISC: u16 = 36;
    pub const DELQDISC: u16 = 37;
    pub const GETQDISC: u16 = 38;
    pub const NEWTCLASS: u16 = 40;
    pub const DELTCLASS: u16 = 41;
    pub const GETTCLASS: u16 = 42;
    pub const NEWTFILTER: u16 = 44;
    pub const DELTFILTER: u16 = 45;
    pub const GETTFILTER: u16 = 46;
    pub const NEWACTION: u16 = 48;
    pub const DELACTION: u16 = 49;
    pub const GETACTION: u16 = 50;
    pub const NEWCHAIN: u16 = 100;
    pub const DELCHAIN: u16 = 101;
    pub const GETCHAIN: u16 = 102;
}

/// One TC message, undecoded: its type and the bytes after the netlink
/// header. Built by the TC builders; replies are read through the views
/// ([`Qdisc`], [`Class`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcMessage {
    /// `RTM_*`.
    pub message_type: u16,
    /// `struct tcmsg` and the attributes.
    pub payload: Vec<u8>,
}

impl NetlinkSerializable for TcMessage {
    fn message_type(&self) -> u16 {
        self.message_type
    }

    fn buffer_len(&self) -> usize {
        self.payload.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer[..self.payload.len()].copy_from_slice(&self.payload);
    }
}

impl NetlinkDeserializable for TcMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(TcMessage {
            message_type: header.message_type,
            payload: payload.to_vec(),
        })
    }
}

/// Traffic control on NETLINK_ROUTE, with this crate's own TC codec. It
/// shares the client's NETLINK_ROUTE connection.
#[derive(Debug, Clone, Copy)]
pub struct Tc;

impl Protocol for Tc {
    type Message = TcMessage;
    const PROTOCOL: isize = netlink_sys::protocols::NETLINK_ROUTE;

    fn message_name(ty: u16) -> Option<&'static str> {
        <crate::route::Route as Protocol>::message_name(ty)
    }
}

pub(crate) const fn request_kind(ty: u16) -> RequestKind {
    RequestKind {
        message_type: ty,
        name: Some(match ty {
            msg::NEWQDISC => "RTM_NEWQDISC",
            msg::DELQDISC => "RTM_DELQDISC",
            msg::GETQDISC => "RTM_GETQDISC",
            msg::NEWTCLASS => "RTM_NEWTCLASS",
            msg::DELTCLASS => "RTM_DELTCLASS",
            msg::GETTCLASS => "RTM_GETTCLASS",
            msg::NEWTFILTER => "RTM_NEWTFILTER",
            msg::DELTFILTER => "RTM_DELTFILTER",
            msg::GETTFILTER => "RTM_GETTFILTER",
            msg::NEWACTION => "RTM_NEWACTION",
            msg::DELACTION => "RTM_DELACTION",
            msg::GETACTION => "RTM_GETACTION",
            msg::NEWCHAIN => "RTM_NEWCHAIN",
            msg::DELCHAIN => "RTM_DELCHAIN",
            msg::GETCHAIN => "RTM_GETCHAIN",
            _ => "TC request",
        }),
    }
}

/// Traffic control in one client's namespace; see [`Netlink::tc`]. Cheap
/// to clone.
#[derive(Debug, Clone)]
pub struct TcHandle {
    pub(crate) req: Requester<Tc>,
    pub(crate) links: LinkHandle,
}

impl Netlink {
    /// Traffic control (`tc`): qdiscs, classes, filters, chains and
    /// actions.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::tc::{Rate, Tbf};
    /// use std::time::Duration;
    /// let nl = tokio_netlink::Netlink::new();
    /// // tc qdisc replace dev eth0 root tbf rate 1mbit burst 32kb latency 50ms
    /// let tbf = Tbf::new(Rate::mbit(1), 32 * 1024).latency(Duration::from_millis(50));
    /// nl.tc().qdisc().replace("eth0", tbf).await?;
    /// # Ok(()) }
    /// ```
    pub fn tc(&self) -> TcHandle {
        TcHandle {
            req: self.requester::<Tc>(),
            links: self.link(),
        }
    }
}

impl TcHandle {
    /// `tc qdisc …`.
    pub fn qdisc(&self) -> QdiscOps {
        QdiscOps { tc: self.clone() }
    }

    /// `tc class …`.
    pub fn class(&self) -> ClassOps {
        ClassOps { tc: self.clone() }
    }

    /// `tc filter …`.
    pub fn filter(&self) -> FilterOps {
        FilterOps { tc: self.clone() }
    }

    /// `tc actions …`: standalone actions.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::tc::{Mirred, MirredAction};
    /// let nl = tokio_netlink::Netlink::new();
    /// let v1 = nl.link().get("v1").await?.index();
    /// // tc actions add action mirred egress redirect dev v1 index 7 cookie aabb
    /// let m = Mirred { index: 7, ..Mirred::new(MirredAction::EgressRedirect, v1) };
    /// nl.tc().actions().add(m).cookie(vec![0xaa, 0xbb]).await?;
    /// for a in nl.tc().actions().list("mirred").await? {
    ///     println!("{} index {} sent {} bytes", a.kind(), a.index(), a.stats().bytes);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn actions(&self) -> ActionOps {
        ActionOps { tc: self.clone() }
    }

    /// `tc chain …`.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::tc::Parent;
    /// let tc = tokio_netlink::Netlink::new().tc();
    /// // tc chain add dev eth0 ingress chain 3
    /// tc.chain().add("eth0", 3).parent(Parent::Ingress).await?;
    /// for c in tc.chain().list("eth0").parent(Parent::Ingress).await? {
    ///     println!("chain {}", c.chain());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn chain(&self) -> ChainOps {
        ChainOps { tc: self.clone() }
    }

    /// The raw requester underneath, for TC requests this API does not
    /// build.
    pub fn requester(&self) -> &Requester<Tc> {
        &self.req
    }

    pub(crate) async fn ifindex(&self, dev: &LinkId) -> Result<u32> {
        self.links.index_of(dev).await
    }
}
