//! Priming a fresh dump socket, so the kernel sizes its first chunk right.
//!
//! The kernel allocates each chunk of a dump with room for the larger of
//! the dump's own minimum (only RTM_GETLINK has one, and only when asked
//! for with IFLA_EXT_MASK) and the largest `recvmsg` length the socket has
//! used so far, capped at 32 KiB (`max_recvmsg_len` in af_netlink.c). A
//! socket that has never received anything has 0 there, so the first chunk,
//! which the kernel fills while `sendmsg` of the dump request runs, has
//! room for only NLMSG_GOODSIZE (about 3.7 KiB with 4 KiB pages). An entry
//! larger than that cannot go in it, and the route and link dumps (among
//! others) then end with DONE 0 instead of an error: the entry and
//! everything after it are lost without a word.
//!
//! Receiving one datagram into a large buffer is enough for the kernel to
//! learn our size: we send NLMSG_NOOP with NLM_F_ACK, which every netlink
//! family acknowledges (`netlink_rcv_skb` acks control messages), and
//! receive the ack with a buffer of [`PRIME_LEN`] bytes.
//!
//! What priming cannot fix: an entry larger than the 32 KiB cap in a dump
//! with no minimum of its own (an IPv4 or IPv6 route with thousands of next
//! hops) still ends the dump with DONE 0; the kernel offers no way to ask
//! for more, nor reports the loss.

use std::io;

use netlink_sys::{Socket, SocketAddr};

use super::frame::{F_ACK, F_REQUEST, HEADER_LEN, NLMSG_ERROR, NLMSG_NOOP};

/// The receive length to announce: the kernel caps what it remembers at
/// `SKB_WITH_OVERHEAD(32768)`, so anything from 32 KiB up gives the most.
pub const PRIME_LEN: usize = 32 * 1024;

/// The priming NOOP's sequence number. Dump requests never use 0
/// (`next_dump_seq`), so an ack read late would be skipped as stale.
const PRIME_SEQ: u32 = 0;

/// Primes a freshly opened dump socket (see the module docs) and returns
/// it. Needs no runtime: the kernel queues the ack before `sendmsg`
/// returns, so a non-blocking receive finds it.
pub fn primed(sock: Socket) -> io::Result<Socket> {
    let mut noop = [0u8; HEADER_LEN];
    noop[0..4].copy_from_slice(&(HEADER_LEN as u32).to_ne_bytes());
    noop[4..6].copy_from_slice(&NLMSG_NOOP.to_ne_bytes());
    noop[6..8].copy_from_slice(&(F_REQUEST | F_ACK).to_ne_bytes());
    noop[8..12].copy_from_slice(&PRIME_SEQ.to_ne_bytes());
    sock.send_to(&noop, &SocketAddr::new(0, 0), 0)?;
    loop {
        let mut buf = Vec::with_capacity(PRIME_LEN);
        let (n, from) = match sock.recv_from(&mut buf, libc::MSG_DONTWAIT) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::other(
                    "the kernel did not acknowledge the NLMSG_NOOP priming a dump socket",
                ));
            }
            Err(e) => return Err(e),
        };
        // Another sender's datagram (an unconnected socket) is dropped, as
        // the dump reader would drop it.
        if from.port_number() != 0 {
            continue;
        }
        let ty = buf.get(4..6).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        let seq = buf
            .get(8..12)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        if n >= HEADER_LEN && ty == Some(NLMSG_ERROR) && seq == Some(PRIME_SEQ) {
            break;
        }
        return Err(io::Error::other(
            "unexpected reply to the NLMSG_NOOP priming a dump socket",
        ));
    }
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::socket::{SocketOptions, open_here};

    /// Every family the crate dumps acknowledges the NOOP and leaves
    /// nothing else queued.
    #[test]
    fn priming_reads_exactly_the_ack_in_every_family() {
        for protocol in [
            libc::NETLINK_ROUTE,
            libc::NETLINK_XFRM,
            libc::NETLINK_SOCK_DIAG,
            libc::NETLINK_GENERIC,
        ] {
            let sock = open_here(protocol as isize, &SocketOptions::default()).unwrap();
            let sock = primed(sock).unwrap_or_else(|e| panic!("protocol {protocol}: {e}"));
            let mut buf = Vec::with_capacity(PRIME_LEN);
            let e = sock.recv(&mut buf, libc::MSG_DONTWAIT).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "protocol {protocol}");
        }
    }

    /// An unconnected socket is primed too (the NOOP is addressed to the
    /// kernel explicitly).
    #[test]
    fn priming_works_without_connect() {
        let opts = SocketOptions {
            connect_to_kernel: false,
            ..SocketOptions::default()
        };
        let sock = open_here(libc::NETLINK_ROUTE as isize, &opts).unwrap();
        primed(sock).unwrap();
    }
}
