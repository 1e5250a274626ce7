//! The fused LSTM cell step (TensorFlow's BasicLSTMCell) and its backward.
//!
//! Pre-activations arrive as `[n, 4h]` in the order i, j, f, o:
//! `c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)`,
//! `h = tanh(c) * sigmoid(o)`. The backward recomputes the activations instead of
//! storing them, which keeps the forward's outputs to the two the cell returns.
//!
//! Each row is one loop over zipped slices with the libm-free sigmoid and tanh of
//! `tensor::backend`, so it vectorises; on x86-64 the same loop runs compiled for the
//! CPU's widest vector unit (`simd::dispatch`: 16 wide with AVX-512, 8 with AVX2, 4 in
//! the portable SSE2 build) with the same operations in the same order, so every
//! width gives the same bits (`tests::every_level_gives_the_same_bits`).

use crate::{Cpu, PAR_THRESHOLD, check_len, simd};
use rayon::prelude::*;
use std::sync::Arc;
use tensor::backend::{sigmoid_vectorizable as sigmoid, tanh_vectorizable as tanh};
use tensor::{LstmOps, Result};

/// Runs `f(row, item)` for each batch row, over threads when the step is large. Each
/// element costs five transcendentals, so threads pay off at fewer elements than in
/// plain elementwise loops.
fn rows<T: Send>(items: &mut [T], elements: usize, f: impl Fn(usize, &mut T) + Sync) {
    if elements * 16 >= PAR_THRESHOLD {
        items
            .par_iter_mut()
            .enumerate()
            .for_each(|(r, item)| f(r, item));
    } else {
        items
            .iter_mut()
            .enumerate()
            .for_each(|(r, item)| f(r, item));
    }
}

pub(crate) fn lstm_gates(
    gates: &[f32],
    c_prev: &[f32],
    n: usize,
    hidden: usize,
    forget_bias: f32,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let mut c = vec![0.0; n * hidden];
    let mut h = vec![0.0; n * hidden];
    if c.is_empty() {
        return Ok((c, h));
    }
    check_len("lstm_gates", "gates", gates, n * 4 * hidden)?;
    check_len("lstm_gates", "c_prev", c_prev, n * hidden)?;
    let mut items: Vec<(&mut [f32], &mut [f32])> = c
        .chunks_exact_mut(hidden)
        .zip(h.chunks_exact_mut(hidden))
        .collect();
    rows(&mut items, n * hidden, |r, (c_row, h_row)| {
        let g = &gates[r * 4 * hidden..(r + 1) * 4 * hidden];
        let cp = &c_prev[r * hidden..(r + 1) * hidden];
        forward_row(g, cp, c_row, h_row, forget_bias);
    });
    Ok((c, h))
}

pub(crate) fn lstm_gates_backward(
    gates: &[f32],
    c_prev: &[f32],
    d_c: &[f32],
    d_h: &[f32],
    n: usize,
    hidden: usize,
    forget_bias: f32,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let mut d_gates = vec![0.0; n * 4 * hidden];
    let mut d_c_prev = vec![0.0; n * hidden];
    if d_c_prev.is_empty() {
        return Ok((d_gates, d_c_prev));
    }
    let op = "lstm_gates_backward";
    check_len(op, "gates", gates, n * 4 * hidden)?;
    check_len(op, "c_prev", c_prev, n * hidden)?;
    check_len(op, "d_c", d_c, n * hidden)?;
    check_len(op, "d_h", d_h, n * hidden)?;
    let mut items: Vec<(&mut [f32], &mut [f32])> = d_gates
        .chunks_exact_mut(4 * hidden)
        .zip(d_c_prev.chunks_exact_mut(hidden))
        .collect();
    rows(&mut items, n * hidden, |r, (dg, dcp)| {
        let g = &gates[r * 4 * hidden..(r + 1) * 4 * hidden];
        let row = r * hidden..(r + 1) * hidden;
        let (cp, dc_in, dh) = (&c_prev[row.clone()], &d_c[row.clone()], &d_h[row]);
        backward_row(g, cp, dc_in, dh, dg, dcp, forget_bias);
    });
    Ok((d_gates, d_c_prev))
}

/// One row of the forward: `g` holds the row's `[i | j | f | o]` pre-activations.
/// Compiled for the CPU's widest vector unit (the same bits at every width).
fn forward_row(g: &[f32], cp: &[f32], c: &mut [f32], h: &mut [f32], forget_bias: f32) {
    simd::dispatch(
        #[inline(always)]
        || forward_row_body(g, cp, c, h, forget_bias),
    );
}

#[inline(always)]
fn forward_row_body(g: &[f32], cp: &[f32], c: &mut [f32], h: &mut [f32], forget_bias: f32) {
    let hidden = c.len();
    let (gi, rest) = g.split_at(hidden);
    let (gj, rest) = rest.split_at(hidden);
    let (gf, go) = rest.split_at(hidden);
    let gates = gi.iter().zip(gj).zip(gf).zip(go);
    for ((((((&i, &j), &f), &o), &cp), c), h) in gates.zip(cp).zip(c.iter_mut()).zip(h.iter_mut()) {
        let cell = cp * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j);
        *c = cell;
        *h = tanh(cell) * sigmoid(o);
    }
}

