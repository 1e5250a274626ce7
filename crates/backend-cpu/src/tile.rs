//! The register-tiled microkernel shared by the direct convolutions (`conv_direct`)
//! and the small-batch matrix products (`matmul`): a tile of `mr <= mr_max` rows by
//! one panel of `nr` columns (two vectors) held in `2 * mr` registers while the whole
//! reduction runs, each reduction step one broadcast per row and two panel vectors.
//! Compiled for AVX-512 and for AVX2 with FMA, chosen at run time.

/// The instruction set a kernel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// AVX-512 foundation: 32 registers of 16 lanes.
    Avx512,
    /// AVX2 with fused multiply-add: 16 registers of 8 lanes.
    Avx2,
}

impl Isa {
    /// Output channels per filter panel: two vectors.
    pub(crate) fn nr(self) -> usize {
        match self {
            Isa::Avx512 => 32,
            Isa::Avx2 => 16,
        }
    }

    /// Most pixels in one tile: `2 * mr_max` accumulators, two filter vectors and a
    /// broadcast fit the vector registers.
    pub(crate) fn mr_max(self) -> usize {
        match self {
            Isa::Avx512 => 14,
            Isa::Avx2 => 6,
        }
    }

    /// Every kernel this CPU runs (the tests run each of them).
    #[cfg(test)]
    pub(crate) fn runnable() -> Vec<Isa> {
        match Isa::best() {
            Some(Isa::Avx512) => vec![Isa::Avx512, Isa::Avx2],
            Some(Isa::Avx2) => vec![Isa::Avx2],
            None => vec![],
        }
    }

    /// The widest kernel this CPU runs.
    pub(crate) fn best() -> Option<Isa> {
        match crate::simd::detected() {
            crate::simd::Level::Avx512 => Some(Isa::Avx512),
            crate::simd::Level::Avx2 if std::arch::is_x86_feature_detected!("fma") => {
                Some(Isa::Avx2)
            }
            _ => None,
        }
    }
}

/// `w` `[kdim, o]` as panels of `nr` output channels: panel `p` holds, for each `k`,
/// `w[k][p * nr ..][..nr]`, zeros past `o`.
pub(crate) fn pack_panels(w: &[f32], kdim: usize, o: usize, nr: usize) -> Vec<f32> {
    let mut packed = vec![0.0; o.div_ceil(nr) * kdim * nr];
    pack_panels_into(w, kdim, o, nr, &mut packed);
    packed
}

/// [`pack_panels`] into the first `o.div_ceil(nr) * kdim * nr` values of `packed`,
/// every one of them written (a reused buffer needs no zeroing first).
pub(crate) fn pack_panels_into(w: &[f32], kdim: usize, o: usize, nr: usize, packed: &mut [f32]) {
    let panels = o.div_ceil(nr);
    for (p, panel) in packed.chunks_exact_mut(kdim * nr).take(panels).enumerate() {
        let cols = nr.min(o - p * nr);
        let rows = panel.chunks_exact_mut(nr).zip(w.chunks_exact(o));
        // Whole panels copy `nr` values a row, with no zeros to write.
        if cols == nr {
            rows.for_each(|(dst, src)| dst.copy_from_slice(&src[p * nr..][..nr]));
        } else {
            rows.for_each(|(dst, src)| {
                dst[..cols].copy_from_slice(&src[p * nr..][..cols]);
                dst[cols..].fill(0.0);
            });
        }
    }
}

