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
    // Detached and the tracked handle dropped first, so the step below drops the whole
    // graph and updates in place (a shadowing `let` would keep the graph, and with it
    // every weight, alive to the end of the function: each update would copy).
    let detached = logits.detach();
    drop(logits);
    let loss = opt.backward_step(loss, &d.trainable_params())?;
    // Read after the update is queued: on a GPU the read waits for the device.
    Ok((loss.to_scalar()?, detached))
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

#[cfg(test)]
mod tests {
    use super::*;
    use backend_cpu::Cpu;
    use nn::{Activation, Adam, Dense, Params, Seeds, Sequential};

    /// Where each parameter's data lives: an update in place keeps it.
    fn addresses(m: &Sequential<Cpu>) -> Vec<*const f32> {
        m.params()
            .iter()
            .map(|(_, p)| p.value().storage().as_ptr())
            .collect()
    }

    #[test]
    fn both_steps_update_the_weights_in_place() {
        let be = Cpu;
        let mut seeds = Seeds::new(3);
        let dense = |i, o, seeds: &mut Seeds| Dense::new(&be, i, o, seeds).unwrap();
        let g = Sequential::new().add(dense(4, 6, &mut seeds).activation(Activation::Tanh));
        let d = Sequential::new()
            .add(dense(6, 5, &mut seeds).activation(Activation::LeakyRelu(0.2)))
            .add(dense(5, 1, &mut seeds));
        let (mut opt_d, mut opt_g) = (Adam::new(1e-3), Adam::new(1e-3));
        let images = Tensor::ones(&be, [3, 6]).unwrap();
        let z = Tensor::ones(&be, [3, 4]).unwrap();
        for _ in 0..2 {
            let (before_d, before_g) = (addresses(&d), addresses(&g));
            let (_, logits) = discriminator_step(&d, &mut opt_d, &images, 1.0).unwrap();
            assert!(!logits.is_tracked());
            generator_step(&g, &d, &mut opt_g, &z).unwrap();
            assert_eq!(addresses(&d), before_d, "D's weights were copied");
            assert_eq!(addresses(&g), before_g, "G's weights were copied");
        }
    }
}
