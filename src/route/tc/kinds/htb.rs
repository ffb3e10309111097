//! `htb`: the hierarchical token bucket, qdisc and classes, encoded as
//! `q_htb.c` encodes them (rate tables and 64-bit rates included).

use super::super::units::{Clock, Rate, RateSpec, rate_table};
use super::super::wire::{Rd, Writer, tca};
use crate::conn::attrs::nested_get;
use crate::error::{Error, Result};

const PARMS: u16 = 1;
const INIT: u16 = 2;
const CTAB: u16 = 3;
const RTAB: u16 = 4;
const DIRECT_QLEN: u16 = 5;
const RATE64: u16 = 6;
const CEIL64: u16 = 7;

/// The MTU `tc` sizes HTB's rate tables and default bursts for.
const MTU: u32 = 1600;

/// `htb [r2q N] [default MINOR] [direct_qlen P]`.
///
/// ```
/// use tokio_netlink::route::tc::Htb;
/// let h = Htb::new().default_class(0x10);
/// assert_eq!(h.r2q, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Htb {
    /// `r2q`: divides a class's rate into its default quantum.
    pub r2q: u32,
    /// `default`: the minor number of the class unclassified traffic goes
    /// to (0: sent directly, unshaped). `tc` reads it in hex.
    pub default_class: u32,
    /// `direct_qlen`: the queue of directly sent packets (None: the
    /// device's `txqueuelen`).
    pub direct_qlen: Option<u32>,
}

impl Default for Htb {
    fn default() -> Self {
        Htb::new()
    }
}

impl Htb {
    /// `tc`'s defaults: r2q 10, no default class.
    pub fn new() -> Htb {
        Htb {
            r2q: 10,
            default_class: 0,
            direct_qlen: None,
        }
    }

    /// `default MINOR`.
    pub fn default_class(mut self, minor: u32) -> Htb {
        self.default_class = minor;
        self
    }

    /// `r2q N`.
    pub fn r2q(mut self, r2q: u32) -> Htb {
        self.r2q = r2q;
        self
    }

    /// `direct_qlen P`.
    pub fn direct_qlen(mut self, packets: u32) -> Htb {
        self.direct_qlen = Some(packets);
        self
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        // struct tc_htb_glob: version, rate2quantum, defcls, debug,
        // direct_pkts.
        let mut glob = Vec::with_capacity(20);
        for v in [3u32, self.r2q, self.default_class, 0, 0] {
            glob.extend_from_slice(&v.to_ne_bytes());
        }
        let nest = w.begin(tca::OPTIONS);
        w.attr("htb", INIT, &glob)?;
        if let Some(q) = self.direct_qlen {
            w.u32("direct_qlen", DIRECT_QLEN, q)?;
        }
        w.end("htb", nest)
    }

    pub(crate) fn decode(options: &[u8]) -> Option<Htb> {
        let g = Rd(nested_get(options, INIT).filter(|g| g.len() >= 20)?);
        Some(Htb {
            r2q: g.u32(4),
            default_class: g.u32(8),
            direct_qlen: nested_get(options, DIRECT_QLEN).map(|v| Rd(v).u32(0)),
        })
    }
}

/// `htb rate RATE [ceil RATE] [burst BYTES] [cburst BYTES] [prio N]
/// [quantum BYTES]`. Fields left `None` get `tc`'s defaults when sent (ceil
/// = rate, bursts sized for the rate and a 1600-byte MTU, quantum from
/// the qdisc's r2q); read back from the kernel every field is `Some`.
///
/// ```
/// use tokio_netlink::route::tc::{HtbClass, Rate};
/// let c = HtbClass::new(Rate::mbit(10)).ceil(Rate::mbit(100)).prio(1);
/// assert_eq!(c.ceil, Some(Rate::mbit(100)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtbClass {
    /// `rate`: the guaranteed rate.
    pub rate: Rate,
    /// `ceil`: the rate it may borrow up to.
    pub ceil: Option<Rate>,
    /// `burst`: bytes it may send at once on its `rate` tokens. Read back
    /// from the kernel's ticks as `tc` does (within a byte).
    pub burst: Option<u32>,
    /// `cburst`: the same for `ceil`.
    pub cburst: Option<u32>,
    /// `prio`: lower values borrow spare bandwidth first (0-7).
    pub prio: u32,
    /// `quantum`: bytes served per round when borrowing.
    pub quantum: Option<u32>,
}

impl HtbClass {
    /// A class guaranteed `rate`.
    pub fn new(rate: Rate) -> HtbClass {
        HtbClass {
            rate,
            ceil: None,
            burst: None,
            cburst: None,
            prio: 0,
            quantum: None,
        }
    }

