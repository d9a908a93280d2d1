//! The HTTPS fetch of an MTA-STS policy (RFC 8461 §3.3), as a sending
//! server does it: `GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt`
//! to the addresses mxlookup's own resolver found, the certificate
//! verified for that name (the built-in roots, or `--ca-file`), no
//! redirect followed, HTTP 200 only, `text/plain` only, at most 64 KiB,
//! within the deadline. HTTP/1.1 is hyper's; the connection and the TLS
//! are mxlookup's, so that every step has its deadline and its reason.
//!
//! Fetches have a limiter of their own (`--https-concurrency`), apart from
//! the DNS one: a million domains never mean a million connections, a
//! fetch never holds a DNS slot, and DNS never waits behind a slow policy
//! server. An address whose connection timed out is not tried again in
//! the run: every other policy host on it is unknown at once.

use super::mta_sts::MAX_POLICY;
use crate::name::DomainName;
use crate::text::SafeText;
use http_body_util::BodyExt;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};

/// The path every policy is at.
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";
/// Addresses remembered as not answering, at most.
const DEAD_MAX: usize = 100_000;

/// Why a policy could not be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failed {
    /// A time-out: unknown, not bad.
    pub(crate) unknown: bool,
    pub(crate) why: SafeText,
}

impl Failed {
    fn definite(why: String) -> Failed {
        Failed {
            unknown: false,
            why: SafeText::from(why),
        }
    }

    fn timeout(why: String) -> Failed {
        Failed {
            unknown: true,
            why: SafeText::from(why),
        }
    }
}

/// How the fetches went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Policies asked for.
    pub asked: u64,
    /// Fetched with HTTP 200.
    pub fetched: u64,
}

/// Fetches policies: the TLS configuration, the limiter, the deadline.
pub(crate) struct Fetcher {
    tls: tokio_rustls::TlsConnector,
    slots: Arc<Semaphore>,
    timeout: Duration,
    port: u16,
    dead: Mutex<HashSet<IpAddr>>,
    asked: AtomicU64,
    fetched: AtomicU64,
}

