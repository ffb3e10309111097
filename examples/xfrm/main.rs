//! `ip xfrm` on tokio-netlink, for what the library supports.
//!
//! ```text
//! cargo run --release --example xfrm -- [-n NETNS] [-s] [-j] OBJECT COMMAND [ARGS]
//!   state list | count | flush [proto P]
//!   state add|update ID [ALGO]... [mode M] [reqid N] [seq N] [replay-window N]
//!         [flag FLAG...] [extra-flag dont-encap-dscp|oseq-may-wrap...]
//!         [mark V [mask M]] [output-mark V [mask M]] [if_id N] [tfcpad N]
//!         [encap espinudp|espinudp-nonike|espintcp SPORT DPORT OADDR]
//!         [coa ADDR] [ctx CTX] [offload [crypto|packet] dev DEV dir in|out]
//!         [sel SELECTOR] [limit LIMIT N]...
//!     ID := src A dst B proto esp|ah|comp|route2|hao [spi SPI]
//!     ALGO := auth NAME KEY | auth-trunc NAME KEY BITS | enc NAME KEY
//!           | aead NAME KEY ICV_BITS | comp NAME
//!     LIMIT := time-soft|time-hard|time-use-soft|time-use-hard
//!            | byte-soft|byte-hard|packet-soft|packet-hard
//!   state del|get dst B proto P spi SPI [src A] [mark V [mask M]]
//!   state allocspi src A dst B proto P [mode M] [reqid N] [min N max N]
//!         [mark V [mask M]] [if_id N]
//!   policy list | count | flush | getdefault
//!   policy add|update SELECTOR dir in|out|fwd [ctx CTX] [mark V [mask M]]
//!         [index N] [ptype main|sub] [action allow|block] [priority N]
//!         [flag localok|icmp...] [if_id N] [limit LIMIT N]...
//!         [tmpl [src A dst B] [proto P] [spi S] [mode M] [reqid N]
//!          [level required|use]]...
//!   policy del|get (SELECTOR dir D | index N) [ctx CTX] [mark V [mask M]]
//!         [ptype main|sub] [if_id N]
//!   monitor
//!     SELECTOR := [src P] [dst P] [dev DEV] [proto tcp|udp|sctp|dccp|N
//!                 [sport N] [dport N] | proto icmp|ipv6-icmp|mobility-header
//!                 [type N] [code N] | proto gre [key N]]
//! ```
//!
//! Keys are hex (`0x…`) or text, as `ip` takes them. Text follows
//! `ip xfrm`'s layout (`-s`: `ip -s xfrm`'s); `-j` prints one JSON object per
//! state, policy or event, one per line (events carry an "event" field).

mod args;
mod json;
#[path = "../shared/out.rs"]
mod out;
mod text;

use std::io::Write;

use std::collections::HashMap;

use futures::StreamExt;
use serde_json::json;
use tokio_netlink::Netlink;
use tokio_netlink::xfrm::{DefaultAction, Group, IpsecProto, PolicyId, XfrmEvent, XfrmHandle};

use args::Args;
use out::Out;

type R<T> = Result<T, String>;

/// Global options: `-n NETNS`, `-s`, `-j`.
struct Opts {
    netns: Option<String>,
    stats: bool,
    json: bool,
}

fn e<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Interface names by index, for `dev` and offload devices.
#[derive(Default)]
pub struct Names(HashMap<u32, String>);

impl Names {
    async fn load(nl: &Netlink) -> R<Names> {
        let links = nl.link().list().await.map_err(e)?;
        Ok(Names(
            links
                .iter()
                .map(|l| (l.index(), l.name().to_owned()))
                .collect(),
        ))
    }

    /// The name of `index` (`ifN` when unknown, as the link may be gone).
    pub fn name(&self, index: u32) -> String {
        self.0
            .get(&index)
            .cloned()
            .unwrap_or_else(|| format!("if{index}"))
    }

    /// Reloads when an index is unknown (a link added since).
    async fn cover(&mut self, nl: &Netlink, indexes: &[u32]) {
        if indexes.iter().any(|i| *i != 0 && !self.0.contains_key(i))
            && let Ok(n) = Names::load(nl).await
        {
            *self = n;
        }
    }
}

/// Where the objects go: one buffered stdout, flushed at the end (and by
/// `Drop` on an error). A closed stdout (a pager or `head` that quit) ends
/// the program quietly, as it does `ip`.
struct Emit {
    out: Out,
    json: bool,
}

