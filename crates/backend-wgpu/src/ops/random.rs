//! Random fills (`shaders/random.wgsl`), identical to `tensor::random::sample`.

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Distribution, RandomOps, Result, random};

static SHADER: Shader = Shader {
    name: "random",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/random.wgsl")],
    generated: &[],
};
static RANDOM: Kernel = Kernel {
    shader: &SHADER,
    entry: "random",
    storage: &[ReadWrite],
};

params! {
    struct RandomParams {
        len: u32,
        kind: u32,
        key0: u32,
        key1: u32,
        a: f32,
        b: f32,
    }
}

impl RandomOps for Wgpu {
    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<WgpuStorage> {
        if len > u32::MAX as usize {
            return Err(self.error(format!(
                "random: {len} elements exceed the u32 counter of tensor::random"
            )));
        }
        let out = self.alloc("random", len)?;
        let (kind, a, b) = match dist {
            Distribution::Uniform { low, high } => (0, low, high),
            Distribution::Bernoulli { p } => (1, p, 0.0),
            Distribution::Normal { mean, std } => (2, mean, std),
        };
        let params = RandomParams {
            len: len as u32,
            kind,
            key0: random::key(seed, 0),
            key1: random::key(seed, 1),
            a,
            b,
        };
        self.launch(&RANDOM, &[], &params, &[&out], self.grid(len)?)?;
        Ok(out)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::RandomParams>(&super::SHADER);
    }
}
