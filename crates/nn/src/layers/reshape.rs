//! Layers that only change the shape: Flatten and Reshape.

use crate::{Mode, Module, Params};
use tensor::{Backend, Error, Result, Tensor};

/// Keras `Flatten`: `[n, d1, d2, ...] -> [n, d1 * d2 * ...]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl<B: Backend> Params<B> for Flatten {}

impl<B: Backend> Module<B> for Flatten {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        if x.rank() == 0 {
            return Err(Error::shape(
                "Flatten",
                &[x.shape()],
                "needs a batch dimension",
            ));
        }
        x.flatten()
    }

    fn kind(&self) -> String {
        "Flatten".into()
    }
}

/// Keras `Reshape(target_shape)`: `[n, ...] -> [n, target...]`; the target excludes
/// the batch dimension and must hold as many elements per sample as the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reshape {
    pub target: Vec<usize>,
}

impl Reshape {
    /// Reshapes every sample to `target` (batch dimension excluded).
    pub fn new(target: &[usize]) -> Self {
        Reshape {
            target: target.to_vec(),
        }
    }
}

impl<B: Backend> Params<B> for Reshape {}

impl<B: Backend> Module<B> for Reshape {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        let per_sample: usize = x.dims().iter().skip(1).product();
        let wanted: usize = self.target.iter().product();
        if x.rank() == 0 || per_sample != wanted {
            return Err(Error::shape(
                "Reshape",
                &[x.shape()],
                format!(
                    "cannot reshape samples of {per_sample} elements to {:?} ({wanted} elements)",
                    self.target
                ),
            ));
        }
        let mut dims = vec![x.dims()[0]];
        dims.extend_from_slice(&self.target);
        x.reshape(dims)
    }

    fn kind(&self) -> String {
        "Reshape".into()
    }
}
