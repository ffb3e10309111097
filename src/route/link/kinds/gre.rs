//! `type gre|gretap|ip6gre|ip6gretap [local A] [remote A] [ttl N] [tos N]
//! [key K | ikey K okey K] [dev D]`.
//!
//! The kernel refuses (EEXIST) a tunnel whose endpoints, key and device match
//! an existing one of the same kind, including the fallback device the module
//! puts in each namespace (`gre0`, `gretap0`, `ip6gre0`, which have none): a
//! `gre` with no endpoints and no key is refused for that reason.

use std::net::IpAddr;

use netlink_packet_route::link::{GreIOFlags, InfoData, InfoGre, InfoGre6, InfoKind, LinkInfo};

use super::tunnel;
use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// What `ip` sends for an IPv6 tunnel's hop limit when none is given.
const DEFAULT_HOPLIMIT: u8 = 64;
/// What `ip` sends for an IPv6 tunnel's encapsulation limit when none is given.
const DEFAULT_ENCAPLIMIT: u8 = 4;

/// Settings shared by the four GRE kinds.
#[derive(Debug, Clone, Default)]
struct GreParams {
    local: Option<IpAddr>,
    remote: Option<IpAddr>,
    ttl: Option<u8>,
    ikey: Option<u32>,
    okey: Option<u32>,
    dev: Option<LinkId>,
    tos: Option<u8>,
    tclass: Option<u8>,
    flowlabel: Option<u32>,
    encaplimit: Option<u8>,
    external: bool,
}

impl GreParams {
    fn key_flags(key: Option<u32>) -> GreIOFlags {
        if key.is_some() {
            GreIOFlags::Key
        } else {
            GreIOFlags::empty()
        }
    }

    fn v4(&self, kind: &str, ctx: &KindCtx) -> Result<Vec<InfoGre>> {
        let (local, remote) = tunnel::v4(kind, &format!("ip6{kind}"), self.local, self.remote)?;
        if remote.is_some_and(|r| r.is_multicast()) && local.is_none() {
            return Err(Error::invalid(
                "local",
                "a tunnel to a multicast remote needs a local address",
            ));
        }
        let mut d = Vec::new();
        if self.ikey.is_some() || self.okey.is_some() {
            d.push(InfoGre::IFlags(Self::key_flags(self.ikey)));
            d.push(InfoGre::OFlags(Self::key_flags(self.okey)));
        }
        d.extend(self.ikey.map(InfoGre::IKey));
        d.extend(self.okey.map(InfoGre::OKey));
        d.extend(local.map(InfoGre::Local));
        d.extend(remote.map(InfoGre::Remote));
        d.extend(self.ttl.map(InfoGre::Ttl));
        d.extend(self.tos.map(InfoGre::Tos));
        if self.external {
            d.push(InfoGre::CollectMetadata);
        }
        if let Some(dev) = &self.dev {
            d.push(InfoGre::Link(ctx.index(dev)?));
        }
        Ok(d)
    }

    fn v6(&self, kind: &str, ctx: &KindCtx) -> Result<Vec<InfoGre6>> {
        let alt = kind.trim_start_matches("ip6");
        let (local, remote) = tunnel::v6(kind, alt, self.local, self.remote)?;
        let mut d = Vec::new();
        if self.ikey.is_some() || self.okey.is_some() {
            d.push(InfoGre6::IFlags(Self::key_flags(self.ikey)));
            d.push(InfoGre6::OFlags(Self::key_flags(self.okey)));
        }
        d.extend(self.ikey.map(InfoGre6::IKey));
        d.extend(self.okey.map(InfoGre6::OKey));
        d.extend(local.map(InfoGre6::Local));
        d.extend(remote.map(InfoGre6::Remote));
        // `ip`'s defaults on creation; a change keeps the link's values.
        let (ttl, limit) = if ctx.is_change() {
            (self.ttl, self.encaplimit)
        } else {
            (
                Some(self.ttl.unwrap_or(DEFAULT_HOPLIMIT)),
                Some(self.encaplimit.unwrap_or(DEFAULT_ENCAPLIMIT)),
            )
        };
        d.extend(ttl.map(InfoGre6::Ttl));
        d.extend(limit.map(InfoGre6::EncapLimit));
        if self.external {
            d.push(InfoGre6::CollectMetadata);
        }
        // InfoGre6::FlowLabel is IFLA_GRE_FLOWINFO: traffic class and label.
        d.extend(tunnel::flowinfo(self.tclass, self.flowlabel)?.map(InfoGre6::FlowLabel));
        if let Some(dev) = &self.dev {
            d.push(InfoGre6::Link(ctx.index(dev)?));
        }
        Ok(d)
    }
}

