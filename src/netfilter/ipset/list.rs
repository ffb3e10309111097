//! `ipset list [NAME]`: members as a stream, one message decoded at a
//! time (a set of millions of members lists in flat memory).

use futures::{Stream, StreamExt, TryStreamExt, stream};

use super::entry::IpsetEntry;
use super::header::IpsetHeader;
use super::{IpsetHandle, attr, attrs_of, cmd, named, request};
use crate::conn::RawMessage;
use crate::conn::attrs::nested;
use crate::conn::mapped::MappedDump;
use crate::error::{Context, Error, Result};
use crate::netfilter::{check_attrs, kind};

/// An item of a listing of sets: a set's header, then its members.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    /// A set begins.
    Set(IpsetHeader),
    /// A member of the last set begun.
    Member(IpsetEntry),
}

/// What one LIST message holds: the set's header when it is the set's
/// first message, then members (the set's later messages name the set
/// and carry members only).
pub(crate) fn decode(raw: &RawMessage) -> Result<Vec<Listed>> {
    let ty = raw.header.ty;
    if ty != cmd::ty(cmd::LIST) && ty != cmd::ty(cmd::SAVE) {
        return Err(Error::Decode {
            request: kind(ty),
            reason: format!("message type {ty:#x} is not an ipset listing"),
        });
    }
    let p = raw.payload();
    check_attrs(ty, p, 4, "an ipset listing")?;
    let a = attrs_of(p);
    let mut out = Vec::new();
    if crate::conn::attrs::nested_get(a, attr::DATA).is_some() {
        out.push(Listed::Set(IpsetHeader::decode(ty, a)?));
    }
    for (t, adt) in nested(a) {
        if t != attr::ADT {
            continue;
        }
        check_attrs(ty, adt, 0, "an ipset member list")?;
        for (t, data) in nested(adt) {
            if t == attr::DATA {
                check_attrs(ty, data, 0, "an ipset member")?;
                out.push(Listed::Member(IpsetEntry::decode(data)));
            }
        }
    }
    Ok(out)
}

