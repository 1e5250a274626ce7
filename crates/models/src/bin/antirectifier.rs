//! `antirectifier`: Keras' custom-layer example, an MLP with Antirectifier layers on MNIST.

use clap::Parser;
use models::{CommonArgs, antirectifier, supervised::print_report, with_backend};
use std::process::ExitCode;

/// Train Keras' antirectifier MLP (Dense 256, Antirectifier, Dropout 0.1, Dense 256,
/// Antirectifier, Dropout 0.1, Dense 10; RMSprop, batch 128, 40 epochs) on the bundled
/// 8,000 training digits, validating on the 2,000 held-out ones after every epoch.
///
/// The Antirectifier layer (crates/models/src/antirectifier/layer.rs) is written as a
/// user writes a layer of their own. Writes metrics.jsonl, loss.png, accuracy.png,
/// checkpoint.safetensors and model.safetensors into the run directory.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match with_backend!(cli.common.backend, be => antirectifier::train(be, &cli.common)) {
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
