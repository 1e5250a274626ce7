//! Nearest-neighbour upsampling layer (NHWC).

use crate::{Mode, Module, Params};
use tensor::{Backend, Result, Tensor};

/// Keras `UpSampling2D(size)`: repeats every row `size.0` times and every column
/// `size.1` times, `[n, h, w, c] -> [n, h * size.0, w * size.1, c]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpSampling2d {
    pub size: (usize, usize),
}

impl UpSampling2d {
    /// Upsampling by integer factors `(rows, columns)` (Keras' default is `(2, 2)`).
    pub fn new(size: (usize, usize)) -> Self {
        UpSampling2d { size }
    }
}

impl<B: Backend> Params<B> for UpSampling2d {}

impl<B: Backend> Module<B> for UpSampling2d {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        x.upsample_nearest2d(self.size.0, self.size.1)
    }

    fn kind(&self) -> String {
        "UpSampling2D".into()
    }
}
