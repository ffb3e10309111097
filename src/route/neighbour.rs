//! `ip neigh` and `bridge fdb`: neighbour (ARP/NDP) and forwarding entries.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::IpAddr;
use std::pin::Pin;

use futures::{Stream, TryStreamExt};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::client::Netlink;
use crate::conn::mapped::MappedDump;
use crate::conn::requester::{decode, retry_interrupted};
use crate::conn::{RawMessage, Requester};
use crate::error::{Error, RequestKind, Result};
use crate::route::Route as Rtnl;
use crate::route::address::Family;
use crate::route::attrs::{self, Indexed};
use crate::route::link::{LinkHandle, LinkId, MacAddr};

const RTM_NEWNEIGH: u16 = 28;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NDA_VLAN: u16 = 5;
const NDA_PORT: u16 = 6;
const NDA_VNI: u16 = 7;
const NDA_MASTER: u16 = 9;
const AF_BRIDGE: u8 = 7;
const REQ: RequestKind = RequestKind {
    message_type: 30,
    name: Some("RTM_GETNEIGH"),
};

/// `ip`'s name of a NUD state set (`REACHABLE`, `STALE`, `PERMANENT`…).
pub fn state_names(state: u16) -> Vec<&'static str> {
    const NAMES: [(u16, &str); 8] = [
        (0x01, "INCOMPLETE"),
        (0x02, "REACHABLE"),
        (0x04, "STALE"),
        (0x08, "DELAY"),
        (0x10, "PROBE"),
        (0x20, "FAILED"),
        (0x40, "NOARP"),
        (0x80, "PERMANENT"),
    ];
    NAMES
        .iter()
        .filter(|(b, _)| state & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Parses `ip`'s `nud` names: permanent, noarp, reachable, stale, none,
/// incomplete, delay, probe, failed.
pub fn parse_state(s: &str) -> Result<NeighbourState> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "permanent" => NeighbourState::Permanent,
        "noarp" => NeighbourState::Noarp,
        "reachable" => NeighbourState::Reachable,
        "stale" => NeighbourState::Stale,
        "none" => NeighbourState::None,
        "incomplete" => NeighbourState::Incomplete,
        "delay" => NeighbourState::Delay,
        "probe" => NeighbourState::Probe,
        "failed" => NeighbourState::Failed,
        _ => return Err(Error::invalid("nud", format!("{s:?} is not a NUD state"))),
    })
}

/// A neighbour or FDB entry as the kernel reported it.
#[derive(Clone)]
pub struct Neighbour {
    m: Indexed<16>,
}

impl fmt::Debug for Neighbour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Neighbour")
            .field("index", &self.index())
            .field("destination", &self.destination())
            .field("lladdr", &self.lladdr())
            .field("state", &state_names(self.state()))
            .finish()
    }
}

impl Neighbour {
    /// Wraps an RTM_NEWNEIGH message.
    pub fn from_raw(raw: RawMessage) -> Result<Neighbour> {
        Indexed::new(raw, RTM_NEWNEIGH, 12, REQ).map(|m| Neighbour { m })
    }

    fn attr(&self, ty: u16) -> Option<&[u8]> {
        self.m.attr(ty)
    }

    /// The address family byte (AF_INET, AF_INET6, AF_BRIDGE = 7).
    pub fn family_raw(&self) -> u8 {
        self.m.fixed(0)
    }

    /// True for a bridge FDB entry.
    pub fn is_fdb(&self) -> bool {
        self.family_raw() == AF_BRIDGE
    }

