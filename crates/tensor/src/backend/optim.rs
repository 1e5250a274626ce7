//! The optim family: fused, in-place parameter updates.

use super::StorageOps;
use crate::Result;

/// Hyper-parameters of one fused Adam step (Keras semantics).
///
/// `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`,
/// `p = p - lr_t m / (sqrt(v) + epsilon)` where the caller has folded the bias
/// corrections into `lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub lr_t: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
}

/// Hyper-parameters of one fused RMSprop step (Keras semantics).
///
/// `a = a rho + g^2 (1 - rho)`, `p = p - g lr / sqrt(a + epsilon)`, or with
/// `epsilon_outside_sqrt` (Keras 2) `p = p - g lr / (sqrt(a) + epsilon)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropStep {
    pub lr: f32,
    pub rho: f32,
    pub epsilon: f32,
    pub epsilon_outside_sqrt: bool,
}

/// In-place optimizer updates.
pub trait OptimOps: StorageOps {
    /// One fused Adam step, updating `param`, `m` and `v` in place.
    ///
    /// The caller holds these storages exclusively (`&mut`); a backend whose storage
    /// handles are shared (reference-counted) copies first when another handle to
    /// the same buffer exists (clone-on-write), so no other tensor ever sees the change.
    fn adam_step(
        &self,
        param: &mut Self::Storage,
        grad: &Self::Storage,
        m: &mut Self::Storage,
        v: &mut Self::Storage,
        len: usize,
        step: AdamStep,
    ) -> Result<()>;

    /// One fused RMSprop step, updating `param` and the accumulator `acc` in place
    /// (clone-on-write as `adam_step`).
    fn rmsprop_step(
        &self,
        param: &mut Self::Storage,
        grad: &Self::Storage,
        acc: &mut Self::Storage,
        len: usize,
        step: RmsPropStep,
    ) -> Result<()>;

    /// `y = a * y + b * x` over the first `len` elements, in place (clone-on-write as
    /// `adam_step`). Running averages of weights use it.
    fn axpby(
        &self,
        y: &mut Self::Storage,
        a: f32,
        x: &Self::Storage,
        b: f32,
        len: usize,
    ) -> Result<()>;
}
