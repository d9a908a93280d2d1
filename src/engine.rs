//! Joins input, limiter and work: for each entry, take a permit from the
//! limiter, then pull the entry (work is created lazily, the role of
//! Twisted's `Cooperator`), run the work, and emit exactly one [`Settled`]
//! result, whatever the network does.
//!
//! Flow control is kept out of the results: the permit belongs to the work
//! and is freed the moment its query settles (or earlier, when the work
//! says so), so a slot of the limiter turns over as fast as the network
//! answers. Results waiting for the writer are bounded separately: when
//! too many wait, no new work starts. Work may ask more questions through
//! the same limiter (the audit does): it holds no permit while it waits for
//! one, so nothing deadlocks, even at `--concurrency 1`; the number of
//! entries in progress is bounded too.

use crate::limiter::{Limiter, Permit};
use crate::name::DomainName;
use crate::outcome::{Audit, Entry, Outcome, Settled};
use crate::resolver::{Failure, Phase};
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// What a piece of work came to.
pub(crate) struct Done {
    pub outcome: Outcome,
    pub audit: Option<Box<Audit>>,
}

impl From<Outcome> for Done {
    fn from(outcome: Outcome) -> Done {
        Done {
            outcome,
            audit: None,
        }
    }
}

/// How the engine stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every entry of the input settled.
    Complete,
    /// Stopped by a signal: no new work was started, and every started
    /// entry settled (on a second signal, as `error`: interrupted).
    Interrupted,
    /// The consumer went away (a closed pipe); results after that were
    /// dropped.
    Abandoned,
}

/// What the signal handler asks of the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interrupt {
    /// No interruption.
    #[default]
    None,
    /// Start nothing new; let what runs settle.
    Stop,
    /// Settle everything that runs now, as interrupted.
    Abort,
}

/// Entries and results cross threads in batches of up to this many, so
/// that a lookup costs no thread wake-up of its own.
pub const BATCH: usize = 256;
/// Settled results the engine holds while the writer is behind; past this,
/// no new work starts.
const HELD: usize = 4 * BATCH;
/// The longest a settled result waits for its batch to fill. Nothing holds
/// a permit meanwhile.
const FLUSH_AFTER: Duration = Duration::from_millis(2);

/// Entries arriving in batches, handed out one at a time.
pub(crate) struct Batches {
    rx: mpsc::Receiver<Vec<Entry>>,
    queue: VecDeque<Entry>,
}

impl Batches {
    pub(crate) fn new(rx: mpsc::Receiver<Vec<Entry>>) -> Batches {
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

/// Send entries in batches: a batch goes when it is full, when the engine
/// has nothing queued (so a slow trickle of input is not held back), or
/// when `flush` is set (the reader is about to wait for more input).
/// Returns false when the engine has gone.
pub fn send_batched(
    tx: &mpsc::Sender<Vec<Entry>>,
    batch: &mut Vec<Entry>,
    entry: Option<Entry>,
    flush: bool,
) -> bool {
    let last = entry.is_none();
    batch.extend(entry);
    let starving = tx.capacity() == tx.max_capacity();
    if batch.is_empty() || !(last || flush || starving || batch.len() >= BATCH) {
        return true;
    }
    tx.blocking_send(std::mem::take(batch)).is_ok()
}

/// The entries in progress, by slot: the engine keeps them, the work gets
/// only the name, so that a second interrupt can still say which entries
/// it cut short.
#[derive(Default)]
struct Slab {
    entries: Vec<Option<(Entry, Instant)>>,
    free: Vec<usize>,
}

impl Slab {
    fn insert(&mut self, entry: Entry) -> usize {
        let item = Some((entry, Instant::now()));
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = item;
                i
            }
            None => {
                self.entries.push(item);
                self.entries.len() - 1
            }
        }
    }

    fn take(&mut self, i: usize) -> Option<(Entry, Instant)> {
        let item = self.entries.get_mut(i)?.take();
        if item.is_some() {
            self.free.push(i);
        }
        item
    }
}

/// How much work may be in progress.
#[derive(Clone, Debug)]
pub(crate) struct Bounds {
    /// Entries in progress at once.
    pub jobs: usize,
    /// Results the writer holds for input order (see
    /// [`crate::report::InOrder`]); no new work starts while `max_held`
    /// wait.
    pub held: Arc<AtomicUsize>,
    pub max_held: usize,
}

