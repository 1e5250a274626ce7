//! Batched matrix products on top of the `gemm` crate.
//!
//! `gemm` takes arbitrary row and column strides, so a transposed operand is just a
//! swapped pair of strides: no copy is ever made for `trans_a` / `trans_b`.

use crate::tile::{Isa, Tile};
use crate::{Cpu, check_len};
use gemm::Parallelism;
use rayon::prelude::*;
use std::sync::Arc;
use tensor::{MatmulDims, MatmulOps, Result, UnaryOp};

/// Products with fewer multiply-adds than this run on one thread. Measured with
/// `examples/matmul_speed.rs` on 2 cores (AVX2): a second thread first wins between
/// 96^3 (slower: 19 -> 23 us) and 128^3 (faster: 45 -> 37 us); on a loaded machine
/// it loses everywhere, so the bar sits at the high end of that range.
pub(crate) const GEMM_PAR_WORK: usize = 1 << 21;

/// A strided read-only matrix operand: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major matrix with `cols` columns, or its transpose when `transposed`.
    pub(crate) fn row_major(data: &'a [f32], cols: usize, transposed: bool) -> Self {
        if transposed {
            Self {
                data,
                rs: 1,
                cs: cols,
            }
        } else {
            Self {
                data,
                rs: cols,
                cs: 1,
            }
        }
    }

    /// The view starting at element `(row, col)`: a block of a product is a product of
    /// such views. The element must exist (the caller checked the extent).
    fn at(self, row: usize, col: usize) -> Self {
        Self {
            data: &self.data[row * self.rs + col * self.cs..],
            ..self
        }
    }

    /// One past the largest index a `rows x cols` view touches.
    fn extent(&self, rows: usize, cols: usize) -> usize {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * self.rs + (cols - 1) * self.cs + 1
        }
    }
}

/// How many threads `gemm` may use for a product of this size.
pub(crate) fn parallelism_for(m: usize, n: usize, k: usize) -> Parallelism {
    if m.saturating_mul(n).saturating_mul(k) >= GEMM_PAR_WORK && rayon::current_num_threads() > 1 {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    }
}

/// `dst (m x n, row-major) = lhs (m x k) @ rhs (k x n)`, or `dst += ...` when
/// `accumulate`.
///
/// With `Parallelism::Rayon(_)` (the count is ignored: the rayon pool's size is used),
/// the product is cut into one block per thread along its
/// longer side (rows of `dst` when `m >= n` or the product is not thin, else columns)
/// and each block runs single-threaded; a thin product's first block, the caller's, is
/// longer (see [`split`]). For the thin products of small batches this is much faster than
/// `gemm`'s own threading, which here often gains nothing (`32x1024 @ 1024x784`: 797 us
/// with `gemm`'s 2 threads, 410 us split by hand, 724 us on one thread; 12 GAN shapes:
/// 4.57 ms -> 3.38 ms on 2 cores).
///
/// Safe wrapper over `gemm::gemm`: every operand's extent is checked against its
/// slice first, so the raw-pointer calls below never read or write out of bounds.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_into(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    assert!(dst.len() >= m * n, "gemm_into: dst too short");
    // SAFETY: `dst` is an exclusive borrow of at least m * n initialised elements.
    unsafe { gemm_to_ptr(dst.as_mut_ptr(), m, n, k, lhs, rhs, accumulate, parallelism) }
}

