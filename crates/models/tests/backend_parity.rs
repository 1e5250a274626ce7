//! The same model, seed and data trained on the CPU and on wgpu reach the same loss.

#![cfg(feature = "wgpu")]

use nn::Params;
use nn::loss::sparse_categorical_cross_entropy_with_logits;
use nn::{Activation, Adam, Dense, Mode, Module, Optimizer, Seeds, Sequential};
use tensor::{Backend, Result, StorageOps, Tensor};

/// Two interleaved spirals, 2 classes, 200 points: a problem a two-layer MLP learns.
fn spirals() -> (Vec<f32>, Vec<usize>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..100 {
        let t = i as f32 / 100.0 * 3.0;
        for (class, phase) in [(0usize, 0.0f32), (1, std::f32::consts::PI)] {
            x.push(t * (t + phase).cos() / 3.0);
            x.push(t * (t + phase).sin() / 3.0);
            y.push(class);
        }
    }
    (x, y)
}

/// Losses of 300 Adam steps of a 2 -> 32 (tanh) -> 2 MLP, full batch.
fn train<B: Backend>(be: B) -> Result<Vec<f32>> {
    let mut seeds = Seeds::new(11);
    let model = Sequential::new()
        .add(Dense::new(&be, 2, 32, &mut seeds)?.activation(Activation::Tanh))
        .add(Dense::new(&be, 32, 2, &mut seeds)?);
    let mut opt = Adam::new(0.01);
    let (x, y) = spirals();
    let x = Tensor::from_vec(&be, x, [200, 2])?;
    let mut losses = Vec::new();
    for _ in 0..300 {
        let grads = {
            let loss =
                sparse_categorical_cross_entropy_with_logits(&model.forward(&x, Mode::Train)?, &y)?;
            losses.push(loss.to_scalar()?);
            loss.backward()?
        };
        opt.step(&model.trainable_params(), &grads)?;
    }
    Ok(losses)
}

#[test]
fn two_layer_network_trains_to_the_same_loss_on_both_backends() {
    let gpu = match backend_wgpu::Wgpu::new() {
        Ok(g) => g,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no wgpu adapter: {e}"
            );
            eprintln!("SKIP: no wgpu adapter: {e}");
            return;
        }
    };
    eprintln!("wgpu adapter: {}", gpu.name());
    let cpu = train(backend_cpu::Cpu).unwrap();
    let gpu = train(gpu).unwrap();
    assert!(
        cpu[299] < 0.6 * cpu[0],
        "the CPU run did not learn: {} -> {}",
        cpu[0],
        cpu[299]
    );
    // Identical initial weights (counter-based RNG): the first loss agrees to f32
    // rounding. Over 300 steps the two runs' rounding differences (summation order,
    // exp/log ulps) grow through the nonlinear dynamics but stay small: 1% of the loss.
    assert!(
        (cpu[0] - gpu[0]).abs() <= 1e-5 * cpu[0].abs().max(1.0),
        "{} vs {}",
        cpu[0],
        gpu[0]
    );
    for step in [50, 150, 299] {
        let (c, g) = (cpu[step], gpu[step]);
        assert!(
            (c - g).abs() <= 0.01 * c.abs().max(1e-3),
            "step {step}: cpu {c} vs wgpu {g}"
        );
    }
}
