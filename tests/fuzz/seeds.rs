//! Real messages of every family, to mutate: dumped from a namespace set up
//! with links, addresses, routes, rules, neighbours, XFRM policies and
//! sockets (and its generic netlink families), the notifications that setup
//! caused, and the few kinds the host kernel cannot produce (XFRM states
//! and their notices), built by hand from the uapi layouts.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use tokio_netlink::conn::Notification;
use tokio_netlink::route::address::Family;
use tokio_netlink::route::events::Group;
use tokio_netlink::xfrm::{
    Dir, IpsecProto, Mark, Migrate, MigrateEntry, Mode, Policy, SecCtx, Selector, Template,
    XfrmMessage, msg,
};
use tokio_netlink::{Netlink, RawMessage};

use crate::common::TestNs;
use crate::common::diag::{bind, connect, in_ns, listen, socket};

/// One seed: where it came from, and the whole message (header included).
pub struct Seed {
    pub origin: String,
    pub bytes: Vec<u8>,
}

fn seed(origin: &str, raw: &RawMessage) -> Seed {
    Seed {
        origin: origin.to_owned(),
        bytes: raw.bytes.to_vec(),
    }
}

/// Links, addresses, routes, rules and neighbours of many kinds. Some need
/// modules a kernel may lack (vlan, bridge vlan filtering, lwtunnels):
/// `-force` goes on past them.
const SETUP: &str = "\
link add v0 type veth peer name v1
link add br0 type bridge
link add br1 type bridge vlan_filtering 1
link set v1 master br0
link add link v0 name v0.5 type vlan id 5
link add link v0 name mv0 type macvlan mode bridge
link add vx0 type vxlan id 42 dstport 4789 local 10.1.0.1 dev v0
link add vx1 type vxlan dstport 4790 external
link add ifb0 type ifb
link set dev v0 up
link set dev v1 up
link set dev br0 up
link set dev vx0 up
link set dev vx1 up
link set dev v0 mtu 1400 alias fuzz-seed
link property add dev v0 altname veth-zero
addr add 10.1.0.1/24 brd + dev v0 label v0:a
addr add 10.1.1.1 peer 10.1.1.2/32 dev v0
addr add fd00:1::1/64 dev v0 valid_lft 300 preferred_lft 200
route add 10.2.0.0/16 via 10.1.0.2 dev v0 metric 5 mtu 1300 advmss 1200 proto static
route add 10.3.0.0/16 nexthop via 10.1.0.2 weight 2 nexthop via 10.1.0.3 weight 1
route add blackhole 10.4.0.0/16 table 200
route add unreachable 10.5.0.0/16
route add 10.6.0.0/16 dev v0 src 10.1.0.1 realm 3 table 100
route add fd00:2::/64 via fd00:1::2 dev v0 pref high expires 600
route add fd00:3::/64 dev v0 metric 1024 hoplimit 9
route add fd00:4::/64 nexthop via fd00:1::2 dev v0 nexthop via fd00:1::3 dev v0
route add 10.7.0.0/16 encap ip id 5 dst 10.1.0.9 dev vx1
nexthop add id 1 via 10.1.0.2 dev v0
nexthop add id 2 blackhole
nexthop add id 3 via 10.1.0.3 dev v0 onlink proto static
nexthop add id 4 via 10.1.0.5 fdb
nexthop add id 10 group 1,2/3
nexthop add id 11 group 1/3 type resilient buckets 4 idle_timer 5 unbalanced_timer 7
route add 10.8.0.0/16 nhid 10
rule add from 10.1.0.0/24 to 10.2.0.0/16 table 100 priority 100
rule add fwmark 0x5/0xff iif v0 table 200 priority 101
rule add ipproto tcp sport 1000-2000 dport 80 goto 300 priority 102
rule add uidrange 100-200 lookup main suppress_prefixlength 0 priority 103
rule add not from all oif v0 prohibit priority 104
rule add from all lookup main priority 300
neigh add 10.1.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent
neigh add fd00:1::2 lladdr 02:00:00:00:00:03 dev v0 nud reachable
neigh add proxy 10.1.0.50 dev v0
";

