//! The auxiliary-classifier GAN of Keras' `mnist_acgan` example (SEEDS.md section 8),
//! generic over the backend.
//!
//! Discriminator on `[n, 28, 28, 1]` images in [-1, 1]: conv 32 3x3 stride 2 SAME
//! -> (14, 14, 32) -> conv 64 3x3 -> (14, 14, 64) -> conv 128 3x3 stride 2 -> (7, 7, 128)
//! -> conv 256 3x3 -> (7, 7, 256), each followed by LeakyReLU (Keras' default slope 0.3)
//! and Dropout 0.3; flatten 12544; two heads: Dense 1 (real/fake logit) and Dense 10
//! (digit logits). The sigmoid and softmax of the Keras heads live in the losses, which
//! are then stable.
//!
//! Generator: latent z (100, uniform on [-1, 1]) times the embedding of the class
//! (Embedding(10, 100), Glorot normal) -> Dense 1024 ReLU -> Dense 6272 ReLU
//! -> Reshape (7, 7, 128) -> UpSampling 2 -> conv 256 5x5 SAME ReLU -> BatchNorm
//! -> UpSampling 2 -> conv 128 5x5 SAME ReLU -> BatchNorm -> conv 1 2x2 SAME tanh. The
//! Dense layers keep Keras' default Glorot-uniform init, the convolutions use Glorot
//! normal, as the example. Each upsampling + 5x5 convolution runs as one
//! phase-decomposed convolution (`nn::Sequential` does this; same function, 36% of the
//! multiply-adds).
//!
//! One iteration, as the Keras example: D takes one Adam step on a batch of real
//! images (real/fake target 0.75; aux target the true digit) joined with as many
//! generated ones (target 0.25); its digit head learns from the real half only (the
//! Keras example's sample weights 2 / 0); then G takes one step
//! through the frozen D on twice the batch, with target 0.75 and the sampled digits.
//! Losses: binary cross-entropy + sparse categorical cross-entropy.
//!
//! Two stabilisers come from the Keras example's own history, both fixes for the same
//! failure: with hard targets (1 / 0 / 1) and no normalisation, D wins within a few
//! iterations, G's tanh output saturates at -1 everywhere and its gradients vanish
//! (black images for good; keras-team/keras issues 4585 and 8373). Measured here: black
//! images and D accuracy 1.0 from iteration ~30 on with hard targets; still black at
//! iteration 200 with soft targets alone (batch 32). The soft targets 0.75 / 0.25 are
//! keras commit ae6b66a ("acgan: Fix generator producing pure black images"); the
//! BatchNorm after each ReLU convolution of G is keras commit 97acd91 ("acgan: Add
//! batch normalization to the Generator"). With both, G produced digit-like,
//! class-dependent images by iteration 200 and D's accuracy stayed below 1.
//!
//! As Keras' `generator.predict`, the fakes of the D step come from G in inference
//! mode, so its BatchNorm layers use their moving statistics (momentum 0.99, starting
//! at mean 0 and variance 1), while the G step normalises with batch statistics. Early
//! in a run the two differ (the sample grids of the first ~500 iterations look washed
//! out); by the end of the default 1,000 iterations they agree.

use crate::adversarial::with_frozen;
use nn::loss::{binary_cross_entropy_with_logits, sparse_categorical_cross_entropy_with_logits};
use nn::{
    Activation, Adam, BatchNorm, Checkpoint, Conv2d, Dense, Dropout, Embedding, Init, LayerNames,
    Mode, Module, NamedParam, Optimizer, Params, Reshape, Seeds, Sequential, UpSampling2d,
};
use tensor::{Backend, Distribution, Padding, Tensor, no_grad};
use tensor::{Error, Result};
use train::Checkpointed;

/// Size of the latent vector.
pub const LATENT: usize = 100;
/// Digits.
pub const CLASSES: usize = 10;
/// Pixels per image.
pub const PIXELS: usize = 784;
/// Features after the discriminator's trunk: 7 * 7 * 256.
pub const FEATURES: usize = 12_544;
/// Slope of the discriminator's LeakyReLU. The Keras example with this architecture
/// (keras-team/keras `examples/mnist_acgan.py` up to commit ae6b66a, November 2017) uses
/// `LeakyReLU()`, whose default is 0.3; its later rewrite with a different generator
/// uses 0.2.
pub const LEAKY_SLOPE: f32 = 0.3;
/// Keras' dropout rate in the discriminator.
pub const DROPOUT: f32 = 0.3;

