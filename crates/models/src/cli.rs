//! Command-line options shared by every model binary.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which device runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// The reference CPU backend (multi-threaded GEMM).
    Cpu,
    /// The GPU backend on wgpu (Vulkan, Metal, DX12 or GL; a software driver works too).
    Wgpu,
}

/// Options every training binary accepts.
#[derive(Args, Clone, Debug)]
pub struct CommonArgs {
    /// Device to run on.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Number of training steps (iterations); overrides the model's default.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Number of passes over the training data; converted to steps.
    #[arg(long, conflicts_with = "steps")]
    pub epochs: Option<u64>,
    /// Examples per training step; the model's default when omitted.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate; the model's default when omitted.
    #[arg(long)]
    pub lr: Option<f32>,
    /// Seed for weights, noise, dropout and data order: the same seed gives the same run.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Directory with the standard MNIST files (train-images-idx3-ubyte[.gz], ...);
    /// the bundled 10,000-digit subset when omitted.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run directory for samples, metrics and checkpoints [default: runs/<model>/<timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue training from this checkpoint (weights, optimizer state and step count),
    /// in the checkpoint's own run directory unless --out names another.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Replace the run already in --out (its metrics, checkpoint and samples) instead of
    /// refusing to touch it.
    #[arg(long)]
    pub overwrite: bool,
    /// Save a sample grid every N steps (0: only at the end).
    #[arg(long)]
    pub sample_every: Option<u64>,
    /// Save a checkpoint every N steps (0: only at the end).
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: u64,
    /// Append metrics to metrics.jsonl every N steps.
    #[arg(long, default_value_t = 50)]
    pub log_every: u64,
    /// No progress bar (for logs and CI); a line is printed every --log-every steps instead.
    #[arg(long)]
    pub quiet: bool,
}

impl CommonArgs {
    /// Where the run writes, from `--out`, `--resume` and `--overwrite`.
    pub fn run_options(&self) -> train::RunOptions {
        train::RunOptions {
            out: self.out.clone(),
            resume: self.resume.clone(),
            overwrite: self.overwrite,
        }
    }

    /// The training loop's schedule from these options; `sample_every` is the model's
    /// default when `--sample-every` is not given.
    pub fn loop_options(&self, sample_every: u64) -> train::LoopOptions {
        train::LoopOptions {
            log_every: self.log_every.max(1),
            checkpoint_every: self.checkpoint_every,
            sample_every,
            quiet: self.quiet,
        }
    }
}
