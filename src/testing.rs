//! Helpers for the unit tests: entries and answers made by hand.

use crate::input::{Entry, Origin};
use crate::name::DomainName;
use crate::outcome::Outcome;
use crate::resolver::{Answer, Rdata};
use std::sync::Arc;

/// Entry `seq` of `domains.txt` (line `seq + 1`), for `text`.
pub fn entry(seq: u64, text: &str) -> Entry {
    Entry {
        seq,
        origin: Origin {
            source: Arc::from("domains.txt"),
            line: seq + 1,
        },
        input: text.to_string(),
        name: crate::input::normalize(text).unwrap(),
    }
}

/// An answer from 127.0.0.1:53, TTL 300.
pub fn answered(records: Vec<Rdata>, nxdomain: bool) -> Outcome {
    Outcome::Answered(Answer {
        nxdomain,
        aliases: Vec::new(),
        records,
        ttl: Some(300),
        authenticated: false,
        server: Some(Arc::from("127.0.0.1:53")),
    })
}

/// An MX record; `"."` is the root.
pub fn mx(p: u16, e: &str) -> Rdata {
    Rdata::Mx {
        preference: p,
        exchange: if e == "." {
            DomainName::root()
        } else {
            DomainName::parse_ascii(e).unwrap()
        },
    }
}
