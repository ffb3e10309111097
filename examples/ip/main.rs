//! A small `ip` built on tokio-netlink, speaking iproute2's grammar for what
//! the library supports.
//!
//! ```text
//! cargo run --release --example ip -- [-n NETNS] [-j] [-d] OBJECT COMMAND
//!   link show [dev NAME]
//!   link add [link DEV] [name] NAME [mtu N] [address MAC] [txqlen N] [up]
//!            [master BR] [alias TEXT] [netns NS] type KIND [ARGS]
//!        KIND := veth [peer [name] P [mtu N] [address MAC] [netns NS]]
//!              | bridge [stp_state 0|1] [forward_delay CS] [ageing_time CS]
//!                       [vlan_filtering 0|1] [vlan_default_pvid N]
//!                       [mcast_snooping 0|1] [priority N]
//!              | macvlan|macvtap [link DEV] [mode bridge|private|vepa|passthru|source]
//!              | vxlan id N [dstport P] [dev D] [local A] [remote A | group A]
//!                      [ttl N] [tos N] [[no]learning] [srcport MIN MAX] [gbp]
//!              | vlan [link DEV] id N [protocol 802.1Q|802.1ad]
//!              | ifb | dummy | any other name (sent as is)
//!   link del [dev] NAME
//!   link set [dev] NAME { up | down | mtu N | name NEW | address MAC
//!            | master BR | nomaster | netns NS|PID | alias TEXT | txqlen N
//!            | group N | promisc on|off | allmulticast on|off | arp on|off } ...
//!   addr show [dev NAME]
//!   addr add PREFIX dev NAME [label L] [broadcast A|+] [scope S] [metric N]
//!            [valid_lft N|forever] [preferred_lft N|forever]
//!            [noprefixroute] [nodad] [optimistic] [home] [mngtmpaddr]
//!   addr del PREFIX dev NAME
//!   route show [table T|all] [proto P] [type T] [dev D] [[exact] PREFIX]
//!   route add|replace|append|del [TYPE] PREFIX|default [via [inet|inet6] GW]
//!            [dev D] [src A] [table T] [metric M] [proto P] [scope S] [tos T]
//!            [onlink] [mtu [lock] N] [nhid N] [nexthop [via GW] [dev D] [weight W] [onlink]]...
//!        TYPE := unicast | local | broadcast | multicast | blackhole | unreachable
//!              | prohibit | throw
//!   route get [to] ADDR [from A] [iif D] [oif D] [mark M] [uid U] [fibmatch]
//!   rule show
//!   rule add|del [not] [from P] [to P] [tos T] [fwmark M[/MASK]] [iif D] [oif D]
//!            [priority N] [table T | goto N | blackhole | unreachable | prohibit | nop]
//!   neigh show [dev D] [proxy]
//!   nexthop show|flush [id N] [dev D] [groups] [fdb] [master M]
//!   nexthop get|del id N
//!   nexthop add|replace id N { via A [dev D] | dev D | blackhole
//!            | group ID[,WEIGHT][/ID[,WEIGHT]]... [type mpath | resilient
//!              [buckets N] [idle_timer S] [unbalanced_timer S]] }
//!            [onlink] [fdb] [proto P]
//!   neigh add|replace|del [proxy] ADDR [lladdr MAC] dev D [nud STATE] [router]
//! ```
//!
//! `-4` / `-6` choose the family, as with `ip` (routes and rules default to
//! IPv4; neighbours to both).
//!
//! Without `-j` it prints lines close to `ip`'s; with `-j` a JSON array with
//! `ip -j`'s field names and value formats (iproute2 6.1). Errors print
//! `Error: …` on stderr and exit non-zero (2 when the kernel refused).

mod addr;
mod bridge;
mod encap;
mod info;
mod json;
mod kinds;
mod link;
mod monitor;
mod neigh;
mod nexthop;
#[path = "../shared/out.rs"]
mod out;
mod route;
mod route_out;
mod rule;
mod text;

use std::net::IpAddr;

use tokio_netlink::Netlink;
use tokio_netlink::route::address::Family;

const USAGE: &str = "Usage: ip [-n NETNS] [-j] [-d] OBJECT COMMAND
       OBJECT := link | address | route | rule | neigh | nexthop | monitor
       link show [dev NAME] | link add [link DEV] NAME ... type KIND [ARGS]
       link del NAME | link set NAME SETTING...
       address show [dev NAME] | address add PREFIX dev NAME [OPTIONS]
       address del PREFIX dev NAME
       route show [SELECTOR] | route add|replace|append|del ROUTE | route get ADDR [OPTIONS]
       rule show | rule add|del SELECTOR ACTION
       neigh show [dev D] [proxy] | neigh add|replace|del [proxy] ADDR [lladdr MAC] dev D
       nexthop show|flush [SELECTOR] | nexthop get|del id N | nexthop add|replace id N NH
       monitor [all | link | address | route | rule | neigh | nexthop]...
(the grammar is in the header of examples/ip/main.rs)";

/// Global options.
#[derive(Debug, Default, Clone, Copy)]
pub struct Opts {
    pub json: bool,
    pub details: bool,
    /// `-4` / `-6`.
    pub family: Option<Family>,
}