    /// Index of the device.
    pub fn index(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// NUD_* state bits.
    pub fn state(&self) -> u16 {
        u16::from_ne_bytes([self.m.fixed(8), self.m.fixed(9)])
    }

    /// NTF_* flags (router, proxy, self, master, extern_learn…).
    pub fn flags(&self) -> NeighbourFlags {
        NeighbourFlags::from_bits_retain(self.m.fixed(10))
    }

    /// The IP address (the remote VTEP for a vxlan FDB entry).
    pub fn destination(&self) -> Option<IpAddr> {
        self.attr(NDA_DST).and_then(attrs::ip_of)
    }

    /// The link-layer address.
    pub fn lladdr(&self) -> Option<&[u8]> {
        self.attr(NDA_LLADDR)
    }

    /// The link-layer address, when a 6-byte MAC.
    pub fn mac(&self) -> Option<MacAddr> {
        self.lladdr().and_then(|b| MacAddr::try_from(b).ok())
    }

    /// FDB: the VLAN.
    pub fn vlan(&self) -> Option<u16> {
        self.attr(NDA_VLAN)
            .and_then(|v| Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?)))
    }

    /// FDB (vxlan): the VNI.
    pub fn vni(&self) -> Option<u32> {
        self.attr(NDA_VNI).and_then(attrs::u32_of)
    }

    /// FDB (vxlan): the UDP port, host order.
    pub fn port(&self) -> Option<u16> {
        self.attr(NDA_PORT)
            .and_then(|v| Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?)))
    }

    /// FDB: the master (bridge) index.
    pub fn master(&self) -> Option<u32> {
        self.attr(NDA_MASTER).and_then(attrs::u32_of)
    }

    /// The whole message decoded by netlink-packet-route.
    pub fn message(&self) -> Result<NeighbourMessage> {
        match decode::<Rtnl>(&self.m.raw, REQ)? {
            RouteNetlinkMessage::NewNeighbour(m) | RouteNetlinkMessage::DelNeighbour(m) => Ok(m),
            other => Err(Error::Decode {
                request: REQ,
                reason: format!("expected a neighbour, got {other:?}"),
            }),
        }
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}

/// Neighbour operations (`ip neigh`, `bridge fdb`). Get one with
/// [`Netlink::neighbour`].
#[derive(Debug, Clone)]
pub struct NeighbourHandle {
    rtnl: Requester<Rtnl>,
    links: LinkHandle,
}

impl Netlink {
    /// Neighbour operations (`ip neigh`, `bridge fdb`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.neighbour()
    ///     .add("eth0", "192.0.2.7".parse().unwrap())
    ///     .lladdr("02:00:00:00:00:07".parse()?)
    ///     .await?;
    /// for n in nl.neighbour().list().dev("eth0").await? {
    ///     println!("{:?} {:?}", n.destination(), n.mac());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn neighbour(&self) -> NeighbourHandle {
        NeighbourHandle {
            rtnl: self.rtnl(),
            links: self.link(),
        }
    }
}

impl NeighbourHandle {
    /// `ip neigh add ADDR dev D …` (default state permanent, as `ip`).
    pub fn add(&self, dev: impl Into<LinkId>, addr: IpAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::Ip(addr), Op::Add)
    }

    /// `ip neigh replace ADDR dev D …`.
    pub fn replace(&self, dev: impl Into<LinkId>, addr: IpAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::Ip(addr), Op::Replace)
    }

    /// `ip neigh del ADDR dev D` (add `.proxy()` for a proxy entry).
    pub fn del(&self, dev: impl Into<LinkId>, addr: IpAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::Ip(addr), Op::Del)
    }

    /// `bridge fdb add MAC dev D …` (choose `.master()` or `.self_()`).
    pub fn fdb_add(&self, dev: impl Into<LinkId>, mac: MacAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::Mac(mac), Op::Add)
    }

    /// `bridge fdb append MAC dev D …` (vxlan: several remotes for one MAC).
    pub fn fdb_append(&self, dev: impl Into<LinkId>, mac: MacAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::Mac(mac), Op::Append)
    }

    /// `bridge fdb del MAC dev D …`.
    pub fn fdb_del(&self, dev: impl Into<LinkId>, mac: MacAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::Mac(mac), Op::Del)
    }

    /// Lists neighbours (IPv4 and IPv6 unless filtered), or FDB entries
    /// with [`NeighbourList::fdb`], or proxy entries with
    /// [`NeighbourList::proxy`].
    pub fn list(&self) -> NeighbourList {
        NeighbourList {
            handle: self.clone(),
            family: None,
            dev: None,
            fdb: false,
            proxy: false,
        }
    }
}

/// A neighbour listing; see [`NeighbourHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct NeighbourList {
    handle: NeighbourHandle,
    family: Option<Family>,
    dev: Option<LinkId>,
    fdb: bool,
    proxy: bool,
}

