//! One run of the command: input on a reader thread, the engine on a Tokio
//! runtime, the sink on a writer thread, joined by bounded channels so that
//! memory stays flat however long the input is. Signals: the first SIGINT,
//! SIGTERM or SIGHUP stops new lookups and lets those in flight settle; a
//! second settles those at once as interrupted; a third exits on the spot.

use super::Fatal;
use super::config::Config;
use super::exit;
use super::ui::Ui;
use mxlookup::input::Entries;
use mxlookup::outcome::{Entry, Outcome, Settled};
use mxlookup::pipeline::{self, Backpressure, Finish, Interrupt, Pipeline};
use mxlookup::report::{self, Counts, Sink};
use mxlookup::resolver::{AnyResolver, Resolver, ServerStats};
use mxlookup::saved::Baseline;
use mxlookup::text::{SafeText, escape_text};
use mxlookup::{Error, Limiter};
use std::io;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// File descriptors the process needs besides one per lookup in flight.
const SPARE_FILES: u64 = 64;

/// One run; its exit status.
pub(super) fn run(config: Config) -> Result<u8, Fatal> {
    let output = config.output.clone();
    let ui = Ui::new(output.progress, output.quiet);
    prepare(&config, &ui)?;
    let style = style(&config);
    let entries = Entries::new(config.sources)
        .with_shard(config.shard)
        .keep_duplicates(config.keep_duplicates);
    let duplicates = entries.duplicates();
    let other_shards = entries.other_shards();
    let read_error: Arc<Mutex<Option<Error>>> = Arc::default();
    let (entry_tx, entry_rx) = mpsc::channel::<Vec<Entry>>(4);
    {
        let read_error = read_error.clone();
        std::thread::Builder::new()
            .name("mxlookup-input".into())
            .spawn(move || read_input(entries, entry_tx, read_error))
            .map_err(Fatal::Runtime)?;
    }

    let held = Arc::new(AtomicUsize::new(0));
    let sink = report::sink(output.format, io::stdout(), style, held.clone());
    // Only the in-order formats hold results back.
    let held = if output.format.in_order() {
        held
    } else {
        Arc::default()
    };
    let (result_tx, result_rx) = mpsc::channel::<Vec<Settled>>(8);
    let writer = {
        let ui = ui.clone();
        let suspend = output.flush_lines && output.progress;
        let baseline = config.baseline;
        std::thread::Builder::new()
            .name("mxlookup-output".into())
            .spawn(move || write_results(result_rx, sink, &ui, suspend, baseline))
            .map_err(Fatal::Runtime)?
    };

    let signal = Arc::new(AtomicI32::new(0));
    let engine = Engine {
        settings: config.settings.clone(),
        choice: config.engine,
        audit: config.audit,
        rate: config.rate,
        ui: ui.clone(),
        signal: signal.clone(),
        held,
    };
    let outcome = engine.run(entry_rx, result_tx);
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the output thread failed")));
    let (finish, servers, (cache, fetches, unused)) = outcome?;
    ui.finish();

    let (counts, unseen, finish) = match written {
        Ok((counts, unseen)) => (counts, unseen, finish),
        // The reader closed the pipe (`| head`): end quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            (Counts::default(), None, Finish::Abandoned)
        }
        Err(e) => return Err(Fatal::Output(e)),
    };
    if finish == Finish::Complete {
        for rule in &unused {
            ui.error(&format!(
                "warning: --expect {}: no domain of this run matches it (a typo?): nothing was checked against it",
                escape_text(rule)
            ));
        }
    }
    let notes = notes(cache, fetches, &counts, unseen);
    let duplicates = duplicates.load(Ordering::Relaxed);
    if let Some(e) = read_error.lock().unwrap_or_else(|e| e.into_inner()).take() {
        summary(&ui, &counts, duplicates, &servers, &notes, finish);
        return Err(e.into());
    }
    // An input with domains that all belong to other shards is an empty
    // shard: valid, empty output (a parallel job's shards may be empty).
    if counts.total() == 0
        && finish == Finish::Complete
        && other_shards.load(Ordering::Relaxed) == 0
    {
        return Err(Fatal::Empty);
    }
    if finish == Finish::Interrupted {
        ui.error("interrupted: no new lookups were started; everything that settled was written");
    }
    summary(&ui, &counts, duplicates, &servers, &notes, finish);
    let signal = signal.load(Ordering::Relaxed);
    Ok(exit::for_run(
        &counts,
        output.require_mx,
        &output.fail_on,
        finish,
        signal,
    ))
}

