//! `ip xfrm`'s argument grammar: states, state ids, allocspi, selectors,
//! templates and policies.

use std::net::IpAddr;

use tokio_netlink::Netlink;
use tokio_netlink::xfrm::{
    AllocSpi, Dir, Encap, EncapType, IpsecProto, Level, Lifetime, Mark, Mode, Offload, Policy,
    PolicyAction, SecCtx, Selector, State, StateId, Template, state_flags,
};

use crate::{R, e};

/// The words after the global options, consumed front to back.
pub struct Args {
    words: Vec<String>,
    pos: usize,
}

impl Args {
    pub fn new(words: Vec<String>) -> Args {
        Args { words, pos: 0 }
    }
    pub fn next(&mut self) -> Option<String> {
        let w = self.words.get(self.pos).cloned();
        if w.is_some() {
            self.pos += 1;
        }
        w
    }
    fn peek(&self) -> Option<&str> {
        self.words.get(self.pos).map(String::as_str)
    }
    pub fn value(&mut self, key: &str) -> R<String> {
        self.next().ok_or_else(|| format!("{key} needs a value"))
    }
    fn num(&mut self, key: &str) -> R<u64> {
        let v = self.value(key)?;
        parse_num(&v).ok_or_else(|| format!("{key}: {v:?} is not a number"))
    }
    fn u32(&mut self, key: &str) -> R<u32> {
        u32::try_from(self.num(key)?).map_err(|_| format!("{key}: out of range"))
    }
    fn u16(&mut self, key: &str) -> R<u16> {
        u16::try_from(self.num(key)?).map_err(|_| format!("{key}: out of range"))
    }
    fn addr(&mut self, key: &str) -> R<IpAddr> {
        let v = self.value(key)?;
        // `coa ADDR[/PLEN]`: the length means nothing to an address.
        let a = v.split('/').next().unwrap_or(&v);
        a.parse()
            .map_err(|_| format!("{key}: {v:?} is not an address"))
    }
    fn mark(&mut self, key: &str) -> R<Mark> {
        let mut m = Mark::new(self.u32(key)?);
        if self.peek() == Some("mask") {
            self.next();
            m.mask = self.u32("mask")?;
        }
        Ok(m)
    }
    /// The flag names following `flag` (or one number), as a mask.
    fn flags(&mut self, key: &str, names: &[(u32, &str)]) -> R<u32> {
        let (mut f, mut seen) = (0, false);
        while let Some(w) = self.peek() {
            if let Some((b, _)) = names.iter().find(|(_, n)| *n == w) {
                f |= b;
            } else if !seen {
                f |= parse_num(w)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| format!("{key}: unknown flag {w:?}"))?;
            } else {
                break;
            }
            seen = true;
            self.next();
        }
        if !seen {
            return Err(format!("{key} needs a value"));
        }
        Ok(f)
    }
    /// `limit KIND N` into `l`.
    fn limit(&mut self, l: &mut Lifetime) -> R<()> {
        let k = self.value("limit")?;
        let n = self.num(&format!("limit {k}"))?;
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
        Ok(())
    }
}

fn parse_num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A key as `ip` takes it: `0x` and hex digits, or the text's bytes.
fn key(what: &str, s: &str) -> R<Vec<u8>> {
    match s.strip_prefix("0x") {
        Some(h) if h.len() % 2 == 0 => (0..h.len())
            .step_by(2)
            .map(|i| {
                h.get(i..i + 2)
                    .and_then(|d| u8::from_str_radix(d, 16).ok())
                    .ok_or_else(|| format!("{what}: {s:?} is not hex"))
            })
            .collect(),
        Some(_) => Err(format!("{what}: odd number of hex digits")),
        None => Ok(s.as_bytes().to_vec()),
    }
}

async fn ifindex(nl: &Netlink, name: &str) -> R<u32> {
    let l = nl
        .link()
        .get(name)
        .await
        .map_err(|err| format!("dev {name:?}: {err}"))?;
    Ok(l.index())
}

