//! `ip monitor [all | OBJECT…]`: one change per line (or lines) as `ip
//! monitor` prints it, formatted by the same code as `ip … show`, as the
//! events arrive. With `-j`, one JSON object per line: `ip -j … show`'s
//! fields and an `"event"` (`newlink`, `delroute`, …). A loss the kernel
//! reports (ENOBUFS) prints a line starting with `LOST`.

use std::collections::HashMap;
use std::io::Write;

use futures::{FutureExt, StreamExt};
use serde_json::Value;
use tokio_netlink::Netlink;
use tokio_netlink::route::events::{Event, Group};

use crate::addr::{addr_fields, addr_text};
use crate::json::{self, Names};
use crate::link::{NO_NAMES, netns_names};
use crate::out::{self, Json};
use crate::route_out::{Routes, Shown};
use crate::{Opts, Res, Words, fail, matches, neigh, nexthop, rule};

/// The groups of each object `ip monitor` takes.
fn groups_of(object: &str) -> Option<Vec<Group>> {
    Some(match object {
        o if matches(o, "link") => vec![Group::Link],
        o if matches(o, "address") => Group::addresses(),
        o if matches(o, "route") => Group::routes(),
        o if matches(o, "rule") => Group::rules(),
        o if matches(o, "neigh") => vec![Group::Neighbour],
        o if matches(o, "nexthop") => vec![Group::Nexthop],
        _ => return None,
    })
}

