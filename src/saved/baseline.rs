//! `--baseline FILE`: what changed since a previous run. The file is
//! mxlookup's own JSON or NDJSON output; each domain of this run is
//! compared with its record there: status, exchanges added or removed,
//! preferences, addresses (when both runs audited), or new since. Domains
//! of the baseline that this run did not look up are counted. The whole
//! baseline is held in memory (about 150 bytes per domain).

use super::read::Records;
use super::record::Record;
use crate::name::DomainName;
use crate::outcome::{Change, Settled, Status};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// What the baseline says about one domain.
#[derive(Debug)]
struct Before {
    status: Status,
    mx: BTreeMap<DomainName, u16>,
    /// Per exchange, when the baseline was audited.
    addresses: Option<BTreeMap<DomainName, Vec<IpAddr>>>,
    implicit: Option<Vec<IpAddr>>,
    seen: bool,
}

/// An earlier run to compare with, held in memory by domain.
#[derive(Debug, Default)]
pub struct Baseline {
    domains: HashMap<String, Before>,
}

impl Baseline {
    /// Read a baseline: a JSON array of records, or one record per line.
    /// An error names the line and what is wrong with it. A `String` is
    /// read where it is, not copied.
    pub fn parse(text: impl Into<String>, source: &str) -> Result<Baseline, String> {
        let mut b = Baseline::default();
        for (r, line) in Records::read(text.into(), source)?.iter() {
            b.add(r)
                .map_err(|e| format!("{source}:{line}: not an mxlookup record: {e}"))?;
        }
        Ok(b)
    }

    fn add(&mut self, r: Record<'_>) -> Result<(), String> {
        let mx_records = r.mx.records();
        let mut mx = BTreeMap::new();
        let mut addresses = r.problems.is_some().then(BTreeMap::new);
        for m in mx_records.iter() {
            let name = exchange_name(&m.exchange)?;
            if let Some(map) = &mut addresses {
                match &m.addresses {
                    Some(a) => {
                        map.insert(name.clone(), a.clone());
                    }
                    None => addresses = None,
                }
            }
            mx.insert(name, m.preference);
        }
        self.domains.insert(
            r.domain.to_string(),
            Before {
                status: r.status,
                mx,
                addresses,
                implicit: r.addresses,
                seen: false,
            },
        );
        Ok(())
    }

    /// How many domains it has.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// What changed for this result since the baseline.
    pub fn changes(&mut self, r: &Settled) -> Vec<Change> {
        let Some(before) = self.domains.get_mut(r.entry.display_name()) else {
            return vec![Change::New];
        };
        before.seen = true;
        let mut changes = Vec::new();
        let status = r.outcome.status();
        if status != before.status {
            changes.push(Change::Status {
                from: before.status,
                to: status,
            });
        }
        let now: BTreeMap<DomainName, u16> = r
            .outcome
            .mx_records()
            .map(|(p, e)| (e.clone(), p))
            .collect();
        for (e, &p) in &now {
            match before.mx.get(e) {
                None => changes.push(Change::ExchangeAdded {
                    exchange: e.clone(),
                    preference: p,
                }),
                Some(&was) if was != p => changes.push(Change::Preference {
                    exchange: e.clone(),
                    from: was,
                    to: p,
                }),
                _ => {}
            }
        }
        for (e, &p) in &before.mx {
            if !now.contains_key(e) {
                changes.push(Change::ExchangeRemoved {
                    exchange: e.clone(),
                    preference: p,
                });
            }
        }
        if let (Some(audit), Some(was)) =
            (r.audit.as_deref().filter(|a| a.resolved), &before.addresses)
        {
            for x in &audit.exchanges {
                if let Some(old) = was.get(&x.name) {
                    push_addresses(&mut changes, Some(&x.name), old, &x.addresses);
                }
            }
        }
        if let (Some(now), Some(was)) = (
            r.audit.as_deref().and_then(|a| a.implicit.as_ref()),
            &before.implicit,
        ) {
            push_addresses(&mut changes, None, was, now);
        }
        changes
    }

    /// Domains of the baseline that this run has not looked up.
    pub fn unseen(&self) -> usize {
        self.domains.values().filter(|b| !b.seen).count()
    }
}

/// An exchange as a saved run writes it (`.` for the root).
fn exchange_name(text: &str) -> Result<DomainName, String> {
    if text == "." {
        return Ok(DomainName::root());
    }
    DomainName::parse_ascii(text)
        .map_err(|e| format!("exchange '{}': {e}", crate::text::escape_text(text)))
}

