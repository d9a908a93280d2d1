//! The rules for one question, as a pure state machine with no I/O and no
//! clock of its own (in the manner of [`super::control`]): the wire engine
//! ([`super::wire`]) does the sending, the waiting and the timing, and
//! tells the machine what happened; the machine says what to do next.
//!
//! Events in: a send went out (or failed), something was heard on an
//! attempt (an answer's verdict, a question in the wrong letter case, an
//! ICMP error), the timer ran out, a TCP exchange ended. Actions out:
//! start a new attempt at a server, send the current one again, wait,
//! ask over TCP, or done. Along the way it leaves [`Note`]s for the
//! servers' shared state (RTT, losses, EDNS, congestion), which the engine
//! applies.
//!
//! The rules:
//! - **Rotation.** The first attempt goes to the server the engine chose;
//!   every further attempt to the next one that is not unreachable.
//! - **Deadline.** `timeout` from the first send, covering every send,
//!   retry and TCP exchange.
//! - **Lost packets** are sent again until the deadline: after one
//!   retransmission timeout (the server's RTO, doubling with each send, at
//!   most [`MAX_RTO`], then up to half again at random, so that queries
//!   lost together are not resent together), to the next server when
//!   there are several. An answer to an earlier send still counts.
//! - **SERVFAIL, REFUSED and referrals** move to the next server; `budget`
//!   of them end the question (the last one's status). A server asked
//!   before is asked again only after a pause. While a server is shedding
//!   load (paced by its congestion controller, or refusing in a sudden
//!   burst after it has answered: a resolver's rate limit) they do not
//!   count, and the question is asked again later and slower (one RTO,
//!   doubling), until the deadline. A server that refuses everything from
//!   the start still gives `refused` at once.
//! - **ICMP port unreachable**: the server is passed over. When every
//!   server is unreachable, a server that has answered earlier in the run
//!   is restarting, not gone: it is probed again after 100 ms (doubling,
//!   with jitter) until the deadline. If none has ever answered, the
//!   question fails at once.
//! - **Truncated** answers are asked again over TCP at the same server; a
//!   TCP exchange that fails is a failure of that server, and the question
//!   moves to the next one.
//! - **FORMERR, NOTIMP or BADVERS** to a query with EDNS: that server is
//!   asked again without EDNS.
//! - **0x20**: an answer whose question came back in another letter case
//!   is ignored (it may be a spoofer's); once the server has shown it does
//!   not keep case, the question is asked again in lower case.
//! - With `--tcp`, every attempt is a TCP exchange, each with an equal
//!   share of the time left.

use super::answer::{Failure, FailureKind, Phase};
use super::classify::{Step, Verdict};
use super::server::MAX_RTO;
use super::{Deadline, tcp};
use crate::text::SafeText;
use smallvec::SmallVec;
use std::io;
use std::time::Duration;
use tokio::time::Instant;

/// The first wait before a SERVFAIL/REFUSED answer is asked again at a
/// server that already gave one (doubling).
pub(crate) const RETRY_BACKOFF: Duration = Duration::from_millis(50);
/// The first pause before a server that answered earlier in the run, and
/// whose port is now closed (restarting), is probed again (doubling).
const PROBE: Duration = Duration::from_millis(100);
/// The least time a TCP exchange is given, when that much is left.
const TCP_FLOOR: Duration = Duration::from_millis(500);

/// How a query to a server goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QuerySettings {
    /// With an EDNS OPT record.
    pub(crate) edns: bool,
    /// With the question's letters in random case (0x20).
    pub(crate) case: bool,
    /// The server's retransmission timeout now.
    pub(crate) rto: Duration,
}

/// What the machine asks of the servers' shared state.
pub(crate) trait Servers {
    /// How many servers there are (at least one).
    fn count(&self) -> usize;
    /// Its address, for messages.
    fn addr(&self, server: usize) -> std::net::SocketAddr;
    /// Its port answered "unreachable" moments ago.
    fn unreachable(&self, server: usize) -> bool;
    /// It has given a usable answer during this run.
    fn has_answered(&self, server: usize) -> bool;
    /// How to ask it now.
    fn settings(&self, server: usize) -> QuerySettings;
    /// It is shedding load (paced by congestion control, or refusing in a
    /// sudden burst after answering): its SERVFAIL and REFUSED answers are
    /// signals to slow down, not verdicts.
    fn shedding(&self, server: usize) -> bool;
}

