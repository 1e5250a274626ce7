//! `addition_rnn`: Keras' sequence-to-sequence example that learns to add.

use clap::Parser;
use models::addition_rnn::{self, AdditionArgs, EXACT_MATCH};
use models::{CommonArgs, supervised::print_report, with_backend};
use std::process::ExitCode;

/// Learn to add, as Keras' addition_rnn example: 50,000 unique questions "a+b" (each
/// number up to 3 digits), one-hot over "0123456789+ ", padded to 7 characters and
/// reversed; answers padded to 4; 10% held out. LSTM(128) -> RepeatVector(4) ->
/// LSTM(128, return_sequences) -> TimeDistributed(Dense 12) -> softmax; Adam 1e-3,
/// batch 128, 30 epochs (205,324 parameters).
///
/// After every epoch it prints ten random validation questions with the model's
/// answer, marked right (☑) or wrong (☒), and two validation figures: the
/// per-character accuracy that Keras reports as val_accuracy, and the exact-match
/// accuracy (the whole answer right). Writes metrics.jsonl (with accuracy,
/// exact_match_accuracy and their val_ figures per epoch), loss.png, accuracy.png,
/// checkpoint.safetensors (to --resume) and model.safetensors into the run directory.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    task: AdditionArgs,
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
        return models::export::run_cli("addition_rnn", args, |be, path| {
            models::export::addition_rnn(be, path, &cli.task)
        });
    }
    let result =
        with_backend!(cli.common.backend, be => addition_rnn::train(be, &cli.common, &cli.task));
    match result {
        Ok(report) => {
            print_report(
                "addition_rnn",
                &report,
                "validation on the held-out questions",
            );
            if let Some(rows) = report.end.metrics.as_ref().and_then(|m| m.read_all().ok()) {
                let key = format!("val_{EXACT_MATCH}");
                for threshold in [0.9, 0.99] {
                    match addition_rnn::first_epoch_reaching(&rows, &key, threshold) {
                        Some(e) => eprintln!(
                            "addition_rnn: exact match reached {:.0}% at epoch {e}",
                            100.0 * threshold
                        ),
                        None => eprintln!(
                            "addition_rnn: exact match has not reached {:.0}%",
                            100.0 * threshold
                        ),
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("addition_rnn: error: {e}");
            ExitCode::FAILURE
        }
    }
}