/// One row of the backward: the gates' gradients into `dg` (`[i | j | f | o]`) and
/// c_prev's into `dcp`.
fn backward_row(
    g: &[f32],
    cp: &[f32],
    dc_in: &[f32],
    dh: &[f32],
    dg: &mut [f32],
    dcp: &mut [f32],
    forget_bias: f32,
) {
    simd::dispatch(
        #[inline(always)]
        || backward_row_body(g, cp, dc_in, dh, dg, dcp, forget_bias),
    );
}

#[inline(always)]
fn backward_row_body(
    g: &[f32],
    cp: &[f32],
    dc_in: &[f32],
    dh: &[f32],
    dg: &mut [f32],
    dcp: &mut [f32],
    forget_bias: f32,
) {
    let hidden = dcp.len();
    let (gi, rest) = g.split_at(hidden);
    let (gj, rest) = rest.split_at(hidden);
    let (gf, go) = rest.split_at(hidden);
    let (dgi, rest) = dg.split_at_mut(hidden);
    let (dgj, rest) = rest.split_at_mut(hidden);
    let (dgf, dgo) = rest.split_at_mut(hidden);
    let inputs = gi.iter().zip(gj).zip(gf).zip(go).zip(cp).zip(dc_in).zip(dh);
    let outputs = dgi
        .iter_mut()
        .zip(dgj.iter_mut())
        .zip(dgf.iter_mut())
        .zip(dgo.iter_mut());
    for (((((((&gi, &gj), &gf), &go), &cp), &dc_in), &dh), ((((dgi, dgj), dgf), dgo), dcp)) in
        inputs.zip(outputs.zip(dcp.iter_mut()))
    {
        let i = sigmoid(gi);
        let j = tanh(gj);
        let f = sigmoid(gf + forget_bias);
        let o = sigmoid(go);
        let c = cp * f + i * j;
        let tc = tanh(c);
        // c feeds the cell's output h as well as the next step's c.
        let dc = dc_in + dh * o * (1.0 - tc * tc);
        *dgi = dc * j * i * (1.0 - i);
        *dgj = dc * i * (1.0 - j * j);
        *dgf = dc * cp * f * (1.0 - f);
        *dgo = dh * tc * o * (1.0 - o);
        *dcp = dc * f;
    }
}

impl LstmOps for Cpu {
    fn lstm_gates(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)> {
        let (c, h) = lstm_gates(gates, c_prev, n, hidden, forget_bias)?;
        Ok((Arc::new(c), Arc::new(h)))
    }

    fn lstm_gates_backward(
        &self,
        gates: &Self::Storage,
        c_prev: &Self::Storage,
        d_c: &Self::Storage,
        d_h: &Self::Storage,
        n: usize,
        hidden: usize,
        forget_bias: f32,
    ) -> Result<(Self::Storage, Self::Storage)> {
        let (d_gates, d_c_prev) =
            lstm_gates_backward(gates, c_prev, d_c, d_h, n, hidden, forget_bias)?;
        Ok((Arc::new(d_gates), Arc::new(d_c_prev)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Level;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|k| ((k.wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 200.0 - 5.0)
            .collect()
    }

    /// Every instruction-set level gives the same bits, forward and backward (a row
    /// of 37: vector body and scalar tail), so results do not depend on the CPU the
    /// program runs on; element 0 checked against the definition in f64.
    #[test]
    fn every_level_gives_the_same_bits() {
        let h = 37;
        let (g, cp, dc, dh) = (data(4 * h, 1), data(h, 2), data(h, 3), data(h, 4));
        let run = |level: Level| {
            let (mut c, mut hh) = (vec![0.0; h], vec![0.0; h]);
            simd::at(
                level,
                #[inline(always)]
                || forward_row_body(&g, &cp, &mut c, &mut hh, 1.0),
            );
            let (mut dg, mut dcp) = (vec![0.0; 4 * h], vec![0.0; h]);
            simd::at(
                level,
                #[inline(always)]
                || backward_row_body(&g, &cp, &dc, &dh, &mut dg, &mut dcp, 1.0),
            );
            [c, hh, dg, dcp].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        let portable = run(Level::Portable);
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        let (i, j, f, o) = (g[0] as f64, g[h] as f64, g[2 * h] as f64, g[3 * h] as f64);
        let cell = cp[0] as f64 * s(f + 1.0) + s(i) * j.tanh();
        let (c0, h0) = (
            f32::from_bits(portable[0][0]),
            f32::from_bits(portable[1][0]),
        );
        assert!((c0 as f64 - cell).abs() < 1e-5, "{c0} vs {cell}");
        assert!((h0 as f64 - cell.tanh() * s(o)).abs() < 1e-5);
        assert_eq!(run(Level::Avx2), portable);
        assert_eq!(run(Level::Avx512), portable);
    }
}
