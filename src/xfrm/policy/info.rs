//! SPD counts (`ip xfrm policy count`) and the default policies
//! (`ip xfrm policy getdefault|setdefault`).

use crate::xfrm::types::{Rd, attrs};

/// SPD counts (`ip xfrm policy count`, XFRM_MSG_GETSPDINFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct SpdInfo {
    /// Inbound policies.
    pub in_count: u32,
    /// Outbound policies.
    pub out_count: u32,
    /// Forward policies.
    pub fwd_count: u32,
    /// Inbound per-socket policies.
    pub in_socket_count: u32,
    /// Outbound per-socket policies.
    pub out_socket_count: u32,
    /// Forward per-socket policies.
    pub fwd_socket_count: u32,
    /// Hash buckets in use.
    pub hash_count: u32,
    /// Hash buckets maximum.
    pub hash_max: u32,
    /// IPv4 hash thresholds `(lbits, rbits)`.
    pub ipv4_hthresh: Option<(u8, u8)>,
    /// IPv6 hash thresholds `(lbits, rbits)`.
    pub ipv6_hthresh: Option<(u8, u8)>,
}

impl SpdInfo {
    /// Decodes an XFRM_MSG_NEWSPDINFO payload.
    pub fn parse(payload: &[u8]) -> SpdInfo {
        let mut s = SpdInfo::default();
        for (t, v) in attrs(payload, 4) {
            let r = Rd(v);
            match t {
                1 if v.len() >= 24 => {
                    s.in_count = r.u32(0);
                    s.out_count = r.u32(4);
                    s.fwd_count = r.u32(8);
                    s.in_socket_count = r.u32(12);
                    s.out_socket_count = r.u32(16);
                    s.fwd_socket_count = r.u32(20);
                }
                2 if v.len() >= 8 => {
                    s.hash_count = r.u32(0);
                    s.hash_max = r.u32(4);
                }
                3 if v.len() >= 2 => s.ipv4_hthresh = Some((r.u8(0), r.u8(1))),
                4 if v.len() >= 2 => s.ipv6_hthresh = Some((r.u8(0), r.u8(1))),
                _ => {}
            }
        }
        s
    }
}

/// One default policy (`ip xfrm policy setdefault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DefaultAction {
    /// Leave unchanged (on set) / unknown (XFRM_USERPOLICY_UNSPEC).
    #[default]
    Unspec,
    /// `block`.
    Block,
    /// `accept`.
    Accept,
}

impl DefaultAction {
    pub(super) fn raw(self) -> u8 {
        match self {
            DefaultAction::Unspec => 0,
            DefaultAction::Block => 1,
            DefaultAction::Accept => 2,
        }
    }

    pub(super) fn from_raw(n: u8) -> Self {
        match n {
            1 => DefaultAction::Block,
            2 => DefaultAction::Accept,
            _ => DefaultAction::Unspec,
        }
    }
}

/// The default policies for traffic no policy matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct DefaultPolicy {
    /// Inbound.
    pub input: DefaultAction,
    /// Forwarded.
    pub forward: DefaultAction,
    /// Outbound.
    pub output: DefaultAction,
}
