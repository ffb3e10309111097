//! The netlink socket: opening it (in a namespace when asked), its options,
//! and non-blocking datagram I/O registered with tokio.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use netlink_sys::{Socket, SocketAddr};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::netns;

/// Receive buffers are carved out of blocks this large, so a datagram is
/// usually received with no copy and freed when its last message is dropped.
/// A block whose messages are all dropped is reused in place (`reserve`),
/// so a streaming consumer keeps receiving into the same warm pages instead
/// of faulting in fresh ones.
const BLOCK: usize = 256 * 1024;
/// A receive never starts with less room than this in the current block.
const MIN_SPARE: usize = 64 * 1024;
/// A second scatter buffer catches datagrams larger than the room left in
/// the block, so they are received whole. Its pages are only touched (and
/// only then resident) when such a datagram arrives.
const SPILL: usize = 4 << 20;

/// Socket options applied when a socket is opened.
#[derive(Debug, Clone, Copy)]
pub struct SocketOptions {
    /// Requested SO_RCVBUF (SO_RCVBUFFORCE when permitted). The kernel
    /// doubles it for its own bookkeeping.
    pub rcvbuf: usize,
    /// Requested SO_SNDBUF: bounds the largest datagram we can send.
    pub sndbuf: usize,
    /// Connect the socket to the kernel, which then refuses unicasts from any
    /// other sender (they also get dropped and counted on receipt).
    ///
    /// Turning it off lets any local process that can send to our port fill
    /// the receive buffer: forged datagrams are still dropped, but a flood
    /// of them makes the kernel drop real replies, which then fail with
    /// [`Error::ReplyLost`](crate::Error::ReplyLost) (ENOBUFS).
    pub connect_to_kernel: bool,
    /// NETLINK_GET_STRICT_CHK (kernel-side dump filters, strict validation).
    pub strict_check: bool,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            rcvbuf: 4 << 20,
            sndbuf: 1 << 20,
            connect_to_kernel: true,
            strict_check: true,
        }
    }
}

fn setsockopt_int(fd: i32, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: a plain setsockopt with a pointer to a live int.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn getsockopt_int(fd: i32, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: a plain getsockopt into a live int.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            &mut value as *mut i32 as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(value)
    }
}

/// Sets a buffer size, forcing past the sysctl limit when we have
/// CAP_NET_ADMIN and falling back to the capped variant otherwise.
fn set_buffer(fd: i32, force: i32, plain: i32, size: usize) -> io::Result<()> {
    let size = size.min(i32::MAX as usize / 2) as i32;
    setsockopt_int(fd, libc::SOL_SOCKET, force, size)
        .or_else(|_| setsockopt_int(fd, libc::SOL_SOCKET, plain, size))
}

/// Opens and configures a socket in the calling thread's namespace.
pub fn open_here(protocol: isize, opts: &SocketOptions) -> io::Result<Socket> {
    let mut sock = Socket::new(protocol)?;
    let fd = sock.as_raw_fd();
    sock.bind_auto()?;
    // Extended ACKs and capped ACKs exist since 4.12; strict checking since
    // 4.20. Older kernels refuse the option: run without it.
    let _ = sock.set_ext_ack(true);
    let _ = sock.set_cap_ack(true);
    if opts.strict_check {
        let _ = sock.set_netlink_get_strict_chk(true);
    }
    set_buffer(fd, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, opts.rcvbuf)?;
    set_buffer(fd, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, opts.sndbuf)?;
    if opts.connect_to_kernel {
        sock.connect(&SocketAddr::new(0, 0))?;
    }
    sock.set_non_blocking(true)?;
    Ok(sock)
}

/// Opens a socket in `netns` (or the caller's namespace when `None`). The
/// namespace switch happens on a short-lived std thread, never on a tokio
/// worker.
pub async fn open(
    protocol: isize,
    opts: SocketOptions,
    netns: Option<Arc<OwnedFd>>,
) -> io::Result<Socket> {
    match netns {
        None => open_here(protocol, &opts),
        Some(ns) => netns::run_in(ns, move || open_here(protocol, &opts)).await?,
    }
}

/// Receive-side buffers (separate from the fd so both can be borrowed).
#[derive(Debug)]
struct RxBuf {
    block: BytesMut,
    spill: Vec<u8>,
}

