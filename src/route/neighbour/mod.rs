//! `ip neigh` and `bridge fdb`: neighbour (ARP/NDP) and forwarding entries.

mod add;
#[cfg(feature = "serde")]
mod serde;
mod view;

pub use add::NeighbourAdd;
pub use view::Neighbour;

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
use crate::error::{Context, Error, RequestKind, Result, ResultExt};
use crate::route::Route as Rtnl;
use crate::route::attrs::{self, Indexed};
use crate::route::link::{LinkHandle, LinkId, MacAddr};
use crate::types::Family;
use crate::types::{IntoAddr, Refused, take};

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
    ///     .add("eth0", "192.0.2.7")
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
    /// `ip neigh add ADDR dev D …` (default state permanent, as `ip`); the
    /// address is an `IpAddr` or its text.
    pub fn add(&self, dev: impl Into<LinkId>, addr: impl IntoAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::ip(addr), Op::Add)
    }

    /// `ip neigh replace ADDR dev D …`.
    pub fn replace(&self, dev: impl Into<LinkId>, addr: impl IntoAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::ip(addr), Op::Replace)
    }

    /// `ip neigh del ADDR dev D` (add `.proxy()` for a proxy entry). A
    /// missing entry is `is_not_found()`, displayed as `no such neighbour`.
    pub fn del(&self, dev: impl Into<LinkId>, addr: impl IntoAddr) -> NeighbourAdd {
        NeighbourAdd::new(self.clone(), dev.into(), Target::ip(addr), Op::Del)
    }

    /// Deletes the entry a listing (or an event) returned, by its own
    /// message (as `ip neigh flush` does): neighbour, proxy or FDB entry.
    /// A missing entry is `is_not_found()`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// for n in nl.neighbour().list().await? {
    ///     nl.neighbour().del_neighbour(&n).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn del_neighbour(&self, n: &Neighbour) -> Result<()> {
        let what = match n.destination() {
            Some(ip) => format!("{ip} dev {}", n.index()),
            None => format!("dev {}", n.index()),
        };
        let ctx = Context::new("neigh del", what).missing("neighbour");
        let m = n.message().within(&ctx)?;
        self.rtnl
            .ack(RouteNetlinkMessage::DelNeighbour(m), 0)
            .await
            .within(&ctx)
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

    /// Lists neighbours (IPv4 and IPv6, in one AF_UNSPEC dump, unless
    /// [`NeighbourList::family`] picks one), or FDB entries
    /// with [`NeighbourList::fdb`], or proxy entries with
    /// [`NeighbourList::proxy`].
    pub fn list(&self) -> NeighbourList {
        NeighbourList {
            handle: self.clone(),
            family: None,
            dev: None,
            fdb: false,
            proxy: false,
            nud: None,
            flags: None,
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
    nud: Option<u16>,
    flags: Option<u8>,
}

impl NeighbourList {
    /// Only entries in one of these NUD states, NUD_* bits ORed (0x02
    /// reachable, 0x04 stale, 0x80 permanent, …), as `ip neigh show nud
    /// STATE`; 0 selects the entries with no state (NUD_NONE).
    #[inline]
    pub fn nud(mut self, states: u16) -> Self {
        self.nud = Some(states);
        self
    }

    /// Only entries with all of these NTF_* flags (`extern_learn` 0x10,
    /// `router` 0x80, …).
    #[inline]
    pub fn flags(mut self, flags: u8) -> Self {
        self.flags = Some(flags);
        self
    }

    /// Only IPv4 or IPv6 entries (default: both).
    #[inline]
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// Only entries on this device (filtered by the kernel).
    #[inline]
    pub fn dev(mut self, d: impl Into<LinkId>) -> Self {
        self.dev = Some(d.into());
        self
    }

    /// Bridge FDB entries (AF_BRIDGE) instead of neighbours.
    #[inline]
    pub fn fdb(mut self) -> Self {
        self.fdb = true;
        self
    }

    /// Proxy entries (`ip neigh show proxy`).
    #[inline]
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
                    let ctx = Context::new("neighbour show", format!("dev {d}"));
                    let i = self
                        .handle
                        .links
                        .lookup(d, Some("dev"))
                        .await
                        .within(&ctx)?;
                    m.attributes.push(NeighbourAttribute::IfIndex(i));
                    Some(i)
                }
                None => None,
            };
            let (fdb, nud, flags) = (self.fdb, self.nud, self.flags);
            let keep = move |n: &Neighbour| {
                nud.is_none_or(|s| match s {
                    0 => n.state() == 0,
                    s => n.state() & s != 0,
                }) && flags.is_none_or(|f| n.flags().bits() & f == f)
            };
            let dump = self
                .handle
                .rtnl
                .dump_raw(RouteNetlinkMessage::GetNeighbour(m), 0);
            Ok((dump, move |raw| match Neighbour::from_raw(raw) {
                Ok(n) => (oif.is_none_or(|o| n.index() == o) && (fdb || !n.is_fdb()) && keep(&n))
                    .then_some(Ok(n)),
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

#[derive(Debug, Clone)]
enum Target {
    Ip(IpAddr),
    Mac(MacAddr),
    /// Address text that did not parse, reported when the builder runs.
    Refused(Refused),
}

impl Target {
    fn ip(a: impl IntoAddr) -> Target {
        match take(a, "address") {
            Ok(ip) => Target::Ip(ip),
            Err(r) => Target::Refused(r),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Append,
    Del,
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
