//! Requester: the cheap handle families use to talk to one protocol's
//! connection (`ack`, `get`, `dump`, fire-and-forget), and the dump streams.

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use netlink_packet_core::{NetlinkDeserializable, NetlinkHeader, NetlinkSerializable};
use tokio::sync::{mpsc, oneshot};

use super::batch::Sink;
use super::connection::{self, Command, Core, Inline, TaskShared};
use super::frame::{F_ACK, F_DUMP, F_REQUEST, HEADER_LEN, Header, Status};
use super::multiplexer::{Kind, Outcome};
use super::socket::{self, NlSocket};
use super::stream::{Dump, RawDump};
use super::{ConnStats, Protocol, RawMessage};
use crate::client::Config;
use crate::error::{Error, KernelError, RequestKind, Result};

/// How many times collecting helpers re-run a dump the kernel interrupted.
const DUMP_RETRIES: usize = 5;

/// One protocol's connection inside a client: the running connection task
/// (restarted when it has stopped), the pool of idle dump sockets, and the
/// counters.
#[derive(Debug)]
pub(crate) struct ConnHandle {
    pub(super) protocol: isize,
    pub(super) netns: Option<Arc<OwnedFd>>,
    pub(super) config: Config,
    task: Mutex<Option<Arc<Running>>>,
    pub(super) pool: Mutex<Vec<NlSocket>>,
    pub(super) dumps_running: AtomicUsize,
    pub(super) next_id: AtomicU64,
    dump_seq: AtomicU32,
    /// Request futures alive (`ack`, `get`, `get_raw`, `send`), counted from
    /// their creation, before they are first polled. A request runs inline
    /// only while it is the only one: many futures made together (a
    /// `join_all`, `buffer_unordered`) go through the task, which coalesces
    /// them into few datagrams, where running them one by one inline would
    /// cost a send and a receive each.
    alive: AtomicUsize,
}

/// One alive request future, for [`ConnHandle::alive`].
struct Alive<'a>(&'a AtomicUsize);

impl<'a> Alive<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Alive(count)
    }
}

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One run of the connection task: its command channel and what it shares.
#[derive(Debug)]
pub(super) struct Running {
    pub(super) tx: mpsc::UnboundedSender<Command>,
    pub(super) shared: Arc<TaskShared>,
}

impl Running {
    pub(super) fn closed(&self) -> Error {
        match self.shared.open_errno.get() {
            Some(&errno) => Error::Io(io::Error::from_raw_os_error(errno)),
            None => Error::ConnectionClosed(self.shared.closed.get().cloned()),
        }
    }
}

impl ConnHandle {
    pub(crate) fn new(protocol: isize, netns: Option<Arc<OwnedFd>>, config: Config) -> Self {
        ConnHandle {
            protocol,
            netns,
            config,
            task: Mutex::new(None),
            pool: Mutex::new(Vec::new()),
            dumps_running: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            dump_seq: AtomicU32::new(1),
            alive: AtomicUsize::new(0),
        }
    }

    /// The running connection task, started on first use and started again
    /// when the last one stopped (its socket failed, it could not open one,
    /// or it panicked): a client never stays dead. Requests that were in
    /// flight when it stopped fail with the reason; later ones reconnect.
    pub(super) fn task(&self) -> Result<Arc<Running>> {
        let mut slot = self.task.lock().expect("task lock");
        if let Some(running) = slot.as_ref()
            && !running.tx.is_closed()
        {
            return Ok(running.clone());
        }
        if let Some(old) = slot.take() {
            tracing::debug!(
                reason = old.shared.closed.get().map(String::as_str),
                "netlink connection stopped; reconnecting"
            );
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(TaskShared::default());
        let open = socket::open(self.protocol, self.config.socket, self.netns.clone());
        let task = connection::run(
            open,
            rx,
            shared.clone(),
            self.config.window,
            self.config.max_datagram,
        );
        if self.config.io_thread {
            // A thread of its own with a single-threaded runtime: it serves
            // this connection only, so a busy connection cannot delay others.
            let io = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::Io)?;
            std::thread::Builder::new()
                .name("tokio-netlink-io".into())
                .spawn(move || io.block_on(task))
                .map_err(Error::Io)?;
        } else {
            super::home::spawn(task).map_err(Error::Io)?;
        }
        let running = Arc::new(Running { tx, shared });
        *slot = Some(running.clone());
        Ok(running)
    }

