//! Actions attached to filters (`… action gact drop`, `… action mirred
//! egress redirect dev v1`): the `TCA_*_ACT` nest, each action a nest of
//! TCA_ACT_KIND and TCA_ACT_OPTIONS, encoded as `tc` encodes it.

use std::fmt;
use std::str::FromStr;

use super::stats::Stats;
use super::wire::{Rd, Writer};
use crate::conn::attrs::{nested, nested_get, str_of};
use crate::error::{Error, Result};

const ACT_KIND: u16 = 1;
const ACT_OPTIONS: u16 = 2;
const ACT_INDEX: u16 = 3;
const ACT_STATS: u16 = 4;
const ACT_COOKIE: u16 = 6;
const NLA_F_NESTED: u16 = 0x8000;

const GACT_PARMS: u16 = 2;
const MIRRED_PARMS: u16 = 2;

const ACT_JUMP: i32 = 1 << 28;
const ACT_GOTO_CHAIN: i32 = 2 << 28;
const ACT_EXT_MASK: i32 = 0xF << 28;

/// What happens to a packet after an action (`tc`'s control words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// `continue` (`TC_ACT_UNSPEC`): go on with the next filter.
    Continue,
    /// `pass` / `ok` (`TC_ACT_OK`): accept the packet.
    Pass,
    /// `reclassify`: classify again from the first filter.
    Reclassify,
    /// `drop` / `shot` (`TC_ACT_SHOT`).
    Drop,
    /// `pipe`: go on with the next action.
    Pipe,
    /// `stolen`: the action consumed the packet (mirred's redirect).
    Stolen,
    /// `goto chain N`.
    GotoChain(u32),
    /// `jump N`: skip N actions.
    Jump(u32),
    /// A value this crate does not name, as the kernel holds it.
    Other(i32),
}

impl Control {
    /// The kernel's value (`TC_ACT_*`).
    pub fn raw(self) -> i32 {
        match self {
            Control::Continue => -1,
            Control::Pass => 0,
            Control::Reclassify => 1,
            Control::Drop => 2,
            Control::Pipe => 3,
            Control::Stolen => 4,
            Control::GotoChain(n) => ACT_GOTO_CHAIN | (n & 0x0FFF_FFFF) as i32,
            Control::Jump(n) => ACT_JUMP | (n & 0x0FFF_FFFF) as i32,
            Control::Other(v) => v,
        }
    }

    /// The control for a kernel value.
    pub fn from_raw(v: i32) -> Control {
        match v {
            -1 => Control::Continue,
            0 => Control::Pass,
            1 => Control::Reclassify,
            2 => Control::Drop,
            3 => Control::Pipe,
            4 => Control::Stolen,
            v if v & ACT_EXT_MASK == ACT_GOTO_CHAIN => Control::GotoChain((v & 0x0FFF_FFFF) as u32),
            v if v & ACT_EXT_MASK == ACT_JUMP => Control::Jump((v & 0x0FFF_FFFF) as u32),
            v => Control::Other(v),
        }
    }
}

impl fmt::Display for Control {
    /// As `tc` prints it (`pass`, `drop`, `goto chain 2`, …).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Control::Continue => f.write_str("continue"),
            Control::Pass => f.write_str("pass"),
            Control::Reclassify => f.write_str("reclassify"),
            Control::Drop => f.write_str("drop"),
            Control::Pipe => f.write_str("pipe"),
            Control::Stolen => f.write_str("stolen"),
            Control::GotoChain(n) => write!(f, "goto chain {n}"),
            Control::Jump(n) => write!(f, "jump {n}"),
            Control::Other(v) => write!(f, "{v:#x}"),
        }
    }
}

impl FromStr for Control {
    type Err = Error;

