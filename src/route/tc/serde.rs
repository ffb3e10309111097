//! `serde` for traffic control, in `tc -j`'s words where it has them.
//!
//! Plain values go both ways: [`Handle`] and [`Parent`] as `tc`'s text
//! (`"1:10"`, `"root"`), [`Rate`] as bytes per second (a number, as
//! `tc -j` prints rates; text such as `"10mbit"` is read too),
//! [`EtherType`], [`Control`], [`U32Handle`] as text, and the kinds with
//! their options as `{"kind": NAME, "options": {…}}`. The views
//! ([`Qdisc`], [`Class`], [`Filter`]) are serialized from their accessors.
//!
//! The impls here go through mirror structs, field by field, rather than
//! derives on the types themselves, so that the TC modules stay free of
//! serde attributes. The counters are rebuilt with `..Default::default()`
//! although every field is set today, so that a field added to them later
//! still compiles here (its serde form then waits for an entry below).
#![allow(clippy::needless_update)]

use std::fmt;

use ::serde::de::{self, Deserialize, Deserializer, Visitor};
use ::serde::ser::{Serialize, SerializeMap, Serializer};

use super::handle::H_ROOT;
use super::{
    Action, ActionStats, Class, ClassKind, Control, EtherType, Fifo, Filter, FilterKind, Gact,
    Handle, Htb, HtbClass, HtbXstats, Mirred, MirredAction, Parent, Qdisc, QdiscKind, Rate, Stats,
    Tbf, U32, U32Handle, U32Key, U32Offset,
};
use crate::serde_util::{Fields, Hex, from_text, parse_hex, text_serde};

// ------------------------------------------------------------- plain text

/// `tc`'s spelling (`1:`, `1:10`, `:10`, `0:`, `root` for `ffff:ffff`).
impl Serialize for Handle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Handle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a handle (MAJ:MIN)", |s| match s {
            "root" => Some(Handle::from_raw(H_ROOT)),
            s => s.parse().ok(),
        })
    }
}

/// `root`, `ingress`, `egress` or the handle's text. A handle equal to
/// `ffff:ffff` is written out so that it does not read back as `root`.
impl Serialize for Parent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Parent::Handle(h) if h.raw() == H_ROOT => s.serialize_str("ffff:ffff"),
            p => s.collect_str(p),
        }
    }
}

impl<'de> Deserialize<'de> for Parent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a parent (root, ingress, egress, MAJ:MIN)", |s| {
            s.parse().ok()
        })
    }
}

/// Bytes per second, as `tc -j` prints a rate.
impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.bytes_per_sec())
    }
}

/// Bytes per second, or `tc`'s text (`"10mbit"`).
impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate: bytes per second, or text such as \"10mbit\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Ok(Rate::bytes(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                u64::try_from(v)
                    .map(Rate::bytes)
                    .map_err(|_| E::custom("a rate cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

text_serde!(EtherType, "a protocol (ip, ipv6, all, 0x88cc…)", |s| s
    .parse()
    .ok());

text_serde!(
    Control,
    "a control (pass, drop, pipe, goto chain N…)",
    |s: &str| s.parse().ok().or_else(|| {
        // Display writes values without a name in hex.
        let h = s.strip_prefix("0x")?;
        u32::from_str_radix(h, 16)
            .ok()
            .map(|v| Control::from_raw(v as i32))
    })
);

/// `HT:BKT:NODE` in hex, every part written (`800:0:800`), so any value
/// reads back.
impl Serialize for U32Handle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!(
            "{:x}:{:x}:{:x}",
            self.table(),
            self.bucket(),
            self.node()
        ))
    }
}

impl<'de> Deserialize<'de> for U32Handle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a u32 handle (HT:BKT:NODE)", |s| s.parse().ok())
    }
}

const MIRRED_ACTIONS: [(MirredAction, &str); 4] = [
    (MirredAction::EgressRedirect, "egress redirect"),
    (MirredAction::EgressMirror, "egress mirror"),
    (MirredAction::IngressRedirect, "ingress redirect"),
    (MirredAction::IngressMirror, "ingress mirror"),
];

/// `"egress redirect"`, `"egress mirror"`, `"ingress redirect"`,
/// `"ingress mirror"` (`tc`'s words).
impl Serialize for MirredAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = MIRRED_ACTIONS
            .iter()
            .find(|(a, _)| a == self)
            .map(|(_, n)| *n)
            .unwrap_or_default();
        s.serialize_str(n)
    }
}

