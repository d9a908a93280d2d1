//! The validated configuration of one run, made from the raw command line.
//! Nothing after this point sees raw flags.

use super::args::{Cli, ColorChoice, OutputArgs, RECORD_TYPES};
use super::{Fatal, Given};
use mxlookup::audit::{self, Expectation};
use mxlookup::input::{Shard, Source};
use mxlookup::report::Format;
use mxlookup::resolver::{Engine, Nameserver, Settings};
use mxlookup::saved::Baseline;
use mxlookup::text::escape_text;
use std::io::IsTerminal;

pub(super) struct Config {
    /// Settings that have no effect here, for people (not fatal).
    pub(super) warnings: Vec<String>,
    /// Where domains come from, in order; files are already open.
    pub sources: Vec<Source>,
    pub settings: Settings,
    pub engine: Engine,
    pub shard: Option<Shard>,
    /// With `--shard`: the shard and the job's fingerprint, written into
    /// every record so that `report` can tell a complete job.
    pub job: Option<mxlookup::report::Job>,
    /// Look up and report duplicate lines too, instead of remembering every name.
    pub keep_duplicates: bool,
    /// Queries started per second; `None` for unlimited.
    pub rate: Option<f64>,
    /// How results are written.
    pub output: Output,
    /// What the audit does (`--audit`, `--expect`).
    pub audit: audit::Options,
    /// An earlier run to compare with.
    pub baseline: Option<Baseline>,
}

impl Config {
    pub(super) fn from_cli(mut cli: Cli, given: Given) -> Result<Config, Fatal> {
        let mut output = Output::from_args(&cli.output);
        let (sources, mut nameservers, tcp) = sources(&mut cli, given, &mut output)?;
        let expect = expectations(&cli)?;
        let baseline = baseline(&cli)?;
        let mut warnings = Vec::new();
        let mut timeout = cli.timeout;
        if nameservers.is_empty() {
            let system = mxlookup::resolver::SystemConfig::read()?;
            warnings.extend(
                system
                    .skipped
                    .iter()
                    .map(|s| format!("warning: {s}: skipped")),
            );
            if let (Some(d), false) = (system.deadline, given.timeout) {
                timeout = d;
            }
            nameservers = system
                .servers()?
                .into_iter()
                .map(mxlookup::resolver::Nameserver::Plain)
                .collect();
        }
        nameservers = usable_servers(nameservers, &mut warnings)?;
        let mut checks = cli.checks.unwrap_or(if cli.audit {
            audit::Checks::ALL
        } else {
            audit::Checks::NONE
        });
        // --dnssec: the MX set's and the exchanges' addresses' DNSSEC state.
        checks.dnssec |= cli.dnssec;
        let fetching =
            checks.mta_sts && checks.fetch || expect.iter().any(audit::Expectation::needs_mta_sts);
        let https_ca_file = cli.ca_file.clone();
        warnings.extend(encryption_warnings(
            &nameservers,
            &cli.tls_name,
            &cli.ca_file.clone().filter(|_| !fetching),
            tcp,
        ));
        if let Some(name) = &cli.tls_name
            && rustls::pki_types::ServerName::try_from(name.as_str()).is_err()
        {
            return Err(Fatal::Usage(format!(
                "--tls-name '{}': not a name a certificate can hold (a DNS name or an IP address)",
                escape_text(name)
            )));
        }
        let job = cli.shard.map(|s| mxlookup::report::Job {
            shard: format!("{}/{}", s.index, s.count),
            fingerprint: fingerprint(
                &sources,
                &checks,
                &expect,
                &cli.baseline,
                cli.keep_duplicates,
                s.count,
            ),
        });
        Ok(Config {
            sources,
            warnings,
            settings: Settings {
                nameservers,
                tls_name: cli.tls_name,
                ca_file: cli.ca_file,
                tcp_only: tcp,
                timeout,
                retries: cli.retries,
                concurrency: cli.concurrency as usize,
                dnssec: cli.dnssec || checks.asks_dnssec(),
            },
            engine: cli.engine.into(),
            job,
            shard: cli.shard,
            keep_duplicates: cli.keep_duplicates,
            rate: cli.rate,
            output,
            audit: audit::Options {
                checks,
                expect,
                https: audit::Https {
                    ca_file: https_ca_file,
                    concurrency: cli.https_concurrency as usize,
                    timeout,
                    port: mta_sts_port()?,
                },
            },
            baseline,
        })
    }
}

