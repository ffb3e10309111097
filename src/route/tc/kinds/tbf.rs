//! `tbf`: the token bucket filter (`struct tc_tbf_qopt` and its 64-bit
//! rates), encoded as `q_tbf.c` encodes it.

use std::time::Duration;

use super::super::units::{Clock, Rate, RateSpec, rate_table};
use super::super::wire::{Rd, Writer, tca};
use crate::conn::attrs::nested_get;
use crate::error::{Error, Result};

const PARMS: u16 = 1;
const RTAB: u16 = 2;
const PTAB: u16 = 3;
const RATE64: u16 = 4;
const PRATE64: u16 = 5;
const BURST: u16 = 6;
const PBURST: u16 = 7;

/// `tbf rate RATE burst BYTES limit BYTES [peakrate RATE mtu BYTES]`.
///
/// ```
/// use tokio_netlink::route::tc::{Rate, Tbf};
/// use std::time::Duration;
/// let t = Tbf::new(Rate::mbit(1), 1600).latency(Duration::from_millis(50));
/// assert_eq!(t.limit, 125_000 / 20 + 1600);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tbf {
    /// `rate`: the bucket's fill rate.
    pub rate: Rate,
    /// `burst`: the bucket's size in bytes. Read back from the kernel's
    /// ticks as `tc` does, so a burst the clock cannot hold exactly comes
    /// back within a byte.
    pub burst: u32,
    /// `limit`: bytes that may wait for tokens.
    pub limit: u32,
    /// `peakrate`: a second, faster bucket of `mtu` bytes.
    pub peakrate: Option<Rate>,
    /// `mtu` (`minburst`): the peak bucket's size; needed with a peak rate.
    pub mtu: u32,
}

impl Tbf {
    /// A bucket of `burst` bytes filled at `rate`, with a limit of one
    /// burst (set [`latency`](Self::latency) or `limit` for more queue).
    pub fn new(rate: Rate, burst: u32) -> Tbf {
        Tbf {
            rate,
            burst,
            limit: burst,
            peakrate: None,
            mtu: 0,
        }
    }

    /// `latency`: the limit that lets a packet wait at most this long, as
    /// `tc` computes it (`rate × latency + burst`, capped by the peak
    /// bucket's).
    pub fn latency(mut self, latency: Duration) -> Tbf {
        let secs = latency.as_secs_f64();
        let mut lim = self.rate.bytes_per_sec() as f64 * secs + self.burst as f64;
        if let Some(p) = self.peakrate {
            let lim2 = p.bytes_per_sec() as f64 * secs + self.mtu as f64;
            lim = lim.min(lim2);
        }
        self.limit = lim.min(u32::MAX as f64) as u32;
        self
    }

    /// `peakrate RATE mtu BYTES`.
    pub fn peakrate(mut self, peakrate: Rate, mtu: u32) -> Tbf {
        self.peakrate = Some(peakrate);
        self.mtu = mtu;
        self
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        let rate = self.rate.bytes_per_sec();
        if rate == 0 {
            return Err(Error::invalid("rate", "a tbf needs a rate above 0"));
        }
        if self.burst == 0 {
            return Err(Error::invalid("burst", "a tbf needs a burst above 0"));
        }
        if self.limit == 0 {
            return Err(Error::invalid("limit", "a tbf needs a limit or a latency"));
        }
        let prate = self.peakrate.map_or(0, Rate::bytes_per_sec);
        if self.peakrate.is_some() && (prate == 0 || self.mtu == 0) {
            return Err(Error::invalid(
                "peakrate",
                "a peak rate needs a rate above 0 and an mtu",
            ));
        }
        let clock = Clock::get();
        let (rspec, rtab) = rate_table(clock, rate, self.mtu, 0);
        let mut opt = Vec::with_capacity(36);
        rspec.write(&mut opt);
        let peak = (prate > 0).then(|| rate_table(clock, prate, self.mtu, 0));
        peak.as_ref()
            .map_or(RateSpec::default(), |p| p.0)
            .write(&mut opt);
        opt.extend_from_slice(&self.limit.to_ne_bytes());
        opt.extend_from_slice(&clock.xmittime(rate, self.burst).to_ne_bytes());
        let mtu_ticks = if prate > 0 {
            clock.xmittime(prate, self.mtu)
        } else {
            0
        };
        opt.extend_from_slice(&mtu_ticks.to_ne_bytes());

        let nest = w.begin(tca::OPTIONS);
        w.attr("tbf", PARMS, &opt)?;
        w.u32("burst", BURST, self.burst)?;
        if rate >= 1 << 32 {
            w.attr("rate", RATE64, &rate.to_ne_bytes())?;
        }
        w.attr("rate", RTAB, &rtab)?;
        if let Some((_, ptab)) = &peak {
            if prate >= 1 << 32 {
                w.attr("peakrate", PRATE64, &prate.to_ne_bytes())?;
            }
            w.u32("mtu", PBURST, self.mtu)?;
            w.attr("peakrate", PTAB, ptab)?;
        }
        w.end("tbf", nest)
    }

    pub(crate) fn decode(options: &[u8]) -> Option<Tbf> {
        let p = nested_get(options, PARMS).filter(|p| p.len() >= 36)?;
        let r = Rd(p);
        let rspec = RateSpec::read(r, 0);
        let pspec = RateSpec::read(r, 12);
        let u64_of = |ty| nested_get(options, ty).map(|v| Rd(v).u64(0));
        let rate = u64_of(RATE64).unwrap_or(rspec.rate as u64);
        let prate = u64_of(PRATE64).unwrap_or(pspec.rate as u64);
        let clock = Clock::get();
        Some(Tbf {
            rate: Rate::bytes(rate),
            burst: clock.xmitsize(rate, r.u32(28)),
            limit: r.u32(24),
            peakrate: (prate > 0).then_some(Rate::bytes(prate)),
            mtu: if prate > 0 {
                clock.xmitsize(prate, r.u32(32))
            } else {
                0
            },
        })
    }
}