impl IpsetHandle {
    /// `ipset list NAME`: the set's members as a stream (a missing set is
    /// its only item, `is_not_found()`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut members = nl.ipset().list("blocked");
    /// while let Some(m) = members.try_next().await? {
    ///     println!("{m}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<IpsetEntry>> + Send + Unpin + 'static {
        self.listing(Some(name)).try_filter_map(|l| {
            futures::future::ready(Ok(match l {
                Listed::Member(m) => Some(m),
                Listed::Set(_) => None,
            }))
        })
    }

    /// `ipset list`: every set, each its header then its members, as a
    /// stream.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use futures::TryStreamExt;
    /// use tokio_netlink::netfilter::ipset::Listed;
    /// let mut all = nl.ipset().list_all();
    /// while let Some(item) = all.try_next().await? {
    ///     match item {
    ///         Listed::Set(h) => println!("create {} {} {h}", h.name, h.type_name),
    ///         Listed::Member(m) => println!("  {m}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_all(&self) -> impl Stream<Item = Result<Listed>> + Send + Unpin + 'static {
        self.listing(None)
    }

    /// `ipset list [NAME]`: one set (or, with `None`, every set), each
    /// its header then its members, as a stream.
    pub fn listing(
        &self,
        name: Option<&str>,
    ) -> impl Stream<Item = Result<Listed>> + Send + Unpin + 'static {
        let handle = self.clone();
        let req = self.req.clone();
        let name = name.map(str::to_owned);
        let ctx = Context::new("ipset list", name.clone().unwrap_or_default());
        MappedDump::new(async move {
            let e = match &name {
                Some(n) => named(cmd::LIST, n)?,
                None => request(cmd::LIST, 0),
            };
            let dump = req.dump_raw(e.message(), 0);
            Ok((dump, move |raw: RawMessage| Some(decode(&raw))))
        })
        .map(move |r: Result<Vec<Listed>>| {
            let ctx = ctx.clone();
            let handle = handle.clone();
            // Boxed, one per message, so that the stream is Unpin.
            Box::pin(async move {
                match r {
                    Ok(v) => Ok(stream::iter(v.into_iter().map(Ok))),
                    Err(e) => super::errors::explained(&handle, cmd::LIST, Err(e), &ctx).await,
                }
            })
        })
        .then(|f| f)
        .try_flatten()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::conn::frame::{HEADER_LEN, Header};
    use crate::netfilter::Emit;

    /// A LIST message of set `s` (hash:ip) with its header and two members,
    /// as the kernel sends it.
    fn listing() -> Vec<u8> {
        let mut e = Emit::new(cmd::ty(cmd::LIST), 2, 0);
        e.u8(attr::PROTOCOL, 7)
            .attr(attr::SETNAME, b"s\0")
            .attr(attr::TYPENAME, b"hash:ip\0")
            .u8(attr::REVISION, 6)
            .u8(attr::FAMILY, 2)
            .nest(attr::DATA, |e| {
                e.be32(attr::HASHSIZE | attr::NBO, 1024)
                    .be32(attr::MAXELEM | attr::NBO, 65536)
                    .be32(attr::ELEMENTS | attr::NBO, 2);
            })
            .nest(attr::ADT, |e| {
                for a in ["10.0.0.1", "10.0.0.2"] {
                    e.nest(attr::DATA, |e| {
                        let m = IpsetEntry::parse(super::super::SetType::HashIp, a).unwrap();
                        m.emit(e).unwrap();
                    });
                }
            });
        let p = e.message().payload;
        let mut b = Vec::new();
        b.extend_from_slice(&((HEADER_LEN + p.len()) as u32).to_ne_bytes());
        b.extend_from_slice(&cmd::ty(cmd::LIST).to_ne_bytes());
        b.extend_from_slice(&[0; 10]);
        b.extend_from_slice(&p);
        b
    }

    fn raw(b: &[u8]) -> RawMessage {
        RawMessage {
            header: Header::parse(b).unwrap(),
            bytes: Bytes::copy_from_slice(b),
        }
    }

    #[test]
    fn a_listing_decodes_to_header_then_members() {
        let items = decode(&raw(&listing())).unwrap();
        let Listed::Set(h) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!((h.name.as_str(), h.type_name.as_str()), ("s", "hash:ip"));
        assert_eq!(h.to_string(), "family inet hashsize 1024 maxelem 65536");
        assert_eq!(h.elements, Some(2));
        let members: Vec<String> = items[1..]
            .iter()
            .map(|l| match l {
                Listed::Member(m) => m.to_string(),
                Listed::Set(h) => panic!("a second header {h:?}"),
            })
            .collect();
        assert_eq!(members, ["10.0.0.1", "10.0.0.2"]);
    }

    #[test]
    fn truncated_listings_are_errors_never_panics() {
        let whole = listing();
        let mut refused = 0;
        for len in HEADER_LEN..whole.len() {
            // The cut keeps the header's length field: the message claims
            // more than it has, as a short read would leave it.
            match decode(&raw(&whole[..len])) {
                Err(e) => {
                    assert!(e.to_string().contains("truncated"), "{len}: {e}");
                    refused += 1;
                }
                // Cuts on an attribute boundary leave a shorter, whole message.
                Ok(items) => assert!(items.len() <= 3, "{len}: {items:?}"),
            }
        }
        assert!(refused > whole.len() / 2, "{refused} of {}", whole.len());
        let mut other = listing();
        other[4] = cmd::ADD;
        assert!(decode(&raw(&other)).is_err());
    }

    #[test]
    fn corrupted_listings_never_panic() {
        let base = listing();
        let mut x: u32 = 0x2545_f491;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..5000 {
            let mut b = base.clone();
            for _ in 0..(next() % 8) {
                let at = HEADER_LEN + (next() as usize % (b.len() - HEADER_LEN));
                b[at] = next() as u8;
            }
            for item in decode(&raw(&b)).unwrap_or_default() {
                match item {
                    Listed::Set(h) => drop(h.to_string()),
                    Listed::Member(m) => drop(m.to_string()),
                }
            }
        }
    }
}
