//! The exchanges' view (`--by-exchange`): which providers carry the mail
//! of the domains in a run, and what breaks if one fails. One row per
//! exchange: its addresses, its DANE state, the findings about it, how
//! many domains depend on it and for how many it is the only exchange,
//! with up to [`EXAMPLES`] domains of each, sorted by dependants.
//!
//! Bounded: memory grows with the number of distinct exchanges, never with
//! the number of domains (each exchange keeps counts and at most
//! [`EXAMPLES`] names of each kind). Written when the run ends.

use super::{Format, Sink, Style};
use crate::name::DomainName;
use crate::outcome::Settled;
use crate::text::SafeText;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;

/// Domains named per exchange, of each kind.
pub const EXAMPLES: usize = 20;

/// What the run says about one exchange.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExchangeRow {
    /// The exchange.
    pub exchange: String,
    /// Domains whose MX set names it.
    pub domains: u64,
    /// Domains for which it is the only exchange.
    pub sole: u64,
    /// Its addresses, as the audit found them.
    pub addresses: Vec<IpAddr>,
    /// Its DANE state, when checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dane: Option<&'static str>,
    /// Findings about it, by code: how many domains reported each.
    pub findings: BTreeMap<&'static str, u64>,
    /// The first [`EXAMPLES`] of the domains, in input order.
    pub examples: Vec<SafeText>,
    /// The first [`EXAMPLES`] of the domains it is the only exchange for.
    pub sole_examples: Vec<SafeText>,
    /// The examples with their input positions, while results arrive (in
    /// the order they settle).
    #[serde(skip)]
    pending: [Vec<(u64, SafeText)>; 2],
}

/// Keep the earliest [`EXAMPLES`] of `v` (by input position), cheaply.
fn keep_first(v: &mut Vec<(u64, SafeText)>, item: (u64, SafeText)) {
    v.push(item);
    if v.len() >= EXAMPLES * 4 {
        v.sort_unstable_by_key(|(seq, _)| *seq);
        v.truncate(EXAMPLES);
    }
}

/// The earliest [`EXAMPLES`], in input order.
fn first(mut v: Vec<(u64, SafeText)>) -> Vec<SafeText> {
    v.sort_unstable_by_key(|(seq, _)| *seq);
    v.into_iter().take(EXAMPLES).map(|(_, t)| t).collect()
}

/// The exchanges' view, gathered as results arrive, written at the end.
pub struct ByExchange<W: Write> {
    out: W,
    format: Format,
    style: Style,
    rows: HashMap<DomainName, ExchangeRow>,
}

impl<W: Write> ByExchange<W> {
    /// Gather, then write `format` to `out`.
    pub fn new(out: W, format: Format, style: Style) -> Self {
        ByExchange {
            out,
            format,
            style,
            rows: HashMap::new(),
        }
    }

    fn sorted(&mut self) -> Vec<ExchangeRow> {
        let mut rows: Vec<ExchangeRow> = self
            .rows
            .drain()
            .map(|(_, mut r)| {
                let [all, sole] = std::mem::take(&mut r.pending);
                r.examples = first(all);
                r.sole_examples = first(sole);
                r
            })
            .collect();
        rows.sort_by(|a, b| {
            b.domains
                .cmp(&a.domains)
                .then_with(|| a.exchange.cmp(&b.exchange))
        });
        rows
    }
}

impl<W: Write + Send> Sink for ByExchange<W> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        let mut exchanges: Vec<&DomainName> = r
            .outcome
            .mx_records()
            .map(|(_, e)| e)
            .filter(|e| !e.is_root())
            .collect();
        exchanges.sort();
        exchanges.dedup();
        let sole = exchanges.len() == 1;
        let domain = SafeText::new(r.entry.display_name());
        let audit = r.audit.as_deref();
        for e in exchanges {
            let row = self.rows.entry(e.clone()).or_insert_with(|| ExchangeRow {
                exchange: e.as_str().to_string(),
                ..ExchangeRow::default()
            });
            row.domains += 1;
            keep_first(&mut row.pending[0], (r.entry.seq, domain.clone()));
            if sole {
                row.sole += 1;
                keep_first(&mut row.pending[1], (r.entry.seq, domain.clone()));
            }
            if let Some(x) = audit.and_then(|a| a.exchanges.iter().find(|x| &x.name == e)) {
                if row.addresses.is_empty() {
                    row.addresses = x.target.addresses.clone();
                }
                if let Some(d) = &x.dane {
                    row.dane = Some(d.state.as_str());
                }
            }
            for p in audit
                .iter()
                .flat_map(|a| a.problems.iter())
                .filter(|p| p.exchange.as_ref() == Some(e))
            {
                *row.findings.entry(p.code.as_str()).or_default() += 1;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let rows = self.sorted();
        match self.format {
            Format::Ndjson => {
                for row in &rows {
                    serde_json::to_writer(&mut self.out, row)?;
                    self.out.write_all(b"\n")?;
                }
            }
            Format::Json => {
                serde_json::to_writer_pretty(&mut self.out, &rows)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv => write_csv(&mut self.out, &rows)?,
            Format::Table | Format::Plain | Format::Short | Format::Html => {
                self.out.write_all(render(&rows, &self.style).as_bytes())?;
            }
        }
        self.out.flush()
    }
}

fn findings(row: &ExchangeRow) -> String {
    row.findings
        .iter()
        .map(|(code, n)| format!("{code} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn addresses(row: &ExchangeRow, sep: &str) -> String {
    row.addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

fn write_csv<W: Write>(out: &mut W, rows: &[ExchangeRow]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let header = [
        "exchange",
        "domains",
        "sole",
        "addresses",
        "dane",
        "findings",
        "examples",
        "sole_examples",
    ];
    let list = |v: &[SafeText]| {
        v.iter()
            .map(|s| s.as_str().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    w.write_record(header).map_err(io::Error::other)?;
    for r in rows {
        let cells = [
            r.exchange.clone(),
            r.domains.to_string(),
            r.sole.to_string(),
            addresses(r, " "),
            r.dane.unwrap_or("").to_string(),
            findings(r),
            list(&r.examples),
            list(&r.sole_examples),
        ];
        w.write_record(cells.iter().map(|c| super::csv::neutralize(c).into_owned()))
            .map_err(io::Error::other)?;
    }
    w.flush()
}

fn render(rows: &[ExchangeRow], style: &Style) -> String {
    use tabled::builder::Builder;
    use tabled::settings::Style as TableStyle;
    let mut b = Builder::new();
    b.push_record([
        "MAIL EXCHANGE",
        "DOMAINS",
        "ONLY MX OF",
        "ADDRESSES",
        "DANE",
        "FINDINGS",
    ]);
    let width = style.width.unwrap_or(usize::MAX);
    for r in rows {
        let mut name = r.exchange.clone();
        if name.len() > width / 3 {
            name = super::wrap_name(&name, (width / 3).max(16));
        }
        b.push_record([
            name,
            r.domains.to_string(),
            r.sole.to_string(),
            addresses(r, "\n"),
            r.dane.unwrap_or("").to_string(),
            findings(r).replace(", ", "\n"),
        ]);
    }
    let mut t = b.build();
    t.with(TableStyle::blank());
    // The blank style pads every cell; trailing blanks are only noise.
    t.to_string()
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}