/// `proto NAME|N` of a selector.
fn upper_proto(v: &str) -> R<u8> {
    Ok(match v {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "ipv6-icmp" => 58,
        "gre" => 47,
        "sctp" => 132,
        "dccp" => 33,
        "mobility-header" => 135,
        n => n
            .parse()
            .map_err(|_| format!("proto: {n:?} is not a protocol"))?,
    })
}

/// The words of a SELECTOR.
const SELECTOR_WORDS: [&str; 9] = [
    "src", "dst", "dev", "proto", "sport", "dport", "type", "code", "key",
];

/// SELECTOR: src/dst default to "any" of the other's family.
pub async fn selector(a: &mut Args, nl: &Netlink) -> R<Selector> {
    let (mut src, mut dst, mut dev) = (None, None, None);
    let mut upper = Vec::new();
    while let Some(w) = a.peek() {
        let w = w.to_owned();
        if !SELECTOR_WORDS.contains(&w.as_str()) {
            break;
        }
        a.next();
        let v = a.value(&w)?;
        match w.as_str() {
            "src" => src = Some(v),
            "dst" => dst = Some(v),
            "dev" => dev = Some(v),
            _ => upper.push((w, v)),
        }
    }
    let any = |other: &Option<String>| match other {
        Some(o) if o.contains(':') => "::/0".to_owned(),
        _ => "0.0.0.0/0".to_owned(),
    };
    let s = src.clone().unwrap_or_else(|| any(&dst));
    let d = dst.unwrap_or_else(|| any(&src));
    let mut sel = Selector::new(s.as_str(), d.as_str()).map_err(e)?;
    for (k, v) in upper {
        let n = |v: &str| parse_num(v).ok_or_else(|| format!("{k}: {v:?} is not a number"));
        let small = |v: &str| u8::try_from(n(v)?).map_err(|_| format!("{k}: out of range"));
        let port = |v: &str| u16::try_from(n(v)?).map_err(|_| format!("{k}: out of range"));
        sel = match k.as_str() {
            "proto" => sel.proto(upper_proto(&v)?),
            "sport" => sel.sport(port(&v)?),
            "dport" => sel.dport(port(&v)?),
            "type" => sel.icmp_type(small(&v)?),
            "code" => sel.icmp_code(small(&v)?),
            _ => sel.gre_key(u32::try_from(n(&v)?).map_err(|_| "key: out of range")?),
        };
    }
    if let Some(d) = dev {
        sel = sel.ifindex(ifindex(nl, &d).await? as i32);
    }
    Ok(sel)
}

/// A state's `flag` names, widened like the other flag tables.
fn state_flag_names() -> Vec<(u32, &'static str)> {
    state_flags::NAMES
        .iter()
        .map(|(f, n)| (u32::from(*f), *n))
        .collect()
}

/// `extra-flag` names (XFRM_SA_XFLAG_*).
pub const EXTRA_FLAGS: [(u32, &str); 2] = [(1, "dont-encap-dscp"), (2, "oseq-may-wrap")];
/// A policy's `flag` names (XFRM_POLICY_LOCALOK, _ICMP).
pub const POLICY_FLAGS: [(u32, &str); 2] = [(1, "localok"), (2, "icmp")];

/// `offload [crypto|packet] dev DEV dir in|out`.
async fn offload(a: &mut Args, nl: &Netlink) -> R<Offload> {
    let mut packet = false;
    if matches!(a.peek(), Some("crypto" | "packet")) {
        packet = a.next().as_deref() == Some("packet");
    }
    let mut o = None;
    let mut inbound = false;
    while let Some(w) = a.peek() {
        match w {
            "dev" => {
                a.next();
                let d = a.value("offload dev")?;
                o = Some(ifindex(nl, &d).await?);
            }
            "dir" => {
                a.next();
                inbound = match a.value("offload dir")?.as_str() {
                    "in" => true,
                    "out" => false,
                    d => return Err(format!("offload dir: {d:?} is not in or out")),
                };
            }
            _ => break,
        }
    }
    let dev = o.ok_or("offload needs dev DEV")?;
    Ok(Offload {
        ifindex: dev,
        inbound,
        packet,
    })
}

