//! What the GAN trainers share: a discriminator step on a batch with one real/fake
//! target, a generator step through the frozen discriminator, and per-step seeds.

use nn::loss::binary_cross_entropy_with_logits;
use nn::{Mode, Module, Optimizer, Params};
use tensor::{Backend, Result, Tensor};

/// Seed of random stream `stream` (of `streams` per step) at step `step` of a run
/// seeded with `seed`: every draw of a run is reproducible, and resuming at a step
/// draws what the uninterrupted run would have.
pub fn step_seed(seed: u64, step: u64, streams: u64, stream: u64) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(step.wrapping_mul(streams).wrapping_add(stream))
}

/// Runs `f` with every weight of `model` frozen (Keras `trainable = False`: no weight
/// gradients are computed), and unfreezes them afterwards, also when `f` fails.
pub fn with_frozen<B: Backend, M: Params<B> + ?Sized, T>(
    model: &M,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    model.set_trainable(false);
    let result = f();
    model.set_trainable(true);
    result
}

/// One optimizer step of `d` on `images`, every real/fake target `label` (binary
/// cross-entropy on logits). Returns the loss and the logits (detached).
pub fn discriminator_step<B: Backend, D: Module<B> + ?Sized>(
    d: &D,
    opt: &mut impl Optimizer<B>,
    images: &Tensor<B>,
    label: f32,
) -> Result<(f32, Tensor<B>)> {
    let logits = d.forward(images, Mode::Train)?;
    let target = Tensor::full(images.backend(), logits.shape().clone(), label)?;
    let loss = binary_cross_entropy_with_logits(&logits, &target)?;
    // Detached first, so the step below drops the whole graph and updates in place.
    let logits = logits.detach();
    let loss = opt.backward_step(loss, &d.trainable_params())?;
    // Read after the update is queued: on a GPU the read waits for the device.
    Ok((loss.to_scalar()?, logits))
}

/// One optimizer step of `g` on latent vectors `z` through the frozen `d`, target
/// "real" for every image (the non-saturating generator loss). Returns the loss.
pub fn generator_step<B: Backend, G: Module<B> + ?Sized, D: Module<B> + ?Sized>(
    g: &G,
    d: &D,
    opt: &mut impl Optimizer<B>,
    z: &Tensor<B>,
) -> Result<f32> {
    with_frozen(d, || {
        let logits = d.forward(&g.forward(z, Mode::Train)?, Mode::Train)?;
        let target = Tensor::ones(z.backend(), logits.shape().clone())?;
        let loss = binary_cross_entropy_with_logits(&logits, &target)?;
        drop(logits);
        opt.backward_step(loss, &g.trainable_params())?.to_scalar()
    })
}
