//! XFRM_MSG_MIGRATE: moving a policy's (and its states') tunnel endpoints,
//! as a request and as the notification the kernel sends after one.

use std::net::IpAddr;

use super::policy::{POLICY_ID_LEN, emit_common};
use super::types::{
    Dir, Encap, IpsecProto, Mode, Rd, SELECTOR_LEN, Selector, Wr, addr_of, attrs, family_raw,
    push_attr, push_fixed,
};
use super::{XfrmHandle, attr, decode_error, message, msg};
use crate::error::{Error, Result};
use crate::types::{BadAddr, Family, IntoAddr};

/// `sizeof(struct xfrm_user_migrate)`.
pub(crate) const MIGRATE_LEN: usize = 76;
/// `sizeof(struct xfrm_user_kmaddress)`.
pub(crate) const KMADDRESS_LEN: usize = 40;
/// XFRM_MAX_DEPTH ([`XFRM_MAX_DEPTH`](super::XFRM_MAX_DEPTH)): the most entries one migration may carry.
pub(crate) const MAX_ENTRIES: usize = super::types::XFRM_MAX_DEPTH;

/// One endpoint move (`struct xfrm_user_migrate`): the template (and
/// state) of `proto`/`mode`/`reqid` going from the old addresses to the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct MigrateEntry {
    /// The old destination (tunnel remote end).
    pub old_dst: IpAddr,
    /// The old source.
    pub old_src: IpAddr,
    /// The new destination.
    pub new_dst: IpAddr,
    /// The new source.
    pub new_src: IpAddr,
    /// The protocol of the template and state.
    pub proto: IpsecProto,
    /// Their mode (endpoints move in tunnel and beet mode only).
    pub mode: Mode,
    /// Their reqid (0: any).
    pub reqid: u32,
    /// An address text [`MigrateEntry::tunnel`] could not parse.
    // A refused address is an error to serialize, not a silent 0.0.0.0.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_deserializing,
            skip_serializing_if = "crate::serde_util::accepted",
            serialize_with = "crate::serde_util::refused"
        )
    )]
    pub(crate) bad: BadAddr,
}

impl MigrateEntry {
    /// A tunnel-mode `proto` move from `old_src -> old_dst` to
    /// `new_src -> new_dst`, any reqid.
    /// Addresses are `IpAddr`s or text; bad text is refused, naming the
    /// address, when the migration is validated or sent.
    pub fn tunnel(
        proto: IpsecProto,
        (old_src, old_dst): (impl IntoAddr, impl IntoAddr),
        (new_src, new_dst): (impl IntoAddr, impl IntoAddr),
    ) -> MigrateEntry {
        let mut bad = BadAddr::default();
        MigrateEntry {
            old_src: bad.take(old_src, "old src"),
            old_dst: bad.take(old_dst, "old dst"),
            new_src: bad.take(new_src, "new src"),
            new_dst: bad.take(new_dst, "new dst"),
            bad,
            proto,
            mode: Mode::Tunnel,
            reqid: 0,
        }
    }

    fn validate(&self) -> Result<()> {
        self.bad.check()?;
        for (what, a, b) in [
            ("old", self.old_src, self.old_dst),
            ("new", self.new_src, self.new_dst),
        ] {
            if Family::of(&a) != Family::of(&b) {
                return Err(Error::invalid(
                    "migrate",
                    format!("{what} addresses {a} and {b} are of different families"),
                ));
            }
        }
        if self.new_src.is_unspecified() || self.new_dst.is_unspecified() {
            return Err(Error::invalid(
                "migrate",
                "the new addresses must not be unspecified",
            ));
        }
        Ok(())
    }

    fn emit(&self, b: &mut [u8]) {
        let mut w = Wr(b);
        w.addr(0, Some(self.old_dst));
        w.addr(16, Some(self.old_src));
        w.addr(32, Some(self.new_dst));
        w.addr(48, Some(self.new_src));
        w.u8(64, self.proto.raw());
        w.u8(65, self.mode.raw());
        w.u32(68, self.reqid);
        w.u16(72, family_raw(Some(Family::of(&self.old_dst))));
        w.u16(74, family_raw(Some(Family::of(&self.new_dst))));
    }

    fn parse(v: &[u8]) -> Result<MigrateEntry> {
        let r = Rd(v);
        let (of, nf) = (r.u16(72), r.u16(74));
        let addrs = (
            addr_of(r, 0, of),
            addr_of(r, 16, of),
            addr_of(r, 32, nf),
            addr_of(r, 48, nf),
        );
        let (Some(old_dst), Some(old_src), Some(new_dst), Some(new_src)) = addrs else {
            return Err(decode_error(
                msg::MIGRATE,
                format!("migrate entry of unknown families {of}/{nf}"),
            ));
        };
        Ok(MigrateEntry {
            bad: crate::types::BadAddr::default(),
            old_dst,
            old_src,
            new_dst,
            new_src,
            proto: IpsecProto::from_raw(r.u8(64)),
            mode: Mode::from_raw(r.u8(65)),
            reqid: r.u32(68),
        })
    }
}

