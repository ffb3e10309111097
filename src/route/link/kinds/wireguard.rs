//! `type wireguard`.

use netlink_packet_route::link::{InfoKind, LinkInfo};

use crate::error::Result;
use crate::route::link::{KindCtx, KindParts, LinkKind};

/// A WireGuard device. Only the link is made here: keys, the listen port and
/// peers are configured over the `wireguard` generic-netlink family (what
/// `wg set` does), which this kind does not cover.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wireguard;

impl LinkKind for Wireguard {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        Ok(KindParts {
            info: vec![LinkInfo::Kind(InfoKind::Wireguard)],
            ..KindParts::default()
        })
    }
}
