//! `ip stats`: a link's statistics by group (RTM_GETSTATS): the 64-bit
//! link counters, the kind's own (bridge, bond) as master and as port, and
//! offload counters. netlink-packet-route cannot decode RTM_NEWSTATS, so
//! requests and replies are written and read here, on the client's
//! NETLINK_ROUTE connection.

mod decode;

pub use decode::{
    Bond3adStats, BridgeMcastStats, BridgeStpStats, BridgeVlanStats, BridgeXstats, HwStats64,
    HwStatsInfo, LinkStats, OffloadStats, RxTx, Stats64, Xstats,
};

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use crate::client::Netlink;
use crate::conn::requester::retry_interrupted;
use crate::conn::{RawMessage, Requester};
use crate::error::{Context, Error, RequestKind, Result, ResultExt};
use crate::route::link::{LinkHandle, LinkId};
use crate::route::tc::{Tc, TcMessage};
use decode::ifla;

const RTM_NEWSTATS: u16 = 92;
const RTM_GETSTATS: u16 = 94;
const REQ: RequestKind = RequestKind {
    message_type: RTM_GETSTATS,
    name: Some("RTM_GETSTATS"),
};

/// A group of statistics (`ip stats show group GROUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsGroup {
    /// `link`: [`Stats64`].
    Link,
    /// `xstats`: the device's kind's own ([`Xstats`]).
    Xstats,
    /// `xstats_slave`: the device's as a port of its master.
    XstatsSlave,
    /// `offload`: [`OffloadStats`].
    Offload,
}

impl StatsGroup {
    /// The filter_mask bit: IFLA_STATS_FILTER_BIT(attribute).
    fn bit(self) -> u32 {
        let attr = match self {
            StatsGroup::Link => ifla::LINK_64,
            StatsGroup::Xstats => ifla::LINK_XSTATS,
            StatsGroup::XstatsSlave => ifla::LINK_XSTATS_SLAVE,
            StatsGroup::Offload => ifla::LINK_OFFLOAD_XSTATS,
        };
        1 << (attr - 1)
    }

    const ALL: [StatsGroup; 4] = [
        StatsGroup::Link,
        StatsGroup::Xstats,
        StatsGroup::XstatsSlave,
        StatsGroup::Offload,
    ];
}

impl LinkStats {
    /// Decodes an RTM_NEWSTATS message; anything else, or a malformed one,
    /// is [`Error::Decode`].
    pub fn from_raw(raw: RawMessage) -> Result<LinkStats> {
        let ty = raw.header.ty;
        let parsed = if ty == RTM_NEWSTATS {
            LinkStats::parse(raw.payload())
        } else {
            None
        };
        parsed.ok_or_else(|| Error::Decode {
            request: REQ,
            reason: format!(
                "expected link statistics (type {RTM_NEWSTATS}), got type {ty} of {} bytes",
                raw.bytes.len()
            ),
        })
    }
}

/// struct if_stats_msg (family 0, pads 0), then nothing: every subgroup
/// of the groups in `mask`.
fn request(ifindex: u32, mask: u32) -> TcMessage {
    let mut payload = vec![0; 4];
    payload.extend_from_slice(&ifindex.to_ne_bytes());
    payload.extend_from_slice(&mask.to_ne_bytes());
    // TcMessage is the crate's raw NETLINK_ROUTE payload, whatever the
    // family.
    TcMessage {
        message_type: RTM_GETSTATS,
        payload,
    }
}

fn mask_of(groups: &[StatsGroup]) -> u32 {
    let groups = if groups.is_empty() {
        &StatsGroup::ALL[..]
    } else {
        groups
    };
    groups.iter().fold(0, |m, g| m | g.bit())
}

/// Link statistics (`ip stats`), in the client's namespace. Get one with
/// [`Netlink::stats`].
#[derive(Debug, Clone)]
pub struct StatsHandle {
    req: Requester<Tc>,
    links: LinkHandle,
}

