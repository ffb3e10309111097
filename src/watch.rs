//! A local cache of links, addresses, routes or neighbours that provably
//! converges to the kernel's state.
//!
//! It subscribes first, then dumps, and applies the events that raced the
//! dump on top of it: each event carries the full object, so replaying them
//! in order over a snapshot taken after the subscription gives the kernel's
//! current state. When the kernel reports lost events (ENOBUFS), it dumps
//! again, keeps buffering events meanwhile, reports the resync, and emits the
//! differences as changes. The subscription is read continuously, so the
//! kernel's queue empties and later losses are reported again.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, watch as tw};

use crate::client::Netlink;
use crate::conn::RawMessage;
use crate::error::{Error, Result};
use crate::route::address::{Address, Family};
use crate::route::events::{Event, Group};
use crate::route::link::Link;
use crate::route::neighbour::Neighbour;
use crate::route::route::Route;

/// NLM_F_REPLACE on a notification: the object replaced another with the
/// same identity but different details (a route's next hop).
const NLM_F_REPLACE: u16 = 0x100;

/// An object kind a [`Watch`] can keep: its key, its groups, its dump, and
/// how to read it out of an event.
pub trait Watched: Clone + Send + Sync + Debug + 'static {
    /// What identifies one object in the kernel.
    type Key: Eq + Hash + Clone + Send + Sync + Debug + 'static;
    /// The object's key.
    fn key(&self) -> Self::Key;
    /// Objects with the same replace group are superseded by a NLM_F_REPLACE
    /// notification of one of them (routes: a replaced next hop changes the
    /// key, and the kernel sends no deletion for the old one).
    fn replace_group(&self) -> Option<Vec<u8>> {
        None
    }
    /// The message the object was read from.
    fn raw(&self) -> &RawMessage;
    /// The multicast groups to subscribe to.
    fn groups() -> Vec<Group>;
    /// Events after which the kernel changes objects of this kind without
    /// notifying each change, so the cache must be rebuilt from a dump.
    fn needs_resync(_ev: &Event) -> bool {
        false
    }
    /// A full dump.
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>>;
    /// The object of an event: `Some((obj, true))` for new, `false` for del.
    fn from_event(ev: Event) -> Option<(Self, bool)>;
}

impl Watched for Link {
    fn raw(&self) -> &RawMessage {
        Link::raw(self)
    }
    type Key = u32;
    fn key(&self) -> u32 {
        self.index()
    }
    fn groups() -> Vec<Group> {
        vec![Group::Link]
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        nl.link().list().stream().boxed()
    }
    fn from_event(ev: Event) -> Option<(Self, bool)> {
        match ev {
            Event::NewLink(l) => Some((l, true)),
            Event::DelLink(l) => Some((l, false)),
            _ => None,
        }
    }
}

/// Identity of an address: link, address, prefix length, peer.
pub type AddressKey = (u32, Option<IpAddr>, u8, Option<IpAddr>);

impl Watched for Address {
    fn raw(&self) -> &RawMessage {
        Address::raw(self)
    }
    type Key = AddressKey;
    fn key(&self) -> AddressKey {
        (self.index(), self.address(), self.prefix_len(), self.peer())
    }
    fn groups() -> Vec<Group> {
        Group::addresses()
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        nl.address().list().stream().boxed()
    }
    fn from_event(ev: Event) -> Option<(Self, bool)> {
        match ev {
            Event::NewAddress(a) => Some((a, true)),
            Event::DelAddress(a) => Some((a, false)),
            _ => None,
        }
    }
}

/// Identity of a route: family, table, destination and source prefixes, tos,
/// metric, type, and its first next hop (routes appended beside each other
/// differ only there).
pub type RouteKey = (Vec<u8>, Option<IpAddr>, Option<u32>);

