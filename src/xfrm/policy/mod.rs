//! `ip xfrm policy`: security policies (SPD entries).
//!
//! [`Policy`] is both the request on add and the kernel's view on read; the
//! lookup key is in `id`, SPD counts and default policies in `info`, the
//! requests in `ops`.

mod id;
mod info;
mod ops;

use super::types::{
    Dir, Lifetime, LifetimeCurrent, Mark, PolicyAction, Rd, SELECTOR_LEN, SecCtx, Selector,
    TMPL_LEN, Template, XFRM_MAX_DEPTH, attrs, push_attr, push_fixed,
};
use super::{attr, decode_error, msg};
use crate::conn::RawMessage;
use crate::error::{Error, Result};

pub use id::PolicyId;
pub use info::{DefaultAction, DefaultPolicy, SpdInfo};
pub use ops::PolicyList;

/// `sizeof(struct xfrm_userpolicy_info)`.
pub(crate) const POLICY_INFO_LEN: usize = 168;
/// `sizeof(struct xfrm_userpolicy_id)`.
pub(crate) const POLICY_ID_LEN: usize = 64;

/// A security policy: the kernel's view on read, the request on add.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Policy {
    /// The traffic it applies to.
    pub selector: Selector,
    /// `dir in|out|fwd`.
    pub dir: Dir,
    /// `action allow|block`.
    pub action: PolicyAction,
    /// `priority N` (lower wins).
    pub priority: u32,
    /// `index N` (0 on add: the kernel picks one; its low 3 bits are the dir).
    pub index: u32,
    /// `flag localok|icmp` (XFRM_POLICY_LOCALOK = 1, XFRM_POLICY_ICMP = 2;
    /// XFRM_POLICY_CPU_ACQUIRE = 4, Linux 6.13: acquires per CPU, carrying
    /// [`Acquire::pcpu_num`](crate::xfrm::Acquire::pcpu_num)).
    pub flags: u8,
    /// Share mode (XFRM_SHARE_*).
    pub share: u8,
    /// `limit …`.
    pub lifetime: Lifetime,
    /// Usage (read only).
    pub current: LifetimeCurrent,
    /// `mark V mask M`.
    pub mark: Option<Mark>,
    /// `if_id N` (xfrm interfaces).
    pub if_id: Option<u32>,
    /// `tmpl …`, in order.
    pub templates: Vec<Template>,
    /// `ptype main|sub` (XFRMA_POLICY_TYPE: 0 main, 1 sub; `None`: main).
    pub policy_type: Option<u8>,
    /// `ctx CTX` (XFRMA_SEC_CTX).
    pub sec_ctx: Option<SecCtx>,
}

impl Policy {
    /// A policy for `selector` in `dir`, allowing, priority 0, no templates.
    pub fn new(selector: Selector, dir: Dir) -> Policy {
        Policy {
            selector,
            dir,
            action: PolicyAction::Allow,
            priority: 0,
            index: 0,
            flags: 0,
            share: 0,
            lifetime: Lifetime::default(),
            current: LifetimeCurrent::default(),
            mark: None,
            if_id: None,
            templates: Vec::new(),
            policy_type: None,
            sec_ctx: None,
        }
    }

    /// `priority N`.
    pub fn priority(mut self, p: u32) -> Self {
        self.priority = p;
        self
    }

    /// `action allow|block`.
    pub fn action(mut self, a: PolicyAction) -> Self {
        self.action = a;
        self
    }

    /// `index N`.
    pub fn index(mut self, i: u32) -> Self {
        self.index = i;
        self
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

    /// Appends a `tmpl`.
    pub fn template(mut self, t: Template) -> Self {
        self.templates.push(t);
        self
    }

    /// `limit …`.
    pub fn lifetime(mut self, l: Lifetime) -> Self {
        self.lifetime = l;
        self
    }

    /// `flag …` bits.
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
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

    /// Checks what the kernel would refuse, with clearer errors.
    pub fn validate(&self) -> Result<()> {
        if self.selector.family.is_none() {
            return Err(Error::invalid(
                "selector",
                "a policy's selector needs a family (IPv4 or IPv6)",
            ));
        }
        self.selector.validate()?;
        if !matches!(self.dir, Dir::In | Dir::Out | Dir::Fwd) {
            return Err(Error::invalid(
                "dir",
                format!("{} is not in, out or fwd", self.dir),
            ));
        }
        if self.index != 0 && self.index % 8 != u32::from(self.dir.raw()) {
            return Err(Error::invalid(
                "index",
                format!("index {} is not of dir {}", self.index, self.dir),
            ));
        }
        // More would not fit the kernel's table (it keeps none, or, were
        // the attribute's length to wrap, a few and reads the rest as
        // attributes).
        if self.templates.len() > XFRM_MAX_DEPTH {
            return Err(Error::invalid(
                "tmpl",
                format!(
                    "{} templates; a policy takes at most {XFRM_MAX_DEPTH} (XFRM_MAX_DEPTH)",
                    self.templates.len()
                ),
            ));
        }
        for t in &self.templates {
            t.validate()?;
        }
        if let Some(c) = &self.sec_ctx {
            c.validate()?;
        }
        Ok(())
    }

    /// `struct xfrm_userpolicy_info` followed by the attributes.
    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut b = vec![0u8; POLICY_INFO_LEN];
        self.emit_info(&mut b);
        self.emit_attrs(&mut b)?;
        Ok(b)
    }

