//! Optimizers with Keras semantics and defaults.

mod adadelta;
mod adam;
mod rmsprop;
mod sgd;

pub use adadelta::Adadelta;
pub use adam::Adam;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::NamedParam;
use std::collections::HashMap;
use tensor::{Backend, Error, Gradients, Result, Tensor};

/// Updates parameters from gradients.
///
/// A trainable parameter without a gradient is an error naming it (the loss did not
/// depend on it: a layer left out of the forward pass, a detached branch); an
/// optimizer built with `allow_missing_gradients()` skips such parameters instead, for
/// a model that means it. Frozen parameters are always skipped.
pub trait Optimizer<B: Backend> {
    /// One update of every trainable parameter in `params`.
    fn step(&mut self, params: &[NamedParam<B>], grads: &Gradients<B>) -> Result<()>;

    /// Backpropagates `loss`, drops its graph, then updates `params`; returns the loss
    /// value, detached.
    ///
    /// Taking the loss by value is what makes the update run in place: the graph
    /// holds the weights it read, and while it lives an update has to copy them first.
    /// Detach (or drop) any other tensor of the graph you keep, such as the logits.
    fn backward_step(&mut self, loss: Tensor<B>, params: &[NamedParam<B>]) -> Result<Tensor<B>> {
        let grads = loss.backward()?;
        let value = loss.detach();
        drop(loss);
        self.step(params, &grads)?;
        Ok(value)
    }

    /// Number of steps taken.
    fn iterations(&self) -> u64;

    /// The base learning rate (before any decay the optimizer applies itself).
    fn learning_rate(&self) -> f32;

    /// Sets the base learning rate, as learning-rate schedules and
    /// reduce-on-plateau do between steps.
    fn set_learning_rate(&mut self, lr: f32);

    /// The optimizer's state as named tensors (moments, ...), for checkpoints.
    fn state(&self) -> Result<Vec<(String, Tensor<B>)>>;

    /// Restores state saved by [`Optimizer::state`].
    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()>;
}

/// Name of the step counter in [`Optimizer::state`].
pub(super) const ITERATIONS: &str = "iterations";

/// The step count as a `[2]` tensor: f32 is exact only up to 2^24, so it is stored
/// as two 24-bit halves, exact up to 2^48 steps.
pub(super) fn iterations_tensor<B: Backend>(backend: &B, t: u64) -> Result<Tensor<B>> {
    let hi = (t >> 24) as f32;
    let lo = (t & 0xff_ffff) as f32;
    Tensor::from_vec(backend, vec![hi, lo], [2])
}

/// Reads a tensor written by [`iterations_tensor`].
pub(super) fn parse_iterations<B: Backend>(op: &'static str, t: &Tensor<B>) -> Result<u64> {
    let v = t.to_vec()?;
    let half = |x: f32| x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 16_777_216.0;
    if v.len() != 2 || !half(v[0]) || !half(v[1]) {
        return Err(Error::argument(
            op,
            format!("bad iterations tensor {v:?} (expected two whole numbers below 2^24)"),
        ));
    }
    Ok(((v[0] as u64) << 24) | v[1] as u64)
}

/// A parameter to update: its name and handle, and its gradient.
pub(super) type Update<'a, B> = (&'a NamedParam<B>, &'a Tensor<B>);

/// The parameters that take part in a step: the trainable ones, each with its
/// gradient (checked to have the parameter's shape). A trainable parameter without a
/// gradient is an error unless `allow_missing`, when it is left out.
pub(super) fn updatable<'a, B: Backend>(
    op: &'static str,
    params: &'a [NamedParam<B>],
    grads: &'a Gradients<B>,
    allow_missing: bool,
) -> Result<Vec<Update<'a, B>>> {
    let mut out = Vec::new();
    for named in params {
        let param = &named.1;
        if !param.is_trainable() {
            continue;
        }
        let Some(grad) = param.grad(grads) else {
            if allow_missing {
                continue;
            }
            return Err(Error::argument(
                op,
                format!(
                    "trainable parameter {} has no gradient: the loss does not depend on it \
                     (freeze it, leave it out of the step, or build the optimizer with \
                     allow_missing_gradients())",
                    named.0
                ),
            ));
        };
        let shape = param.value().shape().clone();
        if grad.shape() != &shape {
            return Err(Error::shape(
                op,
                &[&shape, grad.shape()],
                format!("gradient of {} does not match the parameter", named.0),
            ));
        }
        out.push((named, grad));
    }
    Ok(out)
}

/// A per-parameter slot (velocity, accumulator), zeros when first used; checks that
/// a restored slot fits the parameter.
pub(super) fn slot<B: Backend>(
    op: &'static str,
    slots: &HashMap<String, Tensor<B>>,
    name: &str,
    value: &Tensor<B>,
) -> Result<Tensor<B>> {
    match slots.get(name) {
        Some(s) if s.shape() == value.shape() => Ok(s.clone()),
        Some(s) => Err(Error::shape(
            op,
            &[value.shape(), s.shape()],
            format!("state of parameter {name} does not match its shape"),
        )),
        None => value.zeros_like(),
    }
}

