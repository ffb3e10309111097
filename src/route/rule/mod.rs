//! `ip rule`: policy routing rules.

mod add;
#[cfg(feature = "serde")]
mod serde;
mod view;

pub use add::RuleAdd;
pub use view::Rule;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use ipnetwork::IpNetwork;
use netlink_packet_route::rule::{
    RuleAction, RuleAttribute, RuleFlags, RuleMessage, RulePortRange, RuleUidRange,
};
use netlink_packet_route::{IpProtocol, RouteNetlinkMessage};

use crate::client::Netlink;
use crate::conn::requester::{decode, retry_interrupted};
use crate::conn::{RawMessage, Requester};
use crate::error::{Error, RequestKind, Result};
use crate::route::Route as Rtnl;
use crate::route::attrs::{self, Indexed};
use crate::route::link::validate_name;
use crate::route::route::names::parse_table;
use crate::types::{Family, IntoPrefix};

const RTM_NEWRULE: u16 = 32;
const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_GOTO: u16 = 4;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_SUPPRESS_IFGROUP: u16 = 13;
const FRA_SUPPRESS_PREFIXLEN: u16 = 14;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FRA_OIFNAME: u16 = 17;
const FRA_L3MDEV: u16 = 19;
const FRA_UID_RANGE: u16 = 20;
const FRA_IP_PROTO: u16 = 22;
const FRA_SPORT_RANGE: u16 = 23;
const FRA_DPORT_RANGE: u16 = 24;
/// FIB_RULE_INVERT.
const INVERT: u32 = 2;
const REQ: RequestKind = RequestKind {
    message_type: 34,
    name: Some("RTM_GETRULE"),
};

/// Rule operations (`ip rule`). Get one with [`Netlink::rule`].
#[derive(Debug, Clone)]
pub struct RuleHandle {
    rtnl: Requester<Rtnl>,
}

impl Netlink {
    /// Rule operations (`ip rule`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.rule().add().from("10.0.0.0/8").table(100).priority(1000).await?;
    /// for r in nl.rule().list().await? {
    ///     println!("{}: table {}", r.priority(), r.table());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn rule(&self) -> RuleHandle {
        RuleHandle { rtnl: self.rtnl() }
    }
}

impl RuleHandle {
    /// `ip rule add …` (defaults as `ip`: action `lookup`, table main).
    pub fn add(&self) -> RuleAdd {
        RuleAdd::new(self.clone(), false)
    }

    /// `ip rule del …`: what is set selects the rule to delete (the first
    /// that matches). Like `ip rule del`, a delete that sets nothing is
    /// refused (`Error::InvalidInput` "selector"): the kernel would delete
    /// the priority-0 `lookup local` rule.
    pub fn del(&self) -> RuleAdd {
        RuleAdd::new(self.clone(), true)
    }

    /// Deletes the rule a listing (or an event) returned, by its own
    /// message (as `ip rule flush` does): every selector and the action
    /// must match, so exactly that rule goes. A missing rule is
    /// `is_not_found()`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// for r in nl.rule().list().await? {
    ///     if r.table() == 100 {
    ///         nl.rule().del_rule(&r).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn del_rule(&self, r: &Rule) -> Result<()> {
        let ctx = crate::error::Context::new("rule del", format!("priority {}", r.priority()))
            .missing("rule");
        use crate::error::ResultExt;
        let m = r.message().within(&ctx)?;
        self.rtnl
            .ack(RouteNetlinkMessage::DelRule(m), 0)
            .await
            .within(&ctx)
    }

    /// Lists rules: IPv4 and then IPv6 ones unless [`RuleList::family`]
    /// picks one (`ip rule` shows IPv4 only).
    pub fn list(&self) -> RuleList {
        RuleList {
            handle: self.clone(),
            family: None,
            table: None,
            priority: None,
            fwmark: None,
        }
    }
}

/// A rule listing; see [`RuleHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct RuleList {
    handle: RuleHandle,
    family: Option<Family>,
    table: Option<u32>,
    priority: Option<u32>,
    fwmark: Option<(u32, u32)>,
}

impl RuleList {
    /// Only IPv4 or IPv6 rules (default: both, IPv4 first).
    #[inline]
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// Only rules that look up (or go to) table `id` (`ip rule show table
    /// ID`; the kernel does not filter rule dumps, so this is done here).
    #[inline]
    pub fn table(mut self, id: u32) -> Self {
        self.table = Some(id);
        self
    }

    /// Only rules of this priority (`ip rule show priority N`).
    #[inline]
    pub fn priority(mut self, p: u32) -> Self {
        self.priority = Some(p);
        self
    }

    /// Only rules matching this `fwmark MARK/MASK` (`ip rule show fwmark
    /// M/K`; a rule without a mask has the mask 0xffffffff).
    #[inline]
    pub fn fwmark(mut self, mark: u32, mask: u32) -> Self {
        self.fwmark = Some((mark, mask));
        self
    }

    fn keeps(&self, r: &Rule) -> bool {
        self.table.is_none_or(|t| r.table() == t)
            && self.priority.is_none_or(|p| r.priority() == p)
            && self
                .fwmark
                .is_none_or(|(m, k)| r.fwmark() == Some(m) && r.fwmask().unwrap_or(u32::MAX) == k)
    }

    /// The rules as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Rule>> + Send + 'static {
        // Two dumps rather than one AF_UNSPEC dump, which would also return
        // the multicast routing rules (RTNL_FAMILY_IPMR).
        match self.family {
            Some(f) => self.dump(f).left_stream(),
            None => {
                let v6 = self.dump(Family::V6);
                self.dump(Family::V4).chain(v6).right_stream()
            }
        }
    }

    fn dump(&self, fam: Family) -> impl Stream<Item = Result<Rule>> + Send + use<> {
        let mut m = RuleMessage::default();
        m.header.family = fam.raw();
        let me = self.clone();
        self.handle
            .rtnl
            .dump_raw(RouteNetlinkMessage::GetRule(m), 0)
            .map(|r| r.and_then(Rule::from_raw))
            .filter(move |r| futures::future::ready(r.as_ref().map_or(true, |r| me.keeps(r))))
    }
}

impl IntoFuture for RuleList {
    type Output = Result<Vec<Rule>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Rule>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}
