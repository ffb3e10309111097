//! A small `ss` on `DiagHandle`.
//!
//! ```text
//! cargo run --release --example ss -- [-n NETNS] [-t] [-u] [-x] [-w] [-S] [-l|-a] [-i] [-m] [-e] [-j] [FILTER]
//! ```
//!
//! Numeric output close to `ss -n`; `-j` prints one JSON object per socket.
//! FILTER is `ss`'s syntax (a subset): `sport = :N`, `dport >= :N`,
//! `dst PREFIX`, `src ADDR:PORT`, `dev = NAME`, `fwmark = VALUE/MASK`,
//! `cgroup = PATH`, `and`/`or`/`not`, parentheses. It runs in the kernel
//! (INET_DIAG_REQ_BYTECODE; device names are looked up in the namespace
//! listed) and applies to inet sockets.

#[path = "shared/out.rs"]
mod out;

use std::io::{self, Write};
use std::process::ExitCode;

use futures::TryStreamExt;
use out::Out;
use serde_json::{Value, json};
use tokio_netlink::Netlink;
use tokio_netlink::diag::raw::state_name;
use tokio_netlink::diag::{
    Extensions, Filter, InetProtocol, InetSocket, SkMemInfo, States, TcpInfo, UnixSocket,
};

#[derive(Default)]
struct Opts {
    netns: Option<String>,
    tcp: bool,
    udp: bool,
    unix: bool,
    raw: bool,
    sctp: bool,
    listening: bool,
    all: bool,
    info: bool,
    mem: bool,
    extended: bool,
    json: bool,
    filter: Vec<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: ss [-n NETNS] [-t] [-u] [-x] [-w] [-S] [-l|-a] [-i] [-m] [-e] [-j] [FILTER]\n\
         combined short flags work (-tanei); FILTER like 'sport = :80 or dst 10.0.0.0/8'"
    );
    std::process::exit(2)
}

fn parse_args() -> Opts {
    let mut o = Opts::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "-n" || a == "--netns" {
            o.netns = Some(args.next().unwrap_or_else(|| usage()));
            continue;
        }
        if a == "-h" || a == "--help" {
            usage();
        }
        match a.strip_prefix('-') {
            Some(flags) if !flags.is_empty() && !a.starts_with("--") => {
                for c in flags.chars() {
                    match c {
                        't' => o.tcp = true,
                        'u' => o.udp = true,
                        'x' => o.unix = true,
                        'w' => o.raw = true,
                        'S' => o.sctp = true,
                        'l' => o.listening = true,
                        'a' => o.all = true,
                        'i' => o.info = true,
                        'm' => o.mem = true,
                        'e' => o.extended = true,
                        'j' => o.json = true,
                        // ss's -n (numeric) is always on here.
                        'n' | 'H' => {}
                        _ => usage(),
                    }
                }
            }
            _ => o.filter.push(a),
        }
    }
    if !(o.tcp || o.udp || o.unix || o.raw || o.sctp) {
        o.tcp = true;
        o.udp = true;
        o.unix = true;
    }
    o
}

/// `ADDR:PORT` (`[ADDR]:PORT` for IPv6, `*` for port 0) into `buf`.
fn addr(buf: &mut Vec<u8>, a: std::net::SocketAddr) -> &[u8] {
    buf.clear();
    // Writes to a Vec cannot fail.
    let _ = match a {
        std::net::SocketAddr::V4(v) => out::ip4(buf, *v.ip()),
        std::net::SocketAddr::V6(v) => write!(buf, "[{}]", v.ip()),
    };
    if a.port() == 0 {
        buf.extend_from_slice(b":*");
    } else {
        buf.push(b':');
        let _ = out::uint(buf, a.port().into());
    }
    buf
}

fn skmem(m: &SkMemInfo) -> String {
    let v = |x: Option<u32>| x.unwrap_or(0);
    format!(
        "skmem:(r{},rb{},t{},tb{},f{},w{},o{},bl{},d{})",
        v(m.rmem_alloc()),
        v(m.rcvbuf()),
        v(m.wmem_alloc()),
        v(m.sndbuf()),
        v(m.fwd_alloc()),
        v(m.wmem_queued()),
        v(m.optmem()),
        v(m.backlog()),
        v(m.drops())
    )
}

