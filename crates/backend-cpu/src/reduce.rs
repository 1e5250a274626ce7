//! Reductions over axes and argmax along an axis (the reduce family).

use crate::layout::Odometer;
use crate::{Cpu, check_len, cpu_error};
use std::sync::Arc;
use tensor::{ReduceOp, ReduceOps, Result};

/// Largest index an f32 holds exactly; argmax results travel as f32.
const MAX_EXACT_INDEX: usize = 1 << 24;
/// Rows per block of a column sum ([`column_sums`]).
const COLUMN_BLOCK: usize = 512;
/// Elements from which a column sum runs its blocks on the threads.
const COLUMN_PAR: usize = 1 << 16;

pub(crate) fn reduce(op: ReduceOp, x: &[f32], dims: &[usize], axes: &[usize]) -> Result<Vec<f32>> {
    if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|&a| a >= dims.len()) {
        return Err(cpu_error(
            "reduce",
            format!("axes {axes:?} are not sorted, unique axes of {dims:?}"),
        ));
    }
    let reduced: Vec<bool> = (0..dims.len()).map(|d| axes.contains(&d)).collect();
    let out_len: usize = dims
        .iter()
        .zip(&reduced)
        .map(|(&d, &r)| if r { 1 } else { d })
        .product();
    if out_len == 0 {
        return Ok(Vec::new());
    }
    check_len("reduce", "x", x, dims.iter().product())?;
    Ok(match op {
        // Sums accumulate in f64: this backend is the numerical reference, and a long
        // f32 running sum loses digits that a GPU's tree reduction keeps.
        ReduceOp::Sum => match column_shape(dims, &reduced) {
            Some((rows, cols)) => column_sums(x, rows, cols),
            None => reduce_with(x, dims, &reduced, out_len, 0.0f64, |a, v| a + v as f64)?,
        }
        .into_iter()
        .map(|a| a as f32)
        .collect(),
        ReduceOp::Max => reduce_with(x, dims, &reduced, out_len, f32::NEG_INFINITY, f32::max)?,
        ReduceOp::Min => reduce_with(x, dims, &reduced, out_len, f32::INFINITY, f32::min)?,
    })
}

/// `(rows, cols)` when the reduction sums the leading axes of `dims` and keeps the
/// trailing ones (a bias gradient: `[n, h, w, c]` to `[c]`), with more than one row.
fn column_shape(dims: &[usize], reduced: &[bool]) -> Option<(usize, usize)> {
    let lead = reduced.iter().take_while(|&&r| r).count();
    if lead == 0 || reduced[lead..].iter().any(|&r| r) {
        return None;
    }
    let rows: usize = dims[..lead].iter().product();
    let cols: usize = dims[lead..].iter().product();
    (rows > 1 && cols > 0).then_some((rows, cols))
}

/// The column sums of `x` `[rows, cols]` in f64: each block of [`COLUMN_BLOCK`] rows is
/// summed row by row into its own accumulators (a loop the compiler vectorises, where
/// the general fold walks an odometer per row), and the blocks' sums are added in
/// block order, so the result does not depend on how many threads ran the blocks.
/// `x` holds `rows * cols` values (`reduce` checked it).
fn column_sums(x: &[f32], rows: usize, cols: usize) -> Vec<f64> {
    use rayon::prelude::*;
    debug_assert_eq!(x.len(), rows * cols);
    let block = |rows: &[f32]| {
        let mut acc = vec![0.0f64; cols];
        for row in rows.chunks_exact(cols) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += v as f64;
            }
        }
        acc
    };
    let blocks: Vec<Vec<f64>> = if x.len() >= COLUMN_PAR {
        x.par_chunks(COLUMN_BLOCK * cols).map(block).collect()
    } else {
        x.chunks(COLUMN_BLOCK * cols).map(block).collect()
    };
    let mut sum = vec![0.0f64; cols];
    for b in &blocks {
        for (s, v) in sum.iter_mut().zip(b) {
            *s += v;
        }
    }
    sum
}

/// Folds `x` into `out_len` accumulators with `combine`.
///
/// Adjacent dimensions that are all reduced (or all kept) are merged into one, so
/// any reduction becomes an alternation of kept and reduced groups. The last group
/// is the inner loop: a contiguous fold when it is reduced (a row sum), or an
/// elementwise accumulate of whole rows when it is kept (a column sum).
fn reduce_with<A: Copy>(
    x: &[f32],
    dims: &[usize],
    reduced: &[bool],
    out_len: usize,
    init: A,
    combine: impl Fn(A, f32) -> A,
) -> Result<Vec<A>> {
    let mut acc = crate::alloc::filled_with("reduce", out_len, init)?;
    let total: usize = dims.iter().product();
    if total == 0 {
        return Ok(acc);
    }
    let mut groups: Vec<(usize, bool)> = Vec::new();
    for (&size, &r) in dims.iter().zip(reduced) {
        if size == 1 {
            continue;
        }
        match groups.last_mut() {
            Some((s, last_r)) if *last_r == r => *s *= size,
            _ => groups.push((size, r)),
        }
    }
    let (inner, inner_reduced) = groups.pop().unwrap_or((1, false));

    let mut strides = vec![[0usize; 2]; groups.len()];
    let mut in_stride = inner;
    let mut out_stride = if inner_reduced { 1 } else { inner };
    for (g, &(size, r)) in groups.iter().enumerate().rev() {
        strides[g] = [in_stride, if r { 0 } else { out_stride }];
        in_stride *= size;
        if !r {
            out_stride *= size;
        }
    }
    let sizes: Vec<usize> = groups.iter().map(|&(s, _)| s).collect();
    let mut odo = Odometer::new(&sizes, &strides, 0, [0, 0]);
    for _ in 0..total / inner {
        let [i, o] = odo.offsets();
        let segment = &x[i..i + inner];
        if inner_reduced {
            acc[o] = segment.iter().fold(acc[o], |a, &v| combine(a, v));
        } else {
            for (a, &v) in acc[o..o + inner].iter_mut().zip(segment) {
                *a = combine(*a, v);
            }
        }
        odo.advance();
    }
    Ok(acc)
}

