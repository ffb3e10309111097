//! `serde` for XFRM: the small enums as `ip xfrm`'s words, and
//! [`XfrmEvent`] as a map tagged by `event`. The structs (states,
//! policies, selectors, templates…) derive both directions in their own
//! modules, with their Rust field names (`ip xfrm`'s words): every field
//! is written, `null` for an absent optional one; keys and security
//! contexts are `0x…` hex.

use ::serde::ser::{Serialize, Serializer};

use super::events::XfrmEvent;
use super::types::{Dir, EncapType, IpsecProto, Mode, PolicyAction, SaDir};
use crate::serde_util::{Fields, number, text_serde};

// `Other(n)` variants print as the number, and read back from it.
text_serde!(Dir, "a direction (in, out, fwd, or a number)", |s| {
    Dir::parse(s).ok().or_else(|| number(s).map(Dir::from_raw))
});
text_serde!(SaDir, "a state direction (in, out, or a number)", |s| {
    SaDir::parse(s)
        .ok()
        .or_else(|| number(s).map(SaDir::from_raw))
});
text_serde!(
    PolicyAction,
    "a policy action (allow, block, or a number)",
    |s| match s {
        "allow" => Some(PolicyAction::Allow),
        "block" => Some(PolicyAction::Block),
        n => number(n).map(PolicyAction::from_raw),
    }
);
text_serde!(
    Mode,
    "a mode (transport, tunnel, ro, in_trigger, beet, or a number)",
    |s| Mode::parse(s)
        .ok()
        .or_else(|| number(s).map(Mode::from_raw))
);
text_serde!(
    IpsecProto,
    "an XFRM protocol (esp, ah, comp, route2, hao, or a number)",
    |s| IpsecProto::parse(s).ok()
);
text_serde!(
    EncapType,
    "an encap type (espinudp, espinudp-nonike, espintcp, or a number)",
    |s| EncapType::parse(s)
        .ok()
        .or_else(|| number(s).map(EncapType::from_raw))
);

/// An XFRM event as one map: `event` names it, the object is under its
/// key.
///
/// | `event` | fields |
/// |---|---|
/// | `new_state`, `update_state`, `del_state` | `state`: [`State`](super::State) |
/// | `flush_states` | `proto`: [`IpsecProto`] |
/// | `expire` | `state`, `hard` (bool) |
/// | `new_policy`, `update_policy`, `del_policy` | `policy`: [`Policy`](super::Policy) |
/// | `flush_policies` | |
/// | `policy_expire` | `policy`, `hard` |
/// | `acquire` | `acquire`: [`Acquire`](super::Acquire) |
/// | `mapping` | `mapping`: [`Mapping`](super::Mapping) |
/// | `report` | `report`: [`Report`](super::Report) |
/// | `migrate` | `migrate`: [`Migrate`](super::Migrate) |
/// | `other` | `message_type`: the netlink message type |
/// | `lost` | notifications were dropped |
/// | `undecodable` | `error`: the decoding error's text |
impl Serialize for XfrmEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        match self {
            XfrmEvent::NewState(st) => m.put("event", "new_state")?.put("state", st)?,
            XfrmEvent::UpdateState(st) => m.put("event", "update_state")?.put("state", st)?,
            XfrmEvent::DelState(st) => m.put("event", "del_state")?.put("state", st)?,
            XfrmEvent::FlushStates(p) => m.put("event", "flush_states")?.put("proto", p)?,
            XfrmEvent::Expire { state, hard } => m
                .put("event", "expire")?
                .put("state", state)?
                .put("hard", hard)?,
            XfrmEvent::NewPolicy(p) => m.put("event", "new_policy")?.put("policy", p)?,
            XfrmEvent::UpdatePolicy(p) => m.put("event", "update_policy")?.put("policy", p)?,
            XfrmEvent::DelPolicy(p) => m.put("event", "del_policy")?.put("policy", p)?,
            XfrmEvent::FlushPolicies => m.put("event", "flush_policies")?,
            XfrmEvent::PolicyExpire { policy, hard } => m
                .put("event", "policy_expire")?
                .put("policy", policy)?
                .put("hard", hard)?,
            XfrmEvent::Acquire(a) => m.put("event", "acquire")?.put("acquire", a)?,
            XfrmEvent::Mapping(a) => m.put("event", "mapping")?.put("mapping", a)?,
            XfrmEvent::Report(a) => m.put("event", "report")?.put("report", a)?,
            XfrmEvent::Migrate(a) => m.put("event", "migrate")?.put("migrate", a)?,
            XfrmEvent::Other(r) => m.put("event", "other")?.put("message_type", &r.header.ty)?,
            XfrmEvent::Lost => m.put("event", "lost")?,
            XfrmEvent::Undecodable(e) => m
                .put("event", "undecodable")?
                .put("error", &e.to_string())?,
            // Variants added later: named as unknown rather than failing.
            #[allow(unreachable_patterns)]
            _ => m.put("event", "other")?,
        };
        m.end()
    }
}
