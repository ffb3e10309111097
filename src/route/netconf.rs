//! `ip netconf`: the per-device IP configuration the kernel announces over
//! netlink (forwarding, rp_filter, proxy_arp/proxy_ndp, …; the sysctls of
//! `net.ipv4.conf.DEV` and `net.ipv6.conf.DEV`). netlink-packet-route
//! cannot decode RTM_NEWNETCONF, so requests and replies are written and
//! read here, on the client's NETLINK_ROUTE connection.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use crate::client::Netlink;
use crate::conn::attrs::{Attrs, i32_of};
use crate::conn::requester::retry_interrupted;
use crate::conn::{RawMessage, Requester};
use crate::error::{Context, Error, RequestKind, Result, ResultExt};
use crate::route::link::{Link, LinkHandle, LinkId};
use crate::route::tc::{Tc, TcMessage};
use crate::types::Family;

pub(crate) const RTM_NEWNETCONF: u16 = 80;
pub(crate) const RTM_DELNETCONF: u16 = 81;
const RTM_GETNETCONF: u16 = 82;
/// struct netconfmsg (one byte), padded to 4.
const HEADER: usize = 4;
/// NETCONFA_*, linux/netconf.h.
mod nca {
    pub const IFINDEX: u16 = 1;
    pub const FORWARDING: u16 = 2;
    pub const RP_FILTER: u16 = 3;
    pub const MC_FORWARDING: u16 = 4;
    pub const PROXY_NEIGH: u16 = 5;
    pub const IGNORE_ROUTES_WITH_LINKDOWN: u16 = 6;
    pub const INPUT: u16 = 7;
    pub const BC_FORWARDING: u16 = 8;
}
/// NETCONFA_IFINDEX_ALL / NETCONFA_IFINDEX_DEFAULT.
const IFINDEX_ALL: i32 = -1;
const IFINDEX_DEFAULT: i32 = -2;
const AF_MPLS: u8 = 28;
const REQ: RequestKind = RequestKind {
    message_type: RTM_GETNETCONF,
    name: Some("RTM_GETNETCONF"),
};

/// The family a netconf entry belongs to (`ncm_family`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NetconfFamily {
    /// IPv4 (AF_INET), `ip -4 netconf`: `net.ipv4.conf.*`.
    Inet,
    /// IPv6 (AF_INET6), `ip -6 netconf`: `net.ipv6.conf.*`.
    Inet6,
    /// MPLS (AF_MPLS, with the mpls_router module): `net.mpls.conf.*`.
    Mpls,
    /// Another family number, as a newer kernel might send.
    Other(u8),
}

impl NetconfFamily {
    /// The AF_* number.
    pub fn number(self) -> u8 {
        match self {
            NetconfFamily::Inet => libc::AF_INET as u8,
            NetconfFamily::Inet6 => libc::AF_INET6 as u8,
            NetconfFamily::Mpls => AF_MPLS,
            NetconfFamily::Other(n) => n,
        }
    }

    fn of(n: u8) -> NetconfFamily {
        match n {
            2 => NetconfFamily::Inet,
            10 => NetconfFamily::Inet6,
            AF_MPLS => NetconfFamily::Mpls,
            n => NetconfFamily::Other(n),
        }
    }

    /// Only the three families the kernel serves can be asked for.
    fn check(self) -> Result<u8> {
        match self {
            NetconfFamily::Other(n) => Err(Error::invalid(
                "family",
                format!("{n}: netconf is served for inet (2), inet6 (10) and mpls (28) only"),
            )),
            f => Ok(f.number()),
        }
    }
}

impl From<Family> for NetconfFamily {
    fn from(f: Family) -> Self {
        match f {
            Family::V4 => NetconfFamily::Inet,
            Family::V6 => NetconfFamily::Inet6,
        }
    }
}

/// What a netconf entry is for: a device, or the `all` / `default`
/// entries (`net.ipv4.conf.all`, `net.ipv4.conf.default`). The strings
/// `"all"` and `"default"` convert to those, as `ip netconf show dev all`
/// reads them (the kernel cannot register a device of either name, whose
/// sysctl directory would clash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetconfDev {
    /// A device.
    Link(LinkId),
    /// `all` (NETCONFA_IFINDEX_ALL).
    All,
    /// `default` (NETCONFA_IFINDEX_DEFAULT), what new devices start with.
    Default,
}

