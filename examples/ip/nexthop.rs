//! `ip nexthop show | get | add | replace | del | flush`.

use std::fmt::Write;

use futures::TryStreamExt;
use serde_json::{Map, Value};
use tokio_netlink::Netlink;
use tokio_netlink::netlink_packet_route::route::RouteProtocol;
use tokio_netlink::route::nexthop::{
    GroupType, NexthopList, NexthopObject, Resilient, parse_group,
};
use tokio_netlink::route::route::names::{parse_protocol, protocol_name};

use crate::json::Names;
use crate::link::Listing;
use crate::{Opts, Res, Words, addr_arg, fail};

/// RTNH_F_* names in `print_rt_flags`'s order.
const FLAGS: [(u32, &str); 8] = [
    (1, "dead"),
    (4, "onlink"),
    (2, "pervasive"),
    (8, "offload"),
    (64, "trap"),
    (16, "linkdown"),
    (32, "unresolved"),
    (0x100, "notify"),
];

/// `ip nexthop show [id N] [dev D] [groups] [fdb] [master M]`, `ip nexthop
/// flush …` with the same selectors.
pub async fn show(nl: &Netlink, w: Words, opts: Opts, flush: bool) -> Res<()> {
    let (id, list) = selectors(nl, w)?;
    if flush {
        // As ip: a count when something went, nothing otherwise.
        let n = list.flush().await?;
        if n > 0 {
            println!("Flushed {n} nexthops");
        }
        return Ok(());
    }
    let names = Names::load(nl).await?;
    let mut o = Listing::new(opts)?;
    if let Some(id) = id {
        let n = nl.nexthop().get(id).await?;
        o.value(&Value::Object(json(&n, &names, opts)), obj_text)?;
        return o.finish();
    }
    let mut st = std::pin::pin!(list.stream());
    while let Some(n) = st.try_next().await? {
        o.value(&Value::Object(json(&n, &names, opts)), obj_text)?;
    }
    o.finish()
}

/// `ip nexthop get id N`.
pub async fn get(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let id = match w.next().as_deref() {
        Some("id") => w.num("id")?,
        _ => return Err(fail("nexthop id is required")),
    };
    if let Some(extra) = w.next() {
        return Err(fail(format!("Garbage instead of arguments \"{extra}\".")));
    }
    let names = Names::load(nl).await?;
    let n = nl.nexthop().get(id).await?;
    let mut o = Listing::new(opts)?;
    o.value(&Value::Object(json(&n, &names, opts)), obj_text)?;
    o.finish()
}

fn selectors(nl: &Netlink, mut w: Words) -> Res<(Option<u32>, NexthopList)> {
    let mut l = nl.nexthop().list();
    let mut id = None;
    while let Some(word) = w.next() {
        l = match word.as_str() {
            "id" => {
                id = Some(w.num("id")?);
                l
            }
            "dev" => l.dev(w.arg("dev")?.as_str()),
            "master" => l.master(w.arg("master")?.as_str()),
            "groups" => l.groups(),
            "fdb" => l.fdb(),
            other => return Err(fail(format!("Unknown argument \"{other}\""))),
        };
    }
    Ok((id, l))
}

/// `ip nexthop del id N`.
pub async fn del(nl: &Netlink, mut w: Words) -> Res<()> {
    match w.next().as_deref() {
        Some("id") => Ok(nl.nexthop().del(w.num("id")?).await?),
        _ => Err(fail("nexthop id is required")),
    }
}

/// `ip nexthop add|replace id N { via A [dev D] | dev D | blackhole |
/// group G [type mpath | resilient [buckets N] [idle_timer S]
/// [unbalanced_timer S]] } [onlink] [fdb] [proto P]`.
pub async fn modify(nl: &Netlink, mut w: Words, opts: Opts, replace: bool) -> Res<()> {
    let h = nl.nexthop();
    let mut id = 0;
    let mut words = Vec::new();
    while let Some(word) = w.next() {
        if word == "id" {
            id = w.num("id")?;
        } else {
            words.push(word);
        }
    }
    let mut b = if replace { h.replace(id) } else { h.add(id) };
    if let Some(f) = opts.family {
        b = b.family(f);
    }
    let mut w = Words::new(words);
    let mut res: Option<Resilient> = None;
    while let Some(word) = w.next() {
        b = match word.as_str() {
            "via" => b.via(addr_arg(&w.arg("via")?, opts.family)?),
            "dev" => b.dev(w.arg("dev")?.as_str()),
            "onlink" => b.onlink(),
            "blackhole" => b.blackhole(),
            "fdb" => b.fdb(),
            "group" => b.group(parse_group(&w.arg("group")?)?),
            "proto" | "protocol" => {
                let p = parse_protocol(&w.arg("proto")?)?;
                b.protocol(RouteProtocol::from(p))
            }
            "type" => match w.arg("type")?.as_str() {
                "mpath" => b.mpath(),
                "resilient" => {
                    res = Some(Resilient::default());
                    b
                }
                t => return Err(fail(format!("\"{t}\" is not a valid group type"))),
            },
            "buckets" | "idle_timer" | "unbalanced_timer" => {
                let Some(r) = res.as_mut() else {
                    return Err(fail(format!("\"{word}\" needs \"type resilient\"")));
                };
                let v = w.num(&word)?;
                match word.as_str() {
                    "buckets" => {
                        r.buckets = Some(u16::try_from(v).map_err(|_| fail("Invalid buckets"))?)
                    }
                    "idle_timer" => r.idle_timer = Some(v),
                    _ => r.unbalanced_timer = Some(v),
                }
                b
            }
            other => {
                return Err(fail(format!(
                    "Garbage instead of arguments \"{other} ...\"."
                )));
            }
        };
    }
    if let Some(r) = res {
        b = b.resilient(r);
    }
    b.await?;
    Ok(())
}

