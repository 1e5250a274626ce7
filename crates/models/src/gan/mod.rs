//! The MLP GAN on MNIST (SEEDS.md section 1): the model and its step ([`model`]), and
//! the `gan` binary's driver ([`run`]).

mod model;
pub mod run;

pub use model::*;
