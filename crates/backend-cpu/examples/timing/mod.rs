//! Timing shared by the speed examples (`#[path]`-included; not an example itself).

use std::time::Instant;

/// Median seconds per call of `f`, over enough calls to fill about 0.3 s (3 to 10,000),
/// after one warm-up call.
pub fn median_secs(mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let reps = ((0.3 / once) as usize).clamp(3, 10_000);
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[reps / 2]
}
