//! Unary and broadcasting binary elementwise ops.
//!
//! Each op's scalar function comes from the one table in `tensor::backend` (via
//! `UnaryOp::apply` / `BinaryOp::apply`) as a closure handed to one generic loop, so
//! the `match` on the op happens once per call and the loop body is monomorphised
//! (and vectorised) per op.

use crate::layout::{Odometer, coalesce, extent, rows_per_task};
use crate::{Cpu, PAR_CHUNK, PAR_THRESHOLD, check_len, cpu_error};
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::Arc;
use tensor::backend::{BinaryKernel, UnaryKernel};
use tensor::{BinaryOp, BroadcastLayout, ElementwiseOps, Result, UnaryOp};

/// The CPU loop of a unary op: `op.apply(Map(x))` runs [`map`] with the op's scalar
/// function from the table in `tensor::backend`.
struct Map<'a>(&'a [f32]);

impl UnaryKernel for Map<'_> {
    type Output = Result<Vec<f32>>;
    fn run<F: Fn(f32) -> f32 + Sync + Send + Copy>(self, f: F) -> Result<Vec<f32>> {
        map(self.0, f)
    }
}

pub(crate) fn unary(op: UnaryOp, x: &[f32]) -> Result<Vec<f32>> {
    op.apply(Map(x))
}

fn map(x: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Result<Vec<f32>> {
    let write = |o: &mut [MaybeUninit<f32>], i: &[f32]| {
        for (o, &v) in o.iter_mut().zip(i) {
            o.write(f(v));
        }
    };
    // SAFETY: the output and `x` have the same length and are cut into chunks of the
    // same size, zipped pairwise, so every output element is written.
    unsafe {
        crate::alloc::written("unary", x.len(), |out| {
            if x.len() < PAR_THRESHOLD {
                write(out, x);
            } else {
                out.par_chunks_mut(PAR_CHUNK)
                    .zip(x.par_chunks(PAR_CHUNK))
                    .for_each(|(o, i)| write(o, i));
            }
        })
    }
}

/// The CPU loop of a binary op: `op.apply(ZipBroadcast { .. })` runs [`zip_broadcast`]
/// with the op's scalar function.
struct ZipBroadcast<'a> {
    a: &'a [f32],
    b: &'a [f32],
    layout: &'a BroadcastLayout,
}

impl BinaryKernel for ZipBroadcast<'_> {
    type Output = Result<Vec<f32>>;
    fn run<F: Fn(f32, f32) -> f32 + Sync + Send + Copy>(self, f: F) -> Result<Vec<f32>> {
        zip_broadcast(self.a, self.b, self.layout, f)
    }
}

pub(crate) fn binary(
    op: BinaryOp,
    a: &[f32],
    b: &[f32],
    layout: &BroadcastLayout,
) -> Result<Vec<f32>> {
    op.apply(ZipBroadcast { a, b, layout })
}

