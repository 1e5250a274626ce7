//! 2-D max and average pooling over NHWC, nearest-neighbour upsampling by integer
//! factors, and their backwards (the pool family).
//!
//! Windows are clipped to the input, as TensorFlow does: padding never wins a max
//! and is not counted by an average. Loops run over whole pixels so the innermost
//! loop is across channels, which are contiguous in NHWC; the max-pool loops are
//! compare-and-select only and run compiled for the CPU's widest vector unit
//! (`simd`). Where windows tile the input (2x2 stride 2, the models' pools) the
//! max-pool backward writes each input pixel once, its window's gradient or zero,
//! instead of scattering through the indices. Images are independent, so large
//! batches are split over threads one image at a time.

use crate::{Cpu, PAR_THRESHOLD, check_len, cpu_error, simd};
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
    // Every element of both is written below (empty windows get 0 and -1).
    let mut out = crate::alloc::zeros("max_pool2d", output_len(g))?;
    let mut argmax = crate::alloc::zeros("max_pool2d", output_len(g))?;
    if out.is_empty() {
        return Ok((out, argmax));
    }
    check_len("max_pool2d", "x", x, input_len(g))?;
    let image = g.h * g.w * c;
    check_index_range("max_pool2d", g)?;
    let out_image = g.out_h * g.out_w * c;
    let mut pairs: Vec<(&mut [f32], &mut [f32])> = out
        .chunks_mut(out_image)
        .zip(argmax.chunks_mut(out_image))
        .collect();
    // The channel offsets as f32, so the argmax update is one vectorisable select.
    let ramp: Vec<f32> = (0..c).map(|ch| ch as f32).collect();
    // AVX2 at most: on this project's Zen 5 host the 512-bit build of this loop was
    // slower (50x28x28x64 2x2, interleaved: 606-715 us at AVX2 against 676-776 us at
    // AVX-512); the bits are the same either way.
    let level = simd::detected().min(simd::Level::Avx2);
    let pool = |img: usize, (out, arg): &mut (&mut [f32], &mut [f32])| {
        let xi = &x[img * image..(img + 1) * image];
        simd::at(
            level,
            #[inline(always)]
            || max_pool_image(xi, g, &ramp, out, arg),
        );
    };
    if work(g) >= PAR_THRESHOLD {
        pairs
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, pair)| pool(i, pair));
    } else {
        pairs
            .iter_mut()
            .enumerate()
            .for_each(|(i, pair)| pool(i, pair));
    }
    Ok((out, argmax))
}

/// Argmax indices (within an image) travel as f32: refuses images where they would
/// not be exact.
fn check_index_range(op: &str, g: &Pool2dGeom) -> Result<()> {
    let image = g.h * g.w * g.c;
    if image > MAX_EXACT_INDEX {
        return Err(cpu_error(
            op,
            format!(
                "an image of {image} elements ({}x{}x{}); argmax indices above 2^24 are \
                 not exact in f32",
                g.h, g.w, g.c
            ),
        ));
    }
    Ok(())
}

/// Max pooling of one image `x` into `out` with the winners' indices in `arg`.
/// Row-major scan with a strict `>`: the first maximum wins ties; a NaN never wins.
#[inline(always)]
fn max_pool_image(x: &[f32], g: &Pool2dGeom, ramp: &[f32], out: &mut [f32], arg: &mut [f32]) {
    let c = g.c;
    for oy in 0..g.out_h {
        for ox in 0..g.out_w {
            let at = (oy * g.out_w + ox) * c;
            let best = &mut out[at..at + c];
            let best_at = &mut arg[at..at + c];
            let (ys, xs) = window(g, oy, ox);
            if ys.is_empty() || xs.is_empty() {
                best.fill(0.0);
                best_at.fill(-1.0);
                continue;
            }
            let mut first = true;
            for iy in ys {
                for ix in xs.clone() {
                    let local = (iy * g.w + ix) * c;
                    let px = &x[local..local + c];
                    if first {
                        best.copy_from_slice(px);
                        for (a, &r) in best_at.iter_mut().zip(ramp) {
                            *a = local as f32 + r;
                        }
                        first = false;
                    } else {
                        take_larger(best, best_at, px, local as f32, ramp);
                    }
                }
            }
        }
    }
}

/// `best = max(best, px)` per channel, `best_at` following with `local + channel`
/// where `px` wins (strictly larger: the first maximum keeps ties; a NaN never wins).
/// Branch-free compares and selects, so it vectorises and gives the same result at
/// any vector width.
#[inline(always)]
fn take_larger(best: &mut [f32], best_at: &mut [f32], px: &[f32], local: f32, ramp: &[f32]) {
    for (((b, a), &v), &r) in best.iter_mut().zip(best_at.iter_mut()).zip(px).zip(ramp) {
        let wins = v > *b;
        *b = if wins { v } else { *b };
        *a = if wins { local + r } else { *a };
    }
}

/// Whether no two windows share an input pixel (the window is the stride and nothing
/// is padded before the first row or column): then each input pixel's gradient is
/// its window's `dy` or zero, written once instead of scattered and added.
fn windows_tile(g: &Pool2dGeom) -> bool {
    g.kh == g.stride_h && g.kw == g.stride_w && g.pad_top == 0 && g.pad_left == 0
}

/// Whether every argmax is -1 (an empty window) or an integer index into an image
/// of `image` elements. Folds without an early exit, so it vectorises.
#[inline(always)]
fn indices_valid(arg: &[f32], image: usize) -> bool {
    let limit = image as f32;
    arg.iter().fold(true, |ok, &a| {
        let whole = (a as i32) as f32 == a;
        ok & (a == -1.0 || (whole & (a >= 0.0) & (a < limit)))
    })
}