/// A non-blocking netlink socket registered with the tokio reactor.
#[derive(Debug)]
pub struct NlSocket {
    fd: AsyncFd<Socket>,
    rx: RxBuf,
    port: u32,
    rcvbuf: usize,
    /// NETLINK_CAP_ACK is on: error acks carry only the request's header,
    /// so every ack fits a small slot.
    cap_ack: bool,
}

impl NlSocket {
    /// Registers a socket made by [`open`]; must run inside a tokio runtime.
    pub fn new(sock: Socket) -> io::Result<NlSocket> {
        Self::with_interest(sock, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers a request socket for writability only. The kernel queues
    /// the replies to a request before `sendmsg` returns, so the connection
    /// reads them right after sending ([`try_recv`](Self::try_recv)); with
    /// no read interest, no idle runtime worker parked in `epoll_wait` is
    /// woken for each reply the kernel queues meanwhile.
    pub fn new_request(sock: Socket) -> io::Result<NlSocket> {
        Self::with_interest(sock, Interest::WRITABLE)
    }

    fn with_interest(sock: Socket, interest: Interest) -> io::Result<NlSocket> {
        let mut addr = SocketAddr::new(0, 0);
        sock.get_address(&mut addr)?;
        let rcvbuf = getsockopt_int(sock.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF)? as usize;
        let cap_ack = getsockopt_int(sock.as_raw_fd(), libc::SOL_NETLINK, libc::NETLINK_CAP_ACK)
            .is_ok_and(|v| v != 0);
        // Registered with the crate's own runtime, not the caller's: the
        // socket then works from any runtime, and outlives them (see home).
        let _enter = super::home::handle()?.enter();
        Ok(NlSocket {
            // SAFETY: `Socket` owns its fd and keeps it open and unchanged
            // until it is dropped together with the AsyncFd.
            fd: unsafe { AsyncFd::register_with_interest(sock, interest) }
                .map_err(|e| e.into_parts().1)?,
            rx: RxBuf {
                block: BytesMut::new(),
                spill: Vec::new(),
            },
            port: addr.port_number(),
            rcvbuf,
            cap_ack,
        })
    }

    /// Our port id.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// The effective receive buffer, as the kernel accounts it.
    pub fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }

    /// Receives one whole datagram and the port id of its sender.
    /// `ENOBUFS` is returned as an error of that kind: the caller decides
    /// what a lost reply means.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(Bytes, u32)>> {
        // Try first: a dump's next chunk is made inside recvmsg, and a reply
        // is queued before sendmsg returns, so the socket is rarely empty;
        // readiness (from the home thread's reactor) is for when it is.
        match recv_datagram(self.fd.get_ref().as_raw_fd(), &mut self.rx) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            r => return Poll::Ready(r),
        }
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            match recv_datagram(guard.get_inner().as_raw_fd(), &mut self.rx) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                r => return Poll::Ready(r),
            }
        }
    }

    /// Receives a datagram if one is queued, without waiting
    /// (`WouldBlock` when the socket is empty).
    pub fn try_recv(&mut self) -> io::Result<(Bytes, u32)> {
        recv_datagram(self.fd.get_ref().as_raw_fd(), &mut self.rx)
    }

    /// True when acks are capped (NETLINK_CAP_ACK took effect), which
    /// [`try_recv_small`](Self::try_recv_small) relies on.
    pub fn acks_are_small(&self) -> bool {
        self.cap_ack
    }

    /// Receives up to [`SMALL_BATCH`] queued datagrams of at most
    /// [`SMALL_SLOT`] bytes each with one `recvmmsg`, appending them and
    /// their senders to `out` (nothing when the socket is empty). For a
    /// burst of acks, whose size is bounded, this is one system call
    /// instead of one per ack. A longer datagram is cut to the slot size:
    /// the framing layer then fails its own request as truncated.
    pub fn try_recv_small(&mut self, out: &mut Vec<(Bytes, u32)>) -> io::Result<()> {
        recv_small(self.fd.get_ref().as_raw_fd(), &mut self.rx, out)
    }

    /// Sends one datagram to the kernel.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match send_datagram(guard.get_inner().as_raw_fd(), buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                r => return Poll::Ready(r),
            }
        }
    }
}

fn send_datagram(fd: i32, buf: &[u8]) -> io::Result<()> {
    // SAFETY: sockaddr_nl is plain data; zeroed is the kernel's address.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: buf and addr are valid for the duration of the call.
    let n = unsafe {
        libc::sendto(
            fd,
            buf.as_ptr() as *const libc::c_void,
            buf.len(),
            libc::MSG_DONTWAIT,
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize != buf.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "netlink datagram sent partially",
        ));
    }
    Ok(())
}

