//! Helpers for the unit tests: entries and answers made by hand.

use crate::name::DomainName;
use crate::outcome::{Entry, Origin, Outcome, Place};
use crate::resolver::{Answer, Rdata};
use crate::text::SafeText;
use std::sync::Arc;

/// Entry `seq` of `domains.txt` (line `seq + 1`), for `text`.
pub(crate) fn entry(seq: u64, text: &str) -> Entry {
    Entry {
        seq,
        origin: Origin {
            place: Place::File(Arc::new(SafeText::new("domains.txt"))),
            line: seq + 1,
        },
        input: SafeText::new(text),
        name: crate::input::normalize(text).unwrap(),
    }
}

/// An answer from 127.0.0.1:53, TTL 300.
pub(crate) fn answered(records: Vec<Rdata>, nxdomain: bool) -> Outcome {
    Outcome::Answered(Answer {
        nxdomain,
        aliases: Vec::new(),
        records,
        ttl: Some(300),
        authenticated: false,
        server: Some(Arc::new(SafeText::new("127.0.0.1:53"))),
        ede: Vec::new(),
    })
}

/// A name known to be valid.
pub(crate) fn name(s: &str) -> DomainName {
    DomainName::parse_ascii(s).unwrap()
}

/// An MX record; `"."` is the root.
pub(crate) fn mx(p: u16, e: &str) -> Rdata {
    Rdata::Mx {
        preference: p,
        exchange: if e == "." {
            DomainName::root()
        } else {
            DomainName::parse_ascii(e).unwrap()
        },
    }
}