impl From<LinkId> for NetconfDev {
    fn from(l: LinkId) -> Self {
        NetconfDev::Link(l)
    }
}

impl From<u32> for NetconfDev {
    fn from(i: u32) -> Self {
        NetconfDev::Link(LinkId::Index(i))
    }
}

impl From<&str> for NetconfDev {
    fn from(n: &str) -> Self {
        match n {
            "all" => NetconfDev::All,
            "default" => NetconfDev::Default,
            n => NetconfDev::Link(n.into()),
        }
    }
}

impl From<String> for NetconfDev {
    fn from(n: String) -> Self {
        n.as_str().into()
    }
}

impl From<&Link> for NetconfDev {
    fn from(l: &Link) -> Self {
        NetconfDev::Link(l.into())
    }
}

impl std::fmt::Display for NetconfDev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetconfDev::Link(l) => l.fmt(f),
            NetconfDev::All => f.write_str("all"),
            NetconfDev::Default => f.write_str("default"),
        }
    }
}

/// Reverse-path filtering (`rp_filter`, IPv4 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum RpFilter {
    /// 0: no source validation.
    Off,
    /// 1: RFC 3704 strict mode.
    Strict,
    /// 2: RFC 3704 loose mode.
    Loose,
    /// Another value (`ip` prints "unknown mode").
    Other(i32),
}

impl RpFilter {
    fn of(v: i32) -> RpFilter {
        match v {
            0 => RpFilter::Off,
            1 => RpFilter::Strict,
            2 => RpFilter::Loose,
            v => RpFilter::Other(v),
        }
    }
}

/// One netconf entry, as `ip netconf` shows it. A dump or a get carries
/// every field its family has; a change notification carries the one
/// that changed (and `ifindex`), so the others are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[non_exhaustive]
pub struct Netconf {
    /// `inet`, `inet6`, `mpls`.
    pub family: NetconfFamily,
    /// The device's index, or -1 for `all` and -2 for `default`; see
    /// [`dev`](Self::dev).
    pub ifindex: i32,
    /// `forwarding on|off`.
    pub forwarding: Option<bool>,
    /// `rp_filter off|strict|loose` (IPv4).
    pub rp_filter: Option<RpFilter>,
    /// `mc_forwarding on|off`: a multicast routing daemon has the device.
    pub mc_forwarding: Option<bool>,
    /// `proxy_neigh on|off`: `proxy_arp` (IPv4) or `proxy_ndp` (IPv6).
    pub proxy_neigh: Option<bool>,
    /// `ignore_routes_with_linkdown on|off`.
    pub ignore_routes_with_linkdown: Option<bool>,
    /// `input on|off` (MPLS: the device accepts labelled packets).
    pub input: Option<bool>,
    /// `bc_forwarding` (IPv4; `ip` does not print it).
    pub bc_forwarding: Option<bool>,
}

impl Netconf {
    /// What the entry is for: `all`, `default`, or a device by index.
    pub fn dev(&self) -> NetconfDev {
        match self.ifindex {
            IFINDEX_ALL => NetconfDev::All,
            IFINDEX_DEFAULT => NetconfDev::Default,
            // A negative index is no device; shown as its bit pattern, as
            // `ip` reads it (u32).
            i => NetconfDev::Link(LinkId::Index(i as u32)),
        }
    }

    /// Decodes an RTM_NEWNETCONF (or RTM_DELNETCONF) message; anything
    /// else, or a message without a well-formed NETCONFA_IFINDEX, is
    /// [`Error::Decode`].
    pub fn from_raw(raw: RawMessage) -> Result<Netconf> {
        let ty = raw.header.ty;
        let parsed = match ty {
            RTM_NEWNETCONF | RTM_DELNETCONF => Netconf::parse(raw.payload()),
            _ => None,
        };
        parsed.ok_or_else(|| Error::Decode {
            request: REQ,
            reason: format!(
                "expected a netconf entry (type {RTM_NEWNETCONF}), got type {ty} of {} bytes",
                raw.bytes.len()
            ),
        })
    }

