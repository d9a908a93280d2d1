//! One nameserver as the wire engine sees it: its address, its UDP socket
//! pool, and what it has learnt about it: round-trip time (RFC 6298
//! estimator), whether it understands EDNS and preserves letter case
//! (0x20), whether its port answered with ICMP "unreachable", and the
//! congestion controller that decides how fast it may be asked.
//!
//! Congestion control: every send (first or again) waits for the
//! server's pacer, and [`super::control`] decides the pace from epochs of
//! at least one retransmission timeout and a few dozen completions. A
//! server that is not congested is never paced, so a fast server is asked
//! as fast as `--concurrency` allows.

use super::control::{Control, Epoch};
use super::retransmit::QuerySettings;
use super::udp::UdpPool;
use crate::text::SafeText;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The shortest wait before a UDP query is sent again.
pub(super) const MIN_RTO: Duration = Duration::from_millis(100);
/// The longest wait between two sends of one query.
pub(super) const MAX_RTO: Duration = Duration::from_secs(1);
/// The retransmission timeout before any answer has been timed (RFC 6298
/// says 1 s; loopback and LAN resolvers answer far faster).
pub(super) const INITIAL_RTO: Duration = Duration::from_millis(500);
/// Sends lost in a row after which a server is passed over as the first
/// choice for new questions, while another server is not.
pub(super) const SUSPECT_AFTER: u32 = 3;
/// How long an ICMP "port unreachable" keeps a server marked unreachable.
pub(super) const UNREACHABLE_FOR: Duration = Duration::from_millis(500);

/// How far ahead of now the pacer may be booked before a question's first
/// send waits for resends to go first.
pub(super) const FIRST_SENDS_AHEAD: Duration = Duration::from_millis(2);
/// A rise of the recent share of refusals above the usual share by this
/// much is a burst (as the congestion controller's `BURST_RISE`).
const BURST: f32 = 0.2;
/// The fewest refusals among the last 64 completions that can be a burst.
const BURST_MIN: u32 = 16;
/// The fewest completions that make an epoch.
const EPOCH_MIN: u32 = 64;
/// The shortest epoch. Rate limits count per second (Unbound's
/// ip-ratelimit, Knot's RRL, dnsdist): an epoch shorter than that sees the
/// start of a second's budget or its end, not the limit.
const EPOCH_TIME: Duration = Duration::from_secs(1);

/// One nameserver as the wire engine sees it: its sockets, its round trip
/// and its congestion state. (The server as the user named it is
/// [`super::Nameserver`].)
pub(super) struct Server {
    pub addr: SocketAddr,
    /// How the server is named in output (`127.0.0.1:53`).
    pub label: Arc<SafeText>,
    pub udp: Option<UdpPool>,
    /// Answers whose question came back in another letter case than sent
    /// (counted by the UDP receive tasks too).
    case_mismatches: Arc<AtomicU64>,
    /// Queries sent, and sent again (counted without the lock).
    sent: AtomicU64,
    resent: AtomicU64,
    /// The pacer is on (read without the lock on every send).
    paced: AtomicBool,
    /// Sends lost in a row, with no answer since.
    losses_in_a_row: AtomicU32,
    /// It has answered at least once in this run.
    answered_once: AtomicBool,
    /// The server's port was reported unreachable (the time is kept in
    /// the state; this lets the common case skip the lock and the clock).
    maybe_unreachable: AtomicBool,
    /// The most queries this server may have in flight (`--concurrency`).
    window: usize,
    state: Mutex<State>,
}

struct State {
    srtt: Option<Duration>,
    rttvar: Duration,
    edns: bool,
    /// Answers with the question in the exact case sent.
    case_matches: u32,
    unreachable_until: Option<Instant>,
    /// The last 64 completions, one bit each (1: SERVFAIL or REFUSED), and
    /// the share of refusals among many: a sudden rise of the first above
    /// the second is a burst.
    refusals_recent: u64,
    refusals_usual: f32,
    ctl: Controller,
    stats: Stats,
}

