//! `ip nexthop add|replace`: the nexthop builder.

use std::future::{Future, IntoFuture};
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;

use netlink_packet_core::Emitable;
use netlink_packet_route::route::RouteProtocol;

use super::view::{GroupType, USER_HZ};
use super::{NexthopHandle, NhWriter, RTM_NEWNEXTHOP, nha};
use crate::conn::flags;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::link::LinkId;
use crate::route::route::{Encap, mpls_encap, seg6_encap};
use crate::route::tc::TcMessage;
use crate::types::{Family, IntoAddr};

/// The most members whose NHA_GROUP fits one attribute (8 bytes each).
const GROUP_MAX: usize = (u16::MAX as usize - 4) / 8;
/// The widest weight `ip nexthop` accepts (it is sent as weight - 1 in a
/// byte).
const WEIGHT_MAX: u32 = 256;

/// One member of a nexthop group: `ID[,WEIGHT]` in `group 1,2/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupMember {
    /// The member nexthop's id.
    pub id: u32,
    /// Its weight: 1 to 256 when sent (1 unless set); the kernel may
    /// report up to 65536.
    pub weight: u32,
}

impl GroupMember {
    /// Member `id` of weight 1.
    pub fn new(id: u32) -> GroupMember {
        GroupMember { id, weight: 1 }
    }

    /// `ID,WEIGHT`: checked (1 to 256) when the builder runs.
    pub fn weight(mut self, w: u32) -> GroupMember {
        self.weight = w;
        self
    }
}

/// Parses `ip nexthop`'s group text, `ID[,WEIGHT][/ID[,WEIGHT]]…`
/// (`"1,2/3"` is id 1 of weight 2 and id 3 of weight 1). Bad text is
/// `InvalidInput` naming `group` or `weight`.
pub fn parse_group(text: &str) -> Result<Vec<GroupMember>> {
    text.split('/')
        .map(|m| {
            let (id, w) = match m.split_once(',') {
                Some((id, w)) => (id, Some(w)),
                None => (m, None),
            };
            let id = id
                .parse()
                .map_err(|_| Error::invalid("group", format!("{id:?} is not a nexthop id")))?;
            let weight = match w {
                Some(w) => w
                    .parse()
                    .map_err(|_| Error::invalid("weight", format!("{w:?} is not a number")))?,
                None => 1,
            };
            Ok(GroupMember { id, weight })
        })
        .collect()
}

/// `type resilient [buckets N] [idle_timer S] [unbalanced_timer S]`.
/// The kernel requires `buckets` when the group is created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resilient {
    /// `buckets N`.
    pub buckets: Option<u16>,
    /// `idle_timer SECONDS`.
    pub idle_timer: Option<u32>,
    /// `unbalanced_timer SECONDS`.
    pub unbalanced_timer: Option<u32>,
}

/// Builder of `ip nexthop add|replace`; `.await` it. See
/// [`NexthopHandle::add`].
#[must_use = "nothing happens until the builder is awaited"]
#[derive(Debug)]
pub struct NexthopAdd {
    handle: NexthopHandle,
    replace: bool,
    id: u32,
    family: Option<Family>,
    gateway: Option<IpAddr>,
    dev: Option<LinkId>,
    onlink: bool,
    blackhole: bool,
    fdb: bool,
    protocol: Option<RouteProtocol>,
    group: Option<Vec<GroupMember>>,
    group_type: Option<GroupType>,
    resilient: Option<Resilient>,
    encap: Option<Encap>,
    /// The first bad input a setter saw, reported when the builder runs.
    error: Option<Error>,
}

impl NexthopAdd {
    pub(crate) fn new(handle: NexthopHandle, id: u32, replace: bool) -> NexthopAdd {
        NexthopAdd {
            handle,
            replace,
            id,
            family: None,
            gateway: None,
            dev: None,
            onlink: false,
            blackhole: false,
            fdb: false,
            protocol: None,
            group: None,
            group_type: None,
            resilient: None,
            encap: None,
            error: None,
        }
    }

