//! `ip address show | add | del`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Map, Value, json};
use tokio_netlink::Netlink;
use tokio_netlink::route::address::{Address, Family, IntoPrefix, parse_scope, scope_name};

use crate::link::{dev_arg, find, listing, netns_names, output};
use crate::{Opts, Res, Words, fail, json, text};

/// `ip addr show [dev NAME]`: each link with its `addr_info`.
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let dev = dev_arg(&mut w)?;
    if let Some(extra) = w.next() {
        return Err(fail(format!("Garbage instead of arguments \"{extra}\".")));
    }
    let (links, names) = listing(nl, dev.as_deref()).await?;
    let ns = netns_names(nl, &links, opts).await;
    let mut by_link: HashMap<u32, Vec<Address>> = HashMap::new();
    for a in nl.address().list().await? {
        by_link.entry(a.index()).or_default().push(a);
    }
    let objs = links
        .iter()
        .map(|l| {
            let mut o = json::link(l, &names, false, opts.details);
            let addrs = by_link.remove(&l.index()).unwrap_or_default();
            o.insert("addr_info".into(), addrs.iter().map(addr_json).collect());
            Value::Object(o)
        })
        .collect();
    output(objs, opts, |v| {
        let o = v.as_object().expect("object");
        let mut s = text::link(o, &ns);
        for a in o["addr_info"].as_array().into_iter().flatten() {
            s.push('\n');
            s.push_str(&text::addr(a.as_object().expect("object")));
        }
        s
    });
    Ok(())
}

/// A prefix and the device, in any order (`dev` before or after).
fn prefix_and_dev(
    w: &mut Words,
    word: &str,
    prefix: &mut Option<String>,
    dev: &mut Option<String>,
) -> Res<bool> {
    match word {
        "dev" => *dev = Some(w.arg("dev")?),
        "local" => *prefix = Some(w.arg("local")?),
        _ if prefix.is_none() => *prefix = Some(word.to_owned()),
        _ => return Ok(false),
    }
    Ok(true)
}

/// `forever` or seconds.
fn lifetime(w: &mut Words, key: &str) -> Res<u32> {
    match w.arg(key)?.as_str() {
        "forever" => Ok(u32::MAX),
        s => s
            .parse()
            .map_err(|_| fail(format!("{key} value \"{s}\" is invalid"))),
    }
}

/// `ip addr add PREFIX dev NAME [OPTIONS]`.
pub async fn add(nl: &Netlink, mut w: Words) -> Res<()> {
    let (mut prefix, mut dev) = (None, None);
    let (mut label, mut brd, mut scope, mut metric, mut peer) = (None, None, None, None, None);
    let (mut valid, mut preferred) = (None, None);
    let mut flags = Vec::new();
    while let Some(word) = w.next() {
        match word.as_str() {
            "label" => label = Some(w.arg("label")?),
            "broadcast" | "brd" => brd = Some(w.arg("broadcast")?),
            "scope" => {
                scope = Some(parse_scope(&w.arg("scope")?).map_err(|e| fail(e.to_string()))?)
            }
            "metric" | "priority" | "preference" => metric = Some(w.parse::<u32>("metric")?),
            "peer" => peer = Some(w.arg("peer")?),
            "valid_lft" => valid = Some(lifetime(&mut w, "valid_lft")?),
            "preferred_lft" => preferred = Some(lifetime(&mut w, "preferred_lft")?),
            "noprefixroute" | "nodad" | "optimistic" | "home" | "mngtmpaddr" => flags.push(word),
            other => {
                if !prefix_and_dev(&mut w, other, &mut prefix, &mut dev)? {
                    return Err(fail(format!(
                        "Garbage instead of arguments \"{other} ...\"."
                    )));
                }
            }
        }
    }
    let prefix = prefix.ok_or_else(|| fail("Not enough information: address is required."))?;
    let dev = dev.ok_or_else(|| fail("Not enough information: \"dev\" argument is required."))?;
    let (ip, len) = prefix
        .as_str()
        .into_prefix()
        .map_err(|e| fail(e.to_string()))?;
    let link = find(nl, &dev).await?;
    let mut b = nl.address().add(link.index(), (ip, len));
    if let Some(l) = label {
        b = b.label(&l);
    }
    if let Some(brd) = brd {
        b = b.broadcast(broadcast(&brd, ip, len)?);
    }
    // Like ip: 127/8 addresses default to host scope.
    match (scope, ip) {
        (Some(s), _) => b = b.scope(s),
        (None, IpAddr::V4(a)) if a.octets()[0] == 127 => {
            b = b.scope(parse_scope("host").expect("host"))
        }
        _ => {}
    }
    if let Some(m) = metric {
        b = b.metric(m);
    }
    if let Some(p) = peer {
        let (p, _) = p.as_str().into_prefix().map_err(|e| fail(e.to_string()))?;
        b = b.peer(p);
    }
    if valid.is_some() || preferred.is_some() {
        let (v, p) = (valid.unwrap_or(u32::MAX), preferred.unwrap_or(u32::MAX));
        if v == 0 {
            return Err(fail("valid_lft is zero"));
        }
        if p > v {
            return Err(fail("preferred_lft is greater than valid_lft"));
        }
        b = b.lifetimes(v, p);
    }
    for f in flags {
        b = match f.as_str() {
            "noprefixroute" => b.noprefixroute(),
            "nodad" => b.nodad(),
            "optimistic" => b.optimistic(),
            "home" => b.home(),
            _ => b.mngtmpaddr(),
        };
    }
    b.await?;
    Ok(())
}

