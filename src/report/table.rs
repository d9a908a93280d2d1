//! The formats for people: a table (tabled) and the classic example's
//! plain `domain  exchange` lines. Both are pure functions over results in
//! input order; every name in them is already escaped.

use crate::engine::Settled;
use crate::outcome::Status;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

fn paint(status: Status, color: bool) -> String {
    if !color {
        return status.to_string();
    }
    let c = match status {
        Status::Ok => GREEN,
        Status::NullMx | Status::NoMx | Status::Nxdomain => YELLOW,
        _ => RED,
    };
    format!("{c}{status}{RESET}")
}

/// One row per MX record, grouped by domain; a domain without records has
/// one row with its status and what it means.
pub fn render_table(results: &[Settled], color: bool) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut b = Builder::new();
    b.push_record(["DOMAIN", "STATUS", "PREF", "MAIL EXCHANGE"]);
    for r in results {
        let domain = r.entry.display_name();
        let status = paint(r.outcome.status(), color);
        let mx = r.outcome.mx();
        if mx.is_empty() {
            b.push_record([domain, &status, "", r.outcome.describe()]);
            continue;
        }
        for (i, m) in mx.iter().enumerate() {
            let (d, s) = if i == 0 {
                (domain, status.as_str())
            } else {
                ("", "")
            };
            b.push_record([d, s, &m.preference.to_string(), &m.exchange]);
        }
    }
    let mut table = b.build();
    table.with(Style::blank());
    table.modify(Columns::one(2), Alignment::right());
    // The blank style pads every cell; trailing blanks are only noise.
    let mut out = String::new();
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `domain  exchange`, one line per record, the domain padded to a column.
/// A domain without records shows its status and meaning instead.
pub fn render_plain(results: &[Settled]) -> String {
    let width = results
        .iter()
        .map(|r| r.entry.display_name().chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for r in results {
        let domain = r.entry.display_name();
        let mx = r.outcome.mx();
        if mx.is_empty() {
            let _ = writeln!(
                out,
                "{domain:<width$}  [{}] {}",
                r.outcome.status(),
                r.outcome.describe()
            );
        }
        for m in mx {
            let _ = writeln!(out, "{domain:<width$}  {}", m.exchange);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn table_groups_records_under_their_domain() {
        let text = render_table(&sample(), false);
        let lines: Vec<_> = text.lines().map(str::trim_end).collect();
        assert_eq!(lines.len(), 8, "{text}");
        assert!(lines[0].contains("DOMAIN") && lines[0].contains("MAIL EXCHANGE"));
        assert!(
            lines[1].starts_with(" example.com ") && lines[1].ends_with("10   mx1.example.com"),
            "{text}"
        );
        assert!(
            lines[2].trim_start().starts_with("20") && lines[2].ends_with("mx2.example.com"),
            "{text}"
        );
        assert!(lines[3].contains("null_mx") && lines[3].contains("accepts no mail"));
        assert!(lines[6].contains("invalid") && lines[6].contains("bad name"));
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn table_colours_only_when_asked() {
        let text = render_table(&sample(), true);
        assert!(text.contains("\u{1b}[32mok\u{1b}[0m"));
        assert!(text.contains("\u{1b}[31mtimeout\u{1b}[0m"));
    }

    #[test]
    fn plain_pads_domains_to_one_column() {
        let text = render_plain(&sample());
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "example.com   mx1.example.com");
        assert_eq!(lines[1], "example.com   mx2.example.com");
        assert_eq!(
            lines[2],
            "null.example  [null_mx] accepts no mail (null MX)"
        );
        assert_eq!(lines[6], "evil.example  x\\027\\0912j.example");
    }
}
