//! Supervised training, Keras `model.fit` for Rust.
//!
//! ```ignore
//! let train_set = train::ArrayDataset::from_images(&mnist.train);
//! let test_set = train::ArrayDataset::from_images(&mnist.test);
//! let mut opt = nn::Adam::new(1e-4);
//! let mut fit = train::Fit::new("mnist_cnn", &be, &model, &mut opt)
//!     .metric(train::Accuracy::default())
//!     .batch_size(50)
//!     .steps(3000)
//!     .seed(42)
//!     .callback(train::BestCheckpoint::new("val_accuracy", train::Direction::Max));
//! let dir = fit.open_run(&run_options)?; // resumes first when asked to
//! let end = fit.run(&train_set, Some(&test_set), &dir)?;
//! ```
//!
//! Every step: a seeded shuffled mini-batch (augmented when the data set says so), the
//! forward pass in training mode, the loss, backpropagation and the optimizer update at
//! the scheduled learning rate. The run writes `metrics.jsonl` (a record every
//! `log_every` steps and one per epoch with the validation figures),
//! `checkpoint.safetensors` (everything needed to resume bit-identically: weights,
//! optimizer state, step, dropout mask counters, the epoch's running figures, the
//! callbacks' state), `model.safetensors` (the weights alone, for other programs) and
//! `loss.png` / `accuracy.png` at the end. A NaN or infinite loss stops the run with
//! an error naming the step; Ctrl-C stops it cleanly with a checkpoint.

mod callback;
mod data;
mod metric;
mod schedule;

pub use callback::{
    BestCheckpoint, Callback, Control, Direction, EarlyStopping, FitContext, OnBatch, OnEpoch,
    ReduceLrOnPlateau, save_weights,
};
pub use data::{ArrayDataset, Batch, Dataset};
pub use metric::{
    Accuracy, Loss, Metric, Predictions, SparseCategoricalCrossEntropy, TopKAccuracy, argmax,
    evaluate, predict,
};
pub use schedule::LrSchedule;

use crate::checkpoint::{check_stamp, source, stamp};
use crate::{Error, MetricsLog, Progress, Result, RunDir, RunOptions, StopFlag, check_finite};
use datasets::BatchSampler;
use nn::{Checkpoint, Mode, Module, Optimizer, Params};
use std::path::Path;
use tensor::Backend;

/// Named figures of a step or an epoch, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    entries: Vec<(String, f64)>,
}

impl Logs {
    /// Sets `name` (replacing an earlier value).
    pub fn insert(&mut self, name: &str, value: f64) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = value,
            None => self.entries.push((name.to_string(), value)),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|(n, _)| n.clone()).collect()
    }

    /// `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// `name value` pairs for a progress line (accuracies as percentages).
    pub fn line(&self) -> String {
        self.entries
            .iter()
            .map(|(n, v)| {
                if n.contains("acc") {
                    format!("{n} {:.2}%", 100.0 * v)
                } else if n == "lr" {
                    format!("{n} {v:.3e}")
                } else {
                    format!("{n} {v:.4}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.entries
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(*v)))
            .collect()
    }
}

/// How long `fit` trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// Passes over the training set.
    Epochs(u64),
    /// Optimizer steps in all (the last epoch may end early).
    Steps(u64),
}

/// The figures of every epoch trained in this session (Keras `History`).
#[derive(Clone, Debug, Default)]
pub struct History {
    /// `(epoch, figures)`, epochs 1-based.
    pub epochs: Vec<(u64, Logs)>,
}

impl History {
    /// The last epoch's figures.
    pub fn last(&self) -> Option<&Logs> {
        self.epochs.last().map(|(_, l)| l)
    }
}

/// How a [`Fit::run`] ended.
pub struct FitEnd {
    pub history: History,
    /// Steps done in all (with the resumed ones).
    pub steps: u64,
    /// Steps per second in this session.
    pub steps_per_sec: f64,
    /// Seconds of this session.
    pub seconds: f64,
    /// Stopped by Ctrl-C before the end.
    pub interrupted: bool,
    /// Stopped by a callback, for this reason.
    pub stopped: Option<String>,
    /// The validation figures at the end (`val_loss`, `val_accuracy`, ...), when there
    /// was a validation set and training was not interrupted.
    pub validation: Option<Logs>,
    /// The run's metrics log (`None` for [`Fit::run_without_files`]).
    pub metrics: Option<MetricsLog>,
}

/// The running figures of the current epoch.
struct EpochSums {
    loss: f64,
    examples: f64,
}

