//! `ip rule show | add | del`.

use std::fmt::Write;

use serde_json::{Map, Value};
use tokio_netlink::Netlink;
use tokio_netlink::netlink_packet_route::rule::RuleAction;
use tokio_netlink::route::address::Family;
use tokio_netlink::route::route::names::{table_name, type_name};
use tokio_netlink::route::rule::Rule;

use futures::TryStreamExt;

use crate::link::Listing;
use crate::{Opts, Res, Words, fail, parse_u32};

/// `ip rule show` (IPv4 unless `-6`).
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    if let Some(extra) = w.next() {
        return Err(fail(format!("Garbage instead of arguments \"{extra}\".")));
    }
    let fam = opts.family.unwrap_or(Family::V4);
    let mut o = Listing::new(opts)?;
    let mut st = std::pin::pin!(nl.rule().list().family(fam).stream());
    while let Some(r) = st.try_next().await? {
        let v = Value::Object(rule_json(&r));
        o.value(&v, |v| text(v.as_object().expect("object")))?;
    }
    o.finish()
}

/// `inet_proto_n2a` for the common protocols.
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

/// A port range: `sport` for one port, else `sport_start`/`sport_end`.
fn ports(o: &mut Map<String, Value>, key: &str, r: Option<(u16, u16)>) {
    match r {
        Some((a, b)) if a == b => {
            o.insert(key.into(), a.into());
        }
        Some((a, b)) => {
            o.insert(format!("{key}_start"), a.into());
            o.insert(format!("{key}_end"), b.into());
        }
        None => {}
    }
}

/// One rule as `ip -j rule show` prints it (`print_rule`).
pub fn rule_json(r: &Rule) -> Map<String, Value> {
    let mut o = Map::new();
    let host = if r.family() == Family::V4 { 32 } else { 128 };
    o.insert("priority".into(), r.priority().into());
    if r.invert() {
        o.insert("not".into(), Value::Null);
    }
    match r.source() {
        Some(s) => {
            o.insert("src".into(), s.ip().to_string().into());
            if s.prefix() != host {
                o.insert("srclen".into(), s.prefix().into());
            }
        }
        None => {
            o.insert("src".into(), "all".into());
        }
    }
    if let Some(d) = r.destination() {
        o.insert("dst".into(), d.ip().to_string().into());
        if d.prefix() != host {
            o.insert("dstlen".into(), d.prefix().into());
        }
    }
    if r.tos() != 0 {
        o.insert("tos".into(), format!("0x{:02x}", r.tos()).into());
    }
    if r.fwmark().is_some() || r.fwmask().is_some() {
        o.insert(
            "fwmark".into(),
            format!("{:#x}", r.fwmark().unwrap_or(0)).into(),
        );
        if let Some(m) = r.fwmask().filter(|&m| m != u32::MAX) {
            o.insert("fwmask".into(), format!("{m:#x}").into());
        }
    }
    if let Some(i) = r.iif() {
        o.insert("iif".into(), i.into());
    }
    if let Some(i) = r.oif() {
        o.insert("oif".into(), i.into());
    }
    if r.l3mdev() {
        o.insert("l3mdev".into(), Value::Null);
    }
    if let Some((a, b)) = r.uid_range() {
        o.insert("uid_start".into(), a.into());
        o.insert("uid_end".into(), b.into());
    }
    if let Some(p) = r.ip_proto() {
        o.insert("ipproto".into(), proto_name(p).into());
    }
    ports(&mut o, "sport", r.sport_range());
    ports(&mut o, "dport", r.dport_range());
    let table = r.table();
    if table != 0 {
        o.insert("table".into(), table_name(table).into());
        if let Some(n) = r.suppress_prefixlength() {
            o.insert("suppress_prefixlen".into(), n.into());
        }
        if let Some(g) = r.suppress_ifgroup() {
            o.insert("suppress_ifgroup".into(), g.to_string().into());
        }
    }
    match r.action() {
        RuleAction::Goto => {
            let g = r.goto().map_or_else(|| "none".into(), Value::from);
            o.insert("goto".into(), g);
        }
        RuleAction::Nop => {
            o.insert("nop".into(), Value::Null);
        }
        RuleAction::ToTable => {}
        a => {
            o.insert("action".into(), type_name(u8::from(a)).into());
        }
    }
    o
}

