//! `type vti|vti6 [local A] [remote A] [key K | ikey K okey K] [dev D]`.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoVti, LinkInfo};

use super::tunnel;
use crate::error::Result;
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// Settings shared by `vti` and `vti6`.
#[derive(Debug, Clone, Default)]
struct VtiParams {
    local: Option<IpAddr>,
    remote: Option<IpAddr>,
    ikey: Option<u32>,
    okey: Option<u32>,
    dev: Option<LinkId>,
}

impl VtiParams {
    fn build(&self, v6: bool, ctx: &KindCtx) -> Result<KindParts> {
        let (local, remote) = if v6 {
            let (l, r) = tunnel::v6("vti6", "vti", self.local, self.remote)?;
            (l.map(IpAddr::from), r.map(IpAddr::from))
        } else {
            let (l, r) = tunnel::v4("vti", "vti6", self.local, self.remote)?;
            (l.map(IpAddr::from), r.map(IpAddr::from))
        };
        let mut d = Vec::new();
        d.extend(self.ikey.map(InfoVti::IKey));
        d.extend(self.okey.map(InfoVti::OKey));
        d.extend(local.map(InfoVti::Local));
        d.extend(remote.map(InfoVti::Remote));
        if let Some(dev) = &self.dev {
            d.push(InfoVti::Link(ctx.index(dev)?));
        }
        let mut info = vec![LinkInfo::Kind(if v6 {
            InfoKind::Vti6
        } else {
            InfoKind::Vti
        })];
        if !d.is_empty() {
            info.push(LinkInfo::Data(InfoData::Vti(d)));
        }
        Ok(KindParts {
            info,
            ..KindParts::default()
        })
    }
}

macro_rules! vti_kind {
    ($(#[$m:meta])* $name:ident, $word:literal, $v6:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            p: VtiParams,
        }

        impl $name {
            #[doc = concat!("`type ", $word, "`; endpoints and keys are set with the other methods.")]
            pub fn new() -> Self {
                Self::default()
            }

            /// `local ADDR`.
            pub fn local(mut self, addr: impl Into<IpAddr>) -> Self {
                self.p.local = Some(addr.into());
                self
            }

            /// `remote ADDR`.
            pub fn remote(mut self, addr: impl Into<IpAddr>) -> Self {
                self.p.remote = Some(addr.into());
                self
            }

            /// `key K`: the same key (the mark IPsec policies match) both ways.
            pub fn key(self, key: u32) -> Self {
                self.ikey(key).okey(key)
            }

            /// `ikey K`: the key for received packets.
            pub fn ikey(mut self, key: u32) -> Self {
                self.p.ikey = Some(key);
                self
            }

            /// `okey K`: the key for sent packets.
            pub fn okey(mut self, key: u32) -> Self {
                self.p.okey = Some(key);
                self
            }

            /// `dev DEV`: bind the tunnel to an underlay device.
            pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
                self.p.dev = Some(dev.into());
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
                self.p.build($v6, ctx)
            }
        }
    };
}

vti_kind!(
    /// A virtual tunnel interface for route-based IPsec over IPv4 (`type vti`).
    Vti, "vti", false
);
vti_kind!(
    /// A virtual tunnel interface for route-based IPsec over IPv6 (`type vti6`).
    Vti6, "vti6", true
);