fn route_base(r: &Route) -> Vec<u8> {
    fn prefix(k: &mut Vec<u8>, p: Option<ipnetwork::IpNetwork>) {
        match p.map(|p| (p.ip(), p.prefix())) {
            Some((IpAddr::V4(a), l)) => {
                k.extend_from_slice(&a.octets());
                k.push(l);
            }
            Some((IpAddr::V6(a), l)) => {
                k.extend_from_slice(&a.octets());
                k.push(l);
            }
            None => k.push(0xff),
        }
    }
    let mut k = Vec::with_capacity(48);
    k.push(r.family_raw());
    k.extend_from_slice(&r.table().to_ne_bytes());
    prefix(&mut k, r.destination());
    prefix(&mut k, r.source());
    k.push(r.tos());
    k.extend_from_slice(&r.metric().unwrap_or(0).to_ne_bytes());
    k
}

impl Watched for Route {
    fn raw(&self) -> &RawMessage {
        Route::raw(self)
    }
    type Key = RouteKey;
    fn key(&self) -> RouteKey {
        let mut base = route_base(self);
        base.push(u8::from(self.kind()));
        let nh = self.nexthops();
        let first = nh.first();
        (
            base,
            first.and_then(|n| n.gateway),
            first.and_then(|n| n.oif),
        )
    }
    fn replace_group(&self) -> Option<Vec<u8>> {
        Some(route_base(self))
    }
    fn groups() -> Vec<Group> {
        let mut g = Group::routes();
        g.push(Group::Link);
        g
    }
    /// A link going away (or down) flushes its IPv4 routes without a
    /// RTM_DELROUTE for each: rebuild from a dump.
    fn needs_resync(ev: &Event) -> bool {
        matches!(ev, Event::NewLink(_) | Event::DelLink(_))
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        let v4 = nl.route().list().table(0).family(Family::V4).stream();
        let v6 = nl.route().list().table(0).family(Family::V6).stream();
        v4.chain(v6).boxed()
    }
    fn from_event(ev: Event) -> Option<(Self, bool)> {
        match ev {
            Event::NewRoute(r) => Some((r, true)),
            Event::DelRoute(r) => Some((r, false)),
            _ => None,
        }
    }
}

/// Identity of a neighbour or FDB entry: family, link, address, MAC (FDB),
/// vlan.
pub type NeighbourKey = (u8, u32, Option<IpAddr>, Option<Vec<u8>>, Option<u16>);

impl Watched for Neighbour {
    fn raw(&self) -> &RawMessage {
        Neighbour::raw(self)
    }
    type Key = NeighbourKey;
    fn key(&self) -> NeighbourKey {
        let fdb = self.is_fdb();
        (
            self.family_raw(),
            self.index(),
            self.destination(),
            fdb.then(|| self.lladdr().map(<[u8]>::to_vec)).flatten(),
            self.vlan(),
        )
    }
    fn groups() -> Vec<Group> {
        vec![Group::Neighbour]
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        nl.neighbour().list().stream().boxed()
    }
    fn from_event(ev: Event) -> Option<(Self, bool)> {
        match ev {
            // FDB entries share the group; this cache holds neighbours.
            Event::NewNeighbour(n) if !n.is_fdb() => Some((n, true)),
            Event::DelNeighbour(n) if !n.is_fdb() => Some((n, false)),
            _ => None,
        }
    }
}

/// One change of the cache.
#[derive(Debug, Clone)]
pub enum Change<T> {
    /// A new object.
    Added(T),
    /// An object whose details changed.
    Changed {
        /// Before.
        old: T,
        /// After.
        new: T,
    },
    /// An object that went away.
    Removed(T),
    /// The kernel dropped events, and the cache was rebuilt from a fresh
    /// dump; the changes found were emitted just before this.
    Resynced,
}

struct Shared<T: Watched> {
    map: HashMap<T::Key, T>,
    changes: Option<mpsc::UnboundedSender<Change<T>>>,
    losses: u64,
    resyncs: u64,
    error: Option<String>,
}

/// The state of the watch task, for [`Watch::quiesce`] and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Activity {
    generation: u64,
    resyncing: bool,
}

