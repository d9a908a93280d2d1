//! The status vocabulary that every output format, the summary and the
//! exit code share. The list of statuses is written once, here
//! ([`Status::ALL`]); everything else derives from it.

use crate::resolver::FailureKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One word per kind of result. The order is the order the summary uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// One or more MX records.
    Ok,
    /// The domain says it accepts no mail (RFC 7505).
    NullMx,
    /// The name exists but has no MX records (NODATA).
    NoMx,
    /// The name does not exist.
    Nxdomain,
    /// The server failed (SERVFAIL).
    Servfail,
    /// The server refused (REFUSED).
    Refused,
    /// No answer within the deadline.
    Timeout,
    /// Any other failure; the message says which.
    Error,
    /// The input line is not a domain name; no query was sent.
    Invalid,
}

impl Status {
    /// Every status, in summary order.
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::NullMx,
        Status::NoMx,
        Status::Nxdomain,
        Status::Servfail,
        Status::Refused,
        Status::Timeout,
        Status::Error,
        Status::Invalid,
    ];

    /// The status as it appears in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NullMx => "null_mx",
            Status::NoMx => "no_mx",
            Status::Nxdomain => "nxdomain",
            Status::Servfail => "servfail",
            Status::Refused => "refused",
            Status::Timeout => "timeout",
            Status::Error => "error",
            Status::Invalid => "invalid",
        }
    }

    /// The status named `s`, as every format writes it.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A definite answer: the DNS said something true about the domain.
    /// Anything else means we do not know where its mail goes.
    pub fn is_definite(self) -> bool {
        matches!(
            self,
            Status::Ok | Status::NullMx | Status::NoMx | Status::Nxdomain
        )
    }

    /// What the status means, for people (the table, `--help`).
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Ok => "MX records",
            Status::NullMx => "accepts no mail (null MX)",
            Status::NoMx => "no MX records",
            Status::Nxdomain => "no such domain",
            Status::Servfail => "the server failed (SERVFAIL)",
            Status::Refused => "the server refused the query (REFUSED)",
            Status::Timeout => "no answer within the deadline",
            Status::Error => "another failure",
            Status::Invalid => "not a domain name",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<FailureKind> for Status {
    fn from(kind: FailureKind) -> Status {
        match kind {
            FailureKind::Servfail => Status::Servfail,
            FailureKind::Refused => Status::Refused,
            FailureKind::Timeout => Status::Timeout,
            FailureKind::Error => Status::Error,
        }
    }
}
