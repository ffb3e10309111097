//! `type ipip|sit [local A] [remote A] [ttl N] [tos N] [dev D]` and
//! `type ip6tnl [mode M] [local A] [remote A] [hoplimit N] [tclass N] …`.

use std::net::IpAddr;

use netlink_packet_route::IpProtocol;
use netlink_packet_route::link::{InfoData, InfoIpTunnel, InfoKind, LinkInfo};

use super::tunnel;
use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// Settings of the IPv4-underlay tunnels, `ipip` and `sit`.
#[derive(Debug, Clone, Default)]
struct V4Params {
    local: Option<IpAddr>,
    remote: Option<IpAddr>,
    ttl: Option<u8>,
    tos: Option<u8>,
    dev: Option<LinkId>,
    external: bool,
}

impl V4Params {
    fn build(&self, word: &str, kind: InfoKind, ctx: &KindCtx) -> Result<KindParts> {
        let (local, remote) = tunnel::v4(word, "ip6tnl", self.local, self.remote)?;
        let mut d = Vec::new();
        d.extend(local.map(|a| InfoIpTunnel::Local(a.into())));
        d.extend(remote.map(|a| InfoIpTunnel::Remote(a.into())));
        d.extend(self.ttl.map(InfoIpTunnel::Ttl));
        d.extend(self.tos.map(InfoIpTunnel::Tos));
        if self.external {
            d.push(InfoIpTunnel::CollectMetadata);
        }
        if let Some(dev) = &self.dev {
            d.push(InfoIpTunnel::Link(ctx.index(dev)?));
        }
        Ok(parts(kind, d))
    }
}

fn parts(kind: InfoKind, data: Vec<InfoIpTunnel>) -> KindParts {
    let mut info = vec![LinkInfo::Kind(kind)];
    if !data.is_empty() {
        info.push(LinkInfo::Data(InfoData::IpTunnel(data)));
    }
    KindParts {
        info,
        ..KindParts::default()
    }
}

macro_rules! v4_tunnel {
    ($(#[$m:meta])* $name:ident, $word:literal, $kind:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            p: V4Params,
        }

        impl $name {
            #[doc = concat!("`type ", $word, "`; endpoints are set with the other methods.")]
            pub fn new() -> Self {
                Self::default()
            }

            /// `local ADDR` (IPv4).
            pub fn local(mut self, addr: impl Into<IpAddr>) -> Self {
                self.p.local = Some(addr.into());
                self
            }

            /// `remote ADDR` (IPv4).
            pub fn remote(mut self, addr: impl Into<IpAddr>) -> Self {
                self.p.remote = Some(addr.into());
                self
            }

            /// `ttl N`; 0 is `inherit`.
            pub fn ttl(mut self, ttl: u8) -> Self {
                self.p.ttl = Some(ttl);
                self
            }

            /// `tos N`; 1 is `inherit`.
            pub fn tos(mut self, tos: u8) -> Self {
                self.p.tos = Some(tos);
                self
            }

            /// `dev DEV`: bind the tunnel to an underlay device.
            pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
                self.p.dev = Some(dev.into());
                self
            }

            /// `external`: flow-based (metadata) mode (collect_md).
            pub fn external(mut self) -> Self {
                self.p.external = true;
                self
            }
        }

        impl LinkKind for $name {
            fn merge_on_change(&self) -> bool {
                true
            }

            fn refs(&self) -> Vec<LinkId> {
                self.p.dev.iter().cloned().collect()
            }

            fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
                self.p.build($word, InfoKind::$kind, ctx)
            }
        }
    };
}

v4_tunnel!(
    /// IPv4 in IPv4 (`type ipip`).
    Ipip, "ipip", IpIp
);
v4_tunnel!(
    /// IPv6 in IPv4 (`type sit`).
    Sit, "sit", SitTun
);

/// What an `ip6tnl` carries (`mode M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip6TnlMode {
    /// `ip6ip6`: IPv6 in IPv6.
    Ip6Ip6,
    /// `ipip6`: IPv4 in IPv6.
    IpIp6,
    /// `any`: both (`ip`'s default).
    Any,
}

impl std::str::FromStr for Ip6TnlMode {
    type Err = Error;

