//! `antirectifier`: Keras' example of a custom layer, in an MLP on MNIST.
//!
//! Dense 256 -> Antirectifier -> Dropout 0.1 -> Dense 256 -> Antirectifier -> Dropout 0.1
//! -> Dense 10 (logits), on the 784 pixels in [0, 1]; RMSprop (Keras' defaults, lr 1e-3),
//! batch 128, 40 epochs, as the Keras example. [`Antirectifier`] (in `layer.rs`) is the
//! how-to for writing a layer of your own.

mod layer;

pub use layer::Antirectifier;

use crate::cli::CommonArgs;
use crate::data::load_mnist;
use crate::supervised::{SupervisedReport, configure, print_summary};
use nn::{Dense, Dropout, RmsProp, Seeds, Sequential};
use tensor::Backend;
use train::{Accuracy, ArrayDataset, Fit, Length, Result};

/// The model's name in checkpoints.
pub const NAME: &str = "antirectifier";
pub const DEFAULT_EPOCHS: u64 = 40;
pub const DEFAULT_BATCH: usize = 128;
pub const DEFAULT_LR: f32 = 1e-3;

/// The Keras example's network.
pub fn network<B: Backend>(be: &B, seed: u64) -> Result<Sequential<B>> {
    let mut seeds = Seeds::new(seed);
    Ok(Sequential::new()
        .add(Dense::new(be, 784, 256, &mut seeds)?)
        .add(Antirectifier)
        .add(Dropout::new(0.1, &mut seeds)?)
        .add(Dense::new(be, 512, 256, &mut seeds)?)
        .add(Antirectifier)
        .add(Dropout::new(0.1, &mut seeds)?)
        .add(Dense::new(be, 512, 10, &mut seeds)?))
}

/// Trains the network as the binary does, validating on the held-out digits after
/// every epoch.
pub fn train<B: Backend>(be: B, args: &CommonArgs) -> Result<SupervisedReport> {
    let mnist = load_mnist(args.data_dir.as_deref())?;
    let train_set = ArrayDataset::from_images_flat(&mnist.train);
    let test_set = ArrayDataset::from_images_flat(&mnist.test);
    let model = network(&be, args.seed)?;
    print_summary(&model, &be, &[784])?;
    let mut opt = RmsProp::new(args.lr.unwrap_or(DEFAULT_LR));
    let mut fit = configure(
        Fit::new(NAME, &be, &model, &mut opt),
        args,
        Length::Epochs(DEFAULT_EPOCHS),
        DEFAULT_BATCH,
    )
    .metric(Accuracy::default());
    let dir = fit.open_run(&args.run_options())?;
    eprintln!(
        "{NAME}: backend {}, {} training digits, {} test digits, run directory {}",
        be.name(),
        mnist.train.len(),
        mnist.test.len(),
        dir.display()
    );
    let end = fit.run(&train_set, Some(&test_set), &dir)?;
    drop(fit);
    let test = train::evaluate(
        &be,
        &model,
        &train::SparseCategoricalCrossEntropy,
        &[Box::new(Accuracy::default())],
        &test_set,
        500,
    )?;
    Ok(SupervisedReport {
        dir: dir.path().to_path_buf(),
        end,
        test,
    })
}
