//! The engine built on hickory-resolver: its nameserver pool chooses the
//! server (by its smoothed RTT), owns the connections (UDP, and one TCP
//! connection per server shared by every query that needs it) and falls
//! back to TCP for truncated answers. What comes back is read by
//! mxlookup's own classifier, the one the wire engine uses, so both
//! engines give the same status for the same answer; aliases are followed
//! by the same code too. Retries after SERVFAIL/REFUSED are mxlookup's.

use super::answer::{Failure, FailureKind, Phase};
use super::classify::{Step, Verdict, classify};
use super::codec::{self, RecordType};
use super::whole::{self, Whole};
use super::{Ask, Deadline, Nameserver, Settings, tcp, tls};
use crate::error::Error;
use crate::name::DomainName;
use futures_util::StreamExt;
use hickory_resolver::config::{NameServerConfig, ProtocolConfig, ResolverOpts};
use hickory_resolver::net::xfer::DnsHandle;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{
    DnsRequest, DnsRequestOptions, Edns, Message, MessageType, OpCode, Query, ResponseCode,
};
use hickory_resolver::proto::rr::{Name, RecordType as HType};
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// The engine built on hickory-resolver's nameserver pool: plain DNS, DoT and DoH.
pub struct HickoryResolver {
    pool: NameServerPool<Whole>,
    /// The plain servers over TCP only: for an answer that was cut short
    /// over UDP. `None` when every server is encrypted, or with `--tcp`.
    tcp_pool: Option<NameServerPool<Whole>>,
    /// Every server is DoH: answers must carry ID 0, as the queries do.
    doh_only: bool,
    /// Ask with DO and AD.
    dnssec: bool,
    timeout: Duration,
    retries: u32,
    servers: usize,
    encrypted: Option<Encrypted>,
    /// With only plain servers: whether nothing listens at their ports.
    closed: Option<ClosedPorts>,
}

/// hickory's UDP sockets are not connected, so an ICMP port unreachable
/// never reaches it: with nothing listening at a server's port, it waits
/// out the whole deadline, where the wire engine fails at once. So, until
/// some server has answered, a question first checks (at most once a
/// second, with one connected socket per server) whether every server's
/// port is closed, and fails at once if so.
struct ClosedPorts {
    servers: Vec<SocketAddr>,
    answered: AtomicBool,
    /// When the ports were last checked, and whether all were closed.
    checked: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl ClosedPorts {
    /// Whether every server's port is closed (ICMP port unreachable).
    async fn all_closed(&self, query: &[u8]) -> bool {
        if self.answered.load(Ordering::Relaxed) {
            return false;
        }
        let mut checked = self.checked.lock().await;
        if let Some((at, closed)) = *checked
            && at.elapsed() < Duration::from_secs(1)
        {
            return closed;
        }
        let mut closed = true;
        for &server in &self.servers {
            match probe(server, query).await {
                Probe::Closed => {}
                Probe::Answered => {
                    self.answered.store(true, Ordering::Relaxed);
                    closed = false;
                    break;
                }
                Probe::Silent => closed = false,
            }
        }
        *checked = Some((Instant::now(), closed));
        closed
    }
}

enum Probe {
    Closed,
    Answered,
    Silent,
}

/// Send `query` to `server` from a connected socket and wait briefly: an
/// answer, a refusal (nothing listens), or silence.
async fn probe(server: SocketAddr, query: &[u8]) -> Probe {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let Ok(socket) = tokio::net::UdpSocket::bind(local).await else {
        return Probe::Silent;
    };
    if socket.connect(server).await.is_err() {
        return Probe::Closed;
    }
    let refused = |e: &std::io::Error| e.kind() == std::io::ErrorKind::ConnectionRefused;
    match socket.send(query).await {
        Err(e) if refused(&e) => return Probe::Closed,
        Err(_) => return Probe::Silent,
        Ok(_) => {}
    }
    let mut buf = [0u8; 512];
    match tokio::time::timeout(Duration::from_millis(250), socket.recv(&mut buf)).await {
        Ok(Ok(_)) => Probe::Answered,
        Ok(Err(e)) if refused(&e) => Probe::Closed,
        _ => Probe::Silent,
    }
}

/// With DoT/DoH servers: until a first answer has come back, one query at
/// a time, so that the lookups started together share the connection the
/// first one opens rather than each opening its own (the pool connects
/// per caller while it has no connection). And when connecting fails, why:
/// the pool says only "no connections".
struct Encrypted {
    servers: Vec<(Nameserver, Arc<str>)>,
    tls: Arc<rustls::ClientConfig>,
    warm: AtomicBool,
    gate: tokio::sync::Mutex<()>,
    why: tokio::sync::OnceCell<(usize, String)>,
}

impl Encrypted {
    /// Why connecting fails: a handshake with each encrypted server, done
    /// once per run (before the first question, and again never).
    async fn why(&self, timeout: Duration) -> &str {
        &self.failed(timeout).await.1
    }

