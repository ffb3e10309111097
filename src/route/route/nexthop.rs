//! `nexthop via GW dev D weight W`: one next hop of a multipath route.

use crate::route::link::LinkId;
use crate::types::{IntoAddr, Taken, take};

/// One next hop of a multipath route (`nexthop via GW dev D weight W`).
#[derive(Debug, Clone)]
pub struct NexthopSpec {
    /// The gateway, or why its text was refused (reported when the route's
    /// builder runs: Error is not Clone, this is).
    pub(super) gateway: Option<Taken>,
    pub(super) dev: Option<LinkId>,
    pub(super) weight: u16,
    pub(super) onlink: bool,
}

impl NexthopSpec {
    /// `nexthop via GW` (an address or its text; bad text fails the
    /// route's request with `InvalidInput { field: "nexthop via", .. }`).
    pub fn via(gateway: impl IntoAddr) -> Self {
        NexthopSpec {
            gateway: Some(take(gateway, "nexthop via")),
            dev: None,
            weight: 1,
            onlink: false,
        }
    }

    /// `nexthop dev D` (no gateway).
    pub fn dev_only(dev: impl Into<LinkId>) -> Self {
        NexthopSpec {
            gateway: None,
            dev: Some(dev.into()),
            weight: 1,
            onlink: false,
        }
    }

    /// `dev D`.
    #[inline]
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// `weight W`, 1 to 256.
    #[inline]
    pub fn weight(mut self, w: u16) -> Self {
        self.weight = w;
        self
    }

    /// `onlink`.
    #[inline]
    pub fn onlink(mut self) -> Self {
        self.onlink = true;
        self
    }
}
