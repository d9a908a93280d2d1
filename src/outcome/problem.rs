//! The audit's findings: a stable code, its severity, the exchange it is
//! about, and a message for people.

use crate::name::DomainName;
use crate::text::SafeText;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with a domain's mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What kind of problem.
    pub code: Code,
    /// The exchange it is about, if any.
    pub exchange: Option<DomainName>,
    /// What is wrong, for people.
    pub message: SafeText,
}

/// What a problem means: every verdict the audit derives is good (no
/// problem), a finding (an error or a warning), or unknown, with why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Mail does not get through, or goes where it must not: the run exits
    /// 1.
    Error,
    /// A risk or a misconfiguration that senders tolerate.
    Warning,
    /// Could not be checked: a lookup failed (timeout, SERVFAIL, ...). Never
    /// evidence that something is absent or wrong; the run exits 1, as for
    /// a failed lookup.
    Unknown,
}

impl Severity {
    /// The severity as every format writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Unknown => "unknown",
        }
    }
}

/// The stable problem codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// No MX records: mail goes to the domain's own addresses (RFC 5321 §5.1).
    ImplicitMx,
    /// Nothing can receive the domain's mail.
    NoRoute,
    /// A null MX that is not the only MX, or not of preference 0 (RFC 7505).
    InvalidNullMx,
    /// An exchange is an alias (RFC 2181 §10.3).
    CnameTarget,
    /// An exchange is an IP address written as a name.
    IpLiteralTarget,
    /// An exchange does not exist, or has no address.
    DanglingExchange,
    /// An exchange resolves to a special-purpose address.
    SpecialAddress,
    /// Looking up an exchange's addresses failed, and none is known:
    /// unknown, not bad.
    UnresolvedExchange,
    /// One address family's lookup failed, but the other gave addresses:
    /// mail gets through over that one.
    UnresolvedFamily,
    /// The answers about one name contradict each other (NXDOMAIN for one
    /// type, records for another).
    InconsistentAnswers,
    /// No exchange matches an `--expect` rule.
    UnexpectedExchange,
    /// The MTA-STS mode is not the one an `--expect` rule requires.
    UnexpectedPolicy,
    /// An `--expect` rule could not be checked: the MX lookup failed.
    ExpectationUnchecked,
    /// An exchange matches no `mx` pattern of an `enforce` MTA-STS policy:
    /// senders that follow MTA-STS refuse it.
    MtaStsMxUncovered,
    /// An `enforce` MTA-STS policy covers none of the exchanges: mail
    /// fails for senders that follow MTA-STS.
    MtaStsNoCoveredMx,
    /// An exchange matches no pattern of a `testing` policy.
    MtaStsTestingUncovered,
    /// The MTA-STS record or policy is malformed or ambiguous: senders
    /// treat the domain as having none.
    MtaStsInvalid,
    /// A record, but no policy to be had (no host, TLS, HTTP status, media
    /// type, size, redirect).
    MtaStsUnreachable,
    /// The policy's max_age is under a day.
    MtaStsShortMaxAge,
    /// The policy changed since the baseline but its id did not: senders
    /// keep the old one.
    MtaStsIdUnchanged,
    /// MTA-STS could not be checked (a lookup failed, the fetch timed out).
    MtaStsUnknown,
    /// The TLS-RPT record is malformed, or there are several.
    TlsRptInvalid,
    /// MTA-STS in `testing` mode, or DANE, and no TLS-RPT: failures go
    /// unseen.
    TlsRptMissing,
    /// TLS-RPT could not be checked (the lookup failed).
    TlsRptUnknown,
    /// The TLSA lookup of a secure exchange failed: DANE senders defer.
    DaneLookupFailed,
    /// No TLSA record is usable for SMTP (PKIX usages, or malformed).
    TlsaUnusable,
    /// A TLSA record a sender cannot read (selector, matching type, or
    /// digest length).
    TlsaMalformed,
    /// TLSA records that no sender applies: something on the way is not
    /// authenticated.
    DaneIneffective,
    /// A single usable TLSA record: no room for a rollover.
    DaneNoRollover,
    /// Some exchanges at one preference have DANE and others do not.
    DanePartial,
    /// DANE could not be checked: the TLSA lookup timed out.
    DaneUnknown,
    /// The exchange's registrable domain does not exist: anyone could
    /// register it and receive the mail.
    ExchangeDomainUnregistered,
    /// Whether the exchange's registrable domain exists could not be
    /// checked.
    TakeoverUnknown,
}

