//! Busy polling while a fast server's answers are due.
//!
//! Against a server that answers within [`FAST`] (loopback, a LAN
//! resolver), a lookup's whole round trip is shorter than the time it
//! takes to put the engine thread to sleep and wake it again: each sleep
//! between answers costs more than the wait it covers. So while lookups are
//! waiting on such a server, a task keeps the engine's runtime polling its
//! sockets (yielding, so that the runtime checks for I/O without sleeping)
//! instead of letting it sleep, as massdns does all the time.
//!
//! Never for long, and never for a slow server: a lookup counts only while
//! it waits on a server whose smoothed round trip is under [`FAST`], and
//! the polling stops once nothing has been sent or answered for [`IDLE`]
//! (lost answers, a rate limit's dead second), until the next answer or
//! wait. Only on a current-thread runtime (the command line's), where the
//! polling task cannot keep a worker thread from other work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use std::time::Instant;
use tokio::sync::Notify;

/// A server whose smoothed round trip is under this is polled for.
pub(super) const FAST: Duration = Duration::from_micros(200);
/// With nothing sent or answered for this long, polling stops.
const IDLE: Duration = Duration::from_millis(1);

/// Whether the engine should poll rather than sleep: lookups wait on a
/// fast server, and something happened within [`IDLE`].
fn busy(waiting: usize, since_activity: Duration) -> bool {
    waiting > 0 && since_activity < IDLE
}

/// The shared state of the polling task.
pub(super) struct Poller {
    /// Lookups waiting on a fast server.
    waiting: AtomicUsize,
    /// The last answer or wait, in microseconds since `start`.
    activity: AtomicU64,
    start: Instant,
    wake: Notify,
    closed: AtomicBool,
    /// Turns the polling task took (for tests).
    turns: AtomicU64,
}

impl Poller {
    /// Start the polling task on the current runtime, if it is a
    /// current-thread one.
    pub(super) fn start() -> Option<Arc<Poller>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread {
            return None;
        }
        let poller = Arc::new(Poller {
            waiting: AtomicUsize::new(0),
            activity: AtomicU64::new(0),
            start: Instant::now(),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            turns: AtomicU64::new(0),
        });
        handle.spawn(run(poller.clone()));
        Some(poller)
    }

    fn touch(&self) {
        let micros = self.start.elapsed().as_micros() as u64;
        self.activity.store(micros, Ordering::Relaxed);
    }

    fn since_activity(&self) -> Duration {
        let last = Duration::from_micros(self.activity.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// A lookup waits on a fast server until the guard is dropped.
    pub(super) fn waiting(self: &Arc<Self>) -> Waiting {
        self.touch();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
        Waiting(self.clone())
    }

    /// Answers came (the receive tasks call this once per batch).
    pub(super) fn answered(&self) {
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.touch();
            self.wake.notify_one();
        }
    }

    /// The engine is gone: the task ends.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// How many turns the polling task has taken.
    #[cfg(test)]
    fn turns(&self) -> u64 {
        self.turns.load(Ordering::Relaxed)
    }
}

/// A lookup waiting on a fast server.
pub(super) struct Waiting(Arc<Poller>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn run(poller: Arc<Poller>) {
    while !poller.closed.load(Ordering::Relaxed) {
        if busy(
            poller.waiting.load(Ordering::Relaxed),
            poller.since_activity(),
        ) {
            poller.turns.fetch_add(1, Ordering::Relaxed);
            tokio::task::yield_now().await;
        } else {
            poller.wake.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_only_while_lookups_wait_and_something_happened_lately() {
        assert!(busy(1, Duration::ZERO));
        assert!(busy(8, IDLE - Duration::from_micros(1)));
        assert!(!busy(0, Duration::ZERO));
        assert!(!busy(8, IDLE));
        assert!(!busy(8, Duration::from_secs(1)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn polls_while_waiting_then_stops_when_idle_and_when_closed() {
        let poller = Poller::start().expect("a current-thread runtime");
        tokio::task::yield_now().await;
        let idle = poller.turns();
        let guard = poller.waiting();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let polled = poller.turns();
        assert!(polled > idle, "no turns while a lookup waited");
        // Nothing happens for longer than IDLE: the task parks.
        std::thread::sleep(IDLE * 2);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let parked = poller.turns();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(poller.turns(), parked, "still polling while idle");
        // An answer wakes it.
        poller.answered();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(poller.turns() > parked, "an answer did not wake it");
        drop(guard);
        let done = poller.turns();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(poller.turns() <= done + 1, "polling with nothing waiting");
        poller.close();
        tokio::task::yield_now().await;
        assert_eq!(Arc::strong_count(&poller), 1, "the task did not end");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_on_a_multi_thread_runtime() {
        assert!(Poller::start().is_none());
    }
}
