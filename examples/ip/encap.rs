//! `type vxlan` and `type vlan` arguments of `ip link add`.

use std::net::IpAddr;

use tokio_netlink::Netlink;
use tokio_netlink::route::link::kinds::{Vlan, VlanProtocol, Vxlan};

use crate::kinds::skip;
use crate::link::find;
use crate::{Res, Words, fail};

/// `id N [dstport P] [dev D] [local A] [remote A | group A] [ttl N] …`.
pub async fn vxlan(nl: &Netlink, w: &mut Words) -> Res<Vxlan> {
    let mut x: Option<Vxlan> = None;
    let mut pending = Vec::new();
    while let Some(word) = w.peek().map(str::to_owned) {
        match word.as_str() {
            "id" | "vni" => x = Some(Vxlan::new(skip(w).parse("id")?)),
            "dstport" | "remote" | "group" | "local" | "dev" | "ttl" | "tos" | "srcport" => {
                let a = skip(w).arg(&word)?;
                let b = if word == "srcport" {
                    Some(w.arg("srcport")?)
                } else {
                    None
                };
                pending.push((word, a, b));
            }
            "learning" | "nolearning" | "gbp" => {
                w.next();
                pending.push((word, String::new(), None));
            }
            _ => break,
        }
    }
    let mut x = x.ok_or_else(|| fail("vxlan: missing virtual network identifier (\"id\")"))?;
    let ip = |s: &str| {
        s.parse::<IpAddr>()
            .map_err(|_| fail(format!("Invalid address \"{s}\"")))
    };
    let num = |k: &str, s: &str| {
        s.parse::<u16>()
            .map_err(|_| fail(format!("Invalid \"{k}\" value \"{s}\"")))
    };
    for (k, a, b) in pending {
        x = match k.as_str() {
            "dstport" => x.dstport(num("dstport", &a)?),
            "remote" => x.remote(ip(&a)?),
            "group" => x.group(ip(&a)?),
            "local" => x.local(ip(&a)?),
            "dev" => x.dev(find(nl, &a).await?.index()),
            "ttl" if a == "auto" => x.ttl(0),
            "ttl" => x.ttl(
                num("ttl", &a)?
                    .try_into()
                    .map_err(|_| fail("\"ttl\" must be 0-255"))?,
            ),
            "tos" => x.tos(
                num("tos", &a)?
                    .try_into()
                    .map_err(|_| fail("\"tos\" must be 0-255"))?,
            ),
            "srcport" => x.port_range(
                num("srcport", &a)?,
                num("srcport", b.as_deref().unwrap_or(""))?,
            ),
            "learning" => x.learning(true),
            "nolearning" => x.learning(false),
            _ => x.gbp(),
        };
    }
    Ok(x)
}

/// `[link DEV] id N [protocol P] [reorder_hdr|gvrp|mvrp|loose_binding on|off]`.
pub async fn vlan(nl: &Netlink, w: &mut Words, lower: Option<u32>) -> Res<Vlan> {
    let mut lower = lower;
    let mut id = None;
    let mut protocol = None;
    let mut flags = Vec::new();
    while let Some(word) = w.peek().map(str::to_owned) {
        match word.as_str() {
            "link" => lower = Some(find(nl, &skip(w).arg("link")?).await?.index()),
            "id" => id = Some(skip(w).parse::<u16>("id")?),
            "protocol" => {
                protocol = Some(match skip(w).arg("protocol")?.to_lowercase().as_str() {
                    "802.1q" => VlanProtocol::Ieee8021Q,
                    "802.1ad" => VlanProtocol::Ieee8021Ad,
                    p => return Err(fail(format!("Invalid \"protocol\" value \"{p}\""))),
                })
            }
            "reorder_hdr" | "gvrp" | "mvrp" | "loose_binding" => {
                let on = skip(w).on_off(&word)?;
                flags.push((word, on));
            }
            _ => break,
        }
    }
    let lower =
        lower.ok_or_else(|| fail("Not enough information: \"link\" argument is required."))?;
    let id = id.ok_or_else(|| fail("vlan: \"id\" is required"))?;
    let mut v = Vlan::new(lower, id);
    if let Some(p) = protocol {
        v = v.protocol(p);
    }
    for (f, on) in flags {
        v = match f.as_str() {
            "reorder_hdr" => v.reorder_hdr(on),
            "gvrp" => v.gvrp(on),
            "mvrp" => v.mvrp(on),
            _ => v.loose_binding(on),
        };
    }
    Ok(v)
}
