//! `ip link show | del | set`.

use std::collections::HashMap;
use std::os::fd::AsRawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use serde_json::Value;
use tokio_netlink::route::link::Link;
use tokio_netlink::{Netlink, NetnsTarget};

use crate::json::{self, Names};
use crate::{Opts, Res, Words, fail, text};

/// A device by name, failing as `ip` does when there is none.
pub async fn find(nl: &Netlink, name: &str) -> Res<Link> {
    nl.link().get(name).await.map_err(|e| {
        if e.is_not_found() {
            fail(format!("Cannot find device \"{name}\""))
        } else {
            e.into()
        }
    })
}

/// `[dev] NAME`: the device a command is about.
pub fn dev_arg(w: &mut Words) -> Res<Option<String>> {
    match w.next() {
        Some(d) if d == "dev" => w.arg("dev").map(Some),
        other => Ok(other),
    }
}

/// Every link (for names), and those selected by `dev`.
pub async fn listing(nl: &Netlink, dev: Option<&str>) -> Res<(Vec<Link>, Names)> {
    let wanted = match dev {
        Some(d) => Some(nl.link().get(d).await.map_err(|e| {
            if e.is_not_found() {
                fail(format!("Device \"{d}\" does not exist."))
            } else {
                e.into()
            }
        })?),
        None => None,
    };
    let links = nl.link().list().await?;
    let names = Names::new(&links);
    let links = match wanted {
        Some(w) => links
            .into_iter()
            .filter(|l| l.index() == w.index())
            .collect(),
        None => links,
    };
    Ok((links, names))
}

/// Names of namespaces under /run/netns by the id this namespace gives them,
/// for `link-netns NAME` (ip's text output); empty unless needed.
pub async fn netns_names(nl: &Netlink, links: &[Link], opts: Opts) -> HashMap<i32, String> {
    let mut out = HashMap::new();
    if opts.json || links.iter().all(|l| l.netnsid().is_none()) {
        return out;
    }
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(f) = std::fs::File::open(e.path()) else {
            continue;
        };
        let mut m = NsidMessage::default();
        m.attributes.push(NsidAttribute::Fd(f.as_raw_fd() as u32));
        if let Ok(RouteNetlinkMessage::NewNsId(r)) =
            nl.rtnl().get(RouteNetlinkMessage::GetNsId(m), 0).await
        {
            for a in r.attributes {
                if let NsidAttribute::Id(id @ 0..) = a {
                    out.entry(id)
                        .or_insert_with(|| e.file_name().to_string_lossy().into_owned());
                }
            }
        }
    }
    out
}

/// Prints `objs` as a JSON array, or each through `text`.
pub fn output(objs: Vec<Value>, opts: Opts, text: impl Fn(&Value) -> String) {
    if opts.json {
        println!("{}", Value::Array(objs));
    } else {
        for o in &objs {
            println!("{}", text(o));
        }
    }
}

/// `ip link show [dev NAME]`.
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let dev = dev_arg(&mut w)?;
    if let Some(extra) = w.next() {
        return Err(fail(format!("Garbage instead of arguments \"{extra}\".")));
    }
    let (links, names) = listing(nl, dev.as_deref()).await?;
    let ns = netns_names(nl, &links, opts).await;
    let objs = links
        .iter()
        .map(|l| Value::Object(json::link(l, &names, true, opts.details)))
        .collect();
    output(objs, opts, |v| {
        text::link(v.as_object().expect("object"), &ns)
    });
    Ok(())
}

/// `ip link del [dev] NAME`.
pub async fn del(nl: &Netlink, mut w: Words) -> Res<()> {
    let name = dev_arg(&mut w)?
        .ok_or_else(|| fail("Not enough information: \"dev\" argument is required."))?;
    let l = find(nl, &name).await?;
    nl.link().del(l.index()).await?;
    Ok(())
}

/// `ip link set [dev] NAME SETTING...`, all in one request.
pub async fn set(nl: &Netlink, mut w: Words) -> Res<()> {
    let name = dev_arg(&mut w)?
        .ok_or_else(|| fail("Not enough information: \"dev\" argument is required."))?;
    let l = find(nl, &name).await?;
    let mut s = nl.link().set(l.index());
    while let Some(word) = w.next() {
        s = match word.as_str() {
            "up" => s.up(),
            "down" => s.down(),
            "mtu" => s.mtu(w.parse("mtu")?),
            "name" => s.name(&w.arg("name")?),
            "address" => s.address_str(&w.arg("address")?),
            "master" => {
                let m = w.arg("master")?;
                s.master(find(nl, &m).await?.index())
            }
            "nomaster" => s.nomaster(),
            "netns" => s.netns(netns_arg(&w.arg("netns")?)),
            "alias" => s.alias(&w.arg("alias")?),
            "txqlen" | "qlen" | "txqueuelen" => s.txqlen(w.parse("txqlen")?),
            "group" => s.group(group_arg(&w.arg("group")?)?),
            "promisc" => s.promisc(w.on_off("promisc")?),
            "allmulticast" => s.allmulti(w.on_off("allmulticast")?),
            "arp" => s.arp(w.on_off("arp")?),
            other => {
                return Err(fail(format!(
                    "Garbage instead of arguments \"{other} ...\". Try \"ip link help\"."
                )));
            }
        };
    }
    s.await?;
    Ok(())
}

/// `netns NAME|PID`: a number is a process, as `ip` reads it.
pub fn netns_arg(ns: &str) -> NetnsTarget {
    match ns.parse::<u32>() {
        Ok(pid) => NetnsTarget::Pid(pid),
        Err(_) => NetnsTarget::from(ns),
    }
}

/// `group default|N`.
pub fn group_arg(g: &str) -> Res<u32> {
    match g {
        "default" => Ok(0),
        n => n
            .parse()
            .map_err(|_| fail(format!("Invalid \"group\" value \"{g}\""))),
    }
}
