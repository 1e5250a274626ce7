//! The kernel workbench: numbered versions of the matmul and conv2d kernels side by
//! side (the pattern of llm.c's `dev/cuda`), so that a faster kernel is promoted into
//! the backend with evidence. `cargo xtask workbench matmul` checks every version
//! against the CPU and times it over a sweep of sizes; the tests check every version
//! on small, odd sizes.
//!
//! Version 1 of each op is the backend's production kernel itself (what
//! `MatmulOps::matmul` and `ConvOps::conv2d` run); the others live in
//! `shaders/workbench/`.
//!
//! ```no_run
//! use backend_wgpu::{Wgpu, workbench};
//! use tensor::backend::ops::*;
//! let gpu = Wgpu::new()?;
//! let a = gpu.from_vec(vec![1.0; 6])?; // 2 x 3
//! let b = gpu.from_vec(vec![1.0; 12])?; // 3 x 4
//! for v in workbench::MATMUL_VERSIONS {
//!     let c = gpu.workbench_matmul(v.number, &a, &b, 2, 3, 4)?;
//!     assert_eq!(gpu.to_vec(&c, 8)?, vec![3.0; 8]);
//! }
//! # Ok::<(), tensor::Error>(())
//! ```

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Conv2dGeom, ConvOps, MatmulDims, MatmulOps, Result};

/// One version of a kernel.
#[derive(Clone, Copy, Debug)]
pub struct KernelVersion {
    pub number: u32,
    pub name: &'static str,
    /// What it does differently.
    pub about: &'static str,
}

/// The matmul versions.
pub const MATMUL_VERSIONS: [KernelVersion; 3] = [
    KernelVersion {
        number: 1,
        name: "production 64x64",
        about: "the backend's kernel (shaders/gemm.wgsl): 64 x 64 tile of C per workgroup of \
                256, 4 x 4 per invocation, vec4 loads, k split across workgroups for few tiles",
    },
    KernelVersion {
        number: 2,
        name: "naive",
        about: "one invocation per element of C, 16 x 16 per workgroup, no workgroup memory",
    },
    KernelVersion {
        number: 3,
        name: "128x128 double-buffered",
        about: "128 x 128 tile of C per workgroup of 256, 8 x 8 per invocation, 128 x 8 / \
                8 x 128 panels double-buffered in workgroup memory",
    },
];

/// The conv2d versions.
pub const CONV_VERSIONS: [KernelVersion; 2] = [
    KernelVersion {
        number: 1,
        name: "production implicit GEMM",
        about: "the backend's kernel (shaders/conv.wgsl on the GEMM core): the im2col matrix \
                is read in place, never written",
    },
    KernelVersion {
        number: 2,
        name: "direct",
        about: "one invocation per output element, loops over the window and the channels",
    },
];

static NAIVE_SHADER: Shader = Shader {
    name: "workbench_matmul_naive",
    parts: &[include_str!("../../../shaders/workbench/matmul_naive.wgsl")],
    generated: &[],
};
static NAIVE: Kernel = Kernel {
    shader: &NAIVE_SHADER,
    entry: "naive",
    storage: &[Read, Read, ReadWrite],
};
static TILED_SHADER: Shader = Shader {
    name: "workbench_matmul_128x128",
    parts: &[include_str!(
        "../../../shaders/workbench/matmul_128x128.wgsl"
    )],
    generated: &[],
};
static TILED: Kernel = Kernel {
    shader: &TILED_SHADER,
    entry: "tiled",
    storage: &[Read, Read, ReadWrite],
};
static DIRECT_SHADER: Shader = Shader {
    name: "workbench_conv_direct",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../shaders/workbench/conv_direct.wgsl"),
    ],
    generated: &[],
};
static DIRECT: Kernel = Kernel {
    shader: &DIRECT_SHADER,
    entry: "direct",
    storage: &[Read, Read, ReadWrite],
};

