//! Unix sockets: the lazy [`UnixSocket`] view and the [`UnixQuery`]
//! listing builder.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use super::codec::{AF_UNIX, DiagMessage, NO_COOKIE, SimpleRequest, UNIX_MSG_LEN, u32_at};
use super::replies::{UnixReply, unix_attr as a};
use super::states::States;
use super::values::SkMemInfo;
use super::{DiagHandle, REQ_BY_FAMILY as REQ, decode_error};
use crate::conn::RawMessage;
use crate::conn::attrs::{self, Indexed};
use crate::error::{Context, Error, Result, ResultExt};

/// UDIAG_SHOW_* bits: which attributes a unix listing asks for.
#[allow(missing_docs)]
pub mod show {
    pub const NAME: u32 = 0x01;
    pub const VFS: u32 = 0x02;
    pub const PEER: u32 = 0x04;
    pub const ICONS: u32 = 0x08;
    pub const RQLEN: u32 = 0x10;
    pub const MEMINFO: u32 = 0x20;
    pub const UID: u32 = 0x40;
}

/// One unix socket as the kernel reported it (a lazy view).
#[derive(Clone)]
pub struct UnixSocket {
    m: Indexed<8>,
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixSocket")
            .field("kind", &self.kind_name())
            .field("state", &super::inet::state_name(self.state()))
            .field("inode", &self.inode())
            .field("path", &self.path())
            .field("peer", &self.peer())
            .finish_non_exhaustive()
    }
}

impl UnixSocket {
    /// Wraps a reply to a unix request.
    pub fn from_raw(raw: RawMessage) -> Result<UnixSocket> {
        let m = Indexed::of_family(raw, &[AF_UNIX], UNIX_MSG_LEN, "a unix_diag_msg", REQ)?;
        Ok(UnixSocket { m })
    }

    fn hdr(&self) -> &[u8] {
        self.m.header()
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The fully decoded message.
    pub fn decode(&self) -> Result<UnixReply> {
        UnixReply::parse(self.m.payload()).map_err(|e| decode_error(e.to_string()))
    }

    /// SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5.
    pub fn kind(&self) -> u8 {
        self.hdr()[1]
    }

    /// `ss`'s Netid: `u_str`, `u_dgr`, `u_seq`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind() {
            1 => "u_str",
            2 => "u_dgr",
            5 => "u_seq",
            _ => "u_???",
        }
    }

    /// TCP_* state numbering: 1 ESTABLISHED, 7 CLOSE (unconnected), 10 LISTEN.
    pub fn state(&self) -> u8 {
        self.hdr()[2]
    }

    /// Inode.
    pub fn inode(&self) -> u32 {
        u32_at(self.hdr(), 4).unwrap_or_default()
    }

    /// The kernel's socket cookie.
    pub fn cookie(&self) -> u64 {
        let w = |o| u64::from(u32_at(self.hdr(), o).unwrap_or_default());
        w(8) | (w(12) << 32)
    }

    /// The value of attribute `ty`, if present.
    pub fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// Every attribute as `(type, value)`.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }

    /// The bound name's bytes (UNIX_DIAG_NAME) as the kernel sent them: a
    /// path (NUL-terminated), or an abstract name starting with NUL.
    pub fn name(&self) -> Option<&[u8]> {
        self.attr(a::NAME)
    }

    /// The name as `ss` prints it: the path, or `@name` for an abstract one.
    pub fn path(&self) -> Option<String> {
        let n = self.name()?;
        Some(match n.split_first() {
            Some((0, rest)) => format!("@{}", String::from_utf8_lossy(rest)),
            _ => {
                let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
                String::from_utf8_lossy(&n[..end]).into_owned()
            }
        })
    }

    /// Inode and device of the bound file (UNIX_DIAG_VFS).
    pub fn vfs(&self) -> Option<(u32, u32)> {
        let v = self.attr(a::VFS)?;
        Some((u32_at(v, 0)?, u32_at(v, 4)?))
    }

    /// The peer's inode (UNIX_DIAG_PEER).
    pub fn peer(&self) -> Option<u32> {
        self.attr(a::PEER).and_then(attrs::u32_of)
    }

    /// Inodes of connections awaiting accept (UNIX_DIAG_ICONS).
    pub fn pending(&self) -> Vec<u32> {
        self.attr(a::ICONS)
            .map(|v| SkMemInfo::parse(v).0)
            .unwrap_or_default()
    }

    /// Receive queue (listeners: accept backlog), from UNIX_DIAG_RQLEN.
    pub fn rqueue(&self) -> Option<u32> {
        self.attr(a::RQLEN).and_then(|v| u32_at(v, 0))
    }

    /// Send queue (listeners: backlog limit), from UNIX_DIAG_RQLEN.
    pub fn wqueue(&self) -> Option<u32> {
        self.attr(a::RQLEN).and_then(|v| u32_at(v, 4))
    }

    /// UNIX_DIAG_MEMINFO.
    pub fn meminfo(&self) -> Option<SkMemInfo> {
        self.attr(a::MEMINFO).map(SkMemInfo::parse)
    }

    /// UNIX_DIAG_SHUTDOWN.
    pub fn shutdown(&self) -> Option<u8> {
        self.attr(a::SHUTDOWN).and_then(attrs::u8_of)
    }

    /// UNIX_DIAG_UID.
    pub fn uid(&self) -> Option<u32> {
        self.attr(a::UID).and_then(attrs::u32_of)
    }
}

