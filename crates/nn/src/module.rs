//! The `Module` trait: the forward pass of every layer and model.

use crate::Params;
use std::any::Any;
use std::sync::atomic::AtomicU64;
use tensor::{Backend, Result, Tensor};

/// Training or inference: Dropout and BatchNorm behave differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

impl Mode {
    /// Whether this is training mode.
    pub fn is_train(self) -> bool {
        self == Mode::Train
    }
}

/// A layer or a model with one input: its forward pass and its kind.
///
/// The weights are the [`Params`] supertrait (a layer without weights implements it
/// with an empty body, a struct of modules with [`crate::impl_params!`]). A model whose
/// forward takes more than one input (a conditional generator) implements [`Params`]
/// alone and its own `forward`. Writing a custom layer: see the Antirectifier of the
/// `antirectifier` example (`crates/models/src/antirectifier/layer.rs`).
///
/// A module is `Any`, so code that walks a model (the ONNX and PyTorch exporters) can
/// see the concrete layer behind a `&dyn Module<B>` (`let any: &dyn Any = layer;`).
pub trait Module<B: Backend>: Params<B> + Send + Sync + Any {
    /// The forward pass.
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>>;

    /// The layer's kind, as Keras prints it (`Dense`, `Conv2D`, ...).
    fn kind(&self) -> String;

    /// Counters of the random draws the module makes in training (a Dropout layer's
    /// masks), by name. A checkpoint records them, so a resumed run draws the masks the
    /// uninterrupted run would have drawn. A container returns its children's.
    fn draw_counters(&self) -> Vec<(String, &AtomicU64)> {
        Vec::new()
    }
}

impl<B: Backend, M: Module<B> + ?Sized> Module<B> for Box<M> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        (**self).forward(x, mode)
    }
    fn kind(&self) -> String {
        (**self).kind()
    }
    fn draw_counters(&self) -> Vec<(String, &AtomicU64)> {
        (**self).draw_counters()
    }
}
