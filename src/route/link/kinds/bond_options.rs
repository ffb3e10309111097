//! The rest of `type bond …`'s options: link monitoring, ARP, primary and
//! active port, failover and 802.3ad tuning.

use std::net::Ipv4Addr;

use netlink_packet_route::link::{
    BondAdSelect as RawAdSelect, BondAllPortActive, BondArpAllTargets as RawAllTargets,
    BondArpValidate as RawArpValidate, BondFailOverMac as RawFailOverMac,
    BondPrimaryReselect as RawReselect, InfoBond,
};

use super::Bond;
use crate::error::{Error, Result};
use crate::route::link::{LinkId, MacAddr};

/// An option enum in `ip`'s spelling, with its raw value.
macro_rules! spelled {
    ($(#[$doc:meta])* $name:ident, $raw:ident, $field:literal {
        $($(#[$vdoc:meta])* $variant:ident = $text:literal => $rawv:ident,)*
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            fn raw(self) -> $raw {
                match self {
                    $($name::$variant => $raw::$rawv,)*
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;

            #[doc = concat!("Parses `ip`'s spelling of `", $field, "`.")]
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(Error::invalid(
                        $field,
                        format!(concat!("{:?} is not one of" $(, " ", $text)*), s),
                    )),
                }
            }
        }
    };
}

spelled!(
    /// Which ARP replies count as the port alive (`arp_validate`).
    BondArpValidate, RawArpValidate, "arp_validate" {
        /// `none`: no validation (the default).
        None = "none" => None,
        /// `active`: on the active port only.
        Active = "active" => Active,
        /// `backup`: on backup ports only.
        Backup = "backup" => Backup,
        /// `all`: on every port.
        All = "all" => All,
        /// `filter`: any ARP traffic, on every port.
        Filter = "filter" => Filter,
        /// `filter_active`.
        FilterActive = "filter_active" => FilterActive,
        /// `filter_backup`.
        FilterBackup = "filter_backup" => FilterBackup,
    }
);

spelled!(
    /// How many ARP targets must answer (`arp_all_targets`).
    BondArpAllTargets, RawAllTargets, "arp_all_targets" {
        /// `any` (the default).
        Any = "any" => Any,
        /// `all`.
        All = "all" => All,
    }
);

spelled!(
    /// When the primary port becomes active again (`primary_reselect`).
    BondPrimaryReselect, RawReselect, "primary_reselect" {
        /// `always` (the default).
        Always = "always" => Always,
        /// `better`: when it is faster than the active port.
        Better = "better" => Better,
        /// `failure`: only when the active port fails.
        Failure = "failure" => Failure,
    }
);

spelled!(
    /// What happens to MAC addresses on failover (`fail_over_mac`).
    BondFailOverMac, RawFailOverMac, "fail_over_mac" {
        /// `none`: every port takes the bond's MAC (the default).
        None = "none" => None,
        /// `active`: the bond takes the active port's MAC.
        Active = "active" => Active,
        /// `follow`: the new active port takes the bond's MAC.
        Follow = "follow" => Follow,
    }
);

spelled!(
    /// How 802.3ad picks the active aggregator (`ad_select`).
    BondAdSelect, RawAdSelect, "ad_select" {
        /// `stable` (the default).
        Stable = "stable" => Stable,
        /// `bandwidth`: the highest total bandwidth.
        Bandwidth = "bandwidth" => Bandwidth,
        /// `count`: the most ports.
        Count = "count" => Count,
    }
);

impl Bond {
    fn push(mut self, a: InfoBond) -> Self {
        self.extra.push(a);
        self
    }

    /// `updelay MS`: wait before enabling a port whose link came up.
    #[inline]
    pub fn updelay(self, ms: u32) -> Self {
        self.push(InfoBond::UpDelay(ms))
    }

    /// `downdelay MS`: wait before disabling a port whose link went down.
    #[inline]
    pub fn downdelay(self, ms: u32) -> Self {
        self.push(InfoBond::DownDelay(ms))
    }

    /// `peer_notify_delay MS`.
    #[inline]
    pub fn peer_notify_delay(self, ms: u32) -> Self {
        self.push(InfoBond::PeerNotifDelay(ms))
    }

    /// `use_carrier 0|1`: miimon reads the carrier (not MII ioctls).
    #[inline]
    pub fn use_carrier(self, on: bool) -> Self {
        self.push(InfoBond::UseCarrier(on))
    }

    /// `arp_interval MS`: ARP link monitoring (0: off).
    #[inline]
    pub fn arp_interval(self, ms: u32) -> Self {
        self.push(InfoBond::ArpInterval(ms))
    }

    /// `arp_ip_target A,B,…`: the ARP monitor's targets (at most 16; an
    /// empty list clears them).
    #[inline]
    pub fn arp_ip_target(self, targets: Vec<Ipv4Addr>) -> Self {
        self.push(InfoBond::ArpIpTarget(targets))
    }

    /// `arp_validate V`.
    #[inline]
    pub fn arp_validate(self, v: BondArpValidate) -> Self {
        self.push(InfoBond::ArpValidate(v.raw()))
    }

    /// `arp_all_targets any|all`.
    #[inline]
    pub fn arp_all_targets(self, v: BondArpAllTargets) -> Self {
        self.push(InfoBond::ArpAllTargets(v.raw()))
    }

    /// `primary DEV`: the preferred port (active-backup, tlb, alb).
    #[inline]
    pub fn primary(mut self, dev: impl Into<LinkId>) -> Self {
        self.primary = Some(dev.into());
        self
    }

    /// `active_slave DEV`: makes a port the active one (a change of a
    /// running active-backup bond).
    #[inline]
    pub fn active_slave(mut self, dev: impl Into<LinkId>) -> Self {
        self.active = Some(dev.into());
        self
    }

    /// `primary_reselect P`.
    #[inline]
    pub fn primary_reselect(self, p: BondPrimaryReselect) -> Self {
        self.push(InfoBond::PrimaryReselect(p.raw()))
    }

    /// `fail_over_mac P`.
    #[inline]
    pub fn fail_over_mac(self, p: BondFailOverMac) -> Self {
        self.push(InfoBond::FailOverMac(p.raw()))
    }

    /// `resend_igmp N`: IGMP reports sent after a failover (0 to 255).
    #[inline]
    pub fn resend_igmp(self, n: u32) -> Self {
        self.push(InfoBond::ResendIgmp(n))
    }

    /// `num_grat_arp N` / `num_unsol_na N`: peer notifications after a
    /// failover (0 to 255).
    #[inline]
    pub fn num_peer_notif(self, n: u8) -> Self {
        self.push(InfoBond::NumPeerNotif(n))
    }

    /// `all_slaves_active 0|1`: deliver frames received on inactive ports.
    #[inline]
    pub fn all_slaves_active(self, on: bool) -> Self {
        self.push(InfoBond::AllPortsActive(if on {
            BondAllPortActive::Delivered
        } else {
            BondAllPortActive::Dropped
        }))
    }

    /// `min_links N`: ports that must be up for the bond to have carrier.
    #[inline]
    pub fn min_links(self, n: u32) -> Self {
        self.push(InfoBond::MinLinks(n))
    }

    /// `lp_interval S`: seconds between learning packets (tlb, alb).
    #[inline]
    pub fn lp_interval(self, s: u32) -> Self {
        self.push(InfoBond::LpInterval(s))
    }

    /// `packets_per_slave N` (balance-rr; 0: random port).
    #[inline]
    pub fn packets_per_slave(self, n: u32) -> Self {
        self.push(InfoBond::PacketsPerPort(n))
    }

    /// `ad_select P` (802.3ad).
    #[inline]
    pub fn ad_select(self, p: BondAdSelect) -> Self {
        self.push(InfoBond::AdSelect(p.raw()))
    }

    /// `ad_actor_sys_prio N` (802.3ad; 1 to 65535).
    #[inline]
    pub fn ad_actor_sys_prio(self, prio: u16) -> Self {
        self.push(InfoBond::AdActorSysPrio(prio))
    }

    /// `ad_user_port_key N` (802.3ad; 0 to 1023).
    #[inline]
    pub fn ad_user_port_key(self, key: u16) -> Self {
        self.push(InfoBond::AdUserPortKey(key))
    }

    /// `ad_actor_system MAC` (802.3ad).
    #[inline]
    pub fn ad_actor_system(self, mac: MacAddr) -> Self {
        self.push(InfoBond::AdActorSystem(mac.0))
    }

    /// `tlb_dynamic_lb 0|1` (balance-tlb).
    #[inline]
    pub fn tlb_dynamic_lb(self, on: bool) -> Self {
        self.push(InfoBond::TlbDynamicLb(on))
    }

    /// Checks what the kernel would refuse for a knowable reason.
    pub(super) fn check_extra(&self) -> Result<()> {
        for a in &self.extra {
            match a {
                InfoBond::ArpIpTarget(t) if t.len() > 16 => {
                    return Err(Error::invalid(
                        "arp_ip_target",
                        format!("{} targets; the kernel takes at most 16", t.len()),
                    ));
                }
                InfoBond::ArpIpTarget(t)
                    if t.iter().any(|a| a.is_unspecified() || a.is_broadcast()) =>
                {
                    return Err(Error::invalid(
                        "arp_ip_target",
                        "0.0.0.0 and 255.255.255.255 are no targets",
                    ));
                }
                InfoBond::ResendIgmp(n) if *n > 255 => {
                    return Err(Error::invalid("resend_igmp", format!("{n} exceeds 255")));
                }
                InfoBond::AdUserPortKey(k) if *k > 1023 => {
                    return Err(Error::invalid(
                        "ad_user_port_key",
                        format!("{k} exceeds 1023"),
                    ));
                }
                InfoBond::AdActorSysPrio(0) => {
                    return Err(Error::invalid("ad_actor_sys_prio", "0 is not in 1..=65535"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
