//! The notices the kernel sends on its own: acquires, NAT-T mapping changes
//! and reports.

use std::net::IpAddr;

use crate::error::Result;
use crate::xfrm::policy::{POLICY_INFO_LEN, Policy};
use crate::xfrm::types::{
    IpsecProto, Rd, SELECTOR_LEN, Selector, Template, addr_of, attrs, family_raw,
};
use crate::xfrm::{attr, decode_error, msg};

/// XFRM_MSG_ACQUIRE: the kernel asks a key manager for a state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Acquire {
    /// Destination of the wanted state.
    pub dst: Option<IpAddr>,
    /// Source of the wanted state.
    pub src: Option<IpAddr>,
    /// Protocol of the wanted state.
    pub proto: IpsecProto,
    /// SPI (normally 0).
    pub spi: u32,
    /// The packet's flow.
    pub selector: Selector,
    /// The policy that asked.
    pub policy: Policy,
    /// The template being resolved (XFRMA_TMPL), when sent.
    pub templates: Vec<Template>,
    /// Allowed algorithm masks (auth, enc, comp).
    pub algos: (u32, u32, u32),
    /// Sequence number, to quote in the state that answers it.
    pub seq: u32,
    /// The CPU the packet was sent on (XFRMA_SA_PCPU, Linux 6.13), for a
    /// policy with per-CPU acquires: quote it in the answering state's
    /// [`pcpu_num`](crate::xfrm::State::pcpu_num).
    pub pcpu_num: Option<u32>,
}

/// XFRM_MSG_MAPPING: a NAT-T peer's address or port changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Mapping {
    /// The state's destination.
    pub dst: Option<IpAddr>,
    /// The state's SPI.
    pub spi: u32,
    /// Its protocol.
    pub proto: IpsecProto,
    /// Its reqid.
    pub reqid: u32,
    /// Old source address and port.
    pub old: (Option<IpAddr>, u16),
    /// New source address and port.
    pub new: (Option<IpAddr>, u16),
}

/// XFRM_MSG_REPORT (`struct xfrm_user_report`): the kernel tells a key
/// manager about a flow (Mobile IPv6 uses it to trigger binding updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Report {
    /// The XFRM protocol concerned (`route2`, `hao`…).
    pub proto: IpsecProto,
    /// The flow.
    pub selector: Selector,
    /// The care-of address the report is about (XFRMA_COADDR), if any.
    pub coaddr: Option<IpAddr>,
}

/// `sizeof(struct xfrm_user_acquire)`.
const ACQUIRE_LEN: usize = 280;

pub(super) fn parse_acquire(p: &[u8]) -> Result<Acquire> {
    let head = p
        .get(..ACQUIRE_LEN)
        .ok_or_else(|| decode_error(msg::ACQUIRE, "acquire too short"))?;
    let r = Rd(head);
    let selector = Selector::parse(r.sub(40, SELECTOR_LEN));
    let mut policy = Policy::parse_info(r.sub(96, POLICY_INFO_LEN));
    policy.parse_attrs(p, ACQUIRE_LEN);
    let templates = attrs(p, ACQUIRE_LEN)
        .find(|&(t, _)| t == attr::TMPL)
        .map(|(_, v)| Template::parse_all(v))
        .unwrap_or_default();
    // struct xfrm_id has no family: the template's, else the flow's.
    let fam = templates
        .first()
        .and_then(|t| t.family)
        .or(selector.family)
        .map(|f| family_raw(Some(f)))
        .unwrap_or(0);
    Ok(Acquire {
        dst: addr_of(r, 0, fam),
        spi: r.be32(16),
        proto: IpsecProto::from_raw(r.u8(20)),
        src: addr_of(r, 24, fam),
        selector,
        policy,
        templates,
        algos: (r.u32(264), r.u32(268), r.u32(272)),
        seq: r.u32(276),
        pcpu_num: attrs(p, ACQUIRE_LEN)
            .find(|&(t, _)| t == attr::SA_PCPU)
            .and_then(|(_, v)| Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))),
    })
}

pub(super) fn parse_mapping(p: &[u8]) -> Result<Mapping> {
    if p.len() < 64 {
        return Err(decode_error(msg::MAPPING, "mapping too short"));
    }
    let r = Rd(p);
    let fam = r.u16(20);
    Ok(Mapping {
        dst: addr_of(r, 0, fam),
        spi: r.be32(16),
        proto: IpsecProto::from_raw(r.u8(22)),
        reqid: r.u32(24),
        old: (addr_of(r, 28, fam), r.be16(60)),
        new: (addr_of(r, 44, fam), r.be16(62)),
    })
}

/// `sizeof(struct xfrm_user_report)`: a u8, then the selector at 4.
const REPORT_LEN: usize = 4 + SELECTOR_LEN;

pub(super) fn parse_report(p: &[u8]) -> Result<Report> {
    let head = p
        .get(..REPORT_LEN)
        .ok_or_else(|| decode_error(msg::REPORT, "report too short"))?;
    let r = Rd(head);
    let selector = Selector::parse(r.sub(4, SELECTOR_LEN));
    let fam = family_raw(selector.family);
    let coaddr = attrs(p, REPORT_LEN)
        .find(|&(t, _)| t == attr::COADDR)
        .and_then(|(_, v)| addr_of(Rd(v), 0, fam));
    Ok(Report {
        proto: IpsecProto::from_raw(r.u8(0)),
        selector,
        coaddr,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::xfrm::types::push_fixed;

    /// An XFRM_MSG_REPORT payload as build_report writes it: proto, the
    /// selector at offset 4, then XFRMA_COADDR.
    pub(crate) fn report_bytes() -> Vec<u8> {
        let mut p = vec![0u8; 60];
        p[0] = 43; // route2
        let sel = 4;
        p[sel..sel + 16]
            .copy_from_slice(&"fd00::2".parse::<std::net::Ipv6Addr>().unwrap().octets());
        p[sel + 16..sel + 32]
            .copy_from_slice(&"fd00::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
        p[sel + 40..sel + 42].copy_from_slice(&10u16.to_ne_bytes());
        p[sel + 42] = 128;
        p[sel + 43] = 64;
        p[sel + 44] = 58; // ipv6-icmp
        let coa = "fd00::9".parse::<std::net::Ipv6Addr>().unwrap().octets();
        push_fixed(&mut p, 14, &coa);
        p
    }

    #[test]
    fn report_decodes_from_uapi_bytes() {
        let p = report_bytes();
        let r = parse_report(&p).unwrap();
        assert_eq!(r.proto, IpsecProto::Route2);
        assert_eq!(r.selector.dst, Some("fd00::2".parse().unwrap()));
        assert_eq!(r.selector.src, Some("fd00::1".parse().unwrap()));
        assert_eq!((r.selector.dst_len, r.selector.src_len), (128, 64));
        assert_eq!(r.selector.proto, 58);
        assert_eq!(r.coaddr, Some("fd00::9".parse().unwrap()));
        // Without the attribute: no care-of address.
        assert_eq!(parse_report(&p[..60]).unwrap().coaddr, None);
        // Truncated: an error below the fixed part, never a panic.
        for n in 0..p.len() {
            let r = parse_report(&p[..n]);
            assert_eq!(r.is_ok(), n >= 60, "{n}");
        }
    }
}
