//! The command line as the user typed it (clap derive, no logic beyond
//! parsing single values). These names are a contract that scripts rely
//! on. [`super::config`] turns it into the validated run configuration;
//! the library's own types know nothing of clap.

use clap::{Args, Parser, Subcommand, ValueEnum};
use mxlookup::report::Format;
use mxlookup::resolver::{Engine, MAX_TIMEOUT, Nameserver};
use std::ffi::OsString;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "mxlookup",
    version,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    about = "Where does mail for these domains go? Concurrent MX lookups, one result per domain.",
    after_help = "Exit status: 0 every domain got a definite answer and no finding --fail-on chose; 1 a lookup failed, a finding --fail-on chose (errors by default) or an unknown one; 2 the run could not be done; 3 something changed since --baseline; 4 report: shards are missing; 129/130/143 interrupted. See mxlookup man."
)]
pub(super) struct Cli {
    /// Domains to look up; an email address contributes its domain part; `-` reads stdin. As in dig, `@SERVER` names a nameserver (like -n) and `MX` may follow a domain
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<OsString>,

    /// Read domains from a file, one per line; `-` reads stdin; repeatable
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<OsString>,

    /// Nameserver to ask: IP, IP:PORT, [IPv6]:PORT; tls://IP[:PORT] for DNS over TLS (port 853); https://IP[:PORT][/PATH] for DNS over HTTPS (port 443, /dns-query); repeatable, or comma-separated [default: the system's resolver configuration]
    #[arg(short = 'n', long = "nameserver", value_name = "ADDR", value_parser = parse_nameserver, value_delimiter = ',', env = "MXLOOKUP_NAMESERVER")]
    pub nameservers: Vec<Nameserver>,

    /// The name the DoT/DoH server's certificate must hold [default: its IP address]
    #[arg(long, value_name = "NAME", env = "MXLOOKUP_TLS_NAME")]
    pub tls_name: Option<String>,

    /// Trust the CA certificates in this PEM file for DoT/DoH and MTA-STS policies, instead of the built-in Mozilla roots
    #[arg(long, value_name = "PEM", env = "MXLOOKUP_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// Query over TCP only
    #[arg(long)]
    pub tcp: bool,

    /// Ask with DNSSEC (the DO and AD bits) and report whether the validating resolver authenticated each answer (the dnssec key); --audit does it for its dnssec and dane checks
    #[arg(long)]
    pub dnssec: bool,

    /// The record type, as in dig: only MX is looked up; anything else is an error
    #[arg(short = 't', long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub qtype: Option<String>,

    /// The most one domain's lookup may take from its first query, resends and aliases included (500ms, 3s, ...)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration, env = "MXLOOKUP_TIMEOUT")]
    pub timeout: Duration,

    /// How many more times a SERVFAIL or REFUSED answer is asked again (at the next nameserver); lost packets are resent until --timeout anyway
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=20), env = "MXLOOKUP_RETRIES")]
    pub retries: u32,

    /// The most queries in flight at once
    #[arg(short = 'c', long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000), env = "MXLOOKUP_CONCURRENCY")]
    pub concurrency: u32,

    /// The most queries started per second, across the whole run [default: unlimited]
    #[arg(long, value_name = "QPS", value_parser = parse_rate, env = "MXLOOKUP_RATE")]
    pub rate: Option<f64>,

    /// Lookup engine: auto (wire), wire (mxlookup's own, for bulk and hostile networks), hickory (hickory-resolver)
    #[arg(long, value_enum, default_value_t = EngineArg::Auto, env = "MXLOOKUP_ENGINE")]
    pub engine: EngineArg,

    /// Look up only shard K of N (0 <= K < N), split by a hash of the name, to share one job among machines
    #[arg(long, value_name = "K/N")]
    pub shard: Option<mxlookup::input::Shard>,

    /// Look up and report every line, even a domain seen before [default: each domain once]. Memory then stays flat, however long the input: the duplicate check costs about 10-30 bytes per domain
    #[arg(long)]
    pub keep_duplicates: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Also check what delivery would use and report what stops it or puts it at risk: every exchange's addresses (each once per run), MTA-STS (the policy fetched over HTTPS) and TLS-RPT; see --checks
    #[arg(long)]
    pub audit: bool,

    /// The checks --audit runs, comma-separated: routing, mta-sts, tls-rpt, dnssec, dane, takeover; all (the default); dns (all but fetching MTA-STS policies). Implies --audit
    #[arg(long, value_name = "LIST", value_parser = parse_checks, env = "MXLOOKUP_CHECKS")]
    pub checks: Option<mxlookup::audit::Checks>,

    /// MTA-STS policy fetches at once (HTTPS connections), apart from --concurrency
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000), env = "MXLOOKUP_HTTPS_CONCURRENCY")]
    pub https_concurrency: u32,

    /// Where mail must go: DOMAINS=EXCHANGES, `*` for any run of characters ('*.example.org=*.mail.example.net'), or DOMAINS=mta-sts:MODE for the MTA-STS mode they must publish; a domain that does not comply gets unexpected_exchange or unexpected_policy (exit 1); repeatable
    #[arg(long, value_name = "RULE")]
    pub expect: Vec<String>,

    /// Read --expect rules from a file, one per line (# comments)
    #[arg(long, value_name = "PATH")]
    pub expect_file: Option<std::path::PathBuf>,

    /// Compare with an earlier JSON or NDJSON output of mxlookup: say what changed per domain, and exit 3 when anything did (1 still wins)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How results are written: shared by a run and `mxlookup report`.