/// A failure: the message after `Error: ` and the exit code.
#[derive(Debug)]
pub struct Fail {
    pub msg: String,
    pub code: i32,
}

pub type Res<T> = Result<T, Fail>;

/// A usage or lookup error (exit 1).
pub fn fail(msg: impl Into<String>) -> Fail {
    Fail {
        msg: msg.into(),
        code: 1,
    }
}

impl From<tokio_netlink::Error> for Fail {
    /// Like ip: the kernel's extended-ACK text when it gave one, else
    /// `RTNETLINK answers: <strerror>` (the library's context, such as
    /// `route add 10.9.0.0/16:`, is what ip does not print).
    fn from(e: tokio_netlink::Error) -> Fail {
        let Some(k) = e.kernel() else {
            return fail(e.to_string());
        };
        let msg = match k.message.as_deref() {
            Some(m) => {
                let m = m.trim_end();
                if m.ends_with('.') {
                    m.to_owned()
                } else {
                    format!("{m}.")
                }
            }
            None => {
                let s = std::io::Error::from_raw_os_error(k.errno).to_string();
                let s = s.split(" (os error").next().unwrap_or(&s).to_owned();
                format!("RTNETLINK answers: {s}")
            }
        };
        Fail { msg, code: 2 }
    }
}

impl From<std::io::Error> for Fail {
    /// A write to stdout failed: quietly exit 0 when the reader went away
    /// (`ip … | head`), else report it.
    fn from(e: std::io::Error) -> Fail {
        let e = out::exit_if_pipe(e);
        Fail {
            msg: e.to_string(),
            code: 1,
        }
    }
}

/// A cursor over command words with ip-style argument helpers.
pub struct Words {
    w: Vec<String>,
    i: usize,
}

impl Words {
    pub fn new(w: Vec<String>) -> Words {
        Words { w, i: 0 }
    }

    /// The next word without consuming it.
    pub fn peek(&self) -> Option<&str> {
        self.w.get(self.i).map(String::as_str)
    }

    /// The argument of `key`, which must follow.
    pub fn arg(&mut self, key: &str) -> Res<String> {
        self.next().ok_or_else(|| {
            fail(format!(
                "Command line is not complete: \"{key}\" needs an argument"
            ))
        })
    }

    /// The argument of `key`, parsed.
    pub fn parse<T: std::str::FromStr>(&mut self, key: &str) -> Res<T> {
        let v = self.arg(key)?;
        v.parse().map_err(|_| {
            fail(format!(
                "argument \"{v}\" is wrong: invalid \"{key}\" value"
            ))
        })
    }

    /// A number after `key`, as ip's `get_u32` reads it (0x… hex, 0… octal).
    pub fn num(&mut self, key: &str) -> Res<u32> {
        let v = self.arg(key)?;
        parse_u32(&v).ok_or_else(|| {
            fail(format!(
                "argument \"{v}\" is wrong: invalid \"{key}\" value"
            ))
        })
    }

    /// `on|off` after `key`.
    pub fn on_off(&mut self, key: &str) -> Res<bool> {
        match self.arg(key)?.as_str() {
            "on" => Ok(true),
            "off" => Ok(false),
            v => Err(fail(format!(
                "argument of \"{key}\" must be \"on\" or \"off\", not \"{v}\""
            ))),
        }
    }
}

impl Iterator for Words {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let w = self.w.get(self.i).cloned();
        self.i += 1;
        w
    }
}

/// A number in C's base-0 spelling: `0x10`, `010`, `16`.
pub fn parse_u32(s: &str) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// The family of an address.
pub fn family_of(ip: &IpAddr) -> Family {
    if ip.is_ipv4() { Family::V4 } else { Family::V6 }
}

/// An address of `family` (when one is chosen), refused as ip does
/// otherwise.
pub fn addr_arg(s: &str, family: Option<Family>) -> Res<IpAddr> {
    let ip: IpAddr = s.parse().map_err(|_| {
        fail(format!(
            "any valid address is expected rather than \"{s}\"."
        ))
    })?;
    match family {
        Some(f) if f != family_of(&ip) => Err(fail(format!(
            "{} address is expected rather than \"{s}\".",
            family_name(f)
        ))),
        _ => Ok(ip),
    }
}

/// `inet` / `inet6`.
pub fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "inet",
        Family::V6 => "inet6",
    }
}

/// `ip`'s abbreviation rule: `word` is a prefix of `full`.
pub fn matches(word: &str, full: &str) -> bool {
    !word.is_empty() && full.starts_with(word)
}

fn parse_args() -> Res<(Option<String>, Opts, Vec<String>)> {
    let mut netns = None;
    let mut opts = Opts::default();
    let mut it = std::env::args().skip(1).peekable();
    while let Some(a) = it.next_if(|a| a.starts_with('-')) {
        match a.trim_start_matches('-') {
            "n" | "netns" => {
                netns = Some(it.next().ok_or_else(|| fail("-n needs a namespace name"))?)
            }
            "j" | "json" => opts.json = true,
            "d" | "details" => opts.details = true,
            "4" => opts.family = Some(Family::V4),
            "6" => opts.family = Some(Family::V6),
            "p" | "pretty" => {}
            _ => {
                return Err(fail(format!(
                    "Option \"{a}\" is unknown, try \"ip -help\"."
                )));
            }
        }
    }
    Ok((netns, opts, it.collect()))
}

