//! The command line: parse flags, build the configuration, run, print the
//! one fatal error if there is one, and return the exit status. Also the
//! commands `report` (saved runs written again), `completions` and `man`.
//! It lives with the binary; the library ([`mxlookup`]) knows nothing of
//! flags, terminals or exit statuses.

mod app;
mod args;
mod config;
mod exit;
mod merge;
mod ui;

use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use config::{Config, Output};
use mxlookup::text::SafeText;
use std::io::{self, Write};
use std::process::ExitCode;

/// What ends a run before it could be done (exit status 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Fatal {
    #[error(transparent)]
    Lib(#[from] mxlookup::Error),

    #[error(
        "no domains given: pass DOMAIN arguments, --file PATH, or pipe domains to stdin (see --help)"
    )]
    NoInput,

    #[error("no domains to look up: the input held only blank lines and comments")]
    Empty,

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

    #[error("--expect: {0}")]
    Expect(String),

    #[error("--baseline: {0}")]
    Baseline(String),

    #[error("cannot start the runtime: {0}")]
    Runtime(io::Error),

    #[error("writing output: {0}")]
    Output(io::Error),
}

pub(crate) fn main() -> ExitCode {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command.take() {
        None => Config::from_cli(cli).and_then(app::run),
        Some(Command::Report(args)) => merge::run(&args.files, &Output::from_args(&args.output)),
        Some(Command::Completions { shell }) => {
            // Into memory first: the generator panics when a write fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mxlookup", &mut script);
            let mut out = io::stdout().lock();
            Ok(finish(out.write_all(&script).and_then(|()| out.flush())))
        }
        Some(Command::Man) => {
            let mut out = io::stdout().lock();
            let written = clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .and_then(|()| out.flush());
            Ok(finish(written))
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(io::stderr(), "mxlookup: {}", SafeText::new(&e.to_string()));
            ExitCode::from(exit::FATAL)
        }
    }
}

/// The exit status after writing a script or page: a closed pipe is fine.
fn finish(written: io::Result<()>) -> u8 {
    match written {
        Ok(()) => exit::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "mxlookup: writing output: {e}");
            exit::FATAL
        }
    }
}

/// A command-line error (or `--help`, `--version`) as clap writes it;
/// when it quotes an argument holding control, invisible or bidi
/// characters, the same text with them escaped, line by line, so that
/// what the user typed cannot reach the terminal as anything but text.
fn usage_error(e: clap::Error) -> ExitCode {
    let plain = e.render().to_string();
    let unsafe_char = |c: char| c != '\n' && mxlookup::text::is_invisible(c);
    if !e.use_stderr() || !plain.chars().any(unsafe_char) {
        e.exit();
    }
    let escaped: Vec<String> = plain.lines().map(mxlookup::text::escape_text).collect();
    let _ = writeln!(io::stderr(), "{}", escaped.join("\n"));
    ExitCode::from(exit::FATAL)
}
