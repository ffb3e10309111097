//! The `ethtool` generic netlink family (`linux/ethtool_netlink.h`): what
//! the `ethtool` command shows and changes of a device, in its words.
//!
//! [`Netlink::ethtool`] gives an [`EthtoolHandle`]:
//!
//! | `ethtool` | here |
//! |---|---|
//! | `ethtool DEV` | [`linkinfo`](EthtoolHandle::linkinfo), [`linkmodes`](EthtoolHandle::linkmodes), [`linkstate`](EthtoolHandle::linkstate) |
//! | `ethtool -k DEV` | [`features`](EthtoolHandle::features) |
//! | `ethtool -K DEV NAME on\|off …` | [`features_set`](EthtoolHandle::features_set) |
//! | `ethtool -g DEV` / `-G` | [`rings`](EthtoolHandle::rings) / [`rings_set`](EthtoolHandle::rings_set) |
//! | `ethtool -l DEV` / `-L` | [`channels`](EthtoolHandle::channels) / [`channels_set`](EthtoolHandle::channels_set) |
//!
//! Each getter has an `_all` twin dumping every device that supports it
//! (a device whose driver lacks the operation is left out by the kernel).
//! Errors come under the `ethtool` command's name (`ethtool -L v0:
//! Invalid argument: requested channel count exceeds maximum`); a missing
//! device is [`Error::NoSuchLink`]; an operation the driver lacks is
//! EOPNOTSUPP with the kernel's text, if it gave one.
//!
//! ```no_run
//! # async fn f() -> tokio_netlink::Result<()> {
//! let nl = tokio_netlink::Netlink::new();
//! let eth = nl.ethtool();
//! let ch = eth.channels("eth0").await?;
//! println!("combined {:?} of {:?}", ch.combined, ch.combined_max);
//! for f in eth.features("eth0").await?.features {
//!     println!("{}: {}", f.name, if f.active { "on" } else { "off" });
//! }
//! # Ok(()) }
//! ```

mod bitset;
mod channels;
mod features;
mod legacy;
mod linkinfo;
mod linkmodes;
mod linkstate;
mod rings;
mod strings;

pub use bitset::Bitset;
pub use channels::{Channels, ChannelsSet};
pub use features::{Feature, Features, FeaturesChange, FeaturesSet};
pub use legacy::{LEGACY_FLAGS, LegacyFlag};
pub use linkinfo::LinkInfo;
pub use linkmodes::{Duplex, LinkModes};
pub use linkstate::LinkState;
pub use rings::{Rings, RingsSet};
pub use strings::ETH_SS_FEATURES;

use std::pin::Pin;

use futures::{Stream, StreamExt};

use super::{AttrBuilder, Attributes, GenlHandle, GenlMessage};
use crate::client::Netlink;
use crate::error::{Context, Error, RequestKind, Result};
use crate::route::link::LinkId;

/// ETHTOOL_GENL_NAME.
pub const GENL_NAME: &str = "ethtool";
/// ETHTOOL_GENL_VERSION: the version this crate speaks.
pub const GENL_VERSION: u8 = 1;

/// ETHTOOL_MSG_* request commands this module sends.
mod cmd {
    pub const STRSET_GET: u8 = 1;
    pub const LINKINFO_GET: u8 = 2;
    pub const LINKMODES_GET: u8 = 4;
    pub const LINKSTATE_GET: u8 = 6;
    pub const FEATURES_GET: u8 = 11;
    pub const FEATURES_SET: u8 = 12;
    pub const RINGS_GET: u8 = 15;
    pub const RINGS_SET: u8 = 16;
    pub const CHANNELS_GET: u8 = 17;
    pub const CHANNELS_SET: u8 = 18;
}

/// Every request's and reply's first attribute: the header nest.
const A_HEADER: u16 = 1;
const A_HEADER_DEV_INDEX: u16 = 1;
const A_HEADER_DEV_NAME: u16 = 2;
const A_HEADER_FLAGS: u16 = 3;
/// ETHTOOL_FLAG_COMPACT_BITSETS: bitsets as value/mask arrays.
const FLAG_COMPACT_BITSETS: u32 = 1;

/// A stream of typed replies, one per device (errors are items).
pub type EthtoolDump<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send>>;

/// The `ethtool` family on one client's generic netlink connection. Cheap
/// to clone.
#[derive(Debug, Clone)]
pub struct EthtoolHandle {
    genl: GenlHandle,
}

impl Netlink {
    /// The `ethtool` netlink family (in the client's namespace).
    ///
    /// ```no_run
    /// # async fn f() -> tokio_netlink::Result<()> {
    /// let nl = tokio_netlink::Netlink::new();
    /// let state = nl.ethtool().linkstate("eth0").await?;
    /// println!("Link detected: {:?}", state.link);
    /// # Ok(()) }
    /// ```
    pub fn ethtool(&self) -> EthtoolHandle {
        EthtoolHandle { genl: self.genl() }
    }
}

