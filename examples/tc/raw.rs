//! What `tc` prints from the raw messages: bucket sizes come from the
//! kernel's tick counts, converted with `tc`'s own truncations.

use tokio_netlink::conn::RawMessage;
use tokio_netlink::route::tc::Qdisc;

/// `buffer` of TCA_TBF_PARMS (`struct tc_tbf_qopt`: two 12-byte rate
/// specs, limit, buffer, mtu).
pub fn tbf_buffer_ticks(q: &Qdisc) -> Option<u32> {
    parms(q.raw(), 28)
}

/// The u32 at `at` in the PARMS (type 1) nest of TCA_OPTIONS, for htb and
/// tbf alike: the raw ticks `tc` prints from.
pub fn parms(raw: &RawMessage, at: usize) -> Option<u32> {
    let p = path(raw, &[2, 1])?;
    Some(u32::from_ne_bytes(p.get(at..at + 4)?.try_into().ok()?))
}

/// The attributes of `b`, as (type without flags, value).
pub fn attrs(b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut v = vec![];
    let mut i = 0;
    while i + 4 <= b.len() {
        let len = u16::from_ne_bytes([b[i], b[i + 1]]) as usize;
        let ty = u16::from_ne_bytes([b[i + 2], b[i + 3]]) & 0x3fff;
        if len < 4 || i + len > b.len() {
            break;
        }
        v.push((ty, &b[i + 4..i + len]));
        i += (len + 3) & !3;
    }
    v
}

/// The value at a path of attribute types, from the top level of a TC
/// message (after the netlink header and struct tcmsg).
pub fn path<'a>(raw: &'a RawMessage, types: &[u16]) -> Option<&'a [u8]> {
    let mut cur = raw.bytes.get(36..)?;
    for t in types {
        cur = attrs(cur).into_iter().find(|(ty, _)| ty == t)?.1;
    }
    Some(cur)
}

/// `tc`'s tick length, in ticks per microsecond, from /proc/net/psched (`tc_core_init`).
pub fn tick_in_usec() -> f64 {
    let text = std::fs::read_to_string("/proc/net/psched").unwrap_or_default();
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| u64::from_str_radix(w, 16).ok())
        .collect();
    match v.as_slice() {
        [t2us, us2t, res, ..] if *us2t != 0 => {
            let t2us = if *res == 1_000_000_000 { *us2t } else { *t2us };
            t2us as f64 / *us2t as f64 * (*res as f64 / 1e6)
        }
        _ => 1.0,
    }
}

/// `tc_calc_xmitsize`: bytes sent at `rate` (bytes/s) in `ticks`, the
/// time truncated to whole microseconds first, as `tc` does.
pub fn xmitsize(rate: u64, ticks: u32) -> u64 {
    let usec = (ticks as f64 / tick_in_usec()) as u32;
    rate * u64::from(usec) / 1_000_000
}