fn zip_broadcast<F>(a: &[f32], b: &[f32], layout: &BroadcastLayout, f: F) -> Result<Vec<f32>>
where
    F: Fn(f32, f32) -> f32 + Sync,
{
    let rank = layout.out_dims.len();
    if layout.a_strides.len() != rank || layout.b_strides.len() != rank {
        return Err(cpu_error("binary", "strides and out_dims differ in length"));
    }
    let total: usize = layout.out_dims.iter().product();
    if total == 0 {
        return Ok(Vec::new());
    }
    check_len(
        "binary",
        "a",
        a,
        extent(&layout.out_dims, &layout.a_strides, 0),
    )?;
    check_len(
        "binary",
        "b",
        b,
        extent(&layout.out_dims, &layout.b_strides, 0),
    )?;

    // After coalescing, same-shape contiguous operands are a single run with strides
    // (1, 1), and scalar or row broadcasts have an inner stride of 0 on one side; the
    // inner loop is specialised for exactly those cases.
    let (dims, strides) = coalesce(&layout.out_dims, [&layout.a_strides, &layout.b_strides]);
    let (outer_dims, inner) = dims.split_at(dims.len() - 1);
    let inner = inner[0];
    let (outer_strides, inner_strides) = strides.split_at(strides.len() - 1);
    let [sa, sb] = inner_strides[0];

    let rows = |first_row: usize, chunk: &mut [MaybeUninit<f32>]| {
        let mut odo = Odometer::new(outer_dims, outer_strides, first_row, [0, 0]);
        for row in chunk.chunks_exact_mut(inner) {
            let [oa, ob] = odo.offsets();
            zip_row(row, &a[oa..], &b[ob..], sa, sb, &f);
            odo.advance();
        }
    };
    // SAFETY: `total` is the product of the coalesced dims, so the output is a whole
    // number of `inner`-long rows (every task's chunk too: `per_task * inner` long, the
    // last one shorter by whole rows), and `zip_row` writes every element of its row.
    unsafe {
        crate::alloc::written("binary", total, |out| {
            if total >= PAR_THRESHOLD {
                let per_task = rows_per_task(inner);
                out.par_chunks_mut(per_task * inner)
                    .enumerate()
                    .for_each(|(t, chunk)| rows(t * per_task, chunk));
            } else {
                rows(0, out);
            }
        })
    }
}

/// Writes every element of `out`.
#[inline(always)]
fn zip_row(
    out: &mut [MaybeUninit<f32>],
    a: &[f32],
    b: &[f32],
    sa: usize,
    sb: usize,
    f: &impl Fn(f32, f32) -> f32,
) {
    let n = out.len();
    match (sa, sb) {
        (1, 1) => {
            for ((o, &x), &y) in out.iter_mut().zip(&a[..n]).zip(&b[..n]) {
                o.write(f(x, y));
            }
        }
        (1, 0) => {
            let y = b[0];
            for (o, &x) in out.iter_mut().zip(&a[..n]) {
                o.write(f(x, y));
            }
        }
        (0, 1) => {
            let x = a[0];
            for (o, &y) in out.iter_mut().zip(&b[..n]) {
                o.write(f(x, y));
            }
        }
        _ => {
            for (j, o) in out.iter_mut().enumerate() {
                o.write(f(a[j * sa], b[j * sb]));
            }
        }
    }
}

impl ElementwiseOps for Cpu {
    fn unary(&self, op: UnaryOp, x: &Self::Storage, len: usize) -> Result<Self::Storage> {
        check_len("unary", "x", x, len)?;
        unary(op, &x[..len]).map(Arc::new)
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: &Self::Storage,
        b: &Self::Storage,
        layout: &BroadcastLayout,
    ) -> Result<Self::Storage> {
        binary(op, a, b, layout).map(Arc::new)
    }
}

/// `v = act(v + bias[channel])` over whole rows (pixels) of `bias.len()` columns (channels): the bias
/// add and the activation of the unfused ops, in the same order (the same bits).
pub(crate) fn bias_act(out: &mut [f32], bias: &[f32], act: Option<UnaryOp>) {
    struct BiasAct<'a> {
        out: &'a mut [f32],
        bias: &'a [f32],
    }
    impl UnaryKernel for BiasAct<'_> {
        type Output = ();
        fn run<F: Fn(f32) -> f32 + Sync + Send + Copy>(self, f: F) {
            for px in self.out.chunks_exact_mut(self.bias.len()) {
                for (v, &b) in px.iter_mut().zip(self.bias) {
                    *v = f(*v + b);
                }
            }
        }
    }
    match act {
        Some(op) => op.apply(BiasAct { out, bias }),
        None => BiasAct { out, bias }.run(|v| v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_of_zero_is_zero() {
        assert_eq!(
            unary(UnaryOp::Sign, &[-2.0, 0.0, -0.0, 3.0]).unwrap(),
            vec![-1.0, 0.0, 0.0, 1.0]
        );
    }
}
