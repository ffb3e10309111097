//! tun and tap devices, created through /dev/net/tun as iproute2 does
//! (`ip tuntap add`): the kernel has no netlink request that creates them.

use std::fs::OpenOptions;
use std::future::{Future, IntoFuture};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;

use super::add::{Common, common_setters};
use super::{LinkHandle, LinkSet, validate_name};
use crate::error::{Error, Result};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETPERSIST: libc::c_ulong = 0x4004_54cb;
const TUNSETOWNER: libc::c_ulong = 0x4004_54cc;
const TUNSETGROUP: libc::c_ulong = 0x4004_54ce;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_MULTI_QUEUE: libc::c_short = 0x0100;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;

/// tun (layer 3) or tap (layer 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TunTapMode {
    /// `mode tun`: IP packets.
    Tun,
    /// `mode tap`: Ethernet frames.
    Tap,
}

/// A tun/tap device to create (`ip tuntap add NAME mode tun|tap …`).
#[derive(Debug, Clone)]
pub struct TunTap {
    mode: TunTapMode,
    owner: Option<u32>,
    group: Option<u32>,
    persist: bool,
    queues: usize,
    multi_queue: bool,
    packet_info: bool,
    vnet_hdr: bool,
}

impl TunTap {
    fn new(mode: TunTapMode) -> Self {
        TunTap {
            mode,
            owner: None,
            group: None,
            persist: true,
            queues: 1,
            multi_queue: false,
            packet_info: false,
            vnet_hdr: false,
        }
    }

    /// A tun device.
    pub fn tun() -> Self {
        Self::new(TunTapMode::Tun)
    }

    /// A tap device.
    pub fn tap() -> Self {
        Self::new(TunTapMode::Tap)
    }

    /// `user UID`: who may attach without CAP_NET_ADMIN.
    #[inline]
    pub fn owner(mut self, uid: u32) -> Self {
        self.owner = Some(uid);
        self
    }

    /// `group GID`.
    #[inline]
    pub fn group(mut self, gid: u32) -> Self {
        self.group = Some(gid);
        self
    }

    /// Keep the device after its file descriptors close (default: yes, as
    /// `ip tuntap add`). Without it the device lives as long as the fds the
    /// add returns.
    #[inline]
    pub fn persist(mut self, on: bool) -> Self {
        self.persist = on;
        self
    }

    /// `multi_queue` with `n` queues (one fd each). The device is
    /// multi-queue (IFF_MULTI_QUEUE) whatever `n` is, so `multi_queue(1)`
    /// makes a multi-queue device with one queue attached, to which more
    /// can attach later; `n` = 0 is refused when the device is created.
    #[inline]
    pub fn multi_queue(mut self, n: usize) -> Self {
        self.queues = n;
        self.multi_queue = true;
        self
    }

    /// `pi`: prefix packets with struct tun_pi.
    #[inline]
    pub fn packet_info(mut self, on: bool) -> Self {
        self.packet_info = on;
        self
    }

    /// `vnet_hdr`: prefix packets with struct virtio_net_hdr.
    #[inline]
    pub fn vnet_hdr(mut self, on: bool) -> Self {
        self.vnet_hdr = on;
        self
    }

    fn flags(&self) -> libc::c_short {
        let mut f = match self.mode {
            TunTapMode::Tun => IFF_TUN,
            TunTapMode::Tap => IFF_TAP,
        };
        if !self.packet_info {
            f |= IFF_NO_PI;
        }
        if self.vnet_hdr {
            f |= IFF_VNET_HDR;
        }
        if self.multi_queue {
            f |= IFF_MULTI_QUEUE;
        }
        f
    }

    /// Opens /dev/net/tun once per queue and attaches each fd to `name`.
    /// Runs in the calling thread's namespace.
    fn create_here(&self, name: &str) -> io::Result<Vec<OwnedFd>> {
        let mut fds = Vec::new();
        for q in 0..self.queues.max(1) {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/net/tun")?;
            // struct ifreq: 16 bytes of name, then a short of flags.
            let mut ifr = [0u8; 40];
            ifr[..name.len()].copy_from_slice(name.as_bytes());
            ifr[16..18].copy_from_slice(&self.flags().to_ne_bytes());
            ioctl(&f, TUNSETIFF, ifr.as_mut_ptr() as libc::c_ulong)?;
            if q == 0 {
                if let Some(uid) = self.owner {
                    ioctl(&f, TUNSETOWNER, uid as libc::c_ulong)?;
                }
                if let Some(gid) = self.group {
                    ioctl(&f, TUNSETGROUP, gid as libc::c_ulong)?;
                }
                if self.persist {
                    ioctl(&f, TUNSETPERSIST, 1)?;
                }
            }
            fds.push(OwnedFd::from(f));
        }
        Ok(fds)
    }
}

