//! Reductions over axes and argmax along an axis (the reduce family).

use crate::layout::Odometer;
use crate::{Cpu, check_len, cpu_error};
use std::sync::Arc;
use tensor::{ReduceOp, ReduceOps, Result};

/// Largest index an f32 holds exactly; argmax results travel as f32.
const MAX_EXACT_INDEX: usize = 1 << 24;

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
        ReduceOp::Sum => reduce_with(x, dims, &reduced, out_len, 0.0f64, |a, v| a + v as f64)?
            .into_iter()
            .map(|a| a as f32)
            .collect(),
        ReduceOp::Max => reduce_with(x, dims, &reduced, out_len, f32::NEG_INFINITY, f32::max)?,
        ReduceOp::Min => reduce_with(x, dims, &reduced, out_len, f32::INFINITY, f32::min)?,
    })
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