#[derive(Args, Debug, Clone)]
pub(super) struct OutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Table, env = "MXLOOKUP_FORMAT")]
    pub format: FormatArg,

    /// Same as --format json
    #[arg(short = 'J', long, conflicts_with = "format")]
    pub json: bool,

    /// Colour in the table: auto (only on a terminal; not with NO_COLOR, CLICOLOR=0 or TERM=dumb; always with CLICOLOR_FORCE), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Exit 1 unless every domain has MX records (status ok)
    #[arg(long)]
    pub require_mx: bool,

    /// Which audit findings make the exit status 1: error (the default), warning (warnings too), or a comma-separated list of codes (only those); a failed lookup, and a finding that is unknown, always do
    #[arg(long, value_name = "WHAT", value_parser = parse_fail_on, default_value = "error", env = "MXLOOKUP_FAIL_ON")]
    pub fail_on: super::exit::FailOn,

    /// One row per mail exchange instead of one per domain: its addresses, DANE state and findings, how many domains depend on it and for how many it is the only exchange (with up to 20 of each); written when the run ends, memory bounded by the number of distinct exchanges
    #[arg(long)]
    pub by_exchange: bool,

    /// Nothing on stderr but errors (no progress, no summary)
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// Write saved runs (mxlookup's NDJSON or JSON output: one file, or the shards of one job) in any format, in input order, with one summary and the exit status the whole job would have had
    Report(ReportArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff: mxlookup man | man -l -)
    Man,
}

#[derive(Args, Debug)]
pub(super) struct ReportArgs {
    /// Files written by mxlookup --format ndjson or json; `-` reads stdin
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Auto,
    Wire,
    Hickory,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Auto => Engine::Auto,
            EngineArg::Wire => Engine::Wire,
            EngineArg::Hickory => Engine::Hickory,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A table for people, in input order
    Table,
    /// `domain  exchange` lines, in input order
    Plain,
    /// One JSON array, in input order
    Json,
    /// One JSON object per line, as results arrive
    Ndjson,
    /// CSV, one row per MX record, as results arrive
    Csv,
    /// dig's +short: `10 mx1.example.net.` per line, in input order, no summary
    Short,
    /// One self-contained HTML page (charts, providers, a searchable and sortable table of domains), written when the run ends
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Plain => Format::Plain,
            FormatArg::Json => Format::Json,
            FormatArg::Ndjson => Format::Ndjson,
            FormatArg::Csv => Format::Csv,
            FormatArg::Short => Format::Short,
            FormatArg::Html => Format::Html,
        }
    }
}

/// `--fail-on`: a severity or a list of codes.
fn parse_fail_on(s: &str) -> Result<super::exit::FailOn, String> {
    super::exit::FailOn::parse(s)
}

/// `--checks`: a list of check names.
pub(crate) fn parse_checks(s: &str) -> Result<mxlookup::audit::Checks, String> {
    mxlookup::audit::Checks::parse(s)
}

/// A nameserver as [`Nameserver`] reads it (plain, `tls://`, `https://`).
pub(super) fn parse_nameserver(s: &str) -> Result<Nameserver, String> {
    s.parse()
}

/// Record types a dig user might type, for a clear error (mxlookup asks
/// only MX). Compared without regard to case.
pub(super) const RECORD_TYPES: [&str; 22] = [
    "A", "AAAA", "ANY", "CAA", "CNAME", "DNAME", "DNSKEY", "DS", "HINFO", "HTTPS", "NAPTR", "NS",
    "NSEC", "NSEC3", "PTR", "RRSIG", "SOA", "SPF", "SRV", "SVCB", "TLSA", "TXT",
];

/// `-t`/`--type`: MX (any case) is accepted; any other type is an error
/// that says so.
pub(super) fn parse_type(s: &str) -> Result<String, String> {
    if s.eq_ignore_ascii_case("MX") {
        Ok("MX".into())
    } else {
        Err(format!(
            "mxlookup looks up MX records only, not '{}' (for other types, use dig)",
            mxlookup::text::escape_text(s)
        ))
    }
}

/// The shortest `--timeout` accepted.
pub(super) const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// `500ms`, `3s`, `1m`, or a plain number of seconds; from 1 ms to 24 h.
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let range = || format!("'{s}': the timeout must be from 1ms to 24h");
    let d = match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
            Duration::try_from_secs_f64(secs).map_err(|_| range())?
        }
        Ok(_) => return Err(format!("'{s}' is not a duration")),
        Err(_) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("'{s}' is not a duration ({e}); try 500ms or 3s"))?,
    };
    if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&d) {
        return Err(range());
    }
    Ok(d)
}

/// The lowest and highest `--rate`.
pub(super) const RATE_RANGE: (f64, f64) = (0.001, 10_000_000.0);

/// A number of queries per second, from 0.001 to 10,000,000.
pub(super) fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (RATE_RANGE.0..=RATE_RANGE.1).contains(&r) => Ok(r),
        Ok(r) if r.is_finite() && r > 0.0 => Err(format!(
            "'{s}': the rate must be from 0.001 to 10000000 queries per second"
        )),
        _ => Err(format!(
            "'{s}' is not a positive number of queries per second"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mx_is_a_type() {
        assert_eq!(parse_type("mx").unwrap(), "MX");
        assert!(
            parse_type("A")
                .unwrap_err()
                .contains("MX records only, not 'A'")
        );
    }

    #[test]
    fn durations_and_rates_have_ranges() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        for bad in ["0s", "soon", "1e30", "1e19", "-1", "25h", "NaN", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_rate("250").unwrap(), 250.0);
        for bad in ["0", "-3", "inf", "1e-20", "1e30", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
