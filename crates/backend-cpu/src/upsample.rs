//! Nearest-neighbour upsampling of NHWC tensors by integer factors, and its backward.

use crate::{PAR_THRESHOLD, check_len};
use rayon::prelude::*;
use tensor::Result;

pub(crate) fn upsample_nearest2d(
    x: &[f32],
    [n, h, w, c]: [usize; 4],
    scale_h: usize,
    scale_w: usize,
) -> Result<Vec<f32>> {
    let out_row = w * scale_w * c;
    let mut out = vec![0.0; n * h * scale_h * out_row];
    if out.is_empty() {
        return Ok(out);
    }
    check_len("upsample_nearest2d", "x", x, n * h * w * c)?;
    // One block per input row: build its first output row, then copy it scale_h - 1 times.
    let expand_row = |r: usize, block: &mut [f32]| {
        let src = &x[r * w * c..(r + 1) * w * c];
        let (first, rest) = block.split_at_mut(out_row);
        for (px, dst) in src.chunks_exact(c).zip(first.chunks_exact_mut(scale_w * c)) {
            for d in dst.chunks_exact_mut(c) {
                d.copy_from_slice(px);
            }
        }
        for copy in rest.chunks_exact_mut(out_row) {
            copy.copy_from_slice(first);
        }
    };
    let block = scale_h * out_row;
    if out.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(block)
            .enumerate()
            .for_each(|(r, b)| expand_row(r, b));
    } else {
        out.chunks_mut(block)
            .enumerate()
            .for_each(|(r, b)| expand_row(r, b));
    }
    Ok(out)
}

pub(crate) fn upsample_nearest2d_backward(
    dy: &[f32],
    [n, h, w, c]: [usize; 4],
    scale_h: usize,
    scale_w: usize,
) -> Result<Vec<f32>> {
    let mut dx = vec![0.0; n * h * w * c];
    let dy_row = w * scale_w * c;
    if dx.is_empty() || scale_h == 0 || scale_w == 0 {
        return Ok(dx);
    }
    check_len(
        "upsample_nearest2d_backward",
        "dy",
        dy,
        n * h * scale_h * dy_row,
    )?;
    let sum_block = |r: usize, dst: &mut [f32]| {
        let block = &dy[r * scale_h * dy_row..(r + 1) * scale_h * dy_row];
        for line in block.chunks_exact(dy_row) {
            for (d, src) in dst.chunks_exact_mut(c).zip(line.chunks_exact(scale_w * c)) {
                for s in src.chunks_exact(c) {
                    for (a, &v) in d.iter_mut().zip(s) {
                        *a += v;
                    }
                }
            }
        }
    };
    let row = w * c;
    if dy.len() >= PAR_THRESHOLD {
        dx.par_chunks_mut(row)
            .enumerate()
            .for_each(|(r, d)| sum_block(r, d));
    } else {
        dx.chunks_mut(row)
            .enumerate()
            .for_each(|(r, d)| sum_block(r, d));
    }
    Ok(dx)
}
