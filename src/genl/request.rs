//! [`GenlRequest`]: any family's command, sent raw, with the family
//! resolved by name through the client's cache.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt, stream};

use super::{AttrBuilder, Family, Generic, GenlHandle, GenlMessage};
use crate::conn::{Protocol, RawMessage};
use crate::error::{Context, Error, RequestKind, Result, ResultExt};

/// Which family a request goes to: by name (resolved through the client's
/// cache) or by a known id (sent as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyRef {
    /// A family name, e.g. `"nlctrl"`.
    Name(String),
    /// A family id, used without asking the controller.
    Id(u16),
}

impl From<&str> for FamilyRef {
    fn from(name: &str) -> Self {
        FamilyRef::Name(name.to_owned())
    }
}

impl From<String> for FamilyRef {
    fn from(name: String) -> Self {
        FamilyRef::Name(name)
    }
}

impl From<&Family> for FamilyRef {
    /// By name, so that a family re-registered under a new id is found.
    fn from(f: &Family) -> Self {
        FamilyRef::Name(f.name.clone())
    }
}

impl From<u16> for FamilyRef {
    fn from(id: u16) -> Self {
        FamilyRef::Id(id)
    }
}

impl fmt::Display for FamilyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FamilyRef::Name(n) => f.write_str(n),
            FamilyRef::Id(id) => write!(f, "id {id:#x}"),
        }
    }
}

/// The replies of a dump: a stream of messages (errors are items).
pub type GenlDump = Pin<Box<dyn Stream<Item = Result<GenlMessage>> + Send>>;

/// One command of any family, built by [`GenlHandle::request`] and sent by
/// [`ack`](Self::ack), [`get`](Self::get) or [`dump`](Self::dump).
///
/// A family named by name is taken from the client's cache (resolved on a
/// miss). When the kernel answers ENOENT, which it also answers for an id
/// that no family has any more, the name is resolved again: if the family
/// now has another id (it was unloaded and registered again), the request
/// is sent once more to that id; if it is gone, the error says `no such
/// family`; else the family's own ENOENT is returned.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent with ack, get or dump"]
pub struct GenlRequest {
    handle: GenlHandle,
    family: FamilyRef,
    cmd: u8,
    version: Option<u8>,
    payload: Bytes,
    flags: u16,
    err: Option<Error>,
}

