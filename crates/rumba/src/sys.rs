//! Calls into the operating system that the standard library does not offer.

use std::path::Path;

/// Bytes an unprivileged process may still write to the file system holding `path`
/// (`statvfs`: available blocks × fragment size), or `None` where that is unknown.
#[must_use]
pub fn free_bytes(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: `statvfs` writes one `statvfs` struct into the zeroed value it is given and
        // reads the NUL-terminated path `c`, which lives across the call.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        #[allow(clippy::useless_conversion)] // the field types differ between platforms
        Some(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
