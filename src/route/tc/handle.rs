//! Qdisc handles, class ids and parents, written as `tc` writes them
//! (`1:`, `1:10`, `root`, `ingress`, `clsact`; numbers in hex).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// `TC_H_ROOT`.
pub(crate) const H_ROOT: u32 = 0xFFFF_FFFF;
/// `TC_H_INGRESS` (also `TC_H_CLSACT`).
pub(crate) const H_INGRESS: u32 = 0xFFFF_FFF1;
/// `TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)`: a filter at ingress.
pub(crate) const H_FILTER_INGRESS: u32 = 0xFFFF_FFF2;
/// `TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)`: a filter at egress.
pub(crate) const H_FILTER_EGRESS: u32 = 0xFFFF_FFF3;

/// A qdisc handle or class id: a 16-bit major and a 16-bit minor number
/// (`tc`'s `MAJ:MIN`, both hex). A qdisc's handle has minor 0 (`1:`).
///
/// ```
/// use tokio_netlink::route::tc::Handle;
/// let h: Handle = "1:10".parse().unwrap();
/// assert_eq!((h.major(), h.minor()), (1, 0x10));
/// assert_eq!(h, Handle::new(1, 0x10));
/// assert_eq!(Handle::new(1, 0).to_string(), "1:");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Handle(u32);

impl Handle {
    /// `MAJ:MIN`.
    pub const fn new(major: u16, minor: u16) -> Handle {
        Handle(((major as u32) << 16) | minor as u32)
    }

    /// The handle as the kernel holds it (`TC_H_MAKE(MAJ, MIN)`).
    pub const fn from_raw(raw: u32) -> Handle {
        Handle(raw)
    }

    /// The 32-bit value the kernel holds.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The major number (the qdisc's).
    pub const fn major(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The minor number (the class's; 0 for a qdisc).
    pub const fn minor(self) -> u16 {
        self.0 as u16
    }

    /// Unspecified (0): the kernel picks a handle.
    pub const fn is_unspec(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Handle {
    /// As `tc` prints it: `1:`, `1:10`, `:10`, `root`; 0 (a default
    /// qdisc's handle) as `0:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            H_ROOT => f.write_str("root"),
            0 => f.write_str("0:"),
            h if h >> 16 == 0 => write!(f, ":{:x}", h & 0xFFFF),
            h if h & 0xFFFF == 0 => write!(f, "{:x}:", h >> 16),
            h => write!(f, "{:x}:{:x}", h >> 16, h & 0xFFFF),
        }
    }
}

fn hex16(field: &'static str, s: &str, whole: &str) -> Result<u16> {
    if s.is_empty() {
        return Ok(0);
    }
    u16::from_str_radix(s, 16).map_err(|_| {
        Error::invalid(
            field,
            format!("{whole:?} is not MAJ:MIN with hex numbers of at most 4 digits"),
        )
    })
}

/// Parses `MAJ:MIN`, `MAJ:` or `:MIN` (hex) for `field`; a bare `MAJ` is
/// a qdisc handle (`tc qdisc add … handle 1`).
pub(crate) fn parse_handle(field: &'static str, s: &str) -> Result<Handle> {
    let t = s.trim();
    if t.is_empty() || t.starts_with(['+', '-']) {
        return Err(Error::invalid(
            field,
            format!("{s:?} is not a handle (MAJ:MIN)"),
        ));
    }
    match t.split_once(':') {
        Some((maj, min)) if !min.starts_with(['+', '-']) => {
            Ok(Handle::new(hex16(field, maj, s)?, hex16(field, min, s)?))
        }
        Some(_) => Err(Error::invalid(
            field,
            format!("{s:?} is not a handle (MAJ:MIN)"),
        )),
        None => Ok(Handle::new(hex16(field, t, s)?, 0)),
    }
}

impl FromStr for Handle {
    type Err = Error;

    fn from_str(s: &str) -> Result<Handle> {
        parse_handle("handle", s)
    }
}

/// Where a qdisc, class or filter hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    /// The device's root (`root`).
    Root,
    /// The ingress hook (`ingress`): the place of an `ingress` or `clsact`
    /// qdisc, and for a filter the ingress side of either.
    Ingress,
    /// The egress hook of a `clsact` qdisc (for filters; a qdisc or class
    /// given it goes to the ingress place).
    Egress,
    /// A qdisc or class (`parent 1:` or `parent 1:10`).
    Handle(Handle),
}

impl Parent {
    /// The `tcm_parent` of a qdisc or class.
    pub(crate) fn raw_qdisc(self) -> u32 {
        match self {
            Parent::Root => H_ROOT,
            Parent::Ingress | Parent::Egress => H_INGRESS,
            Parent::Handle(h) => h.raw(),
        }
    }

    /// The `tcm_parent` of a filter: the clsact/ingress hooks are
    /// `ffff:fff2` (ingress) and `ffff:fff3` (egress).
    pub(crate) fn raw_filter(self) -> u32 {
        match self {
            Parent::Root => H_ROOT,
            Parent::Ingress => H_FILTER_INGRESS,
            Parent::Egress => H_FILTER_EGRESS,
            Parent::Handle(h) => h.raw(),
        }
    }

