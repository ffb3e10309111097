//! `type macvlan|macvtap link DEV mode … [macaddr add|del|set|flush …]
//! [bcqueuelen N]`.

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, InfoMacVtap, LinkInfo, MacVlanMacAddressMode as AddrMode,
    MacVlanMode as RawMode,
};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind, MacAddr};

/// macvlan/macvtap modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacvlanMode {
    /// `private`: no traffic between sub-interfaces.
    Private,
    /// `vepa`: via the external switch.
    Vepa,
    /// `bridge`: switched locally.
    Bridge,
    /// `passthru`: one sub-interface owns the device.
    Passthru,
    /// `source`: by source MAC.
    Source,
}

impl MacvlanMode {
    fn raw(self) -> RawMode {
        match self {
            MacvlanMode::Private => RawMode::Private,
            MacvlanMode::Vepa => RawMode::Vepa,
            MacvlanMode::Bridge => RawMode::Bridge,
            MacvlanMode::Passthru => RawMode::Passthrough,
            MacvlanMode::Source => RawMode::Source,
        }
    }
}

impl std::str::FromStr for MacvlanMode {
    type Err = crate::Error;

    /// Parses `ip`'s spelling: private, vepa, bridge, passthru, source.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "private" => MacvlanMode::Private,
            "vepa" => MacvlanMode::Vepa,
            "bridge" => MacvlanMode::Bridge,
            "passthru" => MacvlanMode::Passthru,
            "source" => MacvlanMode::Source,
            _ => {
                return Err(crate::Error::invalid(
                    "mode",
                    format!("{s:?} is not one of private, vepa, bridge, passthru, source"),
                ));
            }
        })
    }
}

/// `macaddr …`: the source MACs of a `mode source` macvlan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacaddrOp {
    /// `macaddr add MAC`.
    Add(MacAddr),
    /// `macaddr del MAC`.
    Del(MacAddr),
    /// `macaddr set MAC…`: replaces the list (empty: clears it).
    Set(Vec<MacAddr>),
    /// `macaddr flush`.
    Flush,
}

/// What macvlan and macvtap share.
#[derive(Debug, Clone, Default)]
struct Spec {
    link: Option<LinkId>,
    mode: Option<MacvlanMode>,
    macaddr: Option<MacaddrOp>,
    bcqueuelen: Option<u32>,
}

/// The IFLA_MACVLAN_* attributes, built once for both kinds (macvtap's
/// are the same numbers).
enum Attr {
    Mode(RawMode),
    AddrMode(AddrMode),
    Addr([u8; 6]),
    AddrData(Vec<[u8; 6]>),
    BcQueueLen(u32),
}

impl Spec {
    fn refs(&self) -> Vec<LinkId> {
        self.link.iter().cloned().collect()
    }

    fn build(&self, ctx: &KindCtx) -> Result<(Option<u32>, Vec<Attr>)> {
        let link = match &self.link {
            Some(l) => Some(ctx.index(l)?),
            None if ctx.is_change() => None,
            None => return Err(Error::invalid("link", "a new macvlan needs a lower device")),
        };
        if self.macaddr.is_some() && !ctx.is_change() && self.mode != Some(MacvlanMode::Source) {
            // The kernel's EINVAL, explained.
            return Err(Error::invalid(
                "macaddr",
                "only a mode source link has source MACs",
            ));
        }
        let mut out = Vec::new();
        if let Some(m) = self.mode {
            out.push(Attr::Mode(m.raw()));
        }
        match &self.macaddr {
            Some(MacaddrOp::Add(m)) => {
                out.push(Attr::AddrMode(AddrMode::Add));
                out.push(Attr::Addr(m.0));
            }
            Some(MacaddrOp::Del(m)) => {
                out.push(Attr::AddrMode(AddrMode::Del));
                out.push(Attr::Addr(m.0));
            }
            Some(MacaddrOp::Set(list)) => {
                out.push(Attr::AddrMode(AddrMode::Set));
                out.push(Attr::AddrData(list.iter().map(|m| m.0).collect()));
            }
            Some(MacaddrOp::Flush) => out.push(Attr::AddrMode(AddrMode::Flush)),
            None => {}
        }
        if let Some(n) = self.bcqueuelen {
            out.push(Attr::BcQueueLen(n));
        }
        Ok((link, out))
    }
}

