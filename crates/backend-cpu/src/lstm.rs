//! The fused LSTM cell step (TensorFlow's BasicLSTMCell) and its backward.
//!
//! Pre-activations arrive as `[n, 4h]` in the order i, j, f, o:
//! `c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)`,
//! `h = tanh(c) * sigmoid(o)`. The backward recomputes the activations instead of
//! storing them, which keeps the forward's outputs to the two the cell returns.

use crate::{Cpu, PAR_THRESHOLD, check_len};
use rayon::prelude::*;
use std::sync::Arc;
use tensor::backend::sigmoid;
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
        let (gi, rest) = g.split_at(hidden);
        let (gj, rest) = rest.split_at(hidden);
        let (gf, go) = rest.split_at(hidden);
        let cp = &c_prev[r * hidden..(r + 1) * hidden];
        for k in 0..hidden {
            let c = cp[k] * sigmoid(gf[k] + forget_bias) + sigmoid(gi[k]) * gj[k].tanh();
            c_row[k] = c;
            h_row[k] = c.tanh() * sigmoid(go[k]);
        }
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
        let (dgi, rest) = dg.split_at_mut(hidden);
        let (dgj, rest) = rest.split_at_mut(hidden);
        let (dgf, dgo) = rest.split_at_mut(hidden);
        for k in 0..hidden {
            let i = sigmoid(g[k]);
            let j = g[hidden + k].tanh();
            let f = sigmoid(g[2 * hidden + k] + forget_bias);
            let o = sigmoid(g[3 * hidden + k]);
            let c = cp[k] * f + i * j;
            let tc = c.tanh();
            // c feeds the cell's output h as well as the next step's c.
            let dc = dc_in[k] + dh[k] * o * (1.0 - tc * tc);
            dgi[k] = dc * j * i * (1.0 - i);
            dgj[k] = dc * i * (1.0 - j * j);
            dgf[k] = dc * cp[k] * f * (1.0 - f);
            dgo[k] = dh[k] * tc * o * (1.0 - o);
            dcp[k] = dc * f;
        }
    });
    Ok((d_gates, d_c_prev))
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
