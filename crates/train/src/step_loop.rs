//! The training loop over a step trait (what the GAN drivers use) and its NaN stop.

use crate::{Checkpointed, Error, MetricsLog, Progress, Result, StopFlag};
use std::path::Path;

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

/// How often [`train_loop`] logs, checkpoints and draws samples.
#[derive(Clone, Debug)]
pub struct LoopOptions {
    /// A metrics record every this many steps (and at the end).
    pub log_every: u64,
    /// A checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// A samples picture every this many steps (0: never).
    pub sample_every: u64,
    /// No progress bar: a line every ten records instead.
    pub quiet: bool,
}

impl Default for LoopOptions {
    fn default() -> Self {
        LoopOptions {
            log_every: 50,
            checkpoint_every: 1000,
            sample_every: 0,
            quiet: false,
        }
    }
}

/// A model that [`train_loop`] trains one step at a time.
pub trait StepModel {
    /// What the loop checkpoints (the model itself, or the model inside a driver that
    /// also holds its data).
    type Saved: Checkpointed;
    /// The checkpointed model; its step count is the loop's.
    fn saved(&self) -> &Self::Saved;
    /// What one step reports (losses, accuracies).
    type Stats: Copy;
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
    options: &LoopOptions,
    dir: &Path,
) -> Result<LoopEnd<M::Stats>> {
    let metrics = MetricsLog::new(dir);
    let stop = StopFlag::install();
    let start = model.saved().steps_done();
    if start >= total {
        return Err(Error::argument(
            "--steps",
            format!(
                "nothing to train: the run is at step {start} and --steps is {total}; \
                 pass --steps above {start} to continue it"
            ),
        ));
    }
    let progress = Progress::new(start, total, options.quiet);
    let log_every = options.log_every.max(1);
    let checkpoint = dir.join("checkpoint.safetensors");
    let mut last = None;
    let mut interrupted = false;
    while model.saved().steps_done() < total {
        if stop.is_set() {
            interrupted = true;
            break;
        }
        let stats = model.train_step()?;
        let done = model.saved().steps_done();
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
        if options.sample_every > 0 && done.is_multiple_of(options.sample_every) {
            model.save_samples(&dir.join("samples").join(format!("step_{done:06}.png")))?;
        }
        if options.checkpoint_every > 0 && done.is_multiple_of(options.checkpoint_every) {
            crate::save(model.saved(), &checkpoint)?;
        }
    }
    progress.finish();
    let steps_per_sec = progress.rate(model.saved().steps_done());
    crate::save(model.saved(), &checkpoint)?;
    Ok(LoopEnd {
        last,
        steps_per_sec,
        interrupted,
        metrics,
    })
}
