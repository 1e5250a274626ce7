//! 2-D max and average pooling over NHWC, nearest-neighbour upsampling by integer
//! factors, and their backwards (the pool family).
//!
//! Windows are clipped to the input, as TensorFlow does: padding never wins a max
//! and is not counted by an average. Loops run over whole pixels so the innermost
//! loop is across channels, which are contiguous in NHWC. Images are independent,
//! so large batches are split over threads one image at a time.

use crate::{Cpu, PAR_THRESHOLD, check_len, cpu_error};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Arc;
use tensor::{Pool2dGeom, PoolOps, Result};

/// Largest index an f32 holds exactly; argmax indices (within an image) travel as f32.
const MAX_EXACT_INDEX: usize = 1 << 24;

/// Input rows and columns covered by output pixel `(oy, ox)`, clipped to the input.
#[inline]
fn window(g: &Pool2dGeom, oy: usize, ox: usize) -> (Range<usize>, Range<usize>) {
    let clip = |start: isize, k: usize, len: usize| {
        let lo = start.max(0) as usize;
        let hi = (start + k as isize).clamp(0, len as isize) as usize;
        lo.min(hi)..hi
    };
    (
        clip((oy * g.stride_h) as isize - g.pad_top as isize, g.kh, g.h),
        clip((ox * g.stride_w) as isize - g.pad_left as isize, g.kw, g.w),
    )
}

/// Runs `f(image, out_image)` over the images of `out` (`per_image` elements each),
/// on several threads when `total_work` is large.
fn per_image<T: Send>(
    out: &mut [T],
    per_image: usize,
    total_work: usize,
    f: impl Fn(usize, &mut [T]) -> Result<()> + Sync,
) -> Result<()> {
    if per_image == 0 {
        return Ok(());
    }
    if total_work >= PAR_THRESHOLD {
        out.par_chunks_mut(per_image)
            .enumerate()
            .try_for_each(|(i, o)| f(i, o))
    } else {
        out.chunks_mut(per_image)
            .enumerate()
            .try_for_each(|(i, o)| f(i, o))
    }
}

fn input_len(g: &Pool2dGeom) -> usize {
    g.n * g.h * g.w * g.c
}

fn output_len(g: &Pool2dGeom) -> usize {
    g.n * g.out_h * g.out_w * g.c
}

/// Work estimate: every output element looks at a whole window.
fn work(g: &Pool2dGeom) -> usize {
    output_len(g) * g.kh * g.kw
}

pub(crate) fn max_pool2d(x: &[f32], g: &Pool2dGeom) -> Result<(Vec<f32>, Vec<f32>)> {
    let c = g.c;
    let mut out = crate::alloc::zeros("max_pool2d", output_len(g))?;
    let mut argmax = crate::alloc::filled("max_pool2d", output_len(g), -1.0)?;
    if out.is_empty() {
        return Ok((out, argmax));
    }
    check_len("max_pool2d", "x", x, input_len(g))?;
    let image = g.h * g.w * c;
    if image > MAX_EXACT_INDEX {
        return Err(cpu_error(
            "max_pool2d",
            format!(
                "an image of {image} elements ({}x{}x{c}); argmax indices above 2^24 are \
                 not exact in f32",
                g.h, g.w
            ),
        ));
    }
    let out_image = g.out_h * g.out_w * c;
    let mut pairs: Vec<(&mut [f32], &mut [f32])> = out
        .chunks_mut(out_image)
        .zip(argmax.chunks_mut(out_image))
        .collect();
    // The channel offsets as f32, so the argmax update is one vectorisable select.
    let ramp: Vec<f32> = (0..c).map(|ch| ch as f32).collect();
    let pool_image = |img: usize, (out, arg): &mut (&mut [f32], &mut [f32])| {
        let base = img * image;
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let at = (oy * g.out_w + ox) * c;
                let best = &mut out[at..at + c];
                let best_at = &mut arg[at..at + c];
                let (ys, xs) = window(g, oy, ox);
                let mut first = true;
                // Row-major scan with a strict `>`: the first maximum wins ties.
                for iy in ys {
                    for ix in xs.clone() {
                        // The index within the image (exact in f32 for any batch).
                        let local = (iy * g.w + ix) * c;
                        let px = &x[base + local..base + local + c];
                        if first {
                            best.copy_from_slice(px);
                            for (a, &r) in best_at.iter_mut().zip(&ramp) {
                                *a = local as f32 + r;
                            }
                            first = false;
                            continue;
                        }
                        take_larger(best, best_at, px, local as f32, &ramp);
                    }
                }
            }
        }
    };
    if work(g) >= PAR_THRESHOLD {
        pairs
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, pair)| pool_image(i, pair));
    } else {
        pairs
            .iter_mut()
            .enumerate()
            .for_each(|(i, pair)| pool_image(i, pair));
    }
    Ok((out, argmax))
}

