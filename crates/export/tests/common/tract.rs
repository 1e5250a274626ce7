//! Runs an ONNX file in tract (a pure-Rust ONNX runtime, independent of the exporter)
//! and compares its outputs with the project's. Shared by the tests of `export` and
//! `models` (`#[path]`-included).

#![allow(dead_code)]

use tract_onnx::prelude::*;

/// Deterministic values in [-1, 1) from `seed` (a 64-bit LCG, independent of the
/// project's random numbers): the test inputs and weights.
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// One input of a run.
pub enum Input {
    F32(Vec<usize>, Vec<f32>),
    I64(Vec<usize>, Vec<i64>),
}

/// Loads `bytes` in tract with the inputs' shapes, optimises the model, runs it and
/// returns every output as `(shape, values)`.
pub fn run(bytes: &[u8], inputs: Vec<Input>) -> Vec<(Vec<usize>, Vec<f32>)> {
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .expect("tract reads the file");
    for (i, input) in inputs.iter().enumerate() {
        let fact = match input {
            Input::F32(shape, _) => f32::fact(shape),
            Input::I64(shape, _) => i64::fact(shape),
        };
        model = model.with_input_fact(i, fact.into()).expect("input fact");
    }
    let plan = model
        .into_optimized()
        .expect("tract optimises the model")
        .into_runnable()
        .expect("tract plans the model");
    let values: TVec<TValue> = inputs
        .into_iter()
        .map(|input| match input {
            Input::F32(shape, data) => Tensor::from_shape(&shape, &data).unwrap().into_tvalue(),
            Input::I64(shape, data) => Tensor::from_shape(&shape, &data).unwrap().into_tvalue(),
        })
        .collect();
    let outputs = plan.run(values).expect("tract runs the model");
    outputs
        .iter()
        .map(|t| {
            (
                t.shape().to_vec(),
                t.to_plain_array_view::<f32>()
                    .expect("f32 output")
                    .iter()
                    .copied()
                    .collect(),
            )
        })
        .collect()
}

/// Asserts `got` matches `want` within `rel` of the largest magnitude of `want` (a
/// relative tolerance that does not blow up at values near zero).
pub fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let mut worst = (0usize, 0f32);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let d = (g - w).abs();
        if d > worst.1 {
            worst = (i, d);
        }
    }
    assert!(
        worst.1 <= rel * scale,
        "{what}: element {} is {} (want {}), off by {:.3e} relative to the largest {scale}",
        worst.0,
        got[worst.0],
        want[worst.0],
        worst.1 / scale
    );
}
