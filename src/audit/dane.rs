//! DANE for SMTP (RFC 7672), the DNS side: which TLSA records an exchange
//! publishes at `_25._tcp.NAME`, whether a sender would use them, and why
//! not. Pure: the lookups are the auditor's.
//!
//! A sender applies DANE to an exchange only when the MX set and the
//! exchange's addresses are authenticated (DNSSEC, §2.2) and so are the
//! TLSA records; then only DANE-TA(2) and DANE-EE(3) records count
//! (§3.1.3). When the exchange is a CNAME, the records at the expanded
//! name count first, then those at the name itself (§2.2.3).

use crate::name::DomainName;
use crate::outcome::{Code, Dane, DaneState, Problem};
use crate::resolver::{Answer, Failure, FailureKind, Rdata};
use crate::text::SafeText;
use std::fmt::Write as _;

/// One TLSA record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlsa<'a> {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// 0 the certificate, 1 its public key.
    pub selector: u8,
    /// 0 the data itself, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// The certificate, key or digest.
    pub data: &'a [u8],
}

impl Tlsa<'_> {
    /// `usage selector matching HEX`, as dig shows it.
    pub fn presentation(&self) -> String {
        let mut s = format!("{} {} {} ", self.usage, self.selector, self.matching);
        for b in self.data {
            let _ = write!(s, "{b:02X}");
        }
        s
    }

    /// Why a sender cannot read the record, if it cannot: a selector or
    /// matching type that does not exist, or a digest of the wrong length.
    pub fn malformed(&self) -> Option<String> {
        if self.selector > 1 {
            return Some(format!(
                "selector {} is neither 0 (certificate) nor 1 (public key)",
                self.selector
            ));
        }
        match (self.matching, self.data.len()) {
            (0, 0) => Some("matching type 0 with no data".into()),
            (1, n) if n != 32 => Some(format!("a SHA-256 digest of {n} bytes, not 32")),
            (2, n) if n != 64 => Some(format!("a SHA-512 digest of {n} bytes, not 64")),
            (m, _) if m > 2 => Some(format!(
                "matching type {m} is none of 0, 1 (SHA-256), 2 (SHA-512)"
            )),
            _ => None,
        }
    }

    /// Whether an SMTP sender uses it: DANE-TA or DANE-EE, well-formed.
    pub fn usable(&self) -> bool {
        matches!(self.usage, 2 | 3) && self.malformed().is_none()
    }
}

/// The TLSA records of an answer.
pub fn records(answer: &Answer) -> Vec<Tlsa<'_>> {
    answer
        .records
        .iter()
        .filter_map(|r| match r {
            Rdata::Tlsa {
                usage,
                selector,
                matching,
                data,
            } => Some(Tlsa {
                usage: *usage,
                selector: *selector,
                matching: *matching,
                data,
            }),
            _ => None,
        })
        .collect()
}

/// What the TLSA lookup of one host came to, and whether DANE applies to
/// it at all (`secure`: its MX set and its addresses were authenticated).
/// A finding about the exchange `host`.
fn exchange_problem(host: &DomainName, code: Code, message: String) -> Problem {
    Problem {
        code,
        exchange: Some(host.clone()),
        message: SafeText::from(message),
    }
}

/// `found` is the TLSA lookup at each base name tried, in order.
pub fn judge(
    host: &DomainName,
    secure: bool,
    found: &[(DomainName, &Result<Answer, Failure>)],
    problems: &mut Vec<Problem>,
) -> Dane {
    let problem = |code, message: String| exchange_problem(host, code, message);
    // The first base name with records (or a failure) decides.
    let decisive = found
        .iter()
        .find(|(_, r)| r.as_ref().map_or(true, |a| !records(a).is_empty()));
    let Some((base, result)) = decisive else {
        return Dane {
            state: DaneState::None,
            tlsa: Vec::new(),
            base: None,
        };
    };
    let base = (base != host).then(|| base.clone());
    let answer = match result {
        Err(f) => return failed(host, secure, f, base, problems),
        Ok(a) => a,
    };
    let tlsa = records(answer);
    let shown: Vec<SafeText> = tlsa
        .iter()
        .map(|t| SafeText::from(t.presentation()))
        .collect();
    if !secure || !answer.authenticated {
        let why = if secure {
            "the TLSA records are not authenticated"
        } else {
            "the MX records or the exchange's addresses are not authenticated (DNSSEC)"
        };
        problems.push(problem(
            Code::DaneIneffective,
            format!(
                "{host} publishes TLSA records, but {why}: no sender applies them (RFC 7672 §2.2)"
            ),
        ));
        return Dane {
            state: DaneState::Ineffective,
            tlsa: shown,
            base,
        };
    }
    for (t, text) in tlsa.iter().zip(&shown) {
        if let Some(why) = t.malformed() {
            problems.push(problem(
                Code::TlsaMalformed,
                format!("{host}'s TLSA record {text}: {why}"),
            ));
        }
    }
    let usable = tlsa.iter().filter(|t| t.usable()).count();
    let state = match usable {
        0 => {
            problems.push(problem(
                Code::TlsaUnusable,
                format!("none of {host}'s TLSA records is usable for SMTP (only well-formed DANE-TA(2) and DANE-EE(3) are, RFC 7672 §3.1.3): senders fall back to unauthenticated TLS"),
            ));
            DaneState::Unusable
        }
        1 => {
            problems.push(problem(
                Code::DaneNoRollover,
                format!("{host} has a single usable TLSA record: the next certificate or key change breaks mail unless a second record is published first"),
            ));
            DaneState::Usable
        }
        _ => DaneState::Usable,
    };
    Dane {
        state,
        tlsa: shown,
        base,
    }
}