impl NeighbourList {
    /// Only IPv4 or IPv6 entries.
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// Only entries on this device (filtered by the kernel).
    pub fn dev(mut self, d: impl Into<LinkId>) -> Self {
        self.dev = Some(d.into());
        self
    }

    /// Bridge FDB entries (AF_BRIDGE) instead of neighbours.
    pub fn fdb(mut self) -> Self {
        self.fdb = true;
        self
    }

    /// Proxy entries (`ip neigh show proxy`).
    pub fn proxy(mut self) -> Self {
        self.proxy = true;
        self
    }

    /// The entries as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Neighbour>> + Send + 'static {
        MappedDump::new(async move {
            let mut m = NeighbourMessage::default();
            m.header.family = match (self.fdb, self.family) {
                (true, _) => AddressFamily::Bridge,
                (false, Some(f)) => f.raw(),
                (false, None) => AddressFamily::Unspec,
            };
            if self.proxy {
                m.header.flags = NeighbourFlags::Proxy;
            }
            let oif = match &self.dev {
                Some(d) => {
                    let i = self.handle.links.index_of(d).await?;
                    m.attributes.push(NeighbourAttribute::IfIndex(i));
                    Some(i)
                }
                None => None,
            };
            let fdb = self.fdb;
            let dump = self
                .handle
                .rtnl
                .dump_raw(RouteNetlinkMessage::GetNeighbour(m), 0);
            Ok((dump, move |raw| match Neighbour::from_raw(raw) {
                Ok(n) => {
                    (oif.is_none_or(|o| n.index() == o) && (fdb || !n.is_fdb())).then_some(Ok(n))
                }
                Err(e) => Some(Err(e)),
            }))
        })
    }
}

impl IntoFuture for NeighbourList {
    type Output = Result<Vec<Neighbour>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Neighbour>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Ip(IpAddr),
    Mac(MacAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Append,
    Del,
}

/// Builder of `ip neigh add|replace|del` and `bridge fdb add|append|del`;
/// `.await` it.
#[must_use = "nothing happens until the builder is awaited"]
#[derive(Debug)]
pub struct NeighbourAdd {
    handle: NeighbourHandle,
    dev: LinkId,
    target: Target,
    op: Op,
    lladdr: Option<MacAddr>,
    state: Option<NeighbourState>,
    flags: NeighbourFlags,
    fdb_dst: Option<IpAddr>,
    vlan: Option<u16>,
    vni: Option<u32>,
    port: Option<u16>,
}

impl NeighbourAdd {
    fn new(handle: NeighbourHandle, dev: LinkId, target: Target, op: Op) -> Self {
        NeighbourAdd {
            handle,
            dev,
            target,
            op,
            lladdr: None,
            state: None,
            flags: NeighbourFlags::empty(),
            fdb_dst: None,
            vlan: None,
            vni: None,
            port: None,
        }
    }

    /// `lladdr MAC`.
    pub fn lladdr(mut self, mac: MacAddr) -> Self {
        self.lladdr = Some(mac);
        self
    }

    /// `nud STATE` (default: permanent).
    pub fn state(mut self, s: NeighbourState) -> Self {
        self.state = Some(s);
        self
    }

    /// `router`: the neighbour is a router (IPv6).
    pub fn router(mut self) -> Self {
        self.flags |= NeighbourFlags::Router;
        self
    }

    /// `proxy`: a proxy ARP/NDP entry.
    pub fn proxy(mut self) -> Self {
        self.flags |= NeighbourFlags::Proxy;
        self
    }

    /// FDB `master`: the entry goes to the bridge the device is a port of.
    pub fn master(mut self) -> Self {
        self.flags |= NeighbourFlags::Controller;
        self
    }

    /// FDB `self`: the entry goes to the device's own table (vxlan).
    pub fn self_(mut self) -> Self {
        self.flags |= NeighbourFlags::Own;
        self
    }

    /// FDB `extern_learn`.
    pub fn extern_learn(mut self) -> Self {
        self.flags |= NeighbourFlags::ExtLearned;
        self
    }