    /// Parses `ip`'s spellings: `ip6ip6`/`ipv6/ipv6`, `ipip6`/`ip4ip6`/
    /// `ip/ipv6`/`ipv4/ipv6`, `any`/`any/ipv6`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ip6ip6" | "ipv6/ipv6" => Ip6TnlMode::Ip6Ip6,
            "ipip6" | "ip4ip6" | "ip/ipv6" | "ipv4/ipv6" => Ip6TnlMode::IpIp6,
            "any" | "any/ipv6" => Ip6TnlMode::Any,
            _ => {
                return Err(Error::invalid(
                    "mode",
                    format!("{s:?} is not one of ip6ip6, ipip6, any"),
                ));
            }
        })
    }
}

/// IPv4 or IPv6 in IPv6 (`type ip6tnl`).
#[derive(Debug, Clone, Default)]
pub struct Ip6Tnl {
    mode: Option<Ip6TnlMode>,
    local: Option<IpAddr>,
    remote: Option<IpAddr>,
    hoplimit: Option<u8>,
    encaplimit: Option<u8>,
    tclass: Option<u8>,
    flowlabel: Option<u32>,
    dev: Option<LinkId>,
    external: bool,
}

impl Ip6Tnl {
    /// `type ip6tnl`; endpoints are set with the other methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// `mode ip6ip6|ipip6|any` (default `any`, as `ip` sends).
    #[inline]
    pub fn mode(mut self, mode: Ip6TnlMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// `local ADDR` (IPv6).
    #[inline]
    pub fn local(mut self, addr: impl Into<IpAddr>) -> Self {
        self.local = Some(addr.into());
        self
    }

    /// `remote ADDR` (IPv6).
    #[inline]
    pub fn remote(mut self, addr: impl Into<IpAddr>) -> Self {
        self.remote = Some(addr.into());
        self
    }

    /// `hoplimit N` (alias `ttl`; default 64, as `ip` sends); 0 is `inherit`.
    #[inline]
    pub fn ttl(mut self, hoplimit: u8) -> Self {
        self.hoplimit = Some(hoplimit);
        self
    }

    /// `encaplimit N` (default 4, as `ip` sends).
    #[inline]
    pub fn encaplimit(mut self, limit: u8) -> Self {
        self.encaplimit = Some(limit);
        self
    }

    /// `tclass N`: the outer traffic class.
    #[inline]
    pub fn tclass(mut self, tclass: u8) -> Self {
        self.tclass = Some(tclass);
        self
    }

    /// `flowlabel N` (20 bits).
    #[inline]
    pub fn flowlabel(mut self, label: u32) -> Self {
        self.flowlabel = Some(label);
        self
    }

    /// `dev DEV`: bind the tunnel to an underlay device.
    #[inline]
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `external`: flow-based (metadata) mode (collect_md).
    #[inline]
    pub fn external(mut self) -> Self {
        self.external = true;
        self
    }
}

impl LinkKind for Ip6Tnl {
    fn merge_on_change(&self) -> bool {
        true
    }

    fn refs(&self) -> Vec<LinkId> {
        self.dev.iter().cloned().collect()
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        let (local, remote) = tunnel::v6("ip6tnl", "ipip or sit", self.local, self.remote)?;
        // `ip`'s defaults on creation; a change keeps the link's values.
        let change = ctx.is_change();
        let mode = if change {
            self.mode
        } else {
            Some(self.mode.unwrap_or(Ip6TnlMode::Any))
        };
        let mut d = Vec::new();
        d.extend(mode.map(|m| {
            InfoIpTunnel::Protocol(match m {
                Ip6TnlMode::Ip6Ip6 => IpProtocol::Ipv6,
                Ip6TnlMode::IpIp6 => IpProtocol::Ipip,
                Ip6TnlMode::Any => IpProtocol::from(0u8),
            })
        }));
        d.extend(local.map(|a| InfoIpTunnel::Local(a.into())));
        d.extend(remote.map(|a| InfoIpTunnel::Remote(a.into())));
        if change {
            d.extend(self.hoplimit.map(InfoIpTunnel::Ttl));
            d.extend(self.encaplimit.map(InfoIpTunnel::EncapLimit));
        } else {
            d.push(InfoIpTunnel::Ttl(self.hoplimit.unwrap_or(64)));
            d.push(InfoIpTunnel::EncapLimit(self.encaplimit.unwrap_or(4)));
        }
        if self.external {
            d.push(InfoIpTunnel::CollectMetadata);
        }
        d.extend(tunnel::flowinfo(self.tclass, self.flowlabel)?.map(InfoIpTunnel::FlowInfo));
        if let Some(dev) = &self.dev {
            d.push(InfoIpTunnel::Link(ctx.index(dev)?));
        }
        Ok(parts(InfoKind::Ip6Tnl, d))
    }
}