/// `broadcast ADDR`, or `+`/`-`: the prefix's host bits all set / cleared.
fn broadcast(arg: &str, ip: IpAddr, len: u8) -> Res<Ipv4Addr> {
    let IpAddr::V4(a) = ip else {
        return Err(fail("Broadcast can be set only for IPv4 addresses"));
    };
    let host = if len >= 32 { 0 } else { u32::MAX >> len };
    match arg {
        "+" => Ok(Ipv4Addr::from(u32::from(a) | host)),
        "-" => Ok(Ipv4Addr::from(u32::from(a) & !host)),
        s => s
            .parse()
            .map_err(|_| fail(format!("Invalid broadcast address \"{s}\""))),
    }
}

/// `ip addr del PREFIX dev NAME`.
pub async fn del(nl: &Netlink, mut w: Words) -> Res<()> {
    let (mut prefix, mut dev) = (None, None);
    while let Some(word) = w.next() {
        if !prefix_and_dev(&mut w, &word, &mut prefix, &mut dev)? {
            return Err(fail(format!(
                "Garbage instead of arguments \"{word} ...\"."
            )));
        }
    }
    let prefix = prefix.ok_or_else(|| fail("Not enough information: address is required."))?;
    let dev = dev.ok_or_else(|| fail("Not enough information: \"dev\" argument is required."))?;
    let (ip, len) = prefix
        .as_str()
        .into_prefix()
        .map_err(|e| fail(e.to_string()))?;
    let link = find(nl, &dev).await?;
    nl.address().del(link.index(), (ip, len)).await?;
    Ok(())
}

/// IFA_F_* names in `ip`'s order; `permanent` is printed inverted as
/// `dynamic`, and IPv6 `secondary` as `temporary`.
const IFA_FLAGS: [(u32, &str); 12] = [
    (0x01, "secondary"),
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "home"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (0x80, "permanent"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
    (0x400, "autojoin"),
    (0x800, "stable-privacy"),
];

/// The flag names `ip` prints for an address, in order.
pub fn addr_flag_names(flags: u32, v6: bool) -> (Vec<&'static str>, u32) {
    let mut out = Vec::new();
    let mut rest = flags;
    for (mask, name) in IFA_FLAGS {
        if mask == 0x80 {
            if flags & mask == 0 {
                out.push("dynamic");
            }
        } else if rest & mask != 0 {
            out.push(if mask == 0x01 && v6 {
                "temporary"
            } else {
                name
            });
        }
        rest &= !mask;
    }
    (out, rest)
}

/// One address as an `addr_info` entry of `ip -j addr show`.
pub fn addr_json(a: &Address) -> Value {
    let v6 = a.family() == Family::V6;
    let mut o = Map::new();
    o.insert("family".into(), if v6 { "inet6" } else { "inet" }.into());
    if let Some(ip) = a.address() {
        o.insert("local".into(), ip.to_string().into());
    }
    if let Some(p) = a.peer() {
        o.insert("address".into(), p.to_string().into());
    }
    o.insert("prefixlen".into(), a.prefix_len().into());
    if let Some(m) = a.metric() {
        o.insert("metric".into(), m.into());
    }
    if let Some(b) = a.broadcast() {
        o.insert("broadcast".into(), b.to_string().into());
    }
    o.insert("scope".into(), scope_name(a.scope()).into());
    let (names, rest) = addr_flag_names(a.flags().bits(), v6);
    for n in names {
        o.insert(n.into(), true.into());
    }
    if rest != 0 {
        o.insert("ifa_flags".into(), format!("{rest:02x}").into());
    }
    if let Some(l) = a.label() {
        o.insert("label".into(), l.into());
    }
    o.insert(
        "valid_life_time".into(),
        a.valid_lft().unwrap_or(u32::MAX).into(),
    );
    o.insert(
        "preferred_life_time".into(),
        a.preferred_lft().unwrap_or(u32::MAX).into(),
    );
    json!(o)
}
