//! What the audit found of a domain's mail policies: MTA-STS (RFC 8461)
//! and TLS-RPT (RFC 8460), as they are written in the JSON formats.

use crate::text::SafeText;
use serde::{Deserialize, Serialize};

/// Where a policy check ended: good, absent, a finding, or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyState {
    /// Published and valid.
    Ok,
    /// Not published (no record that counts).
    None,
    /// Published, but senders must ignore it: malformed or ambiguous.
    Invalid,
    /// A record, but the policy cannot be had (MTA-STS): the host does not
    /// resolve, TLS fails, not 200, not text/plain, too large, a redirect.
    Unreachable,
    /// Could not be checked: a lookup or the fetch failed or timed out.
    Unknown,
}

impl PolicyState {
    /// The state as the formats write it.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyState::Ok => "ok",
            PolicyState::None => "none",
            PolicyState::Invalid => "invalid",
            PolicyState::Unreachable => "unreachable",
            PolicyState::Unknown => "unknown",
        }
    }
}

/// An MTA-STS policy's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Senders refuse exchanges the policy does not cover, and plain text.
    Enforce,
    /// Senders report failures but deliver anyway.
    Testing,
    /// The domain withdraws its policy.
    None,
}

impl Mode {
    /// The mode as the policy writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// A domain's MTA-STS, as far as it could be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MtaSts {
    /// Where the check ended.
    pub state: PolicyState,
    /// The record's policy id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SafeText>,
    /// The policy's mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// The policy's max_age, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// The policy's `mx` patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx: Vec<SafeText>,
    /// Why it is absent, invalid, unreachable or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SafeText>,
}

impl MtaSts {
    /// A check that ended before a policy: absent, invalid, unreachable or
    /// unknown, and why.
    pub fn without_policy(state: PolicyState, id: Option<SafeText>, error: SafeText) -> MtaSts {
        MtaSts {
            state,
            id,
            mode: None,
            max_age: None,
            mx: Vec::new(),
            error: Some(error),
        }
    }
}

/// A domain's TLS-RPT record, as far as it could be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRpt {
    /// Where the check ended (`unreachable` does not occur).
    pub state: PolicyState,
    /// Where reports go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rua: Vec<SafeText>,
    /// Why it is absent, invalid or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SafeText>,
}

/// Whether the validating resolver authenticated an answer (its AD bit,
/// when the query asked with DO and AD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dnssec {
    /// Authenticated (AD).
    Secure,
    /// Answered, not authenticated.
    Insecure,
    /// The lookup failed (a bogus answer is a SERVFAIL): unknown.
    Unknown,
}

impl Dnssec {
    /// The state as the formats write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Dnssec::Secure => "secure",
            Dnssec::Insecure => "insecure",
            Dnssec::Unknown => "unknown",
        }
    }
}

/// What DANE (RFC 7672) comes to for one exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaneState {
    /// No TLSA records.
    None,
    /// Authenticated TLSA records that senders use (DANE-TA or DANE-EE).
    Usable,
    /// TLSA records, but none that senders can use for SMTP.
    Unusable,
    /// TLSA records that no sender applies: the MX set, the exchange's
    /// addresses or the TLSA records themselves are not authenticated.
    Ineffective,
    /// The TLSA lookup failed for a secure exchange: DANE senders defer.
    Failed,
    /// The TLSA lookup timed out: unknown.
    Unknown,
}

impl DaneState {
    /// The state as the formats write it.
    pub fn as_str(self) -> &'static str {
        match self {
            DaneState::None => "none",
            DaneState::Usable => "usable",
            DaneState::Unusable => "unusable",
            DaneState::Ineffective => "ineffective",
            DaneState::Failed => "failed",
            DaneState::Unknown => "unknown",
        }
    }
}

/// DANE for one exchange: its state, and its TLSA records in presentation
/// form (`3 1 1 ABCD...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dane {
    /// What it comes to.
    pub state: DaneState,
    /// The records, as `usage selector matching data` (hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlsa: Vec<SafeText>,
    /// The name the records were found at (`_25._tcp.NAME`), when it is
    /// not the exchange itself (a CNAME-expanded name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<crate::name::DomainName>,
}
