//! `type bond [mode M] [miimon MS] [lacp_rate R] [xmit_hash_policy P]`.
//!
//! Ports are added with `nl.link().set(dev).master(bond)`; the kernel wants
//! them down when they are enslaved.

use netlink_packet_route::link::{
    BondLacpRate as RawLacpRate, BondMode as RawMode, BondXmitHashPolicy as RawHash, InfoBond,
    InfoData, InfoKind, LinkInfo,
};

use crate::error::{Error, Result};
use crate::route::link::{KindCtx, KindParts, LinkId, LinkKind};

/// Bonding modes, as `ip link … type bond mode M` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BondMode {
    /// `balance-rr` (0), the kernel's default.
    BalanceRr,
    /// `active-backup` (1).
    ActiveBackup,
    /// `balance-xor` (2).
    BalanceXor,
    /// `broadcast` (3).
    Broadcast,
    /// `802.3ad` (4): LACP.
    Ieee8023Ad,
    /// `balance-tlb` (5).
    BalanceTlb,
    /// `balance-alb` (6).
    BalanceAlb,
}

impl std::str::FromStr for BondMode {
    type Err = Error;

    /// Parses `ip`'s spelling (`balance-rr`, `active-backup`, `balance-xor`,
    /// `broadcast`, `802.3ad`, `balance-tlb`, `balance-alb`).
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "balance-rr" => BondMode::BalanceRr,
            "active-backup" => BondMode::ActiveBackup,
            "balance-xor" => BondMode::BalanceXor,
            "broadcast" => BondMode::Broadcast,
            "802.3ad" => BondMode::Ieee8023Ad,
            "balance-tlb" => BondMode::BalanceTlb,
            "balance-alb" => BondMode::BalanceAlb,
            _ => {
                return Err(Error::invalid(
                    "mode",
                    format!(
                        "{s:?} is not one of balance-rr, active-backup, balance-xor, \
                         broadcast, 802.3ad, balance-tlb, balance-alb"
                    ),
                ));
            }
        })
    }
}

/// The LACPDU rate asked of the partner (`lacp_rate slow|fast`), 802.3ad only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BondLacpRate {
    /// `slow`: every 30 s (the default).
    Slow,
    /// `fast`: every second.
    Fast,
}

impl std::str::FromStr for BondLacpRate {
    type Err = Error;

    /// Parses `slow` or `fast`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "slow" => Ok(BondLacpRate::Slow),
            "fast" => Ok(BondLacpRate::Fast),
            _ => Err(Error::invalid(
                "lacp_rate",
                format!("{s:?} is not one of slow, fast"),
            )),
        }
    }
}

/// How balance-xor and 802.3ad pick a port (`xmit_hash_policy P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BondXmitHashPolicy {
    /// `layer2`: MAC addresses (the default).
    Layer2,
    /// `layer3+4`: IP addresses and ports.
    Layer34,
    /// `layer2+3`: MAC and IP addresses.
    Layer23,
    /// `encap2+3`: like layer2+3, on the inner headers of tunnels.
    Encap23,
    /// `encap3+4`: like layer3+4, on the inner headers of tunnels.
    Encap34,
    /// `vlan+srcmac`: VLAN id and source MAC.
    VlanSrcMac,
}

impl std::str::FromStr for BondXmitHashPolicy {
    type Err = Error;

    /// Parses `layer2`, `layer3+4`, `layer2+3`, `encap2+3`, `encap3+4` or
    /// `vlan+srcmac`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "layer2" => BondXmitHashPolicy::Layer2,
            "layer3+4" => BondXmitHashPolicy::Layer34,
            "layer2+3" => BondXmitHashPolicy::Layer23,
            "encap2+3" => BondXmitHashPolicy::Encap23,
            "encap3+4" => BondXmitHashPolicy::Encap34,
            "vlan+srcmac" => BondXmitHashPolicy::VlanSrcMac,
            _ => {
                return Err(Error::invalid(
                    "xmit_hash_policy",
                    format!(
                        "{s:?} is not one of layer2, layer3+4, layer2+3, encap2+3, \
                         encap3+4, vlan+srcmac"
                    ),
                ));
            }
        })
    }
}

