//! A small `ip` built on tokio-netlink.
//!
//! ```text
//! cargo run --release --example ip -- [-n NETNS] [-j] link show [dev NAME]
//! ```
//!
//! Without `-j` it prints lines close to `ip link show`; with `-j` a JSON
//! array with `ip -j`'s field names. Errors print `Error: …` and exit 1.

use futures::TryStreamExt;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use tokio_netlink::{Error, Netlink};

struct Args {
    netns: Option<String>,
    json: bool,
    words: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        netns: None,
        json: false,
        words: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "-netns" => args.netns = Some(it.next().ok_or("-n needs a namespace name")?),
            "-j" | "-json" => args.json = true,
            _ => args.words.push(a),
        }
    }
    Ok(args)
}

fn flag_names(flags: LinkFlags) -> Vec<&'static str> {
    [
        (LinkFlags::Broadcast, "BROADCAST"),
        (LinkFlags::Pointopoint, "POINTOPOINT"),
        (LinkFlags::Loopback, "LOOPBACK"),
        (LinkFlags::Multicast, "MULTICAST"),
        (LinkFlags::Noarp, "NOARP"),
        (LinkFlags::Promisc, "PROMISC"),
        (LinkFlags::Allmulti, "ALLMULTI"),
        (LinkFlags::Up, "UP"),
        (LinkFlags::LowerUp, "LOWER_UP"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect()
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// One link as `ip -j link show` spells it.
fn link_json(l: &LinkMessage) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("ifindex".into(), l.header.index.into());
    for a in &l.attributes {
        match a {
            LinkAttribute::IfName(n) => {
                o.insert("ifname".into(), n.clone().into());
            }
            LinkAttribute::Mtu(m) => {
                o.insert("mtu".into(), (*m).into());
            }
            LinkAttribute::OperState(s) => {
                o.insert("operstate".into(), s.to_string().into());
            }
            LinkAttribute::Address(b) => {
                o.insert("address".into(), mac(b).into());
            }
            LinkAttribute::TxQueueLen(q) => {
                o.insert("txqlen".into(), (*q).into());
            }
            _ => {}
        }
    }
    o.insert("flags".into(), flag_names(l.header.flags).into());
    serde_json::Value::Object(o)
}

fn print_link(v: &serde_json::Value) {
    let flags: Vec<&str> = v["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    println!(
        "{}: {}: <{}> mtu {} state {}",
        v["ifindex"],
        v["ifname"].as_str().unwrap_or("?"),
        flags.join(","),
        v["mtu"],
        v["operstate"].as_str().unwrap_or("UNKNOWN")
    );
    if let Some(a) = v["address"].as_str() {
        println!("    link {a}");
    }
}

async fn link_show(nl: &Netlink, dev: Option<&str>) -> Result<Vec<serde_json::Value>, Error> {
    let rtnl = nl.rtnl();
    let links = match dev {
        // One request, not a dump: the kernel looks the name up.
        Some(name) => {
            let mut m = LinkMessage::default();
            m.attributes.push(LinkAttribute::IfName(name.into()));
            vec![rtnl.get(RouteNetlinkMessage::GetLink(m), 0).await?]
        }
        None => {
            rtnl.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()), 0)
                .try_collect()
                .await?
        }
    };
    Ok(links
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(link_json(l)),
            _ => None,
        })
        .collect())
}

async fn run(args: Args) -> Result<(), String> {
    let nl = match &args.netns {
        Some(ns) => Netlink::in_netns(ns.as_str()).map_err(|e| e.to_string())?,
        None => Netlink::new(),
    };
    let w: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let out = match w.as_slice() {
        ["link"] | ["link", "show"] | ["link", "list"] => link_show(&nl, None).await,
        ["link", "show", "dev", name] | ["link", "show", name] => link_show(&nl, Some(name)).await,
        _ => {
            return Err(format!(
                "unsupported command {w:?}; try: link show [dev NAME]"
            ));
        }
    }
    .map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", serde_json::Value::Array(out));
    } else {
        out.iter().for_each(print_link);
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let r = match parse_args() {
        Ok(a) => run(a).await,
        Err(e) => Err(e),
    };
    if let Err(e) = r {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}
