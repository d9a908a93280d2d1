//! Property tests of the input parser: no bytes cause a panic, and every
//! line becomes either a valid name or an `invalid` entry with a reason.

use super::{Entries, MAX_LINE, Source, normalize};
use crate::name::DomainName;
use proptest::prelude::*;
use std::io::Cursor;

/// Lines that look like what people put in domain lists, and worse.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-zA-Z0-9._@#<>\\- ]{0,40}".prop_map(String::into_bytes),
        "(?s).{0,60}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..80),
        Just(b"\xef\xbb\xbfbom.example\r".to_vec()),
        Just(b"nul\x00byte.example".to_vec()),
        Just(vec![b'x'; MAX_LINE + 10]),
    ]
}

/// What the reader should make of one line, worked out independently of it.
fn expected(line: &[u8]) -> Option<bool> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_LINE {
        return Some(false);
    }
    match std::str::from_utf8(line) {
        Err(_) => Some(false),
        Ok(text) => normalize(text).map(|r| r.is_ok()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn normalize_never_panics_and_valid_names_are_canonical(text in "(?s).{0,100}") {
        if let Some(Ok(name)) = normalize(&text) {
            let s = name.as_str();
            prop_assert!(s.is_ascii());
            prop_assert!(!s.bytes().any(|b| b.is_ascii_uppercase() || b.is_ascii_control() || b == b' '));
            prop_assert!(!s.ends_with('.') || s.ends_with("\\."));
            prop_assert_eq!(DomainName::parse_ascii(s), Ok(name.clone()));
            prop_assert_eq!(normalize(s), Some(Ok(name.clone())));
        }
    }

    #[test]
    fn every_line_is_a_name_or_an_invalid_entry(lines in proptest::collection::vec(line(), 0..30)) {
        let data = lines.join(&b'\n');
        // Re-split as the reader will: the joined lines may contain newlines of their own.
        let physical: Vec<&[u8]> = if data.is_empty() { vec![] } else { data.split(|b| *b == b'\n').collect() };
        let wanted: Vec<bool> = physical.iter().filter_map(|l| expected(l)).collect();
        let mut entries = Entries::new(vec![Source::Reader("prop".into(), Box::new(Cursor::new(data.clone())))]);
        let duplicates = entries.duplicates();
        let got: Vec<_> = entries.by_ref().map(|e| e.expect("in-memory input never fails")).collect();
        let dups = duplicates.load(std::sync::atomic::Ordering::Relaxed) as usize;
        prop_assert_eq!(got.len() + dups, wanted.len());
        prop_assert_eq!(got.iter().filter(|e| e.name.is_err()).count(), wanted.iter().filter(|ok| !**ok).count());
        for (i, e) in got.iter().enumerate() {
            prop_assert_eq!(e.seq, i as u64);
            match &e.name {
                Ok(n) => prop_assert_eq!(DomainName::parse_ascii(n.as_str()), Ok(n.clone())),
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
            prop_assert!(!e.input.chars().any(crate::text::is_invisible));
        }
    }

}
