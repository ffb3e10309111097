//! `ip route del`: the delete builder, a [`RouteAdd`] limited to what
//! identifies a route.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};

use super::add::RouteAdd;
use crate::error::{Context, Result};
use crate::route::link::LinkId;
use crate::types::Family;
use crate::types::IntoAddr;

/// Builder of `ip route del PREFIX …`; `.await` it. What is set selects the
/// route (the first that matches). See [`RouteHandle::del`](super::RouteHandle::del).
#[must_use = "nothing is deleted until the builder is awaited"]
#[derive(Debug)]
pub struct RouteDel(pub(super) RouteAdd);

impl RouteDel {
    /// `via GW`: only the route through this gateway.
    #[inline]
    pub fn via(self, gw: impl IntoAddr) -> Self {
        RouteDel(self.0.via(gw))
    }

    /// `dev D`: only the route through this device.
    #[inline]
    pub fn dev(self, dev: impl Into<LinkId>) -> Self {
        RouteDel(self.0.dev(dev))
    }

    /// `src A`: only the route with this preferred source.
    #[inline]
    pub fn src(self, a: impl IntoAddr) -> Self {
        RouteDel(self.0.src(a))
    }

    /// `-4`/`-6`: the family of a `"default"` destination.
    #[inline]
    pub fn family(self, f: Family) -> Self {
        RouteDel(self.0.family(f))
    }

    /// `table ID` (default: main).
    #[inline]
    pub fn table(self, id: u32) -> Self {
        RouteDel(self.0.table(id))
    }

    /// `table NAME`: main, local, default, an rt_tables name or a number.
    #[inline]
    pub fn table_name(self, name: &str) -> Self {
        RouteDel(self.0.table_name(name))
    }

    /// `metric N`: only the route with this metric.
    #[inline]
    pub fn metric(self, m: u32) -> Self {
        RouteDel(self.0.metric(m))
    }

    /// `proto P`: only a route of this protocol.
    #[inline]
    pub fn protocol(self, p: RouteProtocol) -> Self {
        RouteDel(self.0.protocol(p))
    }

    /// `scope S`: only a route of this scope.
    #[inline]
    pub fn scope(self, s: RouteScope) -> Self {
        RouteDel(self.0.scope(s))
    }

    /// The route type (blackhole, unreachable…): only a route of this type.
    #[inline]
    pub fn kind(self, t: RouteType) -> Self {
        RouteDel(self.0.kind(t))
    }

    /// `tos T`.
    #[inline]
    pub fn tos(self, tos: u8) -> Self {
        RouteDel(self.0.tos(tos))
    }

    /// The request, checked but not sent, for
    /// [`Requester::ack_batch`](crate::conn::Requester::ack_batch).
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        self.0.into_request().await
    }

    pub(crate) fn context(&self) -> Context {
        self.0.context()
    }
}

impl IntoFuture for RouteDel {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        self.0.into_future()
    }
}
