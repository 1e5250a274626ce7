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

/// `e^x` without a libm call, so loops over it vectorise: `x = n ln 2 + r` with
/// `|r| <= ln 2 / 2`, `e^r` by its Taylor polynomial to degree 7 (truncation below
/// 6e-9 relative), `2^n` built in the exponent bits. Inputs are clamped to
/// [-87, 88], where `e^x` is a normal f32; relative error about 2e-7 there. Outside
/// that range it returns the clamp's value (no 0, subnormal or infinity), which suits
/// `tanh` but not a general `Exp`.
#[inline]
pub(crate) fn exp_vectorizable(x: f32) -> f32 {
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// `tanh(x)` without a libm call (the GAN's output layer spent 5% of an iteration in
/// `tanhf`). Below |x| = 0.3 the odd Taylor series to x^11 (truncation < 2e-9
/// relative); above, `1 - 2 / (e^(2|x|) + 1)` (absolute error about 1.2e-7, so
/// relative below 5e-7), with the sign restored. Both are computed and one selected,
/// so the loop has no branch.
#[inline]
pub(crate) fn tanh_vectorizable(x: f32) -> f32 {
    let a = x.abs();
    let a2 = a * a;
    let series = a
        * (1.0
            + a2 * (-1.0 / 3.0
                + a2 * (2.0 / 15.0
                    + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0 + a2 * (-1382.0 / 155_925.0))))));
    let large = 1.0 - 2.0 / (exp_vectorizable(2.0 * a) + 1.0);
    let t = if a < 0.3 { series } else { large };
    if x.is_nan() { x } else { t.copysign(x) }
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
        Tanh => map(x, tanh_vectorizable),
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

    /// Against f64 libm over a dense grid and the edges: relative error bounds.
    #[test]
    fn vectorizable_exp_and_tanh_match_f64() {
        let mut x = -20.0f32;
        while x <= 20.0 {
            let want = (x as f64).tanh();
            let got = tanh_vectorizable(x) as f64;
            assert!(
                (got - want).abs() <= 5e-7 * want.abs(),
                "tanh({x}) = {got}, want {want}"
            );
            let want = (x as f64).exp();
            let got = exp_vectorizable(x) as f64;
            assert!(
                (got - want).abs() <= 3e-7 * want,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.000_97;
        }
        for x in [
            1e-30f32, -1e-20, 1e-7, 0.299_999, 0.3, -0.3, 9.0, 50.0, -1e4, 88.0, -87.0,
        ] {
            let want = (x as f64).tanh();
            let got = tanh_vectorizable(x) as f64;
            assert!(
                (got - want).abs() <= 5e-7 * want.abs(),
                "tanh({x}) = {got}, want {want}"
            );
        }
        for x in [88.0f32, -87.0, 0.0, 1e-6] {
            let want = (x as f64).exp();
            assert!((exp_vectorizable(x) as f64 - want).abs() <= 3e-7 * want);
        }
        assert_eq!(tanh_vectorizable(f32::INFINITY), 1.0);
        assert_eq!(tanh_vectorizable(f32::NEG_INFINITY), -1.0);
        assert!(tanh_vectorizable(f32::NAN).is_nan());
        assert_eq!(tanh_vectorizable(-0.0).to_bits(), (-0.0f32).to_bits());
    }

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