fn obj_text(v: &Value) -> String {
    text(v.as_object().expect("object"))
}

/// One nexthop as `ip -j nexthop show` prints it (`print_nexthop`).
pub fn json(n: &NexthopObject, names: &Names, opts: Opts) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), n.id().into());
    if n.is_group() {
        let g: Vec<Value> = n
            .group()
            .iter()
            .map(|m| {
                let mut e = Map::new();
                e.insert("id".into(), m.id.into());
                if m.weight != 1 {
                    e.insert("weight".into(), m.weight.into());
                }
                Value::Object(e)
            })
            .collect();
        o.insert("group".into(), Value::Array(g));
        if n.group_type() == Some(GroupType::Resilient) {
            o.insert("type".into(), "resilient".into());
        }
        if let Some(r) = n.resilient() {
            let mut a = Map::new();
            a.insert("buckets".into(), r.buckets.into());
            a.insert("idle_timer".into(), r.idle_timer.into());
            a.insert("unbalanced_timer".into(), r.unbalanced_timer.into());
            a.insert("unbalanced_time".into(), r.unbalanced_time.into());
            o.insert("resilient_args".into(), Value::Object(a));
        }
    }
    if let Some(g) = n.gateway() {
        o.insert("gateway".into(), g.to_string().into());
    }
    if let Some(i) = n.oif() {
        o.insert("dev".into(), names.name(i).into());
    }
    let scope = u8::from(n.scope());
    if scope != 0 || opts.details {
        let s = match scope {
            0 => "global".to_owned(),
            200 => "site".to_owned(),
            253 => "link".to_owned(),
            254 => "host".to_owned(),
            255 => "nowhere".to_owned(),
            s => s.to_string(),
        };
        o.insert("scope".into(), s.into());
    }
    // After the scope, as `print_nexthop` prints it.
    if n.blackhole() {
        o.insert("blackhole".into(), Value::Null);
    }
    let proto = u8::from(n.protocol());
    if proto != 0 || opts.details {
        o.insert("protocol".into(), protocol_name(proto).into());
    }
    let flags: Vec<Value> = FLAGS
        .iter()
        .filter(|(b, _)| n.flags() & b != 0)
        .map(|(_, s)| Value::from(*s))
        .collect();
    o.insert("flags".into(), Value::Array(flags));
    if n.fdb() {
        o.insert("fdb".into(), Value::Null);
    }
    o
}

/// The line `ip nexthop show` (and `ip monitor`) prints, with its
/// trailing space.
pub fn text(o: &Map<String, Value>) -> String {
    let s = |k: &str| {
        o.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let mut out = format!("id {} ", s("id").unwrap_or_default());
    if let Some(Value::Array(g)) = o.get("group") {
        let members: Vec<String> = g
            .iter()
            .map(|m| match m.get("weight") {
                Some(w) => format!("{},{w}", m["id"]),
                None => m["id"].to_string(),
            })
            .collect();
        let _ = write!(out, "group {} ", members.join("/"));
    }
    if let Some(t) = s("type") {
        let _ = write!(out, "type {t} ");
    }
    if let Some(Value::Object(a)) = o.get("resilient_args") {
        for k in [
            "buckets",
            "idle_timer",
            "unbalanced_timer",
            "unbalanced_time",
        ] {
            let _ = write!(out, "{k} {} ", a[k]);
        }
    }
    for (k, label) in [("gateway", "via"), ("dev", "dev"), ("scope", "scope")] {
        if let Some(v) = s(k) {
            let _ = write!(out, "{label} {v} ");
        }
    }
    if o.contains_key("blackhole") {
        out.push_str("blackhole ");
    }
    if let Some(p) = s("protocol") {
        let _ = write!(out, "proto {p} ");
    }
    if let Some(Value::Array(f)) = o.get("flags") {
        for f in f {
            let _ = write!(out, "{} ", f.as_str().unwrap_or_default());
        }
    }
    if o.contains_key("fdb") {
        out.push_str("fdb");
    }
    out
}