fn ioctl(f: &std::fs::File, req: libc::c_ulong, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the tun ioctls take an int or a pointer to a live ifreq.
    if unsafe { libc::ioctl(f.as_raw_fd(), req, arg) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Builder of a tun/tap creation; `.await` gives the device's queue fds.
#[must_use = "nothing is created until the builder is awaited"]
#[derive(Debug)]
pub struct TunTapAdd {
    handle: LinkHandle,
    name: String,
    spec: TunTap,
    pub(crate) common: Common,
}

impl TunTapAdd {
    pub(crate) fn new(handle: LinkHandle, name: &str, spec: TunTap) -> Self {
        TunTapAdd {
            handle,
            name: name.to_owned(),
            spec,
            common: Common::default(),
        }
    }

    common_setters!();

    async fn run(mut self) -> Result<Vec<OwnedFd>> {
        validate_name("name", &self.name)?;
        // Before the device exists: a bad setting must not leave it behind.
        if let Some(e) = self.common.error.take() {
            return Err(e);
        }
        if self.spec.queues == 0 {
            return Err(Error::invalid("multi_queue", "needs at least one queue"));
        }
        let spec = self.spec.clone();
        let name = self.name.clone();
        let made = match self.handle.netns() {
            // The device is created in the namespace of the thread calling
            // TUNSETIFF.
            Some(ns) => crate::netns::run_in(ns, move || spec.create_here(&name)).await?,
            None => spec.create_here(&name),
        };
        let fds = made.map_err(|e| {
            Error::Io(io::Error::new(
                e.kind(),
                format!("creating tun/tap {:?}: {e}", self.name),
            ))
        })?;
        let mut set = LinkSet::new(self.handle.clone(), self.name.as_str().into());
        set.common = self.common;
        set.await?;
        Ok(fds)
    }
}

impl IntoFuture for TunTapAdd {
    type Output = Result<Vec<OwnedFd>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Vec<OwnedFd>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A tun/tap device as the kernel reports it (IFLA_TUN_*), read by
/// [`Link::tun`](super::Link::tun). Accessors are `None` when the kernel
/// did not say.
#[derive(Debug, Clone, Copy)]
pub struct TunInfo<'a> {
    nest: &'a [u8],
}

impl<'a> TunInfo<'a> {
    pub(crate) fn new(nest: &'a [u8]) -> Self {
        TunInfo { nest }
    }

    fn u8(&self, ty: u16) -> Option<u8> {
        crate::conn::attrs::nested_get(self.nest, ty).and_then(crate::conn::attrs::u8_of)
    }

    fn u32(&self, ty: u16) -> Option<u32> {
        crate::conn::attrs::nested_get(self.nest, ty).and_then(crate::conn::attrs::u32_of)
    }

    /// The owning user (`user`); `None` also when unrestricted (-1).
    pub fn owner(&self) -> Option<u32> {
        self.u32(1).filter(|&u| u != u32::MAX)
    }

    /// The owning group (`group`); `None` also when unrestricted.
    pub fn group(&self) -> Option<u32> {
        self.u32(2).filter(|&g| g != u32::MAX)
    }

    /// `tun` or `tap` (IFF_TUN 1, IFF_TAP 2).
    pub fn mode(&self) -> Option<TunTapMode> {
        match self.u8(3)? {
            1 => Some(TunTapMode::Tun),
            2 => Some(TunTapMode::Tap),
            _ => None,
        }
    }

    /// Packet information header (`pi`; off is IFF_NO_PI).
    pub fn pi(&self) -> Option<bool> {
        self.u8(4).map(|v| v != 0)
    }

    /// `vnet_hdr`.
    pub fn vnet_hdr(&self) -> Option<bool> {
        self.u8(5).map(|v| v != 0)
    }

    /// `persist`.
    pub fn persist(&self) -> Option<bool> {
        self.u8(6).map(|v| v != 0)
    }

    /// `multi_queue`.
    pub fn multi_queue(&self) -> Option<bool> {
        self.u8(7).map(|v| v != 0)
    }

    /// Queues attached now (`numqueues`).
    pub fn num_queues(&self) -> Option<u32> {
        self.u32(8)
    }

    /// Queues detached (`numdisabledqueues`).
    pub fn num_disabled_queues(&self) -> Option<u32> {
        self.u32(9)
    }
}
