//! A small `tc` built on tokio-netlink: `qdisc show` as iproute2 6.1's
//! `tc` prints it, text or JSON, streamed.
//!
//! ```text
//! cargo run --release --example tc -- [-n NETNS] [-j] [-s] qdisc show [dev DEV]
//! cargo run --release --example tc -- [-n NETNS] [-s] class show dev DEV [parent P]
//! cargo run --release --example tc -- [-n NETNS] [-j] filter show dev DEV [ingress|egress|parent P]
//! ```
//!
//! Qdisc options are printed for htb, tbf (without peakrate), pfifo,
//! bfifo, ingress, clsact and noqueue, class options for htb (rates up to
//! 4 Gbit/s), filter options for u32 and classic bpf with gact/mirred
//! actions; other kinds print their header (and counters) only. Like
//! `tc` 6.1, `class show` prints text even with `-j`. Errors print
//! `Error: …` on stderr and exit non-zero.

mod class;
mod filter;
#[path = "../shared/out.rs"]
mod out;
mod raw;

use std::collections::HashMap;
use std::io::{self, Write};

use futures::StreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::route::tc::{Parent, Qdisc, QdiscKind, Stats, format_size};

const USAGE: &str = "Usage: tc [-n NETNS] [-j] [-s] qdisc show [dev DEV]
       tc [-n NETNS] [-s] class show dev DEV [parent P]
       tc [-n NETNS] [-j] filter show dev DEV [ingress|egress|parent P]";

