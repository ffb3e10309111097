//! Status bits (`IPS_*`) and TCP tracking states, named as `conntrack`
//! names them.

use std::fmt;
use std::ops::{BitAnd, BitOr};
use std::str::FromStr;

use crate::error::{Error, Result};

/// An entry's status bits (`IPS_*`, include/uapi/linux/netfilter/
/// nf_conntrack_common.h). Displayed as `conntrack -u` takes them:
/// `SEEN_REPLY,ASSURED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Status(pub u32);

const NAMES: [(u32, &str); 16] = [
    (1 << 0, "EXPECTED"),
    (1 << 1, "SEEN_REPLY"),
    (1 << 2, "ASSURED"),
    (1 << 3, "CONFIRMED"),
    (1 << 4, "SRC_NAT"),
    (1 << 5, "DST_NAT"),
    (1 << 6, "SEQ_ADJUST"),
    (1 << 7, "SRC_NAT_DONE"),
    (1 << 8, "DST_NAT_DONE"),
    (1 << 9, "DYING"),
    (1 << 10, "FIXED_TIMEOUT"),
    (1 << 11, "TEMPLATE"),
    (1 << 12, "UNTRACKED"),
    (1 << 13, "HELPER"),
    (1 << 14, "OFFLOAD"),
    (1 << 15, "HW_OFFLOAD"),
];

impl Status {
    /// The connection was expected by a helper (a related connection).
    pub const EXPECTED: Status = Status(1 << 0);
    /// Packets were seen in both directions.
    pub const SEEN_REPLY: Status = Status(1 << 1);
    /// The entry is not dropped early when the table is full.
    pub const ASSURED: Status = Status(1 << 2);
    /// The entry is in the table (not only attached to a packet).
    pub const CONFIRMED: Status = Status(1 << 3);
    /// Source NAT applies.
    pub const SRC_NAT: Status = Status(1 << 4);
    /// Destination NAT applies.
    pub const DST_NAT: Status = Status(1 << 5);
    /// TCP sequence numbers are adjusted.
    pub const SEQ_ADJUST: Status = Status(1 << 6);
    /// Source NAT is set up.
    pub const SRC_NAT_DONE: Status = Status(1 << 7);
    /// Destination NAT is set up.
    pub const DST_NAT_DONE: Status = Status(1 << 8);
    /// The entry is being destroyed.
    pub const DYING: Status = Status(1 << 9);
    /// The timeout is not refreshed by traffic.
    pub const FIXED_TIMEOUT: Status = Status(1 << 10);
    /// A template (the `CT` target's).
    pub const TEMPLATE: Status = Status(1 << 11);
    /// Not tracked (`notrack`).
    pub const UNTRACKED: Status = Status(1 << 12);
    /// A helper was attached by a rule.
    pub const HELPER: Status = Status(1 << 13);
    /// Offloaded to the flow table.
    pub const OFFLOAD: Status = Status(1 << 14);
    /// Offloaded to hardware.
    pub const HW_OFFLOAD: Status = Status(1 << 15);

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// True when every bit of `other` is set.
    pub fn contains(self, other: Status) -> bool {
        self.0 & other.0 == other.0
    }

    /// The names of the bits set, lowest first (unknown bits are left out).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(b, _)| self.0 & b != 0)
            .map(|(_, n)| *n)
    }
}

impl BitOr for Status {
    type Output = Status;
    fn bitor(self, o: Status) -> Status {
        Status(self.0 | o.0)
    }
}

impl BitAnd for Status {
    type Output = Status;
    fn bitand(self, o: Status) -> Status {
        Status(self.0 & o.0)
    }
}

impl fmt::Display for Status {
    /// `SEEN_REPLY,ASSURED` (empty for none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

impl FromStr for Status {
    type Err = Error;

    /// Names separated by commas, as `conntrack -u` takes them
    /// (`ASSURED,SEEN_REPLY`; case-insensitive).
    fn from_str(s: &str) -> Result<Status> {
        let mut st = Status(0);
        for w in s.split(',').filter(|w| !w.is_empty()) {
            let bit = NAMES
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(w.trim()))
                .ok_or_else(|| Error::invalid("status", format!("{w:?} is not a status bit")))?;
            st.0 |= bit.0;
        }
        Ok(st)
    }
}

/// A TCP connection's tracking state (`TCP_CONNTRACK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// NONE.
    None,
    /// SYN_SENT.
    SynSent,
    /// SYN_RECV.
    SynRecv,
    /// ESTABLISHED.
    Established,
    /// FIN_WAIT.
    FinWait,
    /// CLOSE_WAIT.
    CloseWait,
    /// LAST_ACK.
    LastAck,
    /// TIME_WAIT.
    TimeWait,
    /// CLOSE.
    Close,
    /// SYN_SENT2 (a simultaneous open; `LISTEN` in old headers).
    SynSent2,
    /// A value this crate does not know.
    Unknown(u8),
}

impl TcpState {
    /// The state of `TCP_CONNTRACK_*` value `v`.
    pub fn from_raw(v: u8) -> TcpState {
        match v {
            0 => TcpState::None,
            1 => TcpState::SynSent,
            2 => TcpState::SynRecv,
            3 => TcpState::Established,
            4 => TcpState::FinWait,
            5 => TcpState::CloseWait,
            6 => TcpState::LastAck,
            7 => TcpState::TimeWait,
            8 => TcpState::Close,
            9 => TcpState::SynSent2,
            v => TcpState::Unknown(v),
        }
    }

    /// The `TCP_CONNTRACK_*` value.
    pub fn raw(self) -> u8 {
        match self {
            TcpState::None => 0,
            TcpState::SynSent => 1,
            TcpState::SynRecv => 2,
            TcpState::Established => 3,
            TcpState::FinWait => 4,
            TcpState::CloseWait => 5,
            TcpState::LastAck => 6,
            TcpState::TimeWait => 7,
            TcpState::Close => 8,
            TcpState::SynSent2 => 9,
            TcpState::Unknown(v) => v,
        }
    }

    /// `conntrack`'s name: `ESTABLISHED`, `TIME_WAIT`, …
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
            TcpState::Unknown(_) => "UNKNOWN",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TcpState {
    type Err = Error;

    /// A name as `conntrack --state` takes it (case-insensitive).
    fn from_str(s: &str) -> Result<TcpState> {
        (0..=9)
            .map(TcpState::from_raw)
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::invalid("state", format!("{s:?} is not a TCP state")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_conntrack_prints_them() {
        let s = Status::SEEN_REPLY | Status::ASSURED | Status(1 << 30);
        assert_eq!(s.to_string(), "SEEN_REPLY,ASSURED");
        assert_eq!("assured,SEEN_REPLY".parse::<Status>().unwrap().0, 0b110);
        assert!("HAPPY".parse::<Status>().is_err());
        assert!(s.contains(Status::ASSURED));
        assert!(!s.contains(Status::DYING));
        assert_eq!("time_wait".parse::<TcpState>().unwrap(), TcpState::TimeWait);
        assert_eq!(TcpState::from_raw(3).to_string(), "ESTABLISHED");
        assert_eq!(TcpState::from_raw(200), TcpState::Unknown(200));
        assert_eq!(TcpState::Unknown(200).raw(), 200);
    }
}
