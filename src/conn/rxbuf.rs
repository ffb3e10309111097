//! Receive space for a socket: memory mapped from the kernel directly, not
//! taken from the allocator, so what it costs is the same under any malloc
//! and tuning.
//!
//! - A socket holds no memory until it receives, and gives its block back
//!   when it goes idle ([`RxBuf::release`]); only `Bytes` the user still
//!   holds keep a block alive, and the last one gives it back.
//! - Datagrams longer than [`COPY_MAX`] (dump chunks) are carved out of the
//!   block with no copy; shorter ones (acks, replies to gets, notifications)
//!   are copied to their own allocation, so a short reply kept by the user
//!   never holds a whole block.
//! - A block nobody else holds is reused from its start, so a streaming
//!   consumer keeps receiving into the same warm pages; a few free blocks
//!   are kept for the next socket ([`FREE_BLOCKS`], a bounded amount).
//! - A datagram larger than the room left spills into a per-thread region
//!   whose pages are resident only while such a datagram is being copied
//!   out (they are discarded right after).
//!
//! Before, each socket had a 256 KiB heap block and a 4 MiB calloc'd spill
//! buffer assumed never to become resident; once glibc's mmap threshold had
//! risen (it does when a large block is freed), both came from recycled,
//! resident heap, and 500 idle clients took gigabytes.

use std::cell::RefCell;
use std::io;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// Size of a receive block.
pub(super) const BLOCK: usize = 128 * 1024;
/// Datagrams up to this long are copied out of the block rather than
/// carved from it.
pub(super) const COPY_MAX: usize = 4096;
/// Blocks kept for reuse once no socket or `Bytes` holds them: at most
/// 1 MiB stays resident for the next socket that receives.
const FREE_BLOCKS: usize = 8;
/// Size of the per-thread spill region. The kernel allocates a netlink
/// datagram linearly (at most 4 MiB on x86-64), so with the room of a
/// block it is received whole.
pub(super) const SPILL: usize = 4 << 20;

/// An anonymous private mapping, unmapped on drop. Untouched pages of it
/// are not resident: that is the kernel's rule, not an allocator's habit.
#[derive(Debug)]
struct Map {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Map is plain memory; who may write where is ruled by RxBuf.
unsafe impl Send for Map {}
// SAFETY: as above; shared access only ever reads.
unsafe impl Sync for Map {}

impl Map {
    fn new(len: usize) -> io::Result<Map> {
        // SAFETY: an anonymous mapping with no address hint has no
        // preconditions.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p as *mut u8).ok_or_else(io::Error::last_os_error)?;
        Ok(Map { ptr, len })
    }

    /// Hands the pages under the first `len` bytes back to the kernel; they
    /// read as zeros afterwards.
    fn discard(&self, len: usize) {
        // SAFETY: the range lies inside our mapping (the kernel rounds the
        // length up to whole pages, which are ours too).
        unsafe {
            libc::madvise(
                self.ptr.as_ptr() as *mut libc::c_void,
                len.min(self.len),
                libc::MADV_DONTNEED,
            )
        };
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping we made; nothing refers to it any
        // more (a Map is dropped only once its block has no user).
        unsafe { libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len) };
    }
}

/// Blocks no one holds, kept warm for the next receive.
static FREE: Mutex<Vec<Map>> = Mutex::new(Vec::new());

/// A receive block, shared by the socket receiving into it and the `Bytes`
/// carved from it; the last of them puts it on the free list.
#[derive(Debug)]
struct Block(Option<Map>);

impl Block {
    fn take() -> io::Result<Block> {
        let reused = FREE.lock().ok().and_then(|mut f| f.pop());
        Ok(Block(Some(match reused {
            Some(m) => m,
            None => Map::new(BLOCK)?,
        })))
    }

