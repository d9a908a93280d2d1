//! The formats for people: a table (tabled) and the classic example's
//! plain `domain  exchange` lines, in input order. Both keep a result that
//! waits for its turn as a few short strings, and print in pages of
//! [`PAGE`] domains (a run of that size or less is one table). The table
//! fits the terminal: a long name breaks after a dot, never inside a
//! label unless the label alone is too wide. Every name is already
//! escaped.

use super::Style;
use super::order::Ordered;
use crate::input::unicode_form;
use crate::outcome::Status;
use crate::outcome::{Settled, Target};
use std::io::{self, BufWriter, Write};
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style as TableStyle};

/// Domains per page of a long table.
pub(super) const PAGE: usize = 100_000;

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

/// A line under a domain: its policies (`·`), a problem (`!`), or a change
/// since the baseline (`~`).
struct Remark {
    mark: &'static str,
    code: Box<str>,
    message: Box<str>,
}

/// (preference, exchange, addresses)
type ShownMx = (u16, Box<str>, Box<str>);

/// One domain as the table and plain formats show it.
pub struct Shown {
    domain: Box<str>,
    /// The Unicode form of an internationalised name.
    unicode: Option<Box<str>>,
    status: Status,
    /// What the status means, or the failure message.
    note: Box<str>,
    mx: Box<[ShownMx]>,
    /// The implicit MX's addresses (`--audit`, no MX).
    implicit: Option<Box<str>>,
    /// (code, message) per problem, then ("changed", what) per change.
    remarks: Box<[Remark]>,
}

impl Shown {
    fn of(r: &Settled) -> Shown {
        let audit = r.audit.as_deref();
        // The addresses, and `? AAAA` for a family whose lookup failed:
        // unknown, not absent.
        let addresses = |t: &Target| -> Box<str> {
            let shown: Vec<String> = t
                .addresses
                .iter()
                .map(ToString::to_string)
                .chain(t.unresolved.iter().map(|f| format!("? {}", f.record())))
                .collect();
            if shown.is_empty() {
                "-".into()
            } else {
                shown.join(", ").into()
            }
        };
        let mx = r
            .outcome
            .mx_records()
            .map(|(p, e)| {
                let a = audit
                    .map(|a| {
                        a.exchanges
                            .iter()
                            .find(|x| &x.name == e)
                            .map_or_else(|| "-".into(), |x| addresses(&x.target))
                    })
                    .unwrap_or_default();
                (p, Box::from(e.as_str()), a)
            })
            .collect();
        let mut remarks: Vec<Remark> = Vec::new();
        if let Some(line) = audit.and_then(super::policy_line) {
            remarks.push(Remark {
                mark: "·",
                code: "policy".into(),
                message: line.into(),
            });
        }
        if let Some(line) = audit.and_then(super::security_line) {
            remarks.push(Remark {
                mark: "·",
                code: "dnssec".into(),
                message: line.into(),
            });
        }
        for p in audit.iter().flat_map(|a| a.problems.iter()) {
            remarks.push(Remark {
                mark: "!",
                code: p.code.as_str().into(),
                message: p.message.as_str().into(),
            });
        }
        for c in r.changes.iter().flatten() {
            remarks.push(Remark {
                mark: "~",
                code: "changed".into(),
                message: super::change_sentence(c).into(),
            });
        }
        Shown {
            domain: r.entry.display_name().into(),
            unicode: r
                .entry
                .name
                .as_ref()
                .ok()
                .and_then(unicode_form)
                .map(|u| u.as_str().into()),
            status: r.outcome.status(),
            note: r.outcome.describe().into(),
            mx,
            implicit: audit.and_then(|a| a.implicit.as_ref()).map(addresses),
            remarks: remarks.into_boxed_slice(),
        }
    }

    fn domain_cell(&self) -> String {
        match &self.unicode {
            Some(u) => format!("{} ({u})", self.domain),
            None => self.domain.to_string(),
        }
    }
}

/// The table or the plain lines, one page at a time.
pub struct Paged<W: Write> {
    out: BufWriter<W>,
    style: Style,
    page: Vec<Shown>,
    plain: bool,
}

impl<W: Write> Paged<W> {
    /// The table format.
    pub fn table(out: W, style: Style) -> Self {
        Self::new(out, style, false)
    }

