//! What `ip route show` selects beyond what the kernel filters: `to
//! [root|match|exact] PREFIX`, `via`, `src`, `scope`, `tos`.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::Route;
use crate::error::Result;
use crate::types::{Family, Refused};

/// How `to PREFIX` compares (iproute2's `root`, `match`, `exact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum To {
    /// The route's prefix is this one.
    Exact,
    /// The route's prefix lies inside this one (`to root`).
    Root,
    /// The route's prefix covers this one (`to match`: what a lookup of
    /// it could take).
    Match,
}

/// A prefix as a setter kept it.
type TakenPrefix = std::result::Result<(IpAddr, u8), Refused>;

/// The user-space part of a route listing's selection.
#[derive(Debug, Clone, Default)]
pub(super) struct RouteFilter {
    pub to: Option<(To, TakenPrefix)>,
    pub via: Option<std::result::Result<IpAddr, Refused>>,
    pub src: Option<std::result::Result<IpAddr, Refused>>,
    pub scope: Option<u8>,
    pub tos: Option<u8>,
}

impl RouteFilter {
    /// The filter with its inputs checked, and the one family its
    /// addresses name (a listing need not dump the other).
    pub fn checked(&self) -> Result<(Checked, Option<Family>)> {
        let to = match &self.to {
            Some((how, p)) => {
                let (ip, len) = p.clone().map_err(|r| r.error())?;
                Some((*how, IpNetwork::new(ip, len).expect("length checked")))
            }
            None => None,
        };
        let via = self.via.clone().transpose().map_err(|r| r.error())?;
        let src = self.src.clone().transpose().map_err(|r| r.error())?;
        let mut family = None;
        for ip in to.iter().map(|(_, n)| n.ip()).chain(via).chain(src) {
            // A gateway of the other family (RTA_VIA) does not name the
            // route's family; `to` and `src` do.
            if via != Some(ip) || family.is_none() {
                family.get_or_insert(Family::of(&ip));
            }
        }
        if via.is_some() && to.is_none() && src.is_none() {
            family = None; // IPv4 routes may go via IPv6 gateways
        }
        Ok((
            Checked {
                to,
                via,
                src,
                scope: self.scope,
                tos: self.tos,
            },
            family,
        ))
    }
}

/// A checked [`RouteFilter`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Checked {
    to: Option<(To, IpNetwork)>,
    via: Option<IpAddr>,
    src: Option<IpAddr>,
    scope: Option<u8>,
    tos: Option<u8>,
}

impl Checked {
    pub fn matches(&self, r: &Route) -> bool {
        if let Some((how, want)) = self.to {
            let len = r.dst_len();
            let Some(dst) = r.destination() else {
                return false;
            };
            if dst.is_ipv4() != want.is_ipv4() {
                return false;
            }
            let ok = match how {
                To::Exact => len == want.prefix() && want.contains(dst.ip()),
                To::Root => len >= want.prefix() && want.contains(dst.ip()),
                To::Match => {
                    len <= want.prefix()
                        && IpNetwork::new(dst.ip(), len).is_ok_and(|d| d.contains(want.ip()))
                }
            };
            if !ok {
                return false;
            }
        }
        if let Some(gw) = self.via
            && r.gateway() != Some(gw)
            && !r.nexthops().iter().any(|n| n.gateway == Some(gw))
        {
            return false;
        }
        self.src.is_none_or(|s| r.prefsrc() == Some(s))
            && self.scope.is_none_or(|s| u8::from(r.scope()) == s)
            && self.tos.is_none_or(|t| r.tos() == t)
    }
}
