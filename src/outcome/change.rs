//! What changed for one domain since a baseline (`--baseline`).

use super::Status;
use crate::name::DomainName;
use crate::text::SafeText;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One change of one domain since the baseline. A failed lookup, in this
/// run or in the baseline, is never a change: it is [`Change::Unchecked`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The domain was not in the baseline.
    New,
    /// The status changed, both being definite answers.
    Status {
        /// The baseline's status.
        from: Status,
        /// This run's status.
        to: Status,
    },
    /// An MX record (exchange and preference) this run has and the
    /// baseline had not.
    ExchangeAdded {
        /// The exchange.
        exchange: DomainName,
        /// Its preference now.
        preference: u16,
    },
    /// An MX record the baseline had and this run has not.
    ExchangeRemoved {
        /// The exchange.
        exchange: DomainName,
        /// Its preference then.
        preference: u16,
    },
    /// An exchange listed once in both, with another preference.
    Preference {
        /// The exchange.
        exchange: DomainName,
        /// The preference then.
        from: u16,
        /// The preference now.
        to: u16,
    },
    /// An exchange's addresses (or, with no MX, the domain's: `exchange`
    /// null) changed, in the address families looked up in both runs.
    Addresses {
        /// The exchange, or `None` for the domain's own addresses.
        exchange: Option<DomainName>,
        /// Addresses it has now and had not.
        added: Vec<IpAddr>,
        /// Addresses it had and has not now.
        removed: Vec<IpAddr>,
    },
    /// The MTA-STS policy changed (its state, mode, max_age, `mx`
    /// patterns or id), as `mode; max_age; mx; id` or the state.
    MtaSts {
        /// The baseline's policy.
        from: SafeText,
        /// This run's.
        to: SafeText,
    },
    /// Could not be compared: a lookup failed in this run, in the baseline,
    /// or both. Unknown, not a change.
    Unchecked {
        /// What could not be compared.
        what: Compared,
        /// The exchange, for its addresses; `None` for the domain's MX set
        /// or its own addresses.
        exchange: Option<DomainName>,
        /// Where the lookup failed.
        side: Side,
        /// Why, as the failed lookup says.
        reason: SafeText,
    },
}

/// What a [`Change::Unchecked`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compared {
    /// The MX set (the lookup of the domain's MX records failed).
    Mx,
    /// Addresses (an address lookup failed).
    Addresses,
    /// The MTA-STS policy (its lookup or fetch failed).
    MtaSts,
}

/// Which run a failed lookup belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// This run.
    Now,
    /// The baseline.
    Baseline,
    /// Both.
    Both,
}

impl Change {
    /// A real change (not `new`, not unchecked): what `--baseline` calls
    /// drift.
    pub fn is_drift(&self) -> bool {
        !matches!(self, Change::New | Change::Unchecked { .. })
    }
}
