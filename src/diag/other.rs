//! Netlink and packet sockets: lazy views and listings (dump only: the
//! kernel offers no exact lookup for these families).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use super::codec::{
    AF_NETLINK, AF_PACKET, DiagMessage, NETLINK_MSG_LEN, NO_COOKIE, PACKET_MSG_LEN, SimpleRequest,
    u16_at, u32_at,
};
use super::replies::{NetlinkReply, PacketReply, netlink_attr, packet_attr};
use super::values::{PacketInfo, SkMemInfo};
use super::{DiagHandle, REQ_BY_FAMILY as REQ, decode_error};
use crate::conn::RawMessage;
use crate::conn::attrs::{self, Indexed};
use crate::error::Result;

/// One netlink socket (a lazy view).
#[derive(Clone)]
pub struct NetlinkSocket {
    m: Indexed<8>,
}

impl fmt::Debug for NetlinkSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetlinkSocket")
            .field("protocol", &self.protocol())
            .field("portid", &self.portid())
            .field("inode", &self.inode())
            .finish_non_exhaustive()
    }
}

impl NetlinkSocket {
    /// Wraps a reply to a netlink request.
    pub fn from_raw(raw: RawMessage) -> Result<NetlinkSocket> {
        let what = "a netlink_diag_msg";
        let m = Indexed::of_family(raw, &[AF_NETLINK], NETLINK_MSG_LEN, what, REQ)?;
        Ok(NetlinkSocket { m })
    }

    fn hdr(&self) -> &[u8] {
        self.m.header()
    }

    fn word(&self, off: usize) -> u32 {
        u32_at(self.hdr(), off).unwrap_or_default()
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The fully decoded message.
    pub fn decode(&self) -> Result<NetlinkReply> {
        NetlinkReply::parse(self.m.payload()).map_err(|e| decode_error(e.to_string()))
    }

    /// SOCK_RAW 3 or SOCK_DGRAM 2.
    pub fn kind(&self) -> u8 {
        self.hdr()[1]
    }

    /// NETLINK_* protocol (0 route, 4 sock_diag, 16 generic, …).
    pub fn protocol(&self) -> u8 {
        self.hdr()[2]
    }

    /// State (1: connected).
    pub fn state(&self) -> u8 {
        self.hdr()[3]
    }

    /// Port id.
    pub fn portid(&self) -> u32 {
        self.word(4)
    }

    /// Connected peer's port id.
    pub fn dst_portid(&self) -> u32 {
        self.word(8)
    }

    /// Connected peer's group.
    pub fn dst_group(&self) -> u32 {
        self.word(12)
    }

    /// Inode.
    pub fn inode(&self) -> u32 {
        self.word(16)
    }

    /// The kernel's socket cookie.
    pub fn cookie(&self) -> u64 {
        u64::from(self.word(20)) | (u64::from(self.word(24)) << 32)
    }

    /// The value of attribute `ty`, if present.
    pub fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// Every attribute as `(type, value)`.
    pub fn attributes(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.m.attributes()
    }

    /// NETLINK_DIAG_MEMINFO.
    pub fn meminfo(&self) -> Option<SkMemInfo> {
        self.attr(netlink_attr::MEMINFO).map(SkMemInfo::parse)
    }

    /// Subscribed multicast groups (numbers, from NETLINK_DIAG_GROUPS).
    pub fn groups(&self) -> Vec<u32> {
        let Some(v) = self.attr(netlink_attr::GROUPS) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, w) in v
            .chunks_exact(std::mem::size_of::<libc::c_ulong>())
            .enumerate()
        {
            let mut word = [0u8; 8];
            word[..w.len()].copy_from_slice(w);
            let bits = u64::from_ne_bytes(word);
            for b in 0..(w.len() * 8) {
                if bits & (1 << b) != 0 {
                    out.push((i * w.len() * 8 + b + 1) as u32);
                }
            }
        }
        out
    }

    /// NDIAG_FLAG_* bits (NETLINK_DIAG_FLAGS).
    pub fn flags(&self) -> Option<u32> {
        self.attr(netlink_attr::FLAGS).and_then(attrs::u32_of)
    }
}

/// A listing of netlink sockets.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until streamed or awaited"]
pub struct NetlinkQuery {
    handle: DiagHandle,
    protocol: u8,
    show: u32,
}