    fn ptr(&self) -> *mut u8 {
        self.0
            .as_ref()
            .expect("a live block has its map")
            .ptr
            .as_ptr()
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        let Some(map) = self.0.take() else { return };
        let unkept = match FREE.lock() {
            Ok(mut free) if free.len() < FREE_BLOCKS => {
                free.push(map);
                None
            }
            _ => Some(map),
        };
        // Unmapped outside the lock.
        drop(unkept);
    }
}

/// Bytes carved from a block, keeping it alive.
struct Piece {
    block: Arc<Block>,
    off: usize,
    len: usize,
}

impl AsRef<[u8]> for Piece {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the kernel wrote these bytes before the piece was made,
        // and RxBuf never writes where a live piece lies.
        unsafe { std::slice::from_raw_parts(self.block.ptr().add(self.off), self.len) }
    }
}

/// The receive space of one socket.
#[derive(Debug, Default)]
pub(super) struct RxBuf {
    /// The block being received into; `None` while idle.
    block: Option<Arc<Block>>,
    /// Where the room starts in it: everything before may be carved out.
    at: usize,
}

impl RxBuf {
    /// No memory until the first receive.
    pub(super) fn new() -> RxBuf {
        RxBuf::default()
    }

    /// True while a block is held.
    #[cfg(test)]
    pub(super) fn holds_block(&self) -> bool {
        self.block.is_some()
    }

    /// At least `need` (at most [`BLOCK`]) writable bytes: their start and
    /// how many there are. Nothing carved out lies in them.
    pub(super) fn room(&mut self, need: usize) -> io::Result<(*mut u8, usize)> {
        debug_assert!(need <= BLOCK);
        if let Some(b) = self.block.as_mut()
            && Arc::get_mut(b).is_some()
        {
            // Nothing carved from it is alive: start over in warm pages.
            self.at = 0;
        }
        if self.block.is_none() || BLOCK - self.at < need {
            self.block = Some(Arc::new(Block::take()?));
            self.at = 0;
        }
        let block = self.block.as_ref().expect("just ensured");
        // SAFETY: `at` is at most BLOCK, inside the mapping.
        Ok((unsafe { block.ptr().add(self.at) }, BLOCK - self.at))
    }

    /// The first `len` bytes of the room, which the caller has had the
    /// kernel write, as `Bytes`: carved out with no copy when `carve` or
    /// longer than [`COPY_MAX`], copied otherwise.
    ///
    /// # Safety
    /// `room` gave room of at least `len` bytes since the last `take`,
    /// and all `len` of them were written.
    pub(super) unsafe fn take(&mut self, len: usize, carve: bool) -> Bytes {
        let block = self.block.as_ref().expect("room() came first");
        if !carve && len <= COPY_MAX {
            // SAFETY: written by the kernel, per the contract.
            return Bytes::copy_from_slice(unsafe {
                std::slice::from_raw_parts(block.ptr().add(self.at), len)
            });
        }
        let piece = Piece {
            block: block.clone(),
            off: self.at,
            len,
        };
        self.at += len;
        Bytes::from_owner(piece)
    }

    /// The first `len` bytes of the room, read in place.
    ///
    /// # Safety
    /// As for [`take`](Self::take).
    pub(super) unsafe fn peek(&self, len: usize) -> &[u8] {
        let block = self.block.as_ref().expect("room() came first");
        // SAFETY: written by the kernel, per the contract.
        unsafe { std::slice::from_raw_parts(block.ptr().add(self.at), len) }
    }

    /// The socket is idle: lets go of the block. Bytes carved from it keep
    /// it alive; when none are, it goes back at once.
    pub(super) fn release(&mut self) {
        self.block = None;
        self.at = 0;
    }
}

