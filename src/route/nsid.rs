//! `ip netns set NAME ID` / `ip netns list-id`: the ids a namespace gives
//! its peers (which link events and dumps report as `link-netnsid`).
//! netlink-packet-route encodes the requests; replies are decoded here.

use std::future::{Future, IntoFuture};
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};

use crate::client::Netlink;
use crate::conn::attrs::{Attrs, i32_of};
use crate::conn::requester::retry_interrupted;
use crate::conn::{RawMessage, Requester};
use crate::error::{Context, Error, RequestKind, Result, ResultExt};
use crate::netns::NetnsTarget;
use crate::route::Route as Rtnl;

const RTM_NEWNSID: u16 = 88;
/// struct rtgenmsg, padded to 4 bytes.
const HEADER: usize = 4;
const NETNSA_NSID: u16 = 1;
/// NETNSA_NSID_NOT_ASSIGNED.
const NOT_ASSIGNED: i32 = -1;
const REQ: RequestKind = RequestKind {
    message_type: 90,
    name: Some("RTM_GETNSID"),
};

/// A peer namespace's id, as `ip netns list-id` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[non_exhaustive]
pub struct NsId {
    /// `nsid ID`.
    pub nsid: i32,
}

impl NsId {
    /// Decodes an RTM_NEWNSID message; anything else, or one without a
    /// NETNSA_NSID, is [`Error::Decode`].
    pub fn from_raw(raw: RawMessage) -> Result<NsId> {
        let ty = raw.header.ty;
        let nsid = if ty == RTM_NEWNSID {
            nsid_of(raw.payload())
        } else {
            None
        };
        nsid.map(|nsid| NsId { nsid }).ok_or_else(|| Error::Decode {
            request: REQ,
            reason: format!(
                "expected a namespace id (type {RTM_NEWNSID}), got type {ty} of {} bytes",
                raw.bytes.len()
            ),
        })
    }
}

/// NETNSA_NSID of an rtgenmsg payload.
fn nsid_of(payload: &[u8]) -> Option<i32> {
    if payload.len() < HEADER {
        return None;
    }
    Attrs::new(payload, HEADER).find_map(|(_, ty, v)| (ty == NETNSA_NSID).then(|| i32_of(v))?)
}

/// Namespace-id operations (`ip netns set` / `list-id`), in the client's
/// namespace. Get one with [`Netlink::nsid`].
#[derive(Debug, Clone)]
pub struct NsIdHandle {
    rtnl: Requester<Rtnl>,
}

impl Netlink {
    /// Namespace-id operations: the ids this client's namespace gives
    /// other namespaces.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// nl.nsid().set("blue", 7).await?;
    /// assert_eq!(nl.nsid().get("blue").await?, Some(7));
    /// for id in nl.nsid().list().await? {
    ///     println!("nsid {}", id.nsid);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn nsid(&self) -> NsIdHandle {
        NsIdHandle { rtnl: self.rtnl() }
    }
}

/// The attribute naming `target`, and the fd it refers to, which must stay
/// open until the kernel has read the request.
fn target_attr(target: NetnsTarget) -> Result<(NsidAttribute, Option<OwnedFd>)> {
    Ok(match target {
        // The kernel resolves a pid itself; nothing to open.
        NetnsTarget::Pid(p) => (NsidAttribute::Pid(p), None),
        other => {
            let fd = other.open()?;
            (NsidAttribute::Fd(fd.as_raw_fd() as u32), Some(fd))
        }
    })
}

fn check_id(id: i32) -> Result<()> {
    if id < NOT_ASSIGNED {
        return Err(Error::invalid(
            "id",
            format!("{id}: an id is 0 or more, or -1 to let the kernel pick one"),
        ));
    }
    Ok(())
}

impl NsIdHandle {
    /// `ip netns set TARGET ID`: gives `target` (a name, path, fd or pid)
    /// the id `id`, or with -1 (`auto`) the first free one. A negative id
    /// other than -1 is refused (`"id"`); an id in use, or a target that
    /// already has one, is the kernel's EEXIST with its extended ACK.
    pub async fn set(&self, target: impl Into<NetnsTarget>, id: i32) -> Result<()> {
        let target = target.into();
        let ctx = Context::new("netns set", format!("{} {id}", target.describe()));
        check_id(id)?;
        let (attr, _fd) = target_attr(target).within(&ctx)?;
        let mut m = NsidMessage::default();
        m.attributes = vec![NsidAttribute::Id(id), attr];
        let msg = RouteNetlinkMessage::NewNsId(m);
        // `_fd` lives until the ack: the kernel reads NETNSA_FD on receipt.
        self.rtnl.ack(msg, 0).await.within(&ctx)
    }

    /// The id this namespace gives `target`; `None` when it has none.
    pub async fn get(&self, target: impl Into<NetnsTarget>) -> Result<Option<i32>> {
        let target = target.into();
        let ctx = Context::new("netns get-id", target.describe());
        let (attr, _fd) = target_attr(target).within(&ctx)?;
        let mut m = NsidMessage::default();
        m.attributes = vec![attr];
        let raw = self
            .rtnl
            .get_raw(RouteNetlinkMessage::GetNsId(m), 0)
            .await
            .within(&ctx)?;
        let id = NsId::from_raw(raw).within(&ctx)?.nsid;
        Ok((id != NOT_ASSIGNED).then_some(id))
    }

    /// `ip netns list-id`: every id this namespace has given.
    pub fn list(&self) -> NsIdList {
        NsIdList {
            handle: self.clone(),
        }
    }
}

/// A namespace-id listing; `.await` it for a `Vec` or call
/// [`stream`](Self::stream). See [`NsIdHandle::list`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct NsIdList {
    handle: NsIdHandle,
}

impl NsIdList {
    /// The ids as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<NsId>> + Send + 'static {
        self.handle
            .rtnl
            .dump_raw(RouteNetlinkMessage::GetNsId(NsidMessage::default()), 0)
            .map(|r| r.and_then(NsId::from_raw))
    }
}

impl IntoFuture for NsIdList {
    type Output = Result<Vec<NsId>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<NsId>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: i32) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&NETNSA_NSID.to_ne_bytes());
        b.extend_from_slice(&id.to_ne_bytes());
        b
    }

    #[test]
    fn decodes_ids_and_refuses_truncated_input() {
        assert_eq!(nsid_of(&sample(7)), Some(7));
        assert_eq!(nsid_of(&sample(-1)), Some(-1));
        let s = sample(7);
        for n in 0..s.len() {
            assert_eq!(nsid_of(&s[..n]), None, "cut at {n}");
        }
        for m in crate::test_util::mangled(&s, 5000, 1, 0x2545_f491_4f6c_dd1d) {
            let _ = nsid_of(&m);
        }
    }

    #[test]
    fn ids_below_minus_one_are_refused() {
        assert!(check_id(0).is_ok() && check_id(-1).is_ok() && check_id(i32::MAX).is_ok());
        let e = check_id(-2).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field: "id", .. }), "{e}");
    }
}