impl GenlHandle {
    /// Command `cmd` of `family` (a name, a [`Family`] or an id), with no
    /// attributes yet.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use tokio_netlink::genl::{AttrBuilder, ctrl};
    /// // CTRL_CMD_GETFAMILY by hand: what `family("nlctrl")` sends.
    /// let reply = nl
    ///     .genl()
    ///     .request("nlctrl", ctrl::CMD_GETFAMILY)
    ///     .attrs(AttrBuilder::new().str(ctrl::ATTR_FAMILY_NAME, "nlctrl"))
    ///     .get()
    ///     .await?;
    /// let id = reply.attributes().get(ctrl::ATTR_FAMILY_ID).and_then(|a| a.u16());
    /// assert_eq!(id, Some(0x10));
    /// # Ok(()) }
    /// ```
    pub fn request(&self, family: impl Into<FamilyRef>, cmd: u8) -> GenlRequest {
        GenlRequest {
            handle: self.clone(),
            family: family.into(),
            cmd,
            version: None,
            payload: Bytes::new(),
            flags: 0,
            err: None,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Ack,
    Get,
}

impl GenlRequest {
    /// `genlmsghdr.version` (default: the family's version; 1 for a
    /// family given by id).
    pub fn version(mut self, v: u8) -> Self {
        self.version = Some(v);
        self
    }

    /// The attributes (replacing any payload set before); an input error
    /// of the builder is returned when the request is sent.
    pub fn attrs(mut self, attrs: AttrBuilder) -> Self {
        match attrs.finish() {
            Ok(b) => self.payload = b.into(),
            Err(e) => self.err = Some(e),
        }
        self
    }

    /// The whole payload after `genlmsghdr`, as is: for families with a
    /// header of their own, that header and then the attributes.
    pub fn payload(mut self, bytes: impl Into<Bytes>) -> Self {
        self.payload = bytes.into();
        self
    }

    /// More NLM_F_* flags ([`conn::flags`](crate::conn::flags)), e.g.
    /// `CREATE | EXCL`.
    pub fn flags(mut self, flags: u16) -> Self {
        self.flags = flags;
        self
    }

    /// Sends with NLM_F_ACK; resolves at the kernel's acknowledgement.
    pub async fn ack(self) -> Result<()> {
        self.run(Kind::Ack).await.map(|_| ())
    }

    /// Sends and returns the kernel's reply.
    pub async fn get(self) -> Result<GenlMessage> {
        let ctx = self.context();
        match self.run(Kind::Get).await? {
            Some(raw) => decode(&raw).within(&ctx),
            // `send` returns a reply for every get it does not fail; this
            // arm only lets ack and get share one path.
            None => Err(Error::Decode {
                request: RequestKind {
                    message_type: 0,
                    name: None,
                },
                reason: "acknowledged without the expected reply message".into(),
            }),
        }
    }

    /// Dumps (NLM_F_DUMP): the replies as a stream.
    pub fn dump(self) -> GenlDump {
        let ctx = self.context();
        let start = async move {
            if let Some(e) = self.err {
                return Err(e);
            }
            let (id, fam) = self.target().await?;
            let mut dump = self
                .handle
                .req
                .dump_raw(self.message(id, fam.as_deref()), self.flags);
            let mut first = dump.next().await;
            if let (Some(Err(e)), Some(old)) = (&first, &fam)
                && e.errno() == Some(libc::ENOENT)
            {
                let fresh = self.reresolve(old).await?;
                if let Some(fresh) = fresh {
                    let m = self.message(fresh.id, Some(&fresh));
                    dump = self.handle.req.dump_raw(m, self.flags);
                    first = dump.next().await;
                }
            }
            Ok(stream::iter(first).chain(dump))
        };
        let items = stream::once(start).flat_map(|r| match r {
            Ok(s) => s.left_stream(),
            Err(e) => stream::iter(Some(Err(e))).right_stream(),
        });
        Box::pin(items.map(move |r| r.and_then(|raw| decode(&raw)).within(&ctx)))
    }

    async fn run(self, kind: Kind) -> Result<Option<RawMessage>> {
        let ctx = self.context();
        if let Some(e) = self.err {
            return Err(e);
        }
        let (id, fam) = self.target().await?;
        let r = self.send(kind, id, fam.as_deref()).await;
        match (r, &fam) {
            (Err(e), Some(old)) if e.errno() == Some(libc::ENOENT) => {
                match self.reresolve(old).await? {
                    Some(fresh) => self.send(kind, fresh.id, Some(&fresh)).await,
                    None => Err(e),
                }
            }
            (r, _) => r,
        }
        .within(&ctx)
    }

    /// The id to send to, and the family when it was resolved by name.
    async fn target(&self) -> Result<(u16, Option<std::sync::Arc<Family>>)> {
        match &self.family {
            FamilyRef::Id(id) => Ok((*id, None)),
            FamilyRef::Name(n) => {
                let f = self.handle.resolve(n).await?;
                Ok((f.id, Some(f)))
            }
        }
    }

    /// After ENOENT from `old`'s id: the family under a new id, or `None`
    /// when it still has the same one (the ENOENT was the family's own).
    /// A family gone is the resolution's `no such family` error.
    async fn reresolve(&self, old: &Family) -> Result<Option<std::sync::Arc<Family>>> {
        self.handle.cache.forget(&old.name, old.id);
        let fresh = self.handle.fetch(&old.name).await?;
        Ok((fresh.id != old.id).then_some(fresh))
    }

    async fn send(&self, kind: Kind, id: u16, fam: Option<&Family>) -> Result<Option<RawMessage>> {
        let m = self.message(id, fam);
        match kind {
            Kind::Ack => self.handle.req.ack(m, self.flags).await.map(|_| None),
            Kind::Get => self.handle.req.get_raw(m, self.flags).await.map(Some),
        }
    }

    fn message(&self, id: u16, fam: Option<&Family>) -> GenlMessage {
        let v = fam.map_or(1, |f| f.version.min(u8::MAX as u32) as u8);
        let mut m = GenlMessage::new(id, self.cmd, self.version.unwrap_or(v));
        m.payload = self.payload.clone();
        m
    }

    fn context(&self) -> Context {
        Context::new("genl request", format!("{} cmd {}", self.family, self.cmd))
    }
}

fn decode(raw: &RawMessage) -> Result<GenlMessage> {
    let rk = RequestKind {
        message_type: raw.header.ty,
        name: Generic::message_name(raw.header.ty),
    };
    GenlMessage::from_raw(raw, rk)
}
