//! Stride-1 convolutions without im2col ("shifted GEMM").
//!
//! The images of a block are copied into zero canvases of `hp x wp` pixels
//! (`hp = out_h + kh - 1`, `wp = out_w + kw - 1`), stacked one after another. Read as
//! one long run of pixels, output pixel `p = y * wp + x` of the stack sees tap
//! `(ky, kx)` at canvas pixel `p + ky * wp + kx`, and for a fixed `ky` the `kw` taps
//! are adjacent in memory: row `p` of the matrix that starts at canvas pixel
//! `ky * wp`, with row stride `c` and `kw * c` columns, is exactly the `ky`-th row of
//! `p`'s im2col window. So the convolution is `kh` GEMMs over overlapping views of
//! the canvas, each against one `[kw * c, o]` slab of the HWIO filter, accumulated
//! into an output of `wp` pixels per row; the `kw - 1` extra columns of each row and
//! the `kh - 1` extra rows of each canvas are computed and dropped. That costs
//! `hp * wp / (out_h * out_w)` times the multiply-adds but writes no column buffer
//! (`kh * kw` times the input) and reads none back; `gemm` packs its panels straight
//! from the canvas.
//!
//! The backward-input pass is the same correlation of `dy` (placed at
//! `(kh - 1 - pad_top, kw - 1 - pad_left)`) with the filter flipped in both axes and
//! its channels swapped. The backward-filter pass is `kh` GEMMs `view^T @ dy`, with
//! `dy` laid out like the output (zeros in the dropped pixels, so they add nothing).

use crate::matmul::{GEMM_PAR_WORK, MatRef, gemm_into, parallelism_for};
use gemm::Parallelism;
use std::cell::Cell;
use std::mem::MaybeUninit;
use tensor::{Conv2dGeom, Result};

/// What runs over each block of whole output pixels as soon as a convolution has
/// written it (while it is in cache): the bias and activation of `conv2d_bias_act`.
pub(crate) type Epilogue<'a> = &'a (dyn Fn(&mut [f32]) + Sync);

/// Channels (in and out) below which im2col stays: a GEMM this thin gains nothing.
const MIN_CHANNELS: usize = 8;
/// The extra multiply-adds worth paying, as `(canvas pixels / output pixels - 1) *
/// output channels`. im2col's cost relative to the GEMM falls as the output channels
/// grow, the dropped pixels' does not. Measured (criterion, before/after alternated
/// in the same minutes): 32x32x32x32 3x3 VALID (1.15 canvas / output, 32 channels:
/// 4.8) 25% faster in all three passes; 50x14x14x64 3x3 SAME -> 128 (1.31, 128
/// channels: 40) 20% slower forward. Raised from 12 to 20 once the canvas was no
/// longer zeroed: 32x16x16x32 SAME -> 64 (17) backward-input 1.42-1.54 -> 1.11-1.16
/// ms, forward and backward-filter unchanged; 50x28x28x64 SAME -> 128 (18.9) the
/// three passes 51.4 -> 49.4 ms.
const MAX_EXTRA_WORK: f64 = 20.0;
/// Target size of one block's canvas plus output buffer, in elements (4 MB of f32).
const BLOCK_BUDGET: usize = 1 << 20;

/// One stride-1 correlation: `n` images `h x w x c`, placed with their top-left
/// pixel at canvas position `(top, left)` (negative: the rows or columns before it are
/// never read and are left out), `kh x kw` taps, `out_h x out_w x o` outputs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) n: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) c: usize,
    pub(crate) top: isize,
    pub(crate) left: isize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) out_h: usize,
    pub(crate) out_w: usize,
    pub(crate) o: usize,
}

impl Plan {
    pub(crate) fn hp(&self) -> usize {
        self.out_h + self.kh - 1
    }

    pub(crate) fn wp(&self) -> usize {
        self.out_w + self.kw - 1
    }

    pub(crate) fn canvas(&self) -> usize {
        self.hp() * self.wp()
    }

