//! What selects one policy for `get` and `del`.

use super::{POLICY_ID_LEN, Policy, emit_common};
use crate::error::{Error, Result};
use crate::xfrm::attr;
use crate::xfrm::types::{Dir, Mark, SELECTOR_LEN, SecCtx, Selector, Wr, push_attr};

/// What selects one policy for `get` and `del`: its selector and dir, or
/// its index; with the mark, if_id and security context it was added with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct PolicyId {
    /// The selector (ignored when `index` is set).
    pub selector: Selector,
    /// The direction.
    pub dir: Dir,
    /// The index (0: look up by selector).
    pub index: u32,
    /// `mark V mask M`.
    pub mark: Option<Mark>,
    /// `if_id N`.
    pub if_id: Option<u32>,
    /// `ctx CTX` (only an LSM with XFRM hooks tells policies apart by it).
    pub sec_ctx: Option<SecCtx>,
    /// `ptype main|sub` (0 main, 1 sub; `None`: main).
    pub policy_type: Option<u8>,
}

impl Policy {
    /// What selects this policy for [`XfrmHandle::get_policy`] and
    /// [`XfrmHandle::del_policy`](crate::xfrm::XfrmHandle::del_policy): its
    /// selector and direction with its mark, if_id, security context and
    /// type, as `ip xfrm policy delete` names a policy (so a policy read
    /// from a listing or a monitor event can be deleted as it is).
    ///
    /// [`XfrmHandle::get_policy`]: crate::xfrm::XfrmHandle::get_policy
    pub fn id(&self) -> PolicyId {
        PolicyId {
            selector: self.selector,
            dir: self.dir,
            index: 0,
            mark: self.mark,
            if_id: self.if_id,
            sec_ctx: self.sec_ctx.clone(),
            policy_type: self.policy_type,
        }
    }
}

impl PolicyId {
    /// By `selector` and `dir`.
    pub fn by_selector(selector: Selector, dir: Dir) -> PolicyId {
        PolicyId {
            selector,
            dir,
            index: 0,
            mark: None,
            if_id: None,
            sec_ctx: None,
            policy_type: None,
        }
    }

    /// By index: the kernel's are never 0 (0 means "by selector"); the
    /// direction is the index's low 3 bits.
    pub fn by_index(index: u32) -> PolicyId {
        PolicyId {
            selector: Selector::unspec(),
            dir: Dir::from_raw((index % 8) as u8),
            index,
            mark: None,
            if_id: None,
            sec_ctx: None,
            policy_type: None,
        }
    }

    /// `mark V mask M`.
    pub fn mark(mut self, m: Mark) -> Self {
        self.mark = Some(m);
        self
    }

    /// `if_id N`.
    pub fn if_id(mut self, id: u32) -> Self {
        self.if_id = Some(id);
        self
    }

    /// `ptype main|sub` (0 main, 1 sub).
    pub fn policy_type(mut self, t: u8) -> Self {
        self.policy_type = Some(t);
        self
    }

    /// `ctx CTX`.
    pub fn sec_ctx(mut self, c: SecCtx) -> Self {
        self.sec_ctx = Some(c);
        self
    }

    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        if let Some(c) = &self.sec_ctx {
            c.validate()?;
        }
        if self.index == 0 {
            // by_index(0) leaves an empty selector: the kernel would look up
            // by it, so the index is what is wrong (the kernel numbers
            // policies from 1; 0 means "by selector").
            if self.selector == Selector::unspec() {
                return Err(Error::invalid(
                    "index",
                    "0 is no policy's index (and no selector is given)",
                ));
            }
            if self.selector.family.is_none() {
                return Err(Error::invalid("selector", "needs a family"));
            }
            self.selector.validate()?;
        }
        let mut b = vec![0u8; POLICY_ID_LEN];
        self.selector.emit(&mut b[..SELECTOR_LEN]);
        let mut w = Wr(&mut b);
        w.u32(56, self.index);
        w.u8(60, self.dir.raw());
        if let Some(c) = &self.sec_ctx {
            push_attr(&mut b, attr::SEC_CTX, &c.bytes(attr::SEC_CTX))?;
        }
        emit_common(&mut b, self.mark, self.if_id, self.policy_type);
        Ok(b)
    }
}

impl From<&Policy> for PolicyId {
    fn from(p: &Policy) -> PolicyId {
        PolicyId {
            mark: p.mark,
            if_id: p.if_id,
            sec_ctx: p.sec_ctx.clone(),
            policy_type: p.policy_type,
            ..PolicyId::by_selector(p.selector, p.dir)
        }
    }
}
