//! `struct xfrm_user_tmpl`: the transforms a policy asks for.

use std::net::IpAddr;

use super::enums::{IpsecProto, Mode};
use super::wire::{Rd, Wr, addr_of, family_of_raw, family_raw};
use crate::error::{Error, Result};
use crate::types::{BadAddr, Family, IntoAddr};

/// `level required|use` of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Level {
    /// `level required` (the default): a state must be applied.
    #[default]
    Required,
    /// `level use`: applied when a state exists (optional).
    Use,
}

/// `struct xfrm_user_tmpl`: one transform a policy asks for (`tmpl …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Template {
    /// Family of `src`/`dst` (`None`: the policy's).
    pub family: Option<Family>,
    /// `src ADDR` (tunnel endpoints; `None` = any).
    pub src: Option<IpAddr>,
    /// `dst ADDR`.
    pub dst: Option<IpAddr>,
    /// `proto esp|ah|comp…`.
    pub proto: IpsecProto,
    /// `spi SPI` (0 = any).
    pub spi: u32,
    /// `mode …`.
    pub mode: Mode,
    /// `reqid N`.
    pub reqid: u32,
    /// `level required|use`.
    pub level: Level,
    /// Share mode (XFRM_SHARE_*; 0 = any).
    pub share: u8,
    /// Allowed authentication algorithms (bitmask; `ip` sends all ones).
    pub aalgos: u32,
    /// Allowed encryption algorithms.
    pub ealgos: u32,
    /// Allowed compression algorithms.
    pub calgos: u32,
    /// An address text [`Template::endpoints`] could not parse.
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

pub(crate) const TMPL_LEN: usize = 64;

impl Template {
    /// A template for `proto` in `mode` with any endpoints, as `ip` builds it.
    pub fn new(proto: IpsecProto, mode: Mode) -> Template {
        Template {
            bad: crate::types::BadAddr::default(),
            family: None,
            src: None,
            dst: None,
            proto,
            spi: 0,
            mode,
            reqid: 0,
            level: Level::Required,
            share: 0,
            aalgos: u32::MAX,
            ealgos: u32::MAX,
            calgos: u32::MAX,
        }
    }

    /// `src ADDR dst ADDR` (tunnel endpoints, one family).
    /// Either may be text (`"10.0.0.1"`); bad text is refused, naming
    /// `tmpl src` or `tmpl dst`, when the policy is validated or sent.
    pub fn endpoints(mut self, src: impl IntoAddr, dst: impl IntoAddr) -> Self {
        let src = self.bad.take(src, "tmpl src");
        let dst = self.bad.take(dst, "tmpl dst");
        self.family = Some(Family::of(&src));
        self.src = Some(src);
        self.dst = Some(dst);
        self
    }

    /// `reqid N`.
    pub fn reqid(mut self, r: u32) -> Self {
        self.reqid = r;
        self
    }

    /// `spi SPI`.
    pub fn spi(mut self, s: u32) -> Self {
        self.spi = s;
        self
    }

    /// `level required|use`.
    pub fn level(mut self, l: Level) -> Self {
        self.level = l;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.bad.check()?;
        for a in [self.src, self.dst].into_iter().flatten() {
            if Some(Family::of(&a)) != self.family {
                return Err(Error::invalid(
                    "tmpl",
                    format!("address {a} is not of the template's family"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn emit(&self, b: &mut [u8]) {
        let mut w = Wr(b);
        w.addr(0, self.dst);
        w.be32(16, self.spi);
        w.u8(20, self.proto.raw());
        w.u16(24, family_raw(self.family));
        w.addr(28, self.src);
        w.u32(44, self.reqid);
        w.u8(48, self.mode.raw());
        w.u8(49, self.share);
        w.u8(50, u8::from(self.level == Level::Use));
        w.u32(52, self.aalgos);
        w.u32(56, self.ealgos);
        w.u32(60, self.calgos);
    }

    pub(crate) fn parse(r: Rd<'_>) -> Template {
        let fam = r.u16(24);
        let nonzero = |a: Option<IpAddr>| a.filter(|a| !a.is_unspecified());
        Template {
            bad: crate::types::BadAddr::default(),
            family: family_of_raw(fam),
            dst: nonzero(addr_of(r, 0, fam)),
            spi: r.be32(16),
            proto: IpsecProto::from_raw(r.u8(20)),
            src: nonzero(addr_of(r, 28, fam)),
            reqid: r.u32(44),
            mode: Mode::from_raw(r.u8(48)),
            share: r.u8(49),
            level: if r.u8(50) != 0 {
                Level::Use
            } else {
                Level::Required
            },
            aalgos: r.u32(52),
            ealgos: r.u32(56),
            calgos: r.u32(60),
        }
    }

    pub(crate) fn parse_all(v: &[u8]) -> Vec<Template> {
        v.chunks_exact(TMPL_LEN)
            .map(|c| Template::parse(Rd(c)))
            .collect()
    }
}
