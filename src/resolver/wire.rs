//! The wire engine's client: which server to ask, when to send again, when
//! to give up. Over the UDP and TCP transports, with the codec and the
//! classifier.
//!
//! The rules for one question:
//! - **Rotation.** Each question starts at the next server in turn,
//!   passing over suspect servers (port just reported unreachable, or
//!   three sends lost in a row with no answer) while another is healthy;
//!   every further attempt goes to the next server after that one. The
//!   address family plays no part: each server has sockets of its own.
//! - **Deadline.** `--timeout` counts from the question's first send
//!   (waiting in the limiter or for a congested server's pacer does not
//!   count), and covers every send, retry and alias followed.
//! - **Lost packets** are sent again until the deadline: after one
//!   retransmission timeout (the server's RTO, doubling with each send, at
//!   most 1 s, then up to half again at random so that queries lost
//!   together are not resent together), to the next server when there are
//!   several. An answer to an earlier send still counts.
//! - **SERVFAIL, REFUSED and referrals** are asked again at the next server;
//!   `--retries` is how many more such answers a question may get beyond
//!   one per server. While a server is shedding load (see
//!   [`super::server`]) they do not count against `--retries`. The status
//!   is the last answer's.
//! - **Port unreachable** (ICMP): the server is skipped for a moment; when
//!   every server is unreachable the question fails at once.
//! - **Truncated** answers are asked again over TCP, at the same server.
//! - **FORMERR, NOTIMP or BADVERS** to a query with EDNS: that server is
//!   asked without EDNS from then on.
//! - **0x20**: question letters go out in random case, until a server shows
//!   it does not keep case; then its questions go out in lower case.

use super::answer::{Failure, FailureKind, Phase};
use super::classify::{Step, Verdict};
use super::codec::{self, RecordType};
use super::server::{MAX_RTO, Server, Stats};
use super::udp::{Received, Ticket};
use super::{Ask, Deadline, Settings, tcp};
use crate::error::Error;
use crate::name::DomainName;
use crate::text::SafeText;
use smallvec::SmallVec;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// UDP sockets per nameserver.
pub(super) const SOCKETS_PER_SERVER: usize = 4;
/// The first wait before a SERVFAIL/REFUSED answer is asked again at a
/// server that already gave one (doubling).
const RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// mxlookup's own engine: connected UDP socket pools per server, TCP when needed, its own timers and congestion control.
pub struct WireResolver {
    servers: Vec<Arc<Server>>,
    tcp_only: bool,
    timeout: Duration,
    retries: u32,
    rotation: AtomicUsize,
}

/// One server asked for one question, and the ticket its answer comes on.
struct Attempt {
    ns: Arc<Server>,
    ticket: Ticket,
    sent_at: Instant,
    sends: u32,
    edns: bool,
    /// The question's letters went out in random case (0x20).
    case: bool,
    /// The server's retransmission timeout when the attempt began.
    rto: Duration,
}

