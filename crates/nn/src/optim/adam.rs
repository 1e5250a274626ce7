//! Adam (Kingma & Ba) as Keras implements it.

use super::{Optimizer, load_pair_state, pair_state, updatable};
use crate::NamedParam;
use std::collections::HashMap;
use tensor::{AdamStep, Backend, Gradients, Result, Tensor, adam_step};

/// Keras `Adam`: defaults lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7.
///
/// Step t: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
/// `p -= lr sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + epsilon)`, one fused kernel per tensor.
pub struct Adam<B: Backend> {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    t: u64,
    moments: HashMap<String, (Tensor<B>, Tensor<B>)>,
    backend: Option<B>,
    allow_missing: bool,
}

/// The suffixes of the two moments in [`Optimizer::state`].
const MOMENTS: (&str, &str) = ("/m", "/v");

impl<B: Backend> Default for Adam<B> {
    /// Keras defaults: lr 0.001.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<B: Backend> Adam<B> {
    /// Adam with learning rate `lr` and Keras defaults otherwise.
    pub fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
            t: 0,
            moments: HashMap::new(),
            backend: None,
            allow_missing: false,
        }
    }

    /// Sets beta1 (the GAN recipes use 0.5).
    pub fn beta1(mut self, beta1: f32) -> Self {
        self.beta1 = beta1;
        self
    }

    /// Sets beta2.
    pub fn beta2(mut self, beta2: f32) -> Self {
        self.beta2 = beta2;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }
}

impl<B: Backend> Adam<B> {
    /// Skips trainable parameters that got no gradient instead of failing (see
    /// [`Optimizer`]): for a model where some weights legitimately sit out a step.
    pub fn allow_missing_gradients(mut self) -> Self {
        self.allow_missing = true;
        self
    }
}

impl<B: Backend> Optimizer<B> for Adam<B> {
    fn step(&mut self, params: &[NamedParam<B>], grads: &Gradients<B>) -> Result<()> {
        self.t += 1;
        let t = self.t as f64;
        let lr_t = self.lr as f64 * (1.0 - (self.beta2 as f64).powf(t)).sqrt()
            / (1.0 - (self.beta1 as f64).powf(t));
        let step = AdamStep {
            lr_t: lr_t as f32,
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
        };
        for ((name, param), grad) in updatable("Adam", params, grads, self.allow_missing)? {
            if !self.moments.contains_key(name) {
                let value = param.value();
                self.backend.get_or_insert_with(|| value.backend().clone());
                self.moments
                    .insert(name.clone(), (value.zeros_like()?, value.zeros_like()?));
            }
            let (m, v) = self.moments.get_mut(name).expect("inserted above");
            // In place when the graph that used the parameter has been dropped.
            param.update(|p| adam_step(p, grad, m, v, step))?;
        }
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
        pair_state(&self.moments, MOMENTS, self.backend.as_ref(), self.t)
    }

    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()> {
        let loaded = load_pair_state("Adam::load_state", MOMENTS, "moments m and v", state)?;
        // Only a complete, valid state replaces the current one.
        self.moments = loaded.pairs;
        self.t = loaded.iterations;
        if loaded.backend.is_some() {
            self.backend = loaded.backend;
        }
        Ok(())
    }
}
