//! JSON and NDJSON: one object per domain ([`Record`]). NDJSON writes each
//! as it settles; JSON is one array in input order, streamed.

use super::Sink;
use super::order::Ordered;
use crate::outcome::Place;
use crate::outcome::Settled;
use crate::saved::Record;
use std::io::{self, BufWriter, Write};

/// Write one result as a JSON object (no newline): the bytes
/// `serde_json` writes for [`Record::of`] (a test holds the two together),
/// written directly, because escaping every key a character at a time
/// costs more than the rest of the lookup.
/// `job`: keys written last, before the closing brace (`,"shard":...`),
/// or nothing.
pub(super) fn write_record<W: Write>(out: &mut W, r: &Settled, job: &[u8]) -> io::Result<()> {
    if r.audit.is_some() || r.changes.is_some() {
        let mut v = serde_json::to_vec(&Record::of(r)).map_err(io::Error::from)?;
        v.pop();
        v.extend_from_slice(job);
        v.push(b'}');
        return out.write_all(&v);
    }
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"{\"domain\":");
    string(&mut buf, r.entry.display_name());
    buf.extend_from_slice(b",\"status\":\"");
    buf.extend_from_slice(r.outcome.status().as_str().as_bytes());
    buf.extend_from_slice(b"\",\"mx\":[");
    let mut int = itoa::Buffer::new();
    for (i, (preference, exchange)) in r.outcome.mx_records().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"preference\":");
        buf.extend_from_slice(int.format(preference).as_bytes());
        buf.extend_from_slice(b",\"exchange\":");
        string(&mut buf, exchange.as_str());
        buf.push(b'}');
    }
    buf.extend_from_slice(b"],\"error\":");
    match r.outcome.error() {
        Some(e) => string(&mut buf, e.as_str()),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"input\":");
    string(&mut buf, r.entry.input.as_str());
    buf.extend_from_slice(b",\"source\":");
    let line = int.format(r.entry.origin.line).as_bytes();
    match &r.entry.origin.place {
        Place::Argument => {
            buf.extend_from_slice(b"\"argument ");
            buf.extend_from_slice(line);
            buf.push(b'"');
        }
        place => {
            // "FILE:LINE": the file's name escaped, then the number.
            match place {
                Place::File(path) => string(&mut buf, path.as_str()),
                _ => string(&mut buf, "stdin"),
            }
            buf.pop();
            buf.push(b':');
            buf.extend_from_slice(line);
            buf.push(b'"');
        }
    }
    let answer = r.outcome.answer();
    buf.extend_from_slice(b",\"ttl\":");
    match answer.and_then(|a| a.ttl) {
        Some(t) => buf.extend_from_slice(int.format(t).as_bytes()),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"server\":");
    match answer.and_then(|a| a.server.as_deref()) {
        Some(s) => string(&mut buf, s.as_str()),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"time_ms\":");
    let ms = (r.elapsed.as_secs_f64() * 1e6).round() / 1e3;
    // serde_json writes floats with ryu, the shortest form that reads back.
    serde_json::to_writer(&mut buf, &ms).map_err(io::Error::from)?;
    if let Some(a) = answer.filter(|a| !a.aliases.is_empty()) {
        buf.extend_from_slice(b",\"aliases\":[");
        for (i, n) in a.aliases.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            string(&mut buf, n.as_str());
        }
        buf.push(b']');
    }
    if let Some(phase) = r.outcome.phase() {
        buf.extend_from_slice(b",\"phase\":\"");
        buf.extend_from_slice(phase.as_str().as_bytes());
        buf.push(b'"');
    }
    if !r.outcome.ede().is_empty() {
        buf.extend_from_slice(b",\"ede\":");
        serde_json::to_writer(&mut buf, r.outcome.ede()).map_err(io::Error::from)?;
    }
    buf.extend_from_slice(job);
    buf.push(b'}');
    out.write_all(&buf)
}

/// A JSON string, escaped as serde_json escapes it.
fn string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    if bytes.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.extend_from_slice(bytes);
    } else {
        // Rare (names with escapes, messages with quotes): serde_json's own
        // escaping, minus the quotes it adds.
        let quoted = serde_json::to_vec(s).unwrap_or_default();
        buf.extend_from_slice(&quoted[1..quoted.len().saturating_sub(1)]);
    }
    buf.push(b'"');
}

/// One object per line, written as each result arrives.
pub struct NdjsonSink<W: Write> {
    out: BufWriter<W>,
    flush_lines: bool,
    job: Box<[u8]>,
}

/// The keys that say which job a shard's records belong to
/// (`,"shard":"2/4","job":"..."`), or nothing.
fn job_keys(style: &super::Style) -> Box<[u8]> {
    match &style.job {
        Some(j) => format!(",\"shard\":\"{}\",\"job\":\"{}\"", j.shard, j.fingerprint)
            .into_bytes()
            .into_boxed_slice(),
        None => Box::default(),
    }
}

impl<W: Write> NdjsonSink<W> {
    /// Write to `out` in `style` (flushing after every line, the job's
    /// keys).
    pub fn new(out: W, style: &super::Style) -> Self {
        NdjsonSink {
            out: BufWriter::with_capacity(64 * 1024, out),
            flush_lines: style.flush_lines,
            job: job_keys(style),
        }
    }
}

impl<W: Write + Send> Sink for NdjsonSink<W> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        write_record(&mut self.out, &r, &self.job)?;
        self.out.write_all(b"\n")?;
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

