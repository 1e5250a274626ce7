//! `acgan`: trains the auxiliary-classifier GAN of Keras' `mnist_acgan` example
//! (SEEDS.md section 8) on MNIST, or samples chosen digits from a checkpoint.

use clap::{Parser, Subcommand};
use models::acgan::run::{self as acgan_run, AcganOptions};
use models::{CommonArgs, with_backend};
use std::path::PathBuf;
use std::process::ExitCode;

/// Train the ACGAN on MNIST (bundled 10,000-digit subset by default).
///
/// Writes into the run directory: samples/step_*.png (grids of 10 rows, one per digit,
/// at fixed latent vectors), samples.png, samples.idx3-ubyte (1,000 generated digits,
/// 100 per class) with samples-labels.idx1-ubyte (the digit each was asked for; score
/// them with `score --labels`), metrics.jsonl, loss.png and checkpoint.safetensors.
/// At the end the digits are scored with the project's MNIST classifier (Inception
/// Score and the share classified as the digit asked for) into score.json.
/// Defaults: Adam 2e-4 (beta1 0.5), batch 32 (the generator trains on 64), 1,000
/// iterations: 13-21 minutes on a 2-core CPU; Ctrl-C saves and exports.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    acgan: AcganOptions,
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
    /// Generate digits from a saved checkpoint: an IDX file, its labels
    /// (<name>-labels.idx1-ubyte) and a PNG grid beside it (<name>-grid.png, 10 rows of
    /// --grid-columns); files that already exist beside it are never overwritten.
    Sample {
        /// Checkpoint written by a training run.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Only this digit (0-9); otherwise every digit in turn, one grid row each.
        #[arg(long, value_parser = models::cli::digit)]
        class: Option<usize>,
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
            return models::export::run_cli("acgan", args, models::export::acgan);
        }
        Some(Command::Sample {
            checkpoint,
            class,
            count,
            output,
        }) => with_backend!(cli.common.backend, be => acgan_run::sample(be, checkpoint, *class, *count, cli.acgan.grid_columns, cli.common.seed, output))
        .map(|()| {
            eprintln!("wrote {count} images to {}", output.display());
            if cli.acgan.grid_columns > 0 {
                eprintln!("grid: {}", models::cli::grid_name(output).display());
            }
        }),
        None => with_backend!(cli.common.backend, be => acgan_run::train(be, &cli.common, &cli.acgan)).and_then(|r| {
            eprintln!(
                "{} after {} steps ({:.2} it/s): D loss {:.4} (real/fake {:.4}, digit {:.4}), D acc {:.1}%, aux acc on real {:.1}%, G loss {:.4}",
                if r.interrupted { "interrupted" } else { "done" },
                r.steps,
                r.steps_per_sec,
                r.last.d_loss(),
                r.last.d_fake_loss,
                r.last.d_aux_loss,
                100.0 * r.last.d_acc,
                100.0 * r.last.aux_acc_real,
                r.last.g_loss()
            );
            let grid = r.dir.join("samples.png");
            if grid.exists() {
                eprintln!("samples: {}", grid.display());
            }
            let digits = r.dir.join("samples.idx3-ubyte");
            let labels = r.dir.join("samples-labels.idx1-ubyte");
            if !digits.exists() {
                return Ok(());
            }
            eprintln!(
                "generated digits: {} (asked-for digits: {})",
                digits.display(),
                labels.display()
            );
            if cli.no_score {
                return Ok(());
            }
            models::classifier::score_run(
                &r.dir,
                &digits,
                Some(&labels),
                serde_json::json!({
                    "steps": r.steps,
                    "steps_per_sec": r.steps_per_sec,
                    "d_loss": r.last.d_loss(),
                    "g_loss": r.last.g_loss(),
                }),
            )
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acgan: error: {e}");
            ExitCode::FAILURE
        }
    }
}