impl<'de> Deserialize<'de> for MirredAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a mirred action (egress redirect…)", |s| {
            MIRRED_ACTIONS
                .iter()
                .find(|(_, n)| *n == s)
                .map(|(a, _)| *a)
        })
    }
}

/// A `u32` hex value as `tc -j` prints `default`: `"0x10"`.
struct HexU32(u32);

impl Serialize for HexU32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:#x}", self.0))
    }
}

impl<'de> Deserialize<'de> for HexU32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, "a hex number (0x10)", |s| {
            u32::from_str_radix(s.strip_prefix("0x")?, 16).ok()
        })
        .map(HexU32)
    }
}

// ------------------------------------------------------ kinds and options

/// Mirrors of the option structs, with `tc -j`'s field names.
mod mirror {
    use super::*;

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct Fifo {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub limit: Option<u32>,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct Htb {
        pub r2q: u32,
        pub default: HexU32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub direct_qlen: Option<u32>,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct HtbClass {
        pub rate: Rate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ceil: Option<Rate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub burst: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cburst: Option<u32>,
        #[serde(default)]
        pub prio: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub quantum: Option<u32>,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct Tbf {
        pub rate: Rate,
        pub burst: u32,
        pub limit: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub peakrate: Option<Rate>,
        #[serde(default)]
        pub mtu: u32,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct U32Key {
        pub mask: HexU32,
        pub val: HexU32,
        pub off: i32,
        pub offmask: i32,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct U32Offset {
        pub at: i16,
        pub mask: u16,
        pub shift: u8,
        pub plus: u16,
        pub eat: bool,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct Hashkey {
        pub mask: HexU32,
        pub at: i32,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct U32 {
        #[serde(default)]
        pub keys: Vec<super::U32Key>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub classid: Option<Handle>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub divisor: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub link: Option<U32Handle>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ht: Option<U32Handle>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hashkey: Option<Hashkey>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub offset: Option<super::U32Offset>,
        #[serde(default)]
        pub terminal: bool,
        #[serde(default)]
        pub flags: u32,
        #[serde(default)]
        pub actions: Vec<Action>,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct Gact {
        pub control: Control,
        #[serde(default)]
        pub index: u32,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub(super) struct Mirred {
        pub action: MirredAction,
        pub ifindex: u32,
        pub control: Control,
        #[serde(default)]
        pub index: u32,
    }
}

/// Serialize through a mirror built by `$to`, deserialize through the
/// mirror and `$from`.
macro_rules! via_mirror {
    ($ty:ty, $m:ty, $to:expr, $from:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let to: fn(&$ty) -> $m = $to;
                to(self).serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let from: fn($m) -> $ty = $from;
                <$m>::deserialize(d).map(from)
            }
        }
    };
}

via_mirror!(
    Fifo,
    mirror::Fifo,
    |f| mirror::Fifo { limit: f.limit },
    |m| { Fifo { limit: m.limit } }
);

via_mirror!(
    Htb,
    mirror::Htb,
    |h| mirror::Htb {
        r2q: h.r2q,
        default: HexU32(h.default_class),
        direct_qlen: h.direct_qlen,
    },
    |m| {
        let mut h = Htb::new().r2q(m.r2q).default_class(m.default.0);
        h.direct_qlen = m.direct_qlen;
        h
    }
);

via_mirror!(
    HtbClass,
    mirror::HtbClass,
    |c| mirror::HtbClass {
        rate: c.rate,
        ceil: c.ceil,
        burst: c.burst,
        cburst: c.cburst,
        prio: c.prio,
        quantum: c.quantum,
    },
    |m| {
        let mut c = HtbClass::new(m.rate);
        c.ceil = m.ceil;
        c.burst = m.burst;
        c.cburst = m.cburst;
        c.prio = m.prio;
        c.quantum = m.quantum;
        c
    }
);

via_mirror!(
    Tbf,
    mirror::Tbf,
    |t| mirror::Tbf {
        rate: t.rate,
        burst: t.burst,
        limit: t.limit,
        peakrate: t.peakrate,
        mtu: t.mtu,
    },
    |m| {
        let mut t = Tbf::new(m.rate, m.burst);
        t.limit = m.limit;
        t.peakrate = m.peakrate;
        t.mtu = m.mtu;
        t
    }
);

via_mirror!(
    U32Key,
    mirror::U32Key,
    // The kernel's words hold the packet's bytes: written as the packet
    // reads (big-endian), as `tc` prints them, whatever the host's order.
    |k| mirror::U32Key {
        mask: HexU32(u32::from_be(k.mask)),
        val: HexU32(u32::from_be(k.val)),
        off: k.off,
        offmask: k.offmask,
    },
    |m| U32Key {
        mask: m.mask.0.to_be(),
        val: m.val.0.to_be(),
        off: m.off,
        offmask: m.offmask,
    }
);

via_mirror!(
    U32Offset,
    mirror::U32Offset,
    |o| mirror::U32Offset {
        at: o.at,
        mask: o.mask,
        shift: o.shift,
        plus: o.plus,
        eat: o.eat,
    },
    |m| U32Offset {
        at: m.at,
        mask: m.mask,
        shift: m.shift,
        plus: m.plus,
        eat: m.eat,
    }
);

via_mirror!(
    U32,
    mirror::U32,
    |u| mirror::U32 {
        keys: u.keys.clone(),
        classid: u.classid,
        divisor: u.divisor,
        link: u.link,
        ht: u.ht,
        hashkey: u.hashkey.map(|(mask, at)| mirror::Hashkey {
            mask: HexU32(u32::from_be(mask)),
            at,
        }),
        offset: u.offset,
        terminal: u.terminal,
        flags: u.flags,
        actions: u.actions.clone(),
    },
    |m| {
        let mut u = U32::new();
        u.keys = m.keys;
        u.classid = m.classid;
        u.divisor = m.divisor;
        u.link = m.link;
        u.ht = m.ht;
        u.hashkey = m.hashkey.map(|h| (h.mask.0.to_be(), h.at));
        u.offset = m.offset;
        u.terminal = m.terminal;
        u.flags = m.flags;
        u.actions = m.actions;
        u
    }
);

via_mirror!(
    Gact,
    mirror::Gact,
    |g| mirror::Gact {
        control: g.control,
        index: g.index,
    },
    |m| {
        let mut g = Gact::new(m.control);
        g.index = m.index;
        g
    }
);

via_mirror!(
    Mirred,
    mirror::Mirred,
    |g| mirror::Mirred {
        action: g.action,
        ifindex: g.ifindex,
        control: g.control,
        index: g.index,
    },
    |m| {
        let mut g = Mirred::new(m.action, m.ifindex);
        g.control = m.control;
        g.index = m.index;
        g
    }
);

/// The kinds this crate types, as read back; anything else (a kind added
/// later, or options kept as bytes) is read as the `Other` form.
#[derive(::serde::Deserialize)]
#[serde(tag = "kind", content = "options", rename_all = "snake_case")]
enum QdiscKnown {
    Pfifo(Fifo),
    Bfifo(Fifo),
    PfifoFast,
    Htb(Htb),
    Tbf(Tbf),
    Ingress,
    Clsact,
    Noqueue,
}

/// A kind with options this crate keeps as bytes: `options` in hex.
#[derive(::serde::Deserialize)]
struct OtherKind {
    kind: String,
    #[serde(default, with = "hex_opt")]
    options: Option<Vec<u8>>,
}

#[derive(::serde::Deserialize)]
#[serde(untagged)]
enum Either<K> {
    Known(K),
    Other(OtherKind),
}

/// `Option<Vec<u8>>` as optional hex.
mod hex_opt {
    use super::*;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let s = <Option<String>>::deserialize(d)?;
        s.map(|s| {
            parse_hex(&s).ok_or_else(|| de::Error::custom(format!("{s:?} is not 0x-prefixed hex")))
        })
        .transpose()
    }
}

/// Writes the `options` of a qdisc kind into `m` (absent for kinds
/// without any; hex for kinds kept as bytes).
fn qdisc_options<M: SerializeMap>(m: &mut Fields<M>, k: &QdiscKind) -> Result<(), M::Error> {
    match k {
        QdiscKind::Pfifo(f) | QdiscKind::Bfifo(f) => m.put("options", f)?,
        QdiscKind::Htb(h) => m.put("options", h)?,
        QdiscKind::Tbf(t) => m.put("options", t)?,
        QdiscKind::Other { options, .. } => m.opt("options", options.as_deref().map(Hex))?,
        // The kinds without options, and any added later.
        _ => m,
    };
    Ok(())
}

/// `{"kind": NAME, "options": {…}}`; `options` is absent for kinds
/// without any (`pfifo_fast`, `ingress`, `clsact`, `noqueue`) and `0x…`
/// hex for [`QdiscKind::Other`]. Option fields: `pfifo`/`bfifo`: `limit`;
/// `htb`: `r2q`, `default` (hex text, as `tc -j`), `direct_qlen`; `tbf`:
/// `rate`, `burst`, `limit`, `peakrate`, `mtu` (rates in bytes per second).
impl Serialize for QdiscKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("kind", self.name())?;
        qdisc_options(&mut m, self)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for QdiscKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Either::<QdiscKnown>::deserialize(d)? {
            Either::Known(k) => match k {
                QdiscKnown::Pfifo(f) => QdiscKind::Pfifo(f),
                QdiscKnown::Bfifo(f) => QdiscKind::Bfifo(f),
                QdiscKnown::PfifoFast => QdiscKind::PfifoFast,
                QdiscKnown::Htb(h) => QdiscKind::Htb(h),
                QdiscKnown::Tbf(t) => QdiscKind::Tbf(t),
                QdiscKnown::Ingress => QdiscKind::Ingress,
                QdiscKnown::Clsact => QdiscKind::Clsact,
                QdiscKnown::Noqueue => QdiscKind::Noqueue,
            },
            Either::Other(o) => QdiscKind::Other {
                kind: o.kind,
                options: o.options,
            },
        })
    }
}

#[derive(::serde::Deserialize)]
#[serde(tag = "kind", content = "options", rename_all = "snake_case")]
enum ClassKnown {
    Htb(HtbClass),
}

fn class_kind<M: SerializeMap>(
    m: &mut Fields<M>,
    key: &'static str,
    k: &ClassKind,
) -> Result<(), M::Error> {
    m.put(key, k.name())?;
    match k {
        ClassKind::Htb(c) => m.put("options", c)?,
        ClassKind::Other { options, .. } => m.opt("options", options.as_deref().map(Hex))?,
        // Kinds added later: the name at least.
        #[allow(unreachable_patterns)]
        _ => m,
    };
    Ok(())
}

/// `{"kind": NAME, "options": {…}}`: `htb` options are `rate`, `ceil`
/// (bytes per second), `burst`, `cburst`, `prio`, `quantum`;
/// [`ClassKind::Other`]'s are hex.
impl Serialize for ClassKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        class_kind(&mut m, "kind", self)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for ClassKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Either::<ClassKnown>::deserialize(d)? {
            Either::Known(ClassKnown::Htb(c)) => ClassKind::Htb(c),
            Either::Other(o) => ClassKind::Other {
                kind: o.kind,
                options: o.options,
            },
        })
    }
}

