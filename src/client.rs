//! `Netlink`: one client per network namespace, opening one connection per
//! protocol lazily.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::conn::requester::ConnHandle;
use crate::conn::{Protocol, Requester, SocketOptions};
use crate::error::Result;
use crate::netns::NetnsTarget;
use crate::route::Route;

/// Client-wide settings. [`Netlink::builder`] sets them.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Default per-request timeout (`None`: wait for the kernel forever).
    pub timeout: Option<Duration>,
    /// Options of every socket the client opens.
    pub socket: SocketOptions,
    /// Receive-buffer bytes that in-flight replies may take; `None` derives
    /// it from the socket's effective receive buffer (half of it).
    pub window: Option<usize>,
    /// Largest datagram of coalesced requests.
    pub max_datagram: usize,
    /// Idle dump sockets kept per protocol for reuse.
    pub max_idle_dump_sockets: usize,
    /// Receive buffer of event subscriptions (SO_RCVBUFFORCE when allowed):
    /// large, so a burst of changes is absorbed rather than lost.
    pub event_rcvbuf: usize,
    /// Run each request connection on a thread of its own (a single-threaded
    /// runtime) instead of the crate's shared I/O thread: a busy connection
    /// then delays no other client's. It costs a thread per protocol and
    /// client. Either way no connection depends on the caller's runtime.
    pub io_thread: bool,
    /// On a machine with two or more cores, typed listings
    /// (`link().list()`, `route().list()`, …) receive and index their dump
    /// on a reader thread of the crate's (not the runtime's), up to
    /// [`READ_AHEAD_DATAGRAMS`] datagrams ahead of the consumer, so the
    /// kernel's work of producing the dump and the consumer's work overlap
    /// on two cores. Memory stays bounded; the kernel still produces the
    /// next chunk only when it is read. At most four listings per process
    /// read ahead at once; the others stream as usual.
    pub read_ahead: bool,
}

/// How far ahead of its consumer a read-ahead listing may get, in received
/// datagrams (see [`Config::read_ahead`]).
pub const READ_AHEAD_DATAGRAMS: usize = crate::conn::mapped::DATAGRAMS_AHEAD;

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: None,
            socket: SocketOptions::default(),
            window: None,
            max_datagram: 64 * 1024,
            max_idle_dump_sockets: 4,
            event_rcvbuf: 64 << 20,
            io_thread: false,
            read_ahead: true,
        }
    }
}

/// Builds a [`Netlink`] client with non-default settings.
///
/// ```no_run
/// # fn f() -> tokio_netlink::Result<()> {
/// use std::time::Duration;
/// let nl = tokio_netlink::Netlink::builder()
///     .timeout(Duration::from_secs(5))
///     .netns("blue")
///     .build()?;
/// # drop(nl); Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    config: Config,
    netns: Option<NetnsTarget>,
}

impl Builder {
    /// Default timeout of every request (a dump: of each wait for data).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.config.timeout = Some(t);
        self
    }

    /// Work in another network namespace.
    pub fn netns(mut self, target: impl Into<NetnsTarget>) -> Self {
        self.netns = Some(target.into());
        self
    }

    /// Requested receive buffer of every socket (SO_RCVBUFFORCE when allowed).
    pub fn receive_buffer(mut self, bytes: usize) -> Self {
        self.config.socket.rcvbuf = bytes;
        self
    }

    /// Receive buffer of event subscriptions.
    pub fn event_receive_buffer(mut self, bytes: usize) -> Self {
        self.config.event_rcvbuf = bytes;
        self
    }

    /// Run request connections on a dedicated I/O thread (see
    /// [`Config::io_thread`]).
    pub fn io_thread(mut self, on: bool) -> Self {
        self.config.io_thread = on;
        self
    }

    /// Read typed listings ahead of their consumer on a multi-thread
    /// runtime (default on; see [`Config::read_ahead`]).
    pub fn read_ahead(mut self, on: bool) -> Self {
        self.config.read_ahead = on;
        self
    }

    /// Explicit send window in receive-buffer bytes (see [`Config::window`]).
    pub fn send_window(mut self, bytes: usize) -> Self {
        self.config.window = Some(bytes);
        self
    }

    /// Largest datagram of coalesced requests.
    pub fn max_datagram(mut self, bytes: usize) -> Self {
        self.config.max_datagram = bytes.max(16);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Opens the namespace (if any) and makes the client. No socket is
    /// opened until the first request.
    pub fn build(self) -> Result<Netlink> {
        let netns = match self.netns {
            Some(t) => Some(Arc::new(t.open()?)),
            None => None,
        };
        Ok(Netlink {
            inner: Arc::new(Inner {
                netns,
                config: self.config,
                conns: Mutex::new(HashMap::new()),
                genl: Arc::default(),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    netns: Option<Arc<OwnedFd>>,
    config: Config,
    conns: Mutex<HashMap<isize, Arc<ConnHandle>>>,
    /// Generic netlink families resolved by name (see `genl::resolve`).
    genl: Arc<crate::genl::FamilyCache>,
}

/// The client: cheap to clone, `Send + Sync`, one per network namespace.
///
/// It opens one connection per protocol, lazily, and runs them on the
/// crate's own I/O thread, where its sockets and timers also live: a client
/// works from any runtime (multi-thread or current-thread, with or without
/// drivers, several at once, or none: its futures are plain futures; only
/// [`watch`](Netlink::watch) needs a tokio runtime for its task), keeps
/// working after the runtimes that used it are dropped, and reconnects by
/// itself when its socket fails.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// let host = tokio_netlink::Netlink::new();
/// let blue = tokio_netlink::Netlink::in_netns("blue")?;
/// # drop((host, blue)); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Netlink {
    inner: Arc<Inner>,
}

impl Default for Netlink {
    fn default() -> Self {
        Netlink::new()
    }
}

impl Netlink {
    /// A client for the caller's network namespace.
    pub fn new() -> Netlink {
        Builder::default().build().expect("no namespace to open")
    }

    /// A client for another network namespace: a name under `/run/netns`,
    /// a path, an open fd or a pid (see [`NetnsTarget`]).
    pub fn in_netns(target: impl Into<NetnsTarget>) -> Result<Netlink> {
        Builder::default().netns(target).build()
    }

    /// A builder for non-default settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The client's settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The raw requester of any netlink protocol; its connection is opened on
    /// first use and shared by every clone of this client.
    pub fn requester<P: Protocol>(&self) -> Requester<P> {
        let conn = self
            .inner
            .conns
            .lock()
            .expect("conns lock")
            // By protocol number: families with codecs of their own on one
            // protocol (NETLINK_ROUTE's TC) share its connection.
            .entry(P::PROTOCOL)
            .or_insert_with(|| {
                Arc::new(ConnHandle::new(
                    P::PROTOCOL,
                    self.inner.netns.clone(),
                    self.inner.config,
                ))
            })
            .clone();
        Requester::new(conn)
    }

    /// The client's cache of resolved generic netlink families.
    pub(crate) fn genl_cache(&self) -> Arc<crate::genl::FamilyCache> {
        self.inner.genl.clone()
    }

    /// The raw NETLINK_ROUTE requester (messages of netlink-packet-route).
    pub fn rtnl(&self) -> Requester<Route> {
        self.requester::<Route>()
    }
}
