//! `serde` for [`Rule`], in `ip -j rule`'s words.

use ::serde::ser::{Serialize, Serializer};
use netlink_packet_route::rule::RuleAction;

use super::Rule;
use crate::route::route::names::type_name;
use crate::route::route::serde_table as table_text;
use crate::serde_util::{Fields, family_name};
use crate::types::Family;

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "ipv6-icmp".into(),
        132 => "sctp".into(),
        n => format!("ipproto-{n}"),
    }
}

/// A port range: `KEY` for one port, else `KEY_start` / `KEY_end`.
fn ports<M: ::serde::ser::SerializeMap>(
    m: &mut Fields<M>,
    keys: [&'static str; 3],
    r: Option<(u16, u16)>,
) -> Result<(), M::Error> {
    match r {
        Some((a, b)) if a == b => {
            m.put(keys[0], &a)?;
        }
        Some((a, b)) => {
            m.put(keys[1], &a)?.put(keys[2], &b)?;
        }
        None => {}
    }
    Ok(())
}

/// A rule as `ip -j rule show` prints it (`print_rule`), flags as `true`
/// where `ip` prints `null`:
///
/// | field | type | from |
/// |---|---|---|
/// | `family` | string | `inet`, `inet6` |
/// | `priority` | number | [`Rule::priority`] |
/// | `not` | `true` | [`Rule::invert`] |
/// | `src`, `dst` | string | the prefix's address (`src` is `all` when there is none) |
/// | `srclen`, `dstlen` | number | the prefix length, unless a host prefix |
/// | `tos` | string | `0x10` (only when not 0) |
/// | `fwmark`, `fwmask` | string | hex (`0x1`); `fwmask` only when not all ones |
/// | `iif`, `oif` | string | device names |
/// | `l3mdev` | `true` | [`Rule::l3mdev`] |
/// | `uid_start`, `uid_end` | number | [`Rule::uid_range`] |
/// | `ipproto` | string | `tcp`, `udp`, `icmp`, `ipv6-icmp`, `sctp`, `ipproto-N` |
/// | `sport`, `dport` | number | a single port; else `sport_start`/`sport_end`, `dport_start`/`dport_end` |
/// | `table` | string | `main`, `local`, `default` or the id as text (absent for 0) |
/// | `suppress_prefixlen`, `suppress_ifgroup` | number | |
/// | `goto` | number | the target priority of a `goto` rule |
/// | `nop` | `true` | a `nop` rule |
/// | `action` | string | `blackhole`, `unreachable`, `prohibit`… (absent for `lookup` rules) |
impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let host = if self.family() == Family::V4 { 32 } else { 128 };
        let mut m = Fields::begin(s)?;
        m.put("family", family_name(self.family()))?
            .put("priority", &self.priority())?
            .flag("not", self.invert())?;
        match self.source() {
            Some(p) => {
                m.put("src", &p.ip())?
                    .opt("srclen", (p.prefix() != host).then_some(p.prefix()))?;
            }
            None => {
                m.put("src", "all")?;
            }
        }
        if let Some(p) = self.destination() {
            m.put("dst", &p.ip())?
                .opt("dstlen", (p.prefix() != host).then_some(p.prefix()))?;
        }
        m.opt(
            "tos",
            (self.tos() != 0).then(|| format!("0x{:02x}", self.tos())),
        )?;
        if self.fwmark().is_some() || self.fwmask().is_some() {
            m.put("fwmark", &format!("{:#x}", self.fwmark().unwrap_or(0)))?
                .opt(
                    "fwmask",
                    self.fwmask()
                        .filter(|&k| k != u32::MAX)
                        .map(|k| format!("{k:#x}")),
                )?;
        }
        m.opt("iif", self.iif())?
            .opt("oif", self.oif())?
            .flag("l3mdev", self.l3mdev())?;
        if let Some((a, b)) = self.uid_range() {
            m.put("uid_start", &a)?.put("uid_end", &b)?;
        }
        m.opt("ipproto", self.ip_proto().map(proto_name))?;
        ports(
            &mut m,
            ["sport", "sport_start", "sport_end"],
            self.sport_range(),
        )?;
        ports(
            &mut m,
            ["dport", "dport_start", "dport_end"],
            self.dport_range(),
        )?;
        if self.table() != 0 {
            m.put("table", &table_text(self.table()))?
                .opt("suppress_prefixlen", self.suppress_prefixlength())?
                .opt("suppress_ifgroup", self.suppress_ifgroup())?;
        }
        match self.action() {
            RuleAction::Goto => {
                m.opt("goto", self.goto())?;
            }
            RuleAction::Nop => {
                m.flag("nop", true)?;
            }
            RuleAction::ToTable => {}
            a => {
                m.put("action", &type_name(u8::from(a)))?;
            }
        }
        m.end()
    }
}
