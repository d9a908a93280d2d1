//! Input order without holding the whole run: a result is written as soon
//! as every result before it has been; one that arrives early waits, in
//! the compact form its format keeps ([`Ordered::hold`]), for the ones
//! before it. What waits is bounded: the engine starts no new work while
//! [`MAX_HELD`] results wait.

use super::Sink;
use crate::outcome::Settled;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most results that may wait for an earlier one before new lookups
/// wait in turn.
pub const MAX_HELD: usize = 1_000_000;

/// A format written in input order.
pub trait Ordered: Send {
    /// What a result is kept as while it waits: as small as the format
    /// allows (for JSON, the serialised object).
    type Held: Send;
    fn hold(&mut self, r: Settled) -> Self::Held;
    /// Write the next result in input order.
    fn write(&mut self, held: Self::Held) -> io::Result<()>;
    /// Write out what is buffered (formats printed in pages have nothing
    /// to write before the page is done).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()>;
}

/// A format written in input order: results that arrive early wait, in the format's compact form, for the ones before them.
pub struct InOrder<F: Ordered> {
    format: F,
    /// The sequence number written next.
    next: u64,
    /// `waiting[i]` is result `next + i`, if it has arrived.
    waiting: VecDeque<Option<F::Held>>,
    held: Arc<AtomicUsize>,
}

impl<F: Ordered> InOrder<F> {
    /// `held` counts the results waiting, for the engine's back-pressure.
    pub fn new(format: F, held: Arc<AtomicUsize>) -> Self {
        InOrder {
            format,
            next: 0,
            waiting: VecDeque::new(),
            held,
        }
    }

    fn write_ready(&mut self) -> io::Result<()> {
        while let Some(Some(_)) = self.waiting.front() {
            let Some(Some(h)) = self.waiting.pop_front() else {
                break;
            };
            self.next += 1;
            self.held.fetch_sub(1, Ordering::Relaxed);
            self.format.write(h)?;
        }
        Ok(())
    }
}

impl<F: Ordered> Sink for InOrder<F> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        let seq = r.entry.seq;
        if seq < self.next {
            // Not in sequence (a result made outside the engine): write it.
            let h = self.format.hold(r);
            return self.format.write(h);
        }
        let at = (seq - self.next) as usize;
        if self.waiting.len() <= at {
            self.waiting.resize_with(at + 1, || None);
        }
        let h = self.format.hold(r);
        if self.waiting[at].replace(h).is_none() {
            self.held.fetch_add(1, Ordering::Relaxed);
        }
        self.write_ready()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.format.flush()
    }

    /// Write whatever still waits, in order, skipping entries that never
    /// settled (an interrupted run does not start them all).
    fn finish(&mut self) -> io::Result<()> {
        while let Some(h) = self.waiting.pop_front() {
            self.next += 1;
            if let Some(h) = h {
                self.held.fetch_sub(1, Ordering::Relaxed);
                self.format.write(h)?;
            }
        }
        self.format.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    struct Names(Vec<String>);

    impl Ordered for Names {
        type Held = String;
        fn hold(&mut self, r: Settled) -> String {
            r.entry.display_name().to_string()
        }
        fn write(&mut self, h: String) -> io::Result<()> {
            self.0.push(h);
            Ok(())
        }
        fn finish(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn results_come_out_in_input_order_and_only_early_ones_wait() {
        let held = Arc::new(AtomicUsize::new(0));
        let mut sink = InOrder::new(Names(Vec::new()), held.clone());
        let mut results = sample();
        results.swap(0, 3);
        results.swap(1, 5);
        let mut most = 0;
        for r in results {
            sink.settled(r).unwrap();
            most = most.max(held.load(Ordering::Relaxed));
        }
        sink.finish().unwrap();
        let written = &sink.format.0;
        let expected: Vec<String> = sample()
            .iter()
            .map(|r| r.entry.display_name().to_string())
            .collect();
        assert_eq!(written, &expected);
        assert_eq!(held.load(Ordering::Relaxed), 0);
        assert!(most <= 5, "{most} waited");
    }

    #[test]
    fn gaps_left_by_an_interruption_are_skipped_at_the_end() {
        let held = Arc::new(AtomicUsize::new(0));
        let mut sink = InOrder::new(Names(Vec::new()), held);
        let results = sample();
        for r in results.into_iter().filter(|r| r.entry.seq != 2) {
            sink.settled(r).unwrap();
        }
        assert_eq!(sink.format.0.len(), 2, "waiting for entry 2");
        sink.finish().unwrap();
        assert_eq!(sink.format.0.len(), 6);
    }
}
