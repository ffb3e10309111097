//! `conntrack -E`: NEW / UPDATE / DESTROY events on a socket of their own.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};

use super::entry::Conntrack;
use super::{ConntrackHandle, msg};
use crate::conn::flags;
use crate::conn::{Notification, RawMessage, Subscription};
use crate::error::{Error, RequestKind, Result};

/// A conntrack multicast group (`NFNLGRP_CONNTRACK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EventGroup {
    /// New entries (`conntrack -E -e NEW`).
    New,
    /// Changed entries (`-e UPDATE`).
    Update,
    /// Destroyed entries (`-e DESTROY`).
    Destroy,
}

impl EventGroup {
    /// The group's number.
    pub fn number(self) -> u32 {
        match self {
            EventGroup::New => 1,
            EventGroup::Update => 2,
            EventGroup::Destroy => 3,
        }
    }

    /// The three groups, as `conntrack -E` listens to.
    pub fn all() -> [EventGroup; 3] {
        [EventGroup::New, EventGroup::Update, EventGroup::Destroy]
    }
}

/// One conntrack event.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConntrackEvent {
    /// `[NEW]`: an entry was made.
    New(Conntrack),
    /// `[UPDATE]`: an entry changed (state, status, mark, timeout…).
    Update(Conntrack),
    /// `[DESTROY]`: an entry went (timed out, deleted, flushed).
    Destroy(Conntrack),
    /// The kernel dropped events (ENOBUFS): what was built from this
    /// stream must be dumped again. Events still queued at that moment are
    /// discarded with it, so every event after `Lost` is newer than it.
    Lost,
    /// An event that could not be decoded; the stream goes on.
    Undecodable(Error),
}

const EVENTS: RequestKind = RequestKind {
    message_type: 0,
    name: Some("conntrack event"),
};

impl ConntrackEvent {
    /// Types a notification: IPCTNL_MSG_CT_NEW with NLM_F_CREATE is a new
    /// entry, without it a change; IPCTNL_MSG_CT_DELETE a destroyed one.
    pub fn from_raw(raw: RawMessage) -> ConntrackEvent {
        let ty = raw.header.ty;
        let created = raw.header.flags & flags::CREATE != 0;
        let ct = match Conntrack::from_raw(raw) {
            Ok(ct) => ct,
            Err(e) => return ConntrackEvent::Undecodable(e),
        };
        if ty == msg::ty(msg::DELETE) {
            ConntrackEvent::Destroy(ct)
        } else if created {
            ConntrackEvent::New(ct)
        } else {
            ConntrackEvent::Update(ct)
        }
    }

    /// The entry, for NEW, UPDATE and DESTROY.
    pub fn entry(&self) -> Option<&Conntrack> {
        match self {
            ConntrackEvent::New(c) | ConntrackEvent::Update(c) | ConntrackEvent::Destroy(c) => {
                Some(c)
            }
            _ => None,
        }
    }
}

/// A stream of [`ConntrackEvent`]s; see [`ConntrackHandle::events`].
/// Dropping it closes its socket.
#[derive(Debug)]
pub struct ConntrackEvents {
    sub: Subscription,
}

impl ConntrackEvents {
    /// Waits until the subscription is in place: changes made after this
    /// returns are seen.
    pub async fn ready(&mut self) -> Result<()> {
        self.sub.ready().await.map_err(Error::Io)
    }

    /// Events lost so far (ENOBUFS reports).
    pub fn losses(&self) -> u64 {
        self.sub.losses
    }
}

impl Stream for ConntrackEvents {
    type Item = ConntrackEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ConntrackEvent>> {
        Poll::Ready(Some(match ready!(self.sub.poll_next_unpin(cx)) {
            None => return Poll::Ready(None),
            Some(Notification::Message(raw)) => ConntrackEvent::from_raw(raw),
            Some(Notification::Lost) => ConntrackEvent::Lost,
            Some(Notification::Malformed(reason)) => ConntrackEvent::Undecodable(Error::Decode {
                request: EVENTS,
                reason: reason.into(),
            }),
            Some(Notification::Failed(e)) => ConntrackEvent::Undecodable(Error::Io(e)),
        }))
    }
}

impl ConntrackHandle {
    /// `conntrack -E`: events of `groups` ([`EventGroup::all`] for all) on
    /// a socket of their own, with the client's event receive buffer.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use futures::StreamExt;
    /// use tokio_netlink::netfilter::conntrack::{ConntrackEvent, EventGroup};
    /// let nl = tokio_netlink::Netlink::new();
    /// let mut ev = nl.conntrack().events(&EventGroup::all());
    /// ev.ready().await?;
    /// while let Some(e) = ev.next().await {
    ///     match e {
    ///         ConntrackEvent::New(ct) => println!("[NEW] {ct}"),
    ///         ConntrackEvent::Lost => println!("events lost: dump again"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self, groups: &[EventGroup]) -> ConntrackEvents {
        let groups: Vec<u32> = groups.iter().map(|g| g.number()).collect();
        ConntrackEvents {
            sub: self.req.subscribe(&groups),
        }
    }
}
