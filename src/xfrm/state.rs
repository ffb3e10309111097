//! `ip xfrm state`: security associations (SAD entries).

use std::future::{Future, IntoFuture};
use std::net::IpAddr;
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};

use super::policy::emit_common;
use super::types::{
    Algorithm, Encap, IpsecProto, Lifetime, LifetimeCurrent, Mark, Mode, Rd, Replay, ReplayEsn,
    SELECTOR_LEN, Selector, Stats, Wr, addr_of, attrs, family_raw, pad4, push_attr,
};
use super::{CREATE_EXCL, XfrmHandle, attr, decode_error, message, msg};
use crate::conn::RawMessage;
use crate::conn::requester::retry_interrupted;
use crate::error::{Error, Result};
use crate::route::address::Family;

/// `sizeof(struct xfrm_usersa_info)`.
pub(crate) const SA_INFO_LEN: usize = 224;
/// `sizeof(struct xfrm_usersa_id)`.
pub(crate) const SA_ID_LEN: usize = 24;

/// `flag …` bits of a state (XFRM_STATE_*).
pub mod state_flags {
    /// `noecn`.
    pub const NOECN: u8 = 1;
    /// `decap-dscp`.
    pub const DECAP_DSCP: u8 = 2;
    /// `nopmtudisc`.
    pub const NOPMTUDISC: u8 = 4;
    /// `wildrecv`.
    pub const WILDRECV: u8 = 8;
    /// `icmp`.
    pub const ICMP: u8 = 16;
    /// `af-unspec`.
    pub const AF_UNSPEC: u8 = 32;
    /// `align4`.
    pub const ALIGN4: u8 = 64;
    /// `esn`: extended sequence numbers.
    pub const ESN: u8 = 128;

    /// `ip`'s names of the flags, in its order.
    pub const NAMES: [(u8, &str); 8] = [
        (NOECN, "noecn"),
        (DECAP_DSCP, "decap-dscp"),
        (NOPMTUDISC, "nopmtudisc"),
        (WILDRECV, "wildrecv"),
        (ICMP, "icmp"),
        (AF_UNSPEC, "af-unspec"),
        (ALIGN4, "align4"),
        (ESN, "esn"),
    ];

    /// The flag named `name` by `ip`.
    pub fn parse(name: &str) -> Option<u8> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }
}

/// A security association: the kernel's view on read, the request on add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// `src ADDR`.
    pub src: IpAddr,
    /// `dst ADDR`.
    pub dst: IpAddr,
    /// `proto esp|ah|comp|route2|hao`.
    pub proto: IpsecProto,
    /// `spi SPI` (host order).
    pub spi: u32,
    /// `mode …`.
    pub mode: Mode,
    /// `reqid N`.
    pub reqid: u32,
    /// `replay-window N`: with `flag esn` or above 32, sent as ESN replay
    /// state (XFRMA_REPLAY_ESN_VAL), as `ip` does.
    pub replay_window: u32,
    /// `flag …` ([`state_flags`]).
    pub flags: u8,
    /// `extra-flag …` (XFRMA_SA_EXTRA_FLAGS: dont-encap-dscp 1, oseq-may-wrap 2).
    pub extra_flags: Option<u32>,
    /// `sel …` (AF_UNSPEC when not given).
    pub selector: Selector,
    /// `limit …`.
    pub lifetime: Lifetime,
    /// `auth` (no ICV length) or `auth-trunc` (with one).
    pub auth: Option<Algorithm>,
    /// `enc`.
    pub enc: Option<Algorithm>,
    /// `aead` (with its ICV length).
    pub aead: Option<Algorithm>,
    /// `comp`.
    pub comp: Option<Algorithm>,
    /// `encap …` (NAT traversal).
    pub encap: Option<Encap>,
    /// `mark V mask M`.
    pub mark: Option<Mark>,
    /// `output-mark V mask M` (XFRMA_SET_MARK / _MASK).
    pub output_mark: Option<Mark>,
    /// `if_id N`.
    pub if_id: Option<u32>,
    /// `tfcpad N`.
    pub tfcpad: Option<u32>,
    /// `coa ADDR` (Mobile IPv6 care-of address; read only here).
    pub coaddr: Option<IpAddr>,
    /// ESN anti-replay state (read; on add it is derived from `replay_window`).
    pub replay_esn: Option<ReplayEsn>,
    /// Legacy anti-replay state (read only).
    pub replay: Option<Replay>,
    /// Usage (read only).
    pub current: LifetimeCurrent,
    /// Statistics (read only).
    pub stats: Stats,
    /// Sequence number of the acquire this answers (`seq`).
    pub seq: u32,
    /// Time of last use (XFRMA_LASTUSED, read only).
    pub last_used: Option<u64>,
    /// `offload dev` ifindex and flags (XFRMA_OFFLOAD_DEV, read only).
    pub offload: Option<(i32, u8)>,
    /// Security context (XFRMA_SEC_CTX, raw; read only).
    pub sec_ctx: Option<Vec<u8>>,
}

