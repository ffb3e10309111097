//! `-j`: one JSON object per state, policy or event. `ip xfrm` has no JSON
//! output, so the keys are `ip xfrm`'s words (`-` as `_`).

use serde_json::{Map, Value, json};
use tokio_netlink::route::address::Family;
use tokio_netlink::xfrm::{
    Algorithm, Level, Lifetime, LifetimeCurrent, Mark, Policy, Selector, State, Template, XFRM_INF,
    XfrmEvent, ip_proto_name, state_flags,
};

use crate::Names;
use crate::args::{EXTRA_FLAGS, POLICY_FLAGS};

fn names_of(f: u32, names: &[(u32, &str)]) -> Value {
    names
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| Value::from(*n))
        .collect()
}

fn family(f: Option<Family>) -> Value {
    match f {
        Some(Family::V4) => "inet".into(),
        Some(Family::V6) => "inet6".into(),
        None => Value::Null,
    }
}

fn mark(m: Mark) -> Value {
    json!({"value": m.value, "mask": m.mask})
}

/// Drops the keys whose value is null (absent attributes).
fn compact(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .collect::<Map<String, Value>>(),
        ),
        v => v,
    }
}

/// The selector: prefixes, upper layer as ip names it, dev, uid.
pub fn selector(s: &Selector, names: &Names) -> Value {
    let any = |f: Option<Family>| {
        if f == Some(Family::V6) {
            "::"
        } else {
            "0.0.0.0"
        }
    };
    let pfx = |a: Option<std::net::IpAddr>, l: u8| {
        format!(
            "{}/{l}",
            a.map(|a| a.to_string())
                .unwrap_or_else(|| any(s.family).into())
        )
    };
    let mut v = json!({
        "family": family(s.family),
        "src": pfx(s.src, s.src_len),
        "dst": pfx(s.dst, s.dst_len),
        "uid": s.user,
    });
    let o = v.as_object_mut().unwrap();
    if s.proto != 0 {
        o.insert(
            "proto".into(),
            ip_proto_name(s.proto).map_or(s.proto.into(), Value::from),
        );
        let (a, b) = match s.proto {
            1 | 58 | 135 => ("type", "code"),
            _ => ("sport", "dport"),
        };
        if s.proto == 47 {
            if s.sport_mask != 0 || s.dport_mask != 0 {
                let key = (u32::from(s.sport) << 16) | u32::from(s.dport);
                o.insert("key".into(), key.into());
            }
        } else {
            if s.sport_mask != 0 {
                o.insert(a.into(), s.sport.into());
            }
            if s.dport_mask != 0 {
                o.insert(b.into(), s.dport.into());
            }
        }
    }
    if s.ifindex > 0 {
        o.insert("dev".into(), names.name(s.ifindex as u32).into());
    }
    v
}

fn limit(v: u64) -> Value {
    // No limit: null rather than 2^64-1.
    if v == XFRM_INF { Value::Null } else { v.into() }
}

fn lifetime(l: &Lifetime, c: &LifetimeCurrent) -> Value {
    json!({
        "limit": {
            "byte_soft": limit(l.soft_bytes), "byte_hard": limit(l.hard_bytes),
            "packet_soft": limit(l.soft_packets), "packet_hard": limit(l.hard_packets),
            "time_soft": l.soft_add_seconds, "time_hard": l.hard_add_seconds,
            "time_use_soft": l.soft_use_seconds, "time_use_hard": l.hard_use_seconds,
        },
        "current": {
            "bytes": c.bytes, "packets": c.packets,
            "add_time": c.add_time, "use_time": c.use_time,
        },
    })
}

fn algorithm(a: &Algorithm) -> Value {
    compact(json!({
        "name": a.name,
        "key": (!a.key.is_empty()).then(|| a.key_hex()),
        "key_bits": a.key_bits,
        "icv_bits": a.icv_bits,
    }))
}

