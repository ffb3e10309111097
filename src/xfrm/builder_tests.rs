//! Every XFRM builder on random requests: none may panic, a refusal is an
//! `InvalidInput`, and whatever is accepted encodes attributes whose 16-bit
//! lengths are exactly their contents (a wrapped length would let the
//! kernel read a value's bytes as attributes).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::migrate::{KmAddress, MigrateEntry};
use super::policy::{POLICY_ID_LEN, POLICY_INFO_LEN};
use super::state::{SA_ID_LEN, SA_INFO_LEN};
use super::types::Algorithm;
use super::*;
use crate::error::Result;
use crate::types::Family;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 0
    }
    fn addr(&mut self) -> IpAddr {
        if self.coin() {
            IpAddr::V4(Ipv4Addr::from(self.next() as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(u128::from(self.next()) << 64 | 1))
        }
    }
    fn bytes(&mut self, lens: &[usize]) -> Vec<u8> {
        let n = self.pick(lens);
        let fill = self.pick(&[0u8, 0x41, 0xff]);
        let mut v = vec![fill; n];
        if n > 0 && self.below(4) == 0 {
            v[self.below(n as u64) as usize] = 0;
        }
        v
    }
    fn text(&mut self, lens: &[usize]) -> String {
        String::from_utf8_lossy(&self.bytes(lens)).into_owned()
    }
}

/// Lengths on both sides of each limit.
const CTX_LENS: [usize; 7] = [
    0,
    1,
    9,
    SecCtx::MAX_LEN - 1,
    SecCtx::MAX_LEN,
    65_524,
    70_000,
];
const KEY_LENS: [usize; 6] = [0, 16, Algorithm::MAX_KEY_LEN, 65_460, 65_531, 70_000];
const NAME_LENS: [usize; 5] = [0, 1, 8, 63, 64];

fn selector(r: &mut Rng) -> Selector {
    let (s, d) = (r.addr(), r.addr());
    Selector {
        family: r.pick(&[Some(Family::of(&s)), Some(Family::of(&d)), None]),
        src: Some(s),
        dst: Some(d),
        src_len: r.pick(&[0, 24, 32, 33, 128, 129, 255]),
        dst_len: r.pick(&[0, 32, 64, 200]),
        ..Selector::any(Family::V4)
    }
}

fn template(r: &mut Rng) -> Template {
    let (s, d) = (r.addr(), r.addr());
    Template {
        family: r.pick(&[Some(Family::of(&s)), None]),
        src: r.pick(&[Some(s), None]),
        dst: r.pick(&[Some(d), None]),
        ..Template::new(IpsecProto::Esp, Mode::Tunnel)
    }
}

fn sec_ctx(r: &mut Rng) -> Option<SecCtx> {
    r.coin().then(|| SecCtx {
        doi: 1,
        alg: 1,
        context: r.bytes(&CTX_LENS),
    })
}

fn policy(r: &mut Rng) -> Policy {
    let n = r.pick(&[0, 1, 6, 7, 1024, 1025]);
    let templates = (0..n).map(|_| template(r)).collect();
    Policy {
        templates,
        sec_ctx: sec_ctx(r),
        mark: r.coin().then(|| Mark::new(r.next() as u32)),
        if_id: r.coin().then(|| r.next() as u32),
        policy_type: r.coin().then(|| r.next() as u8),
        index: r.pick(&[0, 1, 8, 9, u32::MAX]),
        ..Policy::new(
            selector(r),
            r.pick(&[Dir::In, Dir::Out, Dir::Fwd, Dir::Other(7)]),
        )
    }
}

fn algorithm(r: &mut Rng) -> Option<Algorithm> {
    r.coin().then(|| {
        let mut a = Algorithm::new(&r.text(&NAME_LENS), &r.bytes(&KEY_LENS));
        if r.below(4) == 0 {
            a.key_bits = r.next() as u32;
        }
        if r.coin() {
            a.icv_bits = Some(128);
        }
        a
    })
}

