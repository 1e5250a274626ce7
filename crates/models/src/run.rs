//! The run directory, metrics log, progress display, Ctrl-C handling, and the training
//! loop every model binary shares.

use crate::cli::CommonArgs;
use indicatif::{ProgressBar, ProgressStyle};
use nn::Checkpoint;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tensor::{Error, Result};

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// `runs/<model>/<UTC timestamp>` unless the user chose a directory; created on the spot.
pub fn run_dir(model: &str, chosen: Option<&Path>) -> Result<PathBuf> {
    let dir = match chosen {
        Some(d) => d.to_path_buf(),
        None => Path::new("runs").join(model).join(timestamp()),
    };
    fs::create_dir_all(&dir)
        .map_err(|e| io_err(&dir, format!("cannot create run directory: {e}")))?;
    Ok(dir)
}

/// `YYYYMMDD-HHMMSS` in UTC, from the system clock (no time-zone database needed).
pub fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Appends one JSON object per line to `metrics.jsonl`.
pub struct MetricsLog {
    path: PathBuf,
}

impl MetricsLog {
    /// The log in `dir`.
    pub fn new(dir: &Path) -> Self {
        MetricsLog {
            path: dir.join("metrics.jsonl"),
        }
    }

    /// Appends a record.
    pub fn append(&self, record: &serde_json::Value) -> Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| io_err(&self.path, e))?;
        writeln!(f, "{record}").map_err(|e| io_err(&self.path, e))
    }

    /// Every record so far (for the loss curve at the end).
    pub fn read_all(&self) -> Result<Vec<serde_json::Value>> {
        let text = fs::read_to_string(&self.path).map_err(|e| io_err(&self.path, e))?;
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

/// Set by Ctrl-C; the training loop saves a checkpoint and stops.
#[derive(Clone)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Installs the Ctrl-C handler (once per process; later calls share the flag).
    pub fn install() -> Self {
        static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
        let flag = FLAG
            .get_or_init(|| {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                // If a handler is already installed (embedding application), Ctrl-C keeps its behaviour.
                let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
                flag
            })
            .clone();
        StopFlag(flag)
    }

    /// Whether a stop was requested.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Progress bar (interactive) or periodic lines (quiet), with steps/s.
pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    start_step: u64,
    total: u64,
}

impl Progress {
    /// Progress over `start..total` steps.
    pub fn new(start: u64, total: u64, quiet: bool) -> Self {
        let bar = (!quiet).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_position(start);
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            start_step: start,
            total,
        }
    }

    /// Steps per second since the start of this session.
    pub fn rate(&self, step: u64) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        if secs > 0.0 {
            (step - self.start_step) as f64 / secs
        } else {
            0.0
        }
    }

    /// Moves to `step` with a message; in quiet mode prints when `print` is set.
    pub fn update(&self, step: u64, msg: &str, print: bool) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step);
                bar.set_message(msg.to_string());
            }
            None if print => {
                eprintln!(
                    "step {step}/{} {:.1} it/s {msg}",
                    self.total,
                    self.rate(step)
                );
            }
            None => {}
        }
    }

    /// Ends the display.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

/// Stops training with a clear message when a loss is NaN or infinite.
pub fn check_finite(name: &str, value: f32, step: u64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::NonFinite(format!(
            "{name} is {value} at step {step}; training stopped (try a lower --lr)"
        )))
    }
}

/// A data-set error as the framework's error (the `datasets` crate is a leaf and
/// knows nothing of `tensor`, so the conversion lives here).
pub fn data_err(e: datasets::DatasetError) -> Error {
    Error::Io {
        path: "data set".into(),
        reason: e.to_string(),
    }
}

/// MNIST from `--data-dir` (standard file names, raw or .gz), else the bundled subset.
pub fn load_mnist(data_dir: Option<&Path>) -> Result<datasets::Mnist> {
    match data_dir {
        Some(dir) => datasets::Mnist::from_dir(dir),
        None => datasets::Mnist::bundled(),
    }
    .map_err(data_err)
}

/// The mini-batch of every training step: a seeded shuffle per epoch, whole batches
/// only, derived from the step number alone so a resumed run sees the same data.
pub struct StepBatches {
    sampler: datasets::BatchSampler,
    batch_size: usize,
    per_epoch: u64,
    order: Option<(u64, Vec<usize>)>,
}

impl StepBatches {
    /// Batches of `batch_size` out of `count` examples, shuffled from `seed`.
    pub fn new(model: &'static str, count: usize, batch_size: usize, seed: u64) -> Result<Self> {
        if batch_size == 0 || batch_size > count {
            return Err(Error::argument(
                model,
                format!(
                    "--batch-size {batch_size} must be between 1 and the {count} training examples"
                ),
            ));
        }
        let sampler = datasets::BatchSampler::new(count, batch_size)
            .map_err(data_err)?
            .shuffle(seed)
            .drop_last(true);
        Ok(StepBatches {
            sampler,
            batch_size,
            per_epoch: (count / batch_size) as u64,
            order: None,
        })
    }

