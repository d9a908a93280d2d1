//! Where domains come from (arguments, files, stdin, any reader) and
//! reading them a line at a time without ever holding more than one line.

use crate::error::Error;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

/// Longest line kept; the rest of a longer line is skipped, not stored, and
/// the line becomes an `invalid` entry.
pub const MAX_LINE: usize = 4096;
/// Longest stretch without a line break that is skipped (in bounded
/// memory: only the first [`MAX_LINE`] bytes are kept) before a source is
/// given up as not a list of lines at all (`-f /dev/zero`): far longer
/// than any line of a sane list, so that one long line costs only itself.
pub const MAX_SKIP: u64 = 256 << 20;

/// Where domains are read from, in order.
pub enum Source {
    /// Domains given on the command line; `first` is the position of the
    /// first of them among all the DOMAIN arguments (1-based).
    Args {
        /// The position of the first among all the DOMAIN arguments.
        first: u64,
        /// The arguments as given.
        args: Vec<OsString>,
    },
    /// A file, opened up front so that a missing one fails before any lookup.
    File(PathBuf, File),
    /// Standard input.
    Stdin,
    /// Any reader, named for messages (`LABEL:LINE`).
    Reader(String, Box<dyn Read + Send>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Args { args, .. } => write!(f, "Args({} domains)", args.len()),
            Source::File(p, _) => write!(f, "File({})", p.display()),
            Source::Stdin => f.write_str("Stdin"),
            Source::Reader(label, _) => write!(f, "Reader({label})"),
        }
    }
}

impl Source {
    /// Domains given as arguments, numbered from 1.
    pub fn args<S: Into<OsString>>(args: impl IntoIterator<Item = S>) -> Source {
        Source::Args {
            first: 1,
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// Open a path given with `--file`; `-` is stdin.
    pub fn open(path: &std::ffi::OsStr) -> Result<Source, Error> {
        if path == "-" {
            return Ok(Source::Stdin);
        }
        let buf = PathBuf::from(path);
        let fail = |e: io::Error| Error::Input {
            path: buf.clone(),
            source: e,
        };
        let meta = std::fs::metadata(&buf).map_err(fail)?;
        if meta.is_dir() {
            return Err(fail(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            )));
        }
        let file = File::open(&buf).map_err(fail)?;
        Ok(Source::File(buf, file))
    }

    /// How many entries this source will give at most, if that is known
    /// without consuming it: the arguments, or a regular file's lines
    /// (counted on a second handle; blank lines and comments included).
    /// For the progress display's total and ETA.
    pub fn estimate(&self) -> Option<u64> {
        match self {
            Source::Args { args, .. } => Some(args.len() as u64),
            Source::File(path, f) if f.metadata().ok()?.is_file() => {
                let mut file = File::open(path).ok()?;
                let mut buf = vec![0u8; 1 << 16];
                let (mut lines, mut last) = (0u64, b'\n');
                loop {
                    let n = file.read(&mut buf).ok()?;
                    if n == 0 {
                        break;
                    }
                    lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                    last = buf[n - 1];
                }
                Some(lines + u64::from(last != b'\n'))
            }
            _ => None,
        }
    }
}

/// What one read gave.
pub(super) enum Line {
    /// A line (without its line break) is in the buffer.
    Text,
    /// The line was longer than the cap: the buffer holds its start.
    Overlong,
    /// More than [`MAX_SKIP`] bytes without a line break: stop reading.
    Endless,
}

/// A source of lines, buffered.
pub(super) type LineReader = BufReader<Box<dyn Read + Send>>;

/// Read one line (without its `\n`) into `buf`, keeping at most `cap`
/// bytes and skipping the rest. `None` at the end of input.
pub(super) fn read_line_capped(
    reader: &mut LineReader,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<Line>> {
    buf.clear();
    let mut overlong = false;
    let mut any = false;
    let mut skipped: u64 = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(if overlong { Line::Overlong } else { Line::Text }));
        }
        any = true;
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if chunk.len() > room {
            overlong = true;
            skipped += (chunk.len() - room) as u64;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        if done {
            return Ok(Some(if overlong { Line::Overlong } else { Line::Text }));
        }
        if skipped > MAX_SKIP {
            return Ok(Some(Line::Endless));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_count_arguments_and_file_lines_without_reading_the_source() {
        assert_eq!(Source::args(["a.example", "b.example"]).estimate(), Some(2));
        let dir = tempfile::tempdir().unwrap();
        for (text, lines) in [("a\nb\n# c\n\nd\n", 5), ("a\nb", 2), ("", 0)] {
            let path = dir.path().join("list");
            std::fs::write(&path, text).unwrap();
            let source = Source::open(path.as_os_str()).unwrap();
            assert_eq!(source.estimate(), Some(lines), "{text:?}");
            // The source itself is still at its start.
            let Source::File(_, mut f) = source else {
                unreachable!()
            };
            let mut all = String::new();
            f.read_to_string(&mut all).unwrap();
            assert_eq!(all, text);
        }
        assert_eq!(Source::Stdin.estimate(), None);
    }
}
