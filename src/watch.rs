//! A local cache of links, addresses, routes or neighbours that provably
//! converges to the kernel's state.
//!
//! It subscribes first, then dumps, and applies the events that raced the
//! dump on top of it: replaying them in order over a snapshot taken after
//! the subscription gives the kernel's current state. Where the kernel
//! changes objects without an event for each (a nexthop object deleted, a
//! link going down) or sends an event the cache cannot apply exactly (one
//! next hop of an IPv6 multipath route deleted), the cache re-dumps the part
//! concerned — a routing table, a family, or everything — the same way.
//! When the kernel reports lost events (ENOBUFS), it dumps everything again,
//! reports the resync, and emits the differences as changes. The
//! subscription is read continuously, so the kernel's queue empties and
//! later losses are reported again.

mod cache;
mod kinds;
mod route;
#[cfg(feature = "serde")]
mod serde;

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, watch as tw};

use crate::client::Netlink;
use crate::conn::RawMessage;
use crate::error::{Error, Result};
use crate::route::events::{Event, Group};

pub use cache::Cache;
pub use kinds::{AddressKey, Fdb, FdbKey, NeighbourKey};
pub use route::RouteKey;

/// NLM_F_REPLACE on a notification: the object replaced another one.
pub(crate) const NLM_F_REPLACE: u16 = 0x100;

/// The part of a cache one dump refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Every object.
    All,
    /// The objects of one address family (AF_INET = 2, AF_INET6 = 10).
    Family(u8),
    /// The routes of one family in one table.
    Table(u8, u32),
    /// One link, by index.
    Link(u32),
}

impl Part {
    /// The family a part is limited to, if it is.
    fn family(self) -> Option<u8> {
        match self {
            Part::All | Part::Link(_) => None,
            Part::Family(f) | Part::Table(f, _) => Some(f),
        }
    }

    /// The smallest part holding both.
    pub fn union(self, other: Part) -> Part {
        match (self.family(), other.family()) {
            _ if self == other => self,
            (Some(f), Some(g)) if f == g => Part::Family(f),
            _ => Part::All,
        }
    }

    /// True when every object of `other` is in `self`.
    pub fn covers(self, other: Part) -> bool {
        self.union(other) == self
    }

    /// True when some object can be in both.
    pub fn overlaps(self, other: Part) -> bool {
        self.covers(other) || other.covers(self)
    }
}

/// An event as a cache reads it (see [`Watched::classify`]).
#[derive(Debug)]
pub enum Input<T> {
    /// An object announced new or changed.
    New(T),
    /// An object announced gone.
    Del(T),
    /// Not an object of the cache, but a change that may alter its objects
    /// without an event for each (a link going down, a nexthop object
    /// deleted); [`Watched::update`] decides whether to re-dump.
    Signal(Event),
}

/// What one input does to the cache (see [`Watched::update`]).
#[derive(Debug)]
pub enum Update<T: Watched> {
    /// Nothing.
    Nothing,
    /// Remove the objects of these keys, then put this one in.
    Edit(Vec<T::Key>, Option<T>),
    /// The input cannot be applied exactly: re-dump this part.
    Resync(Part),
}

/// An object kind a [`Watch`] can keep: its identity, its groups, its
/// dumps, and how events change it.
pub trait Watched: Clone + Send + Sync + Debug + 'static {
    /// What identifies one object in the kernel.
    type Key: Eq + Hash + Clone + Send + Sync + Debug + 'static;
    /// The object's key.
    fn key(&self) -> Self::Key;
    /// Objects the kernel may change together share a sibling set (routes:
    /// one destination, table and metric); [`Cache::siblings`] finds them.
    fn siblings(&self) -> Option<Vec<u8>> {
        None
    }
    /// The part of the cache the object is in.
    fn part(&self) -> Part {
        Part::All
    }
    /// The message the object was read from.
    fn raw(&self) -> &RawMessage;
    /// The multicast groups to subscribe to.
    fn groups() -> Vec<Group>;
    /// A full dump.
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>>;
    /// A dump of one part (the full dump unless the kind has parts).
    fn dump_part(nl: &Netlink, scope: Part) -> BoxStream<'static, Result<Self>> {
        let _ = scope;
        Self::dump(nl)
    }
    /// Reads an event; `None` when it is nothing to this cache.
    fn classify(ev: Event) -> Option<Input<Self>>;
    /// What an input does to the cache. By default an object replaces the
    /// one of its key, or removes it, and signals do nothing.
    fn update(cache: &Cache<Self>, input: &Input<Self>) -> Update<Self> {
        let _ = cache;
        match input {
            Input::New(o) => Update::Edit(Vec::new(), Some(o.clone())),
            Input::Del(o) => Update::Edit(vec![o.key()], None),
            Input::Signal(_) => Update::Nothing,
        }
    }
}

