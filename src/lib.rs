//! mxlookup: where does mail for these domains go? Concurrent MX lookups
//! behind one shared limiter, exactly one settled result per domain.
//!
//! The pieces, in the order data flows through them: [`input`] (lazy
//! entries), [`limiter`] (one per run), [`resolver`] (the only module that
//! knows hickory), [`engine`] (permit, lookup, settle), [`report`] (sinks and
//! summary), and [`exit`] (the exit status). [`lookup_all`] is the whole
//! pipeline as one call.

pub mod app;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod exit;
pub mod input;
pub mod limiter;
pub mod name;
pub mod outcome;
pub mod report;
pub mod resolver;

pub use engine::{Finish, Settled};
pub use error::Error;
pub use input::Entry;
pub use limiter::Limiter;
pub use name::DomainName;
pub use outcome::{Mx, Outcome, Status};
pub use resolver::{HickoryResolver, MxResolver, Settings};

use std::sync::Arc;
use std::time::Duration;

/// Look up every domain with at most `limiter.concurrency()` lookups at once
/// and return one settled result per distinct domain, in input order.
/// Each lookup ends within `deadline`.
///
/// ```no_run
/// # async fn demo() -> Result<(), mxlookup::Error> {
/// use std::sync::Arc;
/// let settings = mxlookup::Settings {
///     nameservers: vec!["127.0.0.1:5353".parse().unwrap()],
///     ..Default::default()
/// };
/// let resolver = Arc::new(mxlookup::HickoryResolver::new(&settings)?);
/// let limiter = Arc::new(mxlookup::Limiter::new(32, None));
/// for r in mxlookup::lookup_all(["example.com", "example.org"], resolver, limiter, settings.timeout).await {
///     println!("{} {} {:?}", r.entry.display_name(), r.outcome.status(), r.outcome.mx());
/// }
/// # Ok(()) }
/// ```
pub async fn lookup_all<R: MxResolver>(
    domains: impl IntoIterator<Item = impl Into<String>>,
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    deadline: Duration,
) -> Vec<Settled> {
    let args: Vec<String> = domains.into_iter().map(Into::into).collect();
    let entries: Vec<Entry> = input::Entries::new(vec![input::Source::Args(args)])
        .filter_map(Result::ok)
        .collect();
    let (entry_tx, entry_rx) = tokio::sync::mpsc::channel(1);
    // The channel holds the one batch, so this never waits or fails.
    let _ = entry_tx.try_send(entries);
    drop(entry_tx);
    let (result_tx, mut result_rx) = tokio::sync::mpsc::channel(8);
    let engine = engine::run(
        engine::Batches::new(entry_rx),
        resolver,
        limiter,
        deadline,
        result_tx,
        std::future::pending(),
    );
    let collect = async {
        let mut results = Vec::new();
        while let Some(batch) = result_rx.recv().await {
            for mut r in batch {
                r._permit = None;
                results.push(r);
            }
        }
        results
    };
    let (_, mut results) = tokio::join!(engine, collect);
    results.sort_by_key(|r: &Settled| r.entry.seq);
    results
}
