//! Resolving `cgroup = PATH` to a cgroup v2 id, as `ss` does.

use super::*;

/// `statfs(2)` f_type of cgroup v2.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

fn is_cgroup2(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path and a zeroed statfs to fill.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == CGROUP2_SUPER_MAGIC }
}

/// Where the cgroup v2 filesystem is mounted (first in /proc/self/mountinfo).
fn cgroup2_mount() -> Option<std::path::PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split(' ').next() == Some("cgroup2"))
            .then(|| unescape_mount(left.split(' ').nth(4)?))
            .flatten()
    })
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_mount(s: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 4]).ok()?, 8).ok()?);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(std::ffi::OsString::from_vec(out).into())
}

/// A cgroup v2 directory's id: its file handle, as `ss` reads it.
pub(super) fn cgroup_id_of(path: &str) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    if path.contains('\0') {
        return Err(Error::invalid(
            "cgroup",
            format!("{path:?} contains a NUL byte"),
        ));
    }
    let p = std::path::Path::new(path);
    let dir = if p.is_absolute() && is_cgroup2(p) {
        p.to_path_buf()
    } else {
        let mount = cgroup2_mount()
            .ok_or_else(|| Error::invalid("cgroup", "no cgroup2 filesystem is mounted"))?;
        mount.join(path.trim_start_matches('/'))
    };
    let bad = |why: String| Error::invalid("cgroup", format!("{path:?}: {why}"));
    if !is_cgroup2(&dir) {
        return Err(bad(format!("{} is no cgroup v2 directory", dir.display())));
    }
    #[repr(C)]
    struct Handle {
        bytes: libc::c_uint,
        ty: libc::c_int,
        id: [u8; 8],
    }
    let mut h = Handle {
        bytes: 8,
        ty: 0,
        id: [0; 8],
    };
    let mut mount_id = 0;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|e| bad(e.to_string()))?;
    // SAFETY: a NUL-terminated path and a file_handle with room for the
    // 8 bytes its `bytes` field announces.
    let r = unsafe {
        libc::name_to_handle_at(
            libc::AT_FDCWD,
            c.as_ptr(),
            &mut h as *mut Handle as *mut libc::file_handle,
            &mut mount_id,
            0,
        )
    };
    if r != 0 || h.bytes != 8 {
        return Err(bad(format!(
            "no cgroup id: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(u64::from_ne_bytes(h.id))
}
