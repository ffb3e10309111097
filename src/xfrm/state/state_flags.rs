//! `flag …` bits of a state (XFRM_STATE_*).

/// `noecn`.
pub const NOECN: u8 = 1;
/// `decap-dscp`.
pub const DECAP_DSCP: u8 = 2;
/// `nopmtudisc`.
pub const NOPMTUDISC: u8 = 4;
/// `wildrecv`.
pub const WILDRECV: u8 = 8;
/// `icmp`.
pub const ICMP: u8 = 16;
/// `af-unspec`.
pub const AF_UNSPEC: u8 = 32;
/// `align4`.
pub const ALIGN4: u8 = 64;
/// `esn`: extended sequence numbers.
pub const ESN: u8 = 128;

/// `ip`'s names of the flags, in its order.
pub const NAMES: [(u8, &str); 8] = [
    (NOECN, "noecn"),
    (DECAP_DSCP, "decap-dscp"),
    (NOPMTUDISC, "nopmtudisc"),
    (WILDRECV, "wildrecv"),
    (ICMP, "icmp"),
    (AF_UNSPEC, "af-unspec"),
    (ALIGN4, "align4"),
    (ESN, "esn"),
];

/// The flag named `name` by `ip`.
pub fn parse(name: &str) -> Option<u8> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
}
