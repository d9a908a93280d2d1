//! `--expect DOMAINS=EXCHANGES`: where mail must go. Every domain that
//! matches the left side must have at least one exchange that matches the
//! right side, or it gets the problem `unexpected_exchange`. Both sides are
//! names in which `*` stands for any run of characters, dots included
//! (`*.example.org` is every name below example.org, not example.org
//! itself; `*` alone is every name), compared in lower case. A domain that
//! matches several rules must satisfy each.
//!
//! `--expect DOMAINS=mta-sts:MODE`: every domain that matches must publish
//! an MTA-STS policy in that mode (`enforce`, `testing` or `none`), or it
//! gets `unexpected_policy`.
//!
//! A rule about a domain whose lookup failed (its MX records, or its
//! MTA-STS) is `expectation_unchecked`: unknown, not a violation.

use crate::name::DomainName;
use crate::outcome::{Code, Mode, MtaSts, Outcome, PolicyState, Problem};
use crate::text::{SafeText, escape_text};

/// A rule of `--expect`: every domain that matches the left side must have
/// an exchange that matches the right side, or publish that MTA-STS mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    domains: String,
    want: Want,
}

/// What a rule requires.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Want {
    /// An exchange matching this pattern.
    Exchange(String),
    /// An MTA-STS policy in this mode.
    MtaSts(Mode),
}

