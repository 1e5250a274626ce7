//! Public tensor ops, one file per family, each with its backward rule.

mod conv;
mod elementwise;
mod gather;
mod layout;
mod lstm;
mod matmul;
mod optim;
mod pool;
mod reduce;
mod resize;
mod softmax;

pub use conv::{Padding, activation_fuses};
pub use optim::{adam_step, axpby, rmsprop_step};