/// The device a reply is about (its header's index and name).
fn reply_dev(msg: &GenlMessage, what: &'static str) -> Result<(u32, String)> {
    let h = msg.attributes().get(A_HEADER).map(|a| a.nested());
    let index = h.as_ref().and_then(|h| h.get(A_HEADER_DEV_INDEX)?.u32());
    let name = h.as_ref().and_then(|h| h.get(A_HEADER_DEV_NAME)?.str());
    match (index, name) {
        (Some(i), Some(n)) => Ok((i, n.to_owned())),
        _ => Err(decode_error(msg, what, "no device in the reply header")),
    }
}

fn decode_error(msg: &GenlMessage, what: &'static str, reason: impl Into<String>) -> Error {
    Error::Decode {
        request: RequestKind {
            message_type: msg.family,
            name: Some(what),
        },
        reason: reason.into(),
    }
}

/// The header nest: the device (none for a dump or a global request) and
/// the request flags.
fn header(b: AttrBuilder, dev: Option<&LinkId>, flags: u32) -> AttrBuilder {
    b.nested(A_HEADER, |h| {
        let h = match dev {
            Some(LinkId::Index(i)) => h.u32(A_HEADER_DEV_INDEX, *i),
            Some(LinkId::Name(n)) => h.str(A_HEADER_DEV_NAME, n),
            None => h,
        };
        h.u32(A_HEADER_FLAGS, flags)
    })
}

/// The request's own error without the raw request's context, with the
/// kernel's ENODEV read as the missing device.
fn for_dev(e: Error, dev: Option<&LinkId>) -> Error {
    let e = match e {
        Error::Failed { source, .. } => *source,
        e => e,
    };
    match dev {
        Some(d) => e.for_link(d, None),
        None => e,
    }
}

impl EthtoolHandle {
    /// Sends `cmd` about `dev` with `attrs` after the header; a reply
    /// (`get`) or the ack.
    async fn call(
        &self,
        cmd: u8,
        dev: &LinkId,
        flags: u32,
        attrs: impl FnOnce(AttrBuilder) -> AttrBuilder,
        want_reply: bool,
    ) -> Result<Option<GenlMessage>> {
        dev.check().map_err(|e| e.for_field("dev"))?;
        let b = attrs(header(AttrBuilder::new(), Some(dev), flags));
        let req = self.genl.request(GENL_NAME, cmd).version(GENL_VERSION);
        let req = req.attrs(b);
        let r = if want_reply {
            req.get().await.map(Some)
        } else {
            req.ack().await.map(|_| None)
        };
        r.map_err(|e| for_dev(e, Some(dev)))
    }

    /// A get of `dev`, decoded by `parse`, errors under `op`.
    async fn get_one<T>(
        &self,
        op: &'static str,
        cmd: u8,
        dev: LinkId,
        flags: u32,
        parse: impl FnOnce(&GenlMessage) -> Result<T>,
    ) -> Result<T> {
        let ctx = Context::new(op, dev.to_string());
        let r = self.call(cmd, &dev, flags, |b| b, true).await;
        match r {
            Ok(Some(m)) => parse(&m).map_err(|e| ctx.wrap(e)),
            Ok(None) => unreachable_reply(&ctx),
            Err(e) => Err(ctx.wrap(e)),
        }
    }

    /// A dump of every device, each reply decoded by `parse`.
    fn dump_all<T: Send + 'static>(
        &self,
        op: &'static str,
        cmd: u8,
        flags: u32,
        parse: impl Fn(&GenlMessage) -> Result<T> + Send + 'static,
    ) -> EthtoolDump<T> {
        let ctx = Context::new(op, "");
        let req = self.genl.request(GENL_NAME, cmd).version(GENL_VERSION);
        let dump = req.attrs(header(AttrBuilder::new(), None, flags)).dump();
        Box::pin(dump.map(move |r| {
            r.map_err(|e| for_dev(e, None))
                .and_then(|m| parse(&m))
                .map_err(|e| ctx.wrap(e))
        }))
    }
}

/// `get` returns a message for every reply it does not fail; this keeps
/// the shared call path total without a panic.
fn unreachable_reply<T>(ctx: &Context) -> Result<T> {
    Err(ctx.wrap(Error::Decode {
        request: RequestKind {
            message_type: 0,
            name: None,
        },
        reason: "acknowledged without the expected reply message".into(),
    }))
}

/// The u32 attributes of `a` by type, for the plain counters of rings and
/// channels.
fn u32_of(a: &Attributes<'_>, ty: u16) -> Option<u32> {
    a.get(ty).and_then(|x| x.u32())
}