fn recv_datagram(fd: i32, rx: &mut RxBuf) -> io::Result<(Bytes, u32)> {
    if rx.block.capacity() - rx.block.len() < MIN_SPARE {
        rx.block.reserve(BLOCK);
    }
    if rx.spill.is_empty() {
        // calloc-backed: untouched pages cost no memory.
        rx.spill = vec![0u8; SPILL];
    }
    let spare = rx.block.spare_capacity_mut();
    let spare_len = spare.len();
    let mut iov = [
        libc::iovec {
            iov_base: spare.as_mut_ptr() as *mut libc::c_void,
            iov_len: spare_len,
        },
        libc::iovec {
            iov_base: rx.spill.as_mut_ptr() as *mut libc::c_void,
            iov_len: rx.spill.len(),
        },
    ];
    // SAFETY: zeroed sockaddr_nl/msghdr are valid initial values.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = &mut addr as *mut libc::sockaddr_nl as *mut libc::c_void;
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = 2;
    // MSG_TRUNC makes the kernel return the datagram's real length.
    // SAFETY: every pointer in msg refers to memory live for the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    let total = spare_len + rx.spill.len();
    let got = n.min(total);
    let data = if got <= spare_len {
        // SAFETY: the kernel initialised the first `got` spare bytes.
        unsafe { rx.block.set_len(got) };
        rx.block.split_to(got).freeze()
    } else {
        // SAFETY: as above, the whole spare part was filled.
        unsafe { rx.block.set_len(spare_len) };
        let mut v = Vec::with_capacity(got);
        v.extend_from_slice(&rx.block.split_to(spare_len));
        v.extend_from_slice(&rx.spill[..got - spare_len]);
        Bytes::from(v)
    };
    if n > total {
        // Larger than 4 MiB: cut short. The framing layer sees a message
        // longer than the datagram and fails its request with a clear error.
        tracing::warn!(len = n, "netlink datagram larger than the receive buffers");
    }
    Ok((data, addr.nl_pid))
}

/// Datagrams per `recvmmsg` in [`NlSocket::try_recv_small`].
pub const SMALL_BATCH: usize = 64;
/// Room for each of them: an ack with capped payload is 36 bytes plus the
/// extended-ACK attributes (a short text, an offset, a policy).
pub const SMALL_SLOT: usize = 1024;

