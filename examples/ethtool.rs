//! `ethtool` on tokio-netlink (the ethtool netlink family).
//!
//! ```text
//! cargo run --release --example ethtool -- [-n NETNS] DEV
//! cargo run --release --example ethtool -- [-n NETNS] -k DEV
//! cargo run --release --example ethtool -- [-n NETNS] -K DEV FEATURE on|off …
//! cargo run --release --example ethtool -- [-n NETNS] -l DEV
//! cargo run --release --example ethtool -- [-n NETNS] -L DEV rx|tx|other|combined N …
//! cargo run --release --example ethtool -- [-n NETNS] -g DEV
//! cargo run --release --example ethtool -- [-n NETNS] -G DEV rx|rx-mini|rx-jumbo|tx N …
//! ```
//!
//! `-k` and `-l` print `ethtool`'s text byte for byte; `DEV` prints the
//! lines of `ethtool DEV` for speed, duplex, auto-negotiation, port, PHYAD,
//! transceiver, MDI-X and link detection (not the link mode lists); `-g`
//! the four rings before ethtool's newer extras. Errors go to stderr with
//! exit status 1.

#[path = "shared/out.rs"]
mod out;

use std::io::Write;
use std::process::ExitCode;

use tokio_netlink::Netlink;
use tokio_netlink::genl::ethtool::{EthtoolHandle, Feature, Features, LEGACY_FLAGS, LegacyFlag};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn usage() -> ! {
    eprintln!("usage: ethtool [-n NETNS] DEV | -k DEV | -K DEV FEATURE on|off … | -l DEV");
    eprintln!(
        "       | -L DEV rx|tx|other|combined N … | -g DEV | -G DEV rx|rx-mini|rx-jumbo|tx N …"
    );
    std::process::exit(2)
}

/// One feature as ethtool's `dump_feature` prints it.
fn feature(w: &mut impl Write, f: &Feature, name: &str, prefix: &str) -> std::io::Result<()> {
    let suffix = if f.fixed() {
        " [fixed]"
    } else if f.active != f.wanted {
        if f.wanted {
            " [requested on]"
        } else {
            " [requested off]"
        }
    } else {
        ""
    };
    let on = if f.active { "on" } else { "off" };
    writeln!(w, "{prefix}{name}: {on}{suffix}")
}

/// `ethtool -k`: legacy flags with the features under them, then the rest.
fn features(w: &mut impl Write, fs: &Features) -> std::io::Result<()> {
    writeln!(w, "Features for {}:", fs.ifname)?;
    let under = |f: &Feature, fl: &LegacyFlag| LegacyFlag::of_feature(&f.name) == Some(fl);
    for fl in LEGACY_FLAGS {
        let group: Vec<&Feature> = fs.features.iter().filter(|f| under(f, fl)).collect();
        if group.len() != 1 {
            let on = group.iter().any(|f| f.active);
            writeln!(w, "{}: {}", fl.long, if on { "on" } else { "off" })?;
        }
        for f in &group {
            match group.len() {
                1 => feature(w, f, fl.long, "")?,
                _ => feature(w, f, &f.name, "\t")?,
            }
        }
    }
    for f in fs
        .features
        .iter()
        .filter(|f| LegacyFlag::of_feature(&f.name).is_none())
    {
        feature(w, f, &f.name, "")?;
    }
    Ok(())
}

/// A `Pre-set maximums` / `Current hardware settings` row.
fn row(w: &mut impl Write, label: &str, v: Option<u32>) -> std::io::Result<()> {
    match v {
        Some(n) => writeln!(w, "{label}{n}"),
        None => writeln!(w, "{label}n/a"),
    }
}

fn table(w: &mut impl Write, title: &str, rows: &[(&str, Option<u32>, Option<u32>)]) -> Res<()> {
    writeln!(w, "{title}\nPre-set maximums:")?;
    for (label, max, _) in rows {
        row(w, label, *max)?;
    }
    writeln!(w, "Current hardware settings:")?;
    for (label, _, cur) in rows {
        row(w, label, *cur)?;
    }
    Ok(())
}

async fn settings(w: &mut impl Write, eth: &EthtoolHandle, dev: &str) -> Res<()> {
    let lm = eth.linkmodes(dev).await?;
    let li = eth.linkinfo(dev).await?;
    let ls = eth.linkstate(dev).await?;
    writeln!(w, "Settings for {dev}:")?;
    match lm.speed {
        Some(s) => writeln!(w, "\tSpeed: {s}Mb/s")?,
        None => writeln!(w, "\tSpeed: Unknown!")?,
    }
    if let Some(d) = lm.duplex {
        writeln!(w, "\tDuplex: {}", d.name())?;
    }
    if let Some(a) = lm.autoneg {
        writeln!(w, "\tAuto-negotiation: {}", if a { "on" } else { "off" })?;
    }
    if let Some(p) = li.port_name() {
        writeln!(w, "\tPort: {p}")?;
    }
    if let Some(p) = li.phyaddr {
        writeln!(w, "\tPHYAD: {p}")?;
    }
    if let Some(t) = li.transceiver_name() {
        writeln!(w, "\tTransceiver: {t}")?;
    }
    // ethtool shows MDI-X for twisted pair only.
    if let (Some(0), Some(m)) = (li.port, li.mdix_name()) {
        writeln!(w, "\tMDI-X: {m}")?;
    }
    if let Some(l) = ls.link {
        writeln!(w, "\tLink detected: {}", if l { "yes" } else { "no" })?;
    }
    Ok(())
}