/// A listing of unix sockets.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// let nl = tokio_netlink::Netlink::new();
/// for s in nl.diag().unix().await? {
///     println!("{} {:?} peer {:?}", s.kind_name(), s.path(), s.peer());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until streamed or awaited"]
pub struct UnixQuery {
    handle: DiagHandle,
    states: States,
    show: u32,
}

impl UnixQuery {
    pub(crate) fn new(handle: DiagHandle) -> UnixQuery {
        UnixQuery {
            handle,
            states: States::ALL,
            show: show::NAME | show::VFS | show::PEER | show::ICONS | show::RQLEN | show::UID,
        }
    }

    /// States to include (default all).
    pub fn states(mut self, s: States) -> Self {
        self.states = s;
        self
    }

    /// Replaces the UDIAG_SHOW_* bits (default all but MEMINFO).
    pub fn show(mut self, bits: u32) -> Self {
        self.show = bits;
        self
    }

    /// Adds UNIX_DIAG_MEMINFO.
    pub fn meminfo(mut self) -> Self {
        self.show |= show::MEMINFO;
        self
    }

    /// The request this listing sends.
    pub fn request(&self) -> DiagMessage {
        DiagMessage::UnixRequest(SimpleRequest {
            protocol: 0,
            states: self.states.0,
            ino: 0,
            show: self.show,
            cookie: [NO_COOKIE; 2],
        })
    }

    /// Streams the sockets as the kernel dumps them.
    pub fn stream(&self) -> BoxStream<'static, Result<UnixSocket>> {
        self.handle
            .requester
            .dump_raw(self.request(), 0)
            .map(|r| r.and_then(UnixSocket::from_raw))
            .boxed()
    }

    /// Looks up one socket by inode with a single request.
    pub async fn get(&self, ino: u32) -> Result<UnixSocket> {
        if ino == 0 {
            return Err(Error::invalid("ino", "0 names no socket"));
        }
        let req = DiagMessage::UnixRequest(SimpleRequest {
            protocol: 0,
            states: self.states.0,
            ino,
            show: self.show,
            cookie: [NO_COOKIE; 2],
        });
        let ctx = Context::new("sock get", format!("unix ino {ino}")).missing("socket");
        let raw = self.handle.requester.get_raw(req, 0).await.within(&ctx)?;
        UnixSocket::from_raw(raw).within(&ctx)
    }
}

impl IntoFuture for UnixQuery {
    type Output = Result<Vec<UnixSocket>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.stream().try_collect().await })
    }
}
