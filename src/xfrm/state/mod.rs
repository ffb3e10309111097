//! `ip xfrm state`: security associations (SAD entries).
//!
//! [`State`] is both the request on add and the kernel's view on read; its
//! wire encoding is in `codec`, lookups in `id`, the requests in `ops`.

mod codec;
mod id;
mod ops;
pub mod state_flags;

use std::net::IpAddr;

use super::types::{
    Algorithm, Encap, IpsecProto, Lifetime, LifetimeCurrent, Mark, Mode, Offload, Replay,
    ReplayEsn, SaDir, SecCtx, Selector, Stats,
};
use crate::error::{Error, Result};
use crate::types::{BadAddr, Family, IntoAddr};

pub use id::{AllocSpi, StateId};
pub use ops::{SadInfo, StateList};

#[cfg(test)]
pub(crate) use codec::tests;

/// `sizeof(struct xfrm_usersa_info)`.
pub(crate) const SA_INFO_LEN: usize = 224;
/// `sizeof(struct xfrm_usersa_id)`.
pub(crate) const SA_ID_LEN: usize = 24;
/// `XFRMA_REPLAY_ESN_MAX`: the longest ESN replay window, in packets (the
/// kernel refuses a longer bitmap).
pub const REPLAY_ESN_MAX: u32 = 4096;

/// A security association: the kernel's view on read, the request on add.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
    /// `coa ADDR` (XFRMA_COADDR): the Mobile IPv6 care-of address, which
    /// `route2` and `hao` states need.
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
    /// `offload [crypto|packet] dev DEV dir in|out` (XFRMA_OFFLOAD_DEV).
    pub offload: Option<Offload>,
    /// `ctx CTX` (XFRMA_SEC_CTX).
    pub sec_ctx: Option<SecCtx>,
    /// `dir in|out` (XFRMA_SA_DIR, Linux 6.10).
    pub dir: Option<SaDir>,
    /// `pcpu-num N` (XFRMA_SA_PCPU, Linux 6.13): the CPU this SA serves,
    /// for a policy with per-CPU acquires ([`Policy::flags`] bit 4,
    /// XFRM_POLICY_CPU_ACQUIRE). Must be below the number of possible CPUs.
    ///
    /// [`Policy::flags`]: crate::xfrm::Policy::flags
    pub pcpu_num: Option<u32>,
    /// `nat-keepalive-interval SECS` (XFRMA_NAT_KEEPALIVE_INTERVAL, Linux
    /// 6.9): keepalives for an output SA with ESP-in-UDP encapsulation.
    pub nat_keepalive_interval: Option<u32>,
    /// `mapping-maxage SECS` (XFRMA_MTIMER_THRESH): how long a NAT-T input
    /// SA waits before reporting a changed peer mapping.
    pub mtimer_thresh: Option<u32>,
    /// An address text a constructor or setter could not parse.
    // A refused address is an error to serialize, not a silent 0.0.0.0.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_deserializing,
            skip_serializing_if = "crate::serde_util::accepted",
            serialize_with = "crate::serde_util::refused"
        )
    )]
    pub(crate) bad: BadAddr,
}