/// The part of an input's effect: its object's, or everything for a signal.
fn input_part<T: Watched>(input: &Input<T>) -> Part {
    match input {
        Input::New(o) | Input::Del(o) => o.part(),
        Input::Signal(_) => Part::All,
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
    cache: Cache<T>,
    changes: Option<mpsc::UnboundedSender<Change<T>>>,
    losses: u64,
    resyncs: u64,
    refreshes: u64,
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
    task: Arc<Task>,
}

/// The watch's task, stopped when the last of the [`Watch`] and its
/// [`Changes`] goes: `nl.watch().await?.changes()` drops the `Watch` at
/// the `;`, and its changes must keep coming all the same.
#[derive(Debug)]
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T: Watched> Debug for Watch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("len", &self.len()).finish()
    }
}

impl<T: Watched> Watch<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared<T>> {
        self.shared.lock().expect("watch lock")
    }

    /// A copy of the current objects.
    pub fn snapshot(&self) -> Vec<T> {
        self.lock().cache.values().cloned().collect()
    }

    /// The current keys.
    pub fn keys(&self) -> Vec<T::Key> {
        self.lock().cache.map.keys().cloned().collect()
    }

    /// One object by key.
    pub fn get(&self, key: &T::Key) -> Option<T> {
        self.lock().cache.get(key).cloned()
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.lock().cache.len()
    }

    /// True when the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// ENOBUFS events seen so far.
    pub fn losses(&self) -> u64 {
        self.lock().losses
    }

    /// Resynchronisations after losses so far (the initial load not counted).
    pub fn resyncs(&self) -> u64 {
        self.lock().resyncs
    }

    /// Dumps of a part of the cache done so far to follow changes the
    /// kernel does not announce one by one (losses and the initial load not
    /// counted).
    pub fn refreshes(&self) -> u64 {
        self.lock().refreshes
    }

    /// The error that stopped the watch, if one did.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    /// The changes from now on (a second call takes them over). The
    /// stream keeps the watch's task running even once this `Watch` is
    /// dropped, and ends when the watch stops on an error
    /// ([`Changes::error`] says which).
    pub fn changes(&mut self) -> Changes<T> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().changes = Some(tx);
        Changes {
            rx,
            shared: self.shared.clone(),
            _task: self.task.clone(),
        }
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
pub struct Changes<T: Watched> {
    rx: mpsc::UnboundedReceiver<Change<T>>,
    shared: Arc<Mutex<Shared<T>>>,
    _task: Arc<Task>,
}

impl<T: Watched> Debug for Changes<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes").finish_non_exhaustive()
    }
}

impl<T: Watched> Changes<T> {
    /// The error that stopped the watch (and ended this stream), if one did.
    pub fn error(&self) -> Option<String> {
        self.shared.lock().expect("watch lock").error.clone()
    }

    /// One object of the watch's cache by key, as the cache holds it now.
    pub fn get(&self, key: &T::Key) -> Option<T> {
        self.shared
            .lock()
            .expect("watch lock")
            .cache
            .get(key)
            .cloned()
    }
}

