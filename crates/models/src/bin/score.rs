//! `score`: measures generated digits with the project's MNIST classifier.
//!
//! Prints the classifier-based Inception Score (real held-out digits score about 9.7),
//! the share of confident classifications (> 0.9) and, with `--labels`, the share
//! classified as the class each image was asked for, overall and for each digit.

use clap::Parser;
use models::classifier::score_idx;
use std::path::PathBuf;
use std::process::ExitCode;

/// Score generated MNIST digits (an IDX file of 28x28 uint8 images).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// IDX image file, e.g. runs/gan/<timestamp>/samples.idx3-ubyte.
    samples: PathBuf,
    /// IDX label file with the class each image was asked for (acgan).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Classifier checkpoint; trained on the bundled MNIST and cached here when missing.
    #[arg(long, default_value = "runs/classifier/classifier.safetensors")]
    classifier: PathBuf,
}

fn run(cli: &Cli) -> Result<(), String> {
    let s = score_idx(&cli.samples, cli.labels.as_deref(), &cli.classifier)
        .map_err(|e| e.to_string())?;
    println!("images: {}", s.count);
    println!("inception score: {:.3}", s.inception_score);
    println!("confident (> 0.9): {:.1}%", 100.0 * s.confident);
    if let Some(f) = s.class_faithful {
        println!("class-faithful: {:.1}%", 100.0 * f);
    }
    if let Some(per_class) = &s.class_faithful_per_class {
        println!(
            "class-faithful by digit: {}",
            models::classifier::format_per_class(per_class)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    backend_cpu::join_thread_pool();
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("score: error: {e}");
            ExitCode::FAILURE
        }
    }
}
