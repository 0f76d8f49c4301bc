//! Memory hints: large column buffers backed by transparent huge pages where the system allows
//! it, and prefetches for per-entity arrays that rows reach in no particular order.
//!
//! Loading fills gigabytes of freshly allocated columns; with 4 KiB pages each of them costs a
//! page fault. On Linux, a buffer of a few MiB or more is marked `MADV_HUGEPAGE`, so the kernel
//! can back it with 2 MiB pages when they are enabled (`madvise` or `always` mode); elsewhere,
//! or when it declines, nothing changes.

/// Buffers smaller than this are left alone.
const WORTHWHILE_BYTES: usize = 8 << 20;

/// Asks the kernel to back the allocation of `values` with huge pages (a hint, never an error).
pub fn prefer_huge_pages<T>(values: &Vec<T>) {
    let bytes = values.capacity() * std::mem::size_of::<T>();
    if bytes < WORTHWHILE_BYTES {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = values.as_ptr() as usize;
        let first = start.next_multiple_of(PAGE);
        let end = (start + bytes) & !(PAGE - 1);
        if end > first {
            // SAFETY: [first, end) lies inside the vector's own allocation, page-aligned;
            // MADV_HUGEPAGE only changes how the kernel backs those pages, not their contents,
            // and a failure (e.g. huge pages disabled) is harmless and ignored.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
}

/// How many rows ahead loops over rows ask for the per-entity state of a row's entity.
pub const PREFETCH_ROWS: usize = 16;

/// Asks the processor to start loading `slice[index]` into its cache, if there is such an
/// element: per-entity arrays of a few hundred thousand entities outgrow a core's cache, and
/// rows reach them in no particular order. A hint only; nothing on other targets.
#[inline(always)]
pub fn prefetch<T>(slice: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = slice.get(index) {
        // SAFETY: a prefetch never faults and changes no state the program can observe; the
        // address is that of a live element.
        unsafe {
            core::arch::x86_64::_mm_prefetch((item as *const T).cast::<i8>(), core::arch::x86_64::_MM_HINT_T0)
        };
    }
}
