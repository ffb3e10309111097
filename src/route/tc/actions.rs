//! `tc actions add|replace|del|get|list|flush`: standalone actions
//! (RTM_*ACTION), which filters can share by index
//! ([`Action::Index`]). Requests are written as `tc` writes them: a
//! `struct tcamsg` and a TCA_ACT_TAB nest of one action.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::action::Action;
use super::stats::Stats;
use super::wire::{Rd, Writer};
use super::{TcHandle, TcMessage, msg, request_kind};
use crate::conn::RawMessage;
use crate::conn::attrs::{nested, nested_get};
use crate::conn::flags;
use crate::conn::frame::HEADER_LEN;
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Error, Result, ResultExt};

/// `TCA_ACT_TAB` (also `TCA_ROOT_TAB`).
const ROOT_TAB: u16 = 1;
/// `TCA_ROOT_FLAGS`, a `struct nla_bitfield32`.
const ROOT_FLAGS: u16 = 2;
/// `TCA_ACT_FLAG_LARGE_DUMP_ON`: more than 32 actions per message, as
/// `tc` asks for.
const LARGE_DUMP: u32 = 1;
const ACT_KIND: u16 = 1;
const ACT_INDEX: u16 = 3;
const ACT_STATS: u16 = 4;
const ACT_COOKIE: u16 = 6;
/// `sizeof(struct tcamsg)`: family and pads.
const TCAMSG_LEN: usize = 4;

/// Standalone actions; see [`TcHandle::actions`].
#[derive(Debug, Clone)]
pub struct ActionOps {
    pub(crate) tc: TcHandle,
}

impl ActionOps {
    /// `tc actions add action KIND … [index N] [cookie HEX]`: fails with
    /// `is_exists()` when an action of that kind has that index.
    pub fn add(&self, action: impl Into<Action>) -> ActionChange {
        self.change(action.into(), flags::CREATE | flags::EXCL)
    }

    /// `tc actions replace …`: adds, or replaces the action with that
    /// index.
    pub fn replace(&self, action: impl Into<Action>) -> ActionChange {
        self.change(action.into(), flags::CREATE | flags::REPLACE)
    }

    fn change(&self, action: Action, flags: u16) -> ActionChange {
        ActionChange {
            tc: self.tc.clone(),
            action,
            cookie: None,
            flags,
        }
    }

    /// `tc actions del action KIND index N`.
    pub fn del(&self, kind: &str, index: u32) -> ActionDel {
        ActionDel {
            tc: self.tc.clone(),
            kind: kind.to_owned(),
            index: Some(index),
        }
    }

    /// `tc actions flush action KIND`: every action of the kind not bound
    /// to a filter.
    pub fn flush(&self, kind: &str) -> ActionDel {
        ActionDel {
            tc: self.tc.clone(),
            kind: kind.to_owned(),
            index: None,
        }
    }

    /// `tc actions get action KIND index N`.
    pub fn get(&self, kind: &str, index: u32) -> ActionGet {
        ActionGet {
            tc: self.tc.clone(),
            kind: kind.to_owned(),
            index,
        }
    }

    /// `tc actions list action KIND`.
    pub fn list(&self, kind: &str) -> ActionList {
        ActionList {
            tc: self.tc.clone(),
            kind: kind.to_owned(),
        }
    }
}

/// A tcamsg with TCA_ACT_TAB { 1: { … } } written by `inner`.
fn request(
    ty: u16,
    inner: impl FnOnce(&mut Writer) -> Result<()>,
    root_flags: bool,
) -> Result<TcMessage> {
    let mut w = Writer {
        buf: vec![0; TCAMSG_LEN],
    };
    let tab = w.begin(ROOT_TAB);
    let one = w.begin(1);
    inner(&mut w)?;
    w.end("action", one)?;
    w.end("action", tab)?;
    if root_flags {
        let mut v = LARGE_DUMP.to_ne_bytes().to_vec();
        v.extend_from_slice(&LARGE_DUMP.to_ne_bytes());
        w.attr("flags", ROOT_FLAGS, &v)?;
    }
    Ok(TcMessage {
        message_type: ty,
        payload: w.buf,
    })
}

/// An action add or replace; see [`ActionOps::add`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct ActionChange {
    tc: TcHandle,
    action: Action,
    cookie: Option<Vec<u8>>,
    flags: u16,
}

impl ActionChange {
    /// `cookie HEX`: 1 to 16 opaque bytes kept with the action.
    pub fn cookie(mut self, cookie: impl Into<Vec<u8>>) -> Self {
        self.cookie = Some(cookie.into());
        self
    }

    fn context(&self) -> Context {
        let op = if self.flags & flags::REPLACE != 0 {
            "action replace"
        } else {
            "action add"
        };
        let mut o = format!("action {}", self.action.kind());
        if let Some(i) = self.action.index().filter(|i| *i != 0) {
            o.push_str(&format!(" index {i}"));
        }
        Context::new(op, o)
    }

    /// The request this builder stands for, checked but not sent.
    pub fn into_request(self) -> Result<(TcMessage, u16)> {
        let ctx = self.context();
        let m = request(
            msg::NEWACTION,
            |w| self.action.encode_with(w, self.cookie.as_deref()),
            false,
        )
        .within(&ctx)?;
        Ok((m, self.flags))
    }