/// What happened with one nameserver during the run (for the summary).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Queries sent, resends included.
    pub sent: u64,
    /// Of them, resends.
    pub resent: u64,
    /// Usable answers.
    pub answers: u64,
    /// Sends that went a whole retransmission timeout without an answer.
    pub lost: u64,
    /// SERVFAIL answers.
    pub servfail: u64,
    /// REFUSED answers.
    pub refused: u64,
    /// The lowest rate the server was paced at, if it ever was.
    pub min_rate: Option<f64>,
    /// The rate it was paced at when the run ended, if it was.
    pub rate: Option<f64>,
    /// The smoothed round-trip time at the end.
    pub srtt: Option<Duration>,
}

impl State {
    /// One completion: refused or answered.
    fn refusals(&mut self, refused: bool) {
        self.refusals_recent = self.refusals_recent << 1 | u64::from(refused);
        self.refusals_usual += (f32::from(u8::from(refused)) - self.refusals_usual) / 512.0;
    }

    /// The recent refusals are a burst: at least a quarter of the last 64
    /// completions, and well above the usual share (a few names refused in
    /// a small run, or a steady share of refused names, are not).
    fn refusal_burst(&self) -> bool {
        let recent = self.refusals_recent.count_ones();
        recent >= BURST_MIN && recent as f32 / 64.0 > self.refusals_usual + BURST
    }

    fn rto(&self) -> Duration {
        match self.srtt {
            None => INITIAL_RTO,
            // RFC 6298, and at least half again the smoothed RTT: with a
            // server that is slow but steady, RTTVAR decays to nothing and
            // SRTT + 4 RTTVAR would resend every query just as its answer
            // comes.
            Some(srtt) => (srtt + 4 * self.rttvar)
                .max(srtt * 3 / 2)
                .clamp(MIN_RTO, MAX_RTO),
        }
    }
}

struct Controller {
    epoch_start: Instant,
    epoch: Epoch,
    control: Control,
    next_send: Instant,
}

