//! Everything that knows hickory: how a resolver is built, and how an
//! answer or a failure becomes an [`Outcome`]. Nothing outside this module
//! imports hickory types. Engines sit behind [`MxResolver`], so another one
//! can be added without touching input, engine or report.

mod hickory;

pub use hickory::HickoryResolver;

use crate::name::{DomainName, presentation};
use crate::outcome::{Mx, Outcome};
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
            RData::CNAME(target) if r.name.eq_ignore_root_case(&owner) => Some(target.0.clone()),
            _ => None,
        });
        match next {
            Some(target) if !target.eq_ignore_root_case(&owner) => owner = target,
            _ => break,
        }
    }
    let chain_member = |n: &Name| {
        n.eq_ignore_root_case(qname) || n.eq_ignore_root_case(&owner) || {
            // Any name on the chain between qname and its final target.
            answers.iter().any(|r| {
                r.record_type() == RecordType::CNAME
                    && matches!(&r.data, RData::CNAME(t) if t.0.eq_ignore_root_case(n))
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
    fn control_bytes_in_an_exchange_are_escaped() {
        let exch = Name::from_labels(vec![b"m\x1b[31mx".to_vec(), b"example".to_vec()]).unwrap();
        let answers = vec![mx_record("a.example.", 1, exch)];
        let got = mx_from_answers(&name("a.example."), &answers);
        assert_eq!(got[0].exchange, "m\\027\\09131mx.example");
    }

    #[test]
    fn query_names_are_fully_qualified() {
        let n = query_name(&DomainName::parse_ascii("a\\.b.example").unwrap()).unwrap();
        assert!(n.is_fqdn());
        assert_eq!(n.num_labels(), 2);
    }
}