    /// Output rows (one per canvas pixel) the GEMMs compute for `images` stacked
    /// canvases: the last row is the last image's last real output pixel, so every tap
    /// of every row stays inside the stack.
    fn rows(&self, images: usize) -> usize {
        images * self.canvas() - (self.kh - 1) * self.wp() - (self.kw - 1)
    }

    fn worth_it(&self) -> bool {
        let real = self.out_h * self.out_w;
        self.c >= MIN_CHANNELS
            && self.o >= MIN_CHANNELS
            && real > 0
            && self.n > 0
            && self.kh * self.kw > 1
            && (self.canvas() as f64 / real as f64 - 1.0) * self.o as f64 <= MAX_EXTRA_WORK
    }

    fn images_per_block(&self) -> usize {
        (BLOCK_BUDGET / (self.canvas() * (self.c + self.o)).max(1)).clamp(1, self.n)
    }

    /// Contiguous image ranges, one per task: two or more when the work pays for
    /// threads (each GEMM then runs on one thread), else one whose GEMMs may thread.
    pub(crate) fn tasks(&self) -> Vec<std::ops::Range<usize>> {
        let threads = rayon::current_num_threads();
        let work = self.n * self.canvas() * self.kh * self.kw * self.c * self.o;
        let tasks = if threads > 1 && self.n > 1 && work >= GEMM_PAR_WORK {
            threads.min(self.n)
        } else {
            1
        };
        (0..tasks)
            .map(|t| t * self.n / tasks..(t + 1) * self.n / tasks)
            .collect()
    }

    /// Writes images `first .. first + count` of `x` into the stacked canvases `xp`,
    /// padding zeros included: `xp` may hold anything before (a kept scratch buffer is
    /// not zeroed first, and a VALID convolution's canvas has no padding at all).
    pub(crate) fn fill_canvases(&self, x: &[f32], first: usize, count: usize, xp: &mut [f32]) {
        let (wp, c) = (self.wp(), self.c);
        let ix0 = (-self.left).max(0) as usize;
        let ix1 = (wp as isize - self.left).clamp(0, self.w as isize) as usize;
        // The canvas columns the image's columns ix0..ix1 land on (none if ix0 >= ix1).
        let (px0, px1) = if ix0 < ix1 {
            let px0 = (ix0 as isize + self.left) as usize;
            (px0, px0 + ix1 - ix0)
        } else {
            (0, 0)
        };
        for img in 0..count {
            let image = &x[(first + img) * self.h * self.w * c..][..self.h * self.w * c];
            let canvas = &mut xp[img * self.canvas() * c..][..self.canvas() * c];
            for (py, row) in canvas.chunks_exact_mut(wp * c).enumerate() {
                let iy = py as isize - self.top;
                if px0 == px1 || iy < 0 || iy >= self.h as isize {
                    row.fill(0.0);
                    continue;
                }
                let iy = iy as usize;
                row[..px0 * c].fill(0.0);
                row[px0 * c..px1 * c]
                    .copy_from_slice(&image[(iy * self.w + ix0) * c..(iy * self.w + ix1) * c]);
                row[px1 * c..].fill(0.0);
            }
        }
    }

