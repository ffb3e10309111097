//! Netdev features (`ethtool -k` / `ethtool -K`): ETHTOOL_MSG_FEATURES_GET
//! and _SET. Bitsets are asked for compact, and the names come from the
//! ETH_SS_FEATURES string set: a bit-by-bit reply would name only the bits
//! set in some bitset, leaving out the features that are off everywhere.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{StreamExt, stream};

use super::bitset::put_compact;
use super::{
    Bitset, ETH_SS_FEATURES, EthtoolDump, EthtoolHandle, FLAG_COMPACT_BITSETS, LegacyFlag, cmd,
    decode_error, reply_dev,
};
use crate::error::{Context, Error, Result};
use crate::genl::GenlMessage;
use crate::route::link::LinkId;

const A_HW: u16 = 2;
const A_WANTED: u16 = 3;
const A_ACTIVE: u16 = 4;
const A_NOCHANGE: u16 = 5;
const REPLY: &str = "ETHTOOL_MSG_FEATURES_GET_REPLY";

/// One netdev feature as `ethtool -k` shows it.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// Its bit (its index in ETH_SS_FEATURES).
    pub index: u32,
    /// Its kernel name, e.g. `"rx-gro"`.
    pub name: String,
    /// On now (ETHTOOL_A_FEATURES_ACTIVE).
    pub active: bool,
    /// Asked for (ETHTOOL_A_FEATURES_WANTED): differs from `active` when
    /// the kernel could not turn it as asked (`[requested on]`).
    pub wanted: bool,
    /// The driver lets it change (ETHTOOL_A_FEATURES_HW).
    pub changeable: bool,
    /// It can never change (ETHTOOL_A_FEATURES_NOCHANGE).
    pub nochange: bool,
}

impl Feature {
    /// `ethtool -k`'s `[fixed]`: not changeable, or never changing.
    pub fn fixed(&self) -> bool {
        !self.changeable || self.nochange
    }
}

/// The features of one device (`ethtool -k DEV`), in bit order; bits the
/// kernel has no name for are left out, as `ethtool` leaves them.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// The device's index.
    pub ifindex: u32,
    /// The device's name.
    pub ifname: String,
    /// Its features.
    pub features: Vec<Feature>,
    /// The bitsets' size, to size a request's bitset alike.
    #[cfg_attr(feature = "serde", serde(skip))]
    size: u32,
}

impl Features {
    /// The feature named `name` (kernel name).
    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }
}

fn bitset(m: &GenlMessage, ty: u16, what: &'static str) -> Result<Bitset> {
    let a = m.attributes().get(ty);
    let a = a.ok_or_else(|| decode_error(m, what, format!("no bitset {ty}")))?;
    Bitset::parse(a.value()).map_err(|why| decode_error(m, what, format!("bitset {ty}: {why}")))
}

fn parse(m: &GenlMessage, names: &[String]) -> Result<Features> {
    let (ifindex, ifname) = reply_dev(m, REPLY)?;
    let [hw, wanted, active, nochange] =
        [A_HW, A_WANTED, A_ACTIVE, A_NOCHANGE].map(|ty| bitset(m, ty, REPLY));
    let (hw, wanted, active, nochange) = (hw?, wanted?, active?, nochange?);
    let size = active.size();
    let features = (0..size)
        .filter_map(|i| {
            let name = names.get(i as usize).filter(|n| !n.is_empty())?;
            Some(Feature {
                index: i,
                name: name.clone(),
                active: active.is_set(i),
                wanted: wanted.is_set(i),
                changeable: hw.is_set(i),
                nochange: nochange.is_set(i),
            })
        })
        .collect();
    Ok(Features {
        ifindex,
        ifname,
        features,
        size,
    })
}

impl EthtoolHandle {
    /// The features of `dev` (`ethtool -k DEV`).
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let f = nl.ethtool().features("eth0").await?;
    /// let gro = f.get("rx-gro").expect("every device has rx-gro");
    /// println!("gro {} fixed {}", gro.active, gro.fixed());
    /// # Ok(()) }
    /// ```
    pub async fn features(&self, dev: impl Into<LinkId>) -> Result<Features> {
        let dev = dev.into();
        let ctx = Context::new("ethtool -k", dev.to_string());
        self.fetch_features(&dev).await.map_err(|e| ctx.wrap(e))
    }

    async fn fetch_features(&self, dev: &LinkId) -> Result<Features> {
        let names = self.string_set(ETH_SS_FEATURES).await?;
        let m = self.call(cmd::FEATURES_GET, dev, FLAG_COMPACT_BITSETS, |b| b, true);
        match m.await? {
            Some(m) => parse(&m, &names),
            None => super::unreachable_reply(&Context::new("ethtool -k", dev.to_string())),
        }
    }

    /// The features of every device (a dump).
    pub fn features_all(&self) -> EthtoolDump<Features> {
        let this = self.clone();
        let start = async move {
            let names = this.string_set(ETH_SS_FEATURES).await?;
            let dump = this.dump_all("ethtool -k", cmd::FEATURES_GET, FLAG_COMPACT_BITSETS, {
                move |m| parse(m, &names)
            });
            Ok::<_, Error>(dump)
        };
        Box::pin(stream::once(start).flat_map(|r| match r {
            Ok(s) => s.left_stream(),
            Err(e) => stream::iter(Some(Err(e))).right_stream(),
        }))
    }

