//! Helpers shared by the integration tests: the shared device, data, comparisons.
#![allow(dead_code)]

use backend_wgpu::Wgpu;
use std::io::Write;
use std::sync::OnceLock;
use tensor::Distribution;
use tensor::backend::ops::*;

/// The device every test shares (compiled pipelines are cached per device, so
/// sharing one saves the first-dispatch shader compiles in every test).
///
/// Without an adapter this prints a loud SKIP line and returns `None`, unless
/// `CI=true`, where a missing adapter fails the test.
pub fn gpu() -> Option<&'static Wgpu> {
    static GPU: OnceLock<Option<Wgpu>> = OnceLock::new();
    GPU.get_or_init(|| {
        // Straight to stderr: libtest captures eprintln!, and this line must show.
        let mut err = std::io::stderr();
        match Wgpu::new() {
            Ok(gpu) => {
                let _ = writeln!(err, "\n=== backend-wgpu tests run on {} ===", gpu.name());
                Some(gpu)
            }
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("CI=true but no wgpu adapter could be opened: {e}");
                }
                let _ = writeln!(
                    err,
                    "\n!!! SKIP: backend-wgpu tests did not run: no wgpu adapter: {e} !!!"
                );
                None
            }
        }
    })
    .as_ref()
}

/// `n` values uniform in `[lo, hi)`, reproducible from `seed`.
pub fn data(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| tensor::random::sample(Distribution::Uniform { low: lo, high: hi }, seed, i))
        .collect()
}

/// `n` values from a few levels (-1, -0.5, 0, 0.5, 1), so that ties and equal
/// values are common.
pub fn quantized(n: usize, seed: u64) -> Vec<f32> {
    data(n, seed, 0.0, 5.0)
        .into_iter()
        .map(|v| v.floor() * 0.5 - 1.0)
        .collect()
}

/// Relative tolerance of the parity checks.
///
/// Both backends compute in f32 but add in different orders (tiles and
/// workgroup tree reductions on the GPU, SIMD lanes and threads on the CPU),
/// and the GPU's exp / log / tanh / pow differ from libm by a few ulp. For a sum
/// of n terms the difference is bounded by about n * 2^-24 * sum|terms|; with
/// the sizes here (n <= ~1000, |terms| <= 1) that is below 1e-4 relative to the
/// output's scale. A real indexing or logic error is off by O(1).
pub const RTOL: f32 = 1e-4;

/// Compares `got` with `want` elementwise: `|got - want| <= RTOL * (|want| + scale)`
/// where `scale` is the largest |want| (at least 1), so that entries that cancel to
/// near zero are judged against the magnitude of the output, not their own.
pub fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_close_tol(what, got, want, RTOL);
}

pub fn assert_close_tol(what: &str, got: &[f32], want: &[f32], rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want
        .iter()
        .filter(|v| v.is_finite())
        .fold(1.0f32, |m, v| m.max(v.abs()));
    let mut worst = (0usize, 0.0f32);
    let mut bad = 0usize;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let same_special = (g.is_nan() && w.is_nan()) || (g.is_infinite() && g == w);
        if same_special {
            continue;
        }
        // A NaN error (one side NaN) counts as a failure.
        let err = (g - w).abs();
        let tol = rtol * (w.abs() + scale);
        if err.is_nan() || err > tol {
            bad += 1;
            if err.is_nan() || err > worst.1 {
                worst = (i, err);
            }
        }
    }
    assert!(
        bad == 0,
        "{what}: {bad} of {} values differ; worst at {}: gpu {} vs cpu {} (scale {scale})",
        got.len(),
        worst.0,
        got[worst.0],
        want[worst.0]
    );
}

/// Bit-for-bit equality (for data movement and the integer-exact RNG).
pub fn assert_exact(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{what}: element {i}: gpu {g} vs cpu {w}"
        );
    }
}

/// Uploads `v` to a backend.
pub fn up<B: Backend>(b: &B, v: &[f32]) -> B::Storage {
    b.from_vec(v.to_vec()).expect("from_vec")
}

/// Downloads `len` values.
pub fn down<B: Backend>(b: &B, s: &B::Storage, len: usize) -> Vec<f32> {
    b.to_vec(s, len).expect("to_vec")
}

/// TensorFlow SAME padding along one axis: `(out, pad_before)`.
pub fn same(input: usize, k: usize, s: usize) -> (usize, usize) {
    let out = input.div_ceil(s);
    let total = ((out - 1) * s + k).saturating_sub(input);
    (out, total / 2)
}

/// TensorFlow VALID output size along one axis.
pub fn valid(input: usize, k: usize, s: usize) -> usize {
    (input - k) / s + 1
}
