//! `ss`'s filter syntax to a [`Filter`].

use super::*;

/// Parses `ss`'s filter syntax (a subset): `sport`/`dport` with `=`, `==`,
/// `!=`, `<`, `<=`, `>`, `>=` (or `eq`, `ne`, `lt`, `le`, `gt`, `ge`) and a
/// port written `:N` or `N`; `src`/`dst` with `ADDR[/PREFIX][:PORT]`
/// (`[V6]:PORT` for IPv6 with a port); `dev`, `fwmark` and `cgroup` with
/// `=` or `!=`: `dev = NAME` (all digits: an index), `fwmark =
/// VALUE[/MASK]` (C-style numbers: decimal, `0x` hex, `0` octal; no mask:
/// all bits), `cgroup = PATH` (or `cgroup = id:N`); `and`/`&&`, `or`/`||`,
/// `not`/`!`, parentheses; juxtaposition means `and`. Parsing touches no
/// system state: names and paths are resolved when the filter is used.
impl FromStr for Filter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Filter> {
        let tokens = tokenize(s);
        Parser { t: &tokens, i: 0 }.expression()
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

/// What waits on the parser's stack for its right operand or its `)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Or,
    And,
    Not,
    Open,
}

/// `f` as the right operand of the binary operators on top of `ops` that
/// bind at least as tightly as `than` (down to an open parenthesis).
fn reduce(ops: &mut Vec<Op>, operands: &mut Vec<Filter>, mut f: Filter, than: Op) -> Filter {
    while let Some(&op @ (Op::And | Op::Or)) = ops.last() {
        // Every binary operator was pushed with its left operand.
        let Some(left) = (op == Op::And || than == Op::Or)
            .then(|| operands.pop())
            .flatten()
        else {
            break;
        };
        ops.pop();
        f = if op == Op::And {
            left.and(f)
        } else {
            left.or(f)
        };
    }
    f
}

struct Parser<'a> {
    t: &'a [String],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.t.get(self.i).map(String::as_str)
    }

    fn next(&mut self) -> Result<&'a str> {
        let t = self.t.get(self.i).ok_or_else(|| bad("unexpected end"))?;
        self.i += 1;
        Ok(t)
    }

    /// The whole input, by operator precedence over two heap stacks
    /// rather than recursive descent, so nesting depth costs no stack:
    /// `not` binds tightest, then `and` (or juxtaposition), then `or`;
    /// both binary operators group to the left.
    fn expression(&mut self) -> Result<Filter> {
        let mut ops: Vec<Op> = Vec::new();
        let mut operands: Vec<Filter> = Vec::new();
        loop {
            // An operand: prefixes, then a condition.
            let mut f = loop {
                match self.next()? {
                    "not" | "!" => ops.push(Op::Not),
                    "(" => ops.push(Op::Open),
                    t => break self.condition(t)?,
                }
            };
            // Then closing parentheses and the operator after it.
            loop {
                while ops.last() == Some(&Op::Not) {
                    ops.pop();
                    f = !f;
                }
                let binary = match self.peek() {
                    Some(")") => {
                        self.i += 1;
                        f = reduce(&mut ops, &mut operands, f, Op::Or);
                        if ops.pop() != Some(Op::Open) {
                            return Err(bad("unexpected \")\""));
                        }
                        continue;
                    }
                    None => {
                        let f = reduce(&mut ops, &mut operands, f, Op::Or);
                        // Only an unclosed parenthesis can remain.
                        return match ops.is_empty() {
                            true => Ok(f),
                            false => Err(bad("unexpected end: a '(' is not closed")),
                        };
                    }
                    Some("or" | "||" | "|") => {
                        self.i += 1;
                        Op::Or
                    }
                    Some("and" | "&&" | "&") => {
                        self.i += 1;
                        Op::And
                    }
                    // Juxtaposition: the token starts the right operand.
                    Some(_) => Op::And,
                };
                let left = reduce(&mut ops, &mut operands, f, binary);
                operands.push(left);
                ops.push(binary);
                break;
            }
        }
    }

    fn condition(&mut self, t: &str) -> Result<Filter> {
        match t {
            "sport" => self.port().map(|(c, p)| Filter::Sport(c, p)),
            "dport" => self.port().map(|(c, p)| Filter::Dport(c, p)),
            "src" => self.host().map(|(n, p)| Filter::Src(n, p)),
            "dst" => self.host().map(|(n, p)| Filter::Dst(n, p)),
            "dev" => self.eq_cond("dev", |v| {
                Ok(Filter::Dev(match v.parse::<u32>() {
                    Ok(i) => LinkId::Index(i),
                    Err(_) => LinkId::Name(v.to_string()),
                }))
            }),
            "fwmark" => self.eq_cond("fwmark", parse_mark),
            "cgroup" => self.eq_cond("cgroup", |v| {
                Ok(Filter::Cgroup(match v.strip_prefix("id:") {
                    Some(n) => Cgroup::Id(n.parse().map_err(|_| {
                        Error::invalid("cgroup", format!("{v:?} is not id:NUMBER"))
                    })?),
                    None => Cgroup::Path(v.to_string()),
                }))
            }),
            t => Err(bad(format!("unknown condition {t:?}"))),
        }
    }

    /// `KEY = VALUE` or `KEY != VALUE` (ss allows no other comparison).
    fn eq_cond(&mut self, key: &str, value: impl FnOnce(&str) -> Result<Filter>) -> Result<Filter> {
        let negate = match self.next()? {
            "=" | "==" | "eq" => false,
            "!=" | "ne" | "neq" => true,
            t => return Err(bad(format!("expected = or != after {key}, got {t:?}"))),
        };
        let f = value(self.next()?)?;
        Ok(if negate { !f } else { f })
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

/// `VALUE[/MASK]` with C's `%i` number forms, as ss reads a mark.
fn parse_mark(t: &str) -> Result<Filter> {
    let num = |s: &str| {
        let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
            (h, 16)
        } else if s.len() > 1 && s.starts_with('0') {
            (&s[1..], 8)
        } else {
            (s, 10)
        };
        u32::from_str_radix(digits, radix).ok()
    };
    let (v, m) = match t.split_once('/') {
        Some((v, m)) => (num(v), num(m)),
        None => (num(t), Some(!0)),
    };
    match (v, m) {
        (Some(value), Some(mask)) => Ok(Filter::Mark { value, mask }),
        _ => Err(Error::invalid(
            "fwmark",
            format!("{t:?} is not VALUE[/MASK] (32-bit numbers: decimal, 0x hex or 0 octal)"),
        )),
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