impl Emit {
    fn new(o: &Opts) -> Emit {
        Emit {
            out: out::stdout(),
            json: o.json,
        }
    }

    /// One object: a JSON line or `ip`'s text; only the one printed is made.
    fn obj(
        &mut self,
        text: impl FnOnce() -> String,
        json: impl FnOnce() -> serde_json::Value,
    ) -> R<()> {
        let r = if self.json {
            serde_json::to_writer(&mut self.out, &json())
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"))
        } else {
            self.out.write_all(text().as_bytes())
        };
        r.map_err(|err| e(out::exit_if_pipe(err)))
    }

    fn flush(&mut self) -> R<()> {
        self.out.flush().map_err(|err| e(out::exit_if_pipe(err)))
    }
}

async fn run(nl: Netlink, o: &Opts, mut a: Args) -> R<()> {
    let x = nl.xfrm();
    let mut out = Emit::new(o);
    let object = a.next().ok_or("state, policy or monitor?")?;
    let cmd = a.next().unwrap_or_else(|| "list".into());
    match (object.as_str(), cmd.as_str()) {
        ("state", "list" | "show" | "get") => {
            let names = Names::load(&nl).await?;
            if cmd == "get" {
                let s = x.get_state(&args::state_id(&mut a)?).await.map_err(e)?;
                out.obj(
                    || text::state(&s, o.stats, &names),
                    || json::state(&s, o.stats, &names),
                )?;
            } else {
                let mut st = std::pin::pin!(x.states().stream());
                while let Some(s) = st.next().await {
                    let s = s.map_err(e)?;
                    out.obj(
                        || text::state(&s, o.stats, &names),
                        || json::state(&s, o.stats, &names),
                    )?;
                }
            }
        }
        ("state", "count") => {
            let i = x.sad_info().await.map_err(e)?;
            let buckets = if o.stats {
                format!(" (buckets count {} Max {})", i.hash_count, i.hash_max)
            } else {
                String::new()
            };
            out.obj(
                || format!("\t SAD count {}{buckets}\n", i.count),
                || json!({"count": i.count, "hash_count": i.hash_count, "hash_max": i.hash_max}),
            )?;
        }
        ("state", "flush") => {
            let proto = match a.next().as_deref() {
                Some("proto") => Some(IpsecProto::parse(&a.value("proto")?).map_err(e)?),
                None => None,
                Some(o) => return Err(format!("unknown argument {o:?}")),
            };
            x.flush_states(proto).await.map_err(e)?;
        }
        ("state", "add") => x
            .add_state(&args::state(&mut a, &nl).await?)
            .await
            .map_err(e)?,
        ("state", "update") => x
            .update_state(&args::state(&mut a, &nl).await?)
            .await
            .map_err(e)?,
        ("state", "del" | "delete") => x.del_state(&args::state_id(&mut a)?).await.map_err(e)?,
        ("state", "allocspi") => {
            let spec = args::alloc_spi(&mut a)?;
            let s = x.alloc_spi(&spec).await.map_err(e)?;
            let names = Names::default();
            out.obj(
                || text::state(&s, o.stats, &names),
                || json::state(&s, o.stats, &names),
            )?;
        }
        ("policy", "list" | "show") => {
            // Link names only once a policy names a device (rare).
            let mut loaded: Option<Names> = None;
            let none = Names::default();
            let mut st = std::pin::pin!(x.policies().stream());
            while let Some(p) = st.next().await {
                let p = p.map_err(e)?;
                if p.selector.ifindex > 0 && loaded.is_none() {
                    loaded = Some(Names::load(&nl).await?);
                }
                let names = loaded.as_ref().unwrap_or(&none);
                if o.json || o.stats {
                    out.obj(
                        || text::policy(&p, o.stats, names),
                        || json::policy(&p, o.stats, names),
                    )?;
                } else {
                    text::policy_to(&mut out.out, &p, names)
                        .map_err(|err| e(out::exit_if_pipe(err)))?;
                }
            }
        }
        ("policy", "count") => {
            let i = x.spd_info().await.map_err(e)?;
            let sock = if o.stats {
                format!(
                    " (Sock: IN {} OUT {} FWD {})",
                    i.in_socket_count, i.out_socket_count, i.fwd_socket_count
                )
            } else {
                String::new()
            };
            out.obj(
                || {
                    format!(
                        "\t SPD IN  {} OUT {} FWD {}{sock}\n",
                        i.in_count, i.out_count, i.fwd_count
                    )
                },
                || {
                    json!({
                        "in": i.in_count, "out": i.out_count, "fwd": i.fwd_count,
                        "in_socket": i.in_socket_count, "out_socket": i.out_socket_count,
                        "fwd_socket": i.fwd_socket_count,
                    })
                },
            )?;
        }
        ("policy", "flush") => x.flush_policies().await.map_err(e)?,
        ("policy", "getdefault") => {
            let d = x.default_policy().await.map_err(e)?;
            let n = |a: DefaultAction| match a {
                DefaultAction::Block => "block",
                DefaultAction::Accept => "accept",
                DefaultAction::Unspec => "unspec",
            };
            out.obj(
                || {
                    format!(
                        "Default policies:\n in:  {}\n fwd: {}\n out: {}\n",
                        n(d.input),
                        n(d.forward),
                        n(d.output)
                    )
                },
                || json!({"in": n(d.input), "fwd": n(d.forward), "out": n(d.output)}),
            )?;
        }
        ("policy", "add") => x
            .add_policy(&args::policy(&mut a, &nl).await?.0)
            .await
            .map_err(e)?,
        ("policy", "update") => x
            .update_policy(&args::policy(&mut a, &nl).await?.0)
            .await
            .map_err(e)?,
        ("policy", "del" | "delete" | "get") => {
            let (p, index) = args::policy(&mut a, &nl).await?;
            let mut id = match index {
                Some(i) => PolicyId::by_index(i),
                None => PolicyId::from(&p),
            };
            id.mark = p.mark;
            id.if_id = p.if_id;
            id.sec_ctx = p.sec_ctx.clone();
            id.policy_type = p.policy_type;
            if cmd == "get" {
                let names = Names::load(&nl).await?;
                let p = x.get_policy(&id).await.map_err(e)?;
                out.obj(
                    || text::policy(&p, o.stats, &names),
                    || json::policy(&p, o.stats, &names),
                )?;
            } else {
                x.del_policy(&id).await.map_err(e)?;
            }
        }
        ("monitor", _) => monitor(&nl, &x, o.stats, &mut out).await?,
        (o, c) => return Err(format!("unknown command {o} {c}")),
    }
    if let Some(w) = a.next() {
        return Err(format!("unexpected argument {w:?}"));
    }
    out.flush()
}

