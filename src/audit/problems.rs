//! The problems of one domain's mail routing, derived from typed evidence:
//! the MX set as received, and the A/AAAA answers of each exchange (or of
//! the domain itself when it has no MX). Pure: it sends nothing.

use super::special::special;
use crate::name::DomainName;
use crate::outcome::{Audit, Code, Exchange, Problem};
use crate::outcome::{Outcome, Status};
use crate::resolver::{Answer, Failure, Rdata};
use std::net::IpAddr;
use std::sync::Arc;

/// What the DNS said about one name's addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Addresses {
    pub a: Result<Answer, Failure>,
    pub aaaa: Result<Answer, Failure>,
}

impl Addresses {
    /// The addresses found, IPv4 first.
    pub(super) fn list(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = [&self.a, &self.aaaa]
            .into_iter()
            .flat_map(|r| r.iter().flat_map(Answer::addresses))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The failures, if either lookup failed.
    fn failures(&self) -> Vec<&Failure> {
        [&self.a, &self.aaaa]
            .into_iter()
            .filter_map(|r| r.as_ref().err())
            .collect()
    }

    /// The name does not exist, or exists with neither A nor AAAA: a
    /// definite "no address", unlike a failed lookup.
    fn dangling(&self) -> Option<&'static str> {
        let (Ok(a), Ok(aaaa)) = (&self.a, &self.aaaa) else {
            return None;
        };
        if a.nxdomain || aaaa.nxdomain {
            return Some("does not exist");
        }
        (a.records.is_empty() && aaaa.records.is_empty())
            .then_some("has neither A nor AAAA records")
    }

    /// The CNAME chain the name's addresses were found through.
    fn aliases(&self) -> &[DomainName] {
        [&self.a, &self.aaaa]
            .into_iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|a| &a.aliases[..])
            .find(|a| !a.is_empty())
            .unwrap_or(&[])
    }
}

/// An exchange name that is an IPv4 address written as a name
/// (`MX 10 192.0.2.1.`): four labels of decimal numbers up to 255.
fn ip_literal(name: &DomainName) -> bool {
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
pub(super) fn targets(domain: &DomainName, outcome: &Outcome) -> Vec<DomainName> {
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
pub(super) fn report(
    domain: &DomainName,
    outcome: &Outcome,
    found: &[(DomainName, Arc<Addresses>)],
) -> Audit {
    let mut problems = Vec::new();
    let lookup = |n: &DomainName| found.iter().find(|(t, _)| t == n).map(|(_, a)| &**a);
    let mut exchanges = Vec::new();
    let mut implicit = None;

    // The MX set as received: null MX shapes (RFC 7505 §3).
    let mx: Vec<(u16, &DomainName)> = match outcome.answer() {
        Some(a) => a
            .records
            .iter()
            .filter_map(|r| match r {
                Rdata::Mx {
                    preference,
                    exchange,
                } => Some((*preference, exchange)),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    if outcome.status() == Status::Ok && mx.iter().any(|(_, e)| e.is_root()) {
        let why = if mx.len() > 1 {
            "a null MX (\".\") beside other MX records; RFC 7505 allows it only alone"
        } else {
            "a null MX (\".\") with a preference other than 0; RFC 7505 requires 0"
        };
        problems.push(problem(
            Code::InvalidNullMx,
            Some(&DomainName::root()),
            why.into(),
        ));
    }

    let mut reachable = false;
    let mut unknown = false;
    match outcome.status() {
        Status::Ok => {
            for (_, e) in &mx {
                if e.is_root() || exchanges.iter().any(|x: &Exchange| &x.name == *e) {
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
                let addresses = found.list();
                exchange_problems(e, found, &addresses, &mut problems);
                reachable |= !addresses.is_empty();
                unknown |= !found.failures().is_empty();
                exchanges.push(Exchange {
                    name: (*e).clone(),
                    addresses,
                });
            }
            if !reachable && !unknown {
                problems.push(problem(
                    Code::NoRoute,
                    None,
                    "no exchange has an address: mail cannot be delivered".into(),
                ));
            }
        }
        Status::NoMx => {
            if let Some(found) = lookup(domain) {
                let addresses = found.list();
                let failures = found.failures();
                if !addresses.is_empty() {
                    problems.push(problem(
                        Code::ImplicitMx,
                        None,
                        format!("no MX records: mail goes to {domain} itself (RFC 5321 §5.1)"),
                    ));
                    special_problems(domain, &addresses, &mut problems);
                } else if failures.is_empty() {
                    problems.push(problem(
                        Code::NoRoute,
                        None,
                        "no MX records and no address: mail cannot be delivered".into(),
                    ));
                } else {
                    problems.push(problem(
                        Code::UnresolvedExchange,
                        Some(domain),
                        format!(
                            "no MX records, and looking up {domain}'s own addresses failed: {}",
                            failures[0]
                        ),
                    ));
                }
                implicit = Some(addresses);
            }
        }
        _ => {}
    }
    Audit {
        resolved: true,
        exchanges,
        implicit,
        problems,
    }
}

fn exchange_problems(
    e: &DomainName,
    found: &Addresses,
    addresses: &[IpAddr],
    problems: &mut Vec<Problem>,
) {
    let aliases = found.aliases();
    if let Some(target) = aliases.last() {
        problems.push(problem(
            Code::CnameTarget,
            Some(e),
            format!("{e} is an alias (CNAME to {target}); an MX must name a host, not an alias (RFC 2181 §10.3)"),
        ));
    }
    if let Some(why) = found.dangling() {
        problems.push(problem(
            Code::DanglingExchange,
            Some(e),
            format!("{e} {why}"),
        ));
    }
    let failures = found.failures();
    if let Some(f) = failures.first() {
        problems.push(problem(
            Code::UnresolvedExchange,
            Some(e),
            format!("looking up {e}'s addresses failed: {f}"),
        ));
    }
    special_problems(e, addresses, problems);
}

fn special_problems(name: &DomainName, addresses: &[IpAddr], problems: &mut Vec<Problem>) {
    for ip in addresses {
        if let Some(kind) = special(*ip) {
            problems.push(problem(
                Code::SpecialAddress,
                Some(name),
                format!("{name} resolves to {ip}, a {kind} address"),
            ));
        }
    }
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
        assert_eq!(r.exchanges[0].addresses.len(), 2);
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
        assert_eq!(r.implicit, Some(vec!["93.184.215.14".parse().unwrap()]));
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
    fn ip_literals_are_four_decimal_labels() {
        assert!(ip_literal(&name("192.0.2.1")));
        assert!(ip_literal(&name("10.0.0.255")));
        assert!(!ip_literal(&name("256.0.0.1")));
        assert!(!ip_literal(&name("mx.192.0.2")));
        assert!(!ip_literal(&name("1.2.3")));
    }
}