/// The line `ip rule show` prints for a rule object.
pub fn text(o: &Map<String, Value>) -> String {
    let s = |k: &str| {
        o.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let mut out = format!("{}:\t", s("priority").unwrap_or_default());
    if o.contains_key("not") {
        out.push_str("not ");
    }
    let _ = write!(out, "from {}", s("src").unwrap_or_default());
    if let Some(l) = s("srclen") {
        let _ = write!(out, "/{l}");
    }
    if let Some(d) = s("dst") {
        let _ = write!(out, " to {d}");
        if let Some(l) = s("dstlen") {
            let _ = write!(out, "/{l}");
        }
    }
    let pairs = [("tos", " tos "), ("fwmark", " fwmark "), ("fwmask", "/")];
    let more = [("iif", " iif "), ("oif", " oif ")];
    for (k, label) in pairs.into_iter().chain(more) {
        if let Some(v) = s(k) {
            let _ = write!(out, "{label}{v}");
        }
    }
    if o.contains_key("l3mdev") {
        out.push_str(" lookup [l3mdev-table]");
    }
    if let (Some(a), Some(b)) = (s("uid_start"), s("uid_end")) {
        let _ = write!(out, " uidrange {a}-{b}");
    }
    if let Some(p) = s("ipproto") {
        let _ = write!(out, " ipproto {p}");
    }
    for k in ["sport", "dport"] {
        if let Some(p) = s(k) {
            let _ = write!(out, " {k} {p}");
        }
        if let (Some(a), Some(b)) = (s(&format!("{k}_start")), s(&format!("{k}_end"))) {
            let _ = write!(out, " {k} {a}-{b}");
        }
    }
    if let Some(t) = s("table") {
        let _ = write!(out, " lookup {t}");
    }
    if let Some(n) = s("suppress_prefixlen") {
        let _ = write!(out, " suppress_prefixlength {n}");
    }
    if let Some(g) = s("suppress_ifgroup") {
        let _ = write!(out, " suppress_ifgroup {g}");
    }
    if let Some(g) = s("goto") {
        let _ = write!(out, " goto {g}");
    }
    if o.contains_key("nop") {
        out.push_str(" nop");
    }
    if let Some(a) = s("action") {
        let _ = write!(out, " {a}");
    }
    out
}

/// `from|to PREFIX`: `all` is no selector. The library refuses a
/// prefix of the other family (`-4`/`-6` or the other prefix).
fn prefix(w: &mut Words, key: &str) -> Res<Option<String>> {
    let p = w.arg(key)?;
    Ok((p != "all").then_some(p))
}

/// `ip rule add|del [not] [from P] [to P] [tos T] [fwmark M[/MASK]] [iif D]
/// [oif D] [priority N] [table T | goto N | blackhole | unreachable |
/// prohibit | nop]`.
pub async fn modify(nl: &Netlink, mut w: Words, opts: Opts, del: bool) -> Res<()> {
    let h = nl.rule();
    let mut b = if del { h.del() } else { h.add() };
    if let Some(f) = opts.family {
        b = b.family(f);
    }
    while let Some(word) = w.next() {
        b = match word.as_str() {
            "not" => b.invert(),
            "from" => match prefix(&mut w, "from")? {
                Some(p) => b.from(p.as_str()),
                None => b,
            },
            "to" => match prefix(&mut w, "to")? {
                Some(p) => b.to(p.as_str()),
                None => b,
            },
            "tos" | "dsfield" => {
                let t = w.num("tos")?;
                b.tos(u8::try_from(t).map_err(|_| fail("TOS value is invalid"))?)
            }
            "fwmark" => {
                let v = w.arg("fwmark")?;
                let (m, mask) = match v.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (v.as_str(), None),
                };
                let bad = || {
                    fail(format!(
                        "argument \"{v}\" is wrong: fwmark value is invalid"
                    ))
                };
                let m = parse_u32(m).ok_or_else(bad)?;
                let mask = mask.map(|k| parse_u32(k).ok_or_else(bad)).transpose()?;
                b.fwmark(m, mask)
            }
            "iif" | "dev" => b.iif(&w.arg("iif")?),
            "oif" => b.oif(&w.arg("oif")?),
            "priority" | "pref" | "preference" | "order" => b.priority(w.num("priority")?),
            "table" | "lookup" => b.table_name(&w.arg("table")?),
            "goto" => b.goto(w.num("goto")?),
            "nop" => b.action(RuleAction::Nop),
            "blackhole" => b.action(RuleAction::Blackhole),
            "unreachable" => b.action(RuleAction::Unreachable),
            "prohibit" => b.action(RuleAction::Prohibit),
            other => {
                return Err(fail(format!(
                    "Garbage instead of arguments \"{other} ...\"."
                )));
            }
        };
    }
    b.await?;
    Ok(())
}