/// `state add|update` arguments.
pub async fn state(a: &mut Args, nl: &Netlink) -> R<State> {
    let mut s = State::new(
        std::net::Ipv4Addr::UNSPECIFIED,
        std::net::Ipv4Addr::UNSPECIFIED,
        IpsecProto::Esp,
        0,
    );
    let (mut src, mut dst) = (None, None);
    while let Some(w) = a.next() {
        s = match w.as_str() {
            "src" => {
                src = Some(a.addr("src")?);
                s
            }
            "dst" => {
                dst = Some(a.addr("dst")?);
                s
            }
            "proto" => {
                s.proto = IpsecProto::parse(&a.value("proto")?).map_err(e)?;
                s
            }
            "spi" => {
                s.spi = a.u32("spi")?;
                s
            }
            "mode" => s.mode(Mode::parse(&a.value("mode")?).map_err(e)?),
            "reqid" => s.reqid(a.u32("reqid")?),
            "seq" => {
                s.seq = a.u32("seq")?;
                s
            }
            "replay-window" => s.replay_window(a.u32("replay-window")?),
            "flag" => {
                let f = a.flags("flag", &state_flag_names())?;
                s.flag(u8::try_from(f).map_err(|_| "flag: out of range")?)
            }
            "extra-flag" => s.extra_flag(a.flags("extra-flag", &EXTRA_FLAGS)?),
            "auth" => {
                let n = a.value("auth")?;
                s.auth(&n, &key("auth key", &a.value("auth key")?)?)
            }
            "auth-trunc" => {
                let n = a.value("auth-trunc")?;
                let k = key("auth-trunc key", &a.value("auth-trunc key")?)?;
                s.auth_trunc(&n, &k, a.u32("auth-trunc length")?)
            }
            "enc" => {
                let n = a.value("enc")?;
                s.enc(&n, &key("enc key", &a.value("enc key")?)?)
            }
            "aead" => {
                let n = a.value("aead")?;
                let k = key("aead key", &a.value("aead key")?)?;
                s.aead(&n, &k, a.u32("aead icv length")?)
            }
            "comp" => s.comp(&a.value("comp")?),
            "mark" => s.mark(a.mark("mark")?),
            "output-mark" => s.output_mark(a.mark("output-mark")?),
            "if_id" => s.if_id(a.u32("if_id")?),
            "tfcpad" => s.tfcpad(a.u32("tfcpad")?),
            "coa" => s.coaddr(a.addr("coa")?),
            "ctx" => s.sec_ctx(SecCtx::new(&a.value("ctx")?)),
            "offload" => s.offload(offload(a, nl).await?),
            "encap" => {
                let kind = EncapType::parse(&a.value("encap")?).map_err(e)?;
                let sport = a.u16("encap sport")?;
                let dport = a.u16("encap dport")?;
                let oa = a.addr("encap oaddr")?;
                s.encap(Encap {
                    kind,
                    sport,
                    dport,
                    oa: (!oa.is_unspecified()).then_some(oa),
                })
            }
            "sel" => s.selector(selector(a, nl).await?),
            "limit" => {
                a.limit(&mut s.lifetime)?;
                s
            }
            other => return Err(format!("unknown state argument {other:?}")),
        };
    }
    s.src = src.ok_or("src is required")?;
    s.dst = dst.ok_or("dst is required")?;
    Ok(s)
}

/// `state del|get` arguments.
pub fn state_id(a: &mut Args) -> R<StateId> {
    let (mut src, mut dst, mut proto, mut spi, mut mark) = (None, None, IpsecProto::Esp, 0, None);
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
    Ok(id)
}

/// `state allocspi` arguments (ip's default range 0x100..=0x0fffffff).
pub fn alloc_spi(a: &mut Args) -> R<AllocSpi> {
    let (mut src, mut dst) = (None, None);
    let any = std::net::Ipv4Addr::UNSPECIFIED;
    let mut spec = AllocSpi::new(any, any, IpsecProto::Esp, 0x100, 0x0fff_ffff);
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
    Ok(spec)
}

