//! `ipset` on tokio-netlink, for what the library supports.
//!
//! ```text
//! cargo run --release --example ipset -- [-n NETNS] [-exist] COMMAND
//!   create SET TYPE [family inet|inet6] [hashsize N] [maxelem N] [netmask N]
//!          [bucketsize N] [initval N]
//!          [timeout N] [counters] [comment] [skbinfo] [forceadd]
//!          [range FROM-TO] [size N]
//!   add SET ENTRY [timeout N] [packets N] [bytes N] [comment TEXT]
//!          [skbmark MARK[/MASK]] [skbprio MAJOR:MINOR] [skbqueue N] [nomatch]
//!   del|test SET ENTRY
//!   list [SET] [-n|-t]     save [SET]     restore (from stdin)
//!   flush [SET]    destroy [SET]    rename FROM TO    swap A B
//! ```
//!
//! `list` prints `ipset list`'s text as the dump streams (`-n`: names,
//! `-t`: headers only); `save` prints `ipset save`'s, which `ipset
//! restore` and this example's `restore` read back (`restore` batches the
//! adds of each set). `test` says whether the member is in the set on
//! stderr and exits 1 when it is not, as ipset does. Options ipset has
//! and the library does not (markmask, resize, before/after…) are refused.

#[path = "shared/out.rs"]
mod out;

use std::io::{BufRead, Write};
use std::process::ExitCode;

use futures::TryStreamExt;
use tokio_netlink::netfilter::ipset::{IpsetEntry, IpsetHandle, Listed, SetType};
use tokio_netlink::{Family, Netlink};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn usage() -> ! {
    eprintln!(
        "usage: ipset [-n NETNS] [-exist] create|add|del|test|list|save|restore|flush|destroy|\
         rename|swap ..."
    );
    std::process::exit(2)
}

fn num<T: std::str::FromStr>(what: &str, s: Option<&String>) -> Res<T> {
    let s = s.ok_or_else(|| format!("{what} needs a value"))?;
    let s = s.as_str();
    let v = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok().map(|v| v.to_string()),
        None => Some(s.to_owned()),
    };
    v.and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{what}: {s:?} is not a number in range").into())
}

async fn create(h: &IpsetHandle, args: &[String], exist: bool) -> Res<()> {
    let [name, ty, opts @ ..] = args else { usage() };
    let ty: SetType = ty.parse()?;
    let mut c = h.create(name, ty);
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        c = match o.as_str() {
            "family" => match it.next().map(String::as_str) {
                Some("inet") => c.family(Family::V4),
                Some("inet6") => c.family(Family::V6),
                f => return Err(format!("family {f:?}: inet or inet6").into()),
            },
            "hashsize" => c.hashsize(num(o, it.next())?),
            "maxelem" => c.maxelem(num(o, it.next())?),
            "netmask" => c.netmask(num(o, it.next())?),
            "timeout" => c.timeout(num(o, it.next())?),
            "size" => c.size(num(o, it.next())?),
            "bucketsize" => c.bucketsize(num(o, it.next())?),
            "initval" => c.initval(num(o, it.next())?),
            "counters" => c.counters(),
            "comment" => c.comment(),
            "skbinfo" => c.skbinfo(),
            "forceadd" => c.forceadd(),
            "range" => {
                let r = it.next().ok_or("range needs FROM-TO")?;
                range(c, ty, r)?
            }
            other => return Err(format!("create option {other:?} is not supported").into()),
        };
    }
    if exist {
        c = c.exist();
    }
    Ok(c.await?)
}

fn range(
    c: tokio_netlink::netfilter::ipset::IpsetCreate,
    ty: SetType,
    r: &str,
) -> Res<tokio_netlink::netfilter::ipset::IpsetCreate> {
    if ty == SetType::BitmapPort {
        let (a, b) = r.split_once('-').ok_or("range FROM-TO")?;
        return Ok(c.port_range(a.parse()?, b.parse()?));
    }
    // bitmap:ip: FROM-TO or NET/CIDR.
    let e = IpsetEntry::parse(SetType::HashIp, r)?;
    let from = e.ip.ok_or("range: an address")?;
    let to = match (e.ip_to, e.cidr, from) {
        (Some(to), _, _) => to,
        (None, Some(c), std::net::IpAddr::V4(a)) => {
            let host = u32::MAX.checked_shr(u32::from(c)).unwrap_or(0);
            std::net::Ipv4Addr::from(u32::from(a) | host).into()
        }
        _ => from,
    };
    Ok(c.ip_range(from, to))
}