    /// The `domain  exchange` lines.
    pub fn plain(out: W, style: Style) -> Self {
        Self::new(out, style, true)
    }

    fn new(out: W, style: Style, plain: bool) -> Self {
        Paged {
            out: BufWriter::with_capacity(64 * 1024, out),
            style,
            page: Vec::new(),
            plain,
        }
    }

    fn print_page(&mut self) -> io::Result<()> {
        if self.page.is_empty() {
            return Ok(());
        }
        if self.plain {
            write_plain(&mut self.out, &self.page, &self.style)?;
        } else {
            let text = render_table(&self.page, &self.style);
            self.out.write_all(text.as_bytes())?;
        }
        self.page.clear();
        self.out.flush()
    }
}

impl<W: Write + Send> Ordered for Paged<W> {
    type Held = Shown;

    fn hold(&mut self, r: Settled) -> Shown {
        Shown::of(&r)
    }

    fn write(&mut self, held: Shown) -> io::Result<()> {
        self.page.push(held);
        if self.page.len() >= PAGE {
            self.print_page()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.print_page()
    }
}

/// Break a name into lines of at most `width` characters, after a dot
/// where it can (`mx1.` / `example.com`); a label longer than the width is
/// cut where it must be.
pub fn wrap_name(name: &str, width: usize) -> String {
    wrap_on(name, width, '.')
}

/// Break text into lines of at most `width` characters after `sep` where
/// it can; a piece longer than the width is cut where it must be.
fn wrap_on(name: &str, width: usize, sep: char) -> String {
    let width = width.max(4);
    if name.chars().count() <= width {
        return name.to_string();
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    // Pieces: each label with its trailing dot.
    for piece in name.split_inclusive(sep) {
        let len = piece.chars().count();
        if line.chars().count() + len <= width {
            line.push_str(piece);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest: Vec<char> = piece.chars().collect();
        while rest.len() > width {
            lines.push(rest.drain(..width).collect());
        }
        line = rest.into_iter().collect();
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}

/// Column widths that fit `total`: the columns in `flexible` shrink, the
/// widest first, down to `floor` each.
fn fit(widths: &mut [usize], flexible: &[usize], total: usize, floor: usize) {
    // A space of padding each side of every cell, and a blank rule
    // between columns: three per column, less the trailing blanks trimmed.
    let overhead = (widths.len() * 3).saturating_sub(2);
    loop {
        let sum: usize = widths.iter().sum::<usize>() + overhead;
        if sum <= total {
            return;
        }
        let Some(&widest) = flexible
            .iter()
            .filter(|&&c| widths[c] > floor)
            .max_by_key(|&&c| widths[c])
        else {
            return;
        };
        // Down to the next widest at most, so that the flexible columns
        // shrink together: a long domain does not keep 46 of 80 columns
        // while the exchanges are cut to the floor.
        let next = flexible
            .iter()
            .filter(|&&c| c != widest)
            .map(|&c| widths[c])
            .max()
            .unwrap_or(floor)
            .max(floor);
        // Tied with another: one column at a time.
        let cut = (sum - total)
            .min(widths[widest].saturating_sub(next))
            .max(1);
        widths[widest] -= cut.min(widths[widest] - floor);
    }
}

/// Every row's flexible cells wrapped to column widths that fit `total`
/// columns: names after a dot, addresses after a colon, codes after an
/// underscore, messages at spaces.
fn fit_rows(rows: &mut [Vec<String>], header: &[&str], audit: bool, total: usize) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows.iter() {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(visible_width(cell));
        }
    }
    let flexible: &[usize] = if audit { &[0, 3, 4] } else { &[0, 3] };
    fit(&mut widths, flexible, total, 16);
    for row in rows.iter_mut() {
        let remark = matches!(row[2].as_str(), "!" | "·" | "~");
        for &c in flexible {
            if visible_width(&row[c]) > widths[c] {
                row[c] = if remark && c + 1 == row.len() {
                    wrap_words(&row[c], widths[c])
                } else if remark {
                    // A code: broken after an underscore.
                    wrap_on(&row[c], widths[c], '_')
                } else if c == 4 {
                    // Addresses: one per line, an IPv6 address broken
                    // after a colon where it must be.
                    row[c]
                        .split(", ")
                        // One column kept for the comma.
                        .map(|a| wrap_on(a, widths[c].saturating_sub(1), ':'))
                        .collect::<Vec<_>>()
                        .join(",\n")
                } else {
                    wrap_name(&row[c], widths[c])
                };
            }
        }
    }
}

/// One row per MX record, grouped by domain; a domain without records has
/// one row with its status and what it means. With the audit, the
/// addresses of each exchange, and one row per problem.
pub(super) fn render_table(results: &[Shown], style: &Style) -> String {
    let audit = style.addresses;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in results {
        let status = paint(r.status, style.color);
        if r.mx.is_empty() {
            let mut row = vec![
                r.domain_cell(),
                status.clone(),
                String::new(),
                r.note.to_string(),
            ];
            if audit {
                row.push(r.implicit.as_deref().unwrap_or("").to_string());
            }
            rows.push(row);
        }
        for (i, (p, e, a)) in r.mx.iter().enumerate() {
            let (d, s) = if i == 0 {
                (r.domain_cell(), status.clone())
            } else {
                (String::new(), String::new())
            };
            let mut row = vec![d, s, p.to_string(), e.to_string()];
            if audit {
                row.push(a.to_string());
            }
            rows.push(row);
        }
        // With the audit, the code under the exchanges and the message in
        // the last column, so that messages never widen the exchanges.
        for Remark {
            mark,
            code,
            message,
        } in r.remarks.iter()
        {
            let row = if audit {
                vec![
                    String::new(),
                    String::new(),
                    mark.to_string(),
                    code.to_string(),
                    message.to_string(),
                ]
            } else {
                vec![
                    String::new(),
                    String::new(),
                    mark.to_string(),
                    format!("{code}: {message}"),
                ]
            };
            rows.push(row);
        }
    }
    let mut header = vec!["DOMAIN", "STATUS", "PREF", "MAIL EXCHANGE"];
    if audit {
        header.push("ADDRESSES");
    }
    if let Some(total) = style.width {
        fit_rows(&mut rows, &header, audit, total);
    }
    let mut b = Builder::new();
    b.push_record(header);
    for row in rows {
        b.push_record(row);
    }
    let mut table = b.build();
    table.with(TableStyle::blank());
    table.modify(Columns::one(2), Alignment::right());
    // The blank style pads every cell; trailing blanks are only noise.
    let mut out = String::new();
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Text broken at spaces into lines of at most `width` characters (a word
/// longer than that gets a line of its own).
fn wrap_words(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    // A word longer than the line (a long name in a message) is broken
    // after its dots, then cut, first.
    let words: Vec<String> = text
        .split(' ')
        .flat_map(|w| {
            if w.chars().count() > width {
                wrap_name(w, width)
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>()
            } else {
                vec![w.to_string()]
            }
        })
        .collect();
    for word in words.iter().map(String::as_str) {
        let w = word.chars().count();
        if line > 0 && line + 1 + w > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += w;
    }
    out
}

fn visible_width(cell: &str) -> usize {
    cell.lines()
        .map(|l| {
            let mut w = 0;
            let mut esc = false;
            for c in l.chars() {
                match c {
                    '\x1b' => esc = true,
                    'm' if esc => esc = false,
                    _ if esc => {}
                    _ => w += 1,
                }
            }
            w
        })
        .max()
        .unwrap_or(0)
}

/// `domain  exchange`, one line per record, the domain padded to a column
/// (per page). A domain without records shows its status and meaning.
fn write_plain<W: Write>(out: &mut W, page: &[Shown], style: &Style) -> io::Result<()> {
    let width = page
        .iter()
        .map(|r| r.domain.chars().count())
        .max()
        .unwrap_or(0);
    for r in page {
        let domain = &r.domain;
        if r.mx.is_empty() {
            writeln!(out, "{domain:<width$}  [{}] {}", r.status, r.note)?;
        }
        for (_, e, a) in r.mx.iter() {
            if style.addresses {
                writeln!(out, "{domain:<width$}  {e}  {a}")?;
            } else {
                writeln!(out, "{domain:<width$}  {e}")?;
            }
        }
        for Remark {
            mark,
            code,
            message,
        } in r.remarks.iter()
        {
            writeln!(out, "{domain:<width$}  {mark} {code}: {message}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    fn shown() -> Vec<Shown> {
        sample().iter().map(Shown::of).collect()
    }

    #[test]
    fn table_groups_records_under_their_domain() {
        let text = render_table(&shown(), &Style::default());
        let lines: Vec<_> = text.lines().map(str::trim_end).collect();
        assert_eq!(lines.len(), 9, "{text}");
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
        let style = Style {
            color: true,
            ..Style::default()
        };
        let text = render_table(&shown(), &style);
        assert!(text.contains("\u{1b}[32mok\u{1b}[0m"));
        assert!(text.contains("\u{1b}[31mtimeout\u{1b}[0m"));
    }

    #[test]
    fn the_table_fits_the_terminal_breaking_names_after_a_dot() {
        assert_eq!(wrap_name("mx1.example.com", 40), "mx1.example.com");
        assert_eq!(
            wrap_name("mx1.a-rather-long-exchange.example.com", 24),
            "mx1.\na-rather-long-exchange.\nexample.com"
        );
        // A label wider than the column is cut where it must be.
        assert_eq!(
            wrap_name("mx1.a-rather-long-exchange.example.com", 20),
            "mx1.\na-rather-long-exchan\nge.example.com"
        );
        assert_eq!(wrap_name("abcdefghij.x", 6), "abcdef\nghij.x");
        let style = Style {
            width: Some(60),
            ..Style::default()
        };
        let long = "mail-exchange-number-one.a-very-long-provider-domain.example";
        let result = Settled::new(
            crate::report::tests::entry(0, "shop.example"),
            crate::report::tests::answered(vec![crate::report::tests::mx(10, long)], false),
            std::time::Duration::ZERO,
        );
        let text = render_table(&[Shown::of(&result)], &style);
        for line in text.lines() {
            assert!(line.chars().count() <= 60, "{line:?} in\n{text}");
        }
        // Every label is whole on some line.
        for label in long.split('.') {
            assert!(
                text.lines().any(|l| l.contains(label)),
                "{label} split in\n{text}"
            );
        }
    }

    #[test]
    fn audit_messages_go_in_the_last_column_and_wrap_at_spaces() {
        use crate::outcome::{Audit, Code, Exchange, Problem};
        let mut result = Settled::new(
            crate::report::tests::entry(0, "shop.example"),
            crate::report::tests::answered(vec![crate::report::tests::mx(10, "mx.example")], false),
            std::time::Duration::ZERO,
        );
        let message =
            "mx.example is an alias (CNAME to host.example); an MX must name a host, not an alias";
        result.audit = Some(Box::new(Audit {
            resolved: true,
            exchanges: vec![Exchange {
                name: crate::DomainName::parse_ascii("mx.example").unwrap(),
                target: crate::outcome::Target {
                    addresses: vec!["93.184.215.14".parse().unwrap()],
                    unresolved: Vec::new(),
                },
                dnssec: None,
                dane: None,
            }],
            implicit: None,
            mta_sts: None,
            tls_rpt: None,
            problems: vec![Problem {
                code: Code::CnameTarget,
                exchange: Some(crate::testing::name("mx.example")),
                message: message.into(),
            }],
            ..Audit::default()
        }));
        let style = Style {
            audit: true,
            addresses: true,
            width: Some(70),
            ..Style::default()
        };
        let text = render_table(&[Shown::of(&result)], &style);
        for line in text.lines() {
            assert!(line.chars().count() <= 70, "{line:?} in\n{text}");
        }
        let exchange_col = text.lines().nth(1).unwrap().find("mx.example").unwrap();
        let remark = text.lines().find(|l| l.contains('!')).unwrap();
        assert_eq!(remark.find("cname_target"), Some(exchange_col), "{text}");
        // Every word of the message is there, none cut.
        for word in message.split(' ') {
            assert!(
                text.split_whitespace().any(|w| w == word),
                "{word} in\n{text}"
            );
        }
        assert_eq!(wrap_words("one two three", 7), "one two\nthree");
        // A word wider than the column is broken (after a dot when it has
        // one): no line is wider than the column.
        assert_eq!(
            wrap_words("a-very-long-word b", 4),
            "a-ve\nry-l\nong-\nword\nb"
        );
        assert_eq!(wrap_words("mx.example.net x", 8), "mx.\nexample.\nnet x");
    }

    #[test]
    fn plain_pads_domains_to_one_column() {
        let mut buf = Vec::new();
        {
            let mut f = Paged::plain(&mut buf, Style::default());
            for s in shown() {
                f.write(s).unwrap();
            }
            f.finish().unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "example.com     mx1.example.com");
        assert_eq!(lines[1], "example.com     mx2.example.com");
        assert_eq!(
            lines[2],
            "null.example    [null_mx] accepts no mail (null MX)"
        );
        assert_eq!(lines[6], "evil.example    x\\027\\0912j.example");
    }

    /// Results with the longest names the DNS allows: a 63-byte label, a
    /// 253-byte exchange, full IPv6 addresses, long codes and messages.
    fn longest() -> Vec<Settled> {
        use crate::outcome::{Audit, Code, Exchange, Problem, Target};
        use crate::report::tests::{answered, entry, mx};
        let label = "a".repeat(63);
        let domain = format!("{label}.example");
        let long = format!("{0}.{0}.{0}.{1}.example", "b".repeat(63), "c".repeat(53));
        assert_eq!(long.len(), 253);
        let mut r = Settled::new(
            entry(0, &domain),
            answered(vec![mx(10, &long), mx(20, "mx2.example")], false),
            std::time::Duration::ZERO,
        );
        let v6 = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        r.audit = Some(Box::new(Audit {
            resolved: true,
            exchanges: vec![
                Exchange {
                    name: crate::testing::name(&long),
                    target: Target {
                        addresses: vec![
                            v6("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
                            v6("2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"),
                        ],
                        unresolved: Vec::new(),
                    },
                    dnssec: None,
                    dane: None,
                },
                Exchange {
                    name: crate::testing::name("mx2.example"),
                    target: Target {
                        addresses: vec!["93.184.215.14".parse().unwrap()],
                        unresolved: Vec::new(),
                    },
                    dnssec: None,
                    dane: None,
                },
            ],
            problems: vec![Problem {
                code: Code::ExchangeDomainUnregistered,
                exchange: Some(crate::testing::name(&long)),
                message: format!("{long}'s registrable domain does not exist: anyone could register it and receive this domain's mail").into(),
            }],
            ..Audit::default()
        }));
        let plain = Settled::new(
            entry(1, &format!("{label}.example")),
            answered(vec![mx(10, &long)], false),
            std::time::Duration::ZERO,
        );
        vec![r, plain]
    }

    #[test]
    fn the_table_fits_80_100_and_120_columns_with_the_longest_names() {
        for width in [80, 100, 120] {
            for audit in [true, false] {
                let style = Style {
                    audit,
                    addresses: audit,
                    width: Some(width),
                    ..Style::default()
                };
                let shown: Vec<Shown> = longest().iter().map(Shown::of).collect();
                let text = render_table(&shown, &style);
                for line in text.lines() {
                    assert!(
                        line.chars().count() <= width,
                        "{width} (audit {audit}): {} columns: {line:?}\n{text}",
                        line.chars().count()
                    );
                }
                // Nothing lost: every label and address is there, whole or
                // in pieces within its column.
                let joined: String = text.split_whitespace().collect();
                assert!(joined.contains(&"b".repeat(40)), "{text}");
                if audit {
                    assert!(text.contains("2606:"), "{text}");
                    assert!(joined.contains("exchange_domain_"), "{text}");
                }
                // The flexible columns shrink together: the domain column
                // is no wider than the exchange column.
                let header = text.lines().next().unwrap();
                let domain_col = header.find("STATUS").unwrap();
                let exchange_col = header.find("MAIL EXCHANGE").unwrap();
                let exchange_width = match header.find("ADDRESSES") {
                    Some(a) => a - exchange_col,
                    None => width - exchange_col,
                };
                assert!(
                    domain_col <= exchange_width + 4,
                    "{width}: domain {domain_col} vs exchange {exchange_width}\n{text}"
                );
            }
        }
    }
}
