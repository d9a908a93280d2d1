//! Turns arguments, files and stdin into a lazy stream of entries: the text
//! as written, where it came from, and either a valid domain name or the
//! reason it is not one. Nothing here reads a whole input into memory, and
//! a bad line is an entry with a reason, never the end of the run.
//!
//! By job: [`source`] reads lines, [`normalize`] turns a line into a name,
//! [`dedup`] remembers the names seen, [`shard`] splits a job.

mod dedup;
mod normalize;
#[cfg(test)]
mod properties;
mod shard;
mod source;

pub use dedup::Seen;
pub use normalize::{normalize, unicode_form};
pub use shard::{Shard, fnv1a64};
pub use source::{MAX_LINE, MAX_SKIP, Source};

use crate::error::Error;
use crate::name::DomainName;
use crate::outcome::{Entry, Origin, Place};
use crate::text::SafeText;
use source::{Line, LineReader, read_line_capped};
use std::io::{self, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How much of a line is kept to show the user what they wrote.
const SHOWN: usize = 200;

/// The lazy stream of entries over every source, with duplicates removed.
/// Its items are `Err` only for a read error, which ends the input.
pub struct Entries {
    sources: std::vec::IntoIter<Source>,
    current: Option<Reader>,
    seq: u64,
    /// `None` when duplicates are kept.
    seen: Option<Seen>,
    shard: Option<Shard>,
    duplicates: Arc<AtomicU64>,
    /// Entries left to other shards.
    other_shards: Arc<AtomicU64>,
    buf: Vec<u8>,
    failed: bool,
}

/// Where a line came from, the text as shown, and what it parsed to
/// (`None` for a blank line or comment).
type RawLine = (Origin, SafeText, Option<Result<DomainName, SafeText>>);

enum Reader {
    Args {
        next: u64,
        args: std::vec::IntoIter<std::ffi::OsString>,
    },
    Lines {
        place: Place,
        line: u64,
        reader: LineReader,
    },
}

impl Entries {
    /// Entries from `sources`, in order, each distinct domain once.
    pub fn new(sources: Vec<Source>) -> Entries {
        Entries {
            sources: sources.into_iter(),
            current: None,
            seq: 0,
            seen: Some(Seen::new()),
            shard: None,
            duplicates: Arc::new(AtomicU64::new(0)),
            other_shards: Arc::new(AtomicU64::new(0)),
            buf: Vec::new(),
            failed: false,
        }
    }

    /// Keep only the entries of one shard.
    pub fn with_shard(mut self, shard: Option<Shard>) -> Entries {
        self.shard = shard;
        self
    }

    /// Keep duplicates: every line is an entry, and nothing is remembered,
    /// so memory stays flat however long the input.
    pub fn keep_duplicates(mut self, keep: bool) -> Entries {
        if keep {
            self.seen = None;
        }
        self
    }

    /// A counter of the duplicate domains skipped so far.
    pub fn duplicates(&self) -> Arc<AtomicU64> {
        self.duplicates.clone()
    }

    /// A counter of the entries left to other shards so far.
    pub fn other_shards(&self) -> Arc<AtomicU64> {
        self.other_shards.clone()
    }

    /// Whether the next entry can be had without waiting for input: false
    /// when the current reader has nothing buffered (it would block on a
    /// pipe or terminal). The reader thread sends what it has before then.
    pub fn ready(&self) -> bool {
        match &self.current {
            Some(Reader::Lines { reader, .. }) => !reader.buffer().is_empty(),
            _ => true,
        }
    }

    /// The next raw item from the current source, or `None` when it is done.
    fn next_raw(&mut self) -> Option<Result<RawLine, Error>> {
        let reader = self.current.as_mut()?;
        match reader {
            Reader::Args { next, args } => {
                let arg = args.next()?;
                let origin = Origin {
                    place: Place::Argument,
                    line: *next,
                };
                *next += 1;
                let parsed = match arg.to_str() {
                    Some(text) => normalize(text),
                    None => Some(Err(SafeText::from_static(
                        "the argument is not valid UTF-8",
                    ))),
                };
                Some(Ok((origin, shown(arg.as_encoded_bytes()), parsed)))
            }
            Reader::Lines {
                place,
                line,
                reader,
            } => {
                let kind = match read_line_capped(reader, &mut self.buf, MAX_LINE) {
                    Ok(None) => return None,
                    Ok(Some(kind)) => kind,
                    Err(e) => {
                        return Some(Err(Error::Read {
                            source_name: match place {
                                Place::File(path) => path.to_string(),
                                _ => "stdin".to_string(),
                            },
                            source: e,
                        }));
                    }
                };
                *line += 1;
                let origin = Origin {
                    place: place.clone(),
                    line: *line,
                };
                let bytes = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
                let parsed = match kind {
                    Line::Overlong => Some(Err(crate::safe!(
                        "the line is longer than {MAX_LINE} bytes"
                    ))),
                    Line::Endless => {
                        // Not a list of lines: give up on this source.
                        let text = shown(bytes);
                        self.current = None;
                        return Some(Ok((
                            origin,
                            text,
                            Some(Err(crate::safe!(
                                "more than {} MiB without a line break: this is not a list of domains, and the rest of it was not read",
                                MAX_SKIP >> 20
                            ))),
                        )));
                    }
                    Line::Text => match std::str::from_utf8(bytes) {
                        Ok(text) => normalize(text),
                        Err(_) => Some(Err(SafeText::from_static("the line is not valid UTF-8"))),
                    },
                };
                Some(Ok((origin, shown(bytes), parsed)))
            }
        }
    }

    fn advance_source(&mut self) -> bool {
        let lines = |place: Place, read: Box<dyn io::Read + Send>| Reader::Lines {
            place,
            line: 0,
            reader: BufReader::with_capacity(64 * 1024, read),
        };
        let file = |name: &str| Place::File(Arc::new(SafeText::new(name)));
        self.current = match self.sources.next() {
            None => return false,
            Some(Source::Args { first, args }) => Some(Reader::Args {
                next: first,
                args: args.into_iter(),
            }),
            Some(Source::File(path, f)) => {
                Some(lines(file(&path.display().to_string()), Box::new(f)))
            }
            Some(Source::Reader(label, reader)) => Some(lines(file(&label), reader)),
            Some(Source::Stdin) => Some(lines(Place::Stdin, Box::new(io::stdin()))),
        };
        true
    }
}

impl Iterator for Entries {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let (origin, input, parsed) = match self.next_raw() {
                None => {
                    if self.advance_source() {
                        continue;
                    }
                    return None;
                }
                Some(Err(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                Some(Ok(raw)) => raw,
            };
            let Some(name) = parsed else { continue };
            if let Some(shard) = self.shard {
                let key = match &name {
                    Ok(name) => name.as_str(),
                    Err(_) => input.as_str(),
                };
                if !shard.contains(key) {
                    self.other_shards.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            if let (Ok(name), Some(seen)) = (&name, self.seen.as_mut())
                && !seen.first_sight(name.as_str())
            {
                self.duplicates.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let seq = self.seq;
            self.seq += 1;
            return Some(Ok(Entry {
                seq,
                origin,
                input,
                name,
            }));
        }
    }
}

fn shown(bytes: &[u8]) -> SafeText {
    let cut = &bytes[..bytes.len().min(SHOWN)];
    let text = String::from_utf8_lossy(cut);
    if bytes.len() > SHOWN {
        SafeText::from(format!("{}…", text.trim()))
    } else {
        SafeText::new(text.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_files_lazily_with_line_numbers_and_dedups() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(
            b"\xef\xbb\xbfone.example\r\n\n# c\nbad name\r\nONE.example.\n\xff\xfe\ntwo.example",
        )
        .unwrap();
        let src = Source::open(f.path().as_os_str()).unwrap();
        let mut entries = Entries::new(vec![src, Source::args(["two.example", "three.example"])]);
        let dups = entries.duplicates();
        let got: Vec<_> = entries.by_ref().map(|e| e.unwrap()).collect();
        let summary: Vec<_> = got
            .iter()
            .map(|e| {
                (
                    e.seq,
                    e.origin.line,
                    e.name.is_ok(),
                    e.display_name().to_string(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, 1, true, "one.example".to_string()),
                (1, 4, false, "bad name".to_string()),
                (2, 6, false, "\u{fffd}\u{fffd}".to_string()),
                (3, 7, true, "two.example".to_string()),
                (4, 2, true, "three.example".to_string()),
            ]
        );
        assert_eq!(dups.load(Ordering::Relaxed), 2);
        assert_eq!(
            got[2].name.as_ref().unwrap_err(),
            "the line is not valid UTF-8"
        );
        assert_eq!(got[4].origin.to_string(), "argument 2");
    }

    #[test]
    fn an_overlong_line_is_one_invalid_entry_and_the_next_line_still_reads() {
        // Past 1 MiB: skipped to its end, in bounded memory.
        let mut data = vec![b'a'; 3 << 20];
        data.extend_from_slice(b"\nok.example\n");
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&data).unwrap();
        let src = Source::open(f.path().as_os_str()).unwrap();
        let got: Vec<_> = Entries::new(vec![src]).map(|e| e.unwrap()).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].name.as_ref().unwrap_err().contains("longer than"));
        assert!(got[0].input.len() < 300);
        assert_eq!(got[1].name.as_ref().unwrap().as_str(), "ok.example");
        assert_eq!(got[1].origin.line, 2);
    }

    #[test]
    fn an_endless_line_gives_up_on_its_source_and_the_next_source_still_reads() {
        let zeros = io::Read::take(io::repeat(0), u64::MAX);
        let got: Vec<_> = Entries::new(vec![
            Source::args(["first.example"]),
            Source::Reader("zero".into(), Box::new(zeros)),
            Source::args(["last.example"]),
        ])
        .map(|e| e.unwrap())
        .collect();
        assert_eq!(got.len(), 3);
        assert!(
            got[1]
                .name
                .as_ref()
                .unwrap_err()
                .contains("not a list of domains")
        );
        assert_eq!(got[1].origin.to_string(), "zero:1");
        assert_eq!(got[2].display_name(), "last.example");
    }

    #[test]
    fn a_non_utf8_argument_is_an_invalid_entry_that_names_its_position() {
        use std::os::unix::ffi::OsStringExt;
        let got: Vec<_> = Entries::new(vec![Source::Args {
            first: 3,
            args: vec![
                std::ffi::OsString::from_vec(b"bad\xffname".to_vec()),
                "ok.example".into(),
            ],
        }])
        .map(|e| e.unwrap())
        .collect();
        assert_eq!(
            got[0].name.as_ref().unwrap_err(),
            "the argument is not valid UTF-8"
        );
        assert_eq!(got[0].origin.to_string(), "argument 3");
        assert_eq!(got[1].origin.to_string(), "argument 4");
    }

    #[test]
    fn file_names_are_escaped_in_origins() {
        let got: Vec<_> = Entries::new(vec![Source::Reader(
            "evil\u{1b}[31m.txt".into(),
            Box::new(io::Cursor::new(b"bad name\n".to_vec())),
        )])
        .map(|e| e.unwrap())
        .collect();
        assert_eq!(got[0].origin.to_string(), "evil\\u{1b}[31m.txt:1");
    }

    #[test]
    fn shards_partition_every_domain_exactly_once() {
        let names: Vec<String> = (0..1000).map(|i| format!("d{i}.example")).collect();
        let mut total = 0;
        for k in 0..4 {
            let shard = Shard { index: k, count: 4 };
            let got: Vec<_> = Entries::new(vec![Source::args(names.clone())])
                .with_shard(Some(shard))
                .map(|e| e.unwrap())
                .collect();
            assert!(got.len() > 150, "shard {k} has {}", got.len());
            assert!(got.iter().all(|e| shard.contains(e.display_name())));
            total += got.len();
        }
        assert_eq!(total, 1000);
    }

    #[test]
    fn missing_files_and_directories_fail_up_front() {
        let err = Source::open("/nonexistent/domains.txt".as_ref())
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/domains.txt"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = Source::open(dir.path().as_os_str())
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a directory"), "{err}");
    }
}
