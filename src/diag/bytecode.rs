//! Kernel-side socket filters: a small typed expression ([`Filter`]),
//! parsed from `ss`'s syntax or built in code, compiled to the
//! INET_DIAG_REQ_BYTECODE program the kernel runs on every socket.
//!
//! The program is a list of conditional operations: each one either goes
//! on to the next operation (its `yes` offset is its own length) or jumps
//! forward by its `no` offset. Reaching the end exactly accepts the socket;
//! jumping 4 bytes past the end rejects it. An expression compiles with a
//! "false" target label: leaves jump there when they fail and fall through
//! when they hold; `or` and `not` add unconditional jumps.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnetwork::IpNetwork;

use crate::error::{Error, Result};

// INET_DIAG_BC_* operation codes (linux/inet_diag.h).
const BC_JMP: u8 = 1;
const BC_S_GE: u8 = 2;
const BC_S_LE: u8 = 3;
const BC_D_GE: u8 = 4;
const BC_D_LE: u8 = 5;
const BC_S_COND: u8 = 7;
const BC_D_COND: u8 = 8;
const BC_S_EQ: u8 = 11;
const BC_D_EQ: u8 = 12;

/// A port comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        })
    }
}

/// A socket filter the kernel evaluates, like `ss`'s
/// `sport = :80 or dst 10.0.0.0/8`.
///
/// ```
/// use tokio_netlink::diag::{Cmp, Filter};
/// let f = Filter::sport(Cmp::Eq, 80).or(Filter::dport(Cmp::Eq, 443));
/// assert_eq!(f, "sport = :80 or dport = :443".parse().unwrap());
/// assert!(!f.compile().unwrap().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Local port comparison.
    Sport(Cmp, u16),
    /// Remote port comparison.
    Dport(Cmp, u16),
    /// Local address within a prefix, and local port if given.
    Src(IpNetwork, Option<u16>),
    /// Remote address within a prefix, and remote port if given.
    Dst(IpNetwork, Option<u16>),
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not hold.
    Not(Box<Filter>),
}

impl Filter {
    /// `sport CMP :port`.
    pub fn sport(cmp: Cmp, port: u16) -> Filter {
        Filter::Sport(cmp, port)
    }

    /// `dport CMP :port`.
    pub fn dport(cmp: Cmp, port: u16) -> Filter {
        Filter::Dport(cmp, port)
    }

    /// `src PREFIX`.
    pub fn src(net: IpNetwork) -> Filter {
        Filter::Src(net, None)
    }

    /// `dst PREFIX`.
    pub fn dst(net: IpNetwork) -> Filter {
        Filter::Dst(net, None)
    }

    /// `self and other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }

    /// `self or other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// The INET_DIAG_REQ_BYTECODE program. Fails with
    /// [`Error::InvalidInput`] (field `filter`) when it would exceed the
    /// 64 KiB the kernel's 16-bit jump offsets can address.
    pub fn compile(&self) -> Result<Vec<u8>> {
        let mut asm = Asm::default();
        let reject = asm.label();
        asm.emit(self, reject);
        asm.finish(reject)
    }

