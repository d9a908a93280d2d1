//! mxlookup: where does mail for these domains go? Concurrent MX lookups
//! behind one shared limiter, exactly one settled result per domain.
//!
//! The pieces, in the order data flows through them: [`input`] (lazy
//! entries), [`limiter`] (one per run), [`resolver`] (questions to typed
//! answers; the only module that knows hickory), [`engine`] (permit, work,
//! settle), [`audit`] (what delivery would use, and its problems),
//! [`report`] (sinks and summary), [`ui`] (stderr) and [`exit`] (the exit
//! status). [`lookup_all`] is the whole pipeline as one call. [`merge`] is
//! `mxlookup report`: saved runs written again.

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod exit;
pub mod input;
pub mod limiter;
pub mod merge;
pub mod name;
pub mod outcome;
pub mod report;
pub mod resolver;
#[cfg(test)]
mod testing;
pub mod ui;

pub use engine::{Finish, Settled};
pub use error::Error;
pub use input::Entry;
pub use limiter::Limiter;
pub use name::DomainName;
pub use outcome::{Mx, Outcome, Status};
pub use resolver::{HickoryResolver, RecordType, Resolver, Settings, WireResolver};

use std::sync::Arc;

/// Look up the MX records of every domain, with at most
/// `limiter.concurrency()` queries in flight, and return one settled result
/// per distinct domain, in input order. Each lookup ends within the
/// resolver's timeout from its first query.
///
/// ```no_run
/// # async fn demo() -> Result<(), mxlookup::Error> {
/// use std::sync::Arc;
/// let settings = mxlookup::Settings {
///     nameservers: vec!["127.0.0.1:5353".parse().unwrap()],
///     ..Default::default()
/// };
/// let resolver = Arc::new(mxlookup::WireResolver::new(&settings)?);
/// let limiter = Arc::new(mxlookup::Limiter::new(32, None));
/// for r in mxlookup::lookup_all(["example.com", "example.org"], resolver, limiter).await {
///     println!("{} {} {:?}", r.entry.display_name(), r.outcome.status(), r.outcome.mx());
/// }
/// # Ok(()) }
/// ```
pub async fn lookup_all<R: Resolver>(
    domains: impl IntoIterator<Item = impl Into<String>>,
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
) -> Vec<Settled> {
    let args: Vec<String> = domains.into_iter().map(Into::into).collect();
    let entries: Vec<Entry> = input::Entries::new(vec![input::Source::args(args)])
        .filter_map(Result::ok)
        .collect();
    let (entry_tx, entry_rx) = tokio::sync::mpsc::channel(1);
    // The channel holds the one batch, so this never waits or fails.
    let _ = entry_tx.try_send(entries);
    drop(entry_tx);
    let (result_tx, mut result_rx) = tokio::sync::mpsc::channel(8);
    let (_interrupt_tx, interrupt_rx) = tokio::sync::watch::channel(engine::Interrupt::None);
    let concurrency = limiter.concurrency();
    let work = move |name: DomainName, permit| {
        let resolver = resolver.clone();
        async move {
            let outcome = Outcome::lookup(&*resolver, &name).await;
            drop(permit);
            engine::Done::from(outcome)
        }
    };
    let engine = engine::run(
        engine::Batches::new(entry_rx),
        limiter,
        engine::Bounds::jobs(concurrency),
        work,
        result_tx,
        interrupt_rx,
    );
    let collect = async {
        let mut results = Vec::new();
        while let Some(batch) = result_rx.recv().await {
            results.extend(batch);
        }
        results
    };
    let (_, mut results) = tokio::join!(engine, collect);
    results.sort_by_key(|r: &Settled| r.entry.seq);
    results
}
