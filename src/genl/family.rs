//! [`Family`]: what the controller (nlctrl) says of a generic netlink
//! family, decoded from its CTRL_CMD_NEWFAMILY message.

use std::fmt;

use super::attr::Attributes;
use super::ctrl;
use super::{GENL_ID_CTRL, GENLMSG_LEN};
use crate::conn::RawMessage;
use crate::error::{Error, RequestKind, Result};

/// A generic netlink family as `genl ctrl get` shows it. With the `serde`
/// feature it serializes (and deserializes) with its field names: `id`,
/// `name`, `version`, `hdrsize`, `maxattr`, `ops` (`[{"id", "flags"}]`)
/// and `mcast_groups` (`[{"name", "id"}]`).
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// Its id: the netlink message type of its messages.
    pub id: u16,
    /// Its name, e.g. `"nlctrl"`.
    pub name: String,
    /// The family's version (CTRL_ATTR_VERSION).
    pub version: u32,
    /// Size of the family's own header after `genlmsghdr` (CTRL_ATTR_HDRSIZE).
    pub hdrsize: u32,
    /// Its highest attribute type (CTRL_ATTR_MAXATTR).
    pub maxattr: u32,
    /// Its commands, in the kernel's order.
    pub ops: Vec<Op>,
    /// Its multicast groups, in the kernel's order.
    pub mcast_groups: Vec<McastGroup>,
}

/// A command of a family.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// The command number (`genlmsghdr.cmd`).
    pub id: u32,
    /// What it can do and needs.
    pub flags: OpFlags,
}

/// The capabilities of a command (CTRL_ATTR_OP_FLAGS); serialized as the
/// number.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OpFlags(pub u32);

impl OpFlags {
    /// GENL_ADMIN_PERM: needs CAP_NET_ADMIN in the initial user namespace.
    pub const ADMIN_PERM: u32 = 0x01;
    /// GENL_CMD_CAP_DO: answers a request.
    pub const CAP_DO: u32 = 0x02;
    /// GENL_CMD_CAP_DUMP: answers a dump.
    pub const CAP_DUMP: u32 = 0x04;
    /// GENL_CMD_CAP_HASPOL: validates its attributes with a policy.
    pub const CAP_HASPOL: u32 = 0x08;
    /// GENL_UNS_ADMIN_PERM: needs CAP_NET_ADMIN in the socket's user namespace.
    pub const UNS_ADMIN_PERM: u32 = 0x10;

    /// Whether every bit of `bits` is set.
    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    /// The command answers a request (doit).
    pub fn can_do(self) -> bool {
        self.contains(Self::CAP_DO)
    }

    /// The command answers a dump (dumpit).
    pub fn can_dump(self) -> bool {
        self.contains(Self::CAP_DUMP)
    }
}

/// A multicast group of a family, to subscribe to by `id`.
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McastGroup {
    /// Its name, e.g. `"notify"`.
    pub name: String,
    /// Its group number, for [`Requester::subscribe`](crate::Requester::subscribe).
    pub id: u32,
}

impl Family {
    /// The multicast group called `name`, if the family has it.
    ///
    /// ```no_run
    /// # async fn f(nl: tokio_netlink::Netlink) -> tokio_netlink::Result<()> {
    /// let ctrl = nl.genl().family("nlctrl").await?;
    /// let notify = ctrl.mcast_group("notify").map(|g| g.id);
    /// # let _ = notify; Ok(()) }
    /// ```
    pub fn mcast_group(&self, name: &str) -> Option<&McastGroup> {
        self.mcast_groups.iter().find(|g| g.name == name)
    }

    /// The command `id`, if the family has it.
    pub fn op(&self, id: u32) -> Option<Op> {
        self.ops.iter().copied().find(|o| o.id == id)
    }