/// `WORD N` pairs after the device.
fn counts<'a>(words: &[&'a str]) -> Res<Vec<(&'a str, u32)>> {
    if words.is_empty() || !words.len().is_multiple_of(2) {
        usage();
    }
    let pair = |p: &[&'a str]| {
        let n = p[1]
            .parse()
            .map_err(|_| format!("invalid count {:?} for {}", p[1], p[0]))?;
        Ok::<_, String>((p[0], n))
    };
    Ok(words.chunks(2).map(pair).collect::<Result<_, _>>()?)
}

async fn set_features(eth: &EthtoolHandle, dev: &str, words: &[&str]) -> Res<()> {
    if words.is_empty() || !words.len().is_multiple_of(2) {
        usage();
    }
    let mut set = eth.features_set(dev);
    for p in words.chunks(2) {
        set = match p[1] {
            "on" => set.on(p[0]),
            "off" => set.off(p[0]),
            v => {
                return Err(
                    format!("flag '{}' is not followed by 'on' or 'off' ({v:?})", p[0]).into(),
                );
            }
        };
    }
    let ch = set.await?;
    if ch.nothing_changed() {
        return Err("Could not change any device features".into());
    }
    let unrequested = |n: &String| !ch.requested.iter().any(|(r, _)| r == n);
    let extra: Vec<_> = ch.changed.iter().filter(|(n, _)| unrequested(n)).collect();
    if ch.unmet.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let mut w = out::stdout();
    let word = |b: bool| if b { "on" } else { "off" };
    writeln!(w, "Actual changes:")?;
    for (n, kept) in &ch.unmet {
        writeln!(w, "{n}: {} [requested {}]", word(*kept), word(!kept))?;
    }
    for (n, v) in extra {
        writeln!(w, "{n}: {} [not requested]", word(*v))?;
    }
    w.flush()?;
    Ok(())
}

async fn run(args: &[String]) -> Res<()> {
    let (nl, rest) = match args {
        [n, ns, rest @ ..] if n == "-n" => (Netlink::in_netns(ns.as_str())?, rest),
        rest => (Netlink::new(), rest),
    };
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    let eth = nl.ethtool();
    let mut w = out::stdout();
    match words.as_slice() {
        ["-k", dev] => features(&mut w, &eth.features(*dev).await?)?,
        ["-K", dev, rest @ ..] => set_features(&eth, dev, rest).await?,
        ["-l", dev] => {
            let c = eth.channels(*dev).await?;
            let title = format!("Channel parameters for {dev}:");
            let rows = [
                ("RX:\t\t", c.rx_max, c.rx),
                ("TX:\t\t", c.tx_max, c.tx),
                ("Other:\t\t", c.other_max, c.other),
                ("Combined:\t", c.combined_max, c.combined),
            ];
            table(&mut w, &title, &rows)?;
        }
        ["-L", dev, rest @ ..] => {
            let mut set = eth.channels_set(*dev);
            for (k, n) in counts(rest)? {
                set = match k {
                    "rx" => set.rx(n),
                    "tx" => set.tx(n),
                    "other" => set.other(n),
                    "combined" => set.combined(n),
                    _ => usage(),
                };
            }
            set.await?;
        }
        ["-g", dev] => {
            let r = eth.rings(*dev).await?;
            let title = format!("Ring parameters for {dev}:");
            let rows = [
                ("RX:\t\t", r.rx_max, r.rx),
                ("RX Mini:\t", r.rx_mini_max, r.rx_mini),
                ("RX Jumbo:\t", r.rx_jumbo_max, r.rx_jumbo),
                ("TX:\t\t", r.tx_max, r.tx),
            ];
            table(&mut w, &title, &rows)?;
        }
        ["-G", dev, rest @ ..] => {
            let mut set = eth.rings_set(*dev);
            for (k, n) in counts(rest)? {
                set = match k {
                    "rx" => set.rx(n),
                    "rx-mini" => set.rx_mini(n),
                    "rx-jumbo" => set.rx_jumbo(n),
                    "tx" => set.tx(n),
                    _ => usage(),
                };
            }
            set.await?;
        }
        [dev] if !dev.starts_with('-') => settings(&mut w, &eth, dev).await?,
        _ => usage(),
    }
    w.flush()?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => out::failed("ethtool", e.as_ref()),
    }
}
