//! Links and addresses as `ip -j` (iproute2 6.1) spells them.

use std::io::{self, Write};
use std::net::IpAddr;

use futures::TryStreamExt;

use netlink_packet_route::link::{AfSpecInet6, AfSpecUnspec, LinkAttribute};
use serde_json::{Map, Value};
use tokio_netlink::route::link::Link;

use crate::out::{self, Json};

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
/// devices and masters as `ip` does: one compact table sorted by index,
/// loaded once (or filled as a link dump goes by).
#[derive(Default)]
pub struct Names(Vec<(u32, Box<str>, u32)>);

impl Names {
    /// Every link's index, name and flags, from one streamed dump.
    pub async fn load(nl: &tokio_netlink::Netlink) -> crate::Res<Names> {
        let mut names = Names::default();
        let mut st = std::pin::pin!(crate::link::dump(nl));
        while let Some(l) = st.try_next().await? {
            names.insert(&l);
        }
        Ok(names)
    }

    /// Adds (or renames) `l`; dumps come in index order, so this is
    /// usually a push.
    pub fn insert(&mut self, l: &Link) {
        let (i, name, flags) = (l.index(), l.name(), l.flags().bits());
        match self.0.last() {
            Some(&(last, _, _)) if last >= i => match self.0.binary_search_by_key(&i, |e| e.0) {
                Ok(k) => self.0[k] = (i, name.into(), flags),
                Err(k) => self.0.insert(k, (i, name.into(), flags)),
            },
            _ => self.0.push((i, name.into(), flags)),
        }
    }

    fn entry(&self, i: u32) -> Option<&(u32, Box<str>, u32)> {
        self.0
            .binary_search_by_key(&i, |e| e.0)
            .ok()
            .map(|k| &self.0[k])
    }

    /// Forgets index `i` (a deleted link).
    pub fn remove(&mut self, i: u32) {
        if let Ok(k) = self.0.binary_search_by_key(&i, |e| e.0) {
            self.0.remove(k);
        }
    }

    /// Whether index `i` is known.
    pub fn has(&self, i: u32) -> bool {
        self.entry(i).is_some()
    }

    /// The name of index `i`, if known.
    pub fn get(&self, i: u32) -> Option<&str> {
        self.entry(i).map(|e| &*e.1)
    }

    /// The name of index `i`; `if<i>` when unknown, like `ip`.
    pub fn name(&self, i: u32) -> String {
        self.get(i).map_or_else(|| format!("if{i}"), str::to_owned)
    }

    /// The name of index `i` as text (`if<i>` when unknown).
    pub fn text(&self, w: &mut impl Write, i: u32) -> io::Result<()> {
        match self.get(i) {
            Some(n) => w.write_all(n.as_bytes()),
            None => write!(w, "if{i}"),
        }
    }

    /// The name of index `i` as a JSON string.
    pub fn json<W: Write>(&self, j: &mut Json<W>, i: u32) -> io::Result<()> {
        match self.get(i) {
            Some(n) => j.str(n),
            None => j.display(format_args!("if{i}")),
        }
    }

    /// The flags of index `i` (0 when unknown).
    fn flags(&self, i: u32) -> u32 {
        self.entry(i).map_or(0, |e| e.2)
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

// ------------------------------------------------ streaming (no `-d`)

/// Calls `f` with each of `ip`'s flag names (see [`flag_names`]).
fn each_flag(flags: u32, mdown: bool, mut f: impl FnMut(&str) -> io::Result<()>) -> io::Result<()> {
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        f("NO-CARRIER")?;
    }
    let mut rest = flags & !IFF_RUNNING;
    for (bit, name) in FLAG_NAMES {
        if rest & bit != 0 {
            rest &= !bit;
            f(name)?;
        }
    }
    if rest != 0 {
        f(&format!("{rest:x}"))?;
    }
    if mdown {
        f("M-DOWN")?;
    }
    Ok(())
}

fn write_link_type(w: &mut impl Write, t: u16) -> io::Result<()> {
    match LINK_TYPES.iter().find(|(n, _)| *n == t) {
        Some((_, s)) => w.write_all(s.as_bytes()),
        None => write!(w, "[{t}]"),
    }
}

/// [`ll_addr`], written.
pub fn write_ll(w: &mut impl Write, b: &[u8], link_type: u16) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match (b.len(), link_type) {
        (4, 768 | 776 | 778) => out::ip(w, IpAddr::from(<[u8; 4]>::try_from(b).unwrap())),
        (16, 769 | 823) => out::ip(w, IpAddr::from(<[u8; 16]>::try_from(b).unwrap())),
        _ => {
            for (k, x) in b.iter().enumerate() {
                let hex = [b':', HEX[(x >> 4) as usize], HEX[(x & 15) as usize]];
                w.write_all(if k == 0 { &hex[1..] } else { &hex })?;
            }
            Ok(())
        }
    }
}

