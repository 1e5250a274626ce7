//! Random fills through the shared counter-based generator, so the CPU draws the
//! same numbers as every other backend.

use crate::simd::{self, Level};
use crate::{Cpu, PAR_CHUNK, PAR_THRESHOLD, cpu_error};
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::Arc;
use tensor::{Distribution, RandomOps, Result};

pub(crate) fn random(len: usize, dist: Distribution, seed: u64) -> Result<Vec<f32>> {
    // The counter is a u32; past it, elements would silently repeat.
    if len > u32::MAX as usize + 1 {
        return Err(cpu_error(
            "random",
            format!("{len} elements exceed the generator's 2^32 counter"),
        ));
    }
    let level = simd::detected();
    // SAFETY: `fill` writes every element of the slice it is given, and the chunks
    // cover the output.
    unsafe {
        crate::alloc::written("random", len, |out| {
            if len < PAR_THRESHOLD {
                fill(out, 0, dist, seed, level);
            } else {
                out.par_chunks_mut(PAR_CHUNK)
                    .enumerate()
                    .for_each(|(t, chunk)| fill(chunk, t * PAR_CHUNK, dist, seed, level));
            }
        })
    }
}

/// Writes elements `start .. start + out.len()` of the fill into every element of `out`, exactly as
/// `tensor::random::sample` computes them. The uniform and Bernoulli loops are integer
/// hashing plus an exact conversion, so they run at the widest vector level (dropout
/// masks: 16 lanes of 32-bit multiplies with AVX-512, none in baseline SSE2) with the
/// same bits at every level.
fn fill(out: &mut [MaybeUninit<f32>], start: usize, dist: Distribution, seed: u64, level: Level) {
    use tensor::random::{bits, key, unit};
    let k0 = key(seed, 0);
    let base = start as u32;
    match dist {
        Distribution::Uniform { low, high } => simd::at(
            level,
            #[inline(always)]
            || {
                for (j, o) in out.iter_mut().enumerate() {
                    let u = unit(bits(k0, base.wrapping_add(j as u32)));
                    o.write(low + (high - low) * u);
                }
            },
        ),
        Distribution::Bernoulli { p } => simd::at(
            level,
            #[inline(always)]
            || {
                for (j, o) in out.iter_mut().enumerate() {
                    let u = unit(bits(k0, base.wrapping_add(j as u32)));
                    o.write(if u < p { 1.0 } else { 0.0 });
                }
            },
        ),
        Distribution::Normal { .. } => {
            for (j, o) in out.iter_mut().enumerate() {
                o.write(tensor::random::sample(
                    dist,
                    seed,
                    base.wrapping_add(j as u32),
                ));
            }
        }
    }
}

impl RandomOps for Cpu {
    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<Self::Storage> {
        random(len, dist, seed).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_draws_the_shared_generator_s_bits() {
        let dists = [
            Distribution::Uniform {
                low: -0.5,
                high: 2.0,
            },
            Distribution::Bernoulli { p: 0.3 },
            Distribution::Normal {
                mean: 1.0,
                std: 0.5,
            },
        ];
        for dist in dists {
            for (start, len) in [(0, 37), (1000, 100), (u32::MAX as usize - 20, 21)] {
                let want: Vec<u32> = (0..len)
                    .map(|j| tensor::random::sample(dist, 99, (start + j) as u32).to_bits())
                    .collect();
                for level in [Level::Portable, Level::Avx2, Level::Avx512] {
                    let mut out = vec![MaybeUninit::new(f32::NAN); len];
                    fill(&mut out, start, dist, 99, level);
                    // SAFETY: initialised above (and overwritten by `fill`).
                    let out: Vec<f32> = out.iter().map(|v| unsafe { v.assume_init() }).collect();
                    let got: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
                    assert_eq!(got, want, "{dist:?} at {level:?}, from {start}");
                }
            }
        }
    }
}
