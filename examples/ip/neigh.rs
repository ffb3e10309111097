//! `ip neigh show | add | replace | del`.

use std::fmt::Write;

use serde_json::{Map, Value};
use tokio_netlink::Netlink;
use tokio_netlink::route::link::MacAddr;
use tokio_netlink::route::neighbour::{Neighbour, parse_state, state_names};

use crate::json::{Names, ll_addr};
use futures::TryStreamExt;

use crate::link::{Listing, find};
use crate::{Opts, Res, Words, addr_arg, fail};

/// What `neigh add|replace|del` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Del,
}

const NUD_NOARP: u32 = 0x40;
/// ip's pseudo-state for entries in state NONE (0).
const NUD_NONE_BIT: u32 = 0x100;
/// NTF_* bits and their names, in `print_neigh`'s order.
const NTF_ROUTER: u8 = 0x80;
const NTF_PROXY: u8 = 0x08;
const NTF_EXT_LEARNED: u8 = 0x10;
const NTF_OFFLOADED: u8 = 0x20;

/// `ip neigh show [dev D] [proxy] [nud STATE|all]…`.
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let mut list = nl.neighbour().list();
    let (mut dev, mut proxy) = (false, false);
    // Like ip: everything but NOARP (and NONE) entries unless asked.
    let mut states = 0xff & !NUD_NOARP;
    let mut nud_given = false;
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => {
                list = list.dev(find(nl, &w.arg("dev")?).await?.index());
                dev = true;
            }
            "proxy" => {
                list = list.proxy();
                proxy = true;
            }
            "nud" => {
                if !nud_given {
                    states = 0;
                    nud_given = true;
                }
                let s = w.arg("nud")?;
                states |= match s.as_str() {
                    "all" => u32::MAX,
                    _ => match u32::from(u16::from(
                        parse_state(&s).map_err(|e| fail(e.to_string()))?,
                    )) {
                        0 => NUD_NONE_BIT,
                        n => n,
                    },
                };
            }
            other => {
                return Err(fail(format!(
                    "Garbage instead of arguments \"{other} ...\"."
                )));
            }
        }
    }
    if let Some(f) = opts.family {
        list = list.family(f);
    }
    let names = Names::load(nl).await?;
    let mut o = Listing::new(opts)?;
    let mut st = std::pin::pin!(list.stream());
    while let Some(n) = st.try_next().await? {
        let (st, fl) = (u32::from(n.state()), n.flags().bits());
        let wanted = st & states != 0
            || fl & (NTF_PROXY | NTF_EXT_LEARNED) != 0
            || (st == 0 && states & NUD_NONE_BIT != 0);
        if wanted && (!proxy || fl & NTF_PROXY != 0) {
            let v = Value::Object(neigh_json(&n, &names, dev));
            o.value(&v, |v| text(v.as_object().expect("object")))?;
        }
    }
    o.finish()
}

/// One entry as `ip -j neigh show` prints it; `dev_given` leaves out `dev`.
pub fn neigh_json(n: &Neighbour, names: &Names, dev_given: bool) -> Map<String, Value> {
    let mut o = Map::new();
    if let Some(d) = n.destination() {
        o.insert("dst".into(), d.to_string().into());
    }
    if !dev_given && n.index() != 0 {
        o.insert("dev".into(), names.name(n.index()).into());
    }
    if let Some(l) = n.lladdr() {
        o.insert("lladdr".into(), ll_addr(l, 1).into());
    }
    let flags = n.flags().bits();
    for (bit, name) in [
        (NTF_ROUTER, "router"),
        (NTF_PROXY, "proxy"),
        (NTF_EXT_LEARNED, "extern_learn"),
        (NTF_OFFLOADED, "offload"),
    ] {
        if flags & bit != 0 {
            o.insert(name.into(), Value::Null);
        }
    }
    if n.state() != 0 {
        o.insert("state".into(), state_names(n.state()).into());
    }
    o
}

/// The line `ip neigh show` prints for an entry object.
pub fn text(o: &Map<String, Value>) -> String {
    let mut out = String::new();
    let s = |k: &str| o.get(k).and_then(Value::as_str);
    for (k, label) in [("dst", ""), ("dev", "dev "), ("lladdr", "lladdr ")] {
        if let Some(v) = s(k) {
            let _ = write!(out, "{label}{v} ");
        }
    }
    for k in ["router", "proxy", "extern_learn", "offload"] {
        if o.contains_key(k) {
            let _ = write!(out, "{k} ");
        }
    }
    for st in o
        .get("state")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = write!(out, "{} ", st.as_str().unwrap_or("?"));
    }
    out
}

/// `ip neigh add|replace|del [proxy] ADDR [lladdr MAC] dev D [nud STATE]
/// [router]`.
pub async fn modify(nl: &Netlink, mut w: Words, opts: Opts, op: Op) -> Res<()> {
    let (mut dst, mut dev, mut lladdr, mut nud) = (None, None, None, None);
    let (mut proxy, mut router) = (false, false);
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => dev = Some(w.arg("dev")?),
            "lladdr" => {
                let m = w.arg("lladdr")?;
                lladdr = Some(m.parse::<MacAddr>().map_err(|e| fail(e.to_string()))?);
            }
            "nud" => nud = Some(parse_state(&w.arg("nud")?).map_err(|e| fail(e.to_string()))?),
            "router" => router = true,
            "proxy" => {
                proxy = true;
                dst = Some(w.arg("proxy")?);
            }
            "to" => dst = Some(w.arg("to")?),
            other if dst.is_none() => dst = Some(other.to_owned()),
            other => {
                return Err(fail(format!(
                    "Garbage instead of arguments \"{other} ...\"."
                )));
            }
        }
    }
    let dst = dst.ok_or_else(|| fail("Not enough information: \"to\" argument is required."))?;
    let dev = dev.ok_or_else(|| fail("Device and destination are required arguments."))?;
    let ip = addr_arg(&dst, opts.family)?;
    let index = find(nl, &dev).await?.index();
    let h = nl.neighbour();
    let mut b = match op {
        Op::Add => h.add(index, ip),
        Op::Replace => h.replace(index, ip),
        Op::Del => h.del(index, ip),
    };
    if let Some(m) = lladdr {
        b = b.lladdr(m);
    }
    if let Some(s) = nud {
        b = b.state(s);
    }
    if router {
        b = b.router();
    }
    if proxy {
        b = b.proxy();
    }
    b.await?;
    Ok(())
}
