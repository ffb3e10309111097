//! Link info (`ethtool DEV`'s port, PHYAD, transceiver, MDI-X):
//! ETHTOOL_MSG_LINKINFO_GET.

use super::{EthtoolDump, EthtoolHandle, cmd, reply_dev};
use crate::error::Result;
use crate::genl::GenlMessage;
use crate::route::link::LinkId;

const A_PORT: u16 = 2;
const A_PHYADDR: u16 = 3;
const A_TP_MDIX: u16 = 4;
const A_TP_MDIX_CTRL: u16 = 5;
const A_TRANSCEIVER: u16 = 6;

/// A device's link info; the numbers are the uapi's (`PORT_*`,
/// `XCVR_*`, `ETH_TP_MDI*`), worded by the `*_name` methods as `ethtool`
/// words them.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// The device's index.
    pub ifindex: u32,
    /// The device's name.
    pub ifname: String,
    /// The connector (`PORT_TP` 0, `PORT_FIBRE` 4, …).
    pub port: Option<u8>,
    /// The PHY's MDIO address (`PHYAD`).
    pub phyaddr: Option<u8>,
    /// MDI-X state of a twisted pair.
    pub tp_mdix: Option<u8>,
    /// MDI-X control of a twisted pair.
    pub tp_mdix_ctrl: Option<u8>,
    /// The transceiver (`XCVR_INTERNAL` 0, `XCVR_EXTERNAL` 1).
    pub transceiver: Option<u8>,
}

impl LinkInfo {
    /// The port as `ethtool` names it (`Twisted Pair`, `FIBRE`, …).
    pub fn port_name(&self) -> Option<String> {
        Some(match self.port? {
            0x00 => "Twisted Pair".into(),
            0x01 => "AUI".into(),
            0x02 => "BNC".into(),
            0x03 => "MII".into(),
            0x04 => "FIBRE".into(),
            0x05 => "Direct Attach Copper".into(),
            0xef => "None".into(),
            0xff => "Other".into(),
            p => format!("Unknown! ({p})"),
        })
    }

    /// The transceiver as `ethtool` names it (`internal`, `external`).
    pub fn transceiver_name(&self) -> Option<&'static str> {
        Some(match self.transceiver? {
            0 => "internal",
            1 => "external",
            _ => "Unknown!",
        })
    }

    /// MDI-X as `ethtool` shows it (`Unknown`, `on (auto)`, `off (forced)`).
    pub fn mdix_name(&self) -> Option<String> {
        let (mdix, ctrl) = (self.tp_mdix?, self.tp_mdix_ctrl.unwrap_or(0));
        Some(match ctrl {
            1 => "off (forced)".into(),
            2 => "on (forced)".into(),
            _ => {
                let s = match mdix {
                    1 => "off",
                    2 => "on",
                    _ => "Unknown",
                };
                if ctrl == 3 {
                    format!("{s} (auto)")
                } else {
                    s.into()
                }
            }
        })
    }
}

fn parse(m: &GenlMessage) -> Result<LinkInfo> {
    let (ifindex, ifname) = reply_dev(m, "ETHTOOL_MSG_LINKINFO_GET_REPLY")?;
    let a = m.attributes();
    let u8_of = |ty| a.get(ty).and_then(|x| x.u8());
    Ok(LinkInfo {
        ifindex,
        ifname,
        port: u8_of(A_PORT),
        phyaddr: u8_of(A_PHYADDR),
        tp_mdix: u8_of(A_TP_MDIX),
        tp_mdix_ctrl: u8_of(A_TP_MDIX_CTRL),
        transceiver: u8_of(A_TRANSCEIVER),
    })
}

impl EthtoolHandle {
    /// The link info of `dev` (part of `ethtool DEV`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let li = nl.ethtool().linkinfo("eth0").await?;
    /// println!("Port: {}", li.port_name().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn linkinfo(&self, dev: impl Into<LinkId>) -> Result<LinkInfo> {
        self.get_one("ethtool", cmd::LINKINFO_GET, dev.into(), 0, parse)
            .await
    }

    /// The link info of every device (a dump).
    pub fn linkinfo_all(&self) -> EthtoolDump<LinkInfo> {
        self.dump_all("ethtool", cmd::LINKINFO_GET, 0, parse)
    }
}
