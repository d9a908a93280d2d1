//! The one owner of stderr: error lines, the progress display and the
//! summary. A failing stderr (`2>/dev/full`, a closed pipe) never costs
//! the results: every write here ignores its error. Every line is escaped
//! on its way out.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mxlookup::outcome::Origin;
use mxlookup::report::{self, Counts};
use mxlookup::resolver::ServerStats;
use mxlookup::text::SafeText;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Invalid lines reported one by one before the rest are only counted.
pub(super) const INVALID_SHOWN: u64 = 20;

#[derive(Clone)]
pub(super) struct Ui {
    inner: Arc<Inner>,
}

struct Inner {
    bar: Option<ProgressBar>,
    quiet: bool,
    start: Instant,
    invalid: AtomicU64,
    /// Serialises lines from the threads.
    lock: Mutex<()>,
}

impl Ui {
    /// `progress`: draw a progress line (stderr is a terminal); `total`:
    /// how many entries, if known; `quiet`: only errors.
    pub(super) fn new(progress: bool, quiet: bool) -> Ui {
        let bar = (progress && !quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Ui {
            inner: Arc::new(Inner {
                bar,
                quiet,
                start: Instant::now(),
                invalid: AtomicU64::new(0),
                lock: Mutex::new(()),
            }),
        }
    }

    /// A line for stderr, out of the progress display's way. The one way
    /// to stderr: whatever it is given is escaped ([`SafeText`]), so no
    /// message, name or file name can reach the terminal raw.
    fn line(&self, text: &str) {
        let text = SafeText::new(text);
        let _guard = self.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        let write = || {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{text}");
            let _ = err.flush();
        };
        match &self.inner.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// An error: always shown.
    pub(super) fn error(&self, message: &str) {
        self.line(&format!("mxlookup: {message}"));
    }

    /// A note for people (not with `--quiet`).
    pub(super) fn note(&self, message: &str) {
        if !self.inner.quiet {
            self.line(&format!("mxlookup: {message}"));
        }
    }

    /// An input line that is not a domain: the first few are shown, the
    /// rest counted (every one is in the output).
    pub(super) fn invalid(&self, origin: &Origin, input: &SafeText, reason: &SafeText) {
        let n = self.inner.invalid.fetch_add(1, Ordering::Relaxed);
        if n < INVALID_SHOWN {
            self.error(&format!("{origin}: \"{input}\": {reason}"));
        }
    }

    /// The entries to come, once known (a file's line count is not known
    /// up front; the bar shows a total when it is).
    pub(super) fn set_total(&self, total: u64) {
        if let Some(bar) = &self.inner.bar {
            bar.set_length(total);
            bar.set_style(bar_style());
        }
    }

    pub(super) fn tick(&self) {
        if let Some(bar) = &self.inner.bar {
            bar.inc(1);
        }
    }

    /// Run `f` (which writes to stdout) with the progress line out of the
    /// way, when both go to the same terminal.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.inner.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.inner.bar {
            bar.finish_and_clear();
        }
    }

    /// The summary: counts per status and problem, then per nameserver what
    /// the run settled at. Unless `--quiet`.
    pub(super) fn summary(
        &self,
        counts: &Counts,
        duplicates: u64,
        servers: &[(Arc<SafeText>, ServerStats)],
        notes: &[String],
    ) {
        let hidden = self
            .inner
            .invalid
            .load(Ordering::Relaxed)
            .saturating_sub(INVALID_SHOWN);
        if hidden > 0 {
            self.error(&format!(
                "{hidden} more invalid line{} not shown here (all are in the output)",
                if hidden == 1 { "" } else { "s" }
            ));
        }
        if self.inner.quiet {
            return;
        }
        self.line(&report::summary(
            counts,
            duplicates,
            Some(self.inner.start.elapsed()),
        ));
        if let Some(p) = report::problem_summary(counts) {
            self.line(&p);
        }
        for note in notes {
            self.line(note);
        }
        for (label, s) in servers {
            if let Some(line) = server_line(label, s) {
                self.line(&line);
            }
        }
    }
}

/// What one nameserver's traffic came to, when there is something to say:
/// resends, or pacing.
impl Ui {
    /// The summary of `mxlookup report`: counts and problems, no timing
    /// (the lookups were done before).
    pub(super) fn report_summary(&self, counts: &Counts, notes: &[String]) {
        if self.inner.quiet {
            return;
        }
        self.line(&report::summary(counts, 0, None));
        if let Some(p) = report::problem_summary(counts) {
            self.line(&p);
        }
        for note in notes {
            self.line(note);
        }
    }
}

fn server_line(label: &SafeText, s: &ServerStats) -> Option<String> {
    if s.sent == 0 {
        return None;
    }
    let mut line = format!(
        "{label}: {} sent, {} resent, {} lost",
        s.sent, s.resent, s.lost
    );
    if s.servfail + s.refused > 0 {
        line.push_str(&format!(", {} servfail, {} refused", s.servfail, s.refused));
    }
    if let Some(srtt) = s.srtt {
        line.push_str(&format!(", rtt {:.1} ms", srtt.as_secs_f64() * 1e3));
    }
    match (s.min_rate, s.rate) {
        (Some(min), Some(now)) => {
            line.push_str(&format!(", paced at {now:.0}/s (lowest {min:.0}/s)"))
        }
        (Some(min), None) => line.push_str(&format!(", paced down to {min:.0}/s, then free")),
        _ => {}
    }
    (s.resent > 0 || s.min_rate.is_some() || s.servfail + s.refused > 0).then_some(line)
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {pos} settled · {per_sec:0} · {elapsed} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {pos}/{len} settled · {per_sec:0} · {elapsed}{remaining} {msg}",
    )
    .map(|s| s.with_key("remaining", remaining))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// ` · ETA 3m` once something has settled (before that there is no rate
/// to estimate from, and indicatif would say 0s).
fn remaining(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    if state.pos() > 0 && state.len().is_some_and(|l| l > state.pos()) {
        let _ = write!(w, " · ETA {}", indicatif::HumanDuration(state.eta()));
    }
}
