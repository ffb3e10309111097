//! `tc filter add|replace|change|del|get|show`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::str::FromStr;

use futures::{Stream, StreamExt, TryStreamExt};

use super::action::{ActionStats, decode_action_stats};
use super::handle::IntoParent;
use super::kinds::FilterKind;
use super::stats::Stats;
use super::wire::{TCMSG_LEN, TcMsg, Writer, tca, tcmsg_of};
use super::{Parent, TcHandle, TcMessage, msg, request_kind};
use crate::conn::RawMessage;
use crate::conn::attrs::{Indexed, nested_get, str_of, u32_of};
use crate::conn::flags;
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::link::LinkId;

/// A filter's `protocol`: an Ethernet type (`ETH_P_*`), as `tc` names it.
///
/// ```
/// use tokio_netlink::route::tc::EtherType;
/// assert_eq!("ip".parse::<EtherType>().unwrap(), EtherType::IP);
/// assert_eq!(EtherType(0x88cc).to_string(), "0x88cc");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EtherType(pub u16);

impl EtherType {
    /// `all` (`ETH_P_ALL`).
    pub const ALL: EtherType = EtherType(0x0003);
    /// `ip` (`ETH_P_IP`).
    pub const IP: EtherType = EtherType(0x0800);
    /// `ipv6` (`ETH_P_IPV6`).
    pub const IPV6: EtherType = EtherType(0x86DD);
    /// `arp` (`ETH_P_ARP`).
    pub const ARP: EtherType = EtherType(0x0806);
    /// `802.1q` (`ETH_P_8021Q`).
    pub const VLAN: EtherType = EtherType(0x8100);
    /// `802.1ad` (`ETH_P_8021AD`).
    pub const QINQ: EtherType = EtherType(0x88A8);
    /// `mpls_uc` (`ETH_P_MPLS_UC`).
    pub const MPLS_UC: EtherType = EtherType(0x8847);

    const NAMES: [(&'static str, EtherType); 7] = [
        ("all", EtherType::ALL),
        ("ip", EtherType::IP),
        ("ipv6", EtherType::IPV6),
        ("arp", EtherType::ARP),
        ("802.1q", EtherType::VLAN),
        ("802.1ad", EtherType::QINQ),
        ("mpls_uc", EtherType::MPLS_UC),
    ];
}

impl fmt::Display for EtherType {
    /// `tc`'s name, or `0x…` for others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match EtherType::NAMES.iter().find(|(_, p)| p == self) {
            Some((n, _)) => f.write_str(n),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

impl FromStr for EtherType {
    type Err = Error;

    /// A name (`all`, `ip`, `ipv6`, `arp`, `802.1q`, `802.1ad`,
    /// `mpls_uc`) or a number (`0x88cc`).
    fn from_str(s: &str) -> Result<EtherType> {
        let t = s.trim().to_ascii_lowercase();
        if let Some((_, p)) = EtherType::NAMES.iter().find(|(n, _)| *n == t) {
            return Ok(*p);
        }
        let n = match t.strip_prefix("0x") {
            Some(h) => u16::from_str_radix(h, 16).ok(),
            None => t.parse().ok(),
        };
        n.map(EtherType).ok_or_else(|| {
            Error::invalid(
                "protocol",
                format!("{s:?} is not a protocol name (all, ip, ipv6, 802.1q, …) or number"),
            )
        })
    }
}

/// What the filter builders take for a protocol: an [`EtherType`] or its
/// name.
pub trait IntoEtherType {
    /// The protocol, or an error naming `protocol`.
    fn into_ether_type(self) -> Result<EtherType>;
}

impl IntoEtherType for EtherType {
    fn into_ether_type(self) -> Result<EtherType> {
        Ok(self)
    }
}

impl IntoEtherType for &str {
    fn into_ether_type(self) -> Result<EtherType> {
        self.parse()
    }
}

/// Filter operations; see [`TcHandle::filter`].
#[derive(Debug, Clone)]
pub struct FilterOps {
    pub(crate) tc: TcHandle,
}

/// Where a filter is and which it is: shared by every filter builder.
#[derive(Debug)]
struct Place {
    dev: LinkId,
    parent: Result<Parent>,
    prio: u16,
    protocol: Result<Option<EtherType>>,
    handle: u32,
    chain: Option<u32>,
}

impl Clone for Place {
    fn clone(&self) -> Place {
        Place {
            dev: self.dev.clone(),
            parent: take(&self.parent),
            prio: self.prio,
            protocol: take(&self.protocol),
            handle: self.handle,
            chain: self.chain,
        }
    }
}

impl Place {
    fn new(dev: LinkId) -> Place {
        Place {
            dev,
            parent: Ok(Parent::Root),
            prio: 0,
            protocol: Ok(None),
            handle: 0,
            chain: None,
        }
    }

