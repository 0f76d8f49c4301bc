//! The expression parser on arbitrary text: it returns a tree or an error, never panics, and
//! never recurses past its depth limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tenure_dsl::expr::parse(text);
        let _ = tenure_dsl::expr::parse::parse_duration(text);
    }
});
