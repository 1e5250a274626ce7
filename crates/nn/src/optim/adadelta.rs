//! Adadelta (Zeiler 2012), as Keras implements it.

use super::{Optimizer, load_pair_state, pair_state, slot, updatable};
use crate::NamedParam;
use std::collections::HashMap;
use tensor::{Backend, Error, Gradients, Result, Tensor, no_grad};

/// Keras `Adadelta`: defaults lr 0.001, rho 0.95, epsilon 1e-7. (Keras 2, and the
/// examples of its era such as `mnist_transfer_cnn`, used lr 1.0.)
///
/// With `rms(x) = sqrt(x + epsilon)`, per parameter:
/// `a = rho a + (1 - rho) g^2`, `d = -rms(D) / rms(a) * g`,
/// `D = rho D + (1 - rho) d^2`, `p += lr d`.
pub struct Adadelta<B: Backend> {
    pub lr: f32,
    pub rho: f32,
    pub epsilon: f32,
    t: u64,
    /// Per parameter: the average of squared gradients and of squared updates.
    slots: HashMap<String, (Tensor<B>, Tensor<B>)>,
    backend: Option<B>,
    allow_missing: bool,
}

impl<B: Backend> Default for Adadelta<B> {
    /// Keras 3 defaults: lr 0.001.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<B: Backend> Adadelta<B> {
    /// Adadelta with learning rate `lr` and Keras defaults otherwise.
    pub fn new(lr: f32) -> Self {
        Adadelta {
            lr,
            rho: 0.95,
            epsilon: 1e-7,
            t: 0,
            slots: HashMap::new(),
            backend: None,
            allow_missing: false,
        }
    }

    /// Sets rho, the decay of both averages.
    pub fn rho(mut self, rho: f32) -> Self {
        self.rho = rho;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Skips trainable parameters without a gradient instead of failing.
    pub fn allow_missing_gradients(mut self) -> Self {
        self.allow_missing = true;
        self
    }
}

const GRAD: &str = "/accum_grad";
const DELTA: &str = "/accum_delta";

impl<B: Backend> Optimizer<B> for Adadelta<B> {
    fn step(&mut self, params: &[NamedParam<B>], grads: &Gradients<B>) -> Result<()> {
        let (lr, rho, eps) = (self.lr, self.rho, self.epsilon);
        no_grad(|| -> Result<()> {
            for ((name, param), g) in updatable("Adadelta", params, grads, self.allow_missing)? {
                let p = param.value();
                self.backend.get_or_insert_with(|| p.backend().clone());
                let (a, d_acc) = match self.slots.get(name) {
                    Some((a, d)) if a.shape() == p.shape() => (a.clone(), d.clone()),
                    Some((a, _)) => {
                        return Err(Error::shape(
                            "Adadelta",
                            &[p.shape(), a.shape()],
                            format!("state of parameter {name} does not match its shape"),
                        ));
                    }
                    None => {
                        let z = slot("Adadelta", &HashMap::new(), name, &p)?;
                        (z.clone(), z)
                    }
                };
                let a = a
                    .mul_scalar(rho)?
                    .add(&g.square()?.mul_scalar(1.0 - rho)?)?;
                let delta = d_acc
                    .add_scalar(eps)?
                    .sqrt()?
                    .div(&a.add_scalar(eps)?.sqrt()?)?
                    .mul(g)?
                    .neg()?;
                let d_acc = d_acc
                    .mul_scalar(rho)?
                    .add(&delta.square()?.mul_scalar(1.0 - rho)?)?;
                param.set(p.add(&delta.mul_scalar(lr)?)?);
                self.slots.insert(name.clone(), (a, d_acc));
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
        pair_state(&self.slots, (GRAD, DELTA), self.backend.as_ref(), self.t)
    }

    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()> {
        let loaded = load_pair_state("Adadelta::load_state", (GRAD, DELTA), "accumulators", state)?;
        self.slots = loaded.pairs;
        self.t = loaded.iterations;
        if loaded.backend.is_some() {
            self.backend = loaded.backend;
        }
        Ok(())
    }
}