/// A TLSA lookup that failed: nothing to defer on for an insecure host;
/// for a secure one, unknown after a time-out, else DANE senders defer.
fn failed(
    host: &DomainName,
    secure: bool,
    f: &Failure,
    base: Option<DomainName>,
    problems: &mut Vec<Problem>,
) -> Dane {
    let problem = |code, message: String| exchange_problem(host, code, message);
    let state = if !secure {
        // DANE does not apply to an insecure host: nothing to defer.
        DaneState::None
    } else if f.kind == FailureKind::Timeout {
        problems.push(problem(
            Code::DaneUnknown,
            format!("looking up {host}'s TLSA records timed out: whether DANE senders can deliver is unknown"),
        ));
        DaneState::Unknown
    } else {
        problems.push(problem(
            Code::DaneLookupFailed,
            format!("looking up {host}'s TLSA records failed ({f}): DANE senders defer mail to it (RFC 7672 §2.2)"),
        ));
        DaneState::Failed
    };
    Dane {
        state,
        tlsa: Vec::new(),
        base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlsa(usage: u8, selector: u8, matching: u8, len: usize) -> Rdata {
        Rdata::Tlsa {
            usage,
            selector,
            matching,
            data: vec![0xAB; len].into(),
        }
    }

    fn answer(records: Vec<Rdata>, authenticated: bool) -> Result<Answer, Failure> {
        Ok(Answer {
            records,
            authenticated,
            ..Answer::default()
        })
    }

    fn codes(
        host: &DomainName,
        secure: bool,
        r: Result<Answer, Failure>,
    ) -> (DaneState, Vec<Code>) {
        let mut p = Vec::new();
        let d = judge(host, secure, &[(host.clone(), &r)], &mut p);
        (d.state, p.iter().map(|p| p.code).collect())
    }

    #[test]
    fn every_verdict_from_its_evidence() {
        let h = DomainName::parse_ascii("mx.example").unwrap();
        let two = answer(vec![tlsa(3, 1, 1, 32), tlsa(3, 1, 1, 32)], true);
        assert_eq!(codes(&h, true, two), (DaneState::Usable, vec![]));
        let one = answer(vec![tlsa(2, 0, 2, 64)], true);
        assert_eq!(
            codes(&h, true, one),
            (DaneState::Usable, vec![Code::DaneNoRollover])
        );
        let pkix = answer(vec![tlsa(0, 0, 1, 32), tlsa(1, 1, 1, 32)], true);
        assert_eq!(
            codes(&h, true, pkix),
            (DaneState::Unusable, vec![Code::TlsaUnusable])
        );
        let bad = answer(
            vec![
                tlsa(3, 2, 1, 32),
                tlsa(3, 1, 1, 20),
                tlsa(3, 1, 2, 32),
                tlsa(3, 1, 1, 32),
                tlsa(3, 1, 1, 32),
            ],
            true,
        );
        assert_eq!(
            codes(&h, true, bad),
            (
                DaneState::Usable,
                vec![
                    Code::TlsaMalformed,
                    Code::TlsaMalformed,
                    Code::TlsaMalformed
                ]
            )
        );
        let unsigned = answer(vec![tlsa(3, 1, 1, 32)], false);
        assert_eq!(
            codes(&h, true, unsigned),
            (DaneState::Ineffective, vec![Code::DaneIneffective])
        );
        let insecure_host = answer(vec![tlsa(3, 1, 1, 32)], true);
        assert_eq!(
            codes(&h, false, insecure_host),
            (DaneState::Ineffective, vec![Code::DaneIneffective])
        );
        assert_eq!(
            codes(&h, true, answer(vec![], true)),
            (DaneState::None, vec![])
        );
        assert_eq!(
            codes(&h, true, Err(Failure::servfail())),
            (DaneState::Failed, vec![Code::DaneLookupFailed])
        );
        assert_eq!(
            codes(&h, true, Err(Failure::timeout())),
            (DaneState::Unknown, vec![Code::DaneUnknown])
        );
        // An insecure host's failed TLSA lookup is nothing to defer on.
        assert_eq!(
            codes(&h, false, Err(Failure::servfail())),
            (DaneState::None, vec![])
        );
    }

    #[test]
    fn a_cname_expanded_name_counts_first_then_the_name_itself() {
        let h = DomainName::parse_ascii("mx.example").unwrap();
        let target = DomainName::parse_ascii("host.provider.example").unwrap();
        let none = answer(vec![], true);
        let some = answer(vec![tlsa(3, 1, 1, 32), tlsa(3, 1, 1, 32)], true);
        let mut p = Vec::new();
        let d = judge(
            &h,
            true,
            &[(target.clone(), &none), (h.clone(), &some)],
            &mut p,
        );
        assert_eq!((d.state, d.base), (DaneState::Usable, None));
        let d = judge(
            &h,
            true,
            &[(target.clone(), &some), (h.clone(), &none)],
            &mut p,
        );
        assert_eq!((d.state, d.base), (DaneState::Usable, Some(target)));
        assert_eq!(d.tlsa[0].as_str(), format!("3 1 1 {}", "AB".repeat(32)));
    }
}
