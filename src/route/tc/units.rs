//! Rates, sizes and times in `tc`'s spelling (`10mbit`, `32kb`, `10ms`),
//! and the kernel's scheduler clock (`/proc/net/psched`) that token
//! buckets are counted in.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};

/// Microseconds per second: `tc`'s time unit.
const USEC_PER_SEC: f64 = 1_000_000.0;

/// A rate in bytes per second, the kernel's unit. Parsed from `tc`'s
/// spelling: a bare number is bits per second; `bit kbit mbit gbit tbit`
/// scale by 1000, `kibit mibit gibit tibit` by 1024, and `bps kbps mbps
/// gbps tbps` (and `kibps`…) are bytes (case does not matter, as in `tc`).
///
/// ```
/// use tokio_netlink::route::tc::Rate;
/// let r: Rate = "10mbit".parse().unwrap();
/// assert_eq!(r.bytes_per_sec(), 1_250_000);
/// assert_eq!(r.to_string(), "10Mbit");
/// assert_eq!(Rate::bits(40_000_000_000).to_string(), "40Gbit");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(u64);

impl Rate {
    /// `n` bytes per second.
    pub const fn bytes(n: u64) -> Rate {
        Rate(n)
    }

    /// `n` bits per second (rounded down to whole bytes, as `tc` does).
    pub const fn bits(n: u64) -> Rate {
        Rate(n / 8)
    }

    /// `n` megabits per second.
    pub const fn mbit(n: u64) -> Rate {
        Rate(n * 1_000_000 / 8)
    }

    /// Bytes per second.
    pub const fn bytes_per_sec(self) -> u64 {
        self.0
    }
}

const RATE_SUFFIXES: &[(&str, f64)] = &[
    ("bit", 1.0),
    ("kibit", 1024.0),
    ("kbit", 1000.0),
    ("mibit", 1_048_576.0),
    ("mbit", 1_000_000.0),
    ("gibit", 1_073_741_824.0),
    ("gbit", 1_000_000_000.0),
    ("tibit", 1_099_511_627_776.0),
    ("tbit", 1_000_000_000_000.0),
    ("bps", 8.0),
    ("kibps", 8.0 * 1024.0),
    ("kbps", 8000.0),
    ("mibps", 8.0 * 1_048_576.0),
    ("mbps", 8_000_000.0),
    ("gibps", 8.0 * 1_073_741_824.0),
    ("gbps", 8_000_000_000.0),
    ("tibps", 8.0 * 1_099_511_627_776.0),
    ("tbps", 8_000_000_000_000.0),
];

/// The number at the start of `s` and the rest (a suffix).
fn number(s: &str) -> Option<(f64, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let n: f64 = s[..end].parse().ok()?;
    n.is_finite().then_some((n, &s[end..]))
}

/// Parses a rate for `field`.
pub(crate) fn parse_rate(field: &'static str, s: &str) -> Result<Rate> {
    let bad = || {
        Error::invalid(
            field,
            format!("{s:?} is not a rate (a number with bit, kbit, mbit, gbit, bps, kbps…)"),
        )
    };
    let (n, suffix) = number(s).ok_or_else(bad)?;
    let scale = if suffix.is_empty() {
        1.0
    } else {
        RATE_SUFFIXES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(suffix))
            .ok_or_else(bad)?
            .1
    };
    let bytes = n * scale / 8.0;
    if bytes >= u64::MAX as f64 {
        return Err(Error::invalid(field, format!("{s:?} is too large a rate")));
    }
    Ok(Rate(bytes as u64))
}

impl FromStr for Rate {
    type Err = Error;

    fn from_str(s: &str) -> Result<Rate> {
        parse_rate("rate", s)
    }
}

impl fmt::Display for Rate {
    /// As `tc` prints it (`print_rate`): bits, in the largest 1000-unit
    /// that divides it (or that leaves it over 1000 of the next).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
        let mut rate = self.0.saturating_mul(8);
        let mut i = 0;
        while i < UNITS.len() - 1 {
            if rate < 1000 || (!rate.is_multiple_of(1000) && rate < 1_000_000) {
                break;
            }
            rate /= 1000;
            i += 1;
        }
        write!(f, "{rate}{}bit", UNITS[i])
    }
}

/// Parses a size in bytes, naming `field` in errors (`tc`'s `get_size`): a bare number
/// or `b` is bytes; `k kb`, `m mb`, `g gb` scale by 1024; `kbit mbit gbit`
/// are 1024-based bits.
pub fn parse_size(field: &'static str, s: &str) -> Result<u32> {
    let bad = || {
        Error::invalid(
            field,
            format!("{s:?} is not a size (a number with b, kb, mb, gb, kbit…)"),
        )
    };
    let (n, suffix) = number(s).ok_or_else(bad)?;
    let scale = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1024.0,
        "m" | "mb" => 1_048_576.0,
        "g" | "gb" => 1_073_741_824.0,
        "kbit" => 1024.0 / 8.0,
        "mbit" => 1_048_576.0 / 8.0,
        "gbit" => 1_073_741_824.0 / 8.0,
        _ => return Err(bad()),
    };
    let v = n * scale;
    if v > u32::MAX as f64 {
        return Err(Error::invalid(
            field,
            format!("{s:?} is more than 4 GiB, which the kernel's 32-bit field cannot hold"),
        ));
    }
    Ok(v as u32)
}

