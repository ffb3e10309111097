//! `linkinfo` of `ip -j -d`: the kind, and for bridge, vxlan, macvlan,
//! macvtap and vlan the kind's settings as iproute2 6.1 prints them; the
//! bridge-port settings of bridge ports.

use netlink_packet_route::link::{
    InfoData, InfoMacVlan, InfoMacVtap, InfoPortData, InfoVlan, InfoVxlan, MacVlanFlags,
    MacVlanMode, VlanQosMapping, VxlanDf,
};
use serde_json::{Map, Value, json};
use tokio_netlink::route::link::Link;

use crate::bridge;
use crate::json::Names;

/// `ip`'s `%#llx`: `0` for zero, else `0x…`.
pub fn hex(v: u64) -> Value {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}").into()
    }
}

/// A timer in clock ticks (USER_HZ = 100) as `ip` prints it: seconds.
pub fn timer(ticks: u64) -> Value {
    json!(ticks as f64 / 100.0)
}

pub fn vlan_protocol(p: u16) -> Value {
    match p {
        0x8100 => "802.1Q".into(),
        0x88a8 => "802.1ad".into(),
        n => format!("[{n}]").into(),
    }
}

/// The `linkinfo` object, when the kernel sent IFLA_LINKINFO.
pub fn linkinfo(l: &Link, names: &Names) -> Option<Value> {
    let kind = l.kind();
    let port_kind = l.port_kind();
    if kind.is_none() && port_kind.is_none() {
        return None;
    }
    let mut o = Map::new();
    if let Some(k) = kind {
        o.insert("info_kind".into(), k.into());
        let data = match l.info_data() {
            Some(InfoData::Bridge(v)) => Some(bridge::bridge(&v)),
            Some(InfoData::Vxlan(v)) => Some(vxlan(&v, names)),
            Some(InfoData::MacVlan(v)) => Some(macvlan(&v)),
            Some(InfoData::MacVtap(v)) => Some(macvlan(&v.iter().map(vtap).collect::<Vec<_>>())),
            Some(InfoData::Vlan(v)) => Some(vlan(&v)),
            _ => None,
        };
        if let Some(d) = data {
            o.insert("info_data".into(), d.into());
        }
    }
    if let Some(k) = port_kind {
        o.insert("info_slave_kind".into(), k.into());
        if let Some(InfoPortData::BridgePort(v)) = l.port_data() {
            o.insert("info_slave_data".into(), bridge::port(&v, names).into());
        }
    }
    Some(o.into())
}

fn vxlan(attrs: &[InfoVxlan], names: &Names) -> Map<String, Value> {
    use InfoVxlan as X;
    let mut o = Map::new();
    for a in attrs {
        let (k, v): (&str, Value) = match a {
            X::CollectMetadata(true) => ("external", true.into()),
            X::Vnifilter(true) => ("vnifilter", true.into()),
            X::Id(v) => ("id", (*v).into()),
            X::Group(g) if g.is_multicast() => ("group", g.to_string().into()),
            X::Group(g) if !g.is_unspecified() => ("remote", g.to_string().into()),
            X::Group6(g) if g.is_multicast() => ("group6", g.to_string().into()),
            X::Group6(g) if !g.is_unspecified() => ("remote6", g.to_string().into()),
            X::Local(a) if !a.is_unspecified() => ("local", a.to_string().into()),
            X::Local6(a) if !a.is_unspecified() => ("local6", a.to_string().into()),
            X::Link(i) if *i != 0 => ("link", names.name(*i).into()),
            X::PortRange((lo, hi)) => ("port_range", json!({"low": lo, "high": hi})),
            X::Port(p) => ("port", (*p).into()),
            X::Learning(v) => ("learning", (*v).into()),
            X::Proxy(true) => ("proxy", true.into()),
            X::Rsc(true) => ("rsc", true.into()),
            X::L2Miss(true) => ("l2miss", true.into()),
            X::L3Miss(true) => ("l3miss", true.into()),
            X::Tos(t) if *t != 0 => ("tos", hex(u64::from(*t))),
            X::Ttl(t) => ("ttl", (*t).into()),
            X::Df(d) => match d {
                VxlanDf::Unset => ("df", "unset".into()),
                VxlanDf::Set => ("df", "set".into()),
                VxlanDf::Inherit => ("df", "inherit".into()),
                _ => continue,
            },
            X::Label(l) if *l != 0 => ("label", hex(u64::from(u32::from_be(*l)))),
            X::Ageing(v) => ("ageing", (*v).into()),
            X::Limit(v) if *v != 0 => ("limit", (*v).into()),
            X::UDPCsum(v) => ("udp_csum", (*v).into()),
            X::UDPZeroCsumTX(v) => ("udp_zero_csum6_tx", (*v).into()),
            X::UDPZeroCsumRX(v) => ("udp_zero_csum6_rx", (*v).into()),
            X::RemCsumTX(true) => ("remcsum_tx", true.into()),
            X::RemCsumRX(true) => ("remcsum_rx", true.into()),
            X::Gbp => ("gbp", true.into()),
            X::Gpe => ("gpe", true.into()),
            _ => continue,
        };
        o.insert(k.into(), v);
    }
    // `ttl inherit` is not printed in JSON, and hides the ttl.
    if attrs
        .iter()
        .any(|a| matches!(a, X::TtlInherit(v) if *v != 0))
    {
        o.remove("ttl");
    }
    o
}

