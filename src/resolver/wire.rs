//! The wire engine: MX queries as hickory-proto messages over a few
//! long-lived UDP sockets, answers matched to queries by ID, source and
//! question, our own retransmission timers inside the deadline, and a TCP
//! connection of its own for each query that needs TCP, so that a server
//! that breaks one connection cannot take other lookups down with it.

use super::packet::{self, HEADER};
use super::{Answer, CONNECTION, MxResolver, Settings, recv};
use crate::error::Error;
use crate::name::{DomainName, escape_text};
use crate::outcome::Outcome;
use std::collections::HashMap;
use std::future::poll_fn;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

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

/// One UDP socket and the queries waiting for an answer on it.
struct Channel {
    socket: UdpSocket,
    /// Answers from any other address are dropped.
    servers: Vec<SocketAddr>,
    /// The server the socket is connected to, if there is only one.
    connected: Option<SocketAddr>,
    pending: Mutex<HashMap<u16, Slot, BuildHasherDefault<IdHasher>>>,
}

/// A query waiting on a channel. The receive task reads each datagram
/// against the query whose ID it carries and leaves only a useful answer
/// here, so a lookup wakes once per answer, not once per datagram.
struct Slot {
    /// The query as sent: resent as it is, and its question is what an
    /// answer must match.
    query: Vec<u8>,
    answer: Option<Answer>,
    waker: Option<Waker>,
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
                    let channel = Arc::new(Channel::bind(bind, &servers).map_err(|e| {
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

    async fn udp_lookup(&self, name: &DomainName) -> Outcome {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let first = self.server(0);
        let family = usize::from(first.is_ipv6());
        let pick = self.next.fetch_add(1, Ordering::Relaxed);
        let channel = &self.sockets[family][pick % self.sockets[family].len()];
        let ticket = match channel.register(name) {
            Ok(t) => t,
            Err(e) => return Outcome::Error(e),
        };
        let mut last = Outcome::Timeout;
        let mut until = start;
        for attempt in 0..=self.retries {
            let server = self.server(attempt);
            if server.is_ipv6() != first.is_ipv6() {
                continue;
            }
            if let Err(e) = ticket.send(server).await {
                last = Outcome::Error(escape_text(&format!("{CONNECTION}: {e}")));
                continue;
            }
            until = if attempt == self.retries {
                deadline
            } else {
                (until + self.retransmit_after(attempt)).min(deadline)
            };
            let Ok(answer) = timeout_at(until, ticket.answer()).await else {
                // No answer in this attempt's share: send again.
                continue;
            };
            if attempt == 0 {
                self.record_rtt(start.elapsed());
            }
            match answer {
                Answer::Ignore => {}
                Answer::Final(outcome) => return outcome,
                Answer::Retry(outcome) => last = outcome,
                Answer::Truncated => {
                    drop(ticket);
                    // Boxed: the TCP path is rare, and would otherwise make
                    // every lookup's future as large as its own.
                    return Box::pin(self.tcp_attempt(server, name, deadline))
                        .await
                        .unwrap_or_else(|o| o);
                }
            }
        }
        last
    }

    async fn tcp_lookup(&self, name: &DomainName) -> Outcome {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut last = Outcome::Timeout;
        for attempt in 0..=self.retries {
            let until = (start + self.per_attempt() * (attempt + 1)).min(deadline);
            match self.tcp_attempt(self.server(attempt), name, until).await {
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
        name: &DomainName,
        until: Instant,
    ) -> Result<Outcome, Outcome> {
        let id = rand::random::<u16>();
        let mut query = Vec::new();
        packet::encode_query(id, name, &mut query).map_err(Outcome::Error)?;
        // Over TCP a message is framed by its two-byte length.
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
        framed.extend_from_slice(&query);
        let conn_err = |what: &str, e: io::Error| {
            Outcome::Error(escape_text(&format!("{CONNECTION}: TCP {what}: {e}")))
        };
        let mut stream = match timeout_at(until, TcpStream::connect(server)).await {
            Err(_) => return Err(Outcome::Timeout),
            Ok(Err(e)) => return Err(conn_err("connect", e)),
            Ok(Ok(s)) => s,
        };
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
            if body.len() < HEADER || body[..2] != id.to_be_bytes() {
                continue;
            }
            return match packet::read(packet::question(&query), &body) {
                None => Err(Outcome::Error("malformed answer over TCP".into())),
                Some(Answer::Ignore) => continue,
                Some(Answer::Final(o)) => Ok(o),
                Some(Answer::Retry(o)) => Err(o),
                Some(Answer::Truncated) => Ok(Outcome::Error(
                    "the answer was truncated even over TCP".into(),
                )),
            };
        }
    }
}

impl MxResolver for WireResolver {
    async fn lookup(&self, name: &DomainName) -> Outcome {
        if self.tcp_only {
            self.tcp_lookup(name).await
        } else {
            self.udp_lookup(name).await
        }
    }
}

impl Channel {
    /// A socket for the servers of `addr`'s family. With only one such
    /// server the socket is connected to it: the kernel then drops
    /// datagrams from anywhere else, and sends skip the route lookup.
    fn bind(addr: SocketAddr, servers: &[SocketAddr]) -> io::Result<Channel> {
        let domain = socket2::Domain::for_address(addr);
        let socket =
            socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
        // Best effort: the kernel caps it at net.core.rmem_max.
        let _ = socket.set_recv_buffer_size(RECV_BUFFER);
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        let servers: Vec<SocketAddr> = servers
            .iter()
            .filter(|s| s.is_ipv6() == addr.is_ipv6())
            .copied()
            .collect();
        let connected = match servers[..] {
            [only] => {
                socket.connect(&only.into())?;
                Some(only)
            }
            _ => None,
        };
        Ok(Channel {
            socket: UdpSocket::from_std(socket.into())?,
            servers,
            connected,
            pending: Mutex::new(HashMap::default()),
        })
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<u16, Slot, BuildHasherDefault<IdHasher>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserve a free, random query ID on this channel and write the query.
    fn register(self: &Arc<Self>, name: &DomainName) -> Result<Ticket, String> {
        let mut query = Vec::with_capacity(HEADER + name.as_str().len() + 20);
        let mut pending = self.pending();
        let id = loop {
            let id = rand::random::<u16>();
            if !pending.contains_key(&id) {
                break id;
            }
        };
        packet::encode_query(id, name, &mut query)?;
        pending.insert(
            id,
            Slot {
                query,
                answer: None,
                waker: None,
            },
        );
        Ok(Ticket {
            channel: self.clone(),
            id,
        })
    }
}

/// A query ID held on a channel; dropping it frees the ID, so a lookup
/// cancelled at its deadline leaves nothing behind.
struct Ticket {
    channel: Arc<Channel>,
    id: u16,
}

impl Ticket {
    /// Send (or send again) the query to `server`.
    async fn send(&self, server: SocketAddr) -> io::Result<()> {
        let socket = &self.channel.socket;
        let query = {
            let pending = self.channel.pending();
            let Some(slot) = pending.get(&self.id) else {
                return Err(io::Error::other("the query was lost"));
            };
            let send = || {
                if self.channel.connected == Some(server) {
                    socket.try_send(&slot.query)
                } else {
                    socket.try_send_to(&slot.query, server)
                }
            };
            match send() {
                // The socket's send buffer is full: wait, without the lock.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => slot.query.clone(),
                // On a connected socket, an ICMP error for an earlier
                // datagram is reported by the next send: not this query's.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return send().map(drop);
                }
                sent => return sent.map(drop),
            }
        };
        socket.send_to(&query, server).await.map(drop)
    }

    /// The next useful answer to the query.
    async fn answer(&self) -> Answer {
        poll_fn(|cx| {
            let mut pending = self.channel.pending();
            let Some(slot) = pending.get_mut(&self.id) else {
                return Poll::Ready(Answer::Ignore);
            };
            if let Some(answer) = slot.answer.take() {
                return Poll::Ready(answer);
            }
            if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                slot.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.channel.pending().remove(&self.id);
    }
}

/// Read each datagram against the query waiting for its ID, if any, and
/// hand that query what it says.
async fn receive(channel: Arc<Channel>) {
    let mut batch = recv::Batch::new();
    loop {
        // An error here is an ICMP report or the like: it belongs to no
        // query in particular.
        if batch.recv(&channel.socket).await.is_err() {
            continue;
        }
        let mut pending = channel.pending();
        for (datagram, from) in batch.datagrams() {
            if datagram.len() < HEADER || !channel.servers.contains(&from) {
                continue;
            }
            let id = u16::from_be_bytes([datagram[0], datagram[1]]);
            let Some(slot) = pending.get_mut(&id) else {
                continue;
            };
            // A bug in the reader must cost one datagram, not this loop
            // (and with it every lookup on the socket).
            let read = || packet::classify(packet::question(&slot.query), datagram);
            let answer = std::panic::catch_unwind(read).unwrap_or(Answer::Ignore);
            if answer == Answer::Ignore {
                continue;
            }
            // A settled answer is not replaced by a later one (a duplicate,
            // or the answer to a resent query).
            if !matches!(slot.answer, Some(Answer::Final(_))) {
                slot.answer = Some(answer);
            }
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }
}

/// Query IDs are random already: spread them over the hash table with one
/// multiplication instead of SipHash.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u16(&mut self, id: u16) {
        self.0 = u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
