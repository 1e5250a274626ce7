//! Callbacks with Keras' meanings: the best checkpoint by a monitored figure, early
//! stopping, reducing the learning rate on a plateau, and a user closure per batch or
//! per epoch.

use super::Logs;
use crate::{Error, Result};
use nn::{Checkpoint, Params};
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor};

/// What a callback sees and may change.
pub struct FitContext<'a, B: Backend> {
    pub backend: &'a B,
    /// The model being trained.
    pub model: &'a dyn Params<B>,
    /// The run's model name (in checkpoints).
    pub name: &'a str,
    /// The run directory (`None` for a run that writes no files).
    pub dir: Option<&'a Path>,
    /// Steps done.
    pub step: u64,
    /// The epoch (1-based): the one running, or the one that just ended.
    pub epoch: u64,
    /// The learning rate of the last step.
    pub lr: f32,
    /// The factor on the scheduled learning rate (what reduce-on-plateau lowers).
    pub lr_scale: &'a mut f32,
}

/// Whether training goes on after a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// Stop after this batch or epoch, for the reason given (printed and returned).
    Stop(String),
}

/// Code run by `fit` after every batch and every epoch (Keras `Callback`).
///
/// A callback with state (a best value, a patience count) saves it into the run's
/// checkpoint and reads it back on resume, so a resumed run decides as the
/// uninterrupted one would.
pub trait Callback<B: Backend> {
    /// A name unique among the run's callbacks (the key of its state in checkpoints).
    fn name(&self) -> String;

    /// After every training step; `logs` holds the epoch's running `loss` and metrics
    /// and this batch's alone as `batch_loss`, `batch_<metric>`.
    fn on_batch_end(&mut self, _ctx: &mut FitContext<B>, _logs: &Logs) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// After every epoch, with its training figures, the validation figures (`val_`)
    /// when there is a validation set, and `lr`.
    fn on_epoch_end(&mut self, _ctx: &mut FitContext<B>, _logs: &Logs) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// Once, when training ends for any reason but an error.
    fn on_train_end(&mut self, _ctx: &mut FitContext<B>) -> Result<()> {
        Ok(())
    }

    /// Adds the callback's state to the run's checkpoint.
    fn save_state(&self, _ck: &mut Checkpoint) -> Result<()> {
        Ok(())
    }

    /// Reads back what [`Callback::save_state`] wrote.
    fn load_state(&mut self, _ck: &Checkpoint) -> Result<()> {
        Ok(())
    }
}

/// Whether a smaller or a larger value of the monitored figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Min,
    Max,
    /// Keras `mode="auto"`: larger for accuracies (a name containing `acc`), smaller
    /// for everything else.
    Auto,
}

/// The monitored figure: its name, direction and the best value so far.
#[derive(Clone, Debug)]
struct Monitor {
    name: String,
    larger_is_better: bool,
    min_delta: f64,
    best: Option<f64>,
}

impl Monitor {
    fn new(name: &str, direction: Direction, min_delta: f64) -> Self {
        let larger_is_better = match direction {
            Direction::Min => false,
            Direction::Max => true,
            Direction::Auto => name.contains("acc"),
        };
        Monitor {
            name: name.into(),
            larger_is_better,
            min_delta: min_delta.abs(),
            best: None,
        }
    }

    /// The monitored value in `logs`; missing is an error naming what is there.
    fn value(&self, logs: &Logs) -> Result<f64> {
        logs.get(&self.name).ok_or_else(|| {
            Error::argument(
                "callback",
                format!(
                    "the monitored figure {} is not among the epoch's figures ({}); \
                     val_ figures need a validation set",
                    self.name,
                    logs.names().join(", ")
                ),
            )
        })
    }

    /// Whether `value` improves on the best by more than `min_delta`.
    fn improves(&self, value: f64) -> bool {
        match self.best {
            None => !value.is_nan(),
            Some(best) if self.larger_is_better => value - self.min_delta > best,
            Some(best) => value + self.min_delta < best,
        }
    }

    fn key(callback: &str) -> String {
        format!("callback.{callback}")
    }
}