/// The default decay of the generator's weight average, measured with
/// `examples/acgan_sweep.rs` (seed 42, the default recipe, 1,000 digits scored by the
/// project's classifier, 100 of each):
///
/// | iterations | trained G | average 0.99 | 0.995 | 0.998 |
/// |---|---|---|---|---|
/// | 750 | 83.3% (weakest digit 51%), IS 7.37 | 72.4% (15%), IS 4.69 | 19.9%, IS 1.14 | 10.0%, IS 1.00 |
/// | 1,000 | 84.3% (47%), IS 7.65 | **97.6% (92%), IS 9.52** | 55.2% (0%), IS 2.60 | 14.6%, IS 1.01 |
/// | 1,250 | 90.7% (69%), IS 8.26 | 99.0% (96%), IS 9.86 | 98.5% (92%), IS 9.37 | 19.9%, IS 1.06 |
///
/// Class fidelity (the weakest digit's) and IS. The longer averages still carry the
/// early generator after the 1,000 iterations a default run affords; 0.99 (a window
/// of about 100 iterations) is far better than the trained generator by then.
///
/// That sweep (with D's digit head still trained on generated images too) is one
/// training trajectory, not the binary's. `acgan` with no arguments run end to end
/// (`examples/seed_study.rs acgan 42 1 2`, the project's classifier, 100 digits of
/// each class):
///
/// | digit loss of D | seed | IS | class-faithful | weakest digit |
/// |---|---|---|---|---|
/// | real and generated images | 42 | 7.87 | 84.9% | 6: 37% |
/// | | 1 | 8.83 | 94.8% | 7: 82% |
/// | | 2 | 8.33 | 89.8% | 9: 27% |
/// | real images only (Keras' sample weights, the default) | 42 | 9.62 | 98.1% | 3: 90% |
/// | | 1 | 9.27 | 98.3% | 2: 94% |
/// | | 2 | 9.70 | 99.1% | 6: 97% |
pub const DEFAULT_EMA_DECAY: f32 = 0.99;

/// Hyper-parameters of the ACGAN.
#[derive(Clone, Debug)]
pub struct AcganConfig {
    pub batch_size: usize,
    pub lr: f32,
    pub beta1: f32,
    /// Real/fake target of real images in the D step, and of generated images in the G
    /// step (Keras' soft one).
    pub soft_real: f32,
    /// Real/fake target of generated images in the D step (Keras' soft zero).
    pub soft_fake: f32,
    pub seed: u64,
    /// Decay of the moving average of the generator's weights that samples and
    /// exports come from (0: the trained generator itself, as the Keras original).
    pub ema_decay: f32,
    /// Whether D's digit head also learns the sampled digit of generated images. The
    /// Keras example does not (sample weight 2 on real images, 0 on generated ones, so
    /// the digit loss is the mean over the real half): a D that learns to name G's
    /// images lets G keep drawing a digit as another (openreview rJXTf9Bxg). Measured
    /// end to end over seeds 42, 1 and 2 (see [`DEFAULT_EMA_DECAY`]): class fidelity
    /// 84.9 / 94.8 / 89.8% with it, 98.1 / 98.3 / 99.1% without.
    pub aux_on_generated: bool,
}

impl Default for AcganConfig {
    fn default() -> Self {
        AcganConfig {
            batch_size: 32,
            lr: 2e-4,
            beta1: 0.5,
            soft_real: 0.75,
            soft_fake: 0.25,
            seed: 42,
            ema_decay: DEFAULT_EMA_DECAY,
            aux_on_generated: false,
        }
    }
}

/// Label embedding multiplied into the latent vector, then the upsampling CNN.
pub struct Generator<B: Backend> {
    pub embedding: Embedding<B>,
    pub cnn: Sequential<B>,
}