async fn run() -> Res<()> {
    let (netns, opts, words) = parse_args()?;
    let nl = match &netns {
        Some(ns) => Netlink::in_netns(ns.as_str())
            .map_err(|e| fail(format!("Cannot open network namespace \"{ns}\": {e}")))?,
        None => Netlink::new(),
    };
    if words.is_empty() || words[0] == "help" {
        eprintln!("{USAGE}");
        std::process::exit(255); // like ip's usage()
    }
    let mut w = Words::new(words);
    let object = w.next().unwrap_or_default();
    let cmd = w.next().unwrap_or_else(|| "show".into());
    let o = object.as_str();
    let c = cmd.as_str();
    if matches(o, "link") {
        match c {
            c if matches(c, "show") || c == "list" || c == "lst" => link::show(&nl, w, opts).await,
            c if matches(c, "add") => kinds::add(&nl, w).await,
            c if matches(c, "delete") => link::del(&nl, w).await,
            c if matches(c, "set") => link::set(&nl, w).await,
            _ => Err(fail(format!(
                "Command \"{c}\" is unknown, try \"ip link help\"."
            ))),
        }
    } else if matches(o, "address") || o == "addr" {
        match c {
            c if matches(c, "show") || c == "list" || c == "lst" => addr::show(&nl, w, opts).await,
            c if matches(c, "add") => addr::add(&nl, w).await,
            c if matches(c, "delete") => addr::del(&nl, w).await,
            _ => Err(fail(format!(
                "Command \"{c}\" is unknown, try \"ip address help\"."
            ))),
        }
    } else if matches(o, "route") {
        match c {
            c if matches(c, "show") || c == "list" || c == "lst" => route::show(&nl, w, opts).await,
            c if matches(c, "get") => route::get(&nl, w, opts).await,
            c if matches(c, "add") => route::modify(&nl, w, opts, route::Op::Add).await,
            c if matches(c, "replace") => route::modify(&nl, w, opts, route::Op::Replace).await,
            c if matches(c, "append") => route::modify(&nl, w, opts, route::Op::Append).await,
            c if matches(c, "delete") => route::modify(&nl, w, opts, route::Op::Del).await,
            _ => Err(fail(format!(
                "Command \"{c}\" is unknown, try \"ip route help\"."
            ))),
        }
    } else if matches(o, "rule") {
        match c {
            c if matches(c, "show") || c == "list" || c == "lst" => rule::show(&nl, w, opts).await,
            c if matches(c, "add") => rule::modify(&nl, w, opts, false).await,
            c if matches(c, "delete") => rule::modify(&nl, w, opts, true).await,
            _ => Err(fail(format!(
                "Command \"{c}\" is unknown, try \"ip rule help\"."
            ))),
        }
    } else if matches(o, "monitor") {
        // `ip monitor OBJECT…`: the "command" is the first object.
        let mut objects = Vec::new();
        if cmd != "show" || w.peek().is_some() {
            objects.push(cmd.clone());
        }
        objects.extend(w);
        monitor::monitor(&nl, Words::new(objects), opts).await
    } else if matches(o, "neighbour") || matches(o, "neighbor") {
        match c {
            c if matches(c, "show") || c == "list" || c == "lst" => neigh::show(&nl, w, opts).await,
            c if matches(c, "add") => neigh::modify(&nl, w, opts, neigh::Op::Add).await,
            c if matches(c, "replace") => neigh::modify(&nl, w, opts, neigh::Op::Replace).await,
            c if matches(c, "delete") => neigh::modify(&nl, w, opts, neigh::Op::Del).await,
            _ => Err(fail(format!(
                "Command \"{c}\" is unknown, try \"ip neigh help\"."
            ))),
        }
    } else if matches(o, "nexthop") {
        // After neigh: `ip n` is neigh, as in ip.
        match c {
            c if matches(c, "show") || c == "list" || c == "lst" => {
                nexthop::show(&nl, w, opts, false).await
            }
            c if matches(c, "flush") => nexthop::show(&nl, w, opts, true).await,
            c if matches(c, "get") => nexthop::get(&nl, w, opts).await,
            c if matches(c, "add") => nexthop::modify(&nl, w, opts, false).await,
            c if matches(c, "replace") => nexthop::modify(&nl, w, opts, true).await,
            c if matches(c, "delete") => nexthop::del(&nl, w).await,
            _ => Err(fail(format!(
                "Command \"{c}\" is unknown, try \"ip nexthop help\"."
            ))),
        }
    } else {
        Err(fail(format!(
            "Object \"{o}\" is unknown, try \"ip help\" \
             (supported: link, address, route, rule, neigh, nexthop)."
        )))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("Error: {}", e.msg);
        std::process::exit(e.code);
    }
}
