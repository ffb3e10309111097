//! `ipset create NAME TYPE [options]`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::entry::{family_of, ip_nest, nfproto};
use super::{IpsetHandle, attr, cadt, cmd, cstr, named, request};
use crate::conn::attrs::nested_get;
use crate::conn::flags;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::tc::awaited_by_run;
use crate::types::Family;

/// A set type (`hash:ip`, `bitmap:port`…), named as ipset names it.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "String", try_from = "String"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SetType {
    /// `hash:ip`.
    HashIp,
    /// `hash:net`.
    HashNet,
    /// `hash:ip,port`.
    HashIpPort,
    /// `hash:net,port`.
    HashNetPort,
    /// `hash:ip,port,ip`.
    HashIpPortIp,
    /// `hash:ip,port,net`.
    HashIpPortNet,
    /// `hash:ip,mac`.
    HashIpMac,
    /// `hash:mac`.
    HashMac,
    /// `hash:net,iface`.
    HashNetIface,
    /// `bitmap:ip` (IPv4, a range of at most 65536 addresses).
    BitmapIp,
    /// `bitmap:port` (a range of ports).
    BitmapPort,
    /// `list:set` (members are other sets).
    ListSet,
}

impl SetType {
    /// Every type this crate knows.
    pub const ALL: [SetType; 12] = [
        SetType::HashIp,
        SetType::HashNet,
        SetType::HashIpPort,
        SetType::HashNetPort,
        SetType::HashIpPortIp,
        SetType::HashIpPortNet,
        SetType::HashIpMac,
        SetType::HashMac,
        SetType::HashNetIface,
        SetType::BitmapIp,
        SetType::BitmapPort,
        SetType::ListSet,
    ];

    /// ipset's name, e.g. `"hash:ip,port"`.
    pub fn name(self) -> &'static str {
        match self {
            SetType::HashIp => "hash:ip",
            SetType::HashNet => "hash:net",
            SetType::HashIpPort => "hash:ip,port",
            SetType::HashNetPort => "hash:net,port",
            SetType::HashIpPortIp => "hash:ip,port,ip",
            SetType::HashIpPortNet => "hash:ip,port,net",
            SetType::HashIpMac => "hash:ip,mac",
            SetType::HashMac => "hash:mac",
            SetType::HashNetIface => "hash:net,iface",
            SetType::BitmapIp => "bitmap:ip",
            SetType::BitmapPort => "bitmap:port",
            SetType::ListSet => "list:set",
        }
    }

    /// The components of a member, in order: `ip`, `net`, `port`, `mac`,
    /// `iface`, `set`.
    pub fn dims(self) -> &'static [&'static str] {
        let n = self.name();
        let (_, d) = n.split_once(':').unwrap_or_default();
        match self {
            SetType::BitmapIp => &["ip"],
            SetType::BitmapPort => &["port"],
            SetType::ListSet => &["set"],
            _ => DIMS.iter().find(|(t, _)| *t == d).map_or(&[], |(_, v)| v),
        }
    }

    /// A type whose members carry an address of one family, chosen with
    /// [`IpsetCreate::family`].
    pub fn has_family(self) -> bool {
        self.name().starts_with("hash:") && self != SetType::HashMac
    }
}

const DIMS: [(&str, &[&str]); 9] = [
    ("ip", &["ip"]),
    ("net", &["net"]),
    ("ip,port", &["ip", "port"]),
    ("net,port", &["net", "port"]),
    ("ip,port,ip", &["ip", "port", "ip"]),
    ("ip,port,net", &["ip", "port", "net"]),
    ("ip,mac", &["ip", "mac"]),
    ("mac", &["mac"]),
    ("net,iface", &["net", "iface"]),
];

impl fmt::Display for SetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<SetType> for String {
    fn from(t: SetType) -> String {
        t.name().to_owned()
    }
}

impl TryFrom<String> for SetType {
    type Error = Error;

    fn try_from(s: String) -> Result<SetType> {
        s.parse()
    }
}

impl FromStr for SetType {
    type Err = Error;

    fn from_str(s: &str) -> Result<SetType> {
        SetType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                Error::invalid("type", format!("{s:?} is not a set type this crate knows"))
            })
    }
}

/// A range of a bitmap set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    Ip(IpAddr, IpAddr),
    Port(u16, u16),
}

