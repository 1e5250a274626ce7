//! RMSprop (Hinton), as TensorFlow 2 / Keras 3 implement it (Keras 2's rule on request).

use super::{Optimizer, decayed_lr, load_slot_state, slot, slot_state, updatable};
use crate::NamedParam;
use std::collections::HashMap;
use tensor::{Backend, Gradients, Result, RmsPropStep, Tensor, rmsprop_step};

/// Keras 3 `RMSprop`: defaults lr 0.001, rho 0.9, epsilon 1e-7, decay 0 (and
/// Keras 3's momentum 0, centered false, which is the only variant implemented).
///
/// With `lr_t = lr / (1 + decay * iterations)` (Keras 2's legacy decay, used by
/// `cifar10_cnn`) and `a = rho a + (1 - rho) g^2`:
///
/// - by default, as TensorFlow's `ApplyRMSProp` and Keras 3:
///   `p -= lr_t g / sqrt(a + epsilon)`;
/// - with [`RmsProp::keras2_epsilon`], as standalone Keras 2 (the seed articles' era):
///   `p -= lr_t g / (sqrt(a) + epsilon)`.
///
/// The two differ where `a` is not much larger than `epsilon`, i.e. for gradients
/// below about `sqrt(epsilon)` (3e-4 with the default epsilon).
pub struct RmsProp<B: Backend> {
    pub lr: f32,
    pub rho: f32,
    pub epsilon: f32,
    /// Keras 2's legacy time-based learning-rate decay.
    pub decay: f32,
    /// Adds epsilon outside the square root (Keras 2) instead of inside (Keras 3).
    pub epsilon_outside_sqrt: bool,
    t: u64,
    accumulators: HashMap<String, Tensor<B>>,
    backend: Option<B>,
    allow_missing: bool,
}

impl<B: Backend> Default for RmsProp<B> {
    /// Keras defaults: lr 0.001.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<B: Backend> RmsProp<B> {
    /// RMSprop with learning rate `lr` and Keras defaults otherwise.
    pub fn new(lr: f32) -> Self {
        RmsProp {
            lr,
            rho: 0.9,
            epsilon: 1e-7,
            decay: 0.0,
            epsilon_outside_sqrt: false,
            t: 0,
            accumulators: HashMap::new(),
            backend: None,
            allow_missing: false,
        }
    }

    /// Sets rho, the decay of the squared-gradient average.
    pub fn rho(mut self, rho: f32) -> Self {
        self.rho = rho;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Standalone Keras 2's rule: divides by `sqrt(a) + epsilon` instead of
    /// `sqrt(a + epsilon)` (what the Keras 2 era examples were trained with).
    pub fn keras2_epsilon(mut self) -> Self {
        self.epsilon_outside_sqrt = true;
        self
    }

    /// Sets the time-based decay of the learning rate (`cifar10_cnn` uses 1e-6).
    pub fn decay(mut self, decay: f32) -> Self {
        self.decay = decay;
        self
    }
}

impl<B: Backend> RmsProp<B> {
    /// Skips trainable parameters that got no gradient instead of failing (see
    /// [`Optimizer`]): for a model where some weights legitimately sit out a step.
    pub fn allow_missing_gradients(mut self) -> Self {
        self.allow_missing = true;
        self
    }
}

impl<B: Backend> Optimizer<B> for RmsProp<B> {
    fn step(&mut self, params: &[NamedParam<B>], grads: &Gradients<B>) -> Result<()> {
        let step = RmsPropStep {
            lr: decayed_lr(self.lr, self.decay, self.t),
            rho: self.rho,
            epsilon: self.epsilon,
            epsilon_outside_sqrt: self.epsilon_outside_sqrt,
        };
        for ((name, param), g) in updatable("RMSprop", params, grads, self.allow_missing)? {
            let mut acc = {
                let p = param.value();
                self.backend.get_or_insert_with(|| p.backend().clone());
                slot("RMSprop", &self.accumulators, name, &p)?
            };
            // The map's handle goes, so the fused step updates the accumulator in place
            // (and the parameter too, once the graph that used it has been dropped).
            self.accumulators.remove(name);
            let updated = param.update(|p| rmsprop_step(p, g, &mut acc, step));
            self.accumulators.insert(name.clone(), acc);
            updated?;
        }
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
        slot_state(&self.accumulators, "rms", self.backend.as_ref(), self.t)
    }

    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()> {
        let loaded = load_slot_state("RMSprop::load_state", "rms", state)?;
        if loaded.backend.is_some() {
            self.backend = loaded.backend;
        }
        self.accumulators = loaded.slots;
        self.t = loaded.iterations;
        Ok(())
    }
}