/// The engine thread's part: the lookups, on one current-thread runtime.
struct Engine {
    settings: mxlookup::resolver::Settings,
    choice: mxlookup::resolver::Engine,
    audit: mxlookup::audit::Options,
    rate: Option<f64>,
    ui: Ui,
    signal: Arc<AtomicI32>,
    held: Arc<AtomicUsize>,
}

/// Each server's figures, by its label.
type Servers = Vec<(Arc<SafeText>, ServerStats)>;

/// The audit's caches, its policy fetches, the `--expect` rules unused.
type Stats = (
    Vec<(&'static str, mxlookup::audit::CacheStats)>,
    Option<mxlookup::audit::FetchStats>,
    Vec<String>,
);

impl Engine {
    /// Look up every entry from `entry_rx`, results to `result_tx`: how the
    /// run finished, the servers' figures, and the audit's.
    fn run(
        self,
        entry_rx: mpsc::Receiver<Vec<Entry>>,
        result_tx: mpsc::Sender<Vec<Settled>>,
    ) -> Result<(Finish, Servers, Stats), Fatal> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Fatal::Runtime)?;
        let Engine {
            settings,
            choice,
            audit,
            rate,
            ui,
            signal,
            held,
        } = self;
        let outcome = runtime.block_on(async move {
            let resolver = Arc::new(AnyResolver::new(choice, &settings)?);
            let limiter = Arc::new(Limiter::new(settings.concurrency, rate));
            let (interrupt_tx, interrupt_rx) = watch::channel(Interrupt::None);
            tokio::spawn(handle_signals(interrupt_tx, ui, signal, settings.timeout));
            let pipeline = Pipeline::new(resolver.clone(), limiter)
                .audit(audit)?
                .backpressure(Backpressure {
                    held,
                    max: report::MAX_HELD,
                });
            let finish = pipeline.run(entry_rx, result_tx, interrupt_rx).await;
            let stats = (
                pipeline.cache_stats(),
                pipeline.fetch_stats(),
                pipeline.unused_expectations(),
            );
            Ok::<_, Error>((finish, resolver.server_stats(), stats))
        });
        // Answers still arriving for abandoned lookups are of no interest.
        runtime.shutdown_background();
        Ok(outcome?)
    }
}

/// Before the run: the warnings, the open-file limit (a file per query in
/// flight and per policy fetch), the progress display's total when every
/// source's size is known up front (arguments, regular files), and a word
/// when the domains are read from the terminal.
fn prepare(config: &Config, ui: &Ui) -> Result<(), Fatal> {
    for w in &config.warnings {
        ui.error(w);
    }
    let fetches = if config.audit.checks.mta_sts && config.audit.checks.fetch {
        config.audit.https.concurrency
    } else {
        0
    };
    ensure_file_limit(config.settings.concurrency + fetches)?;
    if config.output.progress {
        let total: Option<u64> = config.sources.iter().map(|s| s.estimate()).sum();
        if let Some(total) = total {
            ui.set_total(config.shard.map_or(total, |s| total.div_ceil(s.count)));
        }
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin())
        && config
            .sources
            .iter()
            .any(|s| matches!(s, mxlookup::input::Source::Stdin))
    {
        ui.note("reading domains from the terminal, one per line; Ctrl-D ends the list");
    }
    Ok(())
}

/// What the sinks show, from what the run does.
fn style(config: &Config) -> report::Style {
    let checks = config.audit.checks;
    let style = config.output.style(
        (config.audit.wanted(), checks.resolves()),
        checks.mta_sts || checks.tls_rpt || config.audit.expect.iter().any(|e| e.needs_mta_sts()),
        checks.dnssec || checks.dane,
        config.baseline.is_some(),
    );
    report::Style {
        job: config.job.clone(),
        ..style
    }
}

