//! `ip xfrm` on tokio-netlink, for the subset the library supports.
//!
//! ```text
//! cargo run --release --example xfrm -- [-n NETNS] OBJECT COMMAND [ARGS]
//!   state list | count | flush [proto P]
//!   state add|update src A dst B proto esp|ah|comp spi SPI [mode M] [reqid N]
//!         [replay-window N] [flag F]... [auth NAME KEY] [auth-trunc NAME KEY BITS]
//!         [enc NAME KEY] [aead NAME KEY BITS] [comp NAME] [mark V [mask M]]
//!         [output-mark V [mask M]] [if_id N] [encap TYPE SPORT DPORT OADDR]
//!         [sel src P dst P] [limit time-soft|time-hard|time-use-soft|time-use-hard|
//!          byte-soft|byte-hard|packet-soft|packet-hard N]...
//!   state del|get dst B proto P spi SPI [src A] [mark V [mask M]]
//!   state allocspi src A dst B proto P [mode M] [reqid N] [min N max N]
//!   policy list | count | flush | getdefault
//!   policy add|update src P dst P dir in|out|fwd [priority N] [action allow|block]
//!         [index N] [mark V [mask M]] [if_id N]
//!         [tmpl [src A dst B] proto P [spi S] [mode M] [reqid N] [level required|use]]...
//!   policy del|get (src P dst P dir D | index N) [mark V [mask M]] [if_id N]
//!   monitor
//! ```
//!
//! Keys are hex (`0x…`) or text, as `ip` takes them. Output follows
//! `ip xfrm`'s layout.

use std::net::IpAddr;

use futures::StreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::xfrm::{
    AllocSpi, DefaultAction, Dir, Encap, EncapType, Group, IpsecProto, Level, Mark, Mode, Policy,
    PolicyAction, PolicyId, Selector, State, StateId, Template, XFRM_INF, XfrmEvent, state_flags,
};

type R<T> = Result<T, String>;

struct Args {
    words: Vec<String>,
    pos: usize,
}

impl Args {
    fn next(&mut self) -> Option<String> {
        let w = self.words.get(self.pos).cloned();
        self.pos += 1;
        w
    }
    fn peek(&self) -> Option<&str> {
        self.words.get(self.pos).map(String::as_str)
    }
    fn value(&mut self, key: &str) -> R<String> {
        self.next().ok_or_else(|| format!("{key} needs a value"))
    }
    fn num(&mut self, key: &str) -> R<u64> {
        parse_num(&self.value(key)?).ok_or_else(|| format!("{key}: not a number"))
    }
    fn u32(&mut self, key: &str) -> R<u32> {
        u32::try_from(self.num(key)?).map_err(|_| format!("{key}: out of range"))
    }
    fn addr(&mut self, key: &str) -> R<IpAddr> {
        let v = self.value(key)?;
        v.parse()
            .map_err(|_| format!("{key}: {v:?} is not an address"))
    }
    fn mark(&mut self, key: &str) -> R<Mark> {
        let value = self.u32(key)?;
        let mut m = Mark::new(value);
        if self.peek() == Some("mask") {
            self.next();
            m.mask = self.u32("mask")?;
        }
        Ok(m)
    }
}

fn parse_num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn key(s: &str) -> R<Vec<u8>> {
    match s.strip_prefix("0x") {
        Some(h) if h.len() % 2 == 0 => (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).map_err(|e| format!("key: {e}")))
            .collect(),
        Some(_) => Err("key: odd number of hex digits".into()),
        None => Ok(s.as_bytes().to_vec()),
    }
}