impl State {
    /// `src SRC dst DST proto PROTO spi SPI`, transport mode, nothing else.
    pub fn new(src: IpAddr, dst: IpAddr, proto: IpsecProto, spi: u32) -> State {
        State {
            src,
            dst,
            proto,
            spi,
            mode: Mode::Transport,
            reqid: 0,
            replay_window: 0,
            flags: 0,
            extra_flags: None,
            selector: Selector::unspec(),
            lifetime: Lifetime::default(),
            auth: None,
            enc: None,
            aead: None,
            comp: None,
            encap: None,
            mark: None,
            output_mark: None,
            if_id: None,
            tfcpad: None,
            coaddr: None,
            replay_esn: None,
            replay: None,
            current: LifetimeCurrent::default(),
            stats: Stats::default(),
            seq: 0,
            last_used: None,
            offload: None,
            sec_ctx: None,
        }
    }

    /// `mode …`.
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }

    /// `reqid N`.
    pub fn reqid(mut self, r: u32) -> Self {
        self.reqid = r;
        self
    }

    /// `replay-window N`.
    pub fn replay_window(mut self, w: u32) -> Self {
        self.replay_window = w;
        self
    }

    /// `flag …` (ORed in).
    pub fn flag(mut self, f: u8) -> Self {
        self.flags |= f;
        self
    }

    /// `sel …`.
    pub fn selector(mut self, s: Selector) -> Self {
        self.selector = s;
        self
    }

    /// `limit …`.
    pub fn lifetime(mut self, l: Lifetime) -> Self {
        self.lifetime = l;
        self
    }

    /// `auth NAME KEY`.
    pub fn auth(mut self, name: &str, key: &[u8]) -> Self {
        self.auth = Some(Algorithm::new(name, key));
        self
    }

    /// `auth-trunc NAME KEY TRUNC_BITS`.
    pub fn auth_trunc(mut self, name: &str, key: &[u8], trunc_bits: u32) -> Self {
        self.auth = Some(Algorithm::new(name, key).with_icv_bits(trunc_bits));
        self
    }

    /// `enc NAME KEY`.
    pub fn enc(mut self, name: &str, key: &[u8]) -> Self {
        self.enc = Some(Algorithm::new(name, key));
        self
    }

    /// `aead NAME KEY ICV_BITS`.
    pub fn aead(mut self, name: &str, key: &[u8], icv_bits: u32) -> Self {
        self.aead = Some(Algorithm::new(name, key).with_icv_bits(icv_bits));
        self
    }

    /// `comp NAME`.
    pub fn comp(mut self, name: &str) -> Self {
        self.comp = Some(Algorithm::new(name, &[]));
        self
    }

    /// `encap TYPE SPORT DPORT OADDR`.
    pub fn encap(mut self, e: Encap) -> Self {
        self.encap = Some(e);
        self
    }

    /// `mark V mask M`.
    pub fn mark(mut self, m: Mark) -> Self {
        self.mark = Some(m);
        self
    }

    /// `output-mark V mask M`.
    pub fn output_mark(mut self, m: Mark) -> Self {
        self.output_mark = Some(m);
        self
    }

    /// `if_id N`.
    pub fn if_id(mut self, id: u32) -> Self {
        self.if_id = Some(id);
        self
    }

    /// `tfcpad N`.
    pub fn tfcpad(mut self, n: u32) -> Self {
        self.tfcpad = Some(n);
        self
    }

    /// Checks what can be checked without the kernel.
    pub fn validate(&self) -> Result<()> {
        if Family::of(&self.src) != Family::of(&self.dst) {
            return Err(Error::invalid(
                "src/dst",
                format!("{} and {} are of different families", self.src, self.dst),
            ));
        }
        self.selector.validate()?;
        if self.spi == 0 && matches!(self.proto, IpsecProto::Esp | IpsecProto::Ah) {
            return Err(Error::invalid(
                "spi",
                format!("0 is not a valid SPI for {}", self.proto),
            ));
        }
        for (name, a) in [
            ("auth", &self.auth),
            ("enc", &self.enc),
            ("aead", &self.aead),
            ("comp", &self.comp),
        ] {
            if let Some(a) = a {
                a.validate(name)?;
            }
        }
        if self.aead.is_some() && (self.auth.is_some() || self.enc.is_some()) {
            return Err(Error::invalid("aead", "aead excludes auth and enc"));
        }
        Ok(())
    }

    fn use_esn(&self) -> bool {
        self.flags & state_flags::ESN != 0 || self.replay_window > 32
    }

    /// `struct xfrm_usersa_info` and the attributes.
    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut b = vec![0u8; SA_INFO_LEN];
        self.emit_info(&mut b);
        if let Some(a) = &self.auth {
            if a.icv_bits.is_some() {
                push_attr(&mut b, attr::ALG_AUTH_TRUNC, &a.bytes(true));
            } else {
                push_attr(&mut b, attr::ALG_AUTH, &a.bytes(false));
            }
        }
        if let Some(a) = &self.enc {
            push_attr(&mut b, attr::ALG_CRYPT, &a.bytes(false));
        }
        if let Some(a) = &self.aead {
            push_attr(&mut b, attr::ALG_AEAD, &a.bytes(true));
        }
        if let Some(a) = &self.comp {
            push_attr(&mut b, attr::ALG_COMP, &a.bytes(false));
        }
        if let Some(e) = &self.encap {
            push_attr(&mut b, attr::ENCAP, &e.bytes());
        }
        if let Some(m) = self.output_mark {
            push_attr(&mut b, attr::SET_MARK, &m.value.to_ne_bytes());
            push_attr(&mut b, attr::SET_MARK_MASK, &m.mask.to_ne_bytes());
        }
        if let Some(n) = self.tfcpad {
            push_attr(&mut b, attr::TFCPAD, &n.to_ne_bytes());
        }
        if let Some(f) = self.extra_flags {
            push_attr(&mut b, attr::SA_EXTRA_FLAGS, &f.to_ne_bytes());
        }
        if self.use_esn() {
            let esn = match &self.replay_esn {
                Some(r) => r.clone(),
                None => ReplayEsn::new(self.replay_window),
            };
            push_attr(&mut b, attr::REPLAY_ESN_VAL, &esn.bytes());
        }
        emit_common(&mut b, self.mark, self.if_id, None);
        Ok(b)
    }

    fn emit_info(&self, b: &mut [u8]) {
        self.selector.emit(&mut b[..SELECTOR_LEN]);
        self.lifetime.emit(&mut b[96..160]);
        let mut w = Wr(b);
        w.addr(56, Some(self.dst));
        w.be32(72, self.spi);
        w.u8(76, self.proto.raw());
        w.addr(80, Some(self.src));
        w.u32(204, self.seq);
        w.u32(208, self.reqid);
        w.u16(212, family_raw(Some(Family::of(&self.dst))));
        w.u8(214, self.mode.raw());
        w.u8(
            215,
            if self.use_esn() {
                0
            } else {
                self.replay_window as u8
            },
        );
        w.u8(216, self.flags);
    }

    /// Decodes an XFRM_MSG_NEWSA/UPDSA payload (an `xfrm_usersa_info` and
    /// attributes) or an XFRM_MSG_DELSA notification (an `xfrm_usersa_id`
    /// with the state in XFRMA_SA).
    pub fn parse(ty: u16, payload: &[u8]) -> Result<State> {
        let (info, start) = match ty {
            msg::NEWSA | msg::UPDSA => (payload.get(..SA_INFO_LEN), SA_INFO_LEN),
            msg::DELSA => (
                attrs(payload, SA_ID_LEN)
                    .find(|&(t, _)| t == attr::SA)
                    .and_then(|(_, v)| v.get(..SA_INFO_LEN)),
                SA_ID_LEN,
            ),
            _ => {
                return Err(decode_error(
                    ty,
                    format!("message type {ty} is not a state"),
                ));
            }
        };
        let info = info.ok_or_else(|| decode_error(ty, "state message too short"))?;
        State::parse_parts(ty, info, payload, start)
    }

    /// The state in `info` (an `xfrm_usersa_info`) with the attributes of
    /// `payload[start..]`.
    pub(crate) fn parse_parts(ty: u16, info: &[u8], payload: &[u8], start: usize) -> Result<State> {
        let r = Rd(info);
        let fam = r.u16(212);
        let (Some(dst), Some(src)) = (addr_of(r, 56, fam), addr_of(r, 80, fam)) else {
            return Err(decode_error(ty, format!("state of unknown family {fam}")));
        };
        let mut s = State::new(src, dst, IpsecProto::from_raw(r.u8(76)), r.be32(72));
        s.selector = Selector::parse(r.sub(0, SELECTOR_LEN));
        s.lifetime = Lifetime::parse(r.sub(96, 64));
        s.current = LifetimeCurrent::parse(r.sub(160, 32));
        s.stats = Stats {
            replay_window: r.u32(192),
            replay: r.u32(196),
            integrity_failed: r.u32(200),
        };
        s.seq = r.u32(204);
        s.reqid = r.u32(208);
        s.mode = Mode::from_raw(r.u8(214));
        s.replay_window = u32::from(r.u8(215));
        s.flags = r.u8(216);
        let mut set_mark = None;
        let mut set_mask = None;
        for (t, v) in attrs(payload, start) {
            let u32v = || Rd(v).arr::<4>(0).map(u32::from_ne_bytes);
            match t {
                attr::ALG_AUTH if s.auth.is_none() => s.auth = Algorithm::parse(v, false),
                attr::ALG_AUTH_TRUNC => s.auth = Algorithm::parse(v, true),
                attr::ALG_CRYPT => s.enc = Algorithm::parse(v, false),
                attr::ALG_AEAD => s.aead = Algorithm::parse(v, true),
                attr::ALG_COMP => s.comp = Algorithm::parse(v, false),
                attr::ENCAP => s.encap = Encap::parse(v, fam),
                attr::MARK => s.mark = Mark::parse(v),
                attr::SET_MARK => set_mark = u32v(),
                attr::SET_MARK_MASK => set_mask = u32v(),
                attr::IF_ID => s.if_id = u32v(),
                attr::TFCPAD => s.tfcpad = u32v(),
                attr::SA_EXTRA_FLAGS => s.extra_flags = u32v(),
                attr::COADDR => s.coaddr = addr_of(Rd(v), 0, fam),
                attr::REPLAY_ESN_VAL => {
                    s.replay_esn = ReplayEsn::parse(v);
                    if let Some(e) = &s.replay_esn {
                        s.replay_window = e.replay_window;
                    }
                }
                attr::REPLAY_VAL => s.replay = Replay::parse(v),
                attr::LASTUSED => s.last_used = Rd(v).arr::<8>(0).map(u64::from_ne_bytes),
                attr::OFFLOAD_DEV if v.len() >= 5 => {
                    s.offload = Some((Rd(v).i32(0), Rd(v).u8(4)));
                }
                attr::SEC_CTX => s.sec_ctx = Some(v.to_vec()),
                _ => {}
            }
        }
        if let Some(value) = set_mark {
            s.output_mark = Some(Mark {
                value,
                mask: set_mask.unwrap_or(u32::MAX),
            });
        }
        Ok(s)
    }

    /// Decodes a received state message.
    pub fn from_raw(raw: &RawMessage) -> Result<State> {
        State::parse(raw.header.ty, raw.payload())
    }

    /// This state's [`StateId`].
    pub fn id(&self) -> StateId {
        StateId {
            dst: self.dst,
            spi: self.spi,
            proto: self.proto,
            mark: self.mark,
            src: None,
        }
    }
}