/// A bonding device, or the change of a live one (`ip link set DEV type
/// bond …` through [`LinkSet::kind`](crate::route::link::LinkSet::kind):
/// only what is set is sent). More options: `updelay`, `arp_ip_target`,
/// `primary`, `active_slave`, `ad_select`, ….
#[derive(Debug, Clone, Default)]
pub struct Bond {
    mode: Option<BondMode>,
    miimon: Option<u32>,
    lacp_rate: Option<BondLacpRate>,
    xmit_hash_policy: Option<BondXmitHashPolicy>,
    pub(super) extra: Vec<InfoBond>,
    pub(super) primary: Option<LinkId>,
    pub(super) active: Option<LinkId>,
}

impl Bond {
    /// A bond with the kernel's defaults (balance-rr, no link monitoring).
    pub fn new() -> Self {
        Self::default()
    }

    /// `mode M`.
    #[inline]
    pub fn mode(mut self, mode: BondMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// `miimon MS`: MII link monitoring interval in milliseconds (0: off).
    #[inline]
    pub fn miimon(mut self, ms: u32) -> Self {
        self.miimon = Some(ms);
        self
    }

    /// `lacp_rate slow|fast`; needs `mode 802.3ad`.
    #[inline]
    pub fn lacp_rate(mut self, rate: BondLacpRate) -> Self {
        self.lacp_rate = Some(rate);
        self
    }

    /// `xmit_hash_policy P`.
    #[inline]
    pub fn xmit_hash_policy(mut self, policy: BondXmitHashPolicy) -> Self {
        self.xmit_hash_policy = Some(policy);
        self
    }
}

impl LinkKind for Bond {
    fn refs(&self) -> Vec<LinkId> {
        self.primary.iter().chain(&self.active).cloned().collect()
    }

    fn refs_field(&self) -> &'static str {
        if self.primary.is_some() {
            "primary"
        } else {
            "active_slave"
        }
    }

    fn build(&self, ctx: &KindCtx) -> Result<KindParts> {
        self.check_extra()?;
        if self.active.is_some() && !ctx.is_change() {
            return Err(Error::invalid(
                "active_slave",
                "a new bond has no ports yet",
            ));
        }
        // A live bond's mode is the kernel's to check.
        if self.lacp_rate.is_some() && !ctx.is_change() && self.mode != Some(BondMode::Ieee8023Ad) {
            // The kernel refuses it too ("option not supported in mode").
            return Err(Error::invalid("lacp_rate", "only applies to mode 802.3ad"));
        }
        if self.miimon.is_some_and(|m| m > i32::MAX as u32) {
            return Err(Error::invalid("miimon", "exceeds 2147483647 ms"));
        }
        let mut data = Vec::new();
        if let Some(m) = self.mode {
            data.push(InfoBond::Mode(match m {
                BondMode::BalanceRr => RawMode::BalanceRr,
                BondMode::ActiveBackup => RawMode::ActiveBackup,
                BondMode::BalanceXor => RawMode::BalanceXor,
                BondMode::Broadcast => RawMode::Broadcast,
                BondMode::Ieee8023Ad => RawMode::Ieee8023Ad,
                BondMode::BalanceTlb => RawMode::BalanceTlb,
                BondMode::BalanceAlb => RawMode::BalanceAlb,
            }));
        }
        if let Some(ms) = self.miimon {
            data.push(InfoBond::MiiMon(ms));
        }
        if let Some(r) = self.lacp_rate {
            data.push(InfoBond::AdLacpRate(match r {
                BondLacpRate::Slow => RawLacpRate::Slow,
                BondLacpRate::Fast => RawLacpRate::Fast,
            }));
        }
        if let Some(p) = self.xmit_hash_policy {
            data.push(InfoBond::XmitHashPolicy(match p {
                BondXmitHashPolicy::Layer2 => RawHash::Layer2,
                BondXmitHashPolicy::Layer34 => RawHash::Layer34,
                BondXmitHashPolicy::Layer23 => RawHash::Layer23,
                BondXmitHashPolicy::Encap23 => RawHash::Encap23,
                BondXmitHashPolicy::Encap34 => RawHash::Encap34,
                BondXmitHashPolicy::VlanSrcMac => RawHash::VlanSrcMac,
            }));
        }
        data.extend(self.extra.iter().cloned());
        if let Some(p) = &self.primary {
            data.push(InfoBond::Primary(ctx.index(p)?));
        }
        if let Some(a) = &self.active {
            data.push(InfoBond::ActivePort(ctx.index(a)?));
        }
        let mut info = vec![LinkInfo::Kind(InfoKind::Bond)];
        if !data.is_empty() {
            info.push(LinkInfo::Data(InfoData::Bond(data)));
        }
        Ok(KindParts {
            info,
            ..KindParts::default()
        })
    }
}