/// Checkpoint key of the fit loop's own state.
const FIT_STATE: &str = "fit.state";
/// Checkpoint key prefix of the random-draw counters (dropout masks).
const DRAWS: &str = "draws.";
/// The checkpoint file of a run.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The weights-only file written at the end of a run.
pub const MODEL_FILE: &str = "model.safetensors";

/// Keras `model.fit`: trains `model` with `optimizer` on a [`Dataset`] (see the module
/// documentation). Built with chained options, then [`Fit::run`].
pub struct Fit<'a, B: Backend, M: Module<B>> {
    name: String,
    backend: B,
    model: &'a M,
    optimizer: &'a mut dyn Optimizer<B>,
    loss: Box<dyn Loss<B> + 'a>,
    metrics: Vec<Box<dyn Metric>>,
    callbacks: Vec<Box<dyn Callback<B> + 'a>>,
    schedule: LrSchedule,
    batch_size: usize,
    eval_batch_size: usize,
    seed: u64,
    shuffle: bool,
    length: Length,
    log_every: u64,
    checkpoint_every: u64,
    quiet: bool,
    silent: bool,
    settings: Vec<(String, String)>,
    // State.
    step: u64,
    base_lr: f32,
    lr_scale: f32,
    sums: EpochSums,
}

impl<'a, B: Backend, M: Module<B>> Fit<'a, B, M> {
    /// Trains `model` (called `name` in its checkpoints) with `optimizer` at the
    /// optimizer's learning rate. Defaults: sparse categorical cross-entropy on logits,
    /// no metrics, batch 32, 1 epoch, shuffled with seed 0, a metrics record every 50
    /// steps, a checkpoint every 1,000 steps and at the end.
    pub fn new(name: &str, backend: &B, model: &'a M, optimizer: &'a mut dyn Optimizer<B>) -> Self {
        let base_lr = optimizer.learning_rate();
        Fit {
            name: name.into(),
            backend: backend.clone(),
            model,
            optimizer,
            loss: Box::new(SparseCategoricalCrossEntropy),
            metrics: Vec::new(),
            callbacks: Vec::new(),
            schedule: LrSchedule::Constant,
            batch_size: 32,
            eval_batch_size: 500,
            seed: 0,
            shuffle: true,
            length: Length::Epochs(1),
            log_every: 50,
            checkpoint_every: 1000,
            quiet: false,
            silent: false,
            settings: Vec::new(),
            step: 0,
            base_lr,
            lr_scale: 1.0,
            sums: EpochSums {
                loss: 0.0,
                examples: 0.0,
            },
        }
    }

    /// The loss (default: sparse categorical cross-entropy on logits).
    pub fn loss(mut self, loss: impl Loss<B> + 'a) -> Self {
        self.loss = Box::new(loss);
        self
    }

    /// Adds a metric, reported for training and validation (`val_` names).
    pub fn metric(mut self, metric: impl Metric + 'static) -> Self {
        self.metrics.push(Box::new(metric));
        self
    }

