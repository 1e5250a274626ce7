//! The MLP GAN on MNIST (SEEDS.md section 1), generic over the backend.
//!
//! Generator: z (100, N(0,1)) -> Dense 256 -> LeakyReLU 0.2 -> BatchNorm(momentum 0.8)
//! -> Dense 512 -> LeakyReLU -> BatchNorm -> Dense 1024 -> LeakyReLU -> BatchNorm
//! -> Dense 784 -> tanh -> 28x28x1 in [-1, 1].
//! Discriminator: Flatten -> Dense 512 -> LeakyReLU 0.2 -> Dense 256 -> LeakyReLU
//! -> Dense 1 (sigmoid folded into the loss, which is then stable).
//!
//! One iteration, as the Keras original: D trains on a real batch (label 1), then on
//! a batch generated in inference mode (label 0), two Adam steps; then G trains
//! through the frozen D with target 1.
//!
//! Beyond the original: samples and exports come from an exponential moving average
//! of the generator's weights (decay 0.999 by default; 0 turns it off and samples
//! from the trained generator itself). Averaging the iterates of GAN training is a
//! standard way to damp the oscillation of the generator around the equilibrium
//! (Yazici et al., 2019); it changes nothing in training.

use crate::adversarial::{discriminator_step, generator_step, step_seed};
use nn::Params;
use nn::{
    Activation, ActivationLayer, Adam, BatchNorm, Checkpoint, Dense, Mode, Module, Seeds,
    Sequential,
};
use tensor::Result;
use tensor::{Backend, Tensor, no_grad};
use train::Checkpointed;

/// Size of the latent vector.
pub const LATENT: usize = 100;
/// Pixels per image.
pub const PIXELS: usize = 784;

/// Hyper-parameters of the GAN.
#[derive(Clone, Debug)]
pub struct GanConfig {
    pub batch_size: usize,
    pub lr: f32,
    pub beta1: f32,
    pub seed: u64,
    /// Decay of the generator's weight average used for sampling (0: no average).
    pub ema_decay: f32,
}

impl Default for GanConfig {
    fn default() -> Self {
        GanConfig {
            batch_size: 32,
            lr: 2e-4,
            beta1: 0.5,
            seed: 42,
            ema_decay: 0.999,
        }
    }
}

/// The generator of SEEDS.md section 1.
pub fn generator<B: Backend>(be: &B, seeds: &mut Seeds) -> Result<Sequential<B>> {
    let mut g = Sequential::new();
    let mut width = LATENT;
    for units in [256, 512, 1024] {
        g = g
            .add(Dense::new(be, width, units, seeds)?)
            .add(ActivationLayer(Activation::LeakyRelu(0.2)))
            .add(BatchNorm::new(be, units)?.momentum(0.8));
        width = units;
    }
    Ok(g.add(Dense::new(be, width, PIXELS, seeds)?.activation(Activation::Tanh)))
}

/// The discriminator of SEEDS.md section 1; it returns logits.
pub fn discriminator<B: Backend>(be: &B, seeds: &mut Seeds) -> Result<Sequential<B>> {
    Ok(Sequential::new()
        .add(Dense::new(be, PIXELS, 512, seeds)?.activation(Activation::LeakyRelu(0.2)))
        .add(Dense::new(be, 512, 256, seeds)?.activation(Activation::LeakyRelu(0.2)))
        .add(Dense::new(be, 256, 1, seeds)?))
}

/// Losses and accuracy of one iteration.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepStats {
    pub d_loss_real: f32,
    pub d_loss_fake: f32,
    /// Share of real and fake images D classified correctly.
    pub d_acc: f32,
    pub g_loss: f32,
}

impl StepStats {
    /// Keras' reported D loss: the mean of the real and fake losses.
    pub fn d_loss(&self) -> f32 {
        0.5 * (self.d_loss_real + self.d_loss_fake)
    }
}

/// Generator, discriminator, their optimizers and the step count.
pub struct Gan<B: Backend> {
    pub backend: B,
    pub generator: Sequential<B>,
    pub discriminator: Sequential<B>,
    /// Moving average of the generator (same architecture), if enabled.
    pub generator_ema: Option<Sequential<B>>,
    pub opt_g: Adam<B>,
    pub opt_d: Adam<B>,
    pub config: GanConfig,
    pub step: u64,
}

impl<B: Backend> Gan<B> {
    /// Fresh weights from `config.seed`.
    pub fn new(backend: B, config: GanConfig) -> Result<Self> {
        let mut seeds = Seeds::new(config.seed);
        let generator = generator(&backend, &mut seeds)?;
        let discriminator = discriminator(&backend, &mut seeds)?;
        let opt = || Adam::new(config.lr).beta1(config.beta1);
        let generator_ema = if config.ema_decay > 0.0 {
            let ema = self::generator(&backend, &mut Seeds::new(0))?;
            copy_params(&generator, &ema)?;
            Some(ema)
        } else {
            None
        };
        Ok(Gan {
            backend,
            generator,
            generator_ema,
            discriminator,
            opt_g: opt(),
            opt_d: opt(),
            config,
            step: 0,
        })
    }

    /// Latent noise for `count` images; `stream` separates independent draws.
    pub fn noise(&self, count: usize, seed: u64) -> Result<Tensor<B>> {
        Tensor::normal(&self.backend, [count, LATENT], 0.0, 1.0, seed)
    }

    fn step_seed(&self, stream: u64) -> u64 {
        step_seed(self.config.seed, self.step, 8, stream)
    }

