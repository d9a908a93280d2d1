//! Errors that end a run (the command line exits 2). A domain that fails
//! is not one of these: it is an [`Outcome`](crate::Outcome).

use std::io;
use std::path::PathBuf;

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file that cannot be opened.
    #[error("cannot read {}: {source}", crate::text::escape_text(&path.display().to_string()))]
    Input {
        /// The file as given.
        path: PathBuf,
        /// Why it cannot be read.
        source: io::Error,
    },

    /// Reading an input failed part-way.
    #[error("error reading {source_name}: {source}")]
    Read {
        /// The input, escaped.
        source_name: String,
        /// What went wrong.
        source: io::Error,
    },

    /// No nameserver to ask.
    #[error("no resolver configuration ({0}); name a server with --nameserver")]
    ResolverConfig(String),

    /// A nameserver that cannot be used as given (TLS settings, engine).
    #[error("{0}")]
    Server(String),

    /// A saved run (`mxlookup report`) that is not mxlookup's output.
    #[error("{0}")]
    Saved(String),
}