/// `ipset create`; see [`IpsetHandle::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct IpsetCreate {
    handle: IpsetHandle,
    name: String,
    ty: SetType,
    family: Option<Family>,
    hashsize: Option<u32>,
    maxelem: Option<u32>,
    netmask: Option<u8>,
    bucketsize: Option<u8>,
    initval: Option<u32>,
    timeout: Option<u32>,
    cadt: u32,
    range: Option<Range>,
    size: Option<u32>,
    exist: bool,
}

impl IpsetCreate {
    /// `family inet|inet6` of a hash type (default inet).
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }

    /// `hashsize N`: the initial hash size.
    pub fn hashsize(mut self, n: u32) -> Self {
        self.hashsize = Some(n);
        self
    }

    /// `maxelem N`: the most members the set holds.
    pub fn maxelem(mut self, n: u32) -> Self {
        self.maxelem = Some(n);
        self
    }

    /// `netmask CIDR` (hash:ip): members are stored as their network.
    pub fn netmask(mut self, cidr: u8) -> Self {
        self.netmask = Some(cidr);
        self
    }

    /// `bucketsize N` (hash types): members per hash bucket before the
    /// hash grows.
    pub fn bucketsize(mut self, n: u8) -> Self {
        self.bucketsize = Some(n);
        self
    }

    /// `initval N` (hash types): the hash seed, as `ipset save` writes it
    /// (random by default).
    pub fn initval(mut self, seed: u32) -> Self {
        self.initval = Some(seed);
        self
    }

    /// `timeout SECONDS`: members expire, after this by default (0: never,
    /// unless a member has its own).
    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }

    /// `counters`: packet and byte counters per member.
    pub fn counters(mut self) -> Self {
        self.cadt |= cadt::WITH_COUNTERS;
        self
    }

    /// `comment`: a comment per member.
    pub fn comment(mut self) -> Self {
        self.cadt |= cadt::WITH_COMMENT;
        self
    }

    /// `skbinfo`: skbmark, skbprio and skbqueue per member.
    pub fn skbinfo(mut self) -> Self {
        self.cadt |= cadt::WITH_SKBINFO;
        self
    }

    /// `forceadd` (hash types): when full, an add evicts a random member.
    pub fn forceadd(mut self) -> Self {
        self.cadt |= cadt::WITH_FORCEADD;
        self
    }

    /// `range FROM-TO` of a bitmap:ip set (IPv4, inclusive).
    pub fn ip_range(mut self, from: IpAddr, to: IpAddr) -> Self {
        self.range = Some(Range::Ip(from, to));
        self
    }

    /// `range FROM-TO` of a bitmap:port set (inclusive).
    pub fn port_range(mut self, from: u16, to: u16) -> Self {
        self.range = Some(Range::Port(from, to));
        self
    }

    /// `size N` of a list:set set (default 8).
    pub fn size(mut self, n: u32) -> Self {
        self.size = Some(n);
        self
    }

    /// `-exist`: no error when a set of this name and the same type and
    /// options exists.
    pub fn exist(mut self) -> Self {
        self.exist = true;
        self
    }

    /// The set's family as NFPROTO_*, checked against its type.
    fn nfproto(&self) -> Result<u8> {
        match (self.ty, self.family) {
            (SetType::BitmapIp, None | Some(Family::V4)) => Ok(nfproto(Family::V4)),
            (t, None) if t.has_family() => Ok(nfproto(Family::V4)),
            (t, Some(f)) if t.has_family() => Ok(nfproto(f)),
            (_, None) => Ok(0),
            (t, Some(f)) => Err(Error::invalid(
                "family",
                format!(
                    "{t} takes no family {}",
                    super::header::family_name(nfproto(f))
                ),
            )),
        }
    }

    fn data(&self, family: u8, e: &mut crate::netfilter::Emit) -> Result<()> {
        use attr::NBO;
        let bitmap = self.ty.name().starts_with("bitmap:");
        match (self.ty, self.range) {
            (SetType::BitmapIp, Some(Range::Ip(from, to))) => {
                if family_of(from) != Family::V4 || family_of(to) != Family::V4 || from > to {
                    return Err(Error::invalid(
                        "range",
                        format!("{from}-{to}: bitmap:ip takes an IPv4 range, low to high"),
                    ));
                }
                ip_nest(e, attr::IP, from);
                ip_nest(e, attr::IP_TO, to);
            }
            (SetType::BitmapPort, Some(Range::Port(from, to))) if from <= to => {
                e.be16(attr::PORT | NBO, from).be16(attr::PORT_TO | NBO, to);
            }
            (t, r) if bitmap || r.is_some() => {
                return Err(Error::invalid(
                    "range",
                    match r {
                        None => format!("{t} needs a range"),
                        Some(_) => format!("not a range for {t}"),
                    },
                ));
            }
            _ => {}
        }
        if let Some(m) = self.netmask {
            let max = if family == nfproto(Family::V6) {
                128
            } else {
                32
            };
            if m == 0 || m > max {
                return Err(Error::invalid("netmask", format!("{m}: not 1 to {max}")));
            }
            e.u8(attr::NETMASK, m);
        }
        if let Some(b) = self.bucketsize {
            e.u8(attr::BUCKETSIZE, b);
        }
        let mut put = |ty: u16, v: Option<u32>| {
            if let Some(v) = v {
                e.be32(ty | NBO, v);
            }
        };
        put(attr::HASHSIZE, self.hashsize);
        put(attr::INITVAL, self.initval);
        put(attr::MAXELEM, self.maxelem);
        put(attr::SIZE, self.size);
        put(attr::TIMEOUT, self.timeout);
        put(attr::CADT_FLAGS, (self.cadt != 0).then_some(self.cadt));
        Ok(())
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("ipset create", format!("{} {}", self.name, self.ty));
        let family = self.nfproto()?;
        let mut e = named(cmd::CREATE, &self.name)?;
        let revision = self.handle.revision(self.ty, family).await.within(&ctx)?;
        e.attr(attr::TYPENAME, &cstr(self.ty.name()))
            .u8(attr::REVISION, revision)
            .u8(attr::FAMILY, family);
        let mut err = Ok(());
        e.nest(attr::DATA, |e| err = self.data(family, e));
        err?;
        let fl = if self.exist { 0 } else { flags::EXCL };
        self.handle.ack(cmd::CREATE, e, fl, &ctx).await
    }
}