#[cfg(test)]
impl Bounds {
    pub(crate) fn jobs(jobs: usize) -> Bounds {
        Bounds {
            jobs,
            held: Arc::default(),
            max_held: usize::MAX,
        }
    }
}

impl Bounds {
    /// Whether another entry may start: fewer jobs than the bound, and
    /// room in the batch and in the writer's hold.
    fn room(&self, jobs: usize, out: usize) -> bool {
        jobs < self.jobs && out < HELD && self.held.load(Ordering::Relaxed) < self.max_held
    }
}

/// Run `work` for every entry from `input`, within `bounds`, and send one
/// result per entry to `output`, in batches. `work` gets the entry's name
/// and the permit it was started with.
pub(crate) async fn run<W, F>(
    mut input: Batches,
    limiter: Arc<Limiter>,
    bounds: Bounds,
    mut work: W,
    output: mpsc::Sender<Vec<Settled>>,
    mut interrupt: watch::Receiver<Interrupt>,
) -> Finish
where
    W: FnMut(DomainName, Permit) -> F,
    F: Future<Output = Done>,
{
    let mut out: Vec<Settled> = Vec::with_capacity(BATCH);
    let mut slab = Slab::default();
    let mut jobs = FuturesUnordered::new();
    let flush = tokio::time::sleep(FLUSH_AFTER);
    tokio::pin!(flush);
    let mut flush_due = false;
    let mut stopped = false;
    let mut input_done = false;
    let mut signals_open = true;
    // The next piece of work is one future kept across loop turns, so that
    // an entry pulled from the input is never dropped half-way.
    let mut next = Box::pin(next_work(&limiter, &mut input).fuse());
    // The signal to wait for, kept across loop turns like `next`: making a
    // new one each turn would register and drop a waiter every time.
    let mut signal = Box::pin(changed_owned(interrupt.clone()));

    loop {
        // A batch goes to the writer when it is full, when it has waited
        // FLUSH_AFTER (2 ms: an interactive lookup is not kept waiting), or
        // at the end: the writer wakes once per batch, not once per result,
        // and no permit waits on it.
        let idle = jobs.is_empty() && (input_done || stopped);
        let send_now = !out.is_empty() && (out.len() >= BATCH || flush_due || idle);
        let can_start = !input_done && !stopped && bounds.room(jobs.len(), out.len());
        tokio::select! {
            biased;
            reserved = output.reserve(), if send_now => {
                let Ok(permit) = reserved else { return Finish::Abandoned };
                permit.send(std::mem::replace(&mut out, Vec::with_capacity(BATCH)));
                flush_due = false;
            }
            Some((slot, done)) = jobs.next(), if !jobs.is_empty() => {
                let done: Done = done;
                if let Some((entry, start)) = slab.take(slot) {
                    push(&mut out, flush.as_mut(), Settled { entry, outcome: done.outcome, audit: done.audit, changes: None, elapsed: start.elapsed() });
                }
            }
            changed = &mut signal, if signals_open && !(stopped && jobs.is_empty()) => {
                let level = if changed.is_ok() { *interrupt.borrow_and_update() } else { Interrupt::None };
                if level >= Interrupt::Stop {
                    stopped = true;
                }
                if level == Interrupt::Abort {
                    jobs.clear();
                    abort_all(&mut slab, &mut out, flush.as_mut());
                }
                if changed.is_err() {
                    // The handler is gone: no more signals will come.
                    signals_open = false;
                }
                drop(signal);
                signal = Box::pin(changed_owned(interrupt.clone()));
            }
            pulled = &mut next, if can_start => {
                match pulled {
                    None => input_done = true,
                    Some((permit, entry)) => match &entry.name {
                        Err(reason) => {
                            drop(permit);
                            let outcome = Outcome::Invalid(reason.clone());
                            push(&mut out, flush.as_mut(), Settled::new(entry, outcome, Duration::ZERO));
                        }
                        Ok(name) => {
                            let name = name.clone();
                            let slot = slab.insert(entry);
                            let job = AssertUnwindSafe(work(name, permit)).catch_unwind();
                            jobs.push(job.map(move |r| (slot, unwound(r))));
                        }
                    },
                }
                drop(next);
                next = Box::pin(next_work(&limiter, &mut input).fuse());
            }
            () = &mut flush, if !out.is_empty() && !flush_due => {
                flush_due = true;
            }
            else => break,
        }
        if out.is_empty() && jobs.is_empty() && (input_done || stopped) {
            break;
        }
    }
    if stopped {
        Finish::Interrupted
    } else {
        Finish::Complete
    }
}

