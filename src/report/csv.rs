//! CSV: header `domain,status,preference,exchange,error`, one row per MX
//! record, or one row with empty preference and exchange for a domain
//! without MX records. Written as results arrive.

use super::Sink;
use crate::engine::Settled;
use std::io::{self, Write};

pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    flush_lines: bool,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W, flush_lines: bool) -> Self {
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(out);
        // The header is written before any result, so even an empty run
        // produces a parseable file.
        let _ = out.write_record(["domain", "status", "preference", "exchange", "error"]);
        CsvSink { out, flush_lines }
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        let domain = r.entry.display_name();
        let status = r.outcome.status().as_str();
        let error = r.outcome.error().unwrap_or("");
        let mx = r.outcome.mx();
        if mx.is_empty() {
            self.out.write_record([domain, status, "", "", error])?;
        }
        let mut pref = itoa::Buffer::new();
        for m in mx {
            self.out.write_record([
                domain,
                status,
                pref.format(m.preference),
                &m.exchange,
                error,
            ])?;
        }
        if self.flush_lines {
            self.out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn one_row_per_record_and_one_per_domain_without_records() {
        let mut buf = Vec::new();
        let mut sink = CsvSink::new(&mut buf, false);
        for r in sample() {
            sink.settled(r).unwrap();
        }
        sink.finish().unwrap();
        drop(sink);
        let mut reader = csv::Reader::from_reader(buf.as_slice());
        assert_eq!(
            reader.headers().unwrap(),
            vec!["domain", "status", "preference", "exchange", "error"]
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[0], ["example.com", "ok", "10", "mx1.example.com", ""]);
        assert_eq!(rows[1], ["example.com", "ok", "20", "mx2.example.com", ""]);
        assert_eq!(rows[2], ["null.example", "null_mx", "", "", ""]);
        assert_eq!(rows[5][0], "bad name");
        assert!(rows[5][4].contains("space"));
    }
}