    /// `payload`: a netconfmsg and its attributes. A known attribute of
    /// the wrong size makes the whole entry malformed.
    fn parse(payload: &[u8]) -> Option<Netconf> {
        let family = NetconfFamily::of(*payload.get(..HEADER)?.first()?);
        let mut n = Netconf {
            family,
            ifindex: 0,
            forwarding: None,
            rp_filter: None,
            mc_forwarding: None,
            proxy_neigh: None,
            ignore_routes_with_linkdown: None,
            input: None,
            bc_forwarding: None,
        };
        let mut ifindex = None;
        for (_, ty, v) in Attrs::new(payload, HEADER) {
            if !(nca::IFINDEX..=nca::BC_FORWARDING).contains(&ty) {
                continue;
            }
            let x = if v.len() == 4 {
                i32_of(v)?
            } else {
                return None;
            };
            let on = Some(x != 0);
            match ty {
                nca::IFINDEX => ifindex = Some(x),
                nca::FORWARDING => n.forwarding = on,
                nca::RP_FILTER => n.rp_filter = Some(RpFilter::of(x)),
                nca::MC_FORWARDING => n.mc_forwarding = on,
                nca::PROXY_NEIGH => n.proxy_neigh = on,
                nca::IGNORE_ROUTES_WITH_LINKDOWN => n.ignore_routes_with_linkdown = on,
                nca::INPUT => n.input = on,
                _ => n.bc_forwarding = on,
            }
        }
        n.ifindex = ifindex?;
        Some(n)
    }
}

/// netconfmsg for `family`, then the attributes.
fn request(family: u8, ifindex: Option<i32>) -> TcMessage {
    let mut payload = vec![family, 0, 0, 0];
    if let Some(i) = ifindex {
        payload.extend_from_slice(&8u16.to_ne_bytes());
        payload.extend_from_slice(&nca::IFINDEX.to_ne_bytes());
        payload.extend_from_slice(&i.to_ne_bytes());
    }
    // TcMessage is the crate's raw NETLINK_ROUTE payload, whatever the
    // family.
    TcMessage {
        message_type: RTM_GETNETCONF,
        payload,
    }
}

/// Netconf queries (`ip netconf`), in the client's namespace. Get one with
/// [`Netlink::netconf`].
#[derive(Debug, Clone)]
pub struct NetconfHandle {
    req: Requester<Tc>,
    links: LinkHandle,
}

impl Netlink {
    /// Per-device IP configuration (`ip netconf`).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::types::Family;
    /// let nl = tokio_netlink::Netlink::new();
    /// let c = nl.netconf().get(Family::V4, "eth0").await?;
    /// println!("forwarding {:?} rp_filter {:?}", c.forwarding, c.rp_filter);
    /// for c in nl.netconf().list().family(Family::V6).await? {
    ///     println!("{} {:?}", c.dev(), c.forwarding);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn netconf(&self) -> NetconfHandle {
        NetconfHandle {
            req: self.requester::<Tc>(),
            links: self.link(),
        }
    }
}