impl<B: Backend> Generator<B> {
    /// The Keras generator with fresh weights.
    pub fn new(be: &B, seeds: &mut Seeds) -> Result<Self> {
        let conv = |c_in, c_out, k, act, seeds: &mut Seeds| -> Result<Conv2d<B>> {
            Ok(
                Conv2d::with_init(be, c_in, c_out, (k, k), Init::GlorotNormal, true, seeds)?
                    .padding(Padding::Same)
                    .activation(act),
            )
        };
        let cnn = Sequential::new()
            .add(Dense::new(be, LATENT, 1024, seeds)?.activation(Activation::Relu))
            .add(Dense::new(be, 1024, 128 * 7 * 7, seeds)?.activation(Activation::Relu))
            .add(Reshape::new(&[7, 7, 128]))
            .add(UpSampling2d::new((2, 2)))
            .add(conv(128, 256, 5, Activation::Relu, seeds)?)
            .add(BatchNorm::new(be, 256)?)
            .add(UpSampling2d::new((2, 2)))
            .add(conv(256, 128, 5, Activation::Relu, seeds)?)
            .add(BatchNorm::new(be, 128)?)
            .add(conv(128, 1, 2, Activation::Tanh, seeds)?);
        let embedding = Embedding::with_init(be, CLASSES, LATENT, Init::GlorotNormal, seeds)?;
        Ok(Generator { embedding, cnn })
    }

    /// Images `[n, 28, 28, 1]` in [-1, 1] for latent vectors `z` `[n, 100]` and digits `labels`.
    pub fn forward(&self, z: &Tensor<B>, labels: &[usize], mode: Mode) -> Result<Tensor<B>> {
        if z.rank() != 2 || z.dims()[0] != labels.len() || z.dims()[1] != LATENT {
            return Err(Error::shape(
                "acgan generator",
                &[z.shape()],
                format!("expected [{}, {LATENT}] latent vectors", labels.len()),
            ));
        }
        let ids: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
        let ids = Tensor::from_vec(z.backend(), ids, [labels.len()])?;
        let h = z.mul(&self.embedding.forward(&ids, mode)?)?;
        self.cnn.forward(&h, mode)
    }
}

// Every weight, named `embedding.*` and `cnn.*`.
nn::impl_params!(Generator { embedding, cnn });

/// The discriminator's shared trunk: four conv -> LeakyReLU -> Dropout blocks, then Flatten.
pub struct DiscriminatorTrunk<B: Backend> {
    pub convs: Vec<Conv2d<B>>,
    pub dropouts: Vec<Dropout>,
}

impl<B: Backend> DiscriminatorTrunk<B> {
    /// The Keras trunk with fresh weights (Glorot uniform, Keras' default).
    pub fn new(be: &B, seeds: &mut Seeds) -> Result<Self> {
        let mut convs = Vec::new();
        let mut dropouts = Vec::new();
        let mut c_in = 1;
        for (filters, stride) in [(32, 2), (64, 1), (128, 2), (256, 1)] {
            convs.push(
                Conv2d::new(be, c_in, filters, (3, 3), seeds)?
                    .stride((stride, stride))
                    .padding(Padding::Same)
                    .activation(Activation::LeakyRelu(LEAKY_SLOPE)),
            );
            dropouts.push(Dropout::new(DROPOUT, seeds)?);
            c_in = filters;
        }
        Ok(DiscriminatorTrunk { convs, dropouts })
    }

    /// How many dropout masks each Dropout layer has drawn (to resume a run exactly).
    pub fn dropout_calls(&self) -> u64 {
        self.dropouts.first().map_or(0, Dropout::calls)
    }

    /// Sets every Dropout layer's mask counter.
    pub fn set_dropout_calls(&self, calls: u64) {
        for d in &self.dropouts {
            d.set_calls(calls);
        }
    }
}

/// The convolutions under Keras' layer names (`conv2d`, `conv2d_1`, ...).
impl<B: Backend> Params<B> for DiscriminatorTrunk<B> {
    fn params(&self) -> Vec<NamedParam<B>> {
        let mut names = LayerNames::new();
        self.convs
            .iter()
            .flat_map(|conv| nn::prefixed(&names.next(&conv.kind()), conv.params()))
            .collect()
    }
}

impl<B: Backend> Module<B> for DiscriminatorTrunk<B> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> tensor::Result<Tensor<B>> {
        let mut y = x.clone();
        for (conv, dropout) in self.convs.iter().zip(&self.dropouts) {
            y = dropout.forward(&conv.forward(&y, mode)?, mode)?;
        }
        y.flatten()
    }

    fn kind(&self) -> String {
        "DiscriminatorTrunk".into()
    }
}

