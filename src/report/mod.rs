//! The sinks: each receives settled results and writes one format. They
//! never do lookups. NDJSON and CSV stream as results arrive (memory stays
//! flat); table, plain and JSON wait for the end and print in input order.
//! Also the per-status counts and the summary line.

mod csv;
mod json;
mod table;

pub use self::csv::CsvSink;
pub use json::{JsonSink, NdjsonSink, write_record};
pub use table::{render_plain, render_table};

use crate::engine::Settled;
use crate::outcome::Status;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people: one row per MX record, grouped by domain.
    Table,
    /// `domain  exchange`, one line per record (the classic example's shape).
    Plain,
    /// One JSON array of result objects, in input order.
    Json,
    /// One JSON object per line, as results arrive.
    Ndjson,
    /// `domain,status,preference,exchange,error`, one row per MX record.
    Csv,
}

/// Receives every settled result, then `finish` once.
pub trait Sink {
    fn settled(&mut self, result: Settled) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()>;
}

/// Make the sink for `format`, writing to `out`. `color` applies to the
/// table only; machine formats are never coloured.
pub fn sink<W: Write + Send + 'static>(
    format: Format,
    out: W,
    color: bool,
    flush_lines: bool,
) -> Box<dyn Sink + Send> {
    match format {
        Format::Ndjson => Box::new(NdjsonSink::new(out, flush_lines)),
        Format::Csv => Box::new(CsvSink::new(out, flush_lines)),
        Format::Json => Box::new(InOrder::new(out, |r: &[Settled], w: &mut W| {
            JsonSink::write_all(r, w)
        })),
        Format::Table => Box::new(InOrder::new(out, move |r: &[Settled], w: &mut W| {
            w.write_all(render_table(r, color).as_bytes())
        })),
        Format::Plain => Box::new(InOrder::new(out, |r: &[Settled], w: &mut W| {
            w.write_all(render_plain(r).as_bytes())
        })),
    }
}

/// A sink that keeps every result and writes them in input order at the end.
struct InOrder<W: Write, F> {
    out: W,
    results: Vec<Settled>,
    render: F,
}

impl<W: Write, F: FnMut(&[Settled], &mut W) -> io::Result<()>> InOrder<W, F> {
    fn new(out: W, render: F) -> Self {
        InOrder {
            out,
            results: Vec::new(),
            render,
        }
    }
}

impl<W: Write, F: FnMut(&[Settled], &mut W) -> io::Result<()>> Sink for InOrder<W, F> {
    fn settled(&mut self, mut result: Settled) -> io::Result<()> {
        // The permit is for results on their way to the output; this one
        // has arrived.
        result._permit = None;
        self.results.push(result);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.results.sort_by_key(|r| r.entry.seq);
        (self.render)(&self.results, &mut self.out)?;
        self.out.flush()
    }
}

/// How many results had each status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts([u64; Status::ALL.len()]);

impl Counts {
    pub fn add(&mut self, status: Status) {
        self.0[status as usize] += 1;
    }

    pub fn get(&self, status: Status) -> u64 {
        self.0[status as usize]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// How many results were not a definite answer.
    pub fn failures(&self) -> u64 {
        Status::ALL
            .iter()
            .filter(|s| !s.is_definite())
            .map(|s| self.get(*s))
            .sum()
    }
}

/// The one-line summary: counts per status, duplicates, time and rate.
pub fn summary(counts: &Counts, duplicates: u64, elapsed: Duration) -> String {
    let total = counts.total();
    let mut line = format!("{total} domain{}", if total == 1 { "" } else { "s" });
    let parts: Vec<String> = Status::ALL
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| format!("{} {s}", counts.get(*s)))
        .collect();
    if !parts.is_empty() {
        let _ = write!(line, ": {}", parts.join(", "));
    }
    if duplicates > 0 {
        let _ = write!(
            line,
            " · {duplicates} duplicate{} skipped",
            if duplicates == 1 { "" } else { "s" }
        );
    }
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
    let _ = write!(line, " · {secs:.2}s · {rate:.0} lookups/s");
    line
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::input::{Entry, Origin};
    use crate::name::DomainName;
    use crate::outcome::{Mx, Outcome};
    use std::sync::Arc;

    /// A few results of every kind, in input order.
    pub fn sample() -> Vec<Settled> {
        let entry = |seq: u64, text: &str| Entry {
            seq,
            origin: Origin {
                source: Arc::from("domains.txt"),
                line: seq + 1,
            },
            input: text.to_string(),
            name: DomainName::parse_ascii(text),
        };
        let mx = |p, e: &str| Mx {
            preference: p,
            exchange: e.to_string(),
        };
        vec![
            Settled::new(
                entry(0, "example.com"),
                Outcome::Ok(vec![mx(10, "mx1.example.com"), mx(20, "mx2.example.com")]),
                Duration::ZERO,
            ),
            Settled::new(entry(1, "null.example"), Outcome::NullMx, Duration::ZERO),
            Settled::new(entry(2, "gone.example"), Outcome::Nxdomain, Duration::ZERO),
            Settled::new(entry(3, "slow.example"), Outcome::Timeout, Duration::ZERO),
            Settled::new(
                entry(4, "bad name"),
                Outcome::Invalid("contains a space, which is not allowed in a domain name".into()),
                Duration::ZERO,
            ),
            Settled::new(
                entry(5, "evil.example"),
                Outcome::Ok(vec![mx(5, "x\\027\\0912j.example")]),
                Duration::ZERO,
            ),
        ]
    }

    #[test]
    fn summary_counts_each_status() {
        let mut counts = Counts::default();
        for r in sample() {
            counts.add(r.outcome.status());
        }
        assert_eq!(counts.total(), 6);
        assert_eq!(counts.failures(), 2);
        let line = summary(&counts, 3, Duration::from_secs(2));
        assert_eq!(
            line,
            "6 domains: 2 ok, 1 null_mx, 1 nxdomain, 1 timeout, 1 invalid · 3 duplicates skipped · 2.00s · 3 lookups/s"
        );
    }
}
