//! The problems of one domain's mail routing, derived from typed evidence:
//! the MX set as received, and the A/AAAA answers of each exchange (or of
//! the domain itself when it has no MX). Pure: it sends nothing.
//!
//! Each verdict is definite only on definite evidence: an exchange is
//! dangling only when both its A and AAAA lookups answered (NXDOMAIN, or
//! no records), and a domain has no route only when every exchange is
//! known to have no address. A failed lookup (timeout, SERVFAIL, ...) is
//! `unresolved_exchange` (unknown) when no address is known, and at most a
//! warning naming the family when the other family gave addresses.

use super::special::special;
use crate::name::DomainName;
use crate::outcome::{Audit, Code, Dnssec, Exchange, Family, Outcome, Problem, Status, Target};
use crate::resolver::{Answer, Failure, Rdata};
use std::net::IpAddr;
use std::sync::Arc;

/// What the DNS said about one name's addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Addresses {
    pub(crate) a: Result<Answer, Failure>,
    pub(crate) aaaa: Result<Answer, Failure>,
}

/// What the two lookups say about whether a host has an address.
pub(super) enum Reach<'a> {
    /// At least one address.
    Some,
    /// Definitely none, and why.
    None(&'static str),
    /// Unknown: no address known, and a lookup that could have given one
    /// failed.
    Unknown(&'a Failure),
}

impl Addresses {
    fn lookups(&self) -> [(Family, &Result<Answer, Failure>); 2] {
        [(Family::V4, &self.a), (Family::V6, &self.aaaa)]
    }

    /// The addresses found (IPv4 first, sorted) and the families whose
    /// lookup failed.
    pub(crate) fn target(&self) -> Target {
        let mut addresses: Vec<IpAddr> = self
            .lookups()
            .into_iter()
            .flat_map(|(_, r)| r.iter().flat_map(Answer::addresses))
            .collect();
        addresses.sort();
        addresses.dedup();
        let unresolved = self
            .lookups()
            .into_iter()
            .filter(|(_, r)| r.is_err())
            .map(|(f, _)| f)
            .collect();
        Target {
            addresses,
            unresolved,
        }
    }

    pub(super) fn reach(&self) -> Reach<'_> {
        if self
            .lookups()
            .iter()
            .any(|(_, r)| r.as_ref().is_ok_and(|a| a.addresses().next().is_some()))
        {
            return Reach::Some;
        }
        match (&self.a, &self.aaaa) {
            (Err(f), _) | (_, Err(f)) => Reach::Unknown(f),
            (Ok(a), Ok(aaaa)) => Reach::None(match (a.nxdomain, aaaa.nxdomain) {
                (true, true) => "does not exist",
                (false, false) => "has neither A nor AAAA records",
                _ => "has no address (its A and AAAA answers disagree about whether it exists)",
            }),
        }
    }

    /// Whether the validating resolver authenticated the answers: both
    /// answered with AD; unknown if a lookup failed.
    pub(crate) fn dnssec(&self) -> Dnssec {
        match (&self.a, &self.aaaa) {
            (Ok(a), Ok(b)) if a.authenticated && b.authenticated => Dnssec::Secure,
            (Ok(_), Ok(_)) => Dnssec::Insecure,
            _ => Dnssec::Unknown,
        }
    }

    /// The CNAME chain the name's addresses were found through.
    pub(crate) fn aliases(&self) -> &[DomainName] {
        self.lookups()
            .into_iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|a| &a.aliases[..])
            .find(|a| !a.is_empty())
            .unwrap_or(&[])
    }

    /// One family said NXDOMAIN while the other gave addresses: the
    /// family that said so.
    fn contradiction(&self) -> Option<Family> {
        let has =
            |r: &Result<Answer, Failure>| r.as_ref().is_ok_and(|a| a.addresses().next().is_some());
        let gone = |r: &Result<Answer, Failure>| r.as_ref().is_ok_and(|a| a.nxdomain);
        if gone(&self.a) && has(&self.aaaa) {
            Some(Family::V4)
        } else if gone(&self.aaaa) && has(&self.a) {
            Some(Family::V6)
        } else {
            None
        }
    }
}

