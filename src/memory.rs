//! Giving memory back to the system (glibc only; elsewhere these do nothing).
//!
//! The one `unsafe` in Watchword: two calls into glibc with no caller-side invariants.
//! glibc raises its mmap threshold each time a large mmapped block is freed, after which
//! blocks of that size (argon2's 19 MiB, allocated page-rounded plus alignment) come out
//! of per-thread arenas and stay resident once freed: a burst of sign-ins left the
//! server at its peak for good. A fixed threshold keeps every block of 1 MiB or more in
//! its own mapping, returned when freed; a trim when the hashing pool goes idle hands
//! back what the arenas still hold.

/// Large allocations (≥ 1 MiB) each get their own mapping, unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "mallopt FFI: no invariants for the caller")]
pub fn keep_large_blocks_mapped() {
    // SAFETY: mallopt only changes glibc's tuning; any value is accepted or refused.
    let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
}

/// Returns the free memory glibc's arenas hold to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "malloc_trim FFI: no invariants for the caller")]
pub fn trim() {
    // SAFETY: malloc_trim only releases free pages; live allocations are untouched.
    let _ = unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_large_blocks_mapped() {}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}
