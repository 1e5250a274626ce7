//! 2-D convolution (NHWC input, HWIO filter) as im2col + GEMM; stride-1 convolutions
//! with enough channels skip im2col (`conv_shifted`).
//!
//! The im2col matrix has one row per output pixel and `kh * kw * c` columns, in the
//! same (ky, kx, channel) order as the HWIO filter, so the filter is already the
//! `[kh * kw * c, o]` right-hand matrix and needs no reshuffling. The batch is cut
//! into blocks of whole images so the column buffer stays a few MB, and blocks are
//! spread over threads; whole images also keep the backward-input scatter of one
//! block from touching another block's pixels.

use crate::conv_shifted::Epilogue;
use crate::matmul::{
    GEMM_PAR_WORK, MatRef, gemm_into, gemm_into_uninit, gemm_new, parallelism_for,
};
use crate::{Cpu, check_len};
use gemm::Parallelism;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::Arc;
use tensor::{Conv2dGeom, ConvOps, Result, UnaryOp};

/// Target size of one block's im2col buffer, in elements (4 MB of f32).
const COLS_BUDGET: usize = 1 << 20;

thread_local! {
    /// Each thread's im2col buffer, kept between calls (`alloc::with_kept`).
    static COLS: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A 1x1, stride-1, unpadded convolution is a plain matrix product over pixels.
fn is_pointwise(g: &Conv2dGeom) -> bool {
    g.kh == 1
        && g.kw == 1
        && g.stride_h == 1
        && g.stride_w == 1
        && g.pad_top == 0
        && g.pad_left == 0
        && g.out_h == g.h
        && g.out_w == g.w
}

/// How the batch is cut into blocks of images, and the blocks into per-thread tasks.
struct Blocks {
    images_per_block: usize,
    count: usize,
    /// Contiguous runs of blocks, one per thread; with more than one, each GEMM runs
    /// on a single thread, otherwise the GEMM itself may use every thread.
    tasks: usize,
}

impl Blocks {
    fn new(g: &Conv2dGeom) -> Self {
        let rows_per_image = g.out_h * g.out_w;
        let kdim = g.kh * g.kw * g.c;
        let threads = rayon::current_num_threads();
        let work = g.n * rows_per_image * kdim * g.o;
        let parallel = threads > 1 && g.n > 1 && work >= GEMM_PAR_WORK;
        let mut images_per_block =
            (COLS_BUDGET / (rows_per_image * kdim).max(1)).clamp(1, g.n.max(1));
        if parallel {
            images_per_block = images_per_block.min(g.n.div_ceil(threads));
        }
        let count = g.n.div_ceil(images_per_block);
        Self {
            images_per_block,
            count,
            tasks: if parallel { threads.min(count) } else { 1 },
        }
    }

    /// The blocks of task `t`: a fixed split, so results never depend on scheduling.
    fn task_blocks(&self, t: usize) -> std::ops::Range<usize> {
        t * self.count / self.tasks..(t + 1) * self.count / self.tasks
    }

    /// Runs `f(first_image, block_of_out, may_thread_gemm, scratch)` over the blocks
    /// of `out`, which holds `per_image` elements per image. Each task reuses one
    /// scratch buffer for all its blocks.
    fn for_each<T: Send, F>(&self, out: &mut [T], per_image: usize, f: F)
    where
        F: Fn(usize, &mut [T], bool, &mut Vec<f32>) + Sync,
    {
        let block_len = self.images_per_block * per_image;
        let run = |t: usize, mut rest: &mut [T], may_thread: bool| {
            crate::alloc::with_kept(&COLS, |scratch| {
                for b in self.task_blocks(t) {
                    let take = block_len.min(rest.len());
                    let (block, tail) = std::mem::take(&mut rest).split_at_mut(take);
                    f(b * self.images_per_block, block, may_thread, scratch);
                    rest = tail;
                }
            })
        };
        let lens: Vec<usize> = (0..self.tasks)
            .map(|t| self.task_blocks(t).len() * block_len)
            .collect();
        let threaded = self.tasks > 1;
        crate::tasks::for_each_piece(out, &lens, |t, piece| run(t, piece, !threaded));
    }
}

fn gemm_parallelism(may_thread: bool, m: usize, n: usize, k: usize) -> Parallelism {
    if may_thread {
        parallelism_for(m, n, k)
    } else {
        Parallelism::None
    }
}

fn check_geometry(
    op: &str,
    g: &Conv2dGeom,
    x: Option<&[f32]>,
    w: Option<&[f32]>,
    dy: Option<&[f32]>,
) -> Result<()> {
    if let Some(x) = x {
        check_len(op, "x", x, g.n * g.h * g.w * g.c)?;
    }
    if let Some(w) = w {
        check_len(op, "w", w, g.kh * g.kw * g.c * g.o)?;
    }
    if let Some(dy) = dy {
        check_len(op, "dy", dy, g.n * g.out_h * g.out_w * g.o)?;
    }
    Ok(())
}

/// Top-left input coordinate of output pixel `(oy, ox)`'s window (may be negative).
#[inline]
fn window_origin(g: &Conv2dGeom, oy: usize, ox: usize) -> (isize, isize) {
    (
        (oy * g.stride_h) as isize - g.pad_top as isize,
        (ox * g.stride_w) as isize - g.pad_left as isize,
    )
}

/// Writes the im2col rows of images `first .. first + count` into `cols`.
fn im2col(x: &[f32], g: &Conv2dGeom, first: usize, count: usize, cols: &mut [f32]) {
    let (h, w, c, kw) = (g.h, g.w, g.c, g.kw);
    let image = h * w * c;
    let kdim = g.kh * kw * c;
    let run = kw * c;
    let mut rows = cols.chunks_exact_mut(kdim);
    for img in first..first + count {
        let xi = &x[img * image..(img + 1) * image];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let row = rows.next().expect("im2col: cols sized for the block");
                let (y0, x0) = window_origin(g, oy, ox);
                // NHWC keeps a window row's kw pixels adjacent, so an interior window
                // row is one contiguous copy.
                let interior = x0 >= 0 && x0 as usize + kw <= w;
                for (ky, dst) in row.chunks_exact_mut(run).enumerate() {
                    let iy = y0 + ky as isize;
                    if iy < 0 || iy >= h as isize {
                        dst.fill(0.0);
                        continue;
                    }
                    let line = &xi[iy as usize * w * c..(iy as usize + 1) * w * c];
                    if interior {
                        let start = x0 as usize * c;
                        dst.copy_from_slice(&line[start..start + run]);
                        continue;
                    }
                    for (kx, d) in dst.chunks_exact_mut(c).enumerate() {
                        let ix = x0 + kx as isize;
                        if ix < 0 || ix >= w as isize {
                            d.fill(0.0);
                        } else {
                            let start = ix as usize * c;
                            d.copy_from_slice(&line[start..start + c]);
                        }
                    }
                }
            }
        }
    }
}