/// macvtap's attributes are macvlan's.
fn vtap(a: &InfoMacVtap) -> InfoMacVlan {
    match a {
        InfoMacVtap::Mode(m) => InfoMacVlan::Mode(*m),
        InfoMacVtap::Flags(f) => InfoMacVlan::Flags(*f),
        InfoMacVtap::MacAddrCount(c) => InfoMacVlan::MacAddrCount(*c),
        InfoMacVtap::MacAddrData(v) => InfoMacVlan::MacAddrData(v.iter().map(vtap).collect()),
        InfoMacVtap::MacAddr(m) => InfoMacVlan::MacAddr(*m),
        InfoMacVtap::BcQueueLen(v) => InfoMacVlan::BcQueueLen(*v),
        InfoMacVtap::BcQueueLenUsed(v) => InfoMacVlan::BcQueueLenUsed(*v),
        _ => InfoMacVlan::BcCutoff(0),
    }
}

fn macvlan(attrs: &[InfoMacVlan]) -> Map<String, Value> {
    let mut o = Map::new();
    let mut source = false;
    for a in attrs {
        match a {
            InfoMacVlan::Mode(m) => {
                source = *m == MacVlanMode::Source;
                let name = match m {
                    MacVlanMode::Private => "private",
                    MacVlanMode::Vepa => "vepa",
                    MacVlanMode::Bridge => "bridge",
                    MacVlanMode::Passthrough => "passthru",
                    MacVlanMode::Source => "source",
                    _ => "unknown",
                };
                o.insert("mode".into(), name.into());
            }
            InfoMacVlan::Flags(f) => {
                if f.contains(MacVlanFlags::NoPromisc) {
                    o.insert("nopromisc".into(), true.into());
                }
                if f.contains(MacVlanFlags::NoDst) {
                    o.insert("nodst".into(), true.into());
                }
            }
            InfoMacVlan::BcQueueLen(v) => {
                o.insert("bcqueuelen".into(), (*v).into());
            }
            InfoMacVlan::BcQueueLenUsed(v) => {
                o.insert("usedbcqueuelen".into(), (*v).into());
            }
            _ => {}
        }
    }
    // Source mode lists the remote MACs.
    for a in attrs.iter().filter(|_| source) {
        match a {
            InfoMacVlan::MacAddrCount(c) => {
                o.insert("macaddr_count".into(), (*c).into());
            }
            InfoMacVlan::MacAddrData(v) => {
                let macs: Vec<Value> = v
                    .iter()
                    .filter_map(|m| match m {
                        InfoMacVlan::MacAddr(m) => Some(crate::json::ll_addr(m, 1).into()),
                        _ => None,
                    })
                    .collect();
                o.insert("macaddr_data".into(), macs.into());
            }
            _ => {}
        }
    }
    o
}

fn vlan(attrs: &[InfoVlan]) -> Map<String, Value> {
    const FLAGS: [(u32, &str); 5] = [
        (0x1, "REORDER_HDR"),
        (0x2, "GVRP"),
        (0x8, "MVRP"),
        (0x4, "LOOSE_BINDING"),
        (0x10, "BRIDGE_BINDING"),
    ];
    let mut o = Map::new();
    o.insert("protocol".into(), "802.1q".into());
    let qos = |v: &[VlanQosMapping]| -> Value {
        v.iter()
            .filter_map(|m| match m {
                VlanQosMapping::Mapping(from, to) => Some(json!({"from": from, "to": to})),
                _ => None,
            })
            .collect::<Vec<_>>()
            .into()
    };
    for a in attrs {
        let (k, v): (&str, Value) = match a {
            InfoVlan::Protocol(p) => ("protocol", vlan_protocol(u16::from(*p))),
            InfoVlan::Id(i) => ("id", (*i).into()),
            InfoVlan::Flags((f, _)) => {
                let mut rest = f.bits();
                let mut names: Vec<Value> = Vec::new();
                for (bit, n) in FLAGS {
                    if rest & bit != 0 {
                        rest &= !bit;
                        names.push(n.into());
                    }
                }
                if rest != 0 {
                    names.push(format!("{rest:x}").into());
                }
                ("flags", names.into())
            }
            InfoVlan::IngressQos(v) => ("ingress_qos", qos(v)),
            InfoVlan::EgressQos(v) => ("egress_qos", qos(v)),
            _ => continue,
        };
        o.insert(k.into(), v);
    }
    o
}
