//! The toy 1-D GAN (SEEDS.md section 2): a GAN that learns a one-dimensional
//! distribution, a Gaussian by default or a mixture of two Gaussians.
//!
//! Generator: stratified noise z in [-8, 8] (as the article) -> `layers` x (Dense
//! `hidden` -> activation) -> Dense 1. Discriminator: x -> `layers` x (Dense
//! `2 * hidden` -> activation) -> Dense 1 (a logit; the sigmoid lives in the loss);
//! like the article's, D is wider than G. Adam (beta1 0.5), binary cross-entropy
//! from logits; each iteration trains D `d_steps` times (5 by default) on a real batch
//! (label 1) and a generated one (label 0), then G through the frozen D with target 1.
//!
//! Without the article's minibatch features, plain GAN training of this toy tends to
//! collapse G to a narrow spike (with one D step per G step and D as wide as G, std
//! 0.03 instead of 0.5); a D twice as wide as G and five D steps per G step, two of the
//! usual remedies, are enough here: 26 of 31 seeds end within 10% of the target's mean
//! and standard deviation after the default 3000 iterations (25 of 28 with tanh). The
//! default activation is leaky ReLU: G is then piecewise linear and its density close
//! to the Gaussian's shape, where tanh units saturate at the ends of the noise range
//! and pile samples up at the edges.
//!
//! The article's suggested extensions are options: the densities and D's decision
//! curve are plotted before and after training, the activation and the number and
//! width of the hidden layers can be changed, and the target can be a mixture.

use crate::adversarial::{discriminator_step, generator_step};
use crate::cli::CommonArgs;
use clap::{Args, ValueEnum};
use datasets::toy1d::{density_histogram, linspace, stratified_noise};
use datasets::{Distribution1d, Gaussian, GaussianMixture};
use nn::{Activation, Adam, Checkpoint, Dense, Mode, Module, Seeds, Sequential};
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor, no_grad};
use train::{Checkpointed, MetricsLog, StepModel, train_loop};
use train::{Error, Result};
use train::{Series, line_chart};

/// Default number of iterations.
pub const DEFAULT_STEPS: u64 = 3000;
/// Default batch size.
pub const DEFAULT_BATCH: usize = 256;
/// Default Adam learning rate.
pub const DEFAULT_LR: f32 = 1e-3;
/// The generator's noise covers `[-NOISE_RANGE, NOISE_RANGE]` (the article's value).
pub const NOISE_RANGE: f64 = 8.0;
/// Samples drawn to estimate the generated density and its moments.
pub const EVAL_SAMPLES: usize = 10_000;

/// What the GAN learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// N(mean, std^2).
    Gaussian,
    /// Two equal-weight Gaussians N(mean - gap/2, std^2) and N(mean + gap/2, std^2).
    Mixture,
}

/// The generator's input noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NoiseKind {
    /// The article's: evenly spaced points over [-8, 8], slightly jittered.
    Stratified,
    /// Standard normal.
    Normal,
}

/// Hidden-layer activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ActivationKind {
    Tanh,
    Relu,
    LeakyRelu,
}

impl ActivationKind {
    /// The `nn` activation (leaky ReLU with slope 0.2, as the GANs of the project).
    pub fn activation(self) -> Activation {
        match self {
            ActivationKind::Tanh => Activation::Tanh,
            ActivationKind::Relu => Activation::Relu,
            ActivationKind::LeakyRelu => Activation::LeakyRelu(0.2),
        }
    }
}

/// Options of the toy GAN beyond [`CommonArgs`].
#[derive(Args, Clone, Debug)]
pub struct ToyGanOptions {
    /// Distribution to learn.
    #[arg(long, value_enum, default_value = "gaussian")]
    pub target: TargetKind,
    /// Mean of the Gaussian (the centre of the mixture).
    #[arg(long, default_value_t = 4.0, allow_negative_numbers = true, value_parser = crate::cli::finite_f64)]
    pub mean: f64,
    /// Standard deviation of the Gaussian (of each mixture component).
    #[arg(long, default_value_t = 0.5, value_parser = crate::cli::positive_f64)]
    pub std: f64,
    /// Distance between the two mixture components' means.
    #[arg(long, default_value_t = 4.0, value_parser = crate::cli::positive_f64)]
    pub gap: f64,
    /// Activation of the hidden layers of both networks (leaky ReLU: slope 0.2).
    #[arg(long, value_enum, default_value = "leaky-relu")]
    pub activation: ActivationKind,
    /// Hidden layers in each network.
    #[arg(long, default_value_t = 2)]
    pub layers: usize,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 16, value_parser = crate::cli::positive_usize)]
    pub hidden: usize,
    /// Discriminator updates per generator update.
    #[arg(long, default_value_t = 5, value_parser = crate::cli::positive_usize)]
    pub d_steps: usize,
    /// Generator input noise.
    #[arg(long, value_enum, default_value = "stratified")]
    pub noise: NoiseKind,
    /// Learning-rate decay: the rate is multiplied by this every 150 iterations, as the
    /// article's `tf.train.exponential_decay(lr, step, 150, 0.95, staircase=True)`
    /// (1: constant, which works better with Adam here).
    #[arg(long, default_value_t = 1.0, value_parser = crate::cli::positive_f64)]
    pub lr_decay: f64,
}