    /// Adds a callback.
    pub fn callback(mut self, callback: impl Callback<B> + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// The learning-rate schedule (default: constant).
    pub fn schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Examples per training step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Examples per evaluation batch (memory only; the figures do not depend on it).
    pub fn eval_batch_size(mut self, batch_size: usize) -> Self {
        self.eval_batch_size = batch_size.max(1);
        self
    }

    /// The seed of the shuffling and the augmentation.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether to shuffle the training set every epoch (default: yes).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Train for `epochs` passes.
    pub fn epochs(mut self, epochs: u64) -> Self {
        self.length = Length::Epochs(epochs);
        self
    }

    /// Train for `steps` optimizer steps in all.
    pub fn steps(mut self, steps: u64) -> Self {
        self.length = Length::Steps(steps);
        self
    }

    /// How long to train.
    pub fn length(mut self, length: Length) -> Self {
        self.length = length;
        self
    }

    /// A metrics record every `steps` steps.
    pub fn log_every(mut self, steps: u64) -> Self {
        self.log_every = steps.max(1);
        self
    }

    /// A checkpoint every `steps` steps (0: only at the end).
    pub fn checkpoint_every(mut self, steps: u64) -> Self {
        self.checkpoint_every = steps;
        self
    }

    /// No progress bar: a line every ten records, and the epoch lines.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Prints nothing (Keras `verbose=0`).
    pub fn silent(mut self) -> Self {
        self.silent = true;
        self.quiet = true;
        self
    }

    /// A setting that changes what the checkpoint means (recorded; a resume with
    /// another value is refused). The batch size, seed and shuffling are always recorded.
    pub fn setting(mut self, name: &str, value: impl ToString) -> Self {
        self.settings.push((name.into(), value.to_string()));
        self
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    fn all_settings(&self) -> Vec<(String, String)> {
        let mut s = vec![
            ("batch_size".to_string(), self.batch_size.to_string()),
            ("seed".to_string(), self.seed.to_string()),
            ("shuffle".to_string(), self.shuffle.to_string()),
        ];
        s.extend(self.settings.iter().cloned());
        s
    }

    /// Everything needed to resume the run bit-identically.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        let mut ck = Checkpoint::new();
        ck.insert_module("model.", self.model)?;
        ck.insert_optimizer("optimizer.", &*self.optimizer)?;
        for (name, counter) in self.model.draw_counters() {
            ck.metadata.insert(
                format!("{DRAWS}{name}"),
                counter
                    .load(std::sync::atomic::Ordering::Relaxed)
                    .to_string(),
            );
        }
        let metrics: Vec<serde_json::Value> =
            self.metrics.iter().map(|m| m.state().into()).collect();
        let state = serde_json::json!({
            "lr_scale": self.lr_scale,
            "loss_sum": self.sums.loss,
            "examples": self.sums.examples,
            "metrics": metrics,
        });
        ck.metadata.insert(FIT_STATE.into(), state.to_string());
        for cb in &self.callbacks {
            cb.save_state(&mut ck)?;
        }
        stamp(&mut ck, &self.name, self.step, &self.all_settings());
        Ok(ck)
    }

    /// Restores a run from `ck` (written by [`Fit::checkpoint`] for a model of this
    /// name, with the same settings).
    pub fn restore(&mut self, ck: &Checkpoint) -> Result<()> {
        let step = check_stamp(ck, &self.name, &self.all_settings())?;
        let bad = |what: &str| Error::argument("checkpoint", format!("{}: {what}", source(ck)));
        let state: serde_json::Value = ck
            .metadata
            .get(FIT_STATE)
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| bad("no fit state (not written by a fit run)"))?;
        let number = |key: &str| {
            state
                .get(key)
                .and_then(serde_json::Value::as_f64)
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(&format!("bad fit state: no {key}")))
        };
        let lr_scale = number("lr_scale")? as f32;
        let loss_sum = number("loss_sum")?;
        let examples = number("examples")?;
        let saved_metrics = state
            .get("metrics")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        if saved_metrics.len() != self.metrics.len() {
            return Err(bad(&format!(
                "the run had {} metrics, this one has {}",
                saved_metrics.len(),
                self.metrics.len()
            )));
        }
        let mut counters = Vec::new();
        for (name, counter) in self.model.draw_counters() {
            let v: u64 = ck
                .metadata
                .get(&format!("{DRAWS}{name}"))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(&format!("no draw counter of {name}")))?;
            counters.push((counter, v));
        }
        // Everything checked that can be: now change the model.
        ck.restore_module("model.", self.model, &self.backend)?;
        ck.restore_optimizer("optimizer.", &mut *self.optimizer, &self.backend)?;
        for (m, s) in self.metrics.iter_mut().zip(&saved_metrics) {
            let values: Vec<f64> = s
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                .unwrap_or_default();
            m.set_state(&values)?;
        }
        for (counter, v) in counters {
            counter.store(v, std::sync::atomic::Ordering::Relaxed);
        }
        for cb in &mut self.callbacks {
            cb.load_state(ck)?;
        }
        self.lr_scale = lr_scale;
        self.sums = EpochSums {
            loss: loss_sum,
            examples,
        };
        self.step = step;
        Ok(())
    }

    /// Loads the checkpoint at `path` to continue its run, and says so.
    pub fn resume(&mut self, path: &Path) -> Result<()> {
        self.restore(&Checkpoint::load(path)?)?;
        eprintln!("resumed from {} at step {}", path.display(), self.step);
        Ok(())
    }

    /// Opens the run directory as [`RunDir::open`] does, resuming from
    /// `options.resume` first (a bad checkpoint leaves no directory behind) and
    /// cleaning up what a killed run left there.
    pub fn open_run(&mut self, options: &RunOptions) -> Result<RunDir> {
        if let Some(ck) = &options.resume {
            self.resume(ck)?;
        }
        let dir = RunDir::open(&self.name, options)?;
        if options.resume.is_some() {
            dir.prepare_resume(self.step)?;
        }
        Ok(dir)
    }

    fn validate_options(&self, train: &dyn Dataset) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::argument("--batch-size", "must be at least 1"));
        }
        if train.is_empty() {
            return Err(Error::argument("fit", "the training set is empty"));
        }
        match self.length {
            Length::Epochs(0) | Length::Steps(0) => {
                return Err(Error::argument(
                    "fit",
                    "train for at least one epoch or step",
                ));
            }
            _ => {}
        }
        self.schedule.validate()
    }

    fn context<'c>(
        &'c mut self,
        dir: Option<&'c Path>,
        epoch: u64,
        lr: f32,
    ) -> (FitContext<'c, B>, &'c mut Vec<Box<dyn Callback<B> + 'a>>) {
        (
            FitContext {
                backend: &self.backend,
                model: self.model,
                name: &self.name,
                dir,
                step: self.step,
                epoch,
                lr,
                lr_scale: &mut self.lr_scale,
            },
            &mut self.callbacks,
        )
    }

    /// Keras `model.evaluate` with this fit's loss and metrics (as the epochs'
    /// validation is measured).
    pub fn evaluate(&self, data: &dyn Dataset) -> Result<Logs> {
        evaluate(
            &self.backend,
            self.model,
            &*self.loss,
            &self.metrics,
            data,
            self.eval_batch_size,
        )
    }

    /// Trains on `train`, validating on `validation` after every epoch, writing into
    /// `dir` (see the module documentation).
    pub fn run(
        &mut self,
        train: &dyn Dataset,
        validation: Option<&dyn Dataset>,
        dir: &Path,
    ) -> Result<FitEnd> {
        self.run_in(train, validation, Some(dir))
    }

    /// Trains as [`Fit::run`] does but writes no file (no metrics log, checkpoint or
    /// charts): Keras `fit` in memory.
    pub fn run_without_files(
        &mut self,
        train: &dyn Dataset,
        validation: Option<&dyn Dataset>,
    ) -> Result<FitEnd> {
        self.run_in(train, validation, None)
    }

    fn run_in(
        &mut self,
        train: &dyn Dataset,
        validation: Option<&dyn Dataset>,
        dir: Option<&Path>,
    ) -> Result<FitEnd> {
        self.validate_options(train)?;
        let mut sampler = BatchSampler::new(train.len(), self.batch_size)?;
        if self.shuffle {
            sampler = sampler.shuffle(self.seed);
        }
        let per_epoch = sampler.num_batches() as u64;
        let total = match self.length {
            Length::Epochs(e) => e.checked_mul(per_epoch).ok_or_else(|| {
                Error::argument("--epochs", format!("{e} epochs overflow the step count"))
            })?,
            Length::Steps(s) => s,
        };
        let epochs_total = total.div_ceil(per_epoch);
        if self.step >= total {
            return Err(Error::argument(
                "--steps",
                format!(
                    "nothing to train: the run is at step {} and ends at step {total}; \
                     ask for more steps or epochs to continue it",
                    self.step
                ),
            ));
        }
        let metrics_log = dir.map(MetricsLog::new);
        let append = |record: serde_json::Map<String, serde_json::Value>| -> Result<()> {
            match &metrics_log {
                Some(log) => log.append(&serde_json::Value::Object(record)),
                None => Ok(()),
            }
        };
        let stop = StopFlag::install();
        let progress = Progress::new(self.step, total, self.quiet);
        let silent = self.silent;
        let say = |line: &str| {
            if !silent {
                progress.println(line);
            }
        };
        let checkpoint_path = dir.map(|d| d.join(CHECKPOINT));
        let mut history = History::default();
        let mut batches: Option<(u64, Vec<Vec<usize>>)> = None;
        let mut interrupted = false;
        let mut stopped = None;
        let mut validation_logs: Option<Logs> = None;
        let mut lr = self.base_lr;
        let params = self.model.trainable_params();
        while self.step < total {
            if stop.is_set() {
                interrupted = true;
                break;
            }
            let epoch = self.step / per_epoch;
            let in_epoch = (self.step % per_epoch) as usize;
            if batches.as_ref().is_none_or(|(e, _)| *e != epoch) {
                batches = Some((epoch, sampler.epoch(epoch).collect()));
            }
            let idx = &batches.as_ref().map(|(_, b)| b).expect("just set")[in_epoch];
            // The augmentation of a step depends only on (seed, step).
            let augment_seed = nn::Seeds::new(self.seed ^ 0xa0_6e47)
                .next()
                .wrapping_add(self.step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let batch = train.batch(idx, Some(augment_seed))?;
            let x = metric::batch_tensor(&self.backend, train, batch.inputs, idx.len())?;
            lr = self.schedule.rate(self.base_lr, self.step, epoch, total) * self.lr_scale;
            self.optimizer.set_learning_rate(lr);
            let (value, outputs) = train_step(
                self.model,
                &mut *self.optimizer,
                &*self.loss,
                &params,
                &x,
                &batch.labels,
            )?;
            let classes = metric::check_outputs(outputs.dims(), batch.labels.len())?;
            let loss_value = value.to_vec()?[0];
            self.step += 1;
            check_finite("loss", loss_value, self.step)?;
            // The outputs come back to the host only for metrics to read.
            let outputs = if self.metrics.is_empty() {
                Vec::new()
            } else {
                outputs.to_vec()?
            };
            let p = Predictions {
                outputs: &outputs,
                classes,
                labels: &batch.labels,
                examples: idx.len(),
            };
            let n = idx.len() as f64;
            self.sums.loss += loss_value as f64 * n;
            self.sums.examples += n;
            let mut logs = Logs::default();
            logs.insert("loss", self.sums.loss / self.sums.examples);
            let mut batch_logs = Vec::new();
            for m in &mut self.metrics {
                m.update(&p);
                logs.insert(&m.name(), m.result());
                let mut one = m.fresh();
                one.update(&p);
                batch_logs.push((format!("batch_{}", m.name()), one.result()));
            }
            logs.insert("batch_loss", loss_value as f64);
            for (n, v) in batch_logs {
                logs.insert(&n, v);
            }
            let mut control = Control::Continue;
            {
                let (mut ctx, callbacks) = self.context(dir, epoch + 1, lr);
                for cb in callbacks.iter_mut() {
                    if let Control::Stop(r) = cb.on_batch_end(&mut ctx, &logs)? {
                        control = Control::Stop(r);
                    }
                }
            }
            let mut running = Logs::default();
            for (n, v) in logs.iter().filter(|(n, _)| !n.starts_with("batch_")) {
                running.insert(n, v);
            }
            // The bar shows the epoch's running figures and the last validation.
            let msg = match &validation_logs {
                Some(v) => format!(
                    "epoch {}/{epochs_total} {} | {}",
                    epoch + 1,
                    running.line(),
                    v.line()
                ),
                None => format!("epoch {}/{epochs_total} {}", epoch + 1, running.line()),
            };
            let log_now = self.step.is_multiple_of(self.log_every);
            if log_now {
                let mut record = running.to_json();
                record.insert("step".into(), self.step.into());
                record.insert("epoch".into(), (epoch + 1).into());
                record.insert("lr".into(), (lr as f64).into());
                record.insert("steps_per_sec".into(), progress.rate(self.step).into());
                append(record)?;
            }
            progress.update(
                self.step,
                &msg,
                !silent && log_now && self.step.is_multiple_of(self.log_every * 10),
            );
            let epoch_end = in_epoch as u64 + 1 == per_epoch;
            let run_end = self.step == total;
            if epoch_end || run_end || control != Control::Continue {
                let mut logs = running;
                if let Some(val) = validation {
                    let v = evaluate(
                        &self.backend,
                        self.model,
                        &*self.loss,
                        &self.metrics,
                        val,
                        self.eval_batch_size,
                    )?;
                    let mut val_logs = Logs::default();
                    for (n, x) in v.iter() {
                        val_logs.insert(&format!("val_{n}"), x);
                        logs.insert(&format!("val_{n}"), x);
                    }
                    validation_logs = Some(val_logs);
                }
                logs.insert("lr", lr as f64);
                let mut record = logs.to_json();
                record.insert("step".into(), self.step.into());
                record.insert("epoch".into(), (epoch + 1).into());
                if !epoch_end {
                    // The run ends inside an epoch: its figures so far.
                    record.insert("partial_epoch".into(), true.into());
                }
                record.insert("elapsed_sec".into(), progress.elapsed().into());
                append(record)?;
                say(&format!(
                    "epoch {}/{epochs_total} (step {}): {}",
                    epoch + 1,
                    self.step,
                    logs.line()
                ));
                if epoch_end {
                    let (mut ctx, callbacks) = self.context(dir, epoch + 1, lr);
                    for cb in callbacks.iter_mut() {
                        if let Control::Stop(r) = cb.on_epoch_end(&mut ctx, &logs)? {
                            control = Control::Stop(r);
                        }
                    }
                    history.epochs.push((epoch + 1, logs));
                    self.sums = EpochSums {
                        loss: 0.0,
                        examples: 0.0,
                    };
                    for m in &mut self.metrics {
                        m.reset();
                    }
                }
            }
            if let Some(path) = &checkpoint_path
                && self.checkpoint_every > 0
                && self.step.is_multiple_of(self.checkpoint_every)
            {
                self.checkpoint()?.save(path)?;
            }
            if let Control::Stop(reason) = control {
                say(&reason);
                stopped = Some(reason);
                break;
            }
        }
        progress.finish();
        let steps_per_sec = progress.rate(self.step);
        let seconds = progress.elapsed();
        // The checkpoint first: a callback may change the weights at the end (early
        // stopping's best weights), and a resumed run continues from where training was.
        if let Some(path) = &checkpoint_path {
            self.checkpoint()?.save(path)?;
        }
        {
            let (mut ctx, callbacks) = self.context(dir, self.step.div_ceil(per_epoch), lr);
            for cb in callbacks.iter_mut() {
                cb.on_train_end(&mut ctx)?;
            }
        }
        if let (Some(dir), Some(log)) = (dir, &metrics_log) {
            // The settings go along: a program loading the model may need them (a
            // vocabulary, a window length).
            let mut meta = vec![(crate::STEP_KEY.to_string(), self.step.to_string())];
            for (n, v) in self.all_settings() {
                meta.push((format!("setting.{n}"), v));
            }
            let meta: Vec<(&str, String)> =
                meta.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            save_weights(self.model, &self.name, &dir.join(MODEL_FILE), &meta)?;
            if !interrupted {
                chart(log, dir)?;
            }
        }
        Ok(FitEnd {
            history,
            steps: self.step,
            steps_per_sec,
            seconds,
            interrupted,
            stopped,
            validation: if interrupted { None } else { validation_logs },
            metrics: metrics_log,
        })
    }
}

