//! Training and sampling driver of the `acgan` binary.

use crate::acgan::{Acgan, AcganConfig, AcganStats, CLASSES, DEFAULT_EMA_DECAY, PIXELS};
use crate::cli::CommonArgs;
use crate::data::load_mnist;
use crate::plot::image_grid;
use clap::Args;
use nn::Checkpoint;
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor};
use train::save_png;
use train::{Error, Result};
use train::{MetricsLog, StepBatches, StepModel, plot_metrics, train_loop};

/// Default batch size: smaller than Keras' 100 so that the default CPU run fits in
/// well under 30 minutes (the generator is trained on twice the batch).
pub const DEFAULT_BATCH: usize = 32;
/// Default number of iterations: 0.78-1.25 s each at batch 32 on the 2-core CPU
/// build machine (776 s of training for the whole default run at seed 42 on a quiet
/// host, 1,249 s on a slow day), plus the grids, the export and the one-time scoring
/// classifier: under 30 minutes.
pub const DEFAULT_STEPS: u64 = 1000;
/// Images written to `samples.idx3-ubyte` at the end of a run (100 per digit).
pub const EXPORT_COUNT: usize = 1000;

/// Options of the `acgan` binary beyond [`CommonArgs`].
#[derive(Args, Clone, Debug)]
pub struct AcganOptions {
    /// Generated digits written to samples.idx3-ubyte at the end (the same number of each
    /// digit; 0: no export).
    #[arg(long, default_value_t = EXPORT_COUNT)]
    pub export_count: usize,
    /// Columns of the sample grids: each row shows one digit in this many styles (0: no
    /// grids).
    #[arg(long, default_value_t = 10)]
    pub grid_columns: usize,
    /// Decay of the moving average of the generator's weights that the grids and the
    /// exported digits come from (0: the trained generator itself, as the Keras
    /// original).
    #[arg(long, default_value_t = DEFAULT_EMA_DECAY, value_parser = crate::cli::decay)]
    pub ema_decay: f32,
}