    /// `dev D PARENT [pref N] [protocol P] [handle H] [chain C]`.
    fn describe(&self) -> String {
        let mut o = format!("dev {}", self.dev);
        match &self.parent {
            Ok(Parent::Handle(h)) => o.push_str(&format!(" parent {h}")),
            Ok(p) => o.push_str(&format!(" {p}")),
            Err(_) => {}
        }
        if self.prio != 0 {
            o.push_str(&format!(" pref {}", self.prio));
        }
        if let Ok(Some(p)) = &self.protocol {
            o.push_str(&format!(" protocol {p}"));
        }
        if self.handle != 0 {
            o.push_str(&format!(" handle {:#x}", self.handle));
        }
        if let Some(c) = self.chain {
            o.push_str(&format!(" chain {c}"));
        }
        o
    }

    /// The tcmsg and TCA_CHAIN, with the protocol `tc` uses by default.
    async fn writer(&self, tc: &TcHandle, default_proto: u16, dump: bool) -> Result<Writer> {
        let ifindex = tc.ifindex(&self.dev).await?;
        let parent = match take(&self.parent)? {
            // The kernel's dump finds the root qdisc by a parent of 0.
            Parent::Root if dump => 0,
            p => p.raw_filter(),
        };
        let proto = take(&self.protocol)?.map_or(default_proto, |p| p.0);
        let mut w = Writer::new(TcMsg {
            ifindex,
            handle: self.handle,
            parent,
            info: ((self.prio as u32) << 16) | proto.to_be() as u32,
        });
        if let Some(c) = self.chain {
            w.u32("chain", tca::CHAIN, c)?;
        }
        Ok(w)
    }
}

/// A copy of a builder's checked value (errors are input errors).
fn take<T: Copy>(r: &Result<T>) -> Result<T> {
    match r {
        Ok(v) => Ok(*v),
        Err(Error::InvalidInput { field, reason }) => Err(Error::invalid(field, reason.clone())),
        Err(e) => Err(Error::invalid("filter", e.to_string())),
    }
}

macro_rules! place_setters {
    () => {
        /// `parent P`: `root`, `ingress` / `egress` (the hooks of
        /// `clsact`, `ingress`'s is `ingress`), or a qdisc or class
        /// (`1:`, `1:10`).
        pub fn parent(mut self, parent: impl IntoParent) -> Self {
            self.place.parent = parent.into_parent("parent");
            self
        }

        /// `pref N` (`prio`): the filter's priority; 0 lets the kernel
        /// pick one on add.
        pub fn prio(mut self, prio: u16) -> Self {
            self.place.prio = prio;
            self
        }

        /// `protocol P` (`all`, `ip`, `ipv6`, `802.1q`, …).
        pub fn protocol(mut self, protocol: impl IntoEtherType) -> Self {
            self.place.protocol = protocol.into_ether_type().map(Some);
            self
        }

        /// `handle H`, as the kind reads it (a u32 filter's is a
        /// [`U32Handle`](super::U32Handle)'s raw value).
        pub fn handle(mut self, handle: u32) -> Self {
            self.place.handle = handle;
            self
        }

        /// `chain N` (TCA_CHAIN).
        pub fn chain(mut self, chain: u32) -> Self {
            self.place.chain = Some(chain);
            self
        }
    };
}

impl FilterOps {
    /// `tc filter add dev DEV … KIND …`: fails with `is_exists()` when a
    /// filter with that handle is there.
    pub fn add(&self, dev: impl Into<LinkId>, kind: impl Into<FilterKind>) -> FilterChange {
        self.change_with(dev.into(), kind.into(), flags::CREATE | flags::EXCL)
    }

    /// `tc filter replace …`: adds, or replaces the filter with that
    /// handle.
    pub fn replace(&self, dev: impl Into<LinkId>, kind: impl Into<FilterKind>) -> FilterChange {
        self.change_with(dev.into(), kind.into(), flags::CREATE | flags::REPLACE)
    }

    /// `tc filter change …`: changes an existing filter (give its `pref`,
    /// `protocol` and `handle`).
    pub fn change(&self, dev: impl Into<LinkId>, kind: impl Into<FilterKind>) -> FilterChange {
        self.change_with(dev.into(), kind.into(), 0)
    }

    fn change_with(&self, dev: LinkId, kind: FilterKind, flags: u16) -> FilterChange {
        FilterChange {
            tc: self.tc.clone(),
            place: Place::new(dev),
            kind,
            flags,
        }
    }

