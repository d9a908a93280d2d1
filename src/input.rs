//! Turns arguments, files and stdin into a lazy stream of entries: the text
//! as written, where it came from, and either a valid domain name or the
//! reason it is not one. Nothing here reads a whole input into memory, and
//! a bad line is an entry with a reason, never the end of the run.

use crate::error::Error;
use crate::name::{DomainName, escape_text};
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest line kept; the rest of a longer line is skipped, not stored, and
/// the line becomes an `invalid` entry.
pub const MAX_LINE: usize = 4096;
/// How much of a line is kept to show the user what they wrote.
const SHOWN: usize = 200;

/// Where an entry came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `argument`, `stdin`, or the file's path as given.
    pub source: Arc<str>,
    /// Line number in the file (1-based), or position among the arguments.
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if &*self.source == ARGUMENT {
            write!(f, "argument {}", self.line)
        } else {
            write!(f, "{}:{}", self.source, self.line)
        }
    }
}

const ARGUMENT: &str = "argument";

/// One domain to look up, or a line that is not one.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Position in the run's input order, from 0, counting each distinct
    /// domain once.
    pub seq: u64,
    pub origin: Origin,
    /// The text as written, escaped for printing and cut short if long.
    pub input: String,
    /// The domain, or why the text is not one.
    pub name: Result<DomainName, String>,
}

impl Entry {
    /// The name to show for this entry: the domain, or for an invalid line
    /// the text as written.
    pub fn display_name(&self) -> &str {
        match &self.name {
            Ok(name) => name.as_str(),
            Err(_) => &self.input,
        }
    }
}

/// Turn one line (or argument) into a domain name. `None` for a blank line
/// or a comment.
pub fn normalize(text: &str) -> Option<Result<DomainName, String>> {
    let text = text.trim_start_matches('\u{feff}');
    let text = strip_comment(text).trim();
    if text.is_empty() {
        return None;
    }
    Some(normalize_domain(text))
}

fn strip_comment(text: &str) -> &str {
    let trimmed = text.trim_start();
    if trimmed.starts_with('#') {
        return "";
    }
    // A comment after the name: `example.com   # main site`.
    match text.find(|c: char| c.is_whitespace()) {
        Some(ws) => match text[ws..].find('#') {
            Some(hash) if text[ws..ws + hash].trim().is_empty() => &text[..ws],
            _ => text,
        },
        None => text,
    }
}

fn normalize_domain(text: &str) -> Result<DomainName, String> {
    let mut domain = text;
    if let Some(rest) = domain.strip_prefix("mailto:") {
        domain = rest;
    }
    if let Some(inner) = domain.strip_prefix('<').and_then(|d| d.strip_suffix('>')) {
        domain = inner;
    }
    if let Some((local, host)) = domain.rsplit_once('@') {
        if host.is_empty() {
            return Err("an email address with nothing after the @".to_string());
        }
        if local.is_empty() {
            return Err("nothing before the @".to_string());
        }
        domain = host;
    }
    if domain.is_ascii() {
        return DomainName::parse_ascii(domain);
    }
    if domain.chars().any(|c| c.is_control() || c.is_whitespace()) {
        // Let the ASCII parser name the offending character.
        return DomainName::parse_ascii(domain);
    }
    let ascii = idna::domain_to_ascii(domain)
        .map_err(|_| "not a valid internationalised domain name".to_string())?;
    if ascii.is_empty() {
        return Err("empty name".to_string());
    }
    DomainName::parse_ascii(&ascii)
}

/// Where domains are read from, in order.
pub enum Source {
    /// Domains given on the command line.
    Args(Vec<String>),
    /// A file, opened up front so that a missing one fails before any lookup.
    File(PathBuf, File),
    Stdin,
    /// Any reader, named for messages (`LABEL:LINE`).
    Reader(String, Box<dyn io::Read + Send>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Args(a) => write!(f, "Args({} domains)", a.len()),
            Source::File(p, _) => write!(f, "File({})", p.display()),
            Source::Stdin => f.write_str("Stdin"),
            Source::Reader(label, _) => write!(f, "Reader({label})"),
        }
    }
}

