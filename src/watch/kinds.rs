//! Links, addresses and neighbours: one object per event, by key.

use std::net::IpAddr;

use futures::StreamExt;
use futures::stream::BoxStream;
use netlink_packet_route::neighbour::NeighbourFlags;

use super::{Cache, Input, Part, Update, Watched};
use crate::client::Netlink;
use crate::conn::RawMessage;
use crate::error::Result;
use crate::route::address::Address;
use crate::route::events::{Event, Group};
use crate::route::link::Link;
use crate::route::neighbour::Neighbour;

impl Watched for Link {
    fn raw(&self) -> &RawMessage {
        Link::raw(self)
    }
    type Key = u32;
    fn key(&self) -> u32 {
        self.index()
    }
    fn groups() -> Vec<Group> {
        vec![Group::Link]
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        nl.link().list().stream().boxed()
    }
    fn part(&self) -> Part {
        Part::Link(self.index())
    }
    fn dump_part(nl: &Netlink, scope: Part) -> BoxStream<'static, Result<Self>> {
        let Part::Link(index) = scope else {
            return Self::dump(nl);
        };
        let nl = nl.clone();
        futures::stream::once(async move { nl.link().get(index).await })
            .filter_map(|r| async move {
                match r {
                    // Gone meanwhile: its removal was notified too.
                    Err(e) if e.is_not_found() => None,
                    r => Some(r),
                }
            })
            .boxed()
    }
    fn classify(ev: Event) -> Option<Input<Self>> {
        // RTNLGRP_LINK also carries AF_BRIDGE messages of bridge ports:
        // their state as ports, not the link (a dump has none of them).
        // The port settings they announce change the link's
        // IFLA_INFO_SLAVE_DATA without an AF_UNSPEC notification (a flag
        // set on a down port), so they are signals to re-read that link.
        match ev {
            Event::NewLink(l) if l.family_raw() == 0 => Some(Input::New(l)),
            Event::DelLink(l) if l.family_raw() == 0 => Some(Input::Del(l)),
            ev @ (Event::NewLink(_) | Event::DelLink(_)) => Some(Input::Signal(ev)),
            _ => None,
        }
    }
    fn update(cache: &Cache<Self>, input: &Input<Self>) -> Update<Self> {
        match input {
            Input::New(o) => Update::Edit(Vec::new(), Some(o.clone())),
            Input::Del(o) => Update::Edit(vec![o.key()], None),
            Input::Signal(Event::NewLink(l) | Event::DelLink(l))
                if cache.get(&l.index()).is_some() =>
            {
                Update::Resync(Part::Link(l.index()))
            }
            Input::Signal(_) => Update::Nothing,
        }
    }
}

/// Identity of an address: link, address, prefix length, peer.
pub type AddressKey = (u32, Option<IpAddr>, u8, Option<IpAddr>);

impl Watched for Address {
    fn raw(&self) -> &RawMessage {
        Address::raw(self)
    }
    type Key = AddressKey;
    fn key(&self) -> AddressKey {
        (self.index(), self.address(), self.prefix_len(), self.peer())
    }
    fn groups() -> Vec<Group> {
        Group::addresses()
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        nl.address().list().stream().boxed()
    }
    fn classify(ev: Event) -> Option<Input<Self>> {
        match ev {
            Event::NewAddress(a) => Some(Input::New(a)),
            Event::DelAddress(a) => Some(Input::Del(a)),
            _ => None,
        }
    }
}

/// Identity of a neighbour: family, link, address, MAC (FDB), vlan.
pub type NeighbourKey = (u8, u32, Option<IpAddr>, Option<Vec<u8>>, Option<u16>);

impl Watched for Neighbour {
    fn raw(&self) -> &RawMessage {
        Neighbour::raw(self)
    }
    type Key = NeighbourKey;
    fn key(&self) -> NeighbourKey {
        let fdb = self.is_fdb();
        (
            self.family_raw(),
            self.index(),
            self.destination(),
            fdb.then(|| self.lladdr().map(<[u8]>::to_vec)).flatten(),
            self.vlan(),
        )
    }
    fn groups() -> Vec<Group> {
        vec![Group::Neighbour]
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        nl.neighbour().list().stream().boxed()
    }
    fn classify(ev: Event) -> Option<Input<Self>> {
        // The group also carries FDB entries (AF_BRIDGE) and proxy entries,
        // which the dump leaves out: this cache holds neighbours.
        let theirs = |n: &Neighbour| n.is_fdb() || n.flags().contains(NeighbourFlags::Proxy);
        match ev {
            Event::NewNeighbour(n) if !theirs(&n) => Some(Input::New(n)),
            Event::DelNeighbour(n) if !theirs(&n) => Some(Input::Del(n)),
            _ => None,
        }
    }
}

/// A bridge FDB entry (`bridge fdb`), for a [`Watch`](super::Watch) of
/// the forwarding database: `nl.watch::<Fdb>()`. The neighbour watch holds
/// neighbours only; this one holds what `bridge fdb show` lists.
#[derive(Debug, Clone)]
pub struct Fdb(pub Neighbour);

impl std::ops::Deref for Fdb {
    type Target = Neighbour;
    fn deref(&self) -> &Neighbour {
        &self.0
    }
}

/// Identity of an FDB entry: link, MAC, vlan, VNI, remote (vxlan `dst`),
/// and whether it is the device's own (`self`) or its master's entry
/// (the same MAC may be listed as both).
pub type FdbKey = (
    u32,
    Option<Vec<u8>>,
    Option<u16>,
    Option<u32>,
    Option<IpAddr>,
    u8,
);

impl Watched for Fdb {
    fn raw(&self) -> &RawMessage {
        Neighbour::raw(&self.0)
    }
    type Key = FdbKey;
    fn key(&self) -> FdbKey {
        let n = &self.0;
        // NTF_SELF 0x02, NTF_MASTER 0x04.
        let owner = n.flags().bits() & 0x06;
        (
            n.index(),
            n.lladdr().map(<[u8]>::to_vec),
            n.vlan(),
            n.vni(),
            n.destination(),
            owner,
        )
    }
    fn groups() -> Vec<Group> {
        vec![Group::Neighbour]
    }
    fn dump(nl: &Netlink) -> BoxStream<'static, Result<Self>> {
        use futures::TryStreamExt;
        nl.neighbour().list().fdb().stream().map_ok(Fdb).boxed()
    }
    fn classify(ev: Event) -> Option<Input<Self>> {
        match ev {
            Event::NewNeighbour(n) if n.is_fdb() => Some(Input::New(Fdb(n))),
            Event::DelNeighbour(n) if n.is_fdb() => Some(Input::Del(Fdb(n))),
            _ => None,
        }
    }
}
