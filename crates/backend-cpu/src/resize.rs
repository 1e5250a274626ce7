//! Bilinear resizing of NHWC images and its backward (the resize family).

use crate::{Cpu, check_len};
use std::sync::Arc;
use tensor::backend::bilinear_taps;
use tensor::{ResizeOps, Result};

fn resize_bilinear(x: &[f32], dims: [usize; 4], out_h: usize, out_w: usize) -> Result<Vec<f32>> {
    let [n, h, w, c] = dims;
    let mut out = crate::alloc::zeros("resize_bilinear", n * out_h * out_w * c)?;
    if out.is_empty() {
        return Ok(out);
    }
    check_len("resize_bilinear", "x", x, n * h * w * c)?;
    let ys = bilinear_taps(h, out_h);
    let xs = bilinear_taps(w, out_w);
    let px = |b: usize, y: usize, xx: usize| ((b * h + y) * w + xx) * c;
    for (b, image) in out.chunks_exact_mut(out_h * out_w * c).enumerate() {
        for (oy, row) in image.chunks_exact_mut(out_w * c).enumerate() {
            let (y0, y1, ly) = ys[oy];
            for (ox, pixel) in row.chunks_exact_mut(c).enumerate() {
                let (x0, x1, lx) = xs[ox];
                let (tl, tr) = (px(b, y0, x0), px(b, y0, x1));
                let (bl, br) = (px(b, y1, x0), px(b, y1, x1));
                for (k, o) in pixel.iter_mut().enumerate() {
                    let top = x[tl + k] + (x[tr + k] - x[tl + k]) * lx;
                    let bottom = x[bl + k] + (x[br + k] - x[bl + k]) * lx;
                    *o = top + (bottom - top) * ly;
                }
            }
        }
    }
    Ok(out)
}

fn resize_bilinear_backward(
    dy: &[f32],
    dims: [usize; 4],
    out_h: usize,
    out_w: usize,
) -> Result<Vec<f32>> {
    let [n, h, w, c] = dims;
    let mut dx = vec![0.0; n * h * w * c];
    if dx.is_empty() || out_h * out_w == 0 {
        return Ok(dx);
    }
    check_len("resize_bilinear_backward", "dy", dy, n * out_h * out_w * c)?;
    let ys = bilinear_taps(h, out_h);
    let xs = bilinear_taps(w, out_w);
    for (b, image) in dx.chunks_exact_mut(h * w * c).enumerate() {
        for (oy, &(y0, y1, ly)) in ys.iter().enumerate() {
            for (ox, &(x0, x1, lx)) in xs.iter().enumerate() {
                let g = &dy[((b * out_h + oy) * out_w + ox) * c..][..c];
                for (y, wy) in [(y0, 1.0 - ly), (y1, ly)] {
                    for (xx, wx) in [(x0, 1.0 - lx), (x1, lx)] {
                        let weight = wy * wx;
                        let dst = &mut image[(y * w + xx) * c..][..c];
                        for (d, &g) in dst.iter_mut().zip(g) {
                            *d += g * weight;
                        }
                    }
                }
            }
        }
    }
    Ok(dx)
}

impl ResizeOps for Cpu {
    fn resize_bilinear(
        &self,
        x: &Self::Storage,
        dims: [usize; 4],
        out_h: usize,
        out_w: usize,
    ) -> Result<Self::Storage> {
        resize_bilinear(x, dims, out_h, out_w).map(Arc::new)
    }

    fn resize_bilinear_backward(
        &self,
        dy: &Self::Storage,
        dims: [usize; 4],
        out_h: usize,
        out_w: usize,
    ) -> Result<Self::Storage> {
        resize_bilinear_backward(dy, dims, out_h, out_w).map(Arc::new)
    }
}
