//! The shared result types, at the bottom of the crate with only the
//! resolver's answers below them: what one domain's lookup came to
//! ([`Outcome`]), the input entry it was for ([`Entry`]), the settled
//! result that every sink, the saved runs and the exit status read
//! ([`Settled`]), with the audit's findings ([`Audit`], [`Problem`]), the
//! changes since a baseline ([`Change`]), and the status vocabulary
//! ([`Status`]).
//!
//! Null MX (RFC 7505 §3): a domain that accepts no mail publishes exactly
//! one MX record, preference 0, exchange `.`. Only that shape is `null_mx`
//! (a record repeated in the answer is one record). Any other MX set that
//! holds `.` (`MX 10 .`, or `0 .` beside real exchanges) is reported as it
//! was published, status `ok` with `.` among the exchanges; `--audit`
//! flags it `invalid_null_mx`.

mod audit;
mod change;
mod entry;
mod policy;
mod problem;
mod settled;
mod status;

pub use audit::{Audit, Exchange, Family, Target};
pub use change::{Change, Compared, Side};
pub use entry::{Entry, Origin, Place};
pub use policy::{Dane, DaneState, Dnssec, Mode, MtaSts, PolicyState, TlsRpt};
pub use problem::{Code, Problem, Severity};
pub use settled::Settled;
pub use status::Status;

use crate::name::DomainName;
use crate::resolver::{Answer, Failure, Phase, Rdata, RecordType, Resolver};
use crate::text::SafeText;

/// One MX record: the exchange is a name, escaped only when written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mx {
    /// Lower is preferred.
    pub preference: u16,
    /// The host that receives the mail; the root for a null MX.
    pub exchange: DomainName,
}

/// What one domain's lookup came to. A failed domain is data, not an `Err`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The DNS answered: MX records, NODATA or NXDOMAIN, with the evidence
    /// (aliases, TTL, AD bit, server).
    Answered(Answer),
    /// No answer: the kind, the phase, and a message.
    Failed(Failure),
    /// The input was not a domain name, with the reason.
    Invalid(SafeText),
}

impl Outcome {
    /// Look up the MX records of `name`.
    pub async fn lookup<R: Resolver + ?Sized>(resolver: &R, name: &DomainName) -> Outcome {
        match resolver.resolve(name, RecordType::MX).await {
            Ok(answer) => Outcome::Answered(answer),
            Err(failure) => Outcome::Failed(failure),
        }
    }

    /// The status every format writes for this outcome.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Answered(a) => answer_status(a),
            Outcome::Failed(f) => Status::from(f.kind),
            Outcome::Invalid(_) => Status::Invalid,
        }
    }

    /// The MX records (preference, exchange), sorted by preference then
    /// exchange; none unless the status is `ok`.
    pub fn mx_records(&self) -> impl Iterator<Item = (u16, &DomainName)> + '_ {
        let records = match self {
            Outcome::Answered(a) if answer_status(a) == Status::Ok => &a.records[..],
            _ => &[],
        };
        records.iter().filter_map(|r| match r {
            Rdata::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange)),
            _ => None,
        })
    }

    /// The MX records as values.
    pub fn mx(&self) -> Vec<Mx> {
        self.mx_records()
            .map(|(preference, exchange)| Mx {
                preference,
                exchange: exchange.clone(),
            })
            .collect()
    }

    /// Which part of the conversation failed, for a failure.
    pub fn phase(&self) -> Option<Phase> {
        match self {
            Outcome::Failed(f) => Some(f.phase),
            _ => None,
        }
    }

    /// The Extended DNS Errors the server gave, with its answer or its
    /// failure.
    pub fn ede(&self) -> &[crate::resolver::Ede] {
        match self {
            Outcome::Answered(a) => &a.ede,
            Outcome::Failed(f) => &f.ede,
            Outcome::Invalid(_) => &[],
        }
    }

    /// The answer and its evidence, if the DNS answered.
    pub fn answer(&self) -> Option<&Answer> {
        match self {
            Outcome::Answered(a) => Some(a),
            _ => None,
        }
    }

    /// A human-readable message for anything that is not a plain answer,
    /// `None` for `ok`, `null_mx`, `no_mx` and `nxdomain`.
    pub fn error(&self) -> Option<&SafeText> {
        match self {
            Outcome::Answered(_) => None,
            Outcome::Failed(f) => Some(&f.message),
            Outcome::Invalid(m) => Some(m),
        }
    }

    /// A short description for people, used by the table and plain formats
    /// where there is no exchange to show.
    pub fn describe(&self) -> &str {
        match self {
            Outcome::Answered(a) => match answer_status(a) {
                Status::Ok => "",
                s => s.meaning(),
            },
            other => other.error().map_or("", SafeText::as_str),
        }
    }
}

/// The status of an MX answer (see the module's note on null MX).
fn answer_status(a: &Answer) -> Status {
    match &a.records[..] {
        [] if a.nxdomain => Status::Nxdomain,
        [] => Status::NoMx,
        [
            Rdata::Mx {
                preference: 0,
                exchange,
            },
        ] if exchange.is_root() => Status::NullMx,
        _ => Status::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{answered as answer, mx};

    #[test]
    fn null_mx_is_exactly_one_record_zero_dot() {
        assert_eq!(answer(vec![mx(0, ".")], false).status(), Status::NullMx);
        assert_eq!(answer(vec![mx(0, ".")], false).mx().len(), 0);
        // Any other shape is reported as published.
        let ten_dot = answer(vec![mx(10, ".")], false);
        assert_eq!(ten_dot.status(), Status::Ok);
        assert_eq!(ten_dot.mx()[0].exchange.as_str(), ".");
        let mixed = answer(vec![mx(0, "."), mx(10, "mx.example")], false);
        assert_eq!(mixed.status(), Status::Ok);
        assert_eq!(mixed.mx().len(), 2);
        assert_eq!(answer(vec![], false).status(), Status::NoMx);
        assert_eq!(answer(vec![], true).status(), Status::Nxdomain);
        assert_eq!(answer(vec![], true).describe(), "no such domain");
    }

    #[test]
    fn definite_statuses_and_names() {
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
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Status::parse("fine"), None);
    }
}
