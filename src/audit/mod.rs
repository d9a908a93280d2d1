//! The audit (`--audit`): will mail for a domain reach a server? For each
//! domain, the addresses of its exchanges (or, with no MX, of the domain
//! itself), and the problems a mail operator would want to know about,
//! each with a stable code. Also `--expect` (where mail must go) and
//! `--baseline` (what changed since a previous run).
//!
//! By job: [`cache`] looks each exchange up once per run, through the same
//! limiter as everything else; [`problems`] derives the problems from typed
//! evidence and sends nothing; [`special`] knows the special-purpose
//! address ranges; [`expect`] and [`baseline`] read and apply their inputs.

pub mod baseline;
pub mod cache;
pub mod expect;
pub mod problems;
pub mod special;

pub use cache::{AddressCache, CacheStats};
pub use expect::Expectation;

use crate::name::DomainName;
use crate::outcome::Outcome;
use crate::resolver::Resolver;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// What the audit found for one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Addresses were looked up (`--audit`); with `--expect` alone they
    /// are not.
    pub resolved: bool,
    /// Per exchange, in the order of the MX records.
    pub exchanges: Vec<Exchange>,
    /// With no MX records: the domain's own addresses (implicit MX,
    /// RFC 5321 §5.1).
    pub implicit: Option<Vec<IpAddr>>,
    pub problems: Vec<Problem>,
}

/// One exchange as delivery would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub name: DomainName,
    /// A and AAAA, IPv4 first, each sorted.
    pub addresses: Vec<IpAddr>,
}

/// A problem with a domain's mail routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: Code,
    /// The exchange it is about, if any.
    pub exchange: Option<String>,
    pub message: String,
}

/// The stable problem codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    ImplicitMx,
    NoRoute,
    InvalidNullMx,
    CnameTarget,
    IpLiteralTarget,
    DanglingExchange,
    SpecialAddress,
    UnresolvedExchange,
    UnexpectedExchange,
}

impl Code {
    /// A problem that makes the run exit 1: mail does not get through, or
    /// whether it does is unknown, or it goes where it must not. The others
    /// are warnings, counted in the summary.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Code::NoRoute
                | Code::DanglingExchange
                | Code::InvalidNullMx
                | Code::UnresolvedExchange
                | Code::UnexpectedExchange
        )
    }

    pub const ALL: [Code; 9] = [
        Code::NoRoute,
        Code::DanglingExchange,
        Code::InvalidNullMx,
        Code::UnresolvedExchange,
        Code::UnexpectedExchange,
        Code::CnameTarget,
        Code::IpLiteralTarget,
        Code::SpecialAddress,
        Code::ImplicitMx,
    ];

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
            Code::UnexpectedExchange => "unexpected_exchange",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Audits domains: looks their exchanges' addresses up (with `--audit`)
/// and checks them against the expectations (`--expect`).
pub struct Auditor<R> {
    cache: Option<AddressCache<R>>,
    expect: Vec<Expectation>,
}

impl<R: Resolver> Auditor<R> {
    /// `resolve`: look addresses up (`--audit`), through `limiter`.
    pub fn new(
        resolver: Arc<R>,
        limiter: Arc<crate::limiter::Limiter>,
        resolve: bool,
        expect: Vec<Expectation>,
    ) -> Self {
        Auditor {
            cache: resolve.then(|| AddressCache::new(resolver, limiter, cache::CAPACITY)),
            expect,
        }
    }

    /// The report of one domain, given what its MX lookup came to.
    pub async fn audit(&self, domain: &DomainName, outcome: &Outcome) -> Report {
        let mut report = match &self.cache {
            Some(cache) => {
                let targets = problems::targets(domain, outcome);
                let found =
                    futures_util::future::join_all(targets.into_iter().map(|t| async move {
                        let a = cache.addresses(&t).await;
                        (t, a)
                    }))
                    .await;
                problems::report(domain, outcome, &found)
            }
            None => Report::default(),
        };
        report
            .problems
            .extend(expect::check(&self.expect, domain, outcome));
        report
    }

    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(AddressCache::stats)
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
        }
        let mut all = Code::ALL.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), Code::ALL.len());
    }
}
