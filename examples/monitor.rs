//! `ip monitor` on tokio-netlink.
//!
//! ```text
//! cargo run --release --example monitor -- [-n NETNS] [-j] [link] [address] [route] [rule] [neigh]
//! ```
//!
//! One line per event (all kinds when none is named); with `-j` one JSON
//! object per line with `ip -j`'s field names and an "event" field. Lost
//! events print a line starting with `LOST`.

#[path = "shared/out.rs"]
mod out;

use std::collections::HashMap;
use std::io::Write;

use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};
use tokio_netlink::Netlink;
use tokio_netlink::route::address::{Family, scope_name};
use tokio_netlink::route::events::{Event, Group};
use tokio_netlink::route::neighbour::state_names;
use tokio_netlink::route::route::names::{protocol_name, table_name, type_name};

struct Args {
    netns: Option<String>,
    json: bool,
    groups: Vec<Group>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        netns: None,
        json: false,
        groups: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(w) = it.next() {
        match w.as_str() {
            "-n" | "-netns" => a.netns = Some(it.next().ok_or("-n needs a namespace")?),
            "-j" | "-json" => a.json = true,
            "link" => a.groups.push(Group::Link),
            "address" | "addr" => a.groups.extend(Group::addresses()),
            "route" => a.groups.extend(Group::routes()),
            "rule" => a.groups.extend(Group::rules()),
            "neigh" | "neighbour" => a.groups.push(Group::Neighbour),
            "all" => a.groups.extend(Group::all()),
            other => return Err(format!("unknown object {other:?}")),
        }
    }
    if a.groups.is_empty() {
        a.groups = Group::all();
    }
    Ok(a)
}

/// Interface names by index, kept current from the link events.
type Names = HashMap<u32, String>;

fn dev(names: &Names, i: Option<u32>) -> Option<String> {
    i.map(|i| names.get(&i).cloned().unwrap_or_else(|| format!("if{i}")))
}

fn family(f: Family) -> &'static str {
    match f {
        Family::V4 => "inet",
        Family::V6 => "inet6",
    }
}

/// The event as `ip -j` would print the object, plus "event".
fn to_json(ev: &Event, names: &Names) -> Option<Value> {
    let (kind, mut v) = match ev {
        Event::NewLink(l) | Event::DelLink(l) => (
            "link",
            json!({
                "ifindex": l.index(), "ifname": l.name(), "mtu": l.mtu(),
                "operstate": l.operstate().to_string(), "address": l.mac().map(|m| m.to_string()),
                "master": dev(names, l.master()), "link_kind": l.kind(),
            }),
        ),
        Event::NewAddress(a) | Event::DelAddress(a) => (
            "address",
            json!({
                "ifindex": a.index(), "ifname": dev(names, Some(a.index())),
                "addr_info": [{
                    "family": family(a.family()), "local": a.address().map(|x| x.to_string()),
                    "prefixlen": a.prefix_len(), "scope": scope_name(a.scope()), "label": a.label(),
                }],
            }),
        ),
        Event::NewRoute(r) | Event::DelRoute(r) => (
            "route",
            json!({
                "type": type_name(r.kind().into()),
                "dst": r.destination().map(|d| d.to_string()),
                "gateway": r.gateway().map(|g| g.to_string()),
                "dev": dev(names, r.oif()), "table": table_name(r.table()),
                "protocol": protocol_name(r.protocol().into()), "metric": r.metric(),
            }),
        ),
        Event::NewRule(r) | Event::DelRule(r) => (
            "rule",
            json!({
                "priority": r.priority(), "src": r.source().map(|s| s.to_string()),
                "dst": r.destination().map(|d| d.to_string()), "table": table_name(r.table()),
                "fwmark": r.fwmark().map(|m| format!("{m:#x}")),
            }),
        ),
        Event::NewNeighbour(n) | Event::DelNeighbour(n) => (
            "neigh",
            json!({
                "dst": n.destination().map(|d| d.to_string()), "dev": dev(names, Some(n.index())),
                "lladdr": n.mac().map(|m| m.to_string()), "state": state_names(n.state()),
            }),
        ),
        _ => return None,
    };
    let deleted = matches!(
        ev,
        Event::DelLink(_)
            | Event::DelAddress(_)
            | Event::DelRoute(_)
            | Event::DelRule(_)
            | Event::DelNeighbour(_)
    );
    let obj = v.as_object_mut().expect("object");
    obj.retain(|_, x| !x.is_null());
    obj.insert(
        "event".into(),
        format!("{}{kind}", if deleted { "del" } else { "new" }).into(),
    );
    Some(v)
}

