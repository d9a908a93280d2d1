//! The command line as the user typed it (clap derive, no logic). These
//! names are a contract that scripts rely on. [`crate::config`] turns it into
//! the validated run configuration.

use crate::report::Format;
use crate::resolver::Engine;
use clap::{Parser, ValueEnum};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "mxlookup",
    version,
    about = "Where does mail for these domains go? Concurrent MX lookups, one result per domain.",
    after_help = "Exit status: 0 every domain got a definite answer (ok, null_mx, no_mx, nxdomain); \
1 at least one did not (servfail, refused, timeout, error, invalid), or with --require-mx any domain \
is not ok; 2 the run could not be done; 130 interrupted."
)]
pub struct Cli {
    /// Domains to look up; an email address contributes its domain part
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,

    /// Read domains from a file, one per line; `-` reads stdin; repeatable
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<String>,

    /// Nameserver to ask: IP, IP:PORT or [IPv6]:PORT; repeatable [default: the system's resolver configuration]
    #[arg(short = 'n', long = "nameserver", value_name = "ADDR", value_parser = parse_nameserver)]
    pub nameservers: Vec<SocketAddr>,

    /// Query over TCP only
    #[arg(long)]
    pub tcp: bool,

    /// The most one domain's lookup may take, retries included (500ms, 3s, ...)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Extra attempts after a timeout or SERVFAIL, inside the timeout
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,

    /// The most lookups in flight at once
    #[arg(short = 'c', long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,

    /// The most lookups started per second, across the whole run [default: unlimited]
    #[arg(long, value_name = "QPS", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Lookup engine: auto (wire), wire (mxlookup's own, for bulk and hostile networks), hickory (hickory-resolver)
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,

    /// Look up only shard K of N (0 <= K < N), split by a hash of the name, to share one job among machines
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::input::Shard>,

    /// Look up and report every line, even a domain seen before [default: each domain once]. Memory then stays flat, however long the input: the duplicate check costs about 10-20 bytes per domain
    #[arg(long)]
    pub keep_duplicates: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Colour in the table: auto (only on a terminal, and not with NO_COLOR set), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Exit 1 unless every domain has MX records (status ok)
    #[arg(long)]
    pub require_mx: bool,

    /// Nothing on stderr but errors (no progress, no summary)
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`; port 53 when none is given.
pub fn parse_nameserver(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("'{s}' is not IP, IP:PORT or [IPv6]:PORT"))
}

/// `500ms`, `3s`, `1m`, or a plain number of seconds; more than zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs),
        Ok(_) => return Err(format!("'{s}' is not a duration")),
        Err(_) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("'{s}' is not a duration ({e}); try 500ms or 3s"))?,
    };
    if d.is_zero() {
        return Err("the timeout must be more than zero".into());
    }
    Ok(d)
}

/// A positive number of lookups per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "'{s}' is not a positive number of lookups per second"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_forms() {
        assert_eq!(
            parse_nameserver("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("[::1]:5353").unwrap(),
            "[::1]:5353".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("::1").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("[::1]").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert!(parse_nameserver("dns.example").is_err());
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_rate("250").unwrap(), 250.0);
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("inf").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
