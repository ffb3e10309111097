//! Many route-family changes sent as one batch: `nl.batch()`.
//!
//! The builders (`route().add()`, `address().add()`, `neighbour().add()`,
//! `rule().add()`, and their replace/append/del forms) are checked and
//! turned into messages when the batch is sent, then go to the kernel
//! through [`Requester::ack_batch`](crate::conn::Requester::ack_batch):
//! as few datagrams as the send window allows, one wake-up for the lot.

use std::future::Future;
use std::pin::Pin;

use netlink_packet_route::RouteNetlinkMessage;

use crate::client::Netlink;
use crate::conn::Requester;
use crate::error::{Context, Result, ResultExt};
use crate::route::Route;
use crate::route::address::AddressAdd;
use crate::route::neighbour::NeighbourAdd;
use crate::route::route::{RouteAdd, RouteDel};
use crate::route::rule::RuleAdd;

/// A checked request: the message and its netlink flags.
type Request = (RouteNetlinkMessage, u16);
type Prepare = Pin<Box<dyn Future<Output = Result<Request>> + Send>>;

mod sealed {
    pub trait Sealed {}
}

/// A builder that can go into a [`Batch`]: `RouteAdd`, `RouteDel`,
/// `AddressAdd`, `NeighbourAdd`, `RuleAdd`.
pub trait BatchOp: sealed::Sealed + Send + 'static {
    /// What the change is, for its error, and its checked request (device
    /// names are looked up when the request is prepared).
    #[doc(hidden)]
    fn prepare(self) -> (Context, Prepare);
}

macro_rules! batch_op {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl BatchOp for $t {
            fn prepare(self) -> (Context, Prepare) {
                (self.context(), Box::pin(self.into_request()))
            }
        }
    )*};
}

batch_op!(RouteAdd, RouteDel, AddressAdd, NeighbourAdd, RuleAdd);

/// Changes to send together; see [`Netlink::batch`].
#[must_use = "nothing is sent until the batch is sent"]
pub struct Batch {
    rtnl: Requester<Route>,
    ops: Vec<(Context, Prepare)>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl Netlink {
    /// A batch of route-family changes, sent together and answered one by
    /// one, in order. For many changes at once this is the fast path: the
    /// kernel gets them in as few datagrams as the send window allows, and
    /// the caller is woken once.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut batch = nl.batch();
    /// for i in 0..=255u8 {
    ///     let dst = std::net::Ipv4Addr::new(203, 0, 113, i);
    ///     batch.push(nl.route().add((dst, 32)).dev("eth0"));
    /// }
    /// batch.push(nl.address().add("eth0", "192.0.2.1/24"));
    /// for result in batch.send().await? {
    ///     result?; // each change's own outcome
    /// }
    /// # Ok(()) }
    /// ```
    pub fn batch(&self) -> Batch {
        Batch {
            rtnl: self.rtnl(),
            ops: Vec::new(),
        }
    }
}

impl Batch {
    /// Adds a change (a route, address, neighbour or rule builder).
    pub fn push(&mut self, op: impl BatchOp) -> &mut Self {
        self.ops.push(op.prepare());
        self
    }

    /// Changes in the batch.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Checks every change, sends those that pass, and returns one result
    /// per change in the order they were pushed: a change refused before
    /// sending (bad input, unknown device) or by the kernel fails alone.
    /// The outer error is for the batch as a whole (connection closed,
    /// timeout). Each change's error carries its own context, as when the
    /// builder is awaited alone (`route add 10.9.0.0/16: File exists`).
    pub async fn send(self) -> Result<Vec<Result<()>>> {
        let mut results: Vec<(Context, Option<Result<()>>)> = Vec::with_capacity(self.ops.len());
        let mut requests = Vec::with_capacity(self.ops.len());
        for (ctx, op) in self.ops {
            match op.await {
                Ok(r) => {
                    requests.push(r);
                    results.push((ctx, None));
                }
                Err(e) => results.push((ctx, Some(Err(e)))),
            }
        }
        let mut sent = self.rtnl.ack_batch(requests).await?.into_iter();
        Ok(results
            .into_iter()
            .map(|(ctx, r)| match r {
                Some(refused) => refused,
                None => sent
                    .next()
                    .expect("one answer per request sent")
                    .within(&ctx),
            })
            .collect())
    }
}