/// What selects one state for `get` and `del`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateId {
    /// `dst ADDR`.
    pub dst: IpAddr,
    /// `spi SPI`.
    pub spi: u32,
    /// `proto …`.
    pub proto: IpsecProto,
    /// `mark V mask M`.
    pub mark: Option<Mark>,
    /// `src ADDR` (XFRMA_SRCADDR; needed for protocols without an SPI).
    pub src: Option<IpAddr>,
}

impl StateId {
    /// `dst ADDR proto PROTO spi SPI`.
    pub fn new(dst: IpAddr, proto: IpsecProto, spi: u32) -> StateId {
        StateId {
            dst,
            spi,
            proto,
            mark: None,
            src: None,
        }
    }

    /// `mark V mask M`.
    pub fn mark(mut self, m: Mark) -> Self {
        self.mark = Some(m);
        self
    }

    /// `src ADDR`.
    pub fn src(mut self, a: IpAddr) -> Self {
        self.src = Some(a);
        self
    }

    fn emit(&self) -> Vec<u8> {
        let mut b = vec![0u8; SA_ID_LEN];
        let mut w = Wr(&mut b);
        w.addr(0, Some(self.dst));
        w.be32(16, self.spi);
        w.u16(20, family_raw(Some(Family::of(&self.dst))));
        w.u8(22, self.proto.raw());
        if let Some(s) = self.src {
            let mut a = [0u8; 16];
            Wr(&mut a).addr(0, Some(s));
            push_attr(&mut b, attr::SRCADDR, &a);
        }
        emit_common(&mut b, self.mark, None, None);
        b
    }
}

