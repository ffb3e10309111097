//! `ip route show | add | replace | append | del | get`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use std::io::Write;
use std::pin::pin;

use futures::TryStreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::netlink_packet_route::route::{
    RouteMetric, RouteProtocol, RouteScope, RouteType,
};
use tokio_netlink::route::address::{Family, IntoPrefix, parse_scope};
use tokio_netlink::route::route::names::{parse_protocol, parse_table, parse_type};
use tokio_netlink::route::route::{NexthopSpec, Route};

use crate::json::Names;
use crate::link::{Listing, find};
use crate::route_out::{Routes, Shown};
use crate::{Opts, Res, Words, addr_arg, fail, family_name, family_of};

/// What `route add|replace|append|del` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Append,
    Del,
}

fn garbage(word: &str) -> crate::Fail {
    fail(format!("Garbage instead of arguments \"{word} ...\"."))
}

/// A `PREFIX` argument: `default`/`all`/`any`, or `ADDR[/LEN]` of the
/// family when one is chosen.
fn prefix_arg(s: &str, family: Option<Family>) -> Res<(IpAddr, u8)> {
    if matches!(s, "default" | "all" | "any") {
        return Ok(match family.unwrap_or(Family::V4) {
            Family::V4 => (Ipv4Addr::UNSPECIFIED.into(), 0),
            Family::V6 => (Ipv6Addr::UNSPECIFIED.into(), 0),
        });
    }
    let (ip, len) = s.into_prefix().map_err(|e| fail(e.to_string()))?;
    match family {
        Some(f) if f != family_of(&ip) => Err(fail(format!(
            "{} prefix is expected rather than \"{s}\".",
            family_name(f)
        ))),
        _ => Ok((ip, len)),
    }
}

/// `via [inet|inet6] GW`.
fn via_arg(w: &mut Words, family: Option<Family>) -> Res<IpAddr> {
    let mut a = w.arg("via")?;
    let want = match a.as_str() {
        "inet" => Some(Family::V4),
        "inet6" => Some(Family::V6),
        _ => None,
    };
    if want.is_some() {
        a = w.arg("via")?;
    }
    addr_arg(&a, want.or(family))
}

/// All links by index, to name devices as `ip` does.
async fn names(nl: &Netlink) -> Res<Names> {
    Names::load(nl).await
}

/// `ip route show [table T|all] [proto P] [type T] [dev D] [[exact] PREFIX]`.
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let mut list = nl.route().list();
    let mut shown = Shown {
        table: true,
        details: opts.details,
        ..Shown::default()
    };
    let mut table = 254;
    let mut exact = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "table" => {
                let t = w.arg("table")?;
                table = match t.as_str() {
                    "all" => 0,
                    _ => parse_table(&t).map_err(|_| {
                        fail(format!(
                            "argument \"{t}\" is wrong: table id value is invalid"
                        ))
                    })?,
                };
            }
            "proto" | "protocol" => {
                let p = w.arg("protocol")?;
                if p != "all" {
                    let p = parse_protocol(&p).map_err(|e| fail(e.to_string()))?;
                    list = list.protocol(RouteProtocol::from(p));
                    shown.protocol = true;
                }
            }
            "type" => {
                let t = parse_type(&w.arg("type")?).map_err(|e| fail(e.to_string()))?;
                list = list.kind(RouteType::from(t));
            }
            "dev" | "oif" => {
                let d = w.arg("dev")?;
                list = list.dev(find(nl, &d).await?.index());
                shown.dev = true;
            }
            other => {
                let p = match other {
                    "to" | "exact" => w.arg(other)?,
                    _ => other.to_owned(),
                };
                if exact.is_some() {
                    return Err(garbage(&p));
                }
                exact = Some(prefix_arg(&p, opts.family)?);
            }
        }
    }
    shown.table = table != 0;
    list = list.table(table);
    // Like ip: one family, or both when every table is shown.
    let families = match (opts.family, exact, table) {
        (Some(f), _, _) => vec![f],
        (None, Some((ip, len)), _) if len > 0 => vec![family_of(&ip)],
        (None, _, 0) => vec![Family::V4, Family::V6],
        _ => vec![Family::V4],
    };
    let names = names(nl).await?;
    let mut routes = Routes::new(&names, shown);
    let mut o = Listing::new(opts)?;
    for f in families {
        let mut st = pin!(list.clone().family(f).stream());
        while let Some(r) = st.try_next().await? {
            let keep = exact.is_none_or(|(ip, len)| {
                r.dst_len() == len && r.destination().is_some_and(|d| d.ip() == ip)
            });
            // ip hides cached (cloned) routes unless asked for them.
            if keep && r.flags() & 0x200 == 0 {
                if opts.json {
                    routes.json(&mut o.j, &r)?;
                } else {
                    routes.text(&mut o.j.w, &r)?;
                    o.j.w.write_all(b"\n")?;
                }
            }
        }
    }
    o.finish()
}

