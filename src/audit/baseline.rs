//! `--baseline FILE`: what changed since a previous run.

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
        from: String,
        to: String,
    },
    ExchangeAdded {
        exchange: String,
        preference: u16,
    },
    ExchangeRemoved {
        exchange: String,
        preference: u16,
    },
    Preference {
        exchange: String,
        from: u16,
        to: u16,
    },
    /// An exchange's addresses (or, with no MX, the domain's) changed.
    Addresses {
        exchange: Option<String>,
        added: Vec<IpAddr>,
        removed: Vec<IpAddr>,
    },
}
