//! The XFRM wire structures (`include/uapi/linux/xfrm.h`), encoded and
//! decoded by hand: every read is bounds-checked, so no input can panic.
//!
//! One file per structure family; everything is re-exported here, so
//! `xfrm::types::Selector` and friends keep their paths.

mod algorithm;
mod encap;
mod enums;
mod lifetime;
mod offload;
mod replay;
mod sec_ctx;
mod selector;
mod template;
mod wire;

pub use algorithm::Algorithm;
pub use encap::{Encap, EncapType};
pub use enums::{Dir, IpsecProto, Mode, PolicyAction, SaDir};
pub use lifetime::{Lifetime, LifetimeCurrent, Stats};
pub use offload::Offload;
pub use replay::{Replay, ReplayEsn};
pub use sec_ctx::SecCtx;
pub use selector::{Mark, Selector, ip_proto_name};
pub use template::{Level, Template};

pub(crate) use selector::SELECTOR_LEN;
pub(crate) use template::TMPL_LEN;
pub(crate) use wire::{Rd, Wr, addr_of, attrs, family_raw, pad4, push_attr, push_fixed};

/// "Infinite" byte/packet limit of a lifetime (`XFRM_INF`).
pub const XFRM_INF: u64 = u64::MAX;

/// `XFRM_MAX_DEPTH`: the most templates a policy, and the most entries a
/// migration, may carry (the kernel refuses more).
pub const XFRM_MAX_DEPTH: usize = 6;
