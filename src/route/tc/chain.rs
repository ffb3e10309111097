//! `tc chain add|del|show`: filter chains of a qdisc's block.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::handle::IntoParent;
use super::wire::{TCMSG_LEN, TcMsg, Writer, tca, tcmsg_of};
use super::{Parent, TcHandle, TcMessage, msg, request_kind};
use crate::conn::RawMessage;
use crate::conn::attrs::{Indexed, str_of, u32_of};
use crate::conn::flags;
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::link::LinkId;

/// Chain operations; see [`TcHandle::chain`].
#[derive(Debug, Clone)]
pub struct ChainOps {
    pub(crate) tc: TcHandle,
}

impl ChainOps {
    /// `tc chain add dev DEV PARENT chain N`: fails with `is_exists()`
    /// when the chain is there (a filter's `chain N` also creates it).
    pub fn add(&self, dev: impl Into<LinkId>, chain: u32) -> ChainChange {
        self.with(dev, chain, msg::NEWCHAIN, flags::CREATE | flags::EXCL)
    }

    /// `tc chain del dev DEV PARENT chain N`: the chain and its filters.
    pub fn del(&self, dev: impl Into<LinkId>, chain: u32) -> ChainChange {
        self.with(dev, chain, msg::DELCHAIN, 0)
    }

    fn with(&self, dev: impl Into<LinkId>, chain: u32, ty: u16, flags: u16) -> ChainChange {
        ChainChange {
            tc: self.tc.clone(),
            dev: dev.into(),
            parent: Ok(Parent::Root),
            chain,
            ty,
            flags,
        }
    }

    /// `tc chain show dev DEV PARENT`: the chains of one parent's block.
    pub fn list(&self, dev: impl Into<LinkId>) -> ChainList {
        ChainList {
            tc: self.tc.clone(),
            dev: dev.into(),
            parent: Parent::Root,
            parent_err: None,
        }
    }
}

/// The tcmsg of a chain request (`chain` as TCA_CHAIN when given).
async fn writer(tc: &TcHandle, dev: &LinkId, parent: u32, chain: Option<u32>) -> Result<Writer> {
    let mut w = Writer::new(TcMsg {
        ifindex: tc.ifindex(dev).await?,
        parent,
        ..TcMsg::default()
    });
    if let Some(c) = chain {
        w.u32("chain", tca::CHAIN, c)?;
    }
    Ok(w)
}

/// A chain add or delete; see [`ChainOps::add`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct ChainChange {
    tc: TcHandle,
    dev: LinkId,
    parent: Result<Parent>,
    chain: u32,
    ty: u16,
    flags: u16,
}

impl ChainChange {
    /// `parent P`: `ingress`/`egress` (clsact's hooks), `root`, or a
    /// qdisc (`1:`).
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        self.parent = parent.into_parent("parent");
        self
    }

    fn context(&self) -> Context {
        let op = if self.ty == msg::NEWCHAIN {
            "chain add"
        } else {
            "chain del"
        };
        let p = self.parent.as_ref().map_or(String::new(), |p| match p {
            Parent::Handle(h) => format!(" parent {h}"),
            p => format!(" {p}"),
        });
        Context::new(op, format!("dev {}{p} chain {}", self.dev, self.chain)).missing("chain")
    }

    /// The request this builder stands for, checked but not sent.
    pub async fn into_request(self) -> Result<(TcMessage, u16)> {
        let ctx = self.context();
        self.request().await.within(&ctx)
    }

    async fn request(self) -> Result<(TcMessage, u16)> {
        let parent = match self.parent {
            Ok(p) => p.raw_filter(),
            Err(e) => return Err(e),
        };
        let w = writer(&self.tc, &self.dev, parent, Some(self.chain)).await?;
        let m = TcMessage {
            message_type: self.ty,
            payload: w.buf,
        };
        Ok((m, self.flags))
    }

    async fn run(self) -> Result<()> {
        let tc = self.tc.clone();
        let ctx = self.context();
        let (m, flags) = self.request().await.within(&ctx)?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// A chain listing; see [`ChainOps::list`]. `.await` for a `Vec` (an
/// interrupted dump is run again), or [`stream`](Self::stream).
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct ChainList {
    tc: TcHandle,
    dev: LinkId,
    parent: Parent,
    parent_err: Option<(&'static str, String)>,
}

impl ChainList {
    /// `parent P` (the root qdisc's block by default).
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        match parent.into_parent("parent") {
            Ok(p) => self.parent = p,
            Err(e) => self.parent_err = Some(("parent", e.to_string())),
        }
        self
    }

    /// The chains as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Chain>> + Send + 'static {
        let ctx = Context::new("chain show", format!("dev {} {}", self.dev, self.parent));
        futures::stream::once(async move {
            if let Some((field, reason)) = self.parent_err {
                return Err(Error::invalid(field, reason)).within(&ctx);
            }
            // As for filters, the dump finds the root qdisc by a parent of 0.
            let parent = match self.parent {
                Parent::Root => 0,
                p => p.raw_filter(),
            };
            let w = writer(&self.tc, &self.dev, parent, None)
                .await
                .within(&ctx)?;
            let m = TcMessage {
                message_type: msg::GETCHAIN,
                payload: w.buf,
            };
            let ctx = ctx.clone();
            let dump = self
                .tc
                .req
                .dump_raw(m, 0)
                .map(move |r| r.and_then(Chain::from_raw).within(&ctx));
            Ok::<_, Error>(dump)
        })
        .try_flatten()
    }
}

impl IntoFuture for ChainList {
    type Output = Result<Vec<Chain>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Chain>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(request_kind(msg::GETCHAIN), move || {
            self.clone().stream().try_collect()
        }))
    }
}

/// A chain as the kernel reports it (RTM_NEWCHAIN/RTM_DELCHAIN).
#[derive(Clone)]
pub struct Chain {
    m: Indexed<8>,
    h: TcMsg,
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("ifindex", &self.ifindex())
            .field("parent", &self.parent())
            .field("chain", &self.chain())
            .finish_non_exhaustive()
    }
}

impl Chain {
    /// Types an RTM_NEWCHAIN/RTM_DELCHAIN message.
    pub fn from_raw(raw: RawMessage) -> Result<Chain> {
        let m = Indexed::new(raw, msg::NEWCHAIN, TCMSG_LEN, request_kind(msg::GETCHAIN))?;
        let h = tcmsg_of(&m.raw.bytes).unwrap_or_default();
        Ok(Chain { m, h })
    }

    /// The message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The device's index (`u32::MAX` for a shared block's chain).
    pub fn ifindex(&self) -> u32 {
        self.h.ifindex
    }

    /// The block's qdisc, as the kernel reports it (`ffff:` for clsact's
    /// and ingress's: `tc chain show` prints `parent ffff:`).
    pub fn parent(&self) -> Parent {
        Parent::of_qdisc(self.h.parent)
    }

    /// The chain's number.
    pub fn chain(&self) -> u32 {
        self.m.attr(tca::CHAIN).and_then(u32_of).unwrap_or(0)
    }

    /// The kind of the chain's filter template, if it has one.
    pub fn template_kind(&self) -> Option<&str> {
        self.m.attr(tca::KIND).and_then(str_of)
    }
}

super::awaited_by_run!(ChainChange => ());
