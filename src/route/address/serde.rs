//! `serde` for [`Address`]: one `addr_info` entry of `ip -j addr show`,
//! with the link's index beside it.

use ::serde::ser::{Serialize, Serializer};

use super::{Address, scope_name};
use crate::serde_util::{Fields, family_name};
use crate::types::Family;

/// IFA_F_* names in `ip`'s order; `permanent` is printed inverted as
/// `dynamic`, and IPv6 `secondary` as `temporary`.
const IFA_FLAGS: [(u32, &str); 12] = [
    (0x01, "secondary"),
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "home"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (0x80, "permanent"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
    (0x400, "autojoin"),
    (0x800, "stable-privacy"),
];

/// An address as `ip -j addr show` prints it in `addr_info`:
///
/// | field | type | from |
/// |---|---|---|
/// | `ifindex` | number | [`Address::index`] (`ip` nests the entry in its link) |
/// | `family` | string | `inet`, `inet6` |
/// | `local` | string | [`Address::address`] |
/// | `address` | string | [`Address::peer`] (point-to-point only) |
/// | `prefixlen` | number | [`Address::prefix_len`] |
/// | `protocol` | string | [`Address::proto`] (IFA_PROTO): `kernel_lo`, `kernel_ra`, `kernel_ll` or the number as text |
/// | `metric` | number | [`Address::metric`] |
/// | `broadcast` | string | [`Address::broadcast`] |
/// | `scope` | string | `global`, `link`, `host`, `site`, `nowhere` or the number as text |
/// | `dynamic`, `secondary`, `temporary`, `nodad`, `optimistic`, `dadfailed`, `home`, `deprecated`, `tentative`, `mngtmpaddr`, `noprefixroute`, `autojoin`, `stable-privacy` | `true` | the IFA_F_* flags set, as `ip` names them (`dynamic`: not permanent; `temporary`: IPv6 secondary) |
/// | `ifa_flags` | string | any other flag bits, in hex |
/// | `label` | string | [`Address::label`] |
/// | `valid_life_time`, `preferred_life_time` | number | seconds; 4294967295 for forever, as `ip` prints it |
impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v6 = self.family() == Family::V6;
        let mut m = Fields::begin(s)?;
        m.put("ifindex", &self.index())?
            .put("family", family_name(self.family()))?
            .opt("local", self.address())?
            .opt("address", self.peer())?
            .put("prefixlen", &self.prefix_len())?
            .opt(
                "protocol",
                self.proto().map(|p| match p {
                    1 => "kernel_lo".to_owned(),
                    2 => "kernel_ra".to_owned(),
                    3 => "kernel_ll".to_owned(),
                    n => n.to_string(),
                }),
            )?
            .opt("metric", self.metric())?
            .opt("broadcast", self.broadcast())?
            .put("scope", &scope_name(self.scope()))?;
        let flags = self.flags().bits();
        let mut rest = flags;
        for (mask, name) in IFA_FLAGS {
            if mask == 0x80 {
                m.flag("dynamic", flags & mask == 0)?;
            } else if rest & mask != 0 {
                m.flag(
                    if mask == 0x01 && v6 {
                        "temporary"
                    } else {
                        name
                    },
                    true,
                )?;
            }
            rest &= !mask;
        }
        if rest != 0 {
            m.put("ifa_flags", &format!("{rest:02x}"))?;
        }
        m.opt("label", self.label())?
            .put("valid_life_time", &self.valid_lft().unwrap_or(u32::MAX))?
            .put(
                "preferred_life_time",
                &self.preferred_lft().unwrap_or(u32::MAX),
            )?;
        m.end()
    }
}
