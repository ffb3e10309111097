//! `ipset add|del|test SET ENTRY`, and many adds batched (`ipset restore`).

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::entry::IpsetEntry;
use super::errors::{errno, explained};
use super::{IpsetHandle, attr, cmd, named};
use crate::conn::flags;
use crate::error::{Context, Error, Result, ResultExt};
use crate::netfilter::{Emit, NfMessage};
use crate::route::tc::awaited_by_run;

/// The request of command `n` for `entry` in set `set`.
fn member_request(n: u8, set: &str, entry: &IpsetEntry) -> Result<Emit> {
    let mut e = named(n, set)?;
    let mut err = Ok(());
    e.nest(attr::DATA, |e| err = entry.emit(e));
    err.map(|()| e)
}

/// The kernel answers a member of the wrong family with a bare protocol
/// error (add, del) or as not in the set (test): on those answers only,
/// the set's family is asked and compared, so that the error names the
/// field.
async fn family_checked(
    h: &IpsetHandle,
    set: &str,
    entry: &IpsetEntry,
    r: Result<()>,
) -> Result<()> {
    let Err(e) = r else { return r };
    // A test answers every refusal, a wrong family included, as ERR_EXIST.
    let (Some(errno::PROTOCOL | errno::EXIST), Some(ip)) = (e.errno(), entry.ip) else {
        return Err(e);
    };
    let Ok(hd) = h.header(set).await else {
        return Err(e);
    };
    match hd.address_family() {
        Some(f) if f != super::entry::family_of(ip) => Err(Error::invalid(
            "family",
            format!(
                "set {set} is family {}; {ip} is not",
                super::header::family_name(hd.family)
            ),
        )),
        _ => Err(e),
    }
}

macro_rules! extension_setters {
    () => {
        /// `timeout SECONDS` (the set needs timeout support).
        pub fn timeout(mut self, secs: u32) -> Self {
            self.entry.timeout = Some(secs);
            self
        }

        /// `packets N bytes M` (the set needs `counters`).
        pub fn counters(mut self, packets: u64, bytes: u64) -> Self {
            (self.entry.packets, self.entry.bytes) = (Some(packets), Some(bytes));
            self
        }

        /// `comment "TEXT"` (the set needs `comment`).
        pub fn comment(mut self, c: &str) -> Self {
            self.entry.comment = Some(c.to_owned());
            self
        }

        /// `skbmark MARK/MASK` (the set needs `skbinfo`).
        pub fn skbmark(mut self, mark: u32, mask: u32) -> Self {
            self.entry.skbmark = Some((mark, mask));
            self
        }

        /// `skbprio MAJOR:MINOR` (the set needs `skbinfo`).
        pub fn skbprio(mut self, major: u16, minor: u16) -> Self {
            self.entry.skbprio = Some((major, minor));
            self
        }

        /// `skbqueue N` (the set needs `skbinfo`).
        pub fn skbqueue(mut self, q: u16) -> Self {
            self.entry.skbqueue = Some(q);
            self
        }

        /// `nomatch` (net types).
        pub fn nomatch(mut self) -> Self {
            self.entry.nomatch = true;
            self
        }
    };
}

/// `ipset add`; see [`IpsetHandle::add`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct IpsetAdd {
    handle: IpsetHandle,
    set: String,
    entry: IpsetEntry,
    exist: bool,
}

impl IpsetAdd {
    extension_setters!();

    /// `-exist`: no error when the member is there (its extensions are
    /// updated instead).
    pub fn exist(mut self) -> Self {
        self.exist = true;
        self
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new(
            "ipset add",
            format!("{} {}", self.set, self.entry.element()),
        );
        let e = member_request(cmd::ADD, &self.set, &self.entry)?;
        // Without NLM_F_EXCL the kernel reads the add as `-exist`.
        let fl = if self.exist { 0 } else { flags::EXCL };
        let r = self.handle.ack(cmd::ADD, e, fl, &ctx).await;
        family_checked(&self.handle, &self.set, &self.entry, r).await
    }
}

