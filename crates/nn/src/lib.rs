//! Layers, losses, optimizers, initializers and checkpoints with Keras semantics.
//!
//! Everything is generic over `B: Backend`: no layer knows which device it runs on.
//!
//! ```ignore
//! use nn::{Dense, Activation, Sequential, Seeds, Module, Mode};
//! let mut seeds = Seeds::new(42);
//! let model = Sequential::new()
//!     .add(Dense::new(&backend, 784, 128, &mut seeds)?.activation(Activation::Relu))
//!     .add(Dense::new(&backend, 128, 10, &mut seeds)?);
//! println!("{}", model.summary(&backend, &[784])?);
//! let logits = model.forward(&x, Mode::Train)?;
//! ```

pub mod checkpoint;
mod error;
mod init;
pub mod layers;
pub mod loss;
mod module;
pub mod optim;
mod param;
mod param_tree;
mod sequential;

pub use checkpoint::Checkpoint;
pub use error::{Error, Result};
pub use init::{Init, Seeds, fans};
pub use layers::*;
pub use module::{Mode, Module};
pub use optim::{Adadelta, Adam, Optimizer, RmsProp, Sgd};
pub use param::Param;
pub use param_tree::{LayerNames, NamedParam, Params, prefixed};
pub use sequential::{Sequential, format_shape};
/// Convolution and pooling padding (TensorFlow `VALID` / `SAME`), re-exported from `tensor`.
pub use tensor::Padding;

#[doc(hidden)]
pub mod __private {
    //! What [`crate::impl_params!`] names from the crates it expands in.
    pub use tensor::Backend;
}