/// The addresses a key manager should now use towards its peer
/// (`struct xfrm_user_kmaddress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct KmAddress {
    /// Our address.
    pub local: IpAddr,
    /// The peer's.
    pub remote: IpAddr,
}

impl KmAddress {
    fn bytes(&self) -> [u8; KMADDRESS_LEN] {
        let mut b = [0u8; KMADDRESS_LEN];
        let mut w = Wr(&mut b);
        w.addr(0, Some(self.local));
        w.addr(16, Some(self.remote));
        w.u16(36, family_raw(Some(Family::of(&self.local))));
        b
    }

    fn parse(v: &[u8]) -> Option<KmAddress> {
        let r = Rd(v);
        let f = r.u16(36);
        Some(KmAddress {
            local: addr_of(r, 0, f)?,
            remote: addr_of(r, 16, f)?,
        })
    }
}

/// A migration of the policy of `selector` and `dir`: sent with
/// [`XfrmHandle::migrate`], and received as
/// [`XfrmEvent::Migrate`](super::XfrmEvent::Migrate) once done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct Migrate {
    /// The policy's selector.
    pub selector: Selector,
    /// The policy's direction.
    pub dir: Dir,
    /// `ptype main|sub` (XFRMA_POLICY_TYPE; `None`: main).
    pub policy_type: Option<u8>,
    /// The moves (XFRMA_MIGRATE), 1 to [`XFRM_MAX_DEPTH`](super::XFRM_MAX_DEPTH).
    pub entries: Vec<MigrateEntry>,
    /// The key manager's new addresses (XFRMA_KMADDRESS).
    pub kmaddress: Option<KmAddress>,
    /// New NAT-T encapsulation of the moved states (XFRMA_ENCAP).
    pub encap: Option<Encap>,
    /// `if_id N` of the policy and states (XFRMA_IF_ID; requests only).
    pub if_id: Option<u32>,
    /// An address text [`Migrate::kmaddress`] could not parse.
    // A refused address is an error to serialize, not a silent 0.0.0.0.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_deserializing,
            skip_serializing_if = "crate::serde_util::accepted",
            serialize_with = "crate::serde_util::refused"
        )
    )]
    pub(crate) bad: BadAddr,
}

impl Migrate {
    /// Moves `entry` for the policy of `selector` and `dir`.
    pub fn new(selector: Selector, dir: Dir, entry: MigrateEntry) -> Migrate {
        Migrate {
            selector,
            dir,
            policy_type: None,
            entries: vec![entry],
            kmaddress: None,
            encap: None,
            if_id: None,
            bad: BadAddr::default(),
        }
    }

    /// Another move.
    pub fn entry(mut self, e: MigrateEntry) -> Self {
        self.entries.push(e);
        self
    }

    /// The key manager's new addresses.
    /// Either may be text; bad text is refused, naming `kmaddress`, when
    /// the migration is validated or sent.
    pub fn kmaddress(mut self, local: impl IntoAddr, remote: impl IntoAddr) -> Self {
        let local = self.bad.take(local, "kmaddress local");
        let remote = self.bad.take(remote, "kmaddress remote");
        self.kmaddress = Some(KmAddress { local, remote });
        self
    }

    /// New NAT-T encapsulation.
    pub fn encap(mut self, e: Encap) -> Self {
        self.encap = Some(e);
        self
    }

    /// `if_id N`.
    pub fn if_id(mut self, id: u32) -> Self {
        self.if_id = Some(id);
        self
    }

    /// Checks what the kernel would refuse, with clearer errors.
    pub fn validate(&self) -> Result<()> {
        self.bad.check()?;
        if self.selector.family.is_none() {
            return Err(Error::invalid("selector", "a migration needs a family"));
        }
        self.selector.validate()?;
        if self.entries.is_empty() || self.entries.len() > MAX_ENTRIES {
            return Err(Error::invalid(
                "migrate",
                format!(
                    "{} entries; a migration takes 1 to {MAX_ENTRIES}",
                    self.entries.len()
                ),
            ));
        }
        for e in &self.entries {
            e.validate()?;
        }
        if let Some(k) = &self.kmaddress
            && Family::of(&k.local) != Family::of(&k.remote)
        {
            return Err(Error::invalid(
                "kmaddress",
                format!("{} and {} are of different families", k.local, k.remote),
            ));
        }
        Ok(())
    }

