//! Fused optimizer updates on raw tensors (no autograd).

use crate::{AdamStep, Backend, Error, Result, Tensor};

/// One fused Adam step: returns the new `(param, m, v)` as untracked tensors.
pub fn adam_step<B: Backend>(
    param: &Tensor<B>,
    grad: &Tensor<B>,
    m: &Tensor<B>,
    v: &Tensor<B>,
    step: AdamStep,
) -> Result<(Tensor<B>, Tensor<B>, Tensor<B>)> {
    if grad.shape() != param.shape() || m.shape() != param.shape() || v.shape() != param.shape() {
        return Err(Error::shape(
            "adam_step",
            &[param.shape(), grad.shape(), m.shape(), v.shape()],
            "parameter, gradient and moments must have one shape",
        ));
    }
    let be = param.backend();
    let (p, m, v) = be.adam_step(
        param.storage(),
        grad.storage(),
        m.storage(),
        v.storage(),
        param.numel(),
        step,
    )?;
    let shape = param.shape().clone();
    Ok((
        Tensor::from_storage(be, p, shape.clone()),
        Tensor::from_storage(be, m, shape.clone()),
        Tensor::from_storage(be, v, shape),
    ))
}
