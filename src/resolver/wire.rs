//! The wire engine: MX queries as hickory-proto messages over a few
//! long-lived UDP sockets, answers matched to queries by ID, source and
//! question, our own retransmission timers inside the deadline, and a TCP
//! connection of its own for each query that needs TCP, so that a server
//! that breaks one connection cannot take other lookups down with it.

use super::{Answer, CONNECTION, MxResolver, Settings, classify_message, query_name};
use crate::error::Error;
use crate::name::{DomainName, escape_text};
use crate::outcome::Outcome;
use hickory_resolver::proto::op::{Edns, Message, Query};
use hickory_resolver::proto::rr::{Name, RecordType};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

/// EDNS payload size we advertise (the DNS flag day 2020 value).
const EDNS_PAYLOAD: u16 = 1232;
/// Receive buffer asked for on each UDP socket, so that bursts of answers
/// are not dropped by the kernel.
const RECV_BUFFER: usize = 4 << 20;
/// Lookups in flight per UDP socket before another socket is opened.
const PER_SOCKET: usize = 1024;

pub struct WireResolver {
    servers: Vec<SocketAddr>,
    tcp_only: bool,
    timeout: Duration,
    retries: u32,
    /// UDP sockets per address family: `[v4, v6]`.
    sockets: [Vec<Arc<Channel>>; 2],
    next: AtomicUsize,
    /// Smoothed round-trip time of first-try UDP answers, in microseconds.
    srtt_us: AtomicU32,
}

/// The round-trip time assumed before any answer has been timed.
const INITIAL_SRTT: Duration = Duration::from_millis(200);
/// The shortest wait before a UDP query is sent again.
const MIN_RTO: Duration = Duration::from_millis(150);

/// A datagram and where it came from.
type Datagram = (SocketAddr, Vec<u8>);

/// One UDP socket and the queries waiting for an answer on it.
struct Channel {
    socket: UdpSocket,
    pending: Mutex<HashMap<u16, mpsc::Sender<Datagram>>>,
}

impl WireResolver {
    /// Open the sockets and start their receive loops. Needs a Tokio runtime.
    pub fn new(settings: &Settings) -> Result<WireResolver, Error> {
        let servers = if settings.nameservers.is_empty() {
            super::system_nameservers()?
        } else {
            settings.nameservers.clone()
        };
        let per_family = settings.concurrency.div_ceil(PER_SOCKET).clamp(1, 32);
        let mut sockets = [Vec::new(), Vec::new()];
        if !settings.tcp_only {
            for (family, any) in [(0, "0.0.0.0:0"), (1, "[::]:0")] {
                if !servers.iter().any(|s| usize::from(s.is_ipv6()) == family) {
                    continue;
                }
                for _ in 0..per_family {
                    let bind: SocketAddr = any.parse().expect("a valid wildcard address");
                    let channel = Arc::new(Channel::bind(bind).map_err(|e| {
                        Error::ResolverConfig(format!("cannot open a UDP socket: {e}"))
                    })?);
                    tokio::spawn(receive(channel.clone()));
                    sockets[family].push(channel);
                }
            }
        }
        Ok(WireResolver {
            servers,
            tcp_only: settings.tcp_only,
            timeout: settings.timeout,
            retries: settings.retries,
            sockets,
            next: AtomicUsize::new(0),
            srtt_us: AtomicU32::new(INITIAL_SRTT.as_micros() as u32),
        })
    }

    /// The server for this attempt: the servers take turns.
    fn server(&self, attempt: u32) -> SocketAddr {
        let start = self.next.load(Ordering::Relaxed);
        self.servers[(start + attempt as usize) % self.servers.len()]
    }

    fn per_attempt(&self) -> Duration {
        self.timeout / (self.retries + 1)
    }

    /// How long to wait before sending a UDP query again: four smoothed
    /// round trips, at least `MIN_RTO`, doubling with each attempt. A lost
    /// packet costs a fraction of a second, not a share of the deadline;
    /// the last attempt waits for whatever time is left.
    fn retransmit_after(&self, attempt: u32) -> Duration {
        let srtt = Duration::from_micros(u64::from(self.srtt_us.load(Ordering::Relaxed)));
        let rto = (srtt * 4).max(MIN_RTO).min(self.per_attempt());
        rto * (1 << attempt.min(16))
    }