/// An exchange name that is an IPv4 address written as a name
/// (`MX 10 192.0.2.1.`): four labels of decimal numbers up to 255.
pub(super) fn ip_literal(name: &DomainName) -> bool {
    let labels: Vec<&str> = name.as_str().split('.').collect();
    labels.len() == 4
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 3
                && l.bytes().all(|b| b.is_ascii_digit())
                && l.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// The targets delivery would use for this outcome: the exchanges (not the
/// root), or the domain itself with no MX (implicit MX, RFC 5321 §5.1).
pub(crate) fn targets(domain: &DomainName, outcome: &Outcome) -> Vec<DomainName> {
    match outcome.status() {
        Status::Ok => {
            let mut t: Vec<DomainName> = Vec::new();
            for (_, e) in outcome.mx_records() {
                if !e.is_root() && !t.contains(e) {
                    t.push(e.clone());
                }
            }
            t
        }
        Status::NoMx => vec![domain.clone()],
        _ => Vec::new(),
    }
}

fn problem(code: Code, exchange: Option<&DomainName>, message: String) -> Problem {
    Problem {
        code,
        exchange: exchange.cloned(),
        message: message.into(),
    }
}

/// The audit report of one domain, from its outcome and the addresses of
/// each of its targets (see [`targets`]).
pub(crate) fn report(
    domain: &DomainName,
    outcome: &Outcome,
    found: &[(DomainName, Arc<Addresses>)],
) -> Audit {
    let lookup = |n: &DomainName| found.iter().find(|(t, _)| t == n).map(|(_, a)| &**a);
    let mut problems = null_mx_problems(outcome);
    let mut exchanges = Vec::new();
    let mut implicit = None;
    match outcome.status() {
        Status::Ok => {
            let (mut some, mut unknown, mut special_only) = (false, false, false);
            for (_, e) in outcome.mx_records() {
                if e.is_root() || exchanges.iter().any(|x: &Exchange| &x.name == e) {
                    continue;
                }
                if ip_literal(e) {
                    problems.push(problem(
                        Code::IpLiteralTarget,
                        Some(e),
                        format!("{e} is an IP address written as a name; an MX must name a host"),
                    ));
                }
                let Some(found) = lookup(e) else { continue };
                match target_problems(e, found, true, &mut problems) {
                    Reach::Some if public(found) => some = true,
                    Reach::Some => special_only = true,
                    Reach::Unknown(_) => unknown = true,
                    Reach::None(_) => {}
                }
                exchanges.push(Exchange {
                    name: e.clone(),
                    target: found.target(),
                    dnssec: None,
                    dane: None,
                });
            }
            if !some && !unknown {
                problems.push(problem(
                    Code::NoRoute,
                    None,
                    if special_only {
                        "no exchange has a public address (only loopback, private, link-local or other special-purpose ones): mail from the internet cannot be delivered".into()
                    } else {
                        "no exchange has an address: mail cannot be delivered".into()
                    },
                ));
            }
        }
        Status::NoMx => {
            if let Some(found) = lookup(domain) {
                match target_problems(domain, found, false, &mut problems) {
                    Reach::Some => {
                        problems.push(problem(
                            Code::ImplicitMx,
                            None,
                            format!("no MX records: mail goes to {domain} itself (RFC 5321 §5.1)"),
                        ));
                        if !public(found) {
                            problems.push(problem(
                                Code::NoRoute,
                                None,
                                "no MX records, and the domain's own addresses are all special-purpose: mail from the internet cannot be delivered".into(),
                            ));
                        }
                    }
                    Reach::None(_) => problems.push(problem(
                        Code::NoRoute,
                        None,
                        "no MX records and no address: mail cannot be delivered".into(),
                    )),
                    Reach::Unknown(_) => {}
                }
                implicit = Some(found.target());
            }
        }
        _ => {}
    }
    Audit {
        resolved: true,
        exchanges,
        implicit,
        problems,
        ..Audit::default()
    }
}

/// Whether a host has an address the internet can reach (not only
/// special-purpose ones, RFC 6890).
fn public(found: &Addresses) -> bool {
    found
        .target()
        .addresses
        .iter()
        .any(|ip| special(*ip).is_none())
}

/// The null MX shapes RFC 7505 §3 does not allow, as received.
fn null_mx_problems(outcome: &Outcome) -> Vec<Problem> {
    let mx: Vec<&Rdata> = outcome
        .answer()
        .map(|a| a.records.iter().collect())
        .unwrap_or_default();
    let root = mx
        .iter()
        .any(|r| matches!(r, Rdata::Mx { exchange, .. } if exchange.is_root()));
    if outcome.status() != Status::Ok || !root {
        return Vec::new();
    }
    let why = if mx.len() > 1 {
        "a null MX (\".\") beside other MX records; RFC 7505 allows it only alone"
    } else {
        "a null MX (\".\") with a preference other than 0; RFC 7505 requires 0"
    };
    vec![problem(
        Code::InvalidNullMx,
        Some(&DomainName::root()),
        why.into(),
    )]
}

/// The problems of one host delivery would connect to (`exchange`: an MX
/// target, else the domain itself under implicit MX), and whether it has
/// an address.
fn target_problems<'a>(
    e: &DomainName,
    found: &'a Addresses,
    exchange: bool,
    problems: &mut Vec<Problem>,
) -> Reach<'a> {
    if let (true, Some(target)) = (exchange, found.aliases().last()) {
        problems.push(problem(
            Code::CnameTarget,
            Some(e),
            format!("{e} is an alias (CNAME to {target}); an MX must name a host, not an alias (RFC 2181 §10.3)"),
        ));
    }
    let reach = found.reach();
    match &reach {
        Reach::Some => {
            for (family, r) in found.lookups() {
                if let Err(f) = r {
                    let other = match family {
                        Family::V4 => "IPv6",
                        Family::V6 => "IPv4",
                    };
                    problems.push(problem(
                        Code::UnresolvedFamily,
                        Some(e),
                        format!("looking up {e}'s {} records failed ({f}); its {other} addresses still receive mail", family.record()),
                    ));
                }
            }
            if let Some(said) = found.contradiction() {
                problems.push(problem(
                    Code::InconsistentAnswers,
                    Some(e),
                    format!(
                        "the {} lookup says {e} does not exist, but the {} lookup gives addresses",
                        said.record(),
                        match said {
                            Family::V4 => "AAAA",
                            Family::V6 => "A",
                        }
                    ),
                ));
            }
        }
        Reach::None(why) if exchange => {
            problems.push(problem(
                Code::DanglingExchange,
                Some(e),
                format!("{e} {why}"),
            ));
        }
        Reach::None(_) => {}
        Reach::Unknown(f) => {
            let message = if exchange {
                format!(
                    "looking up {e}'s addresses failed ({f}): whether it can receive mail is unknown"
                )
            } else {
                format!(
                    "no MX records, and looking up {e}'s own addresses failed ({f}): whether it can receive mail is unknown"
                )
            };
            problems.push(problem(Code::UnresolvedExchange, Some(e), message));
        }
    }
    for ip in &found.target().addresses {
        if let Some(kind) = special(*ip) {
            problems.push(problem(
                Code::SpecialAddress,
                Some(e),
                format!("{e} resolves to {ip}, a {kind} address"),
            ));
        }
    }
    reach
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::Phase;
    use crate::testing::{answered, mx};

    fn name(s: &str) -> DomainName {
        DomainName::parse_ascii(s).unwrap()
    }

    fn answer(records: Vec<Rdata>, nxdomain: bool, aliases: &[&str]) -> Answer {
        Answer {
            nxdomain,
            aliases: aliases.iter().map(|a| name(a)).collect(),
            records,
            ttl: None,
            authenticated: false,
            server: None,
            ede: Vec::new(),
        }
    }

    fn v4(s: &str) -> Rdata {
        Rdata::A(s.parse().unwrap())
    }

    fn addrs(a: Vec<Rdata>, aaaa: Vec<Rdata>) -> Arc<Addresses> {
        Arc::new(Addresses {
            a: Ok(answer(a, false, &[])),
            aaaa: Ok(answer(aaaa, false, &[])),
        })
    }

    fn both(a: Result<Answer, Failure>, aaaa: Result<Answer, Failure>) -> Arc<Addresses> {
        Arc::new(Addresses { a, aaaa })
    }

    fn codes(r: &Audit) -> Vec<Code> {
        let mut c: Vec<Code> = r.problems.iter().map(|p| p.code).collect();
        c.sort();
        c
    }

    #[test]
    fn special_addresses_only_are_no_route_and_beside_public_ones_a_warning() {
        let d = name("shop.example");
        let o = answered(vec![mx(10, "lo.example"), mx(20, "lan.example")], false);
        let lo = (name("lo.example"), addrs(vec![v4("127.0.0.1")], vec![]));
        let lan = (name("lan.example"), addrs(vec![v4("10.0.0.5")], vec![]));
        let public = (
            name("lan.example"),
            addrs(vec![v4("93.184.215.14")], vec![]),
        );
        let only = report(&d, &o, &[lo.clone(), lan]);
        assert_eq!(
            codes(&only),
            [Code::NoRoute, Code::SpecialAddress, Code::SpecialAddress]
        );
        assert!(
            only.problems
                .iter()
                .any(|p| p.message.contains("no exchange has a public address"))
        );
        assert_eq!(
            codes(&report(&d, &o, &[lo.clone(), public])),
            [Code::SpecialAddress]
        );
        let implicit = answered(vec![], false);
        let own = report(
            &d,
            &implicit,
            &[(d.clone(), addrs(vec![v4("192.168.1.1")], vec![]))],
        );
        assert_eq!(
            codes(&own),
            [Code::ImplicitMx, Code::NoRoute, Code::SpecialAddress]
        );
    }

    #[test]
    fn a_healthy_domain_has_no_problems_and_its_addresses() {
        let d = name("shop.example");
        let o = answered(vec![mx(10, "mx1.example"), mx(20, "mx2.example")], false);
        let found = vec![
            (
                name("mx1.example"),
                addrs(
                    vec![v4("93.184.215.14")],
                    vec![Rdata::Aaaa("2a00:1450::1".parse().unwrap())],
                ),
            ),
            (
                name("mx2.example"),
                addrs(vec![v4("93.184.215.15")], vec![]),
            ),
        ];
        let r = report(&d, &o, &found);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.exchanges.len(), 2);
        assert_eq!(r.exchanges[0].target.addresses.len(), 2);
        assert_eq!(
            targets(&d, &o),
            vec![name("mx1.example"), name("mx2.example")]
        );
    }

    #[test]
    fn every_problem_code_from_its_evidence() {
        let d = name("d.example");
        // Dangling (NXDOMAIN), dangling (NODATA), alias, special address,
        // IP literal, unresolved: one domain, one exchange each.
        let o = answered(
            vec![
                mx(1, "gone.example"),
                mx(2, "empty.example"),
                mx(3, "alias.example"),
                mx(4, "private.example"),
                mx(5, "192.0.2.1"),
                mx(6, "slow.example"),
            ],
            false,
        );
        let found = vec![
            (
                name("gone.example"),
                both(Ok(answer(vec![], true, &[])), Ok(answer(vec![], true, &[]))),
            ),
            (name("empty.example"), addrs(vec![], vec![])),
            (
                name("alias.example"),
                both(
                    Ok(answer(vec![v4("93.184.215.20")], false, &["real.example"])),
                    Ok(answer(vec![], false, &["real.example"])),
                ),
            ),
            (
                name("private.example"),
                addrs(vec![v4("10.0.0.25")], vec![]),
            ),
            (
                name("192.0.2.1"),
                both(Ok(answer(vec![], true, &[])), Ok(answer(vec![], true, &[]))),
            ),
            (
                name("slow.example"),
                both(Err(Failure::timeout()), Ok(answer(vec![], false, &[]))),
            ),
        ];
        let r = report(&d, &o, &found);
        assert_eq!(
            codes(&r),
            vec![
                Code::CnameTarget,
                Code::IpLiteralTarget,
                Code::DanglingExchange,
                Code::DanglingExchange,
                Code::DanglingExchange,
                Code::SpecialAddress,
                Code::UnresolvedExchange,
            ]
        );
        // Some exchanges have addresses: there is a route.
        assert!(!codes(&r).contains(&Code::NoRoute));
        let special = r
            .problems
            .iter()
            .find(|p| p.code == Code::SpecialAddress)
            .unwrap();
        assert!(special.message.contains("10.0.0.25") && special.message.contains("private"));
        assert_eq!(special.exchange, Some(name("private.example")));
    }

    #[test]
    fn no_route_only_when_every_exchange_is_known_to_have_no_address() {
        let d = name("d.example");
        let o = answered(vec![mx(1, "gone.example"), mx(2, "empty.example")], false);
        let none = vec![
            (
                name("gone.example"),
                both(Ok(answer(vec![], true, &[])), Ok(answer(vec![], true, &[]))),
            ),
            (name("empty.example"), addrs(vec![], vec![])),
        ];
        assert!(codes(&report(&d, &o, &none)).contains(&Code::NoRoute));
        // One lookup failed: unknown, not no route.
        let mut unknown = none.clone();
        unknown[1].1 = both(Err(Failure::servfail()), Ok(answer(vec![], false, &[])));
        let c = codes(&report(&d, &o, &unknown));
        assert!(
            !c.contains(&Code::NoRoute) && c.contains(&Code::UnresolvedExchange),
            "{c:?}"
        );
    }

    #[test]
    fn null_mx_shapes_and_implicit_mx() {
        let d = name("d.example");
        // A proper null MX: nothing to say.
        assert!(
            report(&d, &answered(vec![mx(0, ".")], false), &[])
                .problems
                .is_empty()
        );
        // MX 10 . alone: invalid, and nothing can receive mail.
        let ten = report(&d, &answered(vec![mx(10, ".")], false), &[]);
        assert_eq!(codes(&ten), vec![Code::NoRoute, Code::InvalidNullMx]);
        // 0 . beside a real exchange.
        let mixed = answered(vec![mx(0, "."), mx(10, "mx.example")], false);
        let found = vec![(name("mx.example"), addrs(vec![v4("93.184.215.14")], vec![]))];
        assert_eq!(
            codes(&report(&d, &mixed, &found)),
            vec![Code::InvalidNullMx]
        );
        // No MX, but addresses: implicit MX.
        let nodata = answered(vec![], false);
        assert_eq!(targets(&d, &nodata), vec![d.clone()]);
        let own = vec![(d.clone(), addrs(vec![v4("93.184.215.14")], vec![]))];
        let r = report(&d, &nodata, &own);
        assert_eq!(codes(&r), vec![Code::ImplicitMx]);
        assert_eq!(
            r.implicit.map(|t| t.addresses),
            Some(vec!["93.184.215.14".parse().unwrap()])
        );
        // No MX and no address.
        let bare = vec![(d.clone(), addrs(vec![], vec![]))];
        assert_eq!(codes(&report(&d, &nodata, &bare)), vec![Code::NoRoute]);
        // No MX, and the address lookup failed.
        let failed = vec![(
            d.clone(),
            both(
                Err(Failure::error(Phase::Network, "boom")),
                Ok(answer(vec![], false, &[])),
            ),
        )];
        assert_eq!(
            codes(&report(&d, &nodata, &failed)),
            vec![Code::UnresolvedExchange]
        );
    }

    #[test]
    fn a_failed_family_beside_addresses_is_a_warning_that_names_it() {
        let d = name("d.example");
        let o = answered(vec![mx(10, "mx.example")], false);
        let found = vec![(
            name("mx.example"),
            both(
                Ok(answer(vec![v4("93.184.215.14")], false, &[])),
                Err(Failure::timeout()),
            ),
        )];
        let r = report(&d, &o, &found);
        assert_eq!(codes(&r), vec![Code::UnresolvedFamily]);
        let p = &r.problems[0];
        assert_eq!(p.code.severity(), crate::outcome::Severity::Warning);
        assert!(
            p.message.contains("AAAA") && p.message.contains("IPv4"),
            "{}",
            p.message
        );
        assert_eq!(r.exchanges[0].target.unresolved, vec![Family::V6]);
    }

    #[test]
    fn contradicting_answers_are_reported_as_such_never_as_does_not_exist() {
        let d = name("d.example");
        let o = answered(vec![mx(10, "mx.example")], false);
        let found = vec![(
            name("mx.example"),
            both(
                Ok(answer(vec![], true, &[])),
                Ok(answer(
                    vec![Rdata::Aaaa("2a00:1450::1".parse().unwrap())],
                    false,
                    &[],
                )),
            ),
        )];
        let r = report(&d, &o, &found);
        assert_eq!(codes(&r), vec![Code::InconsistentAnswers]);
        assert!(
            !r.problems
                .iter()
                .any(|p| p.message.contains("does not exist") && p.code == Code::DanglingExchange)
        );
        // NXDOMAIN for one type and no records for the other: no address
        // either way, so dangling, but the message says they disagree.
        let found = vec![(
            name("mx.example"),
            both(
                Ok(answer(vec![], true, &[])),
                Ok(answer(vec![], false, &[])),
            ),
        )];
        let r = report(&d, &o, &found);
        assert_eq!(
            codes(&r),
            vec![Code::DanglingExchange, Code::NoRoute]
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert!(r.problems.iter().any(|p| p.message.contains("disagree")));
    }

    #[test]
    fn unknown_is_never_dangling_and_never_no_route() {
        let d = name("d.example");
        let o = answered(vec![mx(10, "mx.example")], false);
        for (a, aaaa) in [
            (Err(Failure::timeout()), Err(Failure::servfail())),
            (Err(Failure::servfail()), Ok(answer(vec![], true, &[]))),
            (Ok(answer(vec![], true, &[])), Err(Failure::refused())),
        ] {
            let r = report(&d, &o, &[(name("mx.example"), both(a, aaaa))]);
            assert_eq!(codes(&r), vec![Code::UnresolvedExchange]);
            assert_eq!(
                r.problems[0].code.severity(),
                crate::outcome::Severity::Unknown
            );
        }
        // Implicit MX with the domain's own lookups failed: unknown too.
        let nodata = answered(vec![], false);
        let r = report(
            &d,
            &nodata,
            &[(
                d.clone(),
                both(Err(Failure::timeout()), Err(Failure::timeout())),
            )],
        );
        assert_eq!(codes(&r), vec![Code::UnresolvedExchange]);
    }

    #[test]
    fn ip_literals_are_four_decimal_labels() {
        assert!(ip_literal(&name("192.0.2.1")));
        assert!(ip_literal(&name("10.0.0.255")));
        assert!(!ip_literal(&name("256.0.0.1")));
        assert!(!ip_literal(&name("mx.192.0.2")));
        assert!(!ip_literal(&name("1.2.3")));
    }
}
