//! Stride-1 convolutions computed straight from a zero-padded canvas by a register-tiled
//! kernel, compiled for AVX-512 and for AVX2 with FMA (the other paths stay for CPUs
//! with neither).
//!
//! Each image is copied into a canvas with its padding (`conv_shifted::Plan`). An
//! output tile is `mr <= mr_max` adjacent pixels of one output row by one panel of
//! `nr` output channels (two vectors: 32 channels in 16-lane AVX-512 registers, 16 in
//! 8-lane AVX2 ones), held in `2 * mr` registers while the whole
//! reduction runs: for each tap row `ky`, the `kw * c` values of a pixel's window row
//! are adjacent in the canvas, so the reduction is `kh` runs of `kw * c` steps, each
//! step one broadcast per pixel and two filter vectors. Against im2col + GEMM this
//! writes no column buffer and packs nothing but the filter (once a call); against the
//! canvas path (`conv_shifted`) it computes no dropped pixels. The filter is packed
//! into panels of `nr` output channels, zero-padded past `o`.
//!
//! The backward-input pass is the same correlation of `dy` with the flipped filter
//! (`conv_shifted::backward_input_plan`). Each output element is one tile's sum in a
//! fixed order, whatever the threads do.

use crate::conv_shifted::{Epilogue, Plan};
use crate::tile::{Isa, Tile, kernel_dispatch, mask8, pack_panels, pack_panels_into};
use std::cell::Cell;
use std::mem::MaybeUninit;
use tensor::{Conv2dGeom, Result};

/// Fewest input and output channels the kernel takes (below, its loops are too short
/// to pay for the canvas; the other paths handle those layers).
const MIN_CHANNELS: usize = 8;
/// Output pixels the filter gradient reduces in one sweep over its tiles (whole
/// rows), by kernel: their `dy` and canvas rows stay in cache while every tile reads
/// them, and each sweep reads and writes the whole gradient once (3.2 MiB for acgan's
/// 5x5 256 -> 128, past L2). AVX-512, on the Xeon, against 128: 512 ran acgan G's
/// filter gradient 11% faster, 50x28x28x64->128's 9%, none slower; 1024 within noise of
/// 512, 4096 slower. AVX2, on Zen 2 (before `dy` was packed): 48 ran 15-25% slower
/// than 128 and 256 within noise.
fn chunk_pixels(isa: Isa) -> usize {
    match isa {
        Isa::Avx512 => 512,
        Isa::Avx2 => 128,
    }
}

thread_local! {
    static CANVAS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    /// Set by tests: `Some(None)` runs the other paths, `Some(Some(isa))` that kernel.
    static FORCED: Cell<Option<Option<Isa>>> = const { Cell::new(None) };
}

/// The kernel this thread runs, if any.
pub(crate) fn available() -> Option<Isa> {
    FORCED.with(Cell::get).unwrap_or_else(Isa::best)
}

/// The kernel for `plan` on this CPU, if it suits one.
fn takes(plan: &Plan) -> Option<Isa> {
    available().filter(|_| {
        plan.c >= MIN_CHANNELS
            && plan.o >= MIN_CHANNELS
            && plan.kh * plan.kw > 1
            && plan.n > 0
            && plan.out_h * plan.out_w > 0
    })
}

/// Runs `f` on this thread with the kernel `isa` (one this CPU runs), or with the
/// kernel switched off when `None` (the tests' way to reach the other paths).
#[cfg(test)]
pub(crate) fn forced<R>(isa: Option<Isa>, f: impl FnOnce() -> R) -> R {
    assert!(isa.is_none_or(|i| Isa::runnable().contains(&i)), "{isa:?}");
    FORCED.with(|d| d.set(Some(isa)));
    let r = f();
    FORCED.with(|d| d.set(None));
    r
}

/// Runs `f` with the kernel switched off on this thread.
#[cfg(test)]
pub(crate) fn without<R>(f: impl FnOnce() -> R) -> R {
    forced(None, f)
}