    /// The counters of the current connection task (a restarted one starts
    /// from zero).
    pub(super) fn shared(&self) -> Option<Arc<TaskShared>> {
        self.task
            .lock()
            .expect("task lock")
            .as_ref()
            .map(|l| l.shared.clone())
    }

    pub(super) fn next_dump_seq(&self) -> u32 {
        loop {
            let s = self.dump_seq.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }
}

/// How a request ended, as the caller sees it: `Some(reply)` for a get.
pub(super) fn outcome_to_result(
    link: &Running,
    outcome: Outcome,
    rk: RequestKind,
) -> Result<Option<Bytes>> {
    match outcome {
        Outcome::Ack => Ok(None),
        Outcome::Message(b) => Ok(Some(b)),
        Outcome::Kernel(s) => Err(kernel_error(s, rk)),
        Outcome::Lost => Err(Error::ReplyLost(rk)),
        Outcome::Malformed(reason) => Err(Error::Decode {
            request: rk,
            reason: reason.into(),
        }),
        Outcome::Closed => Err(link.closed()),
        Outcome::SendFailed(errno) => Err(Error::Io(io::Error::from_raw_os_error(errno))),
    }
}

/// Removes a request from the connection if its future is dropped early.
struct CancelGuard<'a> {
    tx: &'a mpsc::UnboundedSender<Command>,
    id: u64,
    armed: bool,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.tx.send(Command::Cancel(self.id));
        }
    }
}

/// A cheap, cloneable handle to one protocol's connection. Families turn
/// intent into messages and call these methods; nothing here knows what a
/// link or a route is.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// use netlink_packet_route::{RouteNetlinkMessage, link::LinkMessage};
/// use futures::TryStreamExt;
///
/// let nl = tokio_netlink::Netlink::new();
/// let rtnl = nl.rtnl();
/// let mut lo = LinkMessage::default();
/// lo.header.index = 1;
/// let reply = rtnl.get(RouteNetlinkMessage::GetLink(lo), 0).await?;
/// let links: Vec<_> = rtnl
///     .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()), 0)
///     .try_collect()
///     .await?;
/// # drop((reply, links)); Ok(()) }
/// ```
pub struct Requester<P: Protocol> {
    pub(super) conn: Arc<ConnHandle>,
    pub(super) timeout: Option<Duration>,
    _p: PhantomData<fn() -> P>,
}

impl<P: Protocol> Clone for Requester<P> {
    fn clone(&self) -> Self {
        Requester {
            conn: self.conn.clone(),
            timeout: self.timeout,
            _p: PhantomData,
        }
    }
}

impl<P: Protocol> std::fmt::Debug for Requester<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester")
            .field("protocol", &P::PROTOCOL)
            .field("timeout", &self.timeout)
            .finish()
    }
}

pub(super) fn request_kind<P: Protocol>(ty: u16) -> RequestKind {
    RequestKind {
        message_type: ty,
        name: P::message_name(ty),
    }
}

pub(super) fn kernel_error(status: Status, request: RequestKind) -> Error {
    Error::Kernel(KernelError {
        errno: -status.code,
        message: status.message,
        offset: status.offset,
        request,
    })
}

/// Serializes a message with the given flags (sequence number left 0).
fn encode<P: Protocol>(msg: &P::Message, flags: u16) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    encode_into::<P>(msg, flags, &mut buf)?;
    Ok(buf)
}