#[derive(::serde::Deserialize)]
#[serde(tag = "kind", content = "options", rename_all = "snake_case")]
enum FilterKnown {
    U32(U32),
}

fn filter_kind<M: SerializeMap>(m: &mut Fields<M>, k: &FilterKind) -> Result<(), M::Error> {
    m.put("kind", k.name())?;
    match k {
        FilterKind::U32(u) => m.put("options", u)?,
        FilterKind::Other { options, .. } => m.opt("options", options.as_deref().map(Hex))?,
        #[allow(unreachable_patterns)]
        _ => m,
    };
    Ok(())
}

/// `{"kind": NAME, "options": {…}}`: `u32` options are `keys` (each
/// `mask`, `val` in hex text as `tc` prints them — the packet's bytes read
/// big-endian —, `off`, `offmask`), `classid`, `divisor`,
/// `link`, `ht` (`HT:BKT:NODE`), `hashkey` (`mask`, `at`), `offset` (`at`,
/// `mask`, `shift`, `plus`, `eat`), `terminal`, `flags`, `actions`;
/// [`FilterKind::Other`]'s are hex.
impl Serialize for FilterKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        filter_kind(&mut m, self)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for FilterKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Either::<FilterKnown>::deserialize(d)? {
            Either::Known(FilterKnown::U32(u)) => FilterKind::U32(u),
            Either::Other(o) => FilterKind::Other {
                kind: o.kind,
                options: o.options,
            },
        })
    }
}

