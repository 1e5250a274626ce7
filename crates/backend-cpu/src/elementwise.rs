//! Unary and broadcasting binary elementwise ops.
//!
//! Each op is a closure handed to one generic loop, so the `match` on the op happens
//! once per call and the loop body is monomorphised (and vectorised) per op.

use crate::layout::{Odometer, coalesce, extent, rows_per_task};
use crate::{PAR_CHUNK, PAR_THRESHOLD, check_len, cpu_error};
use rayon::prelude::*;
use tensor::{BinaryOp, BroadcastLayout, Result, UnaryOp};

/// Logistic function, written so neither branch overflows `exp`.
#[inline]
pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[inline]
fn indicator(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

pub(crate) fn unary(op: UnaryOp, x: &[f32]) -> Vec<f32> {
    use UnaryOp::*;
    match op {
        Neg => map(x, |v| -v),
        Abs => map(x, f32::abs),
        Exp => map(x, f32::exp),
        Log => map(x, f32::ln),
        Sqrt => map(x, f32::sqrt),
        Recip => map(x, |v| 1.0 / v),
        Square => map(x, |v| v * v),
        // `v < 0` rather than `v.max(0)` so a NaN stays visible instead of becoming 0.
        Relu => map(x, |v| if v < 0.0 { 0.0 } else { v }),
        LeakyRelu(alpha) => map(x, move |v| if v > 0.0 { v } else { alpha * v }),
        Sigmoid => map(x, sigmoid),
        Tanh => map(x, f32::tanh),
        Powf(p) => map(x, move |v| v.powf(p)),
        AddScalar(c) => map(x, move |v| v + c),
        MulScalar(c) => map(x, move |v| v * c),
        // Not `f32::clamp`, which panics when lo > hi.
        Clamp(lo, hi) => map(x, move |v| v.max(lo).min(hi)),
        GtScalar(c) => map(x, move |v| indicator(v > c)),
        InRange(lo, hi) => map(x, move |v| indicator(lo <= v && v <= hi)),
        Sign => map(x, |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else if v.is_nan() {
                v
            } else {
                0.0
            }
        }),
    }
}

fn map(x: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    if x.len() < PAR_THRESHOLD {
        return x.iter().map(|&v| f(v)).collect();
    }
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(PAR_CHUNK)
        .zip(x.par_chunks(PAR_CHUNK))
        .for_each(|(o, i)| {
            for (o, &v) in o.iter_mut().zip(i) {
                *o = f(v);
            }
        });
    out
}

pub(crate) fn binary(
    op: BinaryOp,
    a: &[f32],
    b: &[f32],
    layout: &BroadcastLayout,
) -> Result<Vec<f32>> {
    use BinaryOp::*;
    match op {
        Add => zip_broadcast(a, b, layout, |x, y| x + y),
        Sub => zip_broadcast(a, b, layout, |x, y| x - y),
        Mul => zip_broadcast(a, b, layout, |x, y| x * y),
        Div => zip_broadcast(a, b, layout, |x, y| x / y),
        Pow => zip_broadcast(a, b, layout, f32::powf),
        Maximum => zip_broadcast(a, b, layout, f32::max),
        Minimum => zip_broadcast(a, b, layout, f32::min),
        Eq => zip_broadcast(a, b, layout, |x, y| indicator(x == y)),
        Gt => zip_broadcast(a, b, layout, |x, y| indicator(x > y)),
        Ge => zip_broadcast(a, b, layout, |x, y| indicator(x >= y)),
    }
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
    let mut out = vec![0.0; total];
    if total == 0 {
        return Ok(out);
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

    let rows = |first_row: usize, chunk: &mut [f32]| {
        let mut odo = Odometer::new(outer_dims, outer_strides, first_row, [0, 0]);
        for row in chunk.chunks_exact_mut(inner) {
            let [oa, ob] = odo.offsets();
            zip_row(row, &a[oa..], &b[ob..], sa, sb, &f);
            odo.advance();
        }
    };
    if total >= PAR_THRESHOLD {
        let per_task = rows_per_task(inner);
        out.par_chunks_mut(per_task * inner)
            .enumerate()
            .for_each(|(t, chunk)| rows(t * per_task, chunk));
    } else {
        rows(0, &mut out);
    }
    Ok(out)
}

#[inline(always)]
fn zip_row(
    out: &mut [f32],
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
                *o = f(x, y);
            }
        }
        (1, 0) => {
            let y = b[0];
            for (o, &x) in out.iter_mut().zip(&a[..n]) {
                *o = f(x, y);
            }
        }
        (0, 1) => {
            let x = a[0];
            for (o, &y) in out.iter_mut().zip(&b[..n]) {
                *o = f(x, y);
            }
        }
        _ => {
            for (j, o) in out.iter_mut().enumerate() {
                *o = f(a[j * sa], b[j * sb]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_stable_at_the_extremes() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!((sigmoid(2.0) - 0.880_797_1).abs() < 1e-6);
    }

    #[test]
    fn sign_of_zero_is_zero() {
        assert_eq!(
            unary(UnaryOp::Sign, &[-2.0, 0.0, -0.0, 3.0]),
            vec![-1.0, 0.0, 0.0, 1.0]
        );
    }
}