fn state(r: &mut Rng) -> State {
    let (src, dst) = (r.addr(), r.addr());
    let proto = r.pick(&[
        IpsecProto::Esp,
        IpsecProto::Ah,
        IpsecProto::Comp,
        IpsecProto::Hao,
    ]);
    let mut s = State::new(src, dst, proto, r.pick(&[0, 1, u32::MAX]));
    s.replay_window = r.pick(&[0, 32, 33, 4096, 4097, u32::MAX]);
    s.flags = r.pick(&[0, state_flags::ESN]);
    if r.coin() {
        let words = r.pick(&[0usize, 4, 128, 129, 10_000]);
        s.replay_esn = Some(ReplayEsn {
            bitmap: vec![0; words],
            replay_window: r.pick(&[0, 128, 4096, 5000]),
            ..ReplayEsn::default()
        });
    }
    s.auth = algorithm(r);
    s.enc = algorithm(r);
    s.aead = algorithm(r);
    s.comp = algorithm(r);
    s.sec_ctx = sec_ctx(r);
    s.coaddr = r.coin().then(|| r.addr());
    s.offload = r.coin().then(|| Offload::new(r.pick(&[0, 1, u32::MAX])));
    s.selector = if r.coin() {
        selector(r)
    } else {
        Selector::unspec()
    };
    s
}

fn migrate(r: &mut Rng) -> Migrate {
    let n = r.pick(&[0, 1, 6, 7, 2000]);
    let entry = |r: &mut Rng| {
        MigrateEntry::tunnel(IpsecProto::Esp, (r.addr(), r.addr()), (r.addr(), r.addr()))
    };
    Migrate {
        entries: (0..n).map(|_| entry(r)).collect(),
        kmaddress: r.coin().then(|| KmAddress {
            local: r.addr(),
            remote: r.addr(),
        }),
        if_id: r.coin().then(|| r.next() as u32),
        ..Migrate::new(selector(r), Dir::Out, entry(r))
    }
}

/// Checks one builder's result: a refusal names a field; an encoding is
/// a fixed header and a chain of attributes that ends exactly at the end.
fn check(what: &str, fixed: usize, r: Result<Vec<u8>>) {
    let b = match r {
        Err(Error::InvalidInput { .. }) => return,
        Err(e) => panic!("{what}: refused with {e:?}, not InvalidInput"),
        Ok(b) => b,
    };
    let mut at = fixed;
    while at < b.len() {
        let len = usize::from(u16::from_ne_bytes([b[at], b[at + 1]]));
        assert!(
            len >= 4 && at + len <= b.len(),
            "{what}: attribute at {at} of length {len}"
        );
        at += (len + 3) & !3;
    }
    assert_eq!(at, b.len(), "{what}: the attributes overrun the message");
}

#[test]
fn every_builder_refuses_or_encodes_consistent_lengths() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut accepted = [0usize; 5];
    for _ in 0..400 {
        let p = policy(&mut r);
        let e = p.emit();
        accepted[0] += usize::from(e.is_ok());
        if let Ok(b) = &e {
            assert!(
                p.templates.len() <= XFRM_MAX_DEPTH,
                "{} templates",
                p.templates.len()
            );
            assert_eq!(
                Policy::parse(msg::NEWPOLICY, b).unwrap().templates.len(),
                p.templates.len()
            );
        }
        check("policy", POLICY_INFO_LEN, e);
        let id = PolicyId {
            index: r.pick(&[0, 9]),
            sec_ctx: sec_ctx(&mut r),
            ..PolicyId::from(&p)
        };
        let e = id.emit();
        accepted[1] += usize::from(e.is_ok());
        check("policy id", POLICY_ID_LEN, e);
        let s = state(&mut r);
        let e = s.emit();
        accepted[2] += usize::from(e.is_ok());
        check("state", SA_INFO_LEN, e);
        check("state id", SA_ID_LEN, s.id().src(r.addr()).emit());
        let m = migrate(&mut r);
        let e = m.emit();
        accepted[3] += usize::from(e.is_ok());
        check("migrate", POLICY_ID_LEN, e);
        let a = AllocSpi {
            mark: Some(Mark::new(1)),
            if_id: Some(2),
            ..AllocSpi::new(
                r.addr(),
                r.addr(),
                IpsecProto::Esp,
                r.next() as u32,
                r.next() as u32,
            )
        };
        let e = a.emit();
        accepted[4] += usize::from(e.is_ok());
        check("allocspi", SA_INFO_LEN + 8, e);
    }
    // Both outcomes were exercised for every builder.
    assert!(accepted.iter().all(|&n| n > 0 && n < 400), "{accepted:?}");
}
