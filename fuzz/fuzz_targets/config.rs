//! The whole config loader (TOML, decoding, validation, expressions) on arbitrary text: it
//! returns a plan or diagnostics, never panics; rendering the diagnostics never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let base = std::path::Path::new("/nonexistent-tenure-fuzz");
        if let Err(error) = tenure_dsl::load_str(text, "metrics.toml", base) {
            let _ = error.render();
        }
    }
});
