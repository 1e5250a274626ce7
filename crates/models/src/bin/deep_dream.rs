//! `deep_dream`: gradient ascent on a picture through the project's MNIST CNN
//! (SEEDS.md section 8).

use clap::Parser;
use models::deep_dream::run::{DreamArgs, run};
use models::with_backend;
use std::process::ExitCode;

/// Dream on a picture: strengthen, by gradient ascent on the picture itself, what
/// chosen layers of the project's MNIST CNN respond to, at 3 scales (Keras'
/// deep_dream recipe: 3 octaves at scale 1.4, 20 iterations each, lost detail put
/// back between octaves; for this network's 0..1 pixels every step is clipped to
/// them and the step is 0.03, Keras' 0.01 being too faint).
///
/// The network is `mnist_cnn` trained on the bundled digits: trained once on first use
/// (1,000 steps, about 2 minutes here) and cached in runs/deep_dream/, or the file
/// given with --model. Writes the dream (the input's size, grey), a strip of the input
/// and each octave side by side, and metrics.jsonl (the loss of every iteration).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    args: DreamArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match with_backend!(cli.args.backend, be => run(be, &cli.args)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deep_dream: error: {e}");
            ExitCode::FAILURE
        }
    }
}
