//! Links, addresses and neighbours: one object per event, by key.

use std::net::IpAddr;

use futures::StreamExt;
use futures::stream::BoxStream;
use netlink_packet_route::neighbour::NeighbourFlags;

use super::{Input, Watched};
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
    fn classify(ev: Event) -> Option<Input<Self>> {
        // RTNLGRP_LINK also carries AF_BRIDGE messages of bridge ports:
        // their state as ports, not the link (a dump has none of them).
        match ev {
            Event::NewLink(l) if l.family_raw() == 0 => Some(Input::New(l)),
            Event::DelLink(l) if l.family_raw() == 0 => Some(Input::Del(l)),
            _ => None,
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
