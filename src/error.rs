//! The crate's one error type.
//!
//! Errors of a request a builder sent carry a [`Context`]: the operation
//! and its object in iproute2's words (`route add 10.9.0.0/16 table 100`),
//! so a log line says what failed without the request's message type.

use std::fmt;
use std::io;

use crate::route::link::LinkId;

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
        if let (Some(m), true) = (&self.message, self.errno >= PRIVATE_ERRNO) {
            return write!(f, "{} failed: {m} (error {})", self.request, self.errno);
        }
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

/// What the caller asked for when an error happened: the operation and its
/// object in iproute2's words, e.g. `route add` and `10.9.0.0/16 table 100`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    operation: &'static str,
    object: String,
    /// What a delete's ENOENT/ESRCH means ("route"): strerror's "No such
    /// process" for a missing route misleads.
    missing: Option<&'static str>,
}

impl Context {
    /// A context for `operation` (`"route add"`) on `object`
    /// (`"10.9.0.0/16 table 100"`, may be empty).
    pub fn new(operation: &'static str, object: impl Into<String>) -> Context {
        Context {
            operation,
            object: object.into(),
            missing: None,
        }
    }

    /// Reads ENOENT, ESRCH and EADDRNOTAVAIL as `no such NOUN` (deletes).
    pub(crate) fn missing(mut self, noun: &'static str) -> Context {
        self.missing = Some(noun);
        self
    }

    /// The operation, e.g. `"route add"`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The object, e.g. `"10.9.0.0/16 table 100"`.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The parts, to be stored compactly (a batch keeps many) and put
    /// back together with [`Context::from_parts`].
    pub(crate) fn into_parts(self) -> (&'static str, Option<&'static str>, String) {
        (self.operation, self.missing, self.object)
    }

    /// A context from [`Context::into_parts`]'s parts.
    pub(crate) fn from_parts(
        operation: &'static str,
        missing: Option<&'static str>,
        object: String,
    ) -> Context {
        Context {
            operation,
            object,
            missing,
        }
    }

    /// `e` with this context. Input errors are returned as they are (they
    /// name their field and are matched on), and an error that already has
    /// a context keeps the innermost one.
    pub(crate) fn wrap(&self, e: Error) -> Error {
        match e {
            Error::InvalidInput { .. } | Error::Failed { .. } => e,
            source => Error::Failed {
                context: Box::new(self.clone()),
                source: Box::new(source),
            },
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.operation)?;
        if !self.object.is_empty() {
            write!(f, " {}", self.object)?;
        }
        Ok(())
    }
}

/// Where subsystems' own codes start (ipset's IPSET_ERR_PRIVATE): no
/// strerror text, the meaning is in the message the subsystem gives them.
const PRIVATE_ERRNO: i32 = 4096;

/// strerror's text without io::Error's " (os error N)".
fn strerror(errno: i32) -> String {
    if errno >= PRIVATE_ERRNO {
        return format!("error {errno}");
    }
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// The error under a context, as the context's tail: the kernel's errno in
/// words (or `no such NOUN`) and its extended ACK, without the message type.
struct Cause<'a>(&'a Context, &'a Error);

impl fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::Kernel(k) = self.1 else {
            return self.1.fmt(f);
        };
        if let (Some(m), true) = (&k.message, k.errno >= PRIVATE_ERRNO) {
            return write!(f, "{m} (error {})", k.errno);
        }
        match self.0.missing {
            Some(noun) if matches!(k.errno, libc::ENOENT | libc::ESRCH | libc::EADDRNOTAVAIL) => {
                write!(f, "no such {noun}")?
            }
            _ => f.write_str(&strerror(k.errno))?,
        }
        if let Some(m) = &k.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

/// `no such link "NAME"` and, for a setter's device, ` (FIELD)`.
struct Missing<'a>(&'a LinkId, &'a Option<&'static str>);