awaited_by_run! {
    IpsetCreate => (),
}

impl IpsetHandle {
    /// The newest revision of set type `ty` the kernel has
    /// (`IPSET_CMD_TYPE`), the one a new set is created with.
    pub(crate) async fn revision(&self, ty: SetType, family: u8) -> Result<u8> {
        let ctx = Context::new("ipset type", ty.name());
        let mut e = request(cmd::TYPE, 0);
        e.attr(attr::TYPENAME, &cstr(ty.name()))
            .u8(attr::FAMILY, family);
        let r = self.req.get_raw(e.message(), 0).await;
        let raw = super::errors::explained(self, cmd::TYPE, r, &ctx).await?;
        nested_get(super::attrs_of(raw.payload()), attr::REVISION)
            .and_then(|v| v.first().copied())
            .ok_or_else(|| Error::Decode {
                request: crate::netfilter::kind(cmd::ty(cmd::TYPE)),
                reason: "the type reply lacks IPSET_ATTR_REVISION".into(),
            })
    }

    /// `ipset create NAME TYPE`: a new set (an existing name is refused
    /// unless [`exist`](IpsetCreate::exist)), at the newest revision of
    /// its type the kernel has.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::Family;
    /// use tokio_netlink::netfilter::ipset::SetType;
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.ipset()
    ///     .create("v6", SetType::HashNetPort)
    ///     .family(Family::V6)
    ///     .hashsize(4096)
    ///     .maxelem(1 << 20)
    ///     .timeout(600)
    ///     .counters()
    ///     .comment()
    ///     .await?;
    /// nl.ipset().create("ports", SetType::BitmapPort).port_range(1, 1024).await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, name: &str, ty: SetType) -> IpsetCreate {
        IpsetCreate {
            handle: self.clone(),
            name: name.to_owned(),
            ty,
            family: None,
            hashsize: None,
            maxelem: None,
            netmask: None,
            bucketsize: None,
            initval: None,
            timeout: None,
            cadt: 0,
            range: None,
            size: None,
            exist: false,
        }
    }
}