/// The sources of domains, in order (DOMAIN arguments, with `-` among them
/// meaning stdin, then the files), with dig's habits (`@SERVER`, a type,
/// `+short`, `+tcp`) taken out of the arguments: the nameservers they add,
/// and whether they ask for TCP. Each domain keeps its position among the
/// arguments ("argument 3").
fn sources(
    cli: &mut Cli,
    given: Given,
    output: &mut Output,
) -> Result<(Vec<Source>, Vec<mxlookup::resolver::Nameserver>, bool), Fatal> {
    let mut sources = Vec::new();
    let mut args = Vec::new();
    let mut first = 1;
    let mut nameservers = std::mem::take(&mut cli.nameservers);
    let mut tcp = cli.tcp;
    for (i, arg) in std::mem::take(&mut cli.domains).into_iter().enumerate() {
        let habit = arg
            .to_str()
            .and_then(|a| dig_habit(a).transpose())
            .transpose()?;
        if arg != "-" && habit.is_none() {
            args.push(arg);
            continue;
        }
        if !args.is_empty() {
            sources.push(Source::Args {
                first,
                args: std::mem::take(&mut args),
            });
        }
        first = i as u64 + 2;
        match habit {
            None => sources.push(Source::Stdin),
            Some(Habit::Server(s)) => nameservers.push(s),
            Some(Habit::Type) => {}
            Some(Habit::Short) if given.format && output.format != Format::Short => {
                return Err(Fatal::Usage(
                    "+short is --format short: it cannot go with another --format (or -J, or MXLOOKUP_FORMAT)".into(),
                ));
            }
            Some(Habit::Short) => output.format = Format::Short,
            Some(Habit::Tcp) => tcp = true,
        }
    }
    if !args.is_empty() {
        sources.push(Source::Args { first, args });
    }
    // As dig +short: the records and nothing else (errors still go to
    // stderr).
    if output.format == Format::Short {
        output.quiet = true;
        output.progress = false;
    }
    for path in &cli.files {
        sources.push(Source::open(path)?);
    }
    if sources.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(Fatal::NoInput);
        }
        sources.push(Source::Stdin);
    }
    Ok((sources, nameservers, tcp))
}

/// The `--expect` rules and those of `--expect-file`.
fn expectations(cli: &Cli) -> Result<Vec<Expectation>, Fatal> {
    let mut expect = cli
        .expect
        .iter()
        .map(|r| Expectation::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Fatal::Expect)?;
    if let Some(path) = &cli.expect_file {
        let shown = escape_text(&path.display().to_string());
        let text = std::fs::read_to_string(path)
            .map_err(|e| Fatal::Expect(format!("cannot read {shown}: {e}")))?;
        expect.extend(Expectation::parse_lines(&text, &shown).map_err(Fatal::Expect)?);
    }
    Ok(expect)
}

/// The `--baseline` run, read a line at a time.
fn baseline(cli: &Cli) -> Result<Option<Baseline>, Fatal> {
    let Some(path) = &cli.baseline else {
        return Ok(None);
    };
    let shown = escape_text(&path.display().to_string());
    let open = || std::fs::File::open(path);
    let file = open().map_err(|e| Fatal::Baseline(format!("cannot read {shown}: {e}")))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let reopen = || open().map(|f| Box::new(f) as Box<dyn std::io::Read>);
    Ok(Some(
        Baseline::read(reader, &shown, reopen).map_err(Fatal::Baseline)?,
    ))
}

/// What makes two shards parts of one job: the input (arguments by their
/// text, files by name and size, stdin as such) and the flags that change
/// results (the checks, the expectations, a baseline, duplicates kept, the
/// number of shards). Servers, timeouts and rates may differ between the
/// machines a job runs on.
fn fingerprint(
    sources: &[Source],
    checks: &audit::Checks,
    expect: &[Expectation],
    baseline: &Option<std::path::PathBuf>,
    keep_duplicates: bool,
    shards: u64,
) -> String {
    let mut text = format!(
        "v1 {checks:?} baseline={} dup={keep_duplicates} n={shards}",
        baseline.is_some()
    );
    for rule in expect {
        text.push_str(&format!(" expect={}", rule.rule()));
    }
    for source in sources {
        match source {
            Source::Args { args, .. } => {
                for a in args {
                    text.push_str(&format!(" arg={}", a.to_string_lossy()));
                }
            }
            Source::File(path, file) => {
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                text.push_str(&format!(" file={}:{size}", name.unwrap_or_default()));
            }
            Source::Stdin | Source::Reader(..) => text.push_str(" stdin"),
        }
    }
    format!("{:016x}", mxlookup::input::fnv1a64(text.as_bytes()))
}

