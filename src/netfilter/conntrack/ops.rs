//! `conntrack -G|-I|-U|-D` on one entry, found by its original tuple.

use super::entry::Conntrack;
use super::status::{Status, TcpState};
use super::tuple::Tuple;
use super::{ConntrackHandle, LABELS_MAX, cta, msg};
use crate::conn::attrs::check_string;
use crate::conn::flags;
use crate::error::{Context, Error, Result, ResultExt};
use crate::netfilter::Emit;
use crate::route::tc::awaited_by_run;

/// `zone Z` for error objects.
fn object(t: &Tuple, zone: Option<u16>) -> String {
    match zone {
        Some(z) => format!("{} {t} zone={z}", t.proto),
        None => format!("{} {t}", t.proto),
    }
}

/// A request keyed by `orig` (and the zone), after checking the tuple.
fn keyed(n: u8, orig: &Tuple, zone: Option<u16>) -> Result<Emit> {
    orig.validate()?;
    let af = match orig.family() {
        crate::Family::V4 => libc::AF_INET as u8,
        crate::Family::V6 => libc::AF_INET6 as u8,
    };
    let mut e = Emit::new(msg::ty(n), af, 0);
    orig.emit(&mut e, cta::TUPLE_ORIG);
    if let Some(z) = zone {
        e.be16(cta::ZONE, z);
    }
    Ok(e)
}

fn check_labels(labels: &[u8]) -> Result<()> {
    if labels.is_empty() || labels.len() > LABELS_MAX || !labels.len().is_multiple_of(4) {
        return Err(Error::invalid(
            "labels",
            format!(
                "{} bytes; the kernel takes 4 to {LABELS_MAX}, a multiple of 4",
                labels.len()
            ),
        ));
    }
    Ok(())
}

/// `conntrack -G`; see [`ConntrackHandle::get`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ConntrackGet {
    handle: ConntrackHandle,
    orig: Tuple,
    zone: Option<u16>,
}

impl ConntrackGet {
    /// `-w ZONE`: the entry's zone (default 0).
    pub fn zone(mut self, z: u16) -> Self {
        self.zone = Some(z);
        self
    }

    async fn run(self) -> Result<Conntrack> {
        let ctx =
            Context::new("conntrack get", object(&self.orig, self.zone)).missing("conntrack entry");
        let e = keyed(msg::GET, &self.orig, self.zone)?;
        let raw = self.handle.req.get_raw(e.message(), 0).await.within(&ctx)?;
        Conntrack::from_raw(raw).within(&ctx)
    }
}

/// `conntrack -I`; see [`ConntrackHandle::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ConntrackCreate {
    handle: ConntrackHandle,
    orig: Tuple,
    reply: Option<Tuple>,
    timeout: Option<u32>,
    mark: Option<u32>,
    status: Option<Status>,
    zone: Option<u16>,
    tcp_state: Option<TcpState>,
    helper: Option<String>,
}

impl ConntrackCreate {
    /// The reply tuple (default: the original reversed, as without NAT).
    pub fn reply(mut self, t: Tuple) -> Self {
        self.reply = Some(t);
        self
    }

