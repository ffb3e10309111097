//! Streaming output shared by the examples: one `BufWriter` over a locked
//! stdout, a small JSON writer (strings escaped as serde_json does, per
//! RFC 8259), fast IPv4 formatting, and the quiet exit when the reader of
//! a pipe goes away (`ip … | head`).
//!
//! Included by each example with `#[path = …] mod out;`; not every example
//! uses every item.
#![allow(dead_code)]

use std::io::{self, BufWriter, StdoutLock, Write};
use std::net::{IpAddr, Ipv4Addr};

/// Where every example writes: flushed at the end, and (by `Drop`) when a
/// command fails half-way.
pub type Out = BufWriter<StdoutLock<'static>>;

/// A buffered, locked stdout.
pub fn stdout() -> Out {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// The reader went away (EPIPE): the examples then exit 0 silently, as
/// `ip … | head` expects.
pub fn is_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Exits 0 without a word when `e` is EPIPE; otherwise hands it back.
pub fn exit_if_pipe(e: io::Error) -> io::Error {
    if is_pipe(&e) {
        std::process::exit(0);
    }
    e
}

/// The exit of a command that failed with `e`: silent success when the
/// reader of a pipe went away, else `PROG: e` on stderr and failure.
pub fn failed(prog: &str, e: &(dyn std::error::Error + 'static)) -> std::process::ExitCode {
    if e.downcast_ref::<io::Error>().is_some_and(is_pipe) {
        return std::process::ExitCode::SUCCESS;
    }
    eprintln!("{prog}: {e}");
    std::process::ExitCode::FAILURE
}

/// A JSON string literal, escaped as serde_json escapes it: `"`, `\` and
/// the C0 controls (`\b \f \n \r \t`, else `\u00XX`); everything else,
/// DEL and non-ASCII included, as is.
pub fn json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    w.write_all(b"\"")?;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x20 && c != b'"' && c != b'\\' {
            continue;
        }
        w.write_all(&b[start..i])?;
        match c {
            b'"' => w.write_all(b"\\\"")?,
            b'\\' => w.write_all(b"\\\\")?,
            b'\n' => w.write_all(b"\\n")?,
            b'\r' => w.write_all(b"\\r")?,
            b'\t' => w.write_all(b"\\t")?,
            0x08 => w.write_all(b"\\b")?,
            0x0c => w.write_all(b"\\f")?,
            _ => w.write_all(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ])?,
        }
        start = i + 1;
    }
    w.write_all(&b[start..])?;
    w.write_all(b"\"")
}

/// An unsigned number in decimal, without going through `fmt`.
pub fn uint(w: &mut impl Write, mut n: u64) -> io::Result<()> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    w.write_all(&buf[i..])
}