/// `dst (m x n, row-major) = lhs (m x k) @ rhs (k x n)` into memory that need not be
/// initialised: every element is written, none is read.
pub(crate) fn gemm_into_uninit(
    dst: &mut [std::mem::MaybeUninit<f32>],
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    parallelism: Parallelism,
) {
    assert!(dst.len() >= m * n, "gemm_into_uninit: dst too short");
    let dst = dst.as_mut_ptr().cast();
    // SAFETY: `dst` is an exclusive borrow of at least m * n elements. Without
    // `accumulate` every one of them is written (k = 0 included) and none is read:
    // `gemm::gemm` with `read_dst = false` overwrites `dst` without reading it (checked
    // in gemm-common 0.19's kernels; the Apple AMX path behind gemm's off-by-default
    // `experimental-apple-amx` feature would not be, so keep it off), and `thin_gemm`
    // writes its transposed tiles through raw pointers, never through a reference to
    // the uninitialised memory.
    unsafe { gemm_to_ptr(dst, m, n, k, lhs, rhs, false, parallelism) }
}

/// `lhs (m x k) @ rhs (k x n)` into a new row-major vector, written straight into
/// fresh memory (no zero-fill first: the product overwrites every element).
pub(crate) fn gemm_new(
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    parallelism: Parallelism,
) -> Result<Vec<f32>> {
    // SAFETY: `gemm_into_uninit` writes every one of the m * n elements.
    unsafe {
        crate::alloc::written("matmul", m * n, |out| {
            gemm_into_uninit(out, m, n, k, lhs, rhs, parallelism)
        })
    }
}

/// The product into `dst`, checked against the operands' slices.
///
/// # Safety
/// `dst` must be valid for writes of `m * n` elements that nothing else accesses
/// meanwhile, and initialised when `accumulate` (it is then read).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_to_ptr(
    dst: *mut f32,
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum; `gemm` is not documented to handle k = 0.
        if !accumulate {
            // SAFETY: valid for m * n writes (caller).
            unsafe { std::ptr::write_bytes(dst, 0, m * n) };
        }
        return;
    }
    assert!(
        lhs.data.len() >= lhs.extent(m, k),
        "gemm_into: lhs too short"
    );
    assert!(
        rhs.data.len() >= rhs.extent(k, n),
        "gemm_into: rhs too short"
    );
    let threads = match parallelism {
        Parallelism::None => 1,
        _ => rayon::current_num_threads(),
    };
    if threads <= 1 {
        // SAFETY: the asserts above bound every operand index; `dst` is the caller's.
        unsafe { raw_gemm(dst, n, m, n, k, lhs, rhs, accumulate) };
        return;
    }
    // Blocks of whole rows when m >= n or there are more rows than a thin product has,
    // else of whole columns (these interleave in memory; each task writes only its
    // own). Thin products keep their rows whole for `thin_gemm`; a `256x32 @ 32x512`
    // weight gradient split by columns ran no faster than on one thread (103 us), by
    // rows in 58 us.
    let by_rows = m >= n || m > THIN_ROWS;
    let len = if by_rows { m } else { n };
    let per_unit = k * if by_rows { n } else { m };
    let head_start = !by_rows && rayon::current_thread_index().is_some();
    let blocks = split(len, threads, per_unit, head_start);
    let base = SendPtr(dst);
    blocks.into_par_iter().for_each(|(start, size)| {
        let (r0, c0, rows, cols) = if by_rows {
            (start, 0, size, n)
        } else {
            (0, start, m, size)
        };
        let base = &base;
        // SAFETY: the block (rows r0.., columns c0..) lies inside `dst`'s m * n
        // elements and belongs to this task alone; the operand views are inside the
        // checked extents.
        unsafe {
            raw_gemm(
                base.0.add(r0 * n + c0),
                n,
                rows,
                cols,
                k,
                lhs.at(r0, 0),
                rhs.at(0, c0),
                accumulate,
            )
        };
    });
}

/// Block length for `threads` blocks over `len`, a multiple of 16 (the kernels' widths).
fn block_len(len: usize, threads: usize) -> usize {
    len.div_ceil(threads).next_multiple_of(16).max(16)
}