/// One output tile's operands (raw pointers: the caller checked the extents). Named
/// for the convolution; in a matrix product (`kh = 1`) a pixel is a row of the left
/// operand and the output, a channel a column of the right operand and the output.
pub(crate) struct Tile {
    /// The canvas pixel under the tile's first output pixel's first tap.
    pub(crate) src: *const f32,
    /// Canvas elements from one pixel to the next (`c`).
    pub(crate) pixel: usize,
    /// Canvas elements from one tap row to the next (`wp * c`).
    pub(crate) tap_row: usize,
    pub(crate) kh: usize,
    /// Reduction steps per tap row (`kw * c`).
    pub(crate) run: usize,
    /// `kh * run` rows of `nr` filter values.
    pub(crate) panel: *const f32,
    /// The first output pixel's first channel of this panel.
    pub(crate) dst: *mut f32,
    /// Output elements from one pixel to the next (`o`).
    pub(crate) dst_pixel: usize,
    /// Output channels of this panel that exist (`1..=nr`).
    pub(crate) cols: usize,
    /// Whether the tile adds onto `dst` (which is then read) instead of overwriting it.
    pub(crate) accumulate: bool,
    /// When not null (and `kh == 1`), the panel is packed by this tile instead of read:
    /// its row `j` is `cols` values at `source + j * source_row` (zeros past them),
    /// written to `panel` (then writable) as the reduction uses it.
    pub(crate) source: *const f32,
    pub(crate) source_row: usize,
}

macro_rules! widths {
    ($self:ident, $kernel:ident, $mr:expr, $($w:literal)*) => {
        match $mr {
            $($w => $self.$kernel::<$w>(),)*
            _ => unreachable!("tile width {} over the kernel's most", $mr),
        }
    };
}

/// `run(isa, mr)`: a tile type's kernel for `isa` at width `mr`, from its `zmm` and
/// `ymm` kernels (one per width, `mr <= isa.mr_max()`).
macro_rules! kernel_dispatch {
    ($caller:literal) => {
        #[doc = concat!("# Safety\nThe CPU runs `isa`; the tile's extents hold (see `", $caller, "`).")]
        pub(crate) unsafe fn run(&self, isa: $crate::tile::Isa, mr: usize) {
            // SAFETY: as the caller's.
            unsafe {
                match isa {
                    $crate::tile::Isa::Avx512 => self.run_avx512(mr),
                    $crate::tile::Isa::Avx2 => self.run_avx2(mr),
                }
            }
        }

        #[target_feature(enable = "avx512f")]
        unsafe fn run_avx512(&self, mr: usize) {
            // SAFETY: as the caller's.
            unsafe { $crate::tile::widths!(self, zmm, mr, 1 2 3 4 5 6 7 8 9 10 11 12 13 14) }
        }

        #[target_feature(enable = "avx2,fma")]
        unsafe fn run_avx2(&self, mr: usize) {
            // SAFETY: as the caller's.
            unsafe { $crate::tile::widths!(self, ymm, mr, 1 2 3 4 5 6) }
        }
    };
}

pub(crate) use {kernel_dispatch, widths};

