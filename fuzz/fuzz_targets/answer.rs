//! Any bytes as a DNS answer: the classifier never panics, and any MX
//! exchange it reports is escaped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::DomainName;
use mxlookup::resolver::{Answer, classify_answer};

fuzz_target!(|data: &[u8]| {
    let name = DomainName::parse_ascii("a.example").unwrap();
    if let Answer::Final(outcome) = classify_answer(&name, data) {
        for mx in outcome.mx() {
            assert!(!mx.exchange.bytes().any(|b| b.is_ascii_control() || b >= 0x7f));
        }
    }
});