/// Trunk plus the two heads. As a [`Module`] its output is `[n, 11]`: the real/fake
/// logit followed by the ten digit logits; [`Discriminator::heads`] splits them.
pub struct Discriminator<B: Backend> {
    pub trunk: DiscriminatorTrunk<B>,
    /// Real/fake logit (Keras `generation`, sigmoid in the loss).
    pub fake: Dense<B>,
    /// Digit logits (Keras `auxiliary`, softmax in the loss).
    pub aux: Dense<B>,
}

impl<B: Backend> Discriminator<B> {
    /// The Keras discriminator with fresh weights.
    pub fn new(be: &B, seeds: &mut Seeds) -> Result<Self> {
        Ok(Discriminator {
            trunk: DiscriminatorTrunk::new(be, seeds)?,
            fake: Dense::new(be, FEATURES, 1, seeds)?,
            aux: Dense::new(be, FEATURES, CLASSES, seeds)?,
        })
    }

    /// `(real/fake logits [n, 1], digit logits [n, 10])`.
    pub fn heads(&self, x: &Tensor<B>, mode: Mode) -> Result<(Tensor<B>, Tensor<B>)> {
        let features = self.trunk.forward(x, mode)?;
        Ok((
            self.fake.forward(&features, mode)?,
            self.aux.forward(&features, mode)?,
        ))
    }
}

nn::impl_params!(Discriminator { trunk, fake, aux });

impl<B: Backend> Module<B> for Discriminator<B> {
    fn forward(&self, x: &Tensor<B>, mode: Mode) -> tensor::Result<Tensor<B>> {
        let (fake, aux) = self.heads(x, mode)?;
        Tensor::concat(&[fake, aux], -1)
    }

    fn kind(&self) -> String {
        "Discriminator".into()
    }
}

/// Losses and accuracies of one iteration.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcganStats {
    /// D's real/fake binary cross-entropy over the joined batch.
    pub d_fake_loss: f32,
    /// D's digit cross-entropy: over the real images (the default), or over the joined
    /// batch with [`AcganConfig::aux_on_generated`].
    pub d_aux_loss: f32,
    /// Share of real and generated images D told apart (logit > 0 means real).
    pub d_acc: f32,
    /// Share of the real images whose digit D's auxiliary head got right.
    pub aux_acc_real: f32,
    pub g_fake_loss: f32,
    pub g_aux_loss: f32,
}

impl AcganStats {
    /// D's total loss (what Keras reports first).
    pub fn d_loss(&self) -> f32 {
        self.d_fake_loss + self.d_aux_loss
    }

    /// G's total loss.
    pub fn g_loss(&self) -> f32 {
        self.g_fake_loss + self.g_aux_loss
    }
}

/// What [`Acgan::discriminator_losses`] computes.
pub struct DiscriminatorLosses<B: Backend> {
    /// Real/fake binary cross-entropy against the soft targets.
    pub fake: Tensor<B>,
    /// Digit cross-entropy.
    pub aux: Tensor<B>,
    /// Real/fake logits `[2 * batch, 1]`.
    pub fake_logits: Tensor<B>,
    /// Digit logits `[2 * batch, 10]`.
    pub class_logits: Tensor<B>,
}

/// `n` digits uniform on 0..10, reproducible from `seed`.
pub fn sample_labels(n: usize, seed: u64) -> Vec<usize> {
    let dist = Distribution::Uniform {
        low: 0.0,
        high: CLASSES as f32,
    };
    (0..n)
        .map(|i| (tensor::random::sample(dist, seed, i as u32) as usize).min(CLASSES - 1))
        .collect()
}

fn argmax(row: &[f32]) -> usize {
    crate::classifier::argmax(row)
}

/// Generator, discriminator, their optimizers and the step count.
pub struct Acgan<B: Backend> {
    pub backend: B,
    pub generator: Generator<B>,
    /// Moving average of the generator's weights (same architecture), if enabled.
    pub generator_ema: Option<Generator<B>>,
    pub discriminator: Discriminator<B>,
    pub opt_g: Adam<B>,
    pub opt_d: Adam<B>,
    pub config: AcganConfig,
    pub step: u64,
}

