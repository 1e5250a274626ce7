//! Class fidelity and Inception Score of the ACGAN along one training run, from the
//! trained generator and from moving averages of its weights at several decays.
//!
//! `cargo run --release -p models --example acgan_sweep -- [STEPS] [SEED]`
//! (defaults 2,000 and 42).
//!
//! Every 250 steps from 750 on, each generator draws 1,000 digits (100 of each, fixed
//! latents), scored as the `acgan` binary scores its export (quantised to bytes, the
//! cached project classifier): IS, the share of confident classifications, class
//! fidelity and the weakest digit's fidelity. Used to choose `acgan`'s default length
//! and average.

use backend_cpu::Cpu;
use models::acgan::run::export_labels;
use models::acgan::{Acgan, AcganConfig, Generator, PIXELS};
use models::classifier::{
    CLASSIFIER_PATH, class_fidelity, class_fidelity_per_class, confident_share, inception_score,
    load_or_train, predict,
};
use models::data::load_mnist;
use models::gan::{average_into, copy_params};
use nn::{Mode, Seeds, Sequential};
use std::path::Path;
use std::process::ExitCode;
use tensor::{Tensor, no_grad};
use train::{Result, StepBatches};

const DECAYS: [f32; 3] = [0.99, 0.995, 0.998];

/// IS, confident share, class fidelity and the weakest digit's, of 1,000 digits of `g`.
fn score(
    g: &Generator<Cpu>,
    z: &Tensor<Cpu>,
    labels: &[usize],
    classifier: &Sequential<Cpu>,
) -> Result<(f64, f64, f64, f64)> {
    let x = no_grad(|| g.forward(z, labels, Mode::Eval))?.to_vec()?;
    let bytes = datasets::normalize::signed_to_u8(&x);
    let pixels = datasets::normalize::u8_to_unit(&bytes);
    let probs = predict(classifier, &Cpu, &pixels, labels.len())?;
    let asked: Vec<u8> = labels.iter().map(|&l| l as u8).collect();
    let weakest = class_fidelity_per_class(&probs, 10, &asked)
        .iter()
        .flatten()
        .fold(1.0f64, |m, &f| m.min(f));
    Ok((
        inception_score(&probs, 10),
        confident_share(&probs, 10, 0.9),
        class_fidelity(&probs, 10, &asked),
        weakest,
    ))
}

fn run(total: u64, seed: u64) -> Result<()> {
    let be = Cpu;
    let classifier = load_or_train(&be, Path::new(CLASSIFIER_PATH))?;
    let mnist = load_mnist(None)?;
    let pixels = mnist.train.to_f32_signed();
    let config = AcganConfig {
        seed,
        ..AcganConfig::default()
    };
    let batch = config.batch_size;
    let mut gan = Acgan::new(be, config)?;
    let averages = DECAYS
        .iter()
        .map(|_| {
            let avg = Generator::new(&be, &mut Seeds::new(0))?;
            copy_params(&gan.generator, &avg)?;
            Ok(avg)
        })
        .collect::<Result<Vec<_>>>()?;
    let labels = export_labels(1000, None);
    let z = gan.noise(1000, seed ^ 0xe4_0a7)?;
    let mut batches = StepBatches::new("acgan", mnist.train.len(), batch, seed)?;
    let start = std::time::Instant::now();
    for step in 0..total {
        let idx = batches.indices(step);
        let real = datasets::gather_rows(&pixels, PIXELS, idx)?;
        let real = Tensor::from_vec(&be, real, [batch, 28, 28, 1])?;
        let digits: Vec<usize> = idx
            .iter()
            .map(|&i| mnist.train.labels[i] as usize)
            .collect();
        gan.train_step(&real, &digits)?;
        for (avg, &decay) in averages.iter().zip(&DECAYS) {
            average_into(avg, &gan.generator, decay)?;
        }
        let done = step + 1;
        if done % 250 != 0 || done < 750 {
            continue;
        }
        let mut line = format!("step {done} ({:.0} s):", start.elapsed().as_secs_f64());
        let names = DECAYS.iter().map(|d| format!("avg {d}"));
        let generators =
            std::iter::once(("trained".to_string(), &gan.generator)).chain(names.zip(&averages));
        for (name, g) in generators {
            let (is, confident, faithful, weakest) = score(g, &z, &labels, &classifier)?;
            line += &format!(
                " {name} IS {is:.2} conf {:.1}% faithful {:.1}% (weakest {:.1}%) |",
                100.0 * confident,
                100.0 * faithful,
                100.0 * weakest
            );
        }
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    backend_cpu::join_thread_pool();
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .map_or(Ok(default), |s| s.parse::<u64>())
    };
    let (Ok(total), Ok(seed)) = (arg(1, 2_000), arg(2, 42)) else {
        eprintln!("usage: acgan_sweep [STEPS] [SEED]");
        return ExitCode::FAILURE;
    };
    match run(total, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
