//! A seeded mutation test over every public decoder of the crate: real
//! messages of every family (see `fuzz/seeds.rs`) are mutated — bytes
//! flipped, cut, extended, attribute lengths and types changed, headers made
//! inconsistent — and fed to every decoder and view accessor
//! (`fuzz/probes.rs`). None may panic: a panic fails the test with the
//! probe's name, the seed and the input in hex.
//!
//! `TOKIO_NETLINK_FUZZ_CASES` (default 80,000: 10 to 17 s in a debug build)
//! and `TOKIO_NETLINK_FUZZ_SEED` override the run; the seed printed by a
//! failure reproduces it.

mod common;
mod fuzz;

use std::collections::BTreeMap;

use bytes::Bytes;
use tokio_netlink::RawMessage;
use tokio_netlink::conn::frame::Header;

use fuzz::seeds::Seed;

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// Offsets of the attribute headers of `m`: the first chain that runs
/// exactly to the end after some fixed header, and the chains nested in
/// its values.
fn attr_offsets(m: &[u8]) -> Vec<usize> {
    fn chain(m: &[u8], start: usize, end: usize) -> Option<Vec<(usize, usize)>> {
        let mut out = Vec::new();
        let mut pos = start;
        while pos + 4 <= end {
            let len = u16::from_ne_bytes([m[pos], m[pos + 1]]) as usize;
            if len < 4 || pos + len > end {
                return None;
            }
            out.push((pos, len));
            pos += (len + 3) & !3;
        }
        (pos >= end && !out.is_empty()).then_some(out)
    }
    fn walk(m: &[u8], start: usize, end: usize, depth: u32, out: &mut Vec<usize>) {
        let Some(c) = chain(m, start, end) else {
            return;
        };
        for (pos, len) in c {
            out.push(pos);
            if depth < 3 && len > 8 {
                walk(m, pos + 4, pos + len, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    let starts = (20..m.len().min(16 + 300)).step_by(4);
    if let Some(s) = starts.into_iter().find(|&s| chain(m, s, m.len()).is_some()) {
        walk(m, s, m.len(), 0, &mut out);
    }
    out
}

const TYPES: [u16; 24] = [
    1, 2, 3, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32, 33, 38, 88, 4, 8,
];

/// One to three mutations of `seed`.
fn mutate(rng: &mut Rng, seeds: &[(Seed, Vec<usize>)], i: usize) -> Vec<u8> {
    let (seed, offs) = &seeds[i];
    let mut m = seed.bytes.clone();
    for _ in 0..1 + rng.below(3) {
        let len = m.len().max(1);
        match rng.below(11) {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(len);
                    if let Some(b) = m.get_mut(at) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            1 => {
                let at = rng.below(len);
                if let Some(b) = m.get_mut(at) {
                    let r = rng.next() as u8;
                    *b = rng.pick(&[0, 0xff, 0x7f, 0x80, 1, 4, r]);
                }
            }
            2 => m.truncate(rng.below(len + 1)),
            3 => m.truncate(rng.pick(&[0, 1, 4, 15, 16, 17, 20, 24, 32, 64])),
            4 => m.extend((0..1 + rng.below(64)).map(|_| rng.next() as u8)),
            5 | 6 if !offs.is_empty() => {
                let at = rng.pick(offs);
                if at + 4 <= m.len() {
                    let cur = u16::from_ne_bytes([m[at], m[at + 1]]);
                    let v = if rng.below(2) == 0 {
                        {
                            let r = rng.next() as u16;
                            rng.pick(&[0, 1, 2, 3, 4, 5, 7, 8, 0xffff, 0x8000, r])
                        }
                    } else {
                        cur.wrapping_add(rng.pick(&[1, 2, 3, 4, 8, 0xffff, 0xfffc, 0xfff8]))
                    };
                    m[at..at + 2].copy_from_slice(&v.to_ne_bytes());
                }
            }
            7 if !offs.is_empty() => {
                let at = rng.pick(offs);
                if at + 4 <= m.len() {
                    let ty = (rng.below(64) as u16) | rng.pick(&[0, 0x8000, 0x4000]);
                    m[at + 2..at + 4].copy_from_slice(&ty.to_ne_bytes());
                }
            }
            8 => {
                // A word anywhere: counts and lengths inside structures.
                let at = rng.below(len) & !3;
                if at + 4 <= m.len() {
                    let r = rng.next() as u32;
                    let v = rng.pick(&[0, 1, 0xffff_ffff, 0x8000_0000, 4096, r]);
                    m[at..at + 4].copy_from_slice(&v.to_ne_bytes());
                }
            }
            9 => {
                // Another seed's bytes spliced in.
                let other = &seeds[rng.below(seeds.len())].0.bytes;
                let from = rng.below(other.len());
                let n = rng.below(other.len() - from + 1).min(256);
                let at = rng.below(len + 1).min(m.len());
                m.splice(at..at, other[from..from + n].iter().copied());
            }
            _ => {
                // The netlink header: type or length.
                if m.len() >= 16 {
                    if rng.below(2) == 0 {
                        m[4..6].copy_from_slice(&rng.pick(&TYPES).to_ne_bytes());
                    } else {
                        let r = rng.next() as u32;
                        let l = rng.pick(&[0, 15, 16, r, m.len() as u32 + 4]);
                        m[0..4].copy_from_slice(&l.to_ne_bytes());
                    }
                }
            }
        }
    }
    // Mostly keep the header's length true, so framing passes it on.
    if m.len() >= 16 && rng.below(4) != 0 {
        let l = m.len() as u32;
        m[0..4].copy_from_slice(&l.to_ne_bytes());
    }
    m
}

/// What the text parsers are given: valid inputs of each, mutated.
const TEXTS: [&str; 14] = [
    "sport = :22 and ( dst 10.0.0.0/8 or dport >= :1024 )",
    "not src [fd00::1]:443 or dev = lo and mark = 0x5/0xff",
    "cgroup = /sys/fs/cgroup/x or autobound",
    "main",
    "static",
    "unicast",
    "host",
    "reachable",
    "02:00:00:00:00:01",
    "fwd",
    "tunnel",
    "espinudp-nonike",
    "esp",
    "noecn",
];

fn mutate_text(rng: &mut Rng) -> String {
    let mut t: Vec<u8> = rng.pick(&TEXTS).as_bytes().to_vec();
    for _ in 0..rng.below(4) {
        let at = rng.below(t.len() + 1);
        match rng.below(4) {
            0 => t.truncate(at),
            1 => t.insert(at.min(t.len()), rng.pick(b" :/[]()=!<>0x.-\0\xff9")),
            2 if at < t.len() => {
                t.remove(at);
            }
            _ => {
                let other = rng.pick(&TEXTS).as_bytes();
                let from = rng.below(other.len());
                let at = at.min(t.len());
                t.splice(at..at, other[from..].iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&t).into_owned()
}

/// The message as a caller could build it: the header parsed from the
/// bytes, or (sometimes) one that disagrees with them.
fn raw_of(rng: &mut Rng, m: Vec<u8>) -> RawMessage {
    let mut header = Header::parse(&m).unwrap_or_default();
    if rng.below(16) == 0 {
        header.len = rng.next() as u32;
        header.ty = rng.pick(&TYPES);
    }
    RawMessage {
        header,
        bytes: Bytes::from(m),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A panic found: the first input that caused it.
struct Finding {
    case: usize,
    origin: String,
    input: Vec<u8>,
    message: String,
    count: usize,
}

fn run(seeds: &[(Seed, Vec<usize>)], cases: usize, seed: u64) -> BTreeMap<String, Finding> {
    let mut rng = Rng(seed | 1);
    let mut found: BTreeMap<String, Finding> = BTreeMap::new();
    let mut by_origin: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (s, _)) in seeds.iter().enumerate() {
        by_origin.entry(s.origin.as_str()).or_default().push(i);
    }
    let groups: Vec<Vec<usize>> = by_origin.into_values().collect();
    fuzz::QUIET.with(|q| q.set(true));
    for case in 0..cases {
        // Every seed as it is first, then mutations.
        let (i, m) = if case < seeds.len() {
            (case, seeds[case].0.bytes.clone())
        } else {
            // An origin first, then one of its seeds: the 77 route events
            // do not drown the one packet socket.
            let group = &groups[rng.below(groups.len())];
            let i = group[rng.below(group.len())];
            (i, mutate(&mut rng, seeds, i))
        };
        let raw = raw_of(&mut rng, m.clone());
        let mut panics = fuzz::probes::all(&raw);
        if case % 64 == 0 {
            panics.extend(fuzz::probes::text(&mutate_text(&mut rng)));
        }
        for (probe, message) in panics {
            let at = message.rsplit(" at ").next().unwrap_or_default().to_owned();
            found
                .entry(format!("{probe} @ {at}"))
                .and_modify(|f| f.count += 1)
                .or_insert(Finding {
                    case,
                    origin: seeds[i].0.origin.clone(),
                    input: m.clone(),
                    message,
                    count: 1,
                });
        }
    }
    fuzz::QUIET.with(|q| q.set(false));
    let decoded = fuzz::probes::DECODED.with(|d| d.take());
    println!("fuzz_decoders: messages each view accepted: {decoded:?}");
    found
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_decoder_panics_on_mutated_messages() {
    let seeds = fuzz::seeds::gather().await;
    let mut origins: BTreeMap<String, usize> = BTreeMap::new();
    for s in &seeds {
        *origins.entry(s.origin.clone()).or_default() += 1;
    }
    // Every family is represented, so no decoder is fuzzed on nothing.
    for o in [
        "link",
        "address",
        "route",
        "rule",
        "neighbour",
        "fdb",
        "nexthop",
        "nexthop bucket",
        "route event",
        "xfrm policy",
        "xfrm event",
        "spdinfo",
        "sadinfo",
        "xfrm newsa",
        "diag tcp",
        "diag udp",
        "diag unix",
        "diag netlink",
        "diag packet",
        "conntrack",
        "conntrack stats",
        "conntrack event",
        "control",
    ] {
        assert!(origins.contains_key(o), "no {o} seed: {origins:?}");
    }
    let seeds: Vec<(Seed, Vec<usize>)> = seeds
        .into_iter()
        .map(|s| {
            let offs = attr_offsets(&s.bytes);
            (s, offs)
        })
        .collect();
    let cases: usize = env_or("TOKIO_NETLINK_FUZZ_CASES", 80_000);
    let seed: u64 = env_or("TOKIO_NETLINK_FUZZ_SEED", 0x7e57_f022_5eed_0001);
    fuzz::quiet_panics();
    let found = tokio::task::spawn_blocking(move || {
        let found = run(&seeds, cases, seed);
        (found, seeds.len())
    });
    let (found, n_seeds) = found.await.unwrap();
    println!(
        "fuzz_decoders: {cases} cases from {n_seeds} seeds ({origins:?}), seed {seed:#x}: {} distinct panics",
        found.len()
    );
    let mut report = String::new();
    for (key, f) in &found {
        report.push_str(&format!(
            "\n{key}: {} ({} times; first at case {} from a {} seed)\n  input: {}\n",
            f.message,
            f.count,
            f.case,
            f.origin,
            hex(&f.input)
        ));
    }
    assert!(found.is_empty(), "decoders panicked:{report}");
}