#[derive(::serde::Deserialize)]
#[serde(tag = "kind", content = "options", rename_all = "snake_case")]
enum ActionKnown {
    Gact(Gact),
    Mirred(Mirred),
}

/// `{"kind": "gact", "options": {"control", "index"}}`, `{"kind":
/// "mirred", "options": {"action", "ifindex", "control", "index"}}`, or
/// another kind with hex options.
impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        match self {
            Action::Gact(g) => m.put("kind", "gact")?.put("options", g)?,
            Action::Mirred(g) => m.put("kind", "mirred")?.put("options", g)?,
            Action::Other { kind, options } => m
                .put("kind", kind)?
                .opt("options", options.as_deref().map(Hex))?,
            #[allow(unreachable_patterns)]
            _ => &mut m,
        };
        m.end()
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Either::<ActionKnown>::deserialize(d)? {
            Either::Known(ActionKnown::Gact(g)) => Action::Gact(g),
            Either::Known(ActionKnown::Mirred(g)) => Action::Mirred(g),
            Either::Other(o) => Action::Other {
                kind: o.kind,
                options: o.options,
            },
        })
    }
}

// ------------------------------------------------------------- counters

#[derive(::serde::Serialize, ::serde::Deserialize)]
struct StatsMirror {
    bytes: u64,
    packets: u64,
    drops: u32,
    overlimits: u32,
    requeues: u32,
    qlen: u32,
    backlog: u32,
    #[serde(default)]
    rate_bps: u64,
    #[serde(default)]
    rate_pps: u64,
    #[serde(default)]
    hw_bytes: u64,
    #[serde(default)]
    hw_packets: u64,
}