/// Parses a callback's JSON state from checkpoint metadata.
fn read_state(ck: &Checkpoint, callback: &str) -> Result<Option<serde_json::Value>> {
    match ck.metadata.get(&Monitor::key(callback)) {
        None => Ok(None),
        Some(s) => serde_json::from_str(s).map(Some).map_err(|e| {
            Error::argument(
                "checkpoint",
                format!(
                    "{}: bad state of callback {callback}: {e}",
                    crate::checkpoint::source(ck)
                ),
            )
        }),
    }
}

fn get_u64(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// Writes the model's weights (only) to `path`, loadable with
/// [`crate::load_weights`]: what other programs read to use a trained model.
pub fn save_weights<B: Backend>(
    model: &dyn Params<B>,
    name: &str,
    path: &Path,
    metadata: &[(&str, String)],
) -> Result<()> {
    let mut ck = Checkpoint::new();
    for (n, p) in model.params() {
        let v = p.value();
        ck.tensors.insert(n, (v.dims().to_vec(), v.to_vec()?));
    }
    ck.metadata.insert(crate::MODEL_KEY.into(), name.into());
    for (k, v) in metadata {
        ck.metadata.insert((*k).into(), v.clone());
    }
    Ok(ck.save(path)?)
}

/// Keras `ModelCheckpoint(save_best_only=True)`: writes the model's weights to a file
/// (default `best.safetensors` in the run directory) after every epoch whose monitored
/// figure is the best so far.
#[derive(Clone, Debug)]
pub struct BestCheckpoint {
    monitor: Monitor,
    path: Option<PathBuf>,
}

impl BestCheckpoint {
    /// Watches `monitor` (e.g. `val_accuracy`), better in `direction`.
    pub fn new(monitor: &str, direction: Direction) -> Self {
        BestCheckpoint {
            monitor: Monitor::new(monitor, direction, 0.0),
            path: None,
        }
    }

    /// Writes to `path` instead of `<run directory>/best.safetensors`.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The best value so far.
    pub fn best(&self) -> Option<f64> {
        self.monitor.best
    }
}

impl<B: Backend> Callback<B> for BestCheckpoint {
    fn name(&self) -> String {
        "best_checkpoint".into()
    }

    fn on_epoch_end(&mut self, ctx: &mut FitContext<B>, logs: &Logs) -> Result<Control> {
        let value = self.monitor.value(logs)?;
        if self.monitor.improves(value) {
            self.monitor.best = Some(value);
            let path = match (&self.path, ctx.dir) {
                (Some(p), _) => p.clone(),
                (None, Some(dir)) => dir.join("best.safetensors"),
                (None, None) => {
                    return Err(Error::argument(
                        "best checkpoint",
                        "a run without files needs the checkpoint's path (BestCheckpoint::path)",
                    ));
                }
            };
            save_weights(
                ctx.model,
                ctx.name,
                &path,
                &[
                    ("epoch", ctx.epoch.to_string()),
                    (crate::STEP_KEY, ctx.step.to_string()),
                    (&self.monitor.name, value.to_string()),
                ],
            )?;
        }
        Ok(Control::Continue)
    }

    fn save_state(&self, ck: &mut Checkpoint) -> Result<()> {
        let state = serde_json::json!({ "best": self.monitor.best });
        ck.metadata
            .insert(Monitor::key(&Callback::<B>::name(self)), state.to_string());
        Ok(())
    }

    fn load_state(&mut self, ck: &Checkpoint) -> Result<()> {
        if let Some(v) = read_state(ck, &Callback::<B>::name(self))? {
            self.monitor.best = v.get("best").and_then(serde_json::Value::as_f64);
        }
        Ok(())
    }
}

/// A parameter's name, shape and values, copied to the host.
type HostParam = (String, Vec<usize>, Vec<f32>);

/// Keras `EarlyStopping`: stops when the monitored figure has not improved by more
/// than `min_delta` for `patience` epochs; with `restore_best_weights`, the model ends
/// with the weights of its best epoch.
pub struct EarlyStopping<B: Backend> {
    monitor: Monitor,
    patience: u64,
    wait: u64,
    restore_best_weights: bool,
    best_weights: Option<Vec<HostParam>>,
    _backend: std::marker::PhantomData<B>,
}

impl<B: Backend> EarlyStopping<B> {
    /// Stops after `patience` epochs without improvement of `monitor`.
    pub fn new(monitor: &str, direction: Direction, patience: u64) -> Self {
        EarlyStopping {
            monitor: Monitor::new(monitor, direction, 0.0),
            patience,
            wait: 0,
            restore_best_weights: false,
            best_weights: None,
            _backend: std::marker::PhantomData,
        }
    }

    /// An improvement must exceed this.
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.monitor.min_delta = min_delta.abs();
        self
    }

    /// Ends training with the weights of the best epoch.
    pub fn restore_best_weights(mut self) -> Self {
        self.restore_best_weights = true;
        self
    }

    fn snapshot(model: &dyn Params<B>) -> Result<Vec<HostParam>> {
        model
            .params()
            .into_iter()
            .map(|(n, p)| {
                let v = p.value();
                Ok((n, v.dims().to_vec(), v.to_vec()?))
            })
            .collect()
    }
}