    /// The view of tap row `ky`: `rows` x `kw * c`, row stride `c`.
    fn tap_rows<'a>(&self, xp: &'a [f32], ky: usize) -> MatRef<'a> {
        MatRef {
            data: &xp[ky * self.wp() * self.c..],
            rs: self.c,
            cs: 1,
        }
    }

    /// `out` `[n, out_h, out_w, o]` = the correlation of `x` with `filter`
    /// `[kh, kw, c, o]`; every element of `out` is written, and `epilogue` then runs
    /// over each block of whole images.
    fn correlate(
        &self,
        x: &[f32],
        filter: &[f32],
        out: &mut [MaybeUninit<f32>],
        epilogue: Epilogue,
    ) {
        let tasks = self.tasks();
        let threaded = tasks.len() > 1;
        let per_image = self.out_h * self.out_w * self.o;
        let run = |images: std::ops::Range<usize>, out: &mut [MaybeUninit<f32>]| {
            let per_block = self.images_per_block();
            with_scratch(&CANVAS, per_block * self.canvas() * self.c, |xp| {
                with_scratch(&OUTPUT, self.rows(per_block) * self.o, |ext| {
                    let mut first = images.start;
                    for out_block in out.chunks_mut(per_block * per_image) {
                        let count = out_block.len() / per_image;
                        let rows = self.rows(count);
                        self.fill_canvases(x, first, count, xp);
                        let k = self.kw * self.c;
                        let par = if threaded {
                            Parallelism::None
                        } else {
                            parallelism_for(rows, self.o, k)
                        };
                        for ky in 0..self.kh {
                            gemm_into(
                                ext,
                                rows,
                                self.o,
                                k,
                                self.tap_rows(xp, ky),
                                MatRef::row_major(&filter[ky * k * self.o..], self.o, false),
                                ky > 0,
                                par,
                            );
                        }
                        self.keep_real_pixels(ext, out_block);
                        // SAFETY: `keep_real_pixels` wrote every element of the block.
                        let block = unsafe { crate::alloc::assume_written(out_block) };
                        epilogue(block);
                        first += count;
                    }
                })
            })
        };
        let lens: Vec<usize> = tasks.iter().map(|r| r.len() * per_image).collect();
        crate::tasks::for_each_piece(out, &lens, |t, piece| run(tasks[t].clone(), piece));
    }

    /// Copies the real output pixels of the canvas-shaped `ext` into `out` (whole
    /// images), writing every element of `out`.
    fn keep_real_pixels(&self, ext: &[f32], out: &mut [MaybeUninit<f32>]) {
        let (o, wp, row) = (self.o, self.wp(), self.out_w * self.o);
        for (i, dst) in out.chunks_exact_mut(row).enumerate() {
            let (img, oy) = (i / self.out_h, i % self.out_h);
            let p = img * self.canvas() + oy * wp;
            for (d, &v) in dst.iter_mut().zip(&ext[p * o..p * o + row]) {
                d.write(v);
            }
        }
    }

    /// The filter gradient `[kh, kw, c, o]` of the correlation, given `x` and the
    /// output gradient `dy` `[n, out_h, out_w, o]`.
    fn filter_gradient(&self, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let k = self.kw * self.c;
        let len = self.kh * k * self.o;
        let tasks = self.tasks();
        let threaded = tasks.len() > 1;
        let per_image = self.out_h * self.out_w * self.o;
        let run = |images: std::ops::Range<usize>| {
            let mut dw = vec![0.0; len];
            let per_block = self.images_per_block();
            with_scratch(&CANVAS, per_block * self.canvas() * self.c, |xp| {
                with_scratch(&OUTPUT, self.rows(per_block) * self.o, |ext| {
                    let mut first = images.start;
                    while first < images.end {
                        let count = per_block.min(images.end - first);
                        let rows = self.rows(count);
                        self.fill_canvases(x, first, count, xp);
                        let dy_block = &dy[first * per_image..(first + count) * per_image];
                        self.spread_real_pixels(dy_block, count, ext);
                        let par = if threaded {
                            Parallelism::None
                        } else {
                            parallelism_for(k, self.o, rows)
                        };
                        for (ky, dw_ky) in dw.chunks_exact_mut(k * self.o).enumerate() {
                            let view = self.tap_rows(xp, ky);
                            gemm_into(
                                dw_ky,
                                k,
                                self.o,
                                rows,
                                MatRef {
                                    data: view.data,
                                    rs: 1,
                                    cs: self.c,
                                },
                                MatRef::row_major(ext, self.o, false),
                                true,
                                par,
                            );
                        }
                        first += count;
                    }
                })
            });
            dw
        };
        if !threaded {
            return run(0..self.n);
        }
        // One partial sum per task, added in task order: no dependence on scheduling.
        crate::tasks::sum_in_task_order(tasks.len(), len, |t| run(tasks[t].clone()))
    }

    /// Writes `dy` (`count` whole output images) into the first `rows(count)` rows of
    /// the canvas-shaped `ext`, zeros in the dropped pixels (so they add nothing).
    fn spread_real_pixels(&self, dy: &[f32], count: usize, ext: &mut [f32]) {
        let (o, hp, row) = (self.o, self.hp(), self.out_w * self.o);
        let ext = &mut ext[..self.rows(count) * o];
        for (r, dst) in ext.chunks_mut(self.wp() * o).enumerate() {
            let (img, py) = (r / hp, r % hp);
            let real = if py < self.out_h {
                let src = &dy[(img * self.out_h + py) * row..][..row];
                let n = row.min(dst.len());
                dst[..n].copy_from_slice(&src[..n]);
                n
            } else {
                0
            };
            dst[real..].fill(0.0);
        }
    }
}