/// One `nexthop …` group.
async fn nexthop(nl: &Netlink, w: &mut Words, family: Option<Family>) -> Res<NexthopSpec> {
    let (mut gw, mut dev, mut weight, mut onlink) = (None, None, None, false);
    while let Some(word) = w.peek().filter(|&p| p != "nexthop").map(str::to_owned) {
        w.next();
        match word.as_str() {
            "via" => gw = Some(via_arg(w, family)?),
            "dev" => dev = Some(find(nl, &w.arg("dev")?).await?.index()),
            "weight" => weight = Some(w.parse::<u16>("weight")?),
            "onlink" => onlink = true,
            other => return Err(garbage(other)),
        }
    }
    let mut nh = match (gw, dev) {
        (Some(g), _) => NexthopSpec::via(g),
        (None, Some(d)) => NexthopSpec::dev_only(d),
        (None, None) => return Err(fail("a nexthop needs \"via\" or \"dev\"")),
    };
    if let Some(d) = dev {
        nh = nh.dev(d);
    }
    if let Some(wt) = weight {
        nh = nh.weight(wt);
    }
    if onlink {
        nh = nh.onlink();
    }
    Ok(nh)
}

/// `ip route add|replace|append|del [TYPE] PREFIX [OPTIONS] [nexthop …]…`.
pub async fn modify(nl: &Netlink, mut w: Words, opts: Opts, op: Op) -> Res<()> {
    let (mut kind, mut dst, mut gw, mut dev, mut src) = (None, None, None, None, None);
    let (mut table, mut metric, mut proto, mut scope, mut tos) = (None, None, None, None, None);
    let (mut onlink, mut mtu, mut hops) = (false, None, Vec::new());
    let mut nhid = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "nhid" => nhid = Some(w.num("nhid")?),
            "via" => gw = Some(via_arg(&mut w, opts.family)?),
            "dev" | "oif" => dev = Some(w.arg("dev")?),
            "src" => src = Some(addr_arg(&w.arg("src")?, opts.family)?),
            "table" => table = Some(w.arg("table")?),
            "metric" | "priority" | "preference" => metric = Some(w.num("metric")?),
            "proto" | "protocol" => {
                let p = parse_protocol(&w.arg("protocol")?).map_err(|e| fail(e.to_string()))?;
                proto = Some(RouteProtocol::from(p));
            }
            "scope" => {
                let s = parse_scope(&w.arg("scope")?).map_err(|e| fail(e.to_string()))?;
                scope = Some(RouteScope::from(u8::from(s)));
            }
            "tos" | "dsfield" => {
                let t = w.num("tos")?;
                tos = Some(u8::try_from(t).map_err(|_| fail("TOS value is invalid"))?);
            }
            "onlink" => onlink = true,
            "mtu" => {
                let lock = w.peek() == Some("lock");
                if lock {
                    w.next();
                }
                mtu = Some((w.num("mtu")?, lock));
            }
            "nexthop" => {
                let fam = opts.family.or(gw.as_ref().map(family_of));
                hops.push(nexthop(nl, &mut w, fam).await?);
            }
            other if dst.is_none() => {
                let mut p = match other {
                    "to" => w.arg("to")?,
                    _ => other.to_owned(),
                };
                let starts_digit = p.starts_with(|c: char| c.is_ascii_digit());
                if let (false, Ok(t)) = (starts_digit || kind.is_some(), parse_type(&p)) {
                    kind = Some(RouteType::from(t));
                    p = w.arg("type")?;
                }
                dst = Some(p);
            }
            other => return Err(garbage(other)),
        }
    }
    let dst = dst.ok_or_else(|| fail("Not enough information: prefix is required."))?;
    // `default via 2001:db8::1` is an IPv6 route, as with ip.
    let family = match dst.as_str() {
        "default" | "all" | "any" => opts.family.or(gw.as_ref().map(family_of)),
        _ => opts.family,
    };
    let prefix = prefix_arg(&dst, family)?;
    let h = nl.route();
    let table = match table {
        Some(t) => Some(parse_table(&t).map_err(|e| fail(e.to_string()))?),
        // ip puts local, broadcast, nat and anycast routes in table local.
        None if kind.is_some_and(|k| matches!(u8::from(k), 2 | 3 | 4 | 10)) => Some(255),
        None => None,
    };
    let mut b = match op {
        Op::Add => h.add(prefix),
        Op::Replace => h.replace(prefix),
        Op::Append => h.append(prefix),
        Op::Del => {
            // A delete is selected by what identifies a route.
            if onlink || mtu.is_some() || !hops.is_empty() {
                return Err(fail("onlink, mtu and nexthop select no route to delete"));
            }
            let mut d = h.del(prefix);
            if let Some(k) = kind {
                d = d.kind(k);
            }
            if let Some(g) = gw {
                d = d.via(g);
            }
            if let Some(dv) = dev {
                d = d.dev(find(nl, &dv).await?.index());
            }
            if let Some(s) = src {
                d = d.src(s);
            }
            if let Some(t) = table {
                d = d.table(t);
            }
            if let Some(m) = metric {
                d = d.metric(m);
            }
            if let Some(p) = proto {
                d = d.protocol(p);
            }
            if let Some(s) = scope {
                d = d.scope(s);
            }
            if let Some(t) = tos {
                d = d.tos(t);
            }
            d.await?;
            return Ok(());
        }
    };
    if let Some(k) = kind {
        b = b.kind(k);
    }
    if let Some(g) = gw {
        b = b.via(g);
    }
    if let Some(d) = dev {
        b = b.dev(find(nl, &d).await?.index());
    }
    if let Some(s) = src {
        b = b.src(s);
    }
    if let Some(t) = table {
        b = b.table(t);
    }
    if let Some(m) = metric {
        b = b.metric(m);
    }
    if let Some(p) = proto {
        b = b.protocol(p);
    }
    if let Some(s) = scope {
        b = b.scope(s);
    }
    if let Some(t) = tos {
        b = b.tos(t);
    }
    if onlink {
        b = b.onlink();
    }
    if let Some(id) = nhid {
        b = b.nhid(id);
    }
    if let Some((m, lock)) = mtu {
        b = b.mtu(m);
        if lock {
            b = b.route_metric(RouteMetric::Lock(1 << 2));
        }
    }
    for nh in hops {
        b = b.nexthop(nh);
    }
    b.await?;
    Ok(())
}