/// A size as `tc` prints it (`sprint_size`): `1600b`, `32Kb`, `4Mb`.
pub fn format_size(sz: u32) -> String {
    let t = sz as f64;
    let mb = 1_048_576.0;
    if t >= mb && (mb * (t / mb).round() - t).abs() < 1024.0 {
        format!("{}Mb", (t / mb).round())
    } else if t >= 1024.0 && (1024.0 * (t / 1024.0).round() - t).abs() < 16.0 {
        format!("{}Kb", (t / 1024.0).round())
    } else {
        format!("{sz}b")
    }
}

/// Parses a time, naming `field` in errors (`tc`'s `get_time`): a bare number is
/// microseconds; `s sec secs`, `ms msec msecs`, `us usec usecs`.
pub fn parse_time(field: &'static str, s: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid(
            field,
            format!("{s:?} is not a time (a number with s, ms or us)"),
        )
    };
    let (n, suffix) = number(s).ok_or_else(bad)?;
    let usec = match suffix.to_ascii_lowercase().as_str() {
        "" | "us" | "usec" | "usecs" => n,
        "ms" | "msec" | "msecs" => n * 1000.0,
        "s" | "sec" | "secs" => n * USEC_PER_SEC,
        _ => return Err(bad()),
    };
    if usec > u32::MAX as f64 {
        return Err(Error::invalid(field, format!("{s:?} is too long")));
    }
    Ok(Duration::from_nanos((usec * 1000.0) as u64))
}

/// The scheduler clock: how many kernel ticks make a microsecond, from
/// `/proc/net/psched` as `tc` reads it (`tc_core_init`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    tick_in_usec: f64,
    /// `get_hz()`: the timer frequency `tc` uses for default bursts.
    pub hz: f64,
}

impl Clock {
    /// The clock every modern kernel reports (`3e8 40 f4240 3b9aca00`):
    /// 64 ns ticks.
    const DEFAULT: Clock = Clock {
        tick_in_usec: 15.625,
        hz: 1_000_000_000.0,
    };

    fn read() -> Clock {
        let Ok(text) = std::fs::read_to_string("/proc/net/psched") else {
            return Clock::DEFAULT;
        };
        let v: Vec<u32> = text
            .split_whitespace()
            .filter_map(|w| u32::from_str_radix(w, 16).ok())
            .collect();
        let [t2us, us2t, clock_res, hz_denom] = match v[..] {
            [a, b, c, d, ..] => [a, b, c, d],
            _ => return Clock::DEFAULT,
        };
        if us2t == 0 {
            return Clock::DEFAULT;
        }
        // tc's compatibility rule: a nanosecond clock advertises t2us 1000.
        let t2us = if clock_res == 1_000_000_000 {
            us2t
        } else {
            t2us
        };
        let factor = clock_res as f64 / USEC_PER_SEC;
        let hz = if clock_res == 1_000_000 {
            hz_denom as f64
        } else {
            100.0
        };
        Clock {
            tick_in_usec: t2us as f64 / us2t as f64 * factor,
            hz,
        }
    }

    /// The clock of this machine, read once.
    pub fn get() -> Clock {
        static CLOCK: OnceLock<Clock> = OnceLock::new();
        *CLOCK.get_or_init(Clock::read)
    }

    /// Whole microseconds to ticks (`tc_core_time2tick`, which takes an
    /// unsigned int: `tc` drops the fraction first, and so do we, so that
    /// what we send equals what `tc` sends).
    pub fn time2tick(self, usec: u32) -> u32 {
        (usec as f64 * self.tick_in_usec) as u32
    }

    /// The ticks it takes to send `size` bytes at `rate`
    /// (`tc_calc_xmittime`, truncating as `tc` does).
    pub fn xmittime(self, rate: u64, size: u32) -> u32 {
        if rate == 0 {
            return 0;
        }
        let usec = USEC_PER_SEC * (size as f64 / rate as f64);
        self.time2tick(usec.min(u32::MAX as f64) as u32)
    }

    /// The bytes sent at `rate` in `ticks`. Unlike `tc_calc_xmitsize`,
    /// which first truncates to whole microseconds (at 10 Gbit/s `tc`
    /// shows a burst up to 1,250 bytes short), this is what the kernel's
    /// ticks hold, to the byte below.
    pub fn xmitsize(self, rate: u64, ticks: u32) -> u32 {
        let usec = ticks as f64 / self.tick_in_usec;
        (rate as f64 * usec / USEC_PER_SEC).min(u32::MAX as f64) as u32
    }
}

/// `struct tc_ratespec`, 12 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RateSpec {
    pub cell_log: u8,
    pub linklayer: u8,
    pub overhead: u16,
    pub cell_align: i16,
    pub mpu: u16,
    pub rate: u32,
}

