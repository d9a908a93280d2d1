//! CSV: header `domain,status,preference,exchange,error,source` (with
//! `--audit` also `addresses,problems`; with `--baseline`, `changes`), one
//! row per MX record, or one row with empty preference and exchange for a
//! domain without MX records. Written as results arrive.
//!
//! Spreadsheet formula injection (OWASP): a cell that would begin with
//! `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading
//! apostrophe, which spreadsheets show as text and never evaluate. Only
//! such cells change; a program reading the file sees the apostrophe.

use super::{Sink, Style};
use crate::outcome::{PolicyState, Settled};
use std::borrow::Cow;
use std::io::{self, Write};

/// The CSV format, written as results arrive.
pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    flush_lines: bool,
    audit: bool,
    policies: bool,
    security: bool,
    changes: bool,
}

impl<W: Write> CsvSink<W> {
    /// Write the header to `out` now, then a row per MX record.
    pub fn new(out: W, style: &Style) -> Self {
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(out);
        let mut header = vec![
            "domain",
            "status",
            "preference",
            "exchange",
            "error",
            "source",
        ];
        if style.audit {
            header.extend(["addresses", "problems"]);
        }
        if style.policies {
            header.extend(["mta_sts", "tls_rpt"]);
        }
        if style.security {
            header.extend(["dnssec", "dane"]);
        }
        if style.changes {
            header.push("changes");
        }
        // The header is written before any result, so even an empty run
        // produces a parseable file.
        let _ = out.write_record(&header);
        CsvSink {
            out,
            flush_lines: style.flush_lines,
            audit: style.audit,
            policies: style.policies,
            security: style.security,
            changes: style.changes,
        }
    }
}

/// A cell that a spreadsheet would take for a formula, made inert.
pub(super) fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// csv wraps I/O errors in its own type; keep their kind (a closed pipe
/// must stay a closed pipe).
fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write + Send> Sink for CsvSink<W> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        let domain = neutralize(r.entry.display_name());
        let status = r.outcome.status().as_str();
        let error = neutralize(r.outcome.error().map_or("", |e| e.as_str()));
        let source = neutralize(&r.entry.origin.to_string()).into_owned();
        let audit = r.audit.as_deref();
        let problems = audit
            .map(|a| {
                a.problems
                    .iter()
                    .map(|p| p.code.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default();
        let changes = r
            .changes
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .unwrap_or_default();
        let mta_sts = audit
            .and_then(|a| a.mta_sts.as_ref())
            .map(|m| match (m.state, m.mode) {
                (PolicyState::Ok, Some(mode)) => mode.as_str().to_string(),
                (state, _) => state.as_str().to_string(),
            })
            .unwrap_or_default();
        let tls_rpt = audit
            .and_then(|a| a.tls_rpt.as_ref())
            .map_or("", |t| t.state.as_str());
        let dnssec = audit.and_then(|a| a.dnssec).map_or("", |d| d.as_str());
        let mut row = |pref: &str,
                       exchange: &str,
                       addresses: String,
                       dane: Option<&crate::outcome::Dane>|
         -> io::Result<()> {
            let mut cells: Vec<Cow<'_, str>> = vec![
                domain.clone(),
                Cow::Borrowed(status),
                Cow::Borrowed(pref),
                neutralize(exchange),
                error.clone(),
                Cow::Borrowed(&source),
            ];
            if self.audit {
                cells.push(Cow::Owned(addresses));
                cells.push(Cow::Borrowed(&problems));
            }
            if self.policies {
                cells.push(Cow::Borrowed(&mta_sts));
                cells.push(Cow::Borrowed(tls_rpt));
            }
            if self.security {
                cells.push(Cow::Borrowed(dnssec));
                cells.push(Cow::Borrowed(dane.map_or("", |d| d.state.as_str())));
            }
            if self.changes {
                cells.push(Cow::Borrowed(&changes));
            }
            self.out
                .write_record(cells.iter().map(|c| c.as_bytes()))
                .map_err(io_error)
        };
        let mut any = false;
        let mut pref = itoa::Buffer::new();
        for (preference, exchange) in r.outcome.mx_records() {
            any = true;
            let x = audit.and_then(|a| a.exchanges.iter().find(|x| &x.name == exchange));
            let addresses = x.map(|x| join(&x.target.addresses)).unwrap_or_default();
            let dane = x.and_then(|x| x.dane.as_ref());
            row(pref.format(preference), exchange.as_str(), addresses, dane)?;
        }
        if !any {
            let implicit = audit
                .and_then(|a| a.implicit.as_ref())
                .map(|t| join(&t.addresses))
                .unwrap_or_default();
            row(
                "",
                "",
                implicit,
                audit.and_then(|a| a.implicit_dane.as_ref()),
            )?;
        }
        if self.flush_lines {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn join(addresses: &[std::net::IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::report::tests::{entry, sample};
    use std::time::Duration;

    fn rows(results: Vec<Settled>) -> (Vec<String>, Vec<Vec<String>>) {
        let mut buf = Vec::new();
        {
            let mut sink = CsvSink::new(&mut buf, &Style::default());
            for r in results {
                sink.settled(r).unwrap();
            }
            sink.finish().unwrap();
        }
        let mut reader = csv::Reader::from_reader(buf.as_slice());
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    #[test]
    fn one_row_per_record_and_one_per_domain_without_records() {
        let (header, rows) = rows(sample());
        assert_eq!(
            header,
            [
                "domain",
                "status",
                "preference",
                "exchange",
                "error",
                "source"
            ]
        );
        assert_eq!(rows.len(), 8);
        assert_eq!(
            rows[0],
            [
                "example.com",
                "ok",
                "10",
                "mx1.example.com",
                "",
                "domains.txt:1"
            ]
        );
        assert_eq!(
            rows[1],
            [
                "example.com",
                "ok",
                "20",
                "mx2.example.com",
                "",
                "domains.txt:1"
            ]
        );
        assert_eq!(
            rows[2],
            ["null.example", "null_mx", "", "", "", "domains.txt:2"]
        );
        assert_eq!(rows[5][0], "bad name");
        assert!(rows[5][4].contains("space"));
    }

    #[test]
    fn cells_that_look_like_formulas_are_made_inert() {
        let results: Vec<Settled> = [
            "=HYPERLINK(\"http://x\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1+1)",
            "-2+3",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Settled::new(
                entry(i as u64, t),
                Outcome::Invalid("not a name".into()),
                Duration::ZERO,
            )
        })
        .collect();
        let (_, rows) = rows(results);
        for row in &rows {
            assert!(row[0].starts_with('\''), "{row:?}");
        }
        assert_eq!(rows[3][0], "'-2+3");
        assert_eq!(neutralize("example.com"), "example.com");
        assert_eq!(neutralize("\tx"), "'\tx");
    }
}