fn parts(kind: LinkInfo, data: Option<InfoData>, link: Option<u32>) -> KindParts {
    let mut info = vec![kind];
    info.extend(data.map(LinkInfo::Data));
    KindParts {
        info,
        link,
        ..KindParts::default()
    }
}

macro_rules! setters {
    ($what:literal) => {
        /// `mode MODE`.
        #[inline]
        pub fn mode(mut self, mode: MacvlanMode) -> Self {
            self.0.mode = Some(mode);
            self
        }

        /// `macaddr add|del|set|flush …`: the source MACs of a `mode source`
        /// link (at creation only with `mode(MacvlanMode::Source)`).
        #[inline]
        pub fn macaddr(mut self, op: MacaddrOp) -> Self {
            self.0.macaddr = Some(op);
            self
        }

        /// `bcqueuelen N`: the broadcast/multicast queue length
        /// (kernel 5.11+).
        #[inline]
        pub fn bcqueuelen(mut self, n: u32) -> Self {
            self.0.bcqueuelen = Some(n);
            self
        }

        #[doc = concat!("The parameters of a live ", $what, " to change (`ip link set DEV type ", $what, " …`),")]
        /// for [`LinkSet::kind`](crate::route::link::LinkSet::kind): only
        /// what is set is sent.
        pub fn change() -> Self {
            Self(Spec::default())
        }
    };
}

/// A macvlan on a lower device.
#[derive(Debug, Clone)]
pub struct Macvlan(Spec);

impl Macvlan {
    /// `macvlan link DEV`.
    pub fn new(link: impl Into<LinkId>) -> Self {
        Macvlan(Spec {
            link: Some(link.into()),
            ..Spec::default()
        })
    }

    setters!("macvlan");
}

impl LinkKind for Macvlan {
    fn refs(&self) -> Vec<LinkId> {
        self.0.refs()
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        let (link, attrs) = self.0.build(ctx)?;
        let data: Vec<InfoMacVlan> = attrs
            .into_iter()
            .map(|a| match a {
                Attr::Mode(m) => InfoMacVlan::Mode(m),
                Attr::AddrMode(m) => InfoMacVlan::MacAddrMode(m),
                Attr::Addr(m) => InfoMacVlan::MacAddr(m),
                Attr::AddrData(l) => {
                    InfoMacVlan::MacAddrData(l.into_iter().map(InfoMacVlan::MacAddr).collect())
                }
                Attr::BcQueueLen(n) => InfoMacVlan::BcQueueLen(n),
            })
            .collect();
        let data = (!data.is_empty()).then_some(InfoData::MacVlan(data));
        Ok(parts(LinkInfo::Kind(InfoKind::MacVlan), data, link))
    }
}

/// A macvtap (a macvlan with a tap character device) on a lower device.
#[derive(Debug, Clone)]
pub struct Macvtap(Spec);

impl Macvtap {
    /// `macvtap link DEV`.
    pub fn new(link: impl Into<LinkId>) -> Self {
        Macvtap(Spec {
            link: Some(link.into()),
            ..Spec::default()
        })
    }

    setters!("macvtap");
}

impl LinkKind for Macvtap {
    fn refs(&self) -> Vec<LinkId> {
        self.0.refs()
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        let (link, attrs) = self.0.build(ctx)?;
        let data: Vec<InfoMacVtap> = attrs
            .into_iter()
            .map(|a| match a {
                Attr::Mode(m) => InfoMacVtap::Mode(m),
                Attr::AddrMode(m) => InfoMacVtap::MacAddrMode(m),
                Attr::Addr(m) => InfoMacVtap::MacAddr(m),
                Attr::AddrData(l) => {
                    InfoMacVtap::MacAddrData(l.into_iter().map(InfoMacVtap::MacAddr).collect())
                }
                Attr::BcQueueLen(n) => InfoMacVtap::BcQueueLen(n),
            })
            .collect();
        let data = (!data.is_empty()).then_some(InfoData::MacVtap(data));
        Ok(parts(LinkInfo::Kind(InfoKind::MacVtap), data, link))
    }
}
