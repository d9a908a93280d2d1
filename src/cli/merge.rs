//! `mxlookup report FILE...`: saved runs written again. Reads mxlookup's
//! own NDJSON or JSON output (one file, or the shards of one job), puts the
//! records back in input order (arguments first, then each input file in
//! the order it first appears, by line), and writes them through the same
//! sinks as a run, with one summary and the exit status the whole job
//! would have had. A record given twice (the same domain from the same
//! input line, in two files) is written once.
//!
//! Memory: the files' text, plus 40 bytes per record for the order; each
//! record is read again as it is written.

use super::Fatal;
use super::config::Output;
use super::exit;
use super::ui::Ui;
use mxlookup::Error;
use mxlookup::outcome::{Origin, Place};
use mxlookup::pipeline::Finish;
use mxlookup::report::{self, Counts};
use mxlookup::saved::{self, Record, Records};
use mxlookup::text::{SafeText, escape_text};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// Write the saved runs in `files`; the exit status.
pub(super) fn run(files: &[PathBuf], output: &Output) -> Result<u8, Fatal> {
    let ui = Ui::new(false, output.quiet);
    let mut loaded: Vec<(Arc<str>, Records)> = Vec::new();
    for path in files {
        let (shown, text) = if path.as_os_str() == "-" {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| Error::Read {
                    source_name: "stdin".into(),
                    source,
                })?;
            ("stdin".to_string(), text)
        } else {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Input {
                path: path.clone(),
                source,
            })?;
            (escape_text(&path.display().to_string()), text)
        };
        let records = Records::read(text, &shown).map_err(Error::Saved)?;
        loaded.push((Arc::from(shown), records));
    }

    // The order: (source rank, line, domain, file, record). Arguments
    // of different runs share their numbers: a record is the same as
    // another only with the same domain too.
    let mut ranks: HashMap<Place, u32> = HashMap::new();
    ranks.insert(Place::Argument, 0);
    let mut order: Vec<(u32, u64, u64, u32, u32)> = Vec::new();
    let (mut audit, mut changes) = (false, false);
    for (f, (name, records)) in loaded.iter().enumerate() {
        for (i, (r, line)) in records.iter().enumerate() {
            let origin = origin_of(&r, name, line);
            let next = ranks.len() as u32;
            let rank = *ranks.entry(origin.place.clone()).or_insert(next);
            let domain = mxlookup::input::fnv1a64(r.domain.as_bytes());
            order.push((rank, origin.line, domain, f as u32, i as u32));
            audit |= r.problems.is_some();
            changes |= r.changes.is_some();
        }
    }
    order.sort_unstable();
    let before = order.len();
    order.dedup_by_key(|k| (k.0, k.1, k.2));
    let repeated = before - order.len();
    if repeated > 0 {
        ui.note(&format!(
            "{repeated} record{} of an input line already seen (the same file twice, or overlapping shards) written once",
            if repeated == 1 { "" } else { "s" }
        ));
    }

    let style = output.style(audit, changes);
    let mut sink = report::sink(
        output.format,
        io::stdout(),
        style,
        Arc::new(AtomicUsize::new(0)),
    );
    let mut counts = Counts::default();
    let written = (|| -> Result<(), Failed> {
        for (seq, &(_, _, _, f, i)) in order.iter().enumerate() {
            let (name, records) = &loaded[f as usize];
            let (r, line) = records.get(i as usize);
            let fallback = origin_of(&r, name, line);
            let settled = saved::settled(&r, seq as u64, fallback)
                .map_err(|e| Failed::Record(format!("{name}:{line}: {e}")))?;
            counts.record(&settled);
            sink.settled(settled).map_err(Failed::Write)?;
        }
        sink.finish().map_err(Failed::Write)
    })();
    match written {
        Ok(()) => {}
        Err(Failed::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            return Ok(exit::SUCCESS);
        }
        Err(Failed::Write(e)) => return Err(Fatal::Output(e)),
        Err(Failed::Record(e)) => return Err(Error::Saved(e).into()),
    }
    let mut notes = Vec::new();
    if changes {
        // The saved runs do not say which baseline domains they missed.
        notes.push(report::baseline_summary(&counts, None));
    }
    ui.report_summary(&counts, &notes);
    Ok(exit::for_run(
        &counts,
        output.require_mx,
        Finish::Complete,
        0,
    ))
}

/// Why writing the saved runs again stopped.
enum Failed {
    /// A record holds what no run writes.
    Record(String),
    Write(io::Error),
}

/// A record's origin, or where it sits in the saved file.
fn origin_of(r: &Record<'_>, file: &Arc<str>, line: u64) -> Origin {
    Origin::parse(&r.source.to_string()).unwrap_or(Origin {
        place: Place::File(Arc::new(SafeText::new(file))),
        line,
    })
}