/// Appends a message with the given flags to `buf`, once the protocol's
/// [`Protocol::check`] accepts it. An encoder that panics on input it did
/// not expect yields an error (and `buf` is left as it was), not a panic in
/// the caller's task.
pub(super) fn encode_into<P: Protocol>(
    msg: &P::Message,
    flags: u16,
    buf: &mut Vec<u8>,
) -> Result<()> {
    P::check(msg)?;
    let at = buf.len();
    catch_unwind(AssertUnwindSafe(|| {
        let len = HEADER_LEN + msg.buffer_len();
        buf.resize(at + len, 0);
        Header {
            len: len as u32,
            ty: msg.message_type(),
            flags,
            seq: 0,
            pid: 0,
        }
        .write(&mut buf[at..]);
        msg.serialize(&mut buf[at + HEADER_LEN..]);
    }))
    .map_err(|_| {
        buf.truncate(at);
        Error::invalid(
            "message",
            format!(
                "the encoder panicked on this {} request",
                request_kind::<P>(msg.message_type())
            ),
        )
    })
}

/// Decodes one message of protocol `P`. A decoder that fails, or panics on
/// input it did not expect, yields an error for this message only.
pub(crate) fn decode<P: Protocol>(raw: &RawMessage, request: RequestKind) -> Result<P::Message> {
    let mut h = NetlinkHeader::default();
    h.length = raw.header.len;
    h.message_type = raw.header.ty;
    h.flags = raw.header.flags;
    h.sequence_number = raw.header.seq;
    h.port_number = raw.header.pid;
    let payload = raw.payload();
    match catch_unwind(AssertUnwindSafe(|| P::Message::deserialize(&h, payload))) {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(Error::Decode {
            request,
            reason: e.to_string(),
        }),
        Err(_) => Err(Error::Decode {
            request,
            reason: format!("the decoder panicked on message type {}", raw.header.ty),
        }),
    }
}

fn raw_from(bytes: Bytes) -> Result<RawMessage, &'static str> {
    let header = Header::parse(&bytes).ok_or("reply shorter than a netlink header")?;
    Ok(RawMessage { header, bytes })
}

impl<P: Protocol> Requester<P> {
    pub(crate) fn new(conn: Arc<ConnHandle>) -> Self {
        let timeout = conn.config.timeout;
        Requester {
            conn,
            timeout,
            _p: PhantomData,
        }
    }

    /// The same connection with another per-request timeout (`None`: wait
    /// forever). For dumps the timeout bounds each wait for the next datagram.
    pub fn with_timeout(&self, timeout: Option<Duration>) -> Self {
        Requester {
            timeout,
            ..self.clone()
        }
    }

    /// The namespace this connection works in (`None`: the caller's).
    pub(crate) fn netns(&self) -> Option<Arc<OwnedFd>> {
        self.conn.netns.clone()
    }

    /// Subscribes to multicast `groups` on a socket of its own (in this
    /// connection's namespace), with the client's event receive buffer.
    pub fn subscribe(&self, groups: &[u32]) -> super::Subscription {
        super::Subscription::open(
            P::PROTOCOL,
            self.conn.config.socket,
            self.conn.config.event_rcvbuf,
            self.conn.netns.clone(),
            groups.to_vec(),
        )
    }

    /// Counters of this connection.
    pub fn stats(&self) -> ConnStats {
        let mut s = match self.conn.shared() {
            Some(shared) => *shared.stats.lock().expect("stats lock"),
            None => ConnStats::default(),
        };
        s.dumps_running = self.conn.dumps_running.load(Ordering::Relaxed);
        s.dump_sockets_idle = self.conn.pool.lock().expect("pool lock").len();
        s
    }