impl<T: Watched> Stream for Changes<T> {
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
            cache: Cache::default(),
            changes: None,
            losses: 0,
            resyncs: 0,
            refreshes: 0,
            error: None,
        }));
        let mut events = self.events(&T::groups());
        events.ready().await?;
        let (act_tx, mut activity) = tw::channel(Activity {
            generation: 0,
            resyncing: true,
        });
        let task = Arc::new(Task(rt.spawn(run::<T>(
            self.clone(),
            events,
            shared.clone(),
            act_tx,
        ))));
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

fn emit<T: Watched>(s: &mut Shared<T>, changes: Vec<Change<T>>) {
    for c in changes {
        if let Some(tx) = &s.changes
            && tx.send(c).is_err()
        {
            s.changes = None;
        }
    }
}

/// A dump under way: its part, what it returned so far, and the inputs of
/// that part received meanwhile, to replay over it.
struct Dump<T: Watched> {
    scope: Part,
    stream: BoxStream<'static, Result<T>>,
    fresh: Vec<T>,
    buffered: Vec<Input<T>>,
}

impl<T: Watched> Dump<T> {
    fn new(nl: &Netlink, scope: Part) -> Dump<T> {
        Dump {
            scope,
            stream: T::dump_part(nl, scope),
            fresh: Vec::new(),
            buffered: Vec::new(),
        }
    }
}

/// Starts a dump of `scope`, or restarts the running one over both parts:
/// the inputs it buffered in the new part are older than the new dump.
fn redump<T: Watched>(nl: &Netlink, dump: &mut Option<Dump<T>>, scope: Part) {
    let (scope, mut kept) = match dump.take() {
        Some(d) => (d.scope.union(scope), d.buffered),
        None => (scope, Vec::new()),
    };
    kept.retain(|i| !scope.covers(input_part(i)));
    let mut d = Dump::new(nl, scope);
    d.buffered = kept;
    *dump = Some(d);
}

/// The watch's task state.
struct Runner<T: Watched> {
    nl: Netlink,
    shared: Arc<Mutex<Shared<T>>>,
    dump: Option<Dump<T>>,
    initial: bool,
    lossy: bool,
}

impl<T: Watched> Runner<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared<T>> {
        self.shared.lock().expect("watch lock")
    }

    /// Applies a live input, or buffers it when a dump of its part runs.
    fn input(&mut self, input: Input<T>) {
        if let Some(d) = &mut self.dump
            && d.scope.overlaps(input_part(&input))
        {
            d.buffered.push(input);
            return;
        }
        let mut s = self.lock();
        match T::update(&s.cache, &input) {
            Update::Nothing => {}
            Update::Edit(remove, put) => {
                let changes = s.cache.edit(remove, put);
                emit(&mut s, changes);
            }
            Update::Resync(scope) => {
                s.refreshes += 1;
                drop(s);
                redump(&self.nl, &mut self.dump, scope);
            }
        }
    }

    /// A finished dump: its part of the cache is replaced by what it
    /// returned, with the buffered inputs replayed over it.
    fn finish(&mut self, d: Dump<T>) {
        let shared = self.shared.clone();
        let mut s = shared.lock().expect("watch lock");
        let old = s.cache.take_part(d.scope);
        for o in d.fresh {
            s.cache.insert(o);
        }
        let mut again: Option<Part> = None;
        for input in d.buffered {
            // A dump still to come covers it.
            if again.is_some_and(|a| a.covers(input_part(&input))) {
                continue;
            }
            match T::update(&s.cache, &input) {
                Update::Nothing => {}
                Update::Edit(remove, put) => {
                    s.cache.edit(remove, put);
                }
                Update::Resync(scope) => {
                    s.refreshes += 1;
                    again = Some(again.map_or(scope, |a| a.union(scope)));
                }
            }
        }
        if !self.initial {
            let changes = diff(old, &s.cache, d.scope);
            emit(&mut s, changes);
            if self.lossy && d.scope == Part::All {
                s.resyncs += 1;
                emit(&mut s, vec![Change::Resynced]);
                self.lossy = false;
            }
        }
        self.initial = false;
        drop(s);
        if let Some(scope) = again {
            redump(&self.nl, &mut self.dump, scope);
        }
    }
}

