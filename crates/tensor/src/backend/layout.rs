//! The layout family: copies that move elements without computing on them.

use super::StorageOps;
use crate::Result;

/// A strided view of a contiguous buffer: element `idx` of the output (row-major
/// over `out_dims`) is read from `offset + sum(idx[i] * strides[i])`.
///
/// Permute, slice, broadcast_to and transpose are all strided copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StridedLayout {
    pub out_dims: Vec<usize>,
    pub strides: Vec<usize>,
    pub offset: usize,
}

/// Strided copy, pad and concat.
pub trait LayoutOps: StorageOps {
    /// Contiguous copy of a strided view (permute, slice, broadcast_to).
    fn strided_copy(&self, x: &Self::Storage, layout: &StridedLayout) -> Result<Self::Storage>;
    /// Places `x` (shape `x_dims`) into a zero tensor of shape `out_dims` at `offsets`
    /// (the backward of a slice; `offsets[i] + x_dims[i] <= out_dims[i]`).
    fn pad(
        &self,
        x: &Self::Storage,
        x_dims: &[usize],
        out_dims: &[usize],
        offsets: &[usize],
    ) -> Result<Self::Storage>;
    /// Concatenates contiguous tensors along `axis`: `parts[i]` has `dims[i]`, equal
    /// to `out_dims` except on `axis`.
    fn concat(
        &self,
        parts: &[&Self::Storage],
        dims: &[Vec<usize>],
        axis: usize,
        out_dims: &[usize],
    ) -> Result<Self::Storage>;
}