    /// `tc filter del dev DEV PARENT [pref N [protocol P [handle H KIND]]]`:
    /// without a `pref`, every filter at the parent.
    pub fn del(&self, dev: impl Into<LinkId>) -> FilterDel {
        FilterDel {
            tc: self.tc.clone(),
            place: Place::new(dev.into()),
            kind: None,
        }
    }

    /// `tc filter get dev DEV PARENT pref N protocol P handle H KIND`: one
    /// filter.
    pub fn get(&self, dev: impl Into<LinkId>, kind: &str) -> FilterGet {
        FilterGet {
            tc: self.tc.clone(),
            place: Place::new(dev.into()),
            kind: kind.to_owned(),
        }
    }

    /// `tc filter show dev DEV PARENT [pref N] [protocol P] [chain C]`:
    /// the kernel lists one parent's filters (the root qdisc's by
    /// default).
    pub fn list(&self, dev: impl Into<LinkId>) -> FilterList {
        FilterList {
            tc: self.tc.clone(),
            place: Place::new(dev.into()),
        }
    }
}

/// An add, replace or change of a filter; see [`FilterOps::add`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct FilterChange {
    tc: TcHandle,
    place: Place,
    kind: FilterKind,
    flags: u16,
}

impl FilterChange {
    place_setters!();

    /// The request this builder stands for, checked but not sent (device
    /// names are looked up now).
    pub async fn into_request(self) -> Result<(TcMessage, u16)> {
        let ctx = self.context();
        self.request().await.within(&ctx)
    }

    /// `filter add dev D PARENT … KIND`, for errors.
    fn context(&self) -> Context {
        let op = match self.flags {
            0 => "filter change",
            f if f & flags::REPLACE != 0 => "filter replace",
            _ => "filter add",
        };
        Context::new(
            op,
            format!("{} {}", self.place.describe(), self.kind.name()),
        )
    }

    async fn request(self) -> Result<(TcMessage, u16)> {
        // `tc` sends ETH_P_ALL when no protocol is given to an add.
        let default = if self.flags & flags::CREATE != 0 {
            EtherType::ALL.0
        } else {
            0
        };
        let mut w = self.place.writer(&self.tc, default, false).await?;
        w.string("kind", tca::KIND, self.kind.name())?;
        self.kind.encode(&mut w)?;
        let m = TcMessage {
            message_type: msg::NEWTFILTER,
            payload: w.buf,
        };
        Ok((m, self.flags))
    }

    async fn run(self) -> Result<()> {
        let tc = self.tc.clone();
        let ctx = self.context();
        let (m, flags) = self.request().await.within(&ctx)?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// A filter delete; see [`FilterOps::del`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct FilterDel {
    tc: TcHandle,
    place: Place,
    kind: Option<String>,
}

impl FilterDel {
    place_setters!();

    /// The kind (`u32`): needed with a `handle`.
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = Some(kind.to_owned());
        self
    }

    /// The request, checked but not sent.
    pub async fn into_request(self) -> Result<(TcMessage, u16)> {
        let ctx = self.context();
        self.request().await.within(&ctx)
    }

    fn context(&self) -> Context {
        let mut o = self.place.describe();
        if let Some(k) = &self.kind {
            o.push(' ');
            o.push_str(k);
        }
        Context::new("filter del", o).missing("filter")
    }

    async fn request(self) -> Result<(TcMessage, u16)> {
        let mut w = self.place.writer(&self.tc, 0, false).await?;
        if let Some(k) = &self.kind {
            w.string("kind", tca::KIND, k)?;
        }
        let m = TcMessage {
            message_type: msg::DELTFILTER,
            payload: w.buf,
        };
        Ok((m, 0))
    }

