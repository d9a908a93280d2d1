//! Typed answers that keep their evidence, and typed failures that keep
//! their phase. A resolver's reply to one question is
//! `Result<Answer, Failure>`.

use crate::name::DomainName;
use crate::text::SafeText;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The data of one record of the type asked for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rdata {
    /// An MX record.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The mail host; the root for a null MX.
        exchange: DomainName,
    },
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A CNAME's target.
    Cname(DomainName),
    /// A TXT record's strings, joined, as bytes (not necessarily text).
    Txt(Box<[u8]>),
    /// A DANE certificate association (RFC 6698): certificate usage,
    /// selector, matching type, and the association data.
    Tlsa {
        /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
        usage: u8,
        /// 0 the whole certificate, 1 its public key.
        selector: u8,
        /// 0 the data itself, 1 SHA-256, 2 SHA-512.
        matching: u8,
        /// The certificate, key or digest.
        data: Box<[u8]>,
    },
}

impl Rdata {
    /// The address of an A or AAAA record.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            Rdata::A(a) => Some(IpAddr::V4(*a)),
            Rdata::Aaaa(a) => Some(IpAddr::V6(*a)),
            _ => None,
        }
    }
}

/// What the DNS said about one question: records, or none (NODATA), or
/// that the name does not exist; with the evidence behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// The last name of the chain does not exist (NXDOMAIN, RFC 6604).
    pub nxdomain: bool,
    /// The aliases followed from the question's name, in order (CNAME
    /// targets, and names synthesised from a DNAME); the last one is the
    /// canonical name. Empty when the name is not an alias.
    pub aliases: Vec<DomainName>,
    /// The records of the type asked for, owned by the canonical name,
    /// sorted, without repeats.
    pub records: Vec<Rdata>,
    /// The smallest TTL of the records and the aliases; for an answer
    /// without records, the negative-caching TTL from the SOA, if any.
    pub ttl: Option<u32>,
    /// The server set the AD bit (it validated the answer with DNSSEC) on
    /// every response of the chain.
    pub authenticated: bool,
    /// The server that gave the (last) answer.
    pub server: Option<Arc<SafeText>>,
}

impl Answer {
    /// The name the records belong to: the end of the alias chain, or `asked`.
    pub fn canonical<'a>(&'a self, asked: &'a DomainName) -> &'a DomainName {
        self.aliases.last().unwrap_or(asked)
    }

    /// The addresses among the records.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.records.iter().filter_map(Rdata::address)
    }
}

/// Which part of the conversation with the DNS failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No answer came back: silence, a refused connection, an I/O error.
    Network,
    /// An answer came back but could not be used: malformed, a loop, a
    /// truncated TCP answer.
    Protocol,
    /// The server answered with a failure: SERVFAIL, REFUSED, another
    /// response code, or a referral where recursion was asked for.
    Server,
    /// mxlookup itself failed (a bug, or an interruption).
    Internal,
}

impl Phase {
    /// The phase as the JSON formats write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Network => "network",
            Phase::Protocol => "protocol",
            Phase::Server => "server",
            Phase::Internal => "internal",
        }
    }
}

/// The kind of failure, which decides the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The server failed (SERVFAIL).
    Servfail,
    /// The server refused (REFUSED).
    Refused,
    /// No answer within the deadline.
    Timeout,
    /// Anything else; the message says what.
    Error,
}

/// Why a question got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Which status it gives.
    pub kind: FailureKind,
    /// Which part of the conversation failed.
    pub phase: Phase,
    /// For people.
    pub message: SafeText,
}

impl Failure {
    /// The server failed (SERVFAIL).
    pub fn servfail() -> Failure {
        Failure {
            kind: FailureKind::Servfail,
            phase: Phase::Server,
            message: SafeText::from_static("the server failed (SERVFAIL)"),
        }
    }

    /// The server refused (REFUSED).
    pub fn refused() -> Failure {
        Failure {
            kind: FailureKind::Refused,
            phase: Phase::Server,
            message: SafeText::from_static("the server refused the query (REFUSED)"),
        }
    }

    /// No answer within the deadline.
    pub fn timeout() -> Failure {
        Failure {
            kind: FailureKind::Timeout,
            phase: Phase::Network,
            message: SafeText::from_static("no answer within the deadline"),
        }
    }

    /// Any other failure, in this phase, with this message (escaped).
    pub fn error(phase: Phase, message: impl Into<SafeText>) -> Failure {
        Failure {
            kind: FailureKind::Error,
            phase,
            message: message.into(),
        }
    }

    /// The same failure, said of an alias's target: "looking up the alias
    /// target x: ...".
    pub fn for_target(mut self, target: &DomainName) -> Failure {
        self.message = crate::safe!("looking up the alias target {target}: {}", self.message);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_str())
    }
}
