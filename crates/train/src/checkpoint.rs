//! Checkpoints of whole models: save, restore and resume, written once for every model.

use crate::{Error, Result};
use nn::Checkpoint;
use std::path::Path;

/// A model that can be saved into one checkpoint and resumed from it.
///
/// A model writes and reads only its own parts (weights, optimizer state, counters);
/// [`checkpoint_of`], [`restore`] and [`resume`] add and check what every model's
/// checkpoint carries: the model's name and the step count.
pub trait Checkpointed {
    /// The model's name, recorded in its checkpoints; another model's are refused.
    const MODEL: &'static str;
    /// Steps trained so far.
    fn steps_done(&self) -> u64;
    /// Adds everything needed to resume (weights, optimizer state, counters) to `ck`.
    fn save_parts(&self, ck: &mut Checkpoint) -> Result<()>;
    /// Restores what [`Checkpointed::save_parts`] wrote, and the step count `step`.
    fn restore_parts(&mut self, ck: &Checkpoint, step: u64) -> Result<()>;
    /// Settings that change what the checkpoint means (a target distribution, an
    /// activation, whether weights are averaged), by name: recorded when saving, and
    /// a resume with other values is refused.
    fn settings(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// Metadata key of a setting.
fn setting_key(name: &str) -> String {
    format!("setting.{name}")
}

/// Metadata key of the model name.
pub const MODEL_KEY: &str = "model";
/// Metadata key of the step count.
pub const STEP_KEY: &str = "step";

/// Everything needed to resume `model`.
pub fn checkpoint_of<M: Checkpointed + ?Sized>(model: &M) -> Result<Checkpoint> {
    let mut ck = Checkpoint::new();
    model.save_parts(&mut ck)?;
    let settings: Vec<(String, String)> = model
        .settings()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    stamp(&mut ck, M::MODEL, model.steps_done(), &settings);
    Ok(ck)
}

/// Records what every checkpoint carries: the model's name, its step count and the
/// settings that change what it means.
pub(crate) fn stamp(ck: &mut Checkpoint, model: &str, step: u64, settings: &[(String, String)]) {
    for (name, value) in settings {
        ck.metadata.insert(setting_key(name), value.clone());
    }
    ck.metadata.insert(MODEL_KEY.into(), model.into());
    ck.metadata.insert(STEP_KEY.into(), step.to_string());
}
/// Writes `model`'s checkpoint to `path` atomically.
pub fn save<M: Checkpointed + ?Sized>(model: &M, path: &Path) -> Result<()> {
    Ok(checkpoint_of(model)?.save(path)?)
}

/// Checks that `ck` is a checkpoint of `M` trained with `model`'s settings and
/// restores `model` from it.
pub fn restore<M: Checkpointed + ?Sized>(model: &mut M, ck: &Checkpoint) -> Result<()> {
    let settings: Vec<(String, String)> = model
        .settings()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    let step = check_stamp(ck, M::MODEL, &settings)?;
    model.restore_parts(ck, step)
}

/// Checks that `ck` was written by model `M` (before any part of it is read).
pub fn check_model<M: Checkpointed + ?Sized>(ck: &Checkpoint) -> Result<()> {
    check_named(ck, M::MODEL)
}

/// Checks that `ck` was written by the model called `model`.
pub(crate) fn check_named(ck: &Checkpoint, model: &str) -> Result<()> {
    match ck.metadata.get(MODEL_KEY).map(String::as_str) {
        Some(m) if m == model => Ok(()),
        found => Err(Error::Argument {
            what: "checkpoint",
            reason: format!(
                "{}: checkpoint was not written by the {model} model (it says {})",
                source(ck),
                found.unwrap_or("nothing")
            ),
        }),
    }
}

/// Checks what [`stamp`] wrote: the model's name and the settings (a setting the file
/// does not record is a warning, an unequal one an error naming both values); returns
/// the step count.
pub(crate) fn check_stamp(
    ck: &Checkpoint,
    model: &str,
    settings: &[(String, String)],
) -> Result<u64> {
    check_named(ck, model)?;
    let mut mismatched = Vec::new();
    for (name, value) in settings {
        match ck.metadata.get(&setting_key(name)) {
            Some(saved) if saved != value => {
                mismatched.push(format!("{name} {saved} (this run: {value})"));
            }
            Some(_) => {}
            // Written before settings were recorded: nothing to compare with.
            None => eprintln!(
                "warning: {} does not record the {name} it was trained with; \
                 assuming {value}",
                source(ck)
            ),
        }
    }
    if !mismatched.is_empty() {
        return Err(Error::Argument {
            what: "checkpoint",
            reason: format!(
                "{}: the checkpoint was trained with {}; resume with the same settings",
                source(ck),
                mismatched.join(", ")
            ),
        });
    }
    ck.metadata
        .get(STEP_KEY)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Argument {
            what: "checkpoint",
            reason: format!("{}: the checkpoint has no step count", source(ck)),
        })
}

/// The file a checkpoint came from, for messages.
pub(crate) fn source(ck: &Checkpoint) -> String {
    ck.source.clone().unwrap_or_else(|| "checkpoint".into())
}

/// Loads the checkpoint at `path` into `model` to continue its run, and says so.
pub fn resume<M: Checkpointed + ?Sized>(model: &mut M, path: &Path) -> Result<()> {
    restore(model, &Checkpoint::load(path)?)?;
    eprintln!(
        "resumed from {} at step {}",
        path.display(),
        model.steps_done()
    );
    Ok(())
}
