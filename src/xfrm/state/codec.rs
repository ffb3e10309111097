//! The wire encoding of a [`State`]: `struct xfrm_usersa_info` and its
//! attributes, both ways.

use super::{SA_ID_LEN, SA_INFO_LEN, State, state_flags};
use crate::conn::RawMessage;
use crate::error::Result;
use crate::types::Family;
use crate::xfrm::policy::emit_common;
use crate::xfrm::types::{
    Algorithm, Encap, IpsecProto, Lifetime, LifetimeCurrent, Mark, Mode, Offload, Rd, Replay,
    ReplayEsn, SELECTOR_LEN, SaDir, SecCtx, Selector, Stats, Wr, addr_of, attrs, family_raw,
    push_attr, push_fixed,
};
use crate::xfrm::{attr, decode_error, msg};

impl State {
    pub(super) fn use_esn(&self) -> bool {
        self.flags & state_flags::ESN != 0 || self.replay_window > 32
    }

    /// `struct xfrm_usersa_info` and the attributes.
    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut b = vec![0u8; SA_INFO_LEN];
        self.emit_info(&mut b);
        if let Some(a) = &self.auth {
            if a.icv_bits.is_some() {
                push_attr(&mut b, attr::ALG_AUTH_TRUNC, &a.bytes(true))?;
            } else {
                push_attr(&mut b, attr::ALG_AUTH, &a.bytes(false))?;
            }
        }
        if let Some(a) = &self.enc {
            push_attr(&mut b, attr::ALG_CRYPT, &a.bytes(false))?;
        }
        if let Some(a) = &self.aead {
            push_attr(&mut b, attr::ALG_AEAD, &a.bytes(true))?;
        }
        if let Some(a) = &self.comp {
            push_attr(&mut b, attr::ALG_COMP, &a.bytes(false))?;
        }
        if let Some(e) = &self.encap {
            push_fixed(&mut b, attr::ENCAP, &e.bytes());
        }
        if let Some(m) = self.output_mark {
            push_fixed(&mut b, attr::SET_MARK, &m.value.to_ne_bytes());
            push_fixed(&mut b, attr::SET_MARK_MASK, &m.mask.to_ne_bytes());
        }
        if let Some(n) = self.tfcpad {
            push_fixed(&mut b, attr::TFCPAD, &n.to_ne_bytes());
        }
        if let Some(f) = self.extra_flags {
            push_fixed(&mut b, attr::SA_EXTRA_FLAGS, &f.to_ne_bytes());
        }
        if let Some(c) = self.coaddr {
            // An xfrm_address_t: 16 bytes whatever the family.
            let mut a = [0u8; 16];
            Wr(&mut a).addr(0, Some(c));
            push_fixed(&mut b, attr::COADDR, &a);
        }
        if let Some(o) = &self.offload {
            push_fixed(&mut b, attr::OFFLOAD_DEV, &o.bytes());
        }
        if let Some(c) = &self.sec_ctx {
            push_attr(&mut b, attr::SEC_CTX, &c.bytes(attr::SEC_CTX))?;
        }
        if let Some(d) = self.dir {
            push_fixed(&mut b, attr::SA_DIR, &[d.raw()]);
        }
        if let Some(n) = self.pcpu_num {
            push_fixed(&mut b, attr::SA_PCPU, &n.to_ne_bytes());
        }
        if let Some(n) = self.nat_keepalive_interval {
            push_fixed(&mut b, attr::NAT_KEEPALIVE_INTERVAL, &n.to_ne_bytes());
        }
        if let Some(n) = self.mtimer_thresh {
            push_fixed(&mut b, attr::MTIMER_THRESH, &n.to_ne_bytes());
        }
        if self.use_esn() {
            let esn = match &self.replay_esn {
                Some(r) => r.clone(),
                None => ReplayEsn::new(self.replay_window),
            };
            push_attr(&mut b, attr::REPLAY_ESN_VAL, &esn.bytes())?;
        }
        emit_common(&mut b, self.mark, self.if_id, None);
        Ok(b)
    }

    pub(super) fn emit_info(&self, b: &mut [u8]) {
        self.selector.emit(&mut b[..SELECTOR_LEN]);
        self.lifetime.emit(&mut b[96..160]);
        let mut w = Wr(b);
        w.addr(56, Some(self.dst));
        w.be32(72, self.spi);
        w.u8(76, self.proto.raw());
        w.addr(80, Some(self.src));
        w.u32(204, self.seq);
        w.u32(208, self.reqid);
        w.u16(212, family_raw(Some(Family::of(&self.dst))));
        w.u8(214, self.mode.raw());
        w.u8(
            215,
            if self.use_esn() {
                0
            } else {
                self.replay_window as u8
            },
        );
        w.u8(216, self.flags);
    }

    /// Decodes an XFRM_MSG_NEWSA/UPDSA payload (an `xfrm_usersa_info` and
    /// attributes) or an XFRM_MSG_DELSA notification (an `xfrm_usersa_id`
    /// with the state in XFRMA_SA).
    pub fn parse(ty: u16, payload: &[u8]) -> Result<State> {
        let (info, start) = match ty {
            msg::NEWSA | msg::UPDSA => (payload.get(..SA_INFO_LEN), SA_INFO_LEN),
            msg::DELSA => (
                attrs(payload, SA_ID_LEN)
                    .find(|&(t, _)| t == attr::SA)
                    .and_then(|(_, v)| v.get(..SA_INFO_LEN)),
                SA_ID_LEN,
            ),
            _ => {
                return Err(decode_error(
                    ty,
                    format!("message type {ty} is not a state"),
                ));
            }
        };
        let info = info.ok_or_else(|| decode_error(ty, "state message too short"))?;
        State::parse_parts(ty, info, payload, start)
    }

    /// The state in `info` (an `xfrm_usersa_info`) with the attributes of
    /// `payload[start..]`.
    pub(crate) fn parse_parts(ty: u16, info: &[u8], payload: &[u8], start: usize) -> Result<State> {
        let r = Rd(info);
        let fam = r.u16(212);
        let (Some(dst), Some(src)) = (addr_of(r, 56, fam), addr_of(r, 80, fam)) else {
            return Err(decode_error(ty, format!("state of unknown family {fam}")));
        };
        let mut s = State::new(src, dst, IpsecProto::from_raw(r.u8(76)), r.be32(72));
        s.selector = Selector::parse(r.sub(0, SELECTOR_LEN));
        s.lifetime = Lifetime::parse(r.sub(96, 64));
        s.current = LifetimeCurrent::parse(r.sub(160, 32));
        s.stats = Stats {
            replay_window: r.u32(192),
            replay: r.u32(196),
            integrity_failed: r.u32(200),
        };
        s.seq = r.u32(204);
        s.reqid = r.u32(208);
        s.mode = Mode::from_raw(r.u8(214));
        s.replay_window = u32::from(r.u8(215));
        s.flags = r.u8(216);
        let mut set_mark = None;
        let mut set_mask = None;
        for (t, v) in attrs(payload, start) {
            let u32v = || Rd(v).arr::<4>(0).map(u32::from_ne_bytes);
            match t {
                attr::ALG_AUTH if s.auth.is_none() => s.auth = Algorithm::parse(v, false),
                attr::ALG_AUTH_TRUNC => s.auth = Algorithm::parse(v, true),
                attr::ALG_CRYPT => s.enc = Algorithm::parse(v, false),
                attr::ALG_AEAD => s.aead = Algorithm::parse(v, true),
                attr::ALG_COMP => s.comp = Algorithm::parse(v, false),
                attr::ENCAP => s.encap = Encap::parse(v, fam),
                attr::MARK => s.mark = Mark::parse(v),
                attr::SET_MARK => set_mark = u32v(),
                attr::SET_MARK_MASK => set_mask = u32v(),
                attr::IF_ID => s.if_id = u32v(),
                attr::TFCPAD => s.tfcpad = u32v(),
                attr::SA_EXTRA_FLAGS => s.extra_flags = u32v(),
                attr::COADDR => s.coaddr = addr_of(Rd(v), 0, fam),
                attr::REPLAY_ESN_VAL => {
                    s.replay_esn = ReplayEsn::parse(v);
                    if let Some(e) = &s.replay_esn {
                        s.replay_window = e.replay_window;
                    }
                }
                attr::REPLAY_VAL => s.replay = Replay::parse(v),
                attr::LASTUSED => s.last_used = Rd(v).arr::<8>(0).map(u64::from_ne_bytes),
                attr::OFFLOAD_DEV => s.offload = Offload::parse(v),
                attr::SEC_CTX => s.sec_ctx = SecCtx::parse(v),
                attr::SA_DIR => s.dir = v.first().map(|&d| SaDir::from_raw(d)),
                attr::SA_PCPU => s.pcpu_num = u32v(),
                attr::NAT_KEEPALIVE_INTERVAL => s.nat_keepalive_interval = u32v(),
                attr::MTIMER_THRESH => s.mtimer_thresh = u32v(),
                _ => {}
            }
        }
        if let Some(value) = set_mark {
            s.output_mark = Some(Mark {
                value,
                mask: set_mask.unwrap_or(u32::MAX),
            });
        }
        Ok(s)
    }

    /// Decodes a received state message.
    pub fn from_raw(raw: &RawMessage) -> Result<State> {
        State::parse(raw.header.ty, raw.payload())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::error::Error;
    use crate::xfrm::types::EncapType;

    pub(crate) fn full_state() -> State {
        let mut s = State::new("192.0.2.1", "192.0.2.2", IpsecProto::Esp, 0x1000)
            .mode(Mode::Tunnel)
            .reqid(3)
            .replay_window(128)
            .flag(state_flags::ESN | state_flags::NOECN)
            .selector(Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap())
            .auth_trunc("hmac(sha256)", &[7; 32], 128)
            .enc("cbc(aes)", &[9; 16])
            .encap(Encap {
                kind: EncapType::EspInUdp,
                sport: 4500,
                dport: 4501,
                oa: None,
            })
            .mark(Mark {
                value: 1,
                mask: 0xf,
            })
            .output_mark(Mark {
                value: 2,
                mask: 0xff,
            })
            .if_id(4)
            .tfcpad(16)
            .extra_flag(2)
            .coaddr("192.0.2.9")
            .offload(Offload::new(3).inbound())
            .sec_ctx(SecCtx::new("system_u:object_r:ipsec_spd_t:s0"))
            .dir(SaDir::In)
            .pcpu_num(1)
            .nat_keepalive_interval(20)
            .mtimer_thresh(30);
        s.replay_esn = Some(ReplayEsn::new(128));
        s.lifetime.hard_add_seconds = 60;
        s
    }

    #[test]
    fn state_round_trips_through_its_encoding() {
        let s = full_state();
        let b = s.emit().unwrap();
        assert_eq!(State::parse(msg::NEWSA, &b).unwrap(), s);
    }

    #[test]
    fn direction_and_pcpu_attributes_are_laid_out_as_the_uapi_says() {
        let s = State::new("192.0.2.1", "192.0.2.2", IpsecProto::Esp, 1)
            .dir(SaDir::Out)
            .pcpu_num(7);
        let b = s.emit().unwrap();
        let got: Vec<(u16, Vec<u8>)> = attrs(&b, SA_INFO_LEN)
            .map(|(t, v)| (t, v.to_vec()))
            .collect();
        assert!(got.contains(&(33, vec![2])), "{got:?}");
        assert!(got.contains(&(35, 7u32.to_ne_bytes().to_vec())), "{got:?}");
        // A direction a newer kernel may report reads back as a number.
        let mut s = s;
        s.dir = Some(SaDir::from_raw(9));
        assert_eq!(
            State::parse(msg::NEWSA, &s.emit().unwrap()).unwrap().dir,
            Some(SaDir::Other(9))
        );
    }

    #[test]
    fn bad_states_are_refused_before_sending() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let e = State::new(a, a, IpsecProto::Esp, 0).emit().unwrap_err();
        assert!(e.to_string().contains("not a valid SPI"), "{e}");
        let e = State::new(a, "fd00::1", IpsecProto::Esp, 1)
            .emit()
            .unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
        let mut bad = Algorithm::new("cbc(aes)", &[1; 16]);
        bad.key_bits = 64;
        let mut s = State::new(a, a, IpsecProto::Esp, 1);
        s.enc = Some(bad);
        assert!(s.emit().is_err());
        let e = State::new(a, a, IpsecProto::Esp, 1)
            .enc(&"x".repeat(64), &[])
            .emit()
            .unwrap_err();
        assert!(e.to_string().contains("1 to 63 bytes"), "{e}");
        // coa: required by route2/hao, of the state's family.
        let (v6a, v6b): (IpAddr, IpAddr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
        let e = State::new(v6a, v6b, IpsecProto::Route2, 0)
            .mode(Mode::RouteOptimization)
            .emit()
            .unwrap_err();
        assert!(
            e.to_string().contains("invalid coa: a route2 state needs"),
            "{e}"
        );
        let e = State::new(v6a, v6b, IpsecProto::Hao, 0)
            .coaddr(a)
            .emit()
            .unwrap_err();
        assert!(e.to_string().contains("not of the state's family"), "{e}");
        // ctx too long for its attribute; offload without a device.
        let e = State::new(a, a, IpsecProto::Esp, 1)
            .sec_ctx(SecCtx::new(&"u".repeat(70_000)))
            .emit()
            .unwrap_err();
        assert!(e.to_string().starts_with("invalid ctx: "), "{e}");
        let e = State::new(a, a, IpsecProto::Esp, 1)
            .offload(Offload::new(0))
            .emit()
            .unwrap_err();
        assert!(e.to_string().starts_with("invalid offload dev: "), "{e}");
    }

    /// Keys and ESN bitmaps are the variable-length parts of a state: each
    /// must fit its attribute's 16-bit length and the kernel's limits.
    #[test]
    fn keys_and_replay_windows_beyond_their_limits_are_refused() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let s = || State::new(a, a, IpsecProto::Esp, 1);
        let long = vec![1u8; Algorithm::MAX_KEY_LEN + 1];
        for (field, st) in [
            ("enc", s().enc("cbc(aes)", &long)),
            ("auth", s().auth_trunc("hmac(sha256)", &long, 128)),
            ("aead", s().aead("rfc4106(gcm(aes))", &long, 128)),
        ] {
            let e = st.emit().unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { field: f, .. } if f == field),
                "{field}: {e}"
            );
            assert!(e.to_string().contains("an attribute can carry"), "{e}");
        }
        // The longest key fits, exactly, in the longest header.
        let b = s()
            .aead("rfc4106(gcm(aes))", &long[1..], 128)
            .emit()
            .unwrap();
        let at = SA_INFO_LEN;
        assert_eq!(u16::from_ne_bytes([b[at], b[at + 1]]), u16::MAX);
        assert_eq!(
            State::parse(msg::NEWSA, &b)
                .unwrap()
                .aead
                .unwrap()
                .key
                .len(),
            long.len() - 1
        );
        // ESN windows: up to XFRMA_REPLAY_ESN_MAX (4096); a window near
        // u32::MAX is refused before its 512 MiB bitmap is built.
        for w in [4097, u32::MAX] {
            let e = s().replay_window(w).emit().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "replay-window",
                        ..
                    }
                ),
                "{e}"
            );
        }
        s().replay_window(4096).emit().unwrap();
        let mut st = s().replay_window(64).flag(state_flags::ESN);
        st.replay_esn = Some(ReplayEsn {
            bitmap: vec![0; 129],
            ..ReplayEsn::new(64)
        });
        assert!(st.emit().unwrap_err().to_string().contains("at most 128"));
        st.replay_esn = Some(ReplayEsn {
            replay_window: 65,
            ..ReplayEsn::new(64)
        });
        assert!(st.emit().unwrap_err().to_string().contains("does not fit"));
    }
}
