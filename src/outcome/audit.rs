//! What the audit found for one domain: the addresses delivery would use,
//! which of their lookups failed, and the problems.

use super::{Dane, Dnssec, MtaSts, Problem, TlsRpt};
use crate::name::DomainName;
use serde::{Deserialize, Serialize};
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
    pub implicit: Option<Target>,
    /// With no MX records: DANE for the domain itself, when checked.
    pub implicit_dane: Option<Dane>,
    /// Whether the MX answer was authenticated, when asked (`dnssec`).
    pub dnssec: Option<Dnssec>,
    /// Why the DNSSEC state is unknown, when it is.
    pub dnssec_why: Option<crate::text::SafeText>,
    /// MTA-STS, when checked.
    pub mta_sts: Option<MtaSts>,
    /// TLS-RPT, when checked.
    pub tls_rpt: Option<TlsRpt>,
    /// What is wrong, or could not be checked, each with a code.
    pub problems: Vec<Problem>,
}

impl Audit {
    /// The DANE state of every exchange checked (or of the domain itself
    /// under implicit MX).
    pub fn dane_states(&self) -> impl Iterator<Item = super::DaneState> + '_ {
        self.exchanges
            .iter()
            .filter_map(|x| x.dane.as_ref())
            .chain(self.implicit_dane.as_ref())
            .map(|d| d.state)
    }
}

/// One exchange as delivery would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The exchange's name, as the MX record gives it.
    pub name: DomainName,
    /// Its addresses, and the lookups that failed.
    pub target: Target,
    /// Whether its addresses were authenticated, when asked.
    pub dnssec: Option<Dnssec>,
    /// DANE, when checked.
    pub dane: Option<Dane>,
}

/// The addresses of one host delivery would connect to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// A and AAAA, IPv4 first, each sorted.
    pub addresses: Vec<IpAddr>,
    /// The address families whose lookup failed (timeout, SERVFAIL, ...):
    /// addresses of that family are unknown, not absent.
    pub unresolved: Vec<Family>,
}

impl Target {
    /// Whether the lookup of this family failed.
    pub fn unresolved(&self, family: Family) -> bool {
        self.unresolved.contains(&family)
    }
}

/// An address family, by the record type that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    /// IPv4 (A records).
    #[serde(rename = "A")]
    V4,
    /// IPv6 (AAAA records).
    #[serde(rename = "AAAA")]
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The record type's name: `A` or `AAAA`.
    pub fn record(self) -> &'static str {
        match self {
            Family::V4 => "A",
            Family::V6 => "AAAA",
        }
    }
}
