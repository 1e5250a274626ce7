//! Max and average pooling layers (NHWC).

use crate::{Mode, Module, Params};
use tensor::{Backend, Padding, Result, Tensor};

/// Keras `MaxPooling2D`: the largest value of each window.
///
/// The stride defaults to the pool size and the padding to `Valid`, as in Keras.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaxPool2d {
    pub pool_size: (usize, usize),
    pub stride: (usize, usize),
    pub padding: Padding,
}

impl MaxPool2d {
    /// Windows of `pool_size`, moved by `pool_size`, no padding.
    pub fn new(pool_size: (usize, usize)) -> Self {
        MaxPool2d {
            pool_size,
            stride: pool_size,
            padding: Padding::Valid,
        }
    }

    /// Sets the stride `(rows, columns)`.
    pub fn stride(mut self, stride: (usize, usize)) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the padding; padded cells never win a max.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
}

impl<B: Backend> Params<B> for MaxPool2d {}

impl<B: Backend> Module<B> for MaxPool2d {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        x.max_pool2d(self.pool_size, self.stride, self.padding)
    }

    fn kind(&self) -> String {
        "MaxPooling2D".into()
    }
}

/// Keras `AveragePooling2D`: the mean of each window.
///
/// The stride defaults to the pool size and the padding to `Valid`; with `Same`,
/// padded cells are not counted (TensorFlow semantics).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AvgPool2d {
    pub pool_size: (usize, usize),
    pub stride: (usize, usize),
    pub padding: Padding,
}

impl AvgPool2d {
    /// Windows of `pool_size`, moved by `pool_size`, no padding.
    pub fn new(pool_size: (usize, usize)) -> Self {
        AvgPool2d {
            pool_size,
            stride: pool_size,
            padding: Padding::Valid,
        }
    }

    /// Sets the stride `(rows, columns)`.
    pub fn stride(mut self, stride: (usize, usize)) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
}

impl<B: Backend> Params<B> for AvgPool2d {}

impl<B: Backend> Module<B> for AvgPool2d {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        x.avg_pool2d(self.pool_size, self.stride, self.padding)
    }

    fn kind(&self) -> String {
        "AveragePooling2D".into()
    }
}