    /// Karn's rule: only answers to a query sent once are timed.
    fn record_rtt(&self, rtt: Duration) {
        let sample = rtt.as_micros().min(u128::from(u32::MAX)) as u32;
        let old = self.srtt_us.load(Ordering::Relaxed);
        let new = old - old / 8 + sample / 8;
        self.srtt_us.store(new, Ordering::Relaxed);
    }

    async fn udp_lookup(&self, qname: &Name) -> Outcome {
        let deadline = Instant::now() + self.timeout;
        let first = self.server(0);
        let family = usize::from(first.is_ipv6());
        let pick = self.next.fetch_add(1, Ordering::Relaxed);
        let channel = &self.sockets[family][pick % self.sockets[family].len()];
        let (mut waiting, id) = channel.register();
        let packet = match query_packet(id, qname) {
            Ok(p) => p,
            Err(e) => return Outcome::Error(e),
        };
        let start = Instant::now();
        let mut last = Outcome::Timeout;
        let mut until = start;
        for attempt in 0..=self.retries {
            let server = self.server(attempt);
            if server.is_ipv6() != first.is_ipv6() {
                continue;
            }
            if let Err(e) = channel.socket.send_to(&packet, server).await {
                last = Outcome::Error(escape_text(&format!("{CONNECTION}: {e}")));
                continue;
            }
            until = if attempt == self.retries {
                deadline
            } else {
                (until + self.retransmit_after(attempt)).min(deadline)
            };
            loop {
                let Ok(received) = timeout_at(until, waiting.recv()).await else {
                    // No answer in this attempt's share: send again.
                    break;
                };
                let Some((from, bytes)) = received else {
                    return Outcome::Error("the UDP socket closed".into());
                };
                if !self.servers.contains(&from) {
                    continue;
                }
                let Ok(msg) = Message::from_vec(&bytes) else {
                    // Garbage with our ID: not an answer; keep waiting.
                    continue;
                };
                let answer = classify_message(qname, &msg);
                if attempt == 0 && answer != Answer::Ignore {
                    self.record_rtt(start.elapsed());
                }
                match answer {
                    Answer::Ignore => continue,
                    Answer::Final(outcome) => return outcome,
                    Answer::Retry(outcome) => {
                        last = outcome;
                        break;
                    }
                    Answer::Truncated => {
                        drop(waiting);
                        return self
                            .tcp_attempt(server, qname, deadline)
                            .await
                            .unwrap_or_else(|o| o);
                    }
                }
            }
        }
        last
    }

    async fn tcp_lookup(&self, qname: &Name) -> Outcome {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut last = Outcome::Timeout;
        for attempt in 0..=self.retries {
            let until = (start + self.per_attempt() * (attempt + 1)).min(deadline);
            match self.tcp_attempt(self.server(attempt), qname, until).await {
                Ok(outcome) => return outcome,
                Err(outcome) => last = outcome,
            }
        }
        last
    }