fn info_text(s: &InetSocket, t: &TcpInfo) -> String {
    let mut out = Vec::new();
    if let Some(cc) = s.congestion() {
        out.push(cc.to_string());
    }
    if let (Some(sw), Some(rw)) = (t.snd_wscale(), t.rcv_wscale())
        && t.options().unwrap_or(0) & 4 != 0
    {
        out.push(format!("wscale:{sw},{rw}"));
    }
    let ms = |us: u32| format!("{}", f64::from(us) / 1000.0);
    if let Some(rto) = t.rto() {
        out.push(format!("rto:{}", ms(rto)));
    }
    if let (Some(rtt), Some(var)) = (t.rtt(), t.rttvar()) {
        out.push(format!("rtt:{}/{}", ms(rtt), ms(var)));
    }
    let mut num = |k: &str, v: Option<u64>, skip_zero: bool| {
        if let Some(v) = v
            && !(skip_zero && v == 0)
        {
            out.push(format!("{k}:{v}"));
        }
    };
    num("mss", t.snd_mss().map(u64::from), false);
    num("pmtu", t.pmtu().map(u64::from), false);
    num("rcvmss", t.rcv_mss().map(u64::from), false);
    num("advmss", t.advmss().map(u64::from), false);
    num("cwnd", t.snd_cwnd().map(u64::from), false);
    num("bytes_sent", t.bytes_sent(), true);
    num("bytes_acked", t.bytes_acked(), true);
    num("bytes_received", t.bytes_received(), true);
    num("segs_out", t.segs_out().map(u64::from), true);
    num("segs_in", t.segs_in().map(u64::from), true);
    num("data_segs_out", t.data_segs_out().map(u64::from), true);
    num("data_segs_in", t.data_segs_in().map(u64::from), true);
    num("lastsnd", t.last_data_sent().map(u64::from), false);
    num("lastrcv", t.last_data_recv().map(u64::from), false);
    num("lastack", t.last_ack_recv().map(u64::from), false);
    num("delivered", t.delivered().map(u64::from), true);
    num("rcv_space", t.rcv_space().map(u64::from), true);
    num("rcv_ssthresh", t.rcv_ssthresh().map(u64::from), true);
    num("snd_wnd", t.snd_wnd().map(u64::from), true);
    if let Some(m) = t.min_rtt() {
        out.push(format!("minrtt:{}", ms(m)));
    }
    out.join(" ")
}

fn inet_json(s: &InetSocket) -> Value {
    let mut v = json!({
        "netid": s.protocol().name(),
        "state": s.state_name(),
        "recv_q": s.rqueue(),
        "send_q": s.wqueue(),
        "local": s.local().to_string(),
        "peer": s.remote().to_string(),
        "uid": s.uid(),
        "inode": s.inode(),
        "cookie": format!("{:x}", s.cookie()),
        "timer": s.timer(),
        "expires_ms": s.expires(),
        "retrans": s.retrans(),
    });
    if let Some(cc) = s.congestion() {
        v["cong"] = json!(cc);
    }
    if let Some(m) = s.skmeminfo() {
        v["skmem"] = json!(m.0);
    }
    if let Some(t) = s.tcp_info() {
        v["tcp_info"] = json!({
            "len": t.len(),
            "rto": t.rto(), "rtt": t.rtt(), "rttvar": t.rttvar(),
            "snd_mss": t.snd_mss(), "rcv_mss": t.rcv_mss(), "snd_cwnd": t.snd_cwnd(),
            "bytes_sent": t.bytes_sent(), "bytes_acked": t.bytes_acked(),
            "bytes_received": t.bytes_received(), "segs_out": t.segs_out(),
            "segs_in": t.segs_in(), "total_retrans": t.total_retrans(),
            "delivery_rate": t.delivery_rate(), "pacing_rate": t.pacing_rate(),
            "min_rtt": t.min_rtt(), "snd_wnd": t.snd_wnd(), "rcv_wnd": t.rcv_wnd(),
        });
    }
    v
}

fn unix_json(s: &UnixSocket) -> Value {
    json!({
        "netid": s.kind_name(),
        "state": state_name(s.state()),
        "recv_q": s.rqueue(),
        "send_q": s.wqueue(),
        "local": s.path(),
        "inode": s.inode(),
        "peer": s.peer(),
        "uid": s.uid(),
        "cookie": format!("{:x}", s.cookie()),
        "skmem": s.meminfo().map(|m| m.0),
    })
}

/// Scratch buffers reused from line to line.
#[derive(Default)]
struct Scratch {
    local: Vec<u8>,
    peer: Vec<u8>,
}