/// `ip xfrm state allocspi`: reserve an SPI, creating a larval state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocSpi {
    /// `src ADDR`.
    pub src: IpAddr,
    /// `dst ADDR`.
    pub dst: IpAddr,
    /// `proto esp|ah|comp`.
    pub proto: IpsecProto,
    /// `mode …`.
    pub mode: Mode,
    /// `reqid N`.
    pub reqid: u32,
    /// `min SPI` (host order).
    pub min: u32,
    /// `max SPI`.
    pub max: u32,
    /// `mark V mask M`.
    pub mark: Option<Mark>,
    /// `if_id N`.
    pub if_id: Option<u32>,
}

impl AllocSpi {
    /// An SPI in `min..=max` for `proto` from `src` to `dst`.
    pub fn new(src: IpAddr, dst: IpAddr, proto: IpsecProto, min: u32, max: u32) -> AllocSpi {
        AllocSpi {
            src,
            dst,
            proto,
            mode: Mode::Transport,
            reqid: 0,
            min,
            max,
            mark: None,
            if_id: None,
        }
    }

    fn emit(&self) -> Result<Vec<u8>> {
        if Family::of(&self.src) != Family::of(&self.dst) {
            return Err(Error::invalid("src/dst", "addresses of different families"));
        }
        if self.min > self.max {
            return Err(Error::invalid(
                "min/max",
                format!("min {:#x} is above max {:#x}", self.min, self.max),
            ));
        }
        let s = State {
            mode: self.mode,
            reqid: self.reqid,
            ..State::new(self.src, self.dst, self.proto, 0)
        };
        let mut b = vec![0u8; SA_INFO_LEN + 8];
        s.emit_info(&mut b[..SA_INFO_LEN]);
        let mut w = Wr(&mut b);
        w.u32(SA_INFO_LEN, self.min);
        w.u32(SA_INFO_LEN + 4, self.max);
        emit_common(&mut b, self.mark, self.if_id, None);
        Ok(b)
    }
}

