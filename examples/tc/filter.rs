//! `tc filter show dev DEV [ingress|egress|parent P]` for u32 and
//! classic-bpf filters with gact/mirred actions, streamed.

use std::io::{self, Write};

use futures::StreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::route::tc::{
    Action, BpfProgram, Filter, FilterKind, MirredAction, Parent, U32Handle,
};

use crate::{nl_err, out, raw};

/// TCA_CLS_FLAGS_* as `tc` names them.
fn cls_flags(w: &mut impl Write, flags: u32) -> io::Result<()> {
    for (bit, name) in [
        (1, "skip_hw"),
        (2, "skip_sw"),
        (4, "in_hw"),
        (8, "not_in_hw"),
    ] {
        if flags & bit != 0 {
            write!(w, "{name} ")?;
        }
    }
    Ok(())
}

pub async fn show(nl: &Netlink, dev: &str, parent: Option<&str>, json: bool) -> io::Result<()> {
    let mut list = nl.tc().filter().list(dev);
    if let Some(p) = parent {
        list = list.parent(p);
    }
    let mut names = std::collections::HashMap::new();
    for l in nl.link().list().await.map_err(nl_err)? {
        names.insert(l.index(), l.name().to_owned());
    }
    let mut w = out::stdout();
    let mut filters = std::pin::pin!(list.stream());
    if json {
        w.write_all(b"[")?;
    }
    let mut first = true;
    while let Some(f) = filters.next().await {
        let f = f.map_err(nl_err)?;
        if json {
            if !first {
                w.write_all(b",")?;
            }
            json_one(&mut w, &f, parent.is_some(), &names)?;
        } else {
            text(&mut w, &f, parent.is_some(), &names)?;
        }
        first = false;
    }
    if json {
        w.write_all(b"]\n")?;
    }
    w.flush()
}

/// `filter [PARENT] protocol P pref N KIND chain C OPTIONS` (the device,
/// always named here, is never printed; the parent only when not asked
/// for).
fn text(
    w: &mut impl Write,
    f: &Filter,
    parent_given: bool,
    names: &std::collections::HashMap<u32, String>,
) -> io::Result<()> {
    w.write_all(b"filter ")?;
    if !parent_given {
        match f.parent() {
            Parent::Handle(h) => write!(w, "parent {h} ")?,
            p => write!(w, "{p} ")?,
        }
    }
    write!(
        w,
        "protocol {} pref {} {} chain {} ",
        f.protocol(),
        f.prio(),
        f.kind(),
        f.chain()
    )?;
    let has_options = raw::path(f.raw(), &[2]).is_some();
    match f.options() {
        FilterKind::U32(u) if has_options => {
            let h = U32Handle::from_raw(f.handle());
            if h.raw() != 0 {
                write!(w, "fh {h} ")?;
            }
            if h.node() != 0 {
                write!(w, "order {} ", h.node())?;
            }
            if let Some(d) = u.divisor {
                write!(w, "ht divisor {d} ")?;
            } else if let Some(ht) = u.ht {
                write!(w, "key ht {:x} bkt {:x} ", ht.table(), ht.bucket())?;
            }
            if let Some(c) = u.classid {
                write!(w, "{}flowid {c} ", if u.terminal { "*" } else { "" })?;
            }
            if let Some(l) = u.link {
                write!(w, "link {l} ")?;
            }
            cls_flags(w, u.flags)?;
            for k in &u.keys {
                let (v, m) = (u32::from_be(k.val), u32::from_be(k.mask));
                let nh = if k.offmask != 0 { "nexthdr+" } else { "" };
                write!(w, "\n  match {v:08x}/{m:08x} at {nh}{}", k.off)?;
            }
            actions(w, f, 7, &u.actions, names)?;
        }
        FilterKind::Bpf(b) if has_options => {
            if f.handle() != 0 {
                write!(w, "handle {:#x} ", f.handle())?;
            }
            if let Some(c) = b.classid {
                write!(w, "flowid {c} ")?;
            }
            if let Some(n) = &b.name {
                write!(w, "{n} ")?;
            }
            if b.direct_action {
                w.write_all(b"direct-action ")?;
            }
            cls_flags(w, b.flags)?;
            if let BpfProgram::Classic(ops) = &b.program {
                write!(w, "bytecode '{},", ops.len())?;
                for (i, o) in ops.iter().enumerate() {
                    let end = if i + 1 == ops.len() { '\'' } else { ',' };
                    write!(w, "{} {} {} {}{end}", o.code, o.jt, o.jf, o.k)?;
                }
            }
            actions(w, f, 1, &b.actions, names)?;
        }
        _ => {}
    }
    w.write_all(b"\n")
}