fn e<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn selector(a: &mut Args) -> R<Selector> {
    let (mut src, mut dst) = (None, None);
    let mut sel_extra = Vec::new();
    while let Some(w) = a.peek() {
        match w {
            "src" => {
                a.next();
                src = Some(a.value("src")?);
            }
            "dst" => {
                a.next();
                dst = Some(a.value("dst")?);
            }
            "proto" | "sport" | "dport" => {
                let k = a.next().unwrap();
                sel_extra.push((k.clone(), a.value(&k)?));
            }
            _ => break,
        }
    }
    let default = |other: &Option<String>| -> String {
        match other {
            Some(o) if o.contains(':') => "::/0".into(),
            _ => "0.0.0.0/0".into(),
        }
    };
    let s = src.clone().unwrap_or_else(|| default(&dst));
    let d = dst.unwrap_or_else(|| default(&src));
    let mut sel = Selector::new(s.as_str(), d.as_str()).map_err(e)?;
    for (k, v) in sel_extra {
        match k.as_str() {
            "proto" => {
                sel = sel.proto(match v.as_str() {
                    "tcp" => 6,
                    "udp" => 17,
                    "icmp" => 1,
                    "ipv6-icmp" => 58,
                    n => n.parse().map_err(|_| format!("proto {n:?}"))?,
                })
            }
            "sport" => sel = sel.sport(v.parse().map_err(|_| "sport")?),
            _ => sel = sel.dport(v.parse().map_err(|_| "dport")?),
        }
    }
    Ok(sel)
}

fn state_args(a: &mut Args) -> R<State> {
    let (mut src, mut dst, mut proto, mut spi) = (None, None, IpsecProto::Esp, 0u32);
    let mut st = Vec::new();
    while let Some(w) = a.next() {
        match w.as_str() {
            "src" => src = Some(a.addr("src")?),
            "dst" => dst = Some(a.addr("dst")?),
            "proto" => proto = IpsecProto::parse(&a.value("proto")?).map_err(e)?,
            "spi" => spi = a.u32("spi")?,
            _ => st.push(w),
        }
    }
    let (Some(src), Some(dst)) = (src, dst) else {
        return Err("src and dst are required".into());
    };
    let mut s = State::new(src, dst, proto, spi);
    let mut b = Args { words: st, pos: 0 };
    while let Some(w) = b.next() {
        s = match w.as_str() {
            "mode" => s.mode(Mode::parse(&b.value("mode")?).map_err(e)?),
            "reqid" => s.reqid(b.u32("reqid")?),
            "replay-window" => s.replay_window(b.u32("replay-window")?),
            "flag" => {
                let f = b.value("flag")?;
                s.flag(state_flags::parse(&f).ok_or(format!("unknown flag {f:?}"))?)
            }
            "auth" => s.auth(&b.value("auth")?, &key(&b.value("auth key")?)?),
            "auth-trunc" => {
                let n = b.value("auth-trunc")?;
                let k = key(&b.value("auth-trunc key")?)?;
                s.auth_trunc(&n, &k, b.u32("auth-trunc length")?)
            }
            "enc" => s.enc(&b.value("enc")?, &key(&b.value("enc key")?)?),
            "aead" => {
                let n = b.value("aead")?;
                let k = key(&b.value("aead key")?)?;
                s.aead(&n, &k, b.u32("aead icv length")?)
            }
            "comp" => s.comp(&b.value("comp")?),
            "mark" => s.mark(b.mark("mark")?),
            "output-mark" => s.output_mark(b.mark("output-mark")?),
            "if_id" => s.if_id(b.u32("if_id")?),
            "encap" => {
                let kind = EncapType::parse(&b.value("encap")?).map_err(e)?;
                let sport = b.u32("sport")? as u16;
                let dport = b.u32("dport")? as u16;
                let oa = b.addr("oaddr")?;
                s.encap(Encap {
                    kind,
                    sport,
                    dport,
                    oa: (!oa.is_unspecified()).then_some(oa),
                })
            }
            "sel" => s.selector(selector(&mut b)?),
            "limit" => {
                let k = b.value("limit")?;
                let n = b.num("limit value")?;
                let l = &mut s.lifetime;
                match k.as_str() {
                    "time-soft" => l.soft_add_seconds = n,
                    "time-hard" => l.hard_add_seconds = n,
                    "time-use-soft" => l.soft_use_seconds = n,
                    "time-use-hard" => l.hard_use_seconds = n,
                    "byte-soft" => l.soft_bytes = n,
                    "byte-hard" => l.hard_bytes = n,
                    "packet-soft" => l.soft_packets = n,
                    "packet-hard" => l.hard_packets = n,
                    _ => return Err(format!("unknown limit {k:?}")),
                }
                s
            }
            other => return Err(format!("unknown state argument {other:?}")),
        };
    }
    Ok(s)
}

