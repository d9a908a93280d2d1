//! The sinks: each receives settled results and writes one format. They
//! never do lookups. NDJSON and CSV stream as results arrive (completion
//! order; memory stays flat). JSON, table and plain print in input order,
//! streamed through a reorder buffer ([`order`]) that holds only results
//! that arrived before an earlier one settled. Also the per-status counts
//! and the summary line.

mod csv;
mod exchanges;
mod html;
mod json;
mod order;
mod short;
mod table;

pub use self::csv::CsvSink;
pub use exchanges::{ByExchange, EXAMPLES, ExchangeRow};
pub use html::{HtmlSink, MAX_ROWS};
pub use json::{JsonFormat, NdjsonSink};
pub use order::{InOrder, MAX_HELD};
pub use short::Short;
pub use table::{Paged, wrap_name};

use crate::outcome::{Change, Code, Settled, Status};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table for people: one row per MX record, grouped by domain.
    Table,
    /// `domain  exchange`, one line per record (the classic example's shape).
    Plain,
    /// One JSON array of result objects, in input order.
    Json,
    /// One JSON object per line, as results arrive.
    Ndjson,
    /// `domain,status,preference,exchange,error,source`, one row per MX record.
    Csv,
    /// dig's `+short`: `10 mx1.example.net.` per line, in input order.
    Short,
    /// One self-contained HTML page: charts, providers, a searchable table.
    Html,
}

impl Format {
    /// Whether results come out in input order (held until their turn).
    pub fn in_order(self) -> bool {
        matches!(
            self,
            Format::Table | Format::Plain | Format::Json | Format::Short
        )
    }
}

/// How a sink writes.
#[derive(Clone, Debug, Default)]
pub struct Style {
    /// Colour the table (never the machine formats).
    pub color: bool,
    /// Flush after every result (stdout is a terminal).
    pub flush_lines: bool,
    /// The terminal's width, for the table; `None` for no limit.
    pub width: Option<usize>,
    /// Show the audit's problems (`--audit`, `--expect`).
    pub audit: bool,
    /// Show the exchanges' addresses (looked up: not with `--expect`
    /// alone).
    pub addresses: bool,
    /// Show the policies (MTA-STS, TLS-RPT).
    pub policies: bool,
    /// Show DNSSEC and DANE.
    pub security: bool,
    /// One row per exchange instead of one per domain (`--by-exchange`).
    pub by_exchange: bool,
    /// Show the changes since a baseline.
    pub changes: bool,
    /// With `--shard`: which shard of which job the records are.
    pub job: Option<Job>,
}

/// A shard of a job, as its saved records say (`shard`, `job` keys), so
/// that `report` can tell missing shards and shards of other jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// `K/N`.
    pub shard: String,
    /// A fingerprint of the input and of the flags that change results.
    pub fingerprint: String,
}

/// Receives every settled result, then `finish` once.
pub trait Sink: Send {
    /// Take one result (in the order results settle).
    fn settled(&mut self, result: Settled) -> io::Result<()>;
    /// Write out what is buffered: nothing more is coming for now.
    fn flush(&mut self) -> io::Result<()>;
    /// Everything has been given: write the rest.
    fn finish(&mut self) -> io::Result<()>;
}

/// Make the sink for `format`, writing to `out`. For the in-order formats,
/// `held` counts the results waiting for an earlier one.
pub fn sink<W: Write + Send + 'static>(
    format: Format,
    out: W,
    style: Style,
    held: Arc<AtomicUsize>,
) -> Box<dyn Sink> {
    if style.by_exchange && format != Format::Html {
        return Box::new(ByExchange::new(out, format, style));
    }
    match format {
        Format::Ndjson => Box::new(NdjsonSink::new(out, &style)),
        Format::Csv => Box::new(CsvSink::new(out, &style)),
        Format::Json => Box::new(InOrder::new(JsonFormat::new(out, &style), held)),
        Format::Table => Box::new(InOrder::new(Paged::table(out, style), held)),
        Format::Plain => Box::new(InOrder::new(Paged::plain(out, style), held)),
        Format::Short => Box::new(InOrder::new(Short::new(out, style.flush_lines), held)),
        Format::Html => Box::new(HtmlSink::new(out)),
    }
}

