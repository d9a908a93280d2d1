//! The JSON/NDJSON record of one domain: the output contract, written by
//! the JSON sinks and read back by `--baseline` and `mxlookup report`.
//! One struct for both directions, so they cannot drift apart.
//!
//! Keys that never change meaning: `domain`, `status`, `mx`, `error`.
//! Added since: `input`, `source`, `ttl`, `server`, `time_ms`; `aliases`
//! when the name is an alias, `phase` for a failure; with `--audit`:
//! `addresses` (implicit MX), `problems`, and `addresses` in each `mx`
//! entry, and `unresolved` (the address families whose lookup failed) at
//! the top and in each `mx` entry; with `--baseline`: `changes`.

use crate::outcome::{
    Change, Dane, Dnssec, Family, MtaSts, Origin, Problem, Settled, Status, TlsRpt,
};
use crate::resolver::{Ede, Phase};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// One domain's object in the JSON and NDJSON formats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record<'a> {
    /// The name looked up (for an invalid line, the text).
    #[serde(borrow)]
    pub domain: Cow<'a, str>,
    /// The status.
    pub status: Status,
    /// The MX records, sorted; empty unless `ok`.
    #[serde(borrow)]
    pub mx: MxList<'a>,
    /// A message for a failure or an invalid line.
    #[serde(borrow)]
    pub error: Option<Cow<'a, str>>,
    /// The text as written.
    #[serde(borrow, default)]
    pub input: Cow<'a, str>,
    /// Where it was read: `FILE:LINE`, `stdin:LINE` or `argument N`.
    #[serde(borrow, default)]
    pub source: Text<'a>,
    /// The answer's TTL.
    #[serde(default)]
    pub ttl: Option<u32>,
    /// The nameserver that answered.
    #[serde(borrow, default)]
    pub server: Option<Cow<'a, str>>,
    /// How long the lookup took.
    #[serde(default)]
    pub time_ms: f64,
    /// The CNAME chain followed, when there is one.
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Cow<'a, str>>,
    /// For a failure: which part of the conversation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Extended DNS Errors (RFC 8914) the server gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ede: Vec<Ede>,
    /// `--audit`, no MX: the domain's own addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<IpAddr>>,
    /// `--audit`, no MX: the families whose address lookup failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<Family>,
    /// `--audit`, `--dnssec`: whether the MX answer was authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssec: Option<Dnssec>,
    /// Why the DNSSEC state is unknown, when it is.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub dnssec_why: Option<Cow<'a, str>>,
    /// `--audit`, no MX: DANE for the domain itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<Dane>,
    /// `--audit`: MTA-STS, when checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mta_sts: Option<MtaSts>,
    /// `--audit`: TLS-RPT, when checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_rpt: Option<TlsRpt>,
    /// `--audit`: the problems found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<Problem>>,
    /// `--baseline`: what changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    /// `--shard K/N`: which shard of the job this record is from.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Cow<'a, str>>,
    /// `--shard`: the job's fingerprint (input and result-changing flags).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Cow<'a, str>>,
}

/// One MX record of a [`Record`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord<'a> {
    /// Lower is preferred.
    pub preference: u16,
    /// The mail host (`.` for a null MX).
    #[serde(borrow)]
    pub exchange: Cow<'a, str>,
    /// `--audit`: the exchange's addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<IpAddr>>,
    /// `--audit`: the families whose address lookup failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<Family>,
    /// `--audit`: whether the exchange's addresses were authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssec: Option<Dnssec>,
    /// `--audit`: DANE for the exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<Dane>,
}

/// The `mx` list: written straight from a result (no copy), or read back.
#[derive(Clone, Debug)]
pub enum MxList<'a> {
    /// Written from a result.
    Of(&'a Settled),
    /// Read back.
    List(Vec<MxRecord<'a>>),
}

impl<'a> MxList<'a> {
    /// The records, in order.
    pub fn records(&self) -> Cow<'_, [MxRecord<'a>]> {
        match self {
            MxList::List(l) => Cow::Borrowed(l),
            MxList::Of(r) => Cow::Owned(mx_records(r).collect()),
        }
    }
}

