//! One run of the command: input on a reader thread, the engine on a Tokio
//! runtime, the sink on a writer thread, joined by bounded channels so that
//! memory stays flat however long the input is.

use crate::config::Config;
use crate::engine::{self, Finish, Settled};
use crate::error::Error;
use crate::exit;
use crate::input::{Entries, Entry};
use crate::limiter::Limiter;
use crate::outcome::Outcome;
use crate::report::{self, Counts, Sink};
use crate::resolver::AnyResolver;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// File descriptors the process needs besides one per lookup in flight.
const SPARE_FILES: u64 = 64;

/// What a run came to.
#[derive(Debug)]
pub struct RunReport {
    pub counts: Counts,
    pub duplicates: u64,
    pub elapsed: Duration,
    pub finish: Finish,
    pub exit_code: u8,
}

pub fn run(config: Config) -> Result<RunReport, Error> {
    let start = Instant::now();
    ensure_file_limit(config.settings.concurrency)?;

    let entries = Entries::new(config.sources)
        .with_shard(config.shard)
        .keep_duplicates(config.keep_duplicates);
    let duplicates = entries.duplicates();
    let read_error: Arc<Mutex<Option<Error>>> = Arc::default();
    let (entry_tx, entry_rx) = mpsc::channel::<Vec<Entry>>(4);
    {
        let read_error = read_error.clone();
        std::thread::Builder::new()
            .name("mxlookup-input".into())
            .spawn(move || read_input(entries, entry_tx, read_error))
            .map_err(Error::Runtime)?;
    }

    let ui = Ui::new(config.progress, config.quiet);
    let sink = report::sink(
        config.format,
        io::stdout(),
        config.color,
        config.flush_lines,
    );
    let (result_tx, result_rx) = mpsc::channel::<Vec<Settled>>(8);
    let writer = {
        let ui = ui.clone();
        std::thread::Builder::new()
            .name("mxlookup-output".into())
            .spawn(move || write_results(result_rx, sink, &ui))
            .map_err(Error::Runtime)?
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let settings = config.settings.clone();
    let engine = config.engine;
    let finish = runtime.block_on(async move {
        let resolver = Arc::new(AnyResolver::new(engine, &settings)?);
        let limiter = Arc::new(Limiter::new(settings.concurrency, config.rate));
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handling: never stop early.
                std::future::pending::<()>().await;
            }
            // A second Ctrl-C means "now": do not wait for the lookups in
            // flight to reach their deadline.
            tokio::spawn(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(exit::INTERRUPTED));
                }
            });
        };
        Ok::<_, Error>(
            engine::run(
                engine::Batches::new(entry_rx),
                resolver,
                limiter,
                settings.timeout,
                result_tx,
                stop,
            )
            .await,
        )
    });
    // Answers still arriving for abandoned lookups are of no interest.
    runtime.shutdown_background();
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the output thread failed")));
    let finish = finish?;
    ui.finish();

    let (counts, finish) = match written {
        Ok(counts) => (counts, finish),
        // The reader closed the pipe (`| head`): end quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => (Counts::default(), Finish::Abandoned),
        Err(e) => return Err(Error::Output(e)),
    };
    if let Some(e) = read_error.lock().unwrap_or_else(|e| e.into_inner()).take() {
        ui.summary(
            &counts,
            duplicates.load(Ordering::Relaxed),
            start.elapsed(),
            false,
        );
        return Err(e);
    }
    if counts.total() == 0 && finish == Finish::Complete {
        return Err(Error::Empty);
    }
    let duplicates = duplicates.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    if finish == Finish::Interrupted {
        ui.error("interrupted: no new lookups were started; everything that settled was written");
    }
    ui.summary(&counts, duplicates, elapsed, finish == Finish::Interrupted);
    Ok(RunReport {
        exit_code: exit::for_run(&counts, config.require_mx, finish),
        counts,
        duplicates,
        elapsed,
        finish,
    })
}

/// Raise the soft limit on open files as far as allowed, and refuse a
/// concurrency the limit cannot carry, rather than lose lookups to
/// "no connections" errors half-way through.
fn ensure_file_limit(concurrency: usize) -> Result<(), Error> {
    let needed = concurrency as u64 + SPARE_FILES;
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if limit != 0 && limit < needed {
        return Err(Error::FileLimit {
            concurrency,
            needed,
            limit,
        });
    }
    Ok(())
}

fn read_input(entries: Entries, tx: mpsc::Sender<Vec<Entry>>, error: Arc<Mutex<Option<Error>>>) {
    let mut batch = Vec::with_capacity(engine::BATCH);
    for item in entries {
        match item {
            Ok(entry) => {
                if !engine::send_batched(&tx, &mut batch, Some(entry)) {
                    return;
                }
            }
            Err(e) => {
                *error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                break;
            }
        }
    }
    engine::send_batched(&tx, &mut batch, None);
}

fn write_results(
    mut rx: mpsc::Receiver<Vec<Settled>>,
    mut sink: Box<dyn Sink + Send>,
    ui: &Ui,
) -> io::Result<Counts> {
    let mut counts = Counts::default();
    while let Some(batch) = rx.blocking_recv() {
        for result in batch {
            counts.add(result.outcome.status());
            if let Outcome::Invalid(reason) = &result.outcome {
                ui.error(&format!(
                    "{}: \"{}\": {reason}",
                    result.entry.origin, result.entry.input
                ));
            }
            ui.tick();
            sink.settled(result)?;
        }
    }
    // Clear the progress line before the in-order formats print.
    ui.finish();
    sink.finish()?;
    Ok(counts)
}

/// What goes to stderr: errors always, progress and the summary only on a
/// terminal and without `--quiet`.
#[derive(Clone)]
struct Ui {
    bar: Option<ProgressBar>,
    quiet: bool,
    start: Instant,
}

/// A run shorter than this shows no progress indicator at all.
const PROGRESS_AFTER: Duration = Duration::from_millis(800);

impl Ui {
    fn new(progress: bool, quiet: bool) -> Ui {
        let bar = progress.then(|| {
            // Hidden until the run has lasted a moment: a quick lookup
            // should print its answer and nothing else.
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {pos} settled · {rate} · {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner())
                    .with_key(
                        "rate",
                        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0} lookups/s", s.per_sec());
                        },
                    ),
            );
            bar
        });
        Ui {
            bar,
            quiet,
            start: Instant::now(),
        }
    }

    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if bar.is_hidden() && !bar.is_finished() && self.start.elapsed() > PROGRESS_AFTER {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
            }
        }
    }

    fn error(&self, message: &str) {
        let line = format!("mxlookup: {message}");
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// On a terminal always; elsewhere only after an interruption, where it
    /// says how far the run got.
    fn summary(&self, counts: &Counts, duplicates: u64, elapsed: Duration, interrupted: bool) {
        if self.bar.is_some() || (interrupted && !self.quiet) {
            eprintln!("{}", report::summary(counts, duplicates, elapsed));
        }
    }
}
