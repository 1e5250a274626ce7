//! How sharp the scoring classifier is after each epoch of its training, and what that
//! does to the score of one fixed set of generated digits.
//!
//! `cargo run --release -p models --example classifier_epochs -- SAMPLES.idx3-ubyte [EPOCHS]`
//!
//! Trains the classifier of `models::classifier` with its recipe (seed 7, Adam 1e-3,
//! batch 64) and prints, per epoch: accuracy and Inception Score on the 2,000 held-out
//! bundled digits, and IS and confident share of the given samples. Used to choose
//! `CLASSIFIER_EPOCHS`.

use backend_cpu::Cpu;
use models::classifier::{argmax, classifier, confident_share, inception_score, predict};
use nn::loss::sparse_categorical_cross_entropy_with_logits;
use nn::{Adam, Mode, Module, Optimizer};
use std::path::PathBuf;
use std::process::ExitCode;
use tensor::{Result, Tensor};

fn run(samples: PathBuf, epochs: u64) -> Result<()> {
    let be = Cpu;
    let data_err = models::run::data_err;
    let mnist = datasets::Mnist::bundled().map_err(data_err)?;
    let fakes = datasets::read_idx_images(&samples).map_err(data_err)?;
    let fake_pixels: Vec<f32> = fakes.pixels.iter().map(|&b| b as f32 / 255.0).collect();
    let (train, test) = (&mnist.train, &mnist.test);
    let (pixels, test_pixels) = (train.to_f32_unit(), test.to_f32_unit());
    let model = classifier(&be, 7)?;
    let mut opt = Adam::new(1e-3);
    let sampler = datasets::BatchSampler::new(train.len(), 64)
        .map_err(data_err)?
        .shuffle(7);
    for epoch in 0..epochs {
        for idx in sampler.epoch(epoch) {
            let x = datasets::gather_rows(&pixels, 784, &idx).map_err(data_err)?;
            let x = Tensor::from_vec(&be, x, [idx.len(), 28, 28, 1])?;
            let labels: Vec<usize> = idx.iter().map(|&i| train.labels[i] as usize).collect();
            let logits = model.forward(&x, Mode::Train)?;
            let loss = sparse_categorical_cross_entropy_with_logits(&logits, &labels)?;
            let grads = loss.backward()?;
            opt.step(&model.trainable_params(), &grads)?;
        }
        let real = predict(&model, &be, &test_pixels, test.len())?;
        let correct = (0..test.len())
            .filter(|&i| argmax(&real[i * 10..i * 10 + 10]) == test.labels[i] as usize)
            .count();
        let fake = predict(&model, &be, &fake_pixels, fakes.count)?;
        println!(
            "epoch {}: held-out accuracy {:.2}%, real IS {:.3}; samples IS {:.2}, confident {:.1}%",
            epoch + 1,
            100.0 * correct as f64 / test.len() as f64,
            inception_score(&real, 10),
            inception_score(&fake, 10),
            100.0 * confident_share(&fake, 10, 0.9)
        );
    }
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
