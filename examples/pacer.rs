//! How closely `--rate` holds when the server is not the limit: the
//! pipeline and its limiter, as the binary runs them (256 in flight,
//! batches in, batches out), with a resolver that answers at once. `bench/run.sh rate` runs
//! this beside the real runs against knotd, where the machine's own
//! ceiling (client and server on two cores) caps the highest rates.
//!
//!     cargo run --release --example pacer [RATE...]

use mxlookup::outcome::{Entry, Origin, Place};
use mxlookup::resolver::{Answer, Failure, RecordType};
use mxlookup::text::SafeText;
use mxlookup::{DomainName, Limiter, Pipeline, Resolver};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// Answers at once, and remembers when the first and last lookups started.
#[derive(Default)]
struct Clock {
    starts: Mutex<(Option<Instant>, Option<Instant>)>,
}

impl Resolver for Clock {
    async fn resolve(&self, _: &DomainName, _: RecordType) -> Result<Answer, Failure> {
        let now = Instant::now();
        let mut s = self.starts.lock().expect("not poisoned");
        s.0.get_or_insert(now);
        s.1 = Some(now);
        Ok(Answer::default())
    }
}
fn main() {
    let rates: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rates = if rates.is_empty() {
        vec![1_000.0, 10_000.0, 50_000.0, 100_000.0, 200_000.0]
    } else {
        rates
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!("| asked | starts | wall | reached |");
    println!("| --- | --- | --- | --- |");
    for rate in rates {
        // Two seconds' worth, at least 5 starts.
        let n = ((rate * 2.0) as u64).max(5);
        let (wall, settled) = rt.block_on(run(n, rate));
        assert_eq!(settled, n, "one result per entry");
        let reached = (n - 1) as f64 / wall;
        println!(
            "| {rate}/s | {n} | {wall:.2} s | {reached:.1}/s ({:.1}%) |",
            reached / rate * 100.0
        );
    }
}

/// Start `n` lookups at `rate`; the wall time from the first start to the
/// last, and how many settled.
async fn run(n: u64, rate: f64) -> (f64, u64) {
    let (in_tx, in_rx) = mpsc::channel::<Vec<Entry>>(4);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<mxlookup::Settled>>(64);
    let (_interrupt_tx, interrupt_rx) = watch::channel(Default::default());
    let place = Place::File(Arc::new(SafeText::new("pacer")));
    let name = DomainName::parse_ascii("a.example").expect("a name");
    tokio::spawn(async move {
        let mut seq = 0;
        while seq < n {
            let batch: Vec<Entry> = (seq..(seq + 256).min(n))
                .map(|s| Entry {
                    seq: s,
                    origin: Origin {
                        place: place.clone(),
                        line: s + 1,
                    },
                    input: SafeText::new("a.example"),
                    name: Ok(name.clone()),
                })
                .collect();
            seq += batch.len() as u64;
            if in_tx.send(batch).await.is_err() {
                return;
            }
        }
    });
    let counter = tokio::spawn(async move {
        let mut settled = 0u64;
        while let Some(batch) = out_rx.recv().await {
            settled += batch.len() as u64;
        }
        settled
    });
    let resolver = Arc::new(Clock::default());
    let limiter = Arc::new(Limiter::new(256, Some(rate)));
    Pipeline::new(resolver.clone(), limiter)
        .run(in_rx, out_tx, interrupt_rx)
        .await;
    let settled = counter.await.expect("the counter");
    let (first, last) = *resolver.starts.lock().expect("not poisoned");
    let wall = match (first, last) {
        (Some(f), Some(l)) => (l - f).as_secs_f64(),
        _ => 0.0,
    };
    (wall, settled)
}