/// `n` in decimal, in `buf`.
pub fn uint_str(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

const SPACES: &[u8; 64] = b"                                                                ";

fn spaces(w: &mut impl Write, mut n: usize) -> io::Result<()> {
    while n > 0 {
        let k = n.min(SPACES.len());
        w.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

/// `s` padded with spaces to `width` (`{:<width}`).
pub fn left(w: &mut impl Write, s: &[u8], width: usize) -> io::Result<()> {
    w.write_all(s)?;
    spaces(w, width.saturating_sub(s.len()))
}

/// `s` after spaces up to `width` (`{:>width}`).
pub fn right(w: &mut impl Write, s: &[u8], width: usize) -> io::Result<()> {
    spaces(w, width.saturating_sub(s.len()))?;
    w.write_all(s)
}

/// A signed number in decimal.
pub fn int(w: &mut impl Write, n: i64) -> io::Result<()> {
    if n < 0 {
        w.write_all(b"-")?;
    }
    uint(w, n.unsigned_abs())
}

/// An IPv4 address, dotted, into a stack buffer.
pub fn ip4(w: &mut impl Write, a: Ipv4Addr) -> io::Result<()> {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (k, o) in a.octets().into_iter().enumerate() {
        if k > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + (o / 10) % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    w.write_all(&buf[..n])
}

/// An address as `ip` prints it (IPv6 in RFC 5952 form, by std).
pub fn ip(w: &mut impl Write, a: IpAddr) -> io::Result<()> {
    match a {
        IpAddr::V4(a) => ip4(w, a),
        IpAddr::V6(a) => write!(w, "{a}"),
    }
}

/// An incremental JSON writer over `W`: values, arrays and objects written
/// as they come, with the commas in between.
pub struct Json<W> {
    pub w: W,
    /// Bit `d` set: the container at depth `d` has no element yet.
    first: u64,
    depth: u32,
    after_key: bool,
}

impl<W: Write> Json<W> {
    pub fn new(w: W) -> Json<W> {
        Json {
            w,
            first: 1,
            depth: 0,
            after_key: false,
        }
    }

    /// The comma before a value, unless it follows its key or opens its
    /// container.
    #[inline]
    fn sep(&mut self) -> io::Result<()> {
        if self.after_key {
            self.after_key = false;
            return Ok(());
        }
        let bit = 1u64 << self.depth;
        if self.first & bit != 0 {
            self.first &= !bit;
            Ok(())
        } else {
            self.w.write_all(b",")
        }
    }

    #[inline]
    fn open(&mut self, c: &[u8]) -> io::Result<()> {
        self.sep()?;
        self.w.write_all(c)?;
        self.depth += 1;
        self.first |= 1u64 << self.depth;
        Ok(())
    }

    #[inline]
    fn close(&mut self, c: &[u8]) -> io::Result<()> {
        self.first &= !(1u64 << self.depth);
        self.depth -= 1;
        self.w.write_all(c)
    }

    pub fn begin_obj(&mut self) -> io::Result<()> {
        self.open(b"{")
    }

    pub fn end_obj(&mut self) -> io::Result<()> {
        self.close(b"}")
    }

    pub fn begin_arr(&mut self) -> io::Result<()> {
        self.open(b"[")
    }

    pub fn end_arr(&mut self) -> io::Result<()> {
        self.close(b"]")
    }

    /// `"k":` (keys are the examples' own constants: no escaping needed).
    #[inline]
    pub fn key(&mut self, k: &str) -> io::Result<()> {
        self.sep()?;
        self.w.write_all(b"\"")?;
        self.w.write_all(k.as_bytes())?;
        self.w.write_all(b"\":")?;
        self.after_key = true;
        Ok(())
    }

    pub fn str(&mut self, s: &str) -> io::Result<()> {
        self.sep()?;
        json_str(&mut self.w, s)
    }

    pub fn uint(&mut self, n: u64) -> io::Result<()> {
        self.sep()?;
        uint(&mut self.w, n)
    }

    pub fn int(&mut self, n: i64) -> io::Result<()> {
        self.sep()?;
        int(&mut self.w, n)
    }

    pub fn bool(&mut self, b: bool) -> io::Result<()> {
        self.sep()?;
        self.w.write_all(if b { b"true" } else { b"false" })
    }

    pub fn null(&mut self) -> io::Result<()> {
        self.sep()?;
        self.w.write_all(b"null")
    }

    /// An address as a JSON string (no escaping needed).
    pub fn ip(&mut self, a: IpAddr) -> io::Result<()> {
        self.sep()?;
        self.w.write_all(b"\"")?;
        ip(&mut self.w, a)?;
        self.w.write_all(b"\"")
    }

    /// A string made by `Display` (which must need no escaping: numbers,
    /// addresses, hex).
    pub fn display(&mut self, v: impl std::fmt::Display) -> io::Result<()> {
        self.sep()?;
        write!(self.w, "\"{v}\"")
    }

    /// A string written by `f` (which must need no escaping).
    pub fn quoted(&mut self, f: impl FnOnce(&mut W) -> io::Result<()>) -> io::Result<()> {
        self.sep()?;
        self.w.write_all(b"\"")?;
        f(&mut self.w)?;
        self.w.write_all(b"\"")
    }

    /// A value serde_json serializes (for the rarely used, nested parts).
    pub fn value(&mut self, v: &serde_json::Value) -> io::Result<()> {
        self.sep()?;
        serde_json::to_writer(&mut self.w, v).map_err(io::Error::from)
    }

    /// `"k":"s"`.
    pub fn kv_str(&mut self, k: &str, s: &str) -> io::Result<()> {
        self.key(k)?;
        self.str(s)
    }

    /// `"k":n`.
    pub fn kv_uint(&mut self, k: &str, n: u64) -> io::Result<()> {
        self.key(k)?;
        self.uint(n)
    }

    /// Ready for the next top-level value (after a whole one was written
    /// through `w` directly).
    pub fn mark_written(&mut self) {
        let bit = 1u64 << self.depth;
        self.first &= !bit;
    }
}
