//! The audit (`--audit`): will mail for a domain reach a server? For each
//! domain, the addresses of its exchanges (or, with no MX, of the domain
//! itself), and the problems a mail operator would want to know about,
//! each with a stable code. Also `--expect` (where mail must go) and
//! `--baseline` (what changed since a previous run).
//!
//! By job: `cache` looks each exchange up once per run, through the same
//! limiter as everything else; `problems` derives the problems from typed
//! evidence and sends nothing; `special` knows the special-purpose
//! address ranges; `expect` reads and applies the expectations. The
//! baseline is a saved run ([`crate::saved`]).

mod cache;
mod expect;
mod problems;
mod special;

pub use cache::CacheStats;
pub use expect::{Expectation, glob};
pub use special::special;

use crate::limiter::Limiter;
use crate::name::DomainName;
use crate::outcome::{Audit, Outcome};
use crate::resolver::Resolver;
use cache::AddressCache;
use std::sync::Arc;

/// What the audit does.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Look the exchanges' addresses up and check them (`--audit`).
    pub resolve: bool,
    /// Where mail must go (`--expect`).
    pub expect: Vec<Expectation>,
}

impl Options {
    /// Whether there is anything to do.
    pub fn wanted(&self) -> bool {
        self.resolve || !self.expect.is_empty()
    }
}

/// Audits domains: looks their exchanges' addresses up (with `--audit`)
/// and checks them against the expectations (`--expect`).
pub(crate) struct Auditor<R> {
    cache: Option<AddressCache<R>>,
    expect: Vec<Expectation>,
}

impl<R: Resolver> Auditor<R> {
    /// Every question through `resolver` and `limiter`.
    pub(crate) fn new(resolver: Arc<R>, limiter: Arc<Limiter>, options: Options) -> Self {
        Auditor {
            cache: options
                .resolve
                .then(|| AddressCache::new(resolver, limiter, cache::CAPACITY)),
            expect: options.expect,
        }
    }

    /// The report of one domain, given what its MX lookup came to.
    pub(crate) async fn audit(&self, domain: &DomainName, outcome: &Outcome) -> Audit {
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
            None => Audit::default(),
        };
        report
            .problems
            .extend(expect::check(&self.expect, domain, outcome));
        report
    }

    pub(crate) fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(AddressCache::stats)
    }
}
