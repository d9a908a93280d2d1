//! Any bytes as an input file: no panic, and every entry is a valid name
//! or an invalid line with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::DomainName;
use mxlookup::input::{Entries, Source};

fuzz_target!(|data: &[u8]| {
    let source = Source::Reader("fuzz".into(), Box::new(std::io::Cursor::new(data.to_vec())));
    for (i, entry) in Entries::new(vec![source]).enumerate() {
        let entry = entry.expect("in-memory input never fails");
        assert_eq!(entry.seq, i as u64);
        match &entry.name {
            Ok(name) => assert_eq!(DomainName::parse_ascii(name.as_str()).as_ref(), Ok(name)),
            Err(reason) => assert!(!reason.is_empty()),
        }
    }
});