    /// `-t SECONDS` (required: the kernel makes no entry without one).
    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }

    /// `-m MARK`.
    pub fn mark(mut self, m: u32) -> Self {
        self.mark = Some(m);
        self
    }

    /// `-u STATUS` (`Status::ASSURED | Status::SEEN_REPLY`…; the kernel
    /// ignores the bits it manages itself, such as CONFIRMED).
    pub fn status(mut self, s: Status) -> Self {
        self.status = Some(s);
        self
    }

    /// `-w ZONE`.
    pub fn zone(mut self, z: u16) -> Self {
        self.zone = Some(z);
        self
    }

    /// `--state STATE` of a TCP entry.
    pub fn tcp_state(mut self, s: TcpState) -> Self {
        self.tcp_state = Some(s);
        self
    }

    /// `helper=NAME`: attaches a registered helper (`ftp`, `sip`…) of the
    /// entry's protocol; the kernel refuses an unknown one (EOPNOTSUPP).
    pub fn helper(mut self, name: &str) -> Self {
        self.helper = Some(name.to_owned());
        self
    }

    /// The request, checked.
    fn request(&self) -> Result<Emit> {
        let Some(timeout) = self.timeout else {
            return Err(Error::invalid(
                "timeout",
                "a new entry needs a timeout (the kernel refuses one without)",
            ));
        };
        let reply = self.reply.unwrap_or_else(|| self.orig.reversed());
        reply.validate()?;
        if reply.family() != self.orig.family() || reply.proto != self.orig.proto {
            return Err(Error::invalid(
                "reply",
                format!("{} {reply} does not go with {}", reply.proto, self.orig),
            ));
        }
        if self.tcp_state.is_some() && self.orig.proto != super::Proto::Tcp {
            return Err(Error::invalid("state", "a TCP state needs a tcp entry"));
        }
        let mut e = keyed(msg::NEW, &self.orig, self.zone)?;
        reply.emit(&mut e, cta::TUPLE_REPLY);
        e.be32(cta::TIMEOUT, timeout);
        if let Some(m) = self.mark {
            e.be32(cta::MARK, m);
        }
        if let Some(s) = self.status {
            // As conntrack-tools: the kernel refuses (EBUSY) a status that
            // would clear CONFIRMED, which it sets on every created entry.
            e.be32(cta::STATUS, (s | Status::CONFIRMED).0);
        }
        if let Some(s) = self.tcp_state {
            e.nest(cta::PROTOINFO, |e| {
                e.nest(1, |e| {
                    e.u8(1, s.raw());
                });
            });
        }
        if let Some(h) = &self.helper {
            // NF_CT_HELPER_NAME_LEN is 16, the NUL included.
            check_string("helper", h, 15)?;
            e.nest(cta::HELP, |e| {
                let mut name = h.as_bytes().to_vec();
                name.push(0);
                e.attr(1, &name);
            });
        }
        Ok(e)
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("conntrack create", object(&self.orig, self.zone));
        let e = self.request()?;
        self.handle
            .req
            .ack(e.message(), flags::CREATE | flags::EXCL)
            .await
            .within(&ctx)
    }
}

/// `conntrack -U`; see [`ConntrackHandle::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ConntrackUpdate {
    handle: ConntrackHandle,
    orig: Tuple,
    zone: Option<u16>,
    mark: Option<(u32, Option<u32>)>,
    timeout: Option<u32>,
    status: Option<Status>,
    labels: Option<(Vec<u8>, Option<Vec<u8>>)>,
}

impl ConntrackUpdate {
    /// `-w ZONE`: the entry's zone.
    pub fn zone(mut self, z: u16) -> Self {
        self.zone = Some(z);
        self
    }

    /// `-m MARK`: sets the mark.
    pub fn mark(mut self, m: u32) -> Self {
        self.mark = Some((m, None));
        self
    }

    /// `-m MARK/MASK`: sets the bits of `mask` to those of `value`.
    pub fn mark_masked(mut self, value: u32, mask: u32) -> Self {
        self.mark = Some((value & mask, Some(mask)));
        self
    }

    /// `-t SECONDS`: a new timeout.
    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }

    /// `-u STATUS`: the entry's new status bits (CONFIRMED is added; the
    /// kernel ignores those it manages, and refuses with EBUSY to clear
    /// SEEN_REPLY or ASSURED once set: include them to keep them).
    pub fn status(mut self, s: Status) -> Self {
        self.status = Some(s);
        self
    }

    /// `-l`: the label bitmap (4 to 16 bytes, a multiple of 4), replacing
    /// the bits of `mask` when one is given, else all of them.
    pub fn labels(mut self, labels: &[u8], mask: Option<&[u8]>) -> Self {
        self.labels = Some((labels.to_vec(), mask.map(<[u8]>::to_vec)));
        self
    }

    fn request(&self) -> Result<Emit> {
        if self.mark.is_none()
            && self.timeout.is_none()
            && self.status.is_none()
            && self.labels.is_none()
        {
            return Err(Error::invalid(
                "update",
                "nothing to change: set a mark, timeout, status or labels",
            ));
        }
        let mut e = keyed(msg::NEW, &self.orig, self.zone)?;
        if let Some(t) = self.timeout {
            e.be32(cta::TIMEOUT, t);
        }
        if let Some(s) = self.status {
            e.be32(cta::STATUS, (s | Status::CONFIRMED).0);
        }
        if let Some((v, m)) = self.mark {
            e.be32(cta::MARK, v);
            if let Some(m) = m {
                e.be32(cta::MARK_MASK, m);
            }
        }
        if let Some((l, m)) = &self.labels {
            check_labels(l)?;
            e.attr(cta::LABELS, l);
            if let Some(m) = m {
                if m.len() != l.len() {
                    return Err(Error::invalid(
                        "labels",
                        "the mask must be as long as the labels",
                    ));
                }
                e.attr(cta::LABELS_MASK, m);
            }
        }
        Ok(e)
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("conntrack update", object(&self.orig, self.zone))
            .missing("conntrack entry");
        let e = self.request()?;
        // No NLM_F_CREATE: a missing entry is ENOENT, not a new one.
        self.handle.req.ack(e.message(), 0).await.within(&ctx)
    }
}