/// One training step as [`Fit`] takes it: the forward pass in training mode, the loss,
/// backpropagation and the update of `params`. Returns the loss and the model's
/// outputs, both detached (no value is read back from the device).
pub fn train_step<B: Backend, M: Module<B> + ?Sized>(
    model: &M,
    optimizer: &mut dyn Optimizer<B>,
    loss: &dyn Loss<B>,
    params: &[nn::NamedParam<B>],
    x: &tensor::Tensor<B>,
    labels: &[usize],
) -> Result<(tensor::Tensor<B>, tensor::Tensor<B>)> {
    let y = model.forward(x, Mode::Train)?;
    let loss = loss.loss(&y, labels)?;
    let outputs = y.detach();
    drop(y);
    let value = optimizer.backward_step(loss, params)?;
    Ok((value, outputs))
}

/// `loss.png` (training and validation loss per epoch) and, when the run measured
/// accuracy, `accuracy.png`.
fn chart(log: &MetricsLog, dir: &Path) -> Result<()> {
    let rows = log.read_all()?;
    let epochs: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r.get("elapsed_sec").is_some())
        .collect();
    if epochs.is_empty() {
        return Ok(());
    }
    let series = |key: &str| -> crate::Series {
        crate::Series {
            name: key.into(),
            points: epochs
                .iter()
                .filter_map(|r| Some((r.get("step")?.as_f64()?, r.get(key)?.as_f64()?)))
                .collect(),
        }
    };
    for (file, key, title) in [
        ("loss.png", "loss", "loss"),
        ("accuracy.png", "accuracy", "accuracy"),
    ] {
        let train = series(key);
        if train.points.is_empty() {
            continue;
        }
        let mut all = vec![train];
        let val = series(&format!("val_{key}"));
        if !val.points.is_empty() {
            all.push(val);
        }
        crate::line_chart(&dir.join(file), title, "step", key, &all)?;
    }
    Ok(())
}

/// Loads weights written by [`save_weights`] (a `model.safetensors` or a
/// `best.safetensors`), or the model part of a fit run's `checkpoint.safetensors`,
/// into `model`.
pub fn load_weights<B: Backend>(
    model: &dyn Params<B>,
    backend: &B,
    path: &Path,
) -> Result<Checkpoint> {
    let ck = Checkpoint::load(path)?;
    let prefix = if ck.metadata.contains_key(FIT_STATE) {
        "model."
    } else {
        ""
    };
    ck.restore_module(prefix, model, backend)?;
    Ok(ck)
}