/// Multiply-adds the calling thread gets done before a pool thread starts on the block
/// handed to it: a sleeping pool thread takes ~20 us to wake. Measured on the 2-core
/// Xeon over a GAN iteration's products: the caller's block started 9 us after the
/// split on average, the pool thread's 28 us, and ran 5% longer; at ~80 G
/// multiply-adds a second per core, 25 us are 2 M. Only thin products (cut by columns)
/// take the lead: a GAN iteration 6.62 -> 6.04 ms (min of 4 interleaved rounds), while
/// square products run back to back, whose pool thread never sleeps, lost 5-30% with it
/// (`128x140 @ 140x512` 57 -> 74 us).
const HEAD_START: usize = 2_000_000;

/// `(start, len)` of each block of a product cut along a side of `len` rows or columns
/// of `per_unit` multiply-adds each, for `threads` threads. Without `caller_works`,
/// blocks of [`block_len`]. With it (the caller is a pool thread, so rayon runs the
/// first block on it while the others wait to be taken), the first block is longer by
/// half of [`HEAD_START`]'s worth of work, so that both finish together. The cut
/// depends on the shape only, never on timing: the same blocks, the same bits.
fn split(len: usize, threads: usize, per_unit: usize, caller_works: bool) -> Vec<(usize, usize)> {
    if threads <= 1 {
        return vec![(0, len)];
    }
    let even = block_len(len, threads);
    let first = if caller_works {
        let lead = HEAD_START / 2 / per_unit.max(1);
        // To the nearest multiple of 16: a lead of a few rows of a large product
        // (where the wait is nothing beside the work) leaves the even cut.
        ((len.div_ceil(threads) + lead + 8) / 16 * 16)
            .max(16)
            .min(len)
    } else {
        even.min(len)
    };
    let mut blocks = vec![(0, first)];
    let rest = len - first;
    if rest > 0 {
        let block = block_len(rest, threads - 1);
        blocks.extend((first..len).step_by(block).map(|s| (s, block.min(len - s))));
    }
    blocks
}

/// A destination pointer shared by tasks that write disjoint elements.
struct SendPtr(*mut f32);
// SAFETY: tasks only write disjoint elements through it (see `gemm_into`).
unsafe impl Sync for SendPtr {}

