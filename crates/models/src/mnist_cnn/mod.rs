//! `mnist_cnn`: the MNIST CNN classifier of SEEDS.md section 5, trained with `fit`.
//!
//! 28x28x1 -> conv 3x3x64 SAME ReLU -> max-pool 2 SAME -> conv 3x3x128 SAME ReLU ->
//! max-pool 2 SAME -> flatten 6272 -> Dense 1024 ReLU -> Dropout 0.5 -> Dense 10
//! (logits; the loss is softmax cross-entropy on them). Adam 1e-4, batch 50, 3,000
//! steps, pixels in [0, 1], as the original tutorial. The original applies softmax
//! twice and keeps dropout on when it measures; here one numerically stable softmax
//! cross-entropy, and dropout in training only.

use crate::cli::CommonArgs;
use crate::data::load_mnist;
use crate::supervised::{SupervisedReport, configure, print_summary};
use nn::{Activation, Adam, Conv2d, Dense, Dropout, Flatten, MaxPool2d, Seeds, Sequential};
use std::path::Path;
use tensor::{Backend, Padding};
use train::{Accuracy, ArrayDataset, Control, Fit, FitContext, Length, Logs, OnBatch, Result};

/// The model's name in checkpoints.
pub const NAME: &str = "mnist_cnn";
/// The original's step count, learning rate and batch size.
pub const DEFAULT_STEPS: u64 = 3000;
pub const DEFAULT_LR: f32 = 1e-4;
pub const DEFAULT_BATCH: usize = 50;
/// The dropout rate (the original's `keep_prob` 0.5).
pub const DROPOUT: f32 = 0.5;
/// Steps between the "step N training accuracy A" lines.
pub const PRINT_EVERY: u64 = 100;

/// The network (Keras layer names: conv2d, max_pooling2d, conv2d_1, ...).
pub fn network<B: Backend>(be: &B, seed: u64) -> Result<Sequential<B>> {
    let mut seeds = Seeds::new(seed);
    Ok(Sequential::new()
        .add(
            Conv2d::new(be, 1, 64, (3, 3), &mut seeds)?
                .padding(Padding::Same)
                .activation(Activation::Relu),
        )
        .add(MaxPool2d::new((2, 2)).padding(Padding::Same))
        .add(
            Conv2d::new(be, 64, 128, (3, 3), &mut seeds)?
                .padding(Padding::Same)
                .activation(Activation::Relu),
        )
        .add(MaxPool2d::new((2, 2)).padding(Padding::Same))
        .add(Flatten)
        .add(Dense::new(be, 7 * 7 * 128, 1024, &mut seeds)?.activation(Activation::Relu))
        .add(Dropout::new(DROPOUT, &mut seeds)?)
        .add(Dense::new(be, 1024, 10, &mut seeds)?))
}

/// The trained network from a `model.safetensors` (or a run's checkpoint) at `path`.
pub fn load<B: Backend>(be: &B, path: &Path) -> Result<Sequential<B>> {
    let model = network(be, 0)?;
    train::load_weights(&model, be, path)?;
    Ok(model)
}

/// Trains the classifier as the binary does: prints the summary, `step N training
/// accuracy A` every 100 steps (on that step's batch), and returns the held-out figures
/// on the test digits.
pub fn train<B: Backend>(be: B, args: &CommonArgs) -> Result<SupervisedReport> {
    let mnist = load_mnist(args.data_dir.as_deref())?;
    let train_set = ArrayDataset::from_images(&mnist.train);
    let test_set = ArrayDataset::from_images(&mnist.test);
    let model = network(&be, args.seed)?;
    print_summary(&model, &be, &[28, 28, 1])?;
    let mut opt = Adam::new(args.lr.unwrap_or(DEFAULT_LR));
    let print = OnBatch(|ctx: &mut FitContext<B>, logs: &Logs| {
        if ctx.step.is_multiple_of(PRINT_EVERY) {
            let acc = logs.get("batch_accuracy").unwrap_or(f64::NAN);
            println!("step {} training accuracy {acc:.4}", ctx.step);
        }
        Ok(Control::Continue)
    });
    let mut fit = configure(
        Fit::new(NAME, &be, &model, &mut opt),
        args,
        Length::Steps(DEFAULT_STEPS),
        DEFAULT_BATCH,
    )
    .metric(Accuracy::default())
    .callback(print);
    let dir = fit.open_run(&args.run_options())?;
    eprintln!(
        "{NAME}: backend {}, {} training digits, {} test digits, run directory {}",
        be.name(),
        mnist.train.len(),
        mnist.test.len(),
        dir.display()
    );
    let end = fit.run(&train_set, None, &dir)?;
    let test = fit.evaluate(&test_set)?;
    drop(fit);
    crate::classifier::write_json(
        &dir.join("test.json"),
        &serde_json::json!({
            "test_accuracy": test.get("accuracy"),
            "test_loss": test.get("loss"),
            "steps": end.steps,
            "seconds": end.seconds,
        }),
    )?;
    Ok(SupervisedReport {
        dir: dir.path().to_path_buf(),
        end,
        test,
    })
}
