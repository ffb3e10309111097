//! NETLINK_SOCK_DIAG: socket diagnostics like `ss` — listings of inet,
//! unix, netlink and packet sockets with `tcp_info` and the other
//! extensions, kernel-side filters, exact lookups, and SOCK_DESTROY.
//!
//! [`Netlink::diag`] gives a [`DiagHandle`] on the client's own
//! NETLINK_SOCK_DIAG connection. Replies are lazy views ([`InetSocket`],
//! [`UnixSocket`], [`NetlinkSocket`], [`PacketSocket`], [`TcpInfo`]) over
//! the received bytes. What a listing needs is here; the codec (the
//! [`raw::Diag`] protocol, [`raw::DiagMessage`], request
//! and reply structs, attribute numbers) is in [`raw`], for the
//! [`requester`](DiagHandle::requester) path.
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! use futures::TryStreamExt;
//! let nl = tokio_netlink::Netlink::new();
//! let mut listing = nl.diag().inet().tcp().info().stream();
//! while let Some(s) = listing.try_next().await? {
//!     let rtt = s.tcp_info().and_then(|i| i.rtt());
//!     println!("{} {} -> {} rtt {rtt:?}", s.state(), s.local(), s.remote());
//! }
//! # Ok(()) }
//! ```

mod bytecode;
mod codec;
mod inet;
mod other;
mod replies;
#[cfg(feature = "serde")]
mod serde;
mod states;
mod tcp_info;
#[cfg(test)]
mod tests;
mod unix;
mod values;

pub use bytecode::{Cgroup, Cmp, Filter};
pub use codec::SockId;
pub use inet::{Extensions, Family, InetProtocol, InetQuery, InetSocket, Timer};
pub use other::{NetlinkQuery, NetlinkSocket, PacketQuery, PacketSocket};
pub use states::{States, state};
pub use tcp_info::TcpInfo;
pub use unix::{UnixQuery, UnixSocket, show as unix_show};
pub use values::{
    BbrInfo, DctcpInfo, MemInfo, MptcpSubflowInfo, PacketInfo, SkMemInfo, SockOpt, TlsInfo,
    UlpInfo, VegasInfo,
};

pub mod raw {
    //! The codec underneath [`DiagHandle`](super::DiagHandle), for requests
    //! its queries do not build: the [`Diag`] protocol and its
    //! [`DiagMessage`], the request structs, reply headers and attributes
    //! as the kernel lays them out (`linux/inet_diag.h`, `unix_diag.h`,
    //! `netlink_diag.h`, `packet_diag.h`), the attribute numbers and the
    //! state names.
    //!
    //! ```no_run
    //! use tokio_netlink::diag::raw::{DiagMessage, SOCK_DIAG_BY_FAMILY};
    //! # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    //! let q = nl.diag().tcp().v4();
    //! let requests: Vec<DiagMessage> = q.requests()?;
    //! for r in requests {
    //!     let replies = nl.diag().requester().dump_all(r, 0).await?;
    //!     println!("{} replies to SOCK_DIAG_BY_FAMILY ({SOCK_DIAG_BY_FAMILY})", replies.len());
    //! }
    //! # Ok(()) }
    //! ```

    pub use super::codec::{
        DiagMessage, INET_DIAG_REQ_BYTECODE, INET_DIAG_REQ_PROTOCOL, INET_DIAG_REQ_SK_BPF_STORAGES,
        InetRequest, InetRequestAttr, NO_COOKIE, SOCK_DESTROY, SOCK_DIAG_BY_FAMILY, SimpleRequest,
    };
    pub use super::inet::{sctp_state_name, state_name};
    pub use super::replies::{
        InetAttr, InetHeader, InetReply, NetlinkAttr, NetlinkDiagHeader, NetlinkReply, PacketAttr,
        PacketHeader, PacketReply, UnixAttr, UnixHeader, UnixReply, inet_attr, netlink_attr,
        packet_attr, unix_attr,
    };

    use crate::conn::Protocol;