/// `ip monitor [all | link | address | route | rule | neigh | nexthop]…`.
pub async fn monitor(nl: &Netlink, w: Words, opts: Opts) -> Res<()> {
    let mut groups = Vec::new();
    let mut banner = false;
    for word in w {
        if word == "all" {
            banner = true; // as ip: `all` prefixes each line with its kind
            continue;
        }
        match groups_of(&word) {
            Some(g) => groups.extend(g),
            None => {
                return Err(fail(format!(
                    "Argument \"{word}\" is unknown, try \"ip monitor help\"."
                )));
            }
        }
    }
    if groups.is_empty() {
        for o in ["link", "address", "route", "rule", "neigh", "nexthop"] {
            groups.extend(groups_of(o).expect("known"));
        }
    }
    let mut events = nl.events(&groups);
    events.ready().await?;
    // Link names for `dev`, loaded once and kept current by link events.
    let mut names = Names::load(nl).await?;
    let mut ns: Option<HashMap<i32, String>> = None;
    let mut j = Json::new(out::stdout());
    let mut buf = Vec::with_capacity(512);
    loop {
        // Write events while they come back to back; flush once the next
        // would have to be waited for (a flood stays one write per
        // buffer-full, a quiet monitor shows each change at once).
        let ev = match events.next().now_or_never() {
            Some(ev) => ev,
            None => {
                j.w.flush()?;
                events.next().await
            }
        };
        let Some(ev) = ev else { break };
        buf.clear();
        let (kind, del) = match &ev {
            Event::NewLink(l) | Event::DelLink(l) => {
                // AF_BRIDGE port state is `bridge monitor`'s, not ip's.
                if l.is_bridge_port_info() {
                    continue;
                }
                let del = matches!(ev, Event::DelLink(_));
                if !del {
                    names.insert(l);
                }
                if !opts.json && ns.is_none() && l.netnsid().is_some() {
                    ns = Some(netns_names(nl).await);
                }
                if opts.json {
                    let mut jb = Json::new(&mut buf);
                    jb.begin_obj()?;
                    json::link_fields(&mut jb, l, &names, true)?;
                    jb.end_obj()?;
                } else {
                    let ns = ns.as_ref().unwrap_or(&NO_NAMES);
                    json::link_text_with(&mut buf, l, &names, ns, false, false)?;
                }
                if del {
                    names.remove(l.index());
                }
                ("link", del)
            }
            Event::NewAddress(a) | Event::DelAddress(a) => {
                if opts.json {
                    let mut jb = Json::new(&mut buf);
                    jb.begin_obj()?;
                    jb.key("ifindex")?;
                    jb.uint(a.index().into())?;
                    if let Some(n) = names.get(a.index()) {
                        jb.kv_str("ifname", n)?;
                    }
                    jb.key("addr_info")?;
                    jb.begin_arr()?;
                    addr_fields(&mut jb, a)?;
                    jb.end_arr()?;
                    jb.end_obj()?;
                } else {
                    // `N: DEV    inet …`: ip addr's lines after the index.
                    out::uint(&mut buf, a.index().into())?;
                    buf.extend_from_slice(b": ");
                    names.text(&mut buf, a.index())?;
                    let mut lines = Vec::new();
                    addr_text(&mut lines, a)?;
                    buf.extend_from_slice(lines.strip_prefix(b"\n").unwrap_or(&lines));
                }
                ("address", matches!(ev, Event::DelAddress(_)))
            }
            Event::NewRoute(r) | Event::DelRoute(r) => {
                let mut routes = Routes::new(
                    &names,
                    Shown {
                        details: opts.details,
                        ..Shown::default()
                    },
                );
                if opts.json {
                    routes.json(&mut Json::new(&mut buf), r)?;
                } else {
                    routes.text(&mut buf, r)?;
                }
                ("route", matches!(ev, Event::DelRoute(_)))
            }
            Event::NewRule(r) | Event::DelRule(r) => {
                let m = rule::rule_json(r);
                value(&mut buf, m, rule::text, opts)?;
                ("rule", matches!(ev, Event::DelRule(_)))
            }
            Event::NewNeighbour(n) | Event::DelNeighbour(n) => {
                let m = neigh::neigh_json(n, &names, false);
                value(&mut buf, m, neigh::text, opts)?;
                ("neigh", matches!(ev, Event::DelNeighbour(_)))
            }
            Event::NewNexthop(n) | Event::DelNexthop(n) => {
                // Without link events (`ip monitor nexthop`) a new device
                // is not known yet: reload the names once for it.
                if n.oif().is_some_and(|i| !names.has(i)) {
                    names = Names::load(nl).await?;
                }
                let m = nexthop::json(n, &names, opts);
                value(&mut buf, m, nexthop::text, opts)?;
                ("nexthop", matches!(ev, Event::DelNexthop(_)))
            }
            Event::Lost => {
                j.w.write_all(if opts.json {
                    b"{\"event\":\"LOST\"}\n"
                } else {
                    b"LOST: the kernel dropped events (ENOBUFS)\n"
                })?;
                continue;
            }
            _ => continue,
        };
        let out = &mut j.w;
        if opts.json {
            // The object with "event" first: `{"event":"newlink",…}`.
            let event = format!("{{\"event\":\"{}{kind}\"", if del { "del" } else { "new" });
            out.write_all(event.as_bytes())?;
            match buf.strip_prefix(b"{") {
                Some(b"}") | None => out.write_all(b"}")?,
                Some(rest) => {
                    out.write_all(b",")?;
                    out.write_all(rest)?;
                }
            }
        } else {
            if banner {
                out.write_all(banner_of(kind))?;
            }
            if del {
                out.write_all(b"Deleted ")?;
            }
            out.write_all(&buf)?;
        }
        out.write_all(b"\n")?;
    }
    j.w.flush()?;
    Err(fail("the event subscription ended"))
}

fn banner_of(kind: &str) -> &'static [u8] {
    match kind {
        "link" => b"[LINK]",
        "address" => b"[ADDR]",
        "route" => b"[ROUTE]",
        "rule" => b"[RULE]",
        "nexthop" => b"[NEXTHOP]",
        _ => b"[NEIGH]",
    }
}

/// An object made by serde_json (rules, neighbours, nexthops): its JSON or
/// its text.
fn value(
    buf: &mut Vec<u8>,
    m: serde_json::Map<String, Value>,
    text: fn(&serde_json::Map<String, Value>) -> String,
    opts: Opts,
) -> Res<()> {
    if opts.json {
        serde_json::to_writer(&mut *buf, &Value::Object(m)).map_err(|e| fail(e.to_string()))?;
    } else {
        buf.extend_from_slice(text(&m).as_bytes());
    }
    Ok(())
}