/// What `ip -batch` cannot say: an IPv6 rule, and FDB entries.
const EXTRA: [&[&str]; 3] = [
    &[
        "ip",
        "-6",
        "rule",
        "add",
        "from",
        "fd00::/16",
        "table",
        "100",
        "priority",
        "105",
    ],
    &[
        "bridge",
        "fdb",
        "add",
        "02:00:00:00:00:04",
        "dev",
        "vx0",
        "dst",
        "10.1.0.7",
        "vni",
        "42",
        "port",
        "4790",
        "self",
    ],
    &[
        "bridge",
        "fdb",
        "add",
        "02:00:00:00:00:05",
        "dev",
        "v1",
        "master",
    ],
];

fn ip_batch_force(ns: &TestNs, lines: &str) {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-n", &ns.name, "-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ip -batch");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write batch");
    child.wait().expect("wait");
    for cmd in EXTRA {
        let _ = Command::new(cmd[0])
            .args(["-n", &ns.name])
            .args(&cmd[1..])
            .stderr(Stdio::null())
            .status();
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Every notification received before (and including) the first for which
/// `last` is true; a guard against a hang, not a measure of speed.
async fn collect(
    sub: &mut tokio_netlink::conn::Subscription,
    origin: &str,
    last: impl Fn(&RawMessage) -> bool,
    out: &mut Vec<Seed>,
) {
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .unwrap_or_else(|_| panic!("{origin}: the end marker never came"))
            .expect("subscription open");
        if let Notification::Message(m) = n {
            out.push(seed(origin, &m));
            if last(&m) {
                return;
            }
        }
    }
}

pub async fn gather() -> Vec<Seed> {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut out = Vec::new();
    let groups: Vec<u32> = Group::all().iter().map(|g| g.number()).collect();
    let mut rt_events = nl.rtnl().subscribe(&groups);
    rt_events.ready().await.unwrap();
    ip_batch_force(&ns, SETUP);
    // The end marker: an address no setup line adds.
    ns.ip(&["addr", "add", "10.255.0.1/32", "dev", "lo"]);
    ns.ip(&["addr", "del", "10.255.0.1/32", "dev", "lo"]);
    let marker =
        |m: &RawMessage| m.header.ty == 21 && m.bytes.windows(4).any(|w| w == [10, 255, 0, 1]);
    collect(&mut rt_events, "route event", marker, &mut out).await;
    route_dumps(&nl, &mut out).await;
    xfrm_seeds(&ns, &nl, &mut out).await;
    diag_seeds(&ns, &nl, &mut out).await;
    conntrack_seeds(&ns, &nl, &mut out).await;
    genl_seeds(&nl, &mut out).await;
    out.extend(super::handmade::all());
    out
}

async fn route_dumps(nl: &Netlink, out: &mut Vec<Seed>) {
    for l in nl.link().list().await.unwrap() {
        out.push(seed("link", l.raw()));
    }
    for a in nl.address().list().await.unwrap() {
        out.push(seed("address", a.raw()));
    }
    for f in [Family::V4, Family::V6] {
        for r in nl.route().list().family(f).await.unwrap() {
            out.push(seed("route", r.raw()));
        }
        for r in nl.rule().list().family(f).await.unwrap() {
            out.push(seed("rule", r.raw()));
        }
    }
    for n in nl.neighbour().list().await.unwrap() {
        out.push(seed("neighbour", n.raw()));
    }
    for n in nl.neighbour().list().fdb().await.unwrap() {
        out.push(seed("fdb", n.raw()));
    }
    for n in nl.nexthop().list().await.unwrap() {
        out.push(seed("nexthop", n.raw()));
    }
    for b in nl.nexthop().buckets().await.unwrap() {
        out.push(seed("nexthop bucket", b.raw()));
    }
    // AddrLabel keeps no raw message: the kernel's defaults, dumped raw.
    let mut m = netlink_packet_route::addrlabel::AddrLabelMessage::default();
    m.header.family = netlink_packet_route::AddressFamily::Inet6;
    let msg = netlink_packet_route::RouteNetlinkMessage::GetAddrLabel(m);
    let labels: Vec<RawMessage> = nl.rtnl().dump_raw(msg, 0).try_collect().await.unwrap();
    out.extend(labels.iter().map(|r| seed("addrlabel", r)));
    // Netconf keeps none either: every family's entries, dumped raw.
    let msg = tokio_netlink::route::tc::TcMessage {
        message_type: 82,
        payload: vec![0; 4],
    };
    let conf: Vec<RawMessage> = nl
        .tc()
        .requester()
        .dump_raw(msg, 0)
        .try_collect()
        .await
        .unwrap();
    out.extend(conf.iter().map(|r| seed("netconf", r)));
    // And link statistics, every group.
    let mut payload = vec![0; 8];
    payload.extend_from_slice(&0x0fu32.to_ne_bytes());
    let msg = tokio_netlink::route::tc::TcMessage {
        message_type: 94,
        payload,
    };
    let stats: Vec<RawMessage> = nl
        .tc()
        .requester()
        .dump_raw(msg, 0)
        .try_collect()
        .await
        .unwrap();
    out.extend(stats.iter().map(|r| seed("stats", r)));
    tc_seeds(nl, out).await;
}

