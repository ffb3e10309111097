//! `info_data` of bridges and `info_slave_data` of bridge ports, as
//! iproute2 6.1 prints them.

use netlink_packet_route::link::{BridgeBooleanOptionFlags, BridgeId, InfoBridge, InfoBridgePort};
use serde_json::{Map, Value};

use crate::info::{hex, timer, vlan_protocol};
use crate::json::Names;

/// `8000.2:0:0:aa:bb:c`: priority bytes, then glibc's ether_ntoa (no padding).
fn bridge_id(id: &BridgeId) -> Value {
    let mac: Vec<String> = id.address.iter().map(|b| format!("{b:x}")).collect();
    format!("{:04x}.{}", id.priority, mac.join(":")).into()
}

/// A bridge's settings.
pub fn bridge(attrs: &[InfoBridge]) -> Map<String, Value> {
    use InfoBridge as B;
    let mut o = Map::new();
    for a in attrs {
        let (k, v): (&str, Value) = match a {
            B::ForwardDelay(v) => ("forward_delay", (*v).into()),
            B::HelloTime(v) => ("hello_time", (*v).into()),
            B::MaxAge(v) => ("max_age", (*v).into()),
            B::AgeingTime(v) => ("ageing_time", (*v).into()),
            B::StpState(v) => ("stp_state", u32::from(*v).into()),
            B::Priority(v) => ("priority", (*v).into()),
            B::VlanFiltering(v) => ("vlan_filtering", u8::from(*v).into()),
            B::VlanProtocol(p) => ("vlan_protocol", vlan_protocol(u16::from(*p))),
            B::BridgeId(id) => ("bridge_id", bridge_id(id)),
            B::RootId(id) => ("root_id", bridge_id(id)),
            B::RootPort(v) => ("root_port", (*v).into()),
            B::RootPathCost(v) => ("root_path_cost", (*v).into()),
            B::TopologyChange(v) => ("topology_change", (*v).into()),
            B::TopologyChangeDetected(v) => ("topology_change_detected", (*v).into()),
            B::HelloTimer(t) => ("hello_timer", timer(*t)),
            B::TcnTimer(t) => ("tcn_timer", timer(*t)),
            B::TopologyChangeTimer(t) => ("topology_change_timer", timer(*t)),
            B::GcTimer(t) => ("gc_timer", timer(*t)),
            B::VlanDefaultPvid(v) => ("vlan_default_pvid", (*v).into()),
            B::VlanStatsEnabled(v) => ("vlan_stats_enabled", u8::from(*v).into()),
            B::VlanStatsPerPort(v) => ("vlan_stats_per_port", u8::from(*v).into()),
            B::GroupFwdMask(v) => ("group_fwd_mask", hex(u64::from(*v))),
            B::GroupAddr(m) => ("group_addr", crate::json::ll_addr(m, 1).into()),
            B::MulticastSnooping(v) => ("mcast_snooping", u8::from(*v).into()),
            B::MultiBoolOpt(b) => {
                let bit = |f: BridgeBooleanOptionFlags| {
                    b.mask.contains(f).then(|| u8::from(b.value.contains(f)))
                };
                if let Some(v) = bit(BridgeBooleanOptionFlags::NoLinkLocalLearn) {
                    o.insert("no_linklocal_learn".into(), v.into());
                }
                if let Some(v) = bit(BridgeBooleanOptionFlags::VlanMulticastSnooping) {
                    o.insert("mcast_vlan_snooping".into(), v.into());
                }
                continue;
            }
            B::MulticastRouter(r) => ("mcast_router", u8::from(*r).into()),
            B::MulticastQueryUseIfaddr(v) => ("mcast_query_use_ifaddr", u8::from(*v).into()),
            B::MulticastQuerier(v) => ("mcast_querier", u8::from(*v).into()),
            B::MulticastHashElasticity(v) => ("mcast_hash_elasticity", (*v).into()),
            B::MulticastHashMax(v) => ("mcast_hash_max", (*v).into()),
            B::MulticastLastMemberCount(v) => ("mcast_last_member_cnt", (*v).into()),
            B::MulticastStartupQueryCount(v) => ("mcast_startup_query_cnt", (*v).into()),
            B::MulticastLastMemberInterval(v) => ("mcast_last_member_intvl", (*v).into()),
            B::MulticastMembershipInterval(v) => ("mcast_membership_intvl", (*v).into()),
            B::MulticastQuerierInterval(v) => ("mcast_querier_intvl", (*v).into()),
            B::MulticastQueryInterval(v) => ("mcast_query_intvl", (*v).into()),
            B::MulticastQueryResponseInterval(v) => ("mcast_query_response_intvl", (*v).into()),
            B::MulticastStartupQueryInterval(v) => ("mcast_startup_query_intvl", (*v).into()),
            B::MulticastStatsEnabled(v) => ("mcast_stats_enabled", u8::from(*v).into()),
            B::MulticastIgmpVersion(v) => ("mcast_igmp_version", (*v).into()),
            B::MulticastMldVersion(v) => ("mcast_mld_version", (*v).into()),
            B::NfCallIpTables(v) => ("nf_call_iptables", u8::from(*v).into()),
            B::NfCallIp6Tables(v) => ("nf_call_ip6tables", u8::from(*v).into()),
            B::NfCallArpTables(v) => ("nf_call_arptables", u8::from(*v).into()),
            _ => continue,
        };
        o.insert(k.into(), v);
    }
    o
}

