//! 2-D convolution layer (NHWC input, HWIO kernel).

use crate::{Activation, Init, Mode, Module, NamedParam, Param, Seeds};
use tensor::{Backend, Error, Padding, Result, Tensor};

/// `y = activation(conv2d(x, kernel) + bias)` (Keras `Conv2D`).
///
/// Input `[n, h, w, in_channels]`, kernel `[kh, kw, in_channels, filters]`, output
/// `[n, out_h, out_w, filters]`. Keras defaults: stride 1, `Padding::Valid`,
/// Glorot-uniform kernel, zero bias, no activation.
pub struct Conv2d<B: Backend> {
    pub kernel: Param<B>,
    pub bias: Option<Param<B>>,
    pub stride: (usize, usize),
    pub padding: Padding,
    pub activation: Activation,
}

impl<B: Backend> Conv2d<B> {
    /// `filters` filters of `kernel_size` over `in_channels` channels, Keras defaults otherwise.
    pub fn new(
        backend: &B,
        in_channels: usize,
        filters: usize,
        kernel_size: (usize, usize),
        seeds: &mut Seeds,
    ) -> Result<Self> {
        Self::with_init(
            backend,
            in_channels,
            filters,
            kernel_size,
            Init::GlorotUniform,
            true,
            seeds,
        )
    }

    /// Full control over the kernel initializer and the bias.
    pub fn with_init(
        backend: &B,
        in_channels: usize,
        filters: usize,
        kernel_size: (usize, usize),
        init: Init,
        use_bias: bool,
        seeds: &mut Seeds,
    ) -> Result<Self> {
        let (kh, kw) = kernel_size;
        if kh == 0 || kw == 0 || in_channels == 0 || filters == 0 {
            return Err(Error::argument(
                "Conv2d",
                format!(
                    "kernel {kernel_size:?}, {in_channels} input channels and {filters} filters must all be positive"
                ),
            ));
        }
        let kernel =
            Param::new(init.make(backend, &[kh, kw, in_channels, filters], seeds.next())?);
        let bias = if use_bias {
            Some(Param::new(Tensor::zeros(backend, [filters])?))
        } else {
            None
        };
        Ok(Conv2d {
            kernel,
            bias,
            stride: (1, 1),
            padding: Padding::Valid,
            activation: Activation::Linear,
        })
    }

    /// Sets the stride `(rows, columns)`.
    pub fn stride(mut self, stride: (usize, usize)) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the padding (`Valid` or `Same`, TensorFlow semantics).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Sets the activation applied after the bias.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Number of output channels.
    pub fn filters(&self) -> usize {
        self.kernel.value().dims().last().copied().unwrap_or(0)
    }
}

impl<B: Backend> Module<B> for Conv2d<B> {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        let mut y = x.conv2d(&self.kernel.value(), self.stride, self.padding)?;
        if let Some(b) = &self.bias {
            y = y.add(&b.value())?;
        }
        self.activation.apply(&y)
    }

    fn kind(&self) -> String {
        "Conv2D".into()
    }

    fn params(&self) -> Vec<NamedParam<B>> {
        let mut p = vec![("kernel".to_string(), self.kernel.clone())];
        if let Some(b) = &self.bias {
            p.push(("bias".to_string(), b.clone()));
        }
        p
    }
}
