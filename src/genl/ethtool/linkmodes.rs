//! Link modes (`ethtool DEV`'s speed, duplex, auto-negotiation):
//! ETHTOOL_MSG_LINKMODES_GET.

use super::{Bitset, EthtoolDump, EthtoolHandle, FLAG_COMPACT_BITSETS, cmd, reply_dev, u32_of};
use crate::error::Result;
use crate::genl::GenlMessage;
use crate::route::link::LinkId;

const A_AUTONEG: u16 = 2;
const A_OURS: u16 = 3;
const A_PEER: u16 = 4;
const A_SPEED: u16 = 5;
const A_DUPLEX: u16 = 6;
const A_LANES: u16 = 9;

/// Duplex (`DUPLEX_*`).
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplex {
    /// DUPLEX_HALF.
    Half,
    /// DUPLEX_FULL.
    Full,
    /// DUPLEX_UNKNOWN, or a value the uapi does not define.
    Unknown(u8),
}

impl Duplex {
    /// As `ethtool` prints it: `Half`, `Full`, `Unknown! (255)`.
    pub fn name(self) -> String {
        match self {
            Duplex::Half => "Half".into(),
            Duplex::Full => "Full".into(),
            Duplex::Unknown(v) => format!("Unknown! ({v})"),
        }
    }
}

/// A device's link modes. The link mode bitsets (compact, indexed by
/// `ETHTOOL_LINK_MODE_*_BIT`) are kept as they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkModes {
    /// The device's index.
    pub ifindex: u32,
    /// The device's name.
    pub ifname: String,
    /// Auto-negotiation on.
    pub autoneg: Option<bool>,
    /// Speed in Mb/s; `None` when unknown (SPEED_UNKNOWN) or not reported.
    pub speed: Option<u32>,
    /// Duplex.
    pub duplex: Option<Duplex>,
    /// Lanes, if the driver reports them.
    pub lanes: Option<u32>,
    /// Our modes: supported (mask) and advertised (value).
    pub ours: Option<Bitset>,
    /// The link partner's advertised modes.
    pub peer: Option<Bitset>,
}

fn parse(m: &GenlMessage) -> Result<LinkModes> {
    let (ifindex, ifname) = reply_dev(m, "ETHTOOL_MSG_LINKMODES_GET_REPLY")?;
    let a = m.attributes();
    let set = |ty| a.get(ty).and_then(|x| Bitset::parse(x.value()).ok());
    Ok(LinkModes {
        ifindex,
        ifname,
        autoneg: a.get(A_AUTONEG).and_then(|x| x.u8()).map(|v| v != 0),
        speed: u32_of(&a, A_SPEED).filter(|&s| s != u32::MAX),
        duplex: a.get(A_DUPLEX).and_then(|x| x.u8()).map(|d| match d {
            0 => Duplex::Half,
            1 => Duplex::Full,
            d => Duplex::Unknown(d),
        }),
        lanes: u32_of(&a, A_LANES),
        ours: set(A_OURS),
        peer: set(A_PEER),
    })
}

impl EthtoolHandle {
    /// The link modes of `dev` (`ethtool DEV`'s speed and duplex).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let lm = nl.ethtool().linkmodes("eth0").await?;
    /// println!("Speed: {:?}Mb/s", lm.speed);
    /// # Ok(()) }
    /// ```
    pub async fn linkmodes(&self, dev: impl Into<LinkId>) -> Result<LinkModes> {
        let flags = FLAG_COMPACT_BITSETS;
        self.get_one("ethtool", cmd::LINKMODES_GET, dev.into(), flags, parse)
            .await
    }

    /// The link modes of every device (a dump).
    pub fn linkmodes_all(&self) -> EthtoolDump<LinkModes> {
        self.dump_all("ethtool", cmd::LINKMODES_GET, FLAG_COMPACT_BITSETS, parse)
    }
}
