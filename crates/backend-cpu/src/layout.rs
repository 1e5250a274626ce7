//! Strided views and the copies built on them: strided copy, pad, concat.
//!
//! Also home to the two helpers every strided loop in the crate shares: [`coalesce`],
//! which shrinks a view to as few dimensions as possible, and [`Odometer`], which
//! walks the outer dimensions so the innermost one can be a tight loop.

use crate::{Cpu, PAR_CHUNK, PAR_THRESHOLD, check_len, cpu_error};
use rayon::prelude::*;
use std::sync::Arc;
use tensor::{LayoutOps, Result, StridedLayout};

/// Merges adjacent dimensions that are laid out contiguously with respect to each
/// other in every one of `N` operands, and drops dimensions of size 1.
///
/// `strides[i][d]` is operand `i`'s stride along dimension `d`. The result always
/// has at least one dimension (a scalar becomes `[1]` with stride 0), so callers
/// can treat the last dimension as the inner loop. A permuted or broadcast view
/// typically collapses to one or two dimensions, which is what makes the generic
/// strided loops as fast as hand-written special cases.
pub(crate) fn coalesce<const N: usize>(
    dims: &[usize],
    strides: [&[usize]; N],
) -> (Vec<usize>, Vec<[usize; N]>) {
    let mut out_dims: Vec<usize> = Vec::with_capacity(dims.len());
    let mut out_strides: Vec<[usize; N]> = Vec::with_capacity(dims.len());
    for (d, &size) in dims.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let s: [usize; N] = std::array::from_fn(|i| strides[i][d]);
        if let (Some(last_dim), Some(last_s)) = (out_dims.last_mut(), out_strides.last_mut())
            && (0..N).all(|i| last_s[i] == s[i] * size)
        {
            *last_dim *= size;
            *last_s = s;
            continue;
        }
        out_dims.push(size);
        out_strides.push(s);
    }
    if out_dims.is_empty() {
        out_dims.push(1);
        out_strides.push([0; N]);
    }
    (out_dims, out_strides)
}

/// Walks a row-major index over `dims`, tracking the offset into each of `N` operands.
pub(crate) struct Odometer<'a, const N: usize> {
    dims: &'a [usize],
    strides: &'a [[usize; N]],
    index: Vec<usize>,
    offsets: [usize; N],
}

impl<'a, const N: usize> Odometer<'a, N> {
    /// Starts at the flat position `start` (row-major over `dims`), plus `base` offsets.
    pub(crate) fn new(
        dims: &'a [usize],
        strides: &'a [[usize; N]],
        start: usize,
        base: [usize; N],
    ) -> Self {
        let mut index = vec![0; dims.len()];
        let mut offsets = base;
        let mut rest = start;
        for d in (0..dims.len()).rev() {
            index[d] = rest % dims[d];
            rest /= dims[d];
            for i in 0..N {
                offsets[i] += index[d] * strides[d][i];
            }
        }
        Self {
            dims,
            strides,
            index,
            offsets,
        }
    }

    #[inline]
    pub(crate) fn offsets(&self) -> [usize; N] {
        self.offsets
    }

    /// Moves to the next position; past the last one the offsets are meaningless.
    #[inline]
    pub(crate) fn advance(&mut self) {
        for d in (0..self.dims.len()).rev() {
            self.index[d] += 1;
            for i in 0..N {
                self.offsets[i] += self.strides[d][i];
            }
            if self.index[d] < self.dims[d] {
                return;
            }
            for i in 0..N {
                self.offsets[i] -= self.dims[d] * self.strides[d][i];
            }
            self.index[d] = 0;
        }
    }
}

/// One past the largest element a view of `dims` with `strides` from `offset` touches
/// (0 for an empty view).
pub(crate) fn extent(dims: &[usize], strides: &[usize], offset: usize) -> usize {
    if dims.contains(&0) {
        return 0;
    }
    offset
        + dims
            .iter()
            .zip(strides)
            .map(|(&d, &s)| (d - 1) * s)
            .sum::<usize>()
        + 1
}

