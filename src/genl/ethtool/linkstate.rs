//! Link state (`ethtool DEV`'s `Link detected`): ETHTOOL_MSG_LINKSTATE_GET.

use super::{EthtoolDump, EthtoolHandle, cmd, reply_dev, u32_of};
use crate::error::Result;
use crate::genl::GenlMessage;
use crate::route::link::LinkId;

const A_LINK: u16 = 2;
const A_SQI: u16 = 3;
const A_SQI_MAX: u16 = 4;
const A_EXT_STATE: u16 = 5;

/// A device's link state.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    /// The device's index.
    pub ifindex: u32,
    /// The device's name.
    pub ifname: String,
    /// Link detected (ETHTOOL_A_LINKSTATE_LINK).
    pub link: Option<bool>,
    /// Signal quality index, if the PHY reports it.
    pub sqi: Option<u32>,
    /// The largest signal quality index.
    pub sqi_max: Option<u32>,
    /// Why the link is down (`ETHTOOL_LINK_EXT_STATE_*`), if known.
    pub ext_state: Option<u8>,
}

fn parse(m: &GenlMessage) -> Result<LinkState> {
    let (ifindex, ifname) = reply_dev(m, "ETHTOOL_MSG_LINKSTATE_GET_REPLY")?;
    let a = m.attributes();
    Ok(LinkState {
        ifindex,
        ifname,
        link: a.get(A_LINK).and_then(|x| x.u8()).map(|v| v != 0),
        sqi: u32_of(&a, A_SQI),
        sqi_max: u32_of(&a, A_SQI_MAX),
        ext_state: a.get(A_EXT_STATE).and_then(|x| x.u8()),
    })
}

impl EthtoolHandle {
    /// The link state of `dev` (`ethtool DEV`'s `Link detected`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let up = nl.ethtool().linkstate("eth0").await?.link == Some(true);
    /// # Ok(()) }
    /// ```
    pub async fn linkstate(&self, dev: impl Into<LinkId>) -> Result<LinkState> {
        self.get_one("ethtool", cmd::LINKSTATE_GET, dev.into(), 0, parse)
            .await
    }

    /// The link state of every device (a dump).
    pub fn linkstate_all(&self) -> EthtoolDump<LinkState> {
        self.dump_all("ethtool", cmd::LINKSTATE_GET, 0, parse)
    }
}
