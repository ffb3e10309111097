//! `serde` for socket diagnostics: the socket views as flat maps in
//! `ss`'s words, [`TcpInfo`] and [`UlpInfo`] from their accessors. The
//! fixed-layout values ([`MemInfo`](super::MemInfo), [`SockId`](super::SockId),
//! [`States`](super::States)…) derive both directions in their modules.

use ::serde::ser::{Serialize, SerializeMap, Serializer};

use super::{
    InetProtocol, InetSocket, NetlinkSocket, PacketSocket, SkMemInfo, TcpInfo, Timer, UlpInfo,
    UnixSocket,
};
use crate::serde_util::{Fields, text_serde};

// A filter as `ss` writes it (`dport = :443 and not src 10.0.0.0/8`).
text_serde!(super::Filter, "an ss filter expression", |s| s.parse().ok());

/// Every `tcp_info` field the kernel's layout holds, by its name in
/// `struct tcp_info` without the `tcpi_` prefix (`rtt`, `snd_cwnd`,
/// `bytes_acked`…), plus the bit fields `snd_wscale`, `rcv_wscale`,
/// `delivery_rate_app_limited`, `fastopen_client_fail`. Fields an older
/// kernel does not send are left out.
impl Serialize for TcpInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.serialize_fields(&mut m)?;
        if let Some(v) = self.snd_wscale() {
            m.serialize_entry("snd_wscale", &v)?;
        }
        if let Some(v) = self.rcv_wscale() {
            m.serialize_entry("rcv_wscale", &v)?;
        }
        if let Some(v) = self.delivery_rate_app_limited() {
            m.serialize_entry("delivery_rate_app_limited", &v)?;
        }
        if let Some(v) = self.fastopen_client_fail() {
            m.serialize_entry("fastopen_client_fail", &v)?;
        }
        m.end()
    }
}

/// `name`, and `tls` ([`TlsInfo`](super::TlsInfo)) or `mptcp`
/// ([`MptcpSubflowInfo`](super::MptcpSubflowInfo)) when present.
impl Serialize for UlpInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.opt("name", self.name())?
            .opt("tls", self.tls())?
            .opt("mptcp", self.mptcp())?;
        m.end()
    }
}

/// `ss -m`'s `skmem` counters by their long names.
struct SkMem(SkMemInfo);

impl Serialize for SkMem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let k = &self.0;
        let mut m = Fields::begin(s)?;
        m.opt("rmem_alloc", k.rmem_alloc())?
            .opt("rcvbuf", k.rcvbuf())?
            .opt("wmem_alloc", k.wmem_alloc())?
            .opt("sndbuf", k.sndbuf())?
            .opt("fwd_alloc", k.fwd_alloc())?
            .opt("wmem_queued", k.wmem_queued())?
            .opt("optmem", k.optmem())?
            .opt("backlog", k.backlog())?
            .opt("drops", k.drops())?;
        m.end()
    }
}

fn family_name(af: u8) -> String {
    match af {
        2 => "inet".into(),
        10 => "inet6".into(),
        n => n.to_string(),
    }
}

/// `ss -o`'s `timer:(NAME,EXPIRES,RETRANS)`.
#[derive(::serde::Serialize)]
struct TimerSer {
    name: &'static str,
    expires_ms: u32,
    retrans: u8,
}

/// An inet socket in `ss`'s words:
///
/// | field | type | from |
/// |---|---|---|
/// | `netid` | string | `tcp`, `udp`, `udpl`, `raw`, `sctp`, `mptcp` (`ss`'s Netid) |
/// | `raw_protocol` | number | a raw socket's IP protocol |
/// | `family` | string | `inet`, `inet6` |
/// | `state` | string | `ss`'s State: `ESTAB`, `LISTEN`, `UNCONN`, `TIME-WAIT`… |
/// | `recv_q`, `send_q` | number | [`InetSocket::rqueue`], [`InetSocket::wqueue`] |
/// | `local`, `peer` | string | `ADDR:PORT` (`[ADDR]:PORT` for IPv6) |
/// | `local_addrs`, `peer_addrs` | array of strings | SCTP's addresses |
/// | `ifindex` | number | the bound interface (absent when none) |
/// | `uid`, `inode`, `cookie` | number | |
/// | `timer` | map | `name` (`on`, `keepalive`, `timewait`, `persist`), `expires_ms`, `retrans`; absent when off |
/// | `tcp_info` | map | [`TcpInfo`] |
/// | `congestion` | string | the congestion-control algorithm |
/// | `meminfo` | map | `rmem`, `wmem`, `fmem`, `tmem` |
/// | `skmem` | map | `rmem_alloc`, `rcvbuf`, `wmem_alloc`, `sndbuf`, `fwd_alloc`, `wmem_queued`, `optmem`, `backlog`, `drops` |
/// | `tos`, `tclass`, `shutdown`, `mark`, `class_id`, `cgroup_id`, `sockopt` | number | |
/// | `v6only` | bool | |
/// | `vegas`, `dctcp`, `bbr` | map | congestion-control info |
/// | `ulp` | map | [`UlpInfo`] |
impl Serialize for InetSocket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        let proto = self.protocol();
        m.put("netid", proto.name())?;
        if let InetProtocol::Raw(p) = proto {
            m.put("raw_protocol", &p)?;
        }
        m.put("family", &family_name(self.family()))?
            .put("state", self.state_name())?
            .put("recv_q", &self.rqueue())?
            .put("send_q", &self.wqueue())?
            .put("local", &self.local())?
            .put("peer", &self.remote())?
            .list("local_addrs", &self.local_addrs())?
            .list("peer_addrs", &self.peer_addrs())?
            .opt("ifindex", Some(self.interface()).filter(|&i| i != 0))?
            .put("uid", &self.uid())?
            .put("inode", &self.inode())?
            .put("cookie", &self.cookie())?;
        let timer = self.timer_kind();
        if timer != Timer::Off {
            m.put(
                "timer",
                &TimerSer {
                    name: timer.ss_name(),
                    expires_ms: self.expires(),
                    retrans: self.retrans(),
                },
            )?;
        }
        m.opt("tcp_info", self.tcp_info())?
            .opt("congestion", self.congestion())?
            .opt("meminfo", self.meminfo())?
            .opt("skmem", self.skmeminfo().map(SkMem))?
            .opt("tos", self.tos())?
            .opt("tclass", self.tclass())?
            .opt("shutdown", self.shutdown())?
            .opt("v6only", self.v6only())?
            .opt("mark", self.mark())?
            .opt("class_id", self.class_id())?
            .opt("cgroup_id", self.cgroup_id())?
            .opt("sockopt", self.sockopt().map(|o| o.0))?
            .opt("vegas", self.vegas())?
            .opt("dctcp", self.dctcp())?
            .opt("bbr", self.bbr())?
            .opt("ulp", self.ulp())?;
        m.end()
    }
}

