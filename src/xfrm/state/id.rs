//! What selects a state ([`StateId`]) and what reserves an SPI
//! ([`AllocSpi`]).

use std::net::IpAddr;

use super::{SA_ID_LEN, SA_INFO_LEN, State};
use crate::error::{Error, Result};
use crate::types::{BadAddr, Family, IntoAddr};
use crate::xfrm::attr;
use crate::xfrm::policy::emit_common;
use crate::xfrm::types::{IpsecProto, Mark, Mode, Wr, family_raw, push_fixed};

/// What selects one state for `get` and `del`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
    /// An address text the constructor or a setter could not parse.
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

impl StateId {
    /// `dst ADDR proto PROTO spi SPI`; `dst` an `IpAddr` or text (bad
    /// text is refused, naming `dst`, when the id is used).
    pub fn new(dst: impl IntoAddr, proto: IpsecProto, spi: u32) -> StateId {
        let mut bad = BadAddr::default();
        StateId {
            dst: bad.take(dst, "dst"),
            bad,
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
    pub fn src(mut self, a: impl IntoAddr) -> Self {
        self.src = Some(self.bad.take(a, "src"));
        self
    }

    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        self.bad.check()?;
        let mut b = vec![0u8; SA_ID_LEN];
        let mut w = Wr(&mut b);
        w.addr(0, Some(self.dst));
        w.be32(16, self.spi);
        w.u16(20, family_raw(Some(Family::of(&self.dst))));
        w.u8(22, self.proto.raw());
        if let Some(s) = self.src {
            let mut a = [0u8; 16];
            Wr(&mut a).addr(0, Some(s));
            push_fixed(&mut b, attr::SRCADDR, &a);
        }
        emit_common(&mut b, self.mark, None, None);
        Ok(b)
    }
}

/// `ip xfrm state allocspi`: reserve an SPI, creating a larval state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
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
    /// An address text the constructor could not parse.
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

impl AllocSpi {
    /// An SPI in `min..=max` for `proto` from `src` to `dst`.
    /// Addresses are `IpAddr`s or text, refused (naming `src` or `dst`)
    /// when the request is sent.
    pub fn new(
        src: impl IntoAddr,
        dst: impl IntoAddr,
        proto: IpsecProto,
        min: u32,
        max: u32,
    ) -> AllocSpi {
        let mut bad = BadAddr::default();
        AllocSpi {
            src: bad.take(src, "src"),
            dst: bad.take(dst, "dst"),
            bad,
            proto,
            mode: Mode::Transport,
            reqid: 0,
            min,
            max,
            mark: None,
            if_id: None,
        }
    }

    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        self.bad.check()?;
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
