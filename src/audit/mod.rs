//! The audit (`--audit`): will mail for a domain reach a server? For each
//! domain, the addresses of its exchanges (or, with no MX, of the domain
//! itself), and the problems a mail operator would want to know about,
//! each with a stable code.

pub mod baseline;

use crate::name::DomainName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// What the audit found for one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Per exchange, in the order of the MX records.
    pub exchanges: Vec<Exchange>,
    /// With no MX records: the domain's own addresses (implicit MX,
    /// RFC 5321 §5.1).
    pub implicit: Option<Vec<IpAddr>>,
    pub problems: Vec<Problem>,
}

/// One exchange as delivery would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub name: DomainName,
    /// A and AAAA, IPv4 first, each sorted.
    pub addresses: Vec<IpAddr>,
}

/// A problem with a domain's mail routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: Code,
    /// The exchange it is about, if any.
    pub exchange: Option<String>,
    pub message: String,
}

/// The stable problem codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    ImplicitMx,
    NoRoute,
    InvalidNullMx,
    CnameTarget,
    IpLiteralTarget,
    DanglingExchange,
    SpecialAddress,
    UnresolvedExchange,
    UnexpectedExchange,
}

impl Code {
    pub const ALL: [Code; 9] = [
        Code::NoRoute,
        Code::DanglingExchange,
        Code::InvalidNullMx,
        Code::UnresolvedExchange,
        Code::UnexpectedExchange,
        Code::CnameTarget,
        Code::IpLiteralTarget,
        Code::SpecialAddress,
        Code::ImplicitMx,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::ImplicitMx => "implicit_mx",
            Code::NoRoute => "no_route",
            Code::InvalidNullMx => "invalid_null_mx",
            Code::CnameTarget => "cname_target",
            Code::IpLiteralTarget => "ip_literal_target",
            Code::DanglingExchange => "dangling_exchange",
            Code::SpecialAddress => "special_address",
            Code::UnresolvedExchange => "unresolved_exchange",
            Code::UnexpectedExchange => "unexpected_exchange",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