/// Lanes `0..n` of an AVX2 mask (`n <= 8`).
#[target_feature(enable = "avx2")]
pub(crate) fn mask8(n: usize) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(n as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

impl Tile {
    kernel_dispatch!("the caller");

    #[target_feature(enable = "avx512f")]
    unsafe fn zmm<const MR: usize>(&self) {
        use std::arch::x86_64::*;
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        let mut w = self.panel;
        let lo = self.cols.min(16);
        let hi = self.cols - lo;
        let mask = |n: usize| ((1u32 << n) - 1) as __mmask16;
        debug_assert!(self.source.is_null() || self.kh == 1);
        // SAFETY: the caller keeps every address below inside its buffers: `kh * run`
        // panel rows (written when `source` is set), canvas reads up to the last
        // pixel's last tap, and `source`'s `run` rows of `cols` values (masked lanes
        // are neither read nor faulted on).
        unsafe {
            let (m0, m1) = (mask(lo), mask(hi));
            if self.accumulate {
                for (i, a) in acc.iter_mut().enumerate() {
                    let d = self.dst.add(i * self.dst_pixel);
                    a[0] = _mm512_maskz_loadu_ps(m0, d);
                    a[1] = _mm512_maskz_loadu_ps(m1, d.wrapping_add(16));
                }
            }
            for ky in 0..self.kh {
                let row = self.src.add(ky * self.tap_row);
                // Steps `0..done` run in the assembly loop (which reads the packed
                // panel), the rest here.
                let done = if self.source.is_null() {
                    let quads = self.run / 4;
                    if quads > 0 {
                        zmm_quads(&mut acc, w, row, self.pixel, quads);
                        w = w.add(quads * 4 * 32);
                    }
                    quads * 4
                } else {
                    0
                };
                for j in done..self.run {
                    let (w0, w1) = if self.source.is_null() {
                        (_mm512_loadu_ps(w), _mm512_loadu_ps(w.add(16)))
                    } else {
                        let s = self.source.add(j * self.source_row);
                        let w0 = _mm512_maskz_loadu_ps(m0, s);
                        let w1 = _mm512_maskz_loadu_ps(m1, s.wrapping_add(16));
                        _mm512_storeu_ps(w.cast_mut(), w0);
                        _mm512_storeu_ps(w.cast_mut().add(16), w1);
                        (w0, w1)
                    };
                    w = w.add(32);
                    for (i, a) in acc.iter_mut().enumerate() {
                        let b = _mm512_set1_ps(*row.add(i * self.pixel + j));
                        a[0] = _mm512_fmadd_ps(b, w0, a[0]);
                        a[1] = _mm512_fmadd_ps(b, w1, a[1]);
                    }
                }
            }
            for (i, a) in acc.iter().enumerate() {
                let d = self.dst.add(i * self.dst_pixel);
                if self.cols == 32 {
                    _mm512_storeu_ps(d, a[0]);
                    _mm512_storeu_ps(d.add(16), a[1]);
                } else {
                    // Masked lanes are neither written nor faulted on; the second
                    // vector's address may lie past the buffer when its mask is empty.
                    _mm512_mask_storeu_ps(d, mask(lo), a[0]);
                    _mm512_mask_storeu_ps(d.wrapping_add(16), mask(hi), a[1]);
                }
            }
        }
    }

    /// [`Tile::zmm`] in 8-lane registers: panels of 16 channels.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn ymm<const MR: usize>(&self) {
        use std::arch::x86_64::*;
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        let mut w = self.panel;
        let lo = self.cols.min(8);
        let (m0, m1) = (mask8(lo), mask8(self.cols - lo));
        debug_assert!(self.source.is_null() || self.kh == 1);
        // SAFETY: as in `zmm`.
        unsafe {
            if self.accumulate {
                for (i, a) in acc.iter_mut().enumerate() {
                    let d = self.dst.add(i * self.dst_pixel);
                    a[0] = _mm256_maskload_ps(d, m0);
                    a[1] = _mm256_maskload_ps(d.wrapping_add(8), m1);
                }
            }
            for ky in 0..self.kh {
                let row = self.src.add(ky * self.tap_row);
                for j in 0..self.run {
                    let (w0, w1) = if self.source.is_null() {
                        (_mm256_loadu_ps(w), _mm256_loadu_ps(w.add(8)))
                    } else {
                        let s = self.source.add(j * self.source_row);
                        let w0 = _mm256_maskload_ps(s, m0);
                        let w1 = _mm256_maskload_ps(s.wrapping_add(8), m1);
                        _mm256_storeu_ps(w.cast_mut(), w0);
                        _mm256_storeu_ps(w.cast_mut().add(8), w1);
                        (w0, w1)
                    };
                    w = w.add(16);
                    for (i, a) in acc.iter_mut().enumerate() {
                        let b = _mm256_set1_ps(*row.add(i * self.pixel + j));
                        a[0] = _mm256_fmadd_ps(b, w0, a[0]);
                        a[1] = _mm256_fmadd_ps(b, w1, a[1]);
                    }
                }
            }
            for (i, a) in acc.iter().enumerate() {
                let d = self.dst.add(i * self.dst_pixel);
                if self.cols == 16 {
                    _mm256_storeu_ps(d, a[0]);
                    _mm256_storeu_ps(d.add(8), a[1]);
                } else {
                    // As in `zmm`: masked lanes are not touched.
                    _mm256_maskstore_ps(d, m0, a[0]);
                    _mm256_maskstore_ps(d.wrapping_add(8), m1, a[1]);
                }
            }
        }
    }
}

