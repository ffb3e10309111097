//! Socket state sets for listings (`idiag_states`, `udiag_states`).

/// A set of TCP_* states (bit `1 << state`), combined with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
pub struct States(pub u32);

/// TCP_* state numbers (include/net/tcp_states.h).
#[allow(missing_docs)]
pub mod state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
    pub const NEW_SYN_RECV: u8 = 12;
    pub const BOUND_INACTIVE: u8 = 13;
}

impl States {
    /// Every state of a socket in use (`ss -a`): TCP_ESTABLISHED to
    /// TCP_NEW_SYN_RECV. Not [`States::BOUND_INACTIVE`]: asking for that
    /// makes the kernel walk its whole bind hash table, which cost a
    /// 10,000-socket dump twice its kernel time, and `ss -a` leaves it out.
    pub const ALL: States = States((1 << (state::NEW_SYN_RECV + 1)) - 1);
    /// Sockets bound to a port but neither listening nor connected
    /// (TCP_BOUND_INACTIVE, kernel 6.8+; `ss --bound-inactive`). A filter
    /// only: the sockets it returns report [`state::CLOSE`].
    pub const BOUND_INACTIVE: States = States(1 << state::BOUND_INACTIVE);
    /// LISTEN only: TCP (and SCTP) listeners, without the unconnected
    /// UDP and raw sockets [`States::LISTENING`] also takes.
    pub const LISTEN: States = States(1 << state::LISTEN);
    /// LISTEN and CLOSE: what `ss -l` (and `ss state listening`) shows.
    /// ss asks for both because a datagram socket that is bound but not
    /// connected is in CLOSE, so `ss -lu` lists UDP servers; for TCP it
    /// adds nothing a listing returns (a bound TCP socket that does not
    /// listen is not dumped). For listeners only, use [`States::LISTEN`].
    pub const LISTENING: States = States((1 << state::LISTEN) | (1 << state::CLOSE));
    /// What `ss` shows by default: everything but LISTEN, CLOSE, TIME_WAIT
    /// and SYN_RECV.
    pub const CONNECTED: States = States(
        States::ALL.0
            & !((1 << state::LISTEN)
                | (1 << state::CLOSE)
                | (1 << state::TIME_WAIT)
                | (1 << state::SYN_RECV)),
    );
    /// ESTABLISHED only.
    pub const ESTABLISHED: States = States(1 << state::ESTABLISHED);

    /// The set of the given state numbers.
    pub fn of(states: &[u8]) -> States {
        States(
            states
                .iter()
                .fold(0, |m, &s| m | 1u32.checked_shl(s.into()).unwrap_or(0)),
        )
    }

    /// Whether `state` is in the set.
    pub fn contains(self, state: u8) -> bool {
        1u32.checked_shl(state.into())
            .is_some_and(|b| self.0 & b != 0)
    }
}

impl std::ops::BitOr for States {
    type Output = States;
    fn bitor(self, o: States) -> States {
        States(self.0 | o.0)
    }
}
