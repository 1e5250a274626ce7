//! The random family: seeded random fills.

use super::StorageOps;
use crate::Result;

/// Distribution for a random fill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// Uniform on `[low, high)`.
    Uniform { low: f32, high: f32 },
    /// Normal with the given mean and standard deviation.
    Normal { mean: f32, std: f32 },
    /// 1 with probability `p`, else 0.
    Bernoulli { p: f32 },
}

/// Random fills from an explicit seed.
pub trait RandomOps: StorageOps {
    /// `len` values drawn from `dist`. Element `i` depends only on `(seed, i)`
    /// through [`crate::random`], so every backend produces the same numbers.
    fn random(&self, len: usize, dist: Distribution, seed: u64) -> Result<Self::Storage>;
}
