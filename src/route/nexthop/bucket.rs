//! `ip nexthop bucket show`: the buckets of resilient groups.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, TryStreamExt};

use super::view::USER_HZ;
use super::{NexthopHandle, NhWriter, nha};
use crate::conn::RawMessage;
use crate::conn::attrs::{self, Indexed};
use crate::conn::mapped::MappedDump;
use crate::conn::requester::retry_interrupted;
use crate::error::{RequestKind, Result};

const RTM_NEWNEXTHOPBUCKET: u16 = 116;
const RTM_GETNEXTHOPBUCKET: u16 = 118;
/// NHA_RES_BUCKET: the nest of one bucket.
const RES_BUCKET: u16 = 13;
/// `NHA_RES_BUCKET_*`.
const BUCKET_INDEX: u16 = 1;
const BUCKET_IDLE_TIME: u16 = 2;
const BUCKET_NH_ID: u16 = 3;

const REQ: RequestKind = RequestKind {
    message_type: RTM_GETNEXTHOPBUCKET,
    name: Some("RTM_GETNEXTHOPBUCKET"),
};

/// One bucket of a resilient group as the kernel reported it.
#[derive(Clone)]
pub struct NexthopBucket {
    m: Indexed<13>,
}

impl fmt::Debug for NexthopBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NexthopBucket")
            .field("id", &self.id())
            .field("index", &self.index())
            .field("nhid", &self.nhid())
            .finish()
    }
}

impl NexthopBucket {
    /// Wraps an RTM_NEWNEXTHOPBUCKET message.
    pub fn from_raw(raw: RawMessage) -> Result<NexthopBucket> {
        Indexed::new(raw, RTM_NEWNEXTHOPBUCKET, 8, REQ).map(|m| NexthopBucket { m })
    }

    fn nested(&self, ty: u16) -> Option<&[u8]> {
        attrs::nested_get(self.m.attr(RES_BUCKET)?, ty)
    }

    /// `id`: the group's.
    pub fn id(&self) -> u32 {
        self.m.u32_attr(nha::ID).unwrap_or(0)
    }

    /// `index` of the bucket in the group.
    pub fn index(&self) -> u16 {
        self.nested(BUCKET_INDEX)
            .and_then(|v| Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?)))
            .unwrap_or(0)
    }

    /// `nhid`: the member nexthop the bucket holds.
    pub fn nhid(&self) -> u32 {
        self.nested(BUCKET_NH_ID)
            .and_then(attrs::u32_of)
            .unwrap_or(0)
    }

    /// `idle_time`: since the bucket last carried traffic.
    pub fn idle_time(&self) -> Duration {
        let ticks = self
            .nested(BUCKET_IDLE_TIME)
            .and_then(|v| Some(u64::from_ne_bytes(v.get(..8)?.try_into().ok()?)))
            .unwrap_or(0);
        Duration::from_millis(ticks.saturating_mul(1000 / USER_HZ))
    }

    /// RTNH_F_* flags (offload, trap).
    pub fn flags(&self) -> u32 {
        self.m.fixed_u32(4)
    }

    /// The undecoded message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }
}

/// A bucket listing; see [`NexthopHandle::buckets`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct BucketList {
    pub(super) handle: NexthopHandle,
    pub(super) id: Option<u32>,
    pub(super) nhid: Option<u32>,
}

impl BucketList {
    /// `id ID`: only the buckets of this group (NHA_ID).
    pub fn id(mut self, id: u32) -> Self {
        self.id = Some(id);
        self
    }

    /// `nhid ID`: only buckets holding this member (checked here).
    pub fn nhid(mut self, id: u32) -> Self {
        self.nhid = Some(id);
        self
    }

    /// The buckets as a stream; messages of other types are skipped.
    pub fn stream(self) -> impl Stream<Item = Result<NexthopBucket>> + Send + 'static {
        let mut w = NhWriter::new(0, 0, 0);
        if let Some(id) = self.id {
            w.u32(nha::ID, id);
        }
        let dump = self.handle.req.dump_raw(w.message(RTM_GETNEXTHOPBUCKET), 0);
        let nhid = self.nhid;
        MappedDump::new(async move {
            Ok((dump, move |raw: RawMessage| {
                if raw.header.ty != RTM_NEWNEXTHOPBUCKET {
                    return None;
                }
                match NexthopBucket::from_raw(raw) {
                    Ok(b) => nhid.is_none_or(|n| b.nhid() == n).then_some(Ok(b)),
                    Err(e) => Some(Err(e)),
                }
            }))
        })
    }
}

impl IntoFuture for BucketList {
    type Output = Result<Vec<NexthopBucket>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(REQ, move || {
            self.clone().stream().try_collect()
        }))
    }
}