macro_rules! gre_kind {
    (
        $(#[$m:meta])*
        $name:ident, $word:literal, $family:ident, $kind:ident, $data:ident,
        { $($extra:tt)* }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            p: GreParams,
        }

        impl $name {
            #[doc = concat!("`type ", $word, "`; endpoints and keys are set with the other methods.")]
            pub fn new() -> Self {
                Self::default()
            }

            /// `local ADDR`: the tunnel's source address.
            pub fn local(mut self, addr: impl Into<IpAddr>) -> Self {
                self.p.local = Some(addr.into());
                self
            }

            /// `remote ADDR`: the far end.
            pub fn remote(mut self, addr: impl Into<IpAddr>) -> Self {
                self.p.remote = Some(addr.into());
                self
            }

            /// `ttl N` (`hoplimit` over IPv6); 0 is `inherit`. The IPv6 kinds
            /// default to 64, as `ip` does.
            pub fn ttl(mut self, ttl: u8) -> Self {
                self.p.ttl = Some(ttl);
                self
            }

            /// `key K`: the same key both ways.
            pub fn key(self, key: u32) -> Self {
                self.ikey(key).okey(key)
            }

            /// `ikey K`: the key expected on received packets.
            pub fn ikey(mut self, key: u32) -> Self {
                self.p.ikey = Some(key);
                self
            }

            /// `okey K`: the key put on sent packets.
            pub fn okey(mut self, key: u32) -> Self {
                self.p.okey = Some(key);
                self
            }

            /// `dev DEV`: bind the tunnel to an underlay device.
            pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
                self.p.dev = Some(dev.into());
                self
            }

            /// `external`: flow-based (metadata) mode, endpoints and keys
            /// from each packet's tunnel metadata (eBPF `bpf_skb_set_tunnel_key`).
            pub fn external(mut self) -> Self {
                self.p.external = true;
                self
            }

            $($extra)*
        }

        impl LinkKind for $name {
            fn merge_on_change(&self) -> bool {
                true
            }

            fn refs(&self) -> Vec<LinkId> {
                self.p.dev.iter().cloned().collect()
            }

            fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
                let data = self.p.$family($word, ctx)?;
                Ok(KindParts {
                    info: vec![
                        LinkInfo::Kind(InfoKind::$kind),
                        LinkInfo::Data(InfoData::$data(data)),
                    ],
                    ..KindParts::default()
                })
            }
        }
    };
}

macro_rules! v4_extra {
    () => {
        /// `tos N`: the outer TOS; 1 is `inherit`.
        pub fn tos(mut self, tos: u8) -> Self {
            self.p.tos = Some(tos);
            self
        }
    };
}

macro_rules! v6_extra {
    () => {
        /// `tclass N`: the outer traffic class.
        pub fn tclass(mut self, tclass: u8) -> Self {
            self.p.tclass = Some(tclass);
            self
        }

        /// `flowlabel N` (20 bits).
        pub fn flowlabel(mut self, label: u32) -> Self {
            self.p.flowlabel = Some(label);
            self
        }

        /// `encaplimit N` (default 4, as `ip` sends).
        pub fn encaplimit(mut self, limit: u8) -> Self {
            self.p.encaplimit = Some(limit);
            self
        }
    };
}

gre_kind!(
    /// A GRE tunnel over IPv4 carrying IP packets (`type gre`).
    Gre, "gre", v4, GreTun, GreTun, { v4_extra!(); }
);
gre_kind!(
    /// A GRE tunnel over IPv4 carrying Ethernet frames (`type gretap`).
    Gretap, "gretap", v4, GreTap, GreTap, { v4_extra!(); }
);
gre_kind!(
    /// A GRE tunnel over IPv6 carrying IP packets (`type ip6gre`).
    Ip6Gre, "ip6gre", v6, GreTun6, GreTun6, { v6_extra!(); }
);
gre_kind!(
    /// A GRE tunnel over IPv6 carrying Ethernet frames (`type ip6gretap`).
    Ip6Gretap, "ip6gretap", v6, GreTap6, GreTap6, { v6_extra!(); }
);
