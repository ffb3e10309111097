//! `type vrf table ID`.

use netlink_packet_route::link::{InfoData, InfoKind, InfoVrf, LinkInfo};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkKind};

/// A VRF (virtual routing and forwarding) device: ports enslaved to it
/// (`nl.link().set(dev).master(vrf)`) route through its table.
#[derive(Debug, Clone, Copy)]
pub struct Vrf {
    table: u32,
}

impl Vrf {
    /// `vrf table ID`: the routing table the VRF uses (not 0).
    pub fn new(table: u32) -> Self {
        Vrf { table }
    }
}

impl LinkKind for Vrf {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        if self.table == 0 {
            return Err(Error::invalid(
                "table",
                "0 is not a routing table (RT_TABLE_UNSPEC)",
            ));
        }
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Vrf),
                LinkInfo::Data(InfoData::Vrf(vec![InfoVrf::TableId(self.table)])),
            ],
            ..KindParts::default()
        })
    }
}