    /// Changes features of `dev` (`ethtool -K DEV NAME on|off …`); send it
    /// with `.await`.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let change = nl.ethtool().features_set("eth0").on("rx-gro").off("tso").await?;
    /// for (name, wanted) in &change.unmet {
    ///     eprintln!("{name} stays {}", if *wanted { "on" } else { "off" });
    /// }
    /// # Ok(()) }
    /// ```
    pub fn features_set(&self, dev: impl Into<LinkId>) -> FeaturesSet {
        FeaturesSet {
            handle: self.clone(),
            dev: dev.into(),
            changes: Vec::new(),
        }
    }
}

/// A change of features, built by [`EthtoolHandle::features_set`]. Names
/// are kernel feature names (`rx-gro`) or legacy flags, short or long
/// (`gro`, `generic-receive-offload`); a legacy flag changes the features
/// it covers that the driver lets change (all of them if none can). The
/// names are checked against the kernel's before anything is sent: an
/// unknown one is `InvalidInput { field: "feature" }`.
#[derive(Debug)]
#[must_use = "a change does nothing until it is awaited"]
pub struct FeaturesSet {
    handle: EthtoolHandle,
    dev: LinkId,
    changes: Vec<(String, bool)>,
}

/// What the kernel did with a [`FeaturesSet`] (its FEATURES_SET reply).
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeaturesChange {
    /// The features asked for, legacy flags expanded, with the values.
    pub requested: Vec<(String, bool)>,
    /// Requested features whose wanted state is not what was asked, with
    /// the state the kernel kept (a fixed feature, or a dependency).
    pub unmet: Vec<(String, bool)>,
    /// Features whose active state changed, with the new state (those
    /// asked for and any that followed them).
    pub changed: Vec<(String, bool)>,
}

impl FeaturesChange {
    /// Nothing asked for was taken: `ethtool -K`'s "Could not change any
    /// device features".
    pub fn nothing_changed(&self) -> bool {
        !self.requested.is_empty() && self.unmet.len() == self.requested.len()
    }
}

impl FeaturesSet {
    /// Turns `name` on.
    pub fn on(self, name: &str) -> Self {
        self.set(name, true)
    }

    /// Turns `name` off.
    pub fn off(self, name: &str) -> Self {
        self.set(name, false)
    }

    /// Turns `name` on or off.
    pub fn set(mut self, name: &str, on: bool) -> Self {
        self.changes.push((name.to_owned(), on));
        self
    }

    /// The bits to change, checked against `cur`; the last word for a bit
    /// wins.
    fn bits(&self, cur: &Features) -> Result<Vec<(u32, bool)>> {
        let mut bits: Vec<(u32, bool)> = Vec::new();
        for (word, on) in &self.changes {
            let found: Vec<&super::Feature> = match cur.get(word) {
                Some(f) => vec![f],
                None => {
                    let Some(flag) = LegacyFlag::find(word) else {
                        let why = format!("{word:?}: {} has no such feature", cur.ifname);
                        return Err(Error::invalid("feature", why));
                    };
                    let all: Vec<_> = cur
                        .features
                        .iter()
                        .filter(|f| flag.matches(&f.name))
                        .collect();
                    let free: Vec<_> = all.iter().copied().filter(|f| !f.fixed()).collect();
                    if free.is_empty() { all } else { free }
                }
            };
            if found.is_empty() {
                let why = format!("{word:?}: {} has no feature under it", cur.ifname);
                return Err(Error::invalid("feature", why));
            }
            for f in found {
                bits.retain(|(i, _)| *i != f.index);
                bits.push((f.index, *on));
            }
        }
        Ok(bits)
    }

    async fn run(self) -> Result<FeaturesChange> {
        let ctx = Context::new("ethtool -K", self.dev.to_string());
        if self.changes.is_empty() {
            return Err(Error::invalid("feature", "no feature to change"));
        }
        let cur = self
            .handle
            .fetch_features(&self.dev)
            .await
            .map_err(|e| ctx.wrap(e))?;
        let bits = self.bits(&cur)?;
        let size = cur.size;
        let put = |b| put_compact(b, A_WANTED, size, &bits);
        let m = self.handle.call(
            cmd::FEATURES_SET,
            &self.dev,
            FLAG_COMPACT_BITSETS,
            put,
            true,
        );
        let m = match m.await.map_err(|e| ctx.wrap(e))? {
            Some(m) => m,
            None => return super::unreachable_reply(&ctx),
        };
        let name = |i: u32| {
            cur.features
                .iter()
                .find(|f| f.index == i)
                .map(|f| f.name.clone())
        };
        let what = "ETHTOOL_MSG_FEATURES_SET_REPLY";
        // WANTED's mask is the requested bits the result differs from,
        // its value the request: the kept state is the value's opposite.
        // ACTIVE's mask is the bits that changed, its value the new state.
        let diff = |ty, kept: bool| -> Result<Vec<(String, bool)>> {
            let s = bitset(&m, ty, what).map_err(|e| ctx.wrap(e))?;
            Ok(s.mask_bits()
                .filter_map(|i| Some((name(i)?, s.is_set(i) != kept)))
                .collect())
        };
        Ok(FeaturesChange {
            requested: bits
                .iter()
                .filter_map(|&(i, on)| Some((name(i)?, on)))
                .collect(),
            unmet: diff(A_WANTED, true)?,
            changed: diff(A_ACTIVE, false)?,
        })
    }
}

impl IntoFuture for FeaturesSet {
    type Output = Result<FeaturesChange>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<FeaturesChange>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
