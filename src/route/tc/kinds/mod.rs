//! Typed qdisc and class kinds: each is encoded as `tc` encodes it and
//! decoded from what the kernel reports into the same type.

mod bpf;
mod htb;
mod tbf;
mod u32;

pub use bpf::{Bpf, BpfProgram, SockFilter};
pub use htb::{Htb, HtbClass, HtbXstats};
pub use tbf::Tbf;
pub use u32::{U32, U32Handle, U32Key, U32Offset};

use super::wire::{Rd, Writer, tca};
use crate::error::Result;

/// A qdisc kind with its options (`tc qdisc add … KIND OPTIONS`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QdiscKind {
    /// `pfifo [limit PACKETS]`.
    Pfifo(Fifo),
    /// `bfifo [limit BYTES]`.
    Bfifo(Fifo),
    /// `pfifo_fast`, the classic three-band default.
    PfifoFast,
    /// `htb`.
    Htb(Htb),
    /// `tbf`.
    Tbf(Tbf),
    /// `ingress` (handle `ffff:`, parent `ingress`).
    Ingress,
    /// `clsact` (handle `ffff:`, parent `clsact`): ingress and egress
    /// filter hooks.
    Clsact,
    /// `noqueue`, the default of virtual devices (reported, not added).
    Noqueue,
    /// Any other kind, with its TCA_OPTIONS value as the kernel reports it
    /// (sent back unchanged).
    Other {
        /// The kind's name (`TCA_KIND`).
        kind: String,
        /// The TCA_OPTIONS value, if any.
        options: Option<Vec<u8>>,
    },
}

/// The options of `pfifo` and `bfifo`: the queue limit, in packets or
/// bytes (`struct tc_fifo_qopt`). Without one the kernel uses the device's
/// `txqueuelen` (times its MTU for bfifo).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fifo {
    /// `limit`.
    pub limit: Option<u32>,
}

impl Fifo {
    /// A fifo of `limit` packets (pfifo) or bytes (bfifo).
    pub fn limit(limit: u32) -> Fifo {
        Fifo { limit: Some(limit) }
    }
}

impl From<Htb> for QdiscKind {
    fn from(v: Htb) -> QdiscKind {
        QdiscKind::Htb(v)
    }
}

impl From<Tbf> for QdiscKind {
    fn from(v: Tbf) -> QdiscKind {
        QdiscKind::Tbf(v)
    }
}

impl QdiscKind {
    /// The kind's name, as `tc` spells it.
    pub fn name(&self) -> &str {
        match self {
            QdiscKind::Pfifo(_) => "pfifo",
            QdiscKind::Bfifo(_) => "bfifo",
            QdiscKind::PfifoFast => "pfifo_fast",
            QdiscKind::Htb(_) => "htb",
            QdiscKind::Tbf(_) => "tbf",
            QdiscKind::Ingress => "ingress",
            QdiscKind::Clsact => "clsact",
            QdiscKind::Noqueue => "noqueue",
            QdiscKind::Other { kind, .. } => kind,
        }
    }

    /// True for the kinds that live at the ingress hook.
    pub(crate) fn is_ingress(&self) -> bool {
        matches!(self, QdiscKind::Ingress | QdiscKind::Clsact)
    }

    /// Appends TCA_KIND and TCA_OPTIONS.
    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        w.string("kind", tca::KIND, self.name())?;
        match self {
            QdiscKind::Pfifo(f) | QdiscKind::Bfifo(f) => {
                if let Some(l) = f.limit {
                    w.u32("limit", tca::OPTIONS, l)?;
                }
            }
            // Like `tc`, no TCA_OPTIONS for kinds without options.
            QdiscKind::PfifoFast | QdiscKind::Noqueue | QdiscKind::Ingress | QdiscKind::Clsact => {}
            QdiscKind::Htb(h) => h.encode(w)?,
            QdiscKind::Tbf(t) => t.encode(w)?,
            QdiscKind::Other { options, .. } => {
                if let Some(o) = options {
                    w.attr("options", tca::OPTIONS, o)?;
                }
            }
        }
        Ok(())
    }

    /// The kind named `kind` with the options the kernel reported.
    pub(crate) fn decode(kind: &str, options: Option<&[u8]>) -> QdiscKind {
        let fifo = || Fifo {
            limit: options.filter(|o| o.len() >= 4).map(|o| Rd(o).u32(0)),
        };
        match kind {
            "pfifo" => QdiscKind::Pfifo(fifo()),
            "bfifo" => QdiscKind::Bfifo(fifo()),
            "pfifo_fast" => QdiscKind::PfifoFast,
            "ingress" => QdiscKind::Ingress,
            "clsact" => QdiscKind::Clsact,
            "noqueue" => QdiscKind::Noqueue,
            "htb" => match options.and_then(Htb::decode) {
                Some(h) => QdiscKind::Htb(h),
                None => other(kind, options),
            },
            "tbf" => match options.and_then(Tbf::decode) {
                Some(t) => QdiscKind::Tbf(t),
                None => other(kind, options),
            },
            _ => other(kind, options),
        }
    }
}