    /// `tc`'s words: `continue`, `pass`, `ok`, `reclassify`, `drop`,
    /// `shot`, `pipe`, `stolen`, `goto chain N`, `jump N`.
    fn from_str(s: &str) -> Result<Control> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let num = |w: &str| {
            w.parse::<u32>()
                .ok()
                .filter(|n| *n <= 0x0FFF_FFFF)
                .ok_or_else(|| {
                    Error::invalid("control", format!("{w:?} is not a number below 2^28"))
                })
        };
        Ok(match words.as_slice() {
            ["continue"] => Control::Continue,
            ["pass"] | ["ok"] => Control::Pass,
            ["reclassify"] => Control::Reclassify,
            ["drop"] | ["shot"] => Control::Drop,
            ["pipe"] => Control::Pipe,
            ["stolen"] => Control::Stolen,
            ["goto", "chain", n] => Control::GotoChain(num(n)?),
            ["jump", n] => Control::Jump(num(n)?),
            _ => {
                return Err(Error::invalid(
                    "control",
                    format!(
                        "{s:?} is not continue, pass, ok, reclassify, drop, pipe, stolen, \
                         goto chain N or jump N"
                    ),
                ));
            }
        })
    }
}

/// `gact CONTROL [index N]`: the generic action (`struct tc_gact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gact {
    /// What to do with the packet.
    pub control: Control,
    /// `index N`: the action's index (0: the kernel picks one, and reports
    /// it when read back).
    pub index: u32,
}

impl Gact {
    /// `gact CONTROL`.
    pub fn new(control: Control) -> Gact {
        Gact { control, index: 0 }
    }
}

/// Where mirred sends the packet and how (`egress|ingress redirect|mirror`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirredAction {
    /// `egress redirect` (`TCA_EGRESS_REDIR`).
    EgressRedirect,
    /// `egress mirror` (`TCA_EGRESS_MIRROR`).
    EgressMirror,
    /// `ingress redirect` (`TCA_INGRESS_REDIR`).
    IngressRedirect,
    /// `ingress mirror` (`TCA_INGRESS_MIRROR`).
    IngressMirror,
}

impl MirredAction {
    fn raw(self) -> i32 {
        match self {
            MirredAction::EgressRedirect => 1,
            MirredAction::EgressMirror => 2,
            MirredAction::IngressRedirect => 3,
            MirredAction::IngressMirror => 4,
        }
    }

    fn from_raw(v: i32) -> Option<MirredAction> {
        Some(match v {
            1 => MirredAction::EgressRedirect,
            2 => MirredAction::EgressMirror,
            3 => MirredAction::IngressRedirect,
            4 => MirredAction::IngressMirror,
            _ => return None,
        })
    }

    fn is_redirect(self) -> bool {
        matches!(
            self,
            MirredAction::EgressRedirect | MirredAction::IngressRedirect
        )
    }
}

/// `mirred egress|ingress redirect|mirror dev DEV [CONTROL] [index N]`
/// (`struct tc_mirred`). The device is given by index (look it up with
/// `nl.link()`); `tc` defaults the control to `stolen` for a redirect and
/// `pipe` for a mirror, as [`Mirred::new`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mirred {
    /// Direction and mode.
    pub action: MirredAction,
    /// The target device's index.
    pub ifindex: u32,
    /// What happens next.
    pub control: Control,
    /// `index N` (0: the kernel picks one).
    pub index: u32,
}

impl Mirred {
    /// `mirred ACTION dev IFINDEX` with `tc`'s default control.
    pub fn new(action: MirredAction, ifindex: u32) -> Mirred {
        Mirred {
            action,
            ifindex,
            control: if action.is_redirect() {
                Control::Stolen
            } else {
                Control::Pipe
            },
            index: 0,
        }
    }
}

/// One action attached to a filter, typed; any other kind keeps its
/// TCA_ACT_OPTIONS value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// `gact`.
    Gact(Gact),
    /// `mirred`.
    Mirred(Mirred),
    /// `action KIND index N`: a standalone action already there (see
    /// [`TcHandle::actions`](super::TcHandle::actions)), shared by
    /// reference; `gact` and `mirred`. Never read back: the kernel reports
    /// the action itself.
    Index {
        /// `gact` or `mirred`.
        kind: String,
        /// The action's index.
        index: u32,
    },
    /// Another kind, its options sent back as read.
    Other {
        /// TCA_ACT_KIND.
        kind: String,
        /// The TCA_ACT_OPTIONS value.
        options: Option<Vec<u8>>,
    },
}

impl From<Gact> for Action {
    fn from(v: Gact) -> Action {
        Action::Gact(v)
    }
}