/// One state.
pub fn state(s: &State, stats: bool, names: &Names) -> Value {
    let flags: Vec<(u32, &str)> = state_flags::NAMES
        .iter()
        .map(|(f, n)| (u32::from(*f), *n))
        .collect();
    let mut v = json!({
        "src": s.src.to_string(),
        "dst": s.dst.to_string(),
        "proto": s.proto.to_string(),
        "spi": s.spi,
        "reqid": s.reqid,
        "mode": s.mode.to_string(),
        "replay_window": s.replay_window,
        "seq": s.seq,
        "flag": names_of(u32::from(s.flags), &flags),
        "extra_flag": s.extra_flags.map(|x| names_of(x, &EXTRA_FLAGS)),
        "mark": s.mark.map(mark),
        "output_mark": s.output_mark.map(mark),
        "auth": s.auth.as_ref().filter(|a| a.icv_bits.is_none()).map(algorithm),
        "auth_trunc": s.auth.as_ref().filter(|a| a.icv_bits.is_some()).map(algorithm),
        "aead": s.aead.as_ref().map(algorithm),
        "enc": s.enc.as_ref().map(algorithm),
        "comp": s.comp.as_ref().map(algorithm),
        "encap": s.encap.map(|e| json!({
            "type": e.kind.to_string(), "sport": e.sport, "dport": e.dport,
            "oaddr": e.oa.map(|a| a.to_string()),
        })),
        "coa": s.coaddr.map(|a| a.to_string()),
        "lastused": s.last_used,
        "replay": s.replay.map(|r| json!({"seq": r.seq, "oseq": r.oseq, "bitmap": r.bitmap})),
        "replay_esn": s.replay_esn.as_ref().map(|r| json!({
            "seq": r.seq, "oseq": r.oseq, "seq_hi": r.seq_hi, "oseq_hi": r.oseq_hi,
            "replay_window": r.replay_window, "bitmap": r.bitmap,
        })),
        "offload": s.offload.map(|o| json!({
            "dev": names.name(o.ifindex),
            "dir": if o.inbound { "in" } else { "out" },
            "mode": if o.packet { "packet" } else { "crypto" },
        })),
        "if_id": s.if_id,
        "tfcpad": s.tfcpad,
        "ctx": s.sec_ctx.as_ref().map(|c| c.text()),
        "sel": selector(&s.selector, names),
    });
    if stats {
        let o = v.as_object_mut().unwrap();
        o.insert("lifetime".into(), lifetime(&s.lifetime, &s.current));
        o.insert(
            "stats".into(),
            json!({
                "replay_window": s.stats.replay_window,
                "replay": s.stats.replay,
                "failed": s.stats.integrity_failed,
            }),
        );
    }
    compact(v)
}

fn template(t: &Template) -> Value {
    compact(json!({
        "family": family(t.family),
        "src": t.src.map(|a| a.to_string()),
        "dst": t.dst.map(|a| a.to_string()),
        "proto": t.proto.to_string(),
        "spi": t.spi,
        "reqid": t.reqid,
        "mode": t.mode.to_string(),
        "level": if t.level == Level::Use { "use" } else { "required" },
        "share": t.share,
        "enc_mask": t.ealgos,
        "auth_mask": t.aalgos,
        "comp_mask": t.calgos,
    }))
}

/// One policy.
pub fn policy(p: &Policy, stats: bool, names: &Names) -> Value {
    let mut v = json!({
        "sel": selector(&p.selector, names),
        "dir": p.dir.to_string(),
        "action": p.action.to_string(),
        "index": p.index,
        "priority": p.priority,
        "ptype": if p.policy_type == Some(1) { "sub" } else { "main" },
        "share": p.share,
        "flag": names_of(u32::from(p.flags), &POLICY_FLAGS),
        "ctx": p.sec_ctx.as_ref().map(|c| c.text()),
        "mark": p.mark.map(mark),
        "tmpl": p.templates.iter().map(template).collect::<Vec<_>>(),
        "if_id": p.if_id,
    });
    if stats {
        v.as_object_mut()
            .unwrap()
            .insert("lifetime".into(), lifetime(&p.lifetime, &p.current));
    }
    compact(v)
}

/// Adds `"event": name` in front of an object's keys.
fn tagged(name: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert("event".into(), name.into());
    if let Value::Object(o) = v {
        m.extend(o);
    }
    Value::Object(m)
}

