//! `cifar10_cnn`: Keras' `cifar10_cnn` example.
//!
//! (32,32,3) -> conv 32 SAME ReLU -> conv 32 VALID ReLU -> max-pool 2 -> Dropout 0.25
//! -> conv 64 SAME ReLU -> conv 64 VALID ReLU -> max-pool 2 -> Dropout 0.25 -> flatten
//! 2304 -> Dense 512 ReLU -> Dropout 0.5 -> Dense 10 (logits). RMSprop (lr 1e-4, legacy
//! decay 1e-6), batch 32, 100 epochs, pixels in [0, 1], and by default the original's
//! augmentation (`ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
//! horizontal_flip=True)`), validating on the 10,000 test images after every epoch.

use crate::cli::CommonArgs;
use crate::supervised::{SupervisedReport, configure, print_summary};
use datasets::{Augment, Cifar10};
use nn::{Activation, Conv2d, Dense, Dropout, Flatten, MaxPool2d, RmsProp, Seeds, Sequential};
use std::path::Path;
use tensor::{Backend, Padding};
use train::{Accuracy, ArrayDataset, Error, Fit, Length, Result};

/// The model's name in checkpoints.
pub const NAME: &str = "cifar10_cnn";
pub const DEFAULT_EPOCHS: u64 = 100;
pub const DEFAULT_BATCH: usize = 32;
pub const DEFAULT_LR: f32 = 1e-4;
/// Keras 2's legacy time-based decay of the original's RMSprop.
pub const DECAY: f32 = 1e-6;

/// Where to get CIFAR-10 when it is not there (it is not bundled).
pub const WHERE_TO_GET_IT: &str = "CIFAR-10 is not bundled (it is 163 MB): download the \
binary version, cifar-10-binary.tar.gz, from https://www.cs.toronto.edu/~kriz/cifar.html, \
unpack it (tar xzf cifar-10-binary.tar.gz) and pass --data-dir cifar-10-batches-bin (the \
folder of data_batch_1.bin .. data_batch_5.bin and test_batch.bin; its parent works too), \
or set CIFAR10_DIR to it";

/// The Keras example's network.
pub fn network<B: Backend>(be: &B, seed: u64) -> Result<Sequential<B>> {
    let mut seeds = Seeds::new(seed);
    let conv = |c_in, c_out, padding, seeds: &mut Seeds| -> Result<Conv2d<B>> {
        Ok(Conv2d::new(be, c_in, c_out, (3, 3), seeds)?
            .padding(padding)
            .activation(Activation::Relu))
    };
    Ok(Sequential::new()
        .add(conv(3, 32, Padding::Same, &mut seeds)?)
        .add(conv(32, 32, Padding::Valid, &mut seeds)?)
        .add(MaxPool2d::new((2, 2)))
        .add(Dropout::new(0.25, &mut seeds)?)
        .add(conv(32, 64, Padding::Same, &mut seeds)?)
        .add(conv(64, 64, Padding::Valid, &mut seeds)?)
        .add(MaxPool2d::new((2, 2)))
        .add(Dropout::new(0.25, &mut seeds)?)
        .add(Flatten)
        .add(Dense::new(be, 6 * 6 * 64, 512, &mut seeds)?.activation(Activation::Relu))
        .add(Dropout::new(0.5, &mut seeds)?)
        .add(Dense::new(be, 512, 10, &mut seeds)?))
}

/// The original's augmentation: shifts of up to 10% each way, horizontal flips.
pub fn augmentation() -> Result<Augment> {
    Ok(Augment::new(0.1, 0.1, true)?)
}

/// CIFAR-10 from `--data-dir` (or `CIFAR10_DIR`), with a message saying where to get
/// it when neither is given.
pub fn load(data_dir: Option<&Path>) -> Result<Cifar10> {
    match data_dir {
        Some(dir) => Ok(Cifar10::from_dir(dir)?),
        None if std::env::var_os(datasets::cifar::CIFAR10_DIR_ENV)
            .is_some_and(|v| !v.is_empty()) =>
        {
            Ok(Cifar10::from_env()?)
        }
        None => Err(Error::argument("--data-dir", WHERE_TO_GET_IT)),
    }
}

/// Trains as the binary does; `augment` turns the augmentation on (the default).
pub fn train<B: Backend>(be: B, args: &CommonArgs, augment: bool) -> Result<SupervisedReport> {
    let data = load(args.data_dir.as_deref())?;
    let mut train_set = ArrayDataset::from_images(&data.train);
    if augment {
        train_set = train_set.augmented(augmentation()?)?;
    }
    let test_set = ArrayDataset::from_images(&data.test);
    let model = network(&be, args.seed)?;
    print_summary(&model, &be, &[32, 32, 3])?;
    let mut opt = RmsProp::new(args.lr.unwrap_or(DEFAULT_LR)).decay(DECAY);
    let mut fit = configure(
        Fit::new(NAME, &be, &model, &mut opt),
        args,
        Length::Epochs(DEFAULT_EPOCHS),
        DEFAULT_BATCH,
    )
    .metric(Accuracy::default())
    .setting("augmentation", augment);
    let dir = fit.open_run(&args.run_options())?;
    eprintln!(
        "{NAME}: backend {}, {} training images, {} test images, augmentation {}, run directory {}",
        be.name(),
        data.train.len(),
        data.test.len(),
        if augment { "on" } else { "off" },
        dir.display()
    );
    let end = fit.run(&train_set, Some(&test_set), &dir)?;
    let test = fit.evaluate(&test_set)?;
    drop(fit);
    Ok(SupervisedReport {
        dir: dir.path().to_path_buf(),
        end,
        test,
    })
}
