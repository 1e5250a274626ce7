//! `mnist_cnn`: trains the MNIST CNN classifier of SEEDS.md section 5.

use clap::Parser;
use models::{CommonArgs, mnist_cnn, supervised::print_report, with_backend};
use std::process::ExitCode;

/// Train the MNIST CNN of the original tutorial (conv 64, pool, conv 128, pool, dense
/// 1024, dropout 0.5, dense 10; Adam 1e-4, batch 50, 3,000 steps) on the bundled 8,000
/// training digits, then report the accuracy on the 2,000 held-out digits.
///
/// Prints `step N training accuracy A` every 100 steps (the accuracy on that step's
/// batch). Writes into the run directory: metrics.jsonl, loss.png, accuracy.png,
/// checkpoint.safetensors (to --resume), model.safetensors (the trained weights, which
/// other programs load) and test.json (the held-out figures).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
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
        return models::export::run_cli("mnist_cnn", args, models::export::mnist_cnn);
    }
    let result = with_backend!(cli.common.backend, be => mnist_cnn::train(be, &cli.common));
    match result {
        Ok(report) => {
            print_report("mnist_cnn", &report, "held-out accuracy on the test digits");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mnist_cnn: error: {e}");
            ExitCode::FAILURE
        }
    }
}
