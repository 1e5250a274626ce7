//! `gan`: trains the MLP GAN of SEEDS.md section 1 on MNIST, or samples from a checkpoint.

use clap::{Parser, Subcommand};
use models::{CommonArgs, gan::run as gan_run, with_backend};
use std::path::PathBuf;
use std::process::ExitCode;

/// Train the MLP GAN on MNIST (bundled 10,000-digit subset by default).
///
/// Writes into the run directory: samples/step_*.png (10x10 grids at fixed latent
/// vectors), samples.png, samples.idx3-ubyte (1,000 generated digits in MNIST's
/// format), metrics.jsonl, loss.png and checkpoint.safetensors.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Decay of the moving average of the generator's weights that samples come from
    /// (0: sample from the trained generator itself, as the Keras original).
    #[arg(long, default_value_t = 0.999, value_parser = models::cli::decay)]
    ema_decay: f32,
    /// Do not score the exported samples at the end (the score trains and caches an
    /// MNIST classifier under runs/classifier/ on first use).
    #[arg(long)]
    no_score: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Export a trained model: ONNX (--onnx), PyTorch-layout weights (--pytorch), a
    /// batch of reference outputs (--reference).
    Export(models::export::ExportArgs),
    /// Generate images from a saved checkpoint into an IDX file (and a PNG grid beside it,
    /// <name>-grid.png, which never overwrites an existing file).
    Sample {
        /// Checkpoint written by a training run.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Number of images.
        #[arg(long, default_value_t = 1000, value_parser = models::cli::positive_usize)]
        count: usize,
        /// Output IDX file.
        #[arg(long, default_value = "samples.idx3-ubyte")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Export(args)) => {
            return models::export::run_cli("gan", args, models::export::gan);
        }
        Some(Command::Sample {
            checkpoint,
            count,
            output,
        }) => with_backend!(cli.common.backend, be => gan_run::sample(be, checkpoint, *count, cli.common.seed, output))
        .map(|()| {
            eprintln!("wrote {count} images to {}", output.display());
            eprintln!("grid: {}", models::cli::grid_name(output).display());
        }),
        None => with_backend!(cli.common.backend, be => gan_run::train(be, &cli.common, cli.ema_decay)).map(|r| {
            eprintln!(
                "{} after {} steps ({:.1} it/s): D loss {:.4}, D acc {:.1}%, G loss {:.4}",
                if r.interrupted { "interrupted" } else { "done" },
                r.steps,
                r.steps_per_sec,
                r.last.d_loss(),
                100.0 * r.last.d_acc,
                r.last.g_loss
            );
            eprintln!("samples: {}", r.dir.join("samples.png").display());
            eprintln!("1,000 digits for scoring: {}", r.dir.join("samples.idx3-ubyte").display());
            r
        })
        .and_then(|r| {
            if cli.no_score {
                return Ok(());
            }
            models::classifier::score_run(
                &r.dir,
                &r.dir.join("samples.idx3-ubyte"),
                None,
                serde_json::json!({
                    "steps": r.steps,
                    "steps_per_sec": r.steps_per_sec,
                    "d_loss": r.last.d_loss(),
                    "g_loss": r.last.g_loss,
                }),
            )
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gan: error: {e}");
            ExitCode::FAILURE
        }
    }
}
