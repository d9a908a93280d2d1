//! The one result of one entry, as every sink, saved run and exit status
//! reads it.

use super::{Audit, Change, Entry, Outcome};
use std::time::Duration;

/// The one result of one entry.
#[derive(Debug)]
pub struct Settled {
    /// The entry it is the result of.
    pub entry: Entry,
    /// What the lookup came to.
    pub outcome: Outcome,
    /// With `--audit`: the exchanges' addresses and the problems found.
    pub audit: Option<Box<Audit>>,
    /// With `--baseline`: what changed since (set by the writer).
    pub changes: Option<Vec<Change>>,
    /// From the start of the work (after the limiter let it go) to its end.
    pub elapsed: Duration,
}

impl Settled {
    /// A result made outside the engine (for tests and library users).
    pub fn new(entry: Entry, outcome: Outcome, elapsed: Duration) -> Settled {
        Settled {
            entry,
            outcome,
            audit: None,
            changes: None,
            elapsed,
        }
    }
}
