//! `ip`'s names for tables, protocols, types and scopes.

use crate::error::{Error, Result};

const TABLE_FILES: [&str; 2] = ["/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables"];

/// A number written in decimal digits only: `str::parse` (and
/// `from_str_radix`) also take a leading `+`, which `ip` never prints.
pub(crate) fn decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads `id name` lines of an iproute2 name file.
fn file_names(path: &str) -> Vec<(u32, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let id = it.next()?;
            let name = it.next()?;
            let id: u32 = match id.strip_prefix("0x") {
                Some(h) if h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(h, 16).ok()?
                }
                Some(_) => return None,
                None => decimal(id)?,
            };
            Some((id, name.to_owned()))
        })
        .collect()
}

fn table_files() -> Vec<(u32, String)> {
    let mut all: Vec<(u32, String)> = TABLE_FILES.iter().flat_map(|f| file_names(f)).collect();
    for dir in [
        "/etc/iproute2/rt_tables.d",
        "/usr/share/iproute2/rt_tables.d",
    ] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "conf") {
                    all.extend(file_names(&p.to_string_lossy()));
                }
            }
        }
    }
    all
}

/// A table id from `ip`'s spelling: `main`, `local`, `default`, a name from
/// rt_tables, or a number.
pub fn parse_table(s: &str) -> Result<u32> {
    match s {
        "main" => return Ok(254),
        "local" => return Ok(255),
        "default" => return Ok(253),
        "unspec" | "all" => return Ok(0),
        _ => {}
    }
    if let Some(n) = decimal::<u32>(s) {
        return Ok(n);
    }
    table_files()
        .into_iter()
        .find(|(_, n)| n == s)
        .map(|(id, _)| id)
        .ok_or_else(|| Error::invalid("table", format!("{s:?} is not a table name or number")))
}

/// `ip`'s name of a table id.
pub fn table_name(id: u32) -> String {
    match id {
        254 => "main".into(),
        255 => "local".into(),
        253 => "default".into(),
        0 => "unspec".into(),
        _ => table_files()
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n)
            .unwrap_or_else(|| id.to_string()),
    }
}

const PROTOCOLS: [(u8, &str); 21] = [
    (0, "unspec"),
    (1, "redirect"),
    (2, "kernel"),
    (3, "boot"),
    (4, "static"),
    (8, "gated"),
    (9, "ra"),
    (10, "mrt"),
    (11, "zebra"),
    (12, "bird"),
    (13, "dnrouted"),
    (14, "xorp"),
    (15, "ntk"),
    (16, "dhcp"),
    (18, "keepalived"),
    (42, "babel"),
    (99, "openr"),
    (186, "bgp"),
    (187, "isis"),
    (188, "ospf"),
    (189, "rip"),
];

/// A protocol number from `ip`'s name (or a number).
pub fn parse_protocol(s: &str) -> Result<u8> {
    if let Some(n) = decimal::<u8>(s) {
        return Ok(n);
    }
    PROTOCOLS
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(v, _)| *v)
        .or((s == "eigrp").then_some(192))
        .ok_or_else(|| Error::invalid("proto", format!("{s:?} is not a protocol name or 0-255")))
}

/// `ip`'s name of a protocol number.
pub fn protocol_name(p: u8) -> String {
    PROTOCOLS
        .iter()
        .find(|(v, _)| *v == p)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| {
            if p == 192 {
                "eigrp".into()
            } else {
                p.to_string()
            }
        })
}

const TYPES: [&str; 12] = [
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
];

/// A route type number from `ip`'s name.
pub fn parse_type(s: &str) -> Result<u8> {
    TYPES
        .iter()
        .position(|t| *t == s)
        .map(|p| p as u8)
        .ok_or_else(|| Error::invalid("type", format!("{s:?} is not a route type")))
}

/// `ip`'s name of a route type number.
pub fn type_name(t: u8) -> String {
    TYPES
        .get(t as usize)
        .map(|s| (*s).to_string())
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_table("main").unwrap(), 254);
        assert_eq!(parse_table("1000").unwrap(), 1000);
        assert_eq!(table_name(255), "local");
        let e = parse_table("no-such-table").unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field: "table", .. }));
        for p in ["kernel", "boot", "static", "bgp", "eigrp"] {
            assert_eq!(protocol_name(parse_protocol(p).unwrap()), p);
        }
        assert!(parse_protocol("nope").is_err());
        for t in [
            "unicast",
            "blackhole",
            "unreachable",
            "prohibit",
            "throw",
            "local",
        ] {
            assert_eq!(type_name(parse_type(t).unwrap()), t);
        }
        assert!(parse_type("wormhole").is_err());
        for bad in ["+5", "-0", " 5", "5 ", "", "0x10"] {
            assert!(parse_table(bad).is_err(), "{bad:?}");
            assert!(parse_protocol(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decimal::<u8>("007"), Some(7));
        assert_eq!(decimal::<u8>("256"), None);
    }
}
