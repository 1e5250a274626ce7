//! Stride-1 convolutions computed straight from a zero-padded canvas by a register-tiled
//! AVX-512 kernel, on CPUs that have AVX-512 (the other paths stay for the rest).
//!
//! Each image is copied into a canvas with its padding (`conv_shifted::Plan`). An
//! output tile is `mr <= MR_MAX` adjacent pixels of one output row by one panel of
//! `NR = 32` output channels (two vectors), held in `2 * mr` registers while the whole
//! reduction runs: for each tap row `ky`, the `kw * c` values of a pixel's window row
//! are adjacent in the canvas, so the reduction is `kh` runs of `kw * c` steps, each
//! step one broadcast per pixel and two filter vectors. Against im2col + GEMM this
//! writes no column buffer and packs nothing but the filter (once a call); against the
//! canvas path (`conv_shifted`) it computes no dropped pixels. The filter is packed
//! into panels of 32 output channels, zero-padded past `o`.
//!
//! The backward-input pass is the same correlation of `dy` with the flipped filter
//! (`conv_shifted::backward_input_plan`). Each output element is one tile's sum in a
//! fixed order, whatever the threads do.

use crate::conv_shifted::{Epilogue, Plan};
use std::cell::Cell;
use std::mem::MaybeUninit;
use tensor::{Conv2dGeom, Result};

/// Output channels per filter panel: two 16-lane vectors.
const NR: usize = 32;
/// Most pixels in one tile: `2 * MR_MAX` accumulators, two filter vectors and a
/// broadcast fit the 32 vector registers.
const MR_MAX: usize = 14;
/// Fewest input and output channels the kernel takes (below, its loops are too short
/// to pay for the canvas; the other paths handle those layers).
const MIN_CHANNELS: usize = 8;
/// Output pixels the filter gradient reduces in one sweep over its tiles (whole
/// rows): their `dy` and canvas rows stay in cache while every tile reads them.
const CHUNK_PIXELS: usize = 128;

thread_local! {
    static CANVAS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    /// Set by tests to run the other paths on a CPU that has AVX-512.
    static DISABLED: Cell<bool> = const { Cell::new(false) };
}

/// Whether this CPU runs the kernel and the plan suits it.
fn takes(plan: &Plan) -> bool {
    available()
        && plan.c >= MIN_CHANNELS
        && plan.o >= MIN_CHANNELS
        && plan.kh * plan.kw > 1
        && plan.n > 0
        && plan.out_h * plan.out_w > 0
}

pub(crate) fn available() -> bool {
    crate::simd::detected() == crate::simd::Level::Avx512 && !DISABLED.with(Cell::get)
}

/// Runs `f` with the kernel switched off on this thread (the tests' way to reach the
/// other paths on an AVX-512 CPU).
#[cfg(test)]
pub(crate) fn without<R>(f: impl FnOnce() -> R) -> R {
    DISABLED.with(|d| d.set(true));
    let r = f();
    DISABLED.with(|d| d.set(false));
    r
}

/// Whether the forward pass of `g` takes this path on this CPU.
#[cfg(test)]
pub(crate) fn takes_forward(g: &Conv2dGeom) -> bool {
    crate::conv_shifted::forward_plan(g).is_some_and(|p| takes(&p))
}

/// `w` `[kdim, o]` as panels of `NR` output channels: panel `p` holds, for each `k`,
/// `w[k][p * NR ..][..NR]`, zeros past `o`.
fn pack_panels(w: &[f32], kdim: usize, o: usize) -> Vec<f32> {
    let panels = o.div_ceil(NR);
    let mut packed = vec![0.0; panels * kdim * NR];
    for (p, panel) in packed.chunks_exact_mut(kdim * NR).enumerate() {
        let cols = NR.min(o - p * NR);
        for (k, dst) in panel.chunks_exact_mut(NR).enumerate() {
            dst[..cols].copy_from_slice(&w[k * o + p * NR..][..cols]);
        }
    }
    packed
}

