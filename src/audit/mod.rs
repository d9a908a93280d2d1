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
mod checks;
pub mod dane;
mod expect;
mod fetch;
pub mod mta_sts;
mod policy;
mod problems;
mod security;
mod special;
pub mod takeover;
pub mod tls_rpt;

pub use cache::CacheStats;
pub use checks::Checks;
pub use expect::{Expectation, glob};
pub use fetch::{FetchStats, POLICY_PATH};
pub use special::special;

use crate::error::Error;
use crate::limiter::Limiter;
use crate::name::DomainName;
use crate::outcome::{Audit, Code, DaneState, Dnssec, Mode, Outcome, PolicyState, Problem, Status};
use crate::resolver::Resolver;
use cache::AddressCache;
use policy::Policies;
use security::Security;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the audit does.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which checks run (`--audit`, `--checks`).
    pub checks: Checks,
    /// Where mail must go (`--expect`).
    pub expect: Vec<Expectation>,
    /// How MTA-STS policies are fetched.
    pub https: Https,
}

/// How MTA-STS policies are fetched over HTTPS.
#[derive(Clone, Debug)]
pub struct Https {
    /// Trust the CAs in this PEM file instead of the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Connections at once, apart from the DNS limiter.
    pub concurrency: usize,
    /// The most one fetch may take: connecting, TLS, the answer.
    pub timeout: Duration,
    /// The port (443; another only in tests).
    pub port: u16,
}

impl Default for Https {
    fn default() -> Self {
        Https {
            ca_file: None,
            concurrency: 256,
            timeout: Duration::from_secs(5),
            port: 443,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            checks: Checks::NONE,
            expect: Vec::new(),
            https: Https::default(),
        }
    }
}

impl Options {
    /// Whether there is anything to do.
    pub fn wanted(&self) -> bool {
        self.checks.any() || !self.expect.is_empty()
    }

    /// The checks that run: those asked for, and those an expectation
    /// needs.
    fn effective(&self) -> Checks {
        let mut c = self.checks;
        if self.expect.iter().any(Expectation::needs_mta_sts) {
            c.mta_sts = true;
            c.fetch = true;
        }
        c
    }
}

/// Audits domains: looks their exchanges' addresses up, checks their
/// policies, and checks them against the expectations.
pub(crate) struct Auditor<R> {
    checks: Checks,
    fetch_concurrency: usize,
    cache: Option<AddressCache<R>>,
    security: Option<Security<R>>,
    policies: Option<Policies<R>>,
    expect: Vec<Expectation>,
    /// Whether each rule of `expect` matched a domain of the run.
    expect_used: Box<[AtomicBool]>,
}

impl<R: Resolver> Auditor<R> {
    /// Every question through `resolver` and `limiter`.
    pub(crate) fn new(
        resolver: Arc<R>,
        limiter: Arc<Limiter>,
        options: Options,
    ) -> Result<Self, Error> {
        let checks = options.effective();
        let fetcher = if checks.mta_sts && checks.fetch {
            let tls = crate::resolver::tls_config(options.https.ca_file.as_deref())?;
            Some(fetch::Fetcher::new(
                Arc::new(tls),
                options.https.concurrency,
                options.https.timeout,
                options.https.port,
            ))
        } else {
            None
        };
        Ok(Auditor {
            checks,
            fetch_concurrency: if fetcher.is_some() {
                options.https.concurrency
            } else {
                0
            },
            cache: checks
                .resolves()
                .then(|| AddressCache::new(resolver.clone(), limiter.clone(), cache::CAPACITY)),
            security: (checks.dane || checks.takeover).then(|| {
                Security::new(
                    resolver.clone(),
                    limiter.clone(),
                    checks.dane,
                    checks.takeover,
                )
            }),
            policies: (checks.mta_sts || checks.tls_rpt)
                .then(|| Policies::new(resolver, limiter, fetcher)),
            expect_used: options
                .expect
                .iter()
                .map(|_| AtomicBool::new(false))
                .collect(),
            expect: options.expect,
        })
    }

    /// How many policy fetches may be under way at once (0: none).
    pub(crate) fn fetch_concurrency(&self) -> usize {
        self.fetch_concurrency
    }

