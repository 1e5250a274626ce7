//! `cifar10_cnn`: Keras' CIFAR-10 CNN example.

use clap::Parser;
use models::{CommonArgs, cifar10_cnn, supervised::print_report, with_backend};
use std::process::ExitCode;

/// Train Keras' cifar10_cnn (conv 32 SAME, conv 32, pool, dropout 0.25, conv 64 SAME,
/// conv 64, pool, dropout 0.25, dense 512, dropout 0.5, dense 10; RMSprop lr 1e-4 with
/// decay 1e-6, batch 32, 100 epochs) with the original's augmentation (random shifts of
/// up to 10% and horizontal flips), validating on the test images after every epoch.
///
/// CIFAR-10 is not bundled: download the binary version (cifar-10-binary.tar.gz) from
/// https://www.cs.toronto.edu/~kriz/cifar.html, unpack it, and pass --data-dir
/// cifar-10-batches-bin (data_batch_1.bin .. data_batch_5.bin, test_batch.bin), or set
/// CIFAR10_DIR. Writes metrics.jsonl, loss.png, accuracy.png, checkpoint.safetensors and
/// model.safetensors into the run directory.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Train on the images as they are, without the random shifts and flips.
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
        return models::export::run_cli("cifar10_cnn", args, models::export::cifar10_cnn);
    }
    let augment = !cli.no_augmentation;
    match with_backend!(cli.common.backend, be => cifar10_cnn::train(be, &cli.common, augment)) {
        Ok(report) => {
            print_report("cifar10_cnn", &report, "accuracy on the test images");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cifar10_cnn: error: {e}");
            ExitCode::FAILURE
        }
    }
}
