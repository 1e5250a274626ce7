//! `transfer_cnn`: Keras' `mnist_transfer_cnn`, transfer learning on MNIST.
//!
//! Feature layers: conv 3x3x32 VALID ReLU -> conv 3x3x32 VALID ReLU -> max-pool 2 ->
//! Dropout 0.25 -> flatten 4608. Head: Dense 128 ReLU -> Dropout 0.5 -> Dense 5 (logits).
//! Stage 1 trains everything on digits 0-4; then the feature layers are frozen and
//! stage 2 trains the head alone on digits 5-9 (relabelled 0-4), each stage with a new
//! Adadelta (lr 1.0, Keras 2's default that the example was written for), batch 128,
//! validating on the held-out digits of its classes. The original trains each stage
//! for 5 epochs of about 30,000 digits (1,200 updates); on the bundled 8,000 digits a
//! stage trains for as many epochs as make the same number of updates
//! ([`default_epochs`]: 37 and 39 here), on the full MNIST for 5.
//!
//! The run directory holds one folder per stage (`digits_0-4/`, `digits_5-9/`), each
//! with its metrics, charts, checkpoint and model; `--resume` takes either stage's
//! checkpoint.

use crate::cli::CommonArgs;
use crate::data::load_mnist;
use crate::supervised::{configure, print_summary};
use datasets::ImageSet;
use nn::{
    Activation, Adadelta, Checkpoint, Conv2d, Dense, Dropout, Flatten, MaxPool2d, Params, Seeds,
    Sequential,
};
use std::path::{Path, PathBuf};
use tensor::Backend;
use train::{Accuracy, ArrayDataset, Error, Fit, FitEnd, Length, Logs, Result, RunDir};

/// The model's name in checkpoints (with the stage: `transfer_cnn_0-4`, `transfer_cnn_5-9`).
pub const NAME: &str = "transfer_cnn";
/// The original's epochs per stage, on the 30,596 training digits 0-4 of the full MNIST.
pub const KERAS_EPOCHS: u64 = 5;
/// The updates those make at batch 128: 240 batches x 5. On a smaller training set
/// (the bundled 8,000 digits hold about 4,000 per stage) a stage trains for as many
/// epochs as give about this many updates, never fewer than [`KERAS_EPOCHS`].
pub const KERAS_UPDATES: u64 = 1200;
pub const DEFAULT_BATCH: usize = 128;
pub const DEFAULT_LR: f32 = 1.0;
/// Layers 0..FEATURE_LAYERS of [`network`] are the feature layers.
pub const FEATURE_LAYERS: usize = 5;

/// The two stages: the digits each trains on, and its folder and checkpoint name.
pub const STAGES: [(&[u8], &str); 2] = [(&[0, 1, 2, 3, 4], "0-4"), (&[5, 6, 7, 8, 9], "5-9")];

/// Feature layers then head, in one Sequential (Keras' `Sequential(feature_layers +
/// classification_layers)`).
pub fn network<B: Backend>(be: &B, seed: u64) -> Result<Sequential<B>> {
    let mut seeds = Seeds::new(seed);
    Ok(Sequential::new()
        .add(Conv2d::new(be, 1, 32, (3, 3), &mut seeds)?.activation(Activation::Relu))
        .add(Conv2d::new(be, 32, 32, (3, 3), &mut seeds)?.activation(Activation::Relu))
        .add(MaxPool2d::new((2, 2)))
        .add(Dropout::new(0.25, &mut seeds)?)
        .add(Flatten)
        .add(Dense::new(be, 12 * 12 * 32, 128, &mut seeds)?.activation(Activation::Relu))
        .add(Dropout::new(0.5, &mut seeds)?)
        .add(Dense::new(be, 128, 5, &mut seeds)?))
}

/// Freezes (or unfreezes) the feature layers (Keras `layer.trainable = False`).
pub fn set_features_trainable<B: Backend>(model: &Sequential<B>, trainable: bool) {
    for (_, layer) in &model.layers()[..FEATURE_LAYERS] {
        layer.set_trainable(trainable);
    }
}

/// What one stage reports.
pub struct StageReport {
    pub digits: &'static str,
    pub end: Option<FitEnd>,
    /// Held-out figures of the stage's classes after the stage.
    pub test: Logs,
    pub dir: PathBuf,
}

/// What a run reports.
pub struct TransferReport {
    pub dir: PathBuf,
    /// `(trainable, non-trainable)` before and after freezing.
    pub counts_before: (usize, usize),
    pub counts_after: (usize, usize),
    pub stages: Vec<StageReport>,
}

fn stage_name(digits: &str) -> String {
    format!("{NAME}_{digits}")
}

fn stage_dir(run: &Path, digits: &str) -> PathBuf {
    run.join(format!("digits_{digits}"))
}

/// Which stage a checkpoint belongs to (0 or 1), from the model name it records.
fn stage_of(ck_path: &Path) -> Result<usize> {
    let ck = Checkpoint::load(ck_path)?;
    let name = ck
        .metadata
        .get(train::MODEL_KEY)
        .cloned()
        .unwrap_or_default();
    STAGES
        .iter()
        .position(|(_, d)| stage_name(d) == name)
        .ok_or_else(|| {
            Error::argument(
                "--resume",
                format!(
                    "{}: not a checkpoint of a transfer_cnn stage (it says {name:?})",
                    ck_path.display()
                ),
            )
        })
}