    /// Evaluates the filter in user space on a socket's ports and addresses,
    /// the way the kernel does (an IPv4 prefix also matches IPv4-mapped IPv6
    /// addresses).
    pub fn matches(&self, src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> bool {
        match self {
            Filter::Sport(c, p) => cmp(*c, sport, *p),
            Filter::Dport(c, p) => cmp(*c, dport, *p),
            Filter::Src(n, p) => host_matches(n, *p, src, sport),
            Filter::Dst(n, p) => host_matches(n, *p, dst, dport),
            Filter::And(a, b) => {
                a.matches(src, sport, dst, dport) && b.matches(src, sport, dst, dport)
            }
            Filter::Or(a, b) => {
                a.matches(src, sport, dst, dport) || b.matches(src, sport, dst, dport)
            }
            Filter::Not(a) => !a.matches(src, sport, dst, dport),
        }
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;

    /// `not self`.
    fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

fn cmp(c: Cmp, v: u16, p: u16) -> bool {
    match c {
        Cmp::Eq => v == p,
        Cmp::Ne => v != p,
        Cmp::Lt => v < p,
        Cmp::Le => v <= p,
        Cmp::Gt => v > p,
        Cmp::Ge => v >= p,
    }
}

fn host_matches(net: &IpNetwork, port: Option<u16>, addr: IpAddr, p: u16) -> bool {
    if port.is_some_and(|want| want != p) {
        return false;
    }
    let addr = match (net, addr) {
        (IpNetwork::V4(_), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        _ => addr,
    };
    if net.prefix() == 0 {
        return net.is_ipv4() == addr.is_ipv4();
    }
    net.contains(addr)
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = |f: &mut fmt::Formatter<'_>, n: &IpNetwork, p: &Option<u16>| {
            match n {
                IpNetwork::V6(_) => write!(f, "[{}]/{}", n.ip(), n.prefix())?,
                IpNetwork::V4(_) => write!(f, "{}/{}", n.ip(), n.prefix())?,
            }
            match p {
                Some(p) => write!(f, ":{p}"),
                None => Ok(()),
            }
        };
        match self {
            Filter::Sport(c, p) => write!(f, "sport {c} :{p}"),
            Filter::Dport(c, p) => write!(f, "dport {c} :{p}"),
            Filter::Src(n, p) => {
                f.write_str("src ")?;
                host(f, n, p)
            }
            Filter::Dst(n, p) => {
                f.write_str("dst ")?;
                host(f, n, p)
            }
            Filter::And(a, b) => write!(f, "({a} and {b})"),
            Filter::Or(a, b) => write!(f, "({a} or {b})"),
            Filter::Not(a) => write!(f, "not {a}"),
        }
    }
}

// ------------------------------------------------------------ assembler

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Label(usize);

enum Item {
    /// An operation whose bytes 2..4 (`no`) are patched to reach the label.
    Op(Vec<u8>, Label),
    Place(Label),
}

#[derive(Default)]
struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    fn place(&mut self, l: Label) {
        self.items.push(Item::Place(l));
    }

    fn op(&mut self, code: u8, args: &[u8], no: Label) {
        let mut b = vec![code, (4 + args.len()) as u8, 0, 0];
        b.extend_from_slice(args);
        self.items.push(Item::Op(b, no));
    }

    fn jump(&mut self, to: Label) {
        self.op(BC_JMP, &[], to);
    }

    /// Code that falls through when `f` holds and jumps to `fail` otherwise.
    fn emit(&mut self, f: &Filter, fail: Label) {
        match f {
            Filter::Sport(c, p) => self.port(BC_S_EQ, BC_S_GE, BC_S_LE, *c, *p, fail),
            Filter::Dport(c, p) => self.port(BC_D_EQ, BC_D_GE, BC_D_LE, *c, *p, fail),
            Filter::Src(n, p) => self.host(BC_S_COND, n, *p, fail),
            Filter::Dst(n, p) => self.host(BC_D_COND, n, *p, fail),
            Filter::And(a, b) => {
                self.emit(a, fail);
                self.emit(b, fail);
            }
            Filter::Or(a, b) => {
                let try_b = self.label();
                let done = self.label();
                self.emit(a, try_b);
                self.jump(done);
                self.place(try_b);
                self.emit(b, fail);
                self.place(done);
            }
            Filter::Not(a) => {
                let held_not = self.label();
                self.emit(a, held_not);
                self.jump(fail);
                self.place(held_not);
            }
        }
    }

    fn port(&mut self, eq: u8, ge: u8, le: u8, c: Cmp, p: u16, fail: Label) {
        // The port travels in the `no` field of a second, inert operation.
        let mut arg = [0u8; 4];
        arg[2..4].copy_from_slice(&p.to_ne_bytes());
        let (code, negate) = match c {
            Cmp::Eq => (eq, false),
            Cmp::Ne => (eq, true),
            Cmp::Ge => (ge, false),
            Cmp::Le => (le, false),
            Cmp::Gt => (le, true),
            Cmp::Lt => (ge, true),
        };
        if negate {
            let held_not = self.label();
            self.op(code, &arg, held_not);
            self.jump(fail);
            self.place(held_not);
        } else {
            self.op(code, &arg, fail);
        }
    }

    fn host(&mut self, code: u8, net: &IpNetwork, port: Option<u16>, fail: Label) {
        // struct inet_diag_hostcond: family, prefix_len, (pad), int port, addr.
        let (family, addr): (u8, Vec<u8>) = match net.ip() {
            IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
            IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
        };
        let mut arg = vec![family, net.prefix(), 0, 0];
        arg.extend_from_slice(&port.map_or(-1i32, i32::from).to_ne_bytes());
        arg.extend_from_slice(&addr);
        self.op(code, &arg, fail);
    }

    fn finish(self, reject: Label) -> Result<Vec<u8>> {
        let mut pos = vec![usize::MAX; self.labels];
        let mut off = 0;
        for it in &self.items {
            match it {
                Item::Op(b, _) => off += b.len(),
                Item::Place(l) => pos[l.0] = off,
            }
        }
        let end = off;
        if end + 4 > u16::MAX as usize {
            return Err(Error::invalid(
                "filter",
                format!("compiles to {end} bytes, more than the kernel's 16-bit jumps reach"),
            ));
        }
        pos[reject.0] = end + 4;
        let mut out = Vec::with_capacity(end);
        for it in self.items {
            if let Item::Op(mut b, to) = it {
                let no = (pos[to.0] - out.len()) as u16;
                b[2..4].copy_from_slice(&no.to_ne_bytes());
                out.extend_from_slice(&b);
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------ parser

/// Parses `ss`'s filter syntax (a subset): `sport`/`dport` with `=`, `==`,
/// `!=`, `<`, `<=`, `>`, `>=` (or `eq`, `ne`, `lt`, `le`, `gt`, `ge`) and a
/// port written `:N` or `N`; `src`/`dst` with `ADDR[/PREFIX][:PORT]`
/// (`[V6]:PORT` for IPv6 with a port); `and`/`&&`, `or`/`||`, `not`/`!`,
/// parentheses; juxtaposition means `and`.
impl FromStr for Filter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Filter> {
        let tokens = tokenize(s);
        let mut p = Parser { t: &tokens, i: 0 };
        let f = p.or()?;
        match p.t.get(p.i) {
            None => Ok(f),
            Some(t) => Err(bad(format!("unexpected {t:?}"))),
        }
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::invalid("filter", reason)
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => flush(&mut cur, &mut out),
            '(' | ')' => {
                flush(&mut cur, &mut out);
                out.push(c.to_string());
            }
            '!' | '<' | '>' | '=' | '&' | '|' => {
                flush(&mut cur, &mut out);
                let mut op = c.to_string();
                if let Some(&n) = chars.peek()
                    && matches!(
                        (c, n),
                        ('!', '=') | ('<', '=') | ('>', '=') | ('=', '=') | ('&', '&') | ('|', '|')
                    )
                {
                    op.push(n);
                    chars.next();
                }
                out.push(op);
            }
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    out
}

struct Parser<'a> {
    t: &'a [String],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(String::as_str)
    }

    fn next(&mut self) -> Result<&str> {
        let t = self.t.get(self.i).ok_or_else(|| bad("unexpected end"))?;
        self.i += 1;
        Ok(t)
    }

    fn or(&mut self) -> Result<Filter> {
        let mut f = self.and()?;
        while matches!(self.peek(), Some("or" | "||" | "|")) {
            self.i += 1;
            f = f.or(self.and()?);
        }
        Ok(f)
    }

    fn and(&mut self) -> Result<Filter> {
        let mut f = self.unary()?;
        loop {
            match self.peek() {
                Some("and" | "&&" | "&") => self.i += 1,
                None | Some("or" | "||" | "|" | ")") => return Ok(f),
                Some(_) => {}
            }
            f = f.and(self.unary()?);
        }
    }

    fn unary(&mut self) -> Result<Filter> {
        match self.next()? {
            "not" | "!" => Ok(!self.unary()?),
            "(" => {
                let f = self.or()?;
                match self.next()? {
                    ")" => Ok(f),
                    t => Err(bad(format!("expected ')', got {t:?}"))),
                }
            }
            "sport" => self.port().map(|(c, p)| Filter::Sport(c, p)),
            "dport" => self.port().map(|(c, p)| Filter::Dport(c, p)),
            "src" => self.host().map(|(n, p)| Filter::Src(n, p)),
            "dst" => self.host().map(|(n, p)| Filter::Dst(n, p)),
            t => Err(bad(format!("unknown condition {t:?}"))),
        }
    }

    fn port(&mut self) -> Result<(Cmp, u16)> {
        let c = match self.next()? {
            "=" | "==" | "eq" => Cmp::Eq,
            "!=" | "ne" | "neq" => Cmp::Ne,
            "<" | "lt" => Cmp::Lt,
            "<=" | "le" => Cmp::Le,
            ">" | "gt" => Cmp::Gt,
            ">=" | "ge" => Cmp::Ge,
            t => return Err(bad(format!("expected a comparison, got {t:?}"))),
        };
        let t = self.next()?;
        let n = t.strip_prefix(':').unwrap_or(t);
        let p = n
            .parse::<u16>()
            .map_err(|_| bad(format!("{t:?} is not a port (0-65535)")))?;
        Ok((c, p))
    }

    fn host(&mut self) -> Result<(IpNetwork, Option<u16>)> {
        if matches!(self.peek(), Some("=" | "==")) {
            self.i += 1;
        }
        let t = self.next()?.to_string();
        parse_host(&t)
    }
}

/// `ADDR[/PREFIX][:PORT]`, `[V6][/PREFIX][:PORT]`, bare IPv6 `V6[/PREFIX]`.
fn parse_host(t: &str) -> Result<(IpNetwork, Option<u16>)> {
    let err = || bad(format!("{t:?} is not ADDR[/PREFIX][:PORT]"));
    let (addr, rest) = if let Some(r) = t.strip_prefix('[') {
        let close = r.find(']').ok_or_else(err)?;
        (&r[..close], &r[close + 1..])
    } else if t.matches(':').count() > 1 {
        let (a, p) = t.split_once('/').map_or((t, ""), |(a, p)| (a, p));
        let prefix = if p.is_empty() {
            String::new()
        } else {
            format!("/{p}")
        };
        return parse_net(a, &prefix).map(|n| (n, None));
    } else {
        let end = t.find(['/', ':']).unwrap_or(t.len());
        (&t[..end], &t[end..])
    };
    let (prefix, port) = match rest.rfind(':') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let port = match port {
        None | Some("*") => None,
        Some(p) => Some(p.parse::<u16>().map_err(|_| err())?),
    };
    Ok((parse_net(addr, prefix)?, port))
}

fn parse_net(addr: &str, prefix: &str) -> Result<IpNetwork> {
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| bad(format!("{addr:?} is not an IP address")))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match prefix.strip_prefix('/') {
        None if prefix.is_empty() => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|&l| l <= max)
            .ok_or_else(|| bad(format!("{p:?} is not a prefix length (0-{max})")))?,
        None => return Err(bad(format!("{prefix:?} after {addr} is not /PREFIX"))),
    };
    IpNetwork::new(ip, len).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's bytecode audit (inet_diag_bc_audit), restated.
    fn audit(bc: &[u8]) -> bool {
        let mut boundaries = vec![];
        let mut at = 0;
        while at < bc.len() {
            boundaries.push(at);
            at += (bc[at + 1] as usize).max(4);
        }
        let mut at = 0;
        while at < bc.len() {
            let len = bc.len() - at;
            let op = &bc[at..];
            let min = match op[0] {
                BC_S_COND | BC_D_COND => {
                    let alen = if op[4] == libc::AF_INET as u8 { 4 } else { 16 };
                    4 + 8 + alen
                }
                BC_S_EQ | BC_S_GE | BC_S_LE | BC_D_EQ | BC_D_GE | BC_D_LE => 8,
                BC_JMP => 4,
                _ => return false,
            };
            let yes = op[1] as usize;
            let no = u16::from_ne_bytes([op[2], op[3]]) as usize;
            if no < min || no > len + 4 || !no.is_multiple_of(4) {
                return false;
            }
            if no < len && !boundaries.contains(&(at + no)) {
                return false;
            }
            if yes < min || yes > len + 4 || !yes.is_multiple_of(4) {
                return false;
            }
            at += yes;
        }
        at == bc.len()
    }

    /// The kernel's interpreter (inet_diag_bc_run), restated.
    fn run(bc: &[u8], src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> bool {
        let mut at: isize = 0;
        let end = bc.len() as isize;
        while at < end {
            let op = &bc[at as usize..];
            let arg = || u16::from_ne_bytes([op[6], op[7]]);
            let yes = match op[0] {
                BC_JMP => false,
                BC_S_EQ => sport == arg(),
                BC_S_GE => sport >= arg(),
                BC_S_LE => sport <= arg(),
                BC_D_EQ => dport == arg(),
                BC_D_GE => dport >= arg(),
                BC_D_LE => dport <= arg(),
                BC_S_COND | BC_D_COND => {
                    let (a, p) = if op[0] == BC_S_COND {
                        (src, sport)
                    } else {
                        (dst, dport)
                    };
                    let port = i32::from_ne_bytes([op[8], op[9], op[10], op[11]]);
                    let ip: IpAddr = if op[4] == libc::AF_INET as u8 {
                        <[u8; 4]>::try_from(&op[12..16]).unwrap().into()
                    } else {
                        <[u8; 16]>::try_from(&op[12..28]).unwrap().into()
                    };
                    let net = IpNetwork::new(ip, op[5]).unwrap();
                    let port = (port != -1).then_some(port as u16);
                    host_matches(&net, port, a, p)
                }
                _ => panic!("unknown op"),
            };
            at += if yes {
                op[1] as isize
            } else {
                u16::from_ne_bytes([op[2], op[3]]) as isize
            };
        }
        at == end
    }

    fn samples() -> Vec<(IpAddr, u16, IpAddr, u16)> {
        let addrs: Vec<IpAddr> = [
            "10.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "::1",
            "::ffff:10.0.0.9",
            "2001:db8::5",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let ports = [0u16, 22, 79, 80, 81, 443, 8080, 65535];
        let mut out = vec![];
        for (i, &s) in addrs.iter().enumerate() {
            for (j, &sp) in ports.iter().enumerate() {
                let d = addrs[(i + j) % addrs.len()];
                let dp = ports[(i * 3 + j) % ports.len()];
                out.push((s, sp, d, dp));
            }
        }
        out
    }

    #[test]
    fn compiled_programs_pass_the_audit_and_agree_with_the_expression() {
        let exprs = [
            "sport = :80",
            "sport != :80",
            "dport < :443",
            "dport > :80",
            "sport <= :80 and dport >= :22",
            "sport = :80 or dport = :443",
            "not (sport = :80 or dport = :443)",
            "dst 10.0.0.0/8",
            "src 10.0.0.1:80",
            "dst [::1]:22 or src 2001:db8::/32",
            "! dst 10.0.0.0/8 and ( sport == 22 || sport ge 8000 ) or dport lt 1",
            "sport = :80 dport = :443",
            "not not sport > :0",
            "src 0.0.0.0/0",
        ];
        for e in exprs {
            let f: Filter = e.parse().unwrap_or_else(|err| panic!("{e}: {err}"));
            let bc = f.compile().unwrap();
            assert!(audit(&bc), "{e}: audit refused {bc:?}");
            for (s, sp, d, dp) in samples() {
                assert_eq!(
                    run(&bc, s, sp, d, dp),
                    f.matches(s, sp, d, dp),
                    "{e} on {s}:{sp} -> {d}:{dp}"
                );
            }
            // Display round-trips through the parser.
            let again: Filter = f.to_string().parse().unwrap();
            assert_eq!(again, f, "{e} displayed as {f}");
        }
    }

    #[test]
    fn exact_bytes_of_simple_programs() {
        let bc = Filter::sport(Cmp::Eq, 80).compile().unwrap();
        let mut want = vec![BC_S_EQ, 8, 12, 0, 0, 0];
        want.extend(80u16.to_ne_bytes());
        assert_eq!(bc, want, "fails to end+4, the port in the second op's `no`");
        let bc = Filter::dst("10.0.0.0/8".parse().unwrap())
            .compile()
            .unwrap();
        let mut want = vec![BC_D_COND, 16, 20, 0, libc::AF_INET as u8, 8, 0, 0];
        want.extend((-1i32).to_ne_bytes());
        want.extend([10, 0, 0, 0]);
        assert_eq!(bc, want);
    }

    #[test]
    fn bad_filters_name_the_field() {
        for e in [
            "",
            "sport",
            "sport = :99999",
            "sport ~ 1",
            "dst 10.0.0.1/33",
            "dst nonsense",
            "(sport = 1",
            "sport = 1 )",
            "bogus",
        ] {
            match e.parse::<Filter>() {
                Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "filter", "{e}"),
                other => panic!("{e}: {other:?}"),
            }
        }
        // A balanced tree of 8192 leaves: too long, and no deep recursion.
        let mut level: Vec<Filter> = (0..8192).map(|i| Filter::sport(Cmp::Eq, i)).collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|c| c[0].clone().or(c[1].clone()))
                .collect();
        }
        let f = level.pop().unwrap();
        assert!(matches!(
            f.compile(),
            Err(Error::InvalidInput {
                field: "filter",
                ..
            })
        ));
    }
}
