//! `transfer_cnn`: Keras' `mnist_transfer_cnn`, train on digits 0-4, transfer to 5-9.

use clap::Parser;
use models::{CommonArgs, transfer_cnn, with_backend};
use std::process::ExitCode;

/// Transfer learning on MNIST (Keras' mnist_transfer_cnn): train a small CNN on digits
/// 0-4, freeze its feature layers (two convolutions, pooling, dropout, flatten), then
/// train only the dense head on digits 5-9. Adadelta (lr 1.0), batch 128; each stage
/// makes the original's 1,200 updates (5 epochs of the full MNIST; 37-39 epochs of the
/// bundled digits) unless --epochs or --steps says otherwise. Prints the summary with
/// trainable and non-trainable counts before and after freezing, and the held-out
/// accuracy of each stage.
///
/// The run directory holds digits_0-4/ and digits_5-9/, each with metrics.jsonl,
/// loss.png, accuracy.png, checkpoint.safetensors and model.safetensors; --resume takes
/// either stage's checkpoint.
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
        return models::export::run_cli("transfer_cnn", args, models::export::transfer_cnn);
    }
    match with_backend!(cli.common.backend, be => transfer_cnn::train(be, &cli.common)) {
        Ok(r) => {
            let (t0, f0) = r.counts_before;
            let (t1, f1) = r.counts_after;
            println!(
                "parameters before freezing: {} in all, {t0} trainable, {f0} non-trainable",
                t0 + f0
            );
            println!(
                "parameters after freezing: {} in all, {t1} trainable, {f1} non-trainable",
                t1 + f1
            );
            for s in &r.stages {
                println!(
                    "held-out accuracy on digits {}: {:.2}%",
                    s.digits,
                    100.0 * s.test.get("accuracy").unwrap_or(f64::NAN)
                );
            }
            eprintln!("transfer_cnn: run directory {}", r.dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("transfer_cnn: error: {e}");
            ExitCode::FAILURE
        }
    }
}
