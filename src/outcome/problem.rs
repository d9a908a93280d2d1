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

    /// What the finding means to mail delivery, with the standard that
    /// says so: one line for the manual page, the README and the HTML
    /// report.
    pub fn meaning(self) -> &'static str {
        match self {
            Code::NoRoute => {
                "nothing on the internet can receive the domain's mail: no exchange (or, with no MX, the domain itself) has a public address (RFC 5321 §5.1)"
            }
            Code::DanglingExchange => {
                "an exchange does not exist or has neither A nor AAAA: senders skip it, and mail fails if it is the only one (RFC 5321 §5.1)"
            }
            Code::InvalidNullMx => {
                "a null MX (.) beside other MX records or with a preference other than 0: not a valid null MX (RFC 7505 §3)"
            }
            Code::UnexpectedExchange => {
                "no exchange matches the --expect rule for the domain: mail goes somewhere it should not"
            }
            Code::UnexpectedPolicy => {
                "the MTA-STS mode is not the one an --expect rule requires (RFC 8461)"
            }
            Code::MtaStsMxUncovered => {
                "an exchange matches no mx pattern of an enforce MTA-STS policy: senders that follow MTA-STS refuse to deliver to it (RFC 8461 §4.1)"
            }
            Code::MtaStsNoCoveredMx => {
                "an enforce MTA-STS policy covers none of the exchanges: senders that follow MTA-STS cannot deliver at all (RFC 8461 §5)"
            }
            Code::DaneLookupFailed => {
                "the TLSA lookup of a DNSSEC-secure exchange failed: DANE senders (Postfix, Exim) defer mail to it (RFC 7672 §2.2)"
            }
            Code::ExchangeDomainUnregistered => {
                "an exchange's registrable domain does not exist: anyone could register it and receive the domain's mail"
            }
            Code::CnameTarget => {
                "an exchange is an alias (CNAME); RFC 2181 §10.3 forbids it, and some senders refuse it"
            }
            Code::IpLiteralTarget => {
                "an exchange is an IP address written as a name (MX 10 192.0.2.1.): it is looked up as a name, not used as an address (RFC 5321 §5.1)"
            }
            Code::SpecialAddress => {
                "an exchange resolves to a special-purpose address (loopback, private, documentation...; RFC 6890) that the internet cannot reach"
            }
            Code::ImplicitMx => {
                "no MX records: senders deliver to the domain's own addresses (RFC 5321 §5.1); publish MX, or a null MX if it takes no mail (RFC 7505)"
            }
            Code::UnresolvedFamily => {
                "an exchange's A or AAAA lookup failed while the other gave addresses: mail still gets through over that family"
            }
            Code::InconsistentAnswers => {
                "the DNS contradicts itself about an exchange (NXDOMAIN for one type, addresses for the other)"
            }
            Code::MtaStsTestingUncovered => {
                "an exchange matches no pattern of a testing MTA-STS policy: enforcing it would break mail to that exchange (RFC 8461)"
            }
            Code::MtaStsInvalid => {
                "the _mta-sts record or the policy is malformed or ambiguous: senders act as if there were no policy (RFC 8461 §3)"
            }
            Code::MtaStsUnreachable => {
                "an _mta-sts record, but no policy to be had over HTTPS (host, certificate, status, media type, size, redirect): senders use none (RFC 8461 §3.3)"
            }
            Code::MtaStsShortMaxAge => {
                "the policy's max_age is under a day: a short-lived policy protects little (RFC 8461 §3.2 recommends weeks)"
            }
            Code::MtaStsIdUnchanged => {
                "the policy changed since the baseline but the record's id did not: senders keep the cached old policy (RFC 8461 §3.1)"
            }
            Code::TlsRptInvalid => {
                "the _smtp._tls record is malformed, or there are several: no TLS report is sent (RFC 8460 §3)"
            }
            Code::TlsRptMissing => {
                "MTA-STS in testing mode, or DANE, but no TLS-RPT record: the failures they guard against are reported to nobody (RFC 8460)"
            }
            Code::TlsaUnusable => {
                "no TLSA record is usable for SMTP (only DANE-TA(2) and DANE-EE(3) are, RFC 7672 §3.1.3): senders fall back to unauthenticated TLS"
            }
            Code::TlsaMalformed => {
                "a TLSA record a sender cannot read: selector, matching type or digest length (RFC 6698 §2.1)"
            }
            Code::DaneIneffective => {
                "TLSA records, but the MX set, the exchange's addresses or the TLSA records are not DNSSEC-authenticated: no sender applies them (RFC 7672 §2.2)"
            }
            Code::DaneNoRollover => {
                "a single usable TLSA record: the next certificate or key change breaks mail unless a second record is published first (RFC 7671 §8.1)"
            }
            Code::DanePartial => {
                "at one preference some exchanges have DANE and others do not: mail is authenticated only when it goes to the first (RFC 7672 §2.2)"
            }
            Code::UnresolvedExchange => {
                "looking up an exchange's addresses failed: whether it receives mail is unknown, not known to be broken"
            }
            Code::ExpectationUnchecked => {
                "an --expect rule could not be checked: the lookup it needs failed"
            }
            Code::MtaStsUnknown => {
                "MTA-STS could not be checked: a lookup failed or the fetch timed out"
            }
            Code::TlsRptUnknown => "TLS-RPT could not be checked: the lookup failed",
            Code::DaneUnknown => "DANE could not be checked: the TLSA lookup timed out",
            Code::TakeoverUnknown => {
                "an exchange has no address, and whether its registrable domain exists could not be checked"
            }
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