fn state_id(a: &mut Args) -> R<StateId> {
    let s = {
        let mut src = None;
        let (mut dst, mut proto, mut spi, mut mark) = (None, IpsecProto::Esp, 0, None);
        while let Some(w) = a.next() {
            match w.as_str() {
                "src" => src = Some(a.addr("src")?),
                "dst" => dst = Some(a.addr("dst")?),
                "proto" => proto = IpsecProto::parse(&a.value("proto")?).map_err(e)?,
                "spi" => spi = a.u32("spi")?,
                "mark" => mark = Some(a.mark("mark")?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        let mut id = StateId::new(dst.ok_or("dst is required")?, proto, spi);
        id.mark = mark;
        id.src = src;
        id
    };
    Ok(s)
}

fn template(a: &mut Args) -> R<Template> {
    let mut t = Template::new(IpsecProto::Esp, Mode::Transport);
    let (mut src, mut dst) = (None, None);
    while let Some(w) = a.peek() {
        match w {
            "src" => {
                a.next();
                src = Some(a.addr("src")?);
            }
            "dst" => {
                a.next();
                dst = Some(a.addr("dst")?);
            }
            "proto" => {
                a.next();
                t.proto = IpsecProto::parse(&a.value("proto")?).map_err(e)?;
            }
            "spi" => {
                a.next();
                t.spi = a.u32("spi")?;
            }
            "mode" => {
                a.next();
                t.mode = Mode::parse(&a.value("mode")?).map_err(e)?;
            }
            "reqid" => {
                a.next();
                t.reqid = a.u32("reqid")?;
            }
            "level" => {
                a.next();
                t.level = match a.value("level")?.as_str() {
                    "required" => Level::Required,
                    "use" => Level::Use,
                    l => return Err(format!("level {l:?}")),
                };
            }
            _ => break,
        }
    }
    if let (Some(s), Some(d)) = (src, dst) {
        t = t.endpoints(s, d);
    } else if src.is_some() || dst.is_some() {
        return Err("tmpl needs both src and dst".into());
    }
    Ok(t)
}

/// Parses a policy (add/update) or a policy id (del/get).
fn policy_args(a: &mut Args) -> R<(Policy, Option<u32>)> {
    let sel = selector(a)?;
    let mut p = Policy::new(sel, Dir::Out);
    let mut index = None;
    while let Some(w) = a.next() {
        match w.as_str() {
            "dir" => p.dir = Dir::parse(&a.value("dir")?).map_err(e)?,
            "priority" => p.priority = a.u32("priority")?,
            "action" => {
                p.action = match a.value("action")?.as_str() {
                    "allow" => PolicyAction::Allow,
                    "block" => PolicyAction::Block,
                    x => return Err(format!("action {x:?}")),
                }
            }
            "index" => {
                let i = a.u32("index")?;
                p.index = i;
                index = Some(i);
            }
            "mark" => p.mark = Some(a.mark("mark")?),
            "if_id" => p.if_id = Some(a.u32("if_id")?),
            "tmpl" => p.templates.push(template(a)?),
            other => return Err(format!("unknown policy argument {other:?}")),
        }
    }
    Ok((p, index))
}

fn limit(v: u64) -> String {
    if v == XFRM_INF {
        "(INF)".into()
    } else {
        v.to_string()
    }
}

fn print_state(s: &State, stats: bool) {
    println!("src {} dst {}", s.src, s.dst);
    println!(
        "\tproto {} spi {:#010x} reqid {} mode {}",
        s.proto, s.spi, s.reqid, s.mode
    );
    let mut flags = String::new();
    for (f, n) in state_flags::NAMES {
        if s.flags & f != 0 {
            flags.push_str(&format!(" {n}"));
        }
    }
    let header_window = if s.replay_esn.is_some() {
        0
    } else {
        s.replay_window
    };
    if flags.is_empty() {
        println!("\treplay-window {header_window}");
    } else {
        println!("\treplay-window {header_window} flag{flags}");
    }
    let mut marks = Vec::new();
    if let Some(m) = s.mark {
        marks.push(format!("mark {m}"));
    }
    if let Some(m) = s.output_mark {
        marks.push(format!("output-mark {m}"));
    }
    if !marks.is_empty() {
        println!("\t{}", marks.join(" "));
    }
    if let Some(a) = &s.auth {
        match a.icv_bits {
            Some(t) => println!("\tauth-trunc {} {} {t}", a.name, a.key_hex()),
            None => println!("\tauth {} {}", a.name, a.key_hex()),
        }
    }
    if let Some(a) = &s.enc {
        println!("\tenc {} {}", a.name, a.key_hex());
    }
    if let Some(a) = &s.aead {
        println!(
            "\taead {} {} {}",
            a.name,
            a.key_hex(),
            a.icv_bits.unwrap_or(0)
        );
    }
    if let Some(a) = &s.comp {
        println!("\tcomp {} {}", a.name, a.key_hex());
    }
    if let Some(en) = &s.encap {
        let oa = en
            .oa
            .map(|a| a.to_string())
            .unwrap_or_else(|| if s.dst.is_ipv4() { "0.0.0.0" } else { "::" }.into());
        println!(
            "\tencap type {} sport {} dport {} addr {oa}",
            en.kind, en.sport, en.dport
        );
    }
    if let Some(r) = &s.replay_esn {
        println!("\tanti-replay esn context:");
        println!(
            "\t seq-hi {:#x}, seq {:#x}, oseq-hi {:#x}, oseq {:#x}",
            r.seq_hi, r.seq, r.oseq_hi, r.oseq
        );
        println!(
            "\t replay_window {}, bitmap-length {}",
            r.replay_window,
            r.bitmap.len()
        );
    } else if let Some(r) = &s.replay {
        println!(
            "\tanti-replay context: seq {:#x}, oseq {:#x}, bitmap {:#010x}",
            r.seq, r.oseq, r.bitmap
        );
    }
    if let Some(id) = s.if_id {
        println!("\tif_id {id:#x}");
    }
    if stats {
        let l = &s.lifetime;
        println!("\tlifetime config:");
        println!(
            "\t  limit: soft {}(bytes), hard {}(bytes)",
            limit(l.soft_bytes),
            limit(l.hard_bytes)
        );
        println!(
            "\t  limit: soft {}(packets), hard {}(packets)",
            limit(l.soft_packets),
            limit(l.hard_packets)
        );
        println!(
            "\t  expire add: soft {}(sec), hard {}(sec)",
            l.soft_add_seconds, l.hard_add_seconds
        );
        println!(
            "\t  expire use: soft {}(sec), hard {}(sec)",
            l.soft_use_seconds, l.hard_use_seconds
        );
        let c = &s.current;
        println!("\tlifetime current:");
        println!("\t  {}(bytes), {}(packets)", c.bytes, c.packets);
        println!("\t  add {} use {}", c.add_time, c.use_time);
        println!("\tstats:");
        println!(
            "\t  replay-window {} replay {} failed {}",
            s.stats.replay_window, s.stats.replay, s.stats.integrity_failed
        );
    }
    println!("\tsel {}", s.selector);
}

fn print_policy(p: &Policy) {
    println!("{} ", p.selector);
    let action = if p.action == PolicyAction::Allow {
        String::new()
    } else {
        format!("action {} ", p.action)
    };
    println!(
        "\tdir {} {action}priority {} ptype {} ",
        p.dir,
        p.priority,
        if p.policy_type == Some(1) {
            "sub"
        } else {
            "main"
        }
    );
    if let Some(m) = p.mark {
        println!("\tmark {m} ");
    }
    for t in &p.templates {
        let unspec = if t.family == Some(tokio_netlink::route::address::Family::V6) {
            "::"
        } else {
            "0.0.0.0"
        };
        let a = |x: Option<IpAddr>| x.map(|x| x.to_string()).unwrap_or_else(|| unspec.into());
        println!("\ttmpl src {} dst {}", a(t.src), a(t.dst));
        let spi = if t.spi != 0 {
            format!("spi {:#010x} ", t.spi)
        } else {
            String::new()
        };
        println!(
            "\t\tproto {} {spi}reqid {} mode {}",
            t.proto, t.reqid, t.mode
        );
        if t.level == Level::Use {
            println!("\t\tlevel use ");
        }
    }
    if let Some(id) = p.if_id {
        println!("\tif_id {id:#x}");
    }
}

async fn run(nl: Netlink, mut a: Args) -> R<()> {
    let x = nl.xfrm();
    let object = a.next().ok_or("state, policy or monitor?")?;
    let cmd = a.next().unwrap_or_else(|| "list".into());
    match (object.as_str(), cmd.as_str()) {
        ("state", "list" | "show") => {
            let stats = a.peek() == Some("-s");
            for s in x.states().await.map_err(e)? {
                print_state(&s, stats);
            }
        }
        ("state", "count") => {
            let i = x.sad_info().await.map_err(e)?;
            println!("\t SAD count {}", i.count);
        }
        ("state", "flush") => {
            let proto = match a.next().as_deref() {
                Some("proto") => Some(IpsecProto::parse(&a.value("proto")?).map_err(e)?),
                None => None,
                Some(o) => return Err(format!("unknown argument {o:?}")),
            };
            x.flush_states(proto).await.map_err(e)?;
        }
        ("state", "add") => x.add_state(&state_args(&mut a)?).await.map_err(e)?,
        ("state", "update") => x.update_state(&state_args(&mut a)?).await.map_err(e)?,
        ("state", "del" | "delete") => x.del_state(&state_id(&mut a)?).await.map_err(e)?,
        ("state", "get") => print_state(&x.get_state(&state_id(&mut a)?).await.map_err(e)?, true),
        ("state", "allocspi") => {
            let (mut src, mut dst) = (None, None);
            let mut spec = AllocSpi::new(
                "0.0.0.0".parse().unwrap(),
                "0.0.0.0".parse().unwrap(),
                IpsecProto::Esp,
                0x100,
                0x0fff_ffff,
            );
            while let Some(w) = a.next() {
                match w.as_str() {
                    "src" => src = Some(a.addr("src")?),
                    "dst" => dst = Some(a.addr("dst")?),
                    "proto" => spec.proto = IpsecProto::parse(&a.value("proto")?).map_err(e)?,
                    "mode" => spec.mode = Mode::parse(&a.value("mode")?).map_err(e)?,
                    "reqid" => spec.reqid = a.u32("reqid")?,
                    "min" => spec.min = a.u32("min")?,
                    "max" => spec.max = a.u32("max")?,
                    "mark" => spec.mark = Some(a.mark("mark")?),
                    "if_id" => spec.if_id = Some(a.u32("if_id")?),
                    o => return Err(format!("unknown argument {o:?}")),
                }
            }
            spec.src = src.ok_or("src is required")?;
            spec.dst = dst.ok_or("dst is required")?;
            print_state(&x.alloc_spi(&spec).await.map_err(e)?, false);
        }
        ("policy", "list" | "show") => {
            for p in x.policies().await.map_err(e)? {
                print_policy(&p);
            }
        }
        ("policy", "count") => {
            let i = x.spd_info().await.map_err(e)?;
            println!(
                "\t SPD IN  {} OUT {} FWD {}",
                i.in_count, i.out_count, i.fwd_count
            );
        }
        ("policy", "flush") => x.flush_policies().await.map_err(e)?,
        ("policy", "getdefault") => {
            let d = x.default_policy().await.map_err(e)?;
            let n = |a: DefaultAction| match a {
                DefaultAction::Block => "block",
                DefaultAction::Accept => "accept",
                DefaultAction::Unspec => "unspec",
            };
            println!("Default policies:");
            println!(" in:  {}", n(d.input));
            println!(" fwd: {}", n(d.forward));
            println!(" out: {}", n(d.output));
        }
        ("policy", "add") => x.add_policy(&policy_args(&mut a)?.0).await.map_err(e)?,
        ("policy", "update") => x.update_policy(&policy_args(&mut a)?.0).await.map_err(e)?,
        ("policy", "del" | "delete" | "get") => {
            let (p, index) = policy_args(&mut a)?;
            let mut id = match index {
                Some(i) => PolicyId::by_index(i),
                None => PolicyId::by_selector(p.selector, p.dir),
            };
            id.mark = p.mark;
            id.if_id = p.if_id;
            if cmd == "get" {
                print_policy(&x.get_policy(&id).await.map_err(e)?);
            } else {
                x.del_policy(&id).await.map_err(e)?;
            }
        }
        ("monitor", _) => {
            let mut m = x.monitor(&Group::all());
            m.ready().await.map_err(e)?;
            while let Some(ev) = m.next().await {
                match ev {
                    XfrmEvent::NewState(s) | XfrmEvent::UpdateState(s) => print_state(&s, false),
                    XfrmEvent::DelState(s) => {
                        print!("Deleted ");
                        print_state(&s, false);
                    }
                    XfrmEvent::FlushStates(p) => println!("Flushed state proto {p}"),
                    XfrmEvent::Expire { state, hard } => {
                        println!("Expired src {} dst {}", state.src, state.dst);
                        println!(
                            "\tproto {} spi {:#010x} reqid {} mode {}",
                            state.proto, state.spi, state.reqid, state.mode
                        );
                        println!("\thard {}", u8::from(hard));
                    }
                    XfrmEvent::NewPolicy(p) | XfrmEvent::UpdatePolicy(p) => print_policy(&p),
                    XfrmEvent::DelPolicy(p) => {
                        print!("Deleted ");
                        print_policy(&p);
                    }
                    XfrmEvent::FlushPolicies => println!("Flushed policy"),
                    XfrmEvent::PolicyExpire { policy, hard } => {
                        print!("Expired ");
                        print_policy(&policy);
                        println!("\thard {}", u8::from(hard));
                    }
                    XfrmEvent::Acquire(acq) => {
                        println!("acquire proto {} ", acq.proto);
                        println!("  sel {} ", acq.selector);
                        print!("  policy ");
                        print_policy(&acq.policy);
                    }
                    XfrmEvent::Mapping(m) => println!(
                        "Mapping change {:?}:{} -> {:?}:{}",
                        m.old.0, m.old.1, m.new.0, m.new.1
                    ),
                    XfrmEvent::Lost => println!("LOST events (ENOBUFS)"),
                    XfrmEvent::Undecodable(err) => println!("undecodable event: {err}"),
                    other => println!("{other:?}"),
                }
            }
        }
        (o, c) => return Err(format!("unknown command {o} {c}")),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let mut netns = None;
    if words.first().map(String::as_str) == Some("-n") {
        if words.len() < 2 {
            eprintln!("-n needs a namespace");
            std::process::exit(2);
        }
        netns = Some(words[1].clone());
        words.drain(..2);
    }
    let nl = match netns {
        Some(n) => Netlink::in_netns(n.as_str()).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        }),
        None => Netlink::new(),
    };
    if let Err(err) = run(nl, Args { words, pos: 0 }).await {
        eprintln!("Error: {err}");
        std::process::exit(1);
    }
}