    /// One query over a TCP connection of its own. `Err` for an outcome
    /// worth retrying (timeout, SERVFAIL, broken connection).
    async fn tcp_attempt(
        &self,
        server: SocketAddr,
        qname: &Name,
        until: Instant,
    ) -> Result<Outcome, Outcome> {
        let id = rand::random::<u16>();
        let packet = query_packet(id, qname).map_err(Outcome::Error)?;
        let conn_err = |what: &str, e: io::Error| {
            Outcome::Error(escape_text(&format!("{CONNECTION}: TCP {what}: {e}")))
        };
        let mut stream = match timeout_at(until, TcpStream::connect(server)).await {
            Err(_) => return Err(Outcome::Timeout),
            Ok(Err(e)) => return Err(conn_err("connect", e)),
            Ok(Ok(s)) => s,
        };
        let mut framed = Vec::with_capacity(packet.len() + 2);
        framed.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        framed.extend_from_slice(&packet);
        match timeout_at(until, stream.write_all(&framed)).await {
            Err(_) => return Err(Outcome::Timeout),
            Ok(Err(e)) => return Err(conn_err("write", e)),
            Ok(Ok(())) => {}
        }
        loop {
            let mut len = [0u8; 2];
            match timeout_at(until, stream.read_exact(&mut len)).await {
                Err(_) => return Err(Outcome::Timeout),
                Ok(Err(e)) => return Err(conn_err("read", e)),
                Ok(Ok(_)) => {}
            }
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
            match timeout_at(until, stream.read_exact(&mut body)).await {
                Err(_) => return Err(Outcome::Timeout),
                Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(Outcome::Error(format!(
                        "{CONNECTION}: the TCP connection closed in the middle of the answer"
                    )));
                }
                Ok(Err(e)) => return Err(conn_err("read", e)),
                Ok(Ok(_)) => {}
            }
            let Ok(msg) = Message::from_vec(&body) else {
                return Err(Outcome::Error("malformed answer over TCP".into()));
            };
            if msg.metadata.id != id {
                continue;
            }
            return match classify_message(qname, &msg) {
                Answer::Ignore => continue,
                Answer::Final(o) => Ok(o),
                Answer::Retry(o) => Err(o),
                Answer::Truncated => Ok(Outcome::Error(
                    "the answer was truncated even over TCP".into(),
                )),
            };
        }
    }
}

impl MxResolver for WireResolver {
    async fn lookup(&self, name: &DomainName) -> Outcome {
        let qname = match query_name(name) {
            Ok(q) => q,
            Err(e) => return Outcome::Error(e),
        };
        if self.tcp_only {
            self.tcp_lookup(&qname).await
        } else {
            self.udp_lookup(&qname).await
        }
    }
}

impl Channel {
    fn bind(addr: SocketAddr) -> io::Result<Channel> {
        let domain = socket2::Domain::for_address(addr);
        let socket =
            socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
        // Best effort: the kernel caps it at net.core.rmem_max.
        let _ = socket.set_recv_buffer_size(RECV_BUFFER);
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        Ok(Channel {
            socket: UdpSocket::from_std(socket.into())?,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Reserve a free, random query ID on this socket.
    fn register(self: &Arc<Self>) -> (Waiting, u16) {
        let (tx, rx) = mpsc::channel(4);
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let id = loop {
            let id = rand::random::<u16>();
            if !pending.contains_key(&id) {
                break id;
            }
        };
        pending.insert(id, tx);
        (
            Waiting {
                channel: self.clone(),
                id,
                rx,
            },
            id,
        )
    }
}

/// A query ID held on a channel; dropping it frees the ID, so a lookup
/// cancelled at its deadline leaves nothing behind.
struct Waiting {
    channel: Arc<Channel>,
    id: u16,
    rx: mpsc::Receiver<Datagram>,
}

impl Waiting {
    async fn recv(&mut self) -> Option<Datagram> {
        self.rx.recv().await
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut pending = self
            .channel
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.remove(&self.id);
    }
}

/// Hand each datagram to the query waiting for its ID, if any.
async fn receive(channel: Arc<Channel>) {
    let mut buf = vec![0u8; 65535];
    loop {
        let (n, from) = match channel.socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // ICMP errors and the like surface here; they belong to no
            // query in particular.
            Err(_) => continue,
        };
        if n < 12 {
            continue;
        }
        let id = u16::from_be_bytes([buf[0], buf[1]]);
        let tx = {
            let pending = channel.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.get(&id).cloned()
        };
        if let Some(tx) = tx {
            // A full queue means a flood of replies for one query: drop.
            let _ = tx.try_send((from, buf[..n].to_vec()));
        }
    }
}

fn query_packet(id: u16, qname: &Name) -> Result<Vec<u8>, String> {
    let mut msg = Message::query();
    msg.metadata.id = id;
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(qname.clone(), RecordType::MX));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    msg.set_edns(edns);
    msg.to_vec()
        .map_err(|e| format!("cannot encode the query: {e}"))
}
