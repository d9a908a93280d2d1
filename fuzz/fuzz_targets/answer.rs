//! Any bytes as a DNS answer: the classifier never panics, any MX exchange
//! it reports is escaped, and wherever hickory-proto's full decoder can
//! read the message, the fast reader gives the same answer as the reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::DomainName;
use mxlookup::resolver::{Answer, classify_answer, classify_answer_reference};

fuzz_target!(|data: &[u8]| {
    let name = DomainName::parse_ascii("a.example").unwrap();
    let fast = classify_answer(&name, data);
    if let Answer::Final(outcome) = &fast {
        for mx in outcome.mx() {
            assert!(!mx.exchange.bytes().any(|b| b.is_ascii_control() || b >= 0x7f));
        }
    }
    if hickory_proto::op::Message::from_vec(data).is_ok() {
        assert_eq!(fast, classify_answer_reference(&name, data));
    }
});