impl Netlink {
    /// Link statistics by group (`ip stats show`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::route::stats::StatsGroup;
    /// let nl = tokio_netlink::Netlink::new();
    /// let s = nl.stats().get("eth0").group(StatsGroup::Link).await?;
    /// if let Some(c) = s.link64 {
    ///     println!("rx {} bytes, tx {} bytes", c.rx_bytes, c.tx_bytes);
    /// }
    /// for s in nl.stats().list().group(StatsGroup::XstatsSlave).await? {
    ///     let stp = s.xstats_slave.and_then(|x| x.bridge).and_then(|b| b.stp);
    ///     println!("{}: {stp:?}", s.ifindex);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> StatsHandle {
        StatsHandle {
            req: self.requester::<Tc>(),
            links: self.link(),
        }
    }
}

impl StatsHandle {
    /// `ip stats show dev DEV`: one device's statistics, every group
    /// unless [`StatsGet::group`] names some. Index 0 is refused
    /// (`"dev"`); a missing device is `is_not_found()` naming it.
    pub fn get(&self, dev: impl Into<LinkId>) -> StatsGet {
        StatsGet {
            handle: self.clone(),
            dev: dev.into(),
            groups: Vec::new(),
        }
    }

    /// `ip stats show`: every device's statistics.
    pub fn list(&self) -> StatsList {
        StatsList {
            handle: self.clone(),
            groups: Vec::new(),
        }
    }
}

/// One device's statistics; `.await` it. See [`StatsHandle::get`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct StatsGet {
    handle: StatsHandle,
    dev: LinkId,
    groups: Vec<StatsGroup>,
}

impl StatsGet {
    /// `group GROUP`: asks for this group (repeat for more).
    pub fn group(mut self, g: StatsGroup) -> Self {
        self.groups.push(g);
        self
    }

    async fn run(self) -> Result<LinkStats> {
        let ctx = Context::new("stats show", format!("dev {}", self.dev));
        if self.dev == LinkId::Index(0) {
            return Err(Error::invalid("dev", "index 0 names no device"));
        }
        let (links, dev) = (&self.handle.links, &self.dev);
        let index = links.lookup(dev, Some("dev")).await.within(&ctx)?;
        let msg = request(index, mask_of(&self.groups));
        let raw = match self.handle.req.get_raw(msg, 0).await {
            // An index the kernel does not know: ENODEV, the missing link.
            Err(e) => Err(e.for_link(dev, Some("dev"))),
            r => r,
        };
        LinkStats::from_raw(raw.within(&ctx)?).within(&ctx)
    }
}

impl IntoFuture for StatsGet {
    type Output = Result<LinkStats>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<LinkStats>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Every device's statistics; `.await` it for a `Vec` or call
/// [`stream`](Self::stream). See [`StatsHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct StatsList {
    handle: StatsHandle,
    groups: Vec<StatsGroup>,
}

impl StatsList {
    /// `group GROUP`: asks for this group (repeat for more; none: all).
    pub fn group(mut self, g: StatsGroup) -> Self {
        self.groups.push(g);
        self
    }

    /// The devices' statistics as a stream. A message of another type in
    /// the dump is skipped; a malformed one is an error item, and the
    /// stream goes on after it.
    pub fn stream(self) -> impl Stream<Item = Result<LinkStats>> + Send + 'static {
        let msg = request(0, mask_of(&self.groups));
        self.handle.req.dump_raw(msg, 0).filter_map(|r| {
            futures::future::ready(match r {
                Ok(raw) => (raw.header.ty == RTM_NEWSTATS).then(|| LinkStats::from_raw(raw)),
                Err(e) => Some(Err(e)),
            })
        })
    }
}

impl IntoFuture for StatsList {
    type Output = Result<Vec<LinkStats>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<LinkStats>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

#[cfg(test)]
mod tests;
