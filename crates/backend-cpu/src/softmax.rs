//! Row-wise softmax and log-softmax (the softmax family).

use crate::layout::rows_per_task;
use crate::{Cpu, PAR_THRESHOLD, check_len};
use rayon::prelude::*;
use std::sync::Arc;
use tensor::{Result, SoftmaxOps};

fn softmax(x: &[f32], rows: usize, cols: usize, log: bool) -> Result<Vec<f32>> {
    let mut out = vec![0.0; rows * cols];
    if out.is_empty() {
        return Ok(out);
    }
    check_len("softmax", "x", x, rows * cols)?;
    let one_row = |xr: &[f32], or: &mut [f32]| {
        // Subtracting the row max keeps every exp in (0, 1], so nothing overflows.
        let max = xr.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if log {
            let sum: f64 = xr.iter().map(|&v| (v - max).exp() as f64).sum();
            let log_sum = sum.ln() as f32;
            for (o, &v) in or.iter_mut().zip(xr) {
                *o = (v - max) - log_sum;
            }
        } else {
            let mut sum = 0.0f64;
            for (o, &v) in or.iter_mut().zip(xr) {
                *o = (v - max).exp();
                sum += *o as f64;
            }
            let sum = sum as f32;
            or.iter_mut().for_each(|o| *o /= sum);
        }
    };
    let x = &x[..rows * cols];
    if rows * cols >= PAR_THRESHOLD && rows > 1 {
        let per_task = rows_per_task(cols);
        out.par_chunks_mut(per_task * cols)
            .zip(x.par_chunks(per_task * cols))
            .for_each(|(o, x)| {
                for (or, xr) in o.chunks_exact_mut(cols).zip(x.chunks_exact(cols)) {
                    one_row(xr, or);
                }
            });
    } else {
        for (or, xr) in out.chunks_exact_mut(cols).zip(x.chunks_exact(cols)) {
            one_row(xr, or);
        }
    }
    Ok(out)
}

impl SoftmaxOps for Cpu {
    fn softmax(
        &self,
        x: &Self::Storage,
        rows: usize,
        cols: usize,
        log: bool,
    ) -> Result<Self::Storage> {
        softmax(x, rows, cols, log).map(Arc::new)
    }
}
