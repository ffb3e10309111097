//! Network namespaces: naming a target, entering it to open sockets, and
//! creating or deleting named namespaces the way `ip netns add/del` does.
//!
//! A socket belongs to the namespace it was created in, so a client for
//! another namespace opens its sockets on a short-lived std thread that calls
//! `setns` first. Tokio worker threads never change namespace.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Where named namespaces live, as with `ip netns`.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// A network namespace to work in.
#[derive(Debug)]
pub enum NetnsTarget {
    /// A name under `/run/netns` (`ip netns add NAME`).
    Name(String),
    /// Any path to a namespace file, e.g. `/proc/1234/ns/net`.
    Path(PathBuf),
    /// An open namespace file descriptor.
    Fd(OwnedFd),
    /// The namespace of a process.
    Pid(u32),
}

impl From<&str> for NetnsTarget {
    /// A string with a `/` is a path (as CNI passes `CNI_NETNS`, e.g.
    /// `/run/netns/x` or `/proc/1234/ns/net`); a bare one is a name under
    /// `/run/netns`, as `ip -n NAME` reads it.
    fn from(name: &str) -> Self {
        NetnsTarget::from(name.to_owned())
    }
}

impl From<String> for NetnsTarget {
    /// As for `&str`: a path when it contains `/`, else a name.
    fn from(name: String) -> Self {
        if name.contains('/') {
            NetnsTarget::Path(PathBuf::from(name))
        } else {
            NetnsTarget::Name(name)
        }
    }
}

impl From<OwnedFd> for NetnsTarget {
    fn from(fd: OwnedFd) -> Self {
        NetnsTarget::Fd(fd)
    }
}

impl From<PathBuf> for NetnsTarget {
    fn from(p: PathBuf) -> Self {
        NetnsTarget::Path(p)
    }
}

impl From<&Path> for NetnsTarget {
    fn from(p: &Path) -> Self {
        NetnsTarget::Path(p.to_owned())
    }
}

impl NetnsTarget {
    pub(crate) fn describe(&self) -> String {
        match self {
            NetnsTarget::Name(n) => n.clone(),
            NetnsTarget::Path(p) => p.display().to_string(),
            NetnsTarget::Fd(fd) => format!("fd {}", fd.as_raw_fd()),
            NetnsTarget::Pid(p) => format!("pid {p}"),
        }
    }

    /// Opens the namespace file and checks that it is a network namespace
    /// (so a wrong path fails here, naming it, not at the first request).
    pub fn open(self) -> Result<OwnedFd> {
        let what = self.describe();
        let path = match self {
            NetnsTarget::Fd(fd) => {
                check_is_netns(&fd, &what)?;
                return Ok(fd);
            }
            NetnsTarget::Name(n) => {
                validate_name(&n)?;
                Path::new(NETNS_RUN_DIR).join(n)
            }
            NetnsTarget::Path(p) => p,
            NetnsTarget::Pid(p) => PathBuf::from(format!("/proc/{p}/ns/net")),
        };
        let fd = File::open(&path)
            .map(OwnedFd::from)
            .map_err(|source| Error::Netns {
                target: what.clone(),
                source,
            })?;
        check_is_netns(&fd, &what)?;
        Ok(fd)
    }
}

/// `NS_GET_NSTYPE` (linux/nsfs.h): `_IO(0xb7, 0x3)`.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Refuses a file that is not a network namespace: any other file, or a
/// namespace of another type (`/proc/PID/ns/mnt`).
fn check_is_netns(fd: &OwnedFd, what: &str) -> Result<()> {
    // SAFETY: an ioctl without an argument on an fd we own.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    let reason = if r == libc::CLONE_NEWNET {
        return Ok(());
    } else if r >= 0 {
        "is a namespace, but not a network namespace".to_string()
    } else {
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ENOTTY) => "is not a namespace file".to_string(),
            e => format!("cannot tell whether it is a namespace: {e}"),
        }
    };
    Err(Error::Netns {
        target: what.to_string(),
        source: io::Error::new(io::ErrorKind::InvalidInput, reason),
    })
}

fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(Error::invalid(
            "netns name",
            format!("{name:?} is not a valid namespace name"),
        ));
    }
    if name.len() > 255 {
        return Err(Error::invalid("netns name", "longer than 255 bytes"));
    }
    Ok(())
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Runs `f` on a fresh std thread that first enters `ns`, and awaits its
/// result without blocking the runtime.
pub(crate) async fn run_in<R, F>(ns: Arc<OwnedFd>, f: F) -> io::Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("tokio-netlink-netns".into())
        .spawn(move || {
            // SAFETY: setns on this thread only; the thread exits right after.
            let r = check(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) }).map(|_| f());
            let _ = tx.send(r);
        })?;
    rx.await
        .map_err(|_| io::Error::other("namespace thread panicked"))?
}

/// Runs a blocking closure on a short-lived std thread and awaits it.
async fn on_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> io::Result<R> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("tokio-netlink-netns".into())
        .spawn(move || {
            let _ = tx.send(f());
        })?;
    rx.await
        .map_err(|_| io::Error::other("namespace thread panicked"))
}

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_encoded_bytes()).map_err(io::Error::other)
}

/// Makes /run/netns a shared mount point, as iproute2 does, so namespace
/// mounts propagate to other mount namespaces.
fn prepare_run_dir() -> io::Result<()> {
    std::fs::create_dir_all(NETNS_RUN_DIR)?;
    let dir = cstr(Path::new(NETNS_RUN_DIR))?;
    let none = CString::new("none").expect("no nul");
    // SAFETY: valid C strings; flags per mount(2).
    let shared = unsafe {
        libc::mount(
            none.as_ptr(),
            dir.as_ptr(),
            std::ptr::null(),
            libc::MS_SHARED | libc::MS_REC,
            std::ptr::null(),
        )
    };
    if shared == 0 {
        return Ok(());
    }
    if io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
        return Err(io::Error::last_os_error());
    }
    // Not a mount point yet: bind it onto itself, then make it shared.
    // SAFETY: as above.
    check(unsafe {
        libc::mount(
            dir.as_ptr(),
            dir.as_ptr(),
            none.as_ptr(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        )
    })?;
    check(unsafe {
        libc::mount(
            none.as_ptr(),
            dir.as_ptr(),
            std::ptr::null(),
            libc::MS_SHARED | libc::MS_REC,
            std::ptr::null(),
        )
    })
}

fn add_blocking(path: &Path) -> io::Result<()> {
    prepare_run_dir()?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let made = (|| {
        // This thread is ours alone: move it into a new namespace and pin
        // that namespace with a bind mount, like `ip netns add`.
        check(unsafe { libc::unshare(libc::CLONE_NEWNET) })?;
        let src = CString::new("/proc/thread-self/ns/net").expect("no nul");
        let dst = cstr(path)?;
        let none = CString::new("none").expect("no nul");
        // SAFETY: valid C strings.
        check(unsafe {
            libc::mount(
                src.as_ptr(),
                dst.as_ptr(),
                none.as_ptr(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        })
    })();
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
    made
}

fn del_blocking(path: &Path) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: valid C string.
    let r = unsafe { libc::umount2(p.as_ptr(), libc::MNT_DETACH) };
    if r < 0 {
        let e = io::Error::last_os_error();
        // Not mounted (EINVAL) still lets us remove a stale file.
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(e);
        }
    }
    std::fs::remove_file(path)
}

/// Creates a named network namespace under `/run/netns` (`ip netns add`).
/// Fails with an `is_exists()` error if the name is taken.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// tokio_netlink::netns::add("blue").await?;
/// let nl = tokio_netlink::Netlink::in_netns("blue")?;
/// # drop(nl);
/// tokio_netlink::netns::del("blue").await?;
/// # Ok(()) }
/// ```
pub async fn add(name: &str) -> Result<()> {
    validate_name(name)?;
    let path = Path::new(NETNS_RUN_DIR).join(name);
    let p = path.clone();
    on_thread(move || add_blocking(&p))
        .await
        .and_then(|r| r)
        .map_err(|source| Error::Netns {
            target: name.to_owned(),
            source,
        })
}

/// Removes a named network namespace (`ip netns del`). The namespace itself
/// lives on while a process or socket still holds it.
pub async fn del(name: &str) -> Result<()> {
    validate_name(name)?;
    let path = Path::new(NETNS_RUN_DIR).join(name);
    on_thread(move || del_blocking(&path))
        .await
        .and_then(|r| r)
        .map_err(|source| Error::Netns {
            target: name.to_owned(),
            source,
        })
}

