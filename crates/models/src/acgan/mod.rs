//! The auxiliary-classifier GAN of Keras' `mnist_acgan` (SEEDS.md section 8): the
//! model and its step ([`model`]), and the `acgan` binary's driver ([`run`]).

mod model;
pub mod run;

pub use model::*;
