//! `ip link add … type KIND [ARGS]`.

use netlink_packet_route::link::{InfoKind, LinkInfo};
use tokio_netlink::Netlink;
use tokio_netlink::route::link::kinds::{Bridge, Dummy, Ifb, Macvlan, MacvlanMode, Macvtap, Veth};
use tokio_netlink::route::link::{KindCtx, KindParts, LinkAdd, LinkKind, MacAddr};

use crate::link::{find, group_arg, netns_arg};
use crate::{Res, Words, encap, fail};

/// Any kind by name, sent as is (`dummy` on kernels without the module
/// gets the kernel's own "Unknown device type").
struct Other {
    kind: String,
    link: Option<u32>,
}

impl LinkKind for Other {
    fn build(&self, _: &KindCtx) -> tokio_netlink::Result<KindParts> {
        Ok(KindParts {
            info: vec![LinkInfo::Kind(InfoKind::from(self.kind.as_str()))],
            link: self.link,
            ..KindParts::default()
        })
    }
}

/// Settings given before `type`, applied once the builder exists.
enum Setting {
    Mtu(u32),
    Address(String),
    Txqlen(u32),
    Up,
    Master(u32),
    Alias(String),
    Netns(String),
    Group(u32),
    Promisc(bool),
    Arp(bool),
}

/// `ip link add [link DEV] [name] NAME [SETTINGS] type KIND [ARGS]`.
pub async fn add(nl: &Netlink, mut w: Words) -> Res<()> {
    let mut name = None;
    let mut lower = None;
    let mut settings = Vec::new();
    let kind = loop {
        let Some(word) = w.next() else {
            return Err(fail(
                "Not enough information: \"type\" argument is required.",
            ));
        };
        let s = match word.as_str() {
            "type" => break w.arg("type")?,
            "link" => {
                let d = w.arg("link")?;
                lower = Some(find(nl, &d).await?.index());
                continue;
            }
            "name" | "dev" => {
                name = Some(w.arg(&word)?);
                continue;
            }
            "mtu" => Setting::Mtu(w.parse("mtu")?),
            "address" => Setting::Address(w.arg("address")?),
            "txqlen" | "qlen" | "txqueuelen" => Setting::Txqlen(w.parse("txqlen")?),
            "up" => Setting::Up,
            "master" => Setting::Master(find(nl, &w.arg("master")?).await?.index()),
            "alias" => Setting::Alias(w.arg("alias")?),
            "netns" => Setting::Netns(w.arg("netns")?),
            "group" => Setting::Group(group_arg(&w.arg("group")?)?),
            "promisc" => Setting::Promisc(w.on_off("promisc")?),
            "arp" => Setting::Arp(w.on_off("arp")?),
            _ if name.is_none() => {
                name = Some(word);
                continue;
            }
            _ => {
                return Err(fail(format!(
                    "Garbage instead of arguments \"{word} ...\"."
                )));
            }
        };
        settings.push(s);
    };
    let name =
        name.ok_or_else(|| fail("Not enough information: \"name\" argument is required."))?;
    let links = nl.link();
    let no_lower = |k: &str| match lower {
        Some(_) => Err(fail(format!("\"link\" is not supported with type {k}"))),
        None => Ok(()),
    };
    let mut b: LinkAdd = match kind.as_str() {
        "veth" => {
            no_lower("veth")?;
            match veth(&mut w)? {
                Some(v) => links.add(&name, v),
                None => links.add(
                    &name,
                    Other {
                        kind: "veth".into(),
                        link: None,
                    },
                ),
            }
        }
        "bridge" => {
            no_lower("bridge")?;
            links.add(&name, bridge(&mut w)?)
        }
        "macvlan" => {
            let (dev, mode) = macvlan(nl, &mut w, lower).await?;
            links.add(
                &name,
                mode.into_iter().fold(Macvlan::new(dev), Macvlan::mode),
            )
        }
        "macvtap" => {
            let (dev, mode) = macvlan(nl, &mut w, lower).await?;
            links.add(
                &name,
                mode.into_iter().fold(Macvtap::new(dev), Macvtap::mode),
            )
        }
        "vxlan" => {
            no_lower("vxlan")?;
            links.add(&name, encap::vxlan(nl, &mut w).await?)
        }
        "vlan" => links.add(&name, encap::vlan(nl, &mut w, lower).await?),
        "ifb" => links.add(&name, Ifb),
        "dummy" => links.add(&name, Dummy),
        _ => links.add(
            &name,
            Other {
                kind: kind.clone(),
                link: lower,
            },
        ),
    };
    if let Some(extra) = w.next() {
        return Err(fail(format!("{kind}: unknown argument \"{extra}\"")));
    }
    for s in settings {
        b = match s {
            Setting::Mtu(m) => b.mtu(m),
            Setting::Address(a) => b.address_str(&a),
            Setting::Txqlen(q) => b.txqlen(q),
            Setting::Up => b.up(),
            Setting::Master(m) => b.master(m),
            Setting::Alias(a) => b.alias(&a),
            Setting::Netns(ns) => b.netns(netns_arg(&ns)),
            Setting::Group(g) => b.group(g),
            Setting::Promisc(on) => b.promisc(on),
            Setting::Arp(on) => b.arp(on),
        };
    }
    b.await?;
    Ok(())
}