/// `"k":"ADDR"`.
fn ll_json<W: Write>(j: &mut Json<W>, k: &str, b: &[u8], link_type: u16) -> io::Result<()> {
    j.key(k)?;
    j.quoted(|w| write_ll(w, b, link_type))
}

/// The lower device: `None` (no IFLA_LINK), `Some(None)` (0: `@NONE`), or
/// the index and whether it is in another namespace.
fn lower(l: &Link) -> Option<Option<(u32, bool)>> {
    raw_u32(l, IFLA_LINK).map(|i| (i != 0).then(|| (i, l.netnsid().is_some())))
}

/// Whether every name `l`'s line needs is in `names` (or can never be).
pub fn names_known(l: &Link, names: &Names) -> bool {
    let low = match lower(l) {
        Some(Some((i, false))) => names.has(i),
        _ => true,
    };
    low && l.master().is_none_or(|m| names.has(m))
}

/// The fields of one link as `ip -j link show` (`do_link`) or `ip -j addr
/// show` prints them, into an open object.
pub fn link_fields<W: Write>(
    j: &mut Json<W>,
    l: &Link,
    names: &Names,
    do_link: bool,
) -> io::Result<()> {
    j.kv_uint("ifindex", l.index().into())?;
    let mut mdown = false;
    match lower(l) {
        Some(None) => {
            j.key("link")?;
            j.null()?;
        }
        Some(Some((i, true))) => j.kv_uint("link_index", i.into())?,
        Some(Some((i, false))) => {
            j.key("link")?;
            names.json(j, i)?;
            mdown = names.flags(i) & IFF_UP == 0;
        }
        None => {}
    }
    j.kv_str("ifname", l.name())?;
    let flags = l.flags().bits();
    j.key("flags")?;
    j.begin_arr()?;
    each_flag(flags, mdown, |f| j.str(f))?;
    j.end_arr()?;
    if let Some(m) = l.mtu() {
        j.kv_uint("mtu", m.into())?;
    }
    if let Some(q) = l.qdisc() {
        j.kv_str("qdisc", q)?;
    }
    if let Some(m) = l.master() {
        j.key("master")?;
        names.json(j, m)?;
    }
    let state = u8::from(l.operstate());
    match OPER_STATES.get(state as usize) {
        Some(s) => j.kv_str("operstate", s)?,
        None => j.kv_uint("operstate_index", state.into())?,
    }
    if do_link && let Some(m) = l.linkmode() {
        match m {
            0 => j.kv_str("linkmode", "DEFAULT")?,
            1 => j.kv_str("linkmode", "DORMANT")?,
            n => j.kv_uint("linkmode_index", n.into())?,
        }
    }
    if let Some(g) = l.group() {
        j.key("group")?;
        if g == 0 {
            j.str("default")?;
        } else {
            j.display(g)?;
        }
    }
    if let Some(q) = l.txqlen().filter(|&q| q != 0) {
        j.kv_uint("txqlen", q.into())?;
    }
    let lt = l.link_type();
    j.key("link_type")?;
    j.quoted(|w| write_link_type(w, lt))?;
    if let Some(a) = l.address() {
        ll_json(j, "address", a, lt)?;
    }
    if let Some(b) = l.broadcast() {
        if flags & IFF_POINTOPOINT != 0 {
            j.key("link_pointtopoint")?;
            j.bool(true)?;
        }
        ll_json(j, "broadcast", b, lt)?;
    }
    if let Some(p) = l.perm_address().filter(|p| Some(*p) != l.address()) {
        ll_json(j, "permaddr", p, lt)?;
    }
    if let Some(id) = l.netnsid() {
        j.key("link_netnsid")?;
        j.int(id.into())?;
    }
    if let Some(a) = l.alias().filter(|_| do_link) {
        j.kv_str("ifalias", a)?;
    }
    let alt = l.altnames();
    if !alt.is_empty() {
        j.key("altnames")?;
        j.begin_arr()?;
        for a in alt {
            j.str(a)?;
        }
        j.end_arr()?;
    }
    Ok(())
}

