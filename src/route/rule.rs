//! `ip rule`: policy routing rules.

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
use crate::route::address::{Family, IntoPrefix};
use crate::route::attrs::{self, Indexed};
use crate::route::link::validate_name;
use crate::route::route::names::parse_table;

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

/// A policy routing rule as the kernel reported it.
#[derive(Clone)]
pub struct Rule {
    m: Indexed<28>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("priority", &self.priority())
            .field("table", &self.table())
            .field("action", &self.action())
            .finish()
    }
}

fn range16(v: &[u8]) -> Option<(u16, u16)> {
    Some((
        u16::from_ne_bytes(v.get(0..2)?.try_into().ok()?),
        u16::from_ne_bytes(v.get(2..4)?.try_into().ok()?),
    ))
}

impl Rule {
    /// Wraps an RTM_NEWRULE message.
    pub fn from_raw(raw: RawMessage) -> Result<Rule> {
        Indexed::new(raw, RTM_NEWRULE, 12, REQ).map(|m| Rule { m })
    }

    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    fn u32_attr(&self, ty: u16) -> Option<u32> {
        self.m.u32_attr(ty)
    }

    fn h(&self, i: usize) -> u8 {
        self.m.fixed(i)
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        if i32::from(self.h(0)) == libc::AF_INET6 {
            Family::V6
        } else {
            Family::V4
        }
    }

    fn prefix(&self, ty: u16, len: u8) -> Option<IpNetwork> {
        let ip = self.attr(ty).and_then(attrs::ip_of)?;
        IpNetwork::new(ip, len).ok()
    }

    /// `from PREFIX`.
    pub fn source(&self) -> Option<IpNetwork> {
        self.prefix(FRA_SRC, self.h(2))
    }

    /// `to PREFIX`.
    pub fn destination(&self) -> Option<IpNetwork> {
        self.prefix(FRA_DST, self.h(1))
    }

    /// `tos`.
    pub fn tos(&self) -> u8 {
        self.h(3)
    }

    /// The table looked up (FRA_TABLE, else the header's).
    pub fn table(&self) -> u32 {
        self.u32_attr(FRA_TABLE).unwrap_or(u32::from(self.h(4)))
    }

    /// What the rule does.
    pub fn action(&self) -> RuleAction {
        RuleAction::from(self.h(7))
    }

    /// `not`: the selector is inverted.
    pub fn invert(&self) -> bool {
        self.flags() & INVERT != 0
    }

    /// FIB_RULE_* flags.
    pub fn flags(&self) -> u32 {
        self.m.fixed_u32(8)
    }

    /// Priority (preference).
    pub fn priority(&self) -> u32 {
        self.u32_attr(FRA_PRIORITY).unwrap_or(0)
    }

    /// Target priority of a `goto`.
    pub fn goto(&self) -> Option<u32> {
        self.u32_attr(FRA_GOTO)
    }

    /// `fwmark`.
    pub fn fwmark(&self) -> Option<u32> {
        self.u32_attr(FRA_FWMARK)
    }

    /// `fwmark …/MASK`.
    pub fn fwmask(&self) -> Option<u32> {
        self.u32_attr(FRA_FWMASK)
    }

    /// `iif NAME`.
    pub fn iif(&self) -> Option<&str> {
        self.attr(FRA_IIFNAME).and_then(attrs::str_of)
    }

    /// `oif NAME`.
    pub fn oif(&self) -> Option<&str> {
        self.attr(FRA_OIFNAME).and_then(attrs::str_of)
    }

    /// `suppress_prefixlength N`.
    pub fn suppress_prefixlength(&self) -> Option<u32> {
        self.u32_attr(FRA_SUPPRESS_PREFIXLEN)
            .filter(|&v| v != u32::MAX)
    }

    /// `suppress_ifgroup G`.
    pub fn suppress_ifgroup(&self) -> Option<u32> {
        self.u32_attr(FRA_SUPPRESS_IFGROUP)
            .filter(|&v| v != u32::MAX)
    }

    /// `uidrange A-B`.
    pub fn uid_range(&self) -> Option<(u32, u32)> {
        let v = self.attr(FRA_UID_RANGE)?;
        Some((attrs::u32_of(v)?, attrs::u32_of(v.get(4..)?)?))
    }

    /// `sport A-B`.
    pub fn sport_range(&self) -> Option<(u16, u16)> {
        self.attr(FRA_SPORT_RANGE).and_then(range16)
    }

    /// `dport A-B`.
    pub fn dport_range(&self) -> Option<(u16, u16)> {
        self.attr(FRA_DPORT_RANGE).and_then(range16)
    }

