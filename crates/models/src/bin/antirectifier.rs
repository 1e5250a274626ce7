//! `antirectifier`: Keras' custom-layer example, an MLP with Antirectifier layers on MNIST.

use clap::Parser;
use models::{CommonArgs, antirectifier, supervised::print_report, with_backend};
use std::process::ExitCode;

/// Train Keras' antirectifier MLP (Dense 256, Antirectifier, Dropout 0.1, Dense 256,
/// Antirectifier, Dropout 0.1, Dense 10; RMSprop, batch 128) on the bundled 8,000
/// training digits, validating on the 2,000 held-out ones after every epoch. Against
/// overfitting the small set, the default adds random shifts of up to 10% and trains
/// 80 epochs with the learning rate falling exponentially to a tenth.
///
/// The Antirectifier layer (crates/models/src/antirectifier/layer.rs) is written as a
/// user writes a layer of their own. Writes metrics.jsonl, loss.png, accuracy.png,
/// checkpoint.safetensors and model.safetensors into the run directory.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Train on the digits as they are (the original recipe), without the random shifts
    /// of up to 10% that the default adds against overfitting the bundled 8,000 digits.
    #[arg(long)]
    no_augmentation: bool,
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
        return models::export::run_cli("antirectifier", args, models::export::antirectifier);
    }
    match with_backend!(cli.common.backend, be => antirectifier::train(be, &cli.common, !cli.no_augmentation))
    {
        Ok(report) => {
            print_report(
                "antirectifier",
                &report,
                "held-out accuracy on the test digits",
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("antirectifier: error: {e}");
            ExitCode::FAILURE
        }
    }
}
