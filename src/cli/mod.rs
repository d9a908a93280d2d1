//! The command line: parse flags, build the configuration, run, print the
//! one fatal error if there is one, and return the exit status. Also the
//! commands `report` (saved runs written again), `completions` and `man`.
//! It lives with the binary; the library ([`mxlookup`]) knows nothing of
//! flags, terminals or exit statuses.

mod app;
mod args;
mod config;
mod exit;
mod man;
mod merge;
mod ui;

use args::{Cli, Command};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
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
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let given = Given {
        format: matches.value_source("format") != Some(ValueSource::DefaultValue)
            || matches.get_flag("json"),
        timeout: matches.value_source("timeout") != Some(ValueSource::DefaultValue),
    };
    let result = match cli.command.take() {
        None => Config::from_cli(cli, given).and_then(app::run),
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
            let written = man::render(Cli::command(), &mut out).and_then(|()| out.flush());
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

/// What the user gave, as opposed to a default.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Given {
    /// `--format`, `-J` or `MXLOOKUP_FORMAT`.
    pub(crate) format: bool,
    /// `--timeout` or `MXLOOKUP_TIMEOUT`.
    pub(crate) timeout: bool,
}

/// A command-line error (or `--help`, `--version`) as clap writes it;
/// when it quotes an argument holding control, invisible or bidi
/// characters, the same text with them escaped, line by line, so that
/// what the user typed cannot reach the terminal as anything but text.
/// A bad value that came from an `MXLOOKUP_*` variable names the variable.
fn usage_error(e: clap::Error) -> ExitCode {
    let plain = e.render().to_string();
    let unsafe_char = |c: char| c != '\n' && mxlookup::text::is_invisible(c);
    let variable = from_environment(&e);
    if !e.use_stderr() || (!plain.chars().any(unsafe_char) && variable.is_none()) {
        e.exit();
    }
    let mut escaped: Vec<String> = plain.lines().map(mxlookup::text::escape_text).collect();
    if let Some(var) = variable {
        escaped.insert(
            1,
            format!("(the value comes from the environment variable {var})"),
        );
    }
    let _ = writeln!(io::stderr(), "{}", escaped.join("\n"));
    ExitCode::from(exit::FATAL)
}

/// The `MXLOOKUP_*` variable a bad value came from: the flag the error is
/// about has a variable that is set, and is not on the command line.
fn from_environment(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let ContextValue::String(arg) = e.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let long = arg.split([' ', '=']).next()?.trim_start_matches('-');
    let command = Cli::command();
    let flag = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))?;
    let var = flag.get_env()?.to_string_lossy().to_string();
    std::env::var_os(&var)?;
    let typed = std::env::args_os().skip(1).any(|a| {
        a.to_str().is_some_and(|a| {
            a == format!("--{long}")
                || a.starts_with(&format!("--{long}="))
                || flag
                    .get_short()
                    .is_some_and(|s| a.starts_with(&format!("-{s}")))
        })
    });
    (!typed).then_some(var)
}
