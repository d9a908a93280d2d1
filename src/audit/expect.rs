//! `--expect DOMAINS=EXCHANGES`: where mail must go. Every domain that
//! matches the left side must have at least one exchange that matches the
//! right side, or it gets the problem `unexpected_exchange`. Both sides are
//! names in which `*` stands for any run of characters, dots included
//! (`*.example.org` is every name below example.org, not example.org
//! itself; `*` alone is every name), compared in lower case. A domain that
//! matches several rules must satisfy each.

use crate::name::DomainName;
use crate::outcome::Outcome;
use crate::outcome::{Code, Problem};
use crate::text::SafeText;

/// A rule of `--expect DOMAINS=EXCHANGES`: every domain that matches the left side must have an exchange that matches the right side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    domains: String,
    exchanges: String,
}

impl Expectation {
    /// `DOMAINS=EXCHANGES`.
    pub fn parse(spec: &str) -> Result<Expectation, String> {
        let shown = crate::text::escape_text(spec);
        let (d, e) = spec
            .split_once('=')
            .ok_or_else(|| format!("'{shown}' is not DOMAINS=EXCHANGES (for example '*.example.org=*.mail.example.net')"))?;
        let clean = |s: &str| -> Result<String, String> {
            let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
            if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("'{shown}': each side must be a name pattern"));
            }
            Ok(s)
        };
        Ok(Expectation {
            domains: clean(d)?,
            exchanges: clean(e)?,
        })
    }

    /// Rules from a file, one per line; blank lines and `#` comments are
    /// skipped. An error names the line.
    pub fn parse_lines(text: &str, source: &str) -> Result<Vec<Expectation>, String> {
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            rules.push(Expectation::parse(line).map_err(|e| format!("{source}:{}: {e}", i + 1))?);
        }
        Ok(rules)
    }

    fn applies_to(&self, domain: &str) -> bool {
        glob(&self.domains, domain)
    }

    fn accepts(&self, exchange: &str) -> bool {
        glob(&self.exchanges, exchange)
    }
}

/// `*` matches any run of characters (dots included); everything else
/// matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// The `unexpected_exchange` problems of one domain; when its MX lookup
/// failed, `expectation_unchecked` instead: a failure is no evidence of
/// where mail goes.
pub(crate) fn check(rules: &[Expectation], domain: &DomainName, outcome: &Outcome) -> Vec<Problem> {
    let exchanges: Vec<&str> = outcome.mx_records().map(|(_, e)| e.as_str()).collect();
    let status = outcome.status();
    rules
        .iter()
        .filter(|r| r.applies_to(domain.as_str()))
        .filter(|r| !status.is_definite() || !exchanges.iter().any(|e| r.accepts(e)))
        .map(|r| {
            let (code, message) = if !status.is_definite() {
                (
                    Code::ExpectationUnchecked,
                    format!(
                        "--expect {}={}: not checked: the MX lookup failed ({status}: {})",
                        r.domains,
                        r.exchanges,
                        outcome.error().map_or("", |e| e.as_str())
                    ),
                )
            } else if exchanges.is_empty() {
                (
                    Code::UnexpectedExchange,
                    format!("no exchange matches {} ({status} has none)", r.exchanges),
                )
            } else {
                (
                    Code::UnexpectedExchange,
                    format!(
                        "no exchange matches {} (has {})",
                        r.exchanges,
                        exchanges.join(", ")
                    ),
                )
            };
            Problem {
                code,
                exchange: None,
                message: SafeText::from(message),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{answered, mx};

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("*.example.org", "a.example.org"));
        assert!(glob("*.example.org", "a.b.example.org"));
        assert!(!glob("*.example.org", "example.org"));
        assert!(glob("*", "anything.example"));
        assert!(glob("mx*.example.net", "mx12.example.net"));
        assert!(!glob("mx*.example.net", "smtp.example.net"));
        assert!(glob("example.org", "example.org"));
        assert!(!glob("example.org", "example.org.evil"));
    }

    #[test]
    fn a_domain_needs_one_matching_exchange_per_rule() {
        let rules = vec![
            Expectation::parse("*.example.org=*.mail.example.net").unwrap(),
            Expectation::parse("Shop.Example.Org.=mx1.*").unwrap(),
        ];
        let d = DomainName::parse_ascii("shop.example.org").unwrap();
        let good = answered(
            vec![
                mx(10, "mx1.mail.example.net"),
                mx(20, "backup.other.example"),
            ],
            false,
        );
        assert!(check(&rules, &d, &good).is_empty());
        let bad = answered(vec![mx(10, "mx.other.example")], false);
        let p = check(&rules, &d, &bad);
        assert_eq!(p.len(), 2);
        assert!(
            p[0].message.contains("*.mail.example.net")
                && p[0].message.contains("mx.other.example")
        );
        let none = answered(vec![], false);
        assert!(check(&rules, &d, &none)[0].message.contains("no_mx"));
        let unrelated = DomainName::parse_ascii("other.example").unwrap();
        assert!(check(&rules, &unrelated, &bad).is_empty());
        // A failed lookup: unknown, not a violation.
        let failed = crate::outcome::Outcome::Failed(crate::resolver::Failure::timeout());
        let p = check(&rules, &d, &failed);
        assert_eq!(p.len(), 2);
        for p in &p {
            assert_eq!(p.code, Code::ExpectationUnchecked);
            assert!(p.message.contains("timeout"), "{}", p.message);
        }
    }

    #[test]
    fn bad_rules_say_where() {
        assert!(
            Expectation::parse("no-equals-sign")
                .unwrap_err()
                .contains("DOMAINS=EXCHANGES")
        );
        assert!(Expectation::parse("a=").is_err());
        let err = Expectation::parse_lines("# rules\n*.a=*.b\nbroken\n", "rules.txt").unwrap_err();
        assert!(err.starts_with("rules.txt:3:"), "{err}");
    }
}