/// `tc -s -j`'s names: `bytes`, `packets`, `drops`, `overlimits`,
/// `requeues`, `qlen`, `backlog`, and `rate_bps`, `rate_pps`, `hw_bytes`,
/// `hw_packets`.
impl Serialize for Stats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StatsMirror {
            bytes: self.bytes,
            packets: self.packets,
            drops: self.drops,
            overlimits: self.overlimits,
            requeues: self.requeues,
            qlen: self.qlen,
            backlog: self.backlog,
            rate_bps: self.rate_bps,
            rate_pps: self.rate_pps,
            hw_bytes: self.hw_bytes,
            hw_packets: self.hw_packets,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Stats {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = StatsMirror::deserialize(d)?;
        Ok(Stats {
            bytes: m.bytes,
            packets: m.packets,
            drops: m.drops,
            overlimits: m.overlimits,
            requeues: m.requeues,
            qlen: m.qlen,
            backlog: m.backlog,
            rate_bps: m.rate_bps,
            rate_pps: m.rate_pps,
            hw_bytes: m.hw_bytes,
            hw_packets: m.hw_packets,
            ..Stats::default()
        })
    }
}

#[derive(::serde::Serialize, ::serde::Deserialize)]
struct HtbXstatsMirror {
    lended: u32,
    borrowed: u32,
    giants: u32,
    tokens: i32,
    ctokens: i32,
}

via_mirror!(
    HtbXstats,
    HtbXstatsMirror,
    |x| HtbXstatsMirror {
        lended: x.lends,
        borrowed: x.borrows,
        giants: x.giants,
        tokens: x.tokens,
        ctokens: x.ctokens,
    },
    |m| {
        HtbXstats {
            lends: m.lended,
            borrows: m.borrowed,
            giants: m.giants,
            tokens: m.tokens,
            ctokens: m.ctokens,
            ..HtbXstats::default()
        }
    }
);

#[derive(::serde::Serialize, ::serde::Deserialize)]
struct ActionStatsMirror {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<u32>,
    stats: Stats,
}

via_mirror!(
    ActionStats,
    ActionStatsMirror,
    |a| ActionStatsMirror {
        index: a.index,
        stats: a.stats,
    },
    |m| {
        ActionStats {
            index: m.index,
            stats: m.stats,
            ..ActionStats::default()
        }
    }
);

// ---------------------------------------------------------------- views

/// Writes `parent` as `tc -j` does: `"root": true` for the root, else
/// `"parent": "1:"` (`"ingress"`…).
fn parent<M: SerializeMap>(m: &mut Fields<M>, p: Parent) -> Result<(), M::Error> {
    match p {
        Parent::Root => m.put("root", &true)?,
        p => m.put("parent", &p)?,
    };
    Ok(())
}

