//! Giving freed memory back to the system between the stages of a load.
//!
//! glibc keeps what a program frees in its heaps for later allocations;
//! pages freed in the middle of a heap stay resident. A load frees its
//! customer tables and id arenas (tens of megabytes, in pieces) just before
//! it allocates the sorted customers: without a trim, both count in the
//! peak.

/// Returns the allocator's wholly free pages to the system (glibc on Linux;
/// elsewhere nothing).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: `malloc_trim` takes no pointer and touches no memory the
        // program uses: it locks each glibc arena in turn and returns its
        // free pages to the system. Available in every glibc since 2.0.
        unsafe {
            malloc_trim(0);
        }
    }
}