    /// Runs one request: inline on the caller's thread when it is the only
    /// request future alive and the socket is free (no thread crossing),
    /// else through the connection task.
    async fn submit(&self, bytes: Vec<u8>, kind: Kind, rk: RequestKind) -> Result<Option<Bytes>> {
        let link = self.conn.task()?;
        let id = self.conn.next_id.fetch_add(1, Ordering::Relaxed);
        // The inline attempt completes within this first poll, or hands the
        // request over to the task before returning: no await point lies
        // inside it, so a dropped future never leaves it half done.
        let mut handed = None;
        let alone = self.conn.alive.load(Ordering::Relaxed) <= 1;
        let bytes = match link.shared.core.get() {
            Some(core) if alone => {
                let inline =
                    Core::try_inline(core, &link.shared, id, bytes, kind, &link.tx, || {
                        let (sink, reply) = oneshot::channel();
                        handed = Some(reply);
                        Sink::One(sink)
                    });
                match inline {
                    Inline::Done(outcome) => return outcome_to_result(&link, outcome, rk),
                    Inline::HandedOver => None,
                    Inline::Busy(bytes) => Some(bytes),
                }
            }
            _ => Some(bytes),
        };
        let reply = match (bytes, handed) {
            (_, Some(reply)) => reply,
            (Some(bytes), None) => {
                let (sink, reply) = oneshot::channel();
                link.tx
                    .send(Command::Submit {
                        id,
                        bytes,
                        kind,
                        ty: rk.message_type,
                        sink: Sink::One(sink),
                    })
                    .map_err(|_| link.closed())?;
                reply
            }
            // `try_inline` takes a sink whenever it hands over; should it
            // ever not, nobody would answer: fail rather than wait forever.
            (None, None) => return Err(link.closed()),
        };
        let mut guard = CancelGuard {
            tx: &link.tx,
            id,
            armed: true,
        };
        let outcome = match self.timeout {
            None => reply.await,
            Some(t) => match super::home::timeout(t, reply).map_err(Error::Io)?.await {
                Ok(r) => r,
                Err(_) => return Err(Error::Timeout(rk)),
            },
        };
        guard.armed = false;
        outcome_to_result(&link, outcome.map_err(|_| link.closed())?, rk)
    }

