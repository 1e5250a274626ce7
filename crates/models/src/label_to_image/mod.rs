//! A classifier turned generator (SEEDS.md section 6): softmax regression run
//! backwards, from a one-hot digit label to a 784-pixel image.
//!
//! Input x: a one-hot label `[n, 10]`; W `[10, 784]` and b `[784]` start at zero;
//! y = softmax(x W + b) over the 784 pixels; loss = -sum(image * log y), summed over
//! the batch as the article's `tf.reduce_sum`; plain gradient descent, lr 0.01,
//! 1000 iterations of batch 100. Feeding `[0, 1, 0, ..., 0]` then gives y, a
//! picture of a "1" (once reshaped to 28x28 and scaled up for display).
//!
//! The article uses the raw pixel values (in [0, 1]) as the "labels" of the
//! cross-entropy, and so do we by default. They do not sum to 1, but
//! `-sum(image * log y) = ink * CE(image / ink, y)` with `ink = sum(image)`: the loss is a
//! cross-entropy between distributions over the pixels, weighted by each image's ink
//! (about 100 for MNIST), and its minimiser for each label is still the (ink-weighted)
//! mean distribution of ink, which is the intent. `--normalize-targets` divides each
//! image by its ink first, a textbook cross-entropy; that also divides the gradient by
//! about 100, and at the article's lr 0.01 and 1000 iterations y is then far from
//! converged: washed-out digits that the project's classifier mostly calls 8
//! (it needs some 5000 iterations, or a learning rate near 1).

use crate::cli::CommonArgs;
use crate::data::load_mnist;
use crate::plot::image_grid;
use nn::Params;
use nn::{Checkpoint, Dense, Init, Mode, Module, Optimizer, Seeds, Sgd};
use std::path::{Path, PathBuf};
use tensor::{Backend, Tensor, no_grad};
use train::save_png;
use train::{Checkpointed, MetricsLog, StepBatches, StepModel, plot_metrics, train_loop};
use train::{Error, Result};

/// Iterations of the article.
pub const DEFAULT_STEPS: u64 = 1000;
/// Batch size of the article.
pub const DEFAULT_BATCH: usize = 100;
/// Learning rate of the article.
pub const DEFAULT_LR: f32 = 0.01;
/// Digits.
pub const CLASSES: usize = 10;
/// Pixels per image.
pub const PIXELS: usize = 784;

/// The reversed softmax regression and its optimizer.
pub struct LabelToImage<B: Backend> {
    pub backend: B,
    /// W `[10, 784]` and b `[784]`, both zero at first (as the article's `tf.zeros`).
    pub layer: Dense<B>,
    pub opt: Sgd<B>,
    pub step: u64,
    /// Whether target images are normalised to sum to 1 (otherwise the raw pixels, as
    /// the article).
    pub normalize: bool,
}

impl<B: Backend> LabelToImage<B> {
    /// Zero weights, plain gradient descent with learning rate `lr`.
    pub fn new(backend: B, lr: f32) -> Result<Self> {
        let layer = Dense::with_init(
            &backend,
            CLASSES,
            PIXELS,
            Init::Zeros,
            true,
            &mut Seeds::new(0),
        )?;
        Ok(LabelToImage {
            backend,
            layer,
            opt: Sgd::new(lr),
            step: 0,
            normalize: false,
        })
    }

