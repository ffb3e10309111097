//! Family resolution through the controller, and the client's cache of
//! resolved families.
//!
//! The cache holds what was resolved by name and is never trusted for a
//! miss: a name not in it is asked of the kernel, so a family registered
//! after the client started is found. It is not kept fresh by
//! notifications; instead a request to a cached id that the kernel answers
//! with ENOENT (what it answers for an id no family has) drops the entry
//! and re-resolves the name (see [`GenlRequest`](super::GenlRequest)).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::Stream;

use super::{AttrBuilder, Family, GENL_ID_CTRL, GENL_NAMSIZ, GenlHandle, GenlMessage, ctrl};
use crate::conn::RawMessage;
use crate::conn::attrs::check_string;
use crate::conn::mapped::MappedDump;
use crate::error::{Context, Error, Result, ResultExt};

/// Resolved families by name, shared by a client's clones.
#[derive(Debug, Default)]
pub(crate) struct FamilyCache {
    by_name: Mutex<HashMap<String, Arc<Family>>>,
}

impl FamilyCache {
    pub(super) fn get(&self, name: &str) -> Option<Arc<Family>> {
        self.by_name.lock().expect("genl cache").get(name).cloned()
    }

    pub(super) fn put(&self, f: Arc<Family>) {
        let mut map = self.by_name.lock().expect("genl cache");
        map.insert(f.name.clone(), f);
    }

    /// Drops `name`'s entry if it still has id `id` (a concurrent
    /// re-resolution may have replaced it already).
    pub(crate) fn forget(&self, name: &str, id: u16) {
        let mut map = self.by_name.lock().expect("genl cache");
        if map.get(name).is_some_and(|f| f.id == id) {
            map.remove(name);
        }
    }
}

/// Refuses a name the controller could not match: empty, with a NUL, or
/// longer than GENL_NAMSIZ - 1 bytes.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("family", "the name is empty"));
    }
    check_string("family", name, GENL_NAMSIZ - 1)
}

/// CTRL_CMD_GETFAMILY with `attrs`.
fn getfamily(attrs: Vec<u8>) -> GenlMessage {
    let mut m = GenlMessage::new(GENL_ID_CTRL, ctrl::CMD_GETFAMILY, ctrl::VERSION);
    m.payload = Bytes::from(attrs);
    m
}

impl GenlHandle {
    /// `genl ctrl get name NAME`: asks the kernel for family `name`
    /// (always; the answer refreshes the client's cache). A family the
    /// kernel does not have is an error reading `genl ctrl get name NAME:
    /// no such family`, for which [`Error::is_not_found`] holds.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// match nl.genl().family("wireguard").await {
    ///     Ok(f) => println!("wireguard is family {:#x}", f.id),
    ///     Err(e) if e.is_not_found() => println!("no wireguard module loaded"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn family(&self, name: &str) -> Result<Family> {
        Ok(Family::clone(&*self.fetch(name).await?))
    }

    /// `genl ctrl get id ID`: asks the kernel for the family with id `id`
    /// (the answer refreshes the cache); an unknown id is `genl ctrl get id
    /// 0xID: no such family`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let ctrl = nl.genl().family_by_id(tokio_netlink::genl::GENL_ID_CTRL).await?;
    /// assert_eq!(ctrl.name, "nlctrl");
    /// # Ok(()) }
    /// ```
    pub async fn family_by_id(&self, id: u16) -> Result<Family> {
        let ctx = Context::new("genl ctrl get", format!("id {id:#x}")).missing("family");
        let attrs = AttrBuilder::new().u16(ctrl::ATTR_FAMILY_ID, id).finish()?;
        let got = self.req.get_raw(getfamily(attrs), 0).await;
        let f = got.and_then(|raw| Family::decode(&raw)).within(&ctx)?;
        self.cache.put(Arc::new(f.clone()));
        Ok(f)
    }

    /// Family `name` from the client's cache, asking the kernel when it is
    /// not there (errors as [`family`](Self::family)). Typed families use
    /// this to find their id.
    pub async fn resolve(&self, name: &str) -> Result<Arc<Family>> {
        match self.cache.get(name) {
            Some(f) => Ok(f),
            None => self.fetch(name).await,
        }
    }

    /// Asks the kernel and caches the answer (or forgets a family gone).
    pub(crate) async fn fetch(&self, name: &str) -> Result<Arc<Family>> {
        let ctx = Context::new("genl ctrl get", format!("name {name}")).missing("family");
        check_name(name)?;
        let attrs = AttrBuilder::new()
            .str(ctrl::ATTR_FAMILY_NAME, name)
            .finish()?;
        let got = self.req.get_raw(getfamily(attrs), 0).await;
        match got.and_then(|raw| Family::decode(&raw)).within(&ctx) {
            Ok(f) => {
                let f = Arc::new(f);
                self.cache.put(f.clone());
                Ok(f)
            }
            Err(e) => {
                if e.is_not_found()
                    && let Some(old) = self.cache.get(name)
                {
                    self.cache.forget(name, old.id);
                }
                Err(e)
            }
        }
    }

    /// `genl ctrl list`: every family, as a stream in the kernel's order.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// use futures::TryStreamExt;
    /// let names: Vec<String> = nl.genl().families().map_ok(|f| f.name).try_collect().await?;
    /// assert!(names.iter().any(|n| n == "nlctrl"));
    /// # Ok(()) }
    /// ```
    pub fn families(&self) -> impl Stream<Item = Result<Family>> + Send + Unpin + 'static {
        let req = self.req.clone();
        let ctx = Context::new("genl ctrl list", "");
        MappedDump::new(async move {
            let dump = req.dump_raw(getfamily(Vec::new()), 0);
            Ok((dump, move |raw: RawMessage| {
                Some(Family::decode(&raw).within(&ctx))
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_controller_cannot_match_are_refused() {
        check_name("nlctrl").unwrap();
        check_name(&"a".repeat(15)).unwrap();
        for (bad, why) in [
            ("", "empty"),
            ("a\0b", "NUL byte at 1"),
            (&*"a".repeat(16), "16 bytes, longer than 15"),
        ] {
            let e = check_name(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "family",
                        ..
                    }
                ),
                "{bad:?}"
            );
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn the_cache_forgets_only_the_id_it_was_told() {
        let c = FamilyCache::default();
        let f = |id| {
            Arc::new(Family {
                id,
                name: "x".into(),
                version: 1,
                hdrsize: 0,
                maxattr: 0,
                ops: vec![],
                mcast_groups: vec![],
            })
        };
        c.put(f(0x20));
        c.forget("x", 0x21);
        assert_eq!(c.get("x").map(|f| f.id), Some(0x20));
        c.forget("x", 0x20);
        assert!(c.get("x").is_none());
    }
}
