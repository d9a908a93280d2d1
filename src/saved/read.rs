//! Reading mxlookup's own JSON and NDJSON output back, for `--baseline`
//! and `mxlookup report`: one record per line (NDJSON as written; the JSON
//! array as mxlookup writes it, one object per line), or any other JSON
//! array of records (pretty-printed by jq, say), re-written one per line.
//! Every record is checked on reading; an error names the file and line.
//! A saved file is untrusted input: no line may be longer than
//! [`MAX_RECORD`] (so `--baseline /dev/zero` fails at once, in bounded
//! memory), and an empty file is a run with no records (an empty shard).

use super::record::{MxRecord, Record};
use crate::name::DomainName;
use crate::outcome::{Audit, Entry, Exchange, Origin, Outcome, Settled, Status, Target};
use crate::resolver::{Answer, Failure, Phase, Rdata};
use crate::text::{SafeText, escape_text};
use std::io::{BufRead, Read};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// The longest line of a saved file: far longer than any record mxlookup
/// writes (a record with every exchange of a 64 KB answer is a few
/// hundred KB).
pub const MAX_RECORD: usize = 1 << 20;

/// The lines of a saved file, each trimmed, with its number; an error
/// names the line that is too long, not UTF-8, or could not be read.
pub(crate) fn lines<R: BufRead>(
    mut reader: R,
    source: &str,
) -> impl Iterator<Item = Result<(u64, String), String>> {
    let source = source.to_string();
    let mut n = 0u64;
    let mut done = false;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        buf.clear();
        n += 1;
        let read = (&mut reader)
            .take(MAX_RECORD as u64 + 1)
            .read_until(b'\n', &mut buf);
        let fail = |why: String| Some(Err(format!("{source}:{n}: {why}")));
        match read {
            Err(e) => {
                done = true;
                fail(format!("cannot read it: {e}"))
            }
            Ok(0) => None,
            Ok(_) if buf.len() > MAX_RECORD && buf.last() != Some(&b'\n') => {
                done = true;
                fail(format!(
                    "a line longer than {} MiB: not mxlookup's JSON or NDJSON output",
                    MAX_RECORD >> 20
                ))
            }
            Ok(_) => match std::str::from_utf8(&buf) {
                Ok(text) => Some(Ok((n, text.trim().to_string()))),
                Err(_) => {
                    done = true;
                    fail("not UTF-8: not mxlookup's JSON or NDJSON output".into())
                }
            },
        }
    })
}

/// The records of one file, each a line of `text`.
pub struct Records {
    text: String,
    /// Per record: its line in the file as given, and its bytes in `text`.
    lines: Vec<(u64, Range<usize>)>,
}

impl Records {
    /// Read a whole saved file (each line at most [`MAX_RECORD`]) and
    /// check it. `source` names the file in errors.
    pub fn load<R: BufRead>(reader: R, source: &str) -> Result<Records, String> {
        let mut text = String::new();
        for line in lines(reader, source) {
            text.push_str(&line?.1);
            text.push('\n');
        }
        Records::read(text, source)
    }

    /// Read and check `text`. `source` names the file in errors.
    pub fn read(text: String, source: &str) -> Result<Records, String> {
        let body = text.trim_start_matches('\u{feff}').trim_start();
        let array = body.starts_with('[');
        match Self::by_line(text, source) {
            Ok(r) => Ok(r),
            Err((text, e)) if array => Self::whole(&text, source).map_err(|e2| e2.unwrap_or(e)),
            Err((_, e)) => Err(e),
        }
    }

