//! The policy requests of [`XfrmHandle`]: add, update, delete, get, list,
//! flush, SPD counts, default policies.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::{DefaultAction, DefaultPolicy, Policy, PolicyId, SpdInfo};
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Result, ResultExt};
use crate::xfrm::types::{Rd, pad4};
use crate::xfrm::{CREATE_EXCL, XfrmHandle, decode_error, message, msg};

/// A policy listing; `.await` it or call [`stream`](Self::stream).
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct PolicyList {
    handle: XfrmHandle,
}

impl PolicyList {
    /// The policies as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Policy>> + Send + 'static {
        self.handle
            .req
            .dump_raw(message(msg::GETPOLICY, Vec::new()), 0)
            .map(|r| r.and_then(|m| Policy::from_raw(&m)))
    }
}

impl IntoFuture for PolicyList {
    type Output = Result<Vec<Policy>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Policy>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(retry_interrupted(
            crate::xfrm::kind(msg::GETPOLICY),
            move || self.clone().stream().try_collect(),
        ))
    }
}

/// `SELECTOR dir DIR` (or `index N dir DIR`): a policy error's object.
fn object(id: &PolicyId) -> String {
    if id.index != 0 {
        format!("index {} dir {}", id.index, id.dir)
    } else {
        format!("{} dir {}", id.selector, id.dir)
    }
}

impl XfrmHandle {
    /// `ip xfrm policy add`: fails with EEXIST if the policy exists. Errors
    /// read `xfrm policy add SELECTOR dir DIR: CAUSE`.
    pub async fn add_policy(&self, p: &Policy) -> Result<()> {
        let ctx = Context::new("xfrm policy add", format!("{} dir {}", p.selector, p.dir));
        let b = p.emit().within(&ctx)?;
        self.req
            .ack(message(msg::NEWPOLICY, b), CREATE_EXCL)
            .await
            .within(&ctx)
    }

    /// `ip xfrm policy update`: adds or replaces.
    pub async fn update_policy(&self, p: &Policy) -> Result<()> {
        let ctx = Context::new(
            "xfrm policy update",
            format!("{} dir {}", p.selector, p.dir),
        );
        let b = p.emit().within(&ctx)?;
        self.req
            .ack(message(msg::UPDPOLICY, b), 0)
            .await
            .within(&ctx)
    }

    /// `ip xfrm policy delete`; a missing policy is `is_not_found()`,
    /// displayed as `no such policy`.
    pub async fn del_policy(&self, id: &PolicyId) -> Result<()> {
        let ctx = Context::new("xfrm policy delete", object(id)).missing("policy");
        let b = id.emit().within(&ctx)?;
        self.req
            .ack(message(msg::DELPOLICY, b), 0)
            .await
            .within(&ctx)
    }

    /// `ip xfrm policy get`; a missing policy is `is_not_found()`.
    pub async fn get_policy(&self, id: &PolicyId) -> Result<Policy> {
        let ctx = Context::new("xfrm policy get", object(id)).missing("policy");
        let b = id.emit().within(&ctx)?;
        let raw = self
            .req
            .get_raw(message(msg::GETPOLICY, b), 0)
            .await
            .within(&ctx)?;
        Policy::from_raw(&raw).within(&ctx)
    }

    /// `ip xfrm policy list`.
    pub fn policies(&self) -> PolicyList {
        PolicyList {
            handle: self.clone(),
        }
    }

    /// `ip xfrm policy flush` (main policies).
    pub async fn flush_policies(&self) -> Result<()> {
        let ctx = Context::new("xfrm policy flush", "");
        self.req
            .ack(message(msg::FLUSHPOLICY, Vec::new()), 0)
            .await
            .within(&ctx)
    }

    /// `ip xfrm policy count`.
    pub async fn spd_info(&self) -> Result<SpdInfo> {
        let raw = self
            .req
            .get_raw(message(msg::GETSPDINFO, vec![0xff; 4]), 0)
            .await?;
        if raw.header.ty != msg::NEWSPDINFO {
            return Err(decode_error(
                msg::GETSPDINFO,
                "expected XFRM_MSG_NEWSPDINFO",
            ));
        }
        Ok(SpdInfo::parse(raw.payload()))
    }

    /// `ip xfrm policy getdefault`.
    pub async fn default_policy(&self) -> Result<DefaultPolicy> {
        let mut b = vec![0u8; 3];
        pad4(&mut b);
        let raw = self.req.get_raw(message(msg::GETDEFAULT, b), 0).await?;
        let r = Rd(raw.payload());
        if raw.payload().len() < 3 {
            return Err(decode_error(msg::GETDEFAULT, "reply too short"));
        }
        Ok(DefaultPolicy {
            input: DefaultAction::from_raw(r.u8(0)),
            forward: DefaultAction::from_raw(r.u8(1)),
            output: DefaultAction::from_raw(r.u8(2)),
        })
    }

    /// `ip xfrm policy setdefault`: [`DefaultAction::Unspec`] leaves a
    /// direction unchanged.
    pub async fn set_default_policy(&self, d: DefaultPolicy) -> Result<()> {
        let mut b = vec![d.input.raw(), d.forward.raw(), d.output.raw()];
        pad4(&mut b);
        self.req.ack(message(msg::SETDEFAULT, b), 0).await
    }
}
