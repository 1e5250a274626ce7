//! Max / average pooling and nearest upsampling, forward and backward
//! (`shaders/pool.wgsl`).

use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{Pool2dGeom, PoolOps, Result};

static SHADER: Shader = Shader {
    name: "pool",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/pool.wgsl")],
    generated: &[],
};
static MAX_POOL: Kernel = Kernel {
    shader: &SHADER,
    entry: "max_pool",
    storage: &[Read, ReadWrite, ReadWrite],
};
static MAX_POOL_BACKWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "max_pool_backward",
    storage: &[Read, Read, ReadWrite],
};
static AVG_POOL: Kernel = Kernel {
    shader: &SHADER,
    entry: "avg_pool",
    storage: &[Read, ReadWrite],
};
static AVG_POOL_BACKWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "avg_pool_backward",
    storage: &[Read, ReadWrite],
};
static UPSAMPLE: Kernel = Kernel {
    shader: &SHADER,
    entry: "upsample",
    storage: &[Read, ReadWrite],
};
static UPSAMPLE_BACKWARD: Kernel = Kernel {
    shader: &SHADER,
    entry: "upsample_backward",
    storage: &[Read, ReadWrite],
};

/// Largest image whose indices are all exact in f32 (the argmax format: the index of
/// the winner within its image).
const MAX_EXACT_INDEX: usize = 1 << 24;

params! {
    struct PoolParams {
        len: u32,
        n: u32,
        h: u32,
        w: u32,
        c: u32,
        kh: u32,
        kw: u32,
        stride_h: u32,
        stride_w: u32,
        pad_top: u32,
        pad_left: u32,
        out_h: u32,
        out_w: u32,
    }
}

fn params(g: &Pool2dGeom, len: usize) -> PoolParams {
    PoolParams {
        len: len as u32,
        n: g.n as u32,
        h: g.h as u32,
        w: g.w as u32,
        c: g.c as u32,
        kh: g.kh as u32,
        kw: g.kw as u32,
        stride_h: g.stride_h as u32,
        stride_w: g.stride_w as u32,
        pad_top: g.pad_top as u32,
        pad_left: g.pad_left as u32,
        out_h: g.out_h as u32,
        out_w: g.out_w as u32,
    }
}

/// Upsampling as a pooling geometry: the window is the scale factor.
fn upsample_geom(dims: [usize; 4], scale_h: usize, scale_w: usize) -> Pool2dGeom {
    let [n, h, w, c] = dims;
    Pool2dGeom {
        n,
        h,
        w,
        c,
        kh: scale_h,
        kw: scale_w,
        stride_h: scale_h,
        stride_w: scale_w,
        pad_top: 0,
        pad_left: 0,
        out_h: h * scale_h,
        out_w: w * scale_w,
    }
}

impl Wgpu {
    fn pool_launch(
        &self,
        kernel: &Kernel,
        op: &str,
        inputs: &[&WgpuStorage],
        g: &Pool2dGeom,
        len: usize,
    ) -> Result<WgpuStorage> {
        let out = self.alloc(op, len)?;
        let mut buffers: Vec<&WgpuStorage> = inputs.to_vec();
        buffers.push(&out);
        self.launch(kernel, &[], &params(g, len), &buffers, self.grid(len)?)?;
        Ok(out)
    }
}

impl PoolOps for Wgpu {
    fn max_pool2d(&self, x: &WgpuStorage, g: &Pool2dGeom) -> Result<(WgpuStorage, WgpuStorage)> {
        let image = g.h * g.w * g.c;
        if image > MAX_EXACT_INDEX {
            // Two inputs would share one f32 index and both receive the gradient.
            return Err(self.error(format!(
                "max_pool2d: an image of {image} elements has indices beyond 2^24, \
                 which the f32 argmax cannot represent exactly"
            )));
        }
        let len = g.n * g.out_h * g.out_w * g.c;
        let out = self.alloc("max_pool2d", len)?;
        let argmax = self.alloc("max_pool2d", len)?;
        self.launch(
            &MAX_POOL,
            &[],
            &params(g, len),
            &[x, &out, &argmax],
            self.grid(len)?,
        )?;
        Ok((out, argmax))
    }

    fn max_pool2d_backward(
        &self,
        dy: &WgpuStorage,
        argmax: &WgpuStorage,
        g: &Pool2dGeom,
    ) -> Result<WgpuStorage> {
        let len = g.n * g.h * g.w * g.c;
        self.pool_launch(
            &MAX_POOL_BACKWARD,
            "max_pool2d_backward",
            &[dy, argmax],
            g,
            len,
        )
    }

    fn avg_pool2d(&self, x: &WgpuStorage, g: &Pool2dGeom) -> Result<WgpuStorage> {
        let len = g.n * g.out_h * g.out_w * g.c;
        self.pool_launch(&AVG_POOL, "avg_pool2d", &[x], g, len)
    }

    fn avg_pool2d_backward(&self, dy: &WgpuStorage, g: &Pool2dGeom) -> Result<WgpuStorage> {
        let len = g.n * g.h * g.w * g.c;
        self.pool_launch(&AVG_POOL_BACKWARD, "avg_pool2d_backward", &[dy], g, len)
    }

    fn upsample_nearest2d(
        &self,
        x: &WgpuStorage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<WgpuStorage> {
        let g = upsample_geom(dims, scale_h, scale_w);
        let len = g.n * g.out_h * g.out_w * g.c;
        self.pool_launch(&UPSAMPLE, "upsample_nearest2d", &[x], &g, len)
    }

    fn upsample_nearest2d_backward(
        &self,
        dy: &WgpuStorage,
        dims: [usize; 4],
        scale_h: usize,
        scale_w: usize,
    ) -> Result<WgpuStorage> {
        let g = upsample_geom(dims, scale_h, scale_w);
        let len = g.n * g.h * g.w * g.c;
        self.pool_launch(
            &UPSAMPLE_BACKWARD,
            "upsample_nearest2d_backward",
            &[dy],
            &g,
            len,
        )
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::PoolParams>(&super::SHADER);
    }
}