impl Code {
    /// Every code: errors, then warnings, then unknowns.
    pub const ALL: [Code; 33] = [
        Code::NoRoute,
        Code::DanglingExchange,
        Code::InvalidNullMx,
        Code::UnexpectedExchange,
        Code::UnexpectedPolicy,
        Code::MtaStsMxUncovered,
        Code::MtaStsNoCoveredMx,
        Code::DaneLookupFailed,
        Code::ExchangeDomainUnregistered,
        Code::CnameTarget,
        Code::IpLiteralTarget,
        Code::SpecialAddress,
        Code::ImplicitMx,
        Code::UnresolvedFamily,
        Code::InconsistentAnswers,
        Code::MtaStsTestingUncovered,
        Code::MtaStsInvalid,
        Code::MtaStsUnreachable,
        Code::MtaStsShortMaxAge,
        Code::MtaStsIdUnchanged,
        Code::TlsRptInvalid,
        Code::TlsRptMissing,
        Code::TlsaUnusable,
        Code::TlsaMalformed,
        Code::DaneIneffective,
        Code::DaneNoRollover,
        Code::DanePartial,
        Code::UnresolvedExchange,
        Code::ExpectationUnchecked,
        Code::MtaStsUnknown,
        Code::TlsRptUnknown,
        Code::DaneUnknown,
        Code::TakeoverUnknown,
    ];

    /// How bad it is.
    pub fn severity(self) -> Severity {
        match self {
            Code::NoRoute
            | Code::DanglingExchange
            | Code::InvalidNullMx
            | Code::UnexpectedExchange
            | Code::UnexpectedPolicy
            | Code::MtaStsMxUncovered
            | Code::MtaStsNoCoveredMx
            | Code::DaneLookupFailed
            | Code::ExchangeDomainUnregistered => Severity::Error,
            Code::ImplicitMx
            | Code::CnameTarget
            | Code::IpLiteralTarget
            | Code::SpecialAddress
            | Code::UnresolvedFamily
            | Code::InconsistentAnswers
            | Code::MtaStsTestingUncovered
            | Code::MtaStsInvalid
            | Code::MtaStsUnreachable
            | Code::MtaStsShortMaxAge
            | Code::MtaStsIdUnchanged
            | Code::TlsRptInvalid
            | Code::TlsRptMissing
            | Code::TlsaUnusable
            | Code::TlsaMalformed
            | Code::DaneIneffective
            | Code::DaneNoRollover
            | Code::DanePartial => Severity::Warning,
            Code::UnresolvedExchange
            | Code::ExpectationUnchecked
            | Code::MtaStsUnknown
            | Code::TlsRptUnknown
            | Code::DaneUnknown
            | Code::TakeoverUnknown => Severity::Unknown,
        }
    }

    /// Whether the code makes the run exit 1 (an error, or unknown).
    pub fn fails(self) -> bool {
        self.severity() != Severity::Warning
    }

    /// The code as every format writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ImplicitMx => "implicit_mx",
            Code::NoRoute => "no_route",
            Code::InvalidNullMx => "invalid_null_mx",
            Code::CnameTarget => "cname_target",
            Code::IpLiteralTarget => "ip_literal_target",
            Code::DanglingExchange => "dangling_exchange",
            Code::SpecialAddress => "special_address",
            Code::UnresolvedExchange => "unresolved_exchange",
            Code::UnresolvedFamily => "unresolved_family",
            Code::InconsistentAnswers => "inconsistent_answers",
            Code::UnexpectedExchange => "unexpected_exchange",
            Code::UnexpectedPolicy => "unexpected_policy",
            Code::ExpectationUnchecked => "expectation_unchecked",
            Code::MtaStsMxUncovered => "mta_sts_mx_uncovered",
            Code::MtaStsNoCoveredMx => "mta_sts_no_covered_mx",
            Code::MtaStsTestingUncovered => "mta_sts_testing_uncovered",
            Code::MtaStsInvalid => "mta_sts_invalid",
            Code::MtaStsUnreachable => "mta_sts_unreachable",
            Code::MtaStsShortMaxAge => "mta_sts_short_max_age",
            Code::MtaStsIdUnchanged => "mta_sts_id_unchanged",
            Code::MtaStsUnknown => "mta_sts_unknown",
            Code::TlsRptInvalid => "tls_rpt_invalid",
            Code::TlsRptMissing => "tls_rpt_missing",
            Code::TlsRptUnknown => "tls_rpt_unknown",
            Code::DaneLookupFailed => "dane_lookup_failed",
            Code::TlsaUnusable => "tlsa_unusable",
            Code::TlsaMalformed => "tlsa_malformed",
            Code::DaneIneffective => "dane_ineffective",
            Code::DaneNoRollover => "dane_no_rollover",
            Code::DanePartial => "dane_partial",
            Code::DaneUnknown => "dane_unknown",
            Code::ExchangeDomainUnregistered => "exchange_domain_unregistered",
            Code::TakeoverUnknown => "takeover_unknown",
        }
    }

    /// The code named `s`.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the output, the summary and `Code::as_str` are one
    /// list: serde's and ours agree, and `ALL` holds each code once.
    #[test]
    fn every_code_is_written_by_its_one_name() {
        for c in Code::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(Code::parse(c.as_str()), Some(c));
        }
        let mut all = Code::ALL.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), Code::ALL.len());
    }
}
