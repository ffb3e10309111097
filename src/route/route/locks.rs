//! `lock` on route metrics (RTAX_LOCK): which metrics the kernel must not
//! change (path MTU discovery, TCP's learnt values).

use netlink_packet_route::route::RouteMetric;

use super::{Route, RouteAdd};

/// A set of locked route metrics (`ip route add … mtu lock 1400`): bit
/// `1 << RTAX_*` of RTAX_LOCK. Combine with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct MetricLocks(pub u32);

macro_rules! locks {
    ($($(#[$doc:meta])* $name:ident $get:ident = $rtax:expr;)*) => {
        impl MetricLocks {
            $(
                $(#[$doc])*
                pub const $name: MetricLocks = MetricLocks(1 << $rtax);
            )*
            $(
                #[doc = concat!("Whether `", stringify!($get), "` is locked.")]
                #[inline]
                pub fn $get(self) -> bool {
                    self.0 & Self::$name.0 != 0
                }
            )*
        }
    };
}

locks! {
    /// `mtu lock`.
    MTU mtu = 2;
    /// `window lock`.
    WINDOW window = 3;
    /// `rtt lock`.
    RTT rtt = 4;
    /// `rttvar lock`.
    RTTVAR rttvar = 5;
    /// `ssthresh lock`.
    SSTHRESH ssthresh = 6;
    /// `cwnd lock`.
    CWND cwnd = 7;
    /// `advmss lock`.
    ADVMSS advmss = 8;
    /// `reordering lock`.
    REORDERING reordering = 9;
    /// `hoplimit lock`.
    HOPLIMIT hoplimit = 10;
    /// `initcwnd lock`.
    INITCWND initcwnd = 11;
    /// `rto_min lock`.
    RTO_MIN rto_min = 13;
    /// `initrwnd lock`.
    INITRWND initrwnd = 14;
    /// `quickack lock`.
    QUICKACK quickack = 15;
}

impl std::ops::BitOr for MetricLocks {
    type Output = MetricLocks;
    fn bitor(self, o: MetricLocks) -> MetricLocks {
        MetricLocks(self.0 | o.0)
    }
}

impl Route {
    /// The locked metrics (none when the route locks nothing).
    pub fn metric_locks(&self) -> MetricLocks {
        self.metrics()
            .iter()
            .find_map(|m| match m {
                RouteMetric::Lock(l) => Some(MetricLocks(*l)),
                _ => None,
            })
            .unwrap_or_default()
    }
}

impl RouteAdd {
    /// `lock` on these metrics (`mtu lock 1400` is `.mtu(1400)
    /// .lock(MetricLocks::MTU)`).
    #[inline]
    pub fn lock(self, locks: MetricLocks) -> Self {
        self.route_metric(RouteMetric::Lock(locks.0))
    }
}
