//! `conntrack` on tokio-netlink, for what the library supports.
//!
//! ```text
//! cargo run --release --example conntrack -- [-n NETNS] COMMAND [FILTER] [-o extended|id]
//!   COMMAND := -L | -D | -F | -C | -S | -E
//!   FILTER  := [-f ipv4|ipv6] [-p PROTO] [-s|-d|-r|-q ADDR[/LEN]]
//!              [--sport|--dport N] [-m MARK[/MASK]] [-w ZONE] [-u STATUS]
//! cargo run --release --example conntrack -- [-n NETNS] -G|-I|-U TUPLE [-w ZONE]
//!              [-t SECONDS] [-m MARK[/MASK]] [-u STATUS] [--state STATE]
//!   TUPLE   := -p PROTO -s ADDR -d ADDR (--sport N --dport N
//!              | --icmp-type N --icmp-code N --icmp-id N)
//! ```
//!
//! `-L` prints `conntrack -L`'s lines (`-o extended`: with the family
//! first; `-o id`: with the id last) as the dump streams, and the count on
//! stderr; `-D` deletes what the filter selects (batched) and says how
//! many; `-F` flushes (`-f`, `-m`, `-u` limit it); `-C` prints the count,
//! `-S` the per-CPU statistics, `-E` the events (`[NEW] …`); `-G` prints
//! one entry, `-I` makes one (the reply tuple is the original reversed),
//! `-U` changes one.

#[path = "shared/out.rs"]
mod out;

use std::io::Write;
use std::process::ExitCode;

use futures::{StreamExt, TryStreamExt};
use tokio_netlink::netfilter::conntrack::{
    Conntrack, ConntrackEvent, EventGroup, Filter, Proto, Status, TcpState, Tuple,
};
use tokio_netlink::{Family, Netlink};

fn usage() -> ! {
    eprintln!(
        "usage: conntrack [-n NETNS] -L|-D|-F|-C|-S|-E|-G|-I|-U [-f ipv4|ipv6] [-p PROTO] \
         [-s|-d|-r|-q ADDR] [--sport|--dport N] [-m MARK[/MASK]] [-w ZONE] [-u STATUS] \
         [-o extended|id]"
    );
    std::process::exit(2)
}

struct Opts {
    netns: Option<String>,
    command: char,
    filter: Filter,
    family: Option<Family>,
    mark: Option<(u32, u32)>,
    extended: bool,
    id: bool,
    /// The tuple's parts and the settings of -G/-I/-U.
    one: One,
}

#[derive(Default)]
struct One {
    proto: Option<Proto>,
    src: Option<String>,
    dst: Option<String>,
    sport: Option<u16>,
    dport: Option<u16>,
    icmp: [Option<u32>; 3],
    timeout: Option<u32>,
    status: Option<Status>,
    state: Option<TcpState>,
    zone: Option<u16>,
}

impl One {
    fn tuple(&self) -> tokio_netlink::Result<Tuple> {
        let need = |v: &Option<String>, what| v.clone().ok_or_else(|| missing(what));
        let proto = self.proto.ok_or_else(|| missing("-p"))?;
        let mut t = Tuple::new(
            need(&self.src, "-s")?.as_str(),
            need(&self.dst, "-d")?.as_str(),
            proto,
        )?;
        t.sport = self.sport;
        t.dport = self.dport;
        if let [Some(ty), Some(code), Some(id)] = self.icmp {
            t = t.icmp(ty as u8, code as u8, id as u16);
        }
        Ok(t)
    }
}

fn missing(what: &str) -> tokio_netlink::Error {
    eprintln!("conntrack: {what} is needed here");
    usage()
}

fn num(s: &str) -> u32 {
    let r = match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.unwrap_or_else(|_| usage())
}

