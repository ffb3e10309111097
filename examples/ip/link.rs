//! `ip link show | del | set`.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use serde_json::Value;
use tokio_netlink::route::link::Link;
use tokio_netlink::{Netlink, NetnsTarget};

use crate::json::{self, Names};
use crate::out::{self, Json, Out};
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

/// Every link as a lazy view, without the statistics (RTEXT_FILTER_SKIP_STATS
/// beside iproute2's RTEXT_FILTER_VF): nothing here prints them, and they
/// are half of the kernel's work for a veth (IFLA_STATS64 and the IPv6
/// SNMP counters).
pub fn dump(nl: &Netlink) -> impl Stream<Item = tokio_netlink::Result<Link>> + Send + 'static {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::ExtMask(vec![
        LinkExtentMask::Vf,
        LinkExtentMask::SkipStats,
    ]));
    nl.rtnl()
        .dump_raw(RouteNetlinkMessage::GetLink(m), 0)
        .map(|r| r.and_then(Link::from_raw))
}

/// The links of a dump, in order, as soon as the names their lines print
/// are known: a link whose lower device or master comes later in the dump
/// (a veth before its peer) waits for it, so only a few are ever held.
/// The names table is filled as the dump goes by.
pub struct Links {
    st: Pin<Box<dyn Stream<Item = tokio_netlink::Result<Link>> + Send>>,
    pub names: Names,
    held: VecDeque<Link>,
    done: bool,
    /// Only this index (`dev NAME`).
    only: Option<u32>,
}

impl Links {
    /// Every link, or the one `dev` names.
    pub async fn open(nl: &Netlink, dev: Option<&str>) -> Res<Links> {
        let only = match dev {
            Some(d) => Some(
                nl.link()
                    .get(d)
                    .await
                    .map_err(|e| {
                        if e.is_not_found() {
                            fail(format!("Device \"{d}\" does not exist."))
                        } else {
                            e.into()
                        }
                    })?
                    .index(),
            ),
            None => None,
        };
        Ok(Links {
            st: Box::pin(dump(nl)),
            names: Names::default(),
            held: VecDeque::new(),
            done: false,
            only,
        })
    }

    /// The next link to print (its names are in `self.names`).
    pub async fn next(&mut self) -> Res<Option<Link>> {
        loop {
            if let Some(h) = self.held.front()
                && (self.done || json::names_known(h, &self.names))
            {
                return Ok(self.held.pop_front());
            }
            if self.done {
                return Ok(None);
            }
            match self.st.try_next().await? {
                Some(l) => {
                    self.names.insert(&l);
                    if self.only.is_none_or(|i| i == l.index()) {
                        self.held.push_back(l);
                    }
                }
                None => self.done = true,
            }
        }
    }
}

/// Names of namespaces under /run/netns by the id this namespace gives them,
/// for `link-netns NAME` (ip's text output); empty unless needed.
pub async fn netns_names(nl: &Netlink) -> HashMap<i32, String> {
    let mut out = HashMap::new();
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

/// Prints one object per item of a listing as it arrives: a JSON array
/// written incrementally, or the text lines.
pub struct Listing {
    pub j: Json<Out>,
    json: bool,
}

impl Listing {
    pub fn new(opts: Opts) -> Res<Listing> {
        let mut j = Json::new(out::stdout());
        if opts.json {
            j.begin_arr()?;
        }
        Ok(Listing { j, json: opts.json })
    }

    /// One object made by serde_json (the rarely used paths), or its text.
    pub fn value(&mut self, v: &Value, text: impl FnOnce(&Value) -> String) -> Res<()> {
        if self.json {
            self.j.value(v)?;
        } else {
            self.j.w.write_all(text(v).as_bytes())?;
            self.j.w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Closes the array; flushes.
    pub fn finish(mut self) -> Res<()> {
        if self.json {
            self.j.end_arr()?;
            self.j.w.write_all(b"\n")?;
        }
        self.j.w.flush()?;
        Ok(())
    }
}

/// `ip link show [dev NAME]`.
pub async fn show(nl: &Netlink, mut w: Words, opts: Opts) -> Res<()> {
    let dev = dev_arg(&mut w)?;
    if let Some(extra) = w.next() {
        return Err(fail(format!("Garbage instead of arguments \"{extra}\".")));
    }
    let mut links = Links::open(nl, dev.as_deref()).await?;
    let mut o = Listing::new(opts)?;
    let mut ns: Option<HashMap<i32, String>> = None;
    while let Some(l) = links.next().await? {
        if !opts.json && ns.is_none() && l.netnsid().is_some() {
            ns = Some(netns_names(nl).await);
        }
        let names = &links.names;
        let ns = ns.as_ref().unwrap_or(&NO_NAMES);
        if opts.details {
            let v = Value::Object(json::link(&l, names, true, true));
            o.value(&v, |v| text::link(v.as_object().expect("object"), ns))?;
        } else if opts.json {
            o.j.begin_obj()?;
            json::link_fields(&mut o.j, &l, names, true)?;
            o.j.end_obj()?;
        } else {
            json::link_text(&mut o.j.w, &l, names, ns, true)?;
            o.j.w.write_all(b"\n")?;
        }
    }
    o.finish()
}

/// No namespace names (JSON output, or no link in another namespace).
pub static NO_NAMES: std::sync::LazyLock<HashMap<i32, String>> =
    std::sync::LazyLock::new(HashMap::new);

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