/// `\n\taction order N: …` for each action, then a newline, as
/// `tc_print_action` prints them; `ref`/`bind` come from the raw parms.
fn actions(
    w: &mut impl Write,
    f: &Filter,
    nest: u16,
    acts: &[Action],
    names: &std::collections::HashMap<u32, String>,
) -> io::Result<()> {
    if acts.is_empty() {
        return Ok(());
    }
    for (i, a) in acts.iter().enumerate() {
        let order = i as u16 + 1;
        write!(w, "\n\taction order {order}: ")?;
        let (control, index) = match a {
            Action::Gact(g) => {
                write!(w, "gact action {}", g.control)?;
                (None, g.index)
            }
            Action::Mirred(m) => {
                let what = match m.action {
                    MirredAction::EgressRedirect => "Egress Redirect",
                    MirredAction::EgressMirror => "Egress Mirror",
                    MirredAction::IngressRedirect => "Ingress Redirect",
                    MirredAction::IngressMirror => "Ingress Mirror",
                };
                let dev = names.get(&m.ifindex).map_or("*", String::as_str);
                write!(w, "mirred ({what} to device {dev})")?;
                (Some(m.control), m.index)
            }
            other => {
                write!(w, "{}", other.kind())?;
                (None, 0)
            }
        };
        if let Some(c) = control {
            write!(w, " {c}")?;
        }
        // struct tc_gen: index, capab, action, refcnt, bindcnt.
        let parms = raw::path(f.raw(), &[2, nest, order, 2, 2]);
        let at = |o: usize| {
            parms.and_then(|p| Some(i32::from_ne_bytes(p.get(o..o + 4)?.try_into().ok()?)))
        };
        write!(
            w,
            "\n\tindex {index} ref {} bind {}",
            at(12).unwrap_or(0),
            at(16).unwrap_or(0)
        )?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// One filter with `tc -j`'s field names (a u32 node repeats `match`, as
/// `tc` does).
fn json_one(
    w: &mut impl Write,
    f: &Filter,
    parent_given: bool,
    names: &std::collections::HashMap<u32, String>,
) -> io::Result<()> {
    w.write_all(b"{")?;
    if !parent_given {
        write!(w, "\"parent\":\"{}\",", f.parent())?;
    }
    write!(
        w,
        "\"protocol\":\"{}\",\"pref\":{},\"kind\":",
        f.protocol(),
        f.prio()
    )?;
    out::json_str(w, f.kind())?;
    write!(w, ",\"chain\":{}", f.chain())?;
    let flags = |w: &mut dyn Write, flags: u32| -> io::Result<()> {
        for (bit, name) in [
            (1, "skip_hw"),
            (2, "skip_sw"),
            (4, "in_hw"),
            (8, "not_in_hw"),
        ] {
            if flags & bit != 0 {
                write!(w, ",\"{name}\":true")?;
            }
        }
        Ok(())
    };
    if raw::path(f.raw(), &[2]).is_some() {
        w.write_all(b",\"options\":{")?;
        match f.options() {
            FilterKind::U32(u) => {
                let h = U32Handle::from_raw(f.handle());
                write!(w, "\"fh\":\"{h}\"")?;
                if h.node() != 0 {
                    write!(w, ",\"order\":{}", h.node())?;
                }
                if let Some(d) = u.divisor {
                    write!(w, ",\"ht_divisor\":{d}")?;
                } else if let Some(ht) = u.ht {
                    write!(
                        w,
                        ",\"key_ht\":\"{:x}\",\"bkt\":\"{:x}\"",
                        ht.table(),
                        ht.bucket()
                    )?;
                }
                if let Some(c) = u.classid {
                    write!(w, ",\"flowid\":\"{c}\"")?;
                }
                if let Some(l) = u.link {
                    write!(w, ",\"link\":\"{l}\"")?;
                }
                flags(w, u.flags)?;
                for k in &u.keys {
                    let (v, m) = (u32::from_be(k.val), u32::from_be(k.mask));
                    let nh = if k.offmask != 0 { "nexthdr+" } else { "" };
                    write!(
                        w,
                        ",\"match\":{{\"value\":\"{v:x}\",\"mask\":\"{m:x}\",\"offmask\":\"{nh}\",\"off\":{}}}",
                        k.off
                    )?;
                }
                actions_json(w, f, 7, &u.actions, names)?;
            }
            FilterKind::Bpf(b) => {
                write!(w, "\"handle\":\"{:#x}\"", f.handle())?;
                if let Some(c) = b.classid {
                    write!(w, ",\"flowid\":\"{c}\"")?;
                }
                if let Some(n) = &b.name {
                    w.write_all(b",\"bpf_name\":")?;
                    out::json_str(w, n)?;
                }
                if b.direct_action {
                    w.write_all(b",\"direct-action\":true")?;
                }
                flags(w, b.flags)?;
                if let BpfProgram::Classic(ops) = &b.program {
                    write!(w, ",\"bytecode\":{{\"length\":{},\"insns\":[", ops.len())?;
                    for (i, o) in ops.iter().enumerate() {
                        let sep = if i == 0 { "" } else { "," };
                        write!(
                            w,
                            "{sep}{{\"code\":{},\"jt\":{},\"jf\":{},\"k\":{}}}",
                            o.code, o.jt, o.jf, o.k
                        )?;
                    }
                    w.write_all(b"]}")?;
                }
                actions_json(w, f, 1, &b.actions, names)?;
            }
            _ => {}
        }
        w.write_all(b"}")?;
    }
    w.write_all(b"}")
}

/// `"actions":[…]` for mirred actions (the kinds the host kernel has).
fn actions_json(
    w: &mut impl Write,
    f: &Filter,
    nest: u16,
    acts: &[Action],
    names: &std::collections::HashMap<u32, String>,
) -> io::Result<()> {
    if acts.is_empty() {
        return Ok(());
    }
    w.write_all(b",\"actions\":[")?;
    for (i, a) in acts.iter().enumerate() {
        let order = i as u16 + 1;
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{{\"order\":{order},\"kind\":")?;
        out::json_str(w, a.kind())?;
        if let Action::Mirred(m) = a {
            let (what, dir) = match m.action {
                MirredAction::EgressRedirect => ("redirect", "egress"),
                MirredAction::EgressMirror => ("mirror", "egress"),
                MirredAction::IngressRedirect => ("redirect", "ingress"),
                MirredAction::IngressMirror => ("mirror", "ingress"),
            };
            let dev = names.get(&m.ifindex).map_or("*", String::as_str);
            write!(
                w,
                ",\"mirred_action\":\"{what}\",\"direction\":\"{dir}\",\"to_dev\":"
            )?;
            out::json_str(w, dev)?;
            write!(w, ",\"control_action\":{{\"type\":\"{}\"}}", m.control)?;
        }
        let parms = raw::path(f.raw(), &[2, nest, order, 2, 2]);
        let at = |o: usize| {
            parms.and_then(|p| Some(i32::from_ne_bytes(p.get(o..o + 4)?.try_into().ok()?)))
        };
        let index = a.index().unwrap_or(0);
        write!(
            w,
            ",\"index\":{index},\"ref\":{},\"bind\":{}}}",
            at(12).unwrap_or(0),
            at(16).unwrap_or(0)
        )?;
    }
    w.write_all(b"]")
}
