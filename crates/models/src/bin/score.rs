//! `score`: measures generated digits with the project's MNIST classifier.
//!
//! Prints the classifier-based Inception Score (real held-out digits score about 9.7),
//! the share of confident classifications (> 0.9) and, with `--labels`, the share
//! classified as the class each image was asked for.

use clap::Parser;
use models::classifier::{
    class_fidelity, confident_share, inception_score, load_or_train, predict,
};
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
    let be = backend_cpu::Cpu;
    let model = load_or_train(&be, &cli.classifier).map_err(|e| e.to_string())?;
    let images = datasets::read_idx_images(&cli.samples).map_err(|e| e.to_string())?;
    if images.rows != 28 || images.cols != 28 {
        return Err(format!(
            "{}: images are {}x{}, the classifier needs 28x28",
            cli.samples.display(),
            images.rows,
            images.cols
        ));
    }
    let pixels: Vec<f32> = images.pixels.iter().map(|&p| p as f32 / 255.0).collect();
    let probs = predict(&model, &be, &pixels, images.count).map_err(|e| e.to_string())?;
    println!("images: {}", images.count);
    println!("inception score: {:.3}", inception_score(&probs, 10));
    println!(
        "confident (> 0.9): {:.1}%",
        100.0 * confident_share(&probs, 10, 0.9)
    );
    if let Some(path) = &cli.labels {
        let labels = datasets::read_idx_labels(path, 10).map_err(|e| e.to_string())?;
        if labels.len() != images.count {
            return Err(format!(
                "{} labels for {} images",
                labels.len(),
                images.count
            ));
        }
        println!(
            "class-faithful: {:.1}%",
            100.0 * class_fidelity(&probs, 10, &labels)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("score: error: {e}");
            ExitCode::FAILURE
        }
    }
}