/// `4 * quads` reduction steps of [`Tile::zmm`] in assembly: per step two panel
/// vectors and, per pixel `i`, one broadcast of `row[i * pixel + j]` and two
/// multiply-adds, in the same order as the intrinsics (so the same bits).
///
/// Written out because the compiler's code spends about one integer instruction per
/// pixel and step on addresses (`row + i * pixel + j`, the stride known only at run
/// time), and those compete with the multiply-adds for the ports and the front end.
/// Here every pixel is reached from one of five base registers (pixels 0, 3, 6, 9 and
/// 12) plus the stride at a scale of 1, 2, 4 or 8, four steps share each register
/// by displacement, and a quad costs six additions. In a loop of one 28x28x64 image
/// on a 2-core Intel Xeon with AVX-512 and AMX: 205-210 -> 230-235 GFLOP/s on
/// one core (the intrinsics unrolled by 4 instead: 199-202).
///
/// # Safety
/// AVX-512F; `panel` holds `4 * quads` rows of 32 values and `row` pixel `i`'s values
/// `0..4 * quads` for each `i < MR <= 14`; `quads > 0`.
#[target_feature(enable = "avx512f")]
unsafe fn zmm_quads<const MR: usize>(
    acc: &mut [[std::arch::x86_64::__m512; 2]; MR],
    panel: *const f32,
    row: *const f32,
    pixel: usize,
    quads: usize,
) {
    debug_assert!(quads > 0 && MR <= 14);
    let base = |i: usize| row.wrapping_add(i * pixel);
    let (r0, r3, r6, r9, r12) = (base(0), base(3), base(6), base(9), base(12));
    let stride = pixel * 4;
    // SAFETY: the caller's; pixels past MR are not read (only their base register is
    // advanced).
    unsafe {
        zmm_widths!(zmm_loop, MR, acc, panel, r0, r3, r6, r9, r12, stride, quads; [];
            1 [0 "{r0}" "" "zmm0" "zmm1" "zmm30"]
            2 [1 "{r0}" " + {s}" "zmm2" "zmm3" "zmm31"]
            3 [2 "{r0}" " + {s}*2" "zmm4" "zmm5" "zmm30"]
            4 [3 "{r3}" "" "zmm6" "zmm7" "zmm31"]
            5 [4 "{r0}" " + {s}*4" "zmm8" "zmm9" "zmm30"]
            6 [5 "{r3}" " + {s}*2" "zmm10" "zmm11" "zmm31"]
            7 [6 "{r6}" "" "zmm12" "zmm13" "zmm30"]
            8 [7 "{r3}" " + {s}*4" "zmm14" "zmm15" "zmm31"]
            9 [8 "{r0}" " + {s}*8" "zmm16" "zmm17" "zmm30"]
            10 [9 "{r9}" "" "zmm18" "zmm19" "zmm31"]
            11 [10 "{r6}" " + {s}*4" "zmm20" "zmm21" "zmm30"]
            12 [11 "{r3}" " + {s}*8" "zmm22" "zmm23" "zmm31"]
            13 [12 "{r12}" "" "zmm24" "zmm25" "zmm30"]
            14 [13 "{r9}" " + {s}*4" "zmm26" "zmm27" "zmm31"]
        );
    }
}

