//! Any bytes as a saved run (`mxlookup report FILE`): reading it never
//! panics, and every record it accepts becomes a settled result whose text
//! is all escaped (no control, invisible or bidi character survives), and
//! which every sink writes without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::outcome::{Origin, Place};
use mxlookup::report::{Format, Style, sink};
use mxlookup::saved::{Records, settled};
use mxlookup::text::is_invisible;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A buffer the sink writes into and the test reads back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(records) = Records::load(data, "fuzz") else { return };
    for format in [Format::Table, Format::Plain, Format::Json, Format::Ndjson, Format::Csv] {
        let shared = Shared::default();
        {
            let mut s = sink(format, shared.clone(), Style::default(), Arc::default());
            for (i, (r, line)) in records.iter().enumerate() {
                let fallback = Origin { place: Place::Stdin, line };
                let Ok(result) = settled(&r, i as u64, fallback) else { continue };
                for text in [result.entry.input.as_str(), result.outcome.error().map_or("", |e| e.as_str())] {
                    assert!(!text.chars().any(is_invisible), "{text:?}");
                }
                s.settled(result).unwrap();
            }
            s.finish().unwrap();
        }
        if matches!(format, Format::Table | Format::Plain | Format::Csv) {
            let out = shared.0.lock().unwrap();
            let text = String::from_utf8_lossy(&out);
            assert!(!text.chars().any(|c| is_invisible(c) && c != '\n' && c != '\r'), "{format:?}: {text:?}");
        }
    }
});