pub(crate) fn argmax(x: &[f32], dims: &[usize], axis: usize) -> Result<Vec<f32>> {
    if axis >= dims.len() {
        return Err(cpu_error(
            "argmax",
            format!("axis {axis} out of range for {dims:?}"),
        ));
    }
    let outer: usize = dims[..axis].iter().product();
    let len = dims[axis];
    let inner: usize = dims[axis + 1..].iter().product();
    let mut out = crate::alloc::zeros("argmax", outer * inner)?;
    if out.is_empty() {
        return Ok(out);
    }
    if len == 0 {
        return Err(cpu_error("argmax", "the axis is empty"));
    }
    if len > MAX_EXACT_INDEX {
        return Err(cpu_error(
            "argmax",
            format!("an axis of {len} has indices that f32 cannot hold exactly"),
        ));
    }
    check_len("argmax", "x", x, outer * len * inner)?;
    let mut best = vec![0.0f32; inner];
    for (block, out_row) in x.chunks_exact(len * inner).zip(out.chunks_exact_mut(inner)) {
        best.copy_from_slice(&block[..inner]);
        // A strict `>` keeps the first maximum on ties.
        for (a, row) in block.chunks_exact(inner).enumerate().skip(1) {
            for i in 0..inner {
                if row[i] > best[i] {
                    best[i] = row[i];
                    out_row[i] = a as f32;
                }
            }
        }
    }
    Ok(out)
}

impl ReduceOps for Cpu {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &Self::Storage,
        dims: &[usize],
        axes: &[usize],
    ) -> Result<Self::Storage> {
        reduce(op, x, dims, axes).map(Arc::new)
    }

    fn argmax(&self, x: &Self::Storage, dims: &[usize], axis: usize) -> Result<Self::Storage> {
        argmax(x, dims, axis).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x[r][j] = (r % 7) / 2 + j`: column `j` sums to `(sum of r % 7) / 2 + rows * j`,
    /// exact in f32 at these sizes.
    fn columns(rows: usize, cols: usize) -> (Vec<f32>, Vec<f32>) {
        let x = (0..rows * cols)
            .map(|i| (i / cols % 7) as f32 * 0.5 + (i % cols) as f32)
            .collect();
        let sevens = (rows / 7 * 21 + (0..rows % 7).sum::<usize>()) as f32;
        let want = (0..cols)
            .map(|j| sevens * 0.5 + (rows * j) as f32)
            .collect();
        (x, want)
    }

    #[test]
    fn column_sums_cover_every_block_and_the_ragged_last_one() {
        // Three whole blocks and 7 rows, below and above the threaded size; leading
        // axes merged ([3, 11, 47] rows) and a single one.
        for (dims, axes) in [
            (vec![3 * COLUMN_BLOCK + 7, 5], vec![0]),
            (vec![3, 11, 47, 5], vec![0, 1, 2]),
            (vec![20_000, 5], vec![0]),
        ] {
            let rows: usize = dims[..axes.len()].iter().product();
            let (x, want) = columns(rows, 5);
            assert_eq!(
                reduce(ReduceOp::Sum, &x, &dims, &axes).unwrap(),
                want,
                "{dims:?}"
            );
        }
    }

    #[test]
    fn column_sums_do_not_depend_on_the_thread_count() {
        // Values whose f64 sums round differently in different orders (compared in
        // f64, before the rounding to f32 would hide most differences).
        let x: Vec<f32> = (0..40_000 * 3)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 + 1e4 * (i % 2) as f32)
            .collect();
        let sum = || column_sums(&x, 40_000, 3);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(one.install(sum)), bits(three.install(sum)));
    }

    #[test]
    fn sums_keeping_a_leading_axis_take_the_general_fold() {
        assert_eq!(column_shape(&[4, 5], &[false, true]), None);
        assert_eq!(column_shape(&[1, 5], &[true, false]), None);
        assert_eq!(column_shape(&[4, 1, 5], &[true, true, false]), Some((4, 5)));
        let x: Vec<f32> = (0..20).map(|v| v as f32).collect();
        let rows: Vec<f32> = (0..4).map(|r| (5 * r * 5 + 10) as f32).collect();
        assert_eq!(reduce(ReduceOp::Sum, &x, &[4, 5], &[1]).unwrap(), rows);
    }
}