    /// How many encrypted servers failed their handshake, and why.
    async fn failed(&self, timeout: Duration) -> &(usize, String) {
        self.why
            .get_or_init(|| async {
                let mut reasons = Vec::new();
                for (server, name) in &self.servers {
                    let h2 = matches!(server, Nameserver::Https(..));
                    if let Err(e) =
                        tls::handshake(server.addr(), name, self.tls.clone(), h2, timeout).await
                    {
                        reasons.push(format!("{server}: {e}"));
                    }
                }
                (reasons.len(), reasons.join("; "))
            })
            .await
    }

    /// Before the first answer: when no encrypted server completes a TLS
    /// handshake (a certificate the roots do not know, another name, a
    /// port that does not speak TLS), why; every question fails at once
    /// with it instead of waiting out its deadline.
    async fn unusable(&self, timeout: Duration) -> Option<&str> {
        if self.warm.load(Ordering::Acquire) {
            return None;
        }
        let (failed, why) = self.failed(timeout).await;
        (*failed == self.servers.len() && !why.is_empty()).then_some(why.as_str())
    }
}

impl HickoryResolver {
    /// Build the pool. Needs a Tokio runtime to be running.
    pub fn new(settings: &Settings) -> Result<HickoryResolver, Error> {
        let wanted = settings.servers()?;
        let servers: Vec<NameServerConfig> = wanted
            .iter()
            .map(|server| {
                let addr = server.addr();
                let mut s = match server {
                    Nameserver::Plain(_) => {
                        let mut s = NameServerConfig::udp_and_tcp(addr.ip());
                        if settings.tcp_only {
                            s.connections.retain(|c| c.protocol == ProtocolConfig::Tcp);
                        }
                        s
                    }
                    Nameserver::Tls(_) => {
                        NameServerConfig::tls(addr.ip(), cert_name(settings, server))
                    }
                    Nameserver::Https(_, path) => NameServerConfig::https(
                        addr.ip(),
                        cert_name(settings, server),
                        Some(Arc::from(path.as_str())),
                    ),
                };
                for c in &mut s.connections {
                    c.port = addr.port();
                }
                s
            })
            .collect();
        let mut opts = ResolverOpts::default();
        // An attempt gets a third of the deadline (0.5 to 2 s), so that a
        // query lost on the way (a UDP datagram; on a DoT connection with
        // hundreds in flight, hickory loses about one in 10,000) is asked
        // again while the deadline allows. mxlookup keeps the clock.
        opts.timeout = attempt_timeout(settings.timeout);
        opts.attempts = 0;
        opts.cache_size = 0;
        opts.edns0 = true;
        opts.case_randomization = false;
        // One shared connection must carry every lookup the limiter allows,
        // or the pool answers "busy" instead of asking.
        opts.max_active_requests = settings.concurrency.max(32);
        opts.num_concurrent_reqs = 1;
        let mut tls = TlsConfig::new().map_err(|e| Error::ResolverConfig(e.to_string()))?;
        tls.config = tls::client_config(settings.ca_file.as_deref())?;
        let encrypted: Vec<(Nameserver, Arc<str>)> = wanted
            .iter()
            .filter(|s| s.is_encrypted())
            .map(|s| (s.clone(), cert_name(settings, s)))
            .collect();
        let encrypted = (!encrypted.is_empty()).then(|| Encrypted {
            servers: encrypted,
            tls: Arc::new(tls.config.clone()),
            warm: AtomicBool::new(false),
            gate: tokio::sync::Mutex::new(()),
            why: tokio::sync::OnceCell::new(),
        });
        let tcp_servers: Vec<NameServerConfig> = servers
            .iter()
            .filter(|s| {
                s.connections
                    .iter()
                    .any(|c| c.protocol == ProtocolConfig::Udp)
            })
            .map(|s| {
                let mut s = s.clone();
                s.connections.retain(|c| c.protocol == ProtocolConfig::Tcp);
                s
            })
            .collect();
        let cx = Arc::new(PoolContext::new(opts, tls));
        let servers_len = servers.len();
        let tcp_pool = (!tcp_servers.is_empty())
            .then(|| NameServerPool::from_config(tcp_servers, cx.clone(), Whole::default()));
        let pool = NameServerPool::from_config(servers, cx, Whole::default());
        Ok(HickoryResolver {
            pool,
            tcp_pool,
            doh_only: wanted.iter().all(|s| matches!(s, Nameserver::Https(..))),
            dnssec: settings.dnssec,
            timeout: settings.timeout,
            retries: settings.retries,
            servers: servers_len,
            closed: (!wanted.iter().any(Nameserver::is_encrypted)).then(|| ClosedPorts {
                servers: wanted.iter().map(Nameserver::addr).collect(),
                answered: AtomicBool::new(false),
                checked: tokio::sync::Mutex::new(None),
            }),
            encrypted,
        })
    }
}

/// A message's ID (0 for one too short to have one).
fn id(message: &[u8]) -> u16 {
    match message {
        [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    }
}

/// How long the TCP try after an undecodable UDP answer may take.
const SALVAGE: Duration = Duration::from_millis(500);

/// What became of one attempt through the pool.
enum Attempt {
    /// The server's answer, and what it means.
    Answer(Verdict),
    /// A UDP answer that could not be decoded: perhaps cut to the payload
    /// hickory reads (a server that sends more than it was told), perhaps
    /// broken. Worth one try over TCP; if that brings nothing, this is the
    /// failure.
    Cut(Failure),
    /// No answer: the connection failed, or the attempt timed out.
    Nothing(Failure),
    /// The deadline passed.
    Late,
}

impl Ask for HickoryResolver {
    async fn ask(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
    ) -> Result<Step, Failure> {
        let mut qname = Name::from_labels(name.labels())
            .map_err(|e| Failure::error(Phase::Internal, format!("cannot encode the name: {e}")))?;
        qname.set_fqdn(true);
        let budget = (self.retries + 1).max(self.servers as u32);
        let mut failures = 0;
        let mut edns = true;
        let mut tcp = false;
        let mut cut: Option<Failure> = None;
        let mut last: Option<Failure> = None;
        self.fails_at_once(name, qtype).await?;
        loop {
            let now = Instant::now();
            deadline.start(now, self.timeout);
            if deadline.expired(now) {
                return Err(last.unwrap_or_else(Failure::timeout));
            }
            let mut until = deadline.cap(now + self.timeout);
            if cut.is_some() {
                until = until.min(now + SALVAGE);
            }
            let verdict = match self.attempt(name, &qname, qtype, edns, tcp, until).await? {
                Attempt::Answer(v) => {
                    if let Some(c) = &self.closed {
                        c.answered.store(true, Ordering::Relaxed);
                    }
                    v
                }
                Attempt::Cut(f) => {
                    cut = Some(f);
                    tcp = true;
                    continue;
                }
                Attempt::Late | Attempt::Nothing(_) if cut.is_some() => {
                    return Err(cut.unwrap_or_else(Failure::timeout));
                }
                Attempt::Late => return Err(last.unwrap_or_else(Failure::timeout)),
                Attempt::Nothing(f) => {
                    // No answer at all: worth another attempt while the
                    // deadline allows, at a gentle pace.
                    last = Some(f);
                    failures += 1;
                    if failures >= budget.max(3) {
                        return Err(last.unwrap_or_else(Failure::timeout));
                    }
                    let pause = deadline.cap(Instant::now() + Duration::from_millis(50));
                    tokio::time::sleep_until(pause).await;
                    continue;
                }
            };
            match verdict {
                Verdict::Done(step) => return Ok(step),
                Verdict::Fail(f) => return Err(f),
                Verdict::NoEdns if edns => edns = false,
                Verdict::Retry(f) => {
                    failures += 1;
                    if failures >= budget {
                        return Err(f);
                    }
                    last = Some(f);
                }
                Verdict::Truncated => {
                    return Err(Failure::error(
                        Phase::Protocol,
                        "the answer was truncated and TCP failed",
                    ));
                }
                Verdict::NoEdns | Verdict::Ignore(_) => {
                    return Err(Failure::error(
                        Phase::Protocol,
                        "the server's answer does not answer the question",
                    ));
                }
            }
        }
    }
}

impl HickoryResolver {
    /// Before any server has answered: every encrypted server failing its
    /// TLS handshake, or every plain server's port closed, fails the
    /// question at once, with why.
    async fn fails_at_once(&self, name: &DomainName, qtype: RecordType) -> Result<(), Failure> {
        if let Some(e) = &self.encrypted
            && let Some(why) = e.unusable(self.timeout.min(Duration::from_secs(5))).await
        {
            return Err(Failure::error(
                Phase::Network,
                crate::safe!("{}: {why}", tcp::CONNECTION),
            ));
        }
        if let Some(closed) = &self.closed
            && !closed.answered.load(Ordering::Relaxed)
        {
            let mut query = Vec::new();
            codec::encode_query(rand::random(), name, qtype, true, &mut query)
                .map_err(|e| Failure::error(Phase::Internal, e))?;
            if closed.all_closed(&query).await {
                let servers: Vec<String> = closed.servers.iter().map(ToString::to_string).collect();
                return Err(Failure::error(
                    Phase::Network,
                    crate::safe!(
                        "connection to the nameserver failed: {} refused the connection (nothing is listening on that port)",
                        servers.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// One attempt through the pool (over TCP only, with `tcp`), until
    /// `until`; its answer read by the classifier.
    async fn attempt(
        &self,
        name: &DomainName,
        qname: &Name,
        qtype: RecordType,
        edns: bool,
        tcp: bool,
        until: Instant,
    ) -> Result<Attempt, Failure> {
        // The query as mxlookup would send it: what the classifier matches
        // the response against.
        let mut query = Vec::new();
        codec::encode_query(0, name, qtype, edns, &mut query)
            .map_err(|e| Failure::error(Phase::Internal, e))?;
        if self.dnssec {
            codec::set_dnssec(&mut query);
        }
        let mut options = DnsRequestOptions::default();
        options.use_edns = edns;
        options.edns_set_dnssec_ok = self.dnssec && edns;
        options.recursion_desired = true;
        options.case_randomization = false;
        let mut request =
            DnsRequest::from_query(Query::query(qname.clone(), HType::from(qtype.0)), options);
        request.metadata.authentic_data = self.dnssec && edns;
        let cold = self
            .encrypted
            .as_ref()
            .filter(|e| !e.warm.load(Ordering::Acquire));
        let gate = match cold {
            Some(e) => match timeout_at(until, e.gate.lock()).await {
                Ok(g) => Some(g),
                Err(_) => return Ok(Attempt::Late),
            },
            None => None,
        };
        let pool = match (&self.tcp_pool, tcp) {
            (Some(p), true) => p,
            _ => &self.pool,
        };
        let reply = match timeout_at(until, pool.send(request).next()).await {
            Err(_) => return Ok(Attempt::Late),
            Ok(None) => Err(NetError::Message("no response")),
            Ok(Some(r)) => r,
        };
        let answered = match &reply {
            Ok(_) => true,
            Err(e) => !matches!(
                e,
                NetError::NoConnections
                    | NetError::Io(_)
                    | NetError::Timeout
                    | NetError::Message(_)
            ),
        };
        if let (Some(e), true) = (&self.encrypted, answered) {
            e.warm.store(true, Ordering::Release);
        }
        let no_connection = matches!(reply, Err(NetError::NoConnections | NetError::Io(_)));
        drop(gate);
        let reply = match reply {
            // A UDP answer that cannot be decoded may have been cut to the
            // payload hickory reads: ask again over TCP.
            Err(NetError::Proto(p)) if !tcp && self.tcp_pool.is_some() => {
                return Ok(Attempt::Cut(Failure::error(
                    Phase::Protocol,
                    crate::safe!("malformed answer: {p}"),
                )));
            }
            other => other,
        };
        Ok(match reply {
            // DoH asks with ID 0 (RFC 8484 §4.1), and hickory does not
            // check what comes back: an answer with another ID answers
            // another query.
            Ok(response) if self.doh_only && id(whole::unwrap(&response)) != 0 => {
                Attempt::Answer(Verdict::Fail(Failure::error(
                    Phase::Protocol,
                    crate::safe!(
                        "the DoH answer carries ID {}, not the query's 0: it answers another query",
                        id(whole::unwrap(&response))
                    ),
                )))
            }
            Ok(response) => Attempt::Answer(classify(&query, whole::unwrap(&response))),
            Err(e) => match verdict_of_error(&query, qname, qtype, e) {
                Ok(v) => Attempt::Answer(v),
                Err(mut f) => {
                    if let (Some(e), true) = (&self.encrypted, no_connection) {
                        let why = e.why(self.timeout.min(Duration::from_secs(5))).await;
                        if !why.is_empty() {
                            f.message = crate::safe!("{}: {why}", tcp::CONNECTION);
                        }
                    }
                    Attempt::Nothing(f)
                }
            },
        })
    }
}

/// The name the server's certificate must show: `--tls-name`, or its
/// address (an IP SAN).
fn cert_name(settings: &Settings, server: &Nameserver) -> Arc<str> {
    match &settings.tls_name {
        Some(name) => Arc::from(name.as_str()),
        None => Arc::from(server.addr().ip().to_string()),
    }
}

/// How long one attempt through hickory's pool may take: a third of the
/// deadline, from 0.5 s to 2 s, and never more than the deadline.
fn attempt_timeout(deadline: Duration) -> Duration {
    (deadline / 3)
        .clamp(Duration::from_millis(500), Duration::from_secs(2))
        .min(deadline)
}

/// hickory turns failure responses into errors: rebuild the response they
/// stand for, so that the classifier sees what the server said. `Err` for
/// errors that are no response at all.
fn verdict_of_error(
    query: &[u8],
    qname: &Name,
    qtype: RecordType,
    e: NetError,
) -> Result<Verdict, Failure> {
    let response = |code: ResponseCode, authorities: Vec<_>| {
        let mut m = Message::new(0, MessageType::Response, OpCode::Query);
        m.metadata.response_code = code;
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(qname.clone(), HType::from(qtype.0)));
        m.authorities = authorities;
        // A code above 15 (BADVERS) needs an OPT record for its upper bits.
        let high = (u16::from(code) >> 4) as u8;
        if high != 0 {
            let mut edns = Edns::new();
            edns.set_rcode_high(high);
            m.set_edns(edns);
        }
        m.to_vec()
            .map(|bytes| classify(query, &bytes))
            .map_err(|e| Failure::error(Phase::Internal, e.to_string()))
    };
    match e {
        NetError::Dns(DnsError::NoRecordsFound(no)) => {
            let authorities = no.authorities.map(|a| a.to_vec()).unwrap_or_default();
            response(no.response_code, authorities)
        }
        NetError::Dns(DnsError::ResponseCode(code)) => response(code, Vec::new()),
        NetError::Proto(p) => Ok(Verdict::Fail(Failure::error(
            Phase::Protocol,
            crate::safe!("malformed answer: {p}"),
        ))),
        NetError::ForeignClassRecord { record_class, .. } => Ok(Verdict::Fail(Failure::error(
            Phase::Protocol,
            crate::safe!("the answer holds a record of class {record_class}, not IN"),
        ))),
        NetError::Truncated => Ok(Verdict::Fail(Failure::error(
            Phase::Protocol,
            "the answer was truncated and TCP failed",
        ))),
        NetError::Timeout => Err(Failure::timeout()),
        NetError::Io(io) => Err(Failure {
            kind: FailureKind::Error,
            ..tcp::connection_failure("I/O", &io)
        }),
        NetError::NoConnections => Err(Failure::error(
            Phase::Network,
            format!("{} (no usable connection)", tcp::CONNECTION),
        )),
        other => Err(Failure::error(
            Phase::Network,
            crate::safe!("{}: {other}", tcp::CONNECTION),
        )),
    }
}