/// SAD counts (`ip xfrm state count`, XFRM_MSG_GETSADINFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
            push_attr(&mut b, attr::PROTO, &[p.raw()]);
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
        Box::pin(retry_interrupted(super::kind(msg::GETSA), move || {
            self.clone().stream().try_collect()
        }))
    }
}

impl XfrmHandle {
    /// `ip xfrm state add`: fails with EEXIST if the state exists.
    pub async fn add_state(&self, s: &State) -> Result<()> {
        let b = s.emit()?;
        self.req.ack(message(msg::NEWSA, b), CREATE_EXCL).await
    }

    /// `ip xfrm state update`: replaces an existing state (or completes a
    /// larval one from `allocspi`).
    pub async fn update_state(&self, s: &State) -> Result<()> {
        let b = s.emit()?;
        self.req.ack(message(msg::UPDSA, b), 0).await
    }

    /// `ip xfrm state delete`.
    pub async fn del_state(&self, id: &StateId) -> Result<()> {
        self.req.ack(message(msg::DELSA, id.emit()), 0).await
    }

    /// `ip xfrm state get`.
    pub async fn get_state(&self, id: &StateId) -> Result<State> {
        let raw = self.req.get_raw(message(msg::GETSA, id.emit()), 0).await?;
        State::from_raw(&raw)
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::xfrm::types::EncapType;

    pub(crate) fn full_state() -> State {
        let mut s = State::new(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            IpsecProto::Esp,
            0x1000,
        )
        .mode(Mode::Tunnel)
        .reqid(3)
        .replay_window(128)
        .flag(state_flags::ESN | state_flags::NOECN)
        .selector(Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap())
        .auth_trunc("hmac(sha256)", &[7; 32], 128)
        .enc("cbc(aes)", &[9; 16])
        .encap(Encap {
            kind: EncapType::EspInUdp,
            sport: 4500,
            dport: 4501,
            oa: None,
        })
        .mark(Mark {
            value: 1,
            mask: 0xf,
        })
        .output_mark(Mark {
            value: 2,
            mask: 0xff,
        })
        .if_id(4)
        .tfcpad(16);
        s.replay_esn = Some(ReplayEsn::new(128));
        s.lifetime.hard_add_seconds = 60;
        s
    }

    #[test]
    fn state_round_trips_through_its_encoding() {
        let s = full_state();
        let b = s.emit().unwrap();
        assert_eq!(State::parse(msg::NEWSA, &b).unwrap(), s);
    }

    #[test]
    fn bad_states_are_refused_before_sending() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let e = State::new(a, a, IpsecProto::Esp, 0).emit().unwrap_err();
        assert!(e.to_string().contains("not a valid SPI"), "{e}");
        let e = State::new(a, "fd00::1".parse().unwrap(), IpsecProto::Esp, 1)
            .emit()
            .unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
        let mut bad = Algorithm::new("cbc(aes)", &[1; 16]);
        bad.key_bits = 64;
        let mut s = State::new(a, a, IpsecProto::Esp, 1);
        s.enc = Some(bad);
        assert!(s.emit().is_err());
        let e = State::new(a, a, IpsecProto::Esp, 1)
            .enc(&"x".repeat(64), &[])
            .emit()
            .unwrap_err();
        assert!(e.to_string().contains("1 to 63 bytes"), "{e}");
    }
}