impl Server {
    /// A server reached over UDP (with a pool of `sockets`) and TCP, or
    /// over TCP only (`sockets` 0). Needs a Tokio runtime for the sockets.
    pub(super) fn new(addr: SocketAddr, sockets: usize, window: usize) -> std::io::Result<Server> {
        let now = Instant::now();
        let case_mismatches = Arc::new(AtomicU64::new(0));
        let udp = match sockets {
            0 => None,
            n => Some(UdpPool::new(addr, n, case_mismatches.clone())?),
        };
        Ok(Server {
            addr,
            label: Arc::new(SafeText::from(addr.to_string())),
            udp,
            case_mismatches,
            sent: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            paced: AtomicBool::new(false),
            losses_in_a_row: AtomicU32::new(0),
            answered_once: AtomicBool::new(false),
            maybe_unreachable: AtomicBool::new(false),
            window: window.max(1),
            state: Mutex::new(State {
                srtt: None,
                rttvar: Duration::ZERO,
                edns: true,
                case_matches: 0,
                unreachable_until: None,
                refusals_recent: 0,
                refusals_usual: 0.0,
                ctl: Controller {
                    epoch_start: now,
                    epoch: Epoch::default(),
                    control: Control::default(),
                    next_send: now,
                },
                stats: Stats::default(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until the pacer lets the next datagram go. Unpaced servers
    /// never wait. A question's first send (`again` false) waits until the
    /// pacer has no more than [`FIRST_SENDS_AHEAD`] booked ahead, so that
    /// resends of questions already under way, whose deadlines are running,
    /// go first.
    pub(super) async fn pace(&self, again: bool) {
        if !self.paced.load(Ordering::Relaxed) {
            return;
        }
        if !again {
            loop {
                let wait = {
                    let state = self.state();
                    let Some(rate) = state.ctl.control.rate() else {
                        return;
                    };
                    // At least 2 ms ahead: timers wake on millisecond ticks,
                    // and a first send should not wait a tick per send.
                    let ahead = Duration::from_secs_f64(1.0 / rate).max(FIRST_SENDS_AHEAD);
                    state.ctl.next_send.checked_sub(ahead)
                };
                match wait {
                    Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                    _ => break,
                }
            }
        }
        let at = {
            let mut state = self.state();
            let ctl = &mut state.ctl;
            let Some(rate) = ctl.control.rate() else {
                return;
            };
            let now = Instant::now();
            let interval = Duration::from_secs_f64(1.0 / rate);
            // A send that is late (timer granularity) may catch up by one
            // interval, no more: no burst.
            let at = ctl.next_send.max(now - interval);
            ctl.next_send = at + interval;
            at
        };
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// What a new query to this server needs to know, under one lock:
    /// whether to use EDNS and 0x20, and the retransmission timeout.
    pub(super) fn query_settings(&self) -> QuerySettings {
        let state = self.state();
        let case = self.case_mismatches.load(Ordering::Relaxed) < 2 || state.case_matches > 0;
        QuerySettings {
            edns: state.edns,
            case,
            rto: state.rto(),
        }
    }

    /// The server answered FORMERR/NOTIMP/BADVERS to a query with OPT.
    pub(super) fn no_edns(&self) {
        self.state().edns = false;
    }

    #[cfg(test)]
    pub(super) fn case_mismatch(&self) {
        self.case_mismatches.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a new question should start elsewhere: the port is
    /// unreachable, or the server has lost [`SUSPECT_AFTER`] sends in a
    /// row without an answer in between.
    pub(super) fn suspect(&self) -> bool {
        self.losses_in_a_row.load(Ordering::Relaxed) >= SUSPECT_AFTER || self.unreachable()
    }

    pub(super) fn unreachable(&self) -> bool {
        if !self.maybe_unreachable.load(Ordering::Relaxed) {
            return false;
        }
        let mut state = self.state();
        let now = Instant::now();
        let still = state.unreachable_until.is_some_and(|t| now < t);
        if !still {
            state.unreachable_until = None;
            self.maybe_unreachable.store(false, Ordering::Relaxed);
        }
        still
    }

    /// An ICMP "port unreachable" came back from this server.
    pub(super) fn mark_unreachable(&self) {
        self.state().unreachable_until = Some(Instant::now() + UNREACHABLE_FOR);
        self.maybe_unreachable.store(true, Ordering::Relaxed);
    }

    pub(super) fn sent(&self, again: bool) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        if again {
            self.resent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A usable answer came back; `rtt` if it answered a query sent once
    /// (Karn's rule), with the question in the case it was sent.
    pub(super) fn answered(&self, rtt: Option<Duration>, case_kept: bool) {
        self.losses_in_a_row.store(0, Ordering::Relaxed);
        self.answered_once.store(true, Ordering::Relaxed);
        let mut state = self.state();
        state.stats.answers += 1;
        if case_kept {
            state.case_matches += 1;
        }
        if let Some(r) = rtt {
            match state.srtt {
                None => {
                    state.srtt = Some(r);
                    state.rttvar = r / 2;
                }
                Some(s) => {
                    let delta = s.abs_diff(r);
                    state.rttvar = state.rttvar * 3 / 4 + delta / 4;
                    state.srtt = Some(s * 7 / 8 + r / 8);
                }
            }
            state.stats.srtt = state.srtt;
        }
        state.refusals(false);
        state.ctl.epoch.answers += 1;
        self.epoch(&mut state);
    }

    /// A send went unanswered for a whole retransmission timeout.
    pub(super) fn lost(&self) {
        let run = self.losses_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        let mut state = self.state();
        state.stats.lost += 1;
        state.ctl.epoch.losses += 1;
        state.ctl.epoch.loss_run = state.ctl.epoch.loss_run.max(run);
        self.epoch(&mut state);
    }

    /// SERVFAIL or REFUSED.
    pub(super) fn refused(&self, servfail: bool) {
        self.losses_in_a_row.store(0, Ordering::Relaxed);
        let mut state = self.state();
        if servfail {
            state.stats.servfail += 1;
        } else {
            state.stats.refused += 1;
        }
        state.refusals(true);
        state.ctl.epoch.refusals += 1;
        self.epoch(&mut state);
    }

    /// The server is shedding load right now: SERVFAIL/REFUSED answers are
    /// then signals to slow down, not verdicts on a domain. Either the
    /// congestion controller paces it, or it has answered questions in this
    /// run and its refusals have just risen in a burst (a resolver that
    /// enforces its rate limit by refusing, not by dropping), which the
    /// controller sees only at the end of its epoch. A server that has
    /// refused from the start, or refuses a steady share, is not shedding.
    pub(super) fn shedding(&self) -> bool {
        if self.paced.load(Ordering::Relaxed) {
            return true;
        }
        if !self.has_answered() {
            return false;
        }
        self.state().refusal_burst()
    }

    /// Whether it has given a usable answer during this run.
    pub(super) fn has_answered(&self) -> bool {
        self.answered_once.load(Ordering::Relaxed)
    }

    pub(super) fn stats(&self) -> Stats {
        let state = self.state();
        let mut s = state.stats.clone();
        s.rate = state.ctl.control.rate();
        s.min_rate = state.ctl.control.lowest;
        s.sent = self.sent.load(Ordering::Relaxed);
        s.resent = self.resent.load(Ordering::Relaxed);
        s
    }

    /// End the epoch if it has run long enough, and act on what it saw.
    fn epoch(&self, state: &mut State) {
        let total = state.ctl.epoch.total();
        // Look at the clock only every so often.
        if total < EPOCH_MIN || !total.is_multiple_of(8) {
            return;
        }
        let now = Instant::now();
        let length = state.rto().max(EPOCH_TIME);
        let elapsed = now - state.ctl.epoch_start;
        if elapsed < length {
            return;
        }
        // What `--concurrency` queries in flight could carry at this
        // server's round-trip time.
        let ceiling = self.window as f64 / state.srtt.unwrap_or(length).as_secs_f64().max(1e-6);
        let ctl = &mut state.ctl;
        ctl.epoch.seconds = elapsed.as_secs_f64();
        let epoch = std::mem::take(&mut ctl.epoch);
        ctl.control.end_epoch(&epoch, ceiling);
        ctl.epoch_start = now;
        self.paced
            .store(ctl.control.rate().is_some(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Arc<Server> {
        Arc::new(Server::new("127.0.0.1:53".parse().unwrap(), 0, 8).unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn the_rto_follows_the_round_trip_within_bounds() {
        let s = server();
        assert_eq!(s.query_settings().rto, INITIAL_RTO);
        for _ in 0..50 {
            s.answered(Some(Duration::from_micros(200)), true);
        }
        assert_eq!(s.query_settings().rto, MIN_RTO);
        for _ in 0..50 {
            s.answered(Some(Duration::from_millis(400)), true);
        }
        let rto = s.query_settings().rto;
        assert!(
            rto >= Duration::from_millis(590) && rto <= MAX_RTO,
            "a steady 400 ms server: half again the RTT, so no resend as the answer comes: {rto:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn epochs_reach_the_controller_and_pace_the_sends() {
        let s = server();
        s.answered(Some(Duration::from_millis(1)), true);
        assert!(!s.shedding());
        // Half the sends lost, over 1.2 s: congestion.
        for i in 0..200 {
            tokio::time::advance(Duration::from_millis(6)).await;
            if i % 2 == 0 {
                s.lost()
            } else {
                s.answered(None, true)
            }
        }
        assert!(s.shedding(), "{:?}", s.stats());
        let rate = s.stats().rate.unwrap();
        let start = Instant::now();
        for _ in 0..10 {
            s.pace(false).await;
        }
        assert!(
            start.elapsed().as_secs_f64() >= 8.0 / rate,
            "sends are spaced"
        );
    }

    #[test]
    fn a_sudden_burst_of_refusals_after_answers_is_shedding_but_not_a_few_or_a_steady_share() {
        // Refused from the start: never shedding.
        let s = server();
        for _ in 0..200 {
            s.refused(false);
        }
        assert!(!s.shedding());
        // A few refused names among answers: no burst.
        let s = server();
        for i in 0..100 {
            if i % 10 == 0 {
                s.refused(false)
            } else {
                s.answered(None, true)
            }
        }
        assert!(!s.shedding());
        // A rate limit: answers, then most refused.
        for _ in 0..20 {
            s.refused(false);
        }
        assert!(s.shedding());
        // A steady share of half refused becomes the usual share.
        let s = server();
        for i in 0..4000 {
            if i % 2 == 0 {
                s.refused(false)
            } else {
                s.answered(None, true)
            }
        }
        assert!(!s.shedding());
    }

    #[test]
    fn case_randomisation_stops_for_a_server_that_never_keeps_case() {
        let s = server();
        assert!(s.query_settings().case);
        s.case_mismatch();
        assert!(s.query_settings().case);
        s.case_mismatch();
        assert!(!s.query_settings().case);
        let t = server();
        t.answered(None, true);
        t.case_mismatch();
        t.case_mismatch();
        assert!(
            t.query_settings().case,
            "a server that kept case once does preserve it"
        );
    }
}