const BEST_WEIGHTS: &str = "callback.early_stopping.best.";

impl<B: Backend> Callback<B> for EarlyStopping<B> {
    fn name(&self) -> String {
        "early_stopping".into()
    }

    fn on_epoch_end(&mut self, ctx: &mut FitContext<B>, logs: &Logs) -> Result<Control> {
        let value = self.monitor.value(logs)?;
        if self.monitor.improves(value) {
            self.monitor.best = Some(value);
            self.wait = 0;
            if self.restore_best_weights {
                self.best_weights = Some(Self::snapshot(ctx.model)?);
            }
            return Ok(Control::Continue);
        }
        self.wait += 1;
        // As Keras: never on the first epoch.
        if self.wait >= self.patience && ctx.epoch > 1 {
            return Ok(Control::Stop(format!(
                "early stopping: {} has not improved on {:.6} for {} epochs",
                self.monitor.name,
                self.monitor.best.unwrap_or(f64::NAN),
                self.wait
            )));
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, ctx: &mut FitContext<B>) -> Result<()> {
        if let (true, Some(best)) = (self.restore_best_weights, &self.best_weights) {
            let saved: std::collections::HashMap<&str, (&Vec<usize>, &Vec<f32>)> = best
                .iter()
                .map(|(n, shape, data)| (n.as_str(), (shape, data)))
                .collect();
            for (name, p) in ctx.model.params() {
                let Some((shape, data)) = saved.get(name.as_str()) else {
                    return Err(Error::argument(
                        "early stopping",
                        format!("no saved best value of parameter {name}"),
                    ));
                };
                p.set(Tensor::from_slice(ctx.backend, data, (*shape).clone())?);
            }
            eprintln!(
                "early stopping: restored the weights of the best epoch ({} {:.6})",
                self.monitor.name,
                self.monitor.best.unwrap_or(f64::NAN)
            );
        }
        Ok(())
    }

    fn save_state(&self, ck: &mut Checkpoint) -> Result<()> {
        let state = serde_json::json!({ "best": self.monitor.best, "wait": self.wait });
        ck.metadata
            .insert(Monitor::key(&Callback::<B>::name(self)), state.to_string());
        for (n, shape, data) in self.best_weights.iter().flatten() {
            ck.tensors
                .insert(format!("{BEST_WEIGHTS}{n}"), (shape.clone(), data.clone()));
        }
        Ok(())
    }

    fn load_state(&mut self, ck: &Checkpoint) -> Result<()> {
        if let Some(v) = read_state(ck, &Callback::<B>::name(self))? {
            self.monitor.best = v.get("best").and_then(serde_json::Value::as_f64);
            self.wait = get_u64(&v, "wait");
        }
        let saved = ck.with_prefix(BEST_WEIGHTS);
        if !saved.is_empty() {
            self.best_weights = Some(
                saved
                    .into_iter()
                    .map(|(n, (shape, data))| (n, shape.clone(), data.clone()))
                    .collect(),
            );
        }
        Ok(())
    }
}

/// Keras `ReduceLROnPlateau`: multiplies the learning rate by `factor` when the
/// monitored figure has not improved by more than `min_delta` for `patience` epochs,
/// then waits `cooldown` epochs before counting again; never below `min_lr`.
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateau {
    monitor: Monitor,
    factor: f32,
    patience: u64,
    cooldown: u64,
    min_lr: f32,
    wait: u64,
    cooldown_left: u64,
}

impl ReduceLrOnPlateau {
    /// Keras' defaults: factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0.
    pub fn new(monitor: &str, direction: Direction) -> Self {
        ReduceLrOnPlateau {
            monitor: Monitor::new(monitor, direction, 1e-4),
            factor: 0.1,
            patience: 10,
            cooldown: 0,
            min_lr: 0.0,
            wait: 0,
            cooldown_left: 0,
        }
    }

