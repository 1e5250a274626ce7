//! Stochastic gradient descent with momentum, as Keras implements it.

use super::{Optimizer, decayed_lr, load_slot_state, slot, slot_state, updatable};
use crate::NamedParam;
use std::collections::HashMap;
use tensor::{Backend, Gradients, Result, Tensor, no_grad};

/// Keras `SGD`: defaults lr 0.01, momentum 0, Nesterov off, decay 0.
///
/// With `lr_t = lr / (1 + decay * iterations)`: `v = momentum v - lr_t g`, then
/// `p += v`, or with Nesterov `p += momentum v - lr_t g`. Without momentum this is
/// `p -= lr_t g` and keeps no state but the step count.
pub struct Sgd<B: Backend> {
    pub lr: f32,
    pub momentum: f32,
    pub nesterov: bool,
    /// Keras 2's legacy time-based learning-rate decay.
    pub decay: f32,
    t: u64,
    velocities: HashMap<String, Tensor<B>>,
    backend: Option<B>,
    allow_missing: bool,
}

impl<B: Backend> Default for Sgd<B> {
    /// Keras defaults: lr 0.01, no momentum.
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl<B: Backend> Sgd<B> {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            nesterov: false,
            decay: 0.0,
            t: 0,
            velocities: HashMap::new(),
            backend: None,
            allow_missing: false,
        }
    }

    /// Sets the momentum.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Switches Nesterov momentum on or off.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Sets the time-based decay of the learning rate.
    pub fn decay(mut self, decay: f32) -> Self {
        self.decay = decay;
        self
    }
}

impl<B: Backend> Sgd<B> {
    /// Skips trainable parameters that got no gradient instead of failing (see
    /// [`Optimizer`]): for a model where some weights legitimately sit out a step.
    pub fn allow_missing_gradients(mut self) -> Self {
        self.allow_missing = true;
        self
    }
}

impl<B: Backend> Optimizer<B> for Sgd<B> {
    fn step(&mut self, params: &[NamedParam<B>], grads: &Gradients<B>) -> Result<()> {
        let lr = decayed_lr(self.lr, self.decay, self.t);
        let m = self.momentum;
        no_grad(|| -> Result<()> {
            for ((name, param), g) in updatable("SGD", params, grads, self.allow_missing)? {
                let p = param.value();
                self.backend.get_or_insert_with(|| p.backend().clone());
                let lr_g = g.mul_scalar(lr)?;
                if m == 0.0 {
                    param.set(p.sub(&lr_g)?);
                    continue;
                }
                let v = slot("SGD", &self.velocities, name, &p)?
                    .mul_scalar(m)?
                    .sub(&lr_g)?;
                let new_p = if self.nesterov {
                    p.add(&v.mul_scalar(m)?)?.sub(&lr_g)?
                } else {
                    p.add(&v)?
                };
                param.set(new_p);
                self.velocities.insert(name.clone(), v);
            }
            Ok(())
        })?;
        self.t += 1;
        Ok(())
    }

    fn learning_rate(&self) -> f32 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn iterations(&self) -> u64 {
        self.t
    }

    fn state(&self) -> Result<Vec<(String, Tensor<B>)>> {
        slot_state(&self.velocities, "momentum", self.backend.as_ref(), self.t)
    }

    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()> {
        let loaded = load_slot_state("SGD::load_state", "momentum", state)?;
        if loaded.backend.is_some() {
            self.backend = loaded.backend;
        }
        self.velocities = loaded.slots;
        self.t = loaded.iterations;
        Ok(())
    }
}
