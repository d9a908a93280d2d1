//! The validated configuration of one run, made from the raw command line.
//! Nothing after this point sees raw flags.

use crate::audit::Expectation;
use crate::audit::baseline::Baseline;
use crate::cli::{Cli, ColorChoice};
use crate::error::Error;
use crate::input::{Shard, Source};
use crate::name::escape_text;
use crate::report::Format;
use crate::resolver::{Engine, Settings};
use std::io::IsTerminal;

pub struct Config {
    /// Where domains come from, in order; files are already open.
    pub sources: Vec<Source>,
    pub settings: Settings,
    pub engine: Engine,
    pub shard: Option<Shard>,
    /// Look up and report duplicate lines too, instead of remembering every name.
    pub keep_duplicates: bool,
    /// Queries started per second; `None` for unlimited.
    pub rate: Option<f64>,
    pub format: Format,
    /// Colour the table.
    pub color: bool,
    pub require_mx: bool,
    /// Draw a progress line on stderr (it is a terminal).
    pub progress: bool,
    /// Nothing on stderr but errors.
    pub quiet: bool,
    /// Flush stdout after every result (it is a terminal).
    pub flush_lines: bool,
    /// The terminal's width, when stdout is one.
    pub width: Option<usize>,
    /// Look up the exchanges' addresses and report problems.
    pub audit: bool,
    /// Where mail must go.
    pub expect: Vec<Expectation>,
    /// An earlier run to compare with.
    pub baseline: Option<Baseline>,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config, Error> {
        let stdin_is_terminal = std::io::stdin().is_terminal();
        let mut sources = Vec::new();
        // DOMAIN arguments, with `-` among them meaning stdin, in order.
        let mut args = Vec::new();
        let mut first = 1;
        for (i, arg) in cli.domains.into_iter().enumerate() {
            if arg == "-" {
                if !args.is_empty() {
                    sources.push(Source::Args {
                        first,
                        args: std::mem::take(&mut args),
                    });
                }
                sources.push(Source::Stdin);
                first = i as u64 + 2;
            } else {
                args.push(arg);
            }
        }
        if !args.is_empty() {
            sources.push(Source::Args { first, args });
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
        let width = stdout_is_terminal.then(terminal_width).flatten();
        let mut expect = cli
            .expect
            .iter()
            .map(|r| Expectation::parse(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Expect)?;
        if let Some(path) = &cli.expect_file {
            let shown = escape_text(&path.display().to_string());
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Expect(format!("cannot read {shown}: {e}")))?;
            expect.extend(Expectation::parse_lines(&text, &shown).map_err(Error::Expect)?);
        }
        let baseline = match &cli.baseline {
            None => None,
            Some(path) => {
                let shown = escape_text(&path.display().to_string());
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Baseline(format!("cannot read {shown}: {e}")))?;
                Some(Baseline::parse(&text, &shown).map_err(Error::Baseline)?)
            }
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
            engine: cli.engine.into(),
            shard: cli.shard,
            keep_duplicates: cli.keep_duplicates,
            rate: cli.rate,
            format: cli.format.into(),
            color,
            require_mx: cli.require_mx,
            progress: !cli.quiet && std::io::stderr().is_terminal(),
            quiet: cli.quiet,
            flush_lines: stdout_is_terminal,
            width,
            audit: cli.audit,
            expect,
            baseline,
        })
    }
}

/// The terminal's width: `COLUMNS`, or what the terminal says.
fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    #[cfg(unix)]
    {
        // SAFETY: TIOCGWINSZ fills a winsize struct, which we own.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
        if ok && ws.ws_col > 0 {
            return Some(usize::from(ws.ws_col));
        }
    }
    None
}