    /// One record per line; `[`, `]` and the commas between objects of
    /// mxlookup's JSON array are skipped.
    fn by_line(text: String, source: &str) -> Result<Records, (String, String)> {
        let mut lines = Vec::new();
        let mut error = None;
        let mut offset = 0;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += raw.len();
            let line = raw.trim_start_matches('\u{feff}');
            let lead = raw.len() - line.trim_start().len();
            let body = line.trim().trim_end_matches(',');
            if body.is_empty() || matches!(body, "[" | "]" | "[]") {
                continue;
            }
            let range = start + lead..start + lead + body.len();
            if let Err(e) = Record::parse(&text[range.clone()]) {
                error = Some(format!(
                    "{source}:{}: not an mxlookup record: {}",
                    i + 1,
                    escape_text(&e)
                ));
                break;
            }
            lines.push((i as u64 + 1, range));
        }
        if let Some(e) = error {
            return Err((text, e));
        }
        Ok(Records { text, lines })
    }

    /// Any JSON array of records, re-written one per line. `Err(None)`:
    /// it is valid JSON, so the line-by-line error stands.
    fn whole(text: &str, source: &str) -> Result<Records, Option<String>> {
        let records: Vec<Record<'_>> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| {
                Some(format!(
                    "{source}:{}: not mxlookup's JSON output: {}",
                    e.line(),
                    escape_text(&e.to_string())
                ))
            })?;
        let mut out = String::new();
        let mut lines = Vec::new();
        for r in &records {
            let start = out.len();
            out.push_str(&serde_json::to_string(r).map_err(|_| None)?);
            lines.push((0, start..out.len()));
            out.push('\n');
        }
        Ok(Records { text: out, lines })
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Record `i` (checked on reading) and its line in the file (0 when
    /// the file was re-written).
    pub fn get(&self, i: usize) -> (Record<'_>, u64) {
        let (line, range) = &self.lines[i];
        let r = Record::parse(&self.text[range.clone()])
            .expect("every record was parsed when the file was read");
        (r, *line)
    }

    /// Every record with its line.
    pub fn iter(&self) -> impl Iterator<Item = (Record<'_>, u64)> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// The settled result a record stands for, to be written again in any
/// format. `Err`: the record holds what no run writes.
pub fn settled(r: &Record<'_>, seq: u64, fallback: Origin) -> Result<Settled, String> {
    let origin = Origin::parse(&r.source.to_string()).unwrap_or(fallback);
    let input = if r.input.is_empty() {
        r.domain.to_string()
    } else {
        r.input.to_string()
    };
    let name =
        |s: &str| DomainName::parse_ascii(s).map_err(|e| format!("'{}': {e}", escape_text(s)));
    let message = || SafeText::new(r.error.as_deref().unwrap_or(""));
    let mx = r.mx.records();
    let outcome = match r.status {
        Status::Ok | Status::NullMx | Status::NoMx | Status::Nxdomain => {
            let mut records: Vec<Rdata> = mx
                .iter()
                .map(|m| {
                    Ok(Rdata::Mx {
                        preference: m.preference,
                        exchange: if m.exchange == "." {
                            DomainName::root()
                        } else {
                            name(&m.exchange)?
                        },
                    })
                })
                .collect::<Result<_, String>>()?;
            match r.status {
                Status::NullMx => {
                    records = vec![Rdata::Mx {
                        preference: 0,
                        exchange: DomainName::root(),
                    }]
                }
                Status::Ok if records.is_empty() => {
                    return Err("status ok without MX records".into());
                }
                Status::Ok => {}
                _ => records.clear(),
            }
            Outcome::Answered(Answer {
                nxdomain: r.status == Status::Nxdomain,
                aliases: r
                    .aliases
                    .iter()
                    .map(|a| name(a))
                    .collect::<Result<_, _>>()?,
                records,
                ttl: r.ttl,
                authenticated: false,
                server: r.server.as_deref().map(|s| Arc::new(SafeText::new(s))),
                ede: r.ede.clone(),
            })
        }
        Status::Servfail | Status::Refused | Status::Timeout | Status::Error => {
            // The failure a run makes for this status, with the record's
            // phase (when it has one) and message.
            let mut failure = match r.status {
                Status::Servfail => Failure::servfail(),
                Status::Refused => Failure::refused(),
                Status::Timeout => Failure::timeout(),
                _ => Failure::error(Phase::Network, SafeText::default()),
            };
            failure.phase = r.phase.unwrap_or(failure.phase);
            failure.message = message();
            failure.ede = r.ede.clone();
            Outcome::Failed(failure)
        }
        Status::Invalid => Outcome::Invalid(message()),
    };
    let entry = Entry {
        seq,
        origin,
        input: SafeText::new(&input),
        name: match r.status {
            Status::Invalid => Err(message()),
            _ => Ok(name(&r.domain)?),
        },
    };
    let audit = audit(r, &mx);
    Ok(Settled {
        entry,
        outcome,
        audit,
        changes: r.changes.clone(),
        elapsed: Duration::from_secs_f64((r.time_ms.max(0.0) / 1e3).min(1e9)),
    })
}

/// The audit a saved record holds, when it was audited.
fn audit(r: &Record<'_>, mx: &[MxRecord<'_>]) -> Option<Box<Audit>> {
    r.problems.as_ref().map(|problems| {
        let resolved = r.addresses.is_some() || mx.iter().any(|m| m.addresses.is_some());
        Box::new(Audit {
            resolved,
            exchanges: exchanges(mx),
            implicit: r.addresses.clone().map(|addresses| Target {
                addresses,
                unresolved: r.unresolved.clone(),
            }),
            dnssec: r.dnssec,
            dnssec_why: r.dnssec_why.as_deref().map(SafeText::new),
            implicit_dane: r.dane.clone(),
            mta_sts: r.mta_sts.clone(),
            tls_rpt: r.tls_rpt.clone(),
            problems: problems.clone(),
        })
    })
}

fn exchanges(mx: &[MxRecord<'_>]) -> Vec<Exchange> {
    mx.iter()
        .filter_map(|m| {
            Some(Exchange {
                name: DomainName::parse_ascii(&m.exchange).ok()?,
                target: Target {
                    addresses: m.addresses.clone()?,
                    unresolved: m.unresolved.clone(),
                },
                dnssec: m.dnssec,
                dane: m.dane.clone(),
            })
        })
        .collect()
}
