//! The one limiter of a run, shared by every lookup: at most `concurrency`
//! lookups in flight, and with a rate, starts evenly spaced one every
//! 1/rate seconds with no burst. The role Twisted's `DeferredSemaphore`
//! plays in the classic pattern.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The timer's granularity.
const TICK: Duration = Duration::from_millis(1);

/// A permit to have one lookup in flight; dropping it frees the slot.
pub type Permit = OwnedSemaphorePermit;

/// At most `concurrency` queries in flight, and with a rate, starts evenly spaced.
#[derive(Debug)]
pub struct Limiter {
    slots: Arc<Semaphore>,
    concurrency: usize,
    pacing: Option<Pacing>,
}

#[derive(Debug)]
struct Pacing {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacing {
    /// How late a start may be and still keep its booked time: one
    /// interval, at least 2 ms (the timer's granularity and then some), at
    /// most 10 ms.
    fn slack(&self) -> Duration {
        self.interval
            .clamp(Duration::from_millis(2), Duration::from_millis(10))
    }
}

impl Limiter {
    /// `concurrency` must be at least 1; `rate` is lookups started per
    /// second, `None` for unlimited.
    pub fn new(concurrency: usize, rate: Option<f64>) -> Limiter {
        let concurrency = concurrency.max(1);
        let pacing = rate.filter(|r| r.is_finite() && *r > 0.0).map(|r| Pacing {
            interval: Duration::try_from_secs_f64(1.0 / r).unwrap_or(Duration::from_secs(3600)),
            next: Mutex::new(None),
        });
        Limiter {
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            pacing,
        }
    }

    /// The most queries in flight.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Wait for a free slot. The engine takes it *before* it pulls the next
    /// entry, so work is created only when it can run.
    pub async fn acquire(&self) -> Permit {
        // The semaphore is never closed, so this cannot fail.
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the limiter's semaphore is never closed")
    }

    /// A permit and then the start time: what every query that is not the
    /// engine's own first one (an alias followed, the audit's) goes through.
    pub async fn start(&self) -> Permit {
        let permit = self.acquire().await;
        self.pace().await;
        permit
    }

    /// Wait for this lookup's start time under `--rate`. Each start is
    /// booked one interval after the previous one. A start a little late
    /// (the timer wakes on millisecond ticks) keeps its booked time, so the
    /// schedule, and with it the rate, holds at any speed; a limiter idle
    /// for longer than [`Pacing::slack`] starts afresh from now: unused
    /// time is not saved up. Starts are as even as the timer allows: at
    /// rates under 1,000 a second each one waits for its own time; above
    /// that they go in small groups, a millisecond's worth at most.
    pub async fn pace(&self) {
        let Some(p) = &self.pacing else { return };
        let at = {
            let mut next = p.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = match *next {
                Some(n) if n + p.slack() >= now => n,
                _ => now,
            };
            *next = Some(at + p.interval);
            at
        };
        // Timers wake on millisecond ticks: a start due less than a tick
        // from now goes now (the booked schedule keeps the average rate),
        // rather than wait for a tick that comes up to a millisecond late.
        if at > Instant::now() + TICK {
            tokio::time::sleep_until(at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pacing_spaces_starts_evenly_without_a_burst() {
        let limiter = Limiter::new(8, Some(10.0));
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            limiter.pace().await;
            at.push(start.elapsed().as_millis());
        }
        assert_eq!(at, vec![0, 100, 200, 300, 400]);
        // After an idle second, no credit is saved up.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_end = start.elapsed().as_millis();
        limiter.pace().await;
        limiter.pace().await;
        assert_eq!(start.elapsed().as_millis(), idle_end + 100);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_timer_does_not_lower_the_rate() {
        // 5,000 starts a second: each interval (200 µs) is shorter than a
        // timer tick. Waking 1 ms late every time must not cost starts.
        let limiter = Limiter::new(8, Some(5000.0));
        let start = Instant::now();
        for i in 0..5000 {
            limiter.pace().await;
            if i % 5 == 4 {
                tokio::time::advance(Duration::from_millis(1)).await;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        assert!((0.99..=1.01).contains(&secs), "5,000 starts took {secs} s");
    }

    #[tokio::test]
    async fn permits_cap_concurrency() {
        let limiter = Limiter::new(2, None);
        let a = limiter.acquire().await;
        let _b = limiter.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(
            third.is_err(),
            "a third permit was granted with concurrency 2"
        );
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(third.is_ok());
    }
}
