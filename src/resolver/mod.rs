//! Everything that knows hickory: how a resolver is built, and how an
//! answer or a failure becomes an [`Outcome`]. Nothing outside this module
//! imports hickory types. Engines sit behind [`MxResolver`], so another one
//! can be added without touching input, engine or report.

mod hickory;
pub mod packet;
mod recv;
mod wire;

pub use hickory::HickoryResolver;
pub use wire::WireResolver;

use crate::name::escape_text;
use crate::name::{DomainName, presentation};
use crate::outcome::{Mx, Outcome};
use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// Looks up the MX records of one name and classifies the result.
///
/// An implementation should settle within `Settings::timeout`, but need not
/// promise it: the engine enforces the deadline around every call.
pub trait MxResolver: Send + Sync + 'static {
    fn lookup(&self, name: &DomainName) -> impl Future<Output = Outcome> + Send;
}

/// Which engine does the lookups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The best engine for the job; today always `wire`.
    #[default]
    Auto,
    /// mxlookup's own: long-lived UDP sockets, a TCP connection per query
    /// that needs one, its own timers. Fast, and robust to hostile servers.
    Wire,
    /// hickory-resolver's lookup, with its connection handling.
    Hickory,
}

/// Any engine, chosen at run time.
pub enum AnyResolver {
    Wire(WireResolver),
    Hickory(Box<HickoryResolver>),
}

impl AnyResolver {
    /// Build the engine. Needs a Tokio runtime.
    pub fn new(engine: Engine, settings: &Settings) -> Result<AnyResolver, crate::error::Error> {
        Ok(match engine {
            Engine::Auto | Engine::Wire => AnyResolver::Wire(WireResolver::new(settings)?),
            Engine::Hickory => AnyResolver::Hickory(Box::new(HickoryResolver::new(settings)?)),
        })
    }
}

impl MxResolver for AnyResolver {
    async fn lookup(&self, name: &DomainName) -> Outcome {
        match self {
            AnyResolver::Wire(r) => r.lookup(name).await,
            AnyResolver::Hickory(r) => r.lookup(name).await,
        }
    }
}

/// How to reach the DNS, shared by every engine.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Servers to ask; empty means the system's resolver configuration.
    pub nameservers: Vec<SocketAddr>,
    /// Query over TCP only.
    pub tcp_only: bool,
    /// The most one domain's lookup may take, retries included.
    pub timeout: Duration,
    /// Extra attempts after a timeout or SERVFAIL, inside the deadline.
    pub retries: u32,
    /// The most lookups in flight at once (sizes connection limits).
    pub concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            nameservers: Vec::new(),
            tcp_only: false,
            timeout: Duration::from_secs(5),
            retries: 2,
            concurrency: 32,
        }
    }
}

/// How every connection-level failure message starts, in every engine.
pub(crate) const CONNECTION: &str = "connection to the nameserver failed";

/// The nameservers of the system's resolver configuration.
pub(crate) fn system_nameservers() -> Result<Vec<SocketAddr>, crate::error::Error> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf().map_err(|e| {
        crate::error::Error::ResolverConfig(format!("reading /etc/resolv.conf: {e}"))
    })?;
    let mut servers: Vec<SocketAddr> = config
        .name_servers()
        .iter()
        .flat_map(|s| {
            s.connections
                .iter()
                .map(move |c| SocketAddr::new(s.ip, c.port))
        })
        .collect();
    servers.dedup();
    if servers.is_empty() {
        return Err(crate::error::Error::ResolverConfig(
            "/etc/resolv.conf names no nameserver".into(),
        ));
    }
    Ok(servers)
}

/// The wire-format name to query: fully qualified, so no search domain is
/// ever appended.
pub(crate) fn query_name(name: &DomainName) -> Result<Name, String> {
    let mut n = Name::from_labels(name.labels()).map_err(|e| format!("cannot encode name: {e}"))?;
    n.set_fqdn(true);
    Ok(n)
}