    /// `ceil RATE`.
    pub fn ceil(mut self, ceil: Rate) -> HtbClass {
        self.ceil = Some(ceil);
        self
    }

    /// `burst BYTES`.
    pub fn burst(mut self, bytes: u32) -> HtbClass {
        self.burst = Some(bytes);
        self
    }

    /// `cburst BYTES`.
    pub fn cburst(mut self, bytes: u32) -> HtbClass {
        self.cburst = Some(bytes);
        self
    }

    /// `prio N`.
    pub fn prio(mut self, prio: u32) -> HtbClass {
        self.prio = prio;
        self
    }

    /// `quantum BYTES`.
    pub fn quantum(mut self, bytes: u32) -> HtbClass {
        self.quantum = Some(bytes);
        self
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        let rate = self.rate.bytes_per_sec();
        if rate == 0 {
            return Err(Error::invalid("rate", "an htb class needs a rate above 0"));
        }
        let ceil = self.ceil.map_or(rate, Rate::bytes_per_sec);
        if ceil == 0 {
            return Err(Error::invalid(
                "ceil",
                "an htb class's ceil must be above 0",
            ));
        }
        if self.prio > 7 {
            return Err(Error::invalid(
                "prio",
                format!("{} is over htb's highest priority, 7", self.prio),
            ));
        }
        let clock = Clock::get();
        let default_burst = |r: u64| (r as f64 / clock.hz + MTU as f64) as u32;
        let burst = self.burst.unwrap_or_else(|| default_burst(rate));
        let cburst = self.cburst.unwrap_or_else(|| default_burst(ceil));
        let (rspec, rtab) = rate_table(clock, rate, MTU, 0);
        let (cspec, ctab) = rate_table(clock, ceil, MTU, 0);
        // struct tc_htb_opt: rate, ceil, buffer, cbuffer, quantum, level,
        // prio.
        let mut opt = Vec::with_capacity(44);
        rspec.write(&mut opt);
        cspec.write(&mut opt);
        for v in [
            clock.xmittime(rate, burst),
            clock.xmittime(ceil, cburst),
            self.quantum.unwrap_or(0),
            0,
            self.prio,
        ] {
            opt.extend_from_slice(&v.to_ne_bytes());
        }
        let nest = w.begin(tca::OPTIONS);
        if rate >= 1 << 32 {
            w.attr("rate", RATE64, &rate.to_ne_bytes())?;
        }
        if ceil >= 1 << 32 {
            w.attr("ceil", CEIL64, &ceil.to_ne_bytes())?;
        }
        w.attr("htb", PARMS, &opt)?;
        w.attr("rate", RTAB, &rtab)?;
        w.attr("ceil", CTAB, &ctab)?;
        w.end("htb", nest)
    }

    pub(crate) fn decode(options: &[u8]) -> Option<HtbClass> {
        let r = Rd(nested_get(options, PARMS).filter(|p| p.len() >= 44)?);
        let u64_of = |ty| nested_get(options, ty).map(|v| Rd(v).u64(0));
        let rate = u64_of(RATE64).unwrap_or(RateSpec::read(r, 0).rate as u64);
        let ceil = u64_of(CEIL64).unwrap_or(RateSpec::read(r, 12).rate as u64);
        let clock = Clock::get();
        Some(HtbClass {
            rate: Rate::bytes(rate),
            ceil: Some(Rate::bytes(ceil)),
            burst: Some(clock.xmitsize(rate, r.u32(24))),
            cburst: Some(clock.xmitsize(ceil, r.u32(28))),
            quantum: Some(r.u32(32)),
            prio: r.u32(40),
        })
    }
}

/// HTB's per-class statistics (`struct tc_htb_xstats`, `tc -s class`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HtbXstats {
    /// Packets sent on the class's own tokens.
    pub lends: u32,
    /// Packets sent on tokens borrowed from an ancestor.
    pub borrows: u32,
    /// Packets over the MTU.
    pub giants: u32,
    /// Tokens left at `rate`, in ticks.
    pub tokens: i32,
    /// Tokens left at `ceil`, in ticks.
    pub ctokens: i32,
}

impl HtbXstats {
    pub(crate) fn decode(v: &[u8]) -> Option<HtbXstats> {
        let r = Rd(v);
        (v.len() >= 20).then(|| HtbXstats {
            lends: r.u32(0),
            borrows: r.u32(4),
            giants: r.u32(8),
            tokens: r.i32(12),
            ctokens: r.i32(16),
        })
    }
}
