//! Fully connected layer.

use crate::{Activation, Init, Mode, Module, Param, Seeds};
use tensor::{Backend, Error, Result, Tensor};

/// `y = activation(x @ kernel + bias)`, kernel `[in, out]` (Keras `Dense`).
///
/// Inputs of rank > 2 are multiplied on their last axis, as Keras does.
pub struct Dense<B: Backend> {
    pub kernel: Param<B>,
    pub bias: Option<Param<B>>,
    pub activation: Activation,
    units: usize,
}

impl<B: Backend> Dense<B> {
    /// Glorot-uniform kernel, zero bias, no activation.
    pub fn new(backend: &B, input: usize, units: usize, seeds: &mut Seeds) -> Result<Self> {
        Self::with_init(backend, input, units, Init::GlorotUniform, true, seeds)
    }

    /// Full control over the kernel initializer and the bias.
    pub fn with_init(
        backend: &B,
        input: usize,
        units: usize,
        init: Init,
        use_bias: bool,
        seeds: &mut Seeds,
    ) -> Result<Self> {
        let kernel = Param::new(init.make(backend, &[input, units], seeds.next())?);
        let bias = if use_bias {
            Some(Param::new(Tensor::zeros(backend, [units])?))
        } else {
            None
        };
        Ok(Dense {
            kernel,
            bias,
            activation: Activation::Linear,
            units,
        })
    }

    /// Sets the activation applied after the affine map.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Output width.
    pub fn units(&self) -> usize {
        self.units
    }
}

crate::impl_params!(Dense { kernel, bias });

impl<B: Backend> Module<B> for Dense<B> {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        let kernel = self.kernel.value();
        // A kernel replaced by a tensor of another rank is an error below, not a panic.
        let fan_in = kernel.dims().first().copied().unwrap_or(0);
        if x.rank() < 2 || x.dims()[x.rank() - 1] != fan_in {
            return Err(Error::shape(
                "Dense",
                &[x.shape(), kernel.shape()],
                format!("input's last dimension must be {fan_in}"),
            ));
        }
        // One op when it can be: the bias and activation are applied while the
        // product's output is in cache.
        if let (Some(b), Some(act)) = (&self.bias, self.activation.fused()) {
            return x.matmul_bias_act(&kernel, &b.value(), act);
        }
        let mut y = x.matmul(&kernel)?;
        if let Some(b) = &self.bias {
            y = y.add(&b.value())?;
        }
        self.activation.apply(&y)
    }

    fn kind(&self) -> String {
        "Dense".into()
    }
}