/// `best = max(best, px)` per channel, `best_at` following with `local + channel`
/// where `px` wins (strictly larger: the first maximum keeps ties; a NaN never wins).
fn take_larger(best: &mut [f32], best_at: &mut [f32], px: &[f32], local: f32, ramp: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { take_larger_avx2(best, best_at, px, local, ramp) };
        return;
    }
    take_larger_portable(best, best_at, px, local, ramp);
}

/// The branch-free loop of [`take_larger`]: compares and selects, so it vectorises and
/// gives the same result at any vector width.
#[inline(always)]
fn take_larger_portable(
    best: &mut [f32],
    best_at: &mut [f32],
    px: &[f32],
    local: f32,
    ramp: &[f32],
) {
    for (((b, a), &v), &r) in best.iter_mut().zip(best_at.iter_mut()).zip(px).zip(ramp) {
        let wins = v > *b;
        *b = if wins { v } else { *b };
        *a = if wins { local + r } else { *a };
    }
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn take_larger_avx2(
    best: &mut [f32],
    best_at: &mut [f32],
    px: &[f32],
    local: f32,
    ramp: &[f32],
) {
    take_larger_portable(best, best_at, px, local, ramp)
}

pub(crate) fn max_pool2d_backward(dy: &[f32], argmax: &[f32], g: &Pool2dGeom) -> Result<Vec<f32>> {
    let mut dx = vec![0.0; input_len(g)];
    let out_image = g.out_h * g.out_w * g.c;
    if out_image == 0 || dx.is_empty() {
        return Ok(dx);
    }
    check_len("max_pool2d_backward", "dy", dy, output_len(g))?;
    check_len("max_pool2d_backward", "argmax", argmax, output_len(g))?;
    let image = g.h * g.w * g.c;
    // A window's winner lies in its own image, so each image's scatter is independent.
    per_image(&mut dx, image, output_len(g), |img, dxi| {
        let range = img * out_image..(img + 1) * out_image;
        for (&d, &a) in dy[range.clone()].iter().zip(&argmax[range]) {
            if a < 0.0 {
                continue; // an empty window; nothing won
            }
            let local = a as usize;
            if a.fract() != 0.0 || local >= image {
                return Err(cpu_error(
                    "max_pool2d_backward",
                    format!("argmax {a} is not an index into image {img}"),
                ));
            }
            dxi[local] += d;
        }
        Ok(())
    })?;
    Ok(dx)
}

pub(crate) fn avg_pool2d(x: &[f32], g: &Pool2dGeom) -> Result<Vec<f32>> {
    let c = g.c;
    let mut out = crate::alloc::zeros("avg_pool2d", output_len(g))?;
    if out.is_empty() {
        return Ok(out);
    }
    check_len("avg_pool2d", "x", x, input_len(g))?;
    let image = g.h * g.w * c;
    per_image(&mut out, g.out_h * g.out_w * c, work(g), |img, out| {
        let xi = &x[img * image..(img + 1) * image];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let at = (oy * g.out_w + ox) * c;
                let acc = &mut out[at..at + c];
                let (ys, xs) = window(g, oy, ox);
                let count = ys.len() * xs.len();
                for iy in ys {
                    for ix in xs.clone() {
                        let p = (iy * g.w + ix) * c;
                        for (a, &v) in acc.iter_mut().zip(&xi[p..p + c]) {
                            *a += v;
                        }
                    }
                }
                if count > 0 {
                    let count = count as f32;
                    acc.iter_mut().for_each(|a| *a /= count);
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn avg_pool2d_backward(dy: &[f32], g: &Pool2dGeom) -> Result<Vec<f32>> {
    let c = g.c;
    let mut dx = vec![0.0; input_len(g)];
    let out_image = g.out_h * g.out_w * c;
    if out_image == 0 || dx.is_empty() {
        return Ok(dx);
    }
    check_len("avg_pool2d_backward", "dy", dy, output_len(g))?;
    per_image(&mut dx, g.h * g.w * c, work(g), |img, dxi| {
        let dyi = &dy[img * out_image..(img + 1) * out_image];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let at = (oy * g.out_w + ox) * c;
                let (ys, xs) = window(g, oy, ox);
                let count = ys.len() * xs.len();
                if count == 0 {
                    continue;
                }
                let count = count as f32;
                let d = &dyi[at..at + c];
                for iy in ys {
                    for ix in xs.clone() {
                        let p = (iy * g.w + ix) * c;
                        for (a, &v) in dxi[p..p + c].iter_mut().zip(d) {
                            *a += v / count;
                        }
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(dx)
}

pub(crate) fn upsample_nearest2d(
    x: &[f32],
    [n, h, w, c]: [usize; 4],
    scale_h: usize,
    scale_w: usize,
) -> Result<Vec<f32>> {
    let out_row = w * scale_w * c;
    let mut out = crate::alloc::zeros("upsample_nearest2d", n * h * scale_h * out_row)?;
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

impl PoolOps for Cpu {
    fn max_pool2d(
        &self,
        x: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<(Self::Storage, Self::Storage)> {
        let (y, argmax) = max_pool2d(x, g)?;
        Ok((Arc::new(y), Arc::new(argmax)))
    }

    fn max_pool2d_backward(
        &self,
        dy: &Self::Storage,
        argmax: &Self::Storage,
        g: &Pool2dGeom,
    ) -> Result<Self::Storage> {
        max_pool2d_backward(dy, argmax, g).map(Arc::new)
    }

    fn avg_pool2d(&self, x: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage> {
        avg_pool2d(x, g).map(Arc::new)
    }

    fn avg_pool2d_backward(&self, dy: &Self::Storage, g: &Pool2dGeom) -> Result<Self::Storage> {
        avg_pool2d_backward(dy, g).map(Arc::new)
    }

    // Overrides of the defaults (a strided copy and a reduction): one pass each.
    fn upsample_nearest2d(
        &self,
        x: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage> {
        upsample_nearest2d(x, dims, scale_h, scale_w).map(Arc::new)
    }

    fn upsample_nearest2d_backward(
        &self,
        dy: &Self::Storage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<Self::Storage> {
        upsample_nearest2d_backward(dy, dims, scale_h, scale_w).map(Arc::new)
    }
}

#[cfg(test)]
mod take_larger_tests {
    use super::*;

    /// Worked by hand: the larger value wins with its index, ties and NaN keep the
    /// first; the AVX2 build agrees with the portable one on a 37-channel row (vector
    /// body and tail).
    #[test]
    fn the_strictly_larger_value_wins_and_both_builds_agree() {
        let ramp = [0.0, 1.0, 2.0, 3.0];
        let (mut best, mut at) = ([1.0, 5.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]);
        take_larger_portable(&mut best, &mut at, &[3.0, 5.0, f32::NAN, -1.0], 8.0, &ramp);
        assert_eq!(best, [3.0, 5.0, 2.0, 0.0]);
        assert_eq!(at, [8.0, 1.0, 2.0, 3.0]);
        let c = 37;
        let ramp: Vec<f32> = (0..c).map(|v| v as f32).collect();
        let px: Vec<f32> = (0..c).map(|v| ((v * 7) % 11) as f32 - 5.0).collect();
        let start: Vec<f32> = (0..c).map(|v| ((v * 5) % 9) as f32 - 4.0).collect();
        let (mut b1, mut a1) = (start.clone(), vec![-1.0; c]);
        take_larger_portable(&mut b1, &mut a1, &px, 100.0, &ramp);
        for ch in 0..c {
            let wins = px[ch] > start[ch];
            assert_eq!(b1[ch], if wins { px[ch] } else { start[ch] });
            assert_eq!(a1[ch], if wins { 100.0 + ch as f32 } else { -1.0 });
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let (mut b2, mut a2) = (start.clone(), vec![-1.0; c]);
            // SAFETY: AVX2 is present (checked above).
            unsafe { take_larger_avx2(&mut b2, &mut a2, &px, 100.0, &ramp) };
            assert_eq!((b1, a1), (b2, a2));
        }
    }
}
