//! The last check of every NETLINK_ROUTE request before it is encoded
//! ([`Protocol::check`](crate::conn::Protocol::check)): builders refuse bad
//! input with the field's own name first; this catches what reaches the
//! encoder anyway (a caller's own [`LinkKind`](super::link::LinkKind), a
//! message built by hand for [`Requester`](crate::conn::Requester)).
//!
//! It refuses what netlink-packet-route would not encode faithfully: an
//! attribute longer than its 16-bit length (the length wraps and the rest
//! of the value is read as further attributes) and a NUL inside a string
//! attribute (the kernel reads up to it: `"eth0\0junk"` names eth0).

use netlink_packet_core::Nla;
use netlink_packet_route::RouteNetlinkMessage as M;
use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoPortKind, InfoVeth, LinkAttribute, LinkInfo, LinkMessage, Prop,
};
use netlink_packet_route::route::{RouteAttribute, RouteMetric};
use netlink_packet_route::rule::RuleAttribute;
use netlink_packet_route::tc::TcAttribute;

use crate::conn::attrs::{check_fits, check_string};
use crate::error::Result;

/// Checks every top-level attribute's length (which bounds its nests) and
/// the strings netlink-packet-route sends as string attributes.
pub(crate) fn message(msg: &M) -> Result<()> {
    match msg {
        M::NewLink(m)
        | M::DelLink(m)
        | M::GetLink(m)
        | M::SetLink(m)
        | M::NewLinkProp(m)
        | M::DelLinkProp(m) => link(m),
        M::NewAddress(m) | M::DelAddress(m) | M::GetAddress(m) => {
            fits(&m.attributes)?;
            m.attributes.iter().try_for_each(|a| match a {
                AddressAttribute::Label(s) => no_nul("label", s),
                _ => Ok(()),
            })
        }
        M::NewAddrLabel(m) | M::DelAddrLabel(m) | M::GetAddrLabel(m) => fits(&m.attributes),
        M::NewNeighbour(m) | M::GetNeighbour(m) | M::DelNeighbour(m) => fits(&m.attributes),
        M::NewNeighbourTable(m) | M::GetNeighbourTable(m) | M::SetNeighbourTable(m) => {
            fits(&m.attributes)
        }
        M::NewRoute(m) | M::DelRoute(m) | M::GetRoute(m) => {
            fits(&m.attributes)?;
            m.attributes.iter().try_for_each(|a| match a {
                RouteAttribute::Metrics(ms) => ms.iter().try_for_each(|x| match x {
                    RouteMetric::CcAlgo(s) => no_nul("congctl", s),
                    _ => Ok(()),
                }),
                _ => Ok(()),
            })
        }
        M::NewPrefix(m) => fits(&m.attributes),
        M::NewQueueDiscipline(m)
        | M::DelQueueDiscipline(m)
        | M::GetQueueDiscipline(m)
        | M::NewTrafficClass(m)
        | M::DelTrafficClass(m)
        | M::GetTrafficClass(m)
        | M::NewTrafficFilter(m)
        | M::DelTrafficFilter(m)
        | M::GetTrafficFilter(m)
        | M::NewTrafficChain(m)
        | M::DelTrafficChain(m)
        | M::GetTrafficChain(m) => {
            fits(&m.attributes)?;
            m.attributes.iter().try_for_each(|a| match a {
                TcAttribute::Kind(s) => no_nul("kind", s),
                _ => Ok(()),
            })
        }
        M::NewTrafficAction(m) | M::DelTrafficAction(m) | M::GetTrafficAction(m) => {
            fits(&m.attributes)
        }
        M::NewStats(m) | M::GetStats(m) => fits(&m.attributes),
        M::NewNsId(m) | M::DelNsId(m) | M::GetNsId(m) => fits(&m.attributes),
        M::NewRule(m) | M::DelRule(m) | M::GetRule(m) => {
            fits(&m.attributes)?;
            m.attributes.iter().try_for_each(|a| match a {
                RuleAttribute::Iifname(s) => no_nul("iif", s),
                RuleAttribute::Oifname(s) => no_nul("oif", s),
                _ => Ok(()),
            })
        }
        // netlink-packet-route may add message types.
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    }
}

/// A link message, and the veth peer message nested in it.
fn link(m: &LinkMessage) -> Result<()> {
    fits(&m.attributes)?;
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(s) => no_nul("name", s)?,
            LinkAttribute::IfAlias(s) => no_nul("alias", s)?,
            LinkAttribute::Qdisc(s) => no_nul("qdisc", s)?,
            LinkAttribute::PhysPortName(s) => no_nul("phys_port_name", s)?,
            LinkAttribute::ParentDevName(s) => no_nul("parentdev", s)?,
            LinkAttribute::ParentDevBusName(s) => no_nul("parentdevbus", s)?,
            LinkAttribute::PropList(props) => {
                for p in props {
                    if let Prop::AltIfName(s) = p {
                        no_nul("altname", s)?;
                    }
                }
            }
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(InfoKind::Other(s)) => no_nul("kind", s)?,
                        LinkInfo::PortKind(InfoPortKind::Other(s)) => no_nul("kind", s)?,
                        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))) => link(peer)?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn fits<T: Nla>(attrs: &[T]) -> Result<()> {
    attrs.iter().try_for_each(|a| check_fits("attribute", a))
}

/// No length limit here: the kernel's policy refuses an over-long string
/// (ERANGE); the builders refuse it earlier, naming the limit.
fn no_nul(field: &'static str, s: &str) -> Result<()> {
    check_string(field, s, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use netlink_packet_route::route::RouteMessage;

    fn link_msg(attrs: Vec<LinkAttribute>) -> M {
        let mut m = LinkMessage::default();
        m.attributes = attrs;
        M::NewLink(m)
    }

    #[test]
    fn nul_bytes_in_string_attributes_are_refused() {
        let e = message(&link_msg(vec![LinkAttribute::IfName("lo\0junk".into())])).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { field: "name", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("read only \"lo\""), "{e}");
        let mut peer = LinkMessage::default();
        peer.attributes.push(LinkAttribute::IfName("p\0".into()));
        let veth = link_msg(vec![LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ])]);
        assert!(message(&veth).is_err(), "the nested peer is checked");
        let alt = link_msg(vec![LinkAttribute::PropList(vec![Prop::AltIfName(
            "a\0".into(),
        )])]);
        assert!(matches!(
            message(&alt),
            Err(Error::InvalidInput {
                field: "altname",
                ..
            })
        ));
        message(&link_msg(vec![LinkAttribute::IfName("lo".into())])).unwrap();
    }

    #[test]
    fn attributes_that_would_wrap_nla_len_are_refused() {
        // 65,532 bytes of alias plus its NUL: one more than fits.
        let e = message(&link_msg(vec![LinkAttribute::IfAlias("a".repeat(65_531))])).unwrap_err();
        assert!(e.to_string().contains("at most 65531"), "{e}");
        message(&link_msg(vec![LinkAttribute::IfAlias("a".repeat(65_530))])).unwrap();
        let mut r = RouteMessage::default();
        r.attributes
            .push(RouteAttribute::Metrics(vec![RouteMetric::Mtu(1); 8192]));
        assert!(
            message(&M::NewRoute(r)).is_err(),
            "a nest is measured whole"
        );
    }
}