/// Picks, for a width `mr`, the first `mr` rows of the list (each a width and its
/// row's spec: index, addressing, two accumulators, broadcast register) and runs the
/// template macro `$lp` (`zmm_loop`, `conv_direct::filter_loop`) on them.
macro_rules! zmm_widths {
    ($lp:ident, $mr:expr, $acc:ident, $($arg:ident),*; [$($taken:tt)*];) => {
        unreachable!("tile width {} over 14", $mr)
    };
    ($lp:ident, $mr:expr, $acc:ident, $($arg:ident),*; [$($taken:tt)*]; $n:literal $px:tt $($rest:tt)*) => {
        if $mr == $n {
            $lp!($acc, $($arg),*; $($taken)* $px)
        } else {
            $crate::tile::zmm_widths!($lp, $mr, $acc, $($arg),*; [$($taken)* $px]; $($rest)*)
        }
    };
}

/// One step of an assembly tile loop, as one template string: two vectors from `$vec`
/// at byte offsets `$lo` and `$hi` into zmm28 and zmm29, then per listed row a
/// broadcast from its address (`$base`, this step's `$suffix`, then `$idx`) and two
/// multiply-adds into its accumulators.
macro_rules! fma_step {
    ($vec:literal, $lo:literal, $hi:literal, $suffix:literal;
     $([$i:tt $base:tt $idx:tt $a0:tt $a1:tt $b:tt])*) => {
        concat!(
            "vmovups zmm28, [", $vec, $lo, "]\n",
            "vmovups zmm29, [", $vec, $hi, "]\n",
            $(
                "vbroadcastss ", $b, ", dword ptr [", $base, $suffix, $idx, "]\n",
                "vfmadd231ps ", $a0, ", ", $b, ", zmm28\n",
                "vfmadd231ps ", $a1, ", ", $b, ", zmm29\n",
            )*
        )
    };
}

/// The template of [`zmm_quads`] for the listed pixels: step `u` of a quad at byte
/// `4 * u` of every pixel's values and `128 * u` of the panel.
macro_rules! zmm_loop {
    ($acc:ident, $panel:ident, $r0:ident, $r3:ident, $r6:ident, $r9:ident, $r12:ident,
     $stride:ident, $quads:ident;
     $([$i:tt $base:tt $idx:tt $a0:tt $a1:tt $b:tt])*) => {
        std::arch::asm!(
            // Every operand is named once outside the loop (a width may not use them all).
            "test {s}, {s}",
            "2:",
            $crate::tile::fma_step!("{w}", "", " + 64", ""; $([$i $base $idx $a0 $a1 $b])*),
            $crate::tile::fma_step!("{w}", " + 128", " + 192", " + 4"; $([$i $base $idx $a0 $a1 $b])*),
            $crate::tile::fma_step!("{w}", " + 256", " + 320", " + 8"; $([$i $base $idx $a0 $a1 $b])*),
            $crate::tile::fma_step!("{w}", " + 384", " + 448", " + 12"; $([$i $base $idx $a0 $a1 $b])*),
            "add {w}, 512",
            "add {r0}, 16",
            "add {r3}, 16",
            "add {r6}, 16",
            "add {r9}, 16",
            "add {r12}, 16",
            "dec {n}",
            "jnz 2b",
            w = inout(reg) $panel => _,
            r0 = inout(reg) $r0 => _,
            r3 = inout(reg) $r3 => _,
            r6 = inout(reg) $r6 => _,
            r9 = inout(reg) $r9 => _,
            r12 = inout(reg) $r12 => _,
            s = in(reg) $stride,
            n = inout(reg) $quads => _,
            $(inout($a0) $acc[$i][0], inout($a1) $acc[$i][1],)*
            out("zmm28") _,
            out("zmm29") _,
            out("zmm30") _,
            out("zmm31") _,
            options(nostack, readonly),
        )
    };
}

use zmm_loop;
pub(crate) use {fma_step, zmm_widths};

/// What the kernel tests of this module and `conv_direct` share.
#[cfg(test)]
pub(crate) mod testing {
    use super::Isa;

    /// Runs `f(isa, width)` for every width of every kernel this CPU runs.
    pub(crate) fn every_width(mut f: impl FnMut(Isa, usize)) {
        for isa in Isa::runnable() {
            for mr in 1..=isa.mr_max() {
                f(isa, mr);
            }
        }
    }