/// The set's type, asked of the kernel, to read members in its syntax.
async fn type_of(h: &IpsetHandle, set: &str) -> Res<SetType> {
    Ok(h.header(set).await?.type_name.parse()?)
}

/// ENTRY [extensions…] of a set of type `ty`.
fn member(ty: SetType, args: &[String]) -> Res<IpsetEntry> {
    let [entry, opts @ ..] = args else { usage() };
    let mut e = IpsetEntry::parse(ty, entry)?;
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        match o.as_str() {
            "timeout" => e.timeout = Some(num(o, it.next())?),
            "packets" => e.packets = Some(num(o, it.next())?),
            "bytes" => e.bytes = Some(num(o, it.next())?),
            "comment" => e.comment = Some(it.next().ok_or("comment needs a value")?.clone()),
            "skbmark" => {
                let v = it.next().ok_or("skbmark needs a value")?;
                let (m, k) = v.split_once('/').unwrap_or((v, "0xffffffff"));
                e.skbmark = Some((num(o, Some(&m.into()))?, num(o, Some(&k.into()))?));
            }
            "skbprio" => {
                let v = it.next().ok_or("skbprio needs MAJOR:MINOR")?;
                let (a, b) = v.split_once(':').ok_or("skbprio needs MAJOR:MINOR")?;
                let hex = |s: &str| u16::from_str_radix(s, 16);
                e.skbprio = Some((hex(a)?, hex(b)?));
            }
            "skbqueue" => e.skbqueue = Some(num(o, it.next())?),
            "nomatch" => e.nomatch = true,
            other => return Err(format!("option {other:?} is not supported").into()),
        }
    }
    Ok(e)
}

/// `ipset list` (`names`: `-n`, `headers`: `-t`) or `ipset save`.
async fn list(h: &IpsetHandle, set: Option<&str>, mode: &str) -> Res<()> {
    let mut w = out::stdout();
    if mode == "-n" {
        let names = match set {
            Some(s) => vec![h.header(s).await?.name],
            None => h.names().await?,
        };
        for n in names {
            writeln!(w, "{n}")?;
        }
        return Ok(w.flush()?);
    }
    let mut all = h.listing(set);
    let (mut name, mut first) = (String::new(), true);
    while let Some(item) = all.try_next().await? {
        match item {
            Listed::Set(hd) => {
                if mode == "save" {
                    writeln!(w, "create {} {} {hd}", hd.name, hd.type_name)?;
                } else {
                    if !first {
                        writeln!(w)?;
                    }
                    write!(
                        w,
                        "Name: {}\nType: {}\nRevision: {}\nHeader: {hd}\nSize in memory: {}\n\
                         References: {}\nNumber of entries: {}\n",
                        hd.name,
                        hd.type_name,
                        hd.revision,
                        hd.memsize.unwrap_or(0),
                        hd.references.unwrap_or(0),
                        hd.elements.unwrap_or(0)
                    )?;
                    if mode != "-t" {
                        writeln!(w, "Members:")?;
                    }
                }
                (name, first) = (hd.name, false);
            }
            Listed::Member(_) if mode == "-t" => {}
            Listed::Member(m) if mode == "save" => writeln!(w, "add {name} {m}")?,
            Listed::Member(m) => writeln!(w, "{m}")?,
        }
    }
    Ok(w.flush()?)
}

/// Splits a restore line into words, `"…"` quoting spaces.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => (cur.push(c), any = true).1,
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Adds of one set handed to `add_many` at a time.
const CHUNK: usize = 65536;