impl State {
    /// `src SRC dst DST proto PROTO spi SPI`, transport mode, nothing else.
    /// Addresses are `IpAddr`s or text (`"192.0.2.1"`); text that is no
    /// address is refused, naming `src` or `dst`, when the state is
    /// validated or sent.
    pub fn new(src: impl IntoAddr, dst: impl IntoAddr, proto: IpsecProto, spi: u32) -> State {
        let mut bad = BadAddr::default();
        State {
            src: bad.take(src, "src"),
            dst: bad.take(dst, "dst"),
            bad,
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
            dir: None,
            pcpu_num: None,
            nat_keepalive_interval: None,
            mtimer_thresh: None,
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

    /// `extra-flag …` bits (XFRM_SA_XFLAG_*: dont-encap-dscp 1,
    /// oseq-may-wrap 2), ORed in.
    pub fn extra_flag(mut self, f: u32) -> Self {
        self.extra_flags = Some(self.extra_flags.unwrap_or(0) | f);
        self
    }

    /// `coa ADDR`: the care-of address (Mobile IPv6 `route2` and `hao`
    /// states).
    pub fn coaddr(mut self, a: impl IntoAddr) -> Self {
        self.coaddr = Some(self.bad.take(a, "coa"));
        self
    }

    /// `offload [crypto|packet] dev DEV dir in|out`.
    pub fn offload(mut self, o: Offload) -> Self {
        self.offload = Some(o);
        self
    }

    /// `ctx CTX`.
    pub fn sec_ctx(mut self, c: SecCtx) -> Self {
        self.sec_ctx = Some(c);
        self
    }

    /// `dir in|out` (Linux 6.10; older kernels refuse the attribute).
    pub fn dir(mut self, d: SaDir) -> Self {
        self.dir = Some(d);
        self
    }

    /// `pcpu-num N` (Linux 6.13): the CPU this SA serves.
    pub fn pcpu_num(mut self, cpu: u32) -> Self {
        self.pcpu_num = Some(cpu);
        self
    }

    /// `nat-keepalive-interval SECS` (Linux 6.9; output SAs with
    /// ESP-in-UDP encapsulation).
    pub fn nat_keepalive_interval(mut self, secs: u32) -> Self {
        self.nat_keepalive_interval = Some(secs);
        self
    }

    /// `mapping-maxage SECS` (XFRMA_MTIMER_THRESH; NAT-T input SAs).
    pub fn mtimer_thresh(mut self, secs: u32) -> Self {
        self.mtimer_thresh = Some(secs);
        self
    }

    /// Checks what can be checked without the kernel.
    pub fn validate(&self) -> Result<()> {
        self.bad.check()?;
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
        match self.coaddr {
            Some(c) if Family::of(&c) != Family::of(&self.dst) => {
                return Err(Error::invalid(
                    "coa",
                    format!("{c} is not of the state's family ({})", self.dst),
                ));
            }
            // The kernel refuses these without one, with a bare EINVAL.
            None if matches!(self.proto, IpsecProto::Route2 | IpsecProto::Hao) => {
                return Err(Error::invalid(
                    "coa",
                    format!("a {} state needs a care-of address", self.proto),
                ));
            }
            _ => {}
        }
        if let Some(o) = &self.offload {
            o.validate()?;
        }
        if let Some(c) = &self.sec_ctx {
            c.validate()?;
        }
        self.validate_replay()
    }

    /// The ESN window and bitmap against the kernel's limits (checked
    /// before the bitmap is built: a window near u32::MAX would take
    /// 512 MiB).
    fn validate_replay(&self) -> Result<()> {
        if !self.use_esn() {
            return Ok(());
        }
        if self.replay_window > REPLAY_ESN_MAX {
            return Err(Error::invalid(
                "replay-window",
                format!(
                    "{} packets; the kernel's window is at most {REPLAY_ESN_MAX}",
                    self.replay_window
                ),
            ));
        }
        if let Some(r) = &self.replay_esn {
            let words = REPLAY_ESN_MAX as usize / 32;
            if r.bitmap.len() > words {
                return Err(Error::invalid(
                    "replay-window",
                    format!(
                        "an ESN bitmap of {} words; the kernel takes at most {words}",
                        r.bitmap.len()
                    ),
                ));
            }
            if r.replay_window as usize > r.bitmap.len() * 32 {
                return Err(Error::invalid(
                    "replay-window",
                    format!(
                        "a window of {} packets does not fit its bitmap of {} words",
                        r.replay_window,
                        r.bitmap.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// This state's [`StateId`].
    pub fn id(&self) -> StateId {
        StateId {
            bad: crate::types::BadAddr::default(),
            dst: self.dst,
            spi: self.spi,
            proto: self.proto,
            mark: self.mark,
            src: None,
        }
    }
}