    /// `struct xfrm_userpolicy_id` and the attributes, as a request.
    pub(crate) fn emit(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut b = vec![0u8; POLICY_ID_LEN];
        self.selector.emit(&mut b[..SELECTOR_LEN]);
        Wr(&mut b).u8(60, self.dir.raw());
        // One attribute holding the array: what the kernel reads.
        let mut m = vec![0u8; MIGRATE_LEN * self.entries.len()];
        for (i, e) in self.entries.iter().enumerate() {
            e.emit(&mut m[i * MIGRATE_LEN..(i + 1) * MIGRATE_LEN]);
        }
        push_attr(&mut b, attr::MIGRATE, &m)?;
        if let Some(k) = &self.kmaddress {
            push_fixed(&mut b, attr::KMADDRESS, &k.bytes());
        }
        if let Some(e) = &self.encap {
            push_fixed(&mut b, attr::ENCAP, &e.bytes());
        }
        emit_common(&mut b, None, self.if_id, self.policy_type);
        Ok(b)
    }

    /// Decodes an XFRM_MSG_MIGRATE payload. The kernel's notification puts
    /// each entry in an XFRMA_MIGRATE of its own; a request puts them all in
    /// one: both are read.
    pub fn parse(payload: &[u8]) -> Result<Migrate> {
        let head = payload
            .get(..POLICY_ID_LEN)
            .ok_or_else(|| decode_error(msg::MIGRATE, "migrate too short"))?;
        let r = Rd(head);
        let mut m = Migrate {
            bad: crate::types::BadAddr::default(),
            selector: Selector::parse(r.sub(0, SELECTOR_LEN)),
            dir: Dir::from_raw(r.u8(60)),
            policy_type: None,
            entries: Vec::new(),
            kmaddress: None,
            encap: None,
            if_id: None,
        };
        let mut encap = None;
        for (t, v) in attrs(payload, POLICY_ID_LEN) {
            match t {
                attr::MIGRATE => {
                    for c in v.chunks_exact(MIGRATE_LEN) {
                        m.entries.push(MigrateEntry::parse(c)?);
                    }
                }
                attr::KMADDRESS => m.kmaddress = KmAddress::parse(v),
                attr::ENCAP => encap = Some(v),
                attr::POLICY_TYPE => m.policy_type = v.first().copied(),
                attr::IF_ID => m.if_id = Rd(v).arr::<4>(0).map(u32::from_ne_bytes),
                _ => {}
            }
        }
        // xfrm_encap_tmpl has no family: the new endpoints', else the flow's.
        let fam = m
            .entries
            .first()
            .map(|e| Family::of(&e.new_dst))
            .or(m.selector.family);
        m.encap = encap.and_then(|v| Encap::parse(v, family_raw(fam)));
        Ok(m)
    }
}

