//! Link kinds for [`LinkHandle::add`](super::LinkHandle::add), named and
//! parameterised as `ip link add … type KIND …` names them.

mod bridge;
mod macvlan;
mod veth;
mod vlan;
mod vxlan;

pub use bridge::Bridge;
pub use macvlan::{Macvlan, MacvlanMode, Macvtap};
pub use veth::Veth;
pub use vlan::{Vlan, VlanProtocol};
pub use vxlan::Vxlan;

use netlink_packet_route::link::{InfoKind, LinkInfo};

use super::{KindCtx, KindParts, LinkKind};
use crate::error::Result;

/// `type dummy`: a device that drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dummy;

impl LinkKind for Dummy {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        Ok(KindParts {
            info: vec![LinkInfo::Kind(InfoKind::Dummy)],
            ..KindParts::default()
        })
    }
}

/// `type ifb`: an intermediate functional block, for ingress shaping.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ifb;

impl LinkKind for Ifb {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        Ok(KindParts {
            info: vec![LinkInfo::Kind(InfoKind::Ifb)],
            ..KindParts::default()
        })
    }
}
