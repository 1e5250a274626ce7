//! Adam (Kingma & Ba) as Keras implements it.

use super::Optimizer;
use crate::NamedParam;
use std::collections::HashMap;
use tensor::{AdamStep, Backend, Error, Gradients, Result, Tensor, adam_step};

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
        for (name, param) in params {
            if !param.is_trainable() {
                continue;
            }
            let Some(grad) = param.grad(grads) else {
                continue;
            };
            let value = param.value();
            let (m, v) = match self.moments.remove(name) {
                Some(mv) => mv,
                None => (value.zeros_like()?, value.zeros_like()?),
            };
            let (p, m, v) = adam_step(&value, grad, &m, &v, step)?;
            param.set(p);
            self.moments.insert(name.clone(), (m, v));
        }
        Ok(())
    }

    fn iterations(&self) -> u64 {
        self.t
    }

    fn state(&self) -> Result<Vec<(String, Tensor<B>)>> {
        let mut out = Vec::new();
        let mut names: Vec<&String> = self.moments.keys().collect();
        names.sort();
        for name in names {
            let (m, v) = &self.moments[name];
            out.push((format!("{name}/m"), m.clone()));
            out.push((format!("{name}/v"), v.clone()));
        }
        let first = self.moments.values().next().map(|(m, _)| m.backend().clone());
        if let Some(be) = first {
            // The step count as f32 is exact up to 2^24 steps; stored as two halves to be exact to 2^48.
            let hi = (self.t >> 24) as f32;
            let lo = (self.t & 0xff_ffff) as f32;
            out.push(("iterations".into(), Tensor::from_vec(&be, vec![hi, lo], [2])?));
        }
        Ok(out)
    }

    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()> {
        let mut halves: HashMap<String, (Option<Tensor<B>>, Option<Tensor<B>>)> = HashMap::new();
        self.moments.clear();
        self.t = 0;
        for (name, t) in state {
            if name == "iterations" {
                let v = t.to_vec()?;
                if v.len() != 2 {
                    return Err(Error::argument("Adam::load_state", "bad iterations tensor"));
                }
                self.t = ((v[0] as u64) << 24) | v[1] as u64;
            } else if let Some(p) = name.strip_suffix("/m") {
                halves.entry(p.to_string()).or_default().0 = Some(t);
            } else if let Some(p) = name.strip_suffix("/v") {
                halves.entry(p.to_string()).or_default().1 = Some(t);
            } else {
                return Err(Error::argument(
                    "Adam::load_state",
                    format!("unexpected state tensor {name}"),
                ));
            }
        }
        for (name, (m, v)) in halves {
            match (m, v) {
                (Some(m), Some(v)) => {
                    self.moments.insert(name, (m, v));
                }
                _ => {
                    return Err(Error::argument(
                        "Adam::load_state",
                        format!("{name}: needs both moments m and v"),
                    ));
                }
            }
        }
        Ok(())
    }
}
