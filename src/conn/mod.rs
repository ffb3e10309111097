//! The protocol-agnostic engine.
//!
//! - [`frame`]: framing and control messages, on byte slices.
//! - [`multiplexer`]: the sans-I/O rules for acks and gets pipelined on one
//!   socket (sequence numbers, routing, send window, cancellation, ENOBUFS).
//! - [`dump`]: the sans-I/O rules of one dump.
//! - [`flags`]: the NLM_F_* flags for the raw [`Requester`] methods.
//! - `socket`, `connection`, `requester`, `batch`, `stream`, `mapped`: the
//!   I/O around them. The connection task only moves bytes between the
//!   socket and the multiplexer; `stream` runs a dump on a socket of its own;
//!   `mapped` turns a dump into typed values (reading it ahead on a second
//!   core when the runtime has one).
//!
//! Dumps run on sockets of their own, taken from a small pool: the kernel runs
//! one dump per socket and produces the next chunk only when the socket is
//! read, so a dump per socket gives parallel dumps and natural backpressure;
//! a slow or abandoned dump consumer holds up nothing else and buffers at
//! most one datagram.

pub(crate) mod attrs;
pub(crate) mod batch;
pub mod dump;
pub mod flags;
pub mod frame;
pub(crate) mod mapped;
pub mod multiplexer;
pub mod subscription;

pub(crate) mod connection;
pub(crate) mod home;
pub(crate) mod prime;
pub(crate) mod requester;
pub(crate) mod socket;
pub(crate) mod stream;

use std::fmt::Debug;

use bytes::Bytes;
use netlink_packet_core::{NetlinkDeserializable, NetlinkSerializable};

pub use requester::Requester;
pub use socket::SocketOptions;
pub use stream::{Dump, RawDump};
pub use subscription::{Notification, Subscription};

/// A netlink protocol (family): which socket to open and how to name its
/// message types. Implemented by marker types such as [`crate::route::Route`].
pub trait Protocol: Send + Sync + 'static {
    /// The family's message type (netlink-packet-core payload).
    type Message: NetlinkSerializable + NetlinkDeserializable + Debug + Send + 'static;
    /// The `NETLINK_*` protocol number.
    const PROTOCOL: isize;
    /// The symbolic name of a message type, e.g. `RTM_NEWLINK`.
    fn message_name(message_type: u16) -> Option<&'static str>;
    /// Completes a dump request before it is sent. A family whose kernel
    /// side sizes a dump's buffers from the request adds what that needs
    /// (RTM_GETLINK: IFLA_EXT_MASK); the default leaves it as it is.
    fn prepare_dump(_msg: &mut Self::Message) {}

    /// Refuses, before it is encoded, a message that would not reach the
    /// kernel as built (an attribute longer than its 16-bit length, a NUL
    /// inside a string attribute). The default accepts every message.
    fn check(_message: &Self::Message) -> crate::Result<()> {
        Ok(())
    }
}

/// One undecoded message: its header and its bytes (header included), a
/// zero-copy slice of the datagram it arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The parsed header.
    pub header: frame::Header,
    /// The whole message, header included.
    pub bytes: Bytes,
}

impl RawMessage {
    /// The message without its header; empty when `bytes` is shorter than
    /// a header (the fields are public, so a caller can build such a
    /// message: decoders then see no payload and report it too short).
    pub fn payload(&self) -> &[u8] {
        self.bytes.get(frame::HEADER_LEN..).unwrap_or_default()
    }
}

/// Counters of one connection, for observability and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct ConnStats {
    /// Our port id on the request socket (0 until it is open).
    pub port: u32,
    /// Requests queued, in flight, or cancelled and awaiting the kernel.
    pub pending: usize,
    /// Datagrams from senders other than the kernel, dropped.
    pub foreign_dropped: u64,
    /// Replies to cancelled requests, discarded.
    pub late_dropped: u64,
    /// Messages matching no request, dropped.
    pub unroutable: u64,
    /// ENOBUFS events on the request socket.
    pub overruns: u64,
    /// Datagrams sent on the request socket.
    pub datagrams_sent: u64,
    /// Requests sent on the request socket.
    pub requests_sent: u64,
    /// Of those, requests their caller ran inline: sent and answered on the
    /// caller's own thread, with no thread crossing (the socket was free).
    pub requests_inline: u64,
    /// Dumps currently running (each on its own socket).
    pub dumps_running: usize,
    /// Idle dump sockets kept for reuse.
    pub dump_sockets_idle: usize,
}