fn print_inet(w: &mut Out, o: &Opts, s: &InetSocket, b: &mut Scratch) -> io::Result<()> {
    if o.json {
        serde_json::to_writer(&mut *w, &inet_json(s))?;
        return w.write_all(b"\n");
    }
    // "{:<6}{:<11}{:<7}{:<7}{:>22} {:<22}", without `fmt`.
    let netid = if s.is_sctp_association() {
        "`-"
    } else {
        s.protocol().name()
    };
    let mut n = [0u8; 20];
    out::left(w, netid.as_bytes(), 6)?;
    out::left(w, s.state_name().as_bytes(), 11)?;
    out::left(w, out::uint_str(&mut n, s.rqueue().into()), 7)?;
    out::left(w, out::uint_str(&mut n, s.wqueue().into()), 7)?;
    out::right(w, addr(&mut b.local, s.local()), 22)?;
    w.write_all(b" ")?;
    out::left(w, addr(&mut b.peer, s.remote()), 22)?;
    if o.extended {
        if s.uid() != 0 {
            write!(w, " uid:{}", s.uid())?;
        }
        write!(w, " ino:{} sk:{:x}", s.inode(), s.cookie())?;
    }
    w.write_all(b"\n")?;
    let mut extra = Vec::new();
    if o.mem
        && let Some(m) = s.skmeminfo()
    {
        extra.push(skmem(&m));
    }
    if o.info
        && let Some(t) = s.tcp_info()
    {
        extra.push(info_text(s, &t));
    }
    if !extra.is_empty() {
        writeln!(w, "\t {}", extra.join(" "))?;
    }
    Ok(())
}

fn print_unix(w: &mut Out, o: &Opts, s: &UnixSocket) -> io::Result<()> {
    if o.json {
        serde_json::to_writer(&mut *w, &unix_json(s))?;
        return w.write_all(b"\n");
    }
    write!(
        w,
        "{:<6}{:<11}{:<7}{:<7}{:>22} {:<10} {:>5} {}",
        s.kind_name(),
        state_name(s.state()),
        s.rqueue().unwrap_or(0),
        s.wqueue().unwrap_or(0),
        s.path().unwrap_or_else(|| "*".into()),
        s.inode(),
        "*",
        s.peer().unwrap_or(0)
    )?;
    if o.extended {
        write!(w, " ino:{} sk:{:x}", s.inode(), s.cookie())?;
    }
    w.write_all(b"\n")?;
    if o.mem
        && let Some(m) = s.meminfo()
    {
        writeln!(w, "\t {}", skmem(&m))?;
    }
    Ok(())
}

/// A failed write to stdout: quiet exit 0 on EPIPE (`ss | head`).
fn io_err(e: io::Error) -> tokio_netlink::Error {
    let e = out::exit_if_pipe(e);
    eprintln!("ss: stdout: {e}");
    std::process::exit(1)
}

async fn run(o: Opts) -> tokio_netlink::Result<()> {
    let nl = match &o.netns {
        Some(n) => Netlink::in_netns(n.as_str())?,
        None => Netlink::new(),
    };
    let diag = nl.diag();
    let states = if o.all {
        States::ALL
    } else if o.listening {
        States::LISTENING
    } else {
        States::CONNECTED
    };
    let filter: Option<Filter> = if o.filter.is_empty() {
        None
    } else {
        Some(o.filter.join(" ").parse()?)
    };
    let mut ext = Extensions::NONE;
    if o.info || o.json {
        ext = ext | Extensions::INFO | Extensions::CONG;
    }
    if o.mem || o.json {
        ext = ext | Extensions::SKMEMINFO;
    }
    let mut w = out::stdout();
    let mut scratch = Scratch::default();
    if !o.json {
        writeln!(
            w,
            "{:<6}{:<11}{:<7}{:<7}{:>22} {:<22}",
            "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"
        )
        .map_err(io_err)?;
    }
    let mut protos = Vec::new();
    if o.tcp {
        protos.push(InetProtocol::Tcp);
    }
    if o.udp {
        protos.push(InetProtocol::Udp);
    }
    if o.raw {
        protos.push(InetProtocol::Raw(255));
    }
    if o.sctp {
        protos.push(InetProtocol::Sctp);
    }
    for p in protos {
        let mut q = diag.inet().protocol(p).states(states).extensions(ext);
        if let Some(f) = &filter {
            q = q.filter(f.clone());
        }
        let mut st = q.stream();
        loop {
            match st.try_next().await {
                Ok(Some(s)) => print_inet(&mut w, &o, &s, &mut scratch).map_err(io_err)?,
                Ok(None) => break,
                // Bad input (an unknown device in the filter) is the user's
                // to fix, not a protocol the kernel lacks: stop.
                Err(
                    e @ (tokio_netlink::Error::InvalidInput { .. }
                    | tokio_netlink::Error::NoSuchLink { .. }),
                ) => return Err(e),
                Err(e) => {
                    w.flush().map_err(io_err)?;
                    eprintln!("ss: {} sockets: {e}", p.name());
                    break;
                }
            }
        }
    }
    if o.unix && filter.is_none() {
        let mut q = diag.unix().states(states);
        if o.mem || o.json {
            q = q.meminfo();
        }
        let mut st = q.stream();
        while let Some(s) = st.try_next().await? {
            print_unix(&mut w, &o, &s).map_err(io_err)?;
        }
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
            eprintln!("ss: {e}");
            ExitCode::FAILURE
        }
    }
}