impl Default for AcganOptions {
    fn default() -> Self {
        AcganOptions {
            export_count: EXPORT_COUNT,
            grid_columns: 10,
            ema_decay: DEFAULT_EMA_DECAY,
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct AcganReport {
    pub dir: PathBuf,
    pub steps: u64,
    pub steps_per_sec: f64,
    pub last: AcganStats,
    pub interrupted: bool,
}

/// Trains the ACGAN as the binary does and writes everything into the run directory.
pub fn train<B: Backend>(
    backend: B,
    args: &CommonArgs,
    opts: &AcganOptions,
) -> Result<AcganReport> {
    let mnist = load_mnist(args.data_dir.as_deref())?;
    let train = &mnist.train;
    let pixels = train.to_f32_signed();
    let config = AcganConfig {
        batch_size: args.batch_size.unwrap_or(DEFAULT_BATCH),
        lr: args.lr.unwrap_or(2e-4),
        seed: args.seed,
        ema_decay: opts.ema_decay,
        ..AcganConfig::default()
    };
    let mut gan = Acgan::new(backend.clone(), config.clone())?;
    let batches = StepBatches::new("acgan", train.len(), config.batch_size, config.seed)?;
    let batches_per_epoch = batches.per_epoch();
    let total = crate::cli::total_steps(args, batches_per_epoch, DEFAULT_STEPS)?;
    check_sizes(opts.export_count, opts.grid_columns)?;
    let dir = train::open_run(&mut gan, &args.run_options())?;
    eprintln!(
        "acgan: backend {}, {} training images, batch {} (generator: {}), {} steps, run directory {}",
        backend.name(),
        train.len(),
        config.batch_size,
        2 * config.batch_size,
        total,
        dir.display()
    );
    let (grid_z, grid_labels) = grid_inputs(&gan, None, opts.grid_columns, config.seed ^ 0x5eed)?;
    let mut steps = AcganSteps {
        gan,
        batches,
        train,
        pixels: &pixels,
        grid: (opts.grid_columns > 0).then_some((grid_z, grid_labels)),
    };
    let end = train_loop(
        &mut steps,
        total,
        &args.loop_options(args.sample_every.unwrap_or(100)),
        &dir,
    )?;
    let AcganSteps { gan, grid, .. } = steps;
    if let Some((grid_z, grid_labels)) = &grid {
        save_grid(&gan, grid_z, grid_labels, &dir.join("samples.png"))?;
    }
    if opts.export_count > 0 {
        export_samples(
            &gan,
            &export_labels(opts.export_count, None),
            config.seed ^ 0xe4_0a7,
            &dir.join("samples.idx3-ubyte"),
            &dir.join("samples-labels.idx1-ubyte"),
        )?;
    }
    plot_losses(&end.metrics, &dir.join("loss.png"))?;
    Ok(AcganReport {
        dir: dir.to_path_buf(),
        steps: gan.step,
        steps_per_sec: end.steps_per_sec,
        last: end.last.unwrap_or_default(),
        interrupted: end.interrupted,
    })
}

/// The ACGAN with its data, as the shared training loop drives it.
struct AcganSteps<'a, B: Backend> {
    gan: Acgan<B>,
    batches: StepBatches,
    train: &'a datasets::ImageSet,
    pixels: &'a [f32],
    /// Latent vectors and labels of the sample grids (none without grids).
    grid: Option<(Tensor<B>, Vec<usize>)>,
}

impl<B: Backend> StepModel for AcganSteps<'_, B> {
    type Stats = AcganStats;
    type Saved = Acgan<B>;

    fn saved(&self) -> &Acgan<B> {
        &self.gan
    }

    fn train_step(&mut self) -> Result<AcganStats> {
        let batch_size = self.gan.config.batch_size;
        let idx = self.batches.indices(self.gan.step);
        let batch = datasets::gather_rows(self.pixels, PIXELS, idx)?;
        let real = Tensor::from_vec(&self.gan.backend, batch, [batch_size, 28, 28, 1])?;
        let labels: Vec<usize> = idx.iter().map(|&i| self.train.labels[i] as usize).collect();
        Ok(self.gan.train_step(&real, &labels)?)
    }

    fn losses(stats: &AcganStats) -> Vec<(&'static str, f32)> {
        vec![
            ("discriminator loss", stats.d_loss()),
            ("generator loss", stats.g_loss()),
        ]
    }

    fn progress(&self, stats: &AcganStats) -> String {
        format!(
            "D loss {:.3} (fake {:.3} aux {:.3}) acc {:.0}% aux acc {:.0}% G loss {:.3}",
            stats.d_loss(),
            stats.d_fake_loss,
            stats.d_aux_loss,
            100.0 * stats.d_acc,
            100.0 * stats.aux_acc_real,
            stats.g_loss()
        )
    }

    fn record(&self, stats: &AcganStats) -> Result<(serde_json::Value, String)> {
        let record = serde_json::json!({
            "d_loss": stats.d_loss(),
            "d_fake_loss": stats.d_fake_loss,
            "d_aux_loss": stats.d_aux_loss,
            "d_acc": stats.d_acc,
            "aux_acc_real": stats.aux_acc_real,
            "g_loss": stats.g_loss(),
            "g_fake_loss": stats.g_fake_loss,
            "g_aux_loss": stats.g_aux_loss,
        });
        Ok((record, String::new()))
    }

    fn save_samples(&self, path: &Path) -> Result<()> {
        match &self.grid {
            Some((z, labels)) => save_grid(&self.gan, z, labels, path),
            None => Ok(()),
        }
    }
}

/// Inputs of a grid of 10 rows and `columns` columns: row r shows digit r (or every row
/// digit `class` when given). Without a class the columns share their latent vectors
/// across rows, so a column keeps its style.
pub fn grid_inputs<B: Backend>(
    gan: &Acgan<B>,
    class: Option<usize>,
    columns: usize,
    seed: u64,
) -> Result<(Tensor<B>, Vec<usize>)> {
    let columns = columns.max(1);
    let n = CLASSES * columns;
    let labels: Vec<usize> = match class {
        Some(k) => vec![k; n],
        None => (0..n).map(|i| i / columns).collect(),
    };
    let z = match class {
        // A single digit: every cell a different style of it.
        Some(_) => gan.noise(n, seed)?,
        None => {
            let row = gan.noise(columns, seed)?;
            Tensor::concat(&vec![row; CLASSES], 0)?
        }
    };
    Ok((z, labels))
}

/// A grid of the generator's images for `z` and `labels`, 10 rows.
pub fn save_grid<B: Backend>(
    gan: &Acgan<B>,
    z: &Tensor<B>,
    labels: &[usize],
    path: &Path,
) -> Result<()> {
    let images = gan.generate(z, labels)?.to_vec()?;
    let columns = labels.len().div_ceil(CLASSES).max(1);
    save_png(
        path,
        &image_grid(&images, 28, 28, CLASSES, columns, (-1.0, 1.0), 2),
    )
}

/// `count` labels: the same number of each digit in order, or all `class`.
pub fn export_labels(count: usize, class: Option<usize>) -> Vec<usize> {
    match class {
        Some(k) => vec![k; count],
        None => (0..count).map(|i| i * CLASSES / count.max(1)).collect(),
    }
}

/// Writes generated images for `labels` as an MNIST IDX file (uint8, 28x28) and the
/// labels each was asked for as an IDX label file.
pub fn export_samples<B: Backend>(
    gan: &Acgan<B>,
    labels: &[usize],
    seed: u64,
    images_path: &Path,
    labels_path: &Path,
) -> Result<()> {
    let mut bytes = Vec::with_capacity(labels.len() * PIXELS);
    for (i, chunk) in labels.chunks(100).enumerate() {
        let z = gan.noise(chunk.len(), seed.wrapping_add(i as u64))?;
        bytes.extend(datasets::normalize::signed_to_u8(
            &gan.generate(&z, chunk)?.to_vec()?,
        ));
    }
    datasets::write_idx_images(images_path, &bytes, labels.len(), 28, 28)?;
    let asked: Vec<u8> = labels.iter().map(|&l| l as u8).collect();
    Ok(datasets::write_idx_labels(labels_path, &asked)?)
}

/// `x.idx3-ubyte` -> `x-labels.idx1-ubyte` (any other name: `-labels.idx1-ubyte` appended).
pub fn labels_path_for(images: &Path) -> PathBuf {
    let name = images
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".idx3-ubyte").unwrap_or(&name);
    images.with_file_name(format!("{stem}-labels.idx1-ubyte"))
}

