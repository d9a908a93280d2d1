//! Congestion control for one nameserver, as a pure state machine over
//! epochs of at least a second (see [`super::server`] for where the epochs
//! come from).
//!
//! Late and lost answers, and bursts of SERVFAIL or REFUSED, are signals
//! to slow down, not verdicts on domains. But a path can lose packets at
//! random whatever the rate, and some names are refused whatever the rate;
//! slowing down for those only makes a run slower. So every cut is judged
//! by the epoch after it:
//! - An epoch is *congested* when its loss is more than 1 point above the
//!   path's usual loss, or its share of SERVFAIL/REFUSED more than 20
//!   points above the usual share, and answers still came (a server that
//!   answers nothing is down, not congested). The send rate is then cut to
//!   3/4 (the first cut starts from the rate of answers delivered).
//! - If the epoch after next (the next one still counts losses of sends
//!   made before the cut) shows that loss and refusals did not move (by
//!   half a point or a tenth of themselves) but answers delivered fell with
//!   the rate, the trouble does not come from the rate: the cut is taken
//!   back, and that level of loss or refusals becomes the path's usual
//!   level. (Random loss is the same at any rate; a limit's loss moves with
//!   the rate: down, or up while resends pile up.)
//! - Except when the losses came in a run: [`LOSS_RUN`] sends or more lost
//!   one after another, with no answer between them. Random loss does not
//!   do that; a per-second limit does (Unbound's `ip-ratelimit` drops
//!   everything past its budget until the second ends, but 1 in 10). Such
//!   an epoch is never the path's usual loss, however low its share (a
//!   sender stalls on its timers once the budget is gone, so it loses few
//!   queries in all), and a cut made on it is kept and climbed back from,
//!   never taken back at once: taking it back sends the queries that
//!   missed the budget into the dead end of every second again. Paced,
//!   with fewer than 85% of the rate's answers and losses in a run, the
//!   rate is over a limit: cut at once, even in the epoch right after a
//!   cut.
//! - A clean epoch (loss within half a point of the usual, no burst) raises the
//!   rate by 5%, or 5 queries a second, whichever is more; each further
//!   clean epoch in a row doubles the step (at most 80%). Once the rate is
//!   above what the window could carry at the server's round-trip time,
//!   pacing is off. Clean epochs also let the usual levels drift down.

/// A rise of loss above its usual level by this much is congestion. Low,
/// because a server over its limit loses few queries in all (those in
/// flight wait out their timers) but loses the same ones again and again;
/// a cut that does not help is taken back anyway.
const LOSS_RISE: f64 = 0.01;
/// Loss within this of its usual level lets the rate grow.
const LOSS_CLEAN: f64 = 0.005;
/// A rise of the SERVFAIL/REFUSED share by this much is a burst.
const BURST_RISE: f64 = 0.20;
/// Loss moved with a cut if it changed by this much at least...
const HELPED_POINTS: f64 = 0.005;
/// ... or by this share of itself.
const HELPED_SHARE: f64 = 0.1;
/// A cut cost throughput if answers fell below this share.
const COST: f64 = 0.85;
/// The first epoch that gets answers has no usual loss to be judged
/// against: loss up to this share in it is taken to be the path's (random
/// loss on a real path is a few percent at most; a sender far over a rate
/// limit loses much more, and is judged).
const FIRST_USUAL: f64 = 0.03;
/// Loss above this share is never taken for the path's alone at once.
const RANDOM_LOSS_AT_MOST: f64 = 0.05;
/// The slowest a congested server is ever paced, in queries per second.
pub(super) const MIN_RATE: f64 = 2.0;
/// How near a limit found the rate climbs back at once.
const LIMIT_NEAR: f64 = 0.95;
/// Losses in a row (no answer between) that mark a limit, not random loss.
/// Random loss of even 19% makes a run this long about once in 10⁸ losses;
/// a limit that lets 1 in 10 through past its budget makes one in a third
/// of its runs.
pub(super) const LOSS_RUN: u32 = 12;

