//! Every public decoder of the crate, and every accessor of its views, run
//! on one message. Each call is a named probe: a panic is caught and
//! reported with the probe's name instead of ending the run.

use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use bytes::Bytes;
use netlink_packet_core::{NetlinkDeserializable, NetlinkHeader};
use tokio_netlink::RawMessage;
use tokio_netlink::conn::dump::DumpReader;
use tokio_netlink::conn::frame::{self, Frames};
use tokio_netlink::conn::multiplexer::{Config as MxConfig, Kind, Multiplexer};
use tokio_netlink::diag::{
    self, InetProtocol, InetSocket, NetlinkSocket, PacketSocket, UnixSocket,
};
use tokio_netlink::route::address::Address;
use tokio_netlink::route::addrlabel::AddrLabel;
use tokio_netlink::route::events::Event;
use tokio_netlink::route::link::{Link, MacAddr};
use tokio_netlink::route::neighbour::Neighbour;
use tokio_netlink::route::netconf::Netconf;
use tokio_netlink::route::nexthop::{NexthopBucket, NexthopObject};
use tokio_netlink::route::nsid::NsId;
use tokio_netlink::route::route::Route;
use tokio_netlink::route::rule::Rule;
use tokio_netlink::route::stats::LinkStats;
use tokio_netlink::route::tc::{ActionEntry, Chain, Class, Filter, Qdisc};
use tokio_netlink::xfrm::{self, Migrate, Policy, SadInfo, SpdInfo, State, XfrmEvent};

thread_local! {
    /// How many messages each view accepted: evidence that the mutations
    /// reach past the length checks into the accessors.
    pub static DECODED: std::cell::RefCell<std::collections::BTreeMap<&'static str, usize>> =
        Default::default();
}

fn decoded(what: &'static str) {
    DECODED.with(|d| *d.borrow_mut().entry(what).or_default() += 1);
}

/// Runs `f`; a panic becomes `Err(message at location)`.
fn probe(name: &'static str, found: &mut Vec<(&'static str, String)>, f: impl FnOnce()) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let at = super::LAST_PANIC.with(|l| l.take()).unwrap_or_default();
        found.push((name, format!("{msg} at {at}")));
    }
}

/// Keeps an accessor's result alive (so the call is not optimised away).
fn keep<T>(v: T) {
    black_box(v);
}

/// Formats a value: for views, whose Debug calls their accessors, and for
/// decoded structures, whose Debug walks every field.
fn dbg<T: std::fmt::Debug>(v: T) {
    black_box(format!("{v:?}"));
}

/// Every decoder on `raw`: the (name, panic) of each that panicked.
pub fn all(raw: &RawMessage) -> Vec<(&'static str, String)> {
    let mut f = Vec::new();
    probe("RawMessage::payload", &mut f, || keep(raw.payload()));
    route(raw, &mut f);
    xfrm(raw, &mut f);
    diag(raw, &mut f);
    conntrack(raw, &mut f);
    genl(raw, &mut f);
    engine(&raw.bytes, &mut f);
    f
}