/// The interface indexes an event names (to resolve before printing).
pub fn indexes(ev: &XfrmEvent) -> Vec<u32> {
    let sel = |s: &Selector| u32::try_from(s.ifindex).unwrap_or(0);
    match ev {
        XfrmEvent::NewState(s) | XfrmEvent::UpdateState(s) | XfrmEvent::DelState(s) => {
            let mut v = vec![sel(&s.selector)];
            v.extend(s.offload.map(|o| o.ifindex));
            v
        }
        XfrmEvent::NewPolicy(p) | XfrmEvent::UpdatePolicy(p) | XfrmEvent::DelPolicy(p) => {
            vec![sel(&p.selector)]
        }
        _ => Vec::new(),
    }
}

/// One event; `None` for what is not printed (undecodable: on stderr).
pub fn event(ev: &XfrmEvent, stats: bool, names: &Names) -> Option<Value> {
    Some(match ev {
        XfrmEvent::NewState(s) => tagged("newsa", state(s, stats, names)),
        XfrmEvent::UpdateState(s) => tagged("updsa", state(s, stats, names)),
        XfrmEvent::DelState(s) => tagged("delsa", state(s, stats, names)),
        XfrmEvent::FlushStates(p) => json!({"event": "flushsa", "proto": p.to_string()}),
        XfrmEvent::Expire { state: s, hard } => {
            let mut v = tagged("expire", state(s, stats, names));
            v["hard"] = (*hard).into();
            v
        }
        XfrmEvent::NewPolicy(p) => tagged("newpolicy", policy(p, stats, names)),
        XfrmEvent::UpdatePolicy(p) => tagged("updpolicy", policy(p, stats, names)),
        XfrmEvent::DelPolicy(p) => tagged("delpolicy", policy(p, stats, names)),
        XfrmEvent::FlushPolicies => json!({"event": "flushpolicy"}),
        XfrmEvent::PolicyExpire { policy: p, hard } => {
            let mut v = tagged("polexpire", policy(p, stats, names));
            v["hard"] = (*hard).into();
            v
        }
        XfrmEvent::Acquire(a) => compact(json!({
            "event": "acquire",
            "proto": a.proto.to_string(),
            "src": a.src.map(|x| x.to_string()),
            "dst": a.dst.map(|x| x.to_string()),
            "seq": a.seq,
            "sel": selector(&a.selector, names),
            "policy": policy(&a.policy, stats, names),
            "tmpl": a.templates.iter().map(template).collect::<Vec<_>>(),
        })),
        XfrmEvent::Mapping(m) => compact(json!({
            "event": "mapping",
            "dst": m.dst.map(|x| x.to_string()),
            "proto": m.proto.to_string(),
            "spi": m.spi,
            "reqid": m.reqid,
            "old": {"addr": m.old.0.map(|x| x.to_string()), "port": m.old.1},
            "new": {"addr": m.new.0.map(|x| x.to_string()), "port": m.new.1},
        })),
        XfrmEvent::Report(r) => compact(json!({
            "event": "report",
            "proto": r.proto.to_string(),
            "sel": selector(&r.selector, names),
            "coa": r.coaddr.map(|x| x.to_string()),
        })),
        XfrmEvent::Migrate(m) => compact(json!({
            "event": "migrate",
            "sel": selector(&m.selector, names),
            "dir": m.dir.to_string(),
            "entries": m.entries.iter().map(|e| json!({
                "proto": e.proto.to_string(), "mode": e.mode.to_string(), "reqid": e.reqid,
                "old_src": e.old_src.to_string(), "old_dst": e.old_dst.to_string(),
                "new_src": e.new_src.to_string(), "new_dst": e.new_dst.to_string(),
            })).collect::<Vec<_>>(),
            "kmaddress": m.kmaddress.map(|k| json!({
                "local": k.local.to_string(), "remote": k.remote.to_string(),
            })),
        })),
        XfrmEvent::Lost => json!({"event": "LOST"}),
        XfrmEvent::Undecodable(_) => return None,
        other => json!({"event": "other", "debug": format!("{other:?}")}),
    })
}