/// A cache kept equal to the kernel's objects of one kind. Dropping it
/// stops its task and closes its socket.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// use futures::StreamExt;
/// use tokio_netlink::route::route::Route;
/// use tokio_netlink::watch::Change;
/// let nl = tokio_netlink::Netlink::new();
/// let mut routes = nl.watch::<Route>().await?;
/// println!("{} routes", routes.len());
/// let mut changes = routes.changes();
/// while let Some(c) = changes.next().await {
///     if let Change::Resynced = c {
///         println!("events were lost; the cache was rebuilt");
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Watch<T: Watched> {
    shared: Arc<Mutex<Shared<T>>>,
    activity: tw::Receiver<Activity>,
    task: tokio::task::JoinHandle<()>,
}

impl<T: Watched> Debug for Watch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("len", &self.len()).finish()
    }
}

impl<T: Watched> Drop for Watch<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T: Watched> Watch<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared<T>> {
        self.shared.lock().expect("watch lock")
    }

    /// A copy of the current objects.
    pub fn snapshot(&self) -> Vec<T> {
        self.lock().map.values().cloned().collect()
    }

    /// The current keys.
    pub fn keys(&self) -> Vec<T::Key> {
        self.lock().map.keys().cloned().collect()
    }

    /// One object by key.
    pub fn get(&self, key: &T::Key) -> Option<T> {
        self.lock().map.get(key).cloned()
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// ENOBUFS events seen so far.
    pub fn losses(&self) -> u64 {
        self.lock().losses
    }

    /// Resynchronisations done so far (the initial load not counted).
    pub fn resyncs(&self) -> u64 {
        self.lock().resyncs
    }

    /// The error that stopped the watch, if one did.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    /// The changes from now on (a second call takes them over).
    pub fn changes(&mut self) -> Changes<T> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().changes = Some(tx);
        Changes { rx }
    }

    /// Waits until nothing happened for `idle` and no resync is running.
    pub async fn quiesce(&mut self, idle: Duration) {
        loop {
            let before = *self.activity.borrow_and_update();
            let changed = self.activity.changed();
            let Ok(wait) = crate::conn::home::timeout(idle, changed) else {
                return;
            };
            match wait.await {
                Err(_) if !before.resyncing => return,
                Err(_) => {}
                Ok(Err(_)) => return,
                Ok(Ok(())) => {}
            }
        }
    }
}

/// The stream of a watch's changes; see [`Watch::changes`].
#[derive(Debug)]
pub struct Changes<T> {
    rx: mpsc::UnboundedReceiver<Change<T>>,
}

impl<T> Stream for Changes<T> {
    type Item = Change<T>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Change<T>>> {
        self.rx.poll_recv(cx)
    }
}

impl Netlink {
    /// Starts a cache of links, addresses, routes or neighbours kept equal
    /// to the kernel's; returns once the initial dump is loaded.
    pub async fn watch<T: Watched>(&self) -> Result<Watch<T>> {
        // The watch's task runs on the caller's runtime (it decodes and
        // applies every change; the crate's I/O thread only moves bytes).
        let rt = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let shared = Arc::new(Mutex::new(Shared {
            map: HashMap::new(),
            changes: None,
            losses: 0,
            resyncs: 0,
            error: None,
        }));
        let mut events = self.events(&T::groups());
        events.ready().await?;
        let (act_tx, mut activity) = tw::channel(Activity {
            generation: 0,
            resyncing: true,
        });
        let task = rt.spawn(run::<T>(self.clone(), events, shared.clone(), act_tx));
        // The initial load is the first resync.
        loop {
            if activity.changed().await.is_err() {
                let e = shared.lock().expect("watch lock").error.clone();
                return Err(Error::ConnectionClosed(e));
            }
            if !activity.borrow().resyncing {
                break;
            }
        }
        Ok(Watch {
            shared,
            activity,
            task,
        })
    }
}

fn emit<T: Watched>(s: &mut Shared<T>, c: Change<T>) {
    if let Some(tx) = &s.changes
        && tx.send(c).is_err()
    {
        s.changes = None;
    }
}

fn apply<T: Watched>(map: &mut HashMap<T::Key, T>, obj: T, new: bool) -> Option<Change<T>> {
    let key = obj.key();
    if !new {
        return map.remove(&key).map(Change::Removed);
    }
    if obj.raw().header.flags & NLM_F_REPLACE != 0
        && let Some(group) = obj.replace_group()
    {
        // The object it replaced may have had another key.
        map.retain(|k, o| *k == key || o.replace_group().as_ref() != Some(&group));
    }
    Some(match map.insert(key, obj.clone()) {
        None => Change::Added(obj),
        Some(old) => Change::Changed { old, new: obj },
    })
}

