//! What the audit found for one domain: the addresses delivery would use,
//! and the problems.

use super::Problem;
use crate::name::DomainName;
use std::net::IpAddr;

/// What the audit found for one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    /// Addresses were looked up (`--audit`); with `--expect` alone they
    /// are not.
    pub resolved: bool,
    /// Per exchange, in the order of the MX records.
    pub exchanges: Vec<Exchange>,
    /// With no MX records: the domain's own addresses (implicit MX,
    /// RFC 5321 §5.1).
    pub implicit: Option<Vec<IpAddr>>,
    /// What is wrong, each with a code.
    pub problems: Vec<Problem>,
}

/// One exchange as delivery would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The exchange's name, as the MX record gives it.
    pub name: DomainName,
    /// A and AAAA, IPv4 first, each sorted.
    pub addresses: Vec<IpAddr>,
}