/// What one epoch saw.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Epoch {
    pub answers: u32,
    pub losses: u32,
    pub refusals: u32,
    /// The longest run of losses with no answer or refusal between them.
    pub loss_run: u32,
    /// How long the epoch lasted, in seconds.
    pub seconds: f64,
}

impl Epoch {
    pub(super) fn total(&self) -> u32 {
        self.answers + self.losses + self.refusals
    }

    fn loss(&self) -> f64 {
        f64::from(self.losses) / f64::from(self.total()).max(1.0)
    }

    fn refusal(&self) -> f64 {
        f64::from(self.refusals) / f64::from(self.answers + self.refusals).max(1.0)
    }

    fn delivered(&self) -> f64 {
        f64::from(self.answers + self.refusals) / self.seconds.max(1e-6)
    }

    /// Its losses came in a run: a limit's signature.
    fn limited(&self) -> bool {
        self.loss_run >= LOSS_RUN
    }
}

/// A cut, remembered to be judged by the epoch after next.
#[derive(Clone, Copy, Debug)]
struct Cut {
    /// The epoch right after the cut has passed.
    settled: bool,
    loss: f64,
    refusal: f64,
    delivered: f64,
    rate_before: Option<f64>,
    /// Made on an epoch whose losses came in a run.
    limited: bool,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Control {
    /// Queries per second allowed; `None` when not paced.
    rate: Option<f64>,
    loss_usual: f64,
    refusal_usual: f64,
    /// Clean epochs in a row.
    clean: u32,
    /// An epoch with answers has been judged (the path's usual loss is
    /// known).
    known: bool,
    cut: Option<Cut>,
    /// What got through (answers a second, at most the rate) in the last
    /// epoch cut for a run of losses: about the limit. Clean epochs raise
    /// the rate to just under it at once, and past it from the smallest
    /// step again.
    limit: Option<f64>,
    /// The lowest rate ever set.
    pub lowest: Option<f64>,
    /// How many cuts were taken back.
    pub undone: u32,
}

impl Control {
    pub(super) fn rate(&self) -> Option<f64> {
        self.rate
    }

    fn cut_to(&mut self, rate: f64, cut: Cut) {
        self.cut = Some(cut);
        self.rate = Some(rate);
        self.clean = 0;
        self.lowest = Some(self.lowest.map_or(rate, |m| m.min(rate)));
    }

    fn new_cut(&self, e: &Epoch, limited: bool) -> Cut {
        Cut {
            settled: false,
            loss: e.loss(),
            refusal: e.refusal(),
            delivered: e.delivered(),
            rate_before: self.rate,
            limited,
        }
    }

    /// Judge `cut` by epoch `e`, the one after its settling epoch: true
    /// when the cut did not help, and was taken back or kept with its
    /// level learned (nothing more to do with `e`).
    fn took_back(&mut self, cut: &Cut, e: &Epoch, over_limit: bool) -> bool {
        let (loss, refusal) = (e.loss(), e.refusal());
        // Random loss is the same at any rate; a limit's loss moves with
        // the rate (down, or up while resends pile up).
        let moved =
            |now: f64, then: f64| (now - then).abs() > (then * HELPED_SHARE).max(HELPED_POINTS);
        let rate_matters = moved(loss, cut.loss) || moved(refusal, cut.refusal);
        let cost = e.delivered() < cut.delivered * COST;
        // Over a limit still, loss that did not move is two rates both over
        // it, not a path's.
        if rate_matters || !cost || over_limit {
            return false;
        }
        // High loss that did not move could still be a limit far below the
        // rate (a 25% cut leaves it far above): keep the cut, learn the
        // level, and let clean epochs raise the rate step by step; a limit
        // shows again as loss rising. Only low loss, the kind a real path
        // has at random, is taken back at once, and never a run of losses
        // (a limit's).
        if cut.loss <= RANDOM_LOSS_AT_MOST && !cut.limited {
            self.rate = cut.rate_before;
        }
        self.undone += 1;
        if cut.loss > self.loss_usual + LOSS_RISE && !cut.limited {
            self.loss_usual = loss.min(cut.loss);
        }
        if cut.refusal > self.refusal_usual + BURST_RISE {
            self.refusal_usual = refusal.min(cut.refusal);
        }
        true
    }