impl Default for ToyGanOptions {
    fn default() -> Self {
        ToyGanOptions {
            target: TargetKind::Gaussian,
            mean: 4.0,
            std: 0.5,
            gap: 4.0,
            activation: ActivationKind::LeakyRelu,
            layers: 2,
            hidden: 16,
            d_steps: 5,
            lr_decay: 1.0,
            noise: NoiseKind::Stratified,
        }
    }
}

/// The target distribution with its true moments.
#[derive(Clone, Debug)]
pub enum Target {
    Gaussian(Gaussian),
    Mixture(GaussianMixture),
}

impl Target {
    /// The target described by `opts`.
    pub fn from_options(opts: &ToyGanOptions) -> Result<Self> {
        let bad = |e: datasets::DatasetError| Error::argument("toy_gan", e.to_string());
        Ok(match opts.target {
            TargetKind::Gaussian => {
                Target::Gaussian(Gaussian::new(opts.mean, opts.std).map_err(bad)?)
            }
            TargetKind::Mixture => {
                let half = opts.gap / 2.0;
                Target::Mixture(
                    GaussianMixture::two(
                        0.5,
                        Gaussian::new(opts.mean - half, opts.std).map_err(bad)?,
                        0.5,
                        Gaussian::new(opts.mean + half, opts.std).map_err(bad)?,
                    )
                    .map_err(bad)?,
                )
            }
        })
    }

    /// The distribution, for sampling and its density.
    pub fn dist(&self) -> &dyn Distribution1d {
        match self {
            Target::Gaussian(g) => g,
            Target::Mixture(m) => m,
        }
    }

    /// `(mean, standard deviation)` of the target.
    pub fn moments(&self) -> (f64, f64) {
        match self {
            Target::Gaussian(g) => (g.mean, g.std),
            Target::Mixture(m) => {
                let mean: f64 = m.components().iter().map(|(w, g)| w * g.mean).sum();
                let second: f64 = m
                    .components()
                    .iter()
                    .map(|(w, g)| w * (g.std * g.std + g.mean * g.mean))
                    .sum();
                (mean, (second - mean * mean).max(0.0).sqrt())
            }
        }
    }

    /// A plotting range that holds nearly all of the target's mass.
    pub fn range(&self) -> (f64, f64) {
        match self {
            Target::Gaussian(g) => (g.mean - 4.0 * g.std, g.mean + 4.0 * g.std),
            Target::Mixture(m) => m
                .components()
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), (_, g)| {
                    (lo.min(g.mean - 4.0 * g.std), hi.max(g.mean + 4.0 * g.std))
                }),
        }
    }

    /// Short name for titles and metadata.
    pub fn name(&self) -> String {
        match self {
            Target::Gaussian(g) => format!("N({}, {}^2)", g.mean, g.std),
            Target::Mixture(m) => m
                .components()
                .iter()
                .map(|(w, g)| format!("{w:.2} N({}, {}^2)", g.mean, g.std))
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }
}

/// A multilayer perceptron 1 -> hidden^layers -> 1 (the last layer linear).
pub fn mlp<B: Backend>(
    be: &B,
    layers: usize,
    hidden: usize,
    activation: Activation,
    seeds: &mut Seeds,
) -> Result<Sequential<B>> {
    if hidden == 0 {
        return Err(Error::argument("toy_gan", "--hidden must be positive"));
    }
    let mut net = Sequential::new();
    let mut width = 1;
    for _ in 0..layers {
        net = net.add(Dense::new(be, width, hidden, seeds)?.activation(activation));
        width = hidden;
    }
    Ok(net.add(Dense::new(be, width, 1, seeds)?))
}

