//! Activation functions and the layer that applies one.

use crate::{Mode, Module, Params};
use tensor::{Backend, Result, Tensor, UnaryOp};

/// An activation function, as Keras' `activation=` argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Linear,
    Relu,
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    /// Softmax over the last axis.
    Softmax,
}

impl Activation {
    /// The activation as a fused op's epilogue (`tensor::Tensor::conv2d_bias_act`):
    /// `Some(None)` for `Linear`, `Some(Some(op))` where the op's derivative follows
    /// from its output, `None` where it cannot be fused (softmax, a negative slope).
    pub fn fused(self) -> Option<Option<UnaryOp>> {
        let op = match self {
            Activation::Linear => return Some(None),
            Activation::Relu => UnaryOp::Relu,
            Activation::LeakyRelu(a) => UnaryOp::LeakyRelu(a),
            Activation::Sigmoid => UnaryOp::Sigmoid,
            Activation::Tanh => UnaryOp::Tanh,
            Activation::Softmax => return None,
        };
        tensor::activation_fuses(op).then_some(Some(op))
    }

    /// Applies the function.
    pub fn apply<B: Backend>(self, x: &Tensor<B>) -> Result<Tensor<B>> {
        match self {
            Activation::Linear => Ok(x.clone()),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(a) => x.leaky_relu(a),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Softmax => x.softmax(-1),
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Activation::Linear => "Activation",
            Activation::Relu => "ReLU",
            Activation::LeakyRelu(_) => "LeakyReLU",
            Activation::Sigmoid | Activation::Tanh | Activation::Softmax => "Activation",
        }
    }
}

/// A layer applying an [`Activation`] (Keras `ReLU()`, `LeakyReLU(alpha)`, `Activation('tanh')`).
#[derive(Clone, Copy, Debug)]
pub struct ActivationLayer(pub Activation);

impl ActivationLayer {
    /// The identity (Keras `Activation('linear')`).
    pub fn linear() -> Self {
        ActivationLayer(Activation::Linear)
    }

    /// Keras `ReLU()`.
    pub fn relu() -> Self {
        ActivationLayer(Activation::Relu)
    }

    /// Keras `LeakyReLU(alpha)` (Keras' default alpha is 0.3; the GANs use 0.2).
    pub fn leaky_relu(alpha: f32) -> Self {
        ActivationLayer(Activation::LeakyRelu(alpha))
    }

    /// Keras `Activation('sigmoid')`.
    pub fn sigmoid() -> Self {
        ActivationLayer(Activation::Sigmoid)
    }

    /// Keras `Activation('tanh')`.
    pub fn tanh() -> Self {
        ActivationLayer(Activation::Tanh)
    }

    /// Keras `Activation('softmax')`, over the last axis.
    pub fn softmax() -> Self {
        ActivationLayer(Activation::Softmax)
    }
}

impl From<Activation> for ActivationLayer {
    fn from(activation: Activation) -> Self {
        ActivationLayer(activation)
    }
}

impl<B: Backend> Params<B> for ActivationLayer {}

impl<B: Backend> Module<B> for ActivationLayer {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        self.0.apply(x)
    }
    fn kind(&self) -> String {
        self.0.kind().to_string()
    }
}