    /// The report of one domain, given what its MX lookup came to.
    pub(crate) async fn audit(&self, domain: &DomainName, outcome: &Outcome) -> Audit {
        for (rule, used) in self.expect.iter().zip(&self.expect_used) {
            if !used.load(Ordering::Relaxed) && rule.applies_to(domain.as_str()) {
                used.store(true, Ordering::Relaxed);
            }
        }
        let hosts = problems::targets(domain, outcome);
        // Policies are about where mail goes: not for a failed lookup, a
        // name that does not exist, or a null MX.
        let policy = matches!(outcome.status(), Status::Ok | Status::NoMx);
        let routing = async {
            let Some(cache) = &self.cache else {
                return Audit::default();
            };
            let found = futures_util::future::join_all(
                hosts
                    .iter()
                    .map(|t| async move { (t.clone(), cache.addresses(t).await) }),
            )
            .await;
            let mut report = problems::report(domain, outcome, &found);
            if !self.checks.routing {
                report.problems.clear();
            }
            if self.checks.asks_dnssec() {
                self.dnssec(outcome, &found, &mut report);
            }
            if let Some(security) = &self.security {
                security.check(domain, outcome, &found, &mut report).await;
            }
            report
        };
        let mta_sts = async {
            let mut problems = Vec::new();
            let found = match (&self.policies, self.checks.mta_sts && policy) {
                (Some(p), true) => Some(p.mta_sts(domain, &hosts, &mut problems).await),
                _ => None,
            };
            (found, problems)
        };
        let tls_rpt = async {
            let mut problems = Vec::new();
            let found = match (&self.policies, self.checks.tls_rpt && policy) {
                (Some(p), true) => Some(p.tls_rpt(domain, &mut problems).await),
                _ => None,
            };
            (found, problems)
        };
        let (mut report, (mta_sts, mta_problems), (tls_rpt, tls_problems)) =
            futures_util::join!(routing, mta_sts, tls_rpt);
        report.problems.extend(mta_problems);
        report.problems.extend(tls_problems);
        if let Some(t) = &tls_rpt
            && t.state == PolicyState::None
        {
            if mta_sts
                .as_ref()
                .is_some_and(|m| m.mode == Some(Mode::Testing))
            {
                report.problems.push(Problem {
                    code: Code::TlsRptMissing,
                    exchange: None,
                    message: crate::safe!("MTA-STS is in testing mode, but there is no TLS-RPT record: the failures it tests for are reported nowhere"),
                });
            } else if report.dane_states().any(|d| d == DaneState::Usable) {
                report.problems.push(Problem {
                    code: Code::TlsRptMissing,
                    exchange: None,
                    message: crate::safe!("exchanges have DANE, but there is no TLS-RPT record: senders that fail to authenticate them report it nowhere"),
                });
            }
        }
        report.problems.extend(expect::check(
            &self.expect,
            domain,
            outcome,
            mta_sts.as_ref(),
        ));
        report.mta_sts = mta_sts;
        report.tls_rpt = tls_rpt;
        report
    }

    /// Whether the resolver authenticated the MX set (or, under implicit
    /// MX, the domain's addresses) and each exchange's addresses.
    fn dnssec(
        &self,
        outcome: &Outcome,
        found: &[(DomainName, Arc<problems::Addresses>)],
        report: &mut Audit,
    ) {
        for x in &mut report.exchanges {
            x.dnssec = found
                .iter()
                .find(|(n, _)| n == &x.name)
                .map(|(_, a)| a.dnssec());
        }
        let (state, why) = match (outcome.status(), outcome.answer()) {
            (Status::NoMx, _) => match found.first() {
                Some((_, a)) if outcome.answer().is_some_and(|m| m.authenticated) => {
                    (a.dnssec(), None)
                }
                _ => (Dnssec::Insecure, None),
            },
            (_, Some(a)) => (
                if a.authenticated {
                    Dnssec::Secure
                } else {
                    Dnssec::Insecure
                },
                None,
            ),
            (Status::Invalid, None) => return,
            (_, None) => (
                Dnssec::Unknown,
                outcome
                    .error()
                    .map(|f| crate::safe!("the MX lookup failed: {f}")),
            ),
        };
        report.dnssec = Some(state);
        report.dnssec_why = why;
    }

    /// The `--expect` rules that matched no domain of the run, as written.
    pub(crate) fn unused_expectations(&self) -> Vec<String> {
        self.expect
            .iter()
            .zip(&self.expect_used)
            .filter(|(_, used)| !used.load(Ordering::Relaxed))
            .map(|(rule, _)| rule.rule())
            .collect()
    }

    /// How the caches did: each kind of lookup made once per run.
    pub(crate) fn cache_stats(&self) -> Vec<(&'static str, CacheStats)> {
        let mut s: Vec<_> = self
            .cache
            .iter()
            .map(|c| ("addresses", c.stats()))
            .collect();
        if let Some(security) = &self.security {
            s.extend(security.stats());
        }
        s
    }

    pub(crate) fn fetch_stats(&self) -> Option<FetchStats> {
        self.policies.as_ref().and_then(Policies::fetch_stats)
    }
}