/// A unix socket in `ss -x`'s words:
///
/// | field | type | from |
/// |---|---|---|
/// | `netid` | string | `u_str`, `u_dgr`, `u_seq` |
/// | `state` | string | `ESTAB`, `LISTEN`, `UNCONN`… |
/// | `recv_q`, `send_q` | number | [`UnixSocket::rqueue`], [`UnixSocket::wqueue`] |
/// | `path` | string | the bound name (`@name` when abstract) |
/// | `inode`, `cookie` | number | |
/// | `peer_inode` | number | [`UnixSocket::peer`] |
/// | `vfs_inode`, `vfs_dev` | number | [`UnixSocket::vfs`] |
/// | `pending` | array of numbers | inodes awaiting accept |
/// | `skmem` | map | as for inet sockets |
/// | `shutdown`, `uid` | number | |
impl Serialize for UnixSocket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("netid", self.kind_name())?
            .put("state", super::inet::state_name(self.state()))?
            .opt("recv_q", self.rqueue())?
            .opt("send_q", self.wqueue())?
            .opt("path", self.path())?
            .put("inode", &self.inode())?
            .put("cookie", &self.cookie())?
            .opt("peer_inode", self.peer())?
            .opt("vfs_inode", self.vfs().map(|v| v.0))?
            .opt("vfs_dev", self.vfs().map(|v| v.1))?
            .list("pending", &self.pending())?
            .opt("skmem", self.meminfo().map(SkMem))?
            .opt("shutdown", self.shutdown())?
            .opt("uid", self.uid())?;
        m.end()
    }
}

/// A netlink socket (`ss -A netlink`): `netid` (`nl`), `kind` (SOCK_*
/// number), `protocol`, `state` (number), `portid`, `dst_portid`,
/// `dst_group`, `inode`, `cookie`, `groups` (array), `flags`, `skmem`.
impl Serialize for NetlinkSocket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        m.put("netid", "nl")?
            .put("kind", &self.kind())?
            .put("protocol", &self.protocol())?
            .put("state", &self.state())?
            .put("portid", &self.portid())?
            .put("dst_portid", &self.dst_portid())?
            .put("dst_group", &self.dst_group())?
            .put("inode", &self.inode())?
            .put("cookie", &self.cookie())?
            .list("groups", &self.groups())?
            .opt("flags", self.flags())?
            .opt("skmem", self.meminfo().map(SkMem))?;
        m.end()
    }
}

/// A packet socket (`ss -0`): `netid` (`p_raw`, `p_dgr`), `kind` (SOCK_*
/// number), `protocol` (ETH_P_* number), `inode`, `cookie`, `info`
/// ([`PacketInfo`](super::PacketInfo)), `uid`, `skmem`.
impl Serialize for PacketSocket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Fields::begin(s)?;
        let netid = match self.kind() {
            3 => "p_raw".to_owned(),
            2 => "p_dgr".to_owned(),
            n => format!("p_{n}"),
        };
        m.put("netid", &netid)?
            .put("kind", &self.kind())?
            .put("protocol", &self.protocol())?
            .put("inode", &self.inode())?
            .put("cookie", &self.cookie())?
            .opt("info", self.info())?
            .opt("uid", self.uid())?
            .opt("skmem", self.meminfo().map(SkMem))?;
        m.end()
    }
}
