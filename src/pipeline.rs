//! The whole pipeline, one way for everyone: entries in, one limiter, the
//! MX lookup of each domain and (when asked) its audit, one [`Settled`]
//! result per entry out. The command line runs it with a reader thread
//! before it and a writer thread after it; [`crate::lookup_all`] runs it
//! over a list and collects the results.

use crate::audit::{self, Auditor, CacheStats, FetchStats};
use crate::engine::{self, Batches, Bounds, Done};
use crate::error::Error;
use crate::limiter::{Limiter, Permit};
use crate::name::DomainName;
use crate::outcome::{Entry, Outcome, Settled};
use crate::resolver::Resolver;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use tokio::sync::{mpsc, watch};

pub use crate::engine::{BATCH, Finish, Interrupt, send_batched};

/// How many results an in-order writer may hold back before no new work
/// starts: `held` is the writer's count of results waiting for an
/// earlier one (see [`crate::report::InOrder`]).
#[derive(Clone, Debug)]
pub struct Backpressure {
    /// Results the writer holds now.
    pub held: Arc<AtomicUsize>,
    /// The most it may hold before no new work starts.
    pub max: usize,
}

impl Default for Backpressure {
    fn default() -> Self {
        Backpressure {
            held: Arc::default(),
            max: usize::MAX,
        }
    }
}

/// Looks domains up, and audits them, through one resolver and one
/// limiter.
pub struct Pipeline<R> {
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    auditor: Option<Arc<Auditor<R>>>,
    backpressure: Backpressure,
}

impl<R: Resolver> Pipeline<R> {
    /// MX lookups only.
    pub fn new(resolver: Arc<R>, limiter: Arc<Limiter>) -> Self {
        Pipeline {
            resolver,
            limiter,
            auditor: None,
            backpressure: Backpressure::default(),
        }
    }

    /// Also audit each domain: its questions go through the same resolver
    /// and limiter. An error when the policy fetch's TLS configuration
    /// cannot be made (`--ca-file`).
    pub fn audit(mut self, options: audit::Options) -> Result<Self, Error> {
        if options.wanted() {
            self.auditor = Some(Arc::new(Auditor::new(
                self.resolver.clone(),
                self.limiter.clone(),
                options,
            )?));
        }
        Ok(self)
    }

    /// Start no new work while the writer holds `backpressure.max` results.
    pub fn backpressure(mut self, backpressure: Backpressure) -> Self {
        self.backpressure = backpressure;
        self
    }

    /// Each kind of lookup the audit makes once per run (addresses, TLSA,
    /// registrable domains), and how its cache did.
    pub fn cache_stats(&self) -> Vec<(&'static str, CacheStats)> {
        self.auditor
            .as_ref()
            .map(|a| a.cache_stats())
            .unwrap_or_default()
    }

    /// The `--expect` rules that matched no domain (a typo would otherwise
    /// disable a check in silence).
    pub fn unused_expectations(&self) -> Vec<String> {
        self.auditor
            .as_ref()
            .map(|a| a.unused_expectations())
            .unwrap_or_default()
    }

    /// How the policy fetches went, when there were any.
    pub fn fetch_stats(&self) -> Option<FetchStats> {
        self.auditor.as_ref().and_then(|a| a.fetch_stats())
    }

    /// Run over the entries arriving in batches on `entries`, and send one
    /// result per entry, in batches, to `results` (in the order they
    /// settle: [`Settled::entry`]'s `seq` gives the input order). An
    /// `interrupt` stops new work, then settles what runs.
    pub async fn run(
        &self,
        entries: mpsc::Receiver<Vec<Entry>>,
        results: mpsc::Sender<Vec<Settled>>,
        interrupt: watch::Receiver<Interrupt>,
    ) -> Finish {
        let concurrency = self.limiter.concurrency();
        // An audited domain waits for its exchanges' answers without a
        // permit: let more of them be in progress, so the permits stay busy;
        // and with policy fetches, enough more that domains waiting for a
        // slow policy server do not hold up the DNS for the others.
        let jobs = match &self.auditor {
            Some(a) => concurrency * 2 + 16 + a.fetch_concurrency() * 8,
            None => concurrency,
        };
        let bounds = Bounds {
            jobs,
            held: self.backpressure.held.clone(),
            max_held: self.backpressure.max,
        };
        let work = |name: DomainName, permit: Permit| {
            let resolver = self.resolver.clone();
            let auditor = self.auditor.clone();
            async move {
                let outcome = Outcome::lookup(&*resolver, &name).await;
                // The audit's queries take permits of their own.
                drop(permit);
                // Boxed: the audit's future is large, and held inline it
                // would make every lookup's future that large (each one is
                // moved into the set of lookups in flight, audit or not).
                let audit = match auditor {
                    Some(a) => Some(Box::new(Box::pin(a.audit(&name, &outcome)).await)),
                    None => None,
                };
                Done { outcome, audit }
            }
        };
        engine::run(
            Batches::new(entries),
            self.limiter.clone(),
            bounds,
            work,
            results,
            interrupt,
        )
        .await
    }

    /// Run over `entries` and return every result, in input order.
    pub async fn run_all(&self, entries: Vec<Entry>) -> Vec<Settled> {
        let (entry_tx, entry_rx) = mpsc::channel(1);
        // The channel holds the one batch, so this never waits or fails.
        let _ = entry_tx.try_send(entries);
        drop(entry_tx);
        let (result_tx, mut result_rx) = mpsc::channel(8);
        // Nobody will interrupt: the sender is dropped.
        let interrupt = watch::channel(Interrupt::None).1;
        let collect = async {
            let mut results = Vec::new();
            while let Some(batch) = result_rx.recv().await {
                results.extend(batch);
            }
            results
        };
        let (_, mut results) = tokio::join!(self.run(entry_rx, result_tx, interrupt), collect);
        results.sort_by_key(|r: &Settled| r.entry.seq);
        results
    }
}
