//! Training runs for any model built on `nn`: the run directory, the metrics log, the
//! progress display, the training loop over a step trait, checkpoints with resume,
//! Ctrl-C as a clean stop, the stop at a non-finite loss, and charts.
//!
//! A model implements [`Checkpointed`] (what it saves) and [`StepModel`] (one training
//! step and what it reports); [`train_loop`] does the rest:
//!
//! ```ignore
//! let dir = train::run_dir("my_model", None)?;
//! let end = train::train_loop(&mut model, 10_000, &train::LoopOptions::default(), &dir)?;
//! train::plot_metrics(&end.metrics, &dir.join("loss.png"), "loss", "loss", &[("loss", "train")])?;
//! ```

mod batches;
mod chart;
mod checkpoint;
mod error;
pub mod fit;
mod metrics;
mod progress;
mod run_dir;
mod step_loop;
mod stop;

pub use batches::StepBatches;
pub use chart::{Series, line_chart, plot_metrics, save_png};
pub use checkpoint::{
    Checkpointed, MODEL_KEY, STEP_KEY, check_model, checkpoint_of, restore, resume, save,
};
pub use error::{Error, Result};
pub use fit::{
    Accuracy, ArrayDataset, Batch, BestCheckpoint, Callback, Control, Dataset, Direction,
    EarlyStopping, Fit, FitContext, FitEnd, History, Length, Logs, Loss, LrSchedule, Metric,
    OnBatch, OnEpoch, Predictions, ReduceLrOnPlateau, SparseCategoricalCrossEntropy, TopKAccuracy,
    evaluate, load_weights, predict, save_weights, train_step,
};
pub use metrics::MetricsLog;
pub use progress::Progress;
pub use run_dir::{LOCK_FILE, RunDir, RunOptions, open_run, prepare_resume_in, timestamp};
pub use step_loop::{LoopEnd, LoopOptions, StepModel, check_finite, train_loop};
pub use stop::StopFlag;