impl Expectation {
    /// `DOMAINS=EXCHANGES` or `DOMAINS=mta-sts:MODE`.
    pub fn parse(spec: &str) -> Result<Expectation, String> {
        let shown = escape_text(spec);
        let (d, e) = spec.split_once('=').ok_or_else(|| {
            format!("'{shown}' is not DOMAINS=EXCHANGES or DOMAINS=mta-sts:MODE (for example '*.example.org=*.mail.example.net')")
        })?;
        let clean = |s: &str| -> Result<String, String> {
            let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
            if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("'{shown}': each side must be a name pattern"));
            }
            Ok(s)
        };
        let want = match e.trim().to_ascii_lowercase().strip_prefix("mta-sts:") {
            Some("enforce") => Want::MtaSts(Mode::Enforce),
            Some("testing") => Want::MtaSts(Mode::Testing),
            Some("none") => Want::MtaSts(Mode::None),
            Some(_) => {
                return Err(format!(
                    "'{shown}': an MTA-STS mode is enforce, testing or none"
                ));
            }
            None => Want::Exchange(clean(e)?),
        };
        Ok(Expectation {
            domains: clean(d)?,
            want,
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

    /// Whether the rule needs the MTA-STS check.
    pub fn needs_mta_sts(&self) -> bool {
        matches!(self.want, Want::MtaSts(_))
    }

    /// The rule as written, for messages.
    pub fn rule(&self) -> String {
        match &self.want {
            Want::Exchange(e) => format!("{}={e}", self.domains),
            Want::MtaSts(m) => format!("{}=mta-sts:{}", self.domains, m.as_str()),
        }
    }

    /// Whether the rule is about `domain`.
    pub fn applies_to(&self, domain: &str) -> bool {
        glob(&self.domains, domain)
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

/// The problems of one domain under the rules: `unexpected_exchange`,
/// `unexpected_policy`, or, where the lookup it depends on failed,
/// `expectation_unchecked`: a failure is no evidence.
pub(crate) fn check(
    rules: &[Expectation],
    domain: &DomainName,
    outcome: &Outcome,
    mta_sts: Option<&MtaSts>,
) -> Vec<Problem> {
    rules
        .iter()
        .filter(|r| r.applies_to(domain.as_str()))
        .filter_map(|r| {
            let (code, message) = match &r.want {
                Want::Exchange(pattern) => exchanges(r, pattern, outcome)?,
                Want::MtaSts(mode) => policy(r, *mode, mta_sts)?,
            };
            Some(Problem {
                code,
                exchange: None,
                message: SafeText::from(message),
            })
        })
        .collect()
}

fn exchanges(rule: &Expectation, pattern: &str, outcome: &Outcome) -> Option<(Code, String)> {
    let status = outcome.status();
    if !status.is_definite() {
        return Some((
            Code::ExpectationUnchecked,
            format!(
                "--expect {}: not checked: the MX lookup failed ({status}: {})",
                rule.rule(),
                outcome.error().map_or("", |e| e.as_str())
            ),
        ));
    }
    let exchanges: Vec<&str> = outcome.mx_records().map(|(_, e)| e.as_str()).collect();
    if exchanges.iter().any(|e| glob(pattern, e)) {
        return None;
    }
    Some((
        Code::UnexpectedExchange,
        if exchanges.is_empty() {
            format!("no exchange matches {pattern} ({status} has none)")
        } else {
            format!(
                "no exchange matches {pattern} (has {})",
                exchanges.join(", ")
            )
        },
    ))
}

fn policy(rule: &Expectation, mode: Mode, mta_sts: Option<&MtaSts>) -> Option<(Code, String)> {
    let Some(m) = mta_sts else {
        // No policy check for this domain: its MX lookup failed, or it
        // accepts no mail.
        return Some((
            Code::ExpectationUnchecked,
            format!(
                "--expect {}: not checked: no MTA-STS check for this domain (its MX lookup failed, or it accepts no mail)",
                rule.rule()
            ),
        ));
    };
    match (m.state, m.mode) {
        (PolicyState::Unknown, _) => Some((
            Code::ExpectationUnchecked,
            format!(
                "--expect {}: not checked: {}",
                rule.rule(),
                m.error.as_deref().unwrap_or("the MTA-STS check failed")
            ),
        )),
        (PolicyState::Ok, Some(got)) if got == mode => None,
        // Checked without fetching the policy (--checks dns): the mode is
        // not known.
        (PolicyState::Ok, None) => Some((
            Code::ExpectationUnchecked,
            format!(
                "--expect {}: not checked: the policy was not fetched",
                rule.rule()
            ),
        )),
        (PolicyState::Ok, Some(got)) => Some((
            Code::UnexpectedPolicy,
            format!("MTA-STS is in {} mode, not {}", got.as_str(), mode.as_str()),
        )),
        (state, _) => Some((
            Code::UnexpectedPolicy,
            format!(
                "no MTA-STS policy in {} mode ({}: {})",
                mode.as_str(),
                state.as_str(),
                m.error.as_deref().unwrap_or("")
            ),
        )),
    }
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
        assert!(check(&rules, &d, &good, None).is_empty());
        let bad = answered(vec![mx(10, "mx.other.example")], false);
        let p = check(&rules, &d, &bad, None);
        assert_eq!(p.len(), 2);
        assert!(
            p[0].message.contains("*.mail.example.net")
                && p[0].message.contains("mx.other.example")
        );
        let none = answered(vec![], false);
        assert!(check(&rules, &d, &none, None)[0].message.contains("no_mx"));
        let unrelated = DomainName::parse_ascii("other.example").unwrap();
        assert!(check(&rules, &unrelated, &bad, None).is_empty());
        // A failed lookup: unknown, not a violation.
        let failed = crate::outcome::Outcome::Failed(crate::resolver::Failure::timeout());
        let p = check(&rules, &d, &failed, None);
        assert_eq!(p.len(), 2);
        for p in &p {
            assert_eq!(p.code, Code::ExpectationUnchecked);
            assert!(p.message.contains("timeout"), "{}", p.message);
        }
    }

    #[test]
    fn a_rule_can_require_an_mta_sts_mode() {
        use crate::outcome::{MtaSts, PolicyState};
        let rules = vec![Expectation::parse("*.example.org=mta-sts:enforce").unwrap()];
        let d = DomainName::parse_ascii("shop.example.org").unwrap();
        let o = answered(vec![mx(10, "mx.example.org")], false);
        let policy = |state, mode| MtaSts {
            state,
            id: None,
            mode,
            max_age: None,
            mx: Vec::new(),
            error: Some("why".into()),
        };
        let enforce = policy(PolicyState::Ok, Some(Mode::Enforce));
        assert!(check(&rules, &d, &o, Some(&enforce)).is_empty());
        let testing = policy(PolicyState::Ok, Some(Mode::Testing));
        assert_eq!(
            check(&rules, &d, &o, Some(&testing))[0].code,
            Code::UnexpectedPolicy
        );
        let none = policy(PolicyState::None, None);
        assert_eq!(
            check(&rules, &d, &o, Some(&none))[0].code,
            Code::UnexpectedPolicy
        );
        let unknown = policy(PolicyState::Unknown, None);
        assert_eq!(
            check(&rules, &d, &o, Some(&unknown))[0].code,
            Code::ExpectationUnchecked
        );
        assert!(Expectation::parse("*=mta-sts:strict").is_err());
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