impl<B: Backend> Acgan<B> {
    /// Fresh weights from `config.seed`.
    pub fn new(backend: B, config: AcganConfig) -> Result<Self> {
        if config.batch_size == 0 {
            return Err(Error::argument("acgan", "--batch-size must be positive"));
        }
        let mut seeds = Seeds::new(config.seed);
        let generator = Generator::new(&backend, &mut seeds)?;
        let discriminator = Discriminator::new(&backend, &mut seeds)?;
        let opt = || Adam::new(config.lr).beta1(config.beta1);
        if !(0.0..1.0).contains(&config.ema_decay) {
            return Err(Error::argument(
                "acgan",
                format!("--ema-decay {} must be in [0, 1)", config.ema_decay),
            ));
        }
        let generator_ema = if config.ema_decay > 0.0 {
            let ema = Generator::new(&backend, &mut Seeds::new(0))?;
            crate::gan::copy_params(&generator, &ema)?;
            Some(ema)
        } else {
            None
        };
        Ok(Acgan {
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

    /// Latent vectors `[count, 100]`, uniform on [-1, 1] as the Keras example.
    pub fn noise(&self, count: usize, seed: u64) -> Result<Tensor<B>> {
        Tensor::uniform(&self.backend, [count, LATENT], -1.0, 1.0, seed)
    }

    fn step_seed(&self, stream: u64) -> u64 {
        crate::adversarial::step_seed(self.config.seed, self.step, 8, stream)
    }

    /// Images `[n, 28, 28, 1]` in [-1, 1] for `z` and `labels`, in inference mode, from
    /// the generator samples come from (the weight average when enabled).
    pub fn generate(&self, z: &Tensor<B>, labels: &[usize]) -> Result<Tensor<B>> {
        no_grad(|| self.sampler().forward(z, labels, Mode::Eval))
    }

    /// The generator samples and exports come from: the weight average when enabled,
    /// else the trained generator.
    pub fn sampler(&self) -> &Generator<B> {
        self.generator_ema.as_ref().unwrap_or(&self.generator)
    }

    /// D's losses on `x`, real images with digits `labels` followed by as many generated
    /// ones drawn for `sampled`. The digit loss covers the real half only unless
    /// [`AcganConfig::aux_on_generated`].
    pub fn discriminator_losses(
        &self,
        x: &Tensor<B>,
        labels: &[usize],
        sampled: &[usize],
        mode: Mode,
    ) -> Result<DiscriminatorLosses<B>> {
        let batch = labels.len();
        if sampled.len() != batch || x.rank() == 0 || x.dims()[0] != 2 * batch {
            return Err(Error::shape(
                "acgan discriminator",
                &[x.shape()],
                format!(
                    "expected {batch} real and {} generated images",
                    sampled.len()
                ),
            ));
        }
        let mut target = vec![self.config.soft_real; batch];
        target.resize(2 * batch, self.config.soft_fake);
        let target = Tensor::from_vec(&self.backend, target, [2 * batch, 1])?;
        let (fake_logits, class_logits) = self.discriminator.heads(x, mode)?;
        let d_fake = binary_cross_entropy_with_logits(&fake_logits, &target)?;
        let d_aux = if self.config.aux_on_generated {
            let aux_target: Vec<usize> = labels.iter().chain(sampled).copied().collect();
            sparse_categorical_cross_entropy_with_logits(&class_logits, &aux_target)?
        } else {
            let real_logits = class_logits.narrow(0, 0, batch)?;
            sparse_categorical_cross_entropy_with_logits(&real_logits, labels)?
        };
        Ok(DiscriminatorLosses {
            fake: d_fake,
            aux: d_aux,
            fake_logits,
            class_logits,
        })
    }

    /// One iteration on real images `[batch, 28, 28, 1]` in [-1, 1] and their digits.
    pub fn train_step(&mut self, real: &Tensor<B>, labels: &[usize]) -> Result<AcganStats> {
        let batch = labels.len();
        if real.dims() != [batch, 28, 28, 1] {
            return Err(Error::shape(
                "acgan",
                &[real.shape()],
                format!("expected [{batch}, 28, 28, 1] real images"),
            ));
        }
        let mut stats = AcganStats::default();

        // D: real (target 0.75, true digit) joined with generated (0.25, sampled digit).
        let sampled = sample_labels(batch, self.step_seed(0));
        let fake = self.generate(&self.noise(batch, self.step_seed(1))?, &sampled)?;
        let x = Tensor::concat(&[real.clone(), fake], 0)?;
        let (grads, d_fake, d_aux, logits, classes) = {
            let DiscriminatorLosses {
                fake: d_fake,
                aux: d_aux,
                fake_logits,
                class_logits,
            } = self.discriminator_losses(&x, labels, &sampled, Mode::Train)?;
            (
                d_fake.add(&d_aux)?.backward()?,
                d_fake.detach(),
                d_aux.detach(),
                fake_logits.detach(),
                class_logits.narrow(0, 0, batch)?.detach(),
            )
        };
        // The graph is dropped, so Adam updates the weights in place; the figures are
        // read after the update is queued (on a GPU a read waits for the device).
        self.opt_d
            .step(&self.discriminator.trainable_params(), &grads)?;
        stats.d_fake_loss = d_fake.to_scalar()?;
        stats.d_aux_loss = d_aux.to_scalar()?;
        let (logits, classes) = (logits.to_vec()?, classes.to_vec()?);
        let told_apart = logits
            .iter()
            .enumerate()
            .filter(|&(i, &l)| (l > 0.0) == (i < batch))
            .count();
        stats.d_acc = told_apart as f32 / (2 * batch) as f32;
        let right = classes
            .chunks(CLASSES)
            .zip(labels)
            .filter(|(row, l)| argmax(row) == **l)
            .count();
        stats.aux_acc_real = right as f32 / batch as f32;

        // G: twice the batch through the frozen D, target 0.75 and the sampled digits.
        let n = 2 * batch;
        let sampled = sample_labels(n, self.step_seed(2));
        let z = self.noise(n, self.step_seed(3))?;
        (stats.g_fake_loss, stats.g_aux_loss) = with_frozen(&self.discriminator, || {
            let (grads, losses) = {
                let images = self.generator.forward(&z, &sampled, Mode::Train)?;
                let (fake_logits, class_logits) = self.discriminator.heads(&images, Mode::Train)?;
                let target = Tensor::full(
                    &self.backend,
                    fake_logits.shape().clone(),
                    self.config.soft_real,
                )?;
                let g_fake = binary_cross_entropy_with_logits(&fake_logits, &target)?;
                let g_aux = sparse_categorical_cross_entropy_with_logits(&class_logits, &sampled)?;
                let losses = (g_fake.detach(), g_aux.detach());
                (g_fake.add(&g_aux)?.backward()?, losses)
            };
            self.opt_g
                .step(&self.generator.trainable_params(), &grads)?;
            Ok((losses.0.to_scalar()?, losses.1.to_scalar()?))
        })?;
        if let Some(ema) = &self.generator_ema {
            crate::gan::average_into(ema, &self.generator, self.config.ema_decay)?;
        }
        self.step += 1;
        Ok(stats)
    }

    /// Restores only the generators (for sampling from a checkpoint). A checkpoint
    /// without a weight average (written before there was one, or with
    /// `--ema-decay 0`) samples from its trained generator.
    pub fn restore_generator(&mut self, ck: &Checkpoint) -> train::Result<()> {
        train::check_model::<Self>(ck)?;
        ck.restore_module("generator.", &self.generator, &self.backend)?;
        let has_ema = ck.tensors.keys().any(|k| k.starts_with("generator_ema."));
        match &self.generator_ema {
            Some(ema) if has_ema => ck.restore_module("generator_ema.", ema, &self.backend)?,
            Some(_) => self.generator_ema = None,
            None => {}
        }
        Ok(())
    }
}

/// Both models, both optimizers, the step count and the dropout mask counter.
impl<B: Backend> Checkpointed for Acgan<B> {
    const MODEL: &'static str = "acgan";

    fn steps_done(&self) -> u64 {
        self.step
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![("ema_decay", self.config.ema_decay.to_string())]
    }

    fn save_parts(&self, ck: &mut Checkpoint) -> train::Result<()> {
        ck.insert_module("generator.", &self.generator)?;
        if let Some(ema) = &self.generator_ema {
            ck.insert_module("generator_ema.", ema)?;
        }
        ck.insert_module("discriminator.", &self.discriminator)?;
        ck.insert_optimizer("opt_g.", &self.opt_g)?;
        ck.insert_optimizer("opt_d.", &self.opt_d)?;
        ck.metadata
            .insert("seed".into(), self.config.seed.to_string());
        ck.metadata.insert(
            "dropout_calls".into(),
            self.discriminator.trunk.dropout_calls().to_string(),
        );
        Ok(())
    }

    fn restore_parts(&mut self, ck: &Checkpoint, step: u64) -> train::Result<()> {
        let has_ema = ck.tensors.keys().any(|k| k.starts_with("generator_ema."));
        if has_ema != self.generator_ema.is_some() {
            return Err(train::Error::argument(
                "acgan",
                "the checkpoint's generator average does not match --ema-decay; resume \
                 with the decay it was trained with",
            ));
        }
        self.restore_generator(ck)?;
        ck.restore_module("discriminator.", &self.discriminator, &self.backend)?;
        ck.restore_optimizer("opt_g.", &mut self.opt_g, &self.backend)?;
        ck.restore_optimizer("opt_d.", &mut self.opt_d, &self.backend)?;
        let calls = ck
            .metadata
            .get("dropout_calls")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| train::Error::argument("acgan", "checkpoint has no dropout_calls"))?;
        self.step = step;
        self.discriminator.trunk.set_dropout_calls(calls);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backend_cpu::Cpu;

    /// Cross-entropy of softmax rows of `logits` against `targets`, in f64 by hand.
    fn mean_cross_entropy(logits: &[f32], targets: &[usize]) -> f64 {
        let rows: Vec<&[f32]> = logits.chunks(CLASSES).collect();
        let total: f64 = targets
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let row = rows[i];
                let max = row.iter().fold(f32::MIN, |m, &v| m.max(v)) as f64;
                let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
                -(row[t] as f64 - max - sum.ln())
            })
            .sum();
        total / targets.len() as f64
    }

    fn digit_loss(gan: &Acgan<Cpu>, x: &Tensor<Cpu>, sampled: &[usize]) -> (f32, Vec<f32>) {
        let losses = gan
            .discriminator_losses(x, &[3, 7], sampled, Mode::Eval)
            .unwrap();
        (
            losses.aux.to_scalar().unwrap(),
            losses.class_logits.to_vec().unwrap(),
        )
    }

    #[test]
    fn the_digit_head_learns_from_real_images_only_by_default() {
        let x = Tensor::uniform(&Cpu, [4, 28, 28, 1], -1.0, 1.0, 9).unwrap();
        let gan = Acgan::new(Cpu, AcganConfig::default()).unwrap();
        let (a, classes) = digit_loss(&gan, &x, &[0, 1]);
        let (b, _) = digit_loss(&gan, &x, &[5, 9]);
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "the sampled digits must not count"
        );
        let by_hand = mean_cross_entropy(&classes[..2 * CLASSES], &[3, 7]);
        assert!((a as f64 - by_hand).abs() < 1e-5, "{a} vs {by_hand}");

        let config = AcganConfig {
            aux_on_generated: true,
            ..AcganConfig::default()
        };
        let gan = Acgan::new(Cpu, config).unwrap();
        let (a, classes) = digit_loss(&gan, &x, &[0, 1]);
        let (b, _) = digit_loss(&gan, &x, &[5, 9]);
        assert_ne!(a, b);
        let by_hand = mean_cross_entropy(&classes, &[3, 7, 0, 1]);
        assert!((a as f64 - by_hand).abs() < 1e-5, "{a} vs {by_hand}");
    }

    #[test]
    fn discriminator_losses_refuse_a_mismatched_batch() {
        let gan = Acgan::new(Cpu, AcganConfig::default()).unwrap();
        let x = Tensor::zeros(&Cpu, [3, 28, 28, 1]).unwrap();
        let Err(err) = gan.discriminator_losses(&x, &[3, 7], &[0, 1], Mode::Eval) else {
            panic!("a batch of 3 images for 2 + 2 was accepted");
        };
        assert!(err.to_string().contains("2 real and 2 generated"), "{err}");
    }
}
