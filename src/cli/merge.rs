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
use mxlookup::Status;
use mxlookup::outcome::{Origin, Place};
use mxlookup::pipeline::Finish;
use mxlookup::report::{self, Counts};
use mxlookup::saved::{self, Record, Records};
use mxlookup::text::{SafeText, escape_text};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// Write the saved runs in `files`; the exit status.
pub(super) fn run(files: &[PathBuf], output: &Output) -> Result<u8, Fatal> {
    let ui = Ui::new(false, output.quiet);
    let loaded = load(files)?;

    // The order: (source rank, line, domain, file, record). Arguments
    // of different runs share their numbers: a record is the same as
    // another only with the same domain too.
    let mut ranks: HashMap<Place, u32> = HashMap::new();
    ranks.insert(Place::Argument, 0);
    let mut order: Vec<(u32, u64, u64, u32, u32)> = Vec::new();
    let (mut audit, mut policies, mut security, mut changes) = (false, false, false, false);
    let mut addresses = false;
    let mut jobs = Jobs::default();
    for (f, (name, records)) in loaded.iter().enumerate() {
        jobs.file(name, records.is_empty());
        for (i, (r, line)) in records.iter().enumerate() {
            jobs.record(name, r.shard.as_deref(), r.job.as_deref());
            let origin = origin_of(&r, name, line);
            let next = ranks.len() as u32;
            let rank = *ranks.entry(origin.place.clone()).or_insert(next);
            let domain = mxlookup::input::fnv1a64(r.domain.as_bytes());
            order.push((rank, origin.line, domain, f as u32, i as u32));
            audit |= r.problems.is_some();
            addresses |=
                r.addresses.is_some() || r.mx.records().iter().any(|m| m.addresses.is_some());
            policies |= r.mta_sts.is_some() || r.tls_rpt.is_some();
            security |= r.dnssec.is_some() || r.mx.records().iter().any(|m| m.dane.is_some());
            changes |= r.changes.is_some();
        }
    }
    let missing = jobs.check(&ui)?;
    order.sort_unstable();
    let merged = merge(order, &loaded);
    merged.tell(&ui);
    let conflicts = merged.conflicts.len();
    let order = merged.order;

    let style = output.style((audit, addresses), policies, security, changes);
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
    if conflicts > 0 {
        notes.push(format!(
            "{conflicts} conflict{} between the files: definite answers that differ for one input line (the last file's record kept)",
            if conflicts == 1 { "" } else { "s" }
        ));
    }
    if changes {
        // The saved runs do not say which baseline domains they missed.
        notes.push(report::baseline_summary(&counts, None));
    }
    ui.report_summary(&counts, &notes);
    if missing {
        return Ok(exit::MISSING_SHARDS);
    }
    Ok(exit::for_run(
        &counts,
        output.require_mx,
        &output.fail_on,
        Finish::Complete,
        0,
    ))
}

/// Every file's records, read a line at a time (`-` is stdin).
fn load(files: &[PathBuf]) -> Result<Vec<(Arc<str>, Records)>, Fatal> {
    let mut loaded = Vec::new();
    for path in files {
        let (shown, reader): (String, Box<dyn io::BufRead>) = if path.as_os_str() == "-" {
            ("stdin".to_string(), Box::new(io::stdin().lock()))
        } else {
            let file = std::fs::File::open(path).map_err(|source| Error::Input {
                path: path.clone(),
                source,
            })?;
            let shown = escape_text(&path.display().to_string());
            (shown, Box::new(io::BufReader::with_capacity(1 << 16, file)))
        };
        let records = Records::load(reader, &shown).map_err(Error::Saved)?;
        loaded.push((Arc::from(shown), records));
    }
    Ok(loaded)
}

/// The jobs the saved runs are shards of (`shard` and `job` keys, written
/// by `--shard`): one job, whose every shard is here, or a clear word.
#[derive(Default)]
struct Jobs {
    /// Per job fingerprint: N, the shards seen, and the first file of it.
    seen: std::collections::BTreeMap<String, (u64, std::collections::BTreeSet<u64>, Arc<str>)>,
    /// Files with no record at all (an empty shard writes none).
    empty: Vec<Arc<str>>,
}

impl Jobs {
    fn file(&mut self, name: &Arc<str>, empty: bool) {
        if empty {
            self.empty.push(name.clone());
        }
    }

    fn record(&mut self, file: &Arc<str>, shard: Option<&str>, job: Option<&str>) {
        let (Some(shard), Some(job)) = (shard, job) else {
            return;
        };
        let Some((k, n)) = shard
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
        else {
            return;
        };
        let entry = self
            .seen
            .entry(job.to_string())
            .or_insert_with(|| (n, Default::default(), file.clone()));
        entry.1.insert(k);
    }

