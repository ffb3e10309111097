//! `ip neigh add|replace|del` and `bridge fdb`: the builder.

use super::*;
use crate::error::{Context, ResultExt};
use crate::types::Taken;

/// Builder of `ip neigh add|replace|del` and `bridge fdb add|append|del`;
/// `.await` it.
#[must_use = "nothing happens until the builder is awaited"]
#[derive(Debug)]
pub struct NeighbourAdd {
    handle: NeighbourHandle,
    dev: LinkId,
    target: Target,
    op: Op,
    /// A MAC, or an IP address (LLIPAddr: the neighbour's underlay
    /// address on an NBMA tunnel such as gre without `remote`).
    lladdr: Option<Result<Vec<u8>, crate::types::Refused>>,
    state: Option<NeighbourState>,
    flags: NeighbourFlags,
    fdb_dst: Option<Taken>,
    vlan: Option<u16>,
    vni: Option<u32>,
    port: Option<u16>,
}

impl NeighbourAdd {
    pub(super) fn new(handle: NeighbourHandle, dev: LinkId, target: Target, op: Op) -> Self {
        NeighbourAdd {
            handle,
            dev,
            target,
            op,
            lladdr: None,
            state: None,
            flags: NeighbourFlags::empty(),
            fdb_dst: None,
            vlan: None,
            vni: None,
            port: None,
        }
    }

    /// `lladdr MAC`.
    #[inline]
    pub fn lladdr(mut self, mac: MacAddr) -> Self {
        self.lladdr = Some(Ok(mac.0.to_vec()));
        self
    }

    /// `lladdr ADDR` with an IP address as the link-layer address, for
    /// tunnels whose link layer is IP (gre/ipip without `remote`: the
    /// neighbour's underlay endpoint; vishvananda/netlink's LLIPAddr).
    #[inline]
    pub fn lladdr_ip(mut self, a: impl crate::types::IntoAddr) -> Self {
        self.lladdr = Some(crate::types::take(a, "lladdr").map(|ip| match ip {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        }));
        self
    }

    /// `nud STATE` (default: permanent).
    #[inline]
    pub fn state(mut self, s: NeighbourState) -> Self {
        self.state = Some(s);
        self
    }

    /// `router`: the neighbour is a router (IPv6).
    #[inline]
    pub fn router(mut self) -> Self {
        self.flags |= NeighbourFlags::Router;
        self
    }

    /// `proxy`: a proxy ARP/NDP entry.
    #[inline]
    pub fn proxy(mut self) -> Self {
        self.flags |= NeighbourFlags::Proxy;
        self
    }

    /// FDB `master`: the entry goes to the bridge the device is a port of.
    #[inline]
    pub fn master(mut self) -> Self {
        self.flags |= NeighbourFlags::Controller;
        self
    }

    /// FDB `self`: the entry goes to the device's own table (vxlan).
    #[inline]
    pub fn self_(mut self) -> Self {
        self.flags |= NeighbourFlags::Own;
        self
    }

    /// FDB `extern_learn`.
    #[inline]
    pub fn extern_learn(mut self) -> Self {
        self.flags |= NeighbourFlags::ExtLearned;
        self
    }

    /// FDB `dst ADDR`: the remote VTEP of a vxlan entry, an address or
    /// its text.
    #[inline]
    pub fn dst(mut self, a: impl IntoAddr) -> Self {
        self.fdb_dst = Some(take(a, "dst"));
        self
    }

    /// FDB `vlan N`.
    #[inline]
    pub fn vlan(mut self, v: u16) -> Self {
        self.vlan = Some(v);
        self
    }

    /// FDB `vni N`.
    #[inline]
    pub fn vni(mut self, v: u32) -> Self {
        self.vni = Some(v);
        self
    }

    /// FDB `port P`.
    #[inline]
    pub fn port(mut self, p: u16) -> Self {
        self.port = Some(p);
        self
    }

    fn addr(ip: IpAddr) -> NeighbourAddress {
        match ip {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }
    }

    /// The request this builder stands for, checked but not sent: the
    /// message and its netlink flags, for [`Requester::ack_batch`]
    /// (device names are looked up now).
    ///
    /// [`Requester::ack_batch`]: crate::conn::Requester::ack_batch
    pub async fn into_request(self) -> Result<(RouteNetlinkMessage, u16)> {
        self.request().await.within(&self.context())
    }

