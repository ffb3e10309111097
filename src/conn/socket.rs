//! The netlink socket: opening it (in a namespace when asked), its options,
//! and non-blocking datagram I/O registered with tokio.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use netlink_sys::{Socket, SocketAddr};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::netns;

#[path = "rxbuf.rs"]
mod rxbuf;
use rxbuf::RxBuf;

/// A receive never offers the kernel less room than this, so a dump chunk
/// (at most 32 KiB, sized by the room offered) lands in the block whole;
/// anything longer goes on into the spill region.
const MIN_ROOM: usize = 32 * 1024;

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
            rx: RxBuf::new(),
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
    /// what a lost reply means. Finding the socket empty lets go of its
    /// receive space (see [`release_buffers`](Self::release_buffers)).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(Bytes, u32)>> {
        // Try first: a dump's next chunk is made inside recvmsg, and a reply
        // is queued before sendmsg returns, so the socket is rarely empty;
        // readiness (from the home thread's reactor) is for when it is.
        loop {
            match recv_datagram(self.fd.get_ref().as_raw_fd(), &mut self.rx) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return Poll::Ready(r.map(Received::whole)),
            }
            ready!(self.fd.poll_read_ready(cx))?.clear_ready();
        }
    }

    /// Receives a datagram if one is queued, without waiting
    /// (`WouldBlock` when the socket is empty).
    pub fn try_recv(&mut self) -> io::Result<(Bytes, u32)> {
        self.try_recv_datagram().map(Received::whole)
    }

    /// Like [`try_recv`](Self::try_recv), saying whether the datagram was
    /// cut: it never is unless it is longer than any the kernel makes
    /// (the room of a block plus the spill region, over 4 MiB).
    pub fn try_recv_datagram(&mut self) -> io::Result<Received> {
        recv_datagram(self.fd.get_ref().as_raw_fd(), &mut self.rx)
    }

    /// True when acks are capped (NETLINK_CAP_ACK took effect), which
    /// [`try_recv_small`](Self::try_recv_small) relies on.
    pub fn acks_are_small(&self) -> bool {
        self.cap_ack
    }

    /// Receives up to [`SMALL_BATCH`] queued datagrams of at most
    /// [`SMALL_SLOT`] bytes each with one `recvmmsg`, appending them to
    /// `out` (nothing when the socket is empty). For a burst of acks, whose
    /// size is bounded, this is one system call instead of one per ack. A
    /// longer datagram (a message the kernel sends before an ack: an echo,
    /// the reply to a get) is cut to the slot size and marked
    /// [`cut`](Received::cut), for the caller to judge by its header.
    pub fn try_recv_small(&mut self, out: &mut Vec<Received>) -> io::Result<()> {
        recv_small(self.fd.get_ref().as_raw_fd(), &mut self.rx, out)
    }

    /// The socket is idle (nothing expected for now): gives its receive
    /// space back. Only `Bytes` still held keep that memory alive; the
    /// next receive takes a block again.
    pub fn release_buffers(&mut self) {
        self.rx.release();
    }

    /// Sends one datagram now, without readiness (`WouldBlock` when the
    /// send buffer is full): what an inline caller does on its own thread.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<()> {
        send_datagram(self.fd.get_ref().as_raw_fd(), buf)
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

/// One received datagram.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its bytes (all of them unless `cut`).
    pub bytes: Bytes,
    /// The sender's port id (0 = kernel).
    pub sender: u32,
    /// The datagram was longer than the room for it: `bytes` is its start,
    /// and its last message ends past them.
    pub cut: bool,
}

impl Received {
    fn whole(self) -> (Bytes, u32) {
        if self.cut {
            // The framing layer sees a message longer than the datagram and
            // fails whatever needed it as truncated.
            tracing::warn!(
                len = self.bytes.len(),
                "netlink datagram larger than the receive buffers"
            );
        }
        (self.bytes, self.sender)
    }
}

/// `recvmsg` into `iov`, returning the datagram's real length (MSG_TRUNC)
/// and its sender. Finding the socket empty releases `rx`.
fn recvmsg(fd: i32, iov: &mut [libc::iovec], rx: &mut RxBuf) -> io::Result<(usize, u32)> {
    // SAFETY: zeroed sockaddr_nl/msghdr are valid initial values.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = &mut addr as *mut libc::sockaddr_nl as *mut libc::c_void;
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = iov.len();
    // SAFETY: every pointer in msg refers to memory live for the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            rx.release();
        }
        return Err(e);
    }
    Ok((n as usize, addr.nl_pid))
}

