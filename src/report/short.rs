//! `+short` (or `--format short`), as dig prints it: each MX record as
//! `PREFERENCE EXCHANGE.`, one per line, in input order, after the CNAME
//! chain's names; a null MX as
//! `0 .`; nothing for a name without MX records; a failure as a `;;`
//! comment line, as dig prints its own errors. No summary.

use super::order::Ordered;
use crate::outcome::{Settled, Status};
use std::io::{self, BufWriter, Write};

/// The `+short` lines.
pub struct Short<W: Write> {
    out: BufWriter<W>,
    flush_lines: bool,
}

impl<W: Write> Short<W> {
    /// Write to `out`; with `flush_lines`, after every domain.
    pub fn new(out: W, flush_lines: bool) -> Self {
        Short {
            out: BufWriter::with_capacity(64 * 1024, out),
            flush_lines,
        }
    }
}

impl<W: Write + Send> Ordered for Short<W> {
    type Held = Box<str>;

    fn hold(&mut self, r: Settled) -> Box<str> {
        let mut s = String::new();
        // The CNAME chain first, as dig prints its records.
        for alias in r.outcome.answer().iter().flat_map(|a| a.aliases.iter()) {
            s.push_str(&format!("{alias}.\n"));
        }
        match r.outcome.status() {
            Status::Ok => {
                for (p, e) in r.outcome.mx_records() {
                    let dot = if e.is_root() { "" } else { "." };
                    s.push_str(&format!("{p} {e}{dot}\n"));
                }
            }
            Status::NullMx => s.push_str("0 .\n"),
            Status::NoMx | Status::Nxdomain => {}
            status => s.push_str(&format!(
                ";; {}: {status}: {}\n",
                r.entry.display_name(),
                r.outcome.describe()
            )),
        }
        s.into()
    }

    fn write(&mut self, held: Box<str>) -> io::Result<()> {
        self.out.write_all(held.as_bytes())?;
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