/// Losses of one iteration (the last D update's).
#[derive(Clone, Copy, Debug, Default)]
pub struct ToyStepStats {
    pub d_loss_real: f32,
    pub d_loss_fake: f32,
    pub g_loss: f32,
}

impl ToyStepStats {
    /// Mean of the real and fake D losses.
    pub fn d_loss(&self) -> f32 {
        0.5 * (self.d_loss_real + self.d_loss_fake)
    }
}

/// The two networks, their optimizers, the target and the step count.
pub struct ToyGan<B: Backend> {
    pub backend: B,
    pub generator: Sequential<B>,
    pub discriminator: Sequential<B>,
    pub opt_g: Adam<B>,
    pub opt_d: Adam<B>,
    pub target: Target,
    pub batch_size: usize,
    pub d_steps: usize,
    /// Initial learning rate of both optimizers.
    pub lr: f32,
    /// Factor applied to the learning rate every [`DECAY_STEPS`] iterations.
    pub lr_decay: f64,
    pub noise_kind: NoiseKind,
    /// The hidden layers' activation.
    pub activation: ActivationKind,
    pub seed: u64,
    pub step: u64,
}

/// Iterations between two learning-rate decays (the article's value).
pub const DECAY_STEPS: u64 = 150;

impl<B: Backend> ToyGan<B> {
    /// Fresh networks from `seed`.
    pub fn new(
        backend: B,
        opts: &ToyGanOptions,
        batch_size: usize,
        lr: f32,
        seed: u64,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::argument("toy_gan", "--batch-size must be positive"));
        }
        let target = Target::from_options(opts)?;
        let mut seeds = Seeds::new(seed);
        let act = opts.activation.activation();
        let generator = mlp(&backend, opts.layers, opts.hidden, act, &mut seeds)?;
        let discriminator = mlp(&backend, opts.layers, 2 * opts.hidden, act, &mut seeds)?;
        let opt = || Adam::new(lr).beta1(0.5);
        Ok(ToyGan {
            backend,
            generator,
            discriminator,
            opt_g: opt(),
            opt_d: opt(),
            target,
            batch_size,
            d_steps: opts.d_steps.max(1),
            lr,
            lr_decay: opts.lr_decay,
            noise_kind: opts.noise,
            activation: opts.activation,
            seed,
            step: 0,
        })
    }

    /// The learning rate of the coming iteration (staircase exponential decay).
    pub fn current_lr(&self) -> f32 {
        (self.lr as f64 * self.lr_decay.powf((self.step / DECAY_STEPS) as f64)) as f32
    }

    fn step_seed(&self, stream: u64) -> u64 {
        crate::adversarial::step_seed(self.seed, self.step, 64, stream)
    }

    /// Generator noise `[n, 1]`.
    pub fn noise(&self, n: usize, seed: u64) -> Result<Tensor<B>> {
        match self.noise_kind {
            NoiseKind::Stratified => Ok(Tensor::from_vec(
                &self.backend,
                stratified_noise(n, NOISE_RANGE, seed),
                [n, 1],
            )?),
            NoiseKind::Normal => Ok(Tensor::normal(&self.backend, [n, 1], 0.0, 1.0, seed)?),
        }
    }

    /// `n` samples of the target as `[n, 1]`.
    pub fn real(&self, n: usize, seed: u64) -> Result<Tensor<B>> {
        Ok(Tensor::from_vec(
            &self.backend,
            self.target.dist().sample(n, seed),
            [n, 1],
        )?)
    }

    /// `n` generated samples (inference mode).
    pub fn generate(&self, n: usize, seed: u64) -> Result<Vec<f32>> {
        let z = self.noise(n, seed)?;
        Ok(no_grad(|| self.generator.forward(&z, Mode::Eval))?.to_vec()?)
    }

    /// D's probability that each of `xs` is real.
    pub fn decision(&self, xs: &[f64]) -> Result<Vec<f32>> {
        let x: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
        let x = Tensor::from_vec(&self.backend, x, [xs.len(), 1])?;
        Ok(no_grad(|| self.discriminator.forward(&x, Mode::Eval)?.sigmoid())?.to_vec()?)
    }

    fn d_loss(&mut self, x: &Tensor<B>, label: f32) -> Result<f32> {
        Ok(discriminator_step(&self.discriminator, &mut self.opt_d, x, label)?.0)
    }

    /// One iteration: `d_steps` D updates on real and generated batches, then one G update.
    pub fn train_step(&mut self) -> Result<ToyStepStats> {
        let n = self.batch_size;
        let lr = self.current_lr();
        self.opt_d.lr = lr;
        self.opt_g.lr = lr;
        let mut stats = ToyStepStats::default();
        for k in 0..self.d_steps as u64 {
            let real = self.real(n, self.step_seed(2 * k))?;
            stats.d_loss_real = self.d_loss(&real, 1.0)?;
            let z = self.noise(n, self.step_seed(2 * k + 1))?;
            let fake = no_grad(|| self.generator.forward(&z, Mode::Train))?;
            stats.d_loss_fake = self.d_loss(&fake, 0.0)?;
        }
        let z = self.noise(n, self.step_seed(63))?;
        stats.g_loss = generator_step(&self.generator, &self.discriminator, &mut self.opt_g, &z)?;
        self.step += 1;
        Ok(stats)
    }

    /// Mean and standard deviation of `EVAL_SAMPLES` generated samples.
    pub fn generated_moments(&self) -> Result<(f64, f64)> {
        Ok(moments(&self.generate(EVAL_SAMPLES, self.seed ^ 0xe7a1)?))
    }
}

