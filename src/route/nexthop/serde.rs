//! `serde` for [`NexthopObject`], with `ip -j nexthop`'s field names.

use ::serde::ser::{Serialize, SerializeMap, Serializer};

use super::view::{GroupType, NexthopObject};
use crate::route::address::scope_name;
use crate::route::route::names::protocol_name;
use crate::route::route::serde_flag_names;
use crate::serde_util::Fields;

struct Member(u32, u32);

impl Serialize for Member {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.0)?;
        // `ip -j` leaves out a weight of 1.
        if self.1 != 1 {
            m.serialize_entry("weight", &self.1)?;
        }
        m.end()
    }
}

/// A nexthop object as a map, keys as `ip -j nexthop show` prints them:
///
/// | key | type | |
/// |---|---|---|
/// | `id` | number | |
/// | `group` | array of maps | `id`, `weight` (left out when 1) |
/// | `type` | string | `resilient` (`ip` prints no type for `mpath`) |
/// | `resilient_args` | map | `buckets`, `idle_timer`, `unbalanced_timer`, `unbalanced_time` (seconds) |
/// | `blackhole`, `fdb` | `true` | when set (`ip` prints `null`) |
/// | `gateway` | string | |
/// | `ifindex` | number | the device (`ip`'s `dev` is its name) |
/// | `scope` | string | single nexthops: `link`, `host`, `global` |
/// | `protocol` | string | when not `unspec`: `boot`, `static`… or the number as text |
/// | `flags` | array of strings | `onlink`, `dead`, `linkdown`… |
impl Serialize for NexthopObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("id", &self.id())?;
        if self.is_group() {
            let g: Vec<Member> = self
                .group()
                .iter()
                .map(|g| Member(g.id, g.weight))
                .collect();
            m.put("group", &g)?;
            if self.group_type() == Some(GroupType::Resilient) {
                m.put("type", "resilient")?;
            }
            if let Some(r) = self.resilient() {
                m.put("resilient_args", &Args(r))?;
            }
        }
        m.flag("blackhole", self.blackhole())?
            .opt("gateway", self.gateway())?
            .opt("ifindex", self.oif())?;
        if !self.is_group() && !self.blackhole() {
            let scope = netlink_packet_route::address::AddressScope::from(u8::from(self.scope()));
            m.put("scope", &scope_name(scope))?;
        }
        let proto = u8::from(self.protocol());
        m.opt("protocol", (proto != 0).then(|| protocol_name(proto)))?
            .put("flags", &serde_flag_names(self.flags()))?
            .flag("fdb", self.fdb())?;
        m.end()
    }
}

/// `resilient_args` in `ip`'s key order.
struct Args(super::view::ResilientInfo);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("buckets", &self.0.buckets)?;
        m.serialize_entry("idle_timer", &self.0.idle_timer)?;
        m.serialize_entry("unbalanced_timer", &self.0.unbalanced_timer)?;
        m.serialize_entry("unbalanced_time", &self.0.unbalanced_time)?;
        m.end()
    }
}