/// Adds the im2col-shaped gradient `cols` back onto the pixels it was read from;
/// `dx` holds exactly the images of the block, starting at its first.
fn col2im(cols: &[f32], g: &Conv2dGeom, dx: &mut [f32]) {
    let (h, w, c, kw) = (g.h, g.w, g.c, g.kw);
    let image = h * w * c;
    let kdim = g.kh * kw * c;
    let run = kw * c;
    let mut rows = cols.chunks_exact(kdim);
    for dxi in dx.chunks_exact_mut(image) {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let row = rows.next().expect("col2im: cols sized for the block");
                let (y0, x0) = window_origin(g, oy, ox);
                for (ky, src) in row.chunks_exact(run).enumerate() {
                    let iy = y0 + ky as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let line = &mut dxi[iy as usize * w * c..(iy as usize + 1) * w * c];
                    for (kx, s) in src.chunks_exact(c).enumerate() {
                        let ix = x0 + kx as isize;
                        if ix >= 0 && ix < w as isize {
                            let start = ix as usize * c;
                            for (d, &v) in line[start..start + c].iter_mut().zip(s) {
                                *d += v;
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn conv2d(x: &[f32], w: &[f32], g: &Conv2dGeom) -> Result<Vec<f32>> {
    conv2d_then(x, w, g, &|_| {})
}

/// The convolution with `epilogue` run over every block of its output.
fn conv2d_then(x: &[f32], w: &[f32], g: &Conv2dGeom, epilogue: Epilogue) -> Result<Vec<f32>> {
    let kdim = g.kh * g.kw * g.c;
    let rows_per_image = g.out_h * g.out_w;
    if g.n * rows_per_image * g.o == 0 || kdim == 0 {
        let mut out = crate::alloc::zeros("conv2d", g.n * rows_per_image * g.o)?;
        epilogue(&mut out);
        return Ok(out);
    }
    check_geometry("conv2d", g, Some(x), Some(w), None)?;
    if let Some(out) = crate::conv_direct::conv2d(x, w, g, epilogue) {
        return out;
    }
    if let Some(out) = crate::conv_shifted::conv2d(x, w, g, epilogue) {
        return out;
    }
    let filter = MatRef::row_major(w, g.o, false);
    if is_pointwise(g) {
        let rows = g.n * g.h * g.w;
        let par = parallelism_for(rows, g.o, g.c);
        let mut out = gemm_new(
            rows,
            g.o,
            g.c,
            MatRef::row_major(x, g.c, false),
            filter,
            par,
        )?;
        let pixels_per_task = (crate::PAR_CHUNK / g.o).max(1);
        out.par_chunks_mut(pixels_per_task * g.o).for_each(epilogue);
        return Ok(out);
    }
    let per_image = rows_per_image * g.o;
    let fill = |out: &mut [MaybeUninit<f32>]| {
        Blocks::new(g).for_each(out, per_image, |first, out_block, may_thread, cols| {
            let images = out_block.len() / per_image;
            let rows = images * rows_per_image;
            cols.resize(rows * kdim, 0.0);
            im2col(x, g, first, images, cols);
            let par = gemm_parallelism(may_thread, rows, g.o, kdim);
            let lhs = MatRef::row_major(cols, kdim, false);
            gemm_into_uninit(out_block, rows, g.o, kdim, lhs, filter, par);
            // SAFETY: the GEMM wrote all `rows * o` elements of the block.
            let block = unsafe { crate::alloc::assume_written(out_block) };
            epilogue(block);
        })
    };
    // SAFETY: the blocks cover the output (whole images each, the last one shorter)
    // and the GEMM of each writes every element of its block.
    unsafe { crate::alloc::written("conv2d", g.n * per_image, fill) }
}

pub(crate) fn conv2d_backward_input(dy: &[f32], w: &[f32], g: &Conv2dGeom) -> Result<Vec<f32>> {
    let kdim = g.kh * g.kw * g.c;
    let rows_per_image = g.out_h * g.out_w;
    let image = g.h * g.w * g.c;
    if g.n * image == 0 || kdim == 0 || rows_per_image == 0 || g.o == 0 {
        return crate::alloc::zeros("conv2d_backward_input", g.n * image);
    }
    check_geometry("conv2d_backward_input", g, None, Some(w), Some(dy))?;
    // dcols = dy @ W^T, with W read transposed through its strides.
    let filter_t = MatRef::row_major(w, g.o, true);
    if is_pointwise(g) {
        let rows = g.n * g.h * g.w;
        let par = parallelism_for(rows, g.c, g.o);
        return gemm_new(
            rows,
            g.c,
            g.o,
            MatRef::row_major(dy, g.o, false),
            filter_t,
            par,
        );
    }
    if let Some(dx) = crate::conv_direct::conv2d_backward_input(dy, w, g) {
        return dx;
    }
    if let Some(dx) = crate::conv_shifted::conv2d_backward_input(dy, w, g) {
        return dx;
    }
    // col2im adds into dx: it starts at zero.
    let mut dx = crate::alloc::zeros("conv2d_backward_input", g.n * image)?;
    let dy_image = rows_per_image * g.o;
    Blocks::new(g).for_each(&mut dx, image, |first, dx_block, may_thread, dcols| {
        let images = dx_block.len() / image;
        let rows = images * rows_per_image;
        let dy_block = &dy[first * dy_image..(first + images) * dy_image];
        dcols.resize(rows * kdim, 0.0);
        let par = gemm_parallelism(may_thread, rows, kdim, g.o);
        gemm_into(
            dcols,
            rows,
            kdim,
            g.o,
            MatRef::row_major(dy_block, g.o, false),
            filter_t,
            false,
            par,
        );
        col2im(dcols, g, dx_block);
    });
    Ok(dx)
}

pub(crate) fn conv2d_backward_filter(x: &[f32], dy: &[f32], g: &Conv2dGeom) -> Result<Vec<f32>> {
    let kdim = g.kh * g.kw * g.c;
    let rows_per_image = g.out_h * g.out_w;
    let mut dw = vec![0.0; kdim * g.o];
    if dw.is_empty() || g.n == 0 || rows_per_image == 0 {
        return Ok(dw);
    }
    check_geometry("conv2d_backward_filter", g, Some(x), None, Some(dy))?;
    if is_pointwise(g) {
        let rows = g.n * g.h * g.w;
        let par = parallelism_for(g.c, g.o, rows);
        gemm_into(
            &mut dw,
            g.c,
            g.o,
            rows,
            MatRef::row_major(x, g.c, true),
            MatRef::row_major(dy, g.o, false),
            false,
            par,
        );
        return Ok(dw);
    }
    if let Some(dw) = crate::conv_direct::conv2d_backward_filter(x, dy, g) {
        return Ok(dw);
    }
    if let Some(dw) = crate::conv_shifted::conv2d_backward_filter(x, dy, g) {
        return Ok(dw);
    }
    let blocks = Blocks::new(g);
    let dy_image = rows_per_image * g.o;
    // dW = sum over blocks of cols^T @ dy_block, accumulated in place.
    let accumulate_blocks =
        |block_ids: std::ops::Range<usize>, acc: &mut [f32], may_thread: bool| {
            crate::alloc::with_kept(&COLS, |cols| {
                for b in block_ids {
                    let first = b * blocks.images_per_block;
                    let images = blocks.images_per_block.min(g.n - first);
                    let rows = images * rows_per_image;
                    cols.resize(rows * kdim, 0.0);
                    im2col(x, g, first, images, cols);
                    let dy_block = &dy[first * dy_image..(first + images) * dy_image];
                    let par = gemm_parallelism(may_thread, kdim, g.o, rows);
                    gemm_into(
                        acc,
                        kdim,
                        g.o,
                        rows,
                        MatRef::row_major(cols, kdim, true),
                        MatRef::row_major(dy_block, g.o, false),
                        true,
                        par,
                    );
                }
            })
        };
    if blocks.tasks == 1 {
        accumulate_blocks(blocks.task_blocks(0), &mut dw, true);
        return Ok(dw);
    }
    // One partial sum per task, added in task order afterwards, so the result does
    // not depend on which thread finishes first.
    Ok(crate::tasks::sum_in_task_order(
        blocks.tasks,
        kdim * g.o,
        |t| {
            let mut acc = vec![0.0; kdim * g.o];
            accumulate_blocks(blocks.task_blocks(t), &mut acc, false);
            acc
        },
    ))
}

impl ConvOps for Cpu {
    fn conv2d(
        &self,
        x: &Self::Storage,
        w: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        conv2d(x, w, g).map(Arc::new)
    }

    fn conv2d_backward_input(
        &self,
        dy: &Self::Storage,
        w: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        conv2d_backward_input(dy, w, g).map(Arc::new)
    }

    fn conv2d_backward_filter(
        &self,
        x: &Self::Storage,
        dy: &Self::Storage,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        conv2d_backward_filter(x, dy, g).map(Arc::new)
    }

    /// The bias and activation are applied to each block of the output as soon as
    /// the GEMM has written it.
    fn conv2d_bias_act(
        &self,
        x: &Self::Storage,
        w: &Self::Storage,
        bias: &Self::Storage,
        act: Option<UnaryOp>,
        g: &Conv2dGeom,
    ) -> Result<Self::Storage> {
        check_len("conv2d_bias_act", "bias", bias, g.o)?;
        let bias = &bias[..g.o];
        conv2d_then(x, w, g, &|block| {
            crate::elementwise::bias_act(block, bias, act)
        })
        .map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(n: usize, hw: usize, c: usize, o: usize) -> Conv2dGeom {
        Conv2dGeom {
            n,
            h: hw,
            w: hw,
            c,
            kh: 3,
            kw: 3,
            o,
            stride_h: 1,
            stride_w: 1,
            pad_top: 1,
            pad_left: 1,
            out_h: hw,
            out_w: hw,
        }
    }

    #[test]
    fn tasks_cover_every_image_exactly_once() {
        for threads in 1..=5 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                for n in [1, 2, 3, 7, 32, 33] {
                    for (hw, c, o) in [(4, 2, 2), (28, 32, 64), (64, 64, 64)] {
                        let b = Blocks::new(&geom(n, hw, c, o));
                        let blocks: Vec<usize> =
                            (0..b.tasks).flat_map(|t| b.task_blocks(t)).collect();
                        assert_eq!(blocks, (0..b.count).collect::<Vec<_>>());
                        assert!(b.count * b.images_per_block >= n);
                        assert!((b.count - 1) * b.images_per_block < n);
                        assert!(b.tasks <= threads.max(1));
                    }
                }
            });
        }
    }

    #[test]
    fn im2col_pads_with_zeros() {
        // One 2x2 single-channel image, 3x3 SAME window at (0, 0): the image sits at
        // taps (1,1), (1,2), (2,1), (2,2).
        let g = geom(1, 2, 1, 1);
        let mut cols = vec![f32::NAN; 4 * 9];
        im2col(&[1., 2., 3., 4.], &g, 0, 1, &mut cols);
        assert_eq!(&cols[..9], &[0., 0., 0., 0., 1., 2., 0., 3., 4.]);
        assert_eq!(&cols[27..], &[1., 2., 0., 3., 4., 0., 0., 0., 0.]);
    }

    /// Values uniform on [-1, 1), from the project's counter-based sampler.
    fn data(len: usize, seed: u64) -> Vec<f32> {
        let dist = tensor::Distribution::Uniform {
            low: -1.0,
            high: 1.0,
        };
        (0..len)
            .map(|i| tensor::random::sample(dist, seed, i as u32))
            .collect()
    }

    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (a, b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{what}[{i}]: {a} vs {b}"
            );
        }
    }

    #[test]
    fn the_canvas_path_agrees_with_im2col_where_the_cost_rule_rejects_it() {
        // Small images (many dropped pixels): these run through im2col, which
        // tests/conv.rs checks against naive loops; here the canvas path is forced
        // on them and compared.
        for (i, &(n, h, w, c, kh, kw, o, same)) in [
            (3, 6, 6, 8, 3, 3, 32, true),
            (2, 9, 7, 9, 3, 3, 30, false),
            (1, 13, 12, 3, 5, 5, 2, true),
            (4, 5, 5, 8, 5, 5, 12, true),
            (2, 4, 7, 5, 4, 2, 6, false),
        ]
        .iter()
        .enumerate()
        {
            let pad = |k: usize| if same { (k - 1) / 2 } else { 0 };
            let out = |x: usize, k: usize| if same { x } else { x - k + 1 };
            let g = Conv2dGeom {
                n,
                h,
                w,
                c,
                kh,
                kw,
                o,
                stride_h: 1,
                stride_w: 1,
                pad_top: pad(kh),
                pad_left: pad(kw),
                out_h: out(h, kh),
                out_w: out(w, kw),
            };
            assert!(
                !crate::conv_shifted::takes_forward(&g),
                "{g:?} should go to im2col"
            );
            let seed = 10 * i as u64;
            let x = data(n * h * w * c, seed);
            let wt = data(kh * kw * c * o, seed + 1);
            let dy = data(n * g.out_h * g.out_w * o, seed + 2);
            let (y, dx, dw) = crate::conv_shifted::forced(&x, &wt, &dy, &g).unwrap();
            // The register-tiled kernel would take some of these on an AVX-512 CPU.
            let (y0, dx0, dw0) = crate::conv_direct::without(|| {
                (
                    conv2d(&x, &wt, &g).unwrap(),
                    conv2d_backward_input(&dy, &wt, &g).unwrap(),
                    conv2d_backward_filter(&x, &dy, &g).unwrap(),
                )
            });
            assert_close(&y, &y0, "forward");
            assert_close(&dx, &dx0, "backward input");
            assert_close(&dw, &dw0, "backward filter");
        }
    }

    fn same_geom(
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        k: (usize, usize),
        o: usize,
    ) -> Conv2dGeom {
        let (kh, kw) = k;
        Conv2dGeom {
            n,
            h,
            w,
            c,
            kh,
            kw,
            o,
            stride_h: 1,
            stride_w: 1,
            pad_top: (kh - 1) / 2,
            pad_left: (kw - 1) / 2,
            out_h: h,
            out_w: w,
        }
    }

    /// Each register-tiled kernel this CPU runs (conv_direct) against the paths it
    /// replaces (canvas GEMMs and im2col, which tests/conv.rs checks against naive
    /// loops on CPUs the kernel does not run on), on the seed models' layers and on
    /// shapes that leave partial tiles and panels.
    #[test]
    fn agrees_with_the_paths_it_replaces() {
        let kernels = crate::tile::Isa::runnable();
        if kernels.is_empty() {
            eprintln!("neither AVX-512 nor AVX2 with FMA on this CPU: the kernel is not used here");
            return;
        }
        for (i, g) in [
            same_geom(3, 14, 14, 64, (3, 3), 128),
            same_geom(2, 16, 16, 32, (3, 3), 64),
            same_geom(2, 28, 28, 32, (5, 5), 48),
            same_geom(3, 7, 29, 9, (3, 5), 33),
            same_geom(1, 5, 15, 8, (2, 2), 17),
            same_geom(2, 3, 2, 16, (3, 3), 24),
        ]
        .iter()
        .enumerate()
        {
            assert!(crate::conv_direct::takes_forward(g), "{g:?}");
            let seed = 40 * i as u64;
            let x = data(g.n * g.h * g.w * g.c, seed);
            let w = data(g.kh * g.kw * g.c * g.o, seed + 1);
            let dy = data(g.n * g.out_h * g.out_w * g.o, seed + 2);
            let passes = || {
                (
                    conv2d(&x, &w, g).unwrap(),
                    conv2d_backward_input(&dy, &w, g).unwrap(),
                    conv2d_backward_filter(&x, &dy, g).unwrap(),
                )
            };
            let (y0, dx0, dw0) = crate::conv_direct::without(passes);
            for &isa in &kernels {
                let (y, dx, dw) = crate::conv_direct::forced(Some(isa), passes);
                assert_close(&y, &y0, &format!("{isa:?} forward"));
                assert_close(&dx, &dx0, &format!("{isa:?} backward input"));
                assert_close(&dw, &dw0, &format!("{isa:?} backward filter"));
            }
        }
    }
}