/// Qdiscs and classes of every typed kind, with their options and stats.
async fn tc_seeds(nl: &Netlink, out: &mut Vec<Seed>) {
    use std::time::Duration;
    use tokio_netlink::route::tc::{Fifo, Htb, HtbClass, QdiscKind, Rate, Tbf};
    let t = nl.tc();
    t.qdisc()
        .add("v0", Htb::new().default_class(0x10))
        .handle("1:")
        .await
        .unwrap();
    let big = HtbClass::new("5gbit".parse().unwrap()).ceil("10gbit".parse().unwrap());
    t.class().add("v0", "1:1", big).await.unwrap();
    t.class()
        .add("v0", "1:10", HtbClass::new(Rate::mbit(1)))
        .parent("1:1")
        .await
        .unwrap();
    let fifo = QdiscKind::Pfifo(Fifo::limit(10));
    t.qdisc()
        .add("v0", fifo)
        .parent("1:10")
        .handle("10:")
        .await
        .unwrap();
    t.qdisc().add("v0", QdiscKind::Clsact).await.unwrap();
    let tbf =
        Tbf::new("10gbit".parse().unwrap(), 1 << 20).peakrate("20gbit".parse().unwrap(), 9000);
    t.qdisc()
        .add("v1", tbf.latency(Duration::from_millis(5)))
        .await
        .unwrap();
    t.qdisc().add("v1", QdiscKind::Ingress).await.unwrap();
    for q in t.qdisc().list().await.unwrap() {
        out.push(seed("qdisc", q.raw()));
    }
    for c in t.class().list("v0").await.unwrap() {
        out.push(seed("class", c.raw()));
    }
    tc_filter_seeds(nl, out).await;
}

