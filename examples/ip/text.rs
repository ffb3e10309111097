//! Plain-text output close to `ip`'s, rendered from the `ip -j` objects.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::{Map, Value};

fn s<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

fn n(o: &Map<String, Value>, k: &str) -> Option<i64> {
    o.get(k).and_then(Value::as_i64)
}

/// A JSON value as `ip` writes it in text: bare strings, `on`/`off`.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "on" } else { "off" }.into(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(","),
        Value::Object(o) => o.values().map(plain).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// `KEY VALUE ` pairs of a kind's settings (names are the JSON keys).
fn pairs(out: &mut String, o: &Map<String, Value>) {
    for (k, v) in o {
        match (k.as_str(), v) {
            ("port_range", Value::Object(r)) => {
                let _ = write!(out, "srcport {} {} ", plain(&r["low"]), plain(&r["high"]));
            }
            _ => {
                let _ = write!(out, "{k} {} ", plain(v));
            }
        }
    }
}

/// The lines `ip link show` / `ip addr show` print for a link (the `addr`
/// lines excluded); `netns` names the namespaces of `link-netnsid`.
pub fn link(o: &Map<String, Value>, netns: &HashMap<i32, String>) -> String {
    let mut out = String::new();
    let name = s(o, "ifname").unwrap_or("");
    let name = match (o.get("link"), n(o, "link_index")) {
        (Some(Value::Null), _) => format!("{name}@NONE"),
        (Some(Value::String(l)), _) => format!("{name}@{l}"),
        (_, Some(i)) => format!("{name}@if{i}"),
        _ => name.to_owned(),
    };
    let flags: Vec<&str> = o
        .get("flags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let _ = write!(
        out,
        "{}: {name}: <{}> ",
        n(o, "ifindex").unwrap_or(0),
        flags.join(",")
    );
    if let Some(m) = n(o, "mtu") {
        let _ = write!(out, "mtu {m} ");
    }
    if let Some(q) = s(o, "qdisc") {
        let _ = write!(out, "qdisc {q} ");
    }
    if let Some(m) = s(o, "master") {
        let _ = write!(out, "master {m} ");
    }
    match (s(o, "operstate"), n(o, "operstate_index")) {
        (Some(st), _) => {
            let _ = write!(out, "state {st} ");
        }
        (None, Some(i)) => {
            let _ = write!(out, "state {i:#x}");
        }
        _ => {}
    }
    if let Some(m) = s(o, "linkmode") {
        let _ = write!(out, "mode {m} ");
    }
    if let Some(g) = s(o, "group") {
        let _ = write!(out, "group {g} ");
    }
    if let Some(q) = n(o, "txqlen") {
        let _ = write!(out, "qlen {q}");
    }
    let _ = write!(out, "\n    link/{} ", s(o, "link_type").unwrap_or("?"));
    if let Some(a) = s(o, "address") {
        out.push_str(a);
    }
    if let Some(b) = s(o, "broadcast") {
        let word = if o.contains_key("link_pointtopoint") {
            "peer"
        } else {
            "brd"
        };
        let _ = write!(out, " {word} {b}");
    }
    if let Some(p) = s(o, "permaddr") {
        let _ = write!(out, " permaddr {p}");
    }
    if let Some(id) = n(o, "link_netnsid") {
        match netns.get(&(id as i32)) {
            Some(name) => write!(out, " link-netns {name}"),
            None => write!(out, " link-netnsid {id}"),
        }
        .ok();
    }
    details(&mut out, o);
    if let Some(a) = s(o, "ifalias") {
        let _ = write!(out, "\n    alias {a}");
    }
    for alt in o
        .get("altnames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = write!(out, "\n    altname {}", plain(alt));
    }
    out
}

/// What `-d` adds, approximately as `ip -d` lays it out.
fn details(out: &mut String, o: &Map<String, Value>) {
    if let Some(p) = n(o, "promiscuity") {
        let _ = write!(out, " promiscuity {p} ");
    }
    if let Some(a) = n(o, "allmulti") {
        let _ = write!(out, " allmulti {a} ");
    }
    if let (Some(min), Some(max)) = (n(o, "min_mtu"), n(o, "max_mtu")) {
        let _ = write!(out, "minmtu {min} maxmtu {max} ");
    }
    if let Some(Value::Object(i)) = o.get("linkinfo") {
        if let Some(k) = s(i, "info_kind") {
            let _ = write!(out, "\n    {k} ");
            if let Some(Value::Object(d)) = i.get("info_data") {
                pairs(out, d);
            }
        }
        if let Some(k) = s(i, "info_slave_kind") {
            let _ = write!(out, "\n    {k}_slave ");
            if let Some(Value::Object(d)) = i.get("info_slave_data") {
                pairs(out, d);
            }
        }
    }
    if let Some(m) = s(o, "inet6_addr_gen_mode") {
        let _ = write!(out, "addrgenmode {m} ");
    }
    let sizes = [
        ("num_tx_queues", "numtxqueues"),
        ("num_rx_queues", "numrxqueues"),
        ("gso_max_size", "gso_max_size"),
        ("gso_max_segs", "gso_max_segs"),
        ("tso_max_size", "tso_max_size"),
        ("tso_max_segs", "tso_max_segs"),
        ("gro_max_size", "gro_max_size"),
    ];
    for (k, word) in sizes {
        if let Some(v) = n(o, k) {
            let _ = write!(out, "{word} {v} ");
        }
    }
}

/// The two lines `ip addr show` prints for an address.
pub fn addr(a: &Map<String, Value>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "    {} {}",
        s(a, "family").unwrap_or("?"),
        s(a, "local").unwrap_or("?")
    );
    if let Some(p) = s(a, "address") {
        let _ = write!(out, " peer {p}");
    }
    let _ = write!(out, "/{} ", n(a, "prefixlen").unwrap_or(0));
    if let Some(m) = n(a, "metric") {
        let _ = write!(out, "metric {m} ");
    }
    if let Some(b) = s(a, "broadcast") {
        let _ = write!(out, "brd {b} ");
    }
    let _ = write!(out, "scope {} ", s(a, "scope").unwrap_or("?"));
    let v6 = s(a, "family") == Some("inet6");
    // Every flag name in ip's order (no IFA_F_PERMANENT: `dynamic` too).
    for f in crate::addr::addr_flag_names(0xfff & !0x80, v6).0 {
        if a.get(f) == Some(&Value::Bool(true)) {
            let _ = write!(out, "{f} ");
        }
    }
    if let Some(f) = s(a, "ifa_flags") {
        let _ = write!(out, "flags {f} ");
    }
    if let Some(l) = s(a, "label") {
        out.push_str(l);
    }
    let lft = |k: &str| match n(a, k) {
        Some(v) if v == i64::from(u32::MAX) => "forever".to_owned(),
        Some(v) => format!("{v}sec"),
        None => "?".to_owned(),
    };
    let _ = write!(
        out,
        "\n       valid_lft {} preferred_lft {}",
        lft("valid_life_time"),
        lft("preferred_life_time")
    );
    out
}
