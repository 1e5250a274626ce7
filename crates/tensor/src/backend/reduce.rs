//! The reduce family: reductions over axes and argmax.

use super::StorageOps;
use crate::Result;

/// Reduction over axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

/// Reductions over axes and argmax.
pub trait ReduceOps: StorageOps {
    /// Reduces the given axes (sorted, unique) of `x`, keeping them as size 1.
    fn reduce(
        &self,
        op: ReduceOp,
        x: &Self::Storage,
        dims: &[usize],
        axes: &[usize],
    ) -> Result<Self::Storage>;
    /// Index (as f32) of the largest element along `axis` (first one on ties); the
    /// axis is kept as size 1.
    fn argmax(&self, x: &Self::Storage, dims: &[usize], axis: usize) -> Result<Self::Storage>;
}