    /// Counts `f` among the request futures alive from now until it ends or
    /// is dropped, polled or not (see [`ConnHandle::alive`]).
    fn counted<'a, T>(
        &'a self,
        f: impl Future<Output = T> + Send + 'a,
    ) -> impl Future<Output = T> + Send + 'a {
        let alive = Alive::new(&self.conn.alive);
        async move {
            let _alive = alive;
            f.await
        }
    }

    /// Sends `msg` with NLM_F_REQUEST | NLM_F_ACK | `flags` and resolves when
    /// the kernel acknowledges it (or with the kernel's error). `flags` are
    /// [`conn::flags`](crate::conn::flags), e.g. `flags::CREATE |
    /// flags::EXCL` for an add.
    pub fn ack(&self, msg: P::Message, flags: u16) -> impl Future<Output = Result<()>> + Send + '_ {
        self.counted(async move {
            let rk = request_kind::<P>(msg.message_type());
            let bytes = encode::<P>(&msg, flags | F_REQUEST | F_ACK)?;
            self.submit(bytes, Kind::Ack, rk).await.map(|_| ())
        })
    }

    /// Sends `msg` with NLM_F_REQUEST | `flags` and returns the kernel's
    /// reply, undecoded. With NLM_F_ACK in `flags` it resolves at the ack.
    /// `flags` are [`conn::flags`](crate::conn::flags) (often 0).
    pub fn get_raw(
        &self,
        msg: P::Message,
        flags: u16,
    ) -> impl Future<Output = Result<RawMessage>> + Send + '_ {
        self.counted(self.get_raw_uncounted(msg, flags))
    }

    async fn get_raw_uncounted(&self, msg: P::Message, flags: u16) -> Result<RawMessage> {
        let rk = request_kind::<P>(msg.message_type());
        let kind = if flags & F_ACK != 0 {
            Kind::GetAck
        } else {
            Kind::Get
        };
        let bytes = encode::<P>(&msg, flags | F_REQUEST)?;
        match self.submit(bytes, kind, rk).await? {
            Some(b) => raw_from(b).map_err(|reason| Error::Decode {
                request: rk,
                reason: reason.into(),
            }),
            None => Err(Error::Decode {
                request: rk,
                reason: "acknowledged without the expected reply message".into(),
            }),
        }
    }

    /// Like [`get_raw`](Self::get_raw), decoded.
    pub fn get(
        &self,
        msg: P::Message,
        flags: u16,
    ) -> impl Future<Output = Result<P::Message>> + Send + '_ {
        self.counted(async move {
            let rk = request_kind::<P>(msg.message_type());
            let raw = self.get_raw_uncounted(msg, flags).await?;
            decode::<P>(&raw, rk)
        })
    }

    /// Fire-and-forget: sends `msg` with NLM_F_REQUEST | `flags` and resolves
    /// once it is handed to the kernel. Errors the kernel sends back are
    /// counted in [`ConnStats::unroutable`].
    pub fn send(
        &self,
        msg: P::Message,
        flags: u16,
    ) -> impl Future<Output = Result<()>> + Send + '_ {
        self.counted(async move {
            let rk = request_kind::<P>(msg.message_type());
            let bytes = encode::<P>(&msg, flags | F_REQUEST)?;
            self.submit(bytes, Kind::NoReply, rk).await.map(|_| ())
        })
    }

    /// Dumps with NLM_F_REQUEST | NLM_F_DUMP | `flags`, as a stream of
    /// undecoded messages (zero-copy slices of the received datagrams).
    /// `flags` are [`conn::flags`](crate::conn::flags) (often 0).
    pub fn dump_raw(&self, mut msg: P::Message, flags: u16) -> RawDump {
        P::prepare_dump(&mut msg);
        let rk = request_kind::<P>(msg.message_type());
        match encode::<P>(&msg, flags | F_REQUEST | F_DUMP) {
            Ok(bytes) => RawDump::new(self.conn.clone(), bytes, rk, self.timeout),
            Err(e) => RawDump::failed(self.conn.clone(), rk, e),
        }
    }

    /// Dumps with NLM_F_REQUEST | NLM_F_DUMP | `flags`, as a stream of
    /// decoded messages. A message that fails to decode is an error item;
    /// the stream goes on after it.
    pub fn dump(&self, msg: P::Message, flags: u16) -> Dump<P> {
        let rk = request_kind::<P>(msg.message_type());
        Dump {
            raw: self.dump_raw(msg, flags),
            rk,
            _p: PhantomData,
        }
    }

    /// Runs a dump to its end and collects it, re-running it (up to 5 times)
    /// when the kernel reports it interrupted by a concurrent change.
    pub async fn dump_all(&self, mut msg: P::Message, flags: u16) -> Result<Vec<P::Message>> {
        P::prepare_dump(&mut msg);
        let rk = request_kind::<P>(msg.message_type());
        let bytes = encode::<P>(&msg, flags | F_REQUEST | F_DUMP)?;
        retry_interrupted(rk, || async {
            let mut raw = RawDump::new(self.conn.clone(), bytes.clone(), rk, self.timeout);
            let mut out = Vec::new();
            while let Some(item) = raw.next().await {
                out.push(decode::<P>(&item?, rk)?);
            }
            Ok(out)
        })
        .await
    }
}

