//! `ip xfrm monitor`: typed events from the XFRM multicast groups.

pub(crate) mod notices;

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};

use super::migrate::Migrate;
use super::policy::{POLICY_INFO_LEN, Policy};
use super::state::{SA_INFO_LEN, State};
use super::types::{IpsecProto, Rd};
use super::{XfrmHandle, decode_error, msg};
use crate::conn::{Notification, RawMessage, Subscription};
use crate::error::{Error, RequestKind, Result};

pub use notices::{Acquire, Mapping, Report};
use notices::{parse_acquire, parse_mapping, parse_report};

/// An XFRM multicast group (`XFRMNLGRP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Group {
    /// Acquires: a packet needs a state that does not exist.
    Acquire,
    /// State expirations (soft and hard).
    Expire,
    /// New, updated, deleted and flushed states.
    Sa,
    /// New, updated, deleted and flushed policies (and policy expirations).
    Policy,
    /// Async events (replay and lifetime thresholds).
    Aevents,
    /// Reports.
    Report,
    /// Migrations.
    Migrate,
    /// NAT-T mapping changes.
    Mapping,
}

impl Group {
    /// The group's number.
    pub fn number(self) -> u32 {
        match self {
            Group::Acquire => 1,
            Group::Expire => 2,
            Group::Sa => 3,
            Group::Policy => 4,
            Group::Aevents => 5,
            Group::Report => 6,
            Group::Migrate => 7,
            Group::Mapping => 8,
        }
    }

    /// Every group, as `ip xfrm monitor` listens to.
    pub fn all() -> Vec<Group> {
        vec![
            Group::Acquire,
            Group::Expire,
            Group::Sa,
            Group::Policy,
            Group::Aevents,
            Group::Report,
            Group::Migrate,
            Group::Mapping,
        ]
    }
}

/// One XFRM event.
#[derive(Debug)]
#[non_exhaustive]
pub enum XfrmEvent {
    /// A state was added.
    NewState(State),
    /// A state was updated.
    UpdateState(State),
    /// A state was deleted.
    DelState(State),
    /// States were flushed (of a protocol, or [`IpsecProto::Any`]).
    FlushStates(IpsecProto),
    /// A state reached a soft or hard limit.
    Expire {
        /// The state.
        state: State,
        /// Hard (the state is gone) or soft.
        hard: bool,
    },
    /// A policy was added.
    NewPolicy(Policy),
    /// A policy was updated.
    UpdatePolicy(Policy),
    /// A policy was deleted.
    DelPolicy(Policy),
    /// Policies were flushed.
    FlushPolicies,
    /// A policy reached a soft or hard limit.
    PolicyExpire {
        /// The policy.
        policy: Policy,
        /// Hard or soft.
        hard: bool,
    },
    /// A packet needs a state.
    Acquire(Box<Acquire>),
    /// A NAT-T mapping changed.
    Mapping(Mapping),
    /// A report (XFRM_MSG_REPORT).
    Report(Report),
    /// A policy's (and its states') endpoints were migrated
    /// (XFRM_MSG_MIGRATE).
    Migrate(Box<Migrate>),
    /// Another message (e.g. XFRM_MSG_NEWAE).
    Other(RawMessage),
    /// The kernel dropped notifications (ENOBUFS): resynchronise. Those
    /// still queued at that moment are discarded with it, so every event
    /// after `Lost` is newer than it.
    Lost,
    /// A notification that could not be decoded; the stream goes on.
    Undecodable(Error),
}

const MONITOR: RequestKind = RequestKind {
    message_type: 0,
    name: Some("XFRM notification"),
};

