//! The gather family: picking rows by index, and its scatter-add backward.

use super::StorageOps;
use crate::Result;

/// `index_select` along a middle axis and its backward `index_add`.
pub trait GatherOps: StorageOps {
    /// Rows of `x` (shape `[outer, axis_len, inner]`) picked along the middle axis:
    /// output `[outer, indices.len(), inner]`.
    fn index_select(
        &self,
        x: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage>;
    /// Backward of [`GatherOps::index_select`]: scatters `dy` `[outer, indices.len(),
    /// inner]` into zeros `[outer, axis_len, inner]`, adding on repeated indices.
    fn index_add(
        &self,
        dy: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage>;
}
