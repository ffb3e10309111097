//! `serde` for links: [`Link`] as a flat map in `ip -j link`'s words,
//! [`MacAddr`] and [`OperState`] as text.

use ::serde::ser::{Serialize, Serializer};
use std::net::IpAddr;

use super::{BridgePortInfo, Link, MacAddr, OperState, TunInfo};
use crate::serde_util::{Fields, number, text_serde};

text_serde!(MacAddr, "a MAC address (aa:bb:cc:dd:ee:ff)", |s| s
    .parse()
    .ok());

text_serde!(
    OperState,
    "an operstate (UP, DOWN, LOWERLAYERDOWN, … or a number)",
    |s| {
        const ALL: [OperState; 7] = [
            OperState::Unknown,
            OperState::NotPresent,
            OperState::Down,
            OperState::LowerLayerDown,
            OperState::Testing,
            OperState::Dormant,
            OperState::Up,
        ];
        ALL.into_iter()
            .find(|o| o.name() == Some(s))
            .or_else(|| number::<u8>(s).map(OperState::from))
    }
);

/// IFF_* names in `ip`'s order (iproute2's print_link_flags).
const FLAG_NAMES: [(u32, &str); 18] = [
    (0x8, "LOOPBACK"),
    (0x2, "BROADCAST"),
    (0x10, "POINTOPOINT"),
    (0x1000, "MULTICAST"),
    (0x80, "NOARP"),
    (0x200, "ALLMULTI"),
    (0x100, "PROMISC"),
    (0x400, "MASTER"),
    (0x800, "SLAVE"),
    (0x4, "DEBUG"),
    (0x8000, "DYNAMIC"),
    (0x4000, "AUTOMEDIA"),
    (0x2000, "PORTSEL"),
    (0x20, "NOTRAILERS"),
    (0x1, "UP"),
    (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"),
    (0x40000, "ECHO"),
];
const IFF_UP: u32 = 0x1;
const IFF_RUNNING: u32 = 0x40;

/// `ip`'s flag list: NO-CARRIER for an up link without RUNNING, the named
/// flags, and any others as one hex number (without M-DOWN, which needs
/// the lower link's state).
pub(crate) fn flag_names(flags: u32) -> Vec<String> {
    let mut out = Vec::new();
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        out.push("NO-CARRIER".to_owned());
    }
    let mut rest = flags & !IFF_RUNNING;
    for (bit, name) in FLAG_NAMES {
        if rest & bit != 0 {
            rest &= !bit;
            out.push(name.to_owned());
        }
    }
    if rest != 0 {
        out.push(format!("{rest:x}"));
    }
    out
}

/// ARPHRD_* names (iproute2's lib/ll_types.c).
const LINK_TYPES: &[(u16, &str)] = &[
    (0, "netrom"),
    (1, "ether"),
    (2, "eether"),
    (3, "ax25"),
    (6, "ieee802"),
    (7, "arcnet"),
    (19, "atm"),
    (24, "ieee1394"),
    (32, "infiniband"),
    (256, "slip"),
    (280, "can"),
    (512, "ppp"),
    (513, "hdlc"),
    (768, "ipip"),
    (769, "tunnel6"),
    (772, "loopback"),
    (774, "fddi"),
    (776, "sit"),
    (778, "gre"),
    (779, "pimreg"),
    (801, "ieee802.11"),
    (803, "ieee802.11/radiotap"),
    (804, "ieee802.15.4"),
    (820, "phonet"),
    (823, "gre6"),
    (824, "netlink"),
    (825, "6lowpan"),
    (0xfffe, "none"),
    (0xffff, "void"),
];

fn link_type(t: u16) -> String {
    LINK_TYPES
        .iter()
        .find(|(n, _)| *n == t)
        .map_or_else(|| format!("[{t}]"), |(_, s)| (*s).to_owned())
}

