//! `type macvlan|macvtap link DEV mode …`.

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, InfoMacVtap, LinkInfo, MacVlanMode as RawMode,
};

use crate::error::Result;
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

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

/// A macvlan on a lower device.
#[derive(Debug, Clone)]
pub struct Macvlan {
    link: LinkId,
    mode: Option<MacvlanMode>,
}

impl Macvlan {
    /// `macvlan link DEV`.
    pub fn new(link: impl Into<LinkId>) -> Self {
        Macvlan {
            link: link.into(),
            mode: None,
        }
    }

    /// `mode MODE`.
    #[inline]
    pub fn mode(mut self, mode: MacvlanMode) -> Self {
        self.mode = Some(mode);
        self
    }
}

impl LinkKind for Macvlan {
    fn refs(&self) -> Vec<LinkId> {
        vec![self.link.clone()]
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        let mut info = vec![LinkInfo::Kind(InfoKind::MacVlan)];
        if let Some(m) = self.mode {
            info.push(LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                m.raw(),
            )])));
        }
        Ok(KindParts {
            info,
            link: Some(ctx.index(&self.link)?),
            ..KindParts::default()
        })
    }
}

/// A macvtap (a macvlan with a tap character device) on a lower device.
#[derive(Debug, Clone)]
pub struct Macvtap {
    link: LinkId,
    mode: Option<MacvlanMode>,
}

impl Macvtap {
    /// `macvtap link DEV`.
    pub fn new(link: impl Into<LinkId>) -> Self {
        Macvtap {
            link: link.into(),
            mode: None,
        }
    }

    /// `mode MODE`.
    #[inline]
    pub fn mode(mut self, mode: MacvlanMode) -> Self {
        self.mode = Some(mode);
        self
    }
}

impl LinkKind for Macvtap {
    fn refs(&self) -> Vec<LinkId> {
        vec![self.link.clone()]
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        let mut info = vec![LinkInfo::Kind(InfoKind::MacVtap)];
        if let Some(m) = self.mode {
            info.push(LinkInfo::Data(InfoData::MacVtap(vec![InfoMacVtap::Mode(
                m.raw(),
            )])));
        }
        Ok(KindParts {
            info,
            link: Some(ctx.index(&self.link)?),
            ..KindParts::default()
        })
    }
}