thread_local! {
    static SPILL_MAP: RefCell<Option<Map>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's spill region (start, length), mapped on
/// first use; `f` returns its result and how many bytes of the region it
/// filled, whose pages are discarded afterwards.
pub(super) fn with_spill<R>(f: impl FnOnce(*mut u8, usize) -> (R, usize)) -> io::Result<R> {
    let run = |map: &Map| {
        let (r, used) = f(map.ptr.as_ptr(), map.len);
        if used > 0 {
            map.discard(used);
        }
        r
    };
    let mut f = Some(run);
    let here = SPILL_MAP.try_with(|cell| -> io::Result<R> {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Map::new(SPILL)?);
        }
        let run = f.take().expect("called once");
        Ok(run(slot.as_ref().expect("just mapped")))
    });
    match here {
        Ok(r) => r,
        // The thread is exiting and its region is gone: a temporary one.
        Err(_) => Ok((f.take().expect("not called"))(&Map::new(SPILL)?)),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Resident pages of the first `len` bytes at `ptr` (page aligned).
    pub(crate) fn resident_pages(ptr: *mut u8, len: usize) -> usize {
        let page = 4096;
        let mut vec = vec![0u8; len.div_ceil(page)];
        // SAFETY: mincore reads the page table for a range we mapped.
        let r = unsafe { libc::mincore(ptr as *mut libc::c_void, len, vec.as_mut_ptr()) };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        vec.iter().filter(|&&v| v & 1 != 0).count()
    }

    fn fill(rx: &mut RxBuf, data: &[u8], carve: bool) -> Bytes {
        let (p, n) = rx.room(data.len()).unwrap();
        assert!(n >= data.len());
        // SAFETY: writing into the room we were given, then taking it.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
            rx.take(data.len(), carve)
        }
    }

    #[test]
    fn nothing_is_mapped_until_the_first_receive_and_after_release() {
        let mut rx = RxBuf::new();
        assert!(!rx.holds_block());
        let b = fill(&mut rx, &[7; 100], false);
        assert!(rx.holds_block());
        rx.release();
        assert!(!rx.holds_block());
        assert_eq!(&b[..], &[7; 100][..], "a copy outlives the block");
    }

    #[test]
    fn carved_bytes_stay_intact_while_the_block_is_reused_or_released() {
        let mut rx = RxBuf::new();
        let big = vec![1u8; COPY_MAX + 1];
        let a = fill(&mut rx, &big, false);
        let b = fill(&mut rx, &[2; 64], true);
        assert_eq!(a.as_ptr() as usize + a.len(), b.as_ptr() as usize, "carved");
        // `a` and `b` are held: the room moves on rather than overwrite them.
        let c = fill(&mut rx, &[3; 64], true);
        rx.release();
        let d = fill(&mut rx, &vec![4u8; BLOCK / 2][..], true);
        assert_eq!(&a[..], &big[..]);
        assert_eq!((&b[..], &c[..]), (&[2; 64][..], &[3; 64][..]));
        assert_eq!(d.len(), BLOCK / 2);
        let at = d.as_ptr();
        drop((a, b, c, d));
        // Nothing carved is alive: the next datagram lands at the start.
        let e = fill(&mut rx, &vec![5u8; COPY_MAX + 1][..], false);
        assert_eq!(e.as_ptr(), at, "the block is reused from its start");
    }

    #[test]
    fn the_spill_region_is_not_resident_after_use() {
        let used = with_spill(|p, n| {
            assert_eq!(n, SPILL);
            // SAFETY: the spill region is ours while `f` runs.
            unsafe { std::ptr::write_bytes(p, 0xAB, 1 << 20) };
            let touched = resident_pages(p, SPILL);
            ((p as usize, touched), 1 << 20)
        })
        .unwrap();
        assert!(used.1 >= 256, "writing made pages resident: {}", used.1);
        let after = with_spill(|p, _| (resident_pages(p, SPILL), 0)).unwrap();
        assert_eq!(after, 0, "pages written are discarded after use");
        let same = with_spill(|p, _| (p as usize, 0)).unwrap();
        assert_eq!(same, used.0, "one region per thread");
    }
}
