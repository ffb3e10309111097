//! `tc class add|replace|change|del|show`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::handle::{IntoHandle, IntoParent};
use super::kinds::{ClassKind, HtbXstats};
use super::stats::Stats;
use super::wire::{TCMSG_LEN, TcMsg, Writer, tca, tcmsg_of};
use super::{Handle, Parent, TcHandle, TcMessage, msg, request_kind};
use crate::conn::RawMessage;
use crate::conn::attrs::{Indexed, str_of};
use crate::conn::flags;
use crate::conn::requester::retry_interrupted;
use crate::error::{Context, Error, Result, ResultExt};
use crate::route::link::LinkId;

/// Class operations; see [`TcHandle::class`].
#[derive(Debug, Clone)]
pub struct ClassOps {
    pub(crate) tc: TcHandle,
}

impl ClassOps {
    /// `tc class add dev DEV parent P classid ID KIND …`. The parent
    /// defaults to the qdisc of the class id's major number (`1:` for
    /// `1:10`), as the kernel would pick.
    pub fn add(
        &self,
        dev: impl Into<LinkId>,
        classid: impl IntoHandle,
        kind: impl Into<ClassKind>,
    ) -> ClassChange {
        ClassChange::new(
            self,
            dev.into(),
            classid,
            kind.into(),
            flags::CREATE | flags::EXCL,
        )
    }

    /// `tc class replace …`: adds, or changes the class with that id.
    pub fn replace(
        &self,
        dev: impl Into<LinkId>,
        classid: impl IntoHandle,
        kind: impl Into<ClassKind>,
    ) -> ClassChange {
        ClassChange::new(
            self,
            dev.into(),
            classid,
            kind.into(),
            flags::CREATE | flags::REPLACE,
        )
    }

    /// `tc class change …`: changes an existing class (`is_not_found()` if
    /// there is none).
    pub fn change(
        &self,
        dev: impl Into<LinkId>,
        classid: impl IntoHandle,
        kind: impl Into<ClassKind>,
    ) -> ClassChange {
        ClassChange::new(self, dev.into(), classid, kind.into(), 0)
    }

    /// `tc class del dev DEV classid ID`.
    pub fn del(&self, dev: impl Into<LinkId>, classid: impl IntoHandle) -> ClassDel {
        ClassDel {
            tc: self.tc.clone(),
            dev: dev.into(),
            classid: classid.into_handle("classid"),
        }
    }

    /// `tc class show dev DEV [parent P]`: the kernel lists classes per
    /// device.
    pub fn list(&self, dev: impl Into<LinkId>) -> ClassList {
        ClassList {
            tc: self.tc.clone(),
            dev: dev.into(),
            parent: Ok(None),
        }
    }
}

fn class_id(h: Result<Handle>) -> Result<Handle> {
    let h = h?;
    if h.major() == 0 || h.minor() == 0 {
        return Err(Error::invalid(
            "classid",
            format!("{h} is not MAJ:MIN with both numbers above 0"),
        ));
    }
    Ok(h)
}

/// An add, replace or change of a class; `.await` it.
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct ClassChange {
    tc: TcHandle,
    dev: LinkId,
    classid: Result<Handle>,
    kind: ClassKind,
    flags: u16,
    parent: Result<Option<Parent>>,
}

impl ClassChange {
    fn new(
        ops: &ClassOps,
        dev: LinkId,
        classid: impl IntoHandle,
        kind: ClassKind,
        flags: u16,
    ) -> ClassChange {
        ClassChange {
            tc: ops.tc.clone(),
            dev,
            classid: class_id(classid.into_handle("classid")),
            kind,
            flags,
            parent: Ok(None),
        }
    }

