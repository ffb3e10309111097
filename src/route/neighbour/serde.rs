//! `serde` for [`Neighbour`], in `ip -j neigh` / `bridge -j fdb` words.

use ::serde::ser::{Serialize, Serializer};

use super::{Neighbour, state_names};
use crate::route::link::serde_ll_addr;
use crate::serde_util::Fields;

/// NTF_* names (`bridge fdb`'s spelling).
const NTF_NAMES: [(u8, &str); 8] = [
    (0x01, "use"),
    (0x02, "self"),
    (0x04, "master"),
    (0x08, "proxy"),
    (0x10, "extern_learn"),
    (0x20, "offload"),
    (0x40, "sticky"),
    (0x80, "router"),
];

/// A neighbour or FDB entry:
///
/// | field | type | from |
/// |---|---|---|
/// | `family` | string | `inet`, `inet6`, `bridge` (an FDB entry), or the AF number as text |
/// | `ifindex` | number | [`Neighbour::index`] (`ip`'s `dev` is its name) |
/// | `dst` | string | [`Neighbour::destination`] |
/// | `lladdr` | string | [`Neighbour::lladdr`], colon-separated hex; an IP address when it is one ([`Neighbour::lladdr_ip`], tunnels) |
/// | `state` | array of strings | NUD states as `ip` names them (`REACHABLE`, `PERMANENT`…); empty for none |
/// | `flags` | array of strings | NTF_*: `self`, `master`, `proxy`, `extern_learn`, `offload`, `sticky`, `router`, `use` |
/// | `vlan`, `vni`, `port` | number | FDB fields |
/// | `master_index` | number | [`Neighbour::master`] (`bridge`'s `master` is its name) |
impl Serialize for Neighbour {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let family = match self.family_raw() {
            2 => "inet".to_owned(),
            10 => "inet6".to_owned(),
            7 => "bridge".to_owned(),
            n => n.to_string(),
        };
        let f = self.flags().bits();
        let flags: Vec<&str> = NTF_NAMES
            .iter()
            .filter(|(b, _)| f & b != 0)
            .map(|(_, n)| *n)
            .collect();
        let mut m = Fields::begin(s)?;
        m.put("family", &family)?
            .put("ifindex", &self.index())?
            .opt("dst", self.destination())?
            .opt(
                "lladdr",
                // An IP address on tunnels (as `ip` prints it), hex otherwise.
                self.lladdr().map(|a| match self.lladdr_ip() {
                    Some(ip) => ip.to_string(),
                    None => serde_ll_addr(a, 1),
                }),
            )?
            .put("state", &state_names(self.state()))?
            .put("flags", &flags)?
            .opt("vlan", self.vlan())?
            .opt("vni", self.vni())?
            .opt("port", self.port())?
            .opt("master_index", self.master())?;
        m.end()
    }
}
