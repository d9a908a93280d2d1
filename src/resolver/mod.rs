//! Turns a question (name, type) into a typed answer. In layers, each in a
//! file of its own:
//!
//! - `codec`: write a query for any type; read a response as a typed view.
//! - `classify`: the one place that decides what a response means.
//! - `udp` and `tcp`: transports. UDP is a pool of connected sockets per
//!   server with ID/question matching and `recvmmsg`; TCP is a connection
//!   per query.
//! - `server` and `wire`: the wire engine's client: per-server state
//!   (RTT, capabilities, congestion control) and the rules for rotation,
//!   retransmission, retries and failover.
//! - `hickory`: the same interface over hickory-resolver's nameserver
//!   pool, with the same classifier.
//! - this module: the [`Resolver`] trait, following aliases across
//!   queries (shared by both engines), and the settings.
//!
//! The resolver imports nothing of the crate but [`crate::name`],
//! [`crate::text`] and [`crate::error`]; nothing outside it imports
//! hickory types.

mod answer;
pub(crate) mod classify;
pub(crate) mod codec;
mod control;
mod hickory;
mod nameserver;
#[cfg(test)]
mod properties;
mod recv;
mod retransmit;
mod server;
mod system;
pub use system::{SystemConfig, usable};
mod tcp;
mod tls;
mod udp;
mod whole;
mod wire;

pub use answer::{Answer, Ede, Failure, FailureKind, Phase, Rdata};
pub(crate) use classify::Step;
pub use codec::RecordType;
pub use hickory::HickoryResolver;
pub use nameserver::Nameserver;
pub use server::Stats as ServerStats;
pub(crate) use tls::client_config as tls_config;
pub use wire::WireResolver;

use crate::error::Error;
use crate::name::DomainName;
use crate::text::SafeText;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Answers questions: (name, type) to a typed answer or a failure, with
/// aliases followed. Implementations keep their own deadline: `--timeout`
/// from the first send of a question, aliases included.
pub trait Resolver: Send + Sync + 'static {
    /// Ask `qtype` about `name`, following aliases.
    fn resolve(
        &self,
        name: &DomainName,
        qtype: RecordType,
    ) -> impl Future<Output = Result<Answer, Failure>> + Send;

    /// Per nameserver: what it saw during the run. Empty if the engine
    /// does not say.
    fn server_stats(&self) -> Vec<(Arc<SafeText>, ServerStats)> {
        Vec::new()
    }
}

/// One question asked of the network until it is settled: an answer, an
/// alias to follow, or a failure. The layer under [`follow`].
pub(crate) trait Ask: Send + Sync {
    fn ask(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
    ) -> impl Future<Output = Result<Step, Failure>> + Send;
}

/// When a lookup must be settled by: unset until its first send.
#[derive(Clone, Copy, Debug, Default)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// Start the clock at `now`, unless it is running already.
    pub fn start(&mut self, now: Instant, timeout: Duration) {
        if self.0.is_none() {
            self.0 = Some(now.checked_add(timeout).unwrap_or(now + MAX_TIMEOUT));
        }
    }

    /// Whether the deadline has passed at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        self.0.is_some_and(|d| now >= d)
    }

    /// `t`, or the deadline if that comes first.
    pub fn cap(&self, t: Instant) -> Instant {
        self.0.map_or(t, |d| d.min(t))
    }

    /// How much time is left at `now` (all of it before the clock starts).
    pub fn left(&self, now: Instant) -> Duration {
        self.0
            .map_or(Duration::MAX, |d| d.saturating_duration_since(now))
    }
}

/// The longest `--timeout` accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Ask about `name`, and when the answer is an alias that the server did
/// not follow, ask again about its target (RFC 1034 §5.3.3), until the
/// records, a definite negative answer, a loop, or more than
/// [`classify::MAX_ALIASES`] aliases. A failure while following says which
/// target it was about.
pub(crate) async fn follow<A: Ask>(
    asker: &A,
    name: &DomainName,
    qtype: RecordType,
) -> Result<Answer, Failure> {
    let mut deadline = Deadline::default();
    let mut aliases: Vec<DomainName> = Vec::new();
    let mut ttl: Option<u32> = None;
    let mut authenticated = true;
    let mut current = name.clone();
    loop {
        let step = asker.ask(&current, qtype, &mut deadline).await;
        let (mut part, next) = match step {
            Ok(Step::Answer(a)) => (a, None),
            Ok(Step::Follow { partial, next }) => (partial, Some(next)),
            Err(f) if aliases.is_empty() => return Err(f),
            Err(f) => return Err(f.for_target(&current)),
        };
        for alias in &part.aliases {
            if alias == name || aliases.contains(alias) {
                aliases.push(alias.clone());
                let path: Vec<&str> = std::iter::once(name.as_str())
                    .chain(aliases.iter().map(DomainName::as_str))
                    .collect();
                return Err(Failure::error(
                    Phase::Protocol,
                    format!("an alias loop: {}", path.join(" → ")),
                ));
            }
            aliases.push(alias.clone());
        }
        if aliases.len() > classify::MAX_ALIASES {
            return Err(Failure::error(
                Phase::Protocol,
                format!("a chain of more than {} aliases", classify::MAX_ALIASES),
            ));
        }
        ttl = match (ttl, part.ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        authenticated &= part.authenticated;
        match next {
            Some(next) => current = next,
            None => {
                part.aliases = aliases;
                part.ttl = ttl;
                part.authenticated = authenticated;
                return Ok(part);
            }
        }
    }
}

/// Which engine does the lookups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The best engine for the job; today always `wire`.
    #[default]
    Auto,
    /// mxlookup's own: connected UDP socket pools, a TCP connection per
    /// query that needs one, its own timers and congestion control.
    Wire,
    /// hickory-resolver's nameserver pool, with its connection handling.
    Hickory,
}

