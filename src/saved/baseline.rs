//! `--baseline FILE`: what changed since a previous run. The file is
//! mxlookup's own JSON or NDJSON output; each domain of this run is
//! compared with its record there: status, MX records added or removed
//! (each exchange at each preference), preferences, addresses (when both
//! runs audited), or new since. Domains of the baseline that this run did
//! not look up are counted.
//!
//! A failed lookup is never a change. When this run's lookup failed, or
//! the baseline's did (timeout, SERVFAIL, ...), the domain's change is
//! `unchecked`, with the side and the reason; so is an address family
//! whose lookup failed in either run (the other family is still compared).
//!
//! Names compare as canonical names (case-insensitive, no trailing dot).
//! The baseline is read a line at a time (each at most 1 MiB, so
//! `--baseline /dev/zero` fails at once) and held compactly: exchange
//! names are stored once however many domains use them, so a domain costs
//! about 150 bytes plus its addresses. A pretty-printed JSON array (not
//! one record per line) is read whole, up to 256 MiB.

use super::read::{Records, lines};
use super::record::Record;
use crate::name::DomainName;
use crate::outcome::{
    Change, Compared, Family, MtaSts, PolicyState, Settled, Side, Status, Target,
};
use crate::text::{SafeText, escape_text};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read};
use std::net::IpAddr;

/// The most a pretty-printed JSON array baseline may hold.
pub const MAX_WHOLE: u64 = 256 << 20;

/// An exchange name, stored once.
type Id = u32;

/// What the baseline says about one domain.
#[derive(Debug)]
struct Before {
    status: Status,
    /// Why its lookup failed, for a failed one.
    failure: Option<SafeText>,
    /// (preference, exchange), sorted.
    mx: Box<[(u16, Id)]>,
    /// Per exchange, when the baseline was audited.
    addresses: Option<Box<[(Id, Target)]>>,
    implicit: Option<Target>,
    mta_sts: Option<Box<MtaSts>>,
    seen: bool,
}

/// An earlier run to compare with, held in memory by domain.
#[derive(Debug, Default)]
pub struct Baseline {
    domains: HashMap<Box<str>, Before>,
    names: Vec<DomainName>,
    ids: HashMap<DomainName, Id>,
}

impl Baseline {
    /// Read a baseline from `reader`: one record per line (NDJSON, or
    /// mxlookup's JSON array), or, when `reopen` can give the file again,
    /// any JSON array of records. An error names the line and what is
    /// wrong with it.
    pub fn read<R: BufRead>(
        reader: R,
        source: &str,
        reopen: impl FnOnce() -> std::io::Result<Box<dyn Read>>,
    ) -> Result<Baseline, String> {
        let mut b = Baseline::default();
        let mut first = true;
        let mut array = false;
        for line in lines(reader, source) {
            let (n, text) = line?;
            let text = text.trim_start_matches('\u{feff}');
            if first && !text.is_empty() {
                array = text.starts_with('[');
                first = false;
            }
            let body = text.trim_end_matches(',');
            if body.is_empty() || matches!(body, "[" | "]" | "[]") {
                continue;
            }
            let added = Record::parse(body).and_then(|r| b.add(r));
            if let Err(e) = added {
                if array {
                    return Baseline::whole(reopen, source, e, n);
                }
                return Err(format!(
                    "{source}:{n}: not an mxlookup record: {}",
                    escape_text(&e)
                ));
            }
        }
        Ok(b)
    }

