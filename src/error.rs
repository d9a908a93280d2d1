//! Errors that end the whole run (exit status 2). A domain that fails is
//! not one of these: it is an [`Outcome`](crate::Outcome).

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", crate::name::escape_text(&path.display().to_string()))]
    Input { path: PathBuf, source: io::Error },

    #[error("error reading {source_name}: {source}")]
    Read {
        source_name: String,
        source: io::Error,
    },

    #[error(
        "no domains given: pass DOMAIN arguments, --file PATH, or pipe domains to stdin (see --help)"
    )]
    NoInput,

    #[error("no domains to look up: the input held only blank lines and comments")]
    Empty,

    #[error("no resolver configuration ({0}); name a server with --nameserver")]
    ResolverConfig(String),

    #[error(
        "--concurrency {concurrency} needs about {needed} open files, but this process may open only {limit}; lower --concurrency or raise the limit (ulimit -n)"
    )]
    FileLimit {
        concurrency: usize,
        needed: u64,
        limit: u64,
    },

    /// A command line mxlookup cannot follow (a dig habit it does not
    /// share, a record type other than MX).
    #[error("{0}")]
    Usage(String),

    /// A nameserver that cannot be used as given (TLS settings, engine).
    #[error("{0}")]
    Server(String),

    /// A saved run (`mxlookup report`) that is not mxlookup's output.
    #[error("{0}")]
    Saved(String),

    #[error("--expect: {0}")]
    Expect(String),

    #[error("--baseline: {0}")]
    Baseline(String),

    #[error("cannot start the runtime: {0}")]
    Runtime(io::Error),

    #[error("writing output: {0}")]
    Output(io::Error),
}