/// Any engine, chosen at run time.
pub enum AnyResolver {
    /// mxlookup's own engine.
    Wire(WireResolver),
    /// hickory-resolver's.
    Hickory(Box<HickoryResolver>),
}

impl AnyResolver {
    /// Build the engine. Needs a Tokio runtime.
    pub fn new(engine: Engine, settings: &Settings) -> Result<AnyResolver, Error> {
        Ok(match engine {
            Engine::Auto if settings.encrypted() => {
                AnyResolver::Hickory(Box::new(HickoryResolver::new(settings)?))
            }
            Engine::Auto | Engine::Wire => AnyResolver::Wire(WireResolver::new(settings)?),
            Engine::Hickory => AnyResolver::Hickory(Box::new(HickoryResolver::new(settings)?)),
        })
    }
}

impl Resolver for AnyResolver {
    async fn resolve(&self, name: &DomainName, qtype: RecordType) -> Result<Answer, Failure> {
        match self {
            AnyResolver::Wire(r) => r.resolve(name, qtype).await,
            AnyResolver::Hickory(r) => r.resolve(name, qtype).await,
        }
    }

    fn server_stats(&self) -> Vec<(Arc<SafeText>, ServerStats)> {
        match self {
            AnyResolver::Wire(r) => r.server_stats(),
            AnyResolver::Hickory(r) => r.server_stats(),
        }
    }
}

impl Resolver for WireResolver {
    async fn resolve(&self, name: &DomainName, qtype: RecordType) -> Result<Answer, Failure> {
        follow(self, name, qtype).await
    }

    fn server_stats(&self) -> Vec<(Arc<SafeText>, ServerStats)> {
        self.stats()
    }
}

impl Resolver for HickoryResolver {
    async fn resolve(&self, name: &DomainName, qtype: RecordType) -> Result<Answer, Failure> {
        follow(self, name, qtype).await
    }
}

/// How to reach the DNS, shared by every engine.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Servers to ask; empty means the system's resolver configuration.
    pub nameservers: Vec<Nameserver>,
    /// The name a DoT/DoH server's certificate must hold [default: its
    /// address].
    pub tls_name: Option<String>,
    /// Trust the CAs in this PEM file instead of the built-in roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Query over TCP only.
    pub tcp_only: bool,
    /// The most one lookup may take from its first send, retries and
    /// aliases included.
    pub timeout: Duration,
    /// How many more SERVFAIL/REFUSED answers a question may get beyond
    /// one per server.
    pub retries: u32,
    /// The most lookups in flight at once (sizes windows and pools).
    pub concurrency: usize,
    /// Ask with the DO and AD bits (RFC 6840 §5.7), so that a validating
    /// resolver says whether it authenticated each answer.
    pub dnssec: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            nameservers: Vec::new(),
            tls_name: None,
            ca_file: None,
            tcp_only: false,
            timeout: Duration::from_secs(5),
            retries: 2,
            concurrency: 32,
            dnssec: false,
        }
    }
}

impl Settings {
    /// The servers to ask: as given, or from the system's configuration
    /// (read once, here).
    pub fn servers(&self) -> Result<Vec<Nameserver>, Error> {
        if self.nameservers.is_empty() {
            Ok(system::nameservers()?
                .into_iter()
                .map(Nameserver::Plain)
                .collect())
        } else {
            Ok(self.nameservers.clone())
        }
    }

    /// The servers as plain addresses, for the wire engine, which speaks
    /// only plain DNS.
    pub fn plain_servers(&self) -> Result<Vec<SocketAddr>, Error> {
        self.servers()?
            .into_iter()
            .map(|s| match s {
                Nameserver::Plain(a) => Ok(a),
                other => Err(Error::Server(format!(
                    "{other}: the wire engine speaks plain DNS (UDP and TCP); \
                     DoT and DoH need --engine hickory (--engine auto picks it)"
                ))),
            })
            .collect()
    }

    /// Any DoT or DoH server among those given.
    pub fn encrypted(&self) -> bool {
        self.nameservers.iter().any(Nameserver::is_encrypted)
    }
}