    async fn run(self) -> Result<()> {
        let tc = self.tc.clone();
        let ctx = self.context();
        let (m, flags) = self.request().await.within(&ctx)?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// One filter; see [`FilterOps::get`].
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct FilterGet {
    tc: TcHandle,
    place: Place,
    kind: String,
}

impl FilterGet {
    place_setters!();

    async fn run(self) -> Result<Filter> {
        let ctx = Context::new(
            "filter get",
            format!("{} {}", self.place.describe(), self.kind),
        )
        .missing("filter");
        self.send().await.within(&ctx)
    }

    async fn send(self) -> Result<Filter> {
        if self.place.prio == 0 {
            return Err(Error::invalid(
                "pref",
                "a filter get needs the filter's pref",
            ));
        }
        let mut w = self.place.writer(&self.tc, 0, false).await?;
        w.string("kind", tca::KIND, &self.kind)?;
        let m = TcMessage {
            message_type: msg::GETTFILTER,
            payload: w.buf,
        };
        // As for qdiscs, kernel 6.18 answers a get only with flags::ECHO.
        Filter::from_raw(self.tc.req.get_raw(m, flags::ECHO | flags::ACK).await?)
    }
}

/// A filter listing; see [`FilterOps::list`]. `.await` for a `Vec` (a
/// dump the kernel interrupts is run again), or [`stream`](Self::stream).
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct FilterList {
    tc: TcHandle,
    place: Place,
}

impl FilterList {
    place_setters!();

    /// The filters as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Filter>> + Send + 'static {
        let ctx = Context::new("filter show", self.place.describe());
        futures::stream::once(async move {
            let w = self.place.writer(&self.tc, 0, true).await.within(&ctx)?;
            let ctx = ctx.clone();
            let m = TcMessage {
                message_type: msg::GETTFILTER,
                payload: w.buf,
            };
            let dump = self
                .tc
                .req
                .dump_raw(m, 0)
                .map(move |r| r.and_then(Filter::from_raw).within(&ctx));
            Ok::<_, Error>(dump)
        })
        .try_flatten()
    }
}

impl IntoFuture for FilterList {
    type Output = Result<Vec<Filter>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Filter>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(
            request_kind(msg::GETTFILTER),
            move || self.clone().stream().try_collect(),
        ))
    }
}

/// A filter as the kernel reports it: a lazy view over the message.
#[derive(Clone)]
pub struct Filter {
    m: Indexed<16>,
    h: TcMsg,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("ifindex", &self.ifindex())
            .field("parent", &self.parent())
            .field("prio", &self.prio())
            .field("protocol", &self.protocol())
            .field("handle", &format_args!("{:#x}", self.handle()))
            .field("chain", &self.chain())
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl Filter {
    /// Types an RTM_NEWTFILTER/RTM_DELTFILTER message.
    pub fn from_raw(raw: RawMessage) -> Result<Filter> {
        let m = Indexed::new(
            raw,
            msg::NEWTFILTER,
            TCMSG_LEN,
            request_kind(msg::GETTFILTER),
        )?;
        let h = tcmsg_of(&m.raw.bytes).unwrap_or_default();
        Ok(Filter { m, h })
    }

    /// The message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The device's index (`u32::MAX` for a shared block's filter).
    pub fn ifindex(&self) -> u32 {
        self.h.ifindex
    }

    /// `parent` (root, ingress, egress or a qdisc or class).
    pub fn parent(&self) -> Parent {
        Parent::of_filter(self.h.parent)
    }

    /// `pref`.
    pub fn prio(&self) -> u16 {
        (self.h.info >> 16) as u16
    }

    /// `protocol`.
    pub fn protocol(&self) -> EtherType {
        EtherType(u16::from_be(self.h.info as u16))
    }

    /// The handle (`fh`), as the kind reads it; 0 for the entry that
    /// stands for the filter's priority itself.
    pub fn handle(&self) -> u32 {
        self.h.handle
    }

    /// `chain` (0 when the kernel reports none).
    pub fn chain(&self) -> u32 {
        self.m.attr(tca::CHAIN).and_then(u32_of).unwrap_or(0)
    }

    /// The kind's name (`TCA_KIND`), empty if absent.
    pub fn kind(&self) -> &str {
        self.m.attr(tca::KIND).and_then(str_of).unwrap_or("")
    }

    /// The kind with its options, typed ([`FilterKind::Other`] for kinds
    /// this crate does not type).
    pub fn options(&self) -> FilterKind {
        FilterKind::decode(self.kind(), self.m.attr(tca::OPTIONS))
    }

    /// `tc -s` counters of the filter itself, when the kernel sends
    /// TCA_STATS2 (most classifiers count in their actions instead: see
    /// [`action_stats`](Self::action_stats)).
    pub fn stats(&self) -> Stats {
        Stats::decode(self.m.attr(tca::STATS2), self.m.attr(tca::STATS)).unwrap_or_default()
    }

    /// The counters of each attached action, in order.
    pub fn action_stats(&self) -> Vec<ActionStats> {
        let Some(opts) = self.m.attr(tca::OPTIONS) else {
            return vec![];
        };
        let act = match self.kind() {
            "u32" => 7,
            "bpf" => 1,
            "matchall" => 2,
            _ => return vec![],
        };
        nested_get(opts, act).map_or(vec![], decode_action_stats)
    }

    /// Offloaded to hardware (`TCA_HW_OFFLOAD`).
    pub fn offloaded(&self) -> bool {
        self.m
            .attr(tca::HW_OFFLOAD)
            .is_some_and(|v| v.first() == Some(&1))
    }
}

super::awaited_by_run!(FilterChange => (), FilterDel => (), FilterGet => Filter);