    /// `parent P`: the qdisc (`1:`) or class (`1:1`) above it.
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        self.parent = parent.into_parent("parent").map(Some);
        self
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`] or to
    /// compare with what `tc` sends (device names are looked up now).
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(TcMessage, u16)> {
        let ctx = self.context();
        self.request().await.within(&ctx)
    }

    /// `class add dev D [parent P] classid ID KIND`, for errors.
    fn context(&self) -> Context {
        let op = match self.flags {
            0 => "class change",
            f if f & flags::REPLACE != 0 => "class replace",
            _ => "class add",
        };
        let mut o = format!("dev {}", self.dev);
        if let Ok(Some(p)) = &self.parent {
            o.push_str(&format!(" parent {p}"));
        }
        if let Ok(id) = &self.classid {
            o.push_str(&format!(" classid {id}"));
        }
        o.push(' ');
        o.push_str(self.kind.name());
        Context::new(op, o)
    }

    async fn request(self) -> Result<(TcMessage, u16)> {
        let flags = self.flags;
        let classid = self.classid?;
        let parent = self
            .parent?
            .unwrap_or(Parent::Handle(Handle::new(classid.major(), 0)));
        let ifindex = self.tc.ifindex(&self.dev).await?;
        let mut w = Writer::new(TcMsg {
            ifindex,
            handle: classid.raw(),
            parent: parent.raw_qdisc(),
            info: 0,
        });
        self.kind.encode(&mut w)?;
        let m = TcMessage {
            message_type: msg::NEWTCLASS,
            payload: w.buf,
        };
        Ok((m, flags))
    }

    async fn run(self) -> Result<()> {
        let tc = self.tc.clone();
        let ctx = self.context();
        let (m, flags) = self.request().await.within(&ctx)?;
        tc.req.ack(m, flags).await.within(&ctx)
    }
}

/// A class delete; see [`ClassOps::del`].
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct ClassDel {
    tc: TcHandle,
    dev: LinkId,
    classid: Result<Handle>,
}

impl ClassDel {
    async fn run(self) -> Result<()> {
        let mut o = format!("dev {}", self.dev);
        if let Ok(id) = &self.classid {
            o.push_str(&format!(" classid {id}"));
        }
        let ctx = Context::new("class del", o).missing("class");
        self.send().await.within(&ctx)
    }

    async fn send(self) -> Result<()> {
        let classid = class_id(self.classid)?;
        let ifindex = self.tc.ifindex(&self.dev).await?;
        let w = Writer::new(TcMsg {
            ifindex,
            handle: classid.raw(),
            parent: 0,
            info: 0,
        });
        let m = TcMessage {
            message_type: msg::DELTCLASS,
            payload: w.buf,
        };
        self.tc.req.ack(m, 0).await
    }
}

/// A class listing; see [`ClassOps::list`].
#[derive(Debug)]
#[must_use = "a listing does nothing until awaited or streamed"]
pub struct ClassList {
    tc: TcHandle,
    dev: LinkId,
    parent: Result<Option<Parent>>,
}

impl ClassList {
    /// `parent P`: only the classes of that qdisc (`1:`), or the children
    /// of that class (`1:1`).
    pub fn parent(mut self, parent: impl IntoParent) -> Self {
        self.parent = parent.into_parent("parent").map(Some);
        self
    }

    /// The classes as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<Class>> + Send + 'static {
        let ctx = Context::new("class show", format!("dev {}", self.dev));
        futures::stream::once(async move {
            let parent = self.parent?;
            let ifindex = self.tc.ifindex(&self.dev).await.within(&ctx)?;
            // The kernel filters by the parent's qdisc (its major number);
            // a class parent is checked here, as `tc` does.
            let w = Writer::new(TcMsg {
                ifindex,
                parent: parent.map_or(0, |p| p.raw_qdisc() & 0xFFFF_0000),
                ..TcMsg::default()
            });
            let m = TcMessage {
                message_type: msg::GETTCLASS,
                payload: w.buf,
            };
            let dump = self.tc.req.dump_raw(m, 0).filter_map(move |r| {
                std::future::ready(match r.and_then(Class::from_raw) {
                    Ok(c) if !wanted(parent, &c) => None,
                    other => Some(other),
                })
            });
            Ok::<_, Error>(dump)
        })
        .try_flatten()
    }
}

/// Whether `c` is under `parent` as `tc class show parent P` means it.
fn wanted(parent: Option<Parent>, c: &Class) -> bool {
    match parent {
        Some(Parent::Handle(h)) if h.minor() != 0 => c.parent() == Parent::Handle(h),
        Some(Parent::Handle(h)) => c.classid().major() == h.major(),
        Some(p) => c.parent() == p,
        None => true,
    }
}

impl IntoFuture for ClassList {
    type Output = Result<Vec<Class>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<Class>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let ClassList { tc, dev, parent } = self;
        let parent = match parent {
            Ok(p) => p,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        Box::pin(retry_interrupted(request_kind(msg::GETTCLASS), move || {
            ClassList {
                tc: tc.clone(),
                dev: dev.clone(),
                parent: Ok(parent),
            }
            .stream()
            .try_collect()
        }))
    }
}

/// A class as the kernel reports it: a lazy view over the message.
#[derive(Clone)]
pub struct Class {
    m: Indexed<16>,
    h: TcMsg,
}

impl std::fmt::Debug for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Class")
            .field("ifindex", &self.ifindex())
            .field("classid", &self.classid())
            .field("parent", &self.parent())
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl Class {
    /// Types an RTM_NEWTCLASS/RTM_DELTCLASS message.
    pub fn from_raw(raw: RawMessage) -> Result<Class> {
        let m = Indexed::new(raw, msg::NEWTCLASS, TCMSG_LEN, request_kind(msg::GETTCLASS))?;
        let h = tcmsg_of(&m.raw.bytes).unwrap_or_default();
        Ok(Class { m, h })
    }

    /// The message.
    pub fn raw(&self) -> &RawMessage {
        &self.m.raw
    }

    /// The device's index.
    pub fn ifindex(&self) -> u32 {
        self.h.ifindex
    }

    /// `classid`.
    pub fn classid(&self) -> Handle {
        Handle::from_raw(self.h.handle)
    }

    /// `parent`: its qdisc or parent class (`root` for a top class of
    /// some kinds).
    pub fn parent(&self) -> Parent {
        Parent::of_qdisc(self.h.parent)
    }

    /// The child qdisc's handle (`leaf`), if it has one.
    pub fn leaf(&self) -> Option<Handle> {
        (self.h.info != 0).then_some(Handle::from_raw(self.h.info))
    }

    /// The kind's name, empty if absent.
    pub fn kind(&self) -> &str {
        self.m.attr(tca::KIND).and_then(str_of).unwrap_or("")
    }

    /// The kind with its options, typed.
    pub fn options(&self) -> ClassKind {
        ClassKind::decode(self.kind(), self.m.attr(tca::OPTIONS))
    }

    /// `tc -s` counters.
    pub fn stats(&self) -> Stats {
        Stats::decode(self.m.attr(tca::STATS2), self.m.attr(tca::STATS)).unwrap_or_default()
    }

    /// HTB's per-class statistics (lends, borrows, tokens…).
    pub fn htb_xstats(&self) -> Option<HtbXstats> {
        if self.kind() != "htb" {
            return None;
        }
        let app = self
            .m
            .attr(tca::STATS2)
            .and_then(|s| crate::conn::attrs::nested_get(s, 4))
            .or_else(|| self.m.attr(tca::XSTATS))?;
        HtbXstats::decode(app)
    }
}

super::awaited_by_run!(ClassChange => (), ClassDel => ());