/// `ip route get [to] ADDR [from A] [iif D] [oif D] [mark M] [uid U] [fibmatch]`.
pub async fn get(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let (mut dst, mut from, mut iif, mut oif) = (None, None, None, None);
    let (mut mark, mut uid, mut fibmatch) = (None, None, false);
    while let Some(word) = w.next() {
        match word.as_str() {
            "from" => from = Some(w.arg("from")?),
            "iif" => iif = Some(find(nl, &w.arg("iif")?).await?.index()),
            "oif" | "dev" => oif = Some(find(nl, &w.arg("oif")?).await?.index()),
            "mark" => mark = Some(w.num("mark")?),
            "uid" => uid = Some(w.num("uid")?),
            "fibmatch" => fibmatch = true,
            "to" => dst = Some(w.arg("to")?),
            other if dst.is_none() => dst = Some(other.to_owned()),
            other => return Err(garbage(other)),
        }
    }
    let dst = dst.ok_or_else(|| fail("need at least a destination address"))?;
    let (ip, _) = prefix_arg(&dst, opts.family)?;
    let mut g = nl.route().get(ip);
    if let Some(f) = from {
        g = g.from(prefix_arg(&f, Some(family_of(&ip)))?.0);
    }
    if let Some(i) = iif {
        g = g.iif(i);
    }
    if let Some(o) = oif {
        g = g.oif(o);
    }
    if let Some(m) = mark.filter(|&m| m != 0) {
        g = g.mark(m);
    }
    if let Some(u) = uid {
        g = g.uid(u);
    }
    if fibmatch {
        g = g.fibmatch();
    }
    let r: Route = g.await?;
    let names = names(nl).await?;
    let shown = Shown {
        details: opts.details,
        ..Shown::default()
    };
    let mut routes = Routes::new(&names, shown);
    let mut o = Listing::new(opts)?;
    if opts.json {
        routes.json(&mut o.j, &r)?;
    } else {
        routes.text(&mut o.j.w, &r)?;
        o.j.w.write_all(b"\n")?;
    }
    o.finish()
}