impl WireResolver {
    /// Open the sockets and start their receive tasks. Needs a Tokio
    /// runtime.
    pub fn new(settings: &Settings) -> Result<WireResolver, Error> {
        let addrs = settings.plain_servers()?;
        let sockets = if settings.tcp_only {
            0
        } else {
            SOCKETS_PER_SERVER
        };
        let servers = addrs
            .into_iter()
            .map(|a| {
                Server::new(a, sockets, settings.concurrency)
                    .map(Arc::new)
                    .map_err(|e| Error::ResolverConfig(format!("cannot open a UDP socket: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WireResolver {
            servers,
            tcp_only: settings.tcp_only,
            timeout: settings.timeout,
            retries: settings.retries,
            rotation: AtomicUsize::new(0),
        })
    }

    /// What each server saw during the run.
    pub fn stats(&self) -> Vec<(Arc<SafeText>, Stats)> {
        self.servers
            .iter()
            .map(|s| (s.label.clone(), s.stats()))
            .collect()
    }

    /// The first server for a new question: the next in turn that is not
    /// suspect (unreachable, or losing every send), else the next that is
    /// not unreachable, else simply the next.
    fn first(&self) -> usize {
        let n = self.servers.len();
        let c = self.rotation.fetch_add(1, Ordering::Relaxed);
        let next = |ok: &dyn Fn(&Server) -> bool| {
            (0..n).map(|i| (c + i) % n).find(|&i| ok(&self.servers[i]))
        };
        next(&|s| !s.suspect())
            .or_else(|| next(&|s| !s.unreachable()))
            .unwrap_or(c % n)
    }

    fn position(&self, ns: &Arc<Server>) -> Option<usize> {
        self.servers.iter().position(|s| Arc::ptr_eq(s, ns))
    }

    /// How many SERVFAIL/REFUSED/referral answers a question may get.
    fn failure_budget(&self) -> u32 {
        (self.retries + 1).max(self.servers.len() as u32)
    }

    /// The query for `name`, with or without EDNS, and with its letters in
    /// random case if `case` (0x20).
    fn query(
        &self,
        name: &DomainName,
        qtype: RecordType,
        edns: bool,
        case: bool,
    ) -> Result<Vec<u8>, Failure> {
        let mut q = Vec::with_capacity(codec::HEADER + name.as_str().len() + 20);
        codec::encode_query(0, name, qtype, edns, &mut q).map_err(|e| {
            Failure::error(Phase::Internal, format!("cannot encode the query: {e}"))
        })?;
        if case {
            codec::randomize_case(&mut q, rand::random());
        }
        Ok(q)
    }

    async fn udp_ask(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
    ) -> Result<Step, Failure> {
        let n = self.servers.len();
        let mut index = self.first();
        let mut attempts: SmallVec<[Attempt; 2]> = SmallVec::new();
        let mut last: Option<Failure> = None;
        let mut failures = 0u32;
        // Sends of this question so far (for the backoff), and when the
        // next one is due (`None`: now).
        let mut sends = 0u32;
        let mut next_send: Option<Instant> = None;
        // Start a new attempt (at `index`) at the next send, rather than
        // sending the current one again.
        let mut switch = true;
        // A send is out and unanswered: the timer running out means loss
        // (otherwise it is the end of a pause before asking again).
        let mut awaiting = false;
        loop {
            if next_send.is_none_or(|t| t <= Instant::now()) {
                if switch {
                    // Skip unreachable servers while a reachable one is left.
                    if let Some(i) = (0..n)
                        .map(|k| (index + k) % n)
                        .find(|&i| !self.servers[i].unreachable())
                    {
                        index = i;
                    } else if let Some(f) = last.take() {
                        return Err(f);
                    }
                    let ns = self.servers[index].clone();
                    let (edns, case, rto) = ns.query_settings();
                    let query = self.query(name, qtype, edns, case)?;
                    let Some(pool) = &ns.udp else {
                        return Err(Failure::error(Phase::Internal, "no UDP socket"));
                    };
                    let ticket = pool.register(query).map_err(|e| {
                        Failure::error(Phase::Network, format!("cannot open a UDP socket: {e}"))
                    })?;
                    attempts.push(Attempt {
                        ns,
                        ticket,
                        sent_at: Instant::now(),
                        sends: 0,
                        edns,
                        case,
                        rto,
                    });
                    switch = false;
                }
                let attempt = attempts.last_mut().expect("an attempt was just made");
                attempt.ns.pace(attempt.sends > 0 || sends > 0).await;
                let now = Instant::now();
                if deadline.expired(now) {
                    break;
                }
                match attempt.ticket.send().await {
                    Ok(()) => {}
                    Err(e) => {
                        last = Some(unreachable(&attempt.ns, &e));
                        index += 1;
                        switch = true;
                        continue;
                    }
                }
                deadline.start(now, self.timeout);
                awaiting = true;
                attempt.ns.sent(attempt.sends > 0);
                attempt.sent_at = now;
                attempt.sends += 1;
                sends += 1;
                // Doubling, at most MAX_RTO, then up to half again at
                // random: resends of queries lost together (a rate limit's
                // budget running out each second) must not stay in step
                // and be lost together again.
                let backoff = (attempt.rto * 2u32.saturating_pow(sends - 1)).min(MAX_RTO);
                next_send = Some(now + backoff.mul_f64(1.0 + rand::random::<f64>() / 2.0));
            }
            let until = deadline.cap(next_send.expect("a send was made"));
            let heard = timeout_at(until, next_heard(&attempts)).await;
            let Ok((i, received)) = heard else {
                if deadline.expired(Instant::now()) {
                    break;
                }
                if awaiting {
                    // A whole RTO without an answer: lost.
                    let current = attempts.last().expect("an attempt was made");
                    current.ns.lost();
                    if n > 1 {
                        index += 1;
                        switch = true;
                    }
                }
                next_send = None;
                continue;
            };
            let from = attempts[i].ns.clone();
            awaiting = false;
            match received {
                Received::CaseMismatch => {
                    // The server has shown it does not keep case: ask it
                    // again in lower case now. Otherwise this may be a
                    // spoofer: keep waiting for the real answer.
                    awaiting = true;
                    if attempts[i].case && !from.use_0x20() {
                        index = self.position(&from).unwrap_or(index);
                        switch = true;
                        next_send = None;
                    }
                }
                Received::Unreachable(e) => {
                    last = Some(unreachable(&from, &e));
                    if self.servers.iter().all(|s| s.unreachable()) {
                        break;
                    }
                    index += 1;
                    switch = true;
                    next_send = None;
                }
                Received::Verdict(verdict) => {
                    let a = &attempts[i];
                    let rtt = (a.sends == 1).then(|| a.sent_at.elapsed());
                    // An answer whose randomised case came back exactly is
                    // proof that the server keeps case.
                    let kept = a.case;
                    match verdict {
                        Verdict::Done(step) => {
                            from.answered(rtt, kept);
                            return Ok(with_server(step, &from));
                        }
                        Verdict::Fail(f) => {
                            from.answered(rtt, kept);
                            return Err(f);
                        }
                        Verdict::Ignore(_) => awaiting = true,
                        Verdict::Truncated => {
                            from.answered(rtt, kept);
                            // Boxed: the TCP path is rare, and would otherwise
                            // make every lookup's future as large as its own.
                            return Box::pin(self.tcp_ask(name, qtype, deadline, Some(&from)))
                                .await;
                        }
                        Verdict::NoEdns => {
                            from.answered(rtt, kept);
                            if attempts[i].edns {
                                from.no_edns();
                                index = self.position(&from).unwrap_or(index);
                                switch = true;
                                next_send = None;
                            }
                        }
                        Verdict::Retry(f) => {
                            let congested = from.congested();
                            from.refused(f.kind == FailureKind::Servfail);
                            if !congested {
                                failures += 1;
                            }
                            last = Some(f);
                            if failures >= self.failure_budget() {
                                break;
                            }
                            index += 1;
                            switch = true;
                            // Ask a server that has failed this question
                            // before only after a pause.
                            let asked_before = attempts
                                .iter()
                                .any(|a| Arc::ptr_eq(&a.ns, &self.servers[index % n]));
                            next_send = asked_before.then(|| {
                                Instant::now()
                                    + RETRY_BACKOFF * 2u32.saturating_pow(failures.min(6))
                            });
                            if congested {
                                next_send = Some(Instant::now() + from.rto());
                            }
                        }
                    }
                }
            }
        }
        Err(last.unwrap_or_else(Failure::timeout))
    }

    /// The question over TCP: with `--tcp`, or after a truncated answer
    /// from `only`.
    async fn tcp_ask(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
        only: Option<&Arc<Server>>,
    ) -> Result<Step, Failure> {
        let n = self.servers.len();
        let start = self.first();
        let attempts = self.failure_budget();
        let mut last: Option<Failure> = None;
        let mut failures = 0;
        let mut k = 0;
        let mut edns_retry = false;
        while failures < attempts {
            let ns = match only {
                Some(ns) => ns.clone(),
                None => self.servers[(start + k) % n].clone(),
            };
            let now = Instant::now();
            deadline.start(now, self.timeout);
            if deadline.expired(now) {
                break;
            }
            // Each attempt gets an equal share of what is left, so that a
            // silent server does not take all of it.
            let left = deadline.left(now);
            let share = left / (attempts - failures).max(1);
            let until = deadline.cap(now + share.max(left.min(Duration::from_millis(500))));
            let query = self.query(name, qtype, ns.edns(), false)?;
            let mut query = query;
            codec::set_id(&mut query, rand::random());
            ns.sent(false);
            let verdict = match tcp::exchange(ns.addr, &query, until).await {
                Ok(v) => v,
                Err(f) => {
                    if f.kind == FailureKind::Timeout {
                        ns.lost();
                    }
                    last = Some(f);
                    failures += 1;
                    k += 1;
                    continue;
                }
            };
            ns.answered(None, false);
            match verdict {
                Verdict::Done(step) => return Ok(with_server(step, &ns)),
                Verdict::Fail(f) => return Err(f),
                Verdict::NoEdns if codec::has_edns(&query) && !edns_retry => {
                    ns.no_edns();
                    edns_retry = true;
                }
                Verdict::Retry(f) => {
                    ns.refused(f.kind == FailureKind::Servfail);
                    last = Some(f);
                    failures += 1;
                    k += 1;
                }
                other => {
                    return Err(Failure::error(
                        Phase::Protocol,
                        format!("an unusable answer over TCP ({other:?})"),
                    ));
                }
            }
        }
        Err(last.unwrap_or_else(Failure::timeout))
    }
}

impl Ask for WireResolver {
    async fn ask(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
    ) -> Result<Step, Failure> {
        if self.tcp_only {
            self.tcp_ask(name, qtype, deadline, None).await
        } else {
            self.udp_ask(name, qtype, deadline).await
        }
    }
}

fn with_server(step: Step, ns: &Server) -> Step {
    match step {
        Step::Answer(mut a) => {
            a.server = Some(ns.label.clone());
            Step::Answer(a)
        }
        Step::Follow { mut partial, next } => {
            partial.server = Some(ns.label.clone());
            Step::Follow { partial, next }
        }
    }
}

fn unreachable(ns: &Server, e: &io::Error) -> Failure {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        ns.mark_unreachable();
        return Failure::error(
            Phase::Network,
            format!(
                "{}: {} refused the connection (nothing is listening on that port)",
                tcp::CONNECTION,
                ns.addr
            ),
        );
    }
    tcp::connection_failure(&format!("UDP to {}", ns.addr), e)
}

/// The next thing heard on any of the attempts' tickets, and which.
async fn next_heard(attempts: &[Attempt]) -> (usize, Received) {
    poll_fn(|cx| {
        for (i, a) in attempts.iter().enumerate().rev() {
            if let Poll::Ready(r) = a.ticket.poll_next(cx) {
                return Poll::Ready((i, r));
            }
        }
        Poll::Pending
    })
    .await
}