    /// A JSON array that is not one record per line: read whole.
    fn whole(
        reopen: impl FnOnce() -> std::io::Result<Box<dyn Read>>,
        source: &str,
        first_error: String,
        line: u64,
    ) -> Result<Baseline, String> {
        let line_error = || {
            format!(
                "{source}:{line}: not an mxlookup record: {}",
                escape_text(&first_error)
            )
        };
        let reader = reopen().map_err(|_| line_error())?;
        let mut text = String::new();
        reader
            .take(MAX_WHOLE + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("{source}: cannot read it: {e}"))?;
        if text.len() as u64 > MAX_WHOLE {
            return Err(format!(
                "{source}: a JSON array over {} MiB that is not one record per line: give it as NDJSON (jq -c '.[]')",
                MAX_WHOLE >> 20
            ));
        }
        let records = Records::read(text, source).map_err(|_| line_error())?;
        let mut b = Baseline::default();
        for (r, n) in records.iter() {
            b.add(r).map_err(|e| {
                format!("{source}:{n}: not an mxlookup record: {}", escape_text(&e))
            })?;
        }
        Ok(b)
    }

    /// Read a baseline held in memory (for tests and library users).
    pub fn parse(text: &str, source: &str) -> Result<Baseline, String> {
        let owned = text.to_string();
        Baseline::read(text.as_bytes(), source, move || {
            Ok(Box::new(std::io::Cursor::new(owned.into_bytes())) as Box<dyn Read>)
        })
    }

