//! How sharp the scoring classifier is after each epoch of its training, and what that
//! does to the score of one fixed set of generated digits.
//!
//! `cargo run --release -p models --example classifier_epochs -- SAMPLES.idx3-ubyte [EPOCHS]`
//!
//! Trains the classifier of `models::classifier` with its own recipe
//! (`train_classifier_with`, seed 7) and prints, per epoch: accuracy and Inception Score on the 2,000 held-out
//! bundled digits, and IS and confident share of the given samples. Used to choose
//! `CLASSIFIER_EPOCHS`.

use backend_cpu::Cpu;
use models::classifier::{
    accuracy, confident_share, inception_score, predict, train_classifier_with,
};
use models::data::load_mnist;
use std::path::PathBuf;
use std::process::ExitCode;
use train::Result;

fn run(samples: PathBuf, epochs: u64) -> Result<()> {
    let be = Cpu;
    let mnist = load_mnist(None)?;
    let fakes = datasets::read_idx_images(&samples)?;
    let fake_pixels = datasets::normalize::u8_to_unit(&fakes.pixels);
    let test = &mnist.test;
    let test_pixels = test.to_f32_unit();
    train_classifier_with(&be, &mnist.train, epochs, 7, |epoch, model| {
        let real = predict(model, &be, &test_pixels, test.len())?;
        let fake = predict(model, &be, &fake_pixels, fakes.count)?;
        println!(
            "epoch {epoch}: held-out accuracy {:.2}%, real IS {:.3}; samples IS {:.2}, confident {:.1}%",
            100.0 * accuracy(model, &be, test)?,
            inception_score(&real, 10),
            inception_score(&fake, 10),
            100.0 * confident_share(&fake, 10, 0.9)
        );
        Ok(())
    })?;
    Ok(())
}

fn main() -> ExitCode {
    backend_cpu::join_thread_pool();
    let mut args = std::env::args().skip(1);
    let Some(samples) = args.next() else {
        eprintln!("usage: classifier_epochs SAMPLES.idx3-ubyte [EPOCHS]");
        return ExitCode::FAILURE;
    };
    let epochs = match args.next().map(|e| e.parse::<u64>()) {
        None => 20,
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            eprintln!("EPOCHS: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(PathBuf::from(samples), epochs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