/// Both networks, both optimizers and the step count.
impl<B: Backend> Checkpointed for ToyGan<B> {
    const MODEL: &'static str = "toy_gan";

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("target", self.target.name()),
            ("activation", format!("{:?}", self.activation)),
            ("noise", format!("{:?}", self.noise_kind)),
        ]
    }

    fn steps_done(&self) -> u64 {
        self.step
    }

    fn save_parts(&self, ck: &mut Checkpoint) -> train::Result<()> {
        ck.insert_module("generator.", &self.generator)?;
        ck.insert_module("discriminator.", &self.discriminator)?;
        ck.insert_optimizer("opt_g.", &self.opt_g)?;
        ck.insert_optimizer("opt_d.", &self.opt_d)?;
        ck.metadata.insert("target".into(), self.target.name());
        Ok(())
    }

    fn restore_parts(&mut self, ck: &Checkpoint, step: u64) -> train::Result<()> {
        ck.restore_module("generator.", &self.generator, &self.backend)?;
        ck.restore_module("discriminator.", &self.discriminator, &self.backend)?;
        ck.restore_optimizer("opt_g.", &mut self.opt_g, &self.backend)?;
        ck.restore_optimizer("opt_d.", &mut self.opt_d, &self.backend)?;
        self.step = step;
        Ok(())
    }
}