fn other(kind: &str, options: Option<&[u8]>) -> QdiscKind {
    QdiscKind::Other {
        kind: kind.to_owned(),
        options: options.map(<[u8]>::to_vec),
    }
}

/// A class kind with its options (`tc class add … KIND OPTIONS`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClassKind {
    /// An `htb` class.
    Htb(HtbClass),
    /// A class of another kind, with its TCA_OPTIONS value (classes of
    /// classful qdiscs that take no options, such as `prio`'s, have none).
    Other {
        /// The kind's name (its qdisc's).
        kind: String,
        /// The TCA_OPTIONS value, if any.
        options: Option<Vec<u8>>,
    },
}

impl From<HtbClass> for ClassKind {
    fn from(v: HtbClass) -> ClassKind {
        ClassKind::Htb(v)
    }
}

impl ClassKind {
    /// The kind's name.
    pub fn name(&self) -> &str {
        match self {
            ClassKind::Htb(_) => "htb",
            ClassKind::Other { kind, .. } => kind,
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        w.string("kind", tca::KIND, self.name())?;
        match self {
            ClassKind::Htb(c) => c.encode(w),
            ClassKind::Other { options, .. } => match options {
                Some(o) => w.attr("options", tca::OPTIONS, o),
                None => Ok(()),
            },
        }
    }

    pub(crate) fn decode(kind: &str, options: Option<&[u8]>) -> ClassKind {
        match (kind, options.and_then(HtbClass::decode)) {
            ("htb", Some(c)) => ClassKind::Htb(c),
            _ => ClassKind::Other {
                kind: kind.to_owned(),
                options: options.map(<[u8]>::to_vec),
            },
        }
    }
}

/// A filter kind with its options (`tc filter add … KIND OPTIONS`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterKind {
    /// `u32`.
    U32(U32),
    /// `bpf`.
    Bpf(Bpf),
    /// Any other kind, with its TCA_OPTIONS value as the kernel reports it
    /// (sent back unchanged).
    Other {
        /// The kind's name (`TCA_KIND`).
        kind: String,
        /// The TCA_OPTIONS value, if any.
        options: Option<Vec<u8>>,
    },
}

impl From<U32> for FilterKind {
    fn from(v: U32) -> FilterKind {
        FilterKind::U32(v)
    }
}

impl From<Bpf> for FilterKind {
    fn from(v: Bpf) -> FilterKind {
        FilterKind::Bpf(v)
    }
}

impl FilterKind {
    /// The kind's name, as `tc` spells it.
    pub fn name(&self) -> &str {
        match self {
            FilterKind::U32(_) => "u32",
            FilterKind::Bpf(_) => "bpf",
            FilterKind::Other { kind, .. } => kind,
        }
    }

    /// Appends TCA_OPTIONS (TCA_KIND is written by the filter builder,
    /// after TCA_CHAIN, as `tc` orders them).
    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        match self {
            FilterKind::U32(u) => u.encode(w),
            FilterKind::Bpf(b) => b.encode(w),
            FilterKind::Other { options, .. } => match options {
                Some(o) => w.attr("options", tca::OPTIONS, o),
                None => Ok(()),
            },
        }
    }

    /// The kind named `kind` with the options the kernel reported.
    pub(crate) fn decode(kind: &str, options: Option<&[u8]>) -> FilterKind {
        match (kind, options) {
            ("u32", Some(o)) => FilterKind::U32(U32::decode(o)),
            ("bpf", Some(o)) => FilterKind::Bpf(Bpf::decode(o)),
            _ => FilterKind::Other {
                kind: kind.to_owned(),
                options: options.map(<[u8]>::to_vec),
            },
        }
    }
}