impl fmt::Display for Missing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            LinkId::Name(n) => write!(f, "no such link {n:?}")?,
            LinkId::Index(i) => write!(f, "no such link index {i}")?,
        }
        if let Some(field) = self.1 {
            write!(f, " ({field})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in tokio-netlink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the request.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// A request made by a builder failed: `context` says what was asked
    /// (`route add 10.9.0.0/16 table 100`), `source` why. Displayed as
    /// `CONTEXT: CAUSE` on one line, e.g.
    /// `route add 10.9.0.0/16 table 100: File exists`.
    #[error("{context}: {}", Cause(context, source))]
    Failed {
        /// The operation and its object.
        context: Box<Context>,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
    /// A device the request names does not exist: `no such link "eth9"`,
    /// followed by the setter it came from (`(master)`) when it is not the
    /// operation's own object.
    #[error("{}", Missing(link, field))]
    NoSuchLink {
        /// The device as the caller named it.
        link: LinkId,
        /// The setter that named it (`"dev"`, `"master"`, `"link"`…), or
        /// `None` for the operation's own device.
        field: Option<&'static str>,
        /// The kernel's answer to the lookup (ENODEV).
        source: KernelError,
    },
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
            Error::Failed { source, .. } => source.errno(),
            Error::Kernel(k) | Error::NoSuchLink { source: k, .. } => Some(k.errno),
            Error::Io(e) | Error::Netns { source: e, .. } => e.raw_os_error(),
            _ => None,
        }
    }

    /// The kernel's extended-ACK text, if it gave one.
    pub fn kernel_message(&self) -> Option<&str> {
        self.kernel().and_then(|k| k.message.as_deref())
    }

    /// The kernel's answer, if the kernel refused (under any context).
    pub fn kernel(&self) -> Option<&KernelError> {
        match self.cause() {
            Error::Kernel(k) | Error::NoSuchLink { source: k, .. } => Some(k),
            _ => None,
        }
    }

    /// What was asked when this error happened, if a builder sent the
    /// request (raw [`Requester`](crate::Requester) calls and input errors
    /// have none).
    pub fn context(&self) -> Option<&Context> {
        match self {
            Error::Failed { context, .. } => Some(context),
            _ => None,
        }
    }

    /// The operation that failed, e.g. `"address add"`.
    pub fn operation(&self) -> Option<&'static str> {
        self.context().map(Context::operation)
    }

    /// The object of the operation that failed, e.g. `"10.6.1.1/24 dev eth9"`.
    pub fn object(&self) -> Option<&str> {
        self.context().map(Context::object)
    }

    /// The error without its context: what [`Error::Failed`] wraps, else
    /// `self`.
    pub fn cause(&self) -> &Error {
        match self {
            Error::Failed { source, .. } => source.cause(),
            other => other,
        }
    }

    /// The missing device and the setter that named it, if this is (or
    /// wraps) [`Error::NoSuchLink`].
    pub fn missing_link(&self) -> Option<(&LinkId, Option<&'static str>)> {
        match self.cause() {
            Error::NoSuchLink { link, field, .. } => Some((link, *field)),
            _ => None,
        }
    }

    /// Turns a lookup's "not found" into [`Error::NoSuchLink`] naming
    /// `link` (and the setter `field`); other errors pass unchanged.
    pub(crate) fn for_link(self, link: &LinkId, field: Option<&'static str>) -> Error {
        match self {
            Error::Kernel(k) if k.errno == libc::ENODEV => Error::NoSuchLink {
                link: link.clone(),
                field,
                source: k,
            },
            other => other,
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
            Error::Failed { source, .. } => source.clone_input(),
            other => Error::invalid("input", other.to_string()),
        }
    }

    /// An input error re-labelled with the setter that took the input
    /// (parsers name a generic field such as "prefix").
    pub(crate) fn for_field(self, field: &'static str) -> Error {
        match self {
            Error::InvalidInput { reason, .. } => Error::InvalidInput { field, reason },
            other => other,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// Adds a [`Context`] to a result's error.
pub(crate) trait ResultExt<T> {
    /// The result, its error wrapped in `ctx` (see [`Context::wrap`]).
    fn within(self, ctx: &Context) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn within(self, ctx: &Context) -> Result<T> {
        self.map_err(|e| ctx.wrap(e))
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

    fn kernel(errno: i32, message: Option<&str>) -> Error {
        Error::Kernel(KernelError {
            errno,
            message: message.map(str::to_owned),
            offset: None,
            request: RequestKind {
                message_type: 25,
                name: Some("RTM_DELROUTE"),
            },
        })
    }

    #[test]
    fn context_reads_like_ip() {
        let del = Context::new("route del", "10.99.0.0/16").missing("route");
        let e = del.wrap(kernel(libc::ESRCH, None));
        assert_eq!(e.to_string(), "route del 10.99.0.0/16: no such route");
        assert_eq!(e.errno(), Some(libc::ESRCH));
        assert!(e.is_not_found());
        assert_eq!(e.operation(), Some("route del"));
        assert_eq!(e.object(), Some("10.99.0.0/16"));
        assert!(matches!(e.cause(), Error::Kernel(_)));
        assert_eq!(e.kernel().map(|k| k.errno), Some(libc::ESRCH));

        let add = Context::new("route add", "10.9.0.0/16 table 100");
        let e = add.wrap(kernel(libc::EEXIST, Some("exists")));
        assert_eq!(
            e.to_string(),
            "route add 10.9.0.0/16 table 100: File exists: exists"
        );
        assert_eq!(e.kernel_message(), Some("exists"));
        // Without `missing`, ESRCH keeps strerror's words.
        let e = add.wrap(kernel(libc::ESRCH, None));
        assert_eq!(
            e.to_string(),
            "route add 10.9.0.0/16 table 100: No such process"
        );
        // The innermost context wins; input errors are not wrapped.
        let e = add.wrap(del.wrap(kernel(libc::ESRCH, None)));
        assert_eq!(e.operation(), Some("route del"));
        let e = add.wrap(Error::invalid("via", "bad"));
        assert!(e.context().is_none());
        assert_eq!(
            Context::new("xfrm policy flush", "").to_string(),
            "xfrm policy flush"
        );
    }

    #[test]
    fn missing_links_name_the_setter() {
        let Error::Kernel(k) = kernel(libc::ENODEV, None) else {
            unreachable!()
        };
        let e = Error::Kernel(k.clone()).for_link(&LinkId::Name("cnio".into()), Some("master"));
        assert_eq!(e.to_string(), "no such link \"cnio\" (master)");
        assert_eq!(e.errno(), Some(libc::ENODEV));
        assert_eq!(e.missing_link().map(|(_, f)| f), Some(Some("master")));
        let e = Context::new("link set", "v0").wrap(e);
        assert_eq!(e.to_string(), "link set v0: no such link \"cnio\" (master)");
        let e = Error::Kernel(k).for_link(&LinkId::Index(7), None);
        assert_eq!(e.to_string(), "no such link index 7");
        // Only ENODEV means a missing link.
        let e = kernel(libc::EPERM, None).for_link(&LinkId::Index(7), None);
        assert!(matches!(e, Error::Kernel(_)));
    }
}