/// `ipset restore`: `create` lines one by one, runs of `add` lines to one
/// set batched.
async fn restore(h: &IpsetHandle, exist: bool) -> Res<()> {
    let mut pending: Option<(String, Vec<IpsetEntry>)> = None;
    let mut types = std::collections::HashMap::new();
    async fn flush(
        h: &IpsetHandle,
        p: &mut Option<(String, Vec<IpsetEntry>)>,
        exist: bool,
    ) -> Res<()> {
        if let Some((set, batch)) = p.take() {
            let a = h.add_many(&set, batch);
            if exist {
                a.exist().await?
            } else {
                a.await?
            };
        }
        Ok(())
    }
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let w = words(&line?);
        let at = |e: Box<dyn std::error::Error>| format!("line {}: {e}", n + 1);
        match w.first().map(String::as_str) {
            None | Some("COMMIT") => {}
            Some(c) if c.starts_with('#') => {}
            Some("create") => {
                flush(h, &mut pending, exist).await.map_err(at)?;
                create(h, &w[1..], exist).await.map_err(at)?;
            }
            Some("add") if w.len() >= 3 => {
                let set = &w[1];
                if !types.contains_key(set) {
                    types.insert(set.clone(), type_of(h, set).await.map_err(at)?);
                }
                let m = member(types[set], &w[2..]).map_err(at)?;
                match &mut pending {
                    // Flat memory: a long run of adds goes in slices.
                    Some((s, batch)) if s == set && batch.len() < CHUNK => batch.push(m),
                    _ => {
                        flush(h, &mut pending, exist).await.map_err(at)?;
                        pending = Some((set.clone(), vec![m]));
                    }
                }
            }
            Some(other) => return Err(format!("line {}: {other:?} is not supported", n + 1).into()),
        }
    }
    flush(h, &mut pending, exist).await
}

async fn run(args: Vec<String>) -> Res<ExitCode> {
    let mut args = args.as_slice();
    let mut netns = None;
    let mut exist = false;
    loop {
        match args {
            [f, ns, rest @ ..] if f == "-n" => (netns, args) = (Some(ns.clone()), rest),
            [f, rest @ ..] if f == "-exist" || f == "-!" => (exist, args) = (true, rest),
            _ => break,
        }
    }
    let nl = match netns {
        Some(n) => Netlink::in_netns(n.as_str())?,
        None => Netlink::new(),
    };
    let h = nl.ipset();
    let (exist, args): (bool, Vec<&String>) = {
        let e = exist || args.iter().any(|a| a == "-exist");
        (e, args.iter().filter(|a| *a != "-exist").collect())
    };
    let args: Vec<String> = args.into_iter().cloned().collect();
    let s = |i: usize| args.get(i).map(String::as_str);
    match s(0) {
        Some("create") => create(&h, &args[1..], exist).await?,
        Some(c @ ("add" | "del" | "test")) if args.len() >= 3 => {
            let m = member(type_of(&h, &args[1]).await?, &args[2..])?;
            match (c, exist) {
                ("add", false) => h.add(&args[1], m).await?,
                ("add", true) => h.add(&args[1], m).exist().await?,
                ("del", false) => h.del(&args[1], m).await?,
                ("del", true) => h.del(&args[1], m).exist().await?,
                _ => {
                    let (el, set) = (m.element(), &args[1]);
                    if h.test(set, m).await? {
                        eprintln!("{el} is in set {set}.");
                    } else {
                        eprintln!("{el} is NOT in set {set}.");
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
        }
        Some("list") => {
            let mode = args[1..].iter().find(|a| *a == "-n" || *a == "-t");
            let set = args[1..].iter().find(|a| !a.starts_with('-'));
            list(&h, set.map(String::as_str), mode.map_or("", String::as_str)).await?
        }
        Some("save") => list(&h, s(1), "save").await?,
        Some("restore") => restore(&h, exist).await?,
        Some("flush") => match s(1) {
            Some(set) => h.flush(set).await?,
            None => h.flush_all().await?,
        },
        Some("destroy" | "x") => match s(1) {
            Some(set) => h.destroy(set).await?,
            None => h.destroy_all().await?,
        },
        Some("rename") if args.len() == 3 => h.rename(&args[1], &args[2]).await?,
        Some("swap") if args.len() == 3 => h.swap(&args[1], &args[2]).await?,
        _ => usage(),
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(code) => code,
        Err(e) => out::failed("ipset", e.as_ref()),
    }
}
