//! A set's header: `ipset list -t`, and the `Header:` line of `ipset list`.

use std::fmt;
use std::net::IpAddr;

use super::attr::{self, NBO};
use super::{IpsetHandle, cadt, cmd, flag, named};
use crate::conn::attrs::{nested, nested_get, str_of};
use crate::error::{Context, Error, Result};
use crate::netfilter::{be16_of, be32_of, check_attrs, kind};
use crate::types::Family;

/// A set's header as the kernel lists it. [`IpsetHandle::header`] fills
/// the name, type, revision and family only; listings fill the rest.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpsetHeader {
    /// The set's name.
    pub name: String,
    /// The type's name, e.g. `hash:ip` (also types this crate has no
    /// [`SetType`](super::SetType) for).
    pub type_name: String,
    /// The type's revision.
    pub revision: u8,
    /// NFPROTO_IPV4 (2), NFPROTO_IPV6 (10) or 0 (a type without family).
    pub family: u8,
    /// `hashsize`.
    pub hashsize: Option<u32>,
    /// `maxelem`.
    pub maxelem: Option<u32>,
    /// `netmask`.
    pub netmask: Option<u8>,
    /// `bucketsize`.
    pub bucketsize: Option<u8>,
    /// `initval` (the hash seed).
    pub initval: Option<u32>,
    /// `range` of a bitmap:ip set.
    pub ip_range: Option<(IpAddr, IpAddr)>,
    /// `range` of a bitmap:port set.
    pub port_range: Option<(u16, u16)>,
    /// `size` of a list:set set.
    pub size: Option<u32>,
    /// The default `timeout` (present: the set has timeout support).
    pub timeout: Option<u32>,
    /// Created with `counters`.
    pub counters: bool,
    /// Created with `comment`.
    pub comment: bool,
    /// Created with `skbinfo`.
    pub skbinfo: bool,
    /// Created with `forceadd` (ipset's own listing does not show it).
    pub forceadd: bool,
    /// `Number of entries`.
    pub elements: Option<u32>,
    /// `References`.
    pub references: Option<u32>,
    /// `Size in memory`.
    pub memsize: Option<u32>,
}

/// `inet`, `inet6` or the number.
pub(crate) fn family_name(nfproto: u8) -> String {
    match nfproto {
        2 => "inet".into(),
        10 => "inet6".into(),
        n => n.to_string(),
    }
}

impl IpsetHeader {
    /// The set's address family, for types that have one.
    pub fn address_family(&self) -> Option<Family> {
        match self.family {
            2 => Some(Family::V4),
            10 => Some(Family::V6),
            _ => None,
        }
    }

    /// The header of the command-level attributes `a` of a message.
    pub(crate) fn decode(ty: u16, a: &[u8]) -> Result<IpsetHeader> {
        let mut h = IpsetHeader::default();
        for (t, v) in nested(a) {
            match t {
                attr::SETNAME => h.name = str_of(v).unwrap_or_default().to_owned(),
                attr::TYPENAME => h.type_name = str_of(v).unwrap_or_default().to_owned(),
                attr::REVISION => h.revision = v.first().copied().unwrap_or(0),
                attr::FAMILY => h.family = v.first().copied().unwrap_or(0),
                attr::DATA => {
                    check_attrs(ty, v, 0, "an ipset header")?;
                    h.data(v);
                }
                _ => {}
            }
        }
        if h.name.is_empty() {
            return Err(Error::Decode {
                request: kind(ty),
                reason: "an ipset message without IPSET_ATTR_SETNAME".into(),
            });
        }
        Ok(h)
    }

    fn data(&mut self, d: &[u8]) {
        let ip = |t| {
            nested_get(d, t).and_then(|n| {
                nested_get(n, attr::IPADDR_IPV4)
                    .or_else(|| nested_get(n, attr::IPADDR_IPV6))
                    .and_then(crate::conn::attrs::ip_of)
            })
        };
        let u32_at = |t| nested_get(d, t).and_then(be32_of);
        let u8_at = |t| nested_get(d, t).and_then(|v| v.first().copied());
        self.hashsize = u32_at(attr::HASHSIZE);
        self.maxelem = u32_at(attr::MAXELEM);
        self.netmask = u8_at(attr::NETMASK);
        self.bucketsize = u8_at(attr::BUCKETSIZE);
        self.initval = u32_at(attr::INITVAL);
        self.size = u32_at(attr::SIZE);
        self.timeout = u32_at(attr::TIMEOUT);
        self.elements = u32_at(attr::ELEMENTS);
        self.references = u32_at(attr::REFERENCES);
        self.memsize = u32_at(attr::MEMSIZE);
        if let (Some(a), Some(b)) = (ip(attr::IP), ip(attr::IP_TO)) {
            self.ip_range = Some((a, b));
        }
        let port = |t| nested_get(d, t).and_then(be16_of);
        if let (Some(a), Some(b)) = (port(attr::PORT), port(attr::PORT_TO)) {
            self.port_range = Some((a, b));
        }
        let f = u32_at(attr::CADT_FLAGS).unwrap_or(0);
        self.counters = f & cadt::WITH_COUNTERS != 0;
        self.comment = f & cadt::WITH_COMMENT != 0;
        self.skbinfo = f & cadt::WITH_SKBINFO != 0;
        self.forceadd = f & cadt::WITH_FORCEADD != 0;
    }
}

