//! The crate's one error type.

use std::fmt;
use std::io;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a request asked for: its netlink message type and, when the family
/// knows it, its name (`RTM_NEWLINK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestKind {
    /// The netlink message type of the request.
    pub message_type: u16,
    /// The symbolic name, e.g. `"RTM_NEWLINK"`.
    pub name: Option<&'static str>,
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(n) => f.write_str(n),
            None => write!(f, "netlink message type {}", self.message_type),
        }
    }
}

/// An error the kernel answered with (a negative code in NLMSG_ERROR or
/// NLMSG_DONE), with the extended ACK when the kernel gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// Positive errno, e.g. 17 for EEXIST.
    pub errno: i32,
    /// The kernel's extended-ACK text (NLMSGERR_ATTR_MSG).
    pub message: Option<String>,
    /// Offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS).
    pub offset: Option<u32>,
    /// The request that failed.
    pub request: RequestKind,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {}",
            self.request,
            io::Error::from_raw_os_error(self.errno)
        )?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for KernelError {}

/// Everything that can go wrong in tokio-netlink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the request.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// Input refused before anything was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field, in `ip`'s vocabulary where there is one.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The connection task has stopped (socket error, runtime shut down, or a
    /// previous fatal error); the request was not, or may not have been, done.
    #[error("netlink connection closed{}", .0.as_deref().map(|c| format!(": {c}")).unwrap_or_default())]
    ConnectionClosed(Option<String>),
    /// The kernel flagged the dump with NLM_F_DUMP_INTR: the object set
    /// changed while it was being dumped, so what was read may be inconsistent.
    #[error("dump interrupted by a concurrent change (NLM_F_DUMP_INTR); retry it")]
    DumpInterrupted,
    /// The socket's receive buffer overflowed (ENOBUFS) while the request was
    /// in flight: its reply may have been dropped by the kernel, so whether it
    /// took effect is unknown.
    #[error("{0}: reply lost, the receive buffer overflowed (ENOBUFS); the outcome is unknown")]
    ReplyLost(RequestKind),
    /// No reply within the request's timeout.
    #[error("{0}: timed out waiting for the kernel's reply")]
    Timeout(RequestKind),
    /// A reply could not be decoded (truncated, malformed or of a type the
    /// codec does not know).
    #[error("{request}: undecodable reply: {reason}")]
    Decode {
        /// The request whose reply failed to decode.
        request: RequestKind,
        /// What the decoder said.
        reason: String,
    },
    /// The network namespace could not be opened, entered, created or removed.
    #[error("network namespace {target}: {source}")]
    Netns {
        /// Which namespace.
        target: String,
        /// The system error.
        source: io::Error,
    },
    /// A socket system call failed.
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// Called outside a tokio runtime where one is needed: only
    /// [`Netlink::watch`](crate::Netlink::watch), whose task runs on the
    /// caller's runtime. Requests, dumps and subscriptions need none.
    #[error(
        "no tokio runtime: this call spawns a task and must be made from within a tokio runtime"
    )]
    NoRuntime,
}

impl Error {
    /// The errno behind this error, if there is one (kernel or system call).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel(k) => Some(k.errno),
            Error::Io(e) | Error::Netns { source: e, .. } => e.raw_os_error(),
            _ => None,
        }
    }

    /// The kernel's extended-ACK text, if it gave one.
    pub fn kernel_message(&self) -> Option<&str> {
        match self {
            Error::Kernel(k) => k.message.as_deref(),
            _ => None,
        }
    }

    /// The object does not exist (ENOENT, ENODEV, ESRCH, EADDRNOTAVAIL, ENXIO):
    /// the errnos the kernel uses for a missing link, route, address,
    /// neighbour or namespace.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.errno(),
            Some(libc::ENOENT | libc::ENODEV | libc::ESRCH | libc::EADDRNOTAVAIL | libc::ENXIO)
        )
    }

    /// The object already exists (EEXIST).
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(libc::EEXIST)
    }

    /// The caller lacks the privilege (EPERM, EACCES).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.errno(), Some(libc::EPERM | libc::EACCES))
    }

    /// A copy of an input error stored in a builder, surfaced when the
    /// builder is awaited (other errors never reach builders).
    pub(crate) fn clone_input(&self) -> Error {
        match self {
            Error::InvalidInput { field, reason } => Error::invalid(field, reason.clone()),
            other => Error::invalid("input", other.to_string()),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_error_reads_like_ip() {
        let e = Error::Kernel(KernelError {
            errno: 17,
            message: Some("Link already exists".into()),
            offset: None,
            request: RequestKind {
                message_type: 16,
                name: Some("RTM_NEWLINK"),
            },
        });
        assert_eq!(
            e.to_string(),
            "RTM_NEWLINK failed: File exists (os error 17): Link already exists"
        );
        assert!(e.is_exists());
        assert!(!e.is_not_found());
        assert_eq!(e.errno(), Some(17));
        assert_eq!(e.kernel_message(), Some("Link already exists"));
    }

    #[test]
    fn helpers() {
        let k = |errno| {
            Error::Kernel(KernelError {
                errno,
                message: None,
                offset: None,
                request: RequestKind {
                    message_type: 999,
                    name: None,
                },
            })
        };
        assert!(k(libc::ESRCH).is_not_found());
        assert!(k(libc::ENODEV).is_not_found());
        assert!(k(libc::EPERM).is_permission_denied());
        assert_eq!(
            k(libc::ENOENT).to_string(),
            "netlink message type 999 failed: No such file or directory (os error 2)"
        );
        let e = Error::invalid("name", "longer than 15 bytes");
        assert_eq!(e.to_string(), "invalid name: longer than 15 bytes");
        assert_eq!(
            Error::ConnectionClosed(Some("boom".into())).to_string(),
            "netlink connection closed: boom"
        );
    }
}