fn recv_datagram(fd: i32, rx: &mut RxBuf) -> io::Result<Received> {
    let (room, room_len) = rx.room(MIN_ROOM)?;
    let room = libc::iovec {
        iov_base: room as *mut libc::c_void,
        iov_len: room_len,
    };
    // The common case, one system call: the datagram fits the room. The
    // kernel does not say how long the next datagram is without a second
    // call (MSG_PEEK), so the room is followed by this thread's spill
    // region, which costs no memory unless a longer datagram fills it.
    let (n, sender, spilled) = rxbuf::with_spill(|spill, spill_len| {
        let mut iov = [
            room,
            libc::iovec {
                iov_base: spill as *mut libc::c_void,
                iov_len: spill_len,
            },
        ];
        match recvmsg(fd, &mut iov, rx) {
            Err(e) => (Err(e), 0),
            Ok((n, sender)) if n <= room_len => (Ok((n, sender, None)), 0),
            Ok((n, sender)) => {
                let got = n.min(room_len + spill_len);
                let mut v = Vec::with_capacity(got);
                // SAFETY: the kernel filled the whole room, then `got -
                // room_len` bytes of the spill region.
                unsafe {
                    v.extend_from_slice(rx.peek(room_len));
                    v.extend_from_slice(std::slice::from_raw_parts(spill, got - room_len));
                }
                (Ok((n, sender, Some(v))), got - room_len)
            }
        }
    })??;
    Ok(match spilled {
        // SAFETY: the kernel wrote the first `n` bytes of the room.
        None => Received {
            bytes: unsafe { rx.take(n, false) },
            sender,
            cut: false,
        },
        Some(v) => Received {
            cut: v.len() < n,
            bytes: Bytes::from(v),
            sender,
        },
    })
}

/// Datagrams per `recvmmsg` in [`NlSocket::try_recv_small`].
pub const SMALL_BATCH: usize = 64;
/// Room for each of them: an ack with capped payload is 36 bytes plus the
/// extended-ACK attributes (a short text, an offset, a policy).
pub const SMALL_SLOT: usize = 1024;