    /// The factor, in (0, 1).
    pub fn factor(mut self, factor: f32) -> Result<Self> {
        if !(factor > 0.0 && factor < 1.0) {
            return Err(Error::argument(
                "reduce-on-plateau",
                format!("factor {factor} must be above 0 and below 1"),
            ));
        }
        self.factor = factor;
        Ok(self)
    }

    pub fn patience(mut self, patience: u64) -> Self {
        self.patience = patience;
        self
    }

    pub fn cooldown(mut self, cooldown: u64) -> Self {
        self.cooldown = cooldown;
        self
    }

    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.monitor.min_delta = min_delta.abs();
        self
    }

    pub fn min_lr(mut self, min_lr: f32) -> Self {
        self.min_lr = min_lr.max(0.0);
        self
    }
}

impl<B: Backend> Callback<B> for ReduceLrOnPlateau {
    fn name(&self) -> String {
        "reduce_lr_on_plateau".into()
    }

    fn on_epoch_end(&mut self, ctx: &mut FitContext<B>, logs: &Logs) -> Result<Control> {
        let value = self.monitor.value(logs)?;
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.wait = 0;
        }
        if self.monitor.improves(value) {
            self.monitor.best = Some(value);
            self.wait = 0;
        } else if self.cooldown_left == 0 {
            self.wait += 1;
            if self.wait >= self.patience && ctx.lr > self.min_lr {
                let new_lr = (ctx.lr * self.factor).max(self.min_lr);
                *ctx.lr_scale *= new_lr / ctx.lr;
                eprintln!(
                    "epoch {}: reduce-on-plateau: learning rate {} -> {new_lr}",
                    ctx.epoch, ctx.lr
                );
                self.cooldown_left = self.cooldown;
                self.wait = 0;
            }
        }
        Ok(Control::Continue)
    }

    fn save_state(&self, ck: &mut Checkpoint) -> Result<()> {
        let state = serde_json::json!({
            "best": self.monitor.best,
            "wait": self.wait,
            "cooldown_left": self.cooldown_left,
        });
        ck.metadata
            .insert(Monitor::key(&Callback::<B>::name(self)), state.to_string());
        Ok(())
    }

    fn load_state(&mut self, ck: &Checkpoint) -> Result<()> {
        if let Some(v) = read_state(ck, &Callback::<B>::name(self))? {
            self.monitor.best = v.get("best").and_then(serde_json::Value::as_f64);
            self.wait = get_u64(&v, "wait");
            self.cooldown_left = get_u64(&v, "cooldown_left");
        }
        Ok(())
    }
}

/// A closure run after every batch (Keras `LambdaCallback(on_batch_end=...)`).
pub struct OnBatch<F>(pub F);

impl<B: Backend, F> Callback<B> for OnBatch<F>
where
    F: FnMut(&mut FitContext<B>, &Logs) -> Result<Control>,
{
    fn name(&self) -> String {
        "on_batch".into()
    }
    fn on_batch_end(&mut self, ctx: &mut FitContext<B>, logs: &Logs) -> Result<Control> {
        (self.0)(ctx, logs)
    }
}

/// A closure run after every epoch (Keras `LambdaCallback(on_epoch_end=...)`).
pub struct OnEpoch<F>(pub F);

impl<B: Backend, F> Callback<B> for OnEpoch<F>
where
    F: FnMut(&mut FitContext<B>, &Logs) -> Result<Control>,
{
    fn name(&self) -> String {
        "on_epoch".into()
    }
    fn on_epoch_end(&mut self, ctx: &mut FitContext<B>, logs: &Logs) -> Result<Control> {
        (self.0)(ctx, logs)
    }
}
