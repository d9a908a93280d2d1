//! JSON and NDJSON: one object per domain with the fixed keys `domain`,
//! `status`, `mx` and `error`, plus `input` (the text as written) and
//! `source` (where it was written). A contract: change it only on purpose.

use super::Sink;
use crate::engine::Settled;
use crate::outcome::{Mx, Status};
use serde::Serialize;
use std::io::{self, BufWriter, Write};

#[derive(Serialize)]
struct Record<'a> {
    domain: &'a str,
    status: Status,
    mx: &'a [Mx],
    error: Option<&'a str>,
    input: &'a str,
    #[serde(serialize_with = "serialize_display")]
    source: &'a crate::input::Origin,
}

fn serialize_display<S: serde::Serializer, T: std::fmt::Display>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Write one result as a JSON object (no newline).
pub fn write_record<W: Write>(out: &mut W, r: &Settled) -> io::Result<()> {
    let record = Record {
        domain: r.entry.display_name(),
        status: r.outcome.status(),
        mx: r.outcome.mx(),
        error: r.outcome.error(),
        input: &r.entry.input,
        source: &r.entry.origin,
    };
    serde_json::to_writer(out, &record).map_err(io::Error::from)
}

/// One object per line, written as each result arrives.
pub struct NdjsonSink<W: Write> {
    out: BufWriter<W>,
    flush_lines: bool,
}

impl<W: Write> NdjsonSink<W> {
    pub fn new(out: W, flush_lines: bool) -> Self {
        NdjsonSink {
            out: BufWriter::with_capacity(64 * 1024, out),
            flush_lines,
        }
    }
}

impl<W: Write> Sink for NdjsonSink<W> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        write_record(&mut self.out, &r)?;
        self.out.write_all(b"\n")?;
        if self.flush_lines {
            self.out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A JSON array of the same objects, in input order.
pub struct JsonSink;

impl JsonSink {
    pub fn write_all<W: Write>(results: &[Settled], out: &mut W) -> io::Result<()> {
        let mut out = BufWriter::with_capacity(64 * 1024, out);
        out.write_all(b"[")?;
        for (i, r) in results.iter().enumerate() {
            out.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
            write_record(&mut out, r)?;
        }
        out.write_all(if results.is_empty() { b"]\n" } else { b"\n]\n" })?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn ndjson_lines_have_the_contract_keys() {
        let mut buf = Vec::new();
        let mut sink = NdjsonSink::new(&mut buf, false);
        for r in sample() {
            sink.settled(r).unwrap();
        }
        sink.finish().unwrap();
        drop(sink);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(
            lines[0],
            r#"{"domain":"example.com","status":"ok","mx":[{"preference":10,"exchange":"mx1.example.com"},{"preference":20,"exchange":"mx2.example.com"}],"error":null,"input":"example.com","source":"domains.txt:1"}"#
        );
        let v: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert_eq!(v["status"], "timeout");
        assert_eq!(v["error"], "no answer within the deadline");
        assert_eq!(v["mx"].as_array().unwrap().len(), 0);
        let v: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(v["domain"], "bad name");
        assert_eq!(v["status"], "invalid");
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn json_is_one_array_in_input_order() {
        let mut buf = Vec::new();
        JsonSink::write_all(&sample(), &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let domains: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["domain"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            domains,
            [
                "example.com",
                "null.example",
                "gone.example",
                "slow.example",
                "bad name",
                "evil.example"
            ]
        );
        let mut empty = Vec::new();
        JsonSink::write_all(&[], &mut empty).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }
}
