//! The HTML report (`--format html`, and `report --format html` over saved
//! runs): one self-contained file (its styles and script inline, nothing
//! fetched, a Content-Security-Policy that forbids fetching) to attach to a
//! ticket: totals by status and by finding as bar charts, the providers
//! (exchanges grouped by registrable domain) with how many domains depend
//! on each, and a searchable, sortable table of the domains.
//!
//! Written with askama from `templates/report.html`: every value is
//! escaped for HTML by the template engine, so no name or message from the
//! network or from a saved file becomes markup.
//!
//! Bounded: the counts and the providers grow with distinct statuses,
//! codes and registrable domains; the table keeps at most [`MAX_ROWS`]
//! domains, those with findings or failures first (the rest are counted,
//! and every domain is in the machine formats).

use super::{Counts, Sink};
use crate::audit::takeover::registrable;
use crate::name::DomainName;
use crate::outcome::{Code, Settled, Severity, Status};
use askama::Template;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};

/// The most domains listed in the table.
pub const MAX_ROWS: usize = 20_000;

/// Exchanges named per provider.
const EXCHANGES_SHOWN: usize = 8;

struct Bar {
    label: String,
    title: String,
    count: u64,
    percent: u32,
    class: &'static str,
}

struct Provider {
    name: String,
    domains: u64,
    sole: u64,
    exchanges: String,
}

struct Finding {
    code: &'static str,
    severity: &'static str,
    message: String,
}

struct Row {
    seq: u64,
    domain: String,
    status: &'static str,
    status_class: &'static str,
    note: String,
    exchanges: Vec<String>,
    addresses: Vec<String>,
    /// The policies and the DNSSEC/DANE state, a line each.
    notes: Vec<String>,
    findings: Vec<Finding>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    version: &'a str,
    total: u64,
    summary: String,
    audited: bool,
    statuses: Vec<Bar>,
    findings: Vec<Bar>,
    providers: Vec<Provider>,
    rows: Vec<Row>,
    hidden: u64,
}

#[derive(Default)]
struct ProviderCount {
    domains: u64,
    sole: u64,
    exchanges: BTreeSet<String>,
}

/// Gathers the results, writes the page at the end.
pub struct HtmlSink<W: Write> {
    out: W,
    counts: Counts,
    audited: bool,
    providers: HashMap<DomainName, ProviderCount>,
    troubled: Vec<Row>,
    fine: Vec<Row>,
    hidden: u64,
}

impl<W: Write> HtmlSink<W> {
    /// Write the page to `out` when the run ends.
    pub fn new(out: W) -> Self {
        HtmlSink {
            out,
            counts: Counts::default(),
            audited: false,
            providers: HashMap::new(),
            troubled: Vec::new(),
            fine: Vec::new(),
            hidden: 0,
        }
    }

    fn providers(&mut self, r: &Settled) {
        let mut mine: BTreeSet<DomainName> = BTreeSet::new();
        let mut named: Vec<(DomainName, &DomainName)> = Vec::new();
        for (_, e) in r.outcome.mx_records() {
            if e.is_root() {
                continue;
            }
            let p = registrable(e).unwrap_or_else(|| e.clone());
            mine.insert(p.clone());
            named.push((p, e));
        }
        let sole = mine.len() == 1;
        for (p, e) in named {
            let c = self.providers.entry(p).or_default();
            if c.exchanges.len() < EXCHANGES_SHOWN {
                c.exchanges.insert(e.as_str().to_string());
            }
        }
        for p in mine {
            let c = self.providers.entry(p).or_default();
            c.domains += 1;
            if sole {
                c.sole += 1;
            }
        }
    }
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Ok => "status-ok",
        s if !s.is_definite() => "status-fail",
        _ => "status-other",
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Unknown => "unknown",
    }
}

