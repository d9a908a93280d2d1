//! Joins input, limiter and resolver: for each entry, take a permit, look
//! up, and emit exactly one [`Settled`] result within the deadline, whatever
//! the network does. Entries are pulled only when a permit is free, so a
//! million-line input never becomes a million pending lookups (the role of
//! Twisted's `Cooperator`).

use crate::input::Entry;
use crate::limiter::{Limiter, Permit};
use crate::name::DomainName;
use crate::outcome::Outcome;
use crate::resolver::MxResolver;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The one result of one entry.
#[derive(Debug)]
pub struct Settled {
    pub entry: Entry,
    pub outcome: Outcome,
    /// From the start of the lookup (after the limiter let it go) to its end.
    pub elapsed: Duration,
    /// Held until the result has been written, so that results waiting for
    /// a slow consumer count against the limiter and memory stays bounded.
    pub(crate) _permit: Option<Permit>,
}

impl Settled {
    /// A result made outside the engine (for tests and library users).
    pub fn new(entry: Entry, outcome: Outcome, elapsed: Duration) -> Settled {
        Settled {
            entry,
            outcome,
            elapsed,
            _permit: None,
        }
    }
}

/// How the engine stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every entry of the input settled.
    Complete,
    /// `stop` fired: no new lookups were started, and every started one settled.
    Interrupted,
    /// The consumer went away (a closed pipe); results after that were dropped.
    Abandoned,
}

/// Look up every entry from `input` and send one result per entry to
/// `output`. Stops pulling input when `stop` completes; lookups already
/// started still settle (each within `deadline`).
pub async fn run<R: MxResolver>(
    mut input: mpsc::Receiver<Entry>,
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    deadline: Duration,
    output: mpsc::Sender<Settled>,
    stop: impl Future<Output = ()>,
) -> Finish {
    let mut in_flight = FuturesUnordered::new();
    let stop = stop.fuse();
    tokio::pin!(stop);
    let mut stopped = false;
    let mut input_done = false;
    // The next piece of work is one future kept across loop turns, so that
    // an entry pulled from the input is never dropped half-way.
    let mut next = Box::pin(next_work(&limiter, &mut input).fuse());

    loop {
        tokio::select! {
            biased;
            Some(settled) = in_flight.next(), if !in_flight.is_empty() => {
                if output.send(settled).await.is_err() {
                    return Finish::Abandoned;
                }
            }
            () = &mut stop, if !(stopped || (input_done && in_flight.is_empty())) => {
                stopped = true;
            }
            work = &mut next, if !input_done && !stopped => {
                match work {
                    None => input_done = true,
                    Some((permit, entry)) => match entry.name.clone() {
                        Err(reason) => {
                            let settled = Settled {
                                entry,
                                outcome: Outcome::Invalid(reason),
                                elapsed: Duration::ZERO,
                                _permit: Some(permit),
                            };
                            if output.send(settled).await.is_err() {
                                return Finish::Abandoned;
                            }
                        }
                        Ok(name) => in_flight.push(settle(resolver.clone(), name, entry, permit, deadline)),
                    },
                }
                drop(next);
                next = Box::pin(next_work(&limiter, &mut input).fuse());
            }
            else => break,
        }
    }
    if stopped {
        Finish::Interrupted
    } else {
        Finish::Complete
    }
}

/// Take a permit, then pull the next entry, then wait for its start time.
async fn next_work(
    limiter: &Limiter,
    input: &mut mpsc::Receiver<Entry>,
) -> Option<(Permit, Entry)> {
    let permit = limiter.acquire().await;
    let entry = input.recv().await?;
    if entry.name.is_ok() {
        limiter.pace().await;
    }
    Some((permit, entry))
}

async fn settle<R: MxResolver>(
    resolver: Arc<R>,
    name: DomainName,
    entry: Entry,
    permit: Permit,
    deadline: Duration,
) -> Settled {
    let start = Instant::now();
    let lookup =
        AssertUnwindSafe(tokio::time::timeout(deadline, resolver.lookup(&name))).catch_unwind();
    let outcome = match lookup.await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_elapsed)) => Outcome::Timeout,
        // A bug in an engine must not lose the domain.
        Err(_panic) => Outcome::Error("internal error: the lookup failed unexpectedly".into()),
    };
    Settled {
        entry,
        outcome,
        elapsed: start.elapsed(),
        _permit: Some(permit),
    }
}
