//! Training and sampling driver of the `gan` binary.

use crate::cli::CommonArgs;
use crate::data::load_mnist;
use crate::gan::{Gan, GanConfig, LATENT, PIXELS, StepStats};
use crate::plot::image_grid;
use nn::Checkpoint;
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor};
use train::Result;
use train::save_png;
use train::{MetricsLog, StepBatches, StepModel, plot_metrics, train_loop};

/// Default number of iterations of the headline run: where the Inception Score of the
/// averaged generator peaks on the bundled 8,000 training digits. Measured with
/// `examples/gan_is_sweep.rs` (seed 42, mean of three 1,000-digit draws, weight average
/// 0.999, the 15-epoch scoring classifier): 8,000 steps 7.71, 12,000 8.09, 16,000 8.30,
/// 20,000 8.22, 24,000 8.19, 28,000 8.08 (averages of 0.9995 and 0.9998 are no better).
/// At batch 32, 20,000 steps are 80 passes over the 8,000 digits; after that D starts to
/// overfit them (with the full 60,000-digit MNIST via --data-dir, train longer).
pub const DEFAULT_STEPS: u64 = 20_000;
/// Images written to `samples.idx3-ubyte` at the end of a run.
pub const EXPORT_COUNT: usize = 1000;

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct GanReport {
    pub dir: PathBuf,
    pub steps: u64,
    pub steps_per_sec: f64,
    pub last: StepStats,
    pub interrupted: bool,
}

/// Trains the GAN as the binary does and writes everything into the run directory.
/// `ema_decay` is the decay of the generator average used for samples (0: none).
pub fn train<B: Backend>(backend: B, args: &CommonArgs, ema_decay: f32) -> Result<GanReport> {
    let mnist = load_mnist(args.data_dir.as_deref())?;
    let train = &mnist.train;
    let pixels = train.to_f32_signed();
    let config = GanConfig {
        batch_size: args.batch_size.unwrap_or(32),
        lr: args.lr.unwrap_or(2e-4),
        seed: args.seed,
        ema_decay,
        ..GanConfig::default()
    };
    let batches = StepBatches::new("gan", train.len(), config.batch_size, config.seed)?;
    let batches_per_epoch = batches.per_epoch();
    let total = crate::cli::total_steps(args, batches_per_epoch, DEFAULT_STEPS)?;
    let mut gan = Gan::new(backend.clone(), config.clone())?;
    let dir = train::open_run(&mut gan, &args.run_options())?;
    eprintln!(
        "gan: backend {}, {} training images, batch {}, {} steps, run directory {}",
        backend.name(),
        train.len(),
        config.batch_size,
        total,
        dir.display()
    );
    // Fixed latent vectors: every grid shows the same 100 points of the latent space.
    let fixed_z = Tensor::normal(&backend, [100, LATENT], 0.0, 1.0, config.seed ^ 0x5eed)?;
    let mut steps = GanSteps {
        gan,
        batches,
        pixels: &pixels,
        fixed_z,
    };
    let end = train_loop(
        &mut steps,
        total,
        &args.loop_options(args.sample_every.unwrap_or(1000)),
        &dir,
    )?;
    let GanSteps { gan, fixed_z, .. } = steps;
    save_grid(&gan, &fixed_z, &dir.join("samples.png"))?;
    export_samples(
        &gan,
        EXPORT_COUNT,
        config.seed ^ 0xe4_0a7,
        &dir.join("samples.idx3-ubyte"),
    )?;
    plot_losses(&end.metrics, &dir.join("loss.png"))?;
    Ok(GanReport {
        dir: dir.to_path_buf(),
        steps: gan.step,
        steps_per_sec: end.steps_per_sec,
        last: end.last.unwrap_or_default(),
        interrupted: end.interrupted,
    })
}

/// The GAN with its data, as the shared training loop drives it.
struct GanSteps<'a, B: Backend> {
    gan: Gan<B>,
    batches: StepBatches,
    pixels: &'a [f32],
    fixed_z: Tensor<B>,
}