impl NetconfHandle {
    /// `ip -4|-6 netconf show dev DEV`: one entry, for a device or for
    /// `"all"` / `"default"`. A family other than inet, inet6 and mpls is
    /// refused (`"family"`), and so are index 0 and indexes beyond i32
    /// (`"dev"`); a missing device is `is_not_found()` naming it.
    pub async fn get(
        &self,
        family: impl Into<NetconfFamily>,
        dev: impl Into<NetconfDev>,
    ) -> Result<Netconf> {
        let (family, dev) = (family.into(), dev.into());
        let name = match family {
            NetconfFamily::Inet => "-4 ",
            NetconfFamily::Inet6 => "-6 ",
            _ => "",
        };
        let ctx = Context::new("netconf show", format!("{name}dev {dev}"));
        let af = family.check()?;
        let ifindex = match &dev {
            NetconfDev::All => IFINDEX_ALL,
            NetconfDev::Default => IFINDEX_DEFAULT,
            NetconfDev::Link(l) => {
                if let LinkId::Index(i) = l {
                    link_index(*i)?;
                }
                // Looked up by index too: for an index it does not know,
                // IPv6 answers EINVAL rather than ENODEV.
                let link = self.links.fetch(l).await;
                link_index(
                    link.map_err(|e| e.for_link(l, Some("dev")))
                        .within(&ctx)?
                        .index(),
                )?
            }
        };
        let raw = self.req.get_raw(request(af, Some(ifindex)), 0).await;
        let raw = match (raw, &dev) {
            // A device gone since the lookup: ENODEV (IPv4) is reported
            // as the missing link.
            (Err(e), NetconfDev::Link(l)) => Err(e.for_link(l, Some("dev"))),
            (r, _) => r,
        };
        Netconf::from_raw(raw.within(&ctx)?).within(&ctx)
    }

    /// `ip netconf show`: every entry of every family the kernel serves
    /// (narrow it with [`NetconfList::family`]).
    pub fn list(&self) -> NetconfList {
        NetconfList {
            handle: self.clone(),
            family: None,
        }
    }
}

fn link_index(i: u32) -> Result<i32> {
    match i32::try_from(i) {
        Ok(0) => Err(Error::invalid(
            "dev",
            "index 0 names no device (NetconfDev::All and Default name all and default)",
        )),
        Ok(i) => Ok(i),
        Err(_) => Err(Error::invalid(
            "dev",
            format!("index {i} is beyond what NETCONFA_IFINDEX (s32) holds"),
        )),
    }
}

/// A netconf listing; `.await` it for a `Vec` or call
/// [`stream`](Self::stream). See [`NetconfHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct NetconfList {
    handle: NetconfHandle,
    family: Option<NetconfFamily>,
}

impl NetconfList {
    /// `ip -4|-6 netconf show`: one family's entries only.
    pub fn family(mut self, family: impl Into<NetconfFamily>) -> Self {
        self.family = Some(family.into());
        self
    }

    /// The entries as a stream. A message of another type in the dump is
    /// skipped; a malformed netconf message is an error item, and the
    /// stream goes on after it.
    pub fn stream(self) -> impl Stream<Item = Result<Netconf>> + Send + 'static {
        use futures::future::{Either, ready};
        // AF_UNSPEC (0): the kernel walks every family's dump.
        match self.family.map_or(Ok(0), NetconfFamily::check) {
            Ok(af) => Either::Left(
                self.handle
                    .req
                    .dump_raw(request(af, None), 0)
                    .filter_map(|r| ready(dumped(r))),
            ),
            Err(e) => Either::Right(futures::stream::once(ready(Err(e)))),
        }
    }
}

/// A dumped message: an entry, or nothing for a message of another type.
fn dumped(r: Result<RawMessage>) -> Option<Result<Netconf>> {
    match r {
        Ok(raw) => (raw.header.ty == RTM_NEWNETCONF).then(|| Netconf::from_raw(raw)),
        Err(e) => Some(Err(e)),
    }
}

impl IntoFuture for NetconfList {
    type Output = Result<Vec<Netconf>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Netconf>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(b: &mut Vec<u8>, ty: u16, v: i32) {
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(&v.to_ne_bytes());
    }

    /// `inet dev 3 forwarding on rp_filter loose …`, as the kernel sends it.
    fn sample() -> Vec<u8> {
        let mut b = vec![2, 0, 0, 0];
        attr(&mut b, nca::IFINDEX, 3);
        attr(&mut b, nca::FORWARDING, 1);
        attr(&mut b, nca::RP_FILTER, 2);
        attr(&mut b, nca::MC_FORWARDING, 0);
        attr(&mut b, nca::BC_FORWARDING, 0);
        attr(&mut b, nca::PROXY_NEIGH, 1);
        attr(&mut b, nca::IGNORE_ROUTES_WITH_LINKDOWN, 0);
        attr(&mut b, 99, 5);
        b
    }

