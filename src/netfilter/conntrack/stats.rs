//! `conntrack -C` (the entry count) and `conntrack -S` (per-CPU statistics).

use std::fmt;

use futures::TryStreamExt;

use super::{ConntrackHandle, msg};
use crate::conn::RawMessage;
use crate::conn::attrs::{Attrs, attrs_start};
use crate::conn::requester::retry_interrupted;
use crate::error::{Error, Result};
use crate::netfilter::{Emit, NFGENMSG_LEN, be16_of, be32_of, check_attrs, kind};

/// The table's size (IPCTNL_MSG_CT_GET_STATS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct GlobalStats {
    /// Entries in the table (`conntrack -C`).
    pub entries: u32,
    /// `nf_conntrack_max` (kernels from 5.4 on report it).
    pub max_entries: Option<u32>,
}

/// One CPU's counters (IPCTNL_MSG_CT_GET_STATS_CPU), as `conntrack -S`
/// prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct CpuStats {
    /// The CPU.
    pub cpu: u16,
    /// Lookups that found an entry.
    pub found: u32,
    /// Packets that could not be tracked.
    pub invalid: u32,
    /// Entries inserted.
    pub insert: u32,
    /// Inserts that failed (a clash).
    pub insert_failed: u32,
    /// Packets dropped for want of an entry.
    pub drop: u32,
    /// Entries dropped early to make room.
    pub early_drop: u32,
    /// Packets in error (ICMP errors of no known connection…).
    pub error: u32,
    /// Lookups restarted after a concurrent change.
    pub search_restart: u32,
    /// Clashes resolved.
    pub clash_resolve: u32,
    /// Inserts refused because a hash chain was too long.
    pub chain_toolong: u32,
}

impl CpuStats {
    /// Decodes one message of the per-CPU dump.
    pub fn from_raw(raw: &RawMessage) -> Result<CpuStats> {
        let ty = raw.header.ty;
        let start = attrs_start(NFGENMSG_LEN);
        if ty != msg::ty(msg::GET_STATS_CPU) || raw.bytes.len() < start {
            return Err(Error::Decode {
                request: kind(ty),
                reason: format!(
                    "expected IPCTNL_MSG_CT_GET_STATS_CPU of at least {start} bytes, got type {ty:#x} of {}",
                    raw.bytes.len()
                ),
            });
        }
        check_attrs(ty, &raw.bytes, start, "per-CPU statistics")?;
        let p = raw.payload();
        let mut s = CpuStats {
            cpu: be16_of(&p[2..]).unwrap_or(0),
            ..CpuStats::default()
        };
        for (_, t, v) in Attrs::new(&raw.bytes, start) {
            let v = be32_of(v).unwrap_or(0);
            match t {
                2 => s.found = v,
                4 => s.invalid = v,
                8 => s.insert = v,
                9 => s.insert_failed = v,
                10 => s.drop = v,
                11 => s.early_drop = v,
                12 => s.error = v,
                13 => s.search_restart = v,
                14 => s.clash_resolve = v,
                15 => s.chain_toolong = v,
                _ => {}
            }
        }
        Ok(s)
    }
}

impl fmt::Display for CpuStats {
    /// A line of `conntrack -S`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<8}\tfound={} invalid={} insert={} insert_failed={} drop={} early_drop={} \
             error={} search_restart={} clash_resolve={} chaintoolong={}",
            format!("cpu={}", self.cpu),
            self.found,
            self.invalid,
            self.insert,
            self.insert_failed,
            self.drop,
            self.early_drop,
            self.error,
            self.search_restart,
            self.clash_resolve,
            self.chain_toolong
        )
    }
}

impl ConntrackHandle {
    /// `conntrack -C`: how many entries the table holds.
    pub async fn count(&self) -> Result<u32> {
        Ok(self.global_stats().await?.entries)
    }

    /// The entry count and the table's limit.
    pub async fn global_stats(&self) -> Result<GlobalStats> {
        let ty = msg::ty(msg::GET_STATS);
        let raw = self.req.get_raw(Emit::new(ty, 0, 0).message(), 0).await?;
        let start = attrs_start(NFGENMSG_LEN);
        check_attrs(ty, &raw.bytes, start, "global statistics")?;
        let mut s = GlobalStats::default();
        let mut seen = false;
        for (_, t, v) in Attrs::new(&raw.bytes, start) {
            match t {
                1 => {
                    s.entries = be32_of(v).unwrap_or(0);
                    seen = true;
                }
                2 => s.max_entries = be32_of(v),
                _ => {}
            }
        }
        if !seen {
            return Err(Error::Decode {
                request: kind(ty),
                reason: "no CTA_STATS_GLOBAL_ENTRIES in the reply".into(),
            });
        }
        Ok(s)
    }

    /// `conntrack -S`: each CPU's counters.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// for cpu in nl.conntrack().cpu_stats().await? {
    ///     println!("{cpu}"); // cpu=0 found=0 invalid=0 insert=0 … (tab-separated)
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn cpu_stats(&self) -> Result<Vec<CpuStats>> {
        let ty = msg::ty(msg::GET_STATS_CPU);
        retry_interrupted(kind(ty), || {
            self.req
                .dump_raw(Emit::new(ty, 0, 0).message(), 0)
                .and_then(|raw| std::future::ready(CpuStats::from_raw(&raw)))
                .try_collect()
        })
        .await
    }
}