    /// An error for shards of different jobs; whether shards are missing
    /// (said on stderr, by number).
    fn check(&self, ui: &Ui) -> Result<bool, Fatal> {
        if self.seen.len() > 1 {
            let which: Vec<String> = self
                .seen
                .iter()
                .map(|(job, (n, _, file))| {
                    format!("{file} is of job {} ({n} shards)", escape_text(job))
                })
                .collect();
            return Err(Fatal::Usage(format!(
                "these files are shards of different jobs, or of one job run with different flags or input: {}",
                which.join("; ")
            )));
        }
        let Some((_, (n, have, _))) = self.seen.iter().next() else {
            return Ok(false);
        };
        let missing: Vec<String> = (0..*n)
            .filter(|k| !have.contains(k))
            .map(|k| k.to_string())
            .collect();
        if missing.is_empty() {
            return Ok(false);
        }
        // An empty shard writes no record to tell its number by.
        if self.empty.len() >= missing.len() {
            ui.note(&format!(
                "shard{} {} of {n} wrote no record; taken to be the empty file{} given ({})",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if self.empty.len() == 1 { "" } else { "s" },
                self.empty
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return Ok(false);
        }
        ui.error(&format!(
            "incomplete job: shard{} {} of {n} missing (the output holds the {} given)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            have.len() + self.empty.len()
        ));
        Ok(true)
    }
}

/// The records to write, one per input line, and what choosing them
/// found.
struct Merged {
    order: Vec<(u32, u64, u64, u32, u32)>,
    /// Records given twice alike.
    repeated: usize,
    /// Input lines with a failure in one file and a definite answer in
    /// another.
    retried: usize,
    /// Input lines whose definite answers differ: the line, and the files.
    conflicts: Vec<(String, String)>,
}

impl Merged {
    /// Say what the merge did: repeats and retries as notes, conflicts as
    /// errors.
    fn tell(&self, ui: &Ui) {
        if self.repeated > 0 {
            ui.note(&format!(
                "{} record{} of an input line already seen (the same file twice, or overlapping shards) written once",
                self.repeated,
                if self.repeated == 1 { "" } else { "s" }
            ));
        }
        if self.retried > 0 {
            ui.note(&format!(
                "{} input line{} failed in one file and got a definite answer in another (a retry): the answer is kept",
                self.retried,
                if self.retried == 1 { "" } else { "s" }
            ));
        }
        for (line, files) in &self.conflicts {
            ui.error(&format!(
                "conflict: {line}: the files disagree ({files}); the last file's record is kept"
            ));
        }
    }
}

/// One record per input line (`order` sorted by line, then file): a
/// definite answer beats a failure (a retry's `ok` replaces a shard's
/// `timeout`); between definite answers that differ (status or MX
/// records), or between failures, the last file given wins, and the
/// definite disagreement is a conflict.
fn merge(order: Vec<(u32, u64, u64, u32, u32)>, loaded: &[(Arc<str>, Records)]) -> Merged {
    let mut merged = Merged {
        order: Vec::with_capacity(order.len()),
        repeated: 0,
        retried: 0,
        conflicts: Vec::new(),
    };
    let mut i = 0;
    while i < order.len() {
        let key = (order[i].0, order[i].1, order[i].2);
        let mut j = i + 1;
        while j < order.len() && (order[j].0, order[j].1, order[j].2) == key {
            j += 1;
        }
        if j == i + 1 {
            merged.order.push(order[i]);
            i = j;
            continue;
        }
        // What each file said about this line: its status and MX records.
        let said: Vec<(u32, Status, String, String)> = order[i..j]
            .iter()
            .map(|&(_, _, _, f, k)| {
                let (name, records) = &loaded[f as usize];
                let (r, line) = records.get(k as usize);
                let mx = serde_json::to_string(&r.mx).unwrap_or_default();
                let place = format!("{name}:{line}");
                (f, r.status, mx, place)
            })
            .collect();
        let definite: Vec<usize> = (0..said.len())
            .filter(|&k| said[k].1.is_definite())
            .collect();
        let pick = definite.last().copied().unwrap_or(said.len() - 1);
        if !definite.is_empty() && definite.len() < said.len() {
            merged.retried += 1;
        }
        let answers: std::collections::BTreeSet<(&str, &str)> = definite
            .iter()
            .map(|&k| (said[k].1.as_str(), said[k].2.as_str()))
            .collect();
        if answers.len() > 1 {
            let (r, _) = loaded[order[i].3 as usize].1.get(order[i].4 as usize);
            let files: Vec<String> = definite
                .iter()
                .map(|&k| format!("{} {}", said[k].3, said[k].1))
                .collect();
            merged
                .conflicts
                .push((format!("{} ({})", r.source, r.domain), files.join(", ")));
        } else if definite.len() == said.len() || definite.is_empty() {
            merged.repeated += said.len() - 1;
        }
        merged.order.push(order[i + pick]);
        i = j;
    }
    merged
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
