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
//!
//! Device names and cgroup paths are resolved before compiling: names by
//! [`InetQuery`](super::InetQuery) in its client's namespace (a link
//! lookup), paths on the cgroup v2 filesystem.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnetwork::IpNetwork;

use super::InetSocket;
use crate::error::{Error, Result};
use crate::route::link::LinkId;

// INET_DIAG_BC_* operation codes (linux/inet_diag.h).
const BC_JMP: u8 = 1;
const BC_S_GE: u8 = 2;
const BC_S_LE: u8 = 3;
const BC_D_GE: u8 = 4;
const BC_D_LE: u8 = 5;
const BC_S_COND: u8 = 7;
const BC_D_COND: u8 = 8;
const BC_DEV_COND: u8 = 9;
const BC_MARK_COND: u8 = 10;
const BC_S_EQ: u8 = 11;
const BC_D_EQ: u8 = 12;
const BC_CGROUP_COND: u8 = 13;

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

/// A cgroup v2 for [`Filter::Cgroup`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cgroup {
    /// The cgroup's id (what [`InetSocket::cgroup_id`] reports).
    Id(u64),
    /// A cgroup v2 directory: a path on the cgroup2 filesystem, or one
    /// relative to its mount point (`/system.slice` is the cgroup
    /// `system.slice`, `/` the root cgroup), as `ss` takes it.
    Path(String),
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
    /// Bound to this device (SO_BINDTODEVICE; INET_DIAG_BC_DEV_COND). A
    /// name is resolved to its index in the client's namespace when the
    /// query runs; an unknown name fails with [`Error::InvalidInput`]
    /// (field `dev`).
    Dev(LinkId),
    /// `(fwmark & mask) == value` (SO_MARK; INET_DIAG_BC_MARK_COND). The
    /// kernel accepts it from CAP_NET_ADMIN callers only (EPERM otherwise).
    Mark {
        /// The value to compare with after masking.
        value: u32,
        /// The bits compared.
        mask: u32,
    },
    /// Created in this cgroup v2 (INET_DIAG_BC_CGROUP_COND); a path is
    /// resolved to the cgroup's id when compiling.
    Cgroup(Cgroup),
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

    /// `dev = NAME|INDEX`: sockets bound to the device.
    pub fn dev(link: impl Into<LinkId>) -> Filter {
        Filter::Dev(link.into())
    }

    /// `fwmark = VALUE/MASK` (a mask of `!0` compares the whole mark).
    pub fn mark(value: u32, mask: u32) -> Filter {
        Filter::Mark { value, mask }
    }

    /// `cgroup = PATH`; see [`Cgroup::Path`].
    pub fn cgroup(path: impl Into<String>) -> Filter {
        Filter::Cgroup(Cgroup::Path(path.into()))
    }

    /// The cgroup with this id.
    pub fn cgroup_id(id: u64) -> Filter {
        Filter::Cgroup(Cgroup::Id(id))
    }

    /// `self and other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }

    /// `self or other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// The INET_DIAG_REQ_BYTECODE program, with cgroup paths resolved
    /// (so this reads the cgroup2 filesystem when the filter names one).
    /// Fails with [`Error::InvalidInput`]: field `filter` when the program
    /// would exceed the 64 KiB the kernel's 16-bit jump offsets can address;
    /// `dev` for a device given by name (an [`InetQuery`](super::InetQuery)
    /// resolves names in its client's namespace first); `fwmark` for a
    /// value with bits outside its mask (it could never match); `cgroup`
    /// for a path that is no cgroup v2 directory.
    pub fn compile(&self) -> Result<Vec<u8>> {
        let resolved = self.resolve(&HashMap::new())?;
        let mut asm = Asm::default();
        let reject = asm.label();
        asm.emit(&resolved, reject);
        asm.finish(reject)
    }

    /// Evaluates the filter in user space on a socket's ports and addresses,
    /// the way the kernel does (an IPv4 prefix also matches IPv4-mapped IPv6
    /// addresses), for a socket bound to no device, with mark 0 and cgroup
    /// id 0; [`Filter::matches_socket`] sees those too.
    pub fn matches(&self, src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> bool {
        self.eval(&Entry {
            src,
            sport,
            dst,
            dport,
            ifindex: 0,
            mark: 0,
            cgroup_id: 0,
        })
    }

    /// Evaluates the filter in user space on a listed socket, as `ss` does
    /// with the reply's fields: its ports and addresses, bound interface,
    /// mark (0 unless the kernel sent INET_DIAG_MARK) and cgroup id. A
    /// device given by name or a cgroup by path matches nothing here:
    /// resolve them first.
    pub fn matches_socket(&self, s: &InetSocket) -> bool {
        let (l, r) = (s.local(), s.remote());
        self.eval(&Entry {
            src: l.ip(),
            sport: l.port(),
            dst: r.ip(),
            dport: r.port(),
            ifindex: s.interface(),
            mark: s.mark().unwrap_or(0),
            cgroup_id: s.cgroup_id().unwrap_or(0),
        })
    }

    fn eval(&self, e: &Entry) -> bool {
        match self {
            Filter::Sport(c, p) => cmp(*c, e.sport, *p),
            Filter::Dport(c, p) => cmp(*c, e.dport, *p),
            Filter::Src(n, p) => host_matches(n, *p, e.src, e.sport),
            Filter::Dst(n, p) => host_matches(n, *p, e.dst, e.dport),
            Filter::Dev(l) => *l == LinkId::Index(e.ifindex),
            Filter::Mark { value, mask } => e.mark & mask == *value,
            Filter::Cgroup(c) => *c == Cgroup::Id(e.cgroup_id),
            Filter::And(a, b) => a.eval(e) && b.eval(e),
            Filter::Or(a, b) => a.eval(e) || b.eval(e),
            Filter::Not(a) => !a.eval(e),
        }
    }

    /// The device names the filter mentions (to resolve in a namespace).
    pub(crate) fn device_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |f| {
            if let Filter::Dev(LinkId::Name(n)) = f
                && !out.contains(&n.as_str())
            {
                out.push(n.as_str());
            }
        });
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Filter)) {
        f(self);
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Filter::Not(a) => a.visit(f),
            _ => {}
        }
    }

    /// This filter with device names replaced by their indexes from
    /// `devices` and cgroup paths by their ids; checks marks.
    pub(crate) fn resolve(&self, devices: &HashMap<String, u32>) -> Result<Filter> {
        Ok(match self {
            Filter::Dev(LinkId::Name(n)) => match devices.get(n) {
                Some(&i) => Filter::Dev(LinkId::Index(i)),
                None => {
                    return Err(Error::invalid(
                        "dev",
                        format!(
                            "device {n:?} needs resolving to its index in the sockets' \
                             namespace: filter through an InetQuery, or give the index"
                        ),
                    ));
                }
            },
            Filter::Mark { value, mask } if value & !mask != 0 => {
                return Err(Error::invalid(
                    "fwmark",
                    format!("value {value:#x} has bits outside mask {mask:#x}: it never matches"),
                ));
            }
            Filter::Cgroup(Cgroup::Path(p)) => Filter::Cgroup(Cgroup::Id(cgroup_id_of(p)?)),
            Filter::And(a, b) => {
                Filter::And(Box::new(a.resolve(devices)?), Box::new(b.resolve(devices)?))
            }
            Filter::Or(a, b) => {
                Filter::Or(Box::new(a.resolve(devices)?), Box::new(b.resolve(devices)?))
            }
            Filter::Not(a) => Filter::Not(Box::new(a.resolve(devices)?)),
            f => f.clone(),
        })
    }
}

