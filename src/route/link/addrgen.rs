//! `ip link set DEV addrgenmode …`: how IPv6 link-local addresses are made.

use netlink_packet_route::link::{AfSpecInet6, AfSpecUnspec, In6AddrGenMode, LinkAttribute};

use crate::error::{Error, Result};

/// IPv6 address generation mode (IFLA_INET6_ADDR_GEN_MODE), as `ip`
/// spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AddrGenMode {
    /// `eui64`: from the link-layer address (the default).
    Eui64,
    /// `none`: no link-local address is made.
    None,
    /// `stable_secret`: RFC 7217 stable privacy addresses.
    StableSecret,
    /// `random`: stable privacy with a random secret.
    Random,
}

impl AddrGenMode {
    /// `ip`'s name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            AddrGenMode::Eui64 => "eui64",
            AddrGenMode::None => "none",
            AddrGenMode::StableSecret => "stable_secret",
            AddrGenMode::Random => "random",
        }
    }

    pub(crate) fn from_raw(v: u8) -> Option<Self> {
        Some(match v {
            0 => AddrGenMode::Eui64,
            1 => AddrGenMode::None,
            2 => AddrGenMode::StableSecret,
            3 => AddrGenMode::Random,
            _ => return None,
        })
    }

    pub(crate) fn attribute(self) -> LinkAttribute {
        let m = match self {
            AddrGenMode::Eui64 => In6AddrGenMode::Eui64,
            AddrGenMode::None => In6AddrGenMode::None,
            AddrGenMode::StableSecret => In6AddrGenMode::StablePrivacy,
            AddrGenMode::Random => In6AddrGenMode::Random,
        };
        LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(vec![AfSpecInet6::AddrGenMode(m)])])
    }
}

impl std::fmt::Display for AddrGenMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AddrGenMode {
    type Err = Error;

    /// Parses `eui64`, `none`, `stable_secret` or `random`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "eui64" => AddrGenMode::Eui64,
            "none" => AddrGenMode::None,
            "stable_secret" => AddrGenMode::StableSecret,
            "random" => AddrGenMode::Random,
            _ => {
                return Err(Error::invalid(
                    "addrgenmode",
                    format!("{s:?} is not one of eui64, none, stable_secret, random"),
                ));
            }
        })
    }
}
