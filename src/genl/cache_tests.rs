//! The cache against the kernel: a stale id (as after a family is
//! unloaded and registered again) is resolved again, and a family gone
//! leaves the cache. Only read-only controller requests are sent.

use std::sync::Arc;

use futures::TryStreamExt;

use super::{AttrBuilder, Family, ctrl};
use crate::Netlink;

/// An id no family can have: the kernel allocates them below 1024.
const STALE: u16 = 0x7ff0;

fn stale(f: &Family) -> Arc<Family> {
    Arc::new(Family {
        id: STALE,
        ..f.clone()
    })
}

#[tokio::test]
async fn a_stale_cached_id_is_resolved_again() {
    let nl = Netlink::new();
    let g = nl.genl();
    let real = g.resolve("nlctrl").await.unwrap();
    assert_eq!(real.id, 0x10);
    assert!(
        Arc::ptr_eq(&real, &g.resolve("nlctrl").await.unwrap()),
        "cached"
    );

    g.cache.put(stale(&real));
    let name = || AttrBuilder::new().str(ctrl::ATTR_FAMILY_NAME, "nlctrl");
    let reply = g
        .request("nlctrl", ctrl::CMD_GETFAMILY)
        .attrs(name())
        .get()
        .await
        .unwrap();
    assert_eq!(reply.family, 0x10, "sent again to the fresh id");
    assert_eq!(g.cache.get("nlctrl").map(|f| f.id), Some(0x10));

    g.cache.put(stale(&real));
    let all: Vec<_> = g
        .request("nlctrl", ctrl::CMD_GETFAMILY)
        .dump()
        .try_collect()
        .await
        .unwrap();
    assert!(all.iter().any(|m| {
        m.attributes()
            .get(ctrl::ATTR_FAMILY_ID)
            .and_then(|a| a.u16())
            == Some(0x10)
    }));
    assert_eq!(g.cache.get("nlctrl").map(|f| f.id), Some(0x10));
}

#[tokio::test]
async fn a_family_gone_leaves_the_cache() {
    let nl = Netlink::new();
    let g = nl.genl();
    let mut gone = Family::clone(&*g.resolve("nlctrl").await.unwrap());
    gone.name = "tnlgone0".into();
    g.cache.put(stale(&gone));
    let e = g.request("tnlgone0", 1).ack().await.unwrap_err();
    assert_eq!(e.to_string(), "genl ctrl get name tnlgone0: no such family");
    assert!(g.cache.get("tnlgone0").is_none());
    let e = g
        .request("tnlgone0", 1)
        .dump()
        .try_next()
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // Misses are not cached: every lookup asks the kernel again.
    assert!(g.cache.get("tnlgone0").is_none());
}