/// A line close to `ip monitor`'s.
fn to_text(v: &Value) -> String {
    let ev = v["event"].as_str().unwrap_or("");
    let del = if ev.starts_with("del") {
        "Deleted "
    } else {
        ""
    };
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    let body = match &ev[3..] {
        "link" => format!(
            "{}: {}: mtu {} state {}{}",
            v["ifindex"],
            s("ifname").unwrap_or_default(),
            v["mtu"],
            s("operstate").unwrap_or_default(),
            s("master")
                .map(|m| format!(" master {m}"))
                .unwrap_or_default()
        ),
        "address" => {
            let a = &v["addr_info"][0];
            format!(
                "{}: {}    {} {}/{} scope {}",
                v["ifindex"],
                s("ifname").unwrap_or_default(),
                a["family"].as_str().unwrap_or(""),
                a["local"].as_str().unwrap_or(""),
                a["prefixlen"],
                a["scope"].as_str().unwrap_or("")
            )
        }
        "route" => {
            let mut t = String::new();
            if v["type"] != "unicast" {
                t.push_str(&format!("{} ", v["type"].as_str().unwrap_or("")));
            }
            t.push_str(&s("dst").unwrap_or_default());
            for (k, name) in [
                ("gateway", "via"),
                ("dev", "dev"),
                ("table", "table"),
                ("protocol", "proto"),
            ] {
                if let Some(x) = s(k) {
                    if k == "table" && x == "main" {
                        continue;
                    }
                    t.push_str(&format!(" {name} {x}"));
                }
            }
            if let Some(m) = v["metric"].as_u64() {
                t.push_str(&format!(" metric {m}"));
            }
            t
        }
        "rule" => format!(
            "{}:\tfrom {} lookup {}",
            v["priority"],
            s("src").unwrap_or_else(|| "all".into()),
            s("table").unwrap_or_default()
        ),
        "neigh" => format!(
            "{} dev {} lladdr {} {}",
            s("dst").unwrap_or_default(),
            s("dev").unwrap_or_default(),
            s("lladdr").unwrap_or_default(),
            v["state"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default()
        ),
        _ => v.to_string(),
    };
    format!("{del}{body}")
}

async fn run(args: Args) -> Result<(), String> {
    let nl = match &args.netns {
        Some(ns) => Netlink::in_netns(ns.as_str()).map_err(|e| e.to_string())?,
        None => Netlink::new(),
    };
    let mut events = nl.events(&args.groups);
    events.ready().await.map_err(|e| e.to_string())?;
    let mut names: Names = nl
        .link()
        .list()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|l| (l.index(), l.name().to_owned()))
        .collect();
    let mut w = out::stdout();
    let io = |e: std::io::Error| out::exit_if_pipe(e).to_string();
    loop {
        // Write events while they come back to back; flush once the next
        // one would have to be waited for.
        let ev = match events.next().now_or_never() {
            Some(ev) => ev,
            None => {
                w.flush().map_err(io)?;
                events.next().await
            }
        };
        let Some(ev) = ev else { break };
        match &ev {
            Event::NewLink(l) => {
                names.insert(l.index(), l.name().to_owned());
            }
            Event::Lost => {
                let line: &[u8] = if args.json {
                    b"{\"event\":\"LOST\"}\n"
                } else {
                    b"LOST: the kernel dropped events (ENOBUFS)\n"
                };
                w.write_all(line).map_err(io)?;
                continue;
            }
            Event::Undecodable(e) => {
                w.flush().map_err(io)?;
                eprintln!("undecodable event: {e}");
                continue;
            }
            _ => {}
        }
        let Some(v) = to_json(&ev, &names) else {
            continue;
        };
        if args.json {
            serde_json::to_writer(&mut w, &v)
                .map_err(std::io::Error::from)
                .map_err(io)?;
        } else {
            w.write_all(to_text(&v).as_bytes()).map_err(io)?;
        }
        w.write_all(b"\n").map_err(io)?;
        if let Event::DelLink(l) = &ev {
            names.remove(&l.index());
        }
    }
    w.flush().map_err(io)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let r = match parse_args() {
        Ok(a) => run(a).await,
        Err(e) => Err(e),
    };
    if let Err(e) = r {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}