/// What happened with a server, for its shared state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Note {
    /// A datagram went out (`again`: a resend of this question).
    Sent { server: usize, again: bool },
    /// A send went a whole RTO without an answer.
    Lost { server: usize },
    /// A usable answer came; `rtt` when it answered a query sent once
    /// (Karn's rule); `case_kept` when its question came back in exactly
    /// the random case sent.
    Answered {
        server: usize,
        rtt: Option<Duration>,
        case_kept: bool,
    },
    /// It answered SERVFAIL (`servfail`) or REFUSED, or a referral.
    Failed { server: usize, servfail: bool },
    /// It does not understand EDNS.
    NoEdns { server: usize },
    /// Its port is closed (ICMP port unreachable, or a refused connection).
    Unreachable { server: usize },
}

/// What was heard on one attempt's ticket.
#[derive(Debug)]
pub(crate) enum Heard {
    /// An answer to the query, and what it means.
    Verdict(Verdict),
    /// An answer whose question came back in another letter case.
    CaseMismatch,
    /// The socket reported an error: the port is closed, or worse.
    Error(io::Error),
}

/// What the engine is to do next.
#[derive(Debug, PartialEq)]
pub(crate) enum Action {
    /// Register a new query at `server`, asked as `settings` say, then wait
    /// for the server's pacer (`again`: this question was sent before) and
    /// send it: see [`Question::may_send`] and [`Question::sent`].
    Start {
        server: usize,
        settings: QuerySettings,
        again: bool,
    },
    /// Send the current attempt (at `server`) again, after the pacer.
    Resend { server: usize, again: bool },
    /// Wait until something is heard on any attempt, or `until`.
    Wait { until: Instant },
    /// Ask `server` over TCP (with EDNS if `edns`), giving up at `until`.
    Tcp {
        server: usize,
        edns: bool,
        until: Instant,
    },
    /// The question is settled; `server` answered it, when one did.
    Done {
        result: Result<Step, Failure>,
        server: Option<usize>,
    },
}

/// One server asked once for this question: its sends, and how.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    server: usize,
    sends: u32,
    sent_at: Instant,
    settings: QuerySettings,
}

/// The state of one question.
#[derive(Debug)]
pub(crate) struct Question {
    timeout: Duration,
    budget: u32,
    tcp_only: bool,
    deadline: Deadline,
    /// The server the next attempt goes to (modulo the count).
    index: usize,
    attempts: SmallVec<[Attempt; 2]>,
    /// The failure to report if nothing better comes.
    last: Option<Failure>,
    /// SERVFAIL/REFUSED/referral answers (and failed TCP exchanges) that
    /// counted against the budget.
    failures: u32,
    /// Refusals from servers that were shedding load (not counted).
    shed: u32,
    /// Probes of servers that went unreachable after answering.
    probes: u32,
    /// Sends of this question so far, for the backoff.
    sends: u32,
    /// When the next send is due; `None`: now.
    next_send: Option<Instant>,
    /// The next send starts a new attempt at `index`.
    switch: bool,
    /// A send is out and unanswered: the timer running out means loss.
    awaiting: bool,
    /// Ask over TCP next: the server, and whether with EDNS.
    tcp: Option<(usize, bool)>,
    /// A TCP exchange was asked again without EDNS already.
    tcp_edns_retry: bool,
    done: Option<(Result<Step, Failure>, Option<usize>)>,
    notes: SmallVec<[Note; 4]>,
    rng: u64,
}

impl Question {
    /// A question whose first attempt goes to `first`; `budget` SERVFAIL
    /// or REFUSED answers end it; `deadline` is the lookup's (it may have
    /// started already, for an alias's target); `seed` drives the jitter.
    pub(crate) fn new(
        first: usize,
        timeout: Duration,
        budget: u32,
        tcp_only: bool,
        deadline: Deadline,
        seed: u64,
    ) -> Question {
        Question {
            timeout,
            budget: budget.max(1),
            tcp_only,
            deadline,
            index: first,
            attempts: SmallVec::new(),
            last: None,
            failures: 0,
            shed: 0,
            probes: 0,
            sends: 0,
            next_send: None,
            switch: true,
            awaiting: false,
            tcp: None,
            tcp_edns_retry: false,
            done: None,
            notes: SmallVec::new(),
            rng: seed | 1,
        }
    }

    /// The lookup's deadline, as this question leaves it.
    pub(crate) fn deadline(&self) -> Deadline {
        self.deadline
    }