/// Row-major strides of a contiguous tensor of shape `dims`.
pub(crate) fn contiguous_strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; dims.len()];
    let mut s = 1;
    for d in (0..dims.len()).rev() {
        strides[d] = s;
        s *= dims[d];
    }
    strides
}

/// Rows (of the innermost dimension) per parallel task, so each task moves about
/// [`PAR_CHUNK`] elements.
pub(crate) fn rows_per_task(inner: usize) -> usize {
    (PAR_CHUNK / inner.max(1)).max(1)
}

pub(crate) fn strided_copy(x: &[f32], layout: &StridedLayout) -> Result<Vec<f32>> {
    if layout.strides.len() != layout.out_dims.len() {
        return Err(cpu_error(
            "strided_copy",
            "strides and out_dims differ in length",
        ));
    }
    let total: usize = layout.out_dims.iter().product();
    let mut out = crate::alloc::zeros("strided_copy", total)?;
    if total == 0 {
        return Ok(out);
    }
    check_len(
        "strided_copy",
        "x",
        x,
        extent(&layout.out_dims, &layout.strides, layout.offset),
    )?;
    let (dims, strides) = coalesce(&layout.out_dims, [&layout.strides]);
    let (outer_dims, inner) = dims.split_at(dims.len() - 1);
    let inner = inner[0];
    let (outer_strides, inner_stride) = strides.split_at(strides.len() - 1);
    let inner_stride = inner_stride[0][0];
    let copy_rows = |first_row: usize, chunk: &mut [f32]| {
        let mut odo = Odometer::new(outer_dims, outer_strides, first_row, [layout.offset]);
        for row in chunk.chunks_exact_mut(inner) {
            let [src] = odo.offsets();
            match inner_stride {
                1 => row.copy_from_slice(&x[src..src + inner]),
                0 => row.fill(x[src]),
                s => {
                    for (j, o) in row.iter_mut().enumerate() {
                        *o = x[src + j * s];
                    }
                }
            }
            odo.advance();
        }
    };
    if total >= PAR_THRESHOLD {
        let rows = rows_per_task(inner);
        out.par_chunks_mut(rows * inner)
            .enumerate()
            .for_each(|(t, chunk)| copy_rows(t * rows, chunk));
    } else {
        copy_rows(0, &mut out);
    }
    Ok(out)
}

pub(crate) fn pad(
    x: &[f32],
    x_dims: &[usize],
    out_dims: &[usize],
    offsets: &[usize],
) -> Result<Vec<f32>> {
    let rank = out_dims.len();
    if x_dims.len() != rank || offsets.len() != rank {
        return Err(cpu_error(
            "pad",
            "x_dims, out_dims and offsets differ in rank",
        ));
    }
    if (0..rank).any(|d| offsets[d] + x_dims[d] > out_dims[d]) {
        return Err(cpu_error(
            "pad",
            format!("x {x_dims:?} at {offsets:?} does not fit in {out_dims:?}"),
        ));
    }
    let total: usize = out_dims.iter().product();
    let x_total: usize = x_dims.iter().product();
    let mut out = crate::alloc::zeros("pad", total)?;
    if x_total == 0 {
        return Ok(out);
    }
    check_len("pad", "x", x, x_total)?;
    if rank == 0 {
        out[0] = x[0];
        return Ok(out);
    }
    let out_strides = contiguous_strides(out_dims);
    let base: usize = offsets.iter().zip(&out_strides).map(|(o, s)| o * s).sum();
    let inner = x_dims[rank - 1];
    let outer_strides: Vec<[usize; 1]> = out_strides[..rank - 1].iter().map(|&s| [s]).collect();
    let mut odo = Odometer::new(&x_dims[..rank - 1], &outer_strides, 0, [base]);
    for row in x[..x_total].chunks_exact(inner) {
        let [dst] = odo.offsets();
        out[dst..dst + inner].copy_from_slice(row);
        odo.advance();
    }
    Ok(out)
}