/// One single-threaded product `lhs (m x k) @ rhs (k x n)` (a block of a larger one:
/// see [`MatRef::at`]), written at `dst` with row stride `dst_rs`.
///
/// # Safety
/// The views must hold their `m x k` and `k x n` elements and `dst` must be valid for
/// writes of `m` rows of `n` elements at stride `dst_rs`, touched by no one else.
#[allow(clippy::too_many_arguments)]
unsafe fn raw_gemm(
    dst: *mut f32,
    dst_rs: usize,
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
) {
    if !accumulate && m <= THIN_ROWS && n > m && k >= THIN_MIN_DEPTH {
        if let Some(isa) = panel_isa(lhs, rhs) {
            // SAFETY: guaranteed by the caller; the CPU runs `isa`.
            unsafe { panel_gemm(isa, dst, dst_rs, m, n, k, lhs, rhs) };
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { thin_gemm(dst, dst_rs, m, n, k, lhs, rhs) };
        }
        return;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { strided_gemm(dst, dst_rs, 1, m, n, k, lhs, rhs, accumulate) };
}

/// The `gemm` call behind [`raw_gemm`] and [`thin_gemm`]: the block's product written
/// at `dst` with row stride `dst_rs` and column stride `dst_cs`.
///
/// # Safety
/// As [`raw_gemm`], with `dst` valid at those strides.
#[allow(clippy::too_many_arguments)]
unsafe fn strided_gemm(
    dst: *mut f32,
    dst_rs: usize,
    dst_cs: usize,
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// Products with at most this many rows (and more columns) take [`panel_gemm`]'s path,
/// or [`thin_gemm`]'s where that does not take them.
const THIN_ROWS: usize = 64;
/// ... and at least this deep: outer products (`k = 1`) have a fast path of their own
/// in `gemm` that the column-major destination would miss (0.8 -> 6.7 us for
/// `32x1 @ 1x256`).
const THIN_MIN_DEPTH: usize = 16;
/// Columns per column-major tile of [`thin_gemm`]: bounds its scratch at 64 x 4,096
/// floats (1 MiB) per thread however wide the product.
const THIN_TILE_COLS: usize = 4096;

thread_local! {
    /// Scratch for [`thin_gemm`]'s column-major product, reused across calls.
    static THIN_SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`raw_gemm`] (without `accumulate`) for a product with few rows, e.g. a batch of 32
/// through a wide layer: computed column-major into scratch, then transposed into `dst`.
///
/// `gemm` turns a row-major destination into the transposed problem, whose left operand
/// is then the weight matrix; it reads (or packs) that matrix with a stride of its row
/// length, and when that is a power of two (1,024 floats = 4 KiB) the lines all fall in
/// the same cache sets. A column-major destination keeps the small operand on the left
/// and reads the weights along their rows. Measured on one core with
/// `examples/gan_gemms` (the transpose included): `32x1024 @ (512x1024)^T` 782 -> 383 us,
/// `32x784 @ (1024x784)^T` 820 -> 565 us, `32x512 @ 512x1024` 787 -> 509 us; all products
/// of a GAN iteration 9.46 -> 7.60 ms on one core, 5.5 -> 4.2 ms on two.
///
/// # Safety
/// As [`raw_gemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn thin_gemm(
    dst: *mut f32,
    dst_rs: usize,
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
) {
    THIN_SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let tile = n.min(THIN_TILE_COLS);
        if scratch.len() < m * tile {
            scratch.resize(m * tile, 0.0);
        }
        for t0 in (0..n).step_by(THIN_TILE_COLS) {
            let cols = tile.min(n - t0);
            // SAFETY: the scratch holds the m x cols tile column-major (row stride 1,
            // column stride m); columns t0.. of `rhs` are inside the caller's view.
            unsafe {
                strided_gemm(
                    scratch.as_mut_ptr(),
                    1,
                    m,
                    m,
                    cols,
                    k,
                    lhs,
                    rhs.at(0, t0),
                    false,
                )
            };
            for i in 0..m {
                for j in 0..cols {
                    // SAFETY: element (i, t0 + j) of the block is at dst + i * dst_rs +
                    // t0 + j (caller). Written through the pointer, never read: `dst`
                    // may be uninitialised memory (`gemm_new`).
                    unsafe { dst.add(i * dst_rs + t0 + j).write(scratch[j * m + i]) };
                }
            }
        }
    });
}

/// Rows of the right operand [`panel_gemm`] packs per panel block: 256 rows of 32
/// floats are 32 KiB, which stay in a 48 KiB L1 while the block's tiles read them
/// (whole panels of `k = 1024`, 128 KiB, ran 5-30% slower on the Xeon; 128 and 384
/// rows within noise of 256).
const PANEL_DEPTH: usize = 256;

thread_local! {
    /// [`panel_gemm`]'s packed panel of the right operand, reused across calls.
    static PANEL: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
    /// Set by tests: the kernel [`panel_isa`] returns on this thread instead of its choice.
    #[cfg(test)]
    static PANEL_FORCED: std::cell::Cell<Option<Option<Isa>>> = const { std::cell::Cell::new(None) };
}

