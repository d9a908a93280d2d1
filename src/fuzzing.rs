//! Entry points for the fuzz targets (`fuzz/`), built only under
//! `--cfg fuzzing` (which `cargo fuzz` sets): the parsers of untrusted
//! input that are internal to the crate, each behind one function.

use crate::name::DomainName;
use crate::resolver::{Answer, Failure, RecordType, classify, codec};

/// What the answer reader makes of `response` to a query for `qtype` about
/// `a.example` (ID 0x1234, EDNS): the answer, or the failure, or `None`
/// when the message does not answer the question (or is to be asked
/// again: truncated, no EDNS, retry elsewhere).
pub fn classify_answer(qtype: RecordType, response: &[u8]) -> Option<Result<Answer, Failure>> {
    let mut query = Vec::new();
    let name = DomainName::parse_ascii("a.example").expect("a valid name");
    codec::encode_query(0x1234, &name, qtype, true, &mut query).expect("a valid query");
    match classify::classify(&query, response) {
        classify::Verdict::Done(classify::Step::Answer(a)) => Some(Ok(a)),
        classify::Verdict::Done(classify::Step::Follow { partial, .. }) => Some(Ok(partial)),
        classify::Verdict::Fail(f) | classify::Verdict::Retry(f) => Some(Err(f)),
        _ => None,
    }
}

/// The verdict, as text, for comparing two readings of one message.
pub fn verdict(qtype: RecordType, response: &[u8]) -> String {
    let mut query = Vec::new();
    let name = DomainName::parse_ascii("a.example").expect("a valid name");
    codec::encode_query(0x1234, &name, qtype, true, &mut query).expect("a valid query");
    format!("{:?}", classify::classify(&query, response))
}

/// What DANE makes of `response` as the TLSA answer of a secure exchange
/// `mx.a.example`: its state, each record's presentation form, and each
/// finding's message; `None` when the message does not answer.
pub fn dane_verdict(response: &[u8]) -> Option<(crate::outcome::Dane, Vec<String>)> {
    let found = classify_answer(RecordType::TLSA, response)?;
    let host = DomainName::parse_ascii("mx.a.example").expect("a valid name");
    let mut problems = Vec::new();
    let dane = crate::audit::dane::judge(&host, true, &[(host.clone(), &found)], &mut problems);
    let mut messages: Vec<String> = problems.iter().map(|p| p.message.to_string()).collect();
    if let Err(f) = &found {
        messages.push(f.message.to_string());
    }
    Some((dane, messages))
}
