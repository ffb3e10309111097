//! `tc [-s] class show dev DEV [parent P]`, streamed.

use std::io::{self, Write};

use futures::StreamExt;
use tokio_netlink::Netlink;
use tokio_netlink::route::tc::{Class, ClassKind, Handle, Parent, format_size};

use crate::{nl_err, out, raw, stats_text};

/// Offsets in `struct tc_htb_opt`: two 12-byte rate specs, then buffer,
/// cbuffer, quantum, level, prio.
const HTB_BUFFER: usize = 24;
const HTB_CBUFFER: usize = 28;
const HTB_LEVEL: usize = 36;

pub async fn show(nl: &Netlink, dev: &str, parent: Option<&str>, stats: bool) -> io::Result<()> {
    let mut list = nl.tc().class().list(dev);
    if let Some(p) = parent {
        // `tc` 6.1 shows every class of the parent's qdisc, not only the
        // children of a class parent: ask for the qdisc.
        let p: Parent = p.parse().map_err(nl_err)?;
        list = list.parent(match p {
            Parent::Handle(h) => Parent::Handle(Handle::new(h.major(), 0)),
            p => p,
        });
    }
    let mut w = out::stdout();
    let mut classes = std::pin::pin!(list.stream());
    while let Some(c) = classes.next().await {
        text(&mut w, &c.map_err(nl_err)?, stats)?;
    }
    w.flush()
}

/// `class KIND ID root|parent P [leaf H:] OPTIONS` (`tc class show`
/// always names a device, so never prints it).
fn text(w: &mut impl Write, c: &Class, stats: bool) -> io::Result<()> {
    write!(w, "class {} {} ", c.kind(), c.classid())?;
    match c.parent() {
        Parent::Root => w.write_all(b"root ")?,
        p => write!(w, "parent {p} ")?,
    }
    if let Some(l) = c.leaf() {
        write!(w, "leaf {:x}: ", l.major())?;
    }
    if let ClassKind::Htb(h) = c.options() {
        // Only a leaf's prio matters, and only it is printed.
        if raw::parms(c.raw(), HTB_LEVEL) == Some(0) {
            write!(w, "prio {} ", h.prio)?;
        }
        let ceil = h.ceil.unwrap_or(h.rate);
        write!(w, "rate {} ceil {} ", h.rate, ceil)?;
        let ticks = |at| raw::parms(c.raw(), at).unwrap_or(0);
        let burst = raw::xmitsize(h.rate.bytes_per_sec(), ticks(HTB_BUFFER));
        let cburst = raw::xmitsize(ceil.bytes_per_sec(), ticks(HTB_CBUFFER));
        let size = |b: u64| format_size(u32::try_from(b).unwrap_or(u32::MAX));
        write!(w, "burst {} cburst {} ", size(burst), size(cburst))?;
    }
    w.write_all(b"\n")?;
    if stats {
        stats_text(w, &c.stats())?;
        if let Some(x) = c.htb_xstats() {
            write!(
                w,
                " lended: {} borrowed: {} giants: {}\n tokens: {} ctokens: {}\n\n",
                x.lends, x.borrows, x.giants, x.tokens, x.ctokens
            )?;
        }
    }
    Ok(())
}