/// A link-layer address as `ip` prints it: an IP address for IP tunnels,
/// colon-separated hex otherwise.
pub(crate) fn ll_addr(b: &[u8], link_type: u16) -> String {
    match (b.len(), link_type) {
        (4, 768 | 776 | 778) => IpAddr::from(<[u8; 4]>::try_from(b).expect("4 bytes")).to_string(),
        (16, 769 | 823) => IpAddr::from(<[u8; 16]>::try_from(b).expect("16 bytes")).to_string(),
        _ => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

/// A link as `ip -j link show` would print it, with indexes where `ip`
/// prints names it looks up:
///
/// | field | type | from |
/// |---|---|---|
/// | `ifindex` | number | [`Link::index`] |
/// | `ifname` | string | [`Link::name`] |
/// | `flags` | array of strings | [`Link::flags`], `ip`'s names (`UP`, `LOWER_UP`, `NO-CARRIER`…) |
/// | `mtu`, `min_mtu`, `max_mtu` | number | [`Link::mtu`], [`Link::mtu_range`] |
/// | `qdisc` | string | [`Link::qdisc`] |
/// | `master_index` | number | [`Link::master`] (`ip`'s `master` is its name) |
/// | `link_index` | number | [`Link::link`] (`ip`'s `link` is its name) |
/// | `operstate` | string | [`Link::operstate`] (`UP`, `DOWN`…; a number as text when unknown) |
/// | `linkmode` | string | `DEFAULT`, `DORMANT` (or the number as text) |
/// | `group` | string | [`Link::group`]: `default` for 0, else the number as text (`ip`'s form, without /etc/iproute2/group names) |
/// | `txqlen` | number | [`Link::txqlen`] |
/// | `link_type` | string | [`Link::link_type`] (`ether`, `loopback`, `none`…; `[N]` when unnamed) |
/// | `address`, `broadcast`, `permaddr` | string | link-layer addresses as `ip` prints them |
/// | `link_netnsid` | number | [`Link::netnsid`] |
/// | `ifalias` | string | [`Link::alias`] |
/// | `altnames` | array of strings | [`Link::altnames`] |
/// | `promiscuity`, `allmulti` | number | |
/// | `carrier` | bool | [`Link::carrier`] |
/// | `num_tx_queues`, `num_rx_queues` | number | [`Link::queues`] |
/// | `gso_max_size`, `gso_max_segs`, `gro_max_size`, `tso_max_size`, `tso_max_segs`, `gso_ipv4_max_size`, `gro_ipv4_max_size` | number | (`ip -d -j`'s names) |
/// | `kind`, `slave_kind` | string | [`Link::kind`], [`Link::port_kind`] (`ip -d`'s `linkinfo.info_kind`, `info_slave_kind`) |
/// | `tun` | map | [`Link::tun`], as [`TunInfo`] writes it |
/// | `bridge_port` | map | [`Link::bridge_port`], as [`BridgePortInfo`] writes it |
/// | `stats64` | map | `rx`/`tx`, each with `bytes`, `packets`, `errors`, `dropped`, and `multicast` (rx) / `collisions` (tx): `ip -s -j`'s names |
///
/// Absent attributes are left out.
impl Serialize for Link {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        let lt = self.link_type();
        m.put("ifindex", &self.index())?
            .put("ifname", self.name())?
            .put("flags", &flag_names(self.flags().bits()))?
            .opt("mtu", self.mtu())?
            .opt("min_mtu", self.mtu_range().map(|r| r.0))?
            .opt("max_mtu", self.mtu_range().map(|r| r.1))?
            .opt("qdisc", self.qdisc())?
            .opt("master_index", self.master())?
            .opt("link_index", self.link())?
            .put("operstate", &self.operstate())?
            .opt(
                "linkmode",
                self.linkmode().map(|m| match m {
                    0 => "DEFAULT".to_owned(),
                    1 => "DORMANT".to_owned(),
                    n => n.to_string(),
                }),
            )?
            .opt(
                "group",
                self.group().map(|g| match g {
                    0 => "default".to_owned(),
                    g => g.to_string(),
                }),
            )?
            .opt("txqlen", self.txqlen())?
            .put("link_type", &link_type(lt))?
            .opt("address", self.address().map(|a| ll_addr(a, lt)))?
            .opt("broadcast", self.broadcast().map(|a| ll_addr(a, lt)))?
            .opt("permaddr", self.perm_address().map(|a| ll_addr(a, lt)))?
            .opt("link_netnsid", self.netnsid())?
            .opt("ifalias", self.alias())?
            .list("altnames", &self.altnames())?
            .opt("promiscuity", self.promiscuity())?
            .opt("allmulti", self.allmulti())?
            .opt("carrier", self.carrier())?
            .opt("num_tx_queues", self.queues().map(|q| q.0))?
            .opt("num_rx_queues", self.queues().map(|q| q.1))?
            .opt("gso_max_size", self.gso_max_size())?
            .opt("gso_max_segs", self.gso_max_segs())?
            .opt("gro_max_size", self.gro_max_size())?
            .opt("tso_max_size", self.tso_max_size())?
            .opt("tso_max_segs", self.tso_max_segs())?
            .opt("gso_ipv4_max_size", self.gso_ipv4_max_size())?
            .opt("gro_ipv4_max_size", self.gro_ipv4_max_size())?
            .opt("kind", self.kind())?
            .opt("slave_kind", self.port_kind())?
            .opt("stats64", self.stats().map(Stats64Ser))?
            .opt("bridge_port", self.bridge_port())?
            .opt("tun", self.tun())?;
        m.end()
    }
}

/// `ip -s -j`'s `stats64` object.
struct Stats64Ser(netlink_packet_route::link::Stats64);

impl Serialize for Stats64Ser {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(::serde::Serialize)]
        struct Rx {
            bytes: u64,
            packets: u64,
            errors: u64,
            dropped: u64,
            over_errors: u64,
            multicast: u64,
        }
        #[derive(::serde::Serialize)]
        struct Tx {
            bytes: u64,
            packets: u64,
            errors: u64,
            dropped: u64,
            carrier_errors: u64,
            collisions: u64,
        }
        let st = &self.0;
        let mut m = Fields::begin(s)?;
        m.put(
            "rx",
            &Rx {
                bytes: st.rx_bytes,
                packets: st.rx_packets,
                errors: st.rx_errors,
                dropped: st.rx_dropped,
                over_errors: st.rx_over_errors,
                multicast: st.multicast,
            },
        )?
        .put(
            "tx",
            &Tx {
                bytes: st.tx_bytes,
                packets: st.tx_packets,
                errors: st.tx_errors,
                dropped: st.tx_dropped,
                carrier_errors: st.tx_carrier_errors,
                collisions: st.collisions,
            },
        )?;
        m.end()
    }
}

