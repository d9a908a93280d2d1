//! Property tests for the input parser and the answer classifier: no input
//! bytes cause a panic, and every line becomes either a valid name or an
//! `invalid` entry with a reason.

use mxlookup::DomainName;
use mxlookup::input::{Entries, MAX_LINE, Source, normalize};
use mxlookup::resolver::{Answer, classify_answer};
use proptest::prelude::*;
use std::io::Cursor;

/// Lines that look like what people put in domain lists, and worse.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-zA-Z0-9._@#\\- ]{0,40}".prop_map(String::into_bytes),
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
            prop_assert!(!e.input.chars().any(char::is_control));
        }
    }

    #[test]
    fn classify_answer_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let name = DomainName::parse_ascii("a.example").unwrap();
        let _ = classify_answer(&name, &bytes);
    }

    #[test]
    fn classify_answer_survives_mutated_real_answers(flips in proptest::collection::vec((0usize..200, any::<u8>()), 1..8), cut in 0usize..200) {
        let name = DomainName::parse_ascii("a.example").unwrap();
        let mut bytes = real_answer();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut.max(12));
        if let Answer::Final(outcome) = classify_answer(&name, &bytes) {
            for mx in outcome.mx() {
                prop_assert!(!mx.exchange.bytes().any(|b| b.is_ascii_control() || b >= 0x7f));
            }
        }
    }
}

/// A genuine answer (with ID 0x1234): two MX records for a.example.
fn real_answer() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    let qname = b"\x01a\x07example\x00";
    m.extend_from_slice(qname);
    m.extend_from_slice(&[0, 15, 0, 1]);
    for (pref, exch) in [
        (10u16, &b"\x03mx1\xc0\x0c"[..]),
        (20, &b"\x03mx2\xc0\x0c"[..]),
    ] {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 1, 0x2c]);
        m.extend_from_slice(&((exch.len() + 2) as u16).to_be_bytes());
        m.extend_from_slice(&pref.to_be_bytes());
        m.extend_from_slice(exch);
    }
    m
}

#[test]
fn the_real_answer_is_real() {
    let name = DomainName::parse_ascii("a.example").unwrap();
    match classify_answer(&name, &real_answer()) {
        Answer::Final(o) => assert_eq!(o.mx().len(), 2, "{o:?}"),
        other => panic!("{other:?}"),
    }
}