/// How many results had each status, and with `--audit` each problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    statuses: [u64; Status::ALL.len()],
    problems: [u64; Code::ALL.len()],
    /// Domains with at least one change since the baseline (new ones
    /// included; unchecked ones not).
    pub changed: u64,
    /// Domains with at least one problem that is an error or unknown.
    pub error_domains: u64,
    /// Domains not in the baseline.
    pub new: u64,
    /// Domains that could not be compared with the baseline (a lookup
    /// failed, now or then), wholly or in part.
    pub unchecked: u64,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            statuses: [0; Status::ALL.len()],
            problems: [0; Code::ALL.len()],
            changed: 0,
            error_domains: 0,
            new: 0,
            unchecked: 0,
        }
    }
}

impl Counts {
    /// Count one result of this status.
    pub fn add(&mut self, status: Status) {
        self.statuses[status as usize] += 1;
    }

    /// How many results had this status.
    pub fn get(&self, status: Status) -> u64 {
        self.statuses[status as usize]
    }

    /// Count one domain with this problem.
    pub fn add_problem(&mut self, code: Code) {
        if let Some(i) = Code::ALL.iter().position(|c| *c == code) {
            self.problems[i] += 1;
        }
    }

    /// Domains with this problem.
    pub fn problem(&self, code: Code) -> u64 {
        Code::ALL
            .iter()
            .position(|c| *c == code)
            .map_or(0, |i| self.problems[i])
    }

    /// How many results in all.
    pub fn total(&self) -> u64 {
        self.statuses.iter().sum()
    }

    /// How many results were not a definite answer.
    pub fn failures(&self) -> u64 {
        Status::ALL
            .iter()
            .filter(|s| !s.is_definite())
            .map(|s| self.get(*s))
            .sum()
    }

    /// Count one domain's problems: each code once, and the domain once
    /// if any of them is an error or unknown.
    pub fn problem_domains(&mut self, codes: &[Code]) {
        let mut seen: Vec<Code> = Vec::with_capacity(codes.len());
        for code in codes {
            if !seen.contains(code) {
                seen.push(*code);
                self.add_problem(*code);
            }
        }
        if seen.iter().any(|c| c.fails()) {
            self.error_domains += 1;
        }
    }

    /// Domains with a problem that makes the run exit 1 (an error, or
    /// unknown).
    pub fn error_problems(&self) -> u64 {
        self.error_domains
    }

    /// Count one result: its status, its problems, whether it changed.
    pub fn record(&mut self, r: &Settled) {
        self.add(r.outcome.status());
        if let Some(audit) = &r.audit {
            let codes: Vec<Code> = audit.problems.iter().map(|p| p.code).collect();
            self.problem_domains(&codes);
        }
        if let Some(changes) = &r.changes {
            if changes
                .iter()
                .any(|c| !matches!(c, Change::Unchecked { .. }))
            {
                self.changed += 1;
            }
            if changes.contains(&Change::New) {
                self.new += 1;
            }
            if changes
                .iter()
                .any(|c| matches!(c, Change::Unchecked { .. }))
            {
                self.unchecked += 1;
            }
        }
    }
}

/// The one-line summary: counts per status, duplicates, time and rate.
pub fn summary(counts: &Counts, duplicates: u64, elapsed: Option<Duration>) -> String {
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
    if let Some(elapsed) = elapsed {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
        let _ = write!(line, " · {secs:.2}s · {rate:.0} lookups/s");
    }
    line
}

/// One audit cache's line of the summary.
pub fn cache_summary(kind: &str, c: crate::audit::CacheStats) -> String {
    let hits = c.asked.saturating_sub(c.looked_up);
    let rate = if c.asked > 0 {
        100.0 * hits as f64 / c.asked as f64
    } else {
        0.0
    };
    format!(
        "{kind}: {} name{} asked for, {} looked up, {rate:.1}% from the cache",
        c.asked,
        if c.asked == 1 { "" } else { "s" },
        c.looked_up
    )
}