/// `(mean, population standard deviation)` of `samples`.
pub fn moments(samples: &[f32]) -> (f64, f64) {
    let n = samples.len().max(1) as f64;
    let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = samples
        .iter()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// Plots the real density, the generated density (histogram of 10,000 samples) and
/// D's output over x.
pub fn plot_state<B: Backend>(gan: &ToyGan<B>, title: &str, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    let samples = gan.generate(EVAL_SAMPLES, gan.seed ^ 0xe7a1)?;
    let (mut lo, mut hi) = gan.target.range();
    // Widen to show where the generator's mass is too, within reason.
    let mut sorted: Vec<f32> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    if !sorted.is_empty() {
        let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize] as f64;
        lo = lo.min(q(0.005)).max(-50.0);
        hi = hi.max(q(0.995)).min(50.0);
    }
    let bins = 100;
    let hist = density_histogram(&samples, lo, hi, bins)
        .map_err(|e| Error::argument("toy_gan", e.to_string()))?;
    let width = (hi - lo) / bins as f64;
    let xs = linspace(lo, hi, 400);
    let real: Vec<(f64, f64)> = xs
        .iter()
        .zip(gan.target.dist().pdf_curve(&xs))
        .map(|(&x, p)| (x, p))
        .collect();
    let generated: Vec<(f64, f64)> = hist
        .iter()
        .enumerate()
        .map(|(i, &d)| (lo + (i as f64 + 0.5) * width, d))
        .collect();
    let decision: Vec<(f64, f64)> = xs
        .iter()
        .zip(gan.decision(&xs)?)
        .map(|(&x, d)| (x, d as f64))
        .collect();
    line_chart(
        path,
        title,
        "x",
        "density / D(x)",
        &[
            Series {
                name: format!("real density {}", gan.target.name()),
                points: real,
            },
            Series {
                name: format!("generated density ({EVAL_SAMPLES} samples)"),
                points: generated,
            },
            Series {
                name: "discriminator D(x)".into(),
                points: decision,
            },
        ],
    )
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct ToyGanReport {
    pub dir: PathBuf,
    pub steps: u64,
    pub steps_per_sec: f64,
    pub last: ToyStepStats,
    /// Moments of 10,000 generated samples after training.
    pub mean: f64,
    pub std: f64,
    /// Moments of the target.
    pub target_mean: f64,
    pub target_std: f64,
    pub interrupted: bool,
}

/// Trains the toy GAN as the binary does and writes everything into the run directory:
/// before.png, after.png (densities and D's curve), samples/step_*.png, metrics.jsonl,
/// loss.png and checkpoint.safetensors.
pub fn train<B: Backend>(
    backend: B,
    args: &CommonArgs,
    opts: &ToyGanOptions,
) -> Result<ToyGanReport> {
    let batch = args.batch_size.unwrap_or(DEFAULT_BATCH);
    // Every example's activations and their gradients, through both networks.
    let floats_per_example = (opts.layers as u128 + 1) * opts.hidden as u128 * 3 * 4;
    crate::cli::check_fits(
        &format!(
            "--batch-size {batch} (with --layers {} --hidden {})",
            opts.layers, opts.hidden
        ),
        batch as u128 * floats_per_example * 4,
    )?;
    // The weights (G's hidden x hidden, D's twice as wide) with their gradients and
    // Adam's two moments.
    let weights = opts.layers as u128 * (opts.hidden as u128).pow(2) * 5;
    crate::cli::check_fits(
        &format!("--layers {} --hidden {}", opts.layers, opts.hidden),
        weights * 4 * 4,
    )?;
    let lr = args.lr.unwrap_or(DEFAULT_LR);
    // There is no dataset: an "epoch" is taken as 100 iterations.
    let total = crate::cli::total_steps(args, 100, DEFAULT_STEPS)?;
    let mut gan = ToyGan::new(backend.clone(), opts, batch, lr, args.seed)?;
    let dir = train::open_run(&mut gan, &args.run_options())?;
    let (target_mean, target_std) = gan.target.moments();
    eprintln!(
        "toy_gan: backend {}, target {}, batch {batch}, {total} steps, run directory {}",
        backend.name(),
        gan.target.name(),
        dir.display()
    );
    plot_state(
        &gan,
        &format!("toy GAN before training (step {})", gan.step),
        &dir.join("before.png"),
    )?;
    let end = train_loop(
        &mut gan,
        total,
        &args.loop_options(args.sample_every.unwrap_or(0)),
        &dir,
    )?;
    plot_state(
        &gan,
        &format!("toy GAN after training (step {})", gan.step),
        &dir.join("after.png"),
    )?;
    plot_losses(&end.metrics, &dir.join("loss.png"))?;
    let (mean, std) = gan.generated_moments()?;
    Ok(ToyGanReport {
        dir: dir.to_path_buf(),
        steps: gan.step,
        steps_per_sec: end.steps_per_sec,
        last: end.last.unwrap_or_default(),
        mean,
        std,
        target_mean,
        target_std,
        interrupted: end.interrupted,
    })
}

impl<B: Backend> StepModel for ToyGan<B> {
    type Stats = ToyStepStats;
    type Saved = ToyGan<B>;

    fn saved(&self) -> &ToyGan<B> {
        self
    }

    fn train_step(&mut self) -> Result<ToyStepStats> {
        // The inherent method (inherent methods take precedence).
        ToyGan::train_step(self)
    }

    fn losses(stats: &ToyStepStats) -> Vec<(&'static str, f32)> {
        vec![
            ("discriminator loss", stats.d_loss()),
            ("generator loss", stats.g_loss),
        ]
    }

    fn progress(&self, stats: &ToyStepStats) -> String {
        format!("D loss {:.3} G loss {:.3}", stats.d_loss(), stats.g_loss)
    }

    fn record(&self, stats: &ToyStepStats) -> Result<(serde_json::Value, String)> {
        let (mean, std) = moments(&self.generate(1000, self.seed ^ 0xe7a1)?);
        let record = serde_json::json!({
            "d_loss": stats.d_loss(),
            "g_loss": stats.g_loss,
            "gen_mean": mean,
            "gen_std": std,
        });
        Ok((record, format!(" generated mean {mean:.3} std {std:.3}")))
    }

    fn save_samples(&self, path: &Path) -> Result<()> {
        plot_state(self, &format!("toy GAN at step {}", self.step), path)
    }
}

/// Loss curves of D and G from the metrics log.
pub fn plot_losses(metrics: &MetricsLog, path: &Path) -> Result<()> {
    train::plot_metrics(
        metrics,
        path,
        "toy 1-D GAN",
        "binary cross-entropy",
        &[("d_loss", "discriminator"), ("g_loss", "generator")],
    )
}
