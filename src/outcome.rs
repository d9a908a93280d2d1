//! The settled result of one domain, and the status vocabulary that every
//! output format, the summary and the exit code share.

use serde::Serialize;
use std::fmt;

/// One word per kind of result. The order is the order the summary uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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

    /// A definite answer: the DNS said something true about the domain.
    /// Anything else means we do not know where its mail goes.
    pub fn is_definite(self) -> bool {
        matches!(
            self,
            Status::Ok | Status::NullMx | Status::NoMx | Status::Nxdomain
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One MX record, as printed: the exchange is in escaped ASCII presentation
/// form without the trailing dot (see [`crate::name`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
}

/// What one lookup came to. A failed domain is data, not an `Err`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// MX records, sorted by preference then exchange.
    Ok(Vec<Mx>),
    NullMx,
    NoMx,
    Nxdomain,
    Servfail,
    Refused,
    Timeout,
    /// Any other failure, with a message that is already safe to print.
    Error(String),
    /// The input was not a domain name, with the reason.
    Invalid(String),
}

impl Outcome {
    /// Classify the MX records of an answer (owner names already matched by
    /// the caller). `exchanges` yields (preference, exchange) where the
    /// exchange is in presentation form and `"."` is the root.
    pub fn from_mx(records: impl IntoIterator<Item = Mx>) -> Outcome {
        let mut mx: Vec<Mx> = records.into_iter().collect();
        if mx.is_empty() {
            return Outcome::NoMx;
        }
        // RFC 7505: a null MX is the only MX of the domain and points at the
        // root. A root exchange mixed with real ones is a misconfiguration,
        // so it is reported as it is, among the others.
        if mx.len() == 1 && mx[0].exchange == "." {
            return Outcome::NullMx;
        }
        mx.sort();
        mx.dedup();
        Outcome::Ok(mx)
    }

    pub fn status(&self) -> Status {
        match self {
            Outcome::Ok(_) => Status::Ok,
            Outcome::NullMx => Status::NullMx,
            Outcome::NoMx => Status::NoMx,
            Outcome::Nxdomain => Status::Nxdomain,
            Outcome::Servfail => Status::Servfail,
            Outcome::Refused => Status::Refused,
            Outcome::Timeout => Status::Timeout,
            Outcome::Error(_) => Status::Error,
            Outcome::Invalid(_) => Status::Invalid,
        }
    }

    /// The MX records; empty unless the status is `ok`.
    pub fn mx(&self) -> &[Mx] {
        match self {
            Outcome::Ok(mx) => mx,
            _ => &[],
        }
    }

    /// A human-readable message for anything that is not a plain answer,
    /// `None` for `ok`, `null_mx`, `no_mx` and `nxdomain`.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Ok(_) | Outcome::NullMx | Outcome::NoMx | Outcome::Nxdomain => None,
            Outcome::Servfail => Some("the server failed (SERVFAIL)"),
            Outcome::Refused => Some("the server refused the query (REFUSED)"),
            Outcome::Timeout => Some("no answer within the deadline"),
            Outcome::Error(m) | Outcome::Invalid(m) => Some(m),
        }
    }

    /// A short description for people, used by the table and plain formats
    /// where there is no exchange to show.
    pub fn describe(&self) -> &str {
        match self {
            Outcome::Ok(_) => "",
            Outcome::NullMx => "accepts no mail (null MX)",
            Outcome::NoMx => "no MX records",
            Outcome::Nxdomain => "no such domain",
            other => other.error().unwrap_or(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(p: u16, e: &str) -> Mx {
        Mx {
            preference: p,
            exchange: e.to_string(),
        }
    }

    #[test]
    fn sorts_by_preference_then_exchange_and_drops_repeats() {
        let got = Outcome::from_mx([mx(20, "b"), mx(10, "z"), mx(10, "a"), mx(20, "b")]);
        assert_eq!(
            got,
            Outcome::Ok(vec![mx(10, "a"), mx(10, "z"), mx(20, "b")])
        );
    }

    #[test]
    fn null_mx_only_when_alone() {
        assert_eq!(Outcome::from_mx([mx(0, ".")]), Outcome::NullMx);
        let mixed = Outcome::from_mx([mx(0, "."), mx(10, "mx")]);
        assert_eq!(mixed.status(), Status::Ok);
        assert_eq!(mixed.mx().len(), 2);
        assert_eq!(Outcome::from_mx([]), Outcome::NoMx);
    }

    #[test]
    fn definite_statuses() {
        let definite: Vec<_> = Status::ALL.iter().filter(|s| s.is_definite()).collect();
        assert_eq!(
            definite,
            [
                &Status::Ok,
                &Status::NullMx,
                &Status::NoMx,
                &Status::Nxdomain
            ]
        );
        assert_eq!(
            serde_json::to_string(&Status::NullMx).unwrap(),
            "\"null_mx\""
        );
    }
}
