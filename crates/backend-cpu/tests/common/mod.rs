//! Helpers shared by the integration tests: deterministic test data and tolerant
//! comparisons. Reference numbers never come from the backend under test.

#![allow(dead_code)]

use backend_cpu::Cpu;
use std::sync::Arc;
use tensor::backend::ops::*;

/// Uploads host data.
pub fn st(data: &[f32]) -> Arc<Vec<f32>> {
    Cpu.from_vec(data.to_vec()).unwrap()
}

/// Downloads a whole storage.
pub fn host(s: &Arc<Vec<f32>>) -> Vec<f32> {
    Cpu.to_vec(s, s.len()).unwrap()
}

/// Deterministic values in [-1, 1) from a small LCG, independent of the backend's RNG.
pub fn data(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Asserts `|got - want| <= atol + rtol * |want|` elementwise.
pub fn assert_close(got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "element {i}: got {g}, want {w} (error {err})"
        );
    }
}

/// Like [`assert_close`] for f32 expectations.
pub fn assert_close32(got: &[f32], want: &[f32], atol: f64) {
    let want: Vec<f64> = want.iter().map(|&w| w as f64).collect();
    assert_close(got, &want, atol, 0.0);
}

/// Inner product in f64.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}
