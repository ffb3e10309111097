//! `genl ctrl` on tokio-netlink: the generic netlink families.
//!
//! ```text
//! cargo run --release --example genl -- [-n NETNS] ctrl list|show|lst
//! cargo run --release --example genl -- [-n NETNS] ctrl get name NAME | id ID
//! ```
//!
//! Prints iproute2's `genl ctrl list` / `genl ctrl get` text byte for byte,
//! each family as the dump streams it. An unknown family is an error on
//! stderr and exit status 1.

#[path = "shared/out.rs"]
mod out;

use std::io::Write;
use std::process::ExitCode;

use futures::TryStreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::genl::{Family, OpFlags};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn usage() -> ! {
    eprintln!("usage: genl [-n NETNS] ctrl list | ctrl get name NAME | ctrl get id ID");
    std::process::exit(2)
}

/// A command's capabilities, as genl's `print_ctrl_cmd_flags` words them
/// (spaces and tabs included).
fn caps(w: &mut impl Write, fl: OpFlags) -> std::io::Result<()> {
    write!(w, "\n\t\tCapabilities (0x{:x}):\n ", fl.0)?;
    if fl.0 == 0 {
        return w.write_all(b"\n");
    }
    w.write_all(b"\t\t ")?;
    for (bit, what) in [
        (OpFlags::ADMIN_PERM, " requires admin permission;"),
        (OpFlags::CAP_DO, " can doit;"),
        (OpFlags::CAP_DUMP, " can dumpit;"),
        (OpFlags::CAP_HASPOL, " has policy"),
    ] {
        if fl.contains(bit) {
            w.write_all(what.as_bytes())?;
        }
    }
    w.write_all(b"\n")
}

/// One family, as genl's `print_ctrl` prints it.
fn family(w: &mut impl Write, f: &Family) -> std::io::Result<()> {
    write!(
        w,
        "\nName: {}\n\tID: 0x{:x}  Version: 0x{:x} ",
        f.name, f.id, f.version
    )?;
    writeln!(
        w,
        " header size: {}  max attribs: {} ",
        f.hdrsize, f.maxattr
    )?;
    if !f.ops.is_empty() {
        w.write_all(b"\tcommands supported: \n")?;
        for (i, op) in f.ops.iter().enumerate() {
            write!(w, "\t\t#{}:  ID-0x{:x} ", i + 1, op.id)?;
            // genl reads the family's version as the controller's, and
            // prints capabilities from version 2 on.
            if f.version >= 2 {
                caps(w, op.flags)?;
            }
            w.write_all(b"\n")?;
        }
        w.write_all(b"\n")?;
    }
    if !f.mcast_groups.is_empty() {
        w.write_all(b"\tmulticast groups:\n")?;
        for (i, g) in f.mcast_groups.iter().enumerate() {
            writeln!(w, "\t\t#{}:  ID-0x{:x}  name: {} ", i + 1, g.id, g.name)?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// An id as genl reads it: `0x` hex, or decimal.
fn parse_id(s: &str) -> Res<u16> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16),
        None => s.parse(),
    };
    v.map_err(|_| format!("invalid id {s:?}: not a 16-bit number").into())
}

async fn run(args: &[String]) -> Res<()> {
    let (nl, rest) = match args {
        [n, ns, rest @ ..] if n == "-n" => (Netlink::in_netns(ns.as_str())?, rest),
        rest => (Netlink::new(), rest),
    };
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    let g = nl.genl();
    let mut w = out::stdout();
    match words.as_slice() {
        ["ctrl", "list" | "show" | "lst"] => {
            let mut all = g.families();
            while let Some(f) = all.try_next().await? {
                family(&mut w, &f)?;
            }
        }
        ["ctrl", "get", "name", name] => family(&mut w, &g.family(name).await?)?,
        ["ctrl", "get", "id", id] => family(&mut w, &g.family_by_id(parse_id(id)?).await?)?,
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
        Err(e) => out::failed("genl", e.as_ref()),
    }
}
