//! `toy_gan`: the 1-D GAN of SEEDS.md section 2, learning a Gaussian or a mixture.

use clap::Parser;
use models::toy_gan::{self, ToyGanOptions};
use models::{CommonArgs, with_backend};
use std::process::ExitCode;

/// Train a GAN on a one-dimensional distribution (N(4, 0.5^2) by default).
///
/// Writes into the run directory: before.png and after.png (the real density, the
/// density of 10,000 generated samples and the discriminator's output D(x)),
/// samples/step_*.png with --sample-every, metrics.jsonl (losses, generated mean and
/// std), loss.png and checkpoint.safetensors. --data-dir is not used.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    toy: ToyGanOptions,
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
        return models::export::run_cli("toy_gan", args, models::export::toy_gan);
    }
    let result = with_backend!(cli.common.backend, be => toy_gan::train(be, &cli.common, &cli.toy))
        .map(|r| {
            eprintln!(
                "{} after {} steps ({:.1} it/s): D loss {:.4}, G loss {:.4}",
                if r.interrupted { "interrupted" } else { "done" },
                r.steps,
                r.steps_per_sec,
                r.last.d_loss(),
                r.last.g_loss
            );
            eprintln!(
                "generated mean {:.4} std {:.4} (target mean {:.4} std {:.4})",
                r.mean, r.std, r.target_mean, r.target_std
            );
            eprintln!("densities: {}", r.dir.join("after.png").display());
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("toy_gan: error: {e}");
            ExitCode::FAILURE
        }
    }
}