    /// FDB `dst ADDR`: the remote VTEP of a vxlan entry.
    pub fn dst(mut self, a: IpAddr) -> Self {
        self.fdb_dst = Some(a);
        self
    }

    /// FDB `vlan N`.
    pub fn vlan(mut self, v: u16) -> Self {
        self.vlan = Some(v);
        self
    }

    /// FDB `vni N`.
    pub fn vni(mut self, v: u32) -> Self {
        self.vni = Some(v);
        self
    }

    /// FDB `port P`.
    pub fn port(mut self, p: u16) -> Self {
        self.port = Some(p);
        self
    }

    fn addr(ip: IpAddr) -> NeighbourAddress {
        match ip {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`]
    /// (device names are looked up now).
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        self.request().await
    }

    async fn request(&self) -> Result<(RouteNetlinkMessage, u16)> {
        if let Some(v) = self.vlan
            && (v == 0 || v > 4094)
        {
            return Err(Error::invalid("vlan", format!("{v} is not in 1..=4094")));
        }
        if let Some(v) = self.vni
            && v >= 1 << 24
        {
            return Err(Error::invalid(
                "vni",
                format!("{v} does not fit in 24 bits"),
            ));
        }
        let index = self.handle.links.index_of(&self.dev).await?;
        let mut m = NeighbourMessage::default();
        m.header.ifindex = index;
        m.header.flags = self.flags;
        let proxy = self.flags.contains(NeighbourFlags::Proxy);
        match self.target {
            Target::Ip(ip) => {
                m.header.family = Family::of(&ip).raw();
                m.attributes
                    .push(NeighbourAttribute::Destination(Self::addr(ip)));
                if self.op != Op::Del && !proxy && self.lladdr.is_none() {
                    let noarp = matches!(
                        self.state,
                        Some(
                            NeighbourState::Noarp
                                | NeighbourState::Incomplete
                                | NeighbourState::Failed
                        )
                    );
                    if !noarp {
                        return Err(Error::invalid(
                            "lladdr",
                            "a neighbour entry needs a link-layer address",
                        ));
                    }
                }
            }
            Target::Mac(mac) => {
                m.header.family = AddressFamily::Bridge;
                m.attributes
                    .push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
                if let Some(d) = self.fdb_dst {
                    m.attributes
                        .push(NeighbourAttribute::Destination(Self::addr(d)));
                }
                if let Some(v) = self.vlan {
                    m.attributes.push(NeighbourAttribute::Vlan(v));
                }
                if let Some(v) = self.vni {
                    m.attributes.push(NeighbourAttribute::Vni(v));
                }
                if let Some(p) = self.port {
                    m.attributes.push(NeighbourAttribute::Port(p));
                }
                if !self
                    .flags
                    .intersects(NeighbourFlags::Own | NeighbourFlags::Controller)
                {
                    // `bridge fdb` defaults to `self`.
                    m.header.flags |= NeighbourFlags::Own;
                }
            }
        }
        if let (Target::Ip(_), Some(mac)) = (self.target, self.lladdr) {
            m.attributes
                .push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
        }
        if self.op != Op::Del {
            m.header.state = self.state.unwrap_or(NeighbourState::Permanent);
        }
        let (msg, flags) = match self.op {
            Op::Add => (RouteNetlinkMessage::NewNeighbour(m), 0x400 | 0x200),
            Op::Replace => (RouteNetlinkMessage::NewNeighbour(m), 0x400 | 0x100),
            Op::Append => (RouteNetlinkMessage::NewNeighbour(m), 0x400 | 0x800),
            Op::Del => (RouteNetlinkMessage::DelNeighbour(m), 0),
        };
        Ok((msg, flags))
    }

    async fn run(self) -> Result<()> {
        let (msg, flags) = self.request().await?;
        self.handle.rtnl.ack(msg, flags).await
    }
}

impl IntoFuture for NeighbourAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_and_parsing() {
        assert_eq!(state_names(0x82), vec!["REACHABLE", "PERMANENT"]);
        assert_eq!(u16::from(parse_state("permanent").unwrap()), 0x80);
        assert!(parse_state("sleepy").is_err());
    }
}
