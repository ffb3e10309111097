//! `type ipvlan|ipvtap link DEV [mode l2|l3|l3s] [bridge|private|vepa]`.

use netlink_packet_route::link::{
    InfoData, InfoIpVlan, InfoIpVtap, InfoKind, IpVlanFlags, IpVlanMode as RawMode, LinkInfo,
};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// ipvlan/ipvtap modes. The kernel keeps one mode per lower device: every
/// ipvlan on it shares the mode (and the flag) last set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpvlanMode {
    /// `l2`: switching at layer 2 (the default).
    L2,
    /// `l3`: routing at layer 3, no broadcast or multicast.
    L3,
    /// `l3s`: like l3, through netfilter (conntrack) on the lower device.
    L3s,
}

impl std::str::FromStr for IpvlanMode {
    type Err = Error;

    /// Parses `l2`, `l3` or `l3s`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "l2" => Ok(IpvlanMode::L2),
            "l3" => Ok(IpvlanMode::L3),
            "l3s" => Ok(IpvlanMode::L3s),
            _ => Err(Error::invalid(
                "mode",
                format!("{s:?} is not one of l2, l3, l3s"),
            )),
        }
    }
}

/// How ipvlans on one lower device reach each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpvlanFlag {
    /// `bridge`: directly (the default).
    Bridge,
    /// `private`: not at all.
    Private,
    /// `vepa`: only through the external switch.
    Vepa,
}

impl std::str::FromStr for IpvlanFlag {
    type Err = Error;

    /// Parses `bridge`, `private` or `vepa`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bridge" => Ok(IpvlanFlag::Bridge),
            "private" => Ok(IpvlanFlag::Private),
            "vepa" => Ok(IpvlanFlag::Vepa),
            _ => Err(Error::invalid(
                "flag",
                format!("{s:?} is not one of bridge, private, vepa"),
            )),
        }
    }
}

fn raw_mode(m: IpvlanMode) -> RawMode {
    match m {
        IpvlanMode::L2 => RawMode::L2,
        IpvlanMode::L3 => RawMode::L3,
        IpvlanMode::L3s => RawMode::L3S,
    }
}

fn raw_flags(f: IpvlanFlag) -> IpVlanFlags {
    match f {
        IpvlanFlag::Bridge => IpVlanFlags::empty(),
        IpvlanFlag::Private => IpVlanFlags::Private,
        IpvlanFlag::Vepa => IpVlanFlags::Vepa,
    }
}

macro_rules! ipvlan_kind {
    ($(#[$m:meta])* $name:ident, $word:literal, $kind:ident, $attr:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name {
            link: LinkId,
            mode: Option<IpvlanMode>,
            flag: Option<IpvlanFlag>,
        }

        impl $name {
            #[doc = concat!("`", $word, " link DEV`.")]
            pub fn new(link: impl Into<LinkId>) -> Self {
                $name {
                    link: link.into(),
                    mode: None,
                    flag: None,
                }
            }

            /// `mode l2|l3|l3s`.
            pub fn mode(mut self, mode: IpvlanMode) -> Self {
                self.mode = Some(mode);
                self
            }

            /// `bridge`, `private` or `vepa`.
            pub fn flag(mut self, flag: IpvlanFlag) -> Self {
                self.flag = Some(flag);
                self
            }
        }

        impl LinkKind for $name {
            fn refs(&self) -> Vec<LinkId> {
                vec![self.link.clone()]
            }

            fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
                let mut data = Vec::new();
                data.extend(self.mode.map(|m| $attr::Mode(raw_mode(m))));
                data.extend(self.flag.map(|f| $attr::Flags(raw_flags(f))));
                let mut info = vec![LinkInfo::Kind(InfoKind::$kind)];
                if !data.is_empty() {
                    info.push(LinkInfo::Data(InfoData::$kind(data)));
                }
                Ok(KindParts {
                    info,
                    link: Some(ctx.index(&self.link)?),
                    ..KindParts::default()
                })
            }
        }
    };
}

ipvlan_kind!(
    /// An ipvlan on a lower device: shares its MAC address, told apart by IP.
    Ipvlan, "ipvlan", IpVlan, InfoIpVlan
);
ipvlan_kind!(
    /// An ipvtap: an ipvlan with a tap character device.
    Ipvtap, "ipvtap", IpVtap, InfoIpVtap
);