/// A bridge port's settings.
pub fn port(attrs: &[InfoBridgePort], names: &Names) -> Map<String, Value> {
    use InfoBridgePort as P;
    const STATES: [&str; 5] = [
        "disabled",
        "listening",
        "learning",
        "forwarding",
        "blocking",
    ];
    let mut o = Map::new();
    for a in attrs {
        let (k, v): (&str, Value) = match a {
            P::State(s) => match STATES.get(u8::from(*s) as usize) {
                Some(n) => ("state", (*n).into()),
                None => ("state_index", u8::from(*s).into()),
            },
            P::Priority(v) => ("priority", (*v).into()),
            P::Cost(v) => ("cost", (*v).into()),
            P::HairpinMode(v) => ("hairpin", (*v).into()),
            P::Guard(v) => ("guard", (*v).into()),
            P::Protect(v) => ("root_block", (*v).into()),
            P::FastLeave(v) => ("fastleave", (*v).into()),
            P::Learning(v) => ("learning", (*v).into()),
            P::UnicastFlood(v) => ("flood", (*v).into()),
            P::PortId(v) => ("id", hex(u64::from(*v))),
            P::PortNumber(v) => ("no", hex(u64::from(*v))),
            P::DesignatedPort(v) => ("designated_port", (*v).into()),
            P::DesignatedCost(v) => ("designated_cost", (*v).into()),
            P::BridgeId(id) => ("bridge_id", bridge_id(id)),
            P::RootId(id) => ("root_id", bridge_id(id)),
            P::HoldTimer(t) => ("hold_timer", timer(*t)),
            P::MessageAgeTimer(t) => ("message_age_timer", timer(*t)),
            P::ForwardDelayTimer(t) => ("forward_delay_timer", timer(*t)),
            P::TopologyChangeAck(v) => ("topology_change_ack", u8::from(*v).into()),
            P::ConfigPending(v) => ("config_pending", u8::from(*v).into()),
            P::ProxyARP(v) => ("proxy_arp", (*v).into()),
            P::ProxyARPWifi(v) => ("proxy_arp_wifi", (*v).into()),
            P::MulticastRouter(r) => ("multicast_router", u8::from(*r).into()),
            P::MulticastFlood(v) => ("mcast_flood", (*v).into()),
            P::BroadcastFlood(v) => ("bcast_flood", (*v).into()),
            P::MulticastToUnicast(v) => ("mcast_to_unicast", (*v).into()),
            P::NeighSupress(v) => ("neigh_suppress", (*v).into()),
            P::GroupFwdMask(v) => {
                o.insert("group_fwd_mask_str".into(), fwd_mask_str(*v).into());
                ("group_fwd_mask", hex(u64::from(*v)))
            }
            P::VlanTunnel(v) => ("vlan_tunnel", (*v).into()),
            P::Isolated(v) => ("isolated", (*v).into()),
            P::Locked(v) => ("locked", (*v).into()),
            P::BackupPort(i) => ("backup_port", names.name(*i).into()),
            _ => continue,
        };
        o.insert(k.into(), v);
    }
    o
}

/// A port's group_fwd_mask as names (`stp`, `lacp`, `lldp`) or bits.
fn fwd_mask_str(mask: u16) -> String {
    let names: Vec<String> = (0..16)
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| match i {
            0 => "stp".into(),
            2 => "lacp".into(),
            14 => "lldp".into(),
            i => format!("{:#x}", 1 << i),
        })
        .collect();
    if names.is_empty() {
        "0x0".into()
    } else {
        names.join(",")
    }
}
