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

/// What one epoch saw.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Epoch {
    pub answers: u32,
    pub losses: u32,
    pub refusals: u32,
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
    /// The lowest rate ever set.
    pub lowest: Option<f64>,
    /// How many cuts were taken back.
    pub undone: u32,
}

impl Control {
    pub(super) fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Act on one epoch. `ceiling` is what the window could carry (queries
    /// per second at the server's round-trip time): pacing above it is no
    /// pacing.
    pub(super) fn end_epoch(&mut self, e: &Epoch, ceiling: f64) {
        let (loss, refusal, delivered) = (e.loss(), e.refusal(), e.delivered());
        if let Some(cut) = self.cut.as_mut().filter(|c| !c.settled) {
            // Losses counted now are of sends made before the cut.
            cut.settled = true;
            return;
        }
        if let Some(cut) = self.cut.take() {
            // Random loss is the same at any rate; a limit's loss moves
            // with the rate (down, or up while resends pile up).
            let moved =
                |now: f64, then: f64| (now - then).abs() > (then * HELPED_SHARE).max(HELPED_POINTS);
            let rate_matters = moved(loss, cut.loss) || moved(refusal, cut.refusal);
            let cost = delivered < cut.delivered * COST;
            if !rate_matters && cost {
                // High loss that did not move could still be a limit far
                // below the rate (a 25% cut leaves it far above): keep the
                // cut, learn the level, and let clean epochs raise the rate
                // step by step; a limit shows again as loss rising. Only low
                // loss, the kind a real path has at random, is taken back
                // at once.
                if cut.loss <= RANDOM_LOSS_AT_MOST {
                    self.rate = cut.rate_before;
                }
                self.undone += 1;
                if cut.loss > self.loss_usual + LOSS_RISE {
                    self.loss_usual = loss.min(cut.loss);
                }
                if cut.refusal > self.refusal_usual + BURST_RISE {
                    self.refusal_usual = refusal.min(cut.refusal);
                }
                return;
            }
        }
        let burst = refusal > self.refusal_usual + BURST_RISE;
        if !self.known && e.answers > 0 {
            self.known = true;
            if loss <= FIRST_USUAL && !burst {
                // A lossy path from the start: its usual loss, not a
                // reason to slow down (a cut would cost two epochs before
                // it could be taken back).
                self.loss_usual = loss;
            }
        }
        let congested = e.answers > 0 && (loss > self.loss_usual + LOSS_RISE || burst);
        if congested {
            let from = self.rate.unwrap_or(delivered).min(delivered.max(MIN_RATE));
            let rate = (from * 0.75).max(MIN_RATE);
            self.cut = Some(Cut {
                settled: false,
                loss,
                refusal,
                delivered,
                rate_before: self.rate,
            });
            self.rate = Some(rate);
            self.clean = 0;
            self.lowest = Some(self.lowest.map_or(rate, |m| m.min(rate)));
            return;
        }
        if loss <= self.loss_usual + LOSS_CLEAN {
            if let Some(rate) = self.rate {
                let step = 0.05 * f64::from(1u32 << self.clean.min(4));
                let raised = rate + (rate * step).max(5.0);
                self.rate = (raised < ceiling).then_some(raised);
            }
            self.clean += 1;
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
            seconds: 1.0,
        }
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
        // at first, rising as resends pile up on it).
        let (delivered, c) = converge(2050.0, 2000.0, 0.0, 60);
        assert!(delivered > 0.9 * 2000.0, "{delivered} {c:?}");
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
                seconds: 1.0,
            },
            1e9,
        );
        assert!(c.rate().is_some(), "a burst slows the sender: {c:?}");
    }
}
