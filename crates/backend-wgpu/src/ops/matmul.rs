//! Batched matmul (`shaders/matmul.wgsl` on the tiled core `shaders/gemm.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use bytemuck::Pod;
use tensor::{MatmulDims, MatmulOps, ReduceOps, Result, StorageOps};

/// The tiled GEMM core that matmul and conv2d share.
pub(crate) const GEMM_WGSL: &str = include_str!("../../../../shaders/gemm.wgsl");
/// Rows and columns of C per workgroup (`TILE_M`, `TILE_N` in gemm.wgsl).
const TILE: usize = 64;
/// Workgroup memory the core uses: two tiles of 320 vec4s (gemm.wgsl).
const GEMM_WORKGROUP_BYTES: u32 = 2 * 320 * 16;

static SHADER: Shader = Shader {
    name: "matmul",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/matmul.wgsl"),
        GEMM_WGSL,
    ],
    generated: &[],
};
static MATMUL: Kernel = Kernel {
    shader: &SHADER,
    entry: "gemm",
    storage: &[Read, Read, ReadWrite],
};

params! {
    struct MatmulParams {
        m: u32,
        n: u32,
        k: u32,
        batch_base: u32,
        row_tile_base: u32,
        splits: u32,
        k_chunk: u32,
        a_batch_stride: u32,
        b_batch_stride: u32,
    }
}

/// One launch of the GEMM core: where its grid starts and how k is split.
#[derive(Clone, Copy)]
pub(crate) struct GemmLaunch {
    /// First slice (`batch * splits + split`) of this launch's grid z.
    pub batch_base: u32,
    /// First 64-row tile of this launch's grid y.
    pub row_tile_base: u32,
    pub splits: u32,
    pub k_chunk: u32,
}

/// Fewer output tiles than this (over all batches) leave a GPU idle: split k.
const SPLIT_K_TARGET_TILES: usize = 128;
/// A split sums at least this many k.
const SPLIT_K_MIN_CHUNK: usize = 256;
const SPLIT_K_MAX: usize = 64;

/// `(splits, k_chunk)` for a product with `tiles` output tiles and depth `k`.
fn split_k(tiles: usize, k: usize) -> (usize, usize) {
    if tiles >= SPLIT_K_TARGET_TILES || k < 4 * SPLIT_K_MIN_CHUNK {
        return (1, k);
    }
    let splits = (k / SPLIT_K_MIN_CHUNK)
        .min(SPLIT_K_TARGET_TILES.div_ceil(tiles))
        .clamp(1, SPLIT_K_MAX);
    // Chunks are whole TILE_K steps; recount the splits that leaves.
    let chunk = k.div_ceil(splits).div_ceil(16) * 16;
    (k.div_ceil(chunk), chunk)
}

impl Wgpu {
    /// Runs a gemm-core kernel (`shaders/gemm.wgsl`) computing `batch` products of
    /// `m x k` by `k x n` into a new `batch x m x n` buffer. Splits k when the
    /// output has few tiles (partial products are then summed by a reduction), and
    /// splits the grid where it exceeds the per-dimension limit. `params` builds
    /// the uniform block of each launch.
    pub(crate) fn gemm<P: Pod>(
        &self,
        op: &str,
        kernel: &Kernel,
        constants: &[(&'static str, f64)],
        inputs: [&WgpuStorage; 2],
        (batch, m, n, k): (usize, usize, usize, usize),
        params: impl Fn(GemmLaunch) -> P,
    ) -> Result<WgpuStorage> {
        let limits = &self.inner.limits;
        if limits.max_compute_workgroup_storage_size < GEMM_WORKGROUP_BYTES
            || limits.max_compute_invocations_per_workgroup < 256
        {
            return Err(self.error(format!(
                "{op}: needs {GEMM_WORKGROUP_BYTES} bytes of workgroup memory and 256 \
                 invocations per workgroup; the device allows {} and {}",
                limits.max_compute_workgroup_storage_size,
                limits.max_compute_invocations_per_workgroup
            )));
        }
        let len = batch * m * n;
        if k == 0 {
            // An empty sum.
            return self.fill(len, 0.0);
        }
        let max = self.grid_limit() as usize;
        let col_tiles = n.div_ceil(TILE);
        let row_tiles = m.div_ceil(TILE);
        if col_tiles > max {
            return Err(self.error(format!(
                "{op}: {n} output columns need {col_tiles} workgroups, over the limit of {max}"
            )));
        }
        let (mut splits, mut k_chunk) = split_k(batch * row_tiles * col_tiles, k);
        if splits > 1 && self.check_binding_size(op, splits * len).is_err() {
            (splits, k_chunk) = (1, k);
        }
        let out = self.alloc(op, splits * len)?;
        let slices = batch * splits;
        for slice_base in (0..slices).step_by(max) {
            let z = (slices - slice_base).min(max);
            for row_base in (0..row_tiles).step_by(max) {
                let rows = (row_tiles - row_base).min(max);
                let p = params(GemmLaunch {
                    batch_base: slice_base as u32,
                    row_tile_base: row_base as u32,
                    splits: splits as u32,
                    k_chunk: k_chunk as u32,
                });
                let groups = [col_tiles as u32, rows as u32, z as u32];
                self.launch(kernel, constants, &p, &[inputs[0], inputs[1], &out], groups)?;
            }
        }
        if splits == 1 {
            return Ok(out);
        }
        self.reduce(tensor::ReduceOp::Sum, &out, &[batch, splits, m * n], &[1])
    }
}

impl MatmulOps for Wgpu {
    fn matmul(&self, a: &WgpuStorage, b: &WgpuStorage, d: MatmulDims) -> Result<WgpuStorage> {
        // vec4 loads need the contiguous dimension and the batch stride to be
        // multiples of 4; vec4 stores need n to be.
        let a_contiguous = if d.trans_a { d.m } else { d.k };
        let b_contiguous = if d.trans_b { d.k } else { d.n };
        let a_vec4 = a_contiguous.is_multiple_of(4) && d.a_batch_stride.is_multiple_of(4);
        let b_vec4 = b_contiguous.is_multiple_of(4) && d.b_batch_stride.is_multiple_of(4);
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let constants = [
            ("TRANS_A", flag(d.trans_a)),
            ("TRANS_B", flag(d.trans_b)),
            ("A_K_FAST", flag(!d.trans_a)),
            ("B_K_FAST", flag(d.trans_b)),
            ("A_VEC4", flag(a_vec4)),
            ("B_VEC4", flag(b_vec4)),
            ("C_VEC4", flag(d.n.is_multiple_of(4))),
        ];
        self.gemm(
            "matmul",
            &MATMUL,
            &constants,
            [a, b],
            (d.batch, d.m, d.n, d.k),
            |l| MatmulParams {
                m: d.m as u32,
                n: d.n as u32,
                k: d.k as u32,
                batch_base: l.batch_base,
                row_tile_base: l.row_tile_base,
                splits: l.splits,
                k_chunk: l.k_chunk,
                a_batch_stride: d.a_batch_stride as u32,
                b_batch_stride: d.b_batch_stride as u32,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::split_k;

    #[test]
    fn k_is_split_only_for_few_tiles_and_long_sums() {
        assert_eq!(split_k(200, 100_000), (1, 100_000));
        assert_eq!(split_k(4, 500), (1, 500));
        let (splits, chunk) = split_k(5, 25_088);
        assert!(splits > 1 && splits <= 64, "{splits}");
        assert_eq!(chunk % 16, 0);
        assert!(splits * chunk >= 25_088 && (splits - 1) * chunk < 25_088);
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::MatmulParams>(&super::SHADER);
    }
}