    /// Images `[count, 784]` in [-1, 1] from latent vectors, in inference mode, from the
    /// trained generator (what the discriminator sees during training).
    pub fn generate(&self, z: &Tensor<B>) -> Result<Tensor<B>> {
        no_grad(|| self.generator.forward(z, Mode::Eval))
    }

    /// Images for showing and exporting: from the weight average when enabled.
    pub fn sample(&self, z: &Tensor<B>) -> Result<Tensor<B>> {
        let g = self.generator_ema.as_ref().unwrap_or(&self.generator);
        no_grad(|| g.forward(z, Mode::Eval))
    }

    fn update_ema(&self) -> Result<()> {
        match &self.generator_ema {
            Some(ema) => average_into(ema, &self.generator, self.config.ema_decay),
            None => Ok(()),
        }
    }

    /// One D step; returns the loss and the share of `images` D classified as `label`.
    fn d_step(&mut self, images: &Tensor<B>, label: f32) -> Result<(f32, f32)> {
        let (loss, logits) =
            discriminator_step(&self.discriminator, &mut self.opt_d, images, label)?;
        // Logit > 0 means "real".
        let values = logits.to_vec()?;
        let hits = values
            .iter()
            .filter(|&&l| (l > 0.0) == (label > 0.5))
            .count();
        Ok((loss, hits as f32 / values.len() as f32))
    }

    /// One iteration on a batch of real images `[batch, 784]` scaled to [-1, 1].
    pub fn train_step(&mut self, real: &Tensor<B>) -> Result<StepStats> {
        let batch = real.dims()[0];
        let (d_loss_real, acc_real) = self.d_step(real, 1.0)?;
        let fake = self.generate(&self.noise(batch, self.step_seed(0))?)?;
        let (d_loss_fake, acc_fake) = self.d_step(&fake, 0.0)?;
        let z = self.noise(batch, self.step_seed(1))?;
        let g_loss = generator_step(&self.generator, &self.discriminator, &mut self.opt_g, &z)?;
        self.update_ema()?;
        self.step += 1;
        Ok(StepStats {
            d_loss_real,
            d_loss_fake,
            d_acc: 0.5 * (acc_real + acc_fake),
            g_loss,
        })
    }

    /// Restores only the generators (for sampling from a checkpoint).
    pub fn restore_generator(&mut self, ck: &Checkpoint) -> train::Result<()> {
        train::check_model::<Self>(ck)?;
        ck.restore_module("generator.", &self.generator, &self.backend)?;
        self.restore_ema(ck)
    }

    /// The average from the checkpoint; a checkpoint without one starts it from G.
    fn restore_ema(&mut self, ck: &Checkpoint) -> train::Result<()> {
        let has_ema = ck.tensors.keys().any(|k| k.starts_with("generator_ema."));
        match &self.generator_ema {
            Some(ema) if has_ema => Ok(ck.restore_module("generator_ema.", ema, &self.backend)?),
            Some(ema) => Ok(copy_params(&self.generator, ema)?),
            None => Ok(()),
        }
    }
}

/// Both models, the generator average, both optimizers and the step count.
impl<B: Backend> Checkpointed for Gan<B> {
    const MODEL: &'static str = "gan";

    fn steps_done(&self) -> u64 {
        self.step
    }

    fn save_parts(&self, ck: &mut Checkpoint) -> train::Result<()> {
        ck.insert_module("generator.", &self.generator)?;
        ck.insert_module("discriminator.", &self.discriminator)?;
        if let Some(ema) = &self.generator_ema {
            ck.insert_module("generator_ema.", ema)?;
        }
        ck.insert_optimizer("opt_g.", &self.opt_g)?;
        ck.insert_optimizer("opt_d.", &self.opt_d)?;
        ck.metadata
            .insert("seed".into(), self.config.seed.to_string());
        Ok(())
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![("ema_decay", self.config.ema_decay.to_string())]
    }

    fn restore_parts(&mut self, ck: &Checkpoint, step: u64) -> train::Result<()> {
        let has_ema = ck.tensors.keys().any(|k| k.starts_with("generator_ema."));
        if has_ema && self.generator_ema.is_none() {
            return Err(train::Error::argument(
                "gan",
                "the checkpoint carries a generator average that --ema-decay 0 would drop; \
                 resume with the decay it was trained with",
            ));
        }
        ck.restore_module("generator.", &self.generator, &self.backend)?;
        ck.restore_module("discriminator.", &self.discriminator, &self.backend)?;
        self.restore_ema(ck)?;
        ck.restore_optimizer("opt_g.", &mut self.opt_g, &self.backend)?;
        ck.restore_optimizer("opt_d.", &mut self.opt_d, &self.backend)?;
        self.step = step;
        Ok(())
    }
}

/// `avg = decay * avg + (1 - decay) * model` for every parameter (weights and buffers;
/// same architecture): one step of a weight average, in place.
pub fn average_into<B: Backend, P: Params<B> + ?Sized>(
    avg: &P,
    model: &P,
    decay: f32,
) -> Result<()> {
    no_grad(|| {
        for ((_, a), (_, p)) in avg.params().iter().zip(model.params()) {
            // In place: the average is the only handle to its storage.
            a.update(|a| tensor::axpby(a, decay, &p.value(), 1.0 - decay))?;
        }
        Ok(())
    })
}

/// Copies every parameter (weights and buffers) of `from` into `to` (same architecture).
pub fn copy_params<B: Backend, P: Params<B> + ?Sized>(from: &P, to: &P) -> Result<()> {
    for ((_, src), (_, dst)) in from.params().iter().zip(to.params()) {
        dst.set(src.value().detach());
    }
    Ok(())
}
