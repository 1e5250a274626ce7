//! `label_to_image`: softmax regression run backwards (SEEDS.md section 6), from a
//! digit label to a picture of that digit.

use clap::Parser;
use models::label_to_image::{self, LabelToImageOptions};
use models::{CommonArgs, with_backend};
use std::process::ExitCode;

/// Learn y = softmax(onehot(label) W + b) from MNIST (bundled 10,000-digit subset by
/// default) with plain gradient descent, then draw y for each of the ten labels.
///
/// Writes into the run directory: digits.png (the ten generated digits),
/// samples.idx3-ubyte and samples-labels.idx1-ubyte (the same ten digits and their
/// labels, for `score --labels`), metrics.jsonl, loss.png and checkpoint.safetensors.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    options: LabelToImageOptions,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Export a trained model: ONNX (--onnx), PyTorch-layout weights (--pytorch), a
    /// batch of reference outputs (--reference).
    Export(models::export::ExportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Export(args)) = &cli.command {
        return models::export::run_cli("label_to_image", args, models::export::label_to_image);
    }
    let result = with_backend!(cli.common.backend, be => label_to_image::train(be, &cli.common, &cli.options))
        .map(|r| {
            eprintln!(
                "{} after {} steps ({:.1} it/s): loss {:.3}",
                if r.interrupted { "interrupted" } else { "done" },
                r.steps,
                r.steps_per_sec,
                r.last_loss
            );
            eprintln!("digits: {}", r.dir.join("digits.png").display());
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("label_to_image: error: {e}");
            ExitCode::FAILURE
        }
    }
}
