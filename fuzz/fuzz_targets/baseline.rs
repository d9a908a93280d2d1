//! Any bytes as a `--baseline` file: reading it never panics, and
//! comparing results with it never panics and never reports a failed
//! lookup as a change.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::outcome::{Change, Entry, Origin, Outcome, Place, Settled};
use mxlookup::resolver::Failure;
use mxlookup::saved::Baseline;
use mxlookup::text::SafeText;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut baseline) = Baseline::parse(text, "fuzz") else { return };
    for (i, line) in text.lines().take(8).enumerate() {
        let Some(domain) = line.split('"').nth(3) else { continue };
        let Ok(name) = mxlookup::DomainName::parse_ascii(domain) else { continue };
        let entry = Entry {
            seq: i as u64,
            origin: Origin { place: Place::Stdin, line: i as u64 + 1 },
            input: SafeText::new(domain),
            name: Ok(name),
        };
        let failed = Settled::new(entry, Outcome::Failed(Failure::timeout()), Duration::ZERO);
        for change in baseline.changes(&failed) {
            assert!(matches!(change, Change::New | Change::Unchecked { .. }), "{change:?}");
        }
    }
    let _ = baseline.unseen();
});