/// `TC_LINKLAYER_ETHERNET`.
pub(crate) const LINKLAYER_ETHERNET: u8 = 1;

impl RateSpec {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.cell_log);
        out.push(self.linklayer);
        out.extend_from_slice(&self.overhead.to_ne_bytes());
        out.extend_from_slice(&self.cell_align.to_ne_bytes());
        out.extend_from_slice(&self.mpu.to_ne_bytes());
        out.extend_from_slice(&self.rate.to_ne_bytes());
    }

    pub fn read(r: super::wire::Rd<'_>, off: usize) -> RateSpec {
        RateSpec {
            cell_log: r.u8(off),
            linklayer: r.u8(off + 1),
            overhead: r.u16(off + 2),
            cell_align: r.u16(off + 4) as i16,
            mpu: r.u16(off + 6),
            rate: r.u32(off + 8),
        }
    }
}

/// The rate spec and 256-entry rate table `tc` sends for `rate`
/// (`tc_calc_rtable` on an Ethernet link layer, cell log from `mtu`).
/// Rates from 4 GiB/s up go in a 64-bit attribute; the spec holds ~0.
pub(crate) fn rate_table(clock: Clock, rate: u64, mtu: u32, mpu: u16) -> (RateSpec, Vec<u8>) {
    let mtu = if mtu == 0 { 2047 } else { mtu };
    let mut cell_log = 0u8;
    while (mtu >> cell_log) > 255 {
        cell_log += 1;
    }
    let mut table = Vec::with_capacity(1024);
    for i in 0..256u32 {
        let sz = ((i + 1) << cell_log).max(mpu as u32);
        table.extend_from_slice(&clock.xmittime(rate, sz).to_ne_bytes());
    }
    let spec = RateSpec {
        cell_log,
        linklayer: LINKLAYER_ETHERNET,
        overhead: 0,
        cell_align: -1,
        mpu,
        rate: u32::try_from(rate).unwrap_or(u32::MAX),
    };
    (spec, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_like_tc() {
        for (s, bytes) in [
            ("8", 1),
            ("1kbit", 125),
            ("10mbit", 1_250_000),
            ("10Mbit", 1_250_000),
            ("1gbit", 125_000_000),
            ("100kbps", 100_000),
            ("1mibit", 131_072),
            ("40gbit", 5_000_000_000),
            ("1.5mbit", 187_500),
        ] {
            assert_eq!(parse_rate("rate", s).unwrap(), Rate(bytes), "{s}");
        }
        for bad in ["", "mbit", "10 mbit", "10xbit", "-1mbit", "1e3bit", "nan"] {
            let e = parse_rate("rate", bad).unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { field: "rate", .. }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rates_print_like_tc() {
        for (bytes, s) in [
            (125_000, "1Mbit"),
            (1_250_000, "10Mbit"),
            (187_500, "1500Kbit"),
            (1, "8bit"),
            (5_000_000_000, "40Gbit"),
            (12_345, "98760bit"),
        ] {
            assert_eq!(Rate(bytes).to_string(), s, "{bytes}");
        }
    }

    #[test]
    fn sizes_and_times_parse_like_tc() {
        assert_eq!(parse_size("burst", "1600").unwrap(), 1600);
        assert_eq!(parse_size("burst", "32kb").unwrap(), 32 * 1024);
        assert_eq!(parse_size("burst", "1mb").unwrap(), 1 << 20);
        assert_eq!(parse_size("burst", "8kbit").unwrap(), 1024);
        assert!(parse_size("burst", "5gb").is_err());
        assert!(parse_size("burst", "1x").is_err());
        assert_eq!(
            parse_time("latency", "10ms").unwrap(),
            Duration::from_millis(10)
        );
        assert_eq!(parse_time("latency", "1s").unwrap(), Duration::from_secs(1));
        assert_eq!(
            parse_time("latency", "250").unwrap(),
            Duration::from_micros(250)
        );
        assert!(parse_time("latency", "1h").is_err());
        assert_eq!(format_size(1600), "1600b");
        assert_eq!(format_size(32 * 1024), "32Kb");
        assert_eq!(format_size(4 << 20), "4Mb");
    }

    #[test]
    fn rate_tables_match_tc() {
        // 1mbit with mtu 1600: cell_log 3, entry i is ((i+1) << 3) bytes.
        let c = Clock::DEFAULT;
        let (spec, table) = rate_table(c, 125_000, 1600, 0);
        assert_eq!(spec.cell_log, 3);
        assert_eq!(spec.rate, 125_000);
        assert_eq!(table.len(), 1024);
        // 8 bytes at 125000 B/s = 64 us = 1000 ticks of 64 ns.
        assert_eq!(u32::from_ne_bytes(table[0..4].try_into().unwrap()), 1000);
        assert_eq!(c.xmittime(125_000, 1600), 200_000);
        assert_eq!(c.xmitsize(125_000, 200_000), 1600);
        let (big, _) = rate_table(c, 5_000_000_000, 1600, 0);
        assert_eq!(big.rate, u32::MAX);
    }
}