    async fn run(self) -> Result<()> {
        let tc = self.tc.clone();
        let ctx = self.context();
        let (m, flags) = self.into_request()?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// The KIND (and INDEX) of a del, get or listing.
fn by_kind(w: &mut Writer, kind: &str, index: Option<u32>) -> Result<()> {
    w.string("kind", ACT_KIND, kind)?;
    if let Some(i) = index {
        w.u32("index", ACT_INDEX, i)?;
    }
    Ok(())
}

fn object(kind: &str, index: Option<u32>) -> String {
    match index {
        Some(i) => format!("action {kind} index {i}"),
        None => format!("action {kind}"),
    }
}

/// An action delete or flush; see [`ActionOps::del`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct ActionDel {
    tc: TcHandle,
    kind: String,
    index: Option<u32>,
}

impl ActionDel {
    /// The request, checked but not sent.
    pub fn into_request(self) -> Result<(TcMessage, u16)> {
        let flush = self.index.is_none();
        let m = request(
            msg::DELACTION,
            |w| by_kind(w, &self.kind, self.index),
            flush,
        )?;
        Ok((m, if flush { flags::ROOT } else { 0 }))
    }

    async fn run(self) -> Result<()> {
        let op = if self.index.is_some() {
            "action del"
        } else {
            "action flush"
        };
        let ctx = Context::new(op, object(&self.kind, self.index)).missing("action");
        let tc = self.tc.clone();
        let (m, flags) = self.into_request().within(&ctx)?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// One action; see [`ActionOps::get`].
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct ActionGet {
    tc: TcHandle,
    kind: String,
    index: u32,
}

impl ActionGet {
    async fn run(self) -> Result<ActionEntry> {
        let ctx =
            Context::new("action get", object(&self.kind, Some(self.index))).missing("action");
        let m = request(
            msg::GETACTION,
            |w| by_kind(w, &self.kind, Some(self.index)),
            false,
        )
        .within(&ctx)?;
        // Like `tc`, without NLM_F_ACK: the reply (RTM_GETACTION) or an error.
        let raw = self.tc.req.get_raw(m, 0).await.within(&ctx)?;
        ActionEntry::all_of(&raw)
            .within(&ctx)?
            .into_iter()
            .next()
            .ok_or_else(|| decode_error("a reply without an action"))
            .within(&ctx)
    }
}

/// A listing of one kind's actions; see [`ActionOps::list`]. `.await`
/// for a `Vec` (an interrupted dump is run again), or
/// [`stream`](Self::stream).
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct ActionList {
    tc: TcHandle,
    kind: String,
}

impl ActionList {
    /// The dump request this listing sends, checked but not sent (send it
    /// with [`Requester::dump_raw`](crate::Requester::dump_raw)).
    pub fn into_request(self) -> Result<TcMessage> {
        request(msg::GETACTION, |w| by_kind(w, &self.kind, None), true)
    }

    /// The actions as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<ActionEntry>> + Send + 'static {
        let ctx = Context::new("action list", object(&self.kind, None));
        futures::stream::once(async move {
            let m = request(msg::GETACTION, |w| by_kind(w, &self.kind, None), true).within(&ctx)?;
            let ctx = ctx.clone();
            let dump = self.tc.req.dump_raw(m, 0).flat_map(move |r| {
                // One message carries many actions.
                let items = match r.and_then(|raw| ActionEntry::all_of(&raw)) {
                    Ok(all) => all.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(items.into_iter().map({
                    let ctx = ctx.clone();
                    move |r: Result<ActionEntry>| r.within(&ctx)
                }))
            });
            Ok::<_, Error>(dump)
        })
        .try_flatten()
    }
}

impl IntoFuture for ActionList {
    type Output = Result<Vec<ActionEntry>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<ActionEntry>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(request_kind(msg::GETACTION), move || {
            self.clone().stream().try_collect()
        }))
    }
}

fn decode_error(reason: &str) -> Error {
    Error::Decode {
        request: request_kind(msg::GETACTION),
        reason: reason.into(),
    }
}

/// A standalone action as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEntry {
    action: Action,
    index: u32,
    cookie: Option<Vec<u8>>,
    stats: Stats,
}

impl ActionEntry {
    /// The actions of an RTM_NEWACTION/DELACTION/GETACTION message.
    pub fn all_of(raw: &RawMessage) -> Result<Vec<ActionEntry>> {
        let ty = raw.header.ty;
        if !(msg::NEWACTION..=msg::GETACTION).contains(&ty) {
            return Err(decode_error(&format!(
                "expected an action message, got type {ty}"
            )));
        }
        let body = raw
            .bytes
            .get(HEADER_LEN + TCAMSG_LEN..)
            .ok_or_else(|| decode_error("shorter than struct tcamsg"))?;
        let Some(tab) = nested(body).find(|(t, _)| *t == ROOT_TAB).map(|(_, v)| v) else {
            return Ok(vec![]);
        };
        let mut all: Vec<(u16, &[u8])> = nested(tab).collect();
        all.sort_by_key(|(order, _)| *order);
        Ok(all
            .into_iter()
            .map(|(_, v)| ActionEntry::decode(v))
            .collect())
    }

    fn decode(v: &[u8]) -> ActionEntry {
        let action = Action::decode(v);
        let index = nested_get(v, ACT_INDEX)
            .map(|i| Rd(i).u32(0))
            .or(action.index())
            .unwrap_or(0);
        ActionEntry {
            index,
            cookie: nested_get(v, ACT_COOKIE).map(<[u8]>::to_vec),
            stats: nested_get(v, ACT_STATS)
                .and_then(|s| Stats::decode(Some(s), None))
                .unwrap_or_default(),
            action,
        }
    }

    /// The action, typed.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// Its kind (`mirred`, …).
    pub fn kind(&self) -> &str {
        self.action.kind()
    }

    /// Its index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Its cookie, if it has one.
    pub fn cookie(&self) -> Option<&[u8]> {
        self.cookie.as_deref()
    }

    /// `tc -s` counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}

super::awaited_by_run!(ActionChange => (), ActionDel => (), ActionGet => ActionEntry);