/// Runs `attempt` again while it fails with `DumpInterrupted`, at most
/// `DUMP_RETRIES` times in all; the last error is returned as is.
pub(crate) async fn retry_interrupted<T, F, Fut>(rk: RequestKind, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Err(Error::DumpInterrupted) if n < DUMP_RETRIES => {
                tracing::debug!(request = %rk, attempt = n, "dump interrupted, retrying");
                n += 1;
            }
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RK: RequestKind = RequestKind {
        message_type: 18,
        name: Some("RTM_GETLINK"),
    };

    #[tokio::test]
    async fn interrupted_dumps_are_retried_a_bounded_number_of_times() {
        let mut calls = 0;
        let r = retry_interrupted(RK, || {
            calls += 1;
            let c = calls;
            async move {
                if c < 3 {
                    Err(Error::DumpInterrupted)
                } else {
                    Ok(c)
                }
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3);

        let mut calls = 0;
        let r: Result<()> = retry_interrupted(RK, || {
            calls += 1;
            async { Err(Error::DumpInterrupted) }
        })
        .await;
        assert!(matches!(r, Err(Error::DumpInterrupted)));
        assert_eq!(calls, DUMP_RETRIES);

        let mut calls = 0;
        let r: Result<()> = retry_interrupted(RK, || {
            calls += 1;
            async { Err(Error::NoRuntime) }
        })
        .await;
        assert!(matches!(r, Err(Error::NoRuntime)));
        assert_eq!(calls, 1, "other errors are not retried");
    }

    #[tokio::test]
    async fn a_stopped_connection_is_replaced_by_the_next_request() {
        // Protocol 31 exists in no kernel: every connection task stops at once.
        let conn = ConnHandle::new(31, None, Config::default());
        let first = conn.task().unwrap();
        while !first.tx.is_closed() {
            tokio::task::yield_now().await;
        }
        assert_eq!(first.closed().errno(), Some(libc::EPROTONOSUPPORT));
        let second = conn.task().unwrap();
        assert!(
            !Arc::ptr_eq(&first, &second),
            "a new task, not the dead one"
        );
        // While a task runs, requests share it.
        let nl = crate::Netlink::new();
        let rtnl = nl.rtnl();
        let a = rtnl.conn.task().unwrap();
        let b = rtnl.conn.task().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    /// A protocol whose check refuses odd message types and whose encoder
    /// panics on type 8.
    struct Picky;

    #[derive(Debug)]
    struct PickyMessage(u16);

    impl NetlinkSerializable for PickyMessage {
        fn message_type(&self) -> u16 {
            self.0
        }
        fn buffer_len(&self) -> usize {
            4
        }
        fn serialize(&self, buf: &mut [u8]) {
            assert_ne!(self.0, 8, "the encoder's own bug");
            buf.copy_from_slice(&[1, 2, 3, 4]);
        }
    }

    impl NetlinkDeserializable for PickyMessage {
        type Error = std::io::Error;
        fn deserialize(h: &NetlinkHeader, _: &[u8]) -> std::io::Result<Self> {
            Ok(PickyMessage(h.message_type))
        }
    }

    impl Protocol for Picky {
        type Message = PickyMessage;
        const PROTOCOL: isize = 0;
        fn message_name(_: u16) -> Option<&'static str> {
            None
        }
        fn check(m: &PickyMessage) -> Result<()> {
            match m.0 % 2 {
                1 => Err(Error::invalid("type", "odd")),
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn unencodable_messages_are_errors_not_panics() {
        let mut buf = vec![7u8; 3];
        encode_into::<Picky>(&PickyMessage(2), 5, &mut buf).unwrap();
        assert_eq!(buf.len(), 3 + HEADER_LEN + 4);
        assert_eq!(&buf[3 + HEADER_LEN..], [1, 2, 3, 4]);
        let e = encode_into::<Picky>(&PickyMessage(3), 0, &mut buf).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { field: "type", .. }),
            "{e}"
        );
        let e = encode_into::<Picky>(&PickyMessage(8), 0, &mut buf).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "message",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("message type 8"), "{e}");
        assert_eq!(
            buf.len(),
            3 + HEADER_LEN + 4,
            "a failed encoding leaves the buffer"
        );
        // The route family's check refuses what would wrap nla_len.
        use netlink_packet_route::RouteNetlinkMessage;
        use netlink_packet_route::link::{LinkAttribute, LinkMessage};
        let mut m = LinkMessage::default();
        m.attributes
            .push(LinkAttribute::IfAlias("a".repeat(65_532)));
        let e = encode::<crate::route::Route>(&RouteNetlinkMessage::SetLink(m), 0).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    }

    #[test]
    fn undecodable_message_becomes_a_decode_error() {
        // An RTM_NEWLINK whose body is shorter than struct ifinfomsg. (A
        // decoder that panicked would give the same error, via catch_unwind.)
        let bytes = Bytes::from(vec![
            20, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4,
        ]);
        let raw = raw_from(bytes).unwrap();
        match decode::<crate::route::Route>(&raw, RK) {
            Err(Error::Decode { request, .. }) => assert_eq!(request, RK),
            other => panic!("{other:?}"),
        }
    }
}