/// The kernel [`panel_gemm`] runs for a thin product of these operands, if it takes it:
/// both operands with unit column stride (the right one row-major: the weights of a
/// forward pass), on a CPU with AVX-512. (The AVX2 build of the tile is correct, and
/// tested, but not measured against `gemm` on a CPU without AVX-512, so those keep
/// `thin_gemm`.)
fn panel_isa(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Option<Isa> {
    #[cfg(test)]
    if let Some(forced) = PANEL_FORCED.with(std::cell::Cell::get) {
        return forced.filter(|_| lhs.cs == 1 && rhs.cs == 1);
    }
    Isa::best().filter(|&isa| isa == Isa::Avx512 && lhs.cs == 1 && rhs.cs == 1)
}

/// [`raw_gemm`] (without `accumulate`) for a thin product whose right operand is
/// row-major, with the register-tiled kernel of [`crate::tile`]: panel by panel of
/// `nr` columns, block by block of [`PANEL_DEPTH`] rows of the reduction, every tile
/// of `<= mr_max` rows of `lhs` keeps its sums in registers over the block and adds
/// them onto its block of `dst` (writes them, for the first block). A block's first
/// tile reads its rows of `rhs` in place and packs them into scratch as it goes (the
/// misses overlap its arithmetic); the other tiles read the packed copy. Each element
/// is one sum over `k` in order, whatever the threads.
///
/// `gemm` reads such a right operand (the transposed problem's left one) in place, at a
/// stride of its row length; at a power of two the lines fall in the same cache sets.
/// Measured on a Xeon with AVX-512, 2 threads (`examples/gan_gemms`, min of 3
/// interleaved runs, `gemm` -> this): `32x512 @ 512x1024` 199 -> 149 us, `32x784 @
/// 784x512` 117 -> 100 us, `32x256 @ 256x512` 37 -> 27 us, `32x100 @ 100x256` 16.5 ->
/// 9.5 us, `32x1024 @ 1024x784` 228 -> 228 us; every product of a GAN iteration 2.58
/// -> 2.38 ms. Packing a panel in a pass of its own before its tiles, or several
/// panels at once, was slower.
///
/// # Safety
/// As [`raw_gemm`]; `lhs.cs == rhs.cs == 1`, and the CPU runs `isa`.
#[allow(clippy::too_many_arguments)]
unsafe fn panel_gemm(
    isa: Isa,
    dst: *mut f32,
    dst_rs: usize,
    m: usize,
    n: usize,
    k: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
) {
    assert!(lhs.cs == 1 && rhs.cs == 1);
    assert!(lhs.data.len() >= lhs.extent(m, k) && rhs.data.len() >= rhs.extent(k, n));
    let (nr, mr_max) = (isa.nr(), isa.mr_max());
    let tiles = m.div_ceil(mr_max);
    crate::alloc::with_kept(&PANEL, |panel| {
        // Every row is written by a block's first tile before any tile reads it.
        let kc = PANEL_DEPTH.min(k);
        if panel.len() < kc * nr {
            panel.resize(kc * nr, 0.0);
        }
        for j0 in (0..n).step_by(nr) {
            for l0 in (0..k).step_by(kc) {
                let depth = kc.min(k - l0);
                for t in 0..tiles {
                    // Tiles of near-equal height cover the rows.
                    let (i0, i1) = (t * m / tiles, (t + 1) * m / tiles);
                    let tile = Tile {
                        src: lhs.data[i0 * lhs.rs + l0..].as_ptr(),
                        pixel: lhs.rs,
                        tap_row: 0,
                        kh: 1,
                        run: depth,
                        panel: panel.as_mut_ptr(),
                        dst: dst.wrapping_add(i0 * dst_rs + j0),
                        dst_pixel: dst_rs,
                        cols: nr.min(n - j0),
                        accumulate: l0 > 0,
                        // The first tile packs the panel as it goes.
                        source: if t == 0 {
                            rhs.data[l0 * rhs.rs + j0..].as_ptr()
                        } else {
                            std::ptr::null()
                        },
                        source_row: rhs.rs,
                    };
                    // SAFETY: the tile reads rows i0..i1 of `lhs` over columns l0..l0 +
                    // depth (inside its checked extent) and the panel's depth rows of nr
                    // (the first tile writes them from columns j0..j0 + cols of `rhs`'s
                    // rows l0..l0 + depth, inside its extent); it writes columns j0..j0 +
                    // cols of rows i0..i1 of the block (the caller's), reading them only
                    // after the first depth block wrote them; the CPU runs `isa` (caller).
                    unsafe { tile.run(isa, i1 - i0) };
                }
            }
        }
    })
}

pub(crate) fn matmul(a: &[f32], b: &[f32], d: MatmulDims) -> Result<Vec<f32>> {
    let MatmulDims { batch, m, k, n, .. } = d;
    let c_size = m * n;
    if batch * c_size == 0 || k == 0 {
        return crate::alloc::zeros("matmul", batch * c_size);
    }
    check_len("matmul", "a", a, (batch - 1) * d.a_batch_stride + m * k)?;
    check_len("matmul", "b", b, (batch - 1) * d.b_batch_stride + k * n)?;
    let lhs_at = |i: usize| {
        MatRef::row_major(
            &a[i * d.a_batch_stride..],
            if d.trans_a { m } else { k },
            d.trans_a,
        )
    };
    let rhs_at = |i: usize| {
        MatRef::row_major(
            &b[i * d.b_batch_stride..],
            if d.trans_b { k } else { n },
            d.trans_b,
        )
    };

    let work = m * n * k;
    if batch == 1 {
        return gemm_new(m, n, k, lhs_at(0), rhs_at(0), parallelism_for(m, n, k));
    }
    let mut c = crate::alloc::zeros("matmul", batch * c_size)?;
    if work < GEMM_PAR_WORK && batch * work >= GEMM_PAR_WORK {
        // Many small products: one thread per product beats splitting each one.
        c.par_chunks_mut(c_size).enumerate().for_each(|(i, ci)| {
            gemm_into(ci, m, n, k, lhs_at(i), rhs_at(i), false, Parallelism::None);
        });
    } else {
        let par = parallelism_for(m, n, k);
        for (i, ci) in c.chunks_mut(c_size).enumerate() {
            gemm_into(ci, m, n, k, lhs_at(i), rhs_at(i), false, par);
        }
    }
    Ok(c)
}

impl MatmulOps for Cpu {
    fn matmul(
        &self,
        a: &Self::Storage,
        b: &Self::Storage,
        dims: MatmulDims,
    ) -> Result<Self::Storage> {
        matmul(a, b, dims).map(Arc::new)
    }

    /// The bias and activation run over blocks of rows of the product right after
    /// it, in parallel when it is large (the product itself is the one `matmul`
    /// computes, so the bits are those of the three ops).
    fn matmul_bias_act(
        &self,
        x: &Self::Storage,
        w: &Self::Storage,
        bias: &Self::Storage,
        act: Option<UnaryOp>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<Self::Storage> {
        check_len("matmul_bias_act", "bias", bias, n)?;
        let bias = &bias[..n];
        let mut y = matmul(x, w, MatmulDims::plain(m, k, n))?;
        if let Some(rows) = crate::PAR_CHUNK.checked_div(n) {
            let rows_per_task = rows.max(1);
            if y.len() >= crate::PAR_THRESHOLD {
                y.par_chunks_mut(rows_per_task * n)
                    .for_each(|rows| crate::elementwise::bias_act(rows, bias, act));
            } else {
                crate::elementwise::bias_act(&mut y, bias, act);
            }
        }
        Ok(Arc::new(y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| {
                let x = i
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(seed.wrapping_mul(40_503));
                (x >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// `c (m x n) = a (m x k) @ b (k x n)`, row-major, summed in f64.
    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                    .sum();
            }
        }
        c
    }

    fn assert_close(got: &[f32], want: &[f64], k: usize) {
        assert_eq!(got.len(), want.len());
        for (idx, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 1e-5 * k as f64,
                "element {idx}: got {g}, want {w}"
            );
        }
    }

    #[test]
    fn accumulating_products_add_to_the_destination() {
        // Thin and deep enough for the column-major path, which must not take it.
        let (m, k, n) = (8, 32, 40);
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        let mut dst = values(m * n, 3);
        let before = dst.clone();
        let (lhs, rhs) = (
            MatRef::row_major(&a, k, false),
            MatRef::row_major(&b, n, false),
        );
        gemm_into(&mut dst, m, n, k, lhs, rhs, true, Parallelism::None);
        let want: Vec<f64> = naive(&a, &b, m, k, n)
            .iter()
            .zip(&before)
            .map(|(p, &d)| p + d as f64)
            .collect();
        assert_close(&dst, &want, k);
    }

    /// Runs `f` with [`panel_isa`] answering `isa` on this thread (`None`: `thin_gemm`).
    fn with_panel<R>(isa: Option<Isa>, f: impl FnOnce() -> R) -> R {
        PANEL_FORCED.with(|c| c.set(Some(isa)));
        let r = f();
        PANEL_FORCED.with(|c| c.set(None));
        r
    }

    #[test]
    fn thin_products_in_several_tiles_and_after_a_larger_one() {
        // Wider than one scratch tile, then a smaller product on the same thread that
        // reuses the (now larger) scratch.
        for &(m, k, n) in &[(3, 16, THIN_TILE_COLS + 37), (5, 20, 24)] {
            let (a, b) = (values(m * k, 4), values(k * n, 5));
            let (lhs, rhs) = (
                MatRef::row_major(&a, k, false),
                MatRef::row_major(&b, n, false),
            );
            let got = with_panel(None, || gemm_new(m, n, k, lhs, rhs, Parallelism::None)).unwrap();
            assert_close(&got, &naive(&a, &b, m, k, n), k);
        }
    }

    #[test]
    fn blocks_cover_the_side_and_the_caller_gets_the_lead() {
        let check = |blocks: &[(usize, usize)], len: usize| {
            assert_eq!(blocks[0].0, 0);
            for w in blocks.windows(2) {
                assert_eq!(w[0].0 + w[0].1, w[1].0, "{blocks:?}");
            }
            let last = blocks.last().unwrap();
            assert_eq!(last.0 + last.1, len, "{blocks:?}");
            assert!(blocks.iter().all(|b| b.1 > 0), "{blocks:?}");
        };
        // Even: 784 columns over 2 threads in blocks of 400 (a multiple of 16).
        assert_eq!(split(784, 2, 32 * 1024, false), vec![(0, 400), (400, 384)]);
        // A lead of 2e6 / 2 / 32768 = 30 columns: 392 + 30 = 422 -> 416.
        assert_eq!(split(784, 2, 32 * 1024, true), vec![(0, 416), (416, 368)]);
        // A product smaller than the lead stays on the caller.
        assert_eq!(split(256, 2, 32 * 100, true), vec![(0, 256)]);
        // A lead of under 8 rows or columns leaves the even cut.
        assert_eq!(
            split(1024, 2, 1 << 20, true),
            split(1024, 2, 1 << 20, false)
        );
        assert_eq!(split(100, 1, 5, true), vec![(0, 100)]);
        assert_eq!(split(2, 2, 16, true), vec![(0, 2)]);
        for (len, threads, per_unit, lead) in [
            (784, 2, 32768, true),
            (1000, 3, 4096, true),
            (17, 4, 1, false),
            (5000, 4, 64, true),
        ] {
            check(&split(len, threads, per_unit, lead), len);
        }
        let four = split(1000, 4, 8192, true);
        assert_eq!(four[0], (0, 368), "250 + 122 -> 368");
        assert_eq!(four.len(), 4, "{four:?}");
    }

    #[test]
    fn panel_products_match_the_sum_on_odd_shapes_with_every_kernel() {
        // Row counts around the tile heights (6 and 14), column counts around the
        // panel widths (16 and 32), two deeper than one block of the reduction (the
        // second in three, the last short); the deep ones first, so the later ones
        // reuse a larger scratch.
        let shapes = [
            (2, 300, 1000),
            (17, 2 * PANEL_DEPTH + 9, 40),
            (1, 16, 2),
            (6, 16, 16),
            (7, 17, 33),
            (13, 19, 31),
            (14, 40, 32),
            (15, 31, 65),
            (29, 100, 47),
            (32, 64, 100),
            (64, 33, 130),
        ];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for isa in Isa::runnable() {
            for &(m, k, n) in &shapes {
                let (a, b) = (values(m * k, 6), values(k * n, 7));
                let (lhs, rhs) = (
                    MatRef::row_major(&a, k, false),
                    MatRef::row_major(&b, n, false),
                );
                let want = naive(&a, &b, m, k, n);
                // With threads, the pool's workers run the CPU's own choice.
                for par in [Parallelism::None, Parallelism::Rayon(0)] {
                    let got = with_panel(Some(isa), || gemm_new(m, n, k, lhs, rhs, par)).unwrap();
                    assert_close(&got, &want, k);
                }
                // From a pool thread: the caller's block is the longer one.
                let got = pool.install(|| gemm_new(m, n, k, lhs, rhs, Parallelism::Rayon(0)));
                assert_close(&got.unwrap(), &want, k);
            }
        }
    }

    #[test]
    fn panel_products_write_a_block_of_a_larger_matrix() {
        // A block of rows 1..12, columns 3..43 of a 13 x 50 destination from views into
        // larger operands (row strides past the block's widths), deeper than one
        // block of the reduction: nothing outside the block changes.
        let (m, k, n) = (11, 300, 40);
        let (a, b) = (values(13 * 310, 8), values(310 * 50, 9));
        let lhs = MatRef::row_major(&a, 310, false).at(1, 2);
        let rhs = MatRef::row_major(&b, 50, false).at(2, 3);
        let block_a: Vec<f32> = (0..m)
            .flat_map(|i| a[(1 + i) * 310 + 2..][..k].to_vec())
            .collect();
        let block_b: Vec<f32> = (0..k)
            .flat_map(|l| b[(2 + l) * 50 + 3..][..n].to_vec())
            .collect();
        let want = naive(&block_a, &block_b, m, k, n);
        for isa in Isa::runnable() {
            let mut dst = vec![f32::NAN; 13 * 50];
            // SAFETY: rows 1..12, columns 3..43 of `dst` at row stride 50; the views
            // hold their m x k and k x n elements.
            with_panel(Some(isa), || unsafe {
                raw_gemm(dst.as_mut_ptr().add(50 + 3), 50, m, n, k, lhs, rhs, false)
            });
            for (idx, v) in dst.iter().enumerate() {
                let (i, j) = (idx / 50, idx % 50);
                if (1..12).contains(&i) && (3..43).contains(&j) {
                    let w = want[(i - 1) * n + j - 3];
                    assert!(
                        (*v as f64 - w).abs() <= 1e-5 * k as f64,
                        "{isa:?} ({i}, {j}): {v} vs {w}"
                    );
                } else {
                    assert!(
                        v.is_nan(),
                        "{isa:?} ({i}, {j}) outside the block was written"
                    );
                }
            }
        }
    }

    #[test]
    fn the_panel_kernel_takes_row_major_operands_on_avx512_only() {
        let (a, b) = (values(8 * 16, 1), values(16 * 40, 2));
        let lhs = MatRef::row_major(&a, 16, false);
        let want = (crate::simd::detected() == crate::simd::Level::Avx512).then_some(Isa::Avx512);
        assert_eq!(panel_isa(lhs, MatRef::row_major(&b, 40, false)), want);
        assert_eq!(panel_isa(lhs, MatRef::row_major(&b, 16, true)), None);
        assert_eq!(
            panel_isa(
                MatRef::row_major(&a, 8, true),
                MatRef::row_major(&b, 40, false)
            ),
            None
        );
    }
}