/// u32 and bpf filters with actions, chains and standalone actions.
async fn tc_filter_seeds(nl: &Netlink, out: &mut Vec<Seed>) {
    use std::os::fd::AsRawFd;
    use tokio_netlink::route::tc::{Bpf, Mirred, MirredAction, Parent, SockFilter, U32};
    let t = nl.tc();
    let v1 = nl.link().get("v1").await.unwrap().index();
    let mirred = Mirred {
        index: 3,
        ..Mirred::new(MirredAction::EgressRedirect, v1)
    };
    t.actions().add(mirred).cookie(vec![1, 2, 3]).await.unwrap();
    let u = U32::new()
        .match_ip_dport(80, 0xffff)
        .unwrap()
        .match_ip_src("10.0.0.0".parse().unwrap(), 8)
        .action(Mirred::new(MirredAction::IngressMirror, v1));
    let prog = crate::common::tc::load_sched_cls("fuzz_pass");
    let ops = vec![SockFilter {
        code: 6,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    let filters: [(tokio_netlink::route::tc::FilterKind, Parent, u32); 3] = [
        (u.into(), Parent::Ingress, 0),
        (
            Bpf::fd(prog.as_raw_fd()).name("p").direct_action().into(),
            Parent::Ingress,
            4,
        ),
        (Bpf::classic(ops).action(mirred).into(), Parent::Egress, 0),
    ];
    for (kind, parent, chain) in filters {
        t.filter()
            .add("v0", kind)
            .parent(parent)
            .chain(chain)
            .await
            .unwrap();
    }
    for parent in [Parent::Ingress, Parent::Egress] {
        for f in t.filter().list("v0").parent(parent).await.unwrap() {
            out.push(seed("filter", f.raw()));
        }
    }
    for c in t.chain().list("v0").parent(Parent::Ingress).await.unwrap() {
        out.push(seed("chain", c.raw()));
    }
    let list = t.actions().list("mirred").into_request().unwrap();
    let mut dump = t.requester().dump_raw(list, 0);
    while let Some(m) = dump.next().await {
        out.push(seed("action", &m.unwrap()));
    }
}

async fn xfrm_seeds(ns: &TestNs, nl: &Netlink, out: &mut Vec<Seed>) {
    let x = nl.xfrm();
    let mut events = x.requester().subscribe(&[1, 2, 3, 4, 5, 6, 7, 8]);
    events.ready().await.unwrap();
    ns.ip(&["addr", "add", "10.7.0.1/24", "dev", "lo"]);
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let tunnel = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints(ip("192.0.2.1"), ip("192.0.2.2"))
        .reqid(1);
    let full = Policy::new(sel.proto(6).dport(80), Dir::Out)
        .priority(100)
        .mark(Mark::new(5))
        .if_id(7)
        .template(tunnel)
        .template(Template::new(IpsecProto::Ah, Mode::Transport).reqid(2))
        .sec_ctx(SecCtx::new("system_u:object_r:ipsec_spd_t:s0"));
    x.add_policy(&full).await.unwrap();
    let v6 = Selector::new("fd00::/64", "fd01::/64").unwrap();
    x.add_policy(&Policy::new(v6, Dir::Fwd).policy_type(1))
        .await
        .unwrap();
    x.add_policy(&Policy::new(sel, Dir::In).template(tunnel))
        .await
        .unwrap();
    let entry = MigrateEntry::tunnel(
        IpsecProto::Esp,
        (ip("192.0.2.1"), ip("192.0.2.2")),
        (ip("198.51.100.1"), ip("198.51.100.2")),
    );
    let mig = Migrate::new(sel, Dir::In, entry).kmaddress(ip("198.51.100.1"), ip("198.51.100.2"));
    x.migrate(&mig).await.unwrap();
    // An acquire: a packet of a policy whose state is missing.
    let acq = Selector::new("10.7.0.1/32", "10.7.0.2/32")
        .unwrap()
        .proto(17);
    let t = Template::new(IpsecProto::Esp, Mode::Transport).reqid(42);
    x.add_policy(&Policy::new(acq, Dir::Out).template(t))
        .await
        .unwrap();
    in_ns(ns, || {
        std::fs::write("/proc/sys/net/ipv4/conf/lo/disable_xfrm", "0").expect("sysctl");
        let s = std::net::UdpSocket::bind("10.7.0.1:0").expect("bind");
        let _ = s.send_to(b"x", "10.7.0.2:9");
    });
    let dump = x.requester().dump_raw(message(msg::GETPOLICY, vec![]), 0);
    for m in dump.try_collect::<Vec<_>>().await.unwrap() {
        out.push(seed("xfrm policy", &m));
    }
    for (ty, origin) in [(msg::GETSPDINFO, "spdinfo"), (msg::GETSADINFO, "sadinfo")] {
        let m = x.requester().get_raw(message(ty, vec![0xff; 4]), 0);
        out.push(seed(origin, &m.await.unwrap()));
    }
    x.del_policy(&(&full).into()).await.unwrap();
    x.flush_policies().await.unwrap();
    collect(
        &mut events,
        "xfrm event",
        |m| m.header.ty == msg::FLUSHPOLICY,
        out,
    )
    .await;
}

/// Conntrack entries (TCP with protoinfo, UDP with counters and
/// timestamps, ICMP, IPv6 in a zone, labels), their events, the entry
/// count and per-CPU statistics.
async fn conntrack_seeds(ns: &TestNs, nl: &Netlink, out: &mut Vec<Seed>) {
    use tokio_netlink::netfilter::conntrack::{Proto, Status, TcpState, Tuple};
    let ct = nl.conntrack();
    let mut events = ct.requester().subscribe(&[1, 2, 3]);
    events.ready().await.unwrap();
    let st = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sh", "-c"])
        .arg(
            "sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1 \
             && nft add table inet cts && nft add chain inet cts c '{ type filter hook output priority 0; }' \
             && nft add rule inet cts c ct label 1 accept",
        )
        .status()
        .expect("run nft");
    assert!(st.success(), "conntrack seed setup");
    let tcp = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
        .unwrap()
        .ports(1, 80);
    ct.create(tcp)
        .timeout(60)
        .tcp_state(TcpState::Established)
        .status(Status::SEEN_REPLY | Status::ASSURED)
        .mark(3)
        .await
        .unwrap();
    let icmp = Tuple::new("10.0.0.1", "10.0.0.3", Proto::Icmp)
        .unwrap()
        .icmp(8, 0, 9);
    ct.create(icmp).timeout(60).await.unwrap();
    let v6 = Tuple::new("fd00::1", "fd00::2", Proto::Udp)
        .unwrap()
        .ports(5, 53);
    ct.create(v6).timeout(60).zone(4).await.unwrap();
    ct.update(tcp).labels(&[2, 0, 0, 0], None).await.unwrap();
    in_ns(ns, || {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let _ = s.send_to(b"x", "127.0.0.1:9");
    });
    let dump = ct.requester().dump_raw(
        tokio_netlink::netfilter::NfMessage {
            message_type: 0x101,
            payload: vec![0; 4],
        },
        0,
    );
    for m in dump.try_collect::<Vec<_>>().await.unwrap() {
        out.push(seed("conntrack", &m));
    }
    let stats = ct.requester().dump_raw(
        tokio_netlink::netfilter::NfMessage {
            message_type: 0x104,
            payload: vec![0; 4],
        },
        0,
    );
    for m in stats.try_collect::<Vec<_>>().await.unwrap() {
        out.push(seed("conntrack stats", &m));
    }
    ct.delete(icmp).await.unwrap();
    collect(
        &mut events,
        "conntrack event",
        |m| m.header.ty == 0x102,
        out,
    )
    .await;
}

/// Every family's CTRL_CMD_NEWFAMILY, as `genl ctrl list` receives it.
async fn genl_seeds(nl: &Netlink, out: &mut Vec<Seed>) {
    use tokio_netlink::genl::{GENL_ID_CTRL, GenlMessage, ctrl};
    let req = GenlMessage::new(GENL_ID_CTRL, ctrl::CMD_GETFAMILY, ctrl::VERSION);
    let dump = nl.genl().requester().dump_raw(req, 0);
    for m in dump.try_collect::<Vec<_>>().await.unwrap() {
        out.push(seed("genl family", &m));
    }
}

fn message(ty: u16, payload: Vec<u8>) -> XfrmMessage {
    XfrmMessage {
        message_type: ty,
        payload,
    }
}

async fn diag_seeds(ns: &TestNs, nl: &Netlink, out: &mut Vec<Seed>) {
    use tokio_netlink::diag::Extensions;
    // Sockets of every kind inside the namespace, kept open while dumped.
    let fds = in_ns(ns, || {
        let lo: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let l = socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        bind(&l, lo);
        listen(&l);
        let c = socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        connect(&c, lo);
        let l6 = socket(libc::AF_INET6, libc::SOCK_STREAM, 0).unwrap();
        bind(&l6, "[::1]:7001".parse().unwrap());
        listen(&l6);
        let u = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
        bind(&u, "127.0.0.1:7002".parse().unwrap());
        let r = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP).unwrap();
        let p = socket(libc::AF_PACKET, libc::SOCK_RAW, 0x0300).unwrap();
        let mut pair = [0; 2];
        // SAFETY: socketpair(2) fills two fds, owned right below.
        let rc =
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()) };
        assert_eq!(rc, 0);
        // SAFETY: both fds were just returned by socketpair and are ours.
        let pair = pair.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
        (l, c, l6, u, r, p, pair)
    });
    let d = nl.diag();
    for s in d.tcp().extensions(Extensions::ALL).await.unwrap() {
        out.push(seed("diag tcp", s.raw()));
    }
    for s in d.udp().extensions(Extensions::ALL).await.unwrap() {
        out.push(seed("diag udp", s.raw()));
    }
    // raw_diag is a module of its own, which a kernel may lack.
    for s in d.inet().raw(255).await.unwrap_or_default() {
        out.push(seed("diag raw", s.raw()));
    }
    for s in d.unix().show(0x7f).await.unwrap() {
        out.push(seed("diag unix", s.raw()));
    }
    for s in d.netlink().await.unwrap() {
        out.push(seed("diag netlink", s.raw()));
    }
    for s in d.packet().show(0x3f).await.unwrap() {
        out.push(seed("diag packet", s.raw()));
    }
    drop(fds);
}