impl Source {
    /// Open a path given with `--file`; `-` is stdin.
    pub fn open(path: &str) -> Result<Source, Error> {
        if path == "-" {
            return Ok(Source::Stdin);
        }
        let buf = PathBuf::from(path);
        let meta = std::fs::metadata(&buf).map_err(|e| Error::Input {
            path: buf.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            return Err(Error::Input {
                path: buf,
                source: io::Error::new(io::ErrorKind::IsADirectory, "is a directory"),
            });
        }
        let file = File::open(&buf).map_err(|e| Error::Input {
            path: buf.clone(),
            source: e,
        })?;
        Ok(Source::File(buf, file))
    }
}

/// The lazy stream of entries over every source, with duplicates removed.
/// Its items are `Err` only for a read error, which ends the input.
pub struct Entries {
    sources: std::vec::IntoIter<Source>,
    current: Option<Reader>,
    seq: u64,
    /// Keyed 64-bit hashes of the names seen so far: about 10 bytes a
    /// domain instead of the name itself. Two distinct names share a hash
    /// with probability about n²/2⁶⁵ in a run of n names (3·10⁻⁸ for a
    /// million), and the key is new every run.
    /// Split by the hash's top byte into 256 sets, so that growing one set
    /// never needs the old and new copy of the whole table at once.
    /// Empty when duplicates are kept.
    seen: Vec<HashSet<u64, Unhashed>>,
    keyed: RandomState,
    shard: Option<Shard>,
    duplicates: Arc<AtomicU64>,
    buf: Vec<u8>,
    failed: bool,
}

/// Where a line came from, the text as shown, and what it parsed to
/// (`None` for a blank line or comment).
type RawLine = (Origin, String, Option<Result<DomainName, String>>);

enum Reader {
    Args(std::iter::Enumerate<std::vec::IntoIter<String>>),
    Lines {
        label: Arc<str>,
        line: u64,
        reader: Box<dyn BufRead + Send>,
    },
}

impl Entries {
    pub fn new(sources: Vec<Source>) -> Entries {
        Entries {
            sources: sources.into_iter(),
            current: None,
            seq: 0,
            seen: (0..256).map(|_| HashSet::default()).collect(),
            keyed: RandomState::new(),
            shard: None,
            duplicates: Arc::new(AtomicU64::new(0)),
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
            self.seen = Vec::new();
        }
        self
    }

    /// Remember `name`; false if it was seen before.
    fn first_sight(&mut self, name: &DomainName) -> bool {
        if self.seen.is_empty() {
            return true;
        }
        let h = self.keyed.hash_one(name.as_str());
        self.seen[(h >> 56) as usize].insert(h)
    }

    /// A counter of the duplicate domains skipped so far.
    pub fn duplicates(&self) -> Arc<AtomicU64> {
        self.duplicates.clone()
    }

    /// The next raw item from the current source, or `None` when it is done.
    fn next_raw(&mut self) -> Option<Result<RawLine, Error>> {
        let reader = self.current.as_mut()?;
        match reader {
            Reader::Args(args) => {
                let (i, arg) = args.next()?;
                let origin = Origin {
                    source: Arc::from(ARGUMENT),
                    line: i as u64 + 1,
                };
                let parsed = normalize(&arg);
                Some(Ok((origin, shown(arg.as_bytes()), parsed)))
            }
            Reader::Lines {
                label,
                line,
                reader,
            } => {
                let overlong = match read_line_capped(reader.as_mut(), &mut self.buf, MAX_LINE) {
                    Ok(None) => return None,
                    Ok(Some(overlong)) => overlong,
                    Err(e) => {
                        return Some(Err(Error::Read {
                            source_name: label.to_string(),
                            source: e,
                        }));
                    }
                };
                *line += 1;
                let origin = Origin {
                    source: label.clone(),
                    line: *line,
                };
                let bytes = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
                let parsed = if overlong {
                    Some(Err(format!("the line is longer than {MAX_LINE} bytes")))
                } else {
                    match std::str::from_utf8(bytes) {
                        Ok(text) => normalize(text),
                        Err(_) => Some(Err("the line is not valid UTF-8".to_string())),
                    }
                };
                Some(Ok((origin, shown(bytes), parsed)))
            }
        }
    }