params! {
    struct WorkbenchMatmulParams {
        m: u32,
        n: u32,
        k: u32,
        pad: u32,
    }
}

params! {
    struct WorkbenchConvParams {
        n: u32,
        h: u32,
        w: u32,
        c: u32,
        kh: u32,
        kw: u32,
        o: u32,
        stride_h: u32,
        stride_w: u32,
        pad_top: u32,
        pad_left: u32,
        out_h: u32,
        out_w: u32,
        len: u32,
        pad0: u32,
        pad1: u32,
    }
}

impl Wgpu {
    /// `C = A B` (row-major `m x k` by `k x n`) with matmul kernel `version` (see
    /// [`MATMUL_VERSIONS`]).
    pub fn workbench_matmul(
        &self,
        version: u32,
        a: &WgpuStorage,
        b: &WgpuStorage,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<WgpuStorage> {
        let op = "workbench_matmul";
        let params = WorkbenchMatmulParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            pad: 0,
        };
        let max = self.grid_limit() as usize;
        let launch = |kernel: &Kernel, tile: usize| -> Result<WgpuStorage> {
            let groups = [n.div_ceil(tile), m.div_ceil(tile)];
            if groups.iter().any(|&g| g > max) {
                return Err(self.error(format!(
                    "{op}: {m} x {n} needs {groups:?} workgroups, over the limit of {max}"
                )));
            }
            let out = self.alloc(op, m * n)?;
            if m * n > 0 {
                self.launch(
                    kernel,
                    &[],
                    &params,
                    &[a, b, &out],
                    [groups[0] as u32, groups[1] as u32, 1],
                )?;
            }
            Ok(out)
        };
        match version {
            1 => self.matmul(a, b, MatmulDims::plain(m, k, n)),
            2 => launch(&NAIVE, 16),
            3 => launch(&TILED, 128),
            v => Err(self.error(format!(
                "{op}: no matmul version {v} (versions: 1 to {})",
                MATMUL_VERSIONS.len()
            ))),
        }
    }

    /// The convolution of geometry `g` with conv kernel `version` (see
    /// [`CONV_VERSIONS`]).
    pub fn workbench_conv2d(
        &self,
        version: u32,
        x: &WgpuStorage,
        w: &WgpuStorage,
        g: &Conv2dGeom,
    ) -> Result<WgpuStorage> {
        match version {
            1 => self.conv2d(x, w, g),
            2 => {
                let len = g.n * g.out_h * g.out_w * g.o;
                let out = self.alloc("workbench_conv2d", len)?;
                let u = |v: usize| v as u32;
                let params = WorkbenchConvParams {
                    n: u(g.n),
                    h: u(g.h),
                    w: u(g.w),
                    c: u(g.c),
                    kh: u(g.kh),
                    kw: u(g.kw),
                    o: u(g.o),
                    stride_h: u(g.stride_h),
                    stride_w: u(g.stride_w),
                    pad_top: u(g.pad_top),
                    pad_left: u(g.pad_left),
                    out_h: u(g.out_h),
                    out_w: u(g.out_w),
                    len: u(len),
                    pad0: 0,
                    pad1: 0,
                };
                if len > 0 {
                    let groups = self.grid(len)?;
                    self.launch(&DIRECT, &[], &params, &[x, w, &out], groups)?;
                }
                Ok(out)
            }
            v => Err(self.error(format!(
                "workbench_conv2d: no conv2d version {v} (versions: 1 to {})",
                CONV_VERSIONS.len()
            ))),
        }
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        use crate::ops::params::check_against_wgsl;
        check_against_wgsl::<super::WorkbenchMatmulParams>(&super::NAIVE_SHADER);
        check_against_wgsl::<super::WorkbenchMatmulParams>(&super::TILED_SHADER);
        check_against_wgsl::<super::WorkbenchConvParams>(&super::DIRECT_SHADER);
    }
}