    #[test]
    fn decodes_an_entry() {
        let n = Netconf::parse(&sample()).unwrap();
        assert_eq!((n.family, n.ifindex), (NetconfFamily::Inet, 3));
        assert_eq!(n.dev(), NetconfDev::Link(LinkId::Index(3)));
        assert_eq!(n.forwarding, Some(true));
        assert_eq!(n.rp_filter, Some(RpFilter::Loose));
        assert_eq!(
            (n.mc_forwarding, n.bc_forwarding),
            (Some(false), Some(false))
        );
        assert_eq!(n.proxy_neigh, Some(true));
        assert_eq!(n.ignore_routes_with_linkdown, Some(false));
        assert_eq!(n.input, None);
        let mut all = vec![10, 0, 0, 0];
        attr(&mut all, nca::IFINDEX, -1);
        attr(&mut all, nca::RP_FILTER, 7);
        let n = Netconf::parse(&all).unwrap();
        assert_eq!((n.family, n.dev()), (NetconfFamily::Inet6, NetconfDev::All));
        assert_eq!(n.rp_filter, Some(RpFilter::Other(7)));
    }

    /// Every field of `part` is the full entry's, or absent.
    fn is_part_of(part: &Netconf, full: &Netconf) -> bool {
        fn sub<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
            a.is_none() || a == b
        }
        part.family == full.family
            && part.ifindex == full.ifindex
            && sub(part.forwarding, full.forwarding)
            && sub(part.rp_filter, full.rp_filter)
            && sub(part.mc_forwarding, full.mc_forwarding)
            && sub(part.proxy_neigh, full.proxy_neigh)
            && sub(
                part.ignore_routes_with_linkdown,
                full.ignore_routes_with_linkdown,
            )
            && sub(part.input, full.input)
            && sub(part.bc_forwarding, full.bc_forwarding)
    }

    #[test]
    fn truncated_or_mangled_input_is_refused_without_panic() {
        let s = sample();
        let full = Netconf::parse(&s).unwrap();
        for n in 0..s.len() {
            match Netconf::parse(&s[..n]) {
                // Before NETCONFA_IFINDEX is whole there is no entry.
                None => assert!(n < 12, "cut at {n}"),
                Some(p) => assert!(n >= 12 && is_part_of(&p, &full), "cut at {n}: {p:?}"),
            }
        }
        let mut short = s.clone();
        short[12] = 6; // FORWARDING's length: a 2-byte value.
        assert_eq!(Netconf::parse(&short), None);
        for m in crate::test_util::mangled(&s, 5000, 3, 0x2545_f491_4f6c_dd1d) {
            let _ = Netconf::parse(&m);
        }
    }

    #[test]
    fn other_message_types_are_not_entries() {
        let mut bytes = crate::conn::frame::tests::msg(RTM_NEWNETCONF, 0, 1, &sample());
        let raw = |b: &[u8]| RawMessage {
            header: crate::conn::frame::Header::parse(b).unwrap(),
            bytes: bytes::Bytes::copy_from_slice(b),
        };
        assert!(Netconf::from_raw(raw(&bytes)).is_ok());
        assert!(dumped(Ok(raw(&bytes))).is_some());
        bytes[4] = 16; // RTM_NEWLINK
        assert!(dumped(Ok(raw(&bytes))).is_none());
        let e = Netconf::from_raw(raw(&bytes)).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e}");
    }

    #[test]
    fn bad_families_and_indexes_are_refused() {
        let e = NetconfFamily::Other(7).check().unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "family",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(NetconfFamily::Mpls.check().unwrap(), 28);
        for bad in [0, i32::MAX as u32 + 1, u32::MAX] {
            let e = link_index(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { field: "dev", .. }), "{e}");
        }
        assert_eq!(link_index(7).unwrap(), 7);
        assert_eq!(NetconfDev::from("all"), NetconfDev::All);
        assert_eq!(NetconfDev::from("default"), NetconfDev::Default);
        assert_eq!(NetconfDev::from("eth0"), NetconfDev::Link("eth0".into()));
    }
}