/// The create options as `ipset list` shows them after `Header: ` (and
/// `ipset save` after `create NAME TYPE `).
impl fmt::Display for IpsetHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = Vec::new();
        let mut put = |s: String| words.push(s);
        if self.type_name.starts_with("hash:") && self.type_name != "hash:mac" {
            put(format!("family {}", family_name(self.family)));
        }
        if let Some((a, b)) = self.ip_range {
            put(format!("range {a}-{b}"));
        }
        if let Some((a, b)) = self.port_range {
            put(format!("range {a}-{b}"));
        }
        if let Some(n) = self.hashsize {
            put(format!("hashsize {n}"));
        }
        if let Some(n) = self.maxelem {
            put(format!("maxelem {n}"));
        }
        if let Some(n) = self.netmask {
            put(format!("netmask {n}"));
        }
        if let Some(n) = self.size {
            put(format!("size {n}"));
        }
        if let Some(n) = self.timeout {
            put(format!("timeout {n}"));
        }
        for (on, w) in [
            (self.counters, "counters"),
            (self.comment, "comment"),
            (self.skbinfo, "skbinfo"),
        ] {
            if on {
                put(w.to_owned());
            }
        }
        if let Some(n) = self.bucketsize {
            put(format!("bucketsize {n}"));
        }
        if let Some(n) = self.initval {
            put(format!("initval {n:#010x}"));
        }
        f.write_str(&words.join(" "))
    }
}

impl IpsetHandle {
    /// `IPSET_CMD_HEADER`: the set's name, type, revision and family (a
    /// missing set is `is_not_found()`). [`info`](Self::info) has the rest.
    pub async fn header(&self, name: &str) -> Result<IpsetHeader> {
        let ctx = Context::new("ipset header", name);
        let r = self
            .req
            .get_raw(named(cmd::HEADER, name)?.message(), 0)
            .await;
        let raw = super::errors::explained(self, cmd::HEADER, r, &ctx).await?;
        let ty = raw.header.ty;
        check_attrs(ty, raw.payload(), 4, "an ipset header")
            .and_then(|()| IpsetHeader::decode(ty, super::attrs_of(raw.payload())))
    }

    /// `ipset list -t NAME`: the whole header, with the member count and
    /// memory size.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let h = nl.ipset().info("blocked").await?;
    /// println!("{} {}: {} entries", h.type_name, h, h.elements.unwrap_or(0));
    /// # Ok(()) }
    /// ```
    pub async fn info(&self, name: &str) -> Result<IpsetHeader> {
        let mut all = self.header_dump(Some(name), flag::LIST_HEADER).await?;
        all.pop().ok_or_else(|| Error::Decode {
            request: kind(super::cmd::ty(cmd::LIST)),
            reason: format!("the listing of {name} has no header"),
        })
    }

    /// `ipset list -t`: every set's header.
    pub async fn headers(&self) -> Result<Vec<IpsetHeader>> {
        self.header_dump(None, flag::LIST_HEADER).await
    }

    /// `ipset list -n`: every set's name.
    pub async fn names(&self) -> Result<Vec<String>> {
        let h = self.header_dump(None, flag::LIST_SETNAME).await?;
        Ok(h.into_iter().map(|h| h.name).collect())
    }

    async fn header_dump(&self, name: Option<&str>, flags: u32) -> Result<Vec<IpsetHeader>> {
        use futures::TryStreamExt;
        let ctx = Context::new("ipset list", name.unwrap_or_default());
        let mut e = match name {
            Some(n) => named(cmd::LIST, n)?,
            None => super::request(cmd::LIST, 0),
        };
        e.be32(attr::FLAGS | NBO, flags);
        let dump = self.req.dump_raw(e.message(), 0);
        let r: Result<Vec<_>> = dump
            .and_then(|raw| async move {
                let ty = raw.header.ty;
                check_attrs(ty, raw.payload(), 4, "an ipset header")?;
                IpsetHeader::decode(ty, super::attrs_of(raw.payload()))
            })
            .try_collect()
            .await;
        super::errors::explained(self, cmd::LIST, r, &ctx).await
    }
}
