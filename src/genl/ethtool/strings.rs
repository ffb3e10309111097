//! ETHTOOL_MSG_STRSET_GET: the kernel's global string sets, such as the
//! names of netdev features (`ETH_SS_FEATURES`).

use super::{EthtoolHandle, GENL_NAME, GENL_VERSION, cmd, decode_error, for_dev, header};
use crate::error::{Context, Result};
use crate::genl::AttrBuilder;

/// ETH_SS_FEATURES: the string set of netdev feature names, indexed as
/// the bits of the features bitsets.
pub const ETH_SS_FEATURES: u32 = 4;

const A_STRSET_STRINGSETS: u16 = 2;
const A_STRINGSETS_STRINGSET: u16 = 1;
const A_STRINGSET_ID: u16 = 1;
const A_STRINGSET_COUNT: u16 = 2;
const A_STRINGSET_STRINGS: u16 = 3;
const A_STRINGS_STRING: u16 = 1;
const A_STRING_INDEX: u16 = 1;
const A_STRING_VALUE: u16 = 2;

/// More strings than any set has: a count beyond it is not believed.
const MAX_COUNT: u32 = 1 << 16;

impl EthtoolHandle {
    /// The global string set `id` (`ETH_SS_*`), each string at its index
    /// (an index the kernel left out is an empty string).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use tokio_netlink::genl::ethtool::ETH_SS_FEATURES;
    /// let names = nl.ethtool().string_set(ETH_SS_FEATURES).await?;
    /// assert!(names.iter().any(|n| n == "rx-gro"));
    /// # Ok(()) }
    /// ```
    pub async fn string_set(&self, id: u32) -> Result<Vec<String>> {
        let ctx = Context::new("ethtool --show-strings", format!("set {id}"));
        let attrs = header(AttrBuilder::new(), None, 0).nested(A_STRSET_STRINGSETS, |s| {
            s.nested(A_STRINGSETS_STRINGSET, |s| s.u32(A_STRINGSET_ID, id))
        });
        let req = self.genl.request(GENL_NAME, cmd::STRSET_GET);
        let m = req.version(GENL_VERSION).attrs(attrs).get().await;
        let m = m.map_err(|e| ctx.wrap(for_dev(e, None)))?;
        let set = m
            .attributes()
            .get(A_STRSET_STRINGSETS)
            .into_iter()
            .flat_map(|a| a.nested())
            .find(|s| s.nested().get(A_STRINGSET_ID).and_then(|x| x.u32()) == Some(id));
        let Some(set) = set.map(|s| s.nested()) else {
            let e = decode_error(&m, "ETHTOOL_MSG_STRSET_GET_REPLY", "no such string set");
            return Err(ctx.wrap(e));
        };
        let count = set
            .get(A_STRINGSET_COUNT)
            .and_then(|x| x.u32())
            .unwrap_or(0);
        let mut out = vec![String::new(); count.min(MAX_COUNT) as usize];
        let strings = set.get(A_STRINGSET_STRINGS).map(|a| a.nested());
        for s in strings
            .into_iter()
            .flatten()
            .filter(|s| s.kind() == A_STRINGS_STRING)
        {
            let s = s.nested();
            let i = s.get(A_STRING_INDEX).and_then(|x| x.u32());
            let v = s.get(A_STRING_VALUE).and_then(|x| x.str());
            if let (Some(i), Some(v)) = (i, v)
                && let Some(slot) = out.get_mut(i as usize)
            {
                *slot = v.to_owned();
            }
        }
        Ok(out)
    }
}
