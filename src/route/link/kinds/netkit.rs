//! `type netkit mode l2|l3 [blackhole|forward] peer [blackhole|forward] …`
//! (Linux 6.7): the BPF-programmable device pair Cilium uses in place of
//! veth. iproute2's words: `mode`, `forward`/`blackhole` (the policy of the
//! primary, then of the peer after `peer`), `scrub`, `peer scrub`,
//! `headroom`, `tailroom`.

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoNetkit, LinkAttribute, LinkInfo, LinkMessage, NetkitMode, NetkitPolicy,
    NetkitScrub,
};

use crate::error::Result;
use crate::route::link::{KindCtx, KindParts, LinkKind, validate_name};

/// Which layer a netkit pair works at (`mode l2|l3`; the kernel's default
/// is l3, which has no MAC address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetkitLayer {
    /// `mode l2`: an Ethernet device.
    L2,
    /// `mode l3`: IP packets only.
    L3,
}

/// What a netkit device does with a packet when no BPF program is attached
/// or the program says "unspec": `forward` (the default) or `blackhole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetkitAction {
    /// `forward` (NETKIT_PASS).
    Forward,
    /// `blackhole` (NETKIT_DROP).
    Blackhole,
}

impl NetkitAction {
    fn raw(self) -> NetkitPolicy {
        match self {
            NetkitAction::Forward => NetkitPolicy::Pass,
            NetkitAction::Blackhole => NetkitPolicy::Drop,
        }
    }
}

/// A netkit pair: the link being added (the primary) and its peer.
///
/// ```no_run
/// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
/// use tokio_netlink::route::link::kinds::{Netkit, NetkitAction, NetkitLayer};
/// let nk = Netkit::peer("nk1")
///     .mode(NetkitLayer::L2)
///     .peer_policy(NetkitAction::Blackhole);
/// nl.link().add("nk0", nk).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Netkit {
    peer: String,
    mode: Option<NetkitLayer>,
    policy: Option<NetkitAction>,
    peer_policy: Option<NetkitAction>,
    scrub: Option<bool>,
    peer_scrub: Option<bool>,
    headroom: Option<u16>,
    tailroom: Option<u16>,
}

impl Netkit {
    /// `netkit peer name PEER`.
    pub fn peer(name: &str) -> Self {
        Netkit {
            peer: name.to_owned(),
            mode: None,
            policy: None,
            peer_policy: None,
            scrub: None,
            peer_scrub: None,
            headroom: None,
            tailroom: None,
        }
    }

    /// `mode l2|l3`.
    pub fn mode(mut self, m: NetkitLayer) -> Self {
        self.mode = Some(m);
        self
    }

    /// The primary's default action (`forward` / `blackhole` before `peer`).
    pub fn policy(mut self, a: NetkitAction) -> Self {
        self.policy = Some(a);
        self
    }

    /// The peer's default action (`peer forward|blackhole`).
    pub fn peer_policy(mut self, a: NetkitAction) -> Self {
        self.peer_policy = Some(a);
        self
    }

    /// `scrub default|none` on the primary: whether packets crossing to it
    /// lose their mark and priority (default: scrubbed).
    pub fn scrub(mut self, on: bool) -> Self {
        self.scrub = Some(on);
        self
    }

    /// `peer scrub default|none`.
    pub fn peer_scrub(mut self, on: bool) -> Self {
        self.peer_scrub = Some(on);
        self
    }

    /// `headroom N`: bytes reserved before each packet (Linux 6.14).
    pub fn headroom(mut self, n: u16) -> Self {
        self.headroom = Some(n);
        self
    }

    /// `tailroom N`: bytes reserved after each packet (Linux 6.14).
    pub fn tailroom(mut self, n: u16) -> Self {
        self.tailroom = Some(n);
        self
    }
}

fn scrub(on: bool) -> NetkitScrub {
    if on {
        NetkitScrub::Default
    } else {
        NetkitScrub::None
    }
}

impl LinkKind for Netkit {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        validate_name("peer name", &self.peer)?;
        let mut peer = LinkMessage::default();
        peer.attributes
            .push(LinkAttribute::IfName(self.peer.clone()));
        let mut d = vec![InfoNetkit::Peer(peer)];
        d.extend(self.mode.map(|m| {
            InfoNetkit::Mode(match m {
                NetkitLayer::L2 => NetkitMode::L2,
                NetkitLayer::L3 => NetkitMode::L3,
            })
        }));
        d.extend(self.policy.map(|a| InfoNetkit::Policy(a.raw())));
        d.extend(self.peer_policy.map(|a| InfoNetkit::PeerPolicy(a.raw())));
        d.extend(self.scrub.map(|s| InfoNetkit::Scrub(scrub(s))));
        d.extend(self.peer_scrub.map(|s| InfoNetkit::PeerScrub(scrub(s))));
        d.extend(self.headroom.map(InfoNetkit::Headroom));
        d.extend(self.tailroom.map(InfoNetkit::Tailroom));
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Netkit),
                LinkInfo::Data(InfoData::Netkit(d)),
            ],
            ..KindParts::default()
        })
    }
}