/// The lines `ip link show` (`do_link`) / `ip addr show` print for a link
/// (the `addr` lines and the newline excluded); `netns` names the
/// namespaces of `link-netnsid`.
pub fn link_text(
    w: &mut impl Write,
    l: &Link,
    names: &Names,
    netns: &std::collections::HashMap<i32, String>,
    do_link: bool,
) -> io::Result<()> {
    link_text_with(w, l, names, netns, do_link, true)
}

/// [`link_text`] without `qlen` when `showqueue` is false, as `ip monitor`
/// prints links (iproute2's `filter.showqueue`).
pub fn link_text_with(
    w: &mut impl Write,
    l: &Link,
    names: &Names,
    netns: &std::collections::HashMap<i32, String>,
    do_link: bool,
    showqueue: bool,
) -> io::Result<()> {
    out::uint(w, l.index().into())?;
    w.write_all(b": ")?;
    w.write_all(l.name().as_bytes())?;
    let mut mdown = false;
    match lower(l) {
        Some(None) => w.write_all(b"@NONE")?,
        Some(Some((i, true))) => write!(w, "@if{i}")?,
        Some(Some((i, false))) => {
            w.write_all(b"@")?;
            names.text(w, i)?;
            mdown = names.flags(i) & IFF_UP == 0;
        }
        None => {}
    }
    w.write_all(b": <")?;
    let flags = l.flags().bits();
    let mut first = true;
    each_flag(flags, mdown, |f| {
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        w.write_all(f.as_bytes())
    })?;
    w.write_all(b"> ")?;
    if let Some(m) = l.mtu() {
        w.write_all(b"mtu ")?;
        out::uint(w, m.into())?;
        w.write_all(b" ")?;
    }
    if let Some(q) = l.qdisc() {
        write!(w, "qdisc {q} ")?;
    }
    if let Some(m) = l.master() {
        w.write_all(b"master ")?;
        names.text(w, m)?;
        w.write_all(b" ")?;
    }
    let state = u8::from(l.operstate());
    match OPER_STATES.get(state as usize) {
        Some(s) => write!(w, "state {s} ")?,
        None => write!(w, "state {state:#x}")?,
    }
    if do_link {
        match l.linkmode() {
            Some(0) => w.write_all(b"mode DEFAULT ")?,
            Some(1) => w.write_all(b"mode DORMANT ")?,
            _ => {}
        }
    }
    match l.group() {
        Some(0) => w.write_all(b"group default ")?,
        Some(g) => write!(w, "group {g} ")?,
        None => {}
    }
    if let Some(q) = l.txqlen().filter(|&q| showqueue && q != 0) {
        w.write_all(b"qlen ")?;
        out::uint(w, q.into())?;
    }
    let lt = l.link_type();
    w.write_all(b"\n    link/")?;
    write_link_type(w, lt)?;
    w.write_all(b" ")?;
    if let Some(a) = l.address() {
        write_ll(w, a, lt)?;
    }
    if let Some(b) = l.broadcast() {
        let word: &[u8] = if flags & IFF_POINTOPOINT != 0 {
            b" peer "
        } else {
            b" brd "
        };
        w.write_all(word)?;
        write_ll(w, b, lt)?;
    }
    if let Some(p) = l.perm_address().filter(|p| Some(*p) != l.address()) {
        w.write_all(b" permaddr ")?;
        write_ll(w, p, lt)?;
    }
    if let Some(id) = l.netnsid() {
        match netns.get(&id) {
            Some(name) => write!(w, " link-netns {name}")?,
            None => write!(w, " link-netnsid {id}")?,
        }
    }
    if let Some(a) = l.alias().filter(|_| do_link) {
        write!(w, "\n    alias {a}")?;
    }
    for a in l.altnames() {
        write!(w, "\n    altname {a}")?;
    }
    Ok(())
}