/// `tmpl …`: stops at the first word that is not the template's.
fn template(a: &mut Args) -> R<Template> {
    let mut t = Template::new(IpsecProto::Esp, Mode::Transport);
    let (mut src, mut dst) = (None, None);
    while let Some(w) = a.peek() {
        let w = w.to_owned();
        match w.as_str() {
            "src" | "dst" | "proto" | "spi" | "mode" | "reqid" | "level" => {
                a.next();
            }
            _ => break,
        }
        match w.as_str() {
            "src" => src = Some(a.addr("tmpl src")?),
            "dst" => dst = Some(a.addr("tmpl dst")?),
            "proto" => t.proto = IpsecProto::parse(&a.value("tmpl proto")?).map_err(e)?,
            "spi" => t.spi = a.u32("tmpl spi")?,
            "mode" => t.mode = Mode::parse(&a.value("tmpl mode")?).map_err(e)?,
            "reqid" => t.reqid = a.u32("tmpl reqid")?,
            _ => {
                t.level = match a.value("tmpl level")?.as_str() {
                    "required" => Level::Required,
                    "use" => Level::Use,
                    l => return Err(format!("tmpl level: {l:?} is not required or use")),
                }
            }
        }
    }
    match (src, dst) {
        (Some(s), Some(d)) => t = t.endpoints(s, d),
        (None, None) => {}
        _ => return Err("tmpl needs both src and dst".into()),
    }
    Ok(t)
}

/// A policy (add/update) or what selects one (del/get): the policy and the
/// `index`, when given.
pub async fn policy(a: &mut Args, nl: &Netlink) -> R<(Policy, Option<u32>)> {
    let mut p = Policy::new(Selector::unspec(), Dir::Out);
    let (mut index, mut dir, mut sel) = (None, None, None);
    while let Some(w) = a.peek() {
        // The selector may come anywhere, as one run of its words.
        if SELECTOR_WORDS.contains(&w) {
            if sel.is_some() {
                return Err(format!("{w}: the selector was given already"));
            }
            sel = Some(selector(a, nl).await?);
            continue;
        }
        let w = a.next().unwrap_or_default();
        match w.as_str() {
            "dir" => dir = Some(Dir::parse(&a.value("dir")?).map_err(e)?),
            "priority" => p.priority = a.u32("priority")?,
            "action" => {
                p.action = match a.value("action")?.as_str() {
                    "allow" => PolicyAction::Allow,
                    "block" => PolicyAction::Block,
                    x => return Err(format!("action: {x:?} is not allow or block")),
                }
            }
            "index" => {
                let i = a.u32("index")?;
                p.index = i;
                index = Some(i);
            }
            "ptype" => {
                p.policy_type = Some(match a.value("ptype")?.as_str() {
                    "main" => 0,
                    "sub" => 1,
                    t => return Err(format!("ptype: {t:?} is not main or sub")),
                })
            }
            "flag" => {
                let f = a.flags("flag", &POLICY_FLAGS)?;
                p.flags = u8::try_from(f).map_err(|_| "flag: out of range")?;
            }
            "mark" => p.mark = Some(a.mark("mark")?),
            "if_id" => p.if_id = Some(a.u32("if_id")?),
            "ctx" => p.sec_ctx = Some(SecCtx::new(&a.value("ctx")?)),
            "limit" => a.limit(&mut p.lifetime)?,
            "tmpl" => p.templates.push(template(a)?),
            other => return Err(format!("unknown policy argument {other:?}")),
        }
    }
    p.selector = match (sel, index) {
        (Some(s), _) => s,
        // By index no selector is needed.
        (None, Some(_)) => Selector::unspec(),
        (None, None) => return Err("a selector (src/dst …) is required".into()),
    };
    // By index the dir is the index's; otherwise it must be given.
    p.dir = match (dir, index) {
        (Some(d), _) => d,
        (None, Some(i)) => Dir::from_raw((i % 8) as u8),
        (None, None) => return Err("dir is required".into()),
    };
    Ok((p, index))
}
