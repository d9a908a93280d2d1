//! The manual page (`mxlookup man`): clap_mangen's name, synopsis,
//! description and options, then sections written here: the commands
//! (inline: there are no mxlookup-report(1) pages to link to), EXIT STATUS
//! in its own section, FINDINGS (every audit code with its severity),
//! ENVIRONMENT, FILES and SEE ALSO naming only pages that exist.

use mxlookup::outcome::{Code, Severity};
use std::io::{self, Write};

/// roff text: backslashes and leading dots or quotes made literal.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    match t.chars().next() {
        Some('.') | Some('\'') => format!("\\&{t}"),
        _ => t,
    }
}

fn section(w: &mut dyn Write, title: &str, items: &[(&str, String)]) -> io::Result<()> {
    writeln!(w, ".SH {title}")?;
    for (term, text) in items {
        writeln!(w, ".TP\n\\fB{}\\fR\n{}", roff(term), roff(text))?;
    }
    Ok(())
}

/// Write the page.
pub(super) fn render(cmd: clap::Command, w: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd);
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    section(
        w,
        "COMMANDS",
        &[
            ("mxlookup report [OPTIONS] FILE...", "Write saved runs (mxlookup's NDJSON or JSON output: one file, or the shards of one job) in any format, in input order, with one summary and the exit status the whole job would have had. Takes the output options above (--format, --by-exchange, --fail-on, --require-mx, ...).".into()),
            ("mxlookup completions SHELL", "Print a completion script for bash, zsh, fish, elvish or powershell.".into()),
            ("mxlookup man", "Print this page (mxlookup man | man -l -).".into()),
        ],
    )?;
    section(
        w,
        "EXIT STATUS",
        &[
            ("0", "Every domain got a definite answer (ok, null_mx, no_mx, nxdomain), and no finding chosen by --fail-on.".into()),
            ("1", "At least one domain did not (servfail, refused, timeout, error, invalid); or a finding chosen by --fail-on (errors by default); or a finding that is unknown; or, with --require-mx, a domain that is not ok.".into()),
            ("2", "The run could not be done: bad flags, unreadable input or baseline, no domains, no usable nameserver, a TLS setting that cannot work, a --concurrency the open-file limit cannot carry; for report, saved runs of different jobs.".into()),
            ("3", "Nothing failed, but something changed since --baseline.".into()),
            ("4", "report: shards of the job are missing (the output holds the shards given).".into()),
            ("129, 130, 143", "Interrupted by SIGHUP, SIGINT (Ctrl-C) or SIGTERM; what had settled was written.".into()),
        ],
    )?;
    let findings: Vec<(&str, String)> = Code::ALL
        .iter()
        .map(|c| {
            let severity = match c.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Unknown => "unknown (could not be checked; exits 1)",
            };
            (c.as_str(), format!("{severity}: {}", c.meaning()))
        })
        .collect();
    section(w, "FINDINGS", &findings)?;
    section(
        w,
        "ENVIRONMENT",
        &[
            (
                "MXLOOKUP_NAMESERVER, MXLOOKUP_TIMEOUT, MXLOOKUP_RETRIES, MXLOOKUP_CONCURRENCY, MXLOOKUP_RATE, MXLOOKUP_ENGINE, MXLOOKUP_FORMAT, MXLOOKUP_TLS_NAME, MXLOOKUP_CA_FILE, MXLOOKUP_CHECKS, MXLOOKUP_FAIL_ON",
                "Stand for their flags; a flag wins.".into(),
            ),
            (
                "NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM",
                "Colour in the table with --color auto.".into(),
            ),
            (
                "MXLOOKUP_RESOLV_CONF",
                "Read this file instead of /etc/resolv.conf (for tests).".into(),
            ),
            (
                "MXLOOKUP_MTA_STS_PORT",
                "Fetch MTA-STS policies from this port instead of 443 (for tests).".into(),
            ),
        ],
    )?;
    section(
        w,
        "FILES",
        &[(
            "/etc/resolv.conf",
            "The nameservers when no --nameserver is given (scoped link-local ones included), and options timeout: and attempts:, whose product is the default deadline.".into(),
        )],
    )?;
    writeln!(
        w,
        ".SH \"SEE ALSO\"\n\\fBdig\\fR(1), \\fBresolv.conf\\fR(5)"
    )?;
    man.render_version_section(w)?;
    Ok(())
}
