//! Keras' `Antirectifier`, written as a user writes their own layer.
//!
//! A custom layer is a type with two impls: `Params` (its weights; an empty impl for a
//! layer without any) and `Module` (`forward` and `kind`, the name `summary()` prints).
//! Keras' third part, `compute_output_shape`, is a plain method here, used to check
//! the input before any arithmetic. Nothing else is needed: `Sequential::add` takes
//! it, autograd differentiates its forward pass, and it runs on every backend because
//! it is made of tensor ops. (This file is also compiled into `nn`'s tests, which
//! check its gradients against finite differences.)

use nn::{Mode, Module, Params};
use tensor::{Backend, Error, Result, Tensor};

/// `x - mean(x, axis=1)`, then L2-normalised along axis 1, then
/// `concat(relu(x), relu(-x))`: the positive and the negative part of each centred,
/// normalised feature, so the output has twice the features of the input.
#[derive(Clone, Copy, Debug, Default)]
pub struct Antirectifier;

impl Antirectifier {
    /// The output-shape rule: `[batch, features]` becomes `[batch, 2 * features]`; any
    /// other rank is refused.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input {
            [batch, features] => Ok(vec![*batch, 2 * features]),
            _ => Err(Error::argument(
                "Antirectifier",
                format!("needs input [batch, features], got {input:?}"),
            )),
        }
    }
}

/// No weights.
impl<B: Backend> Params<B> for Antirectifier {}

impl<B: Backend> Module<B> for Antirectifier {
    fn forward(&self, x: &Tensor<B>, _mode: Mode) -> Result<Tensor<B>> {
        self.output_shape(x.dims())?;
        let centred = x.sub(&x.mean(&[1], true)?)?;
        // K.l2_normalize: x / sqrt(max(sum(x^2), 1e-12)), so a constant row gives zeros.
        let norm = centred
            .square()?
            .sum(&[1], true)?
            .clamp(1e-12, f32::INFINITY)?
            .sqrt()?;
        let unit = centred.div(&norm)?;
        Tensor::concat(&[unit.relu()?, unit.neg()?.relu()?], 1)
    }

    fn kind(&self) -> String {
        "Antirectifier".into()
    }
}
