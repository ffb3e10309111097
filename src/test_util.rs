//! Helpers for the decoders' unit tests.

/// `cases` copies of `sample`, each with `edits` random bytes overwritten
/// and then cut to a random length (xorshift from `seed`, so a failure
/// replays): what a decoder must refuse without panicking.
pub(crate) fn mangled(
    sample: &[u8],
    cases: usize,
    edits: usize,
    seed: u64,
) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut x = seed;
    (0..cases).map(move |_| {
        let mut m = sample.to_vec();
        for _ in 0..edits {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % m.len() as u64) as usize;
            m[i] = (x >> 32) as u8;
        }
        m.truncate((x >> 40) as usize % (m.len() + 1));
        m
    })
}