impl Plan {
    /// `out` `[n, out_h, out_w, o]` = the correlation of `x` with the packed filter;
    /// every element is written, and `epilogue` then runs over each image's output.
    fn direct(&self, x: &[f32], panels: &[f32], out: &mut [MaybeUninit<f32>], epilogue: Epilogue) {
        let tasks = self.tasks();
        let per_image = self.out_h * self.out_w * self.o;
        let run = |images: std::ops::Range<usize>, out: &mut [MaybeUninit<f32>]| {
            crate::alloc::with_kept(&CANVAS, |canvas| {
                canvas.resize(self.canvas() * self.c, 0.0);
                for (img, dst) in images.zip(out.chunks_exact_mut(per_image)) {
                    self.fill_canvases(x, img, 1, canvas);
                    // SAFETY: the CPU has AVX-512 (`takes`); the canvas holds a whole
                    // padded image, `panels` every panel of `kh * kw * c` rows, and
                    // `dst` one output image.
                    unsafe { self.image(canvas, panels, dst) };
                    // SAFETY: `image` wrote every element of `dst`.
                    epilogue(unsafe { crate::alloc::assume_written(dst) });
                }
            })
        };
        let lens: Vec<usize> = tasks.iter().map(|r| r.len() * per_image).collect();
        crate::tasks::for_each_piece(out, &lens, |t, piece| run(tasks[t].clone(), piece));
    }

    /// One image: every tile of every output row, panel by panel (the panel stays in
    /// cache over the image).
    #[target_feature(enable = "avx512f")]
    unsafe fn image(&self, canvas: &[f32], panels: &[f32], out: &mut [MaybeUninit<f32>]) {
        let (c, o, wp) = (self.c, self.o, self.wp());
        let kdim = self.kh * self.kw * c;
        assert!(canvas.len() >= self.canvas() * c);
        assert_eq!(out.len(), self.out_h * self.out_w * o);
        assert_eq!(panels.len(), o.div_ceil(NR) * kdim * NR);
        let tiles = self.out_w.div_ceil(MR_MAX);
        let src = canvas.as_ptr();
        let dst = out.as_mut_ptr().cast::<f32>();
        for (p, panel) in panels.chunks_exact(kdim * NR).enumerate() {
            let cols = NR.min(o - p * NR);
            for y in 0..self.out_h {
                for t in 0..tiles {
                    // Tiles of near-equal width cover the row.
                    let x0 = t * self.out_w / tiles;
                    let x1 = (t + 1) * self.out_w / tiles;
                    let tile = Tile {
                        src: src.wrapping_add((y * wp + x0) * c),
                        pixel: c,
                        tap_row: wp * c,
                        kh: self.kh,
                        run: self.kw * c,
                        panel: panel.as_ptr(),
                        dst: dst.wrapping_add((y * self.out_w + x0) * o + p * NR),
                        dst_pixel: o,
                        cols,
                    };
                    // SAFETY: the tile's reads stay in the canvas (its last pixel's
                    // last tap is inside the padded image) and in the panel; its
                    // writes in this panel's channels of pixels x0..x1 of row y.
                    unsafe { tile.run_width(x1 - x0) };
                }
            }
        }
    }
}

/// One output tile's operands (raw pointers: the caller checked the extents).
struct Tile {
    /// The canvas pixel under the tile's first output pixel's first tap.
    src: *const f32,
    /// Canvas elements from one pixel to the next (`c`).
    pixel: usize,
    /// Canvas elements from one tap row to the next (`wp * c`).
    tap_row: usize,
    kh: usize,
    /// Reduction steps per tap row (`kw * c`).
    run: usize,
    /// `kh * run` rows of `NR` filter values.
    panel: *const f32,
    /// The first output pixel's first channel of this panel.
    dst: *mut f32,
    /// Output elements from one pixel to the next (`o`).
    dst_pixel: usize,
    /// Output channels of this panel that exist (`1..=NR`).
    cols: usize,
}

macro_rules! widths {
    ($self:ident, $mr:expr, $($w:literal)*) => {
        match $mr {
            $($w => $self.run_const::<$w>(),)*
            _ => unreachable!("tile width {} over MR_MAX", $mr),
        }
    };
}

