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

mod asm;
mod cgroup;
mod parse;
#[cfg(test)]
mod tests;
mod tree;

use asm::Asm;
use cgroup::cgroup_id_of;
use tree::{Node, build};

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
///
/// A tree may be as deep as memory allows: dropping, cloning, comparing,
/// printing, parsing, evaluating and compiling it use no recursion (the
/// kernel's size limit on programs is what bounds [`Filter::compile`]).
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

    /// `src PREFIX`. An `IpNetwork` (an `IpAddr` converts to a host prefix
    /// with `.into()`); text goes through `Filter`'s `FromStr`
    /// (`"src 10.0.0.0/8".parse()`), which names what it refuses.
    pub fn src(net: IpNetwork) -> Filter {
        Filter::Src(net, None)
    }

    /// `dst PREFIX`, as [`Filter::src`].
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
    /// would exceed 65,528 bytes, the most the kernel's 16-bit jump offsets
    /// and attribute length can hold (a 5,461-term `or` of ports fits);
    /// `dev` for a device given by name (an [`InetQuery`](super::InetQuery)
    /// resolves names in its client's namespace first); `fwmark` for a
    /// value with bits outside its mask (it could never match); `cgroup`
    /// for a path that is no cgroup v2 directory.
    pub fn compile(&self) -> Result<Vec<u8>> {
        let resolved = self.resolve(&HashMap::new())?;
        let mut asm = Asm::default();
        let reject = asm.label();
        asm.emit(&resolved, reject)?;
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

    /// The device names the filter mentions (to resolve in a namespace).
    pub(crate) fn device_names(&self) -> Vec<&str> {
        // In order of first mention; the set keeps a filter naming many
        // devices linear.
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.visit(|f| {
            if let Filter::Dev(LinkId::Name(n)) = f
                && seen.insert(n.as_str())
            {
                out.push(n.as_str());
            }
        });
        out
    }

    /// This filter with device names replaced by their indexes from
    /// `devices` and cgroup paths by their ids; checks marks.
    pub(crate) fn resolve(&self, devices: &HashMap<String, u32>) -> Result<Filter> {
        self.fold(|n| {
            let Node::Leaf(leaf) = n else {
                return Ok(build(n, Filter::clone_leaf));
            };
            Ok(match leaf {
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
                        format!(
                            "value {value:#x} has bits outside mask {mask:#x}: it never matches"
                        ),
                    ));
                }
                Filter::Cgroup(Cgroup::Path(p)) => Filter::Cgroup(Cgroup::Id(cgroup_id_of(p)?)),
                f => f.clone_leaf(),
            })
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