/// A qdisc as `tc -s -j qdisc show` prints it, with the device by index:
///
/// | field | type | from |
/// |---|---|---|
/// | `ifindex` | number | [`Qdisc::ifindex`] (`tc`'s `dev` is its name) |
/// | `kind` | string | [`Qdisc::kind`] |
/// | `handle` | string | [`Qdisc::handle`] (`1:`) |
/// | `root` | `true` | at the root |
/// | `parent` | string | [`Qdisc::parent`] otherwise (`1:10`, `ingress`) |
/// | `refcnt` | number | [`Qdisc::refcnt`] |
/// | `options` | map | the kind's options as [`QdiscKind`] writes them; for `htb` also `direct_packets_stat` |
/// | `ingress_block`, `egress_block` | number | shared blocks |
/// | `offloaded` | `true` | in hardware |
/// | `stats` | map | [`Stats`] |
impl Serialize for Qdisc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("ifindex", &self.ifindex())?;
        let kind = self.options();
        m.put("kind", kind.name())?.put("handle", &self.handle())?;
        parent(&mut m, self.parent())?;
        m.put("refcnt", &self.refcnt())?;
        match (&kind, self.htb_direct_packets()) {
            (QdiscKind::Htb(h), Some(direct)) => {
                #[derive(::serde::Serialize)]
                struct HtbOptions<'a> {
                    #[serde(flatten)]
                    htb: &'a Htb,
                    direct_packets_stat: u32,
                }
                m.put(
                    "options",
                    &HtbOptions {
                        htb: h,
                        direct_packets_stat: direct,
                    },
                )?;
            }
            _ => qdisc_options(&mut m, &kind)?,
        }
        m.opt("ingress_block", self.ingress_block())?
            .opt("egress_block", self.egress_block())?
            .flag("offloaded", self.offloaded())?
            .put("stats", &self.stats())?;
        m.end()
    }
}

/// A class as `tc -s -j class show` prints it, with the device by index:
///
/// | field | type | from |
/// |---|---|---|
/// | `ifindex` | number | [`Class::ifindex`] |
/// | `class` | string | [`Class::kind`] (`htb`; `tc`'s name for the kind of a class) |
/// | `handle` | string | [`Class::classid`] (`1:10`) |
/// | `root` | `true` | a top class at the root |
/// | `parent` | string | [`Class::parent`] otherwise |
/// | `leaf` | string | [`Class::leaf`]: the child qdisc's handle |
/// | `options` | map | as [`ClassKind`] writes them |
/// | `stats` | map | [`Stats`] |
/// | `xstats` | map | [`HtbXstats`] for `htb`: `lended`, `borrowed`, `giants`, `tokens`, `ctokens` |
impl Serialize for Class {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("ifindex", &self.ifindex())?;
        class_kind(&mut m, "class", &self.options())?;
        m.put("handle", &self.classid())?;
        parent(&mut m, self.parent())?;
        m.opt("leaf", self.leaf())?
            .put("stats", &self.stats())?
            .opt("xstats", self.htb_xstats())?;
        m.end()
    }
}

/// A filter as `tc -s -j filter show` prints it, with the device by
/// index:
///
/// | field | type | from |
/// |---|---|---|
/// | `ifindex` | number | [`Filter::ifindex`] (4294967295 for a shared block) |
/// | `root` | `true` / `parent` string | [`Filter::parent`] (`ingress`, `egress`, `1:`) |
/// | `protocol` | string | [`Filter::protocol`] (`ip`, `all`, `0x88cc`) |
/// | `pref` | number | [`Filter::prio`] |
/// | `kind` | string | [`Filter::kind`] |
/// | `chain` | number | [`Filter::chain`] |
/// | `handle` | number | [`Filter::handle`] (`tc`'s `fh`, which it prints as text in `options`; 0: the entry for the priority itself) |
/// | `options` | map | as [`FilterKind`] writes them |
/// | `offloaded` | `true` | in hardware |
/// | `stats` | map | [`Stats`] |
/// | `action_stats` | array | [`ActionStats`]: `index`, `stats` |
impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("ifindex", &self.ifindex())?;
        parent(&mut m, self.parent())?;
        m.put("protocol", &self.protocol())?
            .put("pref", &self.prio())?;
        filter_kind(&mut m, &self.options())?;
        m.put("chain", &self.chain())?
            .put("handle", &self.handle())?
            .flag("offloaded", self.offloaded())?
            .put("stats", &self.stats())?
            .list("action_stats", &self.action_stats())?;
        m.end()
    }
}