/// The MX records that answer `qname`, following a CNAME chain inside the
/// answer section. Records for other owners are ignored: a server cannot
/// answer for a name we did not ask about.
pub(crate) fn mx_from_answers(qname: &Name, answers: &[Record]) -> Vec<Mx> {
    let mut owner = qname.clone();
    // A chain longer than this is a loop or an attack; stop following.
    for _ in 0..16 {
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(target) if same_name(&r.name, &owner) => Some(target.0.clone()),
            _ => None,
        });
        match next {
            Some(target) if !same_name(&target, &owner) => owner = target,
            _ => break,
        }
    }
    let chain_member = |n: &Name| {
        same_name(n, qname) || same_name(n, &owner) || {
            // Any name on the chain between qname and its final target.
            answers.iter().any(|r| {
                r.record_type() == RecordType::CNAME
                    && matches!(&r.data, RData::CNAME(t) if same_name(&t.0, n))
            })
        }
    };
    answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) if chain_member(&r.name) => Some(Mx {
                preference: mx.preference,
                exchange: presentation(mx.exchange.iter()),
            }),
            _ => None,
        })
        .collect()
}

/// What one datagram or TCP message says about an MX query for `qname`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Not an answer to this question (garbage, a query, another name or
    /// type): ignore it and keep waiting.
    Ignore,
    /// The answer was cut short; ask again over TCP.
    Truncated,
    /// The server failed; worth asking again while the deadline allows.
    Retry(Outcome),
    /// The lookup is settled.
    Final(Outcome),
}

/// Classify raw DNS message bytes received for an MX query of `qname`.
/// Matching the message ID is the caller's job (it knows which IDs are
/// pending); everything else about the message is checked here. Never
/// panics, whatever the bytes. This is the wire engine's fast reader
/// ([`packet::classify`]).
pub fn classify_answer(qname: &DomainName, wire: &[u8]) -> Answer {
    let mut question = Vec::new();
    if qname.write_wire(&mut question).is_err() {
        return Answer::Ignore;
    }
    packet::classify(&question, wire)
}

/// The same as [`classify_answer`], built on hickory-proto's full message
/// decoder: the reference the fast reader is checked against. Slower.
pub fn classify_answer_reference(qname: &DomainName, wire: &[u8]) -> Answer {
    let Ok(qname) = query_name(qname) else {
        return Answer::Ignore;
    };
    let Ok(msg) = Message::from_vec(wire) else {
        return Answer::Ignore;
    };
    classify_message(&qname, &msg)
}

/// Two names are the same when their labels are, ignoring ASCII case
/// (RFC 4343) and whether they are fully qualified.
fn same_name(a: &Name, b: &Name) -> bool {
    a.num_labels() == b.num_labels()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.eq_ignore_ascii_case(y))
}

