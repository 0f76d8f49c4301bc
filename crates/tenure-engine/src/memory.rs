//! Memory hints: prefetches for per-entity arrays that rows reach in no particular order.

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