/// `ip xfrm monitor`: every group, one event after the other.
async fn monitor(nl: &Netlink, x: &XfrmHandle, stats: bool, out: &mut Emit) -> R<()> {
    let mut m = x.monitor(&Group::all());
    m.ready().await.map_err(e)?;
    let mut names = Names::load(nl).await?;
    while let Some(ev) = m.next().await {
        if let XfrmEvent::Undecodable(err) = &ev {
            eprintln!("undecodable event: {err}");
            continue;
        }
        names.cover(nl, &json::indexes(&ev)).await;
        let Some(j) = json::event(&ev, stats, &names) else {
            continue;
        };
        out.obj(|| text::event(&ev, stats, &names), || j)?;
        // Each event as it comes (the next may be a while).
        out.flush()?;
    }
    Ok(())
}

fn parse_opts(words: &mut Vec<String>) -> R<Opts> {
    let mut o = Opts {
        netns: None,
        stats: false,
        json: false,
    };
    while let Some(w) = words.first().cloned() {
        match w.as_str() {
            "-n" | "-netns" => {
                if words.len() < 2 {
                    return Err("-n needs a namespace".into());
                }
                o.netns = Some(words[1].clone());
                words.drain(..2);
                continue;
            }
            "-s" | "-stats" | "-statistics" => o.stats = true,
            "-j" | "-json" => o.json = true,
            _ => break,
        }
        words.remove(0);
    }
    Ok(o)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let r = async {
        let o = parse_opts(&mut words)?;
        let nl = match &o.netns {
            Some(n) => Netlink::in_netns(n.as_str()).map_err(e)?,
            None => Netlink::new(),
        };
        run(nl, &o, Args::new(words)).await
    };
    if let Err(err) = r.await {
        eprintln!("Error: {err}");
        std::process::exit(1);
    }
}
