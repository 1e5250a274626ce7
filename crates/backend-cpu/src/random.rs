//! Random fills through the shared counter-based generator, so the CPU draws the
//! same numbers as every other backend.

use crate::{Cpu, PAR_CHUNK, PAR_THRESHOLD, cpu_error};
use rayon::prelude::*;
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
    let sample = |i: usize| tensor::random::sample(dist, seed, i as u32);
    if len < PAR_THRESHOLD {
        return Ok((0..len).map(sample).collect());
    }
    let mut out = crate::alloc::zeros("random", len)?;
    out.par_chunks_mut(PAR_CHUNK)
        .enumerate()
        .for_each(|(t, chunk)| {
            for (j, o) in chunk.iter_mut().enumerate() {
                *o = sample(t * PAR_CHUNK + j);
            }
        });
    Ok(out)
}

impl RandomOps for Cpu {
    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<Self::Storage> {
        random(len, dist, seed).map(Arc::new)
    }
}