/// Epochs of a stage over `examples` training digits at `batch`: the original's
/// [`KERAS_UPDATES`] updates, at least [`KERAS_EPOCHS`] epochs.
pub fn default_epochs(examples: usize, batch: usize) -> u64 {
    let per_epoch = examples.div_ceil(batch.max(1)).max(1) as u64;
    KERAS_UPDATES.div_ceil(per_epoch).max(KERAS_EPOCHS)
}

/// Trains both stages as the binary does.
pub fn train<B: Backend>(be: B, args: &CommonArgs) -> Result<TransferReport> {
    let mnist = load_mnist(args.data_dir.as_deref())?;
    let sets: Vec<(ImageSet, ImageSet)> = STAGES
        .iter()
        .map(|(keep, _)| {
            Ok((
                mnist.train.filter_classes(keep, true)?,
                mnist.test.filter_classes(keep, true)?,
            ))
        })
        .collect::<Result<_>>()?;
    // Which stage to start in, and the run directory.
    let (first_stage, run) = match &args.resume {
        None => (0, RunDir::open(NAME, &args.run_options())?),
        Some(ck) => {
            let stage = stage_of(ck)?;
            let stage_folder = ck
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let run_path = match &args.out {
                Some(out) => out.clone(),
                None => stage_folder
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf(),
            };
            if stage_dir(&run_path, STAGES[stage].1) != stage_folder {
                return Err(Error::argument(
                    "--resume",
                    format!(
                        "{} is not in the stage folder {} of the run {}",
                        ck.display(),
                        stage_dir(&run_path, STAGES[stage].1).display(),
                        run_path.display()
                    ),
                ));
            }
            (stage, RunDir::open_existing(&run_path)?)
        }
    };
    let model = network(&be, args.seed)?;
    eprintln!("{NAME}: the model before freezing:");
    print_summary(&model, &be, &[28, 28, 1])?;
    let counts_before = model.param_counts();
    let mut counts_after = counts_before;
    let mut stages = Vec::new();
    for (stage, ((_, digits), (train_imgs, test_imgs))) in STAGES.iter().zip(&sets).enumerate() {
        if stage < first_stage {
            continue;
        }
        if stage == 1 {
            set_features_trainable(&model, false);
            counts_after = model.param_counts();
            eprintln!("{NAME}: the model after freezing the feature layers:");
            print_summary(&model, &be, &[28, 28, 1])?;
        }
        let dir = stage_dir(&run, digits);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let train_set = ArrayDataset::from_images(train_imgs);
        let test_set = ArrayDataset::from_images(test_imgs);
        let mut opt = Adadelta::new(args.lr.unwrap_or(DEFAULT_LR));
        let epochs = default_epochs(train_imgs.len(), args.batch_size.unwrap_or(DEFAULT_BATCH));
        let mut fit = configure(
            Fit::new(&stage_name(digits), &be, &model, &mut opt),
            args,
            Length::Epochs(epochs),
            DEFAULT_BATCH,
        )
        .metric(Accuracy::default());
        let resuming = stage == first_stage && args.resume.is_some();
        if resuming && let Some(ck) = &args.resume {
            fit.resume(ck)?;
            train::prepare_resume_in(&dir, fit.steps_done())?;
        } else if dir.join(train::fit::CHECKPOINT).exists() && !args.overwrite {
            return Err(Error::argument(
                "run directory",
                format!(
                    "{} already holds stage {digits}: resume from its checkpoint or pass --overwrite",
                    dir.display()
                ),
            ));
        } else {
            for f in ["metrics.jsonl", train::fit::CHECKPOINT] {
                let _ = std::fs::remove_file(dir.join(f));
            }
        }
        eprintln!(
            "{NAME}: stage {}: digits {digits} ({} training, {} held-out), {} trainable parameters, into {}",
            stage + 1,
            train_imgs.len(),
            test_imgs.len(),
            model.param_counts().0,
            dir.display()
        );
        let end = fit.run(&train_set, Some(&test_set), &dir)?;
        let test = fit.evaluate(&test_set)?;
        drop(fit);
        let interrupted = end.interrupted;
        eprintln!(
            "{NAME}: stage {}: held-out accuracy on digits {digits}: {:.2}%",
            stage + 1,
            100.0 * test.get("accuracy").unwrap_or(f64::NAN)
        );
        stages.push(StageReport {
            digits,
            end: Some(end),
            test,
            dir,
        });
        if interrupted {
            break;
        }
    }
    Ok(TransferReport {
        dir: run.path().to_path_buf(),
        counts_before,
        counts_after,
        stages,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_epochs_make_the_originals_updates() {
        // Full MNIST: 30,596 digits 0-4 at batch 128 are 240 batches; 5 epochs.
        assert_eq!(super::default_epochs(30_596, 128), 5);
        // The bundled 4,113 digits 0-4: 33 batches; 1,200 / 33 rounded up is 37.
        assert_eq!(super::default_epochs(4_113, 128), 37);
        // Never fewer than the original's 5.
        assert_eq!(super::default_epochs(1_000_000, 128), 5);
    }
}
