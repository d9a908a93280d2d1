//! The one limiter of a run, shared by every lookup: at most `concurrency`
//! lookups in flight, and with a rate, starts evenly spaced one every
//! 1/rate seconds with no burst. The role Twisted's `DeferredSemaphore`
//! plays in the classic pattern.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// A permit to have one lookup in flight; dropping it frees the slot.
pub type Permit = OwnedSemaphorePermit;

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

impl Limiter {
    /// `concurrency` must be at least 1; `rate` is lookups started per
    /// second, `None` for unlimited.
    pub fn new(concurrency: usize, rate: Option<f64>) -> Limiter {
        let concurrency = concurrency.max(1);
        let pacing = rate.filter(|r| r.is_finite() && *r > 0.0).map(|r| Pacing {
            interval: Duration::from_secs_f64(1.0 / r),
            next: Mutex::new(None),
        });
        Limiter {
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            pacing,
        }
    }

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

    /// Wait for this lookup's start time under `--rate`. Each start is
    /// booked one interval after the previous one, or now if the limiter
    /// was idle: unused time is not saved up, so there is never a burst.
    pub async fn pace(&self) {
        let Some(p) = &self.pacing else { return };
        let at = {
            let mut next = p.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = match *next {
                Some(n) if n > now => n,
                _ => now,
            };
            *next = Some(at + p.interval);
            at
        };
        tokio::time::sleep_until(at).await;
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