/// Loss curves of D and G from the metrics log.
pub fn plot_losses(metrics: &MetricsLog, path: &Path) -> Result<()> {
    plot_metrics(
        metrics,
        path,
        "ACGAN on MNIST",
        "loss",
        &[
            ("d_fake_loss", "D real/fake (BCE)"),
            ("d_aux_loss", "D digit (CE)"),
            ("g_fake_loss", "G real/fake (BCE)"),
            ("g_aux_loss", "G digit (CE)"),
        ],
    )
}

/// `acgan sample`: images from a checkpoint's generator into an IDX file, the asked-for
/// labels beside it, and a PNG grid of 10 rows and `columns` columns (one row per digit,
/// or only digit `class`).
pub fn sample<B: Backend>(
    backend: B,
    checkpoint: &Path,
    class: Option<usize>,
    count: usize,
    columns: usize,
    seed: u64,
    output: &Path,
) -> Result<()> {
    if let Some(k) = class.filter(|&k| k >= CLASSES) {
        return Err(Error::argument(
            "acgan",
            format!("--class {k} is not a digit (0-9)"),
        ));
    }
    let grid = if columns > 0 {
        Some(crate::cli::grid_path_for(output, checkpoint)?)
    } else {
        crate::cli::check_sample_output(output, checkpoint)?;
        None
    };
    crate::cli::check_new_output(&labels_path_for(output), "the labels file")?;
    check_sizes(count, columns)?;
    let ck = Checkpoint::load(checkpoint)?;
    let mut gan = Acgan::new(backend, AcganConfig::default())?;
    gan.restore_generator(&ck)?;
    export_samples(
        &gan,
        &export_labels(count, class),
        seed,
        output,
        &labels_path_for(output),
    )?;
    let Some(grid) = grid else {
        return Ok(());
    };
    let (z, labels) = grid_inputs(&gan, class, columns, seed ^ 0x5eed)?;
    save_grid(&gan, &z, &labels, &grid)
}

/// Memory a generator forward pass takes per image in inference (the 14x14x256 and
/// 28x28x256 activations and their neighbours, about 500,000 floats), rounded up.
const GENERATOR_BYTES_PER_IMAGE: u128 = 2 << 20;

/// Refuses an export or a grid whose memory would not fit, before any work.
fn check_sizes(export_count: usize, grid_columns: usize) -> Result<()> {
    crate::cli::check_fits(
        &format!("exporting {export_count} digits"),
        export_count as u128 * PIXELS as u128 * 3,
    )?;
    // A grid's images go through the generator in one batch.
    let images = (CLASSES * grid_columns) as u128;
    crate::cli::check_fits(
        &format!("a grid of {CLASSES} rows of {grid_columns} digits"),
        images * GENERATOR_BYTES_PER_IMAGE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_labels_are_balanced_and_ordered() {
        let l = export_labels(1000, None);
        assert_eq!(l.len(), 1000);
        for d in 0..10 {
            assert_eq!(l.iter().filter(|&&x| x == d).count(), 100);
            assert_eq!(l[d * 100], d);
        }
        assert_eq!(export_labels(3, Some(7)), vec![7, 7, 7]);
        assert_eq!(
            labels_path_for(Path::new("a/samples.idx3-ubyte")),
            Path::new("a/samples-labels.idx1-ubyte")
        );
        assert_eq!(
            labels_path_for(Path::new("x.bin")),
            Path::new("x.bin-labels.idx1-ubyte")
        );
    }
}