/// The summary's lines after the counts: each cache that was asked, the
/// policy fetches, the baseline.
fn notes(
    cache: Vec<(&'static str, mxlookup::audit::CacheStats)>,
    fetches: Option<mxlookup::audit::FetchStats>,
    counts: &Counts,
    unseen: Option<usize>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (kind, c) in cache.into_iter().filter(|(_, c)| c.asked > 0) {
        notes.push(report::cache_summary(kind, c));
    }
    if let Some(f) = fetches.filter(|f| f.asked > 0) {
        notes.push(report::fetch_summary(f));
    }
    if let Some(unseen) = unseen {
        notes.push(report::baseline_summary(counts, Some(unseen)));
    }
    notes
}

fn summary(
    ui: &Ui,
    counts: &Counts,
    duplicates: u64,
    servers: &[(Arc<SafeText>, ServerStats)],
    notes: &[String],
    finish: Finish,
) {
    if finish != Finish::Abandoned {
        ui.summary(counts, duplicates, servers, notes);
    }
}

/// The first signal stops new lookups, the second settles those in flight
/// at once, the third exits at once. Remembers which signal came first.
async fn handle_signals(
    tx: watch::Sender<Interrupt>,
    ui: Ui,
    first: Arc<AtomicI32>,
    timeout: Duration,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ];
        let mut streams = Vec::new();
        for k in kinds {
            match signal(k) {
                Ok(s) => streams.push((k.as_raw_value(), s)),
                // No signal handling: never stop early.
                Err(_) => return,
            }
        }
        let mut count = 0;
        loop {
            let next = futures_util::future::select_all(
                streams
                    .iter_mut()
                    .map(|(n, s)| Box::pin(async move { s.recv().await.map(|_| *n) })),
            )
            .await
            .0;
            let Some(number) = next else { return };
            count += 1;
            let _ = first.compare_exchange(0, number, Ordering::Relaxed, Ordering::Relaxed);
            match count {
                1 => {
                    ui.note(&format!(
                        "stopping: no new lookups; waiting for those in flight (at most {}); signal again to stop now",
                        humantime::format_duration(timeout)
                    ));
                    let _ = tx.send(Interrupt::Stop);
                }
                2 => {
                    ui.note("stopping now: lookups in flight are reported as interrupted");
                    let _ = tx.send(Interrupt::Abort);
                }
                _ => {
                    // Leave no progress line behind on the terminal.
                    ui.finish();
                    std::process::exit(i32::from(exit::for_signal(first.load(Ordering::Relaxed))))
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (tx, ui, first, timeout);
    }
}

/// Raise the soft limit on open files as far as allowed, and refuse a
/// concurrency the limit cannot carry, rather than lose lookups to
/// "no connections" errors half-way through.
fn ensure_file_limit(concurrency: usize) -> Result<(), Fatal> {
    let needed = concurrency as u64 + SPARE_FILES;
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if limit != 0 && limit < needed {
        return Err(Fatal::FileLimit {
            concurrency,
            needed,
            limit,
        });
    }
    Ok(())
}

fn read_input(
    mut entries: Entries,
    tx: mpsc::Sender<Vec<Entry>>,
    error: Arc<Mutex<Option<Error>>>,
) {
    let mut batch = Vec::with_capacity(pipeline::BATCH);
    while let Some(item) = entries.next() {
        match item {
            Ok(entry) => {
                // Send what is read before waiting for more input, so that
                // lines typed or piped slowly are looked up as they come.
                let flush = !entries.ready();
                if !pipeline::send_batched(&tx, &mut batch, Some(entry), flush) {
                    return;
                }
            }
            Err(e) => {
                *error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                break;
            }
        }
    }
    pipeline::send_batched(&tx, &mut batch, None, true);
}

fn write_results(
    mut rx: mpsc::Receiver<Vec<Settled>>,
    mut sink: Box<dyn Sink>,
    ui: &Ui,
    suspend: bool,
    mut baseline: Option<Baseline>,
) -> io::Result<(Counts, Option<usize>)> {
    let mut counts = Counts::default();
    while let Some(batch) = rx.blocking_recv() {
        if batch.is_empty() {
            continue;
        }
        for mut result in batch {
            if let Some(b) = &mut baseline {
                b.apply(&mut result);
            }
            counts.record(&result);
            if let Outcome::Invalid(reason) = &result.outcome {
                ui.invalid(&result.entry.origin, &result.entry.input, reason);
            }
            ui.tick();
            if suspend {
                ui.suspend(|| sink.settled(result))?;
            } else {
                sink.settled(result)?;
            }
        }
        // Nothing more waiting: write out what is buffered, so that a slow
        // trickle of input (`tail -f | mxlookup | jq`) gives its answers
        // now. In a bulk run this is once per batch.
        if rx.is_empty() {
            sink.flush()?;
        }
    }
    // Clear the progress line before the rest of the output.
    ui.finish();
    sink.finish()?;
    Ok((counts, baseline.map(|b| b.unseen())))
}