/// `peer [name] P [mtu N] [address MAC] [netns NS]`; `None` without a peer
/// (the kernel names it).
fn veth(w: &mut Words) -> Res<Option<Veth>> {
    if w.peek() != Some("peer") {
        return Ok(None);
    }
    w.next();
    let (mut name, mut mtu, mut address, mut netns) = (None, None, None, None);
    while let Some(word) = w.peek().map(str::to_owned) {
        match word.as_str() {
            "name" => name = Some(skip(w).arg("name")?),
            "mtu" => mtu = Some(skip(w).parse::<u32>("mtu")?),
            "address" => address = Some(skip(w).parse::<MacAddr>("address")?),
            "netns" => netns = Some(skip(w).arg("netns")?),
            _ if name.is_none() => name = w.next(),
            _ => break,
        }
    }
    let name = name.ok_or_else(|| fail("veth: \"peer\" needs a name"))?;
    let mut v = Veth::peer(&name);
    if let Some(m) = mtu {
        v = v.peer_mtu(m);
    }
    if let Some(a) = address {
        v = v.peer_address(a);
    }
    if let Some(ns) = netns {
        v = v.peer_netns(netns_arg(&ns));
    }
    Ok(Some(v))
}

fn flag01(w: &mut Words, key: &str) -> Res<bool> {
    match w.parse::<u8>(key)? {
        0 => Ok(false),
        1 => Ok(true),
        n => Err(fail(format!(
            "argument \"{n}\" is wrong: \"{key}\" must be 0 or 1"
        ))),
    }
}

fn bridge(w: &mut Words) -> Res<Bridge> {
    let mut b = Bridge::new();
    while let Some(word) = w.peek().map(str::to_owned) {
        b = match word.as_str() {
            "stp_state" => b.stp(flag01(skip(w), "stp_state")?),
            "forward_delay" => b.forward_delay(skip(w).parse("forward_delay")?),
            "ageing_time" => b.ageing_time(skip(w).parse("ageing_time")?),
            "vlan_filtering" => b.vlan_filtering(flag01(skip(w), "vlan_filtering")?),
            "vlan_default_pvid" => b.default_pvid(skip(w).parse("vlan_default_pvid")?),
            "mcast_snooping" => b.multicast_snooping(flag01(skip(w), "mcast_snooping")?),
            "priority" => b.priority(skip(w).parse("priority")?),
            _ => break,
        };
    }
    Ok(b)
}

/// Consumes the keyword just peeked at.
pub fn skip(w: &mut Words) -> &mut Words {
    w.next();
    w
}

async fn macvlan(
    nl: &Netlink,
    w: &mut Words,
    lower: Option<u32>,
) -> Res<(u32, Option<MacvlanMode>)> {
    let mut lower = lower;
    let mut mode = None;
    while let Some(word) = w.peek().map(str::to_owned) {
        match word.as_str() {
            "link" => lower = Some(find(nl, &skip(w).arg("link")?).await?.index()),
            "mode" => {
                let m = skip(w).arg("mode")?;
                mode = Some(m.parse().map_err(|e| fail(format!("{e}")))?);
            }
            _ => break,
        }
    }
    let lower =
        lower.ok_or_else(|| fail("Not enough information: \"link\" argument is required."))?;
    Ok((lower, mode))
}