impl PartialEq for MxList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.records() == other.records()
    }
}

fn mx_records<'a>(r: &'a Settled) -> impl Iterator<Item = MxRecord<'a>> + 'a {
    let audit = r.audit.as_deref().filter(|a| a.resolved);
    r.outcome.mx_records().map(move |(preference, exchange)| {
        let target = audit.and_then(|a| a.exchanges.iter().find(|x| &x.name == exchange));
        MxRecord {
            preference,
            exchange: Cow::Borrowed(exchange.as_str()),
            addresses: audit.map(|_| {
                target
                    .map(|x| x.target.addresses.clone())
                    .unwrap_or_default()
            }),
            unresolved: target
                .map(|x| x.target.unresolved.clone())
                .unwrap_or_default(),
            dnssec: target.and_then(|x| x.dnssec),
            dane: target.and_then(|x| x.dane.clone()),
        }
    })
}

impl Serialize for MxList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MxList::List(l) => l.serialize(s),
            MxList::Of(r) => s.collect_seq(mx_records(r)),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for MxList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<MxRecord<'a>>::deserialize(d).map(MxList::List)
    }
}

/// Text written from a value that displays itself (no copy), or read back.
#[derive(Clone, Debug)]
pub enum Text<'a> {
    /// Read back.
    Str(Cow<'a, str>),
    /// Written from an origin.
    Origin(&'a Origin),
}

impl Default for Text<'_> {
    fn default() -> Self {
        Text::Str(Cow::Borrowed(""))
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Str(s) => f.write_str(s),
            Text::Origin(o) => o.fmt(f),
        }
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Text::Str(t) => s.serialize_str(t),
            Text::Origin(o) => s.collect_str(o),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'a> Record<'a> {
    /// The record of one settled result, borrowing from it.
    pub fn of(r: &'a Settled) -> Record<'a> {
        let audit = r.audit.as_deref();
        let answer = r.outcome.answer();
        Record {
            domain: Cow::Borrowed(r.entry.display_name()),
            status: r.outcome.status(),
            mx: MxList::Of(r),
            error: r.outcome.error().map(|e| Cow::Borrowed(e.as_str())),
            input: Cow::Borrowed(r.entry.input.as_str()),
            source: Text::Origin(&r.entry.origin),
            ttl: answer.and_then(|a| a.ttl),
            server: answer
                .and_then(|a| a.server.as_deref())
                .map(|s| Cow::Borrowed(s.as_str())),
            time_ms: (r.elapsed.as_secs_f64() * 1e6).round() / 1e3,
            aliases: answer
                .map(|a| {
                    a.aliases
                        .iter()
                        .map(|n| Cow::Borrowed(n.as_str()))
                        .collect()
                })
                .unwrap_or_default(),
            phase: r.outcome.phase(),
            ede: r.outcome.ede().to_vec(),
            addresses: audit
                .filter(|a| a.resolved)
                .and_then(|a| a.implicit.as_ref())
                .map(|t| t.addresses.clone()),
            unresolved: audit
                .and_then(|a| a.implicit.as_ref())
                .map(|t| t.unresolved.clone())
                .unwrap_or_default(),
            dnssec: audit.and_then(|a| a.dnssec),
            dnssec_why: audit
                .and_then(|a| a.dnssec_why.as_ref())
                .map(|w| Cow::Borrowed(w.as_str())),
            dane: audit.and_then(|a| a.implicit_dane.clone()),
            mta_sts: audit.and_then(|a| a.mta_sts.clone()),
            tls_rpt: audit.and_then(|a| a.tls_rpt.clone()),
            problems: audit.map(|a| a.problems.clone()),
            changes: r.changes.clone(),
            shard: None,
            job: None,
        }
    }

    /// Parse one record, with a message that says what is wrong.
    pub fn parse(text: &'a str) -> Result<Record<'a>, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}
