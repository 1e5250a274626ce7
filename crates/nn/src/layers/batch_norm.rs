//! Batch normalisation over the last (channel) axis, Keras semantics.

use crate::{Mode, Module, Param};
use tensor::{Backend, Error, Result, Tensor, no_grad};

/// Keras `BatchNormalization(axis=-1)`.
///
/// Training normalises with the batch mean and (biased) variance over every axis
/// but the last, and moves the moving statistics:
/// `moving = moving * momentum + batch * (1 - momentum)`. As in TensorFlow 2 /
/// Keras 3, the variance fed to the moving average is the biased batch variance;
/// [`BatchNorm::bessel_corrected_moving_variance`] makes it unbiased first as
/// standalone Keras 2 did (`* n / (n - 1 - epsilon)`, n = values per channel).
/// Evaluation uses the moving statistics. Defaults: momentum 0.99, epsilon 1e-3.
pub struct BatchNorm<B: Backend> {
    pub gamma: Param<B>,
    pub beta: Param<B>,
    pub moving_mean: Param<B>,
    pub moving_variance: Param<B>,
    pub momentum: f32,
    pub epsilon: f32,
    /// Feeds the moving variance `var * n / (n - 1 - epsilon)` (Keras 2) instead of
    /// the biased batch variance (Keras 3).
    pub bessel_correction: bool,
}

impl<B: Backend> BatchNorm<B> {
    /// For `features` channels, with Keras defaults.
    pub fn new(backend: &B, features: usize) -> Result<Self> {
        Ok(BatchNorm {
            gamma: Param::new(Tensor::ones(backend, [features])?),
            beta: Param::new(Tensor::zeros(backend, [features])?),
            moving_mean: Param::buffer(Tensor::zeros(backend, [features])?),
            moving_variance: Param::buffer(Tensor::ones(backend, [features])?),
            momentum: 0.99,
            epsilon: 1e-3,
            bessel_correction: false,
        })
    }

    /// Sets the momentum of the moving statistics.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Standalone Keras 2's moving variance: the batch variance is made unbiased
    /// (`* n / (n - 1 - epsilon)`) before the moving average; normalisation in
    /// training still uses the biased batch variance.
    pub fn bessel_corrected_moving_variance(mut self) -> Self {
        self.bessel_correction = true;
        self
    }
}

crate::impl_params!(BatchNorm {
    gamma,
    beta,
    moving_mean,
    moving_variance
});

impl<B: Backend> Module<B> for BatchNorm<B> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> Result<Tensor<B>> {
        let features = self.gamma.numel();
        if x.rank() < 2 || x.dims()[x.rank() - 1] != features {
            return Err(Error::shape(
                "BatchNorm",
                &[x.shape()],
                format!("last dimension must be {features}"),
            ));
        }
        let axes: Vec<isize> = (0..x.rank() as isize - 1).collect();
        let (mean, var) = if mode.is_train() {
            let mean = x.mean(&axes, false)?;
            let var = x.sub(&mean)?.square()?.mean(&axes, false)?;
            no_grad(|| -> Result<()> {
                let m = self.momentum;
                let mm = self.moving_mean.value();
                let mv = self.moving_variance.value();
                self.moving_mean
                    .set(mm.mul_scalar(m)?.add(&mean.detach().mul_scalar(1.0 - m)?)?);
                let n = (x.numel() / features.max(1)) as f32;
                let unbiased = if self.bessel_correction && n > 1.0 + self.epsilon {
                    n / (n - (1.0 + self.epsilon))
                } else {
                    1.0
                };
                self.moving_variance.set(
                    mv.mul_scalar(m)?
                        .add(&var.detach().mul_scalar((1.0 - m) * unbiased)?)?,
                );
                Ok(())
            })?;
            (mean, var)
        } else {
            (self.moving_mean.value(), self.moving_variance.value())
        };
        let inv_std = var.add_scalar(self.epsilon)?.sqrt()?.recip()?;
        let scale = inv_std.mul(&self.gamma.value())?;
        x.sub(&mean)?.mul(&scale)?.add(&self.beta.value())
    }

    fn kind(&self) -> String {
        "BatchNormalization".into()
    }
}