thread_local! {
    static CANVAS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static OUTPUT: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on `len` elements of a buffer this thread keeps between calls, holding
/// whatever an earlier call left there: every user writes what it reads.
fn with_scratch<R>(
    slot: &'static std::thread::LocalKey<Cell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    crate::alloc::with_kept(slot, |buf| {
        buf.resize(len, 0.0);
        f(&mut buf[..len])
    })
}

/// The forward correlation of a stride-1 geometry, worth it or not.
pub(crate) fn forward_plan(g: &Conv2dGeom) -> Option<Plan> {
    (g.stride_h == 1 && g.stride_w == 1).then_some(Plan {
        n: g.n,
        h: g.h,
        w: g.w,
        c: g.c,
        top: g.pad_top as isize,
        left: g.pad_left as isize,
        kh: g.kh,
        kw: g.kw,
        out_h: g.out_h,
        out_w: g.out_w,
        o: g.o,
    })
}

/// The correlation of `dy` with the flipped filter that gives `dx`.
pub(crate) fn backward_input_plan(g: &Conv2dGeom) -> Plan {
    Plan {
        n: g.n,
        h: g.out_h,
        w: g.out_w,
        c: g.o,
        top: g.kh as isize - 1 - g.pad_top as isize,
        left: g.kw as isize - 1 - g.pad_left as isize,
        kh: g.kh,
        kw: g.kw,
        out_h: g.h,
        out_w: g.w,
        o: g.c,
    }
}

/// `w` `[kh, kw, c, o]` flipped in both axes with its channels swapped:
/// `flipped[a][b][co][ci] = w[kh-1-a][kw-1-b][ci][co]`.
pub(crate) fn flip_filter(w: &[f32], g: &Conv2dGeom) -> Vec<f32> {
    let (kh, kw, c, o) = (g.kh, g.kw, g.c, g.o);
    let mut flipped = vec![0.0; w.len()];
    for a in 0..kh {
        for b in 0..kw {
            let src = &w[((kh - 1 - a) * kw + (kw - 1 - b)) * c * o..][..c * o];
            let dst = &mut flipped[(a * kw + b) * o * c..][..o * c];
            for ci in 0..c {
                for co in 0..o {
                    dst[co * c + ci] = src[ci * o + co];
                }
            }
        }
    }
    flipped
}

/// The forward pass `[n, out_h, out_w, o]`, with `epilogue` run over each block of
/// it, when this geometry takes the shifted path (lengths checked).
pub(crate) fn conv2d(
    x: &[f32],
    w: &[f32],
    g: &Conv2dGeom,
    epilogue: Epilogue,
) -> Option<Result<Vec<f32>>> {
    let plan = forward_plan(g).filter(Plan::worth_it)?;
    let len = g.n * g.out_h * g.out_w * g.o;
    // SAFETY: `correlate` writes every element of its output.
    Some(unsafe { crate::alloc::written("conv2d", len, |out| plan.correlate(x, w, out, epilogue)) })
}

