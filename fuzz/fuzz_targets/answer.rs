//! Any bytes as a DNS answer, for every type mxlookup asks: the classifier
//! never panics, any name it reports is escaped, and wherever
//! hickory-proto's full decoder can read the message, mxlookup's reading of
//! it is the same as its reading of what hickory understood (hickory's
//! decode, encoded again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::fuzzing::{classify_answer, verdict};
use mxlookup::resolver::{Rdata, RecordType};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else { return };
    let qtype = [RecordType::MX, RecordType::A, RecordType::AAAA, RecordType::CNAME][usize::from(selector % 4)];
    if let Some(Ok(a)) = classify_answer(qtype, data) {
        for r in &a.records {
            if let Rdata::Mx { exchange, .. } | Rdata::Cname(exchange) = r {
                assert!(!exchange.as_str().bytes().any(|b| b.is_ascii_control() || b >= 0x7f));
            }
        }
    }
    if let Ok(msg) = hickory_proto::op::Message::from_vec(data)
        && let Ok(again) = msg.to_vec()
    {
        assert_eq!(verdict(qtype, data), verdict(qtype, &again));
    }
});