    /// One gradient-descent step on `labels` and their `images` (`[n, 784]`, pixels in
    /// [0, 1]); returns the loss summed over the batch.
    pub fn train_step(&mut self, labels: &[u8], images: &[f32]) -> Result<f32> {
        let n = labels.len();
        if images.len() != n * PIXELS {
            return Err(Error::argument(
                "label_to_image",
                format!("{} pixels for {n} labels", images.len()),
            ));
        }
        let ids: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
        let x = Tensor::one_hot(&self.backend, &ids, CLASSES)?;
        // With `normalize`, each image is divided by its ink: a distribution over the pixels.
        let mut target = images.to_vec();
        if self.normalize {
            for row in target.chunks_mut(PIXELS) {
                let ink: f32 = row.iter().sum();
                let ink = ink.max(1e-6);
                row.iter_mut().for_each(|p| *p /= ink);
            }
        }
        let target = Tensor::from_vec(&self.backend, target, [n, PIXELS])?;
        let log_y = self.layer.forward(&x, Mode::Train)?.log_softmax(-1)?;
        let loss = target.mul(&log_y)?.sum_all()?.neg()?;
        let grads = loss.backward()?;
        self.opt.step(&self.layer.trainable_params(), &grads)?;
        self.step += 1;
        Ok(loss.to_scalar()?)
    }

    /// y = softmax(W + b) for the ten one-hot labels: `[10 * 784]`, each row a distribution.
    pub fn digits(&self) -> Result<Vec<f32>> {
        let ids: Vec<usize> = (0..CLASSES).collect();
        let x = Tensor::one_hot(&self.backend, &ids, CLASSES)?;
        Ok(no_grad(|| self.layer.forward(&x, Mode::Eval)?.softmax(-1))?.to_vec()?)
    }

    /// The ten images scaled for display: each stretched to [0, 1].
    pub fn display_digits(&self) -> Result<Vec<f32>> {
        Ok(scale_for_display(&self.digits()?))
    }
}

/// W, b, the optimizer and the step count.
impl<B: Backend> Checkpointed for LabelToImage<B> {
    const MODEL: &'static str = "label_to_image";

    fn steps_done(&self) -> u64 {
        self.step
    }

    fn save_parts(&self, ck: &mut Checkpoint) -> train::Result<()> {
        ck.insert_module("layer.", &self.layer)?;
        ck.insert_optimizer("opt.", &self.opt)?;
        Ok(())
    }

    fn restore_parts(&mut self, ck: &Checkpoint, step: u64) -> train::Result<()> {
        ck.restore_module("layer.", &self.layer, &self.backend)?;
        ck.restore_optimizer("opt.", &mut self.opt, &self.backend)?;
        self.step = step;
        Ok(())
    }
}

