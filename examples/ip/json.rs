//! Links and addresses as `ip -j` (iproute2 6.1) spells them.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::link::{AfSpecInet6, AfSpecUnspec, LinkAttribute};
use serde_json::{Map, Value};
use tokio_netlink::route::link::Link;

const IFF_UP: u32 = 0x1;
const IFF_POINTOPOINT: u32 = 0x10;
const IFF_RUNNING: u32 = 0x40;
const IFLA_LINK: u16 = 5;
const IFLA_TSO_MAX_SIZE: u16 = 59;
const IFLA_TSO_MAX_SEGS: u16 = 60;

/// IFF_* names in the order `ip` prints them.
const FLAG_NAMES: [(u32, &str); 18] = [
    (0x8, "LOOPBACK"),
    (0x2, "BROADCAST"),
    (0x10, "POINTOPOINT"),
    (0x1000, "MULTICAST"),
    (0x80, "NOARP"),
    (0x200, "ALLMULTI"),
    (0x100, "PROMISC"),
    (0x400, "MASTER"),
    (0x800, "SLAVE"),
    (0x4, "DEBUG"),
    (0x8000, "DYNAMIC"),
    (0x4000, "AUTOMEDIA"),
    (0x2000, "PORTSEL"),
    (0x20, "NOTRAILERS"),
    (0x1, "UP"),
    (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"),
    (0x40000, "ECHO"),
];

/// ARPHRD_* names (iproute2's lib/ll_types.c).
const LINK_TYPES: &[(u16, &str)] = &[
    (0, "netrom"),
    (1, "ether"),
    (2, "eether"),
    (3, "ax25"),
    (6, "ieee802"),
    (7, "arcnet"),
    (19, "atm"),
    (24, "ieee1394"),
    (32, "infiniband"),
    (256, "slip"),
    (280, "can"),
    (512, "ppp"),
    (513, "hdlc"),
    (768, "ipip"),
    (769, "tunnel6"),
    (772, "loopback"),
    (774, "fddi"),
    (776, "sit"),
    (778, "gre"),
    (779, "pimreg"),
    (801, "ieee802.11"),
    (803, "ieee802.11/radiotap"),
    (804, "ieee802.15.4"),
    (820, "phonet"),
    (823, "gre6"),
    (824, "netlink"),
    (825, "6lowpan"),
    (0xfffe, "none"),
    (0xffff, "void"),
];

const OPER_STATES: [&str; 7] = [
    "UNKNOWN",
    "NOTPRESENT",
    "DOWN",
    "LOWERLAYERDOWN",
    "TESTING",
    "DORMANT",
    "UP",
];

/// Index → (name, IFF flags) of the namespace's links, to name lower
/// devices and masters as `ip` does.
pub struct Names(HashMap<u32, (String, u32)>);

impl Names {
    pub fn new(links: &[Link]) -> Names {
        let m = links
            .iter()
            .map(|l| (l.index(), (l.name().to_owned(), l.flags().bits())))
            .collect();
        Names(m)
    }

    /// The name of index `i`; `if<i>` when unknown, like `ip`.
    pub fn name(&self, i: u32) -> String {
        self.0
            .get(&i)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| format!("if{i}"))
    }

    /// The flags of index `i` (0 when unknown).
    fn flags(&self, i: u32) -> u32 {
        self.0.get(&i).map_or(0, |(_, f)| *f)
    }
}

/// `ip`'s flag list: NO-CARRIER first when UP without RUNNING, leftover
/// bits in hex, M-DOWN last when the lower device is down.
pub fn flag_names(flags: u32, mdown: bool) -> Vec<String> {
    let mut out = Vec::new();
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        out.push("NO-CARRIER".to_owned());
    }
    let mut rest = flags & !IFF_RUNNING;
    for (bit, name) in FLAG_NAMES {
        if rest & bit != 0 {
            rest &= !bit;
            out.push(name.to_owned());
        }
    }
    if rest != 0 {
        out.push(format!("{rest:x}"));
    }
    if mdown {
        out.push("M-DOWN".to_owned());
    }
    out
}

fn link_type(t: u16) -> String {
    LINK_TYPES
        .iter()
        .find(|(n, _)| *n == t)
        .map_or_else(|| format!("[{t}]"), |(_, s)| (*s).to_owned())
}

/// A link-layer address: dotted/colon IP for IP tunnels, else hex bytes.
pub fn ll_addr(b: &[u8], link_type: u16) -> String {
    match (b.len(), link_type) {
        (4, 768 | 776 | 778) => IpAddr::from(<[u8; 4]>::try_from(b).unwrap()).to_string(),
        (16, 769 | 823) => IpAddr::from(<[u8; 16]>::try_from(b).unwrap()).to_string(),
        _ => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

/// A top-level u32 attribute the view has no accessor for.
fn raw_u32(l: &Link, ty: u16) -> Option<u32> {
    l.attributes()
        .find(|(t, _)| *t == ty)
        .and_then(|(_, v)| Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?)))
}

