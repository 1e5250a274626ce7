//! RepeatVector layer.

use crate::{Mode, Module, Params};
use tensor::{Backend, Error, Result, Tensor};

/// Keras `RepeatVector(n)`: `[batch, features] -> [batch, n, features]`, every step a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepeatVector {
    pub n: usize,
}

impl RepeatVector {
    /// Repeats the input `n` times along a new time axis.
    pub fn new(n: usize) -> Self {
        RepeatVector { n }
    }
}

impl<B: Backend> Params<B> for RepeatVector {}

impl<B: Backend> Module<B> for RepeatVector {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        if x.rank() != 2 {
            return Err(Error::shape(
                "RepeatVector",
                &[x.shape()],
                "needs input [batch, features]",
            ));
        }
        let (batch, features) = (x.dims()[0], x.dims()[1]);
        x.unsqueeze(1)?.broadcast_to([batch, self.n, features])
    }

    fn kind(&self) -> String {
        "RepeatVector".into()
    }
}
