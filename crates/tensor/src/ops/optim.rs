//! Fused optimizer updates on raw tensors (no autograd).

use crate::{AdamStep, Backend, Error, Result, RmsPropStep, Tensor};

/// One fused Adam step, updating `param`, `m` and `v` in place.
///
/// In place means no copy when each tensor is the only handle to its data (the
/// usual case for an optimizer's parameters and moments once the graph that used
/// them is dropped); otherwise the tensor is first replaced by a private copy, so
/// other handles keep the old values.
pub fn adam_step<B: Backend>(
    param: &mut Tensor<B>,
    grad: &Tensor<B>,
    m: &mut Tensor<B>,
    v: &mut Tensor<B>,
    step: AdamStep,
) -> Result<()> {
    if grad.shape() != param.shape() || m.shape() != param.shape() || v.shape() != param.shape() {
        return Err(Error::shape(
            "adam_step",
            &[param.shape(), grad.shape(), m.shape(), v.shape()],
            "parameter, gradient and moments must have one shape",
        ));
    }
    let be = param.backend().clone();
    let len = param.numel();
    be.adam_step(
        param.storage_mut(),
        grad.storage(),
        m.storage_mut(),
        v.storage_mut(),
        len,
        step,
    )
}

/// One fused RMSprop step, updating `param` and its accumulator `acc` in place
/// (clone-on-write as [`adam_step`]).
pub fn rmsprop_step<B: Backend>(
    param: &mut Tensor<B>,
    grad: &Tensor<B>,
    acc: &mut Tensor<B>,
    step: RmsPropStep,
) -> Result<()> {
    if grad.shape() != param.shape() || acc.shape() != param.shape() {
        return Err(Error::shape(
            "rmsprop_step",
            &[param.shape(), grad.shape(), acc.shape()],
            "parameter, gradient and accumulator must have one shape",
        ));
    }
    let be = param.backend().clone();
    let len = param.numel();
    be.rmsprop_step(
        param.storage_mut(),
        grad.storage(),
        acc.storage_mut(),
        len,
        step,
    )
}

/// `y = a * y + b * x`, in place (no autograd; clone-on-write as [`adam_step`]).
/// An exponential moving average of weights is `axpby(avg, decay, w, 1 - decay)`.
pub fn axpby<B: Backend>(y: &mut Tensor<B>, a: f32, x: &Tensor<B>, b: f32) -> Result<()> {
    if x.shape() != y.shape() {
        return Err(Error::shape(
            "axpby",
            &[y.shape(), x.shape()],
            "y and x must have one shape",
        ));
    }
    let be = y.backend().clone();
    let len = y.numel();
    be.axpby(y.storage_mut(), a, x.storage(), b, len)
}