/// A JSON array of the same objects, in input order. A result that waits
/// for an earlier one is kept as its serialised bytes.
pub struct JsonFormat<W: Write> {
    out: BufWriter<W>,
    written: u64,
    flush_lines: bool,
    job: Box<[u8]>,
}

impl<W: Write> JsonFormat<W> {
    /// Write to `out` in `style` (flushing after every object, the job's
    /// keys).
    pub fn new(out: W, style: &super::Style) -> Self {
        JsonFormat {
            out: BufWriter::with_capacity(64 * 1024, out),
            written: 0,
            flush_lines: style.flush_lines,
            job: job_keys(style),
        }
    }
}

impl<W: Write + Send> Ordered for JsonFormat<W> {
    type Held = Box<[u8]>;

    fn hold(&mut self, r: Settled) -> Box<[u8]> {
        let mut bytes = Vec::with_capacity(192);
        // Writing to memory cannot fail.
        let _ = write_record(&mut bytes, &r, &self.job);
        bytes.into_boxed_slice()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn write(&mut self, held: Box<[u8]>) -> io::Result<()> {
        self.out.write_all(if self.written == 0 {
            b"[\n  "
        } else {
            b",\n  "
        })?;
        self.out.write_all(&held)?;
        self.written += 1;
        if self.flush_lines {
            self.out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::InOrder;
    use crate::report::tests::sample;
    use std::sync::Arc;

    #[test]
    fn ndjson_lines_have_the_contract_keys() {
        let mut buf = Vec::new();
        let mut sink = NdjsonSink::new(
            &mut buf,
            &crate::report::Style {
                flush_lines: false,
                ..Default::default()
            },
        );
        for r in sample() {
            sink.settled(r).unwrap();
        }
        sink.finish().unwrap();
        drop(sink);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(
            lines[0],
            r#"{"domain":"example.com","status":"ok","mx":[{"preference":10,"exchange":"mx1.example.com"},{"preference":20,"exchange":"mx2.example.com"}],"error":null,"input":"example.com","source":"domains.txt:1","ttl":300,"server":"127.0.0.1:53","time_ms":1.5}"#
        );
        let v: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert_eq!(v["status"], "timeout");
        assert_eq!(v["error"], "no answer within the deadline");
        assert_eq!(v["phase"], "network");
        assert_eq!(v["mx"].as_array().unwrap().len(), 0);
        let v: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(v["domain"], "bad name");
        assert_eq!(v["status"], "invalid");
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["status"], "null_mx");
        assert_eq!(v["mx"], serde_json::json!([]));
        assert!(!text.contains('\u{1b}'));
        // Every line reads back as a record.
        for l in &lines {
            Record::parse(l).unwrap();
        }
    }

    #[test]
    fn the_fast_writer_writes_what_serde_json_writes() {
        use crate::resolver::{Answer, Failure, Phase};
        use std::time::Duration;
        let mut results = sample();
        // Aliases, odd bytes, quotes, a file origin and a failure phase.
        let mut aliased = Settled::new(
            crate::report::tests::entry(7, "alias.example"),
            crate::report::tests::answered(
                vec![crate::report::tests::mx(1, "m\\\"x.example")],
                false,
            ),
            Duration::from_nanos(123_456_789),
        );
        if let crate::outcome::Outcome::Answered(a) = &mut aliased.outcome {
            a.aliases = vec![crate::DomainName::parse_ascii("b\\.c.example").unwrap()];
            a.ttl = None;
        }
        results.push(aliased);
        results.push(Settled::new(
            crate::report::tests::entry(8, "q\"uote.example"),
            crate::outcome::Outcome::Failed(Failure::error(
                Phase::Network,
                "a \"quoted\" message\\",
            )),
            Duration::from_millis(5000),
        ));
        let mut from_file = Settled::new(
            crate::report::tests::entry(9, "f.example"),
            crate::outcome::Outcome::Answered(Answer {
                nxdomain: false,
                aliases: vec![],
                records: vec![],
                ttl: Some(0),
                authenticated: true,
                server: None,
                ede: Vec::new(),
            }),
            Duration::ZERO,
        );
        from_file.entry.origin.place = crate::outcome::Place::File(std::sync::Arc::new(
            crate::text::SafeText::new("dir/li\"st\\.txt"),
        ));
        results.push(from_file);
        let mut args = Settled::new(
            crate::report::tests::entry(10, "a.example"),
            crate::report::tests::answered(vec![], true),
            Duration::from_micros(1),
        );
        args.entry.origin.place = crate::outcome::Place::Argument;
        results.push(args);
        for r in &results {
            let mut fast = Vec::new();
            write_record(&mut fast, r, b"").unwrap();
            let reference = serde_json::to_vec(&Record::of(r)).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(reference).unwrap()
            );
        }
    }

    #[test]
    fn json_is_one_array_in_input_order() {
        let mut buf = Vec::new();
        {
            let mut sink = InOrder::new(
                JsonFormat::new(
                    &mut buf,
                    &crate::report::Style {
                        flush_lines: false,
                        ..Default::default()
                    },
                ),
                Arc::default(),
            );
            let mut results = sample();
            results.reverse();
            for r in results {
                sink.settled(r).unwrap();
            }
            sink.finish().unwrap();
        }
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
                "evil.example",
                "broken.example"
            ]
        );
        let mut empty = Vec::new();
        {
            let mut sink = InOrder::new(
                JsonFormat::new(
                    &mut empty,
                    &crate::report::Style {
                        flush_lines: false,
                        ..Default::default()
                    },
                ),
                Arc::default(),
            );
            sink.finish().unwrap();
        }
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }
}