/// The backward-input pass `[n, h, w, c]`, when this geometry takes the shifted path.
pub(crate) fn conv2d_backward_input(
    dy: &[f32],
    w: &[f32],
    g: &Conv2dGeom,
) -> Option<Result<Vec<f32>>> {
    let plan = backward_input_plan(g);
    if !forward_plan(g).is_some_and(|p| p.worth_it()) || !plan.worth_it() {
        return None;
    }
    let filter = flip_filter(w, g);
    // SAFETY: `correlate` writes every element of its output.
    Some(unsafe {
        crate::alloc::written("conv2d_backward_input", g.n * g.h * g.w * g.c, |dx| {
            plan.correlate(dy, &filter, dx, &|_| {})
        })
    })
}

/// The backward-filter pass, when this geometry takes the shifted path.
pub(crate) fn conv2d_backward_filter(x: &[f32], dy: &[f32], g: &Conv2dGeom) -> Option<Vec<f32>> {
    forward_plan(g)
        .filter(Plan::worth_it)
        .map(|plan| plan.filter_gradient(x, dy))
}

/// All three passes through the canvas path whatever the cost rule says, for the
/// tests that compare it with im2col on the shapes the rule leaves to im2col:
/// `(y, dx, dw)`, or `None` when the stride is not 1.
#[cfg(test)]
pub(crate) fn forced(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    g: &Conv2dGeom,
) -> Option<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let plan = forward_plan(g)?;
    // SAFETY: `correlate` writes every element of its output.
    let (y, dx) = unsafe {
        let y = crate::alloc::written("test", dy.len(), |y| plan.correlate(x, w, y, &|_| {}));
        let dx = crate::alloc::written("test", x.len(), |dx| {
            backward_input_plan(g).correlate(dy, &flip_filter(w, g), dx, &|_| {})
        });
        (y.unwrap(), dx.unwrap())
    };
    Some((y, dx, plan.filter_gradient(x, dy)))
}

/// Whether the cost rule sends this geometry's forward pass to the canvas path.
#[cfg(test)]
pub(crate) fn takes_forward(g: &Conv2dGeom) -> bool {
    forward_plan(g).is_some_and(|p| p.worth_it())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(n: usize, hw: usize, k: usize, pad: isize) -> Plan {
        let out = (hw as isize + 2 * pad - k as isize + 1) as usize;
        Plan {
            n,
            h: hw,
            w: hw,
            c: 8,
            top: pad,
            left: pad,
            kh: k,
            kw: k,
            out_h: out,
            out_w: out,
            o: 8,
        }
    }

    #[test]
    fn the_last_row_is_the_last_real_pixel() {
        for (n, hw, k, pad) in [(1, 5, 3, 1), (3, 14, 3, 1), (2, 15, 3, 0), (4, 7, 5, 2)] {
            let p = plan(n, hw, k, pad);
            let last = (n - 1) * p.canvas() + (p.out_h - 1) * p.wp() + p.out_w;
            assert_eq!(p.rows(n), last, "{p:?}");
        }
    }

    #[test]
    fn canvases_hold_the_image_inside_zeros() {
        // One 2x2 single-pixel-channel image (8 channels, channel 0 set), 3x3 SAME:
        // a 4x4 canvas with the image at (1, 1).
        let p = plan(1, 2, 3, 1);
        let mut x = vec![0.0; 4 * 8];
        for (i, v) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
            x[i * 8] = v;
        }
        // NaN before: the padding zeros are written, not assumed.
        let mut xp = vec![f32::NAN; p.canvas() * 8];
        p.fill_canvases(&x, 0, 1, &mut xp);
        let channel0: Vec<f32> = xp.chunks(8).map(|px| px[0]).collect();
        #[rustfmt::skip]
        assert_eq!(channel0, [
            0., 0., 0., 0.,
            0., 1., 2., 0.,
            0., 3., 4., 0.,
            0., 0., 0., 0.,
        ]);
        // Placed at (-1, -1): only the pixel (1, 1) is inside a 1x1-output 1x1-tap canvas.
        let p = Plan {
            top: -1,
            left: -1,
            kh: 1,
            kw: 1,
            out_h: 1,
            out_w: 1,
            ..plan(1, 2, 3, 1)
        };
        let mut xp = vec![0.0; 8];
        p.fill_canvases(&x, 0, 1, &mut xp);
        assert_eq!(xp[0], 4.0);
    }
}