impl Fetcher {
    /// `concurrency` connections at most; `timeout` for each whole fetch;
    /// `port` 443 but in tests.
    pub(crate) fn new(
        tls: Arc<rustls::ClientConfig>,
        concurrency: usize,
        timeout: Duration,
        port: u16,
    ) -> Fetcher {
        let mut config = (*tls).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Fetcher {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            timeout,
            port,
            dead: Mutex::default(),
            asked: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> FetchStats {
        FetchStats {
            asked: self.asked.load(Ordering::Relaxed),
            fetched: self.fetched.load(Ordering::Relaxed),
        }
    }

    /// The policy of `host` (`mta-sts.DOMAIN`), from the first of
    /// `addresses` that gives an answer.
    pub(crate) async fn policy(
        &self,
        host: &DomainName,
        addresses: &[IpAddr],
    ) -> Result<Vec<u8>, Failed> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let Ok(_permit) = self.slots.acquire().await else {
            return Err(Failed::definite("the fetcher is closed".into()));
        };
        let deadline = Instant::now() + self.timeout;
        let mut last = Failed::definite(format!("{host} has no address"));
        for &ip in addresses {
            if self
                .dead
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&ip)
            {
                last = Failed::timeout(format!(
                    "{ip}:{} did not answer an earlier connection in this run",
                    self.port
                ));
                continue;
            }
            match self
                .from(host, SocketAddr::new(ip, self.port), deadline)
                .await
            {
                Ok(body) => {
                    self.fetched.fetch_add(1, Ordering::Relaxed);
                    return Ok(body);
                }
                // An answer that is not a policy is the answer: other
                // addresses serve the same host.
                Err(Step::Answered(f)) => return Err(f),
                Err(Step::Connect(f)) => last = f,
                Err(Step::Silent(f)) => {
                    let mut dead = self.dead.lock().unwrap_or_else(|e| e.into_inner());
                    if dead.len() < DEAD_MAX {
                        dead.insert(ip);
                    }
                    last = f;
                }
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        Err(last)
    }

    /// One address: connect, TLS, GET, and read the answer.
    async fn from(
        &self,
        host: &DomainName,
        addr: SocketAddr,
        deadline: Instant,
    ) -> Result<Vec<u8>, Step> {
        let late = |what: &str| {
            Failed::timeout(format!(
                "no answer from {addr} within the deadline ({what})"
            ))
        };
        let start = Instant::now();
        let tcp = match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(Step::Silent(late("connecting"))),
            Ok(Err(e)) => {
                return Err(Step::Connect(Failed::definite(format!(
                    "cannot connect to {addr}: {e}"
                ))));
            }
            Ok(Ok(t)) => t,
        };
        let _ = tcp.set_nodelay(true);
        let name =
            rustls::pki_types::ServerName::try_from(host.as_str().to_string()).map_err(|e| {
                Step::Answered(Failed::definite(format!(
                    "'{host}' is not a name for TLS: {e}"
                )))
            })?;
        // A server answers a ClientHello within a round trip or two: the
        // handshake gets a second, or ten connection round trips on a slow
        // path, not the whole deadline. One that accepts connections and
        // then says nothing would otherwise hold a fetch slot for all of it.
        let patience = (start.elapsed() * 10).max(Duration::from_secs(1));
        let handshake = deadline.min(Instant::now() + patience);
        let tls = match timeout_at(handshake, self.tls.connect(name, tcp)).await {
            Err(_) if Instant::now() < deadline => {
                return Err(Step::Silent(Failed::timeout(format!(
                    "{addr} accepted the connection but did not begin TLS within {:.1} s",
                    patience.as_secs_f64()
                ))));
            }
            Err(_) => return Err(Step::Connect(late("the TLS handshake"))),
            Ok(Err(e)) => {
                return Err(Step::Connect(Failed::definite(format!(
                    "TLS with {addr} failed: {}",
                    tls_reason(&e)
                ))));
            }
            Ok(Ok(t)) => t,
        };
        let io = hyper_util::rt::TokioIo::new(tls);
        let (mut sender, conn) =
            match timeout_at(deadline, hyper::client::conn::http1::handshake(io)).await {
                Err(_) => return Err(Step::Connect(late("HTTP"))),
                Ok(Err(e)) => {
                    return Err(Step::Connect(Failed::definite(format!(
                        "HTTP with {addr} failed: {e}"
                    ))));
                }
                Ok(Ok(h)) => h,
            };
        let request = http::Request::get(POLICY_PATH)
            .header(http::header::HOST, host.as_str())
            .header(
                http::header::USER_AGENT,
                concat!("mxlookup/", env!("CARGO_PKG_VERSION")),
            )
            .header(http::header::CONNECTION, "close")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .map_err(|e| {
                Step::Answered(Failed::definite(format!("cannot make the request: {e}")))
            })?;
        // The connection is driven beside the request, and dropped with it.
        let exchange = async {
            let response = sender.send_request(request).await.map_err(|e| {
                Step::Connect(Failed::definite(format!("HTTP with {addr} failed: {e}")))
            })?;
            read(response, addr).await
        };
        let drive = async {
            let _ = conn.await;
            std::future::pending::<()>().await;
        };
        let answered = async {
            tokio::select! {
                r = exchange => r,
                () = drive => unreachable!("the connection future never ends first"),
            }
        };
        match timeout_at(deadline, answered).await {
            Err(_) => Err(Step::Connect(late("the answer"))),
            Ok(r) => r,
        }
    }
}

/// How far one address got.
enum Step {
    /// It did not answer a connection at all (remembered for the run).
    Silent(Failed),
    /// The connection, TLS or HTTP failed: try the next address.
    Connect(Failed),
    /// It answered, with something that is not a policy.
    Answered(Failed),
}

/// A response: 200, `text/plain`, at most 64 KiB, or why not.
async fn read(
    response: http::Response<hyper::body::Incoming>,
    addr: SocketAddr,
) -> Result<Vec<u8>, Step> {
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("nowhere");
        return Err(Step::Answered(Failed::definite(format!(
            "HTTP {status} from {addr}: a redirect to {}, which senders do not follow (RFC 8461 §3.3)",
            SafeText::new(to)
        ))));
    }
    if status != http::StatusCode::OK {
        return Err(Step::Answered(Failed::definite(format!(
            "HTTP {status} from {addr}, not 200"
        ))));
    }
    let media = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("text/plain") {
        return Err(Step::Answered(Failed::definite(format!(
            "the media type is '{}', not text/plain",
            SafeText::new(media)
        ))));
    }
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Step::Answered(Failed::definite(format!(
                "reading the policy from {addr} failed: {e}"
            )))
        })?;
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > MAX_POLICY {
                return Err(Step::Answered(Failed::definite(format!(
                    "the policy is larger than {} KiB",
                    MAX_POLICY >> 10
                ))));
            }
            bytes.extend_from_slice(data);
        }
    }
    Ok(bytes)
}

/// Why a TLS handshake failed, in words a person can act on.
fn tls_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("UnknownIssuer") {
        format!(
            "{text} (the certificate is not from a CA this trusts; a private CA needs --ca-file)"
        )
    } else if text.contains("NotValidForName") {
        format!("{text} (the certificate is not for this name)")
    } else if text.contains("Expired") {
        format!("{text} (the certificate has expired)")
    } else {
        text
    }
}
