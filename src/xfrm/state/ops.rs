//! The state requests of [`XfrmHandle`]: add, update, delete, get, list,
//! flush, allocspi, SAD counts.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::{AllocSpi, State, StateId};
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Result, ResultExt};
use crate::xfrm::types::{IpsecProto, Rd, attrs, pad4, push_fixed};
use crate::xfrm::{CREATE_EXCL, XfrmHandle, attr, decode_error, message, msg};

/// SAD counts (`ip xfrm state count`, XFRM_MSG_GETSADINFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct SadInfo {
    /// States.
    pub count: u32,
    /// Hash buckets in use.
    pub hash_count: u32,
    /// Hash buckets maximum.
    pub hash_max: u32,
}

impl SadInfo {
    /// Decodes an XFRM_MSG_NEWSADINFO payload.
    pub fn parse(payload: &[u8]) -> SadInfo {
        let mut s = SadInfo::default();
        for (t, v) in attrs(payload, 4) {
            let r = Rd(v);
            match t {
                1 if v.len() >= 4 => s.count = r.u32(0),
                2 if v.len() >= 8 => {
                    s.hash_count = r.u32(0);
                    s.hash_max = r.u32(4);
                }
                _ => {}
            }
        }
        s
    }
}

/// A state listing; `.await` it or call [`stream`](Self::stream).
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct StateList {
    handle: XfrmHandle,
    proto: Option<IpsecProto>,
}

impl StateList {
    /// Only states of `proto` (filtered by the kernel, XFRMA_PROTO).
    pub fn proto(mut self, p: IpsecProto) -> Self {
        self.proto = Some(p);
        self
    }

    /// The states as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<State>> + Send + 'static {
        let mut b = Vec::new();
        if let Some(p) = self.proto {
            push_fixed(&mut b, attr::PROTO, &[p.raw()]);
        }
        self.handle
            .req
            .dump_raw(message(msg::GETSA, b), 0)
            .map(|r| r.and_then(|m| State::from_raw(&m)))
    }
}

impl IntoFuture for StateList {
    type Output = Result<Vec<State>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<State>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(
            crate::xfrm::kind(msg::GETSA),
            move || self.clone().stream().try_collect(),
        ))
    }
}

/// `src S dst D proto P spi 0xN`: a state error's object.
fn object(s: &State) -> String {
    format!(
        "src {} dst {} proto {} spi {:#x}",
        s.src, s.dst, s.proto, s.spi
    )
}

/// `dst D proto P spi 0xN`: the object of an error about a state by id.
fn id_object(id: &StateId) -> String {
    format!("dst {} proto {} spi {:#x}", id.dst, id.proto, id.spi)
}

impl XfrmHandle {
    /// `ip xfrm state add`: fails with EEXIST if the state exists. Errors
    /// read `xfrm state add src S dst D proto P spi N: CAUSE`.
    pub async fn add_state(&self, s: &State) -> Result<()> {
        let ctx = Context::new("xfrm state add", object(s));
        let b = s.emit().within(&ctx)?;
        self.req
            .ack(message(msg::NEWSA, b), CREATE_EXCL)
            .await
            .within(&ctx)
    }

    /// `ip xfrm state update`: replaces an existing state (or completes a
    /// larval one from `allocspi`).
    pub async fn update_state(&self, s: &State) -> Result<()> {
        let ctx = Context::new("xfrm state update", object(s)).missing("state");
        let b = s.emit().within(&ctx)?;
        self.req.ack(message(msg::UPDSA, b), 0).await.within(&ctx)
    }

    /// `ip xfrm state delete`; a missing state is `is_not_found()`,
    /// displayed as `no such state`.
    pub async fn del_state(&self, id: &StateId) -> Result<()> {
        let ctx = Context::new("xfrm state delete", id_object(id)).missing("state");
        let b = id.emit().within(&ctx)?;
        self.req.ack(message(msg::DELSA, b), 0).await.within(&ctx)
    }

    /// `ip xfrm state get`; a missing state is `is_not_found()`.
    pub async fn get_state(&self, id: &StateId) -> Result<State> {
        let ctx = Context::new("xfrm state get", id_object(id)).missing("state");
        let b = id.emit().within(&ctx)?;
        let raw = self
            .req
            .get_raw(message(msg::GETSA, b), 0)
            .await
            .within(&ctx)?;
        State::from_raw(&raw).within(&ctx)
    }

    /// `ip xfrm state list`.
    pub fn states(&self) -> StateList {
        StateList {
            handle: self.clone(),
            proto: None,
        }
    }

    /// `ip xfrm state flush [proto P]` (`None`: every protocol).
    pub async fn flush_states(&self, proto: Option<IpsecProto>) -> Result<()> {
        let mut b = vec![proto.unwrap_or(IpsecProto::Any).raw()];
        pad4(&mut b);
        self.req.ack(message(msg::FLUSHSA, b), 0).await
    }

    /// `ip xfrm state allocspi`: the larval state holding the new SPI.
    pub async fn alloc_spi(&self, a: &AllocSpi) -> Result<State> {
        let raw = self
            .req
            .get_raw(message(msg::ALLOCSPI, a.emit()?), 0)
            .await?;
        State::from_raw(&raw)
    }

    /// `ip xfrm state count`.
    pub async fn sad_info(&self) -> Result<SadInfo> {
        let raw = self
            .req
            .get_raw(message(msg::GETSADINFO, vec![0xff; 4]), 0)
            .await?;
        if raw.header.ty != msg::NEWSADINFO {
            return Err(decode_error(
                msg::GETSADINFO,
                "expected XFRM_MSG_NEWSADINFO",
            ));
        }
        Ok(SadInfo::parse(raw.payload()))
    }
}