/// A domain's policies in one line, for people: `MTA-STS enforce (max_age
/// 604800 s; mx a.example, *.b.example) · TLS-RPT mailto:x@example`.
pub fn policy_line(a: &crate::outcome::Audit) -> Option<String> {
    use crate::outcome::PolicyState;
    // Nothing published: nothing to say (the machine formats still say
    // `none`).
    let none = |s: Option<PolicyState>| s.is_none_or(|s| s == PolicyState::None);
    if none(a.mta_sts.as_ref().map(|m| m.state)) && none(a.tls_rpt.as_ref().map(|t| t.state)) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(m) = &a.mta_sts {
        parts.push(match (m.state, m.mode) {
            (PolicyState::Ok, Some(mode)) => {
                let mx: Vec<&str> = m.mx.iter().map(|p| p.as_str()).collect();
                format!(
                    "MTA-STS {} (max_age {} s; mx {})",
                    mode.as_str(),
                    m.max_age.unwrap_or(0),
                    if mx.is_empty() {
                        "none".into()
                    } else {
                        mx.join(", ")
                    }
                )
            }
            (PolicyState::Ok, None) => "MTA-STS published (the policy was not fetched)".into(),
            (state, _) => format!("MTA-STS {}", state.as_str()),
        });
    }
    if let Some(t) = &a.tls_rpt {
        parts.push(match t.state {
            PolicyState::Ok => {
                let rua: Vec<&str> = t.rua.iter().map(|u| u.as_str()).collect();
                format!("TLS-RPT {}", rua.join(", "))
            }
            state => format!("TLS-RPT {}", state.as_str()),
        });
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// A domain's DNSSEC and DANE state in one line, for people: `DNSSEC
/// secure · DANE mx1.example usable (2 TLSA), mx2.example none`.
pub fn security_line(a: &crate::outcome::Audit) -> Option<String> {
    use crate::outcome::{DaneState, Dnssec};
    let dane_any = a.dane_states().any(|s| s != DaneState::None);
    // An unsigned domain without TLSA records: nothing to say here.
    if a.dnssec == Some(Dnssec::Insecure) && !dane_any {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(d) = a.dnssec {
        parts.push(match &a.dnssec_why {
            Some(why) => format!("DNSSEC {} ({why})", d.as_str()),
            None => format!("DNSSEC {}", d.as_str()),
        });
    }
    let dane = |name: &str, d: &crate::outcome::Dane| match d.tlsa.len() {
        0 => format!("{name} {}", d.state.as_str()),
        n => format!("{name} {} ({n} TLSA)", d.state.as_str()),
    };
    let mut each: Vec<String> = a
        .exchanges
        .iter()
        .filter_map(|x| x.dane.as_ref().map(|d| (x.name.as_str(), d)))
        .filter(|(_, d)| d.state != DaneState::None)
        .map(|(name, d)| dane(name, d))
        .collect();
    if let Some(d) = a
        .implicit_dane
        .as_ref()
        .filter(|d| d.state != DaneState::None)
    {
        each.push(dane("the domain", d));
    }
    if !each.is_empty() {
        parts.push(format!("DANE {}", each.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// A change since the baseline as a sentence: `exchange mx2.example.net
/// added (preference 20)`, `preference of mx1.example.net 10 → 20`.
pub fn change_sentence(c: &Change) -> String {
    let list = |a: &[std::net::IpAddr]| {
        a.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match c {
        Change::New => "new since the baseline".into(),
        Change::Status { from, to } => format!("status {from} → {to}"),
        Change::ExchangeAdded {
            exchange,
            preference,
        } => {
            format!("exchange {exchange} added (preference {preference})")
        }
        Change::ExchangeRemoved {
            exchange,
            preference,
        } => {
            format!("exchange {exchange} removed (was preference {preference})")
        }
        Change::Preference { exchange, from, to } => {
            format!("preference of {exchange} {from} → {to}")
        }
        Change::Addresses {
            exchange,
            added,
            removed,
        } => {
            let whose = exchange
                .as_ref()
                .map_or("the domain's own".to_string(), |e| format!("{e}'s"));
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("{} added", list(added)));
            }
            if !removed.is_empty() {
                parts.push(format!("{} removed", list(removed)));
            }
            format!("{whose} addresses: {}", parts.join("; "))
        }
        Change::MtaSts { from, to } => format!("MTA-STS policy {from} → {to}"),
        Change::Unchecked {
            what,
            exchange,
            side,
            reason,
        } => {
            let what = match (what, exchange) {
                (crate::outcome::Compared::Mx, _) => "the MX records".to_string(),
                (crate::outcome::Compared::Addresses, Some(e)) => format!("{e}'s addresses"),
                (crate::outcome::Compared::Addresses, None) => {
                    "the domain's own addresses".to_string()
                }
                (crate::outcome::Compared::MtaSts, _) => "the MTA-STS policy".to_string(),
            };
            let when = match side {
                crate::outcome::Side::Now => "this run",
                crate::outcome::Side::Baseline => "the baseline",
                crate::outcome::Side::Both => "both runs",
            };
            format!("{what} could not be compared: a lookup failed in {when} ({reason})")
        }
    }
}

/// The policy fetches' line of the summary.
pub fn fetch_summary(f: crate::audit::FetchStats) -> String {
    format!(
        "MTA-STS policies: {} fetched of {} asked for",
        f.fetched, f.asked
    )
}

/// The baseline's line of the summary; how many baseline domains the
/// run did not look up, when that is known.
pub fn baseline_summary(counts: &Counts, unseen: Option<usize>) -> String {
    let mut line = format!(
        "baseline: {} domain{} changed, {} of them new",
        counts.changed,
        if counts.changed == 1 { "" } else { "s" },
        counts.new,
    );
    if counts.unchecked > 0 {
        line += &format!(
            "; {} could not be compared (a lookup failed, now or in the baseline)",
            counts.unchecked
        );
    }
    if let Some(unseen) = unseen {
        line += &format!(
            "; {unseen} baseline domain{} not in this run",
            if unseen == 1 { "" } else { "s" }
        );
    }
    line
}

/// The audit's line of the summary: domains per problem.
pub fn problem_summary(counts: &Counts) -> Option<String> {
    let parts: Vec<String> = Code::ALL
        .iter()
        .filter(|c| counts.problem(**c) > 0)
        .map(|c| format!("{} {c}", counts.problem(*c)))
        .collect();
    (!parts.is_empty()).then(|| format!("problems: {}", parts.join(", ")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::resolver::{Failure, Phase};
    pub(crate) use crate::testing::{answered, entry, mx};

    /// A few results of every kind, in input order.
    pub(crate) fn sample() -> Vec<Settled> {
        vec![
            Settled::new(
                entry(0, "example.com"),
                answered(
                    vec![mx(10, "mx1.example.com"), mx(20, "mx2.example.com")],
                    false,
                ),
                Duration::from_micros(1500),
            ),
            Settled::new(
                entry(1, "null.example"),
                answered(vec![mx(0, ".")], false),
                Duration::ZERO,
            ),
            Settled::new(
                entry(2, "gone.example"),
                answered(vec![], true),
                Duration::ZERO,
            ),
            Settled::new(
                entry(3, "slow.example"),
                Outcome::Failed(Failure::timeout()),
                Duration::ZERO,
            ),
            Settled::new(
                entry(4, "bad name"),
                Outcome::Invalid("contains a space, which is not allowed in a domain name".into()),
                Duration::ZERO,
            ),
            Settled::new(
                entry(5, "evil.example"),
                answered(vec![mx(5, "x\\027\\0912j.example")], false),
                Duration::ZERO,
            ),
            Settled::new(
                entry(6, "broken.example"),
                Outcome::Failed(Failure::error(
                    Phase::Protocol,
                    "malformed answer: a label runs past the end of the message",
                )),
                Duration::ZERO,
            ),
        ]
    }

    #[test]
    fn summary_counts_each_status() {
        let mut counts = Counts::default();
        for r in sample() {
            counts.record(&r);
        }
        assert_eq!(counts.total(), 7);
        assert_eq!(counts.failures(), 3);
        let line = summary(&counts, 3, Some(Duration::from_secs(2)));
        assert_eq!(
            line,
            "7 domains: 2 ok, 1 null_mx, 1 nxdomain, 1 timeout, 1 error, 1 invalid · 3 duplicates skipped · 2.00s · 4 lookups/s"
        );
    }
}
