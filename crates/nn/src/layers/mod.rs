//! Layers. Each file holds one layer (or a family of tiny ones).

mod activation;
mod batch_norm;
mod dense;

pub use activation::{Activation, ActivationLayer};
pub use batch_norm::BatchNorm;
pub use dense::Dense;