impl From<Mirred> for Action {
    fn from(v: Mirred) -> Action {
        Action::Mirred(v)
    }
}

impl From<Control> for Action {
    /// `action drop`, `action pass`…: a gact.
    fn from(c: Control) -> Action {
        Action::Gact(Gact::new(c))
    }
}

impl Action {
    /// The kind's name (`gact`, `mirred`, …).
    pub fn kind(&self) -> &str {
        match self {
            Action::Gact(_) => "gact",
            Action::Mirred(_) => "mirred",
            Action::Index { kind, .. } | Action::Other { kind, .. } => kind,
        }
    }

    /// The index the action was given (0: the kernel picks one), if its
    /// kind has one here.
    pub fn index(&self) -> Option<u32> {
        match self {
            Action::Gact(g) => Some(g.index),
            Action::Mirred(m) => Some(m.index),
            Action::Index { index, .. } => Some(*index),
            Action::Other { .. } => None,
        }
    }

    /// TCA_ACT_KIND, TCA_ACT_OPTIONS and `cookie` (TCA_ACT_COOKIE), as
    /// `tc` writes one action.
    pub(crate) fn encode_with(&self, w: &mut Writer, cookie: Option<&[u8]>) -> Result<()> {
        self.encode(w)?;
        if let Some(c) = cookie {
            // TC_COOKIE_MAX_SIZE.
            if c.is_empty() || c.len() > 16 {
                return Err(Error::invalid(
                    "cookie",
                    format!("{} bytes (1 to 16 are allowed)", c.len()),
                ));
            }
            w.attr("cookie", ACT_COOKIE, c)?;
        }
        Ok(())
    }

    fn encode(&self, w: &mut Writer) -> Result<()> {
        w.string("action", ACT_KIND, self.kind())?;
        // struct tc_gen: index, capab, action, refcnt, bindcnt.
        let tc_gen = |buf: &mut Vec<u8>, index: u32, c: Control| {
            buf.extend_from_slice(&index.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.extend_from_slice(&c.raw().to_ne_bytes());
            buf.extend_from_slice(&[0u8; 8]);
        };
        match self {
            Action::Gact(g) => {
                let mut p = Vec::with_capacity(20);
                tc_gen(&mut p, g.index, g.control);
                let n = w.begin(ACT_OPTIONS | NLA_F_NESTED);
                w.attr("gact", GACT_PARMS, &p)?;
                w.end("gact", n)
            }
            Action::Mirred(m) => {
                if m.ifindex == 0 {
                    return Err(Error::invalid("mirred", "a mirred action needs a device"));
                }
                let mut p = Vec::with_capacity(28);
                tc_gen(&mut p, m.index, m.control);
                p.extend_from_slice(&m.action.raw().to_ne_bytes());
                p.extend_from_slice(&m.ifindex.to_ne_bytes());
                let n = w.begin(ACT_OPTIONS | NLA_F_NESTED);
                w.attr("mirred", MIRRED_PARMS, &p)?;
                w.end("mirred", n)
            }
            Action::Index { kind, index } => {
                // As `tc … action mirred index N` sends it: the parms
                // with only the index set.
                let (ty, len) = match kind.as_str() {
                    "gact" => (GACT_PARMS, 20),
                    "mirred" => (MIRRED_PARMS, 28),
                    k => {
                        return Err(Error::invalid(
                            "action",
                            format!("{k:?}: only gact and mirred are referred to by index"),
                        ));
                    }
                };
                if *index == 0 {
                    return Err(Error::invalid("index", "an action index is at least 1"));
                }
                let mut p = vec![0u8; len];
                p[..4].copy_from_slice(&index.to_ne_bytes());
                let n = w.begin(ACT_OPTIONS | NLA_F_NESTED);
                w.attr("action", ty, &p)?;
                w.end("action", n)
            }
            Action::Other { options, .. } => match options {
                Some(o) => w.attr("action", ACT_OPTIONS | NLA_F_NESTED, o),
                None => Ok(()),
            },
        }
    }

    pub(crate) fn decode(v: &[u8]) -> Action {
        let kind = nested_get(v, ACT_KIND).and_then(str_of).unwrap_or("");
        let options = nested_get(v, ACT_OPTIONS);
        let parms = |ty, len| {
            options
                .and_then(|o| nested_get(o, ty))
                .filter(|p| p.len() >= len)
        };
        match kind {
            "gact" => {
                if let Some(p) = parms(GACT_PARMS, 20) {
                    let r = Rd(p);
                    return Action::Gact(Gact {
                        control: Control::from_raw(r.i32(8)),
                        index: r.u32(0),
                    });
                }
            }
            "mirred" => {
                if let Some(p) = parms(MIRRED_PARMS, 28) {
                    let r = Rd(p);
                    if let Some(action) = MirredAction::from_raw(r.i32(20)) {
                        return Action::Mirred(Mirred {
                            action,
                            ifindex: r.u32(24),
                            control: Control::from_raw(r.i32(8)),
                            index: r.u32(0),
                        });
                    }
                }
            }
            _ => {}
        }
        Action::Other {
            kind: kind.to_owned(),
            options: options.map(<[u8]>::to_vec),
        }
    }
}

/// Writes the `ty` nest of `actions` (orders 1, 2, …), as `tc` does for
/// each `action …` on a filter's command line; nothing when empty.
pub(crate) fn encode_actions(w: &mut Writer, ty: u16, actions: &[Action]) -> Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    let outer = w.begin(ty);
    for (i, a) in actions.iter().enumerate() {
        let n = w.begin(i as u16 + 1);
        a.encode(w)?;
        w.end("action", n)?;
    }
    w.end("action", outer)
}