fn push_addresses(
    changes: &mut Vec<Change>,
    exchange: Option<&DomainName>,
    old: &[IpAddr],
    now: &[IpAddr],
) {
    let added: Vec<IpAddr> = now.iter().filter(|a| !old.contains(a)).copied().collect();
    let removed: Vec<IpAddr> = old.iter().filter(|a| !now.contains(a)).copied().collect();
    if !added.is_empty() || !removed.is_empty() {
        changes.push(Change::Addresses {
            exchange: exchange.cloned(),
            added,
            removed,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{answered, entry, mx};
    use std::time::Duration;

    fn settled(seq: u64, domain: &str, records: Vec<crate::resolver::Rdata>) -> Settled {
        Settled::new(entry(seq, domain), answered(records, false), Duration::ZERO)
    }

    #[test]
    fn changes_since_a_baseline() {
        let text = r#"{"domain":"a.example","status":"ok","mx":[{"preference":10,"exchange":"mx1.example"},{"preference":20,"exchange":"mx2.example"}],"error":null}
{"domain":"b.example","status":"no_mx","mx":[],"error":null}
{"domain":"gone.example","status":"ok","mx":[{"preference":5,"exchange":"mx.example"}],"error":null}
"#;
        let mut b = Baseline::parse(text, "old.ndjson").unwrap();
        assert_eq!(b.len(), 3);
        let a = settled(
            0,
            "a.example",
            vec![
                mx(10, "mx1.example"),
                mx(30, "mx2.example"),
                mx(40, "mx3.example"),
            ],
        );
        assert_eq!(
            b.changes(&a),
            vec![
                Change::Preference {
                    exchange: crate::testing::name("mx2.example"),
                    from: 20,
                    to: 30
                },
                Change::ExchangeAdded {
                    exchange: crate::testing::name("mx3.example"),
                    preference: 40
                },
            ]
        );
        let bb = settled(1, "b.example", vec![mx(10, "mx.example")]);
        let c = b.changes(&bb);
        assert_eq!(
            c[0],
            Change::Status {
                from: Status::NoMx,
                to: Status::Ok
            }
        );
        let new = settled(2, "new.example", vec![]);
        assert_eq!(b.changes(&new), vec![Change::New]);
        assert_eq!(b.unseen(), 1, "gone.example was not in this run");
        // Unchanged.
        let mut b = Baseline::parse(text, "old.ndjson").unwrap();
        let same = settled(
            0,
            "a.example",
            vec![mx(10, "mx1.example"), mx(20, "mx2.example")],
        );
        assert!(b.changes(&same).is_empty());
    }

    #[test]
    fn a_json_array_reads_too_and_bad_input_names_its_line() {
        let arr =
            "[\n  {\"domain\":\"a.example\",\"status\":\"nxdomain\",\"mx\":[],\"error\":null}\n]\n";
        assert_eq!(Baseline::parse(arr, "old.json").unwrap().len(), 1);
        let bad = "{\"domain\":\"a.example\",\"status\":\"ok\",\"mx\":[],\"error\":null}\n{\"domain\":\"b\",\"status\":\"sideways\",\"mx\":[],\"error\":null}\n";
        let err = Baseline::parse(bad, "old.ndjson").unwrap_err();
        assert!(
            err.starts_with("old.ndjson:2:") && err.contains("sideways"),
            "{err}"
        );
        let err = Baseline::parse("domain,status\n", "old.csv").unwrap_err();
        assert!(err.starts_with("old.csv:1:"), "{err}");
        let err = Baseline::parse("[\n{\"domain\": 3}\n]", "old.json").unwrap_err();
        assert!(err.starts_with("old.json:2:"), "{err}");
        assert!(
            Baseline::parse("\n\n", "empty.json")
                .unwrap_err()
                .contains("no records")
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn exchanges() -> impl Strategy<Value = Vec<(u16, String)>> {
            proptest::collection::btree_map("[a-z]{1,8}\\.example", any::<u16>(), 0..6)
                .prop_map(|m| m.into_iter().map(|(e, p)| (p, e)).collect())
        }

        proptest! {
            /// Any text: an answer or an error naming the file and a line,
            /// never a panic.
            #[test]
            fn any_text_reads_or_names_its_line(text in "(\\PC|\n|[{}\\[\\]\",:])*") {
                match Baseline::parse(&text, "b.json") {
                    Ok(b) => prop_assert!(!b.is_empty()),
                    Err(e) => prop_assert!(e.starts_with("b.json"), "{}", e),
                }
            }

            /// Any line of mxlookup's own output, cut short anywhere: never
            /// a panic.
            #[test]
            fn cut_records_do_not_panic(mx in exchanges(), cut in 0usize..400) {
                let records = mx.iter().map(|(p, e)| crate::testing::mx(*p, e)).collect();
                let r = settled(0, "a.example", records);
                let line = serde_json::to_string(&Record::of(&r)).unwrap();
                let cut = line.char_indices().map(|(i, _)| i).find(|i| *i >= cut.min(line.len())).unwrap_or(line.len());
                let _ = Baseline::parse(&line[..cut], "b.ndjson");
            }

            /// Output read back as a baseline: the same result has no
            /// changes; each exchange added, removed or re-weighted is
            /// reported once.
            #[test]
            fn output_read_back_reports_exactly_the_changes(
                before in exchanges(),
                after in exchanges(),
                array in any::<bool>(),
            ) {
                let rec = |mx: &[(u16, String)]| mx.iter().map(|(p, e)| crate::testing::mx(*p, e)).collect();
                let then = settled(0, "a.example", rec(&before));
                let line = serde_json::to_string(&Record::of(&then)).unwrap();
                let text = if array { format!("[\n{line}\n]\n") } else { format!("{line}\n") };
                let mut b = Baseline::parse(&text, "b").unwrap();
                prop_assert!(b.changes(&then).is_empty());
                let mut b = Baseline::parse(&text, "b").unwrap();
                let now = settled(0, "a.example", rec(&after));
                let changes = b.changes(&now);
                let was: BTreeMap<&str, u16> = before.iter().map(|(p, e)| (e.as_str(), *p)).collect();
                let is: BTreeMap<&str, u16> = after.iter().map(|(p, e)| (e.as_str(), *p)).collect();
                let mut expected = 0;
                if then.outcome.status() != now.outcome.status() {
                    expected += 1;
                }
                for (e, p) in &is {
                    if was.get(e) != Some(p) {
                        expected += 1;
                    }
                }
                expected += was.keys().filter(|e| !is.contains_key(*e)).count();
                prop_assert_eq!(changes.len(), expected, "{:?}", changes);
            }
        }
    }
}
