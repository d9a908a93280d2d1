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
use std::collections::VecDeque;
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

/// Entries and results cross threads in batches of up to this many, so
/// that a lookup costs no thread wake-up of its own.
pub const BATCH: usize = 256;
/// The longest a settled result waits in a part-filled batch.
const FLUSH_AFTER: Duration = Duration::from_millis(5);

/// Entries arriving in batches, handed out one at a time.
pub struct Batches {
    rx: mpsc::Receiver<Vec<Entry>>,
    queue: VecDeque<Entry>,
}

impl Batches {
    pub fn new(rx: mpsc::Receiver<Vec<Entry>>) -> Batches {
        Batches {
            rx,
            queue: VecDeque::new(),
        }
    }

    async fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            self.queue.extend(self.rx.recv().await?);
        }
    }
}

/// Send entries in batches: a batch goes when it is full, or at once when
/// the engine has nothing queued (so a slow trickle of input is not held
/// back). Returns false when the engine has gone.
pub fn send_batched(
    tx: &mpsc::Sender<Vec<Entry>>,
    batch: &mut Vec<Entry>,
    entry: Option<Entry>,
) -> bool {
    let last = entry.is_none();
    batch.extend(entry);
    let starving = tx.capacity() == tx.max_capacity();
    if batch.is_empty() || !(last || starving || batch.len() >= BATCH) {
        return true;
    }
    tx.blocking_send(std::mem::take(batch)).is_ok()
}

/// Look up every entry from `input` and send one result per entry to
/// `output`, in batches. Stops pulling input when `stop` completes; lookups
/// already started still settle (each within `deadline`).
pub async fn run<R: MxResolver>(
    mut input: Batches,
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    deadline: Duration,
    output: mpsc::Sender<Vec<Settled>>,
    stop: impl Future<Output = ()>,
) -> Finish {
    let mut out = Vec::with_capacity(BATCH);
    let flush = tokio::time::sleep(FLUSH_AFTER);
    tokio::pin!(flush);
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
                if out.is_empty() {
                    flush.as_mut().reset(Instant::now() + FLUSH_AFTER);
                }
                out.push(settled);
                if out.len() >= BATCH && output.send(std::mem::replace(&mut out, Vec::with_capacity(BATCH))).await.is_err() {
                    return Finish::Abandoned;
                }
            }
            () = &mut flush, if !out.is_empty() => {
                if output.send(std::mem::replace(&mut out, Vec::with_capacity(BATCH))).await.is_err() {
                    return Finish::Abandoned;
                }
            }
            () = &mut stop, if !(stopped || (input_done && in_flight.is_empty())) => {
                stopped = true;
            }
            work = &mut next, if !input_done && !stopped => {
                match work {
                    None => input_done = true,
                    Some((permit, entry)) => match &entry.name {
                        Err(reason) => {
                            if out.is_empty() {
                                flush.as_mut().reset(Instant::now() + FLUSH_AFTER);
                            }
                            out.push(Settled {
                                outcome: Outcome::Invalid(reason.clone()),
                                entry,
                                elapsed: Duration::ZERO,
                                _permit: Some(permit),
                            });
                        }
                        Ok(_) => in_flight.push(settle(resolver.clone(), entry, permit, deadline)),
                    },
                }
                drop(next);
                next = Box::pin(next_work(&limiter, &mut input).fuse());
            }
            else => break,
        }
    }
    if !out.is_empty() && output.send(out).await.is_err() {
        return Finish::Abandoned;
    }
    if stopped {
        Finish::Interrupted
    } else {
        Finish::Complete
    }
}

/// Take a permit, then pull the next entry, then wait for its start time.
async fn next_work(limiter: &Limiter, input: &mut Batches) -> Option<(Permit, Entry)> {
    let permit = limiter.acquire().await;
    let entry = input.next().await?;
    if entry.name.is_ok() {
        limiter.pace().await;
    }
    Some((permit, entry))
}

/// Look up a valid entry's name within the deadline.
async fn settle<R: MxResolver>(
    resolver: Arc<R>,
    entry: Entry,
    permit: Permit,
    deadline: Duration,
) -> Settled {
    let start = Instant::now();
    let outcome = match &entry.name {
        Ok(name) => lookup(&*resolver, name, deadline).await,
        Err(reason) => Outcome::Invalid(reason.clone()),
    };
    Settled {
        entry,
        outcome,
        elapsed: start.elapsed(),
        _permit: Some(permit),
    }
}

async fn lookup<R: MxResolver>(resolver: &R, name: &DomainName, deadline: Duration) -> Outcome {
    let lookup = AssertUnwindSafe(tokio::time::timeout(deadline, resolver.lookup(name)));
    match lookup.catch_unwind().await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_elapsed)) => Outcome::Timeout,
        // A bug in an engine must not lose the domain.
        Err(_panic) => Outcome::Error("internal error: the lookup failed unexpectedly".into()),
    }
}