impl XfrmEvent {
    /// Types a notification.
    pub fn from_raw(raw: RawMessage) -> XfrmEvent {
        let ty = raw.header.ty;
        let p = raw.payload();
        let r = match ty {
            msg::NEWSA => State::parse(ty, p).map(XfrmEvent::NewState),
            msg::UPDSA => State::parse(ty, p).map(XfrmEvent::UpdateState),
            msg::DELSA => State::parse(ty, p).map(XfrmEvent::DelState),
            msg::FLUSHSA => Ok(XfrmEvent::FlushStates(IpsecProto::from_raw(
                p.first().copied().unwrap_or(0),
            ))),
            msg::EXPIRE => match p.get(..SA_INFO_LEN) {
                Some(info) => State::parse_parts(ty, info, p, SA_INFO_LEN + 8).map(|state| {
                    XfrmEvent::Expire {
                        state,
                        hard: p.get(SA_INFO_LEN).copied().unwrap_or(0) != 0,
                    }
                }),
                None => Err(decode_error(ty, "expire too short")),
            },
            msg::NEWPOLICY => Policy::parse(ty, p).map(XfrmEvent::NewPolicy),
            msg::UPDPOLICY => Policy::parse(ty, p).map(XfrmEvent::UpdatePolicy),
            msg::DELPOLICY => Policy::parse(ty, p).map(XfrmEvent::DelPolicy),
            msg::FLUSHPOLICY => Ok(XfrmEvent::FlushPolicies),
            msg::POLEXPIRE => match p.get(..POLICY_INFO_LEN) {
                Some(info) => {
                    let mut policy = Policy::parse_info(Rd(info));
                    policy.parse_attrs(p, POLICY_INFO_LEN + 8);
                    Ok(XfrmEvent::PolicyExpire {
                        policy,
                        hard: p.get(POLICY_INFO_LEN).copied().unwrap_or(0) != 0,
                    })
                }
                None => Err(decode_error(ty, "polexpire too short")),
            },
            msg::ACQUIRE => parse_acquire(p).map(|a| XfrmEvent::Acquire(Box::new(a))),
            msg::MAPPING => parse_mapping(p).map(XfrmEvent::Mapping),
            msg::REPORT => parse_report(p).map(XfrmEvent::Report),
            msg::MIGRATE => Migrate::parse(p).map(|m| XfrmEvent::Migrate(Box::new(m))),
            _ => Ok(XfrmEvent::Other(raw.clone())),
        };
        r.unwrap_or_else(XfrmEvent::Undecodable)
    }
}

/// A stream of [`XfrmEvent`]s; see [`XfrmHandle::monitor`]. Dropping it
/// closes its socket.
#[derive(Debug)]
pub struct Monitor {
    sub: Subscription,
}

impl Monitor {
    /// Waits until the subscription is in place: events after this returns
    /// are seen.
    pub async fn ready(&mut self) -> Result<()> {
        self.sub.ready().await.map_err(Error::Io)
    }

    /// Notifications lost so far (ENOBUFS events).
    pub fn losses(&self) -> u64 {
        self.sub.losses
    }
}

impl Stream for Monitor {
    type Item = XfrmEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<XfrmEvent>> {
        Poll::Ready(Some(match ready!(self.sub.poll_next_unpin(cx)) {
            None => return Poll::Ready(None),
            Some(Notification::Message(raw)) => XfrmEvent::from_raw(raw),
            Some(Notification::Lost) => XfrmEvent::Lost,
            Some(Notification::Malformed(reason)) => XfrmEvent::Undecodable(Error::Decode {
                request: MONITOR,
                reason: reason.into(),
            }),
            Some(Notification::Failed(e)) => XfrmEvent::Undecodable(Error::Io(e)),
        }))
    }
}

impl XfrmHandle {
    /// `ip xfrm monitor`: events of `groups` ([`Group::all`] for everything),
    /// on a socket of their own in the client's namespace.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use futures::StreamExt;
    /// use tokio_netlink::xfrm::{Group, XfrmEvent};
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut m = nl.xfrm().monitor(&Group::all());
    /// m.ready().await?;
    /// while let Some(e) = m.next().await {
    ///     if let XfrmEvent::Acquire(a) = e {
    ///         println!("acquire for {}", a.selector);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn monitor(&self, groups: &[Group]) -> Monitor {
        let groups: Vec<u32> = groups.iter().map(|g| g.number()).collect();
        Monitor {
            sub: self.req.subscribe(&groups),
        }
    }
}