    fn advance_source(&mut self) -> bool {
        self.current = match self.sources.next() {
            None => return false,
            Some(Source::Args(args)) => Some(Reader::Args(args.into_iter().enumerate())),
            Some(Source::File(path, file)) => Some(Reader::Lines {
                label: Arc::from(path.display().to_string()),
                line: 0,
                reader: Box::new(BufReader::with_capacity(64 * 1024, file)),
            }),
            Some(Source::Reader(label, reader)) => Some(Reader::Lines {
                label: Arc::from(label),
                line: 0,
                reader: Box::new(BufReader::with_capacity(64 * 1024, reader)),
            }),
            Some(Source::Stdin) => Some(Reader::Lines {
                label: Arc::from("stdin"),
                line: 0,
                reader: Box::new(BufReader::with_capacity(64 * 1024, io::stdin())),
            }),
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
                    continue;
                }
            }
            if let Ok(name) = &name
                && !self.first_sight(name)
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

/// The set's values are already hashes; hashing them again is waste.
#[derive(Clone, Copy, Default)]
pub struct Unhashed;

impl BuildHasher for Unhashed {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

pub struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// One part of a job split across machines: shard `index` of `count`
/// (`--shard K/N`, 0 ≤ K < N). A domain belongs to shard
/// `fnv1a64(name) % N`, where `name` is its canonical form (lower-case
/// ASCII, no trailing dot) and FNV-1a is the standard 64-bit variant, so any
/// tool can reproduce the split. An invalid line is placed by its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn contains(&self, key: &str) -> bool {
        fnv1a64(key.as_bytes()) % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not K/N with 0 <= K < N (for example 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// 64-bit FNV-1a: stable across versions and platforms, unlike std's hashers.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SHOWN)];
    let mut text = escape_text(String::from_utf8_lossy(cut).trim());
    if bytes.len() > SHOWN {
        text.push('…');
    }
    text
}

/// Read one line (without its `\n`) into `buf`, keeping at most `cap`
/// bytes and skipping the rest. `None` at the end of input; otherwise
/// whether the line was cut.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut overlong = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(overlong));
        }
        any = true;
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if chunk.len() > room {
            overlong = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        if done {
            return Ok(Some(overlong));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn ok(text: &str) -> String {
        normalize(text).unwrap().unwrap().to_string()
    }

    fn bad(text: &str) -> String {
        normalize(text).unwrap().unwrap_err()
    }

    #[test]
    fn trims_lowercases_and_drops_the_trailing_dot() {
        assert_eq!(ok("  Example.COM.  "), "example.com");
        assert_eq!(ok("\u{feff}example.com"), "example.com");
        assert_eq!(ok("example.com\t# main site"), "example.com");
    }

    #[test]
    fn skips_blank_lines_and_comments() {
        assert!(normalize("").is_none());
        assert!(normalize("   \t").is_none());
        assert!(normalize("# a comment").is_none());
        assert!(normalize("  # indented comment").is_none());
    }

    #[test]
    fn email_addresses_give_their_domain() {
        assert_eq!(ok("Postmaster@Example.org"), "example.org");
        assert_eq!(ok("<a@b.example>"), "b.example");
        assert_eq!(ok("mailto:x@y.example"), "y.example");
        assert!(bad("user@").contains("nothing after the @"));
        assert!(bad("@example.org").contains("nothing before"));
    }

    #[test]
    fn internationalised_names_become_a_labels() {
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("ÉCOLE.example"), "xn--cole-9oa.example");
        assert_eq!(ok("例え.テスト"), "xn--r8jz45g.xn--zckzah");
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(bad("exa mple.com").contains("a space"));
        assert!(bad("a..b").contains("empty label"));
        assert!(bad("ex\u{0}ample.com").contains("control character"));
        assert!(bad("http://example.com/").contains("':'"));
        assert!(bad(".").contains("empty"));
    }

    #[test]
    fn reads_files_lazily_with_line_numbers_and_dedups() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(
            b"\xef\xbb\xbfone.example\r\n\n# c\nbad name\r\nONE.example.\n\xff\xfe\ntwo.example",
        )
        .unwrap();
        let src = Source::open(f.path().to_str().unwrap()).unwrap();
        let mut entries = Entries::new(vec![
            src,
            Source::Args(vec!["two.example".into(), "three.example".into()]),
        ]);
        let dups = entries.duplicates();
        let got: Vec<_> = entries.by_ref().map(|e| e.unwrap()).collect();
        let summary: Vec<_> = got
            .iter()
            .map(|e| {
                (
                    e.seq,
                    e.origin.line,
                    e.name.as_ref().map(|n| n.to_string()).is_ok(),
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
        let mut data = vec![b'a'; 10 * 1024 * 1024];
        data.extend_from_slice(b"\nok.example\n");
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&data).unwrap();
        let src = Source::open(f.path().to_str().unwrap()).unwrap();
        let got: Vec<_> = Entries::new(vec![src]).map(|e| e.unwrap()).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].name.as_ref().unwrap_err().contains("longer than"));
        assert!(got[0].input.len() < 300);
        assert_eq!(got[1].name.as_ref().unwrap().as_str(), "ok.example");
        assert_eq!(got[1].origin.line, 2);
    }

    #[test]
    fn shards_partition_every_domain_exactly_once() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(
            "1/4".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 4 }
        );
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let names: Vec<String> = (0..1000).map(|i| format!("d{i}.example")).collect();
        let mut total = 0;
        for k in 0..4 {
            let shard = Shard { index: k, count: 4 };
            let got: Vec<_> = Entries::new(vec![Source::Args(names.clone())])
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
        let err = Source::open("/nonexistent/domains.txt")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/domains.txt"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = Source::open(dir.path().to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a directory"), "{err}");
    }
}