/// `ipset del`; see [`IpsetHandle::del`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct IpsetDel {
    handle: IpsetHandle,
    set: String,
    entry: IpsetEntry,
    exist: bool,
}

impl IpsetDel {
    /// `-exist`: no error when the member is not there.
    pub fn exist(mut self) -> Self {
        self.exist = true;
        self
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new(
            "ipset del",
            format!("{} {}", self.set, self.entry.element()),
        );
        let e = member_request(cmd::DEL, &self.set, &self.entry)?;
        let fl = if self.exist { 0 } else { flags::EXCL };
        let r = self.handle.ack(cmd::DEL, e, fl, &ctx).await;
        family_checked(&self.handle, &self.set, &self.entry, r).await
    }
}

/// `ipset test`; see [`IpsetHandle::test`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct IpsetTest {
    handle: IpsetHandle,
    set: String,
    entry: IpsetEntry,
}

impl IpsetTest {
    async fn run(self) -> Result<bool> {
        let ctx = Context::new(
            "ipset test",
            format!("{} {}", self.set, self.entry.element()),
        );
        let e = member_request(cmd::TEST, &self.set, &self.entry)?;
        let r = self.handle.ack(cmd::TEST, e, 0, &ctx).await;
        match family_checked(&self.handle, &self.set, &self.entry, r).await {
            Ok(()) => Ok(true),
            // The kernel answers a member not in the set with ERR_EXIST.
            Err(err) if err.errno() == Some(errno::EXIST) => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// Adds sent to the connection as one batch, packed into as few datagrams
/// as the engine's send window allows; a few batches stay in flight.
const BATCH: usize = 1024;
const IN_FLIGHT: usize = 4;

/// Many `ipset add`s, batched; see [`IpsetHandle::add_many`].
#[must_use = "a request does nothing until awaited"]
pub struct IpsetAddMany<I> {
    handle: IpsetHandle,
    set: String,
    entries: I,
    exist: bool,
}

impl<I> IpsetAddMany<I>
where
    I: IntoIterator<Item = IpsetEntry> + Send + 'static,
    I::IntoIter: Send,
{
    /// `-exist`: members already there are updated, not errors.
    pub fn exist(mut self) -> Self {
        self.exist = true;
        self
    }

    async fn run(self) -> Result<u64> {
        let IpsetAddMany {
            handle,
            set,
            entries,
            exist,
        } = self;
        let fl = if exist { 0 } else { flags::EXCL };
        let mut in_flight = FuturesUnordered::new();
        let mut batch: Vec<(NfMessage, u16)> = Vec::with_capacity(BATCH);
        let mut shown: Vec<String> = Vec::with_capacity(BATCH);
        let mut added = 0;
        let send = |batch: Vec<(NfMessage, u16)>, shown: Vec<String>| {
            let req = handle.req.clone();
            async move { (req.ack_batch(batch).await, shown) }
        };
        for entry in entries {
            // A member that cannot be encoded fails before any more is sent.
            let e = member_request(cmd::ADD, &set, &entry)?;
            batch.push((e.message(), fl));
            shown.push(entry.element());
            if batch.len() == BATCH {
                if in_flight.len() == IN_FLIGHT {
                    let done = in_flight.next().await;
                    added += counted(&handle, &set, done).await?;
                }
                in_flight.push(send(std::mem::take(&mut batch), std::mem::take(&mut shown)));
            }
        }
        if !batch.is_empty() {
            in_flight.push(send(batch, shown));
        }
        while let Some(done) = in_flight.next().await {
            added += counted(&handle, &set, Some(done)).await?;
        }
        Ok(added)
    }
}

/// A batch's answers, with its members as ipset writes them.
type Answered = (Result<Vec<Result<()>>>, Vec<String>);

/// How many adds of a batch went; the first refused one ends the run,
/// its error naming the member.
async fn counted(handle: &IpsetHandle, set: &str, done: Option<Answered>) -> Result<u64> {
    let Some((results, shown)) = done else {
        return Ok(0);
    };
    let ctx = Context::new("ipset add", set.to_owned());
    let mut n = 0;
    for (r, what) in results.within(&ctx)?.into_iter().zip(shown) {
        match r {
            Ok(()) => n += 1,
            Err(e) => {
                let ctx = Context::new("ipset add", format!("{set} {what}"));
                return explained(handle, cmd::ADD, Err::<(), Error>(e), &ctx)
                    .await
                    .map(|()| n);
            }
        }
    }
    Ok(n)
}

impl<I> std::future::IntoFuture for IpsetAddMany<I>
where
    I: IntoIterator<Item = IpsetEntry> + Send + 'static,
    I::IntoIter: Send,
{
    type Output = Result<u64>;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

awaited_by_run! {
    IpsetAdd => (),
    IpsetDel => (),
    IpsetTest => bool,
}

impl IpsetHandle {
    /// `ipset add SET ENTRY`: a member already there is refused
    /// (`element is already in the set`) unless [`exist`](IpsetAdd::exist).
    /// Extensions come from `entry` or the setters.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::ipset::{IpsetEntry, SetType};
    /// let e = IpsetEntry::parse(SetType::HashIpPort, "10.0.0.1,udp:53")?;
    /// nl.ipset().add("dns", e).timeout(300).comment("resolver").await?;
    /// # Ok(()) }
    /// ```
    pub fn add(&self, set: &str, entry: IpsetEntry) -> IpsetAdd {
        IpsetAdd {
            handle: self.clone(),
            set: set.to_owned(),
            entry,
            exist: false,
        }
    }

    /// `ipset del SET ENTRY`: a member not there is refused (`element is
    /// not in the set`) unless [`exist`](IpsetDel::exist).
    pub fn del(&self, set: &str, entry: IpsetEntry) -> IpsetDel {
        IpsetDel {
            handle: self.clone(),
            set: set.to_owned(),
            entry,
            exist: false,
        }
    }

    /// `ipset test SET ENTRY`: whether the set matches `entry` (for net
    /// types, an address inside a member network matches; a `nomatch`
    /// member does not). The kernel answers any refusal of a test as "not
    /// in the set", so on a miss the set's header is asked too: a member
    /// of the other family is an error naming `family`, not `false`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::ipset::{IpsetEntry, SetType};
    /// let e = IpsetEntry::parse(SetType::HashNet, "10.1.2.3")?;
    /// if nl.ipset().test("blocked", e).await? {
    ///     println!("blocked");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn test(&self, set: &str, entry: IpsetEntry) -> IpsetTest {
        IpsetTest {
            handle: self.clone(),
            set: set.to_owned(),
            entry,
        }
    }

    /// Adds every member of `entries` to `set`, many requests per datagram
    /// (`ipset restore`'s speed), and returns how many were added. The
    /// first refused member ends the run with an error naming it (the
    /// members before it stay); [`exist`](IpsetAddMany::exist) lets members
    /// already there be updated.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use std::net::{IpAddr, Ipv4Addr};
    /// use tokio_netlink::netfilter::ipset::IpsetEntry;
    /// let members = (0..100_000u32).map(|i| IpsetEntry {
    ///     ip: Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))),
    ///     ..Default::default()
    /// });
    /// let n = nl.ipset().add_many("big", members).await?;
    /// assert_eq!(n, 100_000);
    /// # Ok(()) }
    /// ```
    pub fn add_many<I>(&self, set: &str, entries: I) -> IpsetAddMany<I>
    where
        I: IntoIterator<Item = IpsetEntry> + Send + 'static,
        I::IntoIter: Send,
    {
        IpsetAddMany {
            handle: self.clone(),
            set: set.to_owned(),
            entries,
            exist: false,
        }
    }
}
