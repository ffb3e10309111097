//! `type veth peer name P …`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo, LinkMessage,
};

use crate::error::Result;
use crate::netns::NetnsTarget;
use crate::route::link::{KindCtx, KindParts, LinkKind, MacAddr, validate_name};

/// A veth pair: the link being added and its peer.
#[derive(Debug, Clone)]
pub struct Veth {
    peer: String,
    mtu: Option<u32>,
    address: Option<MacAddr>,
    up: bool,
    netns: Option<Arc<OwnedFd>>,
    netns_pid: Option<u32>,
    txqlen: Option<u32>,
    queues: Option<(u32, u32)>,
    group: Option<u32>,
    error: Option<String>,
}

impl Veth {
    /// `veth peer name PEER`.
    pub fn peer(name: &str) -> Self {
        Veth {
            peer: name.to_owned(),
            mtu: None,
            address: None,
            up: false,
            netns: None,
            netns_pid: None,
            txqlen: None,
            queues: None,
            group: None,
            error: None,
        }
    }

    /// The peer's `txqueuelen`. The peer takes only what its own setters
    /// give it and the kernel's defaults otherwise, as `ip link add …
    /// type veth peer …` does (vishvananda/netlink copies the link's
    /// txqlen and MTU to the peer; here that is explicit).
    #[inline]
    pub fn peer_txqlen(mut self, q: u32) -> Self {
        self.txqlen = Some(q);
        self
    }

    /// The peer's number of TX and RX queues (`numtxqueues`,
    /// `numrxqueues`), fixed at creation; 1 to 4096 each.
    #[inline]
    pub fn peer_queues(mut self, tx: u32, rx: u32) -> Self {
        self.queues = Some((tx, rx));
        self
    }

    /// The peer's device group (`group N`).
    #[inline]
    pub fn peer_group(mut self, g: u32) -> Self {
        self.group = Some(g);
        self
    }

    /// The peer's MTU.
    #[inline]
    pub fn peer_mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// The peer's MAC address.
    #[inline]
    pub fn peer_address(mut self, mac: impl Into<MacAddr>) -> Self {
        self.address = Some(mac.into());
        self
    }

    /// Bring the peer up once the pair exists. This takes a second request:
    /// the kernel refuses to open a veth peer in the creating one (ENOTCONN,
    /// the pair is not tied together yet).
    #[inline]
    pub fn peer_up(mut self) -> Self {
        self.up = true;
        self
    }

    /// Create the peer directly in another namespace (`peer name P netns NS`).
    #[inline]
    pub fn peer_netns(mut self, target: impl Into<NetnsTarget>) -> Self {
        match target.into() {
            NetnsTarget::Pid(p) => self.netns_pid = Some(p),
            t => match t.open() {
                Ok(fd) => self.netns = Some(Arc::new(fd)),
                Err(e) => self.error = Some(e.to_string()),
            },
        }
        self
    }
}

impl LinkKind for Veth {
    fn build(&self, _: &KindCtx) -> Result<KindParts> {
        if let Some(e) = &self.error {
            return Err(crate::Error::invalid("peer netns", e.clone()));
        }
        validate_name("peer name", &self.peer)?;
        let mut peer = LinkMessage::default();
        peer.attributes
            .push(LinkAttribute::IfName(self.peer.clone()));
        if let Some(m) = self.mtu {
            peer.attributes.push(LinkAttribute::Mtu(m));
        }
        if let Some(a) = self.address {
            peer.attributes.push(LinkAttribute::Address(a.0.to_vec()));
        }
        if let Some(q) = self.txqlen {
            peer.attributes.push(LinkAttribute::TxQueueLen(q));
        }
        if let Some((tx, rx)) = self.queues {
            // The kernel's own bound (a 0 would be "its default"; refused
            // as ip refuses it).
            for (field, n) in [("peer numtxqueues", tx), ("peer numrxqueues", rx)] {
                if !(1..=4096).contains(&n) {
                    return Err(crate::Error::invalid(
                        field,
                        format!("{n} is not in 1..=4096"),
                    ));
                }
            }
            peer.attributes.push(LinkAttribute::NumTxQueues(tx));
            peer.attributes.push(LinkAttribute::NumRxQueues(rx));
        }
        if let Some(g) = self.group {
            peer.attributes.push(LinkAttribute::Group(g));
        }
        if let Some(fd) = &self.netns {
            peer.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        if let Some(p) = self.netns_pid {
            peer.attributes.push(LinkAttribute::NetNsPid(p));
        }
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
            ],
            ..KindParts::default()
        })
    }

    fn keep_open(&self) -> Vec<Arc<OwnedFd>> {
        self.netns.iter().cloned().collect()
    }

    fn up_after_create(&self) -> Result<Option<(String, Option<NetnsTarget>)>> {
        if !self.up {
            return Ok(None);
        }
        let netns = match (&self.netns, self.netns_pid) {
            (Some(fd), _) => Some(NetnsTarget::Fd(fd.try_clone()?)),
            (None, Some(p)) => Some(NetnsTarget::Pid(p)),
            (None, None) => None,
        };
        Ok(Some((self.peer.clone(), netns)))
    }
}