async fn run<T: Watched>(
    nl: Netlink,
    mut events: crate::route::events::Events,
    shared: Arc<Mutex<Shared<T>>>,
    activity: tw::Sender<Activity>,
) {
    let mut generation = 0u64;
    let mut dump: Option<BoxStream<'static, Result<T>>> = Some(T::dump(&nl));
    let mut fresh: HashMap<T::Key, T> = HashMap::new();
    let mut buffered: Vec<(T, bool)> = Vec::new();
    let mut initial = true;
    let mut lossy = false;
    let bump = |generation: &mut u64, resyncing: bool| {
        *generation += 1;
        let _ = activity.send(Activity {
            generation: *generation,
            resyncing,
        });
    };
    loop {
        tokio::select! {
            biased;
            ev = events.next() => {
                let Some(ev) = ev else { break };
                match ev {
                    Event::Lost => {
                        shared.lock().expect("watch lock").losses += 1;
                        lossy = true;
                        // Restart the dump: the new snapshot covers whatever
                        // was buffered or lost before it.
                        dump = Some(T::dump(&nl));
                        fresh.clear();
                        buffered.clear();
                    }
                    ev if T::needs_resync(&ev) => {
                        dump = Some(T::dump(&nl));
                        fresh.clear();
                        buffered.clear();
                    }
                    Event::Undecodable(e) => {
                        tracing::warn!(error = %e, "watch: undecodable event");
                    }
                    ev => {
                        if let Some((obj, new)) = T::from_event(ev) {
                            if dump.is_some() {
                                buffered.push((obj, new));
                            } else {
                                let mut s = shared.lock().expect("watch lock");
                                if let Some(c) = apply(&mut s.map, obj, new) {
                                    emit(&mut s, c);
                                }
                            }
                        }
                    }
                }
                bump(&mut generation, dump.is_some());
            }
            item = async { dump.as_mut().expect("guarded").next().await }, if dump.is_some() => {
                match item {
                    Some(Ok(obj)) => {
                        fresh.insert(obj.key(), obj);
                    }
                    Some(Err(Error::DumpInterrupted)) => {
                        dump = Some(T::dump(&nl));
                        fresh.clear();
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "watch: dump failed");
                        shared.lock().expect("watch lock").error = Some(e.to_string());
                        break;
                    }
                    None => {
                        dump = None;
                        for (obj, new) in buffered.drain(..) {
                            apply(&mut fresh, obj, new);
                        }
                        let mut s = shared.lock().expect("watch lock");
                        let old = std::mem::take(&mut s.map);
                        if !initial {
                            diff(&mut s, old, &fresh);
                        }
                        s.map = std::mem::take(&mut fresh);
                        if !initial && lossy {
                            s.resyncs += 1;
                            emit(&mut s, Change::Resynced);
                        }
                        initial = false;
                        lossy = false;
                    }
                }
                bump(&mut generation, dump.is_some());
            }
        }
    }
}

/// Emits what changed between the old map and the rebuilt one.
fn diff<T: Watched>(s: &mut Shared<T>, old: HashMap<T::Key, T>, new: &HashMap<T::Key, T>) {
    let mut old = old;
    for (k, n) in new {
        match old.remove(k) {
            None => emit(s, Change::Added(n.clone())),
            Some(o) if body(o.raw()) != body(n.raw()) => emit(
                s,
                Change::Changed {
                    old: o,
                    new: n.clone(),
                },
            ),
            Some(_) => {}
        }
    }
    for (_, o) in old {
        emit(s, Change::Removed(o));
    }
}

/// A message without its header: sequence numbers and flags differ between
/// a dump and an event of the same object.
fn body(raw: &RawMessage) -> &[u8] {
    raw.bytes
        .get(crate::conn::frame::HEADER_LEN..)
        .unwrap_or(&[])
}