/// A bridge port's settings in `bridge -j -d link show`'s words, each
/// present only when the kernel reported it: `state` (`disabled`,
/// `listening`, `learning`, `forwarding`, `blocking`, or the number as
/// text), `priority`, `cost`, `group_fwd_mask` (numbers), and the flags
/// `hairpin`, `guard`, `root_block`, `fastleave`, `learning`, `flood`,
/// `mcast_flood`, `bcast_flood`, `mcast_to_unicast`, `neigh_suppress`,
/// `vlan_tunnel`, `isolated`, `locked`, `mab`, `proxy_arp`,
/// `proxy_arp_wifi` (bools).
impl Serialize for BridgePortInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.opt(
            "state",
            self.state().map(|n| {
                self.state_name()
                    .map_or_else(|| n.to_string(), str::to_owned)
            }),
        )?
        .opt("priority", self.priority())?
        .opt("cost", self.cost())?
        .opt("hairpin", self.hairpin())?
        .opt("guard", self.guard())?
        .opt("root_block", self.root_block())?
        .opt("fastleave", self.fast_leave())?
        .opt("learning", self.learning())?
        .opt("flood", self.flood())?
        .opt("mcast_flood", self.mcast_flood())?
        .opt("bcast_flood", self.bcast_flood())?
        .opt("mcast_to_unicast", self.mcast_to_unicast())?
        .opt("neigh_suppress", self.neigh_suppress())?
        .opt("vlan_tunnel", self.vlan_tunnel())?
        .opt("isolated", self.isolated())?
        .opt("locked", self.locked())?
        .opt("mab", self.mab())?
        .opt("proxy_arp", self.proxy_arp())?
        .opt("proxy_arp_wifi", self.proxy_arp_wifi())?
        .opt("group_fwd_mask", self.group_fwd_mask())?;
        m.end()
    }
}

/// A tun/tap device's settings (`ip -d -j link`'s `info_data` words where
/// they exist): `type` (`tun`, `tap`), `owner`, `group` (ids), `pi`,
/// `vnet_hdr`, `persist`, `multi_queue` (bools), `numqueues`,
/// `numdisabled`; each present only when the kernel reported it.
impl Serialize for TunInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.opt("type", self.mode())?
            .opt("owner", self.owner())?
            .opt("group", self.group())?
            .opt("pi", self.pi())?
            .opt("vnet_hdr", self.vnet_hdr())?
            .opt("persist", self.persist())?
            .opt("multi_queue", self.multi_queue())?
            .opt("numqueues", self.num_queues())?
            .opt("numdisabled", self.num_disabled_queues())?;
        m.end()
    }
}
