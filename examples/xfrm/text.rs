//! `ip xfrm`'s text layout (iproute2 6.1), trailing spaces included, so
//! the two can be compared line by line.

use std::fmt::Write;
use std::io;
use std::net::IpAddr;

use tokio_netlink::xfrm::{
    Algorithm, Level, Lifetime, LifetimeCurrent, Policy, PolicyAction, Selector, State, Template,
    XFRM_INF, XfrmEvent, state_flags,
};

use crate::Names;
use crate::args::{EXTRA_FLAGS, POLICY_FLAGS};

/// Seconds since the epoch in local time, as `ip` prints them
/// (`%Y-%m-%d %T`).
pub fn time(secs: u64) -> String {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which outlives the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return secs.to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// `ip`'s flag-mask spelling: the eight bits in binary after "0x".
fn mask8(f: u8) -> String {
    format!("0x{f:08b}")
}

/// The names of the bits of `f` in `names`, space-separated, with any
/// unnamed rest in hex (ip's XFRM_FLAG_PRINT).
pub fn flag_names(f: u32, names: &[(u32, &str)]) -> String {
    let mut rest = f;
    let mut out: Vec<String> = Vec::new();
    for (b, n) in names {
        if rest & b != 0 {
            rest &= !b;
            out.push((*n).to_owned());
        }
    }
    if rest != 0 {
        out.push(format!("{rest:x}"));
    }
    out.join(" ")
}

/// `src P dst P [UPSPEC ][dev D ][uid N]`.
pub fn selector(sel: &Selector, stats: bool, names: &Names) -> String {
    let any = |a: Option<IpAddr>| match (a, sel.family) {
        (Some(a), _) => a.to_string(),
        (None, Some(tokio_netlink::route::address::Family::V6)) => "::".into(),
        (None, _) => "0.0.0.0".into(),
    };
    let mut s = format!(
        "src {}/{} dst {}/{} {}",
        any(sel.src),
        sel.src_len,
        any(sel.dst),
        sel.dst_len,
        sel.upspec_text()
    );
    if sel.ifindex > 0 {
        let _ = write!(s, "dev {} ", names.name(sel.ifindex as u32));
    }
    if stats {
        let _ = write!(s, "uid {}", sel.user);
    }
    s
}

fn limit(v: u64) -> String {
    if v == XFRM_INF {
        "(INF)".into()
    } else {
        v.to_string()
    }
}

/// `ip -s`'s lifetime block.
fn lifetime(out: &mut String, l: &Lifetime, c: &LifetimeCurrent) {
    let use_time = if c.use_time == 0 {
        "-".into()
    } else {
        time(c.use_time)
    };
    let _ = write!(
        out,
        "\tlifetime config:\n\
         \t  limit: soft {}(bytes), hard {}(bytes)\n\
         \t  limit: soft {}(packets), hard {}(packets)\n\
         \t  expire add: soft {}(sec), hard {}(sec)\n\
         \t  expire use: soft {}(sec), hard {}(sec)\n\
         \tlifetime current:\n\
         \t  {}(bytes), {}(packets)\n\
         \t  add {} use {}\n",
        limit(l.soft_bytes),
        limit(l.hard_bytes),
        limit(l.soft_packets),
        limit(l.hard_packets),
        l.soft_add_seconds,
        l.hard_add_seconds,
        l.soft_use_seconds,
        l.hard_use_seconds,
        c.bytes,
        c.packets,
        time(c.add_time),
        use_time
    );
}

/// `NAME [0xKEY[ (BITS bits)]]` of an algorithm.
fn algorithm(kind: &str, a: &Algorithm, stats: bool) -> String {
    let mut s = format!("\t{kind} {} ", a.name);
    if !a.key.is_empty() {
        s.push_str(&a.key_hex());
        if stats {
            let _ = write!(s, " ({} bits)", a.key_bits);
        }
    }
    if let Some(n) = a.icv_bits {
        let _ = write!(s, " {n}");
    }
    s.push('\n');
    s
}

/// One state, as `ip [-s] xfrm state` prints it.
pub fn state(s: &State, stats: bool, names: &Names) -> String {
    let mut o = format!("src {} dst {}\n\tproto {} ", s.src, s.dst, s.proto);
    if stats || s.spi != 0 {
        let _ = write!(o, "spi {:#010x}", s.spi);
        if stats {
            let _ = write!(o, "({})", s.spi);
        }
        o.push(' ');
    }
    let _ = write!(o, "reqid {}", s.reqid);
    if stats {
        let _ = write!(o, "({:#010x})", s.reqid);
    }
    let _ = writeln!(o, " mode {}", s.mode);
    // With ESN the header's window is 0; the ESN state carries the real one.
    let window = if s.replay_esn.is_some() {
        0
    } else {
        s.replay_window
    };
    let _ = write!(o, "\treplay-window {window} ");
    if stats {
        let _ = write!(o, "seq 0x{:08} ", s.seq);
    }
    if stats || s.flags != 0 {
        let names: Vec<(u32, &str)> = state_flags::NAMES
            .iter()
            .map(|(f, n)| (u32::from(*f), *n))
            .collect();
        let _ = write!(o, "flag {}", flag_names(u32::from(s.flags), &names));
    }
    if stats {
        if let Some(x) = s.extra_flags {
            let _ = write!(o, "extra_flag {}", flag_names(x, &EXTRA_FLAGS));
        }
        let _ = write!(o, " ({})", mask8(s.flags));
    }
    o.push('\n');
    match (s.mark, s.output_mark) {
        (Some(m), Some(om)) => {
            let _ = writeln!(o, "\tmark {m} output-mark {om}");
        }
        (Some(m), None) => {
            let _ = writeln!(o, "\tmark {m} ");
        }
        (None, Some(om)) => {
            let _ = writeln!(o, "\toutput-mark {om}");
        }
        (None, None) => {}
    }
    if let Some(a) = &s.auth {
        let kind = if a.icv_bits.is_some() {
            "auth-trunc"
        } else {
            "auth"
        };
        o.push_str(&algorithm(kind, a, stats));
    }
    if let Some(a) = &s.aead {
        o.push_str(&algorithm("aead", a, stats));
    }
    if let Some(a) = &s.enc {
        o.push_str(&algorithm("enc", a, stats));
    }
    if let Some(a) = &s.comp {
        o.push_str(&algorithm("comp", a, stats));
    }
    if let Some(en) = &s.encap {
        let oa = en
            .oa
            .map(|a| a.to_string())
            .unwrap_or_else(|| if s.dst.is_ipv4() { "0.0.0.0" } else { "::" }.into());
        let _ = writeln!(
            o,
            "\tencap type {} sport {} dport {} addr {oa}",
            en.kind, en.sport, en.dport
        );
    }
    if let Some(c) = s.coaddr {
        let _ = writeln!(o, "\tcoa {c}");
    }
    if let Some(t) = s.last_used.filter(|t| *t != 0) {
        let _ = writeln!(o, "\tlastused {}", time(t));
    }
    if let Some(r) = &s.replay_esn {
        let _ = write!(
            o,
            "\tanti-replay esn context:\n\t seq-hi {:#x}, seq {:#x}, oseq-hi {:#x}, oseq {:#x}\n\
             \t replay_window {}, bitmap-length {}\n\t ",
            r.seq_hi,
            r.seq,
            r.oseq_hi,
            r.oseq,
            r.replay_window,
            r.bitmap.len()
        );
        for w in &r.bitmap {
            let _ = write!(o, "{w:08x} ");
        }
        o.push('\n');
    } else if let Some(r) = &s.replay {
        let _ = writeln!(
            o,
            "\tanti-replay context: seq {:#x}, oseq {:#x}, bitmap {:#010x}",
            r.seq, r.oseq, r.bitmap
        );
    }
    if let Some(off) = &s.offload {
        let _ = writeln!(
            o,
            "\tcrypto offload parameters: dev {} dir {} mode {}",
            names.name(off.ifindex),
            if off.inbound { "in" } else { "out" },
            if off.packet { "packet" } else { "crypto" }
        );
    }
    if let Some(id) = s.if_id {
        let _ = writeln!(o, "\tif_id {id:#x}");
    }
    if let Some(n) = s.tfcpad {
        let _ = writeln!(o, "\ttfcpad {n}");
    }
    let _ = writeln!(o, "\tsel {}", selector(&s.selector, stats, names));
    if stats {
        lifetime(&mut o, &s.lifetime, &s.current);
        let _ = writeln!(
            o,
            "\tstats:\n\t  replay-window {} replay {} failed {}",
            s.stats.replay_window, s.stats.replay, s.stats.integrity_failed
        );
    }
    if let Some(c) = &s.sec_ctx {
        let _ = writeln!(o, "\tsecurity context {c} ");
    }
    o
}

fn share(n: u8) -> String {
    match n {
        0 => "any".into(),
        1 => "session".into(),
        2 => "user".into(),
        3 => "unique".into(),
        n => n.to_string(),
    }
}

fn template(o: &mut String, t: &Template, stats: bool) {
    let unspec = if t.family == Some(tokio_netlink::route::address::Family::V6) {
        "::"
    } else {
        "0.0.0.0"
    };
    let a = |x: Option<IpAddr>| x.map(|x| x.to_string()).unwrap_or_else(|| unspec.into());
    let _ = write!(
        o,
        "\ttmpl src {} dst {}\n\t\tproto {} ",
        a(t.src),
        a(t.dst),
        t.proto
    );
    if stats || t.spi != 0 {
        let _ = write!(o, "spi {:#010x}", t.spi);
        if stats {
            let _ = write!(o, "({})", t.spi);
        }
        o.push(' ');
    }
    let _ = write!(o, "reqid {}", t.reqid);
    if stats {
        let _ = write!(o, "({:#010x})", t.reqid);
    }
    let _ = writeln!(o, " mode {}", t.mode);
    if stats || t.level == Level::Use {
        let level = if t.level == Level::Use {
            "use"
        } else {
            "required"
        };
        let _ = write!(o, "\t\tlevel {level} ");
        if stats {
            let _ = write!(o, "share {} ", share(t.share));
        }
        o.push('\n');
    }
    if stats {
        let _ = writeln!(
            o,
            "\t\tenc-mask {:08x} auth-mask {:08x} comp-mask {:08x}",
            t.ealgos, t.aalgos, t.calgos
        );
    }
}

/// One policy, as `ip [-s] xfrm policy` prints it.
pub fn policy(p: &Policy, stats: bool, names: &Names) -> String {
    let mut o = selector(&p.selector, stats, names);
    let _ = write!(o, "\n\tdir {} ", p.dir);
    if stats || p.action != PolicyAction::Allow {
        let _ = write!(o, "action {} ", p.action);
    }
    if stats {
        let _ = write!(o, "index {} ", p.index);
    }
    let ptype = if p.policy_type == Some(1) {
        "sub"
    } else {
        "main"
    };
    let _ = write!(o, "priority {} ptype {ptype} ", p.priority);
    if stats {
        let _ = write!(o, "share {} ", share(p.share));
    }
    if stats || p.flags != 0 {
        let _ = write!(o, "flag {}", flag_names(u32::from(p.flags), &POLICY_FLAGS));
    }
    if stats {
        let _ = write!(o, " ({})", mask8(p.flags));
    }
    o.push('\n');
    if let Some(c) = &p.sec_ctx {
        let _ = writeln!(o, "\tsecurity context {c} ");
    }
    if stats {
        lifetime(&mut o, &p.lifetime, &p.current);
    }
    if let Some(m) = p.mark {
        let _ = writeln!(o, "\tmark {m} ");
    }
    for t in &p.templates {
        template(&mut o, t, stats);
    }
    if let Some(id) = p.if_id {
        let _ = writeln!(o, "\tif_id {id:#x}");
    }
    o
}

/// One event, in `ip xfrm monitor`'s words.
pub fn event(ev: &XfrmEvent, stats: bool, names: &Names) -> String {
    match ev {
        XfrmEvent::NewState(s) => state(s, stats, names),
        XfrmEvent::UpdateState(s) => format!("Updated {}", state(s, stats, names)),
        XfrmEvent::DelState(s) => format!("Deleted {}", state(s, stats, names)),
        XfrmEvent::FlushStates(p) => format!("Flushed state proto {p}\n"),
        XfrmEvent::Expire { state: s, hard } => {
            format!(
                "Expired {}\thard {}\n",
                state(s, stats, names),
                u8::from(*hard)
            )
        }
        XfrmEvent::NewPolicy(p) => policy(p, stats, names),
        XfrmEvent::UpdatePolicy(p) => format!("Updated {}", policy(p, stats, names)),
        XfrmEvent::DelPolicy(p) => format!("Deleted {}", policy(p, stats, names)),
        XfrmEvent::FlushPolicies => "Flushed policy\n".into(),
        XfrmEvent::PolicyExpire { policy: p, hard } => {
            format!(
                "Expired {}\thard {}\n",
                policy(p, stats, names),
                u8::from(*hard)
            )
        }
        XfrmEvent::Acquire(a) => {
            let dst = a.dst.map(|d| d.to_string()).unwrap_or_default();
            format!(
                "acquire proto {} \n  sel {}\n  dst {dst} seq {:#010x}\n  policy {}",
                a.proto,
                selector(&a.selector, stats, names),
                a.seq,
                policy(&a.policy, stats, names)
            )
        }
        XfrmEvent::Mapping(m) => {
            let a = |x: Option<IpAddr>| x.map(|x| x.to_string()).unwrap_or_default();
            format!(
                "Mapping change {}:{} -> {}:{}\n\tproto {} spi {:#010x} reqid {}\n",
                a(m.old.0),
                m.old.1,
                a(m.new.0),
                m.new.1,
                m.proto,
                m.spi,
                m.reqid
            )
        }
        XfrmEvent::Report(r) => {
            let mut o = format!(
                "report proto {} \n\t{}\n",
                r.proto,
                selector(&r.selector, stats, names)
            );
            if let Some(c) = r.coaddr {
                let _ = writeln!(o, "\tcoa {c}");
            }
            o
        }
        XfrmEvent::Migrate(m) => {
            let mut o = format!(
                "Migrate {}\n\tdir {}\n",
                selector(&m.selector, stats, names),
                m.dir
            );
            for e in &m.entries {
                let _ = writeln!(
                    o,
                    "\tproto {} mode {} reqid {} src {} dst {} -> src {} dst {}",
                    e.proto, e.mode, e.reqid, e.old_src, e.old_dst, e.new_src, e.new_dst
                );
            }
            if let Some(k) = &m.kmaddress {
                let _ = writeln!(o, "\tkmaddress local {} remote {}", k.local, k.remote);
            }
            o
        }
        XfrmEvent::Lost => "LOST: the kernel dropped events (ENOBUFS)\n".into(),
        other => format!("{other:?}\n"),
    }
}

/// An address of a selector or template, `0.0.0.0` / `::` when unset.
fn any_ip(w: &mut impl io::Write, a: Option<IpAddr>, v6: bool) -> io::Result<()> {
    match a {
        Some(a) => crate::out::ip(w, a),
        None => w.write_all(if v6 { b"::" } else { b"0.0.0.0" }),
    }
}

/// [`policy`] without `-s`, written straight to `w` (the listing's hot
/// path: no `String` per policy).
pub fn policy_to(w: &mut impl io::Write, p: &Policy, names: &Names) -> io::Result<()> {
    use crate::out::uint;
    use tokio_netlink::route::address::Family;
    let sel = &p.selector;
    let v6 = sel.family == Some(Family::V6);
    w.write_all(b"src ")?;
    any_ip(w, sel.src, v6)?;
    w.write_all(b"/")?;
    uint(w, sel.src_len.into())?;
    w.write_all(b" dst ")?;
    any_ip(w, sel.dst, v6)?;
    w.write_all(b"/")?;
    uint(w, sel.dst_len.into())?;
    w.write_all(b" ")?;
    if sel.proto != 0 {
        w.write_all(sel.upspec_text().as_bytes())?;
    }
    if sel.ifindex > 0 {
        write!(w, "dev {} ", names.name(sel.ifindex as u32))?;
    }
    write!(w, "\n\tdir {} ", p.dir)?;
    if p.action != PolicyAction::Allow {
        write!(w, "action {} ", p.action)?;
    }
    let ptype: &[u8] = if p.policy_type == Some(1) {
        b" ptype sub "
    } else {
        b" ptype main "
    };
    w.write_all(b"priority ")?;
    uint(w, p.priority.into())?;
    w.write_all(ptype)?;
    if p.flags != 0 {
        write!(w, "flag {}", flag_names(u32::from(p.flags), &POLICY_FLAGS))?;
    }
    w.write_all(b"\n")?;
    if let Some(c) = &p.sec_ctx {
        writeln!(w, "\tsecurity context {c} ")?;
    }
    if let Some(m) = p.mark {
        writeln!(w, "\tmark {m} ")?;
    }
    for t in &p.templates {
        let v6 = t.family == Some(Family::V6);
        w.write_all(b"\ttmpl src ")?;
        any_ip(w, t.src, v6)?;
        w.write_all(b" dst ")?;
        any_ip(w, t.dst, v6)?;
        write!(w, "\n\t\tproto {} ", t.proto)?;
        if t.spi != 0 {
            write!(w, "spi {:#010x} ", t.spi)?;
        }
        w.write_all(b"reqid ")?;
        uint(w, t.reqid.into())?;
        writeln!(w, " mode {}", t.mode)?;
        if t.level == Level::Use {
            w.write_all(b"\t\tlevel use \n")?;
        }
    }
    if let Some(id) = p.if_id {
        writeln!(w, "\tif_id {id:#x}")?;
    }
    Ok(())
}