fn route(raw: &RawMessage, f: &mut Vec<(&'static str, String)>) {
    probe("Link", f, || {
        if let Ok(l) = Link::from_raw(raw.clone()) {
            decoded("link");
            keep((l.index(), l.name(), l.link_type(), l.flags(), l.is_up()));
            keep((
                l.operstate(),
                l.qdisc(),
                l.linkmode(),
                l.mtu(),
                l.mtu_range(),
            ));
            keep((l.address(), l.mac(), l.broadcast(), l.perm_address()));
            keep((l.master(), l.link(), l.netnsid(), l.alias(), l.txqlen()));
            keep((l.group(), l.promiscuity(), l.allmulti(), l.carrier()));
            keep((
                l.queues(),
                l.gso_max_size(),
                l.gso_max_segs(),
                l.gro_max_size(),
            ));
            keep((l.altnames(), l.kind(), l.port_kind()));
            dbg(l.attributes().count());
            dbg(&l);
        }
    });
    probe("Link::info_data/port_data/stats", f, || {
        if let Ok(l) = Link::from_raw(raw.clone()) {
            keep((l.info_data(), l.port_data(), l.stats()));
        }
    });
    probe("Link::message", f, || {
        if let Ok(l) = Link::from_raw(raw.clone()) {
            dbg(l.message());
        }
    });
    probe("Address", f, || {
        if let Ok(a) = Address::from_raw(raw.clone()) {
            decoded("address");
            keep((a.family(), a.prefix_len(), a.scope(), a.index(), a.flags()));
            keep((a.address(), a.peer(), a.prefix(), a.broadcast(), a.label()));
            keep((a.metric(), a.valid_lft(), a.preferred_lft()));
            dbg(&a);
        }
    });
    probe("Address::message", f, || {
        if let Ok(a) = Address::from_raw(raw.clone()) {
            dbg(a.message());
        }
    });
    probe("Route", f, || {
        if let Ok(r) = Route::from_raw(raw.clone()) {
            decoded("route");
            keep((r.family_raw(), r.family(), r.destination(), r.dst_len()));
            keep((r.source(), r.tos(), r.table(), r.protocol(), r.scope()));
            keep((r.kind(), r.flags(), r.gateway(), r.has_via(), r.oif()));
            keep((r.iif(), r.metric(), r.prefsrc(), r.mark(), r.uid()));
            keep((r.pref(), r.expires(), r.encap_type(), r.is_multipath()));
            keep((r.nexthops(), r.header()));
            dbg(&r);
        }
    });
    probe("Route::metrics/encap", f, || {
        if let Ok(r) = Route::from_raw(raw.clone()) {
            keep((r.metrics(), r.encap()));
        }
    });
    probe("Route::message", f, || {
        if let Ok(r) = Route::from_raw(raw.clone()) {
            dbg(r.message());
        }
    });
    probe("Rule", f, || {
        if let Ok(r) = Rule::from_raw(raw.clone()) {
            decoded("rule");
            keep((r.family(), r.source(), r.destination(), r.tos(), r.table()));
            keep((r.action(), r.invert(), r.flags(), r.priority(), r.goto()));
            keep((r.fwmark(), r.fwmask(), r.iif(), r.oif()));
            keep((
                r.suppress_prefixlength(),
                r.suppress_ifgroup(),
                r.uid_range(),
            ));
            keep((r.sport_range(), r.dport_range(), r.ip_proto(), r.l3mdev()));
            dbg(&r);
        }
    });
    probe("Rule::message", f, || {
        if let Ok(r) = Rule::from_raw(raw.clone()) {
            dbg(r.message());
        }
    });
    probe("AddrLabel", f, || {
        if let Ok(l) = AddrLabel::from_raw(raw.clone()) {
            decoded("addrlabel");
            dbg(l);
        }
    });
    probe("NsId", f, || {
        if let Ok(n) = NsId::from_raw(raw.clone()) {
            decoded("nsid");
            dbg(n);
        }
    });
    probe("Netconf", f, || {
        if let Ok(n) = Netconf::from_raw(raw.clone()) {
            decoded("netconf");
            dbg((n, n.dev()));
        }
    });
    probe("LinkStats", f, || {
        if let Ok(s) = LinkStats::from_raw(raw.clone()) {
            decoded("stats");
            dbg(s);
        }
    });
    probe("NexthopObject", f, || {
        if let Ok(n) = NexthopObject::from_raw(raw.clone()) {
            decoded("nexthop");
            keep((n.id(), n.family_raw(), n.family(), n.scope(), n.protocol()));
            keep((n.flags(), n.onlink(), n.gateway(), n.oif(), n.blackhole()));
            keep((n.fdb(), n.encap_type(), n.is_group(), n.group()));
            keep((n.group_type(), n.resilient(), n.attributes().count()));
            dbg(&n);
        }
    });
    probe("NexthopBucket", f, || {
        if let Ok(b) = NexthopBucket::from_raw(raw.clone()) {
            decoded("nexthop bucket");
            keep((b.id(), b.index(), b.nhid(), b.idle_time(), b.flags()));
            dbg(&b);
        }
    });
    probe("Neighbour", f, || {
        if let Ok(n) = Neighbour::from_raw(raw.clone()) {
            decoded("neighbour");
            keep((n.family_raw(), n.is_fdb(), n.index(), n.state(), n.flags()));
            keep((n.destination(), n.lladdr(), n.mac(), n.vlan(), n.vni()));
            keep((n.port(), n.master()));
            dbg(&n);
        }
    });
    probe("Neighbour::message", f, || {
        if let Ok(n) = Neighbour::from_raw(raw.clone()) {
            dbg(n.message());
        }
    });
    probe("Qdisc", f, || {
        if let Ok(q) = Qdisc::from_raw(raw.clone()) {
            decoded("qdisc");
            keep((q.ifindex(), q.handle(), q.parent(), q.refcnt(), q.kind()));
            keep((q.stats(), q.htb_direct_packets(), q.ingress_block()));
            keep((q.egress_block(), q.offloaded(), q.xstats_raw()));
            dbg(q.options());
            dbg(&q);
        }
    });
    probe("Class", f, || {
        if let Ok(c) = Class::from_raw(raw.clone()) {
            decoded("class");
            keep((c.ifindex(), c.classid(), c.parent(), c.leaf(), c.kind()));
            keep((c.stats(), c.htb_xstats()));
            dbg(c.options());
            dbg(&c);
        }
    });
    probe("Filter", f, || {
        if let Ok(x) = Filter::from_raw(raw.clone()) {
            decoded("filter");
            keep((x.ifindex(), x.parent(), x.prio(), x.protocol(), x.handle()));
            keep((x.chain(), x.kind(), x.stats(), x.offloaded()));
            dbg(x.action_stats());
            dbg(x.options());
            dbg(&x);
        }
    });
    probe("Chain", f, || {
        if let Ok(c) = Chain::from_raw(raw.clone()) {
            decoded("chain");
            keep((c.ifindex(), c.parent(), c.chain(), c.template_kind()));
            dbg(&c);
        }
    });
    probe("ActionEntry::all_of", f, || {
        if let Ok(all) = ActionEntry::all_of(raw) {
            decoded("action");
            for a in &all {
                keep((a.kind(), a.index(), a.cookie(), a.stats()));
                dbg(a.action());
            }
        }
    });
    probe("route::events::Event::from_raw", f, || {
        let e = Event::from_raw(raw.clone());
        keep(e.raw().map(|m| m.bytes.len()));
        dbg(&e);
    });
    probe("RouteNetlinkMessage::deserialize", f, || {
        dbg(netlink_packet_route::RouteNetlinkMessage::deserialize(
            &nl_header(raw),
            raw.payload(),
        ));
    });
}

fn nl_header(raw: &RawMessage) -> NetlinkHeader {
    let mut h = NetlinkHeader::default();
    h.length = raw.header.len;
    h.message_type = raw.header.ty;
    h.flags = raw.header.flags;
    h.sequence_number = raw.header.seq;
    h.port_number = raw.header.pid;
    h
}

fn xfrm(raw: &RawMessage, f: &mut Vec<(&'static str, String)>) {
    probe("xfrm::State::from_raw", f, || {
        if let Ok(s) = State::from_raw(raw) {
            decoded("xfrm state");
            keep((s.id(), s.validate().is_ok()));
            for a in [&s.auth, &s.enc, &s.aead, &s.comp].into_iter().flatten() {
                dbg(a.key_hex());
            }
            keep((s.selector.to_string(), s.sec_ctx.map(|c| c.to_string())));
        }
    });
    probe("xfrm::Policy::from_raw", f, || {
        if let Ok(pol) = Policy::from_raw(raw) {
            decoded("xfrm policy");
            keep((pol.selector.to_string(), pol.selector.upspec_text()));
            keep((pol.validate().is_ok(), xfrm::PolicyId::from(&pol)));
        }
    });
    probe("xfrm::XfrmEvent::from_raw", f, || {
        dbg(XfrmEvent::from_raw(raw.clone()))
    });
    probe("xfrm::State/Policy::parse (every type)", f, || {
        let p = raw.payload();
        for ty in [16, 17, 19, 20, 25, 26] {
            keep((State::parse(ty, p).is_ok(), Policy::parse(ty, p).is_ok()));
        }
    });
    probe("xfrm::Migrate/SpdInfo/SadInfo::parse", f, || {
        let p = raw.payload();
        keep((Migrate::parse(p), SpdInfo::parse(p), SadInfo::parse(p)));
    });
    probe("xfrm::XfrmMessage::deserialize", f, || {
        keep(xfrm::XfrmMessage::deserialize(
            &nl_header(raw),
            raw.payload(),
        ));
    });
}

fn conntrack(raw: &RawMessage, f: &mut Vec<(&'static str, String)>) {
    use tokio_netlink::netfilter::conntrack::{Conntrack, ConntrackEvent, CpuStats, Filter};
    probe("conntrack::Conntrack::from_raw", f, || {
        if let Ok(c) = Conntrack::from_raw(raw.clone()) {
            decoded("conntrack");
            keep((
                c.to_string(),
                c.tcp(),
                c.counters_orig(),
                c.counters_reply(),
            ));
            keep((c.start(), c.stop(), c.helper(), c.secctx(), c.labels()));
            keep(Filter::new().orig_src("10.0.0.0/8").zone(3).matches(&c));
            dbg(&c);
        }
    });
    probe("conntrack::ConntrackEvent::from_raw", f, || {
        dbg(ConntrackEvent::from_raw(raw.clone()))
    });
    probe("conntrack::CpuStats::from_raw", f, || {
        if let Ok(s) = CpuStats::from_raw(raw) {
            decoded("conntrack stats");
            keep(s.to_string());
        }
    });
}

fn genl(raw: &RawMessage, f: &mut Vec<(&'static str, String)>) {
    use tokio_netlink::genl::{Attributes, Family, GenlMessage};
    probe("genl::Family::decode", f, || {
        if let Ok(fam) = Family::decode(raw) {
            decoded("genl family");
            keep((fam.to_string(), fam.mcast_group("notify"), fam.op(3)));
        }
    });
    probe("genl::GenlMessage::from_raw", f, || {
        let rk = tokio_netlink::RequestKind {
            message_type: raw.header.ty,
            name: None,
        };
        if let Ok(m) = GenlMessage::from_raw(raw, rk) {
            let mut it = m.attributes();
            for a in it.by_ref() {
                keep((a.u8(), a.u16(), a.u32(), a.u64(), a.str(), a.be32()));
                for n in a.nested() {
                    keep((n.nested().count(), n.str()));
                }
            }
            keep((it.truncated(), m.attributes_after(4).count()));
            keep(Attributes::new(raw.payload()).get(2));
        }
    });
}

/// A filter to match every decoded socket against.
static FILTER: std::sync::LazyLock<diag::Filter> = std::sync::LazyLock::new(|| {
    diag::Filter::from_str("sport >= :1 and dst 10.0.0.0/8 or dport != :22")
        .expect("a valid filter")
});

/// Protocols whose views differ: TCP has tcp_info, SCTP associations.
const PROTOCOLS: [InetProtocol; 2] = [InetProtocol::Tcp, InetProtocol::Sctp];

fn diag(raw: &RawMessage, f: &mut Vec<(&'static str, String)>) {
    probe("diag::InetSocket", f, || {
        for proto in PROTOCOLS {
            let Ok(s) = InetSocket::from_raw(raw.clone(), proto) else {
                continue;
            };
            decoded("diag inet");
            dbg((s.decode(), s.header(), s.protocol(), s.family(), s.state()));
            keep((s.state_name(), s.is_sctp_association(), s.local_addrs()));
            keep((
                s.peer_addrs(),
                s.timer(),
                s.timer_kind(),
                s.retrans(),
                s.id(),
            ));
            keep((
                s.local(),
                s.remote(),
                s.interface(),
                s.cookie(),
                s.expires(),
            ));
            keep((s.rqueue(), s.wqueue(), s.uid(), s.inode(), s.info_raw()));
            keep((
                s.congestion(),
                s.meminfo(),
                s.skmeminfo(),
                s.tos(),
                s.tclass(),
            ));
            keep((s.shutdown(), s.v6only(), s.protocol_attr(), s.mark()));
            keep((
                s.class_id(),
                s.cgroup_id(),
                s.sockopt(),
                s.vegas(),
                s.dctcp(),
            ));
            keep((s.bbr(), s.ulp_name(), s.ulp()));
            dbg(&s);
            if let Some(i) = s.tcp_info() {
                keep((i.len(), i.unknown_tail(), i.snd_wscale(), i.rcv_wscale()));
                keep((i.delivery_rate_app_limited(), i.fastopen_client_fail()));
                dbg(&i);
            }
            for (ty, v) in s.attributes() {
                dbg(diag::raw::InetAttr::from_value(ty, v));
            }
            keep(FILTER.matches_socket(&s));
        }
    });
    probe("diag::InetSocket (raw)", f, || {
        if let Ok(s) = InetSocket::from_raw(raw.clone(), InetProtocol::Raw(255)) {
            keep(s.protocol());
        }
    });
    probe("diag::UnixSocket", f, || {
        if let Ok(s) = UnixSocket::from_raw(raw.clone()) {
            decoded("diag unix");
            dbg((s.decode(), s.kind(), s.kind_name(), s.state(), s.inode()));
            keep((
                s.cookie(),
                s.name(),
                s.path(),
                s.vfs(),
                s.peer(),
                s.pending(),
            ));
            keep((s.rqueue(), s.wqueue(), s.meminfo(), s.shutdown(), s.uid()));
            dbg(&s);
            for (ty, v) in s.attributes() {
                dbg(diag::raw::UnixAttr::from_value(ty, v));
            }
        }
    });
    probe("diag::NetlinkSocket", f, || {
        if let Ok(s) = NetlinkSocket::from_raw(raw.clone()) {
            decoded("diag netlink");
            dbg((s.decode(), s.kind(), s.protocol(), s.state(), s.portid()));
            keep((s.dst_portid(), s.dst_group(), s.inode(), s.cookie()));
            keep((s.meminfo(), s.groups(), s.flags(), s.attributes().count()));
            dbg(&s);
        }
    });
    probe("diag::PacketSocket", f, || {
        if let Ok(s) = PacketSocket::from_raw(raw.clone()) {
            decoded("diag packet");
            dbg((s.decode(), s.kind(), s.protocol(), s.inode(), s.cookie()));
            keep((s.info(), s.uid(), s.meminfo(), s.attributes().count()));
            dbg(&s);
        }
    });
    probe("diag value parsers", f, || {
        let p = raw.payload();
        for v in [p, p.get(72..).unwrap_or_default()] {
            keep((diag::MemInfo::parse(v), diag::SkMemInfo::parse(v)));
            keep((diag::VegasInfo::parse(v), diag::DctcpInfo::parse(v)));
            keep((diag::BbrInfo::parse(v), diag::SockOpt::parse(v)));
            keep((diag::TlsInfo::parse(v), diag::MptcpSubflowInfo::parse(v)));
            keep((diag::PacketInfo::parse(v), diag::raw::InetHeader::parse(v)));
            keep((
                diag::SockId::parse(v),
                diag::TcpInfo::new(Bytes::copy_from_slice(v)),
            ));
        }
    });
    probe("diag::raw::DiagMessage::deserialize", f, || {
        dbg(diag::raw::DiagMessage::deserialize(
            &nl_header(raw),
            raw.payload(),
        ));
    });
}

/// The engine's framing of a datagram holding this message (whatever its
/// header says), its status parsers, and a dump reading it.
fn engine(bytes: &Bytes, f: &mut Vec<(&'static str, String)>) {
    probe("conn::frame (Frames, parse_error, parse_done)", f, || {
        for fr in Frames::new(bytes, 0) {
            if let frame::Frame::Message(h, r) = &fr {
                let payload = bytes
                    .get(r.start + frame::HEADER_LEN..r.end)
                    .unwrap_or_default();
                keep((
                    frame::parse_error(h, payload),
                    frame::parse_done(h, payload),
                ));
            }
            dbg(fr);
        }
    });
    probe("conn::multiplexer (receive)", f, || {
        // A request in flight whose sequence number the message carries.
        let mut mx = Multiplexer::new(MxConfig::default());
        let seq = frame::Header::parse(bytes).map_or(0, |h| h.seq);
        let mut req = vec![0u8; frame::HEADER_LEN];
        frame::Header {
            len: 16,
            ty: 18,
            flags: 5,
            seq: 0,
            pid: 0,
        }
        .write(&mut req);
        for (id, kind) in [Kind::Ack, Kind::Get, Kind::GetAck].into_iter().enumerate() {
            mx.submit(id as u64, req.clone(), kind, ());
        }
        let mut out = Vec::new();
        mx.transmit(&mut out);
        for s in 1..=3u32 {
            let mut d = bytes.to_vec();
            if d.len() >= 12 && seq == 0 {
                frame::set_seq(&mut d, s);
            }
            mx.receive(&Bytes::from(d), 0);
        }
        keep(mx.completed().count());
    });
    probe("conn::multiplexer (submit, transmit)", f, || {
        // The message as a request: the multiplexer writes its sequence
        // number into whatever it is given.
        let mut mx = Multiplexer::new(MxConfig::default());
        mx.submit(1, bytes.clone(), Kind::Ack, ());
        let mut out = Vec::new();
        keep(mx.transmit(&mut out));
    });
    probe("conn::dump::DumpReader::step", f, || {
        let seq = frame::Header::parse(bytes).map_or(0, |h| h.seq);
        let mut d = DumpReader::new(seq);
        for fr in Frames::new(bytes, 0) {
            dbg(d.step(fr, bytes));
        }
    });
}

/// Every text parser of the crate on `s`.
pub fn text(s: &str) -> Vec<(&'static str, String)> {
    use tokio_netlink::route::{address, neighbour, route::names};
    let mut f = Vec::new();
    probe("diag::Filter::from_str", &mut f, || {
        if let Ok(flt) = diag::Filter::from_str(s) {
            dbg(flt.compile());
        }
    });
    probe("text parsers", &mut f, || {
        keep((
            MacAddr::from_str(s),
            names::parse_table(s),
            names::parse_protocol(s),
        ));
        keep((
            names::parse_type(s),
            address::parse_scope(s),
            neighbour::parse_state(s),
        ));
        keep((
            xfrm::Dir::parse(s),
            xfrm::Mode::parse(s),
            xfrm::EncapType::parse(s),
        ));
        keep((xfrm::IpsecProto::parse(s), xfrm::state_flags::parse(s)));
    });
    f
}