    /// `ipproto N`.
    pub fn ip_proto(&self) -> Option<u8> {
        self.attr(FRA_IP_PROTO).and_then(attrs::u8_of)
    }

    /// `l3mdev`.
    pub fn l3mdev(&self) -> bool {
        self.attr(FRA_L3MDEV).and_then(attrs::u8_of).unwrap_or(0) != 0
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<RuleMessage> {
        match decode::<Rtnl>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewRule(m) | RouteNetlinkMessage::DelRule(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected a rule, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}

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

    /// `ip rule del …`: what is set selects the rule(s) to delete.
    pub fn del(&self) -> RuleAdd {
        RuleAdd::new(self.clone(), true)
    }

    /// Lists the rules of a family (IPv4 by default, as `ip rule`).
    pub fn list(&self) -> RuleList {
        RuleList {
            handle: self.clone(),
            family: Family::V4,
        }
    }
}

/// A rule listing; see [`RuleHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct RuleList {
    handle: RuleHandle,
    family: Family,
}

impl RuleList {
    /// IPv4 or IPv6 rules.
    pub fn family(mut self, f: Family) -> Self {
        self.family = f;
        self
    }

    /// The rules as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Rule>> + Send + 'static {
        let mut m = RuleMessage::default();
        m.header.family = self.family.raw();
        self.handle
            .rtnl
            .dump_raw(RouteNetlinkMessage::GetRule(m), 0)
            .map(|r| r.and_then(Rule::from_raw))
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

/// Builder of `ip rule add|del`; `.await` it.
#[must_use = "nothing happens until the builder is awaited"]
#[derive(Debug)]
pub struct RuleAdd {
    handle: RuleHandle,
    del: bool,
    family: Option<Family>,
    m: RuleMessage,
    table: Option<u32>,
    action: Option<RuleAction>,
    error: Option<Error>,
}

impl RuleAdd {
    fn new(handle: RuleHandle, del: bool) -> Self {
        RuleAdd {
            handle,
            del,
            family: None,
            m: RuleMessage::default(),
            table: None,
            action: None,
            error: None,
        }
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    fn want_family(&mut self, f: Family, field: &'static str) {
        match self.family {
            Some(have) if have != f => {
                self.fail(Error::invalid(field, "mixes IPv4 and IPv6 in one rule"))
            }
            _ => self.family = Some(f),
        }
    }

    fn attr(mut self, a: RuleAttribute) -> Self {
        self.m.attributes.push(a);
        self
    }

    /// IPv4 (default) or IPv6, when no prefix says which.
    pub fn family(mut self, f: Family) -> Self {
        self.want_family(f, "family");
        self
    }

    fn prefix(mut self, p: impl IntoPrefix, field: &'static str, src: bool) -> Self {
        match p.into_prefix() {
            Ok((ip, len)) => {
                let net = IpNetwork::new(ip, len).expect("checked prefix");
                if net.network() != ip {
                    self.fail(Error::invalid(
                        field,
                        format!(
                            "{ip}/{len} has host bits set (the network is {}/{len})",
                            net.network()
                        ),
                    ));
                    return self;
                }
                self.want_family(Family::of(&ip), field);
                if src {
                    self.m.header.src_len = len;
                    self.attr(RuleAttribute::Source(ip))
                } else {
                    self.m.header.dst_len = len;
                    self.attr(RuleAttribute::Destination(ip))
                }
            }
            Err(e) => {
                self.fail(e);
                self
            }
        }
    }

    /// `from PREFIX`.
    pub fn from(self, p: impl IntoPrefix) -> Self {
        self.prefix(p, "from", true)
    }

    /// `to PREFIX`.
    pub fn to(self, p: impl IntoPrefix) -> Self {
        self.prefix(p, "to", false)
    }

    /// `priority N`.
    pub fn priority(self, p: u32) -> Self {
        self.attr(RuleAttribute::Priority(p))
    }

    /// `table ID` (`lookup ID`).
    pub fn table(mut self, id: u32) -> Self {
        self.table = Some(id);
        self
    }

    /// `table NAME`: main, local, default, an rt_tables name or a number.
    pub fn table_name(mut self, name: &str) -> Self {
        match parse_table(name) {
            Ok(t) => self.table = Some(t),
            Err(e) => self.fail(e),
        }
        self
    }

    /// `goto PRIORITY`.
    pub fn goto(mut self, target: u32) -> Self {
        self.action = Some(RuleAction::Goto);
        self.attr(RuleAttribute::Goto(target))
    }

    /// The action: to table (default), goto, nop, blackhole, unreachable,
    /// prohibit.
    pub fn action(mut self, a: RuleAction) -> Self {
        self.action = Some(a);
        self
    }

    /// `fwmark MARK[/MASK]`.
    pub fn fwmark(self, mark: u32, mask: Option<u32>) -> Self {
        let s = self.attr(RuleAttribute::FwMark(mark));
        match mask {
            Some(m) => s.attr(RuleAttribute::FwMask(m)),
            None => s,
        }
    }

    fn ifname(mut self, name: &str, field: &'static str, iif: bool) -> Self {
        if let Err(e) = validate_name(field, name) {
            self.fail(e);
            return self;
        }
        let a = if iif {
            RuleAttribute::Iifname(name.into())
        } else {
            RuleAttribute::Oifname(name.into())
        };
        self.attr(a)
    }

    /// `iif NAME`.
    pub fn iif(self, name: &str) -> Self {
        self.ifname(name, "iif", true)
    }

    /// `oif NAME`.
    pub fn oif(self, name: &str) -> Self {
        self.ifname(name, "oif", false)
    }

    /// `tos T`.
    pub fn tos(mut self, tos: u8) -> Self {
        self.m.header.tos = tos;
        self
    }

    /// `suppress_prefixlength N`.
    pub fn suppress_prefixlength(self, n: u32) -> Self {
        self.attr(RuleAttribute::SuppressPrefixLen(n))
    }

    /// `suppress_ifgroup G`.
    pub fn suppress_ifgroup(self, g: u32) -> Self {
        self.attr(RuleAttribute::SuppressIfGroup(g))
    }

    /// `uidrange START-END`.
    pub fn uid_range(mut self, start: u32, end: u32) -> Self {
        if start > end {
            self.fail(Error::invalid("uidrange", format!("{start} > {end}")));
            return self;
        }
        self.attr(RuleAttribute::UidRange(RuleUidRange { start, end }))
    }

    fn ports(mut self, start: u16, end: u16, field: &'static str, src: bool) -> Self {
        if start > end {
            self.fail(Error::invalid(field, format!("{start} > {end}")));
            return self;
        }
        let r = RulePortRange { start, end };
        self.attr(if src {
            RuleAttribute::SourcePortRange(r)
        } else {
            RuleAttribute::DestinationPortRange(r)
        })
    }

    /// `sport START-END`.
    pub fn sport(self, start: u16, end: u16) -> Self {
        self.ports(start, end, "sport", true)
    }

    /// `dport START-END`.
    pub fn dport(self, start: u16, end: u16) -> Self {
        self.ports(start, end, "dport", false)
    }

    /// `ipproto N` (6 = tcp, 17 = udp…).
    pub fn ipproto(self, proto: u8) -> Self {
        self.attr(RuleAttribute::IpProtocol(IpProtocol::from(proto)))
    }

    /// `l3mdev`: look up the table of the packet's l3mdev (vrf).
    pub fn l3mdev(self) -> Self {
        self.attr(RuleAttribute::L3MDev(true))
    }

    /// `not`: invert the selector.
    pub fn invert(mut self) -> Self {
        self.m.header.flags |= RuleFlags::from_bits_retain(INVERT);
        self
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`].
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(mut self) -> Result<(RouteNetlinkMessage, u16)> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut m = self.m;
        m.header.family = self.family.unwrap_or(Family::V4).raw();
        let l3mdev = m
            .attributes
            .iter()
            .any(|a| matches!(a, RuleAttribute::L3MDev(true)));
        let action = match self.action {
            Some(a) => Some(a),
            None if self.del => self.table.map(|_| RuleAction::ToTable),
            None => Some(RuleAction::ToTable),
        };
        if let Some(a) = action {
            m.header.action = a;
        }
        let table = match self.table {
            Some(t) => Some(t),
            // `ip rule add` looks up main unless told otherwise.
            None if !self.del && action == Some(RuleAction::ToTable) && !l3mdev => Some(254),
            None => None,
        };
        if let Some(t) = table {
            m.header.table = if t < 256 { t as u8 } else { 0 };
            m.attributes.push(RuleAttribute::Table(t));
        }
        let (msg, flags) = if self.del {
            (RouteNetlinkMessage::DelRule(m), 0)
        } else {
            (RouteNetlinkMessage::NewRule(m), 0x400 | 0x200)
        };
        Ok((msg, flags))
    }

    async fn run(self) -> Result<()> {
        let rtnl = self.handle.rtnl.clone();
        let (msg, flags) = self.into_request().await?;
        rtnl.ack(msg, flags).await
    }
}

impl IntoFuture for RuleAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
