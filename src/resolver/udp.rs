//! The UDP transport: for each nameserver, a small pool of sockets, each
//! connected to that server and bound to a port the kernel picks at random,
//! renewed after a few thousand queries. A query is registered on a random
//! socket of the pool under a random free ID; the socket's receive task
//! reads answers in batches (`recvmmsg`), matches them by ID (the kernel
//! has already dropped datagrams from anywhere but the server, since the
//! socket is connected), classifies each against its query, and wakes the
//! lookup only for a useful verdict.
//!
//! Because each socket talks to one server, an ICMP "port unreachable"
//! (which Linux reports on a connected socket as `ECONNREFUSED`) tells
//! exactly which server is not listening: every query waiting on that
//! socket hears of it at once, instead of waiting for its deadline.
//!
//! Spoofing: an off-path attacker must match the ID (16 bits), the source
//! port (one of the pool's, each drawn from the kernel's ephemeral range,
//! about 15 bits, and renewed), and, where the server keeps letter case,
//! the 0x20 case of every letter of the question.

use super::classify::{Mismatch, Verdict, classify};
use super::codec;
use super::recv;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use tokio::net::UdpSocket;
use tokio::sync::Notify;

/// Receive buffer asked for on each socket, so that bursts of answers are
/// not dropped by the kernel (as root, past `net.core.rmem_max`).
const RECV_BUFFER: usize = 4 << 20;
/// Queries a socket carries before it is replaced by one on a new port.
/// One socket per server (its answers read in bigger batches: 15% less CPU
/// per lookup than four), renewed often, so that the source port still
/// changes every few hundred queries.
pub(super) const RENEW_AFTER: u64 = 512;

/// What the receive task hands a waiting query.
#[derive(Debug)]
pub(super) enum Received {
    Verdict(Verdict),
    /// An answer to this query's ID whose question came back in another
    /// letter case than sent (0x20): a server that does not keep case, or
    /// a spoofing attempt. Not an answer.
    CaseMismatch,
    /// The server's port is closed (ICMP port unreachable), or another
    /// error was reported on the socket.
    Unreachable(io::Error),
}

/// The sockets of one nameserver.
pub(super) struct UdpPool {
    server: SocketAddr,
    sockets: Mutex<Vec<Arc<Socket>>>,
    case_mismatches: Arc<AtomicU64>,
}

struct Socket {
    io: UdpSocket,
    pending: Mutex<HashMap<u16, Slot, BuildHasherDefault<IdHasher>>>,
    registered: AtomicU64,
    /// Replaced by a newer socket: the receive task ends once the last
    /// query on it is done.
    retired: AtomicBool,
    drained: Notify,
    case_mismatches: Arc<AtomicU64>,
}

/// A query waiting on a socket.
struct Slot {
    /// The query as sent (resent as it is); answers are matched against it.
    query: Vec<u8>,
    received: Option<Received>,
    waker: Option<Waker>,
}

impl UdpPool {
    /// Open `size` sockets connected to `server` and start their receive
    /// tasks; answers whose question came back in another letter case are
    /// counted in `case_mismatches`. Needs a Tokio runtime.
    pub(super) fn new(
        server: SocketAddr,
        size: usize,
        case_mismatches: Arc<AtomicU64>,
    ) -> io::Result<UdpPool> {
        let sockets = (0..size.max(1))
            .map(|_| Socket::open(server, case_mismatches.clone()))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(UdpPool {
            server,
            sockets: Mutex::new(sockets),
            case_mismatches,
        })
    }

    /// Register `query` (its ID is chosen here and written into it) on a
    /// random socket of the pool.
    pub(super) fn register(&self, mut query: Vec<u8>) -> io::Result<Ticket> {
        let socket = {
            let mut sockets = lock(&self.sockets);
            let i = rand::random_range(0..sockets.len());
            if sockets[i].registered.load(Ordering::Relaxed) >= RENEW_AFTER {
                let fresh = Socket::open(self.server, self.case_mismatches.clone())?;
                let old = std::mem::replace(&mut sockets[i], fresh);
                old.retire();
            }
            sockets[i].clone()
        };
        socket.registered.fetch_add(1, Ordering::Relaxed);
        let id = {
            let mut pending = lock(&socket.pending);
            let id = loop {
                let id = rand::random::<u16>();
                if !pending.contains_key(&id) {
                    break id;
                }
            };
            query[..2].copy_from_slice(&id.to_be_bytes());
            pending.insert(
                id,
                Slot {
                    query,
                    received: None,
                    waker: None,
                },
            );
            id
        };
        Ok(Ticket { socket, id })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Socket {
    fn open(server: SocketAddr, case_mismatches: Arc<AtomicU64>) -> io::Result<Arc<Socket>> {
        let bind: SocketAddr = if server.is_ipv6() {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        };
        let domain = socket2::Domain::for_address(server);
        let socket =
            socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
        grow_receive_buffer(&socket);
        socket.set_nonblocking(true)?;
        socket.bind(&bind.into())?;
        socket.connect(&server.into())?;
        let socket = Arc::new(Socket {
            io: UdpSocket::from_std(socket.into())?,
            pending: Mutex::new(HashMap::default()),
            registered: AtomicU64::new(0),
            retired: AtomicBool::new(false),
            drained: Notify::new(),
            case_mismatches,
        });
        tokio::spawn(receive(socket.clone()));
        Ok(socket)
    }

    fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        if lock(&self.pending).is_empty() {
            self.drained.notify_one();
        }
    }
}

/// Ask for a large receive buffer: as root past the system maximum
/// (`SO_RCVBUFFORCE`), otherwise as far as the maximum allows.
#[allow(unsafe_code)]
fn grow_receive_buffer(socket: &socket2::Socket) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let size = RECV_BUFFER as libc::c_int;
        // SAFETY: a valid socket, and a pointer to an int of the size given.
        let forced = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&size as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if forced == 0 {
            return;
        }
    }
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
}