/// Whether the forward pass of `g` takes this path on this CPU.
#[cfg(test)]
pub(crate) fn takes_forward(g: &Conv2dGeom) -> bool {
    crate::conv_shifted::forward_plan(g).is_some_and(|p| takes(&p).is_some())
}

impl Plan {
    /// `out` `[n, out_h, out_w, o]` = the correlation of `x` with the packed filter;
    /// every element is written, and `epilogue` then runs over each image's output.
    fn direct(
        &self,
        isa: Isa,
        x: &[f32],
        panels: &[f32],
        out: &mut [MaybeUninit<f32>],
        epilogue: Epilogue,
    ) {
        let tasks = self.tasks();
        let per_image = self.out_h * self.out_w * self.o;
        let run = |images: std::ops::Range<usize>, out: &mut [MaybeUninit<f32>]| {
            crate::alloc::with_kept(&CANVAS, |canvas| {
                canvas.resize(self.canvas() * self.c, 0.0);
                for (img, dst) in images.zip(out.chunks_exact_mut(per_image)) {
                    self.fill_canvases(x, img, 1, canvas);
                    // SAFETY: the CPU runs `isa` (`takes`); the canvas holds a whole
                    // padded image, `panels` every panel of `kh * kw * c` rows, and
                    // `dst` one output image.
                    unsafe { self.image(isa, canvas, panels, dst) };
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
    ///
    /// # Safety
    /// The CPU runs `isa`.
    unsafe fn image(&self, isa: Isa, canvas: &[f32], panels: &[f32], out: &mut [MaybeUninit<f32>]) {
        let (c, o, wp) = (self.c, self.o, self.wp());
        let (nr, mr_max) = (isa.nr(), isa.mr_max());
        let kdim = self.kh * self.kw * c;
        assert!(canvas.len() >= self.canvas() * c);
        assert_eq!(out.len(), self.out_h * self.out_w * o);
        assert_eq!(panels.len(), o.div_ceil(nr) * kdim * nr);
        let tiles = self.out_w.div_ceil(mr_max);
        let src = canvas.as_ptr();
        let dst = out.as_mut_ptr().cast::<f32>();
        for (p, panel) in panels.chunks_exact(kdim * nr).enumerate() {
            let cols = nr.min(o - p * nr);
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
                        dst: dst.wrapping_add((y * self.out_w + x0) * o + p * nr),
                        dst_pixel: o,
                        cols,
                        accumulate: false,
                        source: std::ptr::null(),
                        source_row: 0,
                    };
                    // SAFETY: the tile's reads stay in the canvas (its last pixel's
                    // last tap is inside the padded image) and in the panel; its
                    // writes in this panel's channels of pixels x0..x1 of row y; the
                    // CPU runs `isa` (caller).
                    unsafe { tile.run(isa, x1 - x0) };
                }
            }
        }
    }
}

impl Plan {
    /// The filter gradient `[kh, kw, c, o]` over images `images`: for each tap row
    /// `ky`, `dw[ky][j][o] = sum over pixels p of canvas[p + ky * wp][j] * dy[p][o]`,
    /// `j` running over the window row's `kw * c` adjacent values; a tile of `mr`
    /// consecutive `j` by one panel of `nr` channels is reduced over an image's pixels
    /// in registers and added onto `dw`.
    fn filter_direct(
        &self,
        isa: Isa,
        x: &[f32],
        dy: &[f32],
        images: std::ops::Range<usize>,
    ) -> Vec<f32> {
        let run = self.kw * self.c;
        let mut dw = vec![0.0; self.kh * run * self.o];
        let mut dy_packed = Vec::new();
        let per_image = self.out_h * self.out_w * self.o;
        crate::alloc::with_kept(&CANVAS, |canvas| {
            canvas.resize(self.canvas() * self.c, 0.0);
            for img in images {
                self.fill_canvases(x, img, 1, canvas);
                let dy = &dy[img * per_image..][..per_image];
                // SAFETY: the CPU runs `isa` (`takes`); the canvas holds a whole
                // padded image, `dy` one output image, `dw` the whole gradient.
                unsafe { self.filter_image(isa, canvas, dy, &mut dy_packed, &mut dw) };
            }
        });
        dw
    }

    /// # Safety
    /// The CPU runs `isa`.
    unsafe fn filter_image(
        &self,
        isa: Isa,
        canvas: &[f32],
        dy: &[f32],
        dy_packed: &mut Vec<f32>,
        dw: &mut [f32],
    ) {
        let (c, o, wp) = (self.c, self.o, self.wp());
        let (nr, mr_max) = (isa.nr(), isa.mr_max());
        let run = self.kw * c;
        assert!(canvas.len() >= self.canvas() * c);
        assert_eq!(dy.len(), self.out_h * self.out_w * o);
        assert_eq!(dw.len(), self.kh * run * o);
        let tiles = run.div_ceil(mr_max);
        let panels = o.div_ceil(nr);
        let rows = chunk_pixels(isa).div_ceil(self.out_w).min(self.out_h);
        // A chunk's `dy`, panel by panel (zeros past `o`): read in address order, where
        // in place a panel's rows lie at a stride of `o` floats (a power of two in most
        // models), which puts them in a few cache sets.
        dy_packed.resize(panels * rows * self.out_w * nr, 0.0);
        for y0 in (0..self.out_h).step_by(rows) {
            let chunk = rows.min(self.out_h - y0);
            let pixels = chunk * self.out_w;
            let dy = &dy[y0 * self.out_w * o..][..pixels * o];
            pack_panels_into(dy, pixels, o, nr, dy_packed);
            // The AVX-512 build (48 KiB of L1 on Zen 5) keeps panels innermost, so
            // a tile's canvas values serve every panel; the AVX2 one (32 KiB on Zen 2)
            // keeps them outermost, so a panel's `dy` chunk stays in L1 over its tiles.
            for i in 0..self.kh * tiles * panels {
                let (ky, t, p) = match isa {
                    Isa::Avx512 => (i / (tiles * panels), i / panels % tiles, i % panels),
                    Isa::Avx2 => (i / tiles % self.kh, i % tiles, i / (self.kh * tiles)),
                };
                let j0 = t * run / tiles;
                let j1 = (t + 1) * run / tiles;
                let tile = FilterTile {
                    src: canvas[((y0 + ky) * wp) * c + j0..].as_ptr(),
                    pixel: c,
                    row: wp * c,
                    out_h: chunk,
                    out_w: self.out_w,
                    dy: dy_packed[p * pixels * nr..].as_ptr(),
                    dst: dw[(ky * run + j0) * o + p * nr..].as_mut_ptr(),
                    dst_row: o,
                    cols: nr.min(o - p * nr),
                };
                // SAFETY: the tile reads rows j0..j1 of tap row ky's window for
                // the chunk's output pixels (inside the canvas), their packed
                // `dy` of `nr` channels, and adds onto rows j0..j1 of
                // `dw`'s tap row ky, this panel's channels; the CPU runs `isa`
                // (caller).
                unsafe { tile.run(isa, j1 - j0) };
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
    /// Output pixel `q`'s `nr` channels of this panel at `q * nr`, zeros past `cols`.
    dy: *const f32,
    /// Row `j0`, this panel's first channel, of the gradient being added onto.
    dst: *mut f32,
    dst_row: usize,
    cols: usize,
}

impl FilterTile {
    kernel_dispatch!("Plan::filter_image");

    #[target_feature(enable = "avx512f")]
    unsafe fn zmm<const MR: usize>(&self) {
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
                a[1] = _mm512_maskz_loadu_ps(m1, d.wrapping_add(16));
            }
            // Four rows at a time, pixel by pixel: the walk steps one pixel and meets
            // a row's end once per four rows (each end costs its loop exit and a stride
            // the prefetchers have not seen); the rows left over, four pixels at a time.
            // A packed `dy` pixel: one panel of 32 channels, `PX` bytes.
            const NR: usize = 32;
            const PX: usize = NR * 4;
            let mut dy = self.dy;
            let quads = self.out_h / 4;
            for y in 0..quads {
                let src = self.src.add(4 * y * self.row);
                let walk = Walk {
                    next: (self.row * 4, self.out_w * PX),
                    step: (self.pixel * 4, PX),
                };
                filter_quads(&mut acc, src, dy, walk, self.out_w);
                dy = dy.add(4 * self.out_w * NR);
            }
            for y in 4 * quads..self.out_h {
                let mut src = self.src.add(y * self.row);
                let quads = self.out_w / 4;
                if quads > 0 {
                    let walk = Walk {
                        next: (self.pixel * 4, PX),
                        step: (self.pixel * 16, 4 * PX),
                    };
                    filter_quads(&mut acc, src, dy, walk, quads);
                    src = src.add(4 * quads * self.pixel);
                    dy = dy.add(4 * quads * NR);
                }
                for _ in 4 * quads..self.out_w {
                    let (d0, d1) = (_mm512_loadu_ps(dy), _mm512_loadu_ps(dy.add(16)));
                    for (i, a) in acc.iter_mut().enumerate() {
                        let b = _mm512_set1_ps(*src.add(i));
                        a[0] = _mm512_fmadd_ps(b, d0, a[0]);
                        a[1] = _mm512_fmadd_ps(b, d1, a[1]);
                    }
                    src = src.add(self.pixel);
                    dy = dy.add(NR);
                }
            }
            for (i, a) in acc.iter().enumerate() {
                let d = self.dst.add(i * self.dst_row);
                _mm512_mask_storeu_ps(d, m0, a[0]);
                _mm512_mask_storeu_ps(d.wrapping_add(16), m1, a[1]);
            }
        }
    }

    /// [`FilterTile::zmm`] in 8-lane registers: panels of 16 channels.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn ymm<const MR: usize>(&self) {
        use std::arch::x86_64::*;
        let lo = self.cols.min(8);
        let (m0, m1) = (mask8(lo), mask8(self.cols - lo));
        // SAFETY: as in `zmm`; masked lanes of `dst` are neither read nor written.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; MR];
            for (i, a) in acc.iter_mut().enumerate() {
                let d = self.dst.add(i * self.dst_row);
                a[0] = _mm256_maskload_ps(d, m0);
                a[1] = _mm256_maskload_ps(d.wrapping_add(8), m1);
            }
            let mut dy = self.dy;
            for y in 0..self.out_h {
                let mut src = self.src.add(y * self.row);
                for _ in 0..self.out_w {
                    let (d0, d1) = (_mm256_loadu_ps(dy), _mm256_loadu_ps(dy.add(8)));
                    for (i, a) in acc.iter_mut().enumerate() {
                        let b = _mm256_set1_ps(*src.add(i));
                        a[0] = _mm256_fmadd_ps(b, d0, a[0]);
                        a[1] = _mm256_fmadd_ps(b, d1, a[1]);
                    }
                    src = src.add(self.pixel);
                    dy = dy.add(16);
                }
            }
            for (i, a) in acc.iter().enumerate() {
                let d = self.dst.add(i * self.dst_row);
                _mm256_maskstore_ps(d, m0, a[0]);
                _mm256_maskstore_ps(d.wrapping_add(8), m1, a[1]);
            }
        }
    }
}

/// Where [`filter_quads`] finds its four pixels, in bytes: pixel `k < 4` of a step at
/// `k * next.0` into the canvas and `k * next.1` into the packed `dy`, each step
/// `step` on from the last.
struct Walk {
    next: (usize, usize),
    step: (usize, usize),
}

/// `steps` steps of four output pixels of [`FilterTile::zmm`] in assembly, in the same
/// order as the intrinsics: per pixel two packed `dy` vectors and, per row `i`, one
/// broadcast and two multiply-adds; the pixels of a step are reached by index
/// registers, every row by displacement (see `tile::zmm_quads` for why).
///
/// # Safety
/// AVX-512F; `src` holds `MR <= 14` values and `dy` 32 at each of the walk's pixels;
/// `steps > 0`.
#[target_feature(enable = "avx512f")]
unsafe fn filter_quads<const MR: usize>(
    acc: &mut [[std::arch::x86_64::__m512; 2]; MR],
    src: *const f32,
    dy: *const f32,
    walk: Walk,
    steps: usize,
) {
    debug_assert!(steps > 0 && MR <= 14);
    let ((s1, d1), (ss, sd)) = (walk.next, walk.step);
    let (s3, d3) = (3 * s1, 3 * d1);
    // SAFETY: the caller's.
    unsafe {
        crate::tile::zmm_widths!(filter_loop, MR, acc, src, s1, d1, s3, d3, ss, sd, dy, steps; [];
            1 [0 " + 0" "zmm0" "zmm1" "zmm30"]
            2 [1 " + 4" "zmm2" "zmm3" "zmm31"]
            3 [2 " + 8" "zmm4" "zmm5" "zmm30"]
            4 [3 " + 12" "zmm6" "zmm7" "zmm31"]
            5 [4 " + 16" "zmm8" "zmm9" "zmm30"]
            6 [5 " + 20" "zmm10" "zmm11" "zmm31"]
            7 [6 " + 24" "zmm12" "zmm13" "zmm30"]
            8 [7 " + 28" "zmm14" "zmm15" "zmm31"]
            9 [8 " + 32" "zmm16" "zmm17" "zmm30"]
            10 [9 " + 36" "zmm18" "zmm19" "zmm31"]
            11 [10 " + 40" "zmm20" "zmm21" "zmm30"]
            12 [11 " + 44" "zmm22" "zmm23" "zmm31"]
            13 [12 " + 48" "zmm24" "zmm25" "zmm30"]
            14 [13 " + 52" "zmm26" "zmm27" "zmm31"]
        );
    }
}

/// The template of [`filter_quads`] for the listed rows (index, byte offset in a
/// pixel, two accumulators, broadcast register): pixel `k` of a step at `{s1}`, `{s1}
/// * 2` and `{s3}` into the canvas, its `dy` as far on by `{d1}`, `{d1} * 2`, `{d3}`.
macro_rules! filter_loop {
    ($acc:ident, $src:ident, $s1:ident, $d1:ident, $s3:ident, $d3:ident, $ss:ident,
     $sd:ident, $dy:ident, $steps:ident; $([$i:tt $off:tt $a0:tt $a1:tt $b:tt])*) => {
        std::arch::asm!(
            "2:",
            crate::tile::fma_step!("{dy}", "", " + 64", ""; $([$i "{src}" $off $a0 $a1 $b])*),
            crate::tile::fma_step!("{dy}", " + {d1}", " + {d1} + 64", " + {s1}";
                $([$i "{src}" $off $a0 $a1 $b])*),
            crate::tile::fma_step!("{dy}", " + {d1}*2", " + {d1}*2 + 64", " + {s1}*2";
                $([$i "{src}" $off $a0 $a1 $b])*),
            crate::tile::fma_step!("{dy}", " + {d3}", " + {d3} + 64", " + {s3}";
                $([$i "{src}" $off $a0 $a1 $b])*),
            "add {src}, {ss}",
            "add {dy}, {sd}",
            "dec {n}",
            "jnz 2b",
            src = inout(reg) $src => _,
            s1 = in(reg) $s1,
            d1 = in(reg) $d1,
            s3 = in(reg) $s3,
            d3 = in(reg) $d3,
            ss = in(reg) $ss,
            sd = in(reg) $sd,
            dy = inout(reg) $dy => _,
            n = inout(reg) $steps => _,
            $(inout($a0) $acc[$i][0], inout($a1) $acc[$i][1],)*
            out("zmm28") _,
            out("zmm29") _,
            out("zmm30") _,
            out("zmm31") _,
            options(nostack, readonly),
        )
    };
}

use filter_loop;

/// The backward-filter pass through the kernel, when this CPU and geometry take it.
pub(crate) fn conv2d_backward_filter(x: &[f32], dy: &[f32], g: &Conv2dGeom) -> Option<Vec<f32>> {
    let plan = crate::conv_shifted::forward_plan(g)?;
    let isa = takes(&plan)?;
    let tasks = plan.tasks();
    if tasks.len() == 1 {
        return Some(plan.filter_direct(isa, x, dy, 0..g.n));
    }
    // One partial sum per task, added in task order: no dependence on scheduling.
    let len = g.kh * g.kw * g.c * g.o;
    Some(crate::tasks::sum_in_task_order(tasks.len(), len, |t| {
        plan.filter_direct(isa, x, dy, tasks[t].clone())
    }))
}

/// The forward pass through the kernel, when this CPU and geometry take it.
pub(crate) fn conv2d(
    x: &[f32],
    w: &[f32],
    g: &Conv2dGeom,
    epilogue: Epilogue,
) -> Option<Result<Vec<f32>>> {
    let plan = crate::conv_shifted::forward_plan(g)?;
    let isa = takes(&plan)?;
    let panels = pack_panels(w, g.kh * g.kw * g.c, g.o, isa.nr());
    let len = g.n * g.out_h * g.out_w * g.o;
    // SAFETY: `direct` writes every element of its output.
    Some(unsafe {
        crate::alloc::written("conv2d", len, |out| {
            plan.direct(isa, x, &panels, out, epilogue)
        })
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
    let isa = takes(&plan)?;
    let flipped = crate::conv_shifted::flip_filter(w, g);
    let panels = pack_panels(&flipped, g.kh * g.kw * g.o, g.c, isa.nr());
    // SAFETY: `direct` writes every element of its output.
    Some(unsafe {
        crate::alloc::written("conv2d_backward_input", g.n * g.h * g.w * g.c, |dx| {
            plan.direct(isa, dy, &panels, dx, &|_| {})
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every width of every filter-gradient kernel this CPU runs, over rows of an odd
    /// and an even number of pixels (the assembly takes pairs), full and partial
    /// panels, against a sum in f64 added onto what `dst` held.
    #[test]
    fn filter_tiles_of_every_width_match_the_sum() {
        let value = |v: usize| ((v * 29 + 7) % 19) as f32 / 8.0 - 1.1;
        crate::tile::testing::every_width(|isa, mr| {
            let nr = isa.nr();
            // Heights with and without whole groups of four rows, rows with and
            // without whole groups of four pixels.
            for (out_h, out_w) in [(1, 1), (2, 7), (3, 4), (4, 1), (4, 6), (9, 3), (9, 9)] {
                for cols in [nr, nr - 5] {
                    let pixel = mr + 2;
                    let row = (out_w + 1) * pixel;
                    let src: Vec<f32> = (0..out_h * row).map(value).collect();
                    let dy: Vec<f32> = (0..out_h * out_w * nr)
                        .map(|v| if v % nr < cols { value(v + 3) } else { 0.0 })
                        .collect();
                    let dst_row = nr + 4;
                    let before: Vec<f32> = (0..mr * dst_row).map(|v| value(v + 5)).collect();
                    let mut dst = before.clone();
                    let tile = FilterTile {
                        src: src.as_ptr(),
                        pixel,
                        row,
                        out_h,
                        out_w,
                        dy: dy.as_ptr(),
                        dst: dst.as_mut_ptr(),
                        dst_row,
                        cols,
                    };
                    // SAFETY: the CPU runs `isa`; the buffers hold the extents.
                    unsafe { tile.run(isa, mr) };
                    for i in 0..mr {
                        for ch in 0..dst_row {
                            let got = dst[i * dst_row + ch];
                            let mut want = before[i * dst_row + ch] as f64;
                            if ch < cols {
                                for y in 0..out_h {
                                    for x in 0..out_w {
                                        want += src[y * row + x * pixel + i] as f64
                                            * dy[(y * out_w + x) * nr + ch] as f64;
                                    }
                                }
                            }
                            crate::tile::testing::assert_near(got, want, || {
                                format!("{isa:?} width {mr} {out_h}x{out_w} row {i} channel {ch}")
                            });
                        }
                    }
                }
            }
        });
    }
}