    /// `via ADDR`: an address or its text.
    pub fn via(mut self, gw: impl IntoAddr) -> Self {
        match gw.into_addr("via") {
            Ok(a) => self.gateway = Some(a),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// `-4`/`-6`: the family of a nexthop without a gateway (default IPv4,
    /// as `ip nexthop`).
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// `dev D`.
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `onlink`: the gateway is on the link even if no prefix says so.
    pub fn onlink(mut self) -> Self {
        self.onlink = true;
        self
    }

    /// `blackhole`: drop what goes through it (no via, dev or fdb).
    pub fn blackhole(mut self) -> Self {
        self.blackhole = true;
        self
    }

    /// `fdb`: a nexthop (or group) for bridge FDB entries (no dev or
    /// blackhole).
    pub fn fdb(mut self) -> Self {
        self.fdb = true;
        self
    }

    /// `encap mpls LABEL[/LABEL…] [ttl T]`: 1 to 30 labels of 20 bits
    /// (the kernel needs the mpls_iptunnel module).
    pub fn encap_mpls(mut self, labels: &[u32], ttl: Option<u8>) -> Self {
        match mpls_encap(labels, ttl) {
            Ok(e) => self.encap = Some(e),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// `encap seg6 mode encap|inline segs S1,S2…`: 1 to 127 segments.
    pub fn encap_seg6(mut self, encap_mode: bool, segments: &[Ipv6Addr]) -> Self {
        match seg6_encap(encap_mode, segments) {
            Ok(e) => self.encap = Some(e),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// `proto P`.
    pub fn protocol(mut self, p: RouteProtocol) -> Self {
        self.protocol = Some(p);
        self
    }

    /// `group ID[,WEIGHT]/…`: a group of existing nexthops (see
    /// [`parse_group`] for the text form). Weights are 1 to 256.
    pub fn group(mut self, members: impl IntoIterator<Item = GroupMember>) -> Self {
        self.group = Some(members.into_iter().collect());
        self
    }

    /// `type mpath`: a hash-threshold group (the default type).
    pub fn mpath(mut self) -> Self {
        self.group_type = Some(GroupType::Mpath);
        self
    }

    /// `type resilient …`: a resilient group.
    pub fn resilient(mut self, r: Resilient) -> Self {
        self.group_type = Some(GroupType::Resilient);
        self.resilient = Some(r);
        self
    }

    /// `nexthop add id ID [group G | via A] [dev D]`, for errors.
    fn context(&self) -> Context {
        let mut o = format!("id {}", self.id);
        if let Some(g) = &self.group {
            let text: Vec<String> = g
                .iter()
                .map(|m| match m.weight {
                    1 => m.id.to_string(),
                    w => format!("{},{w}", m.id),
                })
                .collect();
            o.push_str(&format!(" group {}", text.join("/")));
        }
        if let Some(g) = self.gateway {
            o.push_str(&format!(" via {g}"));
        }
        if let Some(d) = &self.dev {
            o.push_str(&format!(" dev {d}"));
        }
        if self.blackhole {
            o.push_str(" blackhole");
        }
        let op = if self.replace {
            "nexthop replace"
        } else {
            "nexthop add"
        };
        Context::new(op, o)
    }

    /// Checks the combination before anything is sent, naming the field.
    fn check(&self) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(e.clone_input());
        }
        let single =
            self.gateway.is_some() || self.dev.is_some() || self.onlink || self.encap.is_some();
        if self.blackhole && (single || self.fdb) {
            return Err(Error::invalid(
                "blackhole",
                "a blackhole nexthop takes no via, dev, onlink, encap or fdb",
            ));
        }
        if self.fdb && (self.dev.is_some() || self.encap.is_some()) {
            return Err(Error::invalid(
                "fdb",
                "an fdb nexthop takes no dev or encap",
            ));
        }
        match &self.group {
            Some(g) => {
                if single || self.blackhole {
                    return Err(Error::invalid(
                        "group",
                        "a group takes no via, dev, onlink, encap or blackhole",
                    ));
                }
                if g.is_empty() {
                    return Err(Error::invalid(
                        "group",
                        "a group needs at least one nexthop",
                    ));
                }
                if g.len() > GROUP_MAX {
                    return Err(Error::invalid(
                        "group",
                        format!("{} members; a group holds at most {GROUP_MAX}", g.len()),
                    ));
                }
                if let Some(m) = g.iter().find(|m| m.weight == 0 || m.weight > WEIGHT_MAX) {
                    return Err(Error::invalid(
                        "weight",
                        format!("{} (of id {}) is not in 1..={WEIGHT_MAX}", m.weight, m.id),
                    ));
                }
            }
            None if self.group_type.is_some() => {
                return Err(Error::invalid("type", "only a group has a type"));
            }
            None => {}
        }
        if let (Some(f), Some(g)) = (self.family, self.gateway)
            && Family::of(&g) != f
        {
            return Err(Error::invalid(
                "via",
                format!("{g} is not of the family {f:?}"),
            ));
        }
        Ok(())
    }

    /// Seconds as clock_t, refused when they do not fit 32 bits.
    fn ticks(field: &'static str, secs: u32) -> Result<u32> {
        u32::try_from(u64::from(secs) * USER_HZ).map_err(|_| {
            Error::invalid(
                field,
                format!(
                    "{secs} seconds is more than {}",
                    u64::from(u32::MAX) / USER_HZ
                ),
            )
        })
    }

    /// The request, in `ip nexthop`'s attribute order.
    async fn request(&self) -> Result<TcMessage> {
        self.check()?;
        if let Some(d) = &self.dev {
            d.check()?;
        }
        let family = match (&self.group, self.gateway) {
            (Some(_), _) => 0,
            (None, Some(g)) => Family::of(&g).raw().into(),
            (None, None) => self.family.unwrap_or(Family::V4).raw().into(),
        };
        let nh_flags = if self.onlink {
            crate::route::route::RTNH_F_ONLINK
        } else {
            0
        };
        let proto = self.protocol.map_or(0, u8::from);
        let mut w = NhWriter::new(family, proto, nh_flags);
        if self.id != 0 {
            w.u32(nha::ID, self.id);
        }
        if let Some(g) = &self.group {
            let mut v = Vec::with_capacity(g.len() * 8);
            for m in g {
                v.extend_from_slice(&m.id.to_ne_bytes());
                v.extend_from_slice(&[(m.weight - 1) as u8, 0, 0, 0]);
            }
            w.attr(nha::GROUP, &v);
        }
        if self.blackhole {
            w.attr(nha::BLACKHOLE, &[]);
        }
        if let Some((ty, e)) = &self.encap {
            // The encap's attributes end to end, in a nest flagged
            // NLA_F_NESTED as `ip` sends it; then its type.
            let mut v = vec![0; e.as_slice().buffer_len()];
            e.as_slice().emit(&mut v);
            w.attr(nha::ENCAP | 0x8000, &v);
            w.attr(nha::ENCAP_TYPE, &u16::from(*ty).to_ne_bytes());
        }
        if let Some(g) = self.gateway {
            match g {
                IpAddr::V4(a) => w.attr(nha::GATEWAY, &a.octets()),
                IpAddr::V6(a) => w.attr(nha::GATEWAY, &a.octets()),
            }
        }
        if let Some(d) = &self.dev {
            w.u32(nha::OIF, self.handle.links.lookup(d, Some("dev")).await?);
        }
        if let Some(r) = &self.resilient {
            // A nest, with NLA_F_NESTED as `ip` sends it.
            let mut n = NhWriter { buf: Vec::new() };
            if let Some(b) = r.buckets {
                n.attr(1, &b.to_ne_bytes());
            }
            if let Some(t) = r.idle_timer {
                n.u32(2, Self::ticks("idle_timer", t)?);
            }
            if let Some(t) = r.unbalanced_timer {
                n.u32(3, Self::ticks("unbalanced_timer", t)?);
            }
            w.attr(nha::RES_GROUP | 0x8000, &n.buf);
        }
        if let Some(t) = self.group_type {
            w.attr(nha::GROUP_TYPE, &t.raw().to_ne_bytes());
        }
        if self.fdb {
            w.attr(nha::FDB, &[]);
        }
        Ok(w.message(RTM_NEWNEXTHOP))
    }

    async fn run(self) -> Result<()> {
        let ctx = self.context();
        let m = self.request().await.within(&ctx)?;
        let f = if self.replace {
            flags::CREATE | flags::REPLACE
        } else {
            flags::CREATE | flags::EXCL
        };
        self.handle.req.ack(m, f).await.within(&ctx)
    }
}

impl IntoFuture for NexthopAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_mpls_nexthop_is_sent_as_ip_nexthop_sends_it() {
        // ip nexthop add id 7 encap mpls 100/200 ttl 10 via 192.0.2.2
        // (strace; without dev, which needs a lookup).
        let nl = crate::Netlink::new();
        let add = nl
            .nexthop()
            .add(7)
            .encap_mpls(&[100, 200], Some(10))
            .via("192.0.2.2");
        let m = add.request().await.unwrap();
        let ip: &[u8] = b"\x02\x00\x00\x00\x00\x00\x00\x00\x08\x00\x01\x00\x07\x00\x00\x00\
            \x18\x00\x08\x80\x0c\x00\x01\x00\x00\x06\x40\x00\x00\x0c\x81\x00\
            \x05\x00\x02\x00\x0a\x00\x00\x00\x06\x00\x07\x00\x01\x00\x00\x00\
            \x08\x00\x06\x00\xc0\x00\x02\x02";
        assert_eq!((m.message_type, m.payload.as_slice()), (RTM_NEWNEXTHOP, ip));
        let e = nl
            .nexthop()
            .add(7)
            .encap_mpls(&[1 << 20], None)
            .via("192.0.2.2");
        match e.request().await {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "encap mpls"),
            other => panic!("{other:?}"),
        }
        let e = nl.nexthop().add(7).encap_mpls(&[5], None).blackhole();
        assert!(matches!(
            e.request().await,
            Err(Error::InvalidInput {
                field: "blackhole",
                ..
            })
        ));
    }

    #[test]
    fn group_text_parses_as_ip_nexthop_reads_it() {
        assert_eq!(
            parse_group("1,2/3").unwrap(),
            vec![GroupMember::new(1).weight(2), GroupMember::new(3)]
        );
        for (bad, field) in [
            ("", "group"),
            ("1/x", "group"),
            ("1,y", "weight"),
            ("1,", "weight"),
        ] {
            match parse_group(bad) {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
