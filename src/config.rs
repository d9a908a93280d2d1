//! The validated configuration of one run, made from the raw command line.
//! Nothing after this point sees raw flags.

use crate::cli::{Cli, ColorChoice};
use crate::error::Error;
use crate::input::Source;
use crate::report::Format;
use crate::resolver::{Engine, Settings};
use std::io::IsTerminal;

pub struct Config {
    /// Where domains come from, in order; files are already open.
    pub sources: Vec<Source>,
    pub settings: Settings,
    pub engine: Engine,
    pub shard: Option<crate::input::Shard>,
    /// Look up and report duplicate lines too, instead of remembering every name.
    pub keep_duplicates: bool,
    /// Lookups started per second; `None` for unlimited.
    pub rate: Option<f64>,
    pub format: Format,
    /// Colour the table.
    pub color: bool,
    pub require_mx: bool,
    /// Show a progress indicator and the summary on stderr.
    pub progress: bool,
    /// Nothing on stderr but errors.
    pub quiet: bool,
    /// Flush stdout after every result (it is a terminal).
    pub flush_lines: bool,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config, Error> {
        let stdin_is_terminal = std::io::stdin().is_terminal();
        let mut sources = Vec::new();
        if !cli.domains.is_empty() {
            sources.push(Source::Args(cli.domains));
        }
        for path in &cli.files {
            sources.push(Source::open(path)?);
        }
        if sources.is_empty() {
            if stdin_is_terminal {
                return Err(Error::NoInput);
            }
            sources.push(Source::Stdin);
        }
        let stdout_is_terminal = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && !no_color,
        };
        Ok(Config {
            sources,
            settings: Settings {
                nameservers: cli.nameservers,
                tcp_only: cli.tcp,
                timeout: cli.timeout,
                retries: cli.retries,
                concurrency: cli.concurrency as usize,
            },
            engine: cli.engine,
            shard: cli.shard,
            keep_duplicates: cli.keep_duplicates,
            rate: cli.rate,
            format: cli.format,
            color,
            require_mx: cli.require_mx,
            progress: !cli.quiet && std::io::stderr().is_terminal(),
            quiet: cli.quiet,
            flush_lines: stdout_is_terminal,
        })
    }
}
