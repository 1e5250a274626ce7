//! Gathering rows along an axis (embedding lookups, one-hot via an identity) and
//! the scatter-add that is its backward.

use crate::{Cpu, check_len, cpu_error};
use std::sync::Arc;
use tensor::{GatherOps, Result};

fn check_indices(op: &str, indices: &[usize], axis_len: usize) -> Result<()> {
    match indices.iter().find(|&&i| i >= axis_len) {
        Some(i) => Err(cpu_error(
            op,
            format!("index {i} out of range for an axis of {axis_len}"),
        )),
        None => Ok(()),
    }
}

pub(crate) fn index_select(
    x: &[f32],
    outer: usize,
    axis_len: usize,
    inner: usize,
    indices: &[usize],
) -> Result<Vec<f32>> {
    let total = outer * indices.len() * inner;
    if total == 0 {
        return Ok(Vec::new());
    }
    check_indices("index_select", indices, axis_len)?;
    check_len("index_select", "x", x, outer * axis_len * inner)?;
    let mut out = crate::alloc::with_capacity("index_select", total)?;
    for block in x.chunks_exact(axis_len * inner).take(outer) {
        for &i in indices {
            out.extend_from_slice(&block[i * inner..(i + 1) * inner]);
        }
    }
    Ok(out)
}

pub(crate) fn index_add(
    dy: &[f32],
    outer: usize,
    axis_len: usize,
    inner: usize,
    indices: &[usize],
) -> Result<Vec<f32>> {
    let mut out = vec![0.0; outer * axis_len * inner];
    if out.is_empty() || indices.is_empty() {
        return Ok(out);
    }
    check_indices("index_add", indices, axis_len)?;
    check_len("index_add", "dy", dy, outer * indices.len() * inner)?;
    let picked = indices.len() * inner;
    for (dst, src) in out
        .chunks_exact_mut(axis_len * inner)
        .zip(dy.chunks_exact(picked))
    {
        for (&i, row) in indices.iter().zip(src.chunks_exact(inner)) {
            for (d, &v) in dst[i * inner..(i + 1) * inner].iter_mut().zip(row) {
                *d += v;
            }
        }
    }
    Ok(out)
}

impl GatherOps for Cpu {
    fn index_select(
        &self,
        x: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage> {
        index_select(x, outer, axis_len, inner, indices).map(Arc::new)
    }

    fn index_add(
        &self,
        dy: &Self::Storage,
        outer: usize,
        axis_len: usize,
        inner: usize,
        indices: &[usize],
    ) -> Result<Self::Storage> {
        index_add(dy, outer, axis_len, inner, indices).map(Arc::new)
    }
}