/// The servers this host can send to; each one it cannot is skipped with
/// a warning, as dig does (a link-local address whose interface is gone,
/// IPv6 on a host without it). An error only when none is left.
fn usable_servers(
    servers: Vec<mxlookup::resolver::Nameserver>,
    warnings: &mut Vec<String>,
) -> Result<Vec<mxlookup::resolver::Nameserver>, Fatal> {
    let mut usable = Vec::new();
    let mut why = Vec::new();
    for s in servers {
        match mxlookup::resolver::usable(s.addr()) {
            Ok(()) => usable.push(s),
            Err(e) => {
                warnings.push(format!("warning: nameserver {s}: skipped: {e}"));
                why.push(format!("{s}: {e}"));
            }
        }
    }
    if usable.is_empty() {
        return Err(Fatal::Lib(mxlookup::Error::ResolverConfig(format!(
            "no usable nameserver ({})",
            why.join("; ")
        ))));
    }
    Ok(usable)
}

/// The port MTA-STS policies are fetched from: 443, or for tests
/// `MXLOOKUP_MTA_STS_PORT` (a test's own HTTPS server on a port it owns).
fn mta_sts_port() -> Result<u16, Fatal> {
    match std::env::var("MXLOOKUP_MTA_STS_PORT") {
        Err(_) => Ok(443),
        Ok(p) => p.parse().ok().filter(|&p| p > 0).ok_or_else(|| {
            Fatal::Usage(format!(
                "MXLOOKUP_MTA_STS_PORT '{}' is not a port",
                escape_text(&p)
            ))
        }),
    }
}