    /// The NETLINK_SOCK_DIAG protocol (4).
    #[derive(Debug, Clone, Copy)]
    pub struct Diag;

    impl Protocol for Diag {
        type Message = DiagMessage;
        const PROTOCOL: isize = netlink_sys::protocols::NETLINK_SOCK_DIAG;

        fn message_name(ty: u16) -> Option<&'static str> {
            match ty {
                SOCK_DIAG_BY_FAMILY => Some("SOCK_DIAG_BY_FAMILY"),
                SOCK_DESTROY => Some("SOCK_DESTROY"),
                _ => None,
            }
        }
    }
}

use raw::{Diag, SOCK_DIAG_BY_FAMILY};

use crate::client::Netlink;
use crate::conn::Requester;
use crate::error::{Error, RequestKind, Result};

pub(crate) const REQ_BY_FAMILY: RequestKind = RequestKind {
    message_type: SOCK_DIAG_BY_FAMILY,
    name: Some("SOCK_DIAG_BY_FAMILY"),
};

pub(crate) fn decode_error(reason: String) -> Error {
    Error::Decode {
        request: REQ_BY_FAMILY,
        reason,
    }
}

/// Socket diagnostics on one client's NETLINK_SOCK_DIAG connection (in the
/// client's namespace). Cheap to clone.
#[derive(Debug, Clone)]
pub struct DiagHandle {
    pub(crate) requester: Requester<Diag>,
    /// The client, for resolving a filter's device names in its namespace.
    pub(crate) nl: Netlink,
}

impl DiagHandle {
    /// The raw requester underneath, for requests this API does not build.
    pub fn requester(&self) -> &Requester<Diag> {
        &self.requester
    }

    /// A listing of inet sockets (default: TCP, IPv4 and IPv6, all states).
    pub fn inet(&self) -> InetQuery {
        InetQuery::new(self.clone())
    }

    /// A listing of TCP sockets.
    pub fn tcp(&self) -> InetQuery {
        self.inet().tcp()
    }

    /// A listing of UDP sockets.
    pub fn udp(&self) -> InetQuery {
        self.inet().udp()
    }

    /// Looks up one TCP socket by its id with a single request; see
    /// [`InetQuery::get`] for other protocols and extensions.
    pub async fn get(&self, id: SockId) -> Result<InetSocket> {
        self.tcp().get(id).await
    }

    /// Destroys one TCP socket by id; see [`InetQuery::destroy`].
    pub async fn destroy(&self, id: SockId) -> Result<()> {
        self.tcp().destroy(id).await
    }

    /// Destroys a socket from a listing, with its own family and protocol
    /// (and its cookie, so a reused 4-tuple is not hit).
    pub async fn destroy_socket(&self, s: &InetSocket) -> Result<()> {
        let family = if s.family() == codec::AF_INET6 {
            Family::V6
        } else {
            Family::V4
        };
        self.inet()
            .protocol(s.protocol())
            .family(family)
            .destroy(s.id())
            .await
    }

    /// Destroys every TCP socket `filter` matches (both families, all
    /// states); returns those destroyed. See [`InetQuery::destroy_all`].
    pub async fn destroy_matching(&self, filter: Filter) -> Result<Vec<InetSocket>> {
        self.tcp().filter(filter).destroy_all().await
    }

    /// A listing of unix sockets.
    pub fn unix(&self) -> UnixQuery {
        UnixQuery::new(self.clone())
    }

    /// A listing of netlink sockets.
    pub fn netlink(&self) -> NetlinkQuery {
        NetlinkQuery::new(self.clone())
    }

    /// A listing of packet sockets.
    pub fn packet(&self) -> PacketQuery {
        PacketQuery::new(self.clone())
    }
}

impl Netlink {
    /// Socket diagnostics (`ss`) on this client's NETLINK_SOCK_DIAG
    /// connection, opened on first use.
    pub fn diag(&self) -> DiagHandle {
        DiagHandle {
            requester: self.requester::<Diag>(),
            nl: self.clone(),
        }
    }
}