impl NetlinkQuery {
    pub(crate) fn new(handle: DiagHandle) -> NetlinkQuery {
        NetlinkQuery {
            handle,
            protocol: 255,
            show: 0x1 | 0x2 | 0x8,
        }
    }

    /// Only sockets of one NETLINK_* protocol (default all: 255).
    pub fn protocol(mut self, p: u8) -> Self {
        self.protocol = p;
        self
    }

    /// Replaces the NDIAG_SHOW_* bits (default MEMINFO | GROUPS | FLAGS).
    pub fn show(mut self, bits: u32) -> Self {
        self.show = bits;
        self
    }

    /// The request this listing sends.
    pub fn request(&self) -> DiagMessage {
        DiagMessage::NetlinkRequest(SimpleRequest {
            protocol: self.protocol,
            states: 0,
            ino: 0,
            show: self.show,
            cookie: [NO_COOKIE; 2],
        })
    }

    /// Streams the sockets as the kernel dumps them.
    pub fn stream(&self) -> BoxStream<'static, Result<NetlinkSocket>> {
        self.handle
            .requester
            .dump_raw(self.request(), 0)
            .map(|r| r.and_then(NetlinkSocket::from_raw))
            .boxed()
    }
}

impl IntoFuture for NetlinkQuery {
    type Output = Result<Vec<NetlinkSocket>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.stream().try_collect().await })
    }
}

/// One packet socket (a lazy view).
#[derive(Clone)]
pub struct PacketSocket {
    m: Indexed<8>,
}

impl fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketSocket")
            .field("kind", &self.kind())
            .field("protocol", &self.protocol())
            .field("inode", &self.inode())
            .finish_non_exhaustive()
    }
}

impl PacketSocket {
    /// Wraps a reply to a packet request.
    pub fn from_raw(raw: RawMessage) -> Result<PacketSocket> {
        let what = "a packet_diag_msg";
        let m = Indexed::of_family(raw, &[AF_PACKET], PACKET_MSG_LEN, what, REQ)?;
        Ok(PacketSocket { m })
    }

    fn hdr(&self) -> &[u8] {
        self.m.header()
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The fully decoded message.
    pub fn decode(&self) -> Result<PacketReply> {
        PacketReply::parse(self.m.payload()).map_err(|e| decode_error(e.to_string()))
    }

    /// SOCK_RAW 3 or SOCK_DGRAM 2.
    pub fn kind(&self) -> u8 {
        self.hdr()[1]
    }

    /// The bound ETH_P_* protocol.
    pub fn protocol(&self) -> u16 {
        u16_at(self.hdr(), 2).unwrap_or_default()
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

    /// PACKET_DIAG_INFO.
    pub fn info(&self) -> Option<PacketInfo> {
        self.attr(packet_attr::INFO).and_then(PacketInfo::parse)
    }

    /// PACKET_DIAG_UID.
    pub fn uid(&self) -> Option<u32> {
        self.attr(packet_attr::UID).and_then(attrs::u32_of)
    }

    /// PACKET_DIAG_MEMINFO.
    pub fn meminfo(&self) -> Option<SkMemInfo> {
        self.attr(packet_attr::MEMINFO).map(SkMemInfo::parse)
    }
}

/// A listing of packet sockets.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until streamed or awaited"]
pub struct PacketQuery {
    handle: DiagHandle,
    show: u32,
}

impl PacketQuery {
    pub(crate) fn new(handle: DiagHandle) -> PacketQuery {
        PacketQuery {
            handle,
            show: 0x1 | 0x10,
        }
    }

    /// Replaces the PACKET_SHOW_* bits (default INFO | MEMINFO).
    pub fn show(mut self, bits: u32) -> Self {
        self.show = bits;
        self
    }

    /// The request this listing sends.
    pub fn request(&self) -> DiagMessage {
        DiagMessage::PacketRequest(SimpleRequest {
            protocol: 0,
            states: 0,
            ino: 0,
            show: self.show,
            cookie: [NO_COOKIE; 2],
        })
    }

    /// Streams the sockets as the kernel dumps them.
    pub fn stream(&self) -> BoxStream<'static, Result<PacketSocket>> {
        self.handle
            .requester
            .dump_raw(self.request(), 0)
            .map(|r| r.and_then(PacketSocket::from_raw))
            .boxed()
    }
}

impl IntoFuture for PacketQuery {
    type Output = Result<Vec<PacketSocket>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.stream().try_collect().await })
    }
}
