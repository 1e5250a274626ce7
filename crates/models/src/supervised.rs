//! What the supervised binaries share: the common options applied to a `fit`, the
//! summary, and the end-of-run report.

use crate::cli::CommonArgs;
use nn::{Module, Sequential};
use std::path::PathBuf;
use tensor::Backend;
use train::{Fit, FitEnd, Length, Logs, Result};

/// A finished supervised run.
pub struct SupervisedReport {
    /// The run directory.
    pub dir: PathBuf,
    pub end: FitEnd,
    /// The held-out figures (`loss`, `accuracy`, ...) of the final model.
    pub test: Logs,
}

impl SupervisedReport {
    /// Held-out accuracy of the final model.
    pub fn test_accuracy(&self) -> f64 {
        self.test.get("accuracy").unwrap_or(f64::NAN)
    }
}

/// `--steps`, `--epochs`, or the model's default.
pub fn length(args: &CommonArgs, default: Length) -> Length {
    match (args.steps, args.epochs) {
        (Some(s), _) => Length::Steps(s),
        (None, Some(e)) => Length::Epochs(e),
        (None, None) => default,
    }
}

/// Applies the common options to a fit: length, batch size (`default_batch` when not
/// given), seed, log and checkpoint intervals, quiet.
pub fn configure<'a, B: Backend, M: Module<B>>(
    fit: Fit<'a, B, M>,
    args: &CommonArgs,
    default_length: Length,
    default_batch: usize,
) -> Fit<'a, B, M> {
    fit.length(length(args, default_length))
        .batch_size(args.batch_size.unwrap_or(default_batch))
        .seed(args.seed)
        .log_every(args.log_every)
        .checkpoint_every(args.checkpoint_every)
        .quiet(args.quiet)
}

/// Prints the Keras-style summary of `model` for inputs of `input` (no batch dimension).
pub fn print_summary<B: Backend>(model: &Sequential<B>, be: &B, input: &[usize]) -> Result<()> {
    eprint!("{}", model.summary(be, input)?);
    Ok(())
}

/// The end-of-run lines every supervised binary prints.
pub fn print_report(name: &str, report: &SupervisedReport, test_what: &str) {
    let end = &report.end;
    if end.interrupted {
        eprintln!(
            "{name}: interrupted at step {}; resume with --resume {}",
            end.steps,
            report.dir.join(train::fit::CHECKPOINT).display()
        );
    }
    if let Some(reason) = &end.stopped {
        eprintln!("{name}: stopped at step {}: {reason}", end.steps);
    }
    eprintln!(
        "{name}: {} steps, {:.1} s in this session ({:.1} steps/s)",
        end.steps, end.seconds, end.steps_per_sec
    );
    println!(
        "{test_what}: {}",
        report
            .test
            .iter()
            .map(|(n, v)| if n.contains("acc") {
                format!("{n} {:.2}%", 100.0 * v)
            } else {
                format!("{n} {v:.4}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    eprintln!(
        "{name}: run directory {} (model.safetensors: the trained weights)",
        report.dir.display()
    );
}