fn row(r: &Settled) -> Row {
    let audit = r.audit.as_deref();
    let status = r.outcome.status();
    let mut addresses = Vec::new();
    let mut exchanges = Vec::new();
    for (p, e) in r.outcome.mx_records() {
        exchanges.push(format!("{p} {e}"));
        if let Some(x) = audit.and_then(|a| a.exchanges.iter().find(|x| &x.name == e)) {
            addresses.extend(x.target.addresses.iter().map(ToString::to_string));
        }
    }
    if let Some(t) = audit.and_then(|a| a.implicit.as_ref()) {
        addresses.extend(t.addresses.iter().map(ToString::to_string));
    }
    addresses.dedup();
    let findings = audit
        .iter()
        .flat_map(|a| a.problems.iter())
        .map(|p| Finding {
            code: p.code.as_str(),
            severity: severity(p.code.severity()),
            message: p.message.to_string(),
        })
        .collect();
    Row {
        seq: r.entry.seq,
        domain: r.entry.display_name().to_string(),
        status: status.as_str(),
        status_class: status_class(status),
        note: r.outcome.describe().to_string(),
        exchanges,
        addresses,
        notes: audit
            .into_iter()
            .flat_map(|a| [super::policy_line(a), super::security_line(a)])
            .flatten()
            .collect(),
        findings,
    }
}

fn bars(items: Vec<(String, String, u64, &'static str)>) -> Vec<Bar> {
    let max = items.iter().map(|i| i.2).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, title, count, class)| Bar {
            percent: ((count * 100).div_ceil(max)) as u32,
            label,
            title,
            count,
            class,
        })
        .collect()
}

impl<W: Write + Send> Sink for HtmlSink<W> {
    fn settled(&mut self, r: Settled) -> io::Result<()> {
        self.counts.record(&r);
        self.audited |= r.audit.is_some();
        self.providers(&r);
        let troubled = !r.outcome.status().is_definite()
            || r.audit.as_ref().is_some_and(|a| !a.problems.is_empty());
        if troubled && self.troubled.len() < MAX_ROWS {
            if self.troubled.len() + self.fine.len() >= MAX_ROWS && self.fine.pop().is_some() {
                self.hidden += 1;
            }
            self.troubled.push(row(&r));
        } else if !troubled && self.troubled.len() + self.fine.len() < MAX_ROWS {
            self.fine.push(row(&r));
        } else {
            self.hidden += 1;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let c = &self.counts;
        let statuses = bars(
            Status::ALL
                .iter()
                .filter(|s| c.get(**s) > 0)
                .map(|s| {
                    let class = match s {
                        Status::Ok => "ok",
                        s if !s.is_definite() => "bad",
                        _ => "warn",
                    };
                    (
                        s.as_str().to_string(),
                        s.meaning().to_string(),
                        c.get(*s),
                        class,
                    )
                })
                .collect(),
        );
        let findings = bars(
            Code::ALL
                .iter()
                .filter(|code| c.problem(**code) > 0)
                .map(|code| {
                    (
                        code.as_str().to_string(),
                        code.meaning().to_string(),
                        c.problem(*code),
                        severity(code.severity()),
                    )
                })
                .collect(),
        );
        let mut providers: Vec<Provider> = self
            .providers
            .drain()
            .map(|(name, p)| Provider {
                name: name.as_str().to_string(),
                domains: p.domains,
                sole: p.sole,
                exchanges: p.exchanges.into_iter().collect::<Vec<_>>().join(", "),
            })
            .collect();
        providers.sort_by(|a, b| b.domains.cmp(&a.domains).then(a.name.cmp(&b.name)));
        providers.truncate(200);
        let mut rows: Vec<Row> = std::mem::take(&mut self.troubled);
        rows.append(&mut self.fine);
        rows.sort_by_key(|r| r.seq);
        let page = Page {
            version: env!("CARGO_PKG_VERSION"),
            total: c.total(),
            summary: super::summary(c, 0, None),
            audited: self.audited,
            statuses,
            findings,
            providers,
            rows,
            hidden: self.hidden,
        };
        let html = page.render().map_err(io::Error::other)?;
        self.out.write_all(html.as_bytes())?;
        self.out.flush()
    }
}
