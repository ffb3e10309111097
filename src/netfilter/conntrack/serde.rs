//! `serde` for conntrack: [`Conntrack`] entries as flat maps in
//! `conntrack -L`'s words, events tagged by `event`, [`Proto`],
//! [`TcpState`] and [`Status`] as `conntrack`'s names. [`Tuple`],
//! [`Counters`](super::Counters), [`TcpInfo`](super::TcpInfo) and the
//! stats derive both directions in their modules (`null` for an absent
//! optional field).

use ::serde::de::{self, Deserialize, Deserializer};
use ::serde::ser::{Serialize, SerializeSeq, Serializer};

use super::{Conntrack, ConntrackEvent, Proto, Status, TcpState};
use crate::serde_util::{Fields, Hex, family_name, number};

// A protocol or state without a name is written as its number (`conntrack`
// prints `unknown`) and read back from it.
impl Serialize for Proto {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Proto::Other(n) => s.collect_str(n),
            p => s.serialize_str(p.name()),
        }
    }
}

impl<'de> Deserialize<'de> for Proto {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::serde_util::from_text(d, "a protocol (tcp, udp, icmp, … or a number)", |s| {
            s.parse().ok()
        })
    }
}

// As for protocols: a state without a name is written as its number and read back from it.
impl Serialize for TcpState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TcpState::Unknown(v) => s.collect_str(v),
            t => s.serialize_str(t.name()),
        }
    }
}

impl<'de> Deserialize<'de> for TcpState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::serde_util::from_text(d, "a TCP state (ESTABLISHED, … or a number)", |s| {
            s.parse().ok().or_else(|| number(s).map(TcpState::from_raw))
        })
    }
}

/// The names of the bits set (`["SEEN_REPLY", "ASSURED"]`), and any bits
/// without a name as one `0x…` entry, so every value reads back.
impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let named = self.names().fold(0, |acc, n| {
            acc | n.parse::<Status>().map_or(0, Status::bits)
        });
        let rest = self.bits() & !named;
        let mut seq = s.serialize_seq(None)?;
        for n in self.names() {
            seq.serialize_element(n)?;
        }
        if rest != 0 {
            seq.serialize_element(&format!("{rest:#x}"))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let words = <Vec<String>>::deserialize(d)?;
        let mut bits = 0;
        for w in &words {
            bits |= match w.strip_prefix("0x") {
                Some(h) => u32::from_str_radix(h, 16).map_err(de::Error::custom)?,
                None => w.parse::<Status>().map_err(de::Error::custom)?.bits(),
            };
        }
        Ok(Status(bits))
    }
}

/// A conntrack entry in `conntrack -L`'s words:
///
/// | field | type | from |
/// |---|---|---|
/// | `family` | string | `inet`, `inet6` |
/// | `proto` | string | `tcp`, `udp`, `icmp`, `icmpv6`… |
/// | `orig`, `reply` | map | [`Tuple`](super::Tuple): `src`, `dst`, `proto`, `sport`, `dport`, `icmp_type`, `icmp_code`, `icmp_id` |
/// | `tcp_state` | string | `ESTABLISHED`, `TIME_WAIT`… |
/// | `tcp` | map | [`TcpInfo`](super::TcpInfo) |
/// | `status` | array of strings | [`Status`]: `SEEN_REPLY`, `ASSURED`… |
/// | `timeout` | number | seconds left |
/// | `mark`, `zone`, `id`, `use` | number | |
/// | `labels` | string | `0x…` hex |
/// | `counters_orig`, `counters_reply` | map | `packets`, `bytes` (with accounting on) |
/// | `start`, `stop` | number | timestamps, ns (with timestamps on) |
/// | `helper`, `secctx` | string | |
impl Serialize for Conntrack {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("family", family_name(self.family()))?
            .put("proto", &self.proto())?
            .put("orig", self.orig())?
            .put("reply", self.reply())?
            .opt("tcp_state", self.tcp_state())?
            .opt("tcp", self.tcp())?
            .put("status", &self.status())?
            .opt("timeout", self.timeout())?
            .opt("mark", self.mark())?
            .opt("zone", self.zone())?
            .opt("id", self.id())?
            .opt("use", self.use_count())?
            .opt("labels", self.labels().map(Hex))?
            .opt("counters_orig", self.counters_orig())?
            .opt("counters_reply", self.counters_reply())?
            .opt("start", self.start())?
            .opt("stop", self.stop())?
            .opt("helper", self.helper())?
            .opt("secctx", self.secctx())?;
        m.end()
    }
}

/// `{"event": "new" | "update" | "destroy", "conntrack": {…}}`,
/// `{"event": "lost"}`, `{"event": "undecodable", "error": TEXT}`.
impl Serialize for ConntrackEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        match self {
            ConntrackEvent::New(c) => m.put("event", "new")?.put("conntrack", c)?,
            ConntrackEvent::Update(c) => m.put("event", "update")?.put("conntrack", c)?,
            ConntrackEvent::Destroy(c) => m.put("event", "destroy")?.put("conntrack", c)?,
            ConntrackEvent::Lost => m.put("event", "lost")?,
            ConntrackEvent::Undecodable(e) => m
                .put("event", "undecodable")?
                .put("error", &e.to_string())?,
            // Variants added later: named as unknown rather than failing.
            #[allow(unreachable_patterns)]
            _ => m.put("event", "other")?,
        };
        m.end()
    }
}