/// Every entry in progress settled now, as interrupted (a second signal).
fn abort_all(
    slab: &mut Slab,
    out: &mut Vec<Settled>,
    mut flush: std::pin::Pin<&mut tokio::time::Sleep>,
) {
    for i in 0..slab.entries.len() {
        if let Some((entry, start)) = slab.take(i) {
            let outcome = Outcome::Failed(Failure::error(
                Phase::Internal,
                "interrupted before an answer came",
            ));
            push(
                out,
                flush.as_mut(),
                Settled::new(entry, outcome, start.elapsed()),
            );
        }
    }
}

/// What the work came to, or an internal error if it panicked: a bug in
/// the work must not lose the entry.
fn unwound(r: std::thread::Result<Done>) -> Done {
    r.unwrap_or_else(|_| {
        Done::from(Outcome::Failed(Failure::error(
            Phase::Internal,
            "internal error: the lookup failed unexpectedly",
        )))
    })
}

fn push(out: &mut Vec<Settled>, flush: std::pin::Pin<&mut tokio::time::Sleep>, settled: Settled) {
    if out.is_empty() {
        flush.reset(Instant::now() + FLUSH_AFTER);
    }
    out.push(settled);
}

/// The next change of the interrupt level (on a receiver of its own, so
/// that the future can be kept while the engine reads the level).
async fn changed_owned(mut rx: watch::Receiver<Interrupt>) -> Result<(), watch::error::RecvError> {
    rx.changed().await
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

#[cfg(test)]
mod tests {
    //! The engine with fake work and paused time: no sockets.

    use super::*;
    use crate::input::{Entries, Source};
    use crate::resolver::FailureKind;
    use std::collections::HashSet;

    fn answered() -> Outcome {
        crate::testing::answered(Vec::new(), false)
    }

    /// Feed `names` to the engine, run `work`, and collect every result.
    async fn run_names<W, F>(
        names: Vec<String>,
        concurrency: usize,
        work: W,
        interrupt: watch::Receiver<Interrupt>,
    ) -> (Finish, Vec<Settled>)
    where
        W: FnMut(DomainName, Permit) -> F,
        F: Future<Output = Done>,
    {
        let limiter = Arc::new(Limiter::new(concurrency, None));
        run_with(names, limiter, concurrency, work, interrupt).await
    }

    /// [`run_names`] with a limiter of the test's own and `jobs` entries
    /// in progress at most.
    async fn run_with<W, F>(
        names: Vec<String>,
        limiter: Arc<Limiter>,
        jobs: usize,
        work: W,
        interrupt: watch::Receiver<Interrupt>,
    ) -> (Finish, Vec<Settled>)
    where
        W: FnMut(DomainName, Permit) -> F,
        F: Future<Output = Done>,
    {
        let entries: Vec<Entry> = Entries::new(vec![Source::args(names)])
            .map(|e| e.unwrap())
            .collect();
        let (entry_tx, entry_rx) = mpsc::channel(entries.len().max(1));
        for chunk in entries.chunks(7) {
            entry_tx.try_send(chunk.to_vec()).unwrap();
        }
        drop(entry_tx);
        let (tx, mut rx) = mpsc::channel(4);
        let engine = run(
            Batches::new(entry_rx),
            limiter,
            Bounds::jobs(jobs),
            work,
            tx,
            interrupt,
        );
        let collect = async {
            let mut all = Vec::new();
            while let Some(batch) = rx.recv().await {
                all.extend(batch);
            }
            all
        };
        tokio::join!(engine, collect)
    }

    fn no_signals() -> watch::Receiver<Interrupt> {
        // The sender is dropped: no signal will ever come.
        watch::channel(Interrupt::None).1
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("d{i}.example")).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn every_entry_settles_exactly_once() {
        let mut input = names(500);
        input.insert(17, "not a name".into());
        input.insert(300, "a..b".into());
        let (finish, results) = run_names(
            input,
            16,
            |name, permit| async move {
                // Lookups take from 0 to 96 ms, out of order.
                let ms = name.as_str().len() as u64 * 7 % 97;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                drop(permit);
                Done::from(answered())
            },
            no_signals(),
        )
        .await;
        assert_eq!(finish, Finish::Complete);
        assert_eq!(results.len(), 502);
        let seqs: HashSet<u64> = results.iter().map(|r| r.entry.seq).collect();
        assert_eq!(seqs.len(), 502, "one result per entry");
        assert_eq!(
            results
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Invalid(_)))
                .count(),
            2
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_panic_in_a_lookup_becomes_an_error_for_that_domain_only() {
        let (finish, results) = run_names(
            names(20),
            4,
            |name, _permit| async move {
                if name.as_str() == "d7.example" {
                    panic!("a bug in an engine");
                }
                Done::from(answered())
            },
            no_signals(),
        )
        .await;
        assert_eq!(finish, Finish::Complete);
        assert_eq!(results.len(), 20);
        let failed: Vec<_> = results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed(f) => Some((r.entry.display_name().to_string(), f.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "d7.example");
        assert_eq!(failed[0].1.kind, FailureKind::Error);
        assert_eq!(failed[0].1.phase, Phase::Internal);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_starts_nothing_new_and_lets_what_runs_settle() {
        let (tx, rx) = watch::channel(Interrupt::None);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            tx.send(Interrupt::Stop).unwrap();
            // Keep the sender: a later signal could still come.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let (finish, results) = run_names(
            names(1000),
            10,
            |_name, permit| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                drop(permit);
                Done::from(answered())
            },
            rx,
        )
        .await;
        assert_eq!(finish, Finish::Interrupted);
        // 10 at a time, 100 ms each: 30 settled by 250 ms, and the 10 in
        // flight then settle too, with their real answer.
        assert_eq!(results.len(), 30);
        assert!(
            results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Answered(_)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn abort_settles_what_runs_as_interrupted_at_once() {
        let (tx, rx) = watch::channel(Interrupt::None);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.send(Interrupt::Stop).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.send(Interrupt::Abort).unwrap();
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let start = Instant::now();
        let (finish, results) = run_names(
            names(100),
            8,
            |_name, _permit| async move {
                // Never answers.
                std::future::pending::<()>().await;
                Done::from(answered())
            },
            rx,
        )
        .await;
        assert_eq!(finish, Finish::Interrupted);
        assert_eq!(results.len(), 8);
        for r in &results {
            assert!(matches!(&r.outcome, Outcome::Failed(f) if f.message.contains("interrupted")));
        }
        assert!(start.elapsed() < Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_consumer_that_goes_away_abandons_the_run() {
        let entries: Vec<Entry> = Entries::new(vec![Source::args(names(5000))])
            .map(|e| e.unwrap())
            .collect();
        let (entry_tx, entry_rx) = mpsc::channel(1);
        entry_tx.try_send(entries).unwrap();
        drop(entry_tx);
        let (tx, mut rx) = mpsc::channel(1);
        let engine = run(
            Batches::new(entry_rx),
            Arc::new(Limiter::new(64, None)),
            Bounds::jobs(64),
            |_name, _permit| async { Done::from(answered()) },
            tx,
            no_signals(),
        );
        let consumer = async move {
            let first = rx.recv().await;
            drop(rx);
            first.is_some()
        };
        let (finish, got_one) = tokio::join!(engine, consumer);
        assert!(got_one);
        assert_eq!(finish, Finish::Abandoned);
    }

    #[tokio::test(start_paused = true)]
    async fn sub_queries_through_the_same_limiter_do_not_deadlock_at_concurrency_one() {
        let limiter = Arc::new(Limiter::new(1, None));
        let sub = limiter.clone();
        // Like the audit: the first query with the permit it was started
        // with, then two more, each taking a permit of its own.
        let work = move |_name, permit: Permit| {
            let sub = sub.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                drop(permit);
                for _ in 0..2 {
                    let p = sub.acquire().await;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    drop(p);
                }
                Done::from(answered())
            }
        };
        let done = tokio::time::timeout(
            Duration::from_secs(60),
            run_with(names(50), limiter, 4, work, no_signals()),
        )
        .await;
        let (finish, results) = done.expect("the engine deadlocked");
        assert_eq!(finish, Finish::Complete);
        assert_eq!(results.len(), 50);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_turns_over_as_soon_as_its_lookup_settles() {
        // One at a time, 1 ms per lookup: 1,000 lookups take 1 s, not
        // 1,000 times a batching delay.
        let start = Instant::now();
        let (finish, results) = run_names(
            names(1000),
            1,
            |_name, permit| async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                drop(permit);
                Done::from(answered())
            },
            no_signals(),
        )
        .await;
        assert_eq!(finish, Finish::Complete);
        assert_eq!(results.len(), 1000);
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1100), "{took:?}");
    }
}
