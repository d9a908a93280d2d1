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
    /// Extended DNS Errors (RFC 8914) that came with the answer.
    pub ede: Vec<Ede>,
}

/// An Extended DNS Error (RFC 8914): why a resolver failed, or what it
/// did (a stale answer, a filtered name).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ede {
    /// The INFO-CODE.
    pub code: u16,
    /// The EXTRA-TEXT the server gave, if any (escaped, cut short).
    #[serde(default, skip_serializing_if = "SafeText::is_empty")]
    pub text: SafeText,
}

impl Ede {
    /// The code's name in the IANA registry.
    pub fn name(&self) -> &'static str {
        match self.code {
            0 => "Other Error",
            1 => "Unsupported DNSKEY Algorithm",
            2 => "Unsupported DS Digest Type",
            3 => "Stale Answer",
            4 => "Forged Answer",
            5 => "DNSSEC Indeterminate",
            6 => "DNSSEC Bogus",
            7 => "Signature Expired",
            8 => "Signature Not Yet Valid",
            9 => "DNSKEY Missing",
            10 => "RRSIGs Missing",
            11 => "No Zone Key Bit Set",
            12 => "NSEC Missing",
            13 => "Cached Error",
            14 => "Not Ready",
            15 => "Blocked",
            16 => "Censored",
            17 => "Filtered",
            18 => "Prohibited",
            19 => "Stale NXDOMAIN Answer",
            20 => "Not Authoritative",
            21 => "Not Supported",
            22 => "No Reachable Authority",
            23 => "Network Error",
            24 => "Invalid Data",
            25 => "Signature Expired before Valid",
            26 => "Too Early",
            27 => "Unsupported NSEC3 Iterations Value",
            28 => "Unable to conform to policy",
            29 => "Synthesized",
            30 => "Invalid Query Type",
            _ => "Unassigned",
        }
    }
}

impl fmt::Display for Ede {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (EDE {})", self.name(), self.code)?;
        if !self.text.is_empty() {
            write!(f, ": {}", self.text)?;
        }
        Ok(())
    }
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
    /// Extended DNS Errors (RFC 8914) the server gave with its failure.
    pub ede: Vec<Ede>,
}

impl Failure {
    /// The server failed (SERVFAIL).
    pub fn servfail() -> Failure {
        Failure {
            kind: FailureKind::Servfail,
            phase: Phase::Server,
            message: SafeText::from_static("the server failed (SERVFAIL)"),
            ede: Vec::new(),
        }
    }

    /// The server refused (REFUSED).
    pub fn refused() -> Failure {
        Failure {
            kind: FailureKind::Refused,
            phase: Phase::Server,
            message: SafeText::from_static("the server refused the query (REFUSED)"),
            ede: Vec::new(),
        }
    }

    /// No answer within the deadline.
    pub fn timeout() -> Failure {
        Failure {
            kind: FailureKind::Timeout,
            phase: Phase::Network,
            message: SafeText::from_static("no answer within the deadline"),
            ede: Vec::new(),
        }
    }

    /// Any other failure, in this phase, with this message (escaped).
    pub fn error(phase: Phase, message: impl Into<SafeText>) -> Failure {
        Failure {
            kind: FailureKind::Error,
            phase,
            message: message.into(),
            ede: Vec::new(),
        }
    }

    /// The same failure with the server's Extended DNS Errors, which its
    /// message then gives too: `the server failed (SERVFAIL): DNSSEC Bogus
    /// (EDE 6): ...`.
    pub fn with_ede(mut self, ede: Vec<Ede>) -> Failure {
        if ede.is_empty() {
            return self;
        }
        let said: Vec<String> = ede.iter().map(ToString::to_string).collect();
        self.message = crate::safe!("{}: {}", self.message, said.join("; "));
        self.ede = ede;
        self
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
