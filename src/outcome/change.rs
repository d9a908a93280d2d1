//! What changed for one domain since a baseline (`--baseline`).

use super::Status;
use crate::name::DomainName;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One change of one domain since the baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The domain was not in the baseline.
    New,
    /// The status changed.
    Status {
        /// The baseline's status.
        from: Status,
        /// This run's status.
        to: Status,
    },
    /// An exchange this run has and the baseline had not.
    ExchangeAdded {
        /// The exchange.
        exchange: DomainName,
        /// Its preference now.
        preference: u16,
    },
    /// An exchange the baseline had and this run has not.
    ExchangeRemoved {
        /// The exchange.
        exchange: DomainName,
        /// Its preference then.
        preference: u16,
    },
    /// An exchange whose preference changed.
    Preference {
        /// The exchange.
        exchange: DomainName,
        /// The preference then.
        from: u16,
        /// The preference now.
        to: u16,
    },
    /// An exchange's addresses (or, with no MX, the domain's: `exchange`
    /// null) changed.
    Addresses {
        /// The exchange, or `None` for the domain's own addresses.
        exchange: Option<DomainName>,
        /// Addresses it has now and had not.
        added: Vec<IpAddr>,
        /// Addresses it had and has not now.
        removed: Vec<IpAddr>,
    },
}