impl Tile {
    #[target_feature(enable = "avx512f")]
    unsafe fn run_width(&self, mr: usize) {
        // SAFETY: as the caller's.
        unsafe { widths!(self, mr, 1 2 3 4 5 6 7 8 9 10 11 12 13 14) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn run_const<const MR: usize>(&self) {
        use std::arch::x86_64::*;
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        let mut w = self.panel;
        // SAFETY: the caller keeps every address below inside its buffers: `kh * run`
        // panel rows, and canvas reads up to the last pixel's last tap.
        unsafe {
            for ky in 0..self.kh {
                let row = self.src.add(ky * self.tap_row);
                for j in 0..self.run {
                    let w0 = _mm512_loadu_ps(w);
                    let w1 = _mm512_loadu_ps(w.add(16));
                    w = w.add(NR);
                    for (i, a) in acc.iter_mut().enumerate() {
                        let b = _mm512_set1_ps(*row.add(i * self.pixel + j));
                        a[0] = _mm512_fmadd_ps(b, w0, a[0]);
                        a[1] = _mm512_fmadd_ps(b, w1, a[1]);
                    }
                }
            }
            let lo = self.cols.min(16);
            let hi = self.cols - lo;
            let mask = |n: usize| ((1u32 << n) - 1) as __mmask16;
            for (i, a) in acc.iter().enumerate() {
                let d = self.dst.add(i * self.dst_pixel);
                if self.cols == NR {
                    _mm512_storeu_ps(d, a[0]);
                    _mm512_storeu_ps(d.add(16), a[1]);
                } else {
                    _mm512_mask_storeu_ps(d, mask(lo), a[0]);
                    _mm512_mask_storeu_ps(d.add(16), mask(hi), a[1]);
                }
            }
        }
    }
}

impl Plan {
    /// The filter gradient `[kh, kw, c, o]` over images `images`: for each tap row
    /// `ky`, `dw[ky][j][o] = sum over pixels p of canvas[p + ky * wp][j] * dy[p][o]`,
    /// `j` running over the window row's `kw * c` adjacent values; a tile of `mr`
    /// consecutive `j` by one panel of `NR` channels is reduced over an image's pixels
    /// in registers and added onto `dw`.
    fn filter_direct(&self, x: &[f32], dy: &[f32], images: std::ops::Range<usize>) -> Vec<f32> {
        let run = self.kw * self.c;
        let mut dw = vec![0.0; self.kh * run * self.o];
        let per_image = self.out_h * self.out_w * self.o;
        crate::alloc::with_kept(&CANVAS, |canvas| {
            canvas.resize(self.canvas() * self.c, 0.0);
            for img in images {
                self.fill_canvases(x, img, 1, canvas);
                let dy = &dy[img * per_image..][..per_image];
                // SAFETY: the CPU has AVX-512 (`takes`); the canvas holds a whole
                // padded image, `dy` one output image, `dw` the whole gradient.
                unsafe { self.filter_image(canvas, dy, &mut dw) };
            }
        });
        dw
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn filter_image(&self, canvas: &[f32], dy: &[f32], dw: &mut [f32]) {
        let (c, o, wp) = (self.c, self.o, self.wp());
        let run = self.kw * c;
        assert!(canvas.len() >= self.canvas() * c);
        assert_eq!(dy.len(), self.out_h * self.out_w * o);
        assert_eq!(dw.len(), self.kh * run * o);
        let tiles = run.div_ceil(MR_MAX);
        let rows = CHUNK_PIXELS.div_ceil(self.out_w).min(self.out_h);
        for y0 in (0..self.out_h).step_by(rows) {
            let chunk = rows.min(self.out_h - y0);
            for ky in 0..self.kh {
                for t in 0..tiles {
                    let j0 = t * run / tiles;
                    let j1 = (t + 1) * run / tiles;
                    for p in 0..o.div_ceil(NR) {
                        let tile = FilterTile {
                            src: canvas[((y0 + ky) * wp) * c + j0..].as_ptr(),
                            pixel: c,
                            row: wp * c,
                            out_h: chunk,
                            out_w: self.out_w,
                            dy: dy[y0 * self.out_w * o + p * NR..].as_ptr(),
                            dy_pixel: o,
                            dst: dw[(ky * run + j0) * o + p * NR..].as_mut_ptr(),
                            dst_row: o,
                            cols: NR.min(o - p * NR),
                        };
                        // SAFETY: the tile reads rows j0..j1 of tap row ky's window
                        // for the chunk's output pixels (inside the canvas), this
                        // panel's channels of their `dy`, and adds onto rows j0..j1
                        // of `dw`'s tap row ky.
                        unsafe { tile.run_width(j1 - j0) };
                    }
                }
            }
        }
    }
}

/// One filter-gradient tile's operands (raw pointers: the caller checked the extents).
struct FilterTile {
    /// Canvas value `j0` of the window row of output pixel (0, 0) at this tap row.
    src: *const f32,
    /// Canvas elements from one pixel to the next (`c`) and one row to the next.
    pixel: usize,
    row: usize,
    out_h: usize,
    out_w: usize,
    /// This panel's first channel of output pixel (0, 0) of `dy`.
    dy: *const f32,
    dy_pixel: usize,
    /// Row `j0`, this panel's first channel, of the gradient being added onto.
    dst: *mut f32,
    dst_row: usize,
    cols: usize,
}

impl FilterTile {
    #[target_feature(enable = "avx512f")]
    unsafe fn run_width(&self, mr: usize) {
        // SAFETY: as the caller's.
        unsafe { widths!(self, mr, 1 2 3 4 5 6 7 8 9 10 11 12 13 14) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn run_const<const MR: usize>(&self) {
        use std::arch::x86_64::*;
        let lo = self.cols.min(16);
        let hi = self.cols - lo;
        let mask = |n: usize| ((1u32 << n) - 1) as __mmask16;
        let (m0, m1) = (mask(lo), mask(hi));
        // SAFETY: the caller keeps every address below inside its buffers.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); 2]; MR];
            for (i, a) in acc.iter_mut().enumerate() {
                let d = self.dst.add(i * self.dst_row);
                a[0] = _mm512_maskz_loadu_ps(m0, d);
                a[1] = _mm512_maskz_loadu_ps(m1, d.add(16));
            }
            for y in 0..self.out_h {
                let mut src = self.src.add(y * self.row);
                let mut dy = self.dy.add(y * self.out_w * self.dy_pixel);
                for _ in 0..self.out_w {
                    let d0 = _mm512_maskz_loadu_ps(m0, dy);
                    let d1 = _mm512_maskz_loadu_ps(m1, dy.add(16));
                    for (i, a) in acc.iter_mut().enumerate() {
                        let b = _mm512_set1_ps(*src.add(i));
                        a[0] = _mm512_fmadd_ps(b, d0, a[0]);
                        a[1] = _mm512_fmadd_ps(b, d1, a[1]);
                    }
                    src = src.add(self.pixel);
                    dy = dy.add(self.dy_pixel);
                }
            }
            for (i, a) in acc.iter().enumerate() {
                let d = self.dst.add(i * self.dst_row);
                _mm512_mask_storeu_ps(d, m0, a[0]);
                _mm512_mask_storeu_ps(d.add(16), m1, a[1]);
            }
        }
    }
}

/// The backward-filter pass through the kernel, when this CPU and geometry take it.
pub(crate) fn conv2d_backward_filter(x: &[f32], dy: &[f32], g: &Conv2dGeom) -> Option<Vec<f32>> {
    let plan = crate::conv_shifted::forward_plan(g).filter(takes)?;
    let tasks = plan.tasks();
    if tasks.len() == 1 {
        return Some(plan.filter_direct(x, dy, 0..g.n));
    }
    // One partial sum per task, added in task order: no dependence on scheduling.
    let len = g.kh * g.kw * g.c * g.o;
    Some(crate::tasks::sum_in_task_order(tasks.len(), len, |t| {
        plan.filter_direct(x, dy, tasks[t].clone())
    }))
}

/// The forward pass through the kernel, when this CPU and geometry take it.
pub(crate) fn conv2d(
    x: &[f32],
    w: &[f32],
    g: &Conv2dGeom,
    epilogue: Epilogue,
) -> Option<Result<Vec<f32>>> {
    let plan = crate::conv_shifted::forward_plan(g).filter(takes)?;
    let panels = pack_panels(w, g.kh * g.kw * g.c, g.o);
    let len = g.n * g.out_h * g.out_w * g.o;
    // SAFETY: `direct` writes every element of its output.
    Some(unsafe {
        crate::alloc::written("conv2d", len, |out| plan.direct(x, &panels, out, epilogue))
    })
}

/// The backward-input pass through the kernel, when this CPU and geometry take it.
pub(crate) fn conv2d_backward_input(
    dy: &[f32],
    w: &[f32],
    g: &Conv2dGeom,
) -> Option<Result<Vec<f32>>> {
    crate::conv_shifted::forward_plan(g)?;
    let plan = crate::conv_shifted::backward_input_plan(g);
    if !takes(&plan) {
        return None;
    }
    let flipped = crate::conv_shifted::flip_filter(w, g);
    let panels = pack_panels(&flipped, g.kh * g.kw * g.o, g.c);
    // SAFETY: `direct` writes every element of its output.
    Some(unsafe {
        crate::alloc::written("conv2d_backward_input", g.n * g.h * g.w * g.c, |dx| {
            plan.direct(dy, &panels, dx, &|_| {})
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_panels_hold_32_channels_with_zeros_past_o() {
        // kdim 2, o 33: two panels; the second holds channel 32 and 31 zeros.
        let w: Vec<f32> = (0..66).map(|v| v as f32).collect();
        let p = pack_panels(&w, 2, 33);
        assert_eq!(p.len(), 2 * 2 * NR);
        assert_eq!(&p[..NR], &w[..32]);
        assert_eq!(&p[NR..2 * NR], &w[33..65]);
        assert_eq!(p[2 * NR], 32.0);
        assert_eq!(p[3 * NR], 65.0);
        assert!(p[2 * NR + 1..3 * NR].iter().all(|&v| v == 0.0));
    }
}