/// Synchronous [`del`], for cleanup in `Drop` implementations.
pub fn del_sync(name: &str) -> Result<()> {
    validate_name(name)?;
    del_blocking(&Path::new(NETNS_RUN_DIR).join(name)).map_err(|source| Error::Netns {
        target: name.to_owned(),
        source,
    })
}

/// A named namespace that is deleted when the guard goes, also when the
/// code holding it panics: for tests and for plugins that build a
/// namespace and must not leave it behind on failure.
///
/// ```no_run
/// # async fn f() -> tokio_netlink::Result<()> {
/// let ns = tokio_netlink::netns::Scoped::add("blue").await?;
/// let nl = ns.client()?;
/// nl.link().set("lo").up().await?;
/// // `ns` deleted here (or by `ns.del().await?` to see an error).
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Scoped {
    name: Option<String>,
}

impl Scoped {
    /// Creates the namespace `name` under `/run/netns` ([`add`]); an
    /// `is_exists()` error if the name is taken (the guard never deletes a
    /// namespace it did not create).
    pub async fn add(name: &str) -> Result<Scoped> {
        add(name).await?;
        Ok(Scoped {
            name: Some(name.to_owned()),
        })
    }

    /// Creates a namespace with a name of its own, `PREFIX-PID-N`, unique
    /// in this process.
    pub async fn unique(prefix: &str) -> Result<Scoped> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        loop {
            let name = format!(
                "{prefix}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            match Scoped::add(&name).await {
                // Left over by an earlier process with the same pid.
                Err(e) if e.is_exists() => continue,
                r => return r,
            }
        }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        self.name.as_deref().expect("present until dropped")
    }

    /// The namespace's file, `/run/netns/NAME`.
    pub fn path(&self) -> PathBuf {
        Path::new(NETNS_RUN_DIR).join(self.name())
    }

    /// A client working in the namespace.
    pub fn client(&self) -> Result<crate::Netlink> {
        crate::Netlink::in_netns(self.name())
    }

    /// Deletes the namespace now, reporting a failure that `Drop` could
    /// only log.
    pub async fn del(mut self) -> Result<()> {
        let name = self.name.take().expect("present until dropped");
        del(&name).await
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        if let Some(name) = self.name.take()
            && let Err(e) = del_sync(&name)
        {
            tracing::warn!(netns = %name, error = %e, "cannot delete scoped namespace");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused() {
        for n in ["", ".", "..", "a\0b"] {
            let e = NetnsTarget::from(n).open().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "netns name",
                        ..
                    }
                ),
                "{n}"
            );
        }
    }

    #[test]
    fn strings_with_a_slash_are_paths() {
        // As CNI passes CNI_NETNS.
        assert!(matches!(
            NetnsTarget::from("/run/netns/x"),
            NetnsTarget::Path(p) if p == Path::new("/run/netns/x")
        ));
        assert!(matches!(NetnsTarget::from("x"), NetnsTarget::Name(n) if n == "x"));
        assert!(matches!(
            NetnsTarget::from("a/b".to_string()),
            NetnsTarget::Path(_)
        ));
    }

    #[test]
    fn files_that_are_not_network_namespaces_are_refused_at_open() {
        for (path, why) in [
            ("/etc/hostname", "is not a namespace file"),
            ("/proc/self/ns/mnt", "not a network namespace"),
        ] {
            let e = NetnsTarget::from(path).open().unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, Error::Netns { .. }), "{path}: {e:?}");
            assert!(text.contains(path) && text.contains(why), "{text}");
        }
        let fd = OwnedFd::from(File::open("/etc/hostname").unwrap());
        assert!(NetnsTarget::Fd(fd).open().is_err());
        assert!(NetnsTarget::from("/proc/self/ns/net").open().is_ok());
    }

    #[test]
    fn missing_namespace_is_not_found() {
        let e = NetnsTarget::from("tokio-netlink-does-not-exist")
            .open()
            .unwrap_err();
        assert!(e.is_not_found(), "{e}");
        assert!(e.to_string().contains("tokio-netlink-does-not-exist"));
    }
}