/// State tensors of one-slot optimizers: `<param>/<suffix>` per slot, then the step count.
pub(super) fn slot_state<B: Backend>(
    slots: &HashMap<String, Tensor<B>>,
    suffix: &str,
    backend: Option<&B>,
    t: u64,
) -> Result<Vec<(String, Tensor<B>)>> {
    let mut names: Vec<&String> = slots.keys().collect();
    names.sort();
    let mut out: Vec<(String, Tensor<B>)> = names
        .into_iter()
        .map(|n| (format!("{n}/{suffix}"), slots[n].clone()))
        .collect();
    if let Some(be) = backend {
        out.push((ITERATIONS.into(), iterations_tensor(be, t)?));
    }
    Ok(out)
}

/// What [`load_slot_state`] parsed.
pub(super) struct SlotState<B: Backend> {
    pub slots: HashMap<String, Tensor<B>>,
    pub iterations: u64,
    /// The device the state lives on (from any of its tensors).
    pub backend: Option<B>,
}

/// Parses `<param>/<suffix>` slots and the step count written by [`slot_state`].
pub(super) fn load_slot_state<B: Backend>(
    op: &'static str,
    suffix: &str,
    state: Vec<(String, Tensor<B>)>,
) -> Result<SlotState<B>> {
    let mut slots = HashMap::new();
    let mut t = 0;
    let backend = state.first().map(|(_, t)| t.backend().clone());
    let ending = format!("/{suffix}");
    for (name, tensor) in state {
        if name == ITERATIONS {
            t = parse_iterations(op, &tensor)?;
        } else if let Some(p) = name.strip_suffix(&ending) {
            slots.insert(p.to_string(), tensor.detach());
        } else {
            return Err(Error::argument(
                op,
                format!("unexpected state tensor {name}"),
            ));
        }
    }
    Ok(SlotState {
        slots,
        iterations: t,
        backend,
    })
}

/// Keras' legacy time-based decay: `lr / (1 + decay * iterations)`, where
/// `iterations` counts the steps taken before this one.
pub(super) fn decayed_lr(lr: f32, decay: f32, iterations: u64) -> f32 {
    if decay == 0.0 {
        lr
    } else {
        (lr as f64 / (1.0 + decay as f64 * iterations as f64)) as f32
    }
}

/// Per-parameter pairs of slots (Adam's moments, Adadelta's accumulators).
pub(super) type SlotPairs<B> = HashMap<String, (Tensor<B>, Tensor<B>)>;

/// State tensors of two-slot optimizers: `<param><first>` and `<param><second>` per
/// parameter (sorted by name), then the step count.
pub(super) fn pair_state<B: Backend>(
    pairs: &SlotPairs<B>,
    (first, second): (&str, &str),
    backend: Option<&B>,
    t: u64,
) -> Result<Vec<(String, Tensor<B>)>> {
    let mut names: Vec<&String> = pairs.keys().collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = &pairs[name];
        out.push((format!("{name}{first}"), a.clone()));
        out.push((format!("{name}{second}"), b.clone()));
    }
    if let Some(be) = backend {
        out.push((ITERATIONS.into(), iterations_tensor(be, t)?));
    }
    Ok(out)
}

/// What [`load_pair_state`] parsed.
pub(super) struct PairState<B: Backend> {
    pub pairs: SlotPairs<B>,
    pub iterations: u64,
    /// The device the state lives on (from any of its tensors).
    pub backend: Option<B>,
}

/// Parses what [`pair_state`] wrote; a parameter with one slot of the two, or two of
/// different shapes, is an error naming `what` the pair is.
pub(super) fn load_pair_state<B: Backend>(
    op: &'static str,
    (first, second): (&str, &str),
    what: &str,
    state: Vec<(String, Tensor<B>)>,
) -> Result<PairState<B>> {
    type Halves<B> = (Option<Tensor<B>>, Option<Tensor<B>>);
    let backend = state.first().map(|(_, t)| t.backend().clone());
    let mut halves: HashMap<String, Halves<B>> = HashMap::new();
    let mut t = 0;
    for (name, tensor) in state {
        if name == ITERATIONS {
            t = parse_iterations(op, &tensor)?;
        } else if let Some(p) = name.strip_suffix(first) {
            halves.entry(p.to_string()).or_default().0 = Some(tensor.detach());
        } else if let Some(p) = name.strip_suffix(second) {
            halves.entry(p.to_string()).or_default().1 = Some(tensor.detach());
        } else {
            return Err(Error::argument(
                op,
                format!("unexpected state tensor {name}"),
            ));
        }
    }
    let mut pairs = HashMap::new();
    for (name, pair) in halves {
        match pair {
            (Some(a), Some(b)) if a.shape() == b.shape() => {
                pairs.insert(name, (a, b));
            }
            _ => {
                return Err(Error::argument(
                    op,
                    format!("{name}: needs both {what}, of one shape"),
                ));
            }
        }
    }
    Ok(PairState {
        pairs,
        iterations: t,
        backend,
    })
}