fn recv_small(fd: i32, rx: &mut RxBuf, out: &mut Vec<Received>) -> io::Result<()> {
    const ROOM: usize = SMALL_BATCH * SMALL_SLOT;
    let (base, _) = rx.room(ROOM)?;
    // SAFETY: zeroed iovec/sockaddr_nl/mmsghdr are valid initial values.
    let mut iov: [libc::iovec; SMALL_BATCH] = unsafe { std::mem::zeroed() };
    let mut addr: [libc::sockaddr_nl; SMALL_BATCH] = unsafe { std::mem::zeroed() };
    let mut hdr: [libc::mmsghdr; SMALL_BATCH] = unsafe { std::mem::zeroed() };
    for i in 0..SMALL_BATCH {
        // SAFETY: slot i lies inside the room (ROOM bytes at least).
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
            io::ErrorKind::WouldBlock => {
                rx.release();
                Ok(())
            }
            _ => Err(e),
        };
    }
    // Pack the datagrams together so what is carved is only what the
    // kernel wrote.
    let mut lens = [0usize; SMALL_BATCH];
    let mut cut = [false; SMALL_BATCH];
    let mut at = 0;
    for i in 0..n as usize {
        let len = (hdr[i].msg_len as usize).min(SMALL_SLOT);
        cut[i] = hdr[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        // SAFETY: source and destination lie in the room; the destination
        // never passes the source (at <= i * SMALL_SLOT).
        unsafe { std::ptr::copy(base.add(i * SMALL_SLOT), base.add(at), len) };
        lens[i] = len;
        at += len;
    }
    // Carved, not copied: the multiplexer reads acks and drops them.
    // SAFETY: the first `at` bytes of the room were written (moved) above.
    let all = unsafe { rx.take(at, true) };
    let mut from = 0;
    for i in 0..n as usize {
        out.push(Received {
            bytes: all.slice(from..from + lens[i]),
            sender: addr[i].nl_pid,
            cut: cut[i],
        });
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

    fn close(fds: [i32; 2]) {
        // SAFETY: closing fds we own.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn datagrams_larger_than_the_room_are_received_whole() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf::new();
        let small: Vec<u8> = (0..100u32).map(|i| i as u8).collect();
        let pattern = |n: usize| -> Vec<u8> { (0..n as u32).map(|i| (i * 7) as u8).collect() };
        // Longer than the room offered, than a block, and a dump chunk.
        let (mid, big, chunk) = (
            pattern(MIN_ROOM + 999),
            pattern(rxbuf::BLOCK + 12_345),
            pattern(30_000),
        );
        let all = [
            &small, &big, &small, &mid, &chunk, &chunk, &chunk, &chunk, &chunk,
        ];
        for d in all {
            send(a, d);
        }
        let mut held = Vec::new();
        for d in all {
            let got = recv_datagram(b, &mut rx).unwrap();
            assert!(!got.cut);
            assert_eq!(&got.bytes[..], &d[..]);
            held.push(got.bytes);
        }
        // Every datagram held stayed intact while the later ones arrived.
        for (got, d) in held.iter().zip(all) {
            assert_eq!(&got[..], &d[..]);
        }
        let e = recv_datagram(b, &mut rx).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        close([a, b]);
    }

    #[test]
    fn a_datagram_beyond_the_spill_region_is_marked_cut() {
        // Only a user-space netlink sender can make a datagram this long
        // (the kernel allocates its own linearly, at most 4 MiB).
        let open = || {
            let s = Socket::new(libc::NETLINK_USERSOCK as isize).unwrap();
            let fd = s.as_raw_fd();
            for (force, size) in [
                (libc::SO_SNDBUFFORCE, 16 << 20),
                (libc::SO_RCVBUFFORCE, 16 << 20),
            ] {
                setsockopt_int(fd, libc::SOL_SOCKET, force, size).unwrap();
            }
            let mut s = s;
            s.bind_auto().unwrap();
            s
        };
        let (tx, rx_sock) = (open(), open());
        let mut addr = SocketAddr::new(0, 0);
        rx_sock.get_address(&mut addr).unwrap();
        let huge = vec![5u8; rxbuf::BLOCK + rxbuf::SPILL + 4096];
        let n = tx
            .send_to(&huge, &SocketAddr::new(addr.port_number(), 0), 0)
            .unwrap();
        assert_eq!(n, huge.len());
        let mut rx = RxBuf::new();
        let got = recv_datagram(rx_sock.as_raw_fd(), &mut rx).unwrap();
        assert!(got.cut);
        assert!(got.bytes.len() > rxbuf::SPILL && got.bytes.len() < huge.len());
        assert!(got.bytes.iter().all(|&x| x == 5));
        assert_eq!(got.sender, {
            let mut a = SocketAddr::new(0, 0);
            tx.get_address(&mut a).unwrap();
            a.port_number()
        });
    }

    #[test]
    fn finding_the_socket_empty_gives_the_receive_space_back() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf::new();
        assert!(!rx.holds_block(), "nothing before the first receive");
        let long = vec![3u8; rxbuf::COPY_MAX + 1];
        send(a, &long);
        send(a, &[1; 40]);
        let x = recv_datagram(b, &mut rx).unwrap().bytes;
        let y = recv_datagram(b, &mut rx).unwrap().bytes;
        assert!(rx.holds_block());
        let e = recv_datagram(b, &mut rx).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(!rx.holds_block(), "an idle socket holds no block");
        // What the user holds is unaffected.
        assert_eq!((&x[..], &y[..]), (&long[..], &[1; 40][..]));
        let mut out = Vec::new();
        send(a, &[2; 40]);
        recv_small(b, &mut rx, &mut out).unwrap();
        assert!(rx.holds_block());
        recv_small(b, &mut rx, &mut out).unwrap();
        assert!(!rx.holds_block(), "the same for recvmmsg");
        close([a, b]);
    }

    #[test]
    fn short_datagrams_are_copied_and_long_ones_carved_from_the_block() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf::new();
        let long = vec![1u8; rxbuf::COPY_MAX + 1];
        send(a, &long);
        send(a, &long);
        send(a, &[7; 40]);
        send(a, &[8; 40]);
        let x = recv_datagram(b, &mut rx).unwrap().bytes;
        let y = recv_datagram(b, &mut rx).unwrap().bytes;
        // Both are slices of the same block, one after the other.
        assert_eq!(x.as_ptr() as usize + x.len(), y.as_ptr() as usize);
        let s = recv_datagram(b, &mut rx).unwrap().bytes;
        let t = recv_datagram(b, &mut rx).unwrap().bytes;
        // Copies: each its own allocation, outside the block.
        let block = x.as_ptr() as usize..x.as_ptr() as usize + rxbuf::BLOCK;
        assert!(!block.contains(&(s.as_ptr() as usize)));
        assert!(!block.contains(&(t.as_ptr() as usize)));
        assert_eq!((&s[..], &t[..]), (&[7; 40][..], &[8; 40][..]));
        close([a, b]);
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
    fn small_datagrams_arrive_in_one_call_and_long_ones_are_marked_cut() {
        let (a, b) = dgram_pair();
        let mut rx = RxBuf::new();
        let mut out = Vec::new();
        recv_small(b, &mut rx, &mut out).unwrap();
        assert!(out.is_empty(), "an empty socket yields nothing");
        for i in 0..SMALL_BATCH + 3 {
            send(a, &vec![i as u8; 20 + i]);
        }
        send(a, &[9; SMALL_SLOT + 100]);
        send(a, &[6; SMALL_SLOT]);
        recv_small(b, &mut rx, &mut out).unwrap();
        assert_eq!(out.len(), SMALL_BATCH);
        recv_small(b, &mut rx, &mut out).unwrap();
        assert_eq!(out.len(), SMALL_BATCH + 5);
        for (i, d) in out.iter().take(SMALL_BATCH + 3).enumerate() {
            assert_eq!(&d.bytes[..], &vec![i as u8; 20 + i][..], "datagram {i}");
            assert!(!d.cut, "datagram {i}");
        }
        let (long, full) = (&out[SMALL_BATCH + 3], &out[SMALL_BATCH + 4]);
        assert_eq!((&long.bytes[..], long.cut), (&[9; SMALL_SLOT][..], true));
        assert_eq!((&full.bytes[..], full.cut), (&[6; SMALL_SLOT][..], false));
        close([a, b]);
    }
}