/// One link as `ip -j link show` (`do_link`) or `ip -j addr show` prints it.
pub fn link(l: &Link, names: &Names, do_link: bool, details: bool) -> Map<String, Value> {
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_owned(), v);
    };
    put("ifindex", l.index().into());
    // The lower device: by name, or by index when it is in another netns.
    let mut mdown = false;
    if let Some(lower) = raw_u32(l, IFLA_LINK) {
        if lower == 0 {
            put("link", Value::Null);
        } else if l.netnsid().is_some() {
            put("link_index", lower.into());
        } else {
            put("link", names.name(lower).into());
            mdown = names.flags(lower) & IFF_UP == 0;
        }
    }
    put("ifname", l.name().into());
    let flags = l.flags().bits();
    put("flags", flag_names(flags, mdown).into());
    if let Some(m) = l.mtu() {
        put("mtu", m.into());
    }
    if let Some(q) = l.qdisc() {
        put("qdisc", q.into());
    }
    if let Some(m) = l.master() {
        put("master", names.name(m).into());
    }
    let state = u8::from(l.operstate());
    match OPER_STATES.get(state as usize) {
        Some(s) => put("operstate", (*s).into()),
        None => put("operstate_index", state.into()),
    }
    if do_link && let Some(m) = l.linkmode() {
        match m {
            0 => put("linkmode", "DEFAULT".into()),
            1 => put("linkmode", "DORMANT".into()),
            n => put("linkmode_index", n.into()),
        }
    }
    if let Some(g) = l.group() {
        let g = if g == 0 {
            "default".into()
        } else {
            g.to_string()
        };
        put("group", g.into());
    }
    if let Some(q) = l.txqlen().filter(|&q| q != 0) {
        put("txqlen", q.into());
    }
    let lt = l.link_type();
    put("link_type", link_type(lt).into());
    if let Some(a) = l.address() {
        put("address", ll_addr(a, lt).into());
    }
    if let Some(b) = l.broadcast() {
        if flags & IFF_POINTOPOINT != 0 {
            put("link_pointtopoint", true.into());
        }
        put("broadcast", ll_addr(b, lt).into());
    }
    if let Some(p) = l.perm_address().filter(|p| Some(*p) != l.address()) {
        put("permaddr", ll_addr(p, lt).into());
    }
    if let Some(id) = l.netnsid() {
        put("link_netnsid", id.into());
    }
    if details {
        details_json(l, names, do_link, &mut put);
    }
    if let Some(a) = l.alias().filter(|_| do_link || details) {
        put("ifalias", a.into());
    }
    let alt = l.altnames();
    if !alt.is_empty() {
        put("altnames", alt.into());
    }
    o
}

/// What `-d` adds.
fn details_json(l: &Link, names: &Names, do_link: bool, put: &mut impl FnMut(&str, Value)) {
    if let Some(p) = l.promiscuity() {
        put("promiscuity", p.into());
    }
    if let Some(a) = l.allmulti() {
        put("allmulti", a.into());
    }
    if let Some((min, max)) = l.mtu_range() {
        put("min_mtu", min.into());
        put("max_mtu", max.into());
    }
    if let Some(i) = crate::info::linkinfo(l, names) {
        put("linkinfo", i);
    }
    if let Some(m) = addr_gen_mode(l).filter(|_| do_link) {
        put("inet6_addr_gen_mode", m.into());
    }
    if let Some((tx, rx)) = l.queues() {
        put("num_tx_queues", tx.into());
        put("num_rx_queues", rx.into());
    }
    let sizes = [
        ("gso_max_size", l.gso_max_size()),
        ("gso_max_segs", l.gso_max_segs()),
        ("tso_max_size", raw_u32(l, IFLA_TSO_MAX_SIZE)),
        ("tso_max_segs", raw_u32(l, IFLA_TSO_MAX_SEGS)),
        ("gro_max_size", l.gro_max_size()),
    ];
    for (k, v) in sizes {
        if let Some(v) = v {
            put(k, v.into());
        }
    }
}

/// IPv6 address generation mode (IFLA_AF_SPEC), as `ip -d link` names it.
fn addr_gen_mode(l: &Link) -> Option<String> {
    let msg = l.message().ok()?;
    let mode = msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::AfSpecUnspec(v) => v.iter().find_map(|s| match s {
            AfSpecUnspec::Inet6(v6) => v6.iter().find_map(|i| match i {
                AfSpecInet6::AddrGenMode(m) => Some(u8::from(m)),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    })?;
    Some(match mode {
        0 => "eui64".into(),
        1 => "none".into(),
        2 => "stable_secret".into(),
        3 => "random".into(),
        n => format!("{n:#04x}"),
    })
}