/// The fields of a socket a filter looks at (the kernel's
/// `struct inet_diag_entry`).
struct Entry {
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    ifindex: u32,
    mark: u32,
    cgroup_id: u64,
}

/// `statfs(2)` f_type of cgroup v2.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

fn is_cgroup2(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path and a zeroed statfs to fill.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == CGROUP2_SUPER_MAGIC }
}

/// Where the cgroup v2 filesystem is mounted (first in /proc/self/mountinfo).
fn cgroup2_mount() -> Option<std::path::PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split(' ').next() == Some("cgroup2"))
            .then(|| unescape_mount(left.split(' ').nth(4)?))
            .flatten()
    })
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_mount(s: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 4]).ok()?, 8).ok()?);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(std::ffi::OsString::from_vec(out).into())
}

/// A cgroup v2 directory's id: its file handle, as `ss` reads it.
fn cgroup_id_of(path: &str) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::path::Path::new(path);
    let dir = if p.is_absolute() && is_cgroup2(p) {
        p.to_path_buf()
    } else {
        let mount = cgroup2_mount()
            .ok_or_else(|| Error::invalid("cgroup", "no cgroup2 filesystem is mounted"))?;
        mount.join(path.trim_start_matches('/'))
    };
    let bad = |why: String| Error::invalid("cgroup", format!("{path:?}: {why}"));
    if !is_cgroup2(&dir) {
        return Err(bad(format!("{} is no cgroup v2 directory", dir.display())));
    }
    #[repr(C)]
    struct Handle {
        bytes: libc::c_uint,
        ty: libc::c_int,
        id: [u8; 8],
    }
    let mut h = Handle {
        bytes: 8,
        ty: 0,
        id: [0; 8],
    };
    let mut mount_id = 0;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|e| bad(e.to_string()))?;
    // SAFETY: a NUL-terminated path and a file_handle with room for the
    // 8 bytes its `bytes` field announces.
    let r = unsafe {
        libc::name_to_handle_at(
            libc::AT_FDCWD,
            c.as_ptr(),
            &mut h as *mut Handle as *mut libc::file_handle,
            &mut mount_id,
            0,
        )
    };
    if r != 0 || h.bytes != 8 {
        return Err(bad(format!(
            "no cgroup id: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(u64::from_ne_bytes(h.id))
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
            Filter::Dev(LinkId::Index(i)) => write!(f, "dev = {i}"),
            Filter::Dev(LinkId::Name(n)) => write!(f, "dev = {n}"),
            Filter::Mark {
                value,
                mask: u32::MAX,
            } => write!(f, "fwmark = {value:#x}"),
            Filter::Mark { value, mask } => write!(f, "fwmark = {value:#x}/{mask:#x}"),
            Filter::Cgroup(Cgroup::Path(p)) => write!(f, "cgroup = {p}"),
            Filter::Cgroup(Cgroup::Id(id)) => write!(f, "cgroup = id:{id}"),
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
            // Callers resolve names and paths first (Filter::resolve).
            Filter::Dev(LinkId::Index(i)) => self.op(BC_DEV_COND, &i.to_ne_bytes(), fail),
            Filter::Dev(LinkId::Name(_)) | Filter::Cgroup(Cgroup::Path(_)) => {
                unreachable!("compiled before resolving")
            }
            Filter::Mark { value, mask } => {
                let mut arg = value.to_ne_bytes().to_vec();
                arg.extend_from_slice(&mask.to_ne_bytes());
                self.op(BC_MARK_COND, &arg, fail);
            }
            Filter::Cgroup(Cgroup::Id(id)) => self.op(BC_CGROUP_COND, &id.to_ne_bytes(), fail),
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
                BC_DEV_COND => 4 + 4,
                BC_MARK_COND | BC_CGROUP_COND => 4 + 8,
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
    fn run(bc: &[u8], e: &Entry) -> bool {
        let (src, sport, dst, dport) = (e.src, e.sport, e.dst, e.dport);
        let mut at: isize = 0;
        let end = bc.len() as isize;
        while at < end {
            let op = &bc[at as usize..];
            let arg = || u16::from_ne_bytes([op[6], op[7]]);
            let u32_at = |o: usize| u32::from_ne_bytes(op[o..o + 4].try_into().unwrap());
            let yes = match op[0] {
                BC_DEV_COND => u32_at(4) == e.ifindex,
                BC_MARK_COND => e.mark & u32_at(8) == u32_at(4),
                BC_CGROUP_COND => u64::from_ne_bytes(op[4..12].try_into().unwrap()) == e.cgroup_id,
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

    fn samples() -> Vec<Entry> {
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
                out.push(Entry {
                    src: s,
                    sport: sp,
                    dst: d,
                    dport: dp,
                    ifindex: (j % 3) as u32,
                    mark: [0, 1, 0x10, 0x11, 0xff01][(i + j) % 5],
                    cgroup_id: [1, 7, 1 << 40][(i * 2 + j) % 3],
                });
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
            "dev = 1",
            "dev != 2",
            "dev == 0 or sport = :80",
            "fwmark = 0x10",
            "fwmark = 1/0xf",
            "fwmark != 0x1/0x1 and dev eq 1",
            "fwmark = 017/077",
            "fwmark = 0/0",
            "cgroup = id:7",
            "cgroup != id:1099511627776 or not dev = 2",
        ];
        for e in exprs {
            let f: Filter = e.parse().unwrap_or_else(|err| panic!("{e}: {err}"));
            let bc = f.compile().unwrap();
            assert!(audit(&bc), "{e}: audit refused {bc:?}");
            for x in samples() {
                assert_eq!(
                    run(&bc, &x),
                    f.eval(&x),
                    "{e} on {}:{} -> {}:{} dev {} mark {:#x} cgroup {}",
                    x.src,
                    x.sport,
                    x.dst,
                    x.dport,
                    x.ifindex,
                    x.mark,
                    x.cgroup_id
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

        // The new conditions, as ss encodes them: yes = own length,
        // no = length + 4 (the reject target).
        let bc = Filter::dev(3u32).compile().unwrap();
        let mut want = vec![BC_DEV_COND, 8, 12, 0];
        want.extend(3u32.to_ne_bytes());
        assert_eq!(bc, want);
        let bc = "fwmark = 0x10/0x30"
            .parse::<Filter>()
            .unwrap()
            .compile()
            .unwrap();
        let mut want = vec![BC_MARK_COND, 12, 16, 0];
        want.extend(0x10u32.to_ne_bytes());
        want.extend(0x30u32.to_ne_bytes());
        assert_eq!(bc, want);
        let bc = Filter::cgroup_id(0x1_0000_0002).compile().unwrap();
        let mut want = vec![BC_CGROUP_COND, 12, 16, 0];
        want.extend(0x1_0000_0002u64.to_ne_bytes());
        assert_eq!(bc, want);
    }

    #[test]
    fn dev_fwmark_and_cgroup_parse_like_ss() {
        let p = |e: &str| e.parse::<Filter>().unwrap();
        assert_eq!(p("dev = eth0"), Filter::dev("eth0"));
        assert_eq!(p("dev eq 4"), Filter::dev(4u32));
        assert_eq!(p("dev != lo"), !Filter::dev("lo"));
        assert_eq!(p("fwmark = 7"), Filter::mark(7, !0));
        assert_eq!(p("fwmark = 0x10/0xf0"), Filter::mark(0x10, 0xf0));
        assert_eq!(p("fwmark neq 010/0X1f"), !Filter::mark(8, 0x1f));
        assert_eq!(p("cgroup = /system.slice"), Filter::cgroup("/system.slice"));
        assert_eq!(p("cgroup = id:42"), Filter::cgroup_id(42));
        for f in [
            Filter::dev("eth0"),
            Filter::mark(1, 3),
            Filter::mark(0xff, !0),
            Filter::cgroup("/a/b"),
            Filter::cgroup_id(9),
        ] {
            assert_eq!(f.to_string().parse::<Filter>().unwrap(), f, "{f}");
        }
        // Names and paths: found through the device index and cgroup id.
        let mut devs = HashMap::new();
        devs.insert("eth0".to_string(), 5);
        let f = p("dev = eth0 or dev = 3").resolve(&devs).unwrap();
        assert_eq!(f, Filter::dev(5u32).or(Filter::dev(3u32)));
        assert_eq!(
            p("dev = a and (dev = b or not dev = a)").device_names(),
            ["a", "b"]
        );
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
            "dev",
            "dev < 3",
            "fwmark",
            "cgroup >= /x",
        ] {
            match e.parse::<Filter>() {
                Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "filter", "{e}"),
                other => panic!("{e}: {other:?}"),
            }
        }
        // Values of dev, fwmark and cgroup name their own field, when
        // parsed or when compiled.
        for (e, want) in [
            ("fwmark = 0xzz", "fwmark"),
            ("fwmark = 1/", "fwmark"),
            ("fwmark = 0x100000000", "fwmark"),
            ("fwmark = -1", "fwmark"),
            ("cgroup = id:x", "cgroup"),
        ] {
            match e.parse::<Filter>() {
                Err(Error::InvalidInput { field, reason }) => {
                    assert_eq!(field, want, "{e}: {reason}")
                }
                other => panic!("{e}: {other:?}"),
            }
        }
        for (f, want) in [
            (Filter::dev("eth0"), "dev"),
            (Filter::sport(Cmp::Eq, 1).and(!Filter::dev("x")), "dev"),
            (Filter::mark(0x10, 0x0f), "fwmark"),
            (Filter::cgroup("/no/such/cgroup/here"), "cgroup"),
            (Filter::cgroup("/proc"), "cgroup"),
        ] {
            match f.compile() {
                Err(Error::InvalidInput { field, reason }) => {
                    assert_eq!(field, want, "{f}: {reason}")
                }
                other => panic!("{f}: {other:?}"),
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
