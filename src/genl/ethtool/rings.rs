//! Ring sizes (`ethtool -g` / `ethtool -G`): ETHTOOL_MSG_RINGS_GET and
//! _SET.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use super::{EthtoolDump, EthtoolHandle, cmd, reply_dev, u32_of};
use crate::error::{Context, Error, Result};
use crate::genl::GenlMessage;
use crate::route::link::LinkId;

const A_RX_MAX: u16 = 2;
const A_RX_MINI_MAX: u16 = 3;
const A_RX_JUMBO_MAX: u16 = 4;
const A_TX_MAX: u16 = 5;
const A_RX: u16 = 6;
const A_RX_MINI: u16 = 7;
const A_RX_JUMBO: u16 = 8;
const A_TX: u16 = 9;

/// A device's ring sizes. The kernel leaves out a ring whose maximum is 0,
/// which is `None` here (`ethtool -g`'s `n/a`).
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rings {
    /// The device's index.
    pub ifindex: u32,
    /// The device's name.
    pub ifname: String,
    /// Pre-set maximum of the RX ring.
    pub rx_max: Option<u32>,
    /// Pre-set maximum of the RX mini ring.
    pub rx_mini_max: Option<u32>,
    /// Pre-set maximum of the RX jumbo ring.
    pub rx_jumbo_max: Option<u32>,
    /// Pre-set maximum of the TX ring.
    pub tx_max: Option<u32>,
    /// Current RX ring size.
    pub rx: Option<u32>,
    /// Current RX mini ring size.
    pub rx_mini: Option<u32>,
    /// Current RX jumbo ring size.
    pub rx_jumbo: Option<u32>,
    /// Current TX ring size.
    pub tx: Option<u32>,
}

fn parse(m: &GenlMessage) -> Result<Rings> {
    let (ifindex, ifname) = reply_dev(m, "ETHTOOL_MSG_RINGS_GET_REPLY")?;
    let a = m.attributes();
    Ok(Rings {
        ifindex,
        ifname,
        rx_max: u32_of(&a, A_RX_MAX),
        rx_mini_max: u32_of(&a, A_RX_MINI_MAX),
        rx_jumbo_max: u32_of(&a, A_RX_JUMBO_MAX),
        tx_max: u32_of(&a, A_TX_MAX),
        rx: u32_of(&a, A_RX),
        rx_mini: u32_of(&a, A_RX_MINI),
        rx_jumbo: u32_of(&a, A_RX_JUMBO),
        tx: u32_of(&a, A_TX),
    })
}

impl EthtoolHandle {
    /// The ring sizes of `dev` (`ethtool -g DEV`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let r = nl.ethtool().rings("eth0").await?;
    /// println!("rx ring {:?} of {:?}", r.rx, r.rx_max);
    /// # Ok(()) }
    /// ```
    pub async fn rings(&self, dev: impl Into<LinkId>) -> Result<Rings> {
        self.get_one("ethtool -g", cmd::RINGS_GET, dev.into(), 0, parse)
            .await
    }

    /// The ring sizes of every device whose driver reports them (a dump).
    pub fn rings_all(&self) -> EthtoolDump<Rings> {
        self.dump_all("ethtool -g", cmd::RINGS_GET, 0, parse)
    }

    /// Changes the ring sizes of `dev` (`ethtool -G DEV rx N …`); send it
    /// with `.await`. A size above the maximum is the kernel's EINVAL
    /// with its text.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// nl.ethtool().rings_set("eth0").rx(1024).await?;
    /// # Ok(()) }
    /// ```
    pub fn rings_set(&self, dev: impl Into<LinkId>) -> RingsSet {
        RingsSet {
            handle: self.clone(),
            dev: dev.into(),
            counts: Vec::new(),
        }
    }
}

/// A change of ring sizes, built by [`EthtoolHandle::rings_set`]; the
/// kinds not set are left as they are.
#[derive(Debug)]
#[must_use = "a change does nothing until it is awaited"]
pub struct RingsSet {
    handle: EthtoolHandle,
    dev: LinkId,
    counts: Vec<(u16, u32)>,
}

impl RingsSet {
    fn put(mut self, ty: u16, n: u32) -> Self {
        self.counts.retain(|(t, _)| *t != ty);
        self.counts.push((ty, n));
        self
    }

    /// RX ring size (`rx N`).
    pub fn rx(self, n: u32) -> Self {
        self.put(A_RX, n)
    }

    /// RX mini ring size (`rx-mini N`).
    pub fn rx_mini(self, n: u32) -> Self {
        self.put(A_RX_MINI, n)
    }

    /// RX jumbo ring size (`rx-jumbo N`).
    pub fn rx_jumbo(self, n: u32) -> Self {
        self.put(A_RX_JUMBO, n)
    }

    /// TX ring size (`tx N`).
    pub fn tx(self, n: u32) -> Self {
        self.put(A_TX, n)
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("ethtool -G", self.dev.to_string());
        if self.counts.is_empty() {
            return Err(Error::invalid("rings", "no ring size to change"));
        }
        let counts = self.counts.clone();
        let attrs = move |mut b: crate::genl::AttrBuilder| {
            for (ty, n) in counts {
                b = b.u32(ty, n);
            }
            b
        };
        let r = self.handle.call(cmd::RINGS_SET, &self.dev, 0, attrs, false);
        r.await.map(|_| ()).map_err(|e| ctx.wrap(e))
    }
}

impl IntoFuture for RingsSet {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