/// `conntrack -D` of one entry; see [`ConntrackHandle::delete`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until awaited"]
pub struct ConntrackDelete {
    handle: ConntrackHandle,
    orig: Tuple,
    zone: Option<u16>,
    id: Option<u32>,
}

impl ConntrackDelete {
    /// `-w ZONE`: the entry's zone.
    pub fn zone(mut self, z: u16) -> Self {
        self.zone = Some(z);
        self
    }

    /// Only if the entry's id is `id` (not a newer entry of the same tuple).
    pub fn id(mut self, id: u32) -> Self {
        self.id = Some(id);
        self
    }

    pub(super) fn request(&self) -> Result<Emit> {
        let mut e = keyed(msg::DELETE, &self.orig, self.zone)?;
        if let Some(id) = self.id {
            e.be32(cta::ID, id);
        }
        Ok(e)
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("conntrack delete", object(&self.orig, self.zone))
            .missing("conntrack entry");
        let e = self.request()?;
        self.handle.req.ack(e.message(), 0).await.within(&ctx)
    }
}

awaited_by_run! {
    ConntrackGet => Conntrack,
    ConntrackCreate => (),
    ConntrackUpdate => (),
    ConntrackDelete => (),
}

impl ConntrackHandle {
    /// `conntrack -G`: the entry of original tuple `orig`; a missing one is
    /// `is_not_found()`, displayed as `no such conntrack entry`.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::conntrack::{Proto, Tuple};
    /// let nl = tokio_netlink::Netlink::new();
    /// let t = Tuple::new("2001:db8::1", "2001:db8::2", Proto::Udp)?.ports(5000, 53);
    /// let e = nl.conntrack().get(t).zone(3).await?;
    /// println!("{e} (reply from {})", e.reply().src);
    /// # Ok(()) }
    /// ```
    pub fn get(&self, orig: Tuple) -> ConntrackGet {
        ConntrackGet {
            handle: self.clone(),
            orig,
            zone: None,
        }
    }

    /// `conntrack -I`: a new entry (NLM_F_CREATE | NLM_F_EXCL: an existing
    /// one is `is_exists()`). Set at least its [`timeout`](ConntrackCreate::timeout).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::conntrack::{Proto, Status, TcpState, Tuple};
    /// let nl = tokio_netlink::Netlink::new();
    /// let t = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)?.ports(40000, 443);
    /// nl.conntrack()
    ///     .create(t)
    ///     .timeout(120)
    ///     .tcp_state(TcpState::Established)
    ///     .status(Status::SEEN_REPLY | Status::ASSURED)
    ///     .mark(1)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, orig: Tuple) -> ConntrackCreate {
        ConntrackCreate {
            handle: self.clone(),
            orig,
            reply: None,
            timeout: None,
            mark: None,
            status: None,
            zone: None,
            tcp_state: None,
            helper: None,
        }
    }

    /// `conntrack -U`: changes the entry of original tuple `orig`; a
    /// missing one is `is_not_found()`.
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// use tokio_netlink::netfilter::conntrack::{Proto, Tuple};
    /// let nl = tokio_netlink::Netlink::new();
    /// let t = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Udp)?.ports(5000, 53);
    /// nl.conntrack().update(t).mark_masked(0x100, 0xf00).timeout(30).await?;
    /// # Ok(()) }
    /// ```
    pub fn update(&self, orig: Tuple) -> ConntrackUpdate {
        ConntrackUpdate {
            handle: self.clone(),
            orig,
            zone: None,
            mark: None,
            timeout: None,
            status: None,
            labels: None,
        }
    }

    /// `conntrack -D` of the entry of original tuple `orig`; a missing one
    /// is `is_not_found()`, displayed as `no such conntrack entry`.
    pub fn delete(&self, orig: Tuple) -> ConntrackDelete {
        ConntrackDelete {
            handle: self.clone(),
            orig,
            zone: None,
            id: None,
        }
    }
}
