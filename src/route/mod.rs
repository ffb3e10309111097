//! NETLINK_ROUTE: links, addresses, address labels, netconf, routes, rules,
//! neighbours, nexthop objects, traffic control (`tc`). Messages come from
//! netlink-packet-route, except TC's, nexthops' and netconf's, which have codecs of
//! their own ([`tc`], [`nexthop`], [`netconf`]).

pub mod address;
pub mod addrlabel;
pub mod batch;
mod check;
// Attribute helpers are shared with the other families.
pub(crate) use crate::conn::attrs;
pub mod events;
pub mod link;
pub mod neighbour;
pub mod netconf;
pub mod nexthop;
pub mod nsid;
pub mod route;
pub mod rule;
#[cfg(feature = "serde")]
mod serde;
pub mod stats;
pub mod tc;

use netlink_packet_route::RouteNetlinkMessage;

use crate::conn::Protocol;

/// The NETLINK_ROUTE protocol.
#[derive(Debug, Clone, Copy)]
pub struct Route;

impl Protocol for Route {
    type Message = RouteNetlinkMessage;
    const PROTOCOL: isize = netlink_sys::protocols::NETLINK_ROUTE;

    fn prepare_dump(msg: &mut RouteNetlinkMessage) {
        if let RouteNetlinkMessage::GetLink(m) = msg {
            link::size_dump(m);
        }
    }

    fn message_name(ty: u16) -> Option<&'static str> {
        Some(match ty {
            16 => "RTM_NEWLINK",
            17 => "RTM_DELLINK",
            18 => "RTM_GETLINK",
            19 => "RTM_SETLINK",
            20 => "RTM_NEWADDR",
            21 => "RTM_DELADDR",
            22 => "RTM_GETADDR",
            24 => "RTM_NEWROUTE",
            25 => "RTM_DELROUTE",
            26 => "RTM_GETROUTE",
            28 => "RTM_NEWNEIGH",
            29 => "RTM_DELNEIGH",
            30 => "RTM_GETNEIGH",
            32 => "RTM_NEWRULE",
            33 => "RTM_DELRULE",
            34 => "RTM_GETRULE",
            36 => "RTM_NEWQDISC",
            37 => "RTM_DELQDISC",
            38 => "RTM_GETQDISC",
            40 => "RTM_NEWTCLASS",
            41 => "RTM_DELTCLASS",
            42 => "RTM_GETTCLASS",
            44 => "RTM_NEWTFILTER",
            45 => "RTM_DELTFILTER",
            46 => "RTM_GETTFILTER",
            48 => "RTM_NEWACTION",
            49 => "RTM_DELACTION",
            50 => "RTM_GETACTION",
            64 => "RTM_NEWNEIGHTBL",
            66 => "RTM_GETNEIGHTBL",
            67 => "RTM_SETNEIGHTBL",
            72 => "RTM_NEWADDRLABEL",
            73 => "RTM_DELADDRLABEL",
            74 => "RTM_GETADDRLABEL",
            80 => "RTM_NEWNETCONF",
            81 => "RTM_DELNETCONF",
            82 => "RTM_GETNETCONF",
            88 => "RTM_NEWNSID",
            89 => "RTM_DELNSID",
            90 => "RTM_GETNSID",
            92 => "RTM_NEWSTATS",
            94 => "RTM_GETSTATS",
            100 => "RTM_NEWCHAIN",
            101 => "RTM_DELCHAIN",
            102 => "RTM_GETCHAIN",
            104 => "RTM_NEWNEXTHOP",
            105 => "RTM_DELNEXTHOP",
            106 => "RTM_GETNEXTHOP",
            116 => "RTM_NEWNEXTHOPBUCKET",
            117 => "RTM_DELNEXTHOPBUCKET",
            118 => "RTM_GETNEXTHOPBUCKET",
            108 => "RTM_NEWLINKPROP",
            109 => "RTM_DELLINKPROP",
            _ => return None,
        })
    }

    fn check(message: &RouteNetlinkMessage) -> crate::Result<()> {
        check::message(message)
    }
}
