//! `ip address show | add | del`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use futures::TryStreamExt;
use serde_json::{Map, Value, json};
use tokio_netlink::Netlink;
use tokio_netlink::netlink_packet_route::address::AddressScope;
use tokio_netlink::route::address::{Address, Family, IntoPrefix, parse_scope, scope_name};

use crate::link::{Links, Listing, NO_NAMES, dev_arg, find, netns_names};
use crate::out::{self, Json};
use crate::{Opts, Res, Words, fail, json, text};

/// `ip addr show [dev NAME]`: each link with its `addr_info`. The
/// addresses are loaded first (sorted by link), then the links stream.
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let dev = dev_arg(&mut w)?;
    if let Some(extra) = w.next() {
        return Err(fail(format!("Garbage instead of arguments \"{extra}\".")));
    }
    let mut links = Links::open(nl, dev.as_deref()).await?;
    let mut addrs: Vec<Address> = nl.address().list().stream().try_collect().await?;
    addrs.sort_by_key(Address::index); // stable: the kernel's order per link
    let mut o = Listing::new(opts)?;
    let mut ns: Option<HashMap<i32, String>> = None;
    while let Some(l) = links.next().await? {
        if !opts.json && ns.is_none() && l.netnsid().is_some() {
            ns = Some(netns_names(nl).await);
        }
        let names = &links.names;
        let ns = ns.as_ref().unwrap_or(&NO_NAMES);
        let lo = addrs.partition_point(|a| a.index() < l.index());
        let hi = addrs.partition_point(|a| a.index() <= l.index());
        let mine = &addrs[lo..hi];
        if opts.details {
            let mut m = json::link(&l, names, false, true);
            m.insert("addr_info".into(), mine.iter().map(addr_json).collect());
            o.value(&Value::Object(m), |v| {
                let o = v.as_object().expect("object");
                let mut s = text::link(o, ns);
                for a in o["addr_info"].as_array().into_iter().flatten() {
                    s.push('\n');
                    s.push_str(&text::addr(a.as_object().expect("object")));
                }
                s
            })?;
        } else if opts.json {
            let j = &mut o.j;
            j.begin_obj()?;
            json::link_fields(j, &l, names, false)?;
            j.key("addr_info")?;
            j.begin_arr()?;
            for a in mine {
                addr_fields(j, a)?;
            }
            j.end_arr()?;
            j.end_obj()?;
        } else {
            let w = &mut o.j.w;
            json::link_text(w, &l, names, ns, false)?;
            for a in mine {
                addr_text(w, a)?;
            }
            w.write_all(b"\n")?;
        }
    }
    o.finish()
}

/// `ip`'s name of a scope, without allocating for the usual ones.
fn write_scope(w: &mut impl Write, s: AddressScope) -> io::Result<()> {
    match u8::from(s) {
        0 => w.write_all(b"global"),
        200 => w.write_all(b"site"),
        253 => w.write_all(b"link"),
        254 => w.write_all(b"host"),
        255 => w.write_all(b"nowhere"),
        n => out::uint(w, n.into()),
    }
}

/// Calls `f` with the flag names `ip` prints for an address, in order
/// (see [`addr_flag_names`]); returns the bits left.
fn each_addr_flag(
    flags: u32,
    v6: bool,
    mut f: impl FnMut(&'static str) -> io::Result<()>,
) -> io::Result<u32> {
    let mut rest = flags;
    for (mask, name) in IFA_FLAGS {
        if mask == 0x80 {
            if flags & mask == 0 {
                f("dynamic")?;
            }
        } else if rest & mask != 0 {
            f(if mask == 0x01 && v6 {
                "temporary"
            } else {
                name
            })?;
        }
        rest &= !mask;
    }
    Ok(rest)
}

/// One `addr_info` entry of `ip -j addr show` (see [`addr_json`]).
pub fn addr_fields<W: Write>(j: &mut Json<W>, a: &Address) -> io::Result<()> {
    let v6 = a.family() == Family::V6;
    j.begin_obj()?;
    j.kv_str("family", if v6 { "inet6" } else { "inet" })?;
    if let Some(ip) = a.address() {
        j.key("local")?;
        j.ip(ip)?;
    }
    if let Some(p) = a.peer() {
        j.key("address")?;
        j.ip(p)?;
    }
    j.kv_uint("prefixlen", a.prefix_len().into())?;
    if let Some(m) = a.metric() {
        j.kv_uint("metric", m.into())?;
    }
    if let Some(b) = a.broadcast() {
        j.key("broadcast")?;
        j.ip(b.into())?;
    }
    j.key("scope")?;
    j.quoted(|w| write_scope(w, a.scope()))?;
    let rest = each_addr_flag(a.flags().bits(), v6, |n| {
        j.key(n)?;
        j.bool(true)
    })?;
    if rest != 0 {
        j.key("ifa_flags")?;
        j.display(format_args!("{rest:02x}"))?;
    }
    if let Some(l) = a.label() {
        j.kv_str("label", l)?;
    }
    j.kv_uint("valid_life_time", a.valid_lft().unwrap_or(u32::MAX).into())?;
    j.kv_uint(
        "preferred_life_time",
        a.preferred_lft().unwrap_or(u32::MAX).into(),
    )?;
    j.end_obj()
}

/// The two lines `ip addr show` prints for an address, after a newline.
pub fn addr_text(w: &mut impl Write, a: &Address) -> io::Result<()> {
    let v6 = a.family() == Family::V6;
    w.write_all(if v6 { b"\n    inet6 " } else { b"\n    inet " })?;
    match a.address() {
        Some(ip) => out::ip(w, ip)?,
        None => w.write_all(b"?")?,
    }
    if let Some(p) = a.peer() {
        w.write_all(b" peer ")?;
        out::ip(w, p)?;
    }
    w.write_all(b"/")?;
    out::uint(w, a.prefix_len().into())?;
    w.write_all(b" ")?;
    if let Some(m) = a.metric() {
        write!(w, "metric {m} ")?;
    }
    if let Some(b) = a.broadcast() {
        w.write_all(b"brd ")?;
        out::ip4(w, b)?;
        w.write_all(b" ")?;
    }
    w.write_all(b"scope ")?;
    write_scope(w, a.scope())?;
    w.write_all(b" ")?;
    let rest = each_addr_flag(a.flags().bits(), v6, |f| {
        w.write_all(f.as_bytes())?;
        w.write_all(b" ")
    })?;
    if rest != 0 {
        write!(w, "flags {rest:02x} ")?;
    }
    if let Some(l) = a.label() {
        w.write_all(l.as_bytes())?;
    }
    let lft = |w: &mut dyn Write, v: Option<u32>| match v.unwrap_or(u32::MAX) {
        u32::MAX => w.write_all(b"forever"),
        v => write!(w, "{v}sec"),
    };
    w.write_all(b"\n       valid_lft ")?;
    lft(w, a.valid_lft())?;
    w.write_all(b" preferred_lft ")?;
    lft(w, a.preferred_lft())
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