pub(crate) fn max_pool2d_backward(dy: &[f32], argmax: &[f32], g: &Pool2dGeom) -> Result<Vec<f32>> {
    let mut dx = vec![0.0; input_len(g)];
    let out_image = g.out_h * g.out_w * g.c;
    if out_image == 0 || dx.is_empty() {
        return Ok(dx);
    }
    check_len("max_pool2d_backward", "dy", dy, output_len(g))?;
    check_len("max_pool2d_backward", "argmax", argmax, output_len(g))?;
    check_index_range("max_pool2d_backward", g)?;
    let image = g.h * g.w * g.c;
    let tiles = windows_tile(g);
    let ramp: Vec<f32> = (0..g.c).map(|ch| ch as f32).collect();
    let level = simd::detected();
    // A window's winner lies in its own image, so each image is independent.
    per_image(&mut dx, image, output_len(g), |img, dxi| {
        let range = img * out_image..(img + 1) * out_image;
        let (dyi, ai) = (&dy[range.clone()], &argmax[range]);
        if !simd::at(
            level,
            #[inline(always)]
            || indices_valid(ai, image),
        ) {
            return Err(cpu_error(
                "max_pool2d_backward",
                format!("argmax holds a value that is not an index into image {img}"),
            ));
        }
        if tiles {
            simd::at(
                level,
                #[inline(always)]
                || route_tiled(dyi, ai, g, &ramp, dxi),
            );
        } else {
            for (&d, &a) in dyi.iter().zip(ai) {
                if a >= 0.0 {
                    dxi[a as usize] += d; // checked above: an index into this image
                }
            }
        }
        Ok(())
    })?;
    Ok(dx)
}

/// The backward for windows that tile the input ([`windows_tile`]): each pixel of
/// each window gets its window's `dy` where it is the winner and zero elsewhere, one
/// select per channel. Pixels outside every window keep the zero `dx` starts with.
#[inline(always)]
fn route_tiled(dy: &[f32], arg: &[f32], g: &Pool2dGeom, ramp: &[f32], dx: &mut [f32]) {
    let c = g.c;
    for oy in 0..g.out_h {
        for ox in 0..g.out_w {
            let at = (oy * g.out_w + ox) * c;
            let (d, a) = (&dy[at..at + c], &arg[at..at + c]);
            let (ys, xs) = window(g, oy, ox);
            for iy in ys {
                for ix in xs.clone() {
                    let local = (iy * g.w + ix) * c;
                    let pixel = local as f32;
                    // `a - channel` is the winner's pixel offset, exact in f32.
                    for (((out, &d), &a), &r) in
                        dx[local..local + c].iter_mut().zip(d).zip(a).zip(ramp)
                    {
                        *out = if a - r == pixel { d } else { 0.0 };
                    }
                }
            }
        }
    }
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
    use crate::simd::Level;

    /// Worked by hand: the larger value wins with its index, ties and NaN keep the
    /// first.
    #[test]
    fn the_strictly_larger_value_wins() {
        let ramp = [0.0, 1.0, 2.0, 3.0];
        let (mut best, mut at) = ([1.0, 5.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]);
        take_larger(&mut best, &mut at, &[3.0, 5.0, f32::NAN, -1.0], 8.0, &ramp);
        assert_eq!(best, [3.0, 5.0, 2.0, 0.0]);
        assert_eq!(at, [8.0, 1.0, 2.0, 3.0]);
    }

    /// Forward and both backward paths give the same bits at every instruction-set
    /// level (37 channels: vector bodies and tails), with ties and NaNs in the data.
    #[test]
    fn every_level_gives_the_same_bits() {
        let g = Pool2dGeom {
            n: 1,
            h: 7,
            w: 5,
            c: 37,
            kh: 2,
            kw: 2,
            stride_h: 2,
            stride_w: 2,
            pad_top: 0,
            pad_left: 0,
            out_h: 4,
            out_w: 3,
        };
        assert!(windows_tile(&g));
        let x: Vec<f32> = (0..g.h * g.w * g.c)
            .map(|i| match i % 13 {
                0 => f32::NAN,
                k => ((i * 7) % 11) as f32 - k as f32,
            })
            .collect();
        let dy: Vec<f32> = (0..g.out_h * g.out_w * g.c)
            .map(|i| i as f32 * 0.5 - 3.0)
            .collect();
        let ramp: Vec<f32> = (0..g.c).map(|v| v as f32).collect();
        let run = |level: Level| {
            let n = g.out_h * g.out_w * g.c;
            let (mut out, mut arg) = (vec![0.0; n], vec![0.0; n]);
            simd::at(
                level,
                #[inline(always)]
                || max_pool_image(&x, &g, &ramp, &mut out, &mut arg),
            );
            let mut dx = vec![0.0; x.len()];
            simd::at(
                level,
                #[inline(always)]
                || route_tiled(&dy, &arg, &g, &ramp, &mut dx),
            );
            let valid = simd::at(
                level,
                #[inline(always)]
                || indices_valid(&arg, x.len()),
            );
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            (bits(&out), bits(&arg), bits(&dx), valid)
        };
        let portable = run(Level::Portable);
        assert!(portable.3);
        assert_eq!(run(Level::Avx2), portable);
        assert_eq!(run(Level::Avx512), portable);
    }

    #[test]
    fn indices_are_checked_at_the_edges() {
        assert!(indices_valid(&[-1.0, 0.0, 3.0], 4));
        for bad in [4.0, 1.5, -2.0, -0.5, f32::NAN, f32::INFINITY, 1e10] {
            assert!(!indices_valid(&[0.0, bad], 4), "{bad}");
        }
    }
}