/// A query registered on a socket; dropping it frees the ID, so a lookup
/// cancelled at its deadline leaves nothing behind.
pub(super) struct Ticket {
    socket: Arc<Socket>,
    id: u16,
}

impl Ticket {
    /// Send (or send again) the query. An `Err` of kind
    /// `ConnectionRefused` means the server's port is closed.
    pub(super) async fn send(&self) -> io::Result<()> {
        let io = &self.socket.io;
        let query = {
            let pending = lock(&self.socket.pending);
            let Some(slot) = pending.get(&self.id) else {
                return Err(io::Error::other("the query was lost"));
            };
            match io.try_send(&slot.query) {
                // The send buffer is full: wait, without the lock.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => slot.query.clone(),
                sent => return sent.map(drop),
            }
        };
        io.send(&query).await.map(drop)
    }

    pub(super) fn poll_next(&self, cx: &mut std::task::Context<'_>) -> Poll<Received> {
        let mut pending = lock(&self.socket.pending);
        let Some(slot) = pending.get_mut(&self.id) else {
            return Poll::Ready(Received::Unreachable(io::Error::other(
                "the query was lost",
            )));
        };
        if let Some(r) = slot.received.take() {
            return Poll::Ready(r);
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let empty = {
            let mut pending = lock(&self.socket.pending);
            pending.remove(&self.id);
            pending.is_empty()
        };
        if empty && self.socket.retired.load(Ordering::Relaxed) {
            self.socket.drained.notify_one();
        }
    }
}

/// Read each datagram against the query waiting for its ID, if any, and
/// hand that query what it means.
async fn receive(socket: Arc<Socket>) {
    let mut batch = recv::Batch::new();
    loop {
        let read = tokio::select! {
            r = batch.recv(&socket.io) => r,
            () = socket.drained.notified() => return,
        };
        if let Err(e) = read {
            // An ICMP error for an earlier datagram: on a connected
            // socket it can only be about this socket's server.
            let kind = e.kind();
            for slot in lock(&socket.pending).values_mut() {
                slot.received = Some(Received::Unreachable(io::Error::new(kind, e.to_string())));
                if let Some(w) = slot.waker.take() {
                    w.wake();
                }
            }
            continue;
        }
        // Once the first lookup of a batch is woken, let it (and the
        // lookup that takes its place) run before the rest are read: the
        // server gets its next query at once, and works on it while this
        // reads the batch. Handing over the whole batch first makes client
        // and server take turns, each idle while the other works (at 8 in
        // flight, 0.74x the lookups per second). A full batch means more
        // answers are waiting: the server has work.
        let mut next = 0;
        if batch.len() < recv::BATCH {
            next = deliver_until_woken(&socket, &batch);
            if next < batch.len() {
                tokio::task::yield_now().await;
            }
        }
        let mut pending = lock(&socket.pending);
        for i in next..batch.len() {
            deliver(&socket, &mut pending, batch.datagram(i));
        }
    }
}

/// Deliver the batch's datagrams until one wakes a lookup: the index of
/// the next one (the batch's length if none woke a lookup).
fn deliver_until_woken(socket: &Socket, batch: &recv::Batch) -> usize {
    let mut pending = lock(&socket.pending);
    (0..batch.len())
        .find(|&i| deliver(socket, &mut pending, batch.datagram(i)))
        .map_or(batch.len(), |i| i + 1)
}

/// Hand one datagram to the query waiting for its ID, if any: whether a
/// lookup was woken.
fn deliver(
    socket: &Socket,
    pending: &mut HashMap<u16, Slot, BuildHasherDefault<IdHasher>>,
    datagram: recv::Datagram<'_>,
) -> bool {
    let bytes = datagram.bytes;
    let Some(id) = bytes.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
        return false;
    };
    let Some(slot) = pending.get_mut(&id) else {
        return false;
    };
    // A bug in the classifier must cost one datagram, not this
    // loop (and with it every lookup on the socket).
    let verdict = std::panic::catch_unwind(|| classify(&slot.query, bytes))
        .unwrap_or(Verdict::Ignore(Mismatch::NotResponse));
    // Bigger than the payload the query advertised (RFC 6891: a
    // server must not send more; a datagram that big may have come
    // in IP fragments, which a spoofer can replace), or cut short
    // by the buffer: whatever it says, ask over TCP. The hickory
    // engine, which cannot read past the payload, does the same.
    let verdict = match verdict {
        Verdict::Ignore(m) => Verdict::Ignore(m),
        _ if datagram.cut || bytes.len() > codec::max_payload(&slot.query) => Verdict::Truncated,
        v => v,
    };
    match verdict {
        Verdict::Ignore(Mismatch::Case) => {
            socket.case_mismatches.fetch_add(1, Ordering::Relaxed);
            if slot.received.is_some() {
                return false;
            }
            slot.received = Some(Received::CaseMismatch);
        }
        Verdict::Ignore(_) => return false,
        // A settled answer is not replaced by a later one (a duplicate,
        // or the answer to a resent query).
        verdict => {
            if !matches!(
                slot.received,
                Some(Received::Verdict(Verdict::Done(_) | Verdict::Fail(_)))
            ) {
                slot.received = Some(Received::Verdict(verdict));
            }
        }
    }
    slot.waker.take().map(Waker::wake).is_some()
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