fn parse_args() -> Opts {
    let mut o = Opts {
        netns: None,
        command: ' ',
        filter: Filter::new(),
        family: None,
        mark: None,
        extended: false,
        id: false,
        one: One::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        let f = std::mem::take(&mut o.filter);
        o.filter = match a.as_str() {
            "-L" | "-D" | "-F" | "-C" | "-S" | "-E" | "-G" | "-I" | "-U" => {
                o.command = a.as_bytes()[1] as char;
                f
            }
            "-n" => {
                o.netns = Some(val());
                f
            }
            "-f" => {
                let fam = match val().as_str() {
                    "ipv4" => Family::V4,
                    "ipv6" => Family::V6,
                    _ => usage(),
                };
                o.family = Some(fam);
                f.family(fam)
            }
            "-p" => {
                let p = val().parse().unwrap_or_else(|_| usage());
                o.one.proto = Some(p);
                f.protocol(p)
            }
            "-s" | "--src" | "--orig-src" => {
                let v = val();
                o.one.src = Some(v.clone());
                f.orig_src(v.as_str())
            }
            "-d" | "--dst" | "--orig-dst" => {
                let v = val();
                o.one.dst = Some(v.clone());
                f.orig_dst(v.as_str())
            }
            "-t" | "--timeout" => {
                o.one.timeout = Some(num(&val()));
                f
            }
            "--state" => {
                o.one.state = Some(val().parse().unwrap_or_else(|_| usage()));
                f
            }
            "--icmp-type" | "--icmpv6-type" => {
                o.one.icmp[0] = Some(num(&val()));
                f
            }
            "--icmp-code" | "--icmpv6-code" => {
                o.one.icmp[1] = Some(num(&val()));
                f
            }
            "--icmp-id" | "--icmpv6-id" => {
                o.one.icmp[2] = Some(num(&val()));
                f
            }
            "-r" | "--reply-src" => f.reply_src(val().as_str()),
            "-q" | "--reply-dst" => f.reply_dst(val().as_str()),
            "--sport" | "--orig-port-src" => {
                let p = num(&val()) as u16;
                o.one.sport = Some(p);
                f.sport(p)
            }
            "--dport" | "--orig-port-dst" => {
                let p = num(&val()) as u16;
                o.one.dport = Some(p);
                f.dport(p)
            }
            "--reply-port-src" => f.reply_sport(num(&val()) as u16),
            "--reply-port-dst" => f.reply_dport(num(&val()) as u16),
            "-m" | "--mark" => {
                let v = val();
                let (m, mask) = match v.split_once('/') {
                    Some((m, k)) => (num(m), num(k)),
                    None => (num(&v), u32::MAX),
                };
                o.mark = Some((m, mask));
                f.mark(m, mask)
            }
            "-w" | "--zone" => {
                let z = num(&val()) as u16;
                o.one.zone = Some(z);
                f.zone(z)
            }
            "-u" | "--status" => {
                let st = val().parse().unwrap_or_else(|_| usage());
                o.one.status = Some(st);
                f.status(st)
            }
            "-o" | "--output" => {
                for w in val().split(',') {
                    match w {
                        "extended" => o.extended = true,
                        "id" => o.id = true,
                        _ => usage(),
                    }
                }
                f
            }
            _ => usage(),
        };
    }
    if o.command == ' ' {
        usage();
    }
    o
}

/// A failed write to stdout: quiet exit 0 on EPIPE (`conntrack -L | head`).
fn io_err(e: std::io::Error) -> tokio_netlink::Error {
    let e = out::exit_if_pipe(e);
    eprintln!("conntrack: stdout: {e}");
    std::process::exit(1)
}

fn line(w: &mut out::Out, o: &Opts, ct: &Conntrack) -> std::io::Result<()> {
    if o.extended {
        let (name, af) = match ct.family() {
            Family::V4 => ("ipv4", libc::AF_INET),
            Family::V6 => ("ipv6", libc::AF_INET6),
        };
        write!(w, "{name:<8} {af} ")?;
    }
    write!(w, "{ct}")?;
    if o.id
        && let Some(id) = ct.id()
    {
        write!(w, " id={id}")?;
    }
    w.write_all(b"\n")
}

