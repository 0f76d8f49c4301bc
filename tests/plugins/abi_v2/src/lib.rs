//! A plugin of another ABI major: it exports `tenure_segment_plugin_v2` and nothing the host
//! of ABI 1 can call.

/// An entry point of a future ABI; the host must refuse it without calling it.
#[unsafe(no_mangle)]
pub extern "C" fn tenure_segment_plugin_v2() -> *const u8 {
    std::ptr::null()
}