fn recv_small(fd: i32, rx: &mut RxBuf, out: &mut Vec<(Bytes, u32)>) -> io::Result<()> {
    const ROOM: usize = SMALL_BATCH * SMALL_SLOT;
    if rx.block.capacity() - rx.block.len() < ROOM {
        rx.block.reserve(BLOCK.max(ROOM));
    }
    let base = rx.block.spare_capacity_mut().as_mut_ptr() as *mut u8;
    // SAFETY: zeroed iovec/sockaddr_nl/mmsghdr are valid initial values.
    let mut iov: [libc::iovec; SMALL_BATCH] = unsafe { std::mem::zeroed() };
    let mut addr: [libc::sockaddr_nl; SMALL_BATCH] = unsafe { std::mem::zeroed() };
    let mut hdr: [libc::mmsghdr; SMALL_BATCH] = unsafe { std::mem::zeroed() };
    for i in 0..SMALL_BATCH {
        // SAFETY: slot i lies inside the spare capacity (ROOM bytes at least).
        iov[i].iov_base = unsafe { base.add(i * SMALL_SLOT) } as *mut libc::c_void;
        iov[i].iov_len = SMALL_SLOT;
        let m = &mut hdr[i].msg_hdr;
        m.msg_name = &mut addr[i] as *mut libc::sockaddr_nl as *mut libc::c_void;
        m.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        m.msg_iov = &mut iov[i];
        m.msg_iovlen = 1;
    }
    // SAFETY: every pointer in hdr refers to memory live for the call.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            hdr.as_mut_ptr(),
            SMALL_BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock => Ok(()),
            _ => Err(e),
        };
    }
    // Pack the datagrams together so the block holds only initialised bytes.
    let mut lens = [0usize; SMALL_BATCH];
    let mut at = 0;
    for i in 0..n as usize {
        let len = (hdr[i].msg_len as usize).min(SMALL_SLOT);
        if hdr[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            tracing::warn!(
                slot = SMALL_SLOT,
                "netlink reply larger than an ack slot, truncated"
            );
        }
        // SAFETY: source and destination lie in the spare capacity; the
        // destination never passes the source (at <= i * SMALL_SLOT).
        unsafe { std::ptr::copy(base.add(i * SMALL_SLOT), base.add(at), len) };
        lens[i] = len;
        at += len;
    }
    // SAFETY: the first `at` spare bytes were written by the kernel (moved).
    unsafe { rx.block.set_len(rx.block.len() + at) };
    let all = rx.block.split_to(at).freeze();
    let mut from = 0;
    for i in 0..n as usize {
        out.push((all.slice(from..from + lens[i]), addr[i].nl_pid));
        from += lens[i];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dgram_pair() -> (i32, i32) {
        let mut fds = [0i32; 2];
        // SAFETY: socketpair fills two fds we then own.
        let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, fds.as_mut_ptr()) };
        assert_eq!(r, 0);
        for fd in fds {
            setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, 8 << 20).unwrap();
            setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 8 << 20).unwrap();
        }
        (fds[0], fds[1])
    }

    fn send(fd: i32, data: &[u8]) {
        // SAFETY: data is live for the call.
        let n = unsafe { libc::send(fd, data.as_ptr() as *const libc::c_void, data.len(), 0) };
        assert_eq!(n as usize, data.len(), "{}", io::Error::last_os_error());
    }

    #[test]
    fn datagrams_larger_than_the_block_are_received_whole() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf {
            block: BytesMut::new(),
            spill: Vec::new(),
        };
        let small: Vec<u8> = (0..100u32).map(|i| i as u8).collect();
        let big: Vec<u8> = (0..(BLOCK as u32 + 12_345))
            .map(|i| (i * 7) as u8)
            .collect();
        for d in [&small, &big, &small] {
            send(a, d);
        }
        for d in [&small, &big, &small] {
            let (got, _) = recv_datagram(b, &mut rx).unwrap();
            assert_eq!(&got[..], &d[..]);
        }
        let e = recv_datagram(b, &mut rx).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        // SAFETY: closing fds we own.
        unsafe {
            libc::close(a);
            libc::close(b);
        }
    }

    #[tokio::test]
    async fn sockets_know_whether_acks_are_capped() {
        let sock = open_here(libc::NETLINK_ROUTE as isize, &SocketOptions::default()).unwrap();
        // Every kernel since 4.3 honours NETLINK_CAP_ACK.
        assert!(NlSocket::new_request(sock).unwrap().acks_are_small());
        let raw = Socket::new(libc::NETLINK_ROUTE as isize).unwrap();
        assert!(!NlSocket::new(raw).unwrap().acks_are_small());
    }

    #[test]
    fn small_datagrams_arrive_in_one_call_and_long_ones_are_cut() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf {
            block: BytesMut::new(),
            spill: Vec::new(),
        };
        let mut out = Vec::new();
        recv_small(b, &mut rx, &mut out).unwrap();
        assert!(out.is_empty(), "an empty socket yields nothing");
        for i in 0..SMALL_BATCH + 3 {
            send(a, &vec![i as u8; 20 + i]);
        }
        send(a, &[9; SMALL_SLOT + 100]);
        recv_small(b, &mut rx, &mut out).unwrap();
        assert_eq!(out.len(), SMALL_BATCH);
        recv_small(b, &mut rx, &mut out).unwrap();
        assert_eq!(out.len(), SMALL_BATCH + 4);
        for (i, (d, _)) in out.iter().take(SMALL_BATCH + 3).enumerate() {
            assert_eq!(&d[..], &vec![i as u8; 20 + i][..], "datagram {i}");
        }
        assert_eq!(&out[SMALL_BATCH + 3].0[..], &[9; SMALL_SLOT][..]);
        // SAFETY: closing fds we own.
        unsafe {
            libc::close(a);
            libc::close(b);
        }
    }

    #[test]
    fn small_datagrams_share_a_block_without_copies() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf {
            block: BytesMut::new(),
            spill: Vec::new(),
        };
        send(a, &[1; 40]);
        send(a, &[2; 40]);
        let (x, _) = recv_datagram(b, &mut rx).unwrap();
        let (y, _) = recv_datagram(b, &mut rx).unwrap();
        assert_eq!((x[0], y[0], x.len(), y.len()), (1, 2, 40, 40));
        // Both are slices of the same allocation.
        assert_eq!(x.as_ptr() as usize + 40, y.as_ptr() as usize);
        // SAFETY: closing fds we own.
        unsafe {
            libc::close(a);
            libc::close(b);
        }
    }
}
