//! `ip rule add|del`: the builder.

use super::*;
use crate::error::{Context, ResultExt};

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
    pub(super) fn new(handle: RuleHandle, del: bool) -> Self {
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
    #[inline]
    pub fn family(mut self, f: Family) -> Self {
        self.want_family(f, "family");
        self
    }

    fn prefix(mut self, p: impl IntoPrefix, field: &'static str, src: bool) -> Self {
        // `from all` / `default`: no selector at all, so it fits the rule's
        // family whichever it is (iproute2 sends nothing for `all`).
        if p.is_any_default() {
            return self;
        }
        // Host bits are kept as given: the kernel stores and matches with
        // them masked (`ip rule add from 172.16.0.1/16` works and shows
        // the address as typed), unlike a route's destination.
        match p.into_prefix() {
            Ok((ip, len)) => {
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
                self.fail(e.for_field(field));
                self
            }
        }
    }

    /// `from PREFIX`; `"all"` or `"default"` select every source of the
    /// rule's family (the same as not calling it). Host bits may be set:
    /// the kernel keeps them, as `ip rule` does.
    #[inline]
    pub fn from(self, p: impl IntoPrefix) -> Self {
        self.prefix(p, "from", true)
    }

    /// `to PREFIX`; `"all"` or `"default"` as in [`RuleAdd::from`].
    #[inline]
    pub fn to(self, p: impl IntoPrefix) -> Self {
        self.prefix(p, "to", false)
    }

    /// `priority N`.
    #[inline]
    pub fn priority(self, p: u32) -> Self {
        self.attr(RuleAttribute::Priority(p))
    }

    /// `table ID` (`lookup ID`).
    #[inline]
    pub fn table(mut self, id: u32) -> Self {
        self.table = Some(id);
        self
    }

    /// `table NAME`: main, local, default, an rt_tables name or a number.
    #[inline]
    pub fn table_name(mut self, name: &str) -> Self {
        match parse_table(name) {
            Ok(t) => self.table = Some(t),
            Err(e) => self.fail(e),
        }
        self
    }

    /// `goto PRIORITY`.
    #[inline]
    pub fn goto(mut self, target: u32) -> Self {
        self.action = Some(RuleAction::Goto);
        self.attr(RuleAttribute::Goto(target))
    }

    /// The action: to table (default), goto, nop, blackhole, unreachable,
    /// prohibit.
    #[inline]
    pub fn action(mut self, a: RuleAction) -> Self {
        self.action = Some(a);
        self
    }

    /// `fwmark MARK[/MASK]`.
    #[inline]
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
    #[inline]
    pub fn iif(self, name: &str) -> Self {
        self.ifname(name, "iif", true)
    }

    /// `oif NAME`.
    #[inline]
    pub fn oif(self, name: &str) -> Self {
        self.ifname(name, "oif", false)
    }

    /// `tos T`.
    #[inline]
    pub fn tos(mut self, tos: u8) -> Self {
        self.m.header.tos = tos;
        self
    }

    /// `suppress_prefixlength N`.
    #[inline]
    pub fn suppress_prefixlength(self, n: u32) -> Self {
        self.attr(RuleAttribute::SuppressPrefixLen(n))
    }

    /// `suppress_ifgroup G`.
    #[inline]
    pub fn suppress_ifgroup(self, g: u32) -> Self {
        self.attr(RuleAttribute::SuppressIfGroup(g))
    }

    /// `uidrange START-END`.
    #[inline]
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
    #[inline]
    pub fn sport(self, start: u16, end: u16) -> Self {
        self.ports(start, end, "sport", true)
    }

    /// `dport START-END`.
    #[inline]
    pub fn dport(self, start: u16, end: u16) -> Self {
        self.ports(start, end, "dport", false)
    }

    /// `ipproto N` (6 = tcp, 17 = udp…).
    #[inline]
    pub fn ipproto(self, proto: u8) -> Self {
        self.attr(RuleAttribute::IpProtocol(IpProtocol::from(proto)))
    }

    /// `l3mdev`: look up the table of the packet's l3mdev (vrf).
    #[inline]
    pub fn l3mdev(self) -> Self {
        self.attr(RuleAttribute::L3MDev(true))
    }

    /// `not`: invert the selector.
    #[inline]
    pub fn invert(mut self) -> Self {
        self.m.header.flags |= RuleFlags::from_bits_retain(INVERT);
        self
    }

    /// Whether a delete names a rule: the kernel's rule_find treats a 0
    /// table, action, tos, fwmark, ip protocol, port range and prefix
    /// length as "any" (and ignores `not`), so those select nothing.
    fn selects(&self) -> bool {
        let h = &self.m.header;
        let attr = |a: &RuleAttribute| match a {
            RuleAttribute::Source(_) | RuleAttribute::Destination(_) => false,
            RuleAttribute::Iifname(n) | RuleAttribute::Oifname(n) => !n.is_empty(),
            RuleAttribute::FwMark(v) | RuleAttribute::FwMask(v) => *v != 0,
            RuleAttribute::Table(t) => *t != 0,
            // -1 is "unset".
            RuleAttribute::SuppressPrefixLen(v) | RuleAttribute::SuppressIfGroup(v) => {
                *v != u32::MAX
            }
            RuleAttribute::IpProtocol(p) => u8::from(*p) != 0,
            RuleAttribute::SourcePortRange(r) | RuleAttribute::DestinationPortRange(r) => {
                r.start != 0 || r.end != 0
            }
            RuleAttribute::L3MDev(on) => *on,
            _ => true,
        };
        h.src_len != 0
            || h.dst_len != 0
            || h.tos != 0
            || self.table.is_some_and(|t| t != 0)
            || self.action.is_some_and(|a| a != RuleAction::Unspec)
            || self.m.attributes.iter().any(attr)
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`].
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        let ctx = self.context();
        self.request().within(&ctx)
    }

    /// `rule add|del [priority P] [from A] [to B] [iif D] [oif D]
    /// [fwmark M] [table T]`, for errors.
    pub(crate) fn context(&self) -> Context {
        use std::fmt::Write;
        let h = &self.m.header;
        let mut o = String::new();
        for a in &self.m.attributes {
            let _ = match a {
                RuleAttribute::Priority(p) => write!(o, " priority {p}"),
                RuleAttribute::Source(ip) => write!(o, " from {ip}/{}", h.src_len),
                RuleAttribute::Destination(ip) => write!(o, " to {ip}/{}", h.dst_len),
                RuleAttribute::Iifname(d) => write!(o, " iif {d}"),
                RuleAttribute::Oifname(d) => write!(o, " oif {d}"),
                RuleAttribute::FwMark(m) => write!(o, " fwmark {m:#x}"),
                _ => Ok(()),
            };
        }
        if let Some(t) = self.table {
            let _ = write!(o, " table {t}");
        }
        let o = o.trim_start().to_owned();
        if self.del {
            Context::new("rule del", o).missing("rule")
        } else {
            Context::new("rule add", o)
        }
    }

    fn request(mut self) -> Result<(RouteNetlinkMessage, u16)> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        // As `ip rule del` without arguments: the kernel deletes the first
        // rule that matches what is given, and with nothing given that is
        // priority 0, `lookup local`, which local delivery needs.
        if self.del && !self.selects() {
            return Err(Error::invalid(
                "selector",
                "a rule delete needs at least one of priority, from, to, table, fwmark, \
                 iif, oif, … other than the kernel's wildcards (table 0, fwmark 0, a /0 \
                 prefix); with none the kernel deletes the first rule, `lookup local`",
            ));
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
        let ctx = self.context();
        let (msg, flags) = self.request().within(&ctx)?;
        rtnl.ack(msg, flags).await.within(&ctx)
    }
}

impl IntoFuture for RuleAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