    /// A filter's parent as the kernel reports it.
    pub(crate) fn of_filter(raw: u32) -> Parent {
        match raw {
            H_ROOT => Parent::Root,
            H_FILTER_INGRESS => Parent::Ingress,
            H_FILTER_EGRESS => Parent::Egress,
            h => Parent::Handle(Handle(h)),
        }
    }

    /// A qdisc's or class's parent as the kernel reports it.
    pub(crate) fn of_qdisc(raw: u32) -> Parent {
        match raw {
            H_ROOT => Parent::Root,
            H_INGRESS => Parent::Ingress,
            h => Parent::Handle(Handle(h)),
        }
    }
}

impl fmt::Display for Parent {
    /// `root`, `ingress`, `egress` or the handle, as `tc` writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parent::Root => f.write_str("root"),
            Parent::Ingress => f.write_str("ingress"),
            Parent::Egress => f.write_str("egress"),
            Parent::Handle(h) => h.fmt(f),
        }
    }
}

impl From<Handle> for Parent {
    fn from(h: Handle) -> Parent {
        Parent::Handle(h)
    }
}

/// Parses `root`, `ingress`, `clsact`, `egress` or a handle for `field`.
pub(crate) fn parse_parent(field: &'static str, s: &str) -> Result<Parent> {
    Ok(match s.trim() {
        "root" => Parent::Root,
        "ingress" | "clsact" => Parent::Ingress,
        "egress" => Parent::Egress,
        other => Parent::Handle(parse_handle(field, other)?),
    })
}

impl FromStr for Parent {
    type Err = Error;

    fn from_str(s: &str) -> Result<Parent> {
        parse_parent("parent", s)
    }
}

/// What the TC builders take for a handle: a [`Handle`] or its text.
pub trait IntoHandle {
    /// The handle, or an error naming `field`.
    fn into_handle(self, field: &'static str) -> Result<Handle>;
}

impl IntoHandle for Handle {
    fn into_handle(self, _: &'static str) -> Result<Handle> {
        Ok(self)
    }
}

impl IntoHandle for &str {
    fn into_handle(self, field: &'static str) -> Result<Handle> {
        parse_handle(field, self)
    }
}

impl IntoHandle for &String {
    fn into_handle(self, field: &'static str) -> Result<Handle> {
        parse_handle(field, self)
    }
}

/// What the TC builders take for a parent: a [`Parent`], a [`Handle`] or
/// their text.
pub trait IntoParent {
    /// The parent, or an error naming `field`.
    fn into_parent(self, field: &'static str) -> Result<Parent>;
}

impl IntoParent for Parent {
    fn into_parent(self, _: &'static str) -> Result<Parent> {
        Ok(self)
    }
}

impl IntoParent for Handle {
    fn into_parent(self, _: &'static str) -> Result<Parent> {
        Ok(Parent::Handle(self))
    }
}

impl IntoParent for &str {
    fn into_parent(self, field: &'static str) -> Result<Parent> {
        parse_parent(field, self)
    }
}

impl IntoParent for &String {
    fn into_parent(self, field: &'static str) -> Result<Parent> {
        parse_parent(field, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_parse_and_print_like_tc() {
        for (s, raw, shown) in [
            ("1:", 0x1_0000, "1:"),
            ("1", 0x1_0000, "1:"),
            ("1:10", 0x1_0010, "1:10"),
            ("ffff:", 0xFFFF_0000, "ffff:"),
            (":a", 0xA, ":a"),
            ("abcd:ef01", 0xABCD_EF01, "abcd:ef01"),
        ] {
            let h: Handle = s.parse().unwrap();
            assert_eq!(h.raw(), raw, "{s}");
            assert_eq!(h.to_string(), shown, "{s}");
        }
        for bad in ["", "x:", "1:g", "10000:", "1:10000", "-1:", "1:-1", "1:2:3"] {
            let e = bad.parse::<Handle>().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "handle",
                        ..
                    }
                ),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn parents_map_to_the_kernel_values() {
        assert_eq!("root".parse::<Parent>().unwrap().raw_qdisc(), H_ROOT);
        assert_eq!("clsact".parse::<Parent>().unwrap().raw_qdisc(), H_INGRESS);
        assert_eq!(
            Parent::of_qdisc(0x1_0010),
            Parent::Handle(Handle::new(1, 0x10))
        );
        assert_eq!("1:10".parse::<Parent>().unwrap().to_string(), "1:10");
        assert_eq!(Parent::Ingress.raw_filter(), 0xFFFF_FFF2);
        assert_eq!(Parent::Egress.raw_filter(), 0xFFFF_FFF3);
        assert_eq!(Parent::of_filter(0xFFFF_FFF3), Parent::Egress);
        assert_eq!(Parent::of_filter(0xFFFF_FFF2), Parent::Ingress);
    }
}
