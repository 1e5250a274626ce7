//! The conv family: conv2d forward and backward as implicit GEMMs (`shaders/conv.wgsl` on
//! the tiled core `shaders/gemm.wgsl`).

use super::matmul::GEMM_WGSL;
use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Conv2dGeom, ConvOps, Result};

static SHADER: Shader = Shader {
    name: "conv",
    parts: &[
        COMMON_WGSL,
        include_str!("../../../../shaders/conv.wgsl"),
        GEMM_WGSL,
    ],
    generated: &[],
};
static CONV2D: Kernel = Kernel {
    shader: &SHADER,
    entry: "gemm",
    storage: &[Read, Read, ReadWrite],
};

params! {
    struct ConvParams {
        m: u32,
        n: u32,
        k: u32,
        batch_base: u32,
        row_tile_base: u32,
        splits: u32,
        k_chunk: u32,
        nb: u32,
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
    }
}

/// Which product conv.wgsl computes (its `MODE` override).
#[derive(Clone, Copy)]
enum Mode {
    Forward = 0,
    BackwardInput = 1,
    BackwardFilter = 2,
}

impl Wgpu {
    fn conv_gemm(
        &self,
        mode: Mode,
        a: &WgpuStorage,
        b: &WgpuStorage,
        g: &Conv2dGeom,
    ) -> Result<WgpuStorage> {
        let pixels_in = g.n * g.h * g.w;
        let pixels_out = g.n * g.out_h * g.out_w;
        let taps = g.kh * g.kw;
        // (m, n, k) of the implicit GEMM, and which index is contiguous when
        // staging tiles (see gemm.wgsl).
        let (m, n, k, a_k_fast, b_k_fast, op) = match mode {
            Mode::Forward => (pixels_out, g.o, taps * g.c, true, false, "conv2d"),
            Mode::BackwardInput => (
                pixels_in,
                g.c,
                taps * g.o,
                true,
                true,
                "conv2d_backward_input",
            ),
            Mode::BackwardFilter => (
                taps * g.c,
                g.o,
                pixels_out,
                false,
                false,
                "conv2d_backward_filter",
            ),
        };
        // vec4 loads read 4 channels of one pixel: x needs c % 4 == 0, dy and w
        // need o % 4 == 0 (see conv.wgsl).
        let a_vec4 = match mode {
            Mode::BackwardInput => g.o.is_multiple_of(4),
            Mode::Forward | Mode::BackwardFilter => g.c.is_multiple_of(4),
        };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let constants = [
            ("MODE", mode as u32 as f64),
            ("A_K_FAST", flag(a_k_fast)),
            ("B_K_FAST", flag(b_k_fast)),
            ("A_VEC4", flag(a_vec4)),
            ("B_VEC4", flag(g.o.is_multiple_of(4))),
            ("C_VEC4", flag(n.is_multiple_of(4))),
        ];
        self.gemm(op, &CONV2D, &constants, [a, b], (1, m, n, k), |l| {
            ConvParams {
                m: m as u32,
                n: n as u32,
                k: k as u32,
                batch_base: l.batch_base,
                row_tile_base: l.row_tile_base,
                splits: l.splits,
                k_chunk: l.k_chunk,
                nb: g.n as u32,
                h: g.h as u32,
                w: g.w as u32,
                c: g.c as u32,
                kh: g.kh as u32,
                kw: g.kw as u32,
                o: g.o as u32,
                stride_h: g.stride_h as u32,
                stride_w: g.stride_w as u32,
                pad_top: g.pad_top as u32,
                pad_left: g.pad_left as u32,
                out_h: g.out_h as u32,
                out_w: g.out_w as u32,
            }
        })
    }
}

impl ConvOps for Wgpu {
    fn conv2d(&self, x: &WgpuStorage, w: &WgpuStorage, g: &Conv2dGeom) -> Result<WgpuStorage> {
        self.conv_gemm(Mode::Forward, x, w, g)
    }

    fn conv2d_backward_input(
        &self,
        dy: &WgpuStorage,
        w: &WgpuStorage,
        g: &Conv2dGeom,
    ) -> Result<WgpuStorage> {
        self.conv_gemm(Mode::BackwardInput, dy, w, g)
    }

    fn conv2d_backward_filter(
        &self,
        x: &WgpuStorage,
        dy: &WgpuStorage,
        g: &Conv2dGeom,
    ) -> Result<WgpuStorage> {
        self.conv_gemm(Mode::BackwardFilter, x, dy, g)
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::ConvParams>(&super::SHADER);
    }
}