    /// `neighbour add ADDR dev D`, `fdb add MAC dev D`…, for errors.
    pub(crate) fn context(&self) -> Context {
        let fdb = matches!(self.target, Target::Mac(_));
        let op = match (fdb, self.op) {
            (false, Op::Add) => "neighbour add",
            (false, Op::Replace) => "neighbour replace",
            (false, Op::Append) => "neighbour append",
            (false, Op::Del) => "neighbour del",
            (true, Op::Add) => "fdb add",
            (true, Op::Replace) => "fdb replace",
            (true, Op::Append) => "fdb append",
            (true, Op::Del) => "fdb del",
        };
        let what = match &self.target {
            Target::Ip(ip) => ip.to_string(),
            Target::Mac(m) => m.to_string(),
            Target::Refused(_) => "?".into(),
        };
        let ctx = Context::new(op, format!("{what} dev {}", self.dev));
        match (self.op, fdb) {
            (Op::Del, false) => ctx.missing("neighbour"),
            (Op::Del, true) => ctx.missing("fdb entry"),
            _ => ctx,
        }
    }

    async fn request(&self) -> Result<(RouteNetlinkMessage, u16)> {
        if let Some(v) = self.vlan
            && (v == 0 || v > 4094)
        {
            return Err(Error::invalid("vlan", format!("{v} is not in 1..=4094")));
        }
        if let Some(v) = self.vni
            && v >= 1 << 24
        {
            return Err(Error::invalid(
                "vni",
                format!("{v} does not fit in 24 bits"),
            ));
        }
        // Before the lookup, as every other input check.
        if let Some(Err(r)) = &self.fdb_dst {
            return Err(r.error());
        }
        let index = self.handle.links.index_of(&self.dev).await?;
        let mut m = NeighbourMessage::default();
        m.header.ifindex = index;
        m.header.flags = self.flags;
        let proxy = self.flags.contains(NeighbourFlags::Proxy);
        match &self.target {
            Target::Refused(r) => return Err(r.error()),
            &Target::Ip(ip) => {
                m.header.family = Family::of(&ip).raw();
                m.attributes
                    .push(NeighbourAttribute::Destination(Self::addr(ip)));
                if self.op != Op::Del && !proxy && self.lladdr.is_none() {
                    let noarp = matches!(
                        self.state,
                        Some(
                            NeighbourState::Noarp
                                | NeighbourState::Incomplete
                                | NeighbourState::Failed
                        )
                    );
                    if !noarp {
                        return Err(Error::invalid(
                            "lladdr",
                            "a neighbour entry needs a link-layer address",
                        ));
                    }
                }
            }
            Target::Mac(mac) => {
                m.header.family = AddressFamily::Bridge;
                m.attributes
                    .push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
                if let Some(Ok(d)) = self.fdb_dst {
                    m.attributes
                        .push(NeighbourAttribute::Destination(Self::addr(d)));
                }
                if let Some(v) = self.vlan {
                    m.attributes.push(NeighbourAttribute::Vlan(v));
                }
                if let Some(v) = self.vni {
                    m.attributes.push(NeighbourAttribute::Vni(v));
                }
                if let Some(p) = self.port {
                    m.attributes.push(NeighbourAttribute::Port(p));
                }
                if !self
                    .flags
                    .intersects(NeighbourFlags::Own | NeighbourFlags::Controller)
                {
                    // `bridge fdb` defaults to `self`.
                    m.header.flags |= NeighbourFlags::Own;
                }
            }
        }
        if let (Target::Ip(_), Some(ll)) = (&self.target, &self.lladdr) {
            let ll = ll.clone().map_err(|r| r.error())?;
            m.attributes.push(NeighbourAttribute::LinkLayerAddress(ll));
        }
        if self.op != Op::Del {
            m.header.state = self.state.unwrap_or(NeighbourState::Permanent);
        }
        let (msg, flags) = match self.op {
            Op::Add => (RouteNetlinkMessage::NewNeighbour(m), 0x400 | 0x200),
            Op::Replace => (RouteNetlinkMessage::NewNeighbour(m), 0x400 | 0x100),
            Op::Append => (RouteNetlinkMessage::NewNeighbour(m), 0x400 | 0x800),
            Op::Del => (RouteNetlinkMessage::DelNeighbour(m), 0),
        };
        Ok((msg, flags))
    }

    async fn run(self) -> Result<()> {
        let ctx = self.context();
        let (msg, flags) = self.request().await.within(&ctx)?;
        self.handle.rtnl.ack(msg, flags).await.within(&ctx)
    }
}

impl IntoFuture for NeighbourAdd {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
