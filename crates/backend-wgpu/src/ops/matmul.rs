//! Batched matmul (`shaders/matmul.wgsl` on the tiled core `shaders/gemm.wgsl`).

use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use crate::pool::WgpuStorage;
use bytemuck::{Pod, Zeroable};
use tensor::{MatmulDims, Result};

/// The tiled GEMM core that matmul and conv2d share.
pub(crate) const GEMM_WGSL: &str = include_str!("../../../../shaders/gemm.wgsl");
/// Rows and columns of C per workgroup (`TILE_M`, `TILE_N` in gemm.wgsl).
const TILE: usize = 64;
/// Workgroup memory the core uses: two 16 x 64 f32 tiles.
const GEMM_WORKGROUP_BYTES: u32 = 2 * 16 * 64 * 4;

static SHADER: Shader = Shader {
    name: "matmul",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/matmul.wgsl"),
        GEMM_WGSL,
    ],
};
static MATMUL: Kernel = Kernel {
    shader: &SHADER,
    entry: "gemm",
    storage: &[Read, Read, ReadWrite],
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    batch_base: u32,
    row_tile_base: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
}

impl Wgpu {
    /// Launches a gemm-core kernel over `batch` products of `m x n`, splitting the
    /// grid where it exceeds the per-dimension limit. `params(batch_base,
    /// row_tile_base)` builds the uniform block of each launch.
    pub(crate) fn launch_gemm<P: Pod>(
        &self,
        kernel: &Kernel,
        constants: &[(&'static str, f64)],
        buffers: &[&WgpuStorage],
        batch: usize,
        m: usize,
        n: usize,
        params: impl Fn(u32, u32) -> P,
    ) -> Result<()> {
        let limits = &self.inner.limits;
        if limits.max_compute_workgroup_storage_size < GEMM_WORKGROUP_BYTES
            || limits.max_compute_invocations_per_workgroup < 256
        {
            return Err(self.error(format!(
                "{}: needs {GEMM_WORKGROUP_BYTES} bytes of workgroup memory and 256 \
                 invocations per workgroup; the device allows {} and {}",
                kernel.entry,
                limits.max_compute_workgroup_storage_size,
                limits.max_compute_invocations_per_workgroup
            )));
        }
        let max = limits.max_compute_workgroups_per_dimension as usize;
        let col_tiles = n.div_ceil(TILE);
        let row_tiles = m.div_ceil(TILE);
        if col_tiles > max {
            return Err(self.error(format!(
                "{}: {n} output columns need {col_tiles} workgroups, over the limit of {max}",
                kernel.entry
            )));
        }
        for batch_base in (0..batch).step_by(max) {
            let batches = (batch - batch_base).min(max);
            for row_base in (0..row_tiles).step_by(max) {
                let rows = (row_tiles - row_base).min(max);
                let p = params(batch_base as u32, row_base as u32);
                let groups = [col_tiles as u32, rows as u32, batches as u32];
                self.launch(kernel, constants, &p, buffers, groups)?;
            }
        }
        Ok(())
    }

    pub(crate) fn matmul_impl(
        &self,
        a: &WgpuStorage,
        b: &WgpuStorage,
        d: MatmulDims,
    ) -> Result<WgpuStorage> {
        let out = self.alloc("matmul", d.batch * d.m * d.n)?;
        if d.k == 0 {
            // An empty sum: C is all zeros.
            return self.fill_impl(d.batch * d.m * d.n, 0.0);
        }
        let constants = [
            ("TRANS_A", d.trans_a as u32 as f64),
            ("TRANS_B", d.trans_b as u32 as f64),
            ("A_K_FAST", !d.trans_a as u32 as f64),
            ("B_K_FAST", d.trans_b as u32 as f64),
        ];
        self.launch_gemm(
            &MATMUL,
            &constants,
            &[a, b, &out],
            d.batch,
            d.m,
            d.n,
            |batch_base, row_tile_base| MatmulParams {
                m: d.m as u32,
                n: d.n as u32,
                k: d.k as u32,
                batch_base,
                row_tile_base,
                a_batch_stride: d.a_batch_stride as u32,
                b_batch_stride: d.b_batch_stride as u32,
            },
        )?;
        Ok(out)
    }
}