    /// The notes for the servers' state since the last call.
    pub(crate) fn notes(&mut self) -> smallvec::Drain<'_, [Note; 4]> {
        self.notes.drain(..)
    }

    /// What to do now.
    pub(crate) fn next(&mut self, now: Instant, servers: &impl Servers) -> Action {
        if let Some((result, server)) = self.done.take() {
            return Action::Done { result, server };
        }
        let n = servers.count();
        if self.tcp_only && self.tcp.is_none() {
            let server = self.index % n;
            let edns = servers.settings(server).edns;
            self.tcp = Some((server, edns));
        }
        if let Some((server, edns)) = self.tcp {
            self.deadline.start(now, self.timeout);
            if self.deadline.expired(now) {
                return Action::Done {
                    result: Err(self.failure()),
                    server: None,
                };
            }
            // Each exchange gets an equal share of what is left, so that a
            // silent server does not take all of it.
            let left = self.deadline.left(now);
            let share = left / (self.budget.saturating_sub(self.failures)).max(1);
            let until = self.deadline.cap(now + share.max(left.min(TCP_FLOOR)));
            return Action::Tcp {
                server,
                edns,
                until,
            };
        }
        if self.next_send.is_none_or(|t| t <= now) {
            let again = self.sends > 0;
            if !self.switch {
                let server = self.attempts.last().expect("an attempt was started").server;
                return Action::Resend { server, again };
            }
            // Pass over unreachable servers while a reachable one is left;
            // when none is, probe one that has answered before.
            match (0..n)
                .map(|k| (self.index + k) % n)
                .find(|&i| !servers.unreachable(i))
            {
                Some(i) => self.index = i,
                None if (0..n).any(|s| servers.has_answered(s)) => self.index %= n,
                None if self.last.is_some() => {
                    return Action::Done {
                        result: Err(self.failure()),
                        server: None,
                    };
                }
                None => self.index %= n,
            }
            let settings = servers.settings(self.index);
            self.attempts.push(Attempt {
                server: self.index,
                sends: 0,
                sent_at: now,
                settings,
            });
            self.switch = false;
            return Action::Start {
                server: self.index,
                settings,
                again,
            };
        }
        let until = self
            .deadline
            .cap(self.next_send.expect("a send is due later"));
        Action::Wait { until }
    }

    /// After the pacer, just before a send: whether it may go (false when
    /// the deadline has passed; the question is then settled).
    pub(crate) fn may_send(&mut self, now: Instant) -> bool {
        if self.deadline.expired(now) {
            let f = self.failure();
            self.done = Some((Err(f), None));
            return false;
        }
        true
    }

    /// The current attempt was sent at `now`, or the send failed.
    pub(crate) fn sent(&mut self, now: Instant, result: io::Result<()>, servers: &impl Servers) {
        let attempt = self.attempts.last_mut().expect("an attempt was started");
        let server = attempt.server;
        if let Err(e) = result {
            self.socket_error(server, e, now, servers);
            return;
        }
        self.deadline.start(now, self.timeout);
        self.awaiting = true;
        self.notes.push(Note::Sent {
            server,
            again: attempt.sends > 0,
        });
        attempt.sent_at = now;
        attempt.sends += 1;
        self.sends += 1;
        // Doubling, at most MAX_RTO, then up to half again at random:
        // resends of queries lost together (a rate limit's budget running
        // out each second) must not stay in step and be lost together again.
        let backoff = (attempt.settings.rto * 2u32.saturating_pow(self.sends - 1)).min(MAX_RTO);
        let jitter = 1.0 + self.random() / 2.0;
        self.next_send = Some(now + backoff.mul_f64(jitter));
    }

    /// The timer ran out at `now` with nothing heard.
    pub(crate) fn timer(&mut self, now: Instant, servers: &impl Servers) {
        if self.deadline.expired(now) {
            let f = self.failure();
            self.done = Some((Err(f), None));
            return;
        }
        if self.awaiting {
            // A whole RTO without an answer: lost.
            let server = self.attempts.last().expect("an attempt was sent").server;
            self.notes.push(Note::Lost { server });
            if servers.count() > 1 {
                self.index = server + 1;
                self.switch = true;
            }
        }
        self.next_send = None;
    }

    /// Something was heard at `now` on attempt `i` (in the order of the
    /// [`Action::Start`]s).
    pub(crate) fn heard(&mut self, i: usize, heard: Heard, now: Instant, servers: &impl Servers) {
        let attempt = self.attempts[i];
        let from = attempt.server;
        self.awaiting = false;
        match heard {
            Heard::CaseMismatch => {
                // The server has shown it does not keep case: ask it again
                // in lower case now. Otherwise this may be a spoofer: keep
                // waiting for the real answer.
                self.awaiting = true;
                if attempt.settings.case && !servers.settings(from).case {
                    self.again_at(from);
                }
            }
            Heard::Error(e) => self.socket_error(from, e, now, servers),
            Heard::Verdict(verdict) => {
                let rtt =
                    (attempt.sends == 1).then(|| now.saturating_duration_since(attempt.sent_at));
                // An answer whose randomised case came back exactly is
                // proof that the server keeps case.
                let answered = Note::Answered {
                    server: from,
                    rtt,
                    case_kept: attempt.settings.case,
                };
                match verdict {
                    Verdict::Ignore(_) => self.awaiting = true,
                    Verdict::Done(step) => {
                        self.notes.push(answered);
                        self.done = Some((Ok(step), Some(from)));
                    }
                    Verdict::Fail(f) => {
                        self.notes.push(answered);
                        self.done = Some((Err(f), None));
                    }
                    Verdict::Truncated => {
                        self.notes.push(answered);
                        self.tcp = Some((from, servers.settings(from).edns));
                    }
                    Verdict::NoEdns => {
                        self.notes.push(answered);
                        if attempt.settings.edns {
                            self.notes.push(Note::NoEdns { server: from });
                            self.again_at(from);
                        }
                    }
                    Verdict::Retry(f) => self.retry(f, from, now, servers),
                }
            }
        }
    }

    /// A TCP exchange with the server of the last [`Action::Tcp`] ended at
    /// `now`: what its answer means, or why there was none.
    pub(crate) fn tcp_done(&mut self, result: Result<Verdict, Failure>) {
        let (server, edns) = self.tcp.take().expect("a TCP exchange was asked for");
        let answered = Note::Answered {
            server,
            rtt: None,
            case_kept: false,
        };
        match result {
            Ok(Verdict::Done(step)) => {
                self.notes.push(answered);
                self.done = Some((Ok(step), Some(server)));
            }
            Ok(Verdict::Fail(f)) => {
                self.notes.push(answered);
                self.done = Some((Err(f), None));
            }
            Ok(Verdict::NoEdns) if edns && !self.tcp_edns_retry => {
                self.notes.push(answered);
                self.notes.push(Note::NoEdns { server });
                self.tcp_edns_retry = true;
                self.tcp = Some((server, false));
            }
            Ok(Verdict::Retry(f)) => {
                self.notes.push(answered);
                self.count_failure(f);
                self.next_tcp_or_udp(server);
            }
            Ok(other) => {
                self.notes.push(answered);
                self.done = Some((
                    Err(Failure::error(
                        Phase::Protocol,
                        crate::safe!("an unusable answer over TCP ({other:?})"),
                    )),
                    None,
                ));
            }
            Err(f) => {
                // No answer over TCP: a failure of this server (its TCP
                // port closed, or silent), not of the question.
                if f.kind == FailureKind::Timeout {
                    self.notes.push(Note::Lost { server });
                }
                self.count_failure(f);
                self.next_tcp_or_udp(server);
            }
        }
    }

    /// A send to `server` failed, or its socket reported an error (ICMP
    /// port unreachable). With another server left, on to it now. When
    /// every server is unreachable: a server that has answered in this run
    /// is restarting, not gone (a package upgrade, a reload), so it is
    /// probed again after a pause (doubling) until the deadline; if none
    /// has ever answered, the question fails at once.
    fn socket_error(&mut self, server: usize, e: io::Error, now: Instant, servers: &impl Servers) {
        let closed = e.kind() == io::ErrorKind::ConnectionRefused;
        self.last = Some(self.unreachable(server, &e, servers));
        let n = servers.count();
        self.index = server + 1;
        self.switch = true;
        self.next_send = None;
        if !(0..n).all(|s| (closed && s == server) || servers.unreachable(s)) {
            return;
        }
        if !(0..n).any(|s| servers.has_answered(s)) {
            let f = self.failure();
            self.done = Some((Err(f), None));
            return;
        }
        self.index = server;
        self.probes += 1;
        let wait = (PROBE * 2u32.saturating_pow(self.probes - 1)).min(MAX_RTO);
        self.next_send = Some(now + wait.mul_f64(1.0 + self.random() / 2.0));
    }

    /// After a failed TCP exchange with `server`: the next server, over
    /// TCP with `--tcp`, else over UDP.
    fn next_tcp_or_udp(&mut self, server: usize) {
        if self.done.is_some() {
            return;
        }
        self.index = server + 1;
        if !self.tcp_only {
            self.switch = true;
            self.next_send = None;
        }
    }

    /// One more SERVFAIL/REFUSED-like failure against the budget.
    fn count_failure(&mut self, f: Failure) {
        self.failures += 1;
        self.last = Some(f);
        if self.failures >= self.budget {
            let f = self.failure();
            self.done = Some((Err(f), None));
        }
    }

    /// SERVFAIL, REFUSED or a referral from `from`.
    fn retry(&mut self, f: Failure, from: usize, now: Instant, servers: &impl Servers) {
        let shedding = servers.shedding(from);
        self.notes.push(Note::Failed {
            server: from,
            servfail: f.kind == FailureKind::Servfail,
        });
        if shedding {
            self.last = Some(f);
            self.shed += 1;
        } else {
            self.count_failure(f);
            if self.done.is_some() {
                return;
            }
        }
        let n = servers.count();
        self.index = from + 1;
        self.switch = true;
        // Ask a server that has failed this question before only after a
        // pause; one shedding load later and later: one RTO (at least the
        // retry backoff), doubling, at most MAX_RTO, with jitter, so that
        // the questions it refused together do not come back together.
        let next = self.index % n;
        let asked_before = self.attempts.iter().any(|a| a.server == next);
        self.next_send = if shedding {
            let wait = (servers.settings(from).rto.max(RETRY_BACKOFF)
                * 2u32.saturating_pow(self.shed - 1))
            .min(MAX_RTO);
            Some(now + wait.mul_f64(1.0 + self.random() / 2.0))
        } else {
            asked_before.then(|| now + RETRY_BACKOFF * 2u32.saturating_pow(self.failures.min(6)))
        };
    }

    /// Start a new attempt at `server`, now.
    fn again_at(&mut self, server: usize) {
        self.index = server;
        self.switch = true;
        self.next_send = None;
    }

    /// The failure a socket error stands for (and a note, when it says
    /// the port is closed).
    fn unreachable(&mut self, server: usize, e: &io::Error, servers: &impl Servers) -> Failure {
        let addr = servers.addr(server);
        if e.kind() == io::ErrorKind::ConnectionRefused {
            self.notes.push(Note::Unreachable { server });
            return Failure::error(
                Phase::Network,
                SafeText::from(format!(
                    "{}: {addr} refused the connection (nothing is listening on that port)",
                    tcp::CONNECTION
                )),
            );
        }
        tcp::connection_failure(&format!("UDP to {addr}"), e)
    }

    /// What to report when no answer settles the question.
    fn failure(&self) -> Failure {
        self.last.clone().unwrap_or_else(Failure::timeout)
    }

    /// A number in [0, 1) from the machine's own generator (xorshift64*).
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    //! Every rule, in simulated time: the tests play the network and the
    //! servers' state, and check what the machine asks for.

    use super::*;
    use crate::resolver::Answer;

    /// Servers as the machine sees them, updated by its notes as the wire
    /// engine's shared state would be.
    struct Fake {
        unreachable: Vec<bool>,
        answered: Vec<bool>,
        edns: Vec<bool>,
        case: Vec<bool>,
        shedding: Vec<bool>,
        rto: Duration,
        log: Vec<Note>,
    }

    impl Fake {
        fn new(n: usize) -> Fake {
            Fake {
                unreachable: vec![false; n],
                answered: vec![false; n],
                edns: vec![true; n],
                case: vec![true; n],
                shedding: vec![false; n],
                rto: Duration::from_millis(200),
                log: Vec::new(),
            }
        }

        fn apply(&mut self, q: &mut Question) {
            for note in q.notes() {
                match &note {
                    Note::Unreachable { server } => self.unreachable[*server] = true,
                    Note::NoEdns { server } => self.edns[*server] = false,
                    Note::Answered { server, .. } => self.answered[*server] = true,
                    _ => {}
                }
                self.log.push(note);
            }
        }
    }

    impl Servers for Fake {
        fn count(&self) -> usize {
            self.edns.len()
        }
        fn addr(&self, server: usize) -> std::net::SocketAddr {
            ([127, 0, 0, 1], 5300 + server as u16).into()
        }
        fn unreachable(&self, server: usize) -> bool {
            self.unreachable[server]
        }
        fn has_answered(&self, server: usize) -> bool {
            self.answered[server]
        }
        fn settings(&self, server: usize) -> QuerySettings {
            QuerySettings {
                edns: self.edns[server],
                case: self.case[server],
                rto: self.rto,
            }
        }
        fn shedding(&self, server: usize) -> bool {
            self.shedding[server]
        }
    }

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn question(budget: u32) -> Question {
        Question::new(0, TIMEOUT, budget, false, Deadline::default(), 7)
    }

    fn answer() -> Verdict {
        Verdict::Done(Step::Answer(Answer::default()))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Take the next action, and with a Start or Resend, send at `now`.
    fn step(q: &mut Question, s: &mut Fake, now: Instant) -> Action {
        let action = q.next(now, s);
        s.apply(q);
        if matches!(action, Action::Start { .. } | Action::Resend { .. }) && q.may_send(now) {
            q.sent(now, Ok(()), s);
            s.apply(q);
        }
        action
    }

    fn started(action: &Action) -> usize {
        match action {
            Action::Start { server, .. } => *server,
            other => panic!("not a start: {other:?}"),
        }
    }

    fn wait_until(action: &Action) -> Instant {
        match action {
            Action::Wait { until } => *until,
            other => panic!("not a wait: {other:?}"),
        }
    }

    fn settled(
        q: &mut Question,
        s: &mut Fake,
        now: Instant,
    ) -> (Result<Step, Failure>, Option<usize>) {
        match q.next(now, s) {
            Action::Done { result, server } => (result, server),
            other => panic!("not settled: {other:?}"),
        }
    }

    #[test]
    fn a_lost_first_packet_is_sent_again_after_one_rto_and_the_answer_counts() {
        let mut s = Fake::new(1);
        let mut q = question(3);
        let t0 = Instant::now();
        assert_eq!(started(&step(&mut q, &mut s, t0)), 0);
        let until = wait_until(&q.next(t0, &s));
        // One RTO, with up to half again of jitter.
        assert!(
            until >= t0 + ms(200) && until <= t0 + ms(300),
            "{:?}",
            until - t0
        );
        q.timer(until, &s);
        s.apply(&mut q);
        assert!(s.log.contains(&Note::Lost { server: 0 }));
        // One server: the same attempt again, doubling the wait.
        assert_eq!(
            step(&mut q, &mut s, until),
            Action::Resend {
                server: 0,
                again: true
            }
        );
        let again = wait_until(&q.next(until, &s));
        assert!(
            again >= until + ms(400) && again <= until + ms(600),
            "{:?}",
            again - until
        );
        // The answer to the first send arrives late: it still counts, but
        // gives no RTT sample (sent twice: Karn's rule).
        q.heard(0, Heard::Verdict(answer()), until + ms(10), &s);
        s.apply(&mut q);
        assert!(s.log.contains(&Note::Answered {
            server: 0,
            rtt: None,
            case_kept: true
        }));
        let (result, server) = settled(&mut q, &mut s, until + ms(10));
        assert!(result.is_ok());
        assert_eq!(server, Some(0));
    }

    #[test]
    fn the_deadline_counts_from_the_first_send_and_ends_with_a_timeout() {
        let mut s = Fake::new(1);
        let mut q = question(3);
        let t0 = Instant::now();
        step(&mut q, &mut s, t0);
        let mut now = t0;
        let mut resends = 0;
        loop {
            match q.next(now, &s) {
                Action::Wait { until } => {
                    now = until;
                    q.timer(now, &s);
                }
                Action::Resend { .. } => {
                    if q.may_send(now) {
                        q.sent(now, Ok(()), &s);
                        resends += 1;
                    }
                }
                Action::Done { result, .. } => {
                    assert_eq!(result.unwrap_err().kind, FailureKind::Timeout);
                    break;
                }
                other => panic!("{other:?}"),
            }
            s.apply(&mut q);
        }
        assert_eq!(now, t0 + TIMEOUT, "settled at the deadline, not later");
        // 200, 400, 800 ms, then at most 1 s (with jitter): 4 to 7 resends.
        assert!((4..=7).contains(&resends), "{resends}");
    }

    #[test]
    fn a_silent_server_beside_a_live_one_costs_one_rto() {
        let mut s = Fake::new(2);
        let mut q = question(3);
        let t0 = Instant::now();
        assert_eq!(started(&step(&mut q, &mut s, t0)), 0);
        let until = wait_until(&q.next(t0, &s));
        q.timer(until, &s);
        // Lost at 0: the next send is a new attempt at the other server.
        let next = step(&mut q, &mut s, until);
        assert_eq!(started(&next), 1);
        q.heard(1, Heard::Verdict(answer()), until + ms(1), &s);
        let (result, server) = settled(&mut q, &mut s, until + ms(1));
        assert!(result.is_ok());
        assert_eq!(server, Some(1));
        assert!(until - t0 <= ms(300));
    }

    #[test]
    fn refused_then_a_healthy_server() {
        let mut s = Fake::new(2);
        let mut q = question(3);
        let t0 = Instant::now();
        step(&mut q, &mut s, t0);
        q.heard(
            0,
            Heard::Verdict(Verdict::Retry(Failure::refused())),
            t0 + ms(1),
            &s,
        );
        s.apply(&mut q);
        assert!(s.log.contains(&Note::Failed {
            server: 0,
            servfail: false
        }));
        // The other server, at once: it has not been asked.
        let next = step(&mut q, &mut s, t0 + ms(1));
        assert_eq!(started(&next), 1);
        q.heard(1, Heard::Verdict(answer()), t0 + ms(2), &s);
        assert_eq!(settled(&mut q, &mut s, t0 + ms(2)).1, Some(1));
    }

    #[test]
    fn refusals_everywhere_end_with_the_last_status_after_the_budget() {
        let mut s = Fake::new(1);
        let mut q = question(3);
        let mut now = Instant::now();
        step(&mut q, &mut s, now);
        let mut attempts = 1;
        loop {
            q.heard(
                attempts - 1,
                Heard::Verdict(Verdict::Retry(Failure::servfail())),
                now,
                &s,
            );
            s.apply(&mut q);
            match q.next(now, &s) {
                Action::Done { result, .. } => {
                    assert_eq!(result.unwrap_err().kind, FailureKind::Servfail);
                    break;
                }
                Action::Wait { until } => {
                    // Asked before: a pause (50 ms doubling) before asking again.
                    assert!(until > now);
                    now = until;
                    q.timer(now, &s);
                    assert_eq!(started(&step(&mut q, &mut s, now)), 0);
                    attempts += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(attempts, 3, "the budget");
    }

    #[test]
    fn a_shedding_servers_refusals_do_not_count_and_come_back_slower() {
        let mut s = Fake::new(1);
        s.shedding[0] = true;
        let mut q = question(1);
        let t0 = Instant::now();
        let mut now = t0;
        step(&mut q, &mut s, now);
        let refused = || Heard::Verdict(Verdict::Retry(Failure::refused()));
        let mut waits = Vec::new();
        for attempt in 0..4 {
            q.heard(attempt, refused(), now, &s);
            let until = wait_until(&q.next(now, &s));
            waits.push(until - now);
            now = until;
            q.timer(now, &s);
            // Not settled: the budget of 1 was not spent.
            assert_eq!(started(&step(&mut q, &mut s, now)), 0);
        }
        // One RTO (200 ms), doubling, each up to half again at random.
        for (i, w) in waits.iter().enumerate() {
            let base = (s.rto * 2u32.pow(i as u32)).min(MAX_RTO);
            assert!(*w >= base && *w <= base.mul_f64(1.5), "{i}: {w:?}");
        }
        // Until the deadline: then the last refusal is the status.
        let mut n = 4;
        loop {
            q.heard(n, refused(), now, &s);
            let until = wait_until(&q.next(now, &s));
            now = until;
            q.timer(now, &s);
            if let Action::Done { result, .. } = q.next(now, &s) {
                assert_eq!(result.unwrap_err().kind, FailureKind::Refused);
                break;
            }
            assert!(q.may_send(now));
            q.sent(now, Ok(()), &s);
            n += 1;
        }
        assert_eq!(now, t0 + TIMEOUT, "settled at the deadline");
    }

    #[test]
    fn formerr_to_edns_asks_the_same_server_without_it() {
        let mut s = Fake::new(2);
        let mut q = question(3);
        let t0 = Instant::now();
        match step(&mut q, &mut s, t0) {
            Action::Start {
                server: 0,
                settings,
                ..
            } => assert!(settings.edns),
            other => panic!("{other:?}"),
        }
        q.heard(0, Heard::Verdict(Verdict::NoEdns), t0 + ms(1), &s);
        s.apply(&mut q);
        assert!(s.log.contains(&Note::NoEdns { server: 0 }));
        match step(&mut q, &mut s, t0 + ms(1)) {
            Action::Start {
                server: 0,
                settings,
                ..
            } => assert!(!settings.edns),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_server_that_never_keeps_case_is_asked_again_in_lower_case() {
        let mut s = Fake::new(1);
        let mut q = question(3);
        let t0 = Instant::now();
        match step(&mut q, &mut s, t0) {
            Action::Start { settings, .. } => assert!(settings.case),
            other => panic!("{other:?}"),
        }
        // A first mismatch: perhaps a spoofer; keep waiting.
        q.heard(0, Heard::CaseMismatch, t0 + ms(1), &s);
        assert!(matches!(q.next(t0 + ms(1), &s), Action::Wait { .. }));
        // The server has now shown it does not keep case (its state says
        // so after two mismatches): the same server, in lower case, now.
        s.case[0] = false;
        q.heard(0, Heard::CaseMismatch, t0 + ms(2), &s);
        match step(&mut q, &mut s, t0 + ms(2)) {
            Action::Start {
                server: 0,
                settings,
                ..
            } => assert!(!settings.case),
            other => panic!("{other:?}"),
        }
        q.heard(1, Heard::Verdict(answer()), t0 + ms(3), &s);
        s.apply(&mut q);
        assert!(
            s.log.contains(&Note::Answered {
                server: 0,
                rtt: Some(ms(1)),
                case_kept: false
            }),
            "an answer in lower case is no proof of keeping case: {:?}",
            s.log
        );
        assert!(settled(&mut q, &mut s, t0 + ms(3)).0.is_ok());
    }

    #[test]
    fn a_closed_port_is_passed_over_and_all_closed_fails_at_once() {
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        // Two servers, the first closed: on to the second at once.
        let mut s = Fake::new(2);
        let mut q = question(3);
        let t0 = Instant::now();
        step(&mut q, &mut s, t0);
        q.heard(0, Heard::Error(refused()), t0 + ms(1), &s);
        s.apply(&mut q);
        assert!(s.unreachable[0]);
        assert_eq!(started(&step(&mut q, &mut s, t0 + ms(1))), 1);
        // Then the second closed too: fail now, saying why.
        q.heard(1, Heard::Error(refused()), t0 + ms(2), &s);
        let (result, _) = settled(&mut q, &mut s, t0 + ms(2));
        let f = result.unwrap_err();
        assert_eq!(f.phase, Phase::Network);
        assert!(
            f.message.contains("127.0.0.1:5301 refused the connection"),
            "{f}"
        );
    }

    #[test]
    fn a_server_that_answered_and_then_closes_is_probed_until_it_is_back() {
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        let mut s = Fake::new(1);
        s.answered[0] = true;
        let mut q = question(3);
        let t0 = Instant::now();
        step(&mut q, &mut s, t0);
        let mut now = t0 + ms(1);
        let mut probes = Vec::new();
        // Restarting for 1.5 s: every probe meets a closed port.
        while now < t0 + ms(1500) {
            q.heard(probes.len(), Heard::Error(refused()), now, &s);
            s.apply(&mut q);
            let until = wait_until(&q.next(now, &s));
            probes.push(until - now);
            now = until;
            q.timer(now, &s);
            assert_eq!(started(&step(&mut q, &mut s, now)), 0, "probed again");
        }
        // 100 ms, doubling (with jitter): a handful of probes, not a flood.
        assert!((3..=6).contains(&probes.len()), "{probes:?}");
        assert!(probes[0] >= ms(100) && probes[0] <= ms(150));
        // Back: the next probe is answered.
        q.heard(probes.len(), Heard::Verdict(answer()), now + ms(1), &s);
        assert!(settled(&mut q, &mut s, now + ms(1)).0.is_ok());
    }

    #[test]
    fn a_failed_send_moves_to_the_next_server() {
        let mut s = Fake::new(2);
        let mut q = question(3);
        let t0 = Instant::now();
        assert!(matches!(q.next(t0, &s), Action::Start { server: 0, .. }));
        assert!(q.may_send(t0));
        q.sent(
            t0,
            Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
            &s,
        );
        s.apply(&mut q);
        assert_eq!(started(&step(&mut q, &mut s, t0)), 1);
    }

    #[test]
    fn truncated_goes_to_tcp_and_a_failed_tcp_exchange_moves_to_the_next_server() {
        let mut s = Fake::new(2);
        let mut q = question(3);
        let t0 = Instant::now();
        step(&mut q, &mut s, t0);
        q.heard(0, Heard::Verdict(Verdict::Truncated), t0 + ms(1), &s);
        match q.next(t0 + ms(1), &s) {
            Action::Tcp {
                server: 0,
                edns: true,
                until,
            } => assert!(until > t0 + ms(1)),
            other => panic!("{other:?}"),
        }
        // TCP refused: that server failed; the question goes on at the
        // next one, over UDP.
        q.tcp_done(Err(Failure::error(Phase::Network, "TCP connect: refused")));
        assert_eq!(started(&step(&mut q, &mut s, t0 + ms(2))), 1);
        q.heard(1, Heard::Verdict(answer()), t0 + ms(3), &s);
        assert_eq!(settled(&mut q, &mut s, t0 + ms(3)).1, Some(1));
    }

    #[test]
    fn with_tcp_only_each_exchange_gets_a_share_and_failures_rotate() {
        let mut s = Fake::new(2);
        let mut q = Question::new(1, TIMEOUT, 2, true, Deadline::default(), 1);
        let t0 = Instant::now();
        let first = q.next(t0, &s);
        match first {
            Action::Tcp {
                server: 1, until, ..
            } => assert_eq!(until, t0 + TIMEOUT / 2),
            other => panic!("{other:?}"),
        }
        q.tcp_done(Err(Failure::timeout()));
        s.apply(&mut q);
        assert!(s.log.contains(&Note::Lost { server: 1 }));
        match q.next(t0 + TIMEOUT / 2, &s) {
            Action::Tcp {
                server: 0, until, ..
            } => assert_eq!(until, t0 + TIMEOUT),
            other => panic!("{other:?}"),
        }
        q.tcp_done(Err(Failure::timeout()));
        let (result, _) = settled(&mut q, &mut s, t0 + TIMEOUT);
        assert_eq!(result.unwrap_err().kind, FailureKind::Timeout);
    }

    #[test]
    fn tcp_without_edns_once_after_formerr() {
        let mut s = Fake::new(1);
        let mut q = Question::new(0, TIMEOUT, 3, true, Deadline::default(), 1);
        let t0 = Instant::now();
        assert!(matches!(q.next(t0, &s), Action::Tcp { edns: true, .. }));
        q.tcp_done(Ok(Verdict::NoEdns));
        s.apply(&mut q);
        assert!(matches!(
            q.next(t0, &s),
            Action::Tcp {
                server: 0,
                edns: false,
                ..
            }
        ));
        q.tcp_done(Ok(answer()));
        assert!(settled(&mut q, &mut s, t0).0.is_ok());
    }
}
