//! ipset's own error codes (`enum ipset_errno`, 4096 and up), read as
//! ipset reads them: the kernel sends only the number, and some numbers
//! mean different things per command or per set type.

use super::{IpsetHandle, cmd};
use crate::error::{Context, Error, Result, ResultExt};

/// `IPSET_ERR_*` codes, as [`Error::errno`](crate::Error::errno) reports
/// them.
pub mod errno {
    /// IPSET_ERR_PROTOCOL: the kernel refused the message.
    pub const PROTOCOL: i32 = 4097;
    /// IPSET_ERR_FIND_TYPE: unknown set type (or its module is missing).
    pub const FIND_TYPE: i32 = 4098;
    /// IPSET_ERR_MAX_SETS.
    pub const MAX_SETS: i32 = 4099;
    /// IPSET_ERR_BUSY: the set is in use.
    pub const BUSY: i32 = 4100;
    /// IPSET_ERR_EXIST_SETNAME2.
    pub const EXIST_SETNAME2: i32 = 4101;
    /// IPSET_ERR_TYPE_MISMATCH.
    pub const TYPE_MISMATCH: i32 = 4102;
    /// IPSET_ERR_EXIST: a member already in the set (add), not in it
    /// (del, test).
    pub const EXIST: i32 = 4103;
    /// IPSET_ERR_INVALID_CIDR.
    pub const INVALID_CIDR: i32 = 4104;
    /// IPSET_ERR_INVALID_NETMASK.
    pub const INVALID_NETMASK: i32 = 4105;
    /// IPSET_ERR_INVALID_FAMILY.
    pub const INVALID_FAMILY: i32 = 4106;
    /// IPSET_ERR_TIMEOUT: a timeout on a set without timeout support.
    pub const TIMEOUT: i32 = 4107;
    /// IPSET_ERR_REFERENCED.
    pub const REFERENCED: i32 = 4108;
    /// IPSET_ERR_IPADDR_IPV4.
    pub const IPADDR_IPV4: i32 = 4109;
    /// IPSET_ERR_IPADDR_IPV6.
    pub const IPADDR_IPV6: i32 = 4110;
    /// IPSET_ERR_COUNTER.
    pub const COUNTER: i32 = 4111;
    /// IPSET_ERR_COMMENT.
    pub const COMMENT: i32 = 4112;
    /// IPSET_ERR_INVALID_MARKMASK.
    pub const INVALID_MARKMASK: i32 = 4113;
    /// IPSET_ERR_SKBINFO.
    pub const SKBINFO: i32 = 4114;
    /// IPSET_ERR_TYPE_SPECIFIC: the first code whose meaning depends on
    /// the set type (hash: full; list:set: no such member set; bitmap:
    /// out of range).
    pub const TYPE_SPECIFIC: i32 = 4352;
}

/// ipset's reason for `code` answered to command `n`, for codes whose
/// meaning does not depend on the set type.
pub(crate) fn reason(n: u8, code: i32) -> Option<&'static str> {
    use errno::*;
    Some(match (code, n) {
        (libc::ENOENT, _) => "the set with the given name does not exist",
        (libc::EEXIST, cmd::CREATE) => "set with the same name already exists",
        (PROTOCOL, _) => "ipset protocol error",
        (FIND_TYPE, _) => "set type not supported",
        (MAX_SETS, _) => "maximal number of sets reached, cannot create more",
        (BUSY, _) => "set is in use by a kernel component",
        (EXIST_SETNAME2, cmd::RENAME) => "a set with the new name already exists",
        (EXIST_SETNAME2, _) => "the second set does not exist",
        (TYPE_MISMATCH, _) => "the types of the sets do not match",
        (EXIST, cmd::ADD) => "element is already in the set",
        (EXIST, _) => "element is not in the set",
        (INVALID_CIDR, _) => "the CIDR of the address is invalid",
        (INVALID_NETMASK, _) => "the netmask is invalid",
        (INVALID_FAMILY, _) => "protocol family not supported by the set type",
        (TIMEOUT, _) => "timeout cannot be used: set was created without timeout support",
        (REFERENCED, _) => "set is in use by another set or rule",
        (IPADDR_IPV4, _) => "an IPv4 address is expected",
        (IPADDR_IPV6, _) => "an IPv6 address is expected",
        (COUNTER, _) => "counters cannot be used: set was created without counter support",
        (COMMENT, _) => "comment cannot be used: set was created without comment support",
        (INVALID_MARKMASK, _) => "the markmask is invalid",
        (SKBINFO, _) => "skbinfo cannot be used: set was created without skbinfo support",
        _ => return None,
    })
}

/// The reason for a type-specific code, by the set type's kind.
pub(crate) fn type_reason(type_name: &str, code: i32) -> Option<&'static str> {
    let i = code.checked_sub(errno::TYPE_SPECIFIC)?;
    let table: &[&str] = match type_name.split(':').next()? {
        "hash" => &[
            "hash is full, cannot add more elements",
            "null-valued element, cannot be stored in a hash set",
            "invalid protocol",
            "protocol missing, but must be specified",
            "range is not supported in the net component of the element",
            "invalid range, covers the whole address space",
        ],
        "list" => &[
            "the set to be added, deleted or tested as element does not exist",
            "list:set sets cannot be added to a list:set",
            "no reference set specified",
            "the set referred to with before or after does not exist",
            "the list is full",
            "the set referred to with before or after is not in the list",
        ],
        "bitmap" => &[
            "element is out of the range of the set",
            "the range exceeds the size limit of the set type",
        ],
        _ => return None,
    };
    table.get(usize::try_from(i).ok()?).copied()
}

/// `r` with ipset's reason set as the kernel error's message, under
/// `ctx`. A type-specific code asks the set's header for its type (only
/// then, and a failure of that leaves the code bare).
pub(crate) async fn explained<T>(h: &IpsetHandle, n: u8, r: Result<T>, ctx: &Context) -> Result<T> {
    let Err(Error::Kernel(mut k)) = r else {
        return r.within(ctx);
    };
    let mut why = reason(n, k.errno);
    if why.is_none() && k.errno >= errno::TYPE_SPECIFIC {
        // The object is `SET …`, and for a create `SET TYPE`: the set
        // does not exist yet.
        let mut words = ctx.object().split(' ');
        let set = words.next().unwrap_or_default();
        why = match n {
            cmd::CREATE => type_reason(words.next().unwrap_or_default(), k.errno),
            _ => match Box::pin(h.header(set)).await {
                Ok(hd) => type_reason(&hd.type_name, k.errno),
                Err(_) => None,
            },
        };
    }
    if k.message.is_none() {
        k.message = why.map(str::to_owned);
    }
    Err(Error::Kernel(k)).within(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_follow_the_command_and_type() {
        assert_eq!(
            reason(cmd::ADD, 4103),
            Some("element is already in the set")
        );
        assert_eq!(reason(cmd::DEL, 4103), Some("element is not in the set"));
        assert_eq!(
            reason(cmd::CREATE, libc::EEXIST),
            Some("set with the same name already exists")
        );
        assert_eq!(reason(cmd::ADD, libc::EEXIST), None);
        assert_eq!(
            type_reason("hash:ip", 4352),
            Some("hash is full, cannot add more elements")
        );
        assert_eq!(
            type_reason("list:set", 4352).map(|s| &s[..8]),
            Some("the set ")
        );
        assert_eq!(
            type_reason("bitmap:port", 4353).map(|s| &s[..9]),
            Some("the range")
        );
        assert_eq!(type_reason("bitmap:port", 4360), None);
        assert_eq!(type_reason("hash:ip", 4107), None);
    }
}
