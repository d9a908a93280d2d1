//! Any bytes as an `--expect-file`: reading it never panics; a rule it
//! accepts matches names without panicking, and `*` alone matches any.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::audit::{Expectation, glob};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(rules) = Expectation::parse_lines(text, "fuzz") {
        let _ = rules.len();
    }
    let (pattern, name) = text.split_once('\n').unwrap_or((text, "a.example"));
    let _ = glob(pattern, name);
    assert!(glob("*", name));
});
