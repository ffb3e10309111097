//! Channels (`ethtool -l` / `ethtool -L`): ETHTOOL_MSG_CHANNELS_GET and
//! _SET.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use super::{EthtoolDump, EthtoolHandle, cmd, reply_dev, u32_of};
use crate::error::{Context, Error, Result};
use crate::genl::GenlMessage;
use crate::route::link::LinkId;

const A_RX_MAX: u16 = 2;
const A_TX_MAX: u16 = 3;
const A_OTHER_MAX: u16 = 4;
const A_COMBINED_MAX: u16 = 5;
const A_RX_COUNT: u16 = 6;
const A_TX_COUNT: u16 = 7;
const A_OTHER_COUNT: u16 = 8;
const A_COMBINED_COUNT: u16 = 9;

/// A device's channels. The kernel leaves out a kind whose maximum is 0,
/// which is `None` here (`ethtool -l`'s `n/a`).
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    /// The device's index.
    pub ifindex: u32,
    /// The device's name.
    pub ifname: String,
    /// Pre-set maximum of RX channels.
    pub rx_max: Option<u32>,
    /// Pre-set maximum of TX channels.
    pub tx_max: Option<u32>,
    /// Pre-set maximum of other channels.
    pub other_max: Option<u32>,
    /// Pre-set maximum of combined channels.
    pub combined_max: Option<u32>,
    /// Current RX channels.
    pub rx: Option<u32>,
    /// Current TX channels.
    pub tx: Option<u32>,
    /// Current other channels.
    pub other: Option<u32>,
    /// Current combined channels.
    pub combined: Option<u32>,
}

fn parse(m: &GenlMessage) -> Result<Channels> {
    let (ifindex, ifname) = reply_dev(m, "ETHTOOL_MSG_CHANNELS_GET_REPLY")?;
    let a = m.attributes();
    Ok(Channels {
        ifindex,
        ifname,
        rx_max: u32_of(&a, A_RX_MAX),
        tx_max: u32_of(&a, A_TX_MAX),
        other_max: u32_of(&a, A_OTHER_MAX),
        combined_max: u32_of(&a, A_COMBINED_MAX),
        rx: u32_of(&a, A_RX_COUNT),
        tx: u32_of(&a, A_TX_COUNT),
        other: u32_of(&a, A_OTHER_COUNT),
        combined: u32_of(&a, A_COMBINED_COUNT),
    })
}

impl EthtoolHandle {
    /// The channels of `dev` (`ethtool -l DEV`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let ch = nl.ethtool().channels("eth0").await?;
    /// println!("rx {:?} of {:?}", ch.rx, ch.rx_max);
    /// # Ok(()) }
    /// ```
    pub async fn channels(&self, dev: impl Into<LinkId>) -> Result<Channels> {
        self.get_one("ethtool -l", cmd::CHANNELS_GET, dev.into(), 0, parse)
            .await
    }

    /// The channels of every device whose driver reports them (a dump).
    pub fn channels_all(&self) -> EthtoolDump<Channels> {
        self.dump_all("ethtool -l", cmd::CHANNELS_GET, 0, parse)
    }

    /// Changes the channels of `dev` (`ethtool -L DEV rx N …`); send it
    /// with `.await`. A count above the maximum is the kernel's EINVAL
    /// with its text.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// nl.ethtool().channels_set("eth0").combined(4).await?;
    /// # Ok(()) }
    /// ```
    pub fn channels_set(&self, dev: impl Into<LinkId>) -> ChannelsSet {
        ChannelsSet {
            handle: self.clone(),
            dev: dev.into(),
            counts: Vec::new(),
        }
    }
}

/// A change of channels, built by [`EthtoolHandle::channels_set`]; the
/// kinds not set are left as they are.
#[derive(Debug)]
#[must_use = "a change does nothing until it is awaited"]
pub struct ChannelsSet {
    handle: EthtoolHandle,
    dev: LinkId,
    counts: Vec<(u16, u32)>,
}

impl ChannelsSet {
    fn put(mut self, ty: u16, n: u32) -> Self {
        self.counts.retain(|(t, _)| *t != ty);
        self.counts.push((ty, n));
        self
    }

    /// RX channels (`rx N`).
    pub fn rx(self, n: u32) -> Self {
        self.put(A_RX_COUNT, n)
    }

    /// TX channels (`tx N`).
    pub fn tx(self, n: u32) -> Self {
        self.put(A_TX_COUNT, n)
    }

    /// Other channels (`other N`).
    pub fn other(self, n: u32) -> Self {
        self.put(A_OTHER_COUNT, n)
    }

    /// Combined channels (`combined N`).
    pub fn combined(self, n: u32) -> Self {
        self.put(A_COMBINED_COUNT, n)
    }

    async fn run(self) -> Result<()> {
        let ctx = Context::new("ethtool -L", self.dev.to_string());
        if self.counts.is_empty() {
            return Err(Error::invalid("channels", "no channel count to change"));
        }
        let counts = self.counts.clone();
        let attrs = move |mut b: crate::genl::AttrBuilder| {
            for (ty, n) in counts {
                b = b.u32(ty, n);
            }
            b
        };
        let r = self
            .handle
            .call(cmd::CHANNELS_SET, &self.dev, 0, attrs, false);
        r.await.map(|_| ()).map_err(|e| ctx.wrap(e))
    }
}

impl IntoFuture for ChannelsSet {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