/// Warnings for settings of encrypted transports where no server is
/// encrypted, and for `--tcp` where every server is.
fn encryption_warnings(
    servers: &[Nameserver],
    tls_name: &Option<String>,
    ca_file: &Option<std::path::PathBuf>,
    tcp: bool,
) -> Vec<String> {
    let encrypted = servers.iter().filter(|s| s.is_encrypted()).count();
    let mut warnings = Vec::new();
    if encrypted == 0 {
        for (flag, given) in [
            ("--tls-name", tls_name.is_some()),
            ("--ca-file", ca_file.is_some()),
        ] {
            if given {
                warnings.push(format!(
                    "warning: {flag} has no effect: no nameserver is tls:// or https://{}",
                    if flag == "--ca-file" {
                        ", and no MTA-STS policy is fetched"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    if tcp && encrypted > 0 && encrypted == servers.len() {
        warnings.push(
            "warning: --tcp has no effect: every nameserver is tls:// or https:// (already over TCP)"
                .into(),
        );
    }
    warnings
}

/// The terminal's width: `COLUMNS`, or what the terminal on stdout says.
fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|&w| w > 0)
}

/// How results are written, for a run and for `mxlookup report`.
#[derive(Clone, Debug)]
pub(super) struct Output {
    pub format: Format,
    /// Colour the table.
    pub color: bool,
    pub require_mx: bool,
    /// Which findings fail the run (`--fail-on`).
    pub fail_on: super::exit::FailOn,
    /// One row per exchange (`--by-exchange`).
    pub by_exchange: bool,
    /// Draw a progress line on stderr (it is a terminal).
    pub progress: bool,
    /// Nothing on stderr but errors.
    pub quiet: bool,
    /// Flush stdout after every result (it is a terminal).
    pub flush_lines: bool,
    /// The terminal's width, when stdout is one.
    pub width: Option<usize>,
}

impl Output {
    pub(super) fn from_args(a: &OutputArgs) -> Output {
        let stdout_is_terminal = std::io::stdout().is_terminal();
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let dumb = env("TERM").is_some_and(|t| t == "dumb");
        Output {
            format: if a.json {
                Format::Json
            } else {
                a.format.into()
            },
            color: color_wanted(a.color, stdout_is_terminal, env),
            require_mx: a.require_mx,
            by_exchange: a.by_exchange,
            fail_on: a.fail_on.clone(),
            progress: !a.quiet && !dumb && std::io::stderr().is_terminal(),
            quiet: a.quiet,
            flush_lines: stdout_is_terminal,
            width: stdout_is_terminal.then(terminal_width).flatten(),
        }
    }

    /// The sinks' style.
    pub(super) fn style(
        &self,
        audit: (bool, bool),
        policies: bool,
        security: bool,
        changes: bool,
    ) -> mxlookup::report::Style {
        mxlookup::report::Style {
            color: self.color,
            flush_lines: self.flush_lines,
            width: self.width,
            audit: audit.0,
            addresses: audit.1,
            policies,
            security,
            changes,
            by_exchange: self.by_exchange,
            job: None,
        }
    }
}

/// Whether the table is coloured. `--color auto`: NO_COLOR (no-color.org)
/// wins, then CLICOLOR_FORCE (colour even into a pipe), then a terminal
/// that is not TERM=dumb and not CLICOLOR=0 (bixense.com/clicolors).
fn color_wanted(
    choice: ColorChoice,
    stdout_is_terminal: bool,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            env("NO_COLOR").is_none()
                && (env("CLICOLOR_FORCE").is_some_and(|v| v != "0")
                    || (stdout_is_terminal
                        && env("TERM").is_none_or(|t| t != "dumb")
                        && env("CLICOLOR").is_none_or(|v| v != "0")))
        }
    }
}

/// A DOMAIN argument that is one of dig's habits, not a domain.
#[derive(Debug, PartialEq, Eq)]
enum Habit {
    /// `@SERVER`: a nameserver, as with `-n`.
    Server(Nameserver),
    /// `MX` (or the class `IN`): what mxlookup asks anyway.
    Type,
    /// `+short`: the plain format.
    Short,
    /// `+tcp`: `--tcp`.
    Tcp,
}

/// What a DOMAIN argument means if it is one of dig's habits; an error if
/// it is one mxlookup cannot follow (another record type, another `+`
/// option): never a lookup of a domain named `a` or `+trace`, and never
/// the system's resolver when a server was named.
fn dig_habit(arg: &str) -> Result<Option<Habit>, Fatal> {
    let shown = || escape_text(arg);
    if let Some(server) = arg.strip_prefix('@') {
        return server
            .parse()
            .map(|s| Some(Habit::Server(s)))
            .map_err(|e: String| Fatal::Usage(format!("{}: {e}", shown())));
    }
    if arg.eq_ignore_ascii_case("MX") || arg.eq_ignore_ascii_case("IN") {
        return Ok(Some(Habit::Type));
    }
    if RECORD_TYPES.iter().any(|t| arg.eq_ignore_ascii_case(t)) {
        return Err(Fatal::Usage(format!(
            "'{}' is a record type: mxlookup looks up MX records only (for other types, use dig)",
            shown()
        )));
    }
    if let Some(option) = arg.strip_prefix('+') {
        return match option.to_ascii_lowercase().as_str() {
            "short" => Ok(Some(Habit::Short)),
            "tcp" | "vc" => Ok(Some(Habit::Tcp)),
            _ => Err(Fatal::Usage(format!(
                "'{}' is a dig option mxlookup does not have; see --help (+short is --format short, +tcp is --tcp)",
                shown()
            ))),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_conventions() {
        let with = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let auto = ColorChoice::Auto;
        assert!(color_wanted(auto, true, with(&[])));
        assert!(!color_wanted(auto, false, with(&[])));
        assert!(!color_wanted(auto, true, with(&[("TERM", "dumb")])));
        assert!(!color_wanted(auto, true, with(&[("CLICOLOR", "0")])));
        assert!(color_wanted(auto, true, with(&[("CLICOLOR", "1")])));
        assert!(color_wanted(auto, false, with(&[("CLICOLOR_FORCE", "1")])));
        assert!(color_wanted(
            auto,
            true,
            with(&[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(!color_wanted(auto, false, with(&[("CLICOLOR_FORCE", "0")])));
        assert!(!color_wanted(
            auto,
            true,
            with(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(color_wanted(
            ColorChoice::Always,
            false,
            with(&[("NO_COLOR", "1")])
        ));
        assert!(!color_wanted(
            ColorChoice::Never,
            true,
            with(&[("CLICOLOR_FORCE", "1")])
        ));
    }

    #[test]
    fn dig_habits() {
        assert_eq!(
            dig_habit("@127.0.0.1").unwrap(),
            Some(Habit::Server("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            dig_habit("@tls://[::1]:853").unwrap(),
            Some(Habit::Server("tls://[::1]:853".parse().unwrap()))
        );
        assert!(
            dig_habit("@dns.example")
                .unwrap_err()
                .to_string()
                .contains("@dns.example")
        );
        assert_eq!(dig_habit("mx").unwrap(), Some(Habit::Type));
        assert_eq!(dig_habit("IN").unwrap(), Some(Habit::Type));
        assert!(
            dig_habit("aaaa")
                .unwrap_err()
                .to_string()
                .contains("MX records only")
        );
        assert_eq!(dig_habit("+short").unwrap(), Some(Habit::Short));
        assert!(
            dig_habit("+trace")
                .unwrap_err()
                .to_string()
                .contains("dig option")
        );
        for domain in [
            "example.com",
            "ops@example.com",
            "mx.example.com",
            "a.example",
        ] {
            assert_eq!(dig_habit(domain).unwrap(), None, "{domain}");
        }
    }
}
