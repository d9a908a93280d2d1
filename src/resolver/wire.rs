//! The wire engine's client: the I/O around the rules for one question
//! ([`super::retransmit`], a pure state machine), over the UDP and TCP
//! transports, with the codec and the classifier.
//!
//! What is decided here: each question starts at the next server in turn,
//! passing over suspect servers (port just reported unreachable, or three
//! sends lost in a row with no answer) while another is healthy; the
//! address family plays no part, each server has sockets of its own. And
//! what the question notes about a server (RTT, losses, EDNS, refusals)
//! goes into that server's shared state ([`super::server`]).

use super::answer::{Failure, Phase};
use super::classify::Step;
use super::codec::{self, RecordType};
use super::retransmit::{Action, Heard, Note, QuerySettings, Question, Servers};
use super::server::{Server, Stats};
use super::udp::{Received, Ticket};
use super::{Ask, Deadline, Settings, tcp};
use crate::error::Error;
use crate::name::DomainName;
use crate::text::SafeText;
use smallvec::SmallVec;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// UDP sockets per nameserver.
pub(super) const SOCKETS_PER_SERVER: usize = 1;
/// mxlookup's own engine: connected UDP socket pools per server, TCP when needed, its own timers and congestion control.
pub struct WireResolver {
    servers: Vec<Arc<Server>>,
    tcp_only: bool,
    dnssec: bool,
    timeout: Duration,
    retries: u32,
    rotation: AtomicUsize,
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
            dnssec: settings.dnssec,
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
        if self.dnssec {
            codec::set_dnssec(&mut q);
        }
        Ok(q)
    }

    /// Ask one question until it is settled: the rules are the state
    /// machine's ([`Question`]); this does the I/O around it.
    async fn ask_question(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
    ) -> Result<Step, Failure> {
        let mut question = Question::new(
            self.first(),
            self.timeout,
            self.failure_budget(),
            self.tcp_only,
            *deadline,
            rand::random(),
        );
        let mut tickets: SmallVec<[Ticket; 2]> = SmallVec::new();
        // The query of the last TCP exchange asked for.
        let result = loop {
            let action = question.next(Instant::now(), self);
            self.apply(&mut question);
            match action {
                Action::Start {
                    server,
                    settings,
                    again,
                } => {
                    let ns = &self.servers[server];
                    let query = self.query(name, qtype, settings.edns, settings.case)?;
                    let Some(pool) = &ns.udp else {
                        break Err(Failure::error(Phase::Internal, "no UDP socket"));
                    };
                    let ticket = pool.register(query).map_err(|e| {
                        Failure::error(
                            Phase::Network,
                            crate::safe!("cannot open a UDP socket: {e}"),
                        )
                    })?;
                    tickets.push(ticket);
                    self.send(&mut question, &tickets, server, again).await;
                }
                Action::Resend { server, again } => {
                    self.send(&mut question, &tickets, server, again).await;
                }
                Action::Wait { until } => match timeout_at(until, next_heard(&tickets)).await {
                    Ok((i, received)) => {
                        let heard = match received {
                            Received::Verdict(v) => Heard::Verdict(v),
                            Received::CaseMismatch => Heard::CaseMismatch,
                            Received::Unreachable(e) => Heard::Error(e),
                        };
                        question.heard(i, heard, Instant::now(), self);
                    }
                    Err(_) => question.timer(Instant::now(), self),
                },
                Action::Tcp {
                    server,
                    edns,
                    until,
                } => {
                    let ns = &self.servers[server];
                    let mut query = self.query(name, qtype, edns, false)?;
                    codec::set_id(&mut query, rand::random());
                    ns.sent(false);
                    // Boxed: the TCP path is rare, and would otherwise make
                    // every lookup's future as large as its own.
                    let verdict = Box::pin(tcp::exchange(ns.addr, &query, until)).await;
                    question.tcp_done(verdict);
                }
                Action::Done { result, server } => {
                    break result.map(|step| match server {
                        Some(i) => with_server(step, &self.servers[i]),
                        None => step,
                    });
                }
            }
            self.apply(&mut question);
        };
        *deadline = question.deadline();
        result
    }

    /// Wait for `server`'s pacer, then send the last attempt.
    async fn send(&self, question: &mut Question, tickets: &[Ticket], server: usize, again: bool) {
        self.servers[server].pace(again).await;
        if !question.may_send(Instant::now()) {
            return;
        }
        let ticket = tickets.last().expect("an attempt was registered");
        let sent = ticket.send().await;
        question.sent(Instant::now(), sent, self);
    }

    /// Apply what the question noted to the servers' shared state.
    fn apply(&self, question: &mut Question) {
        for note in question.notes() {
            match note {
                Note::Sent { server, again } => self.servers[server].sent(again),
                Note::Lost { server } => self.servers[server].lost(),
                Note::Answered {
                    server,
                    rtt,
                    case_kept,
                } => self.servers[server].answered(rtt, case_kept),
                Note::Failed { server, servfail } => self.servers[server].refused(servfail),
                Note::NoEdns { server } => self.servers[server].no_edns(),
                Note::Unreachable { server } => self.servers[server].mark_unreachable(),
            }
        }
    }
}

impl Servers for WireResolver {
    fn count(&self) -> usize {
        self.servers.len()
    }

    fn addr(&self, server: usize) -> SocketAddr {
        self.servers[server].addr
    }

    fn unreachable(&self, server: usize) -> bool {
        self.servers[server].unreachable()
    }

    fn has_answered(&self, server: usize) -> bool {
        self.servers[server].has_answered()
    }

    fn settings(&self, server: usize) -> QuerySettings {
        self.servers[server].query_settings()
    }

    fn shedding(&self, server: usize) -> bool {
        self.servers[server].shedding()
    }
}

impl Ask for WireResolver {
    async fn ask(
        &self,
        name: &DomainName,
        qtype: RecordType,
        deadline: &mut Deadline,
    ) -> Result<Step, Failure> {
        self.ask_question(name, qtype, deadline).await
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

/// The next thing heard on any of the attempts' tickets, and which.
async fn next_heard(tickets: &[Ticket]) -> (usize, Received) {
    poll_fn(|cx| {
        for (i, t) in tickets.iter().enumerate().rev() {
            if let Poll::Ready(r) = t.poll_next(cx) {
                return Poll::Ready((i, r));
            }
        }
        Poll::Pending
    })
    .await
}