/// Global options.
#[derive(Debug, Default)]
struct Opts {
    netns: Option<String>,
    json: bool,
    stats: bool,
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run(std::env::args().skip(1).collect())) {
        let e = out::exit_if_pipe(e);
        eprintln!("Error: {e}");
        std::process::exit(if e.kind() == io::ErrorKind::InvalidInput {
            1
        } else {
            2
        });
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// Input errors exit 1, the kernel's refusals 2.
pub(crate) fn nl_err(e: tokio_netlink::Error) -> io::Error {
    let kind = match e {
        tokio_netlink::Error::InvalidInput { .. } => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}

async fn run(args: Vec<String>) -> io::Result<()> {
    let mut o = Opts::default();
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next_if(|a| a.starts_with('-')) {
        match a.as_str() {
            "-n" | "-netns" => o.netns = Some(it.next().ok_or_else(|| bad("-n needs a name"))?),
            "-j" | "-json" => o.json = true,
            "-s" | "-stats" => o.stats = true,
            _ => return Err(bad(format!("unknown option {a:?}\n{USAGE}"))),
        }
    }
    let rest: Vec<String> = it.collect();
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    let nl = match &o.netns {
        Some(ns) => Netlink::in_netns(ns.as_str()).map_err(nl_err)?,
        None => Netlink::new(),
    };
    let dev = match words.as_slice() {
        ["qdisc"] | ["qdisc", "show" | "list" | "ls"] => None,
        ["qdisc", "show" | "list" | "ls", "dev", d] => Some(d.to_string()),
        ["class", "show" | "list" | "ls", "dev", d, rest @ ..] => {
            let parent = match rest {
                [] => None,
                ["parent", p] => Some(p.to_string()),
                _ => return Err(bad(USAGE)),
            };
            return class::show(&nl, d, parent.as_deref(), o.stats).await;
        }
        ["filter", "show" | "list" | "ls", "dev", d, rest @ ..] => {
            let parent = match rest {
                [] => None,
                [p @ ("ingress" | "egress")] => Some(p.to_string()),
                ["parent", p] => Some(p.to_string()),
                _ => return Err(bad(USAGE)),
            };
            return filter::show(&nl, d, parent.as_deref(), o.json).await;
        }
        _ => return Err(bad(USAGE)),
    };
    // Device names, once: a dump gives indexes.
    let mut names = HashMap::new();
    for l in nl.link().list().await.map_err(nl_err)? {
        names.insert(l.index(), l.name().to_owned());
    }
    let mut list = nl.tc().qdisc().list();
    if let Some(d) = &dev {
        list = list.dev(d.as_str());
    }
    let mut w = out::stdout();
    let mut qdiscs = std::pin::pin!(list.stream());
    let mut first = true;
    if o.json {
        w.write_all(b"[")?;
    }
    while let Some(q) = qdiscs.next().await {
        let q = q.map_err(nl_err)?;
        let name = names.get(&q.ifindex()).map_or("", String::as_str);
        let name = if dev.is_some() { None } else { Some(name) };
        if o.json {
            if !first {
                w.write_all(b",")?;
            }
            json(&mut w, &q, name, o.stats)?;
        } else {
            text(&mut w, &q, name, o.stats)?;
        }
        first = false;
    }
    if o.json {
        w.write_all(b"]\n")?;
    }
    w.flush()
}

/// `qdisc KIND HANDLE [dev DEV] root|parent P [refcnt N] OPTIONS`.
fn text(w: &mut impl Write, q: &Qdisc, dev: Option<&str>, stats: bool) -> io::Result<()> {
    write!(w, "qdisc {} {} ", q.kind(), q.handle())?;
    if let Some(d) = dev {
        write!(w, "dev {d} ")?;
    }
    match q.parent() {
        Parent::Root => w.write_all(b"root ")?,
        // tc prints TC_H_INGRESS as a handle.
        Parent::Ingress | Parent::Egress => w.write_all(b"parent ffff:fff1 ")?,
        Parent::Handle(h) => write!(w, "parent {h} ")?,
    }
    if q.refcnt() != 1 {
        write!(w, "refcnt {} ", q.refcnt())?;
    }
    match q.options() {
        QdiscKind::Htb(h) => {
            write!(
                w,
                "r2q {} default {:#x} direct_packets_stat {}",
                h.r2q,
                h.default_class,
                q.htb_direct_packets().unwrap_or(0)
            )?;
            if let Some(d) = h.direct_qlen {
                write!(w, " direct_qlen {d}")?;
            }
        }
        QdiscKind::Pfifo(f) => write!(w, "limit {}p", f.limit.unwrap_or(0))?,
        QdiscKind::Bfifo(f) => write!(w, "limit {}", format_size(f.limit.unwrap_or(0)))?,
        QdiscKind::Ingress => w.write_all(b"---------------- ")?,
        QdiscKind::Tbf(t) => {
            write!(w, "rate {} burst {} ", t.rate, format_size(t.burst))?;
            match tbf_latency(q, &t) {
                Some(us) => write!(w, "lat {} ", time(us))?,
                None => write!(w, "limit {} ", format_size(t.limit))?,
            }
        }
        _ => {}
    }
    w.write_all(b"\n")?;
    if stats {
        stats_text(w, &q.stats())?;
    }
    Ok(())
}

/// ` Sent … \n backlog …\n`, as `tc -s` prints TCA_STATS2.
pub(crate) fn stats_text(w: &mut impl Write, s: &Stats) -> io::Result<()> {
    write!(
        w,
        " Sent {} bytes {} pkt (dropped {}, overlimits {} requeues {}) \n backlog {} {}p requeues {}\n",
        s.bytes,
        s.packets,
        s.drops,
        s.overlimits,
        s.requeues,
        format_size(s.backlog),
        s.qlen,
        s.requeues
    )
}

/// One object with `tc -j`'s field names.
fn json(w: &mut impl Write, q: &Qdisc, dev: Option<&str>, stats: bool) -> io::Result<()> {
    w.write_all(b"{\"kind\":")?;
    out::json_str(w, q.kind())?;
    w.write_all(b",\"handle\":")?;
    out::json_str(w, &q.handle().to_string())?;
    if let Some(d) = dev {
        w.write_all(b",\"dev\":")?;
        out::json_str(w, d)?;
    }
    match q.parent() {
        Parent::Root => w.write_all(b",\"root\":true")?,
        Parent::Ingress | Parent::Egress => w.write_all(b",\"parent\":\"ffff:fff1\"")?,
        Parent::Handle(h) => write!(w, ",\"parent\":\"{h}\"")?,
    }
    if q.refcnt() != 1 {
        write!(w, ",\"refcnt\":{}", q.refcnt())?;
    }
    w.write_all(b",\"options\":{")?;
    match q.options() {
        QdiscKind::Htb(h) => {
            write!(
                w,
                "\"r2q\":{},\"default\":\"{:#x}\",\"direct_packets_stat\":{}",
                h.r2q,
                h.default_class,
                q.htb_direct_packets().unwrap_or(0)
            )?;
            if let Some(d) = h.direct_qlen {
                write!(w, ",\"direct_qlen\":{d}")?;
            }
        }
        QdiscKind::Pfifo(f) | QdiscKind::Bfifo(f) => {
            write!(w, "\"limit\":{}", f.limit.unwrap_or(0))?
        }
        QdiscKind::Tbf(t) => {
            write!(
                w,
                "\"rate\":{},\"burst\":{}",
                t.rate.bytes_per_sec(),
                t.burst
            )?;
            match tbf_latency(q, &t) {
                Some(us) => write!(w, ",\"lat\":{us}")?,
                None => write!(w, ",\"limit\":{}", t.limit)?,
            }
        }
        _ => {}
    }
    w.write_all(b"}")?;
    if stats {
        let s = q.stats();
        write!(
            w,
            ",\"bytes\":{},\"packets\":{},\"drops\":{},\"overlimits\":{},\"requeues\":{},\"backlog\":{},\"qlen\":{}",
            s.bytes, s.packets, s.drops, s.overlimits, s.requeues, s.backlog, s.qlen
        )?;
    }
    w.write_all(b"}")
}

/// tbf's `lat`, in microseconds, as `tc` derives it: the time to drain
/// `limit` at `rate`, less the bucket's (from its raw ticks, which the
/// typed `burst` rounds to bytes); None when negative (`tc` then prints
/// the limit).
fn tbf_latency(q: &Qdisc, t: &tokio_netlink::route::tc::Tbf) -> Option<u64> {
    let rate = t.rate.bytes_per_sec() as f64;
    let buffer = raw::tbf_buffer_ticks(q)?;
    if rate == 0.0 {
        return None;
    }
    let lat = 1e6 * t.limit as f64 / rate - buffer as f64 / raw::tick_in_usec();
    (lat >= 0.0).then_some(lat as u64)
}

/// A time in microseconds as `tc` prints it (`%gs`, `%gms`, `%uus`).
fn time(us: u64) -> String {
    let g = |v: f64| {
        // %g: at most 6 significant digits, no trailing zeros.
        let s = format!(
            "{:.*}",
            5usize.saturating_sub(v.abs().log10().floor() as usize),
            v
        );
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if us >= 1_000_000 {
        format!("{}s", g(us as f64 / 1e6))
    } else if us >= 1000 {
        format!("{}ms", g(us as f64 / 1e3))
    } else {
        format!("{us}us")
    }
}