impl<B: Backend> StepModel for GanSteps<'_, B> {
    type Stats = StepStats;
    type Saved = Gan<B>;

    fn saved(&self) -> &Gan<B> {
        &self.gan
    }

    fn train_step(&mut self) -> Result<StepStats> {
        let batch_size = self.gan.config.batch_size;
        let idx = self.batches.indices(self.gan.step);
        let batch = datasets::gather_rows(self.pixels, PIXELS, idx)?;
        let real = Tensor::from_vec(&self.gan.backend, batch, [batch_size, PIXELS])?;
        Ok(self.gan.train_step(&real)?)
    }

    fn losses(stats: &StepStats) -> Vec<(&'static str, f32)> {
        vec![
            ("discriminator loss", stats.d_loss()),
            ("generator loss", stats.g_loss),
        ]
    }

    fn progress(&self, stats: &StepStats) -> String {
        format!(
            "D loss {:.3} acc {:.0}% G loss {:.3}",
            stats.d_loss(),
            100.0 * stats.d_acc,
            stats.g_loss
        )
    }

    fn record(&self, stats: &StepStats) -> Result<(serde_json::Value, String)> {
        let record = serde_json::json!({
            "d_loss": stats.d_loss(),
            "d_acc": stats.d_acc,
            "g_loss": stats.g_loss,
        });
        Ok((record, String::new()))
    }

    fn save_samples(&self, path: &Path) -> Result<()> {
        save_grid(&self.gan, &self.fixed_z, path)
    }
}

/// [`train`] with the default generator average.
pub fn train_default<B: Backend>(backend: B, args: &CommonArgs) -> Result<GanReport> {
    train(backend, args, GanConfig::default().ema_decay)
}

/// A 10x10 grid of the generator's images for `z`.
pub fn save_grid<B: Backend>(gan: &Gan<B>, z: &Tensor<B>, path: &Path) -> Result<()> {
    let images = gan.sample(z)?.to_vec()?;
    let rows = z.dims()[0].div_ceil(10);
    save_png(path, &image_grid(&images, 28, 28, rows, 10, (-1.0, 1.0), 2))
}

/// Writes `count` generated images as an MNIST IDX file (uint8, 28x28).
pub fn export_samples<B: Backend>(
    gan: &Gan<B>,
    count: usize,
    seed: u64,
    path: &Path,
) -> Result<()> {
    let mut bytes = Vec::with_capacity(count * PIXELS);
    let chunk = 250;
    let mut made = 0;
    while made < count {
        let n = chunk.min(count - made);
        let z = gan.noise(n, seed.wrapping_add(made as u64))?;
        bytes.extend(datasets::normalize::signed_to_u8(
            &gan.sample(&z)?.to_vec()?,
        ));
        made += n;
    }
    Ok(datasets::write_idx_images(path, &bytes, count, 28, 28)?)
}

/// Loss curves of D and G from the metrics log.
pub fn plot_losses(metrics: &MetricsLog, path: &Path) -> Result<()> {
    plot_metrics(
        metrics,
        path,
        "MLP GAN on MNIST",
        "binary cross-entropy",
        &[("d_loss", "discriminator"), ("g_loss", "generator")],
    )
}

/// `gan sample`: images from a checkpoint's generator into an IDX file and a grid PNG
/// beside it ([`crate::cli::grid_name`]).
pub fn sample<B: Backend>(
    backend: B,
    checkpoint: &Path,
    count: usize,
    seed: u64,
    output: &Path,
) -> Result<()> {
    // Validated before any work: the picture's path, and the memory of the export
    // (the images, their bytes and the file's buffer).
    let grid = crate::cli::grid_path_for(output, checkpoint)?;
    crate::cli::check_fits(
        &format!("exporting {count} digits"),
        count as u128 * PIXELS as u128 * 3,
    )?;
    let ck = Checkpoint::load(checkpoint)?;
    let mut gan = Gan::new(backend, GanConfig::default())?;
    gan.restore_generator(&ck)?;
    export_samples(&gan, count, seed, output)?;
    let z = gan.noise(100.min(count.max(1)), seed)?;
    save_grid(&gan, &z, &grid)
}