async fn run<T: Watched>(
    nl: Netlink,
    mut events: crate::route::events::Events,
    shared: Arc<Mutex<Shared<T>>>,
    activity: tw::Sender<Activity>,
) {
    let mut r = Runner {
        dump: Some(Dump::new(&nl, Part::All)),
        nl,
        shared,
        initial: true,
        lossy: false,
    };
    let mut generation = 0u64;
    loop {
        tokio::select! {
            biased;
            ev = events.next() => {
                let Some(ev) = ev else {
                    r.lock().error = Some("the event subscription ended".into());
                    break;
                };
                match ev {
                    Event::Lost => {
                        r.lock().losses += 1;
                        r.lossy = true;
                        // The subscription discarded what was queued: the
                        // new snapshot covers whatever was buffered or lost.
                        redump(&r.nl, &mut r.dump, Part::All);
                    }
                    Event::Undecodable(e) => {
                        tracing::warn!(error = %e, "watch: undecodable event");
                    }
                    ev => {
                        if let Some(input) = T::classify(ev) {
                            r.input(input);
                        }
                    }
                }
            }
            item = async { r.dump.as_mut().expect("guarded").stream.next().await }, if r.dump.is_some() => {
                match item {
                    Some(Ok(obj)) => r.dump.as_mut().expect("guarded").fresh.push(obj),
                    Some(Err(Error::DumpInterrupted)) => {
                        let d = r.dump.as_mut().expect("guarded");
                        d.stream = T::dump_part(&r.nl, d.scope);
                        d.fresh.clear();
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "watch: dump failed");
                        r.lock().error = Some(e.to_string());
                        break;
                    }
                    None => {
                        let d = r.dump.take().expect("guarded");
                        r.finish(d);
                    }
                }
            }
        }
        generation += 1;
        let _ = activity.send(Activity {
            generation,
            resyncing: r.dump.is_some(),
        });
    }
    // Ends the change stream: a stopped watch must not look like a quiet one.
    r.lock().changes = None;
}

/// What changed in `scope` between the old objects and the cache.
fn diff<T: Watched>(old: HashMap<T::Key, T>, new: &Cache<T>, scope: Part) -> Vec<Change<T>> {
    let mut old = old;
    let mut out = Vec::new();
    for (k, n) in new.map.iter().filter(|(_, o)| scope.covers(o.part())) {
        match old.remove(k) {
            None => out.push(Change::Added(n.clone())),
            Some(o) if body(o.raw()) != body(n.raw()) => out.push(Change::Changed {
                old: o,
                new: n.clone(),
            }),
            Some(_) => {}
        }
    }
    out.extend(old.into_values().map(Change::Removed));
    out
}

/// A message without its header: sequence numbers and flags differ between
/// a dump and an event of the same object.
fn body(raw: &RawMessage) -> &[u8] {
    raw.bytes
        .get(crate::conn::frame::HEADER_LEN..)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::Part;

    #[test]
    fn parts_join_to_the_smallest_cover() {
        let (t4, u4, t6) = (
            Part::Table(2, 254),
            Part::Table(2, 100),
            Part::Table(10, 254),
        );
        assert_eq!(t4.union(t4), t4);
        assert_eq!(t4.union(u4), Part::Family(2));
        assert_eq!(Part::Family(2).union(u4), Part::Family(2));
        assert_eq!(t4.union(t6), Part::All);
        assert!(Part::Family(2).covers(t4) && !t4.covers(Part::Family(2)));
        assert!(t4.overlaps(Part::Family(2)) && Part::All.overlaps(t6));
        assert!(!t4.overlaps(u4) && !t4.overlaps(t6) && !Part::Family(10).overlaps(t4));
        let (l3, l4) = (Part::Link(3), Part::Link(4));
        assert_eq!(l3.union(l3), l3);
        assert_eq!(l3.union(l4), Part::All);
        assert!(!l3.overlaps(l4) && !l3.overlaps(t4) && Part::All.covers(l3));
    }
}