    /// A clean epoch: raise the rate (pacing off above `ceiling`). Under a
    /// limit found, it climbs to just under it at once, then on from there
    /// by the smallest step again, doubling while clean (the limit may have
    /// been seen low: a window that stalls on lost queries delivers less).
    fn climb(&mut self, ceiling: f64) {
        let mut near_reached = false;
        if let Some(rate) = self.rate {
            let step = 0.05 * f64::from(1u32 << self.clean.min(4));
            let mut raised = rate + (rate * step).max(5.0);
            if let Some(limit) = self.limit {
                let near = limit * LIMIT_NEAR;
                if rate < near && raised > near {
                    raised = near;
                    near_reached = true;
                }
                if raised > limit * 1.5 {
                    // Clean well past it: the limit is gone.
                    self.limit = None;
                }
            }
            self.rate = (raised < ceiling).then_some(raised);
        }
        self.clean = if near_reached { 0 } else { self.clean + 1 };
    }

    /// Act on one epoch. `ceiling` is what the window could carry (queries
    /// per second at the server's round-trip time): pacing above it is no
    /// pacing.
    pub(super) fn end_epoch(&mut self, e: &Epoch, ceiling: f64) {
        let (loss, refusal, delivered) = (e.loss(), e.refusal(), e.delivered());
        // Paced at a rate, with far fewer answers than that and losses in
        // a run: the rate is over a limit.
        let over_limit =
            e.answers > 0 && e.limited() && self.rate.is_some_and(|r| delivered < r * COST);
        if let Some(cut) = self.cut.as_mut().filter(|c| !c.settled) {
            // Losses counted now are of sends made before the cut, so they
            // do not judge it. But still far over a limit a second after
            // it, every second there is one more try lost for the names
            // caught in it: cut again now, from the rate (answers are few
            // while the window waits on resends, so not from them).
            cut.settled = true;
            if over_limit && let Some(r) = self.rate {
                self.cut_to((r * 0.75).max(MIN_RATE), self.new_cut(e, true));
            }
            return;
        }
        if let Some(cut) = self.cut.take()
            && self.took_back(&cut, e, over_limit)
        {
            return;
        }
        let burst = refusal > self.refusal_usual + BURST_RISE;
        if !self.known && e.answers > 0 {
            self.known = true;
            if loss <= FIRST_USUAL && !burst && !e.limited() {
                // A lossy path from the start: its usual loss, not a
                // reason to slow down (a cut would cost two epochs before
                // it could be taken back).
                self.loss_usual = loss;
            }
        }
        let congested =
            e.answers > 0 && (over_limit || loss > self.loss_usual + LOSS_RISE || burst);
        if congested {
            let from = self.rate.unwrap_or(delivered).min(delivered.max(MIN_RATE));
            if e.limited() {
                // Losses in a run: what got through is about the limit
                // (a little over it: some of the excess is let through,
                // and an unpaced epoch may have straddled two of the
                // limit's seconds and seen its budget twice, which the
                // epoch after next corrects). Not just under it: the
                // resends of what was lost come on top of new queries.
                self.limit = Some(from);
            }
            self.cut_to((from * 0.75).max(MIN_RATE), self.new_cut(e, e.limited()));
            return;
        }
        // A run of losses is a limit reached, however low their share.
        if loss <= self.loss_usual + LOSS_CLEAN && !e.limited() {
            self.climb(ceiling);
            self.loss_usual = self.loss_usual * 0.9 + loss * 0.1;
        } else {
            self.clean = 0;
        }
        if !burst {
            self.refusal_usual = self.refusal_usual * 0.8 + refusal * 0.2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One second of a server that answers the first `limit` queries of
    /// each second and 1 in 10 after that (Unbound's ip-ratelimit), on a
    /// path that loses `random` of everything, with a sender at `send` a
    /// second.
    fn second(send: f64, limit: f64, random: f64) -> Epoch {
        let over = (send - limit).max(0.0);
        let passed = send.min(limit) + over * 0.1;
        let answers = (passed * (1.0 - random)) as u32;
        Epoch {
            answers,
            losses: (send as u32).saturating_sub(answers),
            refusals: 0,
            // Past the budget, losses come in runs; random loss is spread.
            loss_run: if over > 0.0 { 3 * LOSS_RUN } else { 2 },
            seconds: 1.0,
        }
    }

    fn epoch(answers: u32, losses: u32, loss_run: u32) -> Epoch {
        Epoch {
            answers,
            losses,
            refusals: 0,
            loss_run,
            seconds: 1.0,
        }
    }

    /// A sender bound by its window (not by a rate) meets a limit of 2,000
    /// a second: its first second straddles two of the limit's seconds, so
    /// it gets 3,700 answers, and once the budget is gone it stalls on its
    /// timers, so it loses only 90 queries (2.4%), but one after another.
    /// Seen in a capture of a run against Unbound's ip-ratelimit.
    #[test]
    fn a_limit_that_costs_a_window_bound_sender_little_loss_but_in_a_run_is_found_and_kept() {
        // Spread out, 2.4% loss in the first second is the path's.
        let mut c = Control::default();
        c.end_epoch(&epoch(3700, 90, 2), 1e9);
        assert_eq!(c.rate(), None, "{c:?}");
        // In a run, it is a limit: cut.
        let mut c = Control::default();
        c.end_epoch(&epoch(3700, 90, 40), 1e9);
        let first = c.rate().expect("cut");
        assert!(first < 3700.0, "{c:?}");
        // Loss did not move, and answers fell by 43% from the first
        // second: spread-out loss would be taken back to no pacing at all;
        // a run's cut is kept.
        let mut kept = c.clone();
        kept.end_epoch(&epoch(2100, 60, 2), 1e9);
        kept.end_epoch(&epoch(2100, 52, 2), 1e9);
        assert_eq!(kept.rate(), Some(first), "{kept:?}");
        // Far over the limit still a second later (the first second had
        // straddled two of its seconds): paced at 2,775, only 2,100 got
        // through, losses in a run. Cut again at once.
        c.end_epoch(&epoch(2100, 60, 40), 1e9);
        let again = c.rate().unwrap();
        assert!(again < first, "{c:?}");
        // A little over it: judged as congestion, under what got through.
        c.end_epoch(&epoch(2008, 80, 40), 1e9);
        assert_eq!(
            c.rate(),
            Some(again),
            "the second after a cut is not judged"
        );
        c.end_epoch(&epoch(2008, 80, 40), 1e9);
        let limited = c.rate().unwrap();
        assert!(limited < 2000.0, "{c:?}");
        // While losses still come in runs, the rate never rises.
        c.end_epoch(&epoch(1900, 40, 40), 1e9);
        for _ in 0..5 {
            c.end_epoch(&epoch(1890, 1, 40), 1e9);
            assert_eq!(c.rate(), Some(limited), "{c:?}");
        }
        // Clean again: up to just under the limit seen at once, then on
        // from there by the smallest step again.
        let near = 2008.0 * LIMIT_NEAR;
        let mut climbs = 0;
        while c.rate() != Some(near) {
            c.end_epoch(&epoch(1900, 0, 0), 1e9);
            assert!(c.rate().unwrap() <= near, "{c:?}");
            climbs += 1;
            assert!(climbs <= 4, "{c:?}");
        }
        c.end_epoch(&epoch(1990, 0, 0), 1e9);
        assert!(c.rate().unwrap() <= near * 1.05 + 1e-9, "{c:?}");
        // Two rates both over a limit lose alike: the loss did not move,
        // but that is no path's usual loss (seen: 4,265 answers unpaced,
        // cut to 3,199, then 2,124 answers and 32% loss again).
        let mut c = Control::default();
        c.end_epoch(&epoch(4265, 1959, 59), 1e9);
        c.end_epoch(&epoch(2800, 1076, 38), 1e9);
        c.end_epoch(&epoch(2124, 988, 28), 1e9);
        assert!(c.rate().unwrap() < 2000.0, "{c:?}");
        assert!(c.loss_usual < 0.01, "{c:?}");
        // The same shape without the run: the cut is taken back.
        let mut c = Control::default();
        c.end_epoch(&epoch(3700, 150, 2), 1e9);
        assert!(c.rate().is_some());
        c.end_epoch(&epoch(2100, 100, 2), 1e9);
        c.end_epoch(&epoch(2100, 86, 2), 1e9);
        assert_eq!(c.rate(), None, "{c:?}");
    }

    /// Run for `secs` seconds with a sender able to send `max` a second
    /// when unpaced; return the mean answers a second over the second half.
    fn converge(max: f64, limit: f64, random: f64, secs: usize) -> (f64, Control) {
        let mut c = Control::default();
        let mut delivered = Vec::new();
        for _ in 0..secs {
            let send = c.rate().unwrap_or(max).min(max);
            let e = second(send, limit, random);
            delivered.push(f64::from(e.answers));
            c.end_epoch(&e, max);
        }
        let half = &delivered[secs / 2..];
        (half.iter().sum::<f64>() / half.len() as f64, c)
    }

    #[test]
    fn a_rate_limit_is_found_and_held_near() {
        let (delivered, c) = converge(100_000.0, 2000.0, 0.0, 60);
        assert!(c.rate().is_some());
        assert!(
            delivered > 0.85 * 2000.0 && delivered < 1.15 * 2000.0,
            "{delivered} {c:?}"
        );
        assert!(
            c.lowest.unwrap() > 1000.0,
            "never far below the limit: {c:?}"
        );
    }

    #[test]
    fn random_loss_alone_does_not_slow_the_sender() {
        let (delivered, c) = converge(50_000.0, f64::INFINITY, 0.19, 30);
        assert!(c.rate().is_none(), "{c:?}");
        assert!(delivered > 0.8 * 50_000.0, "{delivered}");
        assert!(c.undone >= 1);
    }

    #[test]
    fn random_loss_from_the_start_costs_no_cut_at_all() {
        let (delivered, c) = converge(50_000.0, f64::INFINITY, 0.02, 20);
        assert_eq!(c.lowest, None, "{c:?}");
        assert!(delivered > 0.97 * 50_000.0, "{delivered}");
        // A rate limit found from the first second is still found.
        let (_, limited) = converge(100_000.0, 2000.0, 0.0, 5);
        assert!(limited.lowest.is_some());
        // So is a limit only a little under the sender (loss under 3%
        // at first, rising as resends pile up on it, but in a run). This
        // sender cannot go faster, so each climb ends unpaced and over the
        // limit, and the cut starts again from there.
        let (delivered, c) = converge(2050.0, 2000.0, 0.0, 60);
        assert!(delivered > 0.85 * 2000.0, "{delivered} {c:?}");
    }

    #[test]
    fn a_rate_limit_on_a_lossy_path_is_still_found() {
        let (delivered, c) = converge(100_000.0, 2000.0, 0.05, 60);
        assert!(c.rate().is_some());
        assert!(delivered > 0.8 * 2000.0 * 0.95, "{delivered} {c:?}");
    }

    #[test]
    fn a_silent_server_is_not_paced() {
        let mut c = Control::default();
        for _ in 0..10 {
            c.end_epoch(
                &Epoch {
                    answers: 0,
                    losses: 100,
                    refusals: 0,
                    loss_run: 100,
                    seconds: 1.0,
                },
                1e9,
            );
        }
        assert_eq!(c.rate(), None);
    }

    #[test]
    fn a_steady_share_of_refusals_is_not_a_burst_but_a_sudden_one_is() {
        let mut c = Control::default();
        let steady = Epoch {
            answers: 800,
            losses: 0,
            refusals: 200,
            loss_run: 0,
            seconds: 1.0,
        };
        for _ in 0..50 {
            c.end_epoch(&steady, 1e9);
        }
        assert_eq!(c.rate(), None, "{c:?}");
        c.end_epoch(
            &Epoch {
                answers: 300,
                losses: 0,
                refusals: 700,
                loss_run: 0,
                seconds: 1.0,
            },
            1e9,
        );
        assert!(c.rate().is_some(), "a burst slows the sender: {c:?}");
    }
}
