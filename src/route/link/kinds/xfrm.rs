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
    /// `xfrm if_id ID`. 0 is refused (`InvalidInput` naming `if_id`) when
    /// the link is added, before anything is sent: the kernel answers it
    /// with a bare EINVAL ("if_id must be non zero" since 5.x), and the
    /// refusal is intended, with the reason.
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
    fn merge_on_change(&self) -> bool {
        true
    }

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