    /// Asserts that a kernel's `got` is the f64 sum `want` to 1e-4 (relative past 1).
    #[track_caller]
    pub(crate) fn assert_near(got: f32, want: f64, what: impl FnOnce() -> String) {
        assert!(
            (got as f64 - want).abs() <= 1e-4 * (1.0 + want.abs()),
            "{}: {got} vs {want}",
            what()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every width of every kernel this CPU runs, over runs that leave each remainder
    /// of the unrolled loop (and none), two tap rows, a partial panel and an
    /// accumulated one, against a sum in f64.
    #[test]
    fn tiles_of_every_width_match_the_sum() {
        let value = |v: usize| ((v * 37 + 11) % 23) as f32 / 8.0 - 1.4;
        testing::every_width(|isa, mr| {
            let nr = isa.nr();
            for run in [1, 2, 3, 4, 5, 6, 7, 8, 9, 37] {
                for (cols, accumulate) in [(nr, false), (nr - 3, true)] {
                    let (kh, pixel) = (2, run + 3);
                    let tap_row = (mr + 1) * pixel;
                    let src: Vec<f32> = (0..kh * tap_row).map(value).collect();
                    let panel: Vec<f32> = (0..kh * run * nr).map(|v| value(v + 5)).collect();
                    let dst_pixel = nr + 5;
                    let before: Vec<f32> = (0..mr * dst_pixel).map(|v| value(v + 9)).collect();
                    let mut dst = before.clone();
                    let tile = Tile {
                        src: src.as_ptr(),
                        pixel,
                        tap_row,
                        kh,
                        run,
                        panel: panel.as_ptr(),
                        dst: dst.as_mut_ptr(),
                        dst_pixel,
                        cols,
                        accumulate,
                        source: std::ptr::null(),
                        source_row: 0,
                    };
                    // SAFETY: the CPU runs `isa`; the buffers hold the extents.
                    unsafe { tile.run(isa, mr) };
                    for i in 0..mr {
                        for ch in 0..dst_pixel {
                            let got = dst[i * dst_pixel + ch];
                            if ch >= cols {
                                assert_eq!(got, before[i * dst_pixel + ch], "{isa:?} {mr} {run}");
                                continue;
                            }
                            let mut want = if accumulate {
                                before[i * dst_pixel + ch] as f64
                            } else {
                                0.0
                            };
                            for ky in 0..kh {
                                for j in 0..run {
                                    want += src[ky * tap_row + i * pixel + j] as f64
                                        * panel[(ky * run + j) * nr + ch] as f64;
                                }
                            }
                            testing::assert_near(got, want, || {
                                format!("{isa:?} width {mr} run {run} pixel {i} channel {ch}")
                            });
                        }
                    }
                }
            }
        });
    }

    #[test]
    fn packed_panels_hold_nr_channels_with_zeros_past_o() {
        // kdim 2, o 33, panels of 32: the second holds channel 32 and 31 zeros.
        let w: Vec<f32> = (0..66).map(|v| v as f32).collect();
        let p = pack_panels(&w, 2, 33, 32);
        assert_eq!(p.len(), 2 * 2 * 32);
        assert_eq!(&p[..32], &w[..32]);
        assert_eq!(&p[32..64], &w[33..65]);
        assert_eq!(p[64], 32.0);
        assert_eq!(p[96], 65.0);
        assert!(p[65..96].iter().all(|&v| v == 0.0));
        // Panels of 16: three, the last holding channel 32 and 15 zeros.
        let p = pack_panels(&w, 2, 33, 16);
        assert_eq!(p.len(), 3 * 2 * 16);
        assert_eq!(&p[16..32], &w[33..49]);
        assert_eq!(&p[32..48], &w[16..32]);
        assert_eq!((p[64], p[80]), (32.0, 65.0));
        assert!(p[65..80].iter().all(|&v| v == 0.0));
    }
}