pub(crate) fn concat(
    parts: &[&[f32]],
    dims: &[Vec<usize>],
    axis: usize,
    out_dims: &[usize],
) -> Result<Vec<f32>> {
    if parts.len() != dims.len() || axis >= out_dims.len() {
        return Err(cpu_error("concat", "parts, dims and axis do not agree"));
    }
    let outer: usize = out_dims[..axis].iter().product();
    let inner: usize = out_dims[axis + 1..].iter().product();
    let total: usize = out_dims.iter().product();
    let mut along = 0;
    for (part, d) in parts.iter().zip(dims) {
        if d.len() != out_dims.len() {
            return Err(cpu_error(
                "concat",
                "a part differs in rank from the output",
            ));
        }
        check_len("concat", "a part", part, d.iter().product())?;
        along += d[axis];
    }
    if along != out_dims[axis] {
        return Err(cpu_error(
            "concat",
            "the parts' sizes along the axis do not sum to the output's",
        ));
    }
    if total == 0 {
        // `outer` may still be huge ([2^40, 0] joined along axis 1): do not loop over it.
        return Ok(Vec::new());
    }
    let mut out = crate::alloc::with_capacity("concat", total)?;
    for o in 0..outer {
        for (part, d) in parts.iter().zip(dims) {
            let block = d[axis] * inner;
            out.extend_from_slice(&part[o * block..(o + 1) * block]);
        }
    }
    Ok(out)
}

impl LayoutOps for Cpu {
    fn strided_copy(&self, x: &Self::Storage, layout: &StridedLayout) -> Result<Self::Storage> {
        strided_copy(x, layout).map(Arc::new)
    }

    fn pad(
        &self,
        x: &Self::Storage,
        x_dims: &[usize],
        out_dims: &[usize],
        offsets: &[usize],
    ) -> Result<Self::Storage> {
        pad(x, x_dims, out_dims, offsets).map(Arc::new)
    }

    fn concat(
        &self,
        parts: &[&Self::Storage],
        dims: &[Vec<usize>],
        axis: usize,
        out_dims: &[usize],
    ) -> Result<Self::Storage> {
        let parts: Vec<&[f32]> = parts.iter().map(|p| p.as_slice()).collect();
        concat(&parts, dims, axis, out_dims).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_merges_contiguous_and_drops_unit_dims() {
        // A contiguous [2, 1, 3, 4] tensor is one run of 24.
        let (d, s) = coalesce(&[2, 1, 3, 4], [&[12, 12, 4, 1]]);
        assert_eq!(d, vec![24]);
        assert_eq!(s, vec![[1]]);
        // A transpose of [3, 4] cannot be merged.
        let (d, s) = coalesce(&[4, 3], [&[1, 4]]);
        assert_eq!(d, vec![4, 3]);
        assert_eq!(s, vec![[1], [4]]);
        // Row broadcast: a is contiguous [5, 6], b is [6] repeated.
        let (d, s) = coalesce(&[5, 6], [&[6, 1], &[0, 1]]);
        assert_eq!(d, vec![5, 6]);
        assert_eq!(s, vec![[6, 0], [1, 1]]);
        // A scalar.
        let (d, s) = coalesce::<2>(&[], [&[], &[]]);
        assert_eq!(d, vec![1]);
        assert_eq!(s, vec![[0, 0]]);
    }

    #[test]
    fn odometer_visits_row_major_offsets() {
        let dims = [2, 3];
        let strides = [[1], [2]]; // transposed view of a 3x2 matrix
        let mut odo = Odometer::new(&dims, &strides, 0, [0]);
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(odo.offsets()[0]);
            odo.advance();
        }
        assert_eq!(seen, vec![0, 2, 4, 1, 3, 5]);
        let odo = Odometer::new(&dims, &strides, 4, [10]);
        assert_eq!(odo.offsets(), [10 + 1 + 2]);
    }
}