async fn run(o: Opts) -> tokio_netlink::Result<()> {
    let nl = match &o.netns {
        Some(n) => Netlink::in_netns(n.as_str())?,
        None => Netlink::new(),
    };
    let ct = nl.conntrack();
    let mut w = out::stdout();
    match o.command {
        'L' => {
            let mut n = 0u64;
            let mut s = ct.list().filter(o.filter.clone()).stream();
            while let Some(e) = s.try_next().await? {
                line(&mut w, &o, &e).map_err(io_err)?;
                n += 1;
            }
            w.flush().map_err(io_err)?;
            eprintln!("conntrack (tokio-netlink): {n} flow entries have been shown.");
        }
        'D' => {
            let n = ct.delete_matching().filter(o.filter.clone()).await?;
            eprintln!("conntrack (tokio-netlink): {n} flow entries have been deleted.");
        }
        'F' => {
            let mut f = ct.flush();
            if let Some(fam) = o.family {
                f = f.family(fam);
            }
            if let Some((m, mask)) = o.mark {
                f = f.mark(m, mask);
            }
            f.await?;
            eprintln!("conntrack (tokio-netlink): connection tracking table has been emptied.");
        }
        'G' => {
            let mut g = ct.get(o.one.tuple()?);
            if let Some(z) = o.one.zone {
                g = g.zone(z);
            }
            let e = g.await?;
            line(&mut w, &o, &e).map_err(io_err)?;
        }
        'I' => {
            let mut c = ct.create(o.one.tuple()?);
            if let Some(t) = o.one.timeout {
                c = c.timeout(t);
            }
            if let Some((m, _)) = o.mark {
                c = c.mark(m);
            }
            if let Some(st) = o.one.status {
                c = c.status(st);
            }
            if let Some(st) = o.one.state {
                c = c.tcp_state(st);
            }
            if let Some(z) = o.one.zone {
                c = c.zone(z);
            }
            c.await?;
            eprintln!("conntrack (tokio-netlink): 1 flow entries have been created.");
        }
        'U' => {
            let mut u = ct.update(o.one.tuple()?);
            if let Some(t) = o.one.timeout {
                u = u.timeout(t);
            }
            if let Some((m, mask)) = o.mark {
                u = u.mark_masked(m, mask);
            }
            if let Some(st) = o.one.status {
                u = u.status(st);
            }
            if let Some(z) = o.one.zone {
                u = u.zone(z);
            }
            u.await?;
            eprintln!("conntrack (tokio-netlink): 1 flow entries have been updated.");
        }
        'C' => writeln!(w, "{}", ct.count().await?).map_err(io_err)?,
        'S' => {
            for s in ct.cpu_stats().await? {
                writeln!(w, "{s}").map_err(io_err)?;
            }
        }
        'E' => {
            let mut ev = ct.events(&EventGroup::all());
            ev.ready().await?;
            while let Some(e) = ev.next().await {
                let tag = match &e {
                    ConntrackEvent::New(_) => "[NEW]",
                    ConntrackEvent::Update(_) => "[UPDATE]",
                    ConntrackEvent::Destroy(_) => "[DESTROY]",
                    ConntrackEvent::Lost => {
                        w.flush().map_err(io_err)?;
                        eprintln!("WARNING: We have hit ENOBUFS! We are losing events.");
                        continue;
                    }
                    ConntrackEvent::Undecodable(err) => {
                        eprintln!("conntrack: {err}");
                        continue;
                    }
                    _ => continue,
                };
                let Some(c) = e.entry().filter(|c| o.filter.matches(c)) else {
                    continue;
                };
                write!(w, "{tag:>9} ").map_err(io_err)?;
                line(&mut w, &o, c).map_err(io_err)?;
                // Events are read as they come: show each at once.
                w.flush().map_err(io_err)?;
            }
        }
        _ => usage(),
    }
    w.flush().map_err(io_err)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let o = parse_args();
    match run(o).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conntrack: {e}");
            ExitCode::FAILURE
        }
    }
}