    fn emit_info(&self, b: &mut [u8]) {
        self.selector.emit(&mut b[..SELECTOR_LEN]);
        self.lifetime.emit(&mut b[56..120]);
        let mut w = super::types::Wr(b);
        w.u32(152, self.priority);
        w.u32(156, self.index);
        w.u8(160, self.dir.raw());
        w.u8(161, self.action.raw());
        w.u8(162, self.flags);
        w.u8(163, self.share);
    }

    fn emit_attrs(&self, b: &mut Vec<u8>) -> Result<()> {
        if !self.templates.is_empty() {
            let mut t = vec![0u8; TMPL_LEN * self.templates.len()];
            for (i, tm) in self.templates.iter().enumerate() {
                tm.emit(&mut t[i * TMPL_LEN..(i + 1) * TMPL_LEN]);
            }
            push_attr(b, attr::TMPL, &t)?;
        }
        if let Some(c) = &self.sec_ctx {
            push_attr(b, attr::SEC_CTX, &c.bytes(attr::SEC_CTX))?;
        }
        emit_common(b, self.mark, self.if_id, self.policy_type);
        Ok(())
    }

    /// Decodes an XFRM_MSG_NEWPOLICY/UPDPOLICY payload (an
    /// `xfrm_userpolicy_info` and attributes), or an XFRM_MSG_DELPOLICY
    /// notification (an `xfrm_userpolicy_id` with the policy in
    /// XFRMA_POLICY).
    pub fn parse(ty: u16, payload: &[u8]) -> Result<Policy> {
        let (info, start) = match ty {
            msg::NEWPOLICY | msg::UPDPOLICY => (payload.get(..POLICY_INFO_LEN), POLICY_INFO_LEN),
            msg::DELPOLICY => (
                attrs(payload, POLICY_ID_LEN)
                    .find(|&(t, _)| t == attr::POLICY)
                    .and_then(|(_, v)| v.get(..POLICY_INFO_LEN)),
                POLICY_ID_LEN,
            ),
            _ => {
                return Err(decode_error(
                    ty,
                    format!("message type {ty} is not a policy"),
                ));
            }
        };
        let info = info.ok_or_else(|| decode_error(ty, "policy message too short"))?;
        let mut p = Policy::parse_info(Rd(info));
        p.parse_attrs(payload, start);
        Ok(p)
    }

    pub(crate) fn parse_info(r: Rd<'_>) -> Policy {
        Policy {
            selector: Selector::parse(r.sub(0, SELECTOR_LEN)),
            lifetime: Lifetime::parse(r.sub(56, 64)),
            current: LifetimeCurrent::parse(r.sub(120, 32)),
            priority: r.u32(152),
            index: r.u32(156),
            dir: Dir::from_raw(r.u8(160)),
            action: PolicyAction::from_raw(r.u8(161)),
            flags: r.u8(162),
            share: r.u8(163),
            mark: None,
            if_id: None,
            templates: Vec::new(),
            policy_type: None,
            sec_ctx: None,
        }
    }

    pub(crate) fn parse_attrs(&mut self, payload: &[u8], start: usize) {
        for (t, v) in attrs(payload, start) {
            match t {
                attr::TMPL => self.templates = Template::parse_all(v),
                attr::MARK => self.mark = Mark::parse(v),
                attr::IF_ID => self.if_id = Rd(v).arr::<4>(0).map(u32::from_ne_bytes),
                attr::POLICY_TYPE => self.policy_type = v.first().copied(),
                attr::SEC_CTX => self.sec_ctx = SecCtx::parse(v),
                _ => {}
            }
        }
    }

