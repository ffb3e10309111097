//! `type xfrm if_id ID [dev D]`.

use netlink_packet_route::link::{InfoData, InfoKind, InfoXfrm, LinkInfo};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// An XFRM interface: IPsec states and policies carrying the same `if_id`
/// route through it.
#[derive(Debug, Clone)]
pub struct Xfrm {
    if_id: u32,
    dev: Option<LinkId>,
}

impl Xfrm {
    /// `xfrm if_id ID` (not 0).
    pub fn new(if_id: u32) -> Self {
        Xfrm { if_id, dev: None }
    }

    /// `dev DEV`: the underlay device.
    #[inline]
    pub fn dev(mut self, dev: impl Into<LinkId>) -> Self {
        self.dev = Some(dev.into());
        self
    }
}

impl LinkKind for Xfrm {
    fn refs(&self) -> Vec<LinkId> {
        self.dev.iter().cloned().collect()
    }

    fn refs_field(&self) -> &'static str {
        "dev"
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        if self.if_id == 0 {
            return Err(Error::invalid("if_id", "must not be 0"));
        }
        let mut data = vec![InfoXfrm::IfId(self.if_id)];
        if let Some(d) = &self.dev {
            data.push(InfoXfrm::Link(ctx.index(d)?));
        }
        Ok(KindParts {
            info: vec![
                LinkInfo::Kind(InfoKind::Xfrm),
                LinkInfo::Data(InfoData::Xfrm(data)),
            ],
            ..KindParts::default()
        })
    }
}