/// Stretches each 784-pixel image to [0, 1] (its smallest value to 0, its largest to 1):
/// y's values are tiny probabilities, all above zero.
pub fn scale_for_display(images: &[f32]) -> Vec<f32> {
    let mut out = images.to_vec();
    for row in out.chunks_mut(PIXELS) {
        let lo = row.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let range = (hi - lo).max(1e-30);
        row.iter_mut().for_each(|p| *p = (*p - lo) / range);
    }
    out
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct LabelToImageReport {
    pub dir: PathBuf,
    pub steps: u64,
    pub steps_per_sec: f64,
    pub last_loss: f32,
    /// The ten generated digits scaled for display, `[10 * 784]` in [0, 1].
    pub digits: Vec<f32>,
    pub interrupted: bool,
}

/// Options of the `label_to_image` binary beyond [`CommonArgs`].
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LabelToImageOptions {
    /// Divide each target image by its sum (a textbook cross-entropy; needs about 5x the
    /// iterations or a far larger --lr), instead of the article's raw pixel values.
    #[arg(long)]
    pub normalize_targets: bool,
}

/// Trains as the binary does and writes into the run directory: digits.png (the ten
/// generated digits), samples.idx3-ubyte and samples-labels.idx1-ubyte (the same
/// digits with the label each was asked for), metrics.jsonl, loss.png and
/// checkpoint.safetensors.
pub fn train<B: Backend>(
    backend: B,
    args: &CommonArgs,
    opts: &LabelToImageOptions,
) -> Result<LabelToImageReport> {
    let mnist = load_mnist(args.data_dir.as_deref())?;
    let train = &mnist.train;
    let pixels = train.to_f32_unit();
    let batch = args.batch_size.unwrap_or(DEFAULT_BATCH);
    if batch == 0 {
        return Err(Error::argument(
            "label_to_image",
            "--batch-size must be positive",
        ));
    }
    let batches = StepBatches::new("label_to_image", train.len(), batch, args.seed)?;
    let batches_per_epoch = batches.per_epoch();
    let total = crate::cli::total_steps(args, batches_per_epoch, DEFAULT_STEPS)?;
    let mut model = LabelToImage::new(backend.clone(), args.lr.unwrap_or(DEFAULT_LR))?;
    model.normalize = opts.normalize_targets;
    let dir = train::open_run(&mut model, &args.run_options())?;
    eprintln!(
        "label_to_image: backend {}, {} training images, batch {batch}, {total} steps, run directory {}",
        backend.name(),
        train.len(),
        dir.display()
    );
    let mut steps = LabelSteps {
        model,
        batches,
        train,
        pixels: &pixels,
    };
    let end = train_loop(
        &mut steps,
        total,
        &args.loop_options(args.sample_every.unwrap_or(0)),
        &dir,
    )?;
    let model = steps.model;
    let digits = model.display_digits()?;
    save_digits(&digits, &dir.join("digits.png"))?;
    datasets::write_idx_images(
        dir.join("samples.idx3-ubyte"),
        &datasets::normalize::unit_to_u8(&digits),
        CLASSES,
        28,
        28,
    )?;
    let labels: Vec<u8> = (0..CLASSES as u8).collect();
    datasets::write_idx_labels(dir.join("samples-labels.idx1-ubyte"), &labels)?;
    plot_losses(&end.metrics, &dir.join("loss.png"))?;
    Ok(LabelToImageReport {
        dir: dir.to_path_buf(),
        steps: model.step,
        steps_per_sec: end.steps_per_sec,
        last_loss: end.last.unwrap_or(f32::NAN),
        digits,
        interrupted: end.interrupted,
    })
}

/// The model with its data, as the shared training loop drives it.
struct LabelSteps<'a, B: Backend> {
    model: LabelToImage<B>,
    batches: StepBatches,
    train: &'a datasets::ImageSet,
    pixels: &'a [f32],
}

impl<B: Backend> StepModel for LabelSteps<'_, B> {
    /// The step's loss.
    type Stats = f32;
    type Saved = LabelToImage<B>;

    fn saved(&self) -> &LabelToImage<B> {
        &self.model
    }

    fn train_step(&mut self) -> Result<f32> {
        let idx = self.batches.indices(self.model.step);
        let images = datasets::gather_rows(self.pixels, PIXELS, idx)?;
        let labels: Vec<u8> = idx.iter().map(|&i| self.train.labels[i]).collect();
        self.model.train_step(&labels, &images)
    }

    fn losses(loss: &f32) -> Vec<(&'static str, f32)> {
        vec![("loss", *loss)]
    }

    fn progress(&self, loss: &f32) -> String {
        format!("loss {loss:.2}")
    }

    fn record(&self, loss: &f32) -> Result<(serde_json::Value, String)> {
        Ok((serde_json::json!({ "loss": loss }), String::new()))
    }

    fn save_samples(&self, path: &Path) -> Result<()> {
        save_digits(&self.model.display_digits()?, path)
    }
}

/// The ten digits in one row, each drawn 4 times larger.
pub fn save_digits(digits: &[f32], path: &Path) -> Result<()> {
    save_png(path, &image_grid(digits, 28, 28, 1, CLASSES, (0.0, 1.0), 4))
}

/// The loss curve from the metrics log.
pub fn plot_losses(metrics: &MetricsLog, path: &Path) -> Result<()> {
    plot_metrics(
        metrics,
        path,
        "label -> image (softmax regression backwards)",
        "cross-entropy, summed over the batch",
        &[("loss", "loss")],
    )
}
