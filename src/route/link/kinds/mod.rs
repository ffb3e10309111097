//! Link kinds for [`LinkHandle::add`](super::LinkHandle::add), named and
//! parameterised as `ip link add … type KIND …` names them.

mod bond;
mod bond_options;
mod bridge;
mod geneve;
mod gre;
mod iptnl;
mod ipvlan;
mod macvlan;
mod netkit;
mod tunnel;
mod veth;
mod vlan;
mod vrf;
mod vti;
mod vxlan;
mod wireguard;
mod xfrm;

pub use bond::{Bond, BondLacpRate, BondMode, BondXmitHashPolicy};
pub use bond_options::{
    BondAdSelect, BondArpAllTargets, BondArpValidate, BondFailOverMac, BondPrimaryReselect,
};
pub use bridge::Bridge;
pub use geneve::Geneve;
pub use gre::{Gre, Gretap, Ip6Gre, Ip6Gretap};
pub use iptnl::{Ip6Tnl, Ip6TnlMode, Ipip, Sit};
pub use ipvlan::{Ipvlan, IpvlanFlag, IpvlanMode, Ipvtap};
pub use macvlan::{MacaddrOp, Macvlan, MacvlanMode, Macvtap};
pub use netkit::{Netkit, NetkitAction, NetkitLayer};
pub use veth::Veth;
pub use vlan::{Vlan, VlanProtocol};
pub use vrf::Vrf;
pub use vti::{Vti, Vti6};
pub use vxlan::Vxlan;
pub use wireguard::Wireguard;
pub use xfrm::Xfrm;

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