    /// Whole batches per epoch.
    pub fn per_epoch(&self) -> u64 {
        self.per_epoch
    }

    /// Example indices of the batch trained at `step`.
    pub fn indices(&mut self, step: u64) -> &[usize] {
        let epoch = step / self.per_epoch;
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.order = Some((epoch, self.sampler.order(epoch)));
        }
        let start = (step % self.per_epoch) as usize * self.batch_size;
        let order = &self.order.as_ref().expect("set above").1;
        &order[start..start + self.batch_size]
    }
}

/// Line chart of metrics-log columns against `step`: `(key, legend)` per series.
/// Nothing is drawn for an empty log.
pub fn plot_metrics(
    metrics: &MetricsLog,
    path: &Path,
    title: &str,
    y_label: &str,
    columns: &[(&str, &str)],
) -> Result<()> {
    let records = metrics.read_all()?;
    if records.is_empty() {
        return Ok(());
    }
    let series: Vec<crate::plot::Series> = columns
        .iter()
        .map(|(key, name)| crate::plot::Series {
            name: (*name).into(),
            points: records
                .iter()
                .filter_map(|r| Some((r["step"].as_f64()?, r[*key].as_f64()?)))
                .collect(),
        })
        .collect();
    crate::plot::line_chart(path, title, "iteration", y_label, &series)
}

/// A model that [`train_loop`] trains one step at a time.
pub trait StepModel {
    /// What one step reports (losses, accuracies).
    type Stats: Copy;
    /// Steps trained so far (a resumed model starts above 0).
    fn steps_done(&self) -> u64;
    /// Trains the next step on its own mini-batch.
    fn train_step(&mut self) -> Result<Self::Stats>;
    /// The losses of a step that must be finite, by name.
    fn losses(stats: &Self::Stats) -> Vec<(&'static str, f32)>;
    /// Progress-bar text after a step.
    fn progress(&self, stats: &Self::Stats) -> String;
    /// The metrics record of a logged step (an object; the loop adds `step` and
    /// `steps_per_sec`) and text to append to that step's progress line.
    fn record(&self, stats: &Self::Stats) -> Result<(serde_json::Value, String)>;
    /// Writes the picture of the model's samples as training goes.
    fn save_samples(&self, path: &Path) -> Result<()>;
    /// Everything needed to resume.
    fn checkpoint(&self) -> Result<Checkpoint>;
}

/// How a [`train_loop`] ended.
pub struct LoopEnd<S> {
    /// The last step's report (`None` when no step ran).
    pub last: Option<S>,
    pub steps_per_sec: f64,
    /// Stopped by Ctrl-C before `total`.
    pub interrupted: bool,
    pub metrics: MetricsLog,
}

/// Trains `model` up to `total` steps as every binary does: a progress bar, a metrics
/// record every `--log-every` steps (and at the end) in `dir/metrics.jsonl`, sample
/// pictures every `sample_every` steps (0: never) under `dir/samples/`, a checkpoint
/// every `--checkpoint-every` steps and at the end, a clear error at the first NaN or
/// infinite loss, and Ctrl-C as a clean stop (the final checkpoint is still written).
pub fn train_loop<M: StepModel>(
    model: &mut M,
    total: u64,
    args: &CommonArgs,
    dir: &Path,
    sample_every: u64,
) -> Result<LoopEnd<M::Stats>> {
    let metrics = MetricsLog::new(dir);
    let stop = StopFlag::install();
    let progress = Progress::new(model.steps_done(), total, args.quiet);
    let log_every = args.log_every.max(1);
    let checkpoint = dir.join("checkpoint.safetensors");
    let mut last = None;
    let mut interrupted = false;
    while model.steps_done() < total {
        if stop.is_set() {
            interrupted = true;
            break;
        }
        let stats = model.train_step()?;
        let done = model.steps_done();
        for (name, value) in M::losses(&stats) {
            check_finite(name, value, done)?;
        }
        last = Some(stats);
        let log_now = done.is_multiple_of(log_every) || done == total;
        let mut msg = model.progress(&stats);
        if log_now {
            let (mut record, extra) = model.record(&stats)?;
            if let Some(fields) = record.as_object_mut() {
                fields.insert("step".into(), done.into());
                fields.insert("steps_per_sec".into(), progress.rate(done).into());
            }
            metrics.append(&record)?;
            msg += &extra;
        }
        progress.update(done, &msg, log_now && done.is_multiple_of(log_every * 10));
        if sample_every > 0 && done.is_multiple_of(sample_every) {
            model.save_samples(&dir.join("samples").join(format!("step_{done:06}.png")))?;
        }
        if args.checkpoint_every > 0 && done.is_multiple_of(args.checkpoint_every) {
            model.checkpoint()?.save(&checkpoint)?;
        }
    }
    progress.finish();
    let steps_per_sec = progress.rate(model.steps_done());
    model.checkpoint()?.save(&checkpoint)?;
    Ok(LoopEnd {
        last,
        steps_per_sec,
        interrupted,
        metrics,
    })
}