fn classify_message(qname: &Name, msg: &Message) -> Answer {
    if msg.metadata.message_type != MessageType::Response {
        return Answer::Ignore;
    }
    let asked = msg.queries.len() == 1
        && msg.queries[0].query_type() == RecordType::MX
        && same_name(msg.queries[0].name(), qname);
    if !asked {
        return Answer::Ignore;
    }
    if msg.metadata.truncation {
        return Answer::Truncated;
    }
    match msg.metadata.response_code {
        ResponseCode::NoError => {
            Answer::Final(Outcome::from_mx(mx_from_answers(qname, &msg.answers)))
        }
        ResponseCode::NXDomain => Answer::Final(Outcome::Nxdomain),
        ResponseCode::ServFail => Answer::Retry(Outcome::Servfail),
        ResponseCode::Refused => Answer::Final(Outcome::Refused),
        other => Answer::Final(Outcome::Error(format!(
            "the server answered {}",
            escape_text(&other.to_string())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{CNAME, MX};

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn mx_record(owner: &str, pref: u16, exch: Name) -> Record {
        Record::from_rdata(name(owner), 60, RData::MX(MX::new(pref, exch)))
    }

    #[test]
    fn follows_cnames_and_ignores_foreign_owners() {
        let answers = vec![
            Record::from_rdata(
                name("alias.example."),
                60,
                RData::CNAME(CNAME(name("real.example."))),
            ),
            mx_record("real.example.", 10, name("mx.real.example.")),
            mx_record("other.example.", 5, name("evil.example.")),
        ];
        let got = mx_from_answers(&name("Alias.Example."), &answers);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].exchange, "mx.real.example");
    }

    #[test]
    fn owners_match_in_any_case() {
        // hickory's eq_ignore_root_case compares case-sensitively; owners
        // spelt in another case than the question must still count.
        let answers = vec![mx_record("A.EXAMPLE.", 10, name("mx.example."))];
        let got = mx_from_answers(&name("a.example."), &answers);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn control_bytes_in_an_exchange_are_escaped() {
        let exch = Name::from_labels(vec![b"m\x1b[31mx".to_vec(), b"example".to_vec()]).unwrap();
        let answers = vec![mx_record("a.example.", 1, exch)];
        let got = mx_from_answers(&name("a.example."), &answers);
        assert_eq!(got[0].exchange, "m\\027\\09131mx.example");
    }

    #[test]
    fn classifies_raw_answers() {
        use hickory_resolver::proto::op::{OpCode, Query};
        let d = DomainName::parse_ascii("a.example").unwrap();
        let q = Query::query(name("a.example."), RecordType::MX);
        let answer = |code: ResponseCode, tc: bool| {
            let mut m = Message::new(7, MessageType::Response, OpCode::Query);
            m.metadata.response_code = code;
            m.metadata.truncation = tc;
            m.add_query(q.clone());
            m
        };
        let mut ok = answer(ResponseCode::NoError, false);
        ok.add_answer(mx_record("a.example.", 10, name("mx.example.")));
        assert_eq!(
            classify_answer(&d, &ok.to_vec().unwrap()),
            Answer::Final(Outcome::Ok(vec![Mx {
                preference: 10,
                exchange: "mx.example".into()
            }]))
        );
        let wire = |m: Message| m.to_vec().unwrap();
        assert_eq!(
            classify_answer(&d, &wire(answer(ResponseCode::NoError, false))),
            Answer::Final(Outcome::NoMx)
        );
        assert_eq!(
            classify_answer(&d, &wire(answer(ResponseCode::NXDomain, false))),
            Answer::Final(Outcome::Nxdomain)
        );
        assert_eq!(
            classify_answer(&d, &wire(answer(ResponseCode::ServFail, false))),
            Answer::Retry(Outcome::Servfail)
        );
        assert_eq!(
            classify_answer(&d, &wire(answer(ResponseCode::Refused, false))),
            Answer::Final(Outcome::Refused)
        );
        assert_eq!(
            classify_answer(&d, &wire(answer(ResponseCode::NoError, true))),
            Answer::Truncated
        );
        assert!(matches!(
            classify_answer(&d, &wire(answer(ResponseCode::NotImp, false))),
            Answer::Final(Outcome::Error(_))
        ));
        // Another name, a query instead of a response, and garbage are ignored.
        let other = DomainName::parse_ascii("b.example").unwrap();
        assert_eq!(
            classify_answer(&other, &wire(answer(ResponseCode::NoError, false))),
            Answer::Ignore
        );
        let mut query = answer(ResponseCode::NoError, false);
        query.metadata.message_type = MessageType::Query;
        assert_eq!(classify_answer(&d, &wire(query)), Answer::Ignore);
        assert_eq!(classify_answer(&d, b"\x00\x07garbage"), Answer::Ignore);
    }

    #[test]
    fn query_names_are_fully_qualified() {
        let n = query_name(&DomainName::parse_ascii("a\\.b.example").unwrap()).unwrap();
        assert!(n.is_fqdn());
        assert_eq!(n.num_labels(), 2);
    }
}