    fn id(&mut self, name: DomainName) -> Id {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        let id = self.names.len() as Id;
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn add(&mut self, r: Record<'_>) -> Result<(), String> {
        let records = r.mx.records();
        let mut mx = Vec::with_capacity(records.len());
        let mut addresses = r.problems.is_some().then(Vec::new);
        for m in records.iter() {
            let id = self.id(exchange_name(&m.exchange)?);
            if let Some(list) = &mut addresses {
                match &m.addresses {
                    Some(a) => list.push((
                        id,
                        Target {
                            addresses: a.clone(),
                            unresolved: m.unresolved.clone(),
                        },
                    )),
                    None => addresses = None,
                }
            }
            mx.push((m.preference, id));
        }
        mx.sort_unstable();
        let key: Box<str> = match DomainName::parse_ascii(&r.domain) {
            Ok(n) => n.as_str().into(),
            Err(_) => r.domain.as_ref().into(),
        };
        let failure = (!r.status.is_definite())
            .then(|| SafeText::new(r.error.as_deref().unwrap_or(r.status.as_str())));
        self.domains.insert(
            key,
            Before {
                status: r.status,
                failure,
                mx: mx.into_boxed_slice(),
                addresses: addresses.map(Vec::into_boxed_slice),
                implicit: r.addresses.map(|addresses| Target {
                    addresses,
                    unresolved: r.unresolved.clone(),
                }),
                mta_sts: r.mta_sts.map(Box::new),
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

    /// Compare `r` with the baseline: set its changes, and add the
    /// problems only a comparison can find (an MTA-STS policy that changed
    /// without a new id).
    pub fn apply(&mut self, r: &mut Settled) {
        let changes = self.changes(r);
        let id_unchanged = self
            .domains
            .get(r.entry.display_name())
            .and_then(|b| b.mta_sts.as_deref())
            .zip(r.audit.as_deref().and_then(|a| a.mta_sts.as_ref()))
            .is_some_and(|(then, now)| same_id_new_policy(then, now));
        if let (true, Some(audit)) = (id_unchanged, r.audit.as_deref_mut()) {
            audit.problems.push(crate::outcome::Problem {
                code: crate::outcome::Code::MtaStsIdUnchanged,
                exchange: None,
                message: SafeText::from_static(
                    "the MTA-STS policy changed since the baseline but its id did not: senders that cached the old policy keep it until max_age runs out",
                ),
            });
        }
        r.changes = Some(changes);
    }

    /// What changed for this result since the baseline.
    pub fn changes(&mut self, r: &Settled) -> Vec<Change> {
        let Some(before) = self.domains.get_mut(r.entry.display_name()) else {
            return vec![Change::New];
        };
        before.seen = true;
        let before = &self.domains[r.entry.display_name()];
        let status = r.outcome.status();
        let now_failed = (!status.is_definite()).then(|| {
            SafeText::format(format_args!(
                "{status}: {}",
                r.outcome.error().map_or("", |e| e.as_str())
            ))
        });
        if now_failed.is_some() || before.failure.is_some() {
            let (side, reason) = match (now_failed, &before.failure) {
                (Some(now), Some(then)) => (
                    Side::Both,
                    crate::safe!("this run: {now}; the baseline: {}: {then}", before.status),
                ),
                (Some(now), None) => (Side::Now, now),
                (None, Some(then)) => (Side::Baseline, crate::safe!("{}: {then}", before.status)),
                (None, None) => unreachable!("one of them failed"),
            };
            return vec![Change::Unchecked {
                what: Compared::Mx,
                exchange: None,
                side,
                reason,
            }];
        }
        let mut changes = Vec::new();
        if status != before.status {
            changes.push(Change::Status {
                from: before.status,
                to: status,
            });
        }
        let was: Vec<(u16, &DomainName)> = before
            .mx
            .iter()
            .map(|&(p, id)| (p, &self.names[id as usize]))
            .collect();
        let now: Vec<(u16, &DomainName)> = r.outcome.mx_records().collect();
        changes.extend(mx_changes(&was, &now));
        if let (Some(audit), Some(saved)) =
            (r.audit.as_deref().filter(|a| a.resolved), &before.addresses)
        {
            for x in &audit.exchanges {
                let old = saved
                    .iter()
                    .find(|(id, _)| self.names[*id as usize] == x.name)
                    .map(|(_, t)| t);
                if let Some(old) = old {
                    address_changes(&mut changes, Some(&x.name), old, &x.target);
                }
            }
        }
        if let (Some(now), Some(was)) = (
            r.audit.as_deref().and_then(|a| a.implicit.as_ref()),
            &before.implicit,
        ) {
            address_changes(&mut changes, None, was, now);
        }
        if let (Some(now), Some(was)) = (
            r.audit.as_deref().and_then(|a| a.mta_sts.as_ref()),
            before.mta_sts.as_deref(),
        ) {
            changes.extend(policy_change(was, now));
        }
        changes
    }

    /// Domains of the baseline that this run has not looked up.
    pub fn unseen(&self) -> usize {
        self.domains.values().filter(|b| !b.seen).count()
    }
}

/// The MX records added and removed, each exchange at each preference; an
/// exchange listed once in both with another preference is a
/// `preference` change.
fn mx_changes(was: &[(u16, &DomainName)], now: &[(u16, &DomainName)]) -> Vec<Change> {
    let mut by: BTreeMap<&DomainName, (BTreeSet<u16>, BTreeSet<u16>)> = BTreeMap::new();
    for &(p, e) in was {
        by.entry(e).or_default().0.insert(p);
    }
    for &(p, e) in now {
        by.entry(e).or_default().1.insert(p);
    }
    let mut changes = Vec::new();
    for (e, (then, now)) in by {
        if then.len() == 1 && now.len() == 1 && then != now {
            changes.push(Change::Preference {
                exchange: e.clone(),
                from: *then.first().expect("one"),
                to: *now.first().expect("one"),
            });
            continue;
        }
        for &p in now.difference(&then) {
            changes.push(Change::ExchangeAdded {
                exchange: e.clone(),
                preference: p,
            });
        }
        for &p in then.difference(&now) {
            changes.push(Change::ExchangeRemoved {
                exchange: e.clone(),
                preference: p,
            });
        }
    }
    changes
}

/// What changed in the MTA-STS policy: unchecked when either side could
/// not check it.
fn policy_change(was: &MtaSts, now: &MtaSts) -> Option<Change> {
    let side = match (
        was.state == PolicyState::Unknown,
        now.state == PolicyState::Unknown,
    ) {
        (true, true) => Some(Side::Both),
        (false, true) => Some(Side::Now),
        (true, false) => Some(Side::Baseline),
        (false, false) => None,
    };
    if let Some(side) = side {
        let reason = [now, was]
            .iter()
            .find(|m| m.state == PolicyState::Unknown)
            .and_then(|m| m.error.clone())
            .unwrap_or_default();
        return Some(Change::Unchecked {
            what: Compared::MtaSts,
            exchange: None,
            side,
            reason,
        });
    }
    let (from, to) = (policy_summary(was), policy_summary(now));
    (from != to).then_some(Change::MtaSts { from, to })
}

/// A policy as `mode; max_age N; mx a, b; id X`, or its state.
fn policy_summary(m: &MtaSts) -> SafeText {
    match (m.state, m.mode) {
        (PolicyState::Ok, Some(mode)) => {
            let mut mx: Vec<&str> = m.mx.iter().map(|p| p.as_str()).collect();
            mx.sort_unstable();
            crate::safe!(
                "{}; max_age {}; mx {}; id {}",
                mode.as_str(),
                m.max_age.unwrap_or(0),
                mx.join(", "),
                m.id.as_deref().unwrap_or("-")
            )
        }
        (state, _) => crate::safe!("{}; id {}", state.as_str(), m.id.as_deref().unwrap_or("-")),
    }
}

/// Both policies were fetched, they differ, and the id is the same.
fn same_id_new_policy(was: &MtaSts, now: &MtaSts) -> bool {
    let fetched = |m: &MtaSts| m.state == PolicyState::Ok && m.mode.is_some();
    let mut a: Vec<&str> = was.mx.iter().map(|p| p.as_str()).collect();
    let mut b: Vec<&str> = now.mx.iter().map(|p| p.as_str()).collect();
    a.sort_unstable();
    b.sort_unstable();
    fetched(was)
        && fetched(now)
        && was.id == now.id
        && (was.mode != now.mode || was.max_age != now.max_age || a != b)
}

/// An exchange as a saved run writes it (`.` for the root).
fn exchange_name(text: &str) -> Result<DomainName, String> {
    if text == "." {
        return Ok(DomainName::root());
    }
    DomainName::parse_ascii(text).map_err(|e| format!("exchange '{}': {e}", escape_text(text)))
}

/// The addresses added and removed, in the families looked up in both
/// runs; a family that failed in either is `unchecked`.
fn address_changes(
    changes: &mut Vec<Change>,
    exchange: Option<&DomainName>,
    old: &Target,
    now: &Target,
) {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for family in [Family::V4, Family::V6] {
        let side = match (now.unresolved(family), old.unresolved(family)) {
            (true, true) => Some(Side::Both),
            (true, false) => Some(Side::Now),
            (false, true) => Some(Side::Baseline),
            (false, false) => None,
        };
        if let Some(side) = side {
            changes.push(Change::Unchecked {
                what: Compared::Addresses,
                exchange: exchange.cloned(),
                side,
                reason: crate::safe!("the {} lookup failed", family.record()),
            });
            continue;
        }
        let of = |list: &[IpAddr]| -> Vec<IpAddr> {
            list.iter()
                .copied()
                .filter(|ip| Family::of(ip) == family)
                .collect()
        };
        let (o, n) = (of(&old.addresses), of(&now.addresses));
        added.extend(n.iter().filter(|a| !o.contains(a)));
        removed.extend(o.iter().filter(|a| !n.contains(a)));
    }
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
        // An empty run (an empty shard's output) is an empty baseline.
        assert!(Baseline::parse("\n\n", "empty.json").unwrap().is_empty());
        // No line past 1 MiB: /dev/zero, or a binary file, fails at once.
        let zeros = std::io::Read::take(std::io::repeat(0), 1 << 40);
        let err = Baseline::read(std::io::BufReader::new(zeros), "/dev/zero", || {
            Err(std::io::Error::other("no"))
        })
        .unwrap_err();
        assert!(
            err.starts_with("/dev/zero:1:") && err.contains("1 MiB"),
            "{err}"
        );
    }

    fn failed(seq: u64, domain: &str) -> Settled {
        Settled::new(
            entry(seq, domain),
            crate::outcome::Outcome::Failed(crate::resolver::Failure::timeout()),
            Duration::ZERO,
        )
    }

    #[test]
    fn a_failed_lookup_now_or_then_is_unchecked_never_a_removal() {
        let text = r#"{"domain":"a.example","status":"ok","mx":[{"preference":10,"exchange":"mx1.example"}],"error":null}
{"domain":"b.example","status":"servfail","mx":[],"error":"the server failed (SERVFAIL)"}
{"domain":"c.example","status":"timeout","mx":[],"error":"no answer within the deadline"}
"#;
        let mut b = Baseline::parse(text, "old.ndjson").unwrap();
        match &b.changes(&failed(0, "a.example"))[..] {
            [
                Change::Unchecked {
                    what: Compared::Mx,
                    side: Side::Now,
                    reason,
                    ..
                },
            ] => {
                assert!(reason.contains("timeout"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let now = settled(1, "b.example", vec![mx(10, "mx.example")]);
        match &b.changes(&now)[..] {
            [
                Change::Unchecked {
                    side: Side::Baseline,
                    reason,
                    ..
                },
            ] => {
                assert!(reason.contains("SERVFAIL"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &b.changes(&failed(2, "c.example"))[..],
            [Change::Unchecked {
                side: Side::Both,
                ..
            }]
        ));
    }

    #[test]
    fn one_exchange_at_two_preferences_and_names_in_any_case() {
        let text = r#"{"domain":"A.Example.","status":"ok","mx":[{"preference":10,"exchange":"MX.Example."},{"preference":20,"exchange":"mx.example"}],"error":null}
"#;
        let mut b = Baseline::parse(text, "old.ndjson").unwrap();
        // The same records, written in lower case: no change.
        let same = settled(
            0,
            "a.example",
            vec![mx(10, "mx.example"), mx(20, "mx.example")],
        );
        assert!(b.changes(&same).is_empty());
        // One of the two preferences gone: that record removed, nothing else.
        let mut b = Baseline::parse(text, "old.ndjson").unwrap();
        let one = settled(0, "a.example", vec![mx(10, "mx.example")]);
        assert_eq!(
            b.changes(&one),
            vec![Change::ExchangeRemoved {
                exchange: crate::testing::name("mx.example"),
                preference: 20
            }]
        );
    }

    #[test]
    fn addresses_of_a_family_that_failed_are_unchecked_and_the_other_family_compared() {
        use crate::outcome::{Audit, Exchange, Target};
        let text = r#"{"domain":"a.example","status":"ok","mx":[{"preference":10,"exchange":"mx.example","addresses":["192.0.2.1","2001:db8::1"]}],"error":null,"problems":[]}
"#;
        let mut b = Baseline::parse(text, "old.ndjson").unwrap();
        let mut now = settled(0, "a.example", vec![mx(10, "mx.example")]);
        now.audit = Some(Box::new(Audit {
            resolved: true,
            exchanges: vec![Exchange {
                name: crate::testing::name("mx.example"),
                target: Target {
                    addresses: vec!["192.0.2.9".parse().unwrap()],
                    unresolved: vec![Family::V6],
                },
                dnssec: None,
                dane: None,
            }],
            implicit: None,
            problems: Vec::new(),
            ..Audit::default()
        }));
        let changes = b.changes(&now);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(matches!(
            &changes[0],
            Change::Unchecked {
                what: Compared::Addresses,
                side: Side::Now,
                ..
            }
        ));
        assert_eq!(
            changes[1],
            Change::Addresses {
                exchange: Some(crate::testing::name("mx.example")),
                added: vec!["192.0.2.9".parse().unwrap()],
                removed: vec!["192.0.2.1".parse().unwrap()],
            },
            "the IPv6 address is not reported removed"
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
                    Ok(_) => {}
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