/// The actions of a `TCA_*_ACT` nest, in order.
pub(crate) fn decode_actions(v: &[u8]) -> Vec<Action> {
    let mut all: Vec<(u16, &[u8])> = nested(v).collect();
    all.sort_by_key(|(order, _)| *order);
    all.into_iter().map(|(_, a)| Action::decode(a)).collect()
}

/// The `tc -s` counters of each action of a `TCA_*_ACT` nest, in order,
/// with the index the kernel reports.
pub(crate) fn decode_action_stats(v: &[u8]) -> Vec<ActionStats> {
    let mut all: Vec<(u16, &[u8])> = nested(v).collect();
    all.sort_by_key(|(order, _)| *order);
    all.into_iter()
        .map(|(_, a)| ActionStats {
            index: nested_get(a, ACT_INDEX).map(|v| Rd(v).u32(0)),
            stats: nested_get(a, ACT_STATS)
                .and_then(|s| Stats::decode(Some(s), None))
                .unwrap_or_default(),
        })
        .collect()
}

/// One attached action's counters (`tc -s filter show`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionStats {
    /// TCA_ACT_INDEX, when the kernel reports it.
    pub index: Option<u32>,
    /// Bytes and packets through the action, drops, overlimits.
    pub stats: Stats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_parse_print_and_map_like_tc() {
        for (s, raw) in [
            ("continue", -1),
            ("pass", 0),
            ("reclassify", 1),
            ("drop", 2),
            ("pipe", 3),
            ("stolen", 4),
            ("goto chain 7", 0x2000_0007),
            ("jump 2", 0x1000_0002),
        ] {
            let c: Control = s.parse().unwrap();
            assert_eq!(c.raw(), raw, "{s}");
            assert_eq!(Control::from_raw(raw), c, "{s}");
            assert_eq!(c.to_string(), s);
        }
        assert_eq!("ok".parse::<Control>().unwrap(), Control::Pass);
        assert_eq!("shot".parse::<Control>().unwrap(), Control::Drop);
        for bad in ["", "dropp", "goto chain", "goto chain x", "jump 268435456"] {
            assert!(
                matches!(
                    bad.parse::<Control>(),
                    Err(Error::InvalidInput {
                        field: "control",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn actions_decode_into_what_was_encoded() {
        let acts = vec![
            Action::from(Gact {
                control: Control::GotoChain(3),
                index: 9,
            }),
            Mirred::new(MirredAction::IngressMirror, 4).into(),
        ];
        let mut w = Writer::default();
        encode_actions(&mut w, 7, &acts).unwrap();
        let inner = nested_get(&w.buf, 7).unwrap();
        assert_eq!(decode_actions(inner), acts);
    }
}
