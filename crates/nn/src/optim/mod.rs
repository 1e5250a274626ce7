//! Optimizers with Keras semantics and defaults.

mod adam;

pub use adam::Adam;

use crate::NamedParam;
use tensor::{Backend, Gradients, Result, Tensor};

/// Updates parameters from gradients; skips frozen ones and those without a gradient.
pub trait Optimizer<B: Backend> {
    /// One update of every trainable parameter in `params` that has a gradient.
    fn step(&mut self, params: &[NamedParam<B>], grads: &Gradients<B>) -> Result<()>;

    /// Number of steps taken.
    fn iterations(&self) -> u64;

    /// The optimizer's state as named tensors (moments, ...), for checkpoints.
    fn state(&self) -> Result<Vec<(String, Tensor<B>)>>;

    /// Restores state saved by [`Optimizer::state`].
    fn load_state(&mut self, state: Vec<(String, Tensor<B>)>) -> Result<()>;
}
