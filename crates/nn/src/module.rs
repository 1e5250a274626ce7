//! The `Module` trait: what every layer and model implements.

use crate::Param;
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

/// A named parameter of a module tree, e.g. `dense_1.kernel`.
pub type NamedParam<B> = (String, Param<B>);

/// A layer or a model: a forward pass plus named parameters.
///
/// Writing a custom layer takes `forward` and `kind`; override `params` when it
/// has weights. See the Antirectifier example in `nn`'s tests.
pub trait Module<B: Backend>: Send + Sync {
    /// The forward pass.
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>>;

    /// The layer's kind, as Keras prints it (`Dense`, `Conv2D`, ...).
    fn kind(&self) -> String;

    /// Parameters with names relative to this module.
    fn params(&self) -> Vec<NamedParam<B>> {
        Vec::new()
    }

    /// Freezes or unfreezes every weight of this module (Keras `layer.trainable`).
    fn set_trainable(&self, trainable: bool) {
        for (_, p) in self.params() {
            p.set_trainable(trainable);
        }
    }

    /// Parameters that optimizers update.
    fn trainable_params(&self) -> Vec<NamedParam<B>> {
        self.params()
            .into_iter()
            .filter(|(_, p)| p.is_trainable())
            .collect()
    }

    /// For a nearest-neighbour upsampling layer (Keras `UpSampling2D`): its factors
    /// `(rows, columns)`. `Sequential` uses this to hand the upsampling to the next layer.
    fn upsampling_factors(&self) -> Option<(usize, usize)> {
        None
    }

    /// `self.forward(x.upsample_nearest2d(size))` computed without materialising the
    /// upsampled input, when the layer knows a cheaper way; `None` when it does not.
    /// Implementations must compute the same function as the two steps (up to
    /// floating-point rounding). `Conv2d` does this for stride-1 SAME convolutions.
    fn forward_upsampled(
        &self,
        _x: &Tensor<B>,
        _size: (usize, usize),
        _mode: Mode,
    ) -> Option<Result<Tensor<B>>> {
        None
    }

    /// Total number of scalars in the parameters, `(trainable, non_trainable)`.
    fn param_counts(&self) -> (usize, usize) {
        self.params().iter().fold((0, 0), |(t, n), (_, p)| {
            if p.is_trainable() {
                (t + p.numel(), n)
            } else {
                (t, n + p.numel())
            }
        })
    }
}

impl<B: Backend, M: Module<B> + ?Sized> Module<B> for Box<M> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        (**self).forward(x, mode)
    }
    fn kind(&self) -> String {
        (**self).kind()
    }
    fn params(&self) -> Vec<NamedParam<B>> {
        (**self).params()
    }
    fn set_trainable(&self, trainable: bool) {
        (**self).set_trainable(trainable)
    }
    fn upsampling_factors(&self) -> Option<(usize, usize)> {
        (**self).upsampling_factors()
    }
    fn forward_upsampled(
        &self,
        x: &Tensor<B>,
        size: (usize, usize),
        mode: Mode,
    ) -> Option<Result<Tensor<B>>> {
        (**self).forward_upsampled(x, size, mode)
    }
}