impl XfrmHandle {
    /// XFRM_MSG_MIGRATE: moves the tunnel endpoints of the policy of
    /// `m.selector`/`m.dir` (its matching templates) and of the matching
    /// states; [`Group::Migrate`](super::Group::Migrate) listeners are told.
    /// ENOENT: no such policy; ENODATA: no template matched.
    pub async fn migrate(&self, m: &Migrate) -> Result<()> {
        let b = m.emit()?;
        self.req.ack(message(msg::MIGRATE, b), 0).await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::xfrm::types::EncapType;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    pub(crate) fn full_migrate() -> Migrate {
        let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
        Migrate {
            policy_type: Some(0),
            ..Migrate::new(
                sel,
                Dir::Out,
                MigrateEntry::tunnel(
                    IpsecProto::Esp,
                    (ip("192.0.2.1"), ip("192.0.2.2")),
                    (ip("198.51.100.1"), ip("198.51.100.2")),
                ),
            )
        }
        .entry(MigrateEntry {
            reqid: 9,
            ..MigrateEntry::tunnel(
                IpsecProto::Ah,
                (ip("fd00::1"), ip("fd00::2")),
                (ip("192.0.2.10"), ip("192.0.2.20")),
            )
        })
        .kmaddress(ip("198.51.100.1"), ip("198.51.100.2"))
        .encap(Encap {
            kind: EncapType::EspInUdp,
            sport: 4500,
            dport: 4501,
            oa: Some(ip("198.51.100.9")),
        })
        .if_id(5)
    }

    #[test]
    fn migrate_round_trips_through_its_encoding() {
        let m = full_migrate();
        assert_eq!(Migrate::parse(&m.emit().unwrap()).unwrap(), m);
    }

    /// A notification as the kernel builds it (build_migrate): the policy
    /// id, then one XFRMA_MIGRATE per entry, written byte by byte from the
    /// uapi layout rather than by our encoder.
    #[test]
    fn migrate_notification_decodes_from_uapi_bytes() {
        let mut p = vec![0u8; 64];
        // xfrm_selector: daddr 10.0.1.0, saddr 10.0.0.0, family, plens.
        p[0..4].copy_from_slice(&[10, 0, 1, 0]);
        p[16..20].copy_from_slice(&[10, 0, 0, 0]);
        p[40..42].copy_from_slice(&2u16.to_ne_bytes());
        p[42] = 24;
        p[43] = 24;
        p[60] = 1; // dir out
        let mut kma = vec![0u8; 40];
        kma[0..4].copy_from_slice(&[198, 51, 100, 1]);
        kma[16..20].copy_from_slice(&[198, 51, 100, 2]);
        kma[36..38].copy_from_slice(&2u16.to_ne_bytes());
        push_attr(&mut p, 19, &kma).unwrap();
        push_fixed(&mut p, 16, &[1, 0, 0, 0]); // ptype sub
        let mut e = vec![0u8; 76];
        e[0..4].copy_from_slice(&[192, 0, 2, 2]); // old_daddr
        e[16..20].copy_from_slice(&[192, 0, 2, 1]); // old_saddr
        e[32..48].copy_from_slice(&ip6("fd00::2"));
        e[48..64].copy_from_slice(&ip6("fd00::1"));
        e[64] = 50; // esp
        e[65] = 1; // tunnel
        e[68..72].copy_from_slice(&7u32.to_ne_bytes());
        e[72..74].copy_from_slice(&2u16.to_ne_bytes());
        e[74..76].copy_from_slice(&10u16.to_ne_bytes());
        push_attr(&mut p, 17, &e).unwrap();
        e[64] = 51; // a second entry: ah
        push_attr(&mut p, 17, &e).unwrap();
        let m = Migrate::parse(&p).unwrap();
        assert_eq!(m.selector.dst, Some(ip("10.0.1.0")));
        assert_eq!((m.selector.src_len, m.dir), (24, Dir::Out));
        assert_eq!(m.policy_type, Some(1));
        assert_eq!(
            m.kmaddress,
            Some(KmAddress {
                local: ip("198.51.100.1"),
                remote: ip("198.51.100.2")
            })
        );
        assert_eq!(m.entries.len(), 2);
        let x = m.entries[0];
        assert_eq!((x.old_src, x.old_dst), (ip("192.0.2.1"), ip("192.0.2.2")));
        assert_eq!((x.new_src, x.new_dst), (ip("fd00::1"), ip("fd00::2")));
        assert_eq!(
            (x.proto, x.mode, x.reqid),
            (IpsecProto::Esp, Mode::Tunnel, 7)
        );
        assert_eq!(m.entries[1].proto, IpsecProto::Ah);
        // Truncated anywhere: an error or fewer attributes, never a panic.
        for n in 0..p.len() {
            let _ = Migrate::parse(&p[..n]);
        }
        assert!(Migrate::parse(&p[..63]).is_err());
        // An entry of unknown family is an error, not a guess.
        let mut bad = p[..64].to_vec();
        e[72..74].copy_from_slice(&99u16.to_ne_bytes());
        push_attr(&mut bad, 17, &e).unwrap();
        assert!(Migrate::parse(&bad).is_err());
    }

    fn ip6(s: &str) -> [u8; 16] {
        match ip(s) {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(_) => unreachable!(),
        }
    }

    #[test]
    fn bad_migrations_are_refused_before_sending() {
        let mut m = full_migrate();
        m.entries.clear();
        let e = m.emit().unwrap_err();
        assert!(e.to_string().contains("takes 1 to 6"), "{e}");
        let mut m = full_migrate();
        m.entries = vec![m.entries[0]; 7];
        assert!(m.emit().is_err());
        let mut m = full_migrate();
        m.entries[0].new_src = ip("0.0.0.0");
        m.entries[0].new_dst = ip("0.0.0.0");
        let e = m.emit().unwrap_err();
        assert!(e.to_string().contains("invalid migrate: the new"), "{e}");
        let mut m = full_migrate();
        m.entries[0].old_src = ip("fd00::1");
        let e = m.emit().unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
        let mut m = full_migrate();
        m.kmaddress = Some(KmAddress {
            local: ip("192.0.2.1"),
            remote: ip("fd00::1"),
        });
        assert!(m.emit().unwrap_err().to_string().contains("kmaddress"));
        let m = Migrate {
            selector: Selector::unspec(),
            ..full_migrate()
        };
        assert!(m.emit().is_err());
    }
}