    /// Decodes a CTRL_CMD_NEWFAMILY message (a reply to CTRL_CMD_GETFAMILY).
    pub fn decode(raw: &RawMessage) -> Result<Family> {
        let p = raw.payload();
        let bad = |reason: String| Error::Decode {
            request: RequestKind {
                message_type: GENL_ID_CTRL,
                name: Some("CTRL_CMD_GETFAMILY"),
            },
            reason,
        };
        if raw.header.ty != GENL_ID_CTRL || p.len() < GENLMSG_LEN {
            return Err(bad(format!(
                "expected a controller message (type {GENL_ID_CTRL:#x}) of at least {GENLMSG_LEN} bytes, \
                 got type {:#x} of {}",
                raw.header.ty,
                p.len()
            )));
        }
        if p[0] != ctrl::CMD_NEWFAMILY {
            return Err(bad(format!(
                "expected CTRL_CMD_NEWFAMILY, got command {}",
                p[0]
            )));
        }
        let attrs = Attributes::new(&p[GENLMSG_LEN..]);
        let get = |ty| attrs.get(ty);
        let u32_of = |ty| get(ty).and_then(|a| a.u32()).unwrap_or(0);
        let id = get(ctrl::ATTR_FAMILY_ID).and_then(|a| a.u16());
        let name = get(ctrl::ATTR_FAMILY_NAME).and_then(|a| a.str());
        let (Some(id), Some(name)) = (id, name) else {
            return Err(bad("a family without a valid id or name".into()));
        };
        let mut f = Family {
            id,
            name: name.to_owned(),
            version: u32_of(ctrl::ATTR_VERSION),
            hdrsize: u32_of(ctrl::ATTR_HDRSIZE),
            maxattr: u32_of(ctrl::ATTR_MAXATTR),
            ops: Vec::new(),
            mcast_groups: Vec::new(),
        };
        if let Some(ops) = get(ctrl::ATTR_OPS) {
            for op in ops.nested() {
                let op = op.nested();
                let Some(id) = op.get(ctrl::ATTR_OP_ID).and_then(|a| a.u32()) else {
                    continue;
                };
                let flags = op.get(ctrl::ATTR_OP_FLAGS).and_then(|a| a.u32());
                let flags = OpFlags(flags.unwrap_or(0));
                f.ops.push(Op { id, flags });
            }
        }
        if let Some(groups) = get(ctrl::ATTR_MCAST_GROUPS) {
            for g in groups.nested() {
                let g = g.nested();
                let name = g.get(ctrl::ATTR_MCAST_GRP_NAME).and_then(|a| a.str());
                let id = g.get(ctrl::ATTR_MCAST_GRP_ID).and_then(|a| a.u32());
                if let (Some(name), Some(id)) = (name, id) {
                    let name = name.to_owned();
                    f.mcast_groups.push(McastGroup { name, id });
                }
            }
        }
        Ok(f)
    }
}

impl fmt::Display for Family {
    /// `NAME id 0xID version V`, one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} id {:#x} version {}",
            self.name, self.id, self.version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::frame::{HEADER_LEN, Header};
    use crate::genl::AttrBuilder;

    /// nlctrl's own NEWFAMILY message, as the kernel sends it.
    fn nlctrl() -> Vec<u8> {
        let attrs = AttrBuilder::new()
            .u16(ctrl::ATTR_FAMILY_ID, 0x10)
            .str(ctrl::ATTR_FAMILY_NAME, "nlctrl")
            .u32(ctrl::ATTR_VERSION, 2)
            .u32(ctrl::ATTR_HDRSIZE, 0)
            .u32(ctrl::ATTR_MAXATTR, 10)
            .nested(ctrl::ATTR_OPS, |b| {
                b.nested(1, |b| b.u32(1, 3).u32(2, 0xe))
                    .nested(2, |b| b.u32(1, 10).u32(2, 0xc))
            })
            .nested(ctrl::ATTR_MCAST_GROUPS, |b| {
                b.nested(1, |b| b.str(1, "notify").u32(2, 0x10))
            })
            .finish()
            .unwrap();
        let mut m = vec![0u8; HEADER_LEN];
        m.extend_from_slice(&[ctrl::CMD_NEWFAMILY, 2, 0, 0]);
        m.extend(attrs);
        let h = Header {
            len: m.len() as u32,
            ty: GENL_ID_CTRL,
            flags: 0,
            seq: 1,
            pid: 0,
        };
        h.write(&mut m);
        m
    }

    fn raw(b: &[u8]) -> Option<RawMessage> {
        let header = Header::parse(b)?;
        Some(RawMessage {
            header,
            bytes: bytes::Bytes::copy_from_slice(b),
        })
    }

    #[test]
    fn decodes_nlctrl() {
        let f = Family::decode(&raw(&nlctrl()).unwrap()).unwrap();
        assert_eq!(
            (f.id, f.name.as_str(), f.version, f.maxattr),
            (0x10, "nlctrl", 2, 10)
        );
        assert_eq!(f.ops.len(), 2);
        assert_eq!(f.op(3).map(|o| o.flags), Some(OpFlags(0xe)));
        assert!(f.ops[1].flags.can_dump() && !f.ops[1].flags.can_do());
        assert_eq!(f.mcast_group("notify").map(|g| g.id), Some(0x10));
        assert!(f.mcast_group("nope").is_none());
        assert_eq!(f.to_string(), "nlctrl id 0x10 version 2");
    }

    #[test]
    fn truncated_or_corrupt_messages_are_errors_not_panics() {
        let m = nlctrl();
        for n in HEADER_LEN..m.len() {
            let mut cut = m[..n].to_vec();
            cut[..4].copy_from_slice(&(n as u32).to_ne_bytes());
            if let Ok(f) = Family::decode(&raw(&cut).unwrap()) {
                assert_eq!(f.id, 0x10, "cut at {n}");
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let mut b = m.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = HEADER_LEN + (seed as usize % (b.len() - HEADER_LEN));
                b[at] = (seed >> 32) as u8;
            }
            let _ = Family::decode(&raw(&b).unwrap());
        }
        let mut other = m.clone();
        other[HEADER_LEN] = 9;
        let e = Family::decode(&raw(&other).unwrap()).unwrap_err();
        assert!(e.to_string().contains("got command 9"), "{e}");
    }
}
