//! TimeDistributed wrapper.

use crate::{Mode, Module, NamedParam, Params};
use tensor::{Backend, Error, Result, Tensor};

/// Keras `TimeDistributed(layer)`: applies `inner` to every time step of
/// `[batch, time, ...]` (one call on `[batch * time, ...]`, then the time axis is restored).
///
/// The parameters are the inner layer's, shared by every step.
pub struct TimeDistributed<M> {
    pub inner: M,
}

impl<M> TimeDistributed<M> {
    /// Wraps `inner`.
    pub fn new(inner: M) -> Self {
        TimeDistributed { inner }
    }
}

/// The wrapped layer's parameters, under its own names (as Keras).
impl<B: Backend, M: Params<B>> Params<B> for TimeDistributed<M> {
    fn params(&self) -> Vec<NamedParam<B>> {
        self.inner.params()
    }
}

impl<B: Backend, M: Module<B>> Module<B> for TimeDistributed<M> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        if x.rank() < 3 {
            return Err(Error::shape(
                "TimeDistributed",
                &[x.shape()],
                "needs input [batch, time, ...]",
            ));
        }
        let (batch, time) = (x.dims()[0], x.dims()[1]);
        let mut folded = vec![batch * time];
        folded.extend_from_slice(&x.dims()[2..]);
        let y = self.inner.forward(&x.reshape(folded)?, mode)?;
        if y.rank() == 0 || y.dims()[0] != batch * time {
            return Err(Error::shape(
                "TimeDistributed",
                &[x.shape(), y.shape()],
                format!(
                    "the inner {} must keep the leading dimension {}",
                    self.inner.kind(),
                    batch * time
                ),
            ));
        }
        let mut dims = vec![batch, time];
        dims.extend_from_slice(&y.dims()[1..]);
        y.reshape(dims)
    }

    fn kind(&self) -> String {
        "TimeDistributed".into()
    }
}
