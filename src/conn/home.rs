//! The crate's own I/O runtime: one thread, started on first use, whose
//! reactor every socket is registered with, whose timer every timeout uses,
//! and on which the request connections run.
//!
//! Why not the caller's runtime: a connection spawned on the runtime of the
//! first request stalls every other runtime's requests when that one idles
//! (a current-thread runtime not being driven), dies with it when it is
//! dropped, and panics when it lacks a driver. A socket registered with a
//! dropped runtime's reactor fails forever. With one home that is always
//! driven and never shut down, the crate works from any runtime (or from
//! none: its futures are plain futures), and a client outlives the runtimes
//! that used it.
//!
//! The thread is shared by every client of the process; it only moves bytes
//! between sockets and requests (the kernel's work happens in its system
//! calls), so one is enough for what two cores can feed it.

use std::future::Future;
use std::io;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::runtime::{Builder, Handle};
use tokio::time::{Sleep, Timeout};

static HOME: OnceLock<Handle> = OnceLock::new();
static START: Mutex<()> = Mutex::new(());

/// The home runtime, started on first use.
pub(crate) fn handle() -> io::Result<&'static Handle> {
    if let Some(h) = HOME.get() {
        return Ok(h);
    }
    let _once = START.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = HOME.get() {
        return Ok(h);
    }
    let rt = Builder::new_current_thread().enable_all().build()?;
    let h = rt.handle().clone();
    std::thread::Builder::new()
        .name("tokio-netlink-io".into())
        // Never returns: the runtime lives as long as the process.
        .spawn(move || rt.block_on(std::future::pending::<()>()))?;
    Ok(HOME.get_or_init(|| h))
}

/// A sleep on the home runtime's timer, usable from any runtime (or none).
pub(crate) fn sleep(d: Duration) -> io::Result<Sleep> {
    let _enter = handle()?.enter();
    Ok(tokio::time::sleep(d))
}

/// `tokio::time::timeout` on the home runtime's timer.
pub(crate) fn timeout<F: Future>(d: Duration, f: F) -> io::Result<Timeout<F>> {
    let _enter = handle()?.enter();
    Ok(tokio::time::timeout(d, f))
}

/// Spawns a connection task on the home runtime.
pub(crate) fn spawn<F>(f: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    handle()?.spawn(f);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_work_without_a_caller_runtime() {
        // No tokio runtime here: the sleep is driven by the home thread.
        let t = std::time::Instant::now();
        futures::executor::block_on(sleep(Duration::from_millis(20)).unwrap());
        assert!(t.elapsed() >= Duration::from_millis(20));
        let r = futures::executor::block_on(
            timeout(Duration::from_millis(10), std::future::pending::<()>()).unwrap(),
        );
        assert!(r.is_err(), "a pending future times out");
    }
}
