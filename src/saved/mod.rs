//! Saved runs: the JSON/NDJSON record that is the output contract
//! ([`Record`], written by the JSON sinks and read back here), reading a
//! saved file back ([`Records`], [`settled`]), and comparing a run with one
//! (`--baseline`, [`Baseline`]). A saved file is untrusted input: every
//! string read from it is escaped again.

mod baseline;
mod read;
mod record;

pub use baseline::Baseline;
pub use baseline::MAX_WHOLE;
pub use read::{MAX_RECORD, Records, settled};
pub use record::{MxList, MxRecord, Record, Text};