    /// Decodes a received policy message.
    pub fn from_raw(raw: &RawMessage) -> Result<Policy> {
        Policy::parse(raw.header.ty, raw.payload())
    }
}

pub(crate) fn emit_common(
    b: &mut Vec<u8>,
    mark: Option<Mark>,
    if_id: Option<u32>,
    ptype: Option<u8>,
) {
    if let Some(m) = mark {
        push_fixed(b, attr::MARK, &m.bytes());
    }
    if let Some(id) = if_id {
        push_fixed(b, attr::IF_ID, &id.to_ne_bytes());
    }
    if let Some(t) = ptype {
        // struct xfrm_userpolicy_type { __u8 type; __u16 reserved1; __u8 reserved2; }:
        // 6 bytes with its padding, and the kernel refuses anything shorter.
        push_fixed(b, attr::POLICY_TYPE, &[t, 0, 0, 0, 0, 0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xfrm::types::{IpsecProto, Level, Mode, XFRM_MAX_DEPTH};

    #[test]
    fn policy_round_trips_through_its_encoding() {
        let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24")
            .unwrap()
            .proto(6)
            .dport(80);
        let t = Template::new(IpsecProto::Esp, Mode::Tunnel)
            .endpoints("1.1.1.1", "2.2.2.2")
            .reqid(7)
            .spi(0x1234)
            .level(Level::Use);
        let p = Policy::new(sel, Dir::Fwd)
            .priority(10)
            .action(PolicyAction::Block)
            .index(8 * 5 + 2)
            .mark(Mark {
                value: 5,
                mask: 0xff,
            })
            .if_id(9)
            .template(t)
            .sec_ctx(SecCtx::new("system_u:object_r:ipsec_spd_t:s0"));
        let b = p.emit().unwrap();
        assert_eq!(Policy::parse(msg::NEWPOLICY, &b).unwrap(), p);
    }

    #[test]
    fn bad_policies_are_refused_before_sending() {
        let mut sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        sel.src_len = 33;
        let e = Policy::new(sel, Dir::Out).emit().unwrap_err();
        assert!(e.to_string().contains("longer than the address"), "{e}");
        let e = Selector::new("10.0.0.0/24", "fd00::/64").unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
        let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        let e = Policy::new(sel, Dir::Out).index(8).emit().unwrap_err();
        assert!(e.to_string().contains("not of dir"), "{e}");
        let e = Policy::new(sel, Dir::Out)
            .sec_ctx(SecCtx::new(&"u".repeat(SecCtx::MAX_LEN)))
            .emit()
            .unwrap_err();
        assert!(e.to_string().starts_with("invalid ctx: "), "{e}");
        let id = PolicyId::by_selector(sel, Dir::Out).sec_ctx(SecCtx::new(""));
        let e = id.emit().unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    /// 1,025 templates once wrapped the attribute's 16-bit length to one
    /// template's worth, and the kernel read the others as attributes.
    #[test]
    fn templates_beyond_xfrm_max_depth_are_refused_naming_tmpl() {
        let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        let t = Template::new(IpsecProto::Esp, Mode::Transport);
        let with = |n: usize| Policy {
            templates: vec![t; n],
            ..Policy::new(sel, Dir::Out)
        };
        for n in [7, 1025] {
            let e = with(n).emit().unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { field: "tmpl", .. }),
                "{n}: {e}"
            );
            assert!(e.to_string().contains("at most 6"), "{e}");
        }
        let b = with(XFRM_MAX_DEPTH).emit().unwrap();
        let p = Policy::parse(msg::NEWPOLICY, &b).unwrap();
        assert_eq!(p.templates.len(), XFRM_MAX_DEPTH);
        // The attribute's length is exactly the templates'.
        let (len, ty) = (
            u16::from_ne_bytes([b[POLICY_INFO_LEN], b[POLICY_INFO_LEN + 1]]),
            u16::from_ne_bytes([b[POLICY_INFO_LEN + 2], b[POLICY_INFO_LEN + 3]]),
        );
        assert_eq!((len as usize, ty), (4 + 6 * TMPL_LEN, attr::TMPL));
    }

    #[test]
    fn policy_by_index_zero_blames_the_index() {
        let e = PolicyId::by_index(0).emit().unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { field: "index", .. }),
            "{e}"
        );
        // A selector without a family is still the selector's fault.
        let mut sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        sel.family = None;
        let e = PolicyId::by_selector(sel, Dir::Out).emit().unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    field: "selector",
                    ..
                }
            ),
            "{e}"
        );
        PolicyId::by_index(9).emit().unwrap();
    }
}
