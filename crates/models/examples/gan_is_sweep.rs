//! Inception Score of the MLP GAN along one training run, from the trained generator
//! and from weight averages of several decays.
//!
//! `cargo run --release -p models --example gan_is_sweep -- [STEPS] [SEED]`
//! (defaults 28,000 and 42).
//!
//! Every 4,000 steps from 8,000 on, each generator draws three independent sets of 1,000
//! digits, scored as the `gan` binary scores its export (quantised to bytes, the cached
//! project classifier). Prints the mean IS, the three draws, and the mean share of
//! confident classifications. Used to choose `gan`'s default length and average.

use backend_cpu::Cpu;
use models::classifier::{
    CLASSIFIER_PATH, confident_share, inception_score, load_or_train, predict,
};
use models::data::load_mnist;
use models::gan::{Gan, GanConfig, PIXELS, average_into, copy_params, generator};
use nn::{Mode, Module, Seeds, Sequential};
use std::path::Path;
use std::process::ExitCode;
use tensor::{Tensor, no_grad};
use train::Result;
use train::StepBatches;

const DECAYS: [f32; 3] = [0.999, 0.9995, 0.9998];

/// IS and confident share of 1,000 digits of `g` from latent draw `draw`.
fn score(
    g: &Sequential<Cpu>,
    gan: &Gan<Cpu>,
    classifier: &Sequential<Cpu>,
    draw: u64,
) -> Result<(f64, f64)> {
    let mut bytes = Vec::with_capacity(1000 * PIXELS);
    for chunk in 0..4 {
        let z = gan.noise(250, 1000 + draw * 10 + chunk)?;
        let x = no_grad(|| g.forward(&z, Mode::Eval))?.to_vec()?;
        bytes.extend(datasets::normalize::signed_to_u8(&x));
    }
    let pixels = datasets::normalize::u8_to_unit(&bytes);
    let probs = predict(classifier, &Cpu, &pixels, 1000)?;
    Ok((
        inception_score(&probs, 10),
        confident_share(&probs, 10, 0.9),
    ))
}

fn run(total: u64, seed: u64) -> Result<()> {
    let be = Cpu;
    let classifier = load_or_train(&be, Path::new(CLASSIFIER_PATH))?;
    let mnist = load_mnist(None)?;
    let pixels = mnist.train.to_f32_signed();
    let config = GanConfig {
        seed,
        ema_decay: 0.0,
        ..GanConfig::default()
    };
    let mut gan = Gan::new(be, config)?;
    let averages = DECAYS
        .iter()
        .map(|_| {
            let avg = generator(&be, &mut Seeds::new(0))?;
            copy_params(&gan.generator, &avg)?;
            Ok(avg)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut batches = StepBatches::new("gan", mnist.train.len(), 32, seed)?;
    let start = std::time::Instant::now();
    for step in 0..total {
        let batch = datasets::gather_rows(&pixels, PIXELS, batches.indices(step))?;
        gan.train_step(&Tensor::from_vec(&be, batch, [32, PIXELS])?)?;
        for (avg, &decay) in averages.iter().zip(&DECAYS) {
            average_into(avg, &gan.generator, decay)?;
        }
        let done = step + 1;
        if done % 4000 != 0 || done < 8000 {
            continue;
        }
        let mut line = format!("step {done} ({:.0} s):", start.elapsed().as_secs_f64());
        let names = DECAYS.iter().map(|d| format!("avg {d}"));
        let generators =
            std::iter::once(("trained".to_string(), &gan.generator)).chain(names.zip(&averages));
        for (name, g) in generators {
            let draws = (0..3)
                .map(|d| score(g, &gan, &classifier, d))
                .collect::<Result<Vec<_>>>()?;
            let mean = |f: fn(&(f64, f64)) -> f64| draws.iter().map(f).sum::<f64>() / 3.0;
            line += &format!(
                " {name} IS {:.2} [{:.2} {:.2} {:.2}] confident {:.1}% |",
                mean(|s| s.0),
                draws[0].0,
                draws[1].0,
                draws[2].0,
                100.0 * mean(|s| s.1)
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
    let (Ok(total), Ok(seed)) = (arg(1, 28_000), arg(2, 42)) else {
        eprintln!("usage: gan_is_sweep [STEPS] [SEED]");
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
